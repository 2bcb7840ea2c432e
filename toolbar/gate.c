/*
 * gate.c - who gets the toolbar, decided at a request's first handler call (when its headers
 * are known):
 *
 *   the client    the socket peer must be in `hosts`; a request that carries Forwarded,
 *                 X-Forwarded-For or X-Real-IP must come from a peer in `trusted_proxies`, and
 *                 then the client each of those headers names (the rightmost address that is
 *                 not a trusted proxy) must be in `hosts`
 *   the Host      an IP literal, localhost or *.localhost, or a name `allowed_hosts` lists, so
 *                 that a page on a rebound DNS name cannot read the toolbar
 *   actions       a toolbar URL asked with another method than GET/HEAD (the SQL actions) also
 *                 needs a JSON Content-Type (a cross-origin page cannot send one without a
 *                 preflight, which is never answered), an Origin that is absent or the Host's,
 *                 and a Sec-Fetch-Site that is absent or same-origin
 *
 * A request that fails is handed to the app untouched, as for a client outside `hosts`: no
 * record, no injection, and the toolbar's URLs are the app's own (its 404).
 * Neither MHD nor the other libraries split the proxy headers' address lists, so the small
 * splitter below does only that: comma-separated items, `;`-separated Forwarded parameters,
 * double quotes kept together.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

/* ---- addresses in proxy headers ------------------------------------------------------------- */

/* 1 when s is a port number: 1 to 5 digits, at most 65535. */
static int port_ok(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= 5 && strspn(s, "0123456789") == n && atoi(s) <= 65535;
}

/* One address as proxies write it: 192.0.2.1, 192.0.2.1:4711, 2001:db8::1, [2001:db8::1] or
 * [2001:db8::1]:4711 (n bytes at s). Returns 0 with *out filled, or -1 (unknown, obfuscated
 * names, anything else). */
