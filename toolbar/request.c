/*
 * request.c - the per-request record: its arena, what the core collects about the request
 * (method, URL, headers, query, cookies, form fields, timings) and the accessors panels use.
 *
 * A record lives from MHD's URI-log hook to its completion hook. It hangs off MHD's req_cls,
 * never off a thread; the thread-local "current request" is only set while the app's handler
 * runs (or between dtb_request_attach/detach). At completion every panel turns its state
 * into JSON, the record is stored as JSON text, and the arena is freed in one go.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "spans.h"
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

/* ---- bounded recording ------------------------------------------------------------------- */

/* What a recorded pair adds to the record's JSON text besides its name and value: ["",""], */
#define PAIR_JSON_OVERHEAD 8
/* What a recorded pair holds in memory besides its name and value (three jansson values, an
 * array table, the allocator's headers): counted against history_max_bytes. */
#define PAIR_MEM_OVERHEAD 256

/* Bytes s takes inside a JSON string: control characters, quotes and backslashes are escaped.
 * (What U+FFFD adds for invalid UTF-8 bytes is counted once the string is made: repair_cost.) */
static size_t json_cost(const char *s, size_t n)
{
    size_t cost = n;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20)
            cost += 5;
        else if (c == '"' || c == '\\')
            cost += 1;
    }
    return cost;
}

/* Counts the bytes U+FFFD added to a string made of n bytes; returns the string. */
static json_t *repair_cost(struct dtb_request *rq, json_t *s, size_t n)
{
    if (s != NULL && json_string_length(s) > n)
        rq->pair_bytes += json_string_length(s) - n;
    return s;
}

static json_t **pair_list(struct dtb_request *rq, enum dtbi_pairs kind)
{
    switch (kind) {
    case DTBI_PAIRS_HEADERS:
        return &rq->headers;
    case DTBI_PAIRS_QUERY:
        return &rq->query;
    case DTBI_PAIRS_COOKIES:
        return &rq->cookies;
    case DTBI_PAIRS_FORM:
        return &rq->form;
    case DTBI_PAIRS_RESPONSE_HEADERS:
        return &rq->response_headers;
    }
    return NULL;
}

/* The recorded pairs may take half of record_max_bytes: the panels keep the other half. */
static size_t pair_budget(const struct dtb_request *rq)
{
    return rq->tb->cfg.record_max_bytes / 2;
}

/* 1 when `cost` more bytes of pairs still fit, and counts them; else 0. */
static int pair_bytes_take(struct dtb_request *rq, size_t cost)
{
    if (cost > pair_budget(rq) || rq->pair_bytes > pair_budget(rq) - cost)
        return 0;
    rq->pair_bytes += cost;
    return 1;
}

/* 1 when one more pair of `cost` bytes fits in rq's list of that kind, and counts its bytes;
 * else counts the pair as not recorded. Nothing is allocated for a pair that does not fit. */
static int pair_admit(struct dtb_request *rq, enum dtbi_pairs kind, size_t cost)
{
    json_t *arr = *pair_list(rq, kind);
    if (arr == NULL) /* not recording, or out of memory at the start */
        return 0;
    if (json_array_size(arr) >= rq->tb->cfg.record_max_pairs || !pair_bytes_take(rq, cost)) {
        rq->omitted[kind]++;
        return 0;
    }
    return 1;
}

/* Appends [name, value] (value stolen) to an admitted pair's list. */
static json_t *pair_append(struct dtb_request *rq, enum dtbi_pairs kind, const char *name,
                           size_t name_len, json_t *value)
{
    json_t *pair = value != NULL ? json_pack("[oo]", dtbi_json_textn(name, name_len), value) : NULL;
    if (pair == NULL || json_array_append_new(*pair_list(rq, kind), pair) != 0) {
        rq->degraded = true;
        return NULL;
    }
    rq->pair_count++;
    return pair;
}

