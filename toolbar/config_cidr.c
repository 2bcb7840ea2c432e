/*
 * config_cidr.c - IP addresses and CIDR ranges for `hosts` and `trusted_proxies`: parsing
 * ("10.0.0.0/8", "::1") and matching a client's address (an IPv4-mapped IPv6 address is its
 * IPv4 address).
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int dtbi_cidr_parse(const char *s, struct dtbi_cidr *out)
{
    char buf[64];
    char *slash, *end;
    long prefix = -1;
    if (s == NULL || strlen(s) >= sizeof(buf) || s[0] == '\0')
        return -1;
    memcpy(buf, s, strlen(s) + 1);
    slash = strchr(buf, '/');
    if (slash != NULL) {
        *slash = '\0';
        if (slash[1] == '\0' || !isdigit((unsigned char)slash[1]))
            return -1;
        errno = 0;
        prefix = strtol(slash + 1, &end, 10);
        if (*end != '\0' || errno != 0)
            return -1;
    }
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, buf, out->addr) == 1) {
        out->family = AF_INET;
        if (prefix > 32)
            return -1;
        out->prefix = prefix < 0 ? 32 : (unsigned)prefix;
        return 0;
    }
    if (inet_pton(AF_INET6, buf, out->addr) == 1) {
        out->family = AF_INET6;
        if (prefix > 128)
            return -1;
        out->prefix = prefix < 0 ? 128 : (unsigned)prefix;
        return 0;
    }
    return -1;
}

static int prefix_equal(const unsigned char *a, const unsigned char *b, unsigned bits)
{
    unsigned bytes = bits / 8, rest = bits % 8;
    if (memcmp(a, b, bytes) != 0)
        return 0;
    if (rest == 0)
        return 1;
    unsigned char mask = (unsigned char)(0xFF << (8 - rest));
    return (a[bytes] & mask) == (b[bytes] & mask);
}

int dtbi_cidr_match(const struct dtbi_cidr *list, size_t n, const struct sockaddr *addr)
{
    unsigned char a[16];
    int family;
    if (addr == NULL)
        return 0;
    if (addr->sa_family == AF_INET) {
        family = AF_INET;
        memcpy(a, &((const struct sockaddr_in *)addr)->sin_addr, 4);
    } else if (addr->sa_family == AF_INET6) {
        const unsigned char *v6 = ((const struct sockaddr_in6 *)addr)->sin6_addr.s6_addr;
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
        if (memcmp(v6, mapped, 12) == 0) { /* ::ffff:a.b.c.d is the IPv4 client a.b.c.d */
            family = AF_INET;
            memcpy(a, v6 + 12, 4);
        } else {
            family = AF_INET6;
            memcpy(a, v6, 16);
        }
    } else {
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        if (list[i].family == family && prefix_equal(a, list[i].addr, list[i].prefix))
            return 1;
    return 0;
}