static int parse_addr(const char *s, size_t n, struct sockaddr_storage *out)
{
    char buf[64];
    char *a = buf, *colon;
    struct sockaddr_in *s4 = (struct sockaddr_in *)out;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)out;
    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    memset(out, 0, sizeof(*out));
    if (buf[0] == '[') {
        char *end = strchr(buf, ']');
        if (end == NULL || (end[1] != '\0' && (end[1] != ':' || !port_ok(end + 2))))
            return -1;
        *end = '\0';
        a = buf + 1;
        if (inet_pton(AF_INET6, a, &s6->sin6_addr) != 1)
            return -1;
        s6->sin6_family = AF_INET6;
        return 0;
    }
    colon = strchr(buf, ':');
    if (colon != NULL && strchr(colon + 1, ':') == NULL) { /* a.b.c.d:port */
        if (!port_ok(colon + 1))
            return -1;
        *colon = '\0';
    }
    if (inet_pton(AF_INET, a, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        return 0;
    }
    if (colon != NULL && inet_pton(AF_INET6, a, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        return 0;
    }
    return -1;
}

/* The end of the item that starts at s: the next sep outside double quotes, or the end. */
static const char *item_end(const char *s, char sep)
{
    int quoted = 0;
    for (; *s != '\0'; s++) {
        if (*s == '"')
            quoted = !quoted;
        else if (*s == '\\' && quoted && s[1] != '\0')
            s++;
        else if (*s == sep && !quoted)
            break;
    }
    return s;
}

/* Narrows [*a, *b) to leave out spaces and tabs at both ends. */
static void trim(const char **a, const char **b)
{
    while (*a < *b && (**a == ' ' || **a == '\t'))
        (*a)++;
    while (*b > *a && ((*b)[-1] == ' ' || (*b)[-1] == '\t'))
        (*b)--;
}

/* A Forwarded element's for= value (unquoted) into [*va, *vb). Returns 0, or -1 when there is
 * none. */
static int forwarded_for(const char *a, const char *b, const char **va, const char **vb)
{
    while (a < b) {
        const char *e = item_end(a, ';'), *pa = a, *pe;
        if (e > b)
            e = b;
        pe = e;
        trim(&pa, &pe);
        if (pe - pa > 4 && strncasecmp(pa, "for", 3) == 0) {
            const char *v = pa + 3, *ve = pe;
            trim(&v, &ve);
            if (v < ve && *v == '=') {
                v++;
                trim(&v, &ve);
                if (ve - v >= 2 && *v == '"' && ve[-1] == '"') {
                    v++;
                    ve--;
                }
                *va = v;
                *vb = ve;
                return 0;
            }
        }
        a = e < b ? e + 1 : b;
    }
    return -1;
}

#define FWD_ITEMS_MAX 64

int dtbi_forwarded_client(const struct dtbi_config *cfg, enum dtbi_fwd_kind kind, const char *value,
                          struct sockaddr_storage *out)
{
    const char *items[FWD_ITEMS_MAX][2];
    size_t n = 0;
    const char *p = value;
    if (value == NULL)
        return -1;
    while (*p != '\0') {
        const char *e = item_end(p, ','), *a = p, *b = e;
        trim(&a, &b);
        if (a < b) { /* empty list items do not count */
            if (n == FWD_ITEMS_MAX)
                return -1;
            items[n][0] = a;
            items[n][1] = b;
            n++;
        }
        p = *e == ',' ? e + 1 : e;
    }
    if (n == 0 || (kind == DTBI_FWD_REAL_IP && n != 1))
        return -1;
    /* from the right: the proxies we trust each appended the peer they saw; the first address
     * that is not one of them is the client (the leftmost, if they all are) */
    for (size_t i = n; i-- > 0;) {
        const char *a = items[i][0], *b = items[i][1];
        if (kind == DTBI_FWD_FORWARDED && forwarded_for(a, b, &a, &b) != 0)
            return -1;
        if (parse_addr(a, (size_t)(b - a), out) != 0)
            return -1;
        if (i == 0 || !dtbi_cidr_match(cfg->trusted_proxies, cfg->ntrusted_proxies,
                                       (const struct sockaddr *)out))
            return 0;
    }
    return -1;
}

/* ---- Host, Origin, Content-Type ------------------------------------------------------------- */

int dtbi_host_allowed(const struct dtbi_config *cfg, const char *host, int http10)
{
    char name[256];
    const char *colon;
    unsigned char bin[16];
    size_t n, i;
    json_t *item;
    if (host == NULL)
        return http10;    /* no name to rebind; HTTP/1.1 requires one (MHD refuses it without) */
    if (host[0] == '[') { /* [v6]:port */
        const char *end = strchr(host, ']');
        if (end == NULL || (size_t)(end - host - 1) >= sizeof(name))
            return 0;
        if (end[1] != '\0' && (end[1] != ':' || !port_ok(end + 2)))
            return 0;
        memcpy(name, host + 1, (size_t)(end - host - 1));
        name[end - host - 1] = '\0';
        return inet_pton(AF_INET6, name, bin) == 1;
    }
    colon = strchr(host, ':');
    n = colon != NULL ? (size_t)(colon - host) : strlen(host);
    if (colon != NULL && !port_ok(colon + 1))
        return 0;
    if (n == 0 || n >= sizeof(name))
        return 0;
    for (i = 0; i < n; i++)
        name[i] = (char)tolower((unsigned char)host[i]);
    name[n] = '\0';
    if (n > 1 && name[n - 1] == '.') /* the absolute form of the same name */
        name[--n] = '\0';
    if (inet_pton(AF_INET, name, bin) == 1)
        return 1;
    if (strcmp(name, "localhost") == 0 || (n > 10 && strcmp(name + n - 10, ".localhost") == 0))
        return 1;
    json_array_foreach(cfg->allowed_hosts, i, item)
    {
        const char *pat = json_string_value(item);
        size_t pn = strlen(pat);
        if (strcmp(pat, "*") == 0 || strcmp(pat, name) == 0)
            return 1;
        if (pat[0] == '.' &&
            (strcmp(pat + 1, name) == 0 || (n > pn && strcmp(name + n - pn, pat) == 0)))
            return 1;
    }
    return 0;
}

int dtbi_origin_same(const char *origin, const char *host)
{
    const char *auth;
    if (origin == NULL)
        return 1;
    if (strncasecmp(origin, "http://", 7) == 0)
        auth = origin + 7;
    else if (strncasecmp(origin, "https://", 8) == 0)
        auth = origin + 8;
    else
        return 0; /* "null" (opaque origins), other schemes */
    return host != NULL && host[0] != '\0' && strcasecmp(auth, host) == 0;
}

int dtbi_content_type_json(const char *ct)
{
    static const char want[] = "application/json";
    const char *rest;
    if (ct == NULL)
        return 0;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    if (strncasecmp(ct, want, sizeof(want) - 1) != 0)
        return 0;
    rest = ct + sizeof(want) - 1;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    return *rest == '\0' || *rest == ';';
}

/* ---- the gate ------------------------------------------------------------------------------- */

static const char *const fwd_names[] = {"Forwarded", "X-Forwarded-For", "X-Real-IP"};

struct fwd_headers {
    struct dtb_buf value[3]; /* each header's lines joined by ',' (a list may be split) */
    int seen[3];
};

static enum MHD_Result collect_fwd(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    struct fwd_headers *f = cls;
    (void)kind;
    for (int k = 0; k < 3 && key != NULL; k++) {
        if (strcasecmp(key, fwd_names[k]) != 0)
            continue;
        if (f->seen[k]++)
            dtb_buf_append_str(&f->value[k], ",");
        dtb_buf_append_str(&f->value[k], value != NULL ? value : "");
    }
    return MHD_YES;
}

/* What a client sent, made safe for one log line: printable ASCII, bounded. */
static void printable(const char *s, char *out, size_t outlen)
{
    size_t i = 0;
    for (; s != NULL && s[i] != '\0' && i + 1 < outlen; i++)
        out[i] = s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' ? s[i] : '?';
    out[i] = '\0';
}

static void addr_text(const struct sockaddr *sa, char *out, size_t outlen)
{
    snprintf(out, outlen, "unknown");
    if (sa != NULL && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)outlen);
    else if (sa != NULL && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)outlen);
}