json_t *dtbi_record_pair(struct dtb_request *rq, enum dtbi_pairs kind, const char *name,
                         size_t name_len, const char *value, size_t value_len)
{
    if (name == NULL) {
        name = "";
        name_len = 0;
    }
    if (value == NULL) {
        value = "";
        value_len = 0;
    }
    if (!pair_admit(rq, kind,
                    json_cost(name, name_len) + json_cost(value, value_len) + PAIR_JSON_OVERHEAD))
        return NULL;
    return pair_append(rq, kind, name, name_len,
                       repair_cost(rq, dtbi_json_textn(value, value_len), value_len));
}

struct collect_ctx {
    struct dtb_request *rq;
    enum dtbi_pairs kind;
};

static enum MHD_Result collect_pair(void *cls, enum MHD_ValueKind kind, const char *key,
                                    size_t key_size, const char *value, size_t value_size)
{
    struct collect_ctx *c = cls;
    (void)kind;
    /* never stops early: a pair that cannot be recorded is counted, the rest still are */
    dtbi_record_pair(c->rq, c->kind, key, key != NULL ? key_size : 0, value,
                     value != NULL ? value_size : 0);
    return MHD_YES;
}

static json_t *collect(struct dtb_request *rq, struct MHD_Connection *con, enum MHD_ValueKind kind,
                       enum dtbi_pairs list)
{
    struct collect_ctx c = {rq, list};
    *pair_list(rq, list) = json_array();
    if (*pair_list(rq, list) != NULL)
        MHD_get_connection_values_n(con, kind, collect_pair, &c);
    return *pair_list(rq, list);
}

/* Form fields from urlencoded and multipart bodies (MHD's post processor). A field value is
 * kept up to FORM_VALUE_MAX bytes, FORM_TOTAL_MAX in all; a file field becomes {filename,
 * content_type, size}. Fields past the pair bounds are counted, not kept. */
#define FORM_VALUE_MAX 4096
#define FORM_TOTAL_MAX (256 * 1024)

static enum MHD_Result form_iter(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *filename, const char *content_type,
                                 const char *transfer_encoding, const char *data, uint64_t off,
                                 size_t size)
{
    struct dtb_request *rq = cls;
    json_t *last = NULL;
    const char *name = key ? key : "";
    size_t n = json_array_size(rq->form);
    if (off > 0 && rq->form_skipping)
        return MHD_YES; /* the rest of a field that was not recorded */
    if (n > 0 && off > 0) {
        last = json_array_get(rq->form, n - 1);
        if (strcmp(json_string_value(json_array_get(last, 0)), name) != 0)
            last = NULL;
    }
    if (last == NULL) {
        size_t cost = json_cost(name, strlen(name)) + PAIR_JSON_OVERHEAD;
        if (filename != NULL)
            cost += 48 + json_cost(filename, strlen(filename)) +
                    (content_type ? json_cost(content_type, strlen(content_type)) : 0);
        rq->form_skipping = !pair_admit(rq, DTBI_PAIRS_FORM, cost);
        if (rq->form_skipping)
            return MHD_YES;
        json_t *val =
            filename != NULL
                ? json_pack("{s:o,s:o,s:I}", "filename", dtb_json_text(filename), "content_type",
                            dtb_json_text(content_type ? content_type : ""), "size", (json_int_t)0)
                : json_string("");
        last = pair_append(rq, DTBI_PAIRS_FORM, name, strlen(name), val);
        if (last == NULL)
            return MHD_YES;
    }
    json_t *val = json_array_get(last, 1);
    if (json_is_object(val)) {
        json_int_t sz = json_integer_value(json_object_get(val, "size"));
        json_object_set_new(val, "size", json_integer(sz + (json_int_t)size));
    } else if (size > 0 && rq->form_bytes < FORM_TOTAL_MAX) {
        const char *cur = json_string_value(val);
        size_t curlen = json_string_length(val);
        size_t take = size;
        if (curlen + take > FORM_VALUE_MAX)
            take = curlen >= FORM_VALUE_MAX ? 0 : FORM_VALUE_MAX - curlen;
        if (take > 0 && pair_bytes_take(rq, json_cost(data, take))) {
            char *joined = malloc(curlen + take + 1);
            if (joined == NULL)
                return MHD_NO;
            memcpy(joined, cur, curlen);
            memcpy(joined + curlen, data, take);
            joined[curlen + take] = '\0';
            /* form values may be any bytes: each invalid UTF-8 byte becomes U+FFFD */
            json_t *s = repair_cost(rq, dtbi_json_textn(joined, curlen + take), curlen + take);
            if (s != NULL)
                json_array_set_new(last, 1, s);
            else
                rq->degraded = true;
            free(joined);
            rq->form_bytes += take;
        }
    }
    return MHD_YES;
}

