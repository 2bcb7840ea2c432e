/*
 * request_collect.c - what the core collects about a request when its handler first runs
 * (dtbi_request_begin: method, URL, version, headers, query arguments, cookies, form fields),
 * bounded: every recorded pair is counted against the record's limits (its JSON text and its
 * memory, dtbi_request_bytes) and what goes over is counted as omitted, not recorded.
 * dtbi_record_pair is the one way in, for the filter's response headers too.
 */
#include <stdlib.h>
#include <string.h>

#include "spans.h"
#include "store.h"

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

size_t dtbi_request_bytes(const struct dtb_request *rq)
{
    return sizeof(*rq) + rq->arena_bytes + 1024 + rq->pair_bytes +
           rq->pair_count * PAIR_MEM_OVERHEAD;
}