/* The client behind the proxy headers (into rq->client), or 0 when the toolbar is not for it. */
static int gate_client(struct dtb_request *rq, struct MHD_Connection *con,
                       const struct sockaddr *peer)
{
    const struct dtbi_config *cfg = &rq->tb->cfg;
    struct fwd_headers f;
    int ok = 1, any = 0;
    memset(&f, 0, sizeof(f));
    MHD_get_connection_values(con, MHD_HEADER_KIND, collect_fwd, &f);
    for (int k = 0; k < 3; k++)
        any |= f.seen[k];
    if (!any) {
        ok = dtbi_cidr_match(cfg->hosts, cfg->nhosts, peer);
    } else if (!dtbi_cidr_match(cfg->trusted_proxies, cfg->ntrusted_proxies, peer)) {
        char who[INET6_ADDRSTRLEN];
        int k = f.seen[0] ? 0 : f.seen[1] ? 1 : 2;
        addr_text(peer, who, sizeof(who));
        dtbi_log_once("proxy-untrusted",
                      "no toolbar for a request from %s: it carries %s, and %s is not in "
                      "\"trusted_proxies\". Behind a reverse proxy, list the proxy's address in "
                      "\"trusted_proxies\" and the developers' addresses in \"hosts\"",
                      who, fwd_names[k], who);
        ok = 0;
    } else {
        /* Each header present must name an allowed client: one the proxy does not set is the
         * client's own, and must not widen what the one it does set allows. */
        int first = 1;
        for (int k = 0; k < 3 && ok; k++) {
            struct sockaddr_storage ss;
            if (!f.seen[k])
                continue;
            ok = !f.value[k].failed &&
                 dtbi_forwarded_client(cfg, (enum dtbi_fwd_kind)k, f.value[k].data, &ss) == 0 &&
                 dtbi_cidr_match(cfg->hosts, cfg->nhosts, (const struct sockaddr *)&ss);
            if (ok && first)
                addr_text((const struct sockaddr *)&ss, rq->client, sizeof(rq->client));
            first = 0;
        }
    }
    for (int k = 0; k < 3; k++)
        dtb_buf_free(&f.value[k]);
    return ok;
}

int dtbi_gate_request(struct dtb_request *rq, struct MHD_Connection *con, const char *version)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const char *host = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    int http10 = version != NULL && strcmp(version, MHD_HTTP_VERSION_1_0) == 0;
    if (!gate_client(rq, con, ci != NULL ? ci->client_addr : NULL))
        return 0;
    if (!dtbi_host_allowed(&rq->tb->cfg, host, http10)) {
        char shown[80];
        printable(host != NULL ? host : "(none)", shown, sizeof(shown));
        dtbi_log_once("host-refused",
                      "no toolbar for a request to Host \"%s\": the toolbar answers IP "
                      "addresses, localhost and *.localhost; add the name to \"allowed_hosts\" "
                      "if it is this server's",
                      shown);
        return 0;
    }
    return 1;
}

int dtbi_gate_action(struct MHD_Connection *con)
{
    const char *ct =
        MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    const char *origin = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Origin");
    const char *host = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    const char *site = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Sec-Fetch-Site");
    if (dtbi_content_type_json(ct) && dtbi_origin_same(origin, host) &&
        (site == NULL || strcasecmp(site, "same-origin") == 0))
        return 1;
    dtbi_log_once("action-refused",
                  "refused a toolbar action that was not a same-origin JSON request (it needs "
                  "Content-Type: application/json, no other Origin, Sec-Fetch-Site same-origin)");
    return 0;
}
