/*
 * fuzz_gate.c - any bytes as a Host, Origin, Content-Type, Forwarded, X-Forwarded-For or
 * X-Real-IP value: the gate's parsers never crash, and a client they name is an IPv4 or IPv6
 * address.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static struct dtbi_config cfg;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int loaded;
    struct sockaddr_storage ss;
    char *s;
    if (!loaded) {
        struct dtb_error err = {0};
        if (dtbi_config_load(&cfg,
                             "{\"allowed_hosts\": [\"dev.example.test\", \".corp.test\"],"
                             "\"trusted_proxies\": [\"127.0.0.1\", \"10.0.0.0/8\", \"fd00::/8\"]}",
                             "fuzz", &err) != DTB_OK)
            __builtin_trap();
        loaded = 1;
    }
    s = malloc(size + 1); /* header values reach the gate NUL-terminated */
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    (void)dtbi_host_allowed(&cfg, s, 0);
    (void)dtbi_origin_same(s, "127.0.0.1:8080");
    (void)dtbi_content_type_json(s);
    for (int k = DTBI_FWD_FORWARDED; k <= DTBI_FWD_REAL_IP; k++)
        if (dtbi_forwarded_client(&cfg, (enum dtbi_fwd_kind)k, s, &ss) == 0 &&
            ss.ss_family != AF_INET && ss.ss_family != AF_INET6)
            __builtin_trap();
    free(s);
    return 0;
}