void dtbi_request_begin(struct dtb_request *rq, struct MHD_Connection *con, const char *url,
                        const char *method, const char *version)
{
    const char *q;
    rq->method = dtb_request_strdup(rq, method);
    rq->url = dtb_request_strdup(rq, url);
    rq->version = dtb_request_strdup(rq, version);
    q = url != NULL ? strchr(url, '?') : NULL;
    if (q != NULL) {
        char *p = dtb_request_alloc(rq, (size_t)(q - url) + 1);
        if (p != NULL)
            memcpy(p, url, (size_t)(q - url));
        rq->path = p;
    } else {
        rq->path = rq->url;
    }
    collect(rq, con, MHD_HEADER_KIND, DTBI_PAIRS_HEADERS);
    collect(rq, con, MHD_GET_ARGUMENT_KIND, DTBI_PAIRS_QUERY);
    collect(rq, con, MHD_COOKIE_KIND, DTBI_PAIRS_COOKIES);
    rq->form = json_array();
    rq->response_headers = json_array();
    if (rq->method == NULL || rq->url == NULL || rq->headers == NULL || rq->query == NULL ||
        rq->cookies == NULL || rq->form == NULL || rq->response_headers == NULL)
        rq->degraded = true;
    if (method != NULL && strcmp(method, "POST") == 0 && rq->form != NULL)
        rq->pp = MHD_create_post_processor(con, 8192, form_iter, rq);
    if (rq->tb->nenabled > 0 && !rq->toolbar_route) {
        if (rq->tb->want_spans && (rq->spans = dtbi_spans_new(rq)) == NULL)
            rq->degraded = true;
        rq->panel_req_states = dtb_request_alloc(rq, rq->tb->nenabled * sizeof(void *));
        if (rq->panel_req_states == NULL) {
            rq->degraded = true;
            return;
        }
        for (size_t i = 0; i < rq->tb->nenabled; i++) {
            const struct dtb_panel_ops *p = rq->tb->enabled_panels[i];
            if (p->on_request_start != NULL)
                rq->panel_req_states[i] = p->on_request_start(rq->tb->panel_states[i], rq);
        }
    }
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

static void iso8601(int64_t unix_ns, char *out, size_t outlen)
{
    time_t secs = (time_t)(unix_ns / 1000000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(out, outlen, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, outlen - n, ".%03dZ", (int)((unix_ns / 1000000) % 1000));
}

/* Shrinks an oversized record by dropping the largest panels' stats, saying so. */
static char *dump_bounded(json_t *record, size_t max_bytes)
{
    char *text = json_dumps(record, JSON_COMPACT);
    json_t *panels = json_object_get(record, "panels");
    while (text != NULL && strlen(text) > max_bytes && json_object_size(panels) > 0) {
        const char *key, *biggest = NULL;
        size_t biggest_len = 0;
        json_t *v;
        json_object_foreach(panels, key, v)
        {
            char *t = json_dumps(v, JSON_COMPACT);
            size_t l = t ? strlen(t) : 0;
            free(t);
            if (l >= biggest_len && json_object_get(v, "truncated") == NULL) {
                biggest_len = l;
                biggest = key;
            }
        }
        free(text);
        text = NULL;
        if (biggest == NULL)
            break;
        json_t *trunc = json_object_get(record, "truncated");
        json_array_append_new(trunc, json_string(biggest));
        json_object_set_new(
            panels, biggest,
            json_pack("{s:b,s:I}", "truncated", 1, "bytes", (json_int_t)biggest_len));
        text = json_dumps(record, JSON_COMPACT);
    }
    return text;
}

void dtbi_request_finish(struct dtb_request *rq, enum MHD_RequestTerminationCode toe)
{
    struct dtb_toolbar *tb = rq->tb;
    char id[17];
    int64_t t0;
    if (!rq->active || !rq->handled || rq->toolbar_route || tb->store == NULL) {
        if (rq->resp.injected)
            dtbi_pending_remove(tb, rq->id);
        dtbi_request_destroy(rq);
        return;
    }
    t0 = dtb_now_ns();
    rq->times.end_ns = t0;
    rq->toe = toe;
    for (size_t i = 0; i < tb->nenabled && rq->panel_req_states != NULL; i++) {
        const struct dtb_panel_ops *p = tb->enabled_panels[i];
        if (p->on_request_end != NULL)
            p->on_request_end(tb->panel_states[i], rq, rq->panel_req_states[i]);
    }
    /* Everything after this point is the toolbar's own cost, shown in the Timer panel. */
    rq->times.toolbar_ns += dtb_now_ns() - t0;
    /* nothing of the connection may outlive it */
    if (rq->pp != NULL) {
        MHD_destroy_post_processor(rq->pp);
        rq->pp = NULL;
    }
    rq->dctx = NULL;
    memcpy(id, rq->id, sizeof(id));
    int injected = rq->resp.injected;
    if (tb->store->ops->put_request != NULL &&
        tb->store->ops->put_request(tb->store, rq) == DTB_OK) {
        if (injected) /* rq belongs to the store now: only the copied id is used */
            dtbi_pending_remove(tb, id);
        return;
    }
    dtbi_request_put_built(tb->store, rq);
    if (injected)
        dtbi_pending_remove(tb, id);
}

void dtbi_request_put_built(struct dtbi_store *s, struct dtb_request *rq)
{
    json_t *summary = NULL;
    char *text = NULL;
    if (dtbi_request_materialize(rq, &summary, &text) == 0 &&
        s->ops->put(s, rq->id, summary, text) != DTB_OK)
        dtbi_log_once("store-put", "could not store a request record (store '%s')", s->ops->name);
    free(text);
    json_decref(summary);
    dtbi_request_destroy(rq);
}

size_t dtbi_request_bytes(const struct dtb_request *rq)
{
    return sizeof(*rq) + rq->arena_bytes + 1024 + rq->pair_bytes +
           rq->pair_count * PAIR_MEM_OVERHEAD;
}

/* The panels' marks for History (summary_marks), each with its panel's id, as summary.marks. */
static void summary_marks(const struct dtb_toolbar *tb, const json_t *panels, json_t *summary)
{
    json_t *marks = json_array(), *m;
    size_t i;
    for (size_t k = 0; k < tb->nenabled && marks != NULL; k++) {
        const struct dtb_panel_ops *p = tb->enabled_panels[k];
        const json_t *stats = json_object_get(panels, p->id);
        size_t before = json_array_size(marks);
        if (stats == NULL || !dtbi_panel_has_marks(p))
            continue;
        p->summary_marks(stats, marks);
        json_array_foreach(marks, i, m)
        {
            if (i >= before && json_is_object(m))
                json_object_set_new(m, "panel", json_string(p->id));
        }
    }
    if (json_array_size(marks) > 0)
        json_object_set_new(summary, "marks", marks);
    else
        json_decref(marks);
}

/* The panels' named fields for History (their summary hooks), copied into summary: a name the
 * summary has already (the core's own, or an earlier panel's) is kept as it is. */
static void summary_fields(const struct dtb_toolbar *tb, const json_t *panels, json_t *summary)
{
    for (size_t k = 0; k < tb->nenabled; k++) {
        const struct dtb_panel_ops *p = tb->enabled_panels[k];
        const json_t *stats = json_object_get(panels, p->id);
        json_t *fields, *v;
        const char *name;
        if (stats == NULL || !dtbi_panel_has_summary(p) || (fields = json_object()) == NULL)
            continue;
        p->summary(stats, fields);
        json_object_foreach(fields, name, v)
        {
            if (json_object_get(summary, name) == NULL)
                json_object_set(summary, name, v);
        }
        json_decref(fields);
    }
}

int dtbi_request_materialize(struct dtb_request *rq, json_t **summary_out, char **text_out)
{
    struct dtb_toolbar *tb = rq->tb;
    json_t *record = NULL, *panels = NULL, *summary = NULL;
    char started[40], *text = NULL;
    *summary_out = NULL;
    *text_out = NULL;
    panels = json_object();
    for (size_t i = 0; i < tb->nenabled && panels != NULL; i++) {
        const struct dtb_panel_ops *p = tb->enabled_panels[i];
        void *st = rq->panel_req_states != NULL ? rq->panel_req_states[i] : NULL;
        json_t *stats = p->to_json(tb->panel_states[i], rq, st);
        if (stats != NULL)
            json_object_set_new(panels, p->id, stats);
    }
    iso8601(rq->times.started_unix_ns, started, sizeof(started));
    double time_ms = (double)(rq->times.end_ns - rq->times.start_ns) / 1e6;
    /* method and path may be any bytes a client sent: stored as valid UTF-8 */
    summary = json_pack("{s:s,s:o,s:o,s:i,s:o,s:f,s:s,s:b,s:s?}", "id", rq->id, "method",
                        dtb_json_text(rq->method ? rq->method : ""), "path",
                        dtb_json_text(rq->path ? rq->path : ""), "status", (int)rq->resp.status,
                        "content_type", dtb_json_text(rq->resp.content_type), "time_ms", time_ms,
                        "started_at", started, "injected", rq->resp.injected, "skip_reason",
                        rq->resp.skip_reason);
    if (summary == NULL || panels == NULL)
        goto fail;
    dtbi_page_summary_flags(rq, panels, summary);
    summary_marks(tb, panels, summary);
    summary_fields(tb, panels, summary);
    if (rq->why_not != NULL) /* said in X-Debug-Toolbar-Skip (filter.c) */
        json_object_set_new(summary, "why_not", json_string(rq->why_not));
    if (rq->daemon != NULL) /* the listening address that served it (filter.c) */
        json_object_set_new(summary, "daemon", json_string(rq->daemon));
    record = json_deep_copy(summary);
    if (record == NULL)
        goto fail;
    char *url = dtb_toolbar_redact_url(tb, rq->url ? rq->url : "");
    json_object_set_new(record, "url", url != NULL ? dtb_json_text(url) : json_null());
    free(url);
    json_object_set_new(record, "completed",
                        json_boolean(rq->toe == MHD_REQUEST_TERMINATED_COMPLETED_OK));
    json_object_set_new(record, "degraded", json_boolean(rq->degraded));
    json_object_set_new(record, "truncated", json_array());
    json_object_set(record, "panels", panels);
    text = dump_bounded(record, tb->cfg.record_max_bytes);
    if (text == NULL)
        goto fail;
    json_decref(record);
    json_decref(panels);
    *summary_out = summary;
    *text_out = text;
    return 0;
fail:
    dtbi_log_once("record-build", "out of memory building a request record; not stored");
    json_decref(record);
    json_decref(panels);
    json_decref(summary);
    return -1;
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
