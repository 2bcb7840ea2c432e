/*
 * request.c - the per-request record: its arena, the thread's current request, its creation
 * and end of life, and the accessors panels use.
 *
 * A record lives from MHD's URI-log hook to its completion hook. It hangs off MHD's req_cls,
 * never off a thread; the thread-local "current request" is only set while the app's handler
 * runs (or between dtb_request_attach/detach). What the core collects about the request
 * (method, URL, headers, query, cookies, form fields), bounded, is request_collect.c; at
 * completion every panel turns its state into JSON and the record is stored as JSON text
 * (request_finish.c), and the arena is freed in one go.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "store.h"

static _Thread_local struct dtb_request *tls_current;

struct dtb_request *dtbi_current(void)
{
    return tls_current;
}

void dtbi_set_current(struct dtb_request *rq)
{
    tls_current = rq;
}

struct dtb_request *dtb_request_current(void)
{
    return tls_current;
}

struct dtb_request *dtb_request_attach(struct dtb_request *rq)
{
    struct dtb_request *prev = tls_current;
    tls_current = (rq != NULL && rq->active) ? rq : NULL;
    return prev;
}

void dtb_request_detach(struct dtb_request *previous)
{
    tls_current = previous;
}

int64_t dtb_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- arena ------------------------------------------------------------------------------- */

#define ARENA_CHUNK 4096

void *dtb_request_alloc(struct dtb_request *rq, size_t n)
{
    struct dtbi_arena_chunk *c = rq->arena;
    size_t need = (n + 15) & ~(size_t)15;
    if (n == 0 || need < n)
        return NULL;
    if (c == NULL || c->size - c->used < need) {
        size_t size = need > ARENA_CHUNK ? need : ARENA_CHUNK;
        c = calloc(1, sizeof(*c) + size);
        if (c == NULL)
            return NULL;
        c->size = size;
        c->next = rq->arena;
        rq->arena = c;
        rq->arena_bytes += sizeof(*c) + size;
    }
    void *p = c->data + c->used;
    c->used += need;
    return p;
}

char *dtb_request_strdup(struct dtb_request *rq, const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s);
    char *p = dtb_request_alloc(rq, n + 1);
    if (p != NULL)
        memcpy(p, s, n + 1);
    return p;
}

json_t *dtb_request_own_json(struct dtb_request *rq, json_t *value)
{
    struct dtbi_owned_json *o;
    if (value == NULL)
        return NULL;
    o = dtb_request_alloc(rq, sizeof(*o));
    if (o == NULL) {
        json_decref(value);
        return NULL;
    }
    o->value = value;
    o->next = rq->owned;
    rq->owned = o;
    return value;
}

static void arena_free(struct dtb_request *rq)
{
    struct dtbi_arena_chunk *c = rq->arena;
    while (c != NULL) {
        struct dtbi_arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    rq->arena = NULL;
}

/* ---- lifecycle ----------------------------------------------------------------------------- */

static void client_address(struct dtb_request *rq, struct MHD_Connection *con, int *allowed)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci != NULL ? ci->client_addr : NULL;
    *allowed = 0;
    snprintf(rq->client, sizeof(rq->client), "unknown");
    if (sa == NULL)
        return;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, rq->client,
                  sizeof(rq->client));
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, rq->client,
                  sizeof(rq->client));
    /* a trusted proxy's requests are decided by the client its headers name (gate.c) */
    *allowed = dtbi_cidr_match(rq->tb->cfg.hosts, rq->tb->cfg.nhosts, sa) ||
               dtbi_cidr_match(rq->tb->cfg.trusted_proxies, rq->tb->cfg.ntrusted_proxies, sa);
}

static void make_id(char out[17])
{
    unsigned char r[8];
    static const char hex[] = "0123456789abcdef";
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
        /* getrandom on Linux does not fail for 8 bytes once the pool is ready; fall back to
         * the clock so an id is still unique enough within the history. */
        int64_t t = dtb_now_ns() ^ wall_ns();
        memcpy(r, &t, sizeof(r));
    }
    for (int i = 0; i < 8; i++) {
        out[2 * i] = hex[r[i] >> 4];
        out[2 * i + 1] = hex[r[i] & 15];
    }
    out[16] = '\0';
}

struct dtb_request *dtbi_request_create(struct dtbi_daemon_ctx *dctx, struct MHD_Connection *con,
                                        const char *uri)
{
    struct dtb_request *rq = calloc(1, sizeof(*rq));
    int allowed;
    if (rq == NULL)
        return NULL;
    rq->tb = dctx->tb;
    rq->dctx = dctx;
    rq->port = atomic_load(&dctx->port);
    rq->times.start_ns = dtb_now_ns();
    rq->times.started_unix_ns = wall_ns();
    client_address(rq, con, &allowed);
    rq->active = rq->tb->enabled && allowed && !atomic_load(&dctx->off);
    if (rq->active)
        make_id(rq->id);
    rq->times.toolbar_ns += dtb_now_ns() - rq->times.start_ns;
    return rq;
}

void dtbi_request_upload(struct dtb_request *rq, const char *data, size_t size)
{
    if (rq->pp != NULL && MHD_post_process(rq->pp, data, size) != MHD_YES) {
        MHD_destroy_post_processor(rq->pp);
        rq->pp = NULL;
    }
}

void dtbi_request_destroy(struct dtb_request *rq)
{
    if (rq == NULL)
        return;
    if (rq->pp != NULL)
        MHD_destroy_post_processor(rq->pp);
    json_decref(rq->headers);
    json_decref(rq->query);
    json_decref(rq->cookies);
    json_decref(rq->form);
    json_decref(rq->response_headers);
    free(rq->route_body);
    for (struct dtbi_owned_json *o = rq->owned; o != NULL; o = o->next)
        json_decref(o->value);
    arena_free(rq);
    free(rq);
}

/* ---- accessors ------------------------------------------------------------------------------ */

struct dtb_toolbar *dtb_request_toolbar(const struct dtb_request *rq)
{
    return rq->tb;
}

const char *dtb_request_id(const struct dtb_request *rq)
{
    return rq->id;
}

const char *dtb_request_method(const struct dtb_request *rq)
{
    return rq->method ? rq->method : "";
}

const char *dtb_request_path(const struct dtb_request *rq)
{
    return rq->path ? rq->path : "";
}

const char *dtb_request_url(const struct dtb_request *rq)
{
    return rq->url ? rq->url : "";
}

const char *dtb_request_version(const struct dtb_request *rq)
{
    return rq->version ? rq->version : "";
}

const char *dtb_request_client(const struct dtb_request *rq)
{
    return rq->client;
}

unsigned dtb_request_status(const struct dtb_request *rq)
{
    return rq->resp.status;
}

const json_t *dtb_request_pairs(const struct dtb_request *rq, const char *kind)
{
    const json_t *r = NULL;
    if (strcmp(kind, "headers") == 0)
        r = rq->headers;
    else if (strcmp(kind, "query") == 0)
        r = rq->query;
    else if (strcmp(kind, "cookies") == 0)
        r = rq->cookies;
    else if (strcmp(kind, "form") == 0)
        r = rq->form;
    else if (strcmp(kind, "response_headers") == 0)
        r = rq->response_headers;
    /* Otherwise the toolbar's immutable empty array (made at create). */
    return r != NULL ? r : rq->tb->empty;
}

size_t dtb_request_pairs_omitted(const struct dtb_request *rq, const char *kind)
{
    static const char *const kinds[] = {"headers", "query", "cookies", "form", "response_headers"};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(kind, kinds[i]) == 0)
            return rq->omitted[i];
    return 0;
}

const struct dtb_request_times *dtb_request_times(const struct dtb_request *rq)
{
    return &rq->times;
}

const struct dtb_request_response *dtb_request_response(const struct dtb_request *rq)
{
    return &rq->resp;
}

const char *dtb_request_body(const struct dtb_request *rq, size_t *len)
{
    if (len != NULL)
        *len = rq->body_copy_len;
    return rq->body_copy;
}

void *dtb_request_panel_state(struct dtb_request *rq, const char *panel_id)
{
    if (rq == NULL || rq->panel_req_states == NULL)
        return NULL;
    for (size_t i = 0; i < rq->tb->nenabled; i++)
        if (strcmp(rq->tb->enabled_panels[i]->id, panel_id) == 0)
            return rq->panel_req_states[i];
    return NULL;
}
