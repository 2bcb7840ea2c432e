/*
 * panel.c - the HTML check panel: the page the app rendered, parsed by libxml2's HTML
 * parser at completion (after the response was sent), with its parse errors (line, column)
 * and lints found in one walk of the document: duplicate ids, file inputs in a form that is not
 * multipart, images without alt, no lang, no <title>, labels pointing at no field.
 *
 * Errors are collected by a handler on this parse's own context (never printed). libxml2's
 * HTML parser knows HTML 4 tags only: "Tag main invalid" for an HTML5, SVG or custom element
 * is not an error and is dropped. Pages larger than panel_options.htmlcheck.max_bytes
 * (default 256 KiB) are not checked, so a big page costs nothing. A page served again with
 * the same bytes reuses its result (a small cache keyed by length and a 64-bit hash), so an
 * unchanging page is checked once, not on every request.
 *
 * This file holds the panel's table, its state and cache, and the parse; parse.c collects the
 * parse errors, lint.c finds the lints, render.c renders the result.
 */
#include <pthread.h>
#include <string.h>

#include "htmlcheck_int.h"

#define CACHE_SLOTS 32

struct cached {
    size_t len;
    uint64_t hash;
    json_t *result; /* {errors, lints, dropped, bytes, check_ns} */
};

struct htmlcheck_state {
    size_t max_bytes;
    pthread_mutex_t lock;
    struct cached cache[CACHE_SLOTS];
    unsigned next; /* round-robin replacement */
};

/* A fast 64-bit hash of the page (not cryptographic: it only spares re-checking a page). */
static uint64_t page_hash(const char *p, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0xFF51AFD7ED558CCDull;
        h ^= h >> 32;
    }
    for (; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 0x100000001B3ull;
    h ^= h >> 29;
    return h * 0xC4CEB9FE1A85EC53ull;
}

struct htmlcheck_req {
    json_t *result; /* owned by the request */
};

/* libxml2's generic error handler during a check: nothing is printed. */
static void quiet(void *ctx, const char *msg, ...)
{
    (void)ctx, (void)msg;
}

static int htmlcheck_init(void **state, struct dtb_toolbar *tb, const json_t *conf,
                          struct dtb_error *err)
{
    struct htmlcheck_state *s = calloc(1, sizeof(*s));
    const json_t *mb = json_object_get(conf, "max_bytes");
    (void)err;
    if (s == NULL)
        return -1;
    s->max_bytes = 256u * 1024u;
    pthread_mutex_init(&s->lock, NULL);
    if (json_is_integer(mb) && json_integer_value(mb) > 0)
        s->max_bytes = (size_t)json_integer_value(mb);
    dtb_toolbar_want_body(tb, s->max_bytes);
    *state = s;
    return 0;
}

static void htmlcheck_cleanup(void *state)
{
    struct htmlcheck_state *s = state;
    if (s == NULL)
        return;
    for (int i = 0; i < CACHE_SLOTS; i++)
        json_decref(s->cache[i].result);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static void *htmlcheck_start(void *state, struct dtb_request *rq)
{
    (void)state;
    return dtb_request_alloc(rq, sizeof(struct htmlcheck_req));
}

/* The cache slot of a page with these bytes, or NULL. Lock held. */
static struct cached *find_cached(struct htmlcheck_state *s, size_t len, uint64_t h)
{
    for (int i = 0; i < CACHE_SLOTS; i++)
        if (s->cache[i].result != NULL && s->cache[i].len == len && s->cache[i].hash == h)
            return &s->cache[i];
    return NULL;
}

static void htmlcheck_end(void *state, struct dtb_request *rq, void *req_state)
{
    struct htmlcheck_state *s = state;
    struct htmlcheck_req *st = req_state;
    size_t len = 0;
    const char *body = dtb_request_body(rq, &len);
    const struct dtb_request_response *resp = dtb_request_response(rq);
    int64_t t0 = dtb_now_ns();
    struct collect c = {0};
    htmlParserCtxtPtr ctxt;
    htmlDocPtr doc;
    if (st == NULL)
        return;
    if (body == NULL) {
        const char *why = "not an HTML page from a buffer response";
        char big[160];
        if (resp->injected && resp->body_size > s->max_bytes) {
            snprintf(big, sizeof(big), "the page (%zu bytes) is larger than max_bytes (%zu)",
                     resp->body_size, s->max_bytes);
            why = big;
        }
        st->result = dtb_request_own_json(rq, json_pack("{s:s}", "skipped", why));
        return;
    }
    uint64_t h = page_hash(body, len);
    json_t *hit = NULL;
    pthread_mutex_lock(&s->lock);
    struct cached *seen = find_cached(s, len, h);
    if (seen != NULL)
        hit = json_deep_copy(seen->result);
    pthread_mutex_unlock(&s->lock);
    if (hit != NULL) {
        json_object_set_new(hit, "cached", json_true());
        json_object_set_new(hit, "lookup_ns", json_integer((json_int_t)(dtb_now_ns() - t0)));
        st->result = dtb_request_own_json(rq, hit);
        return;
    }
    /* libxml2 reports some failures (out of memory) through the thread's generic handler,
     * which prints: silence it around the parse, then put back what the app had */
    xmlGenericErrorFunc app_fn = xmlGenericError;
    void *app_ctx = xmlGenericErrorContext;
    c.errors = json_array();
    xmlSetGenericErrorFunc(NULL, quiet);
    ctxt = htmlCreateMemoryParserCtxt(body, (int)len);
    if (ctxt == NULL || c.errors == NULL) {
        json_decref(c.errors);
        if (ctxt != NULL)
            htmlFreeParserCtxt(ctxt);
        xmlSetGenericErrorFunc(app_ctx, app_fn);
        return;
    }
    /* this parse's own structured-error handler: nothing reaches stderr */
    ctxt->_private = &c;
    ctxt->sax->initialized = XML_SAX2_MAGIC;
    ctxt->sax->serror = dtbi_htmlcheck_on_error;
    c.end_element = ctxt->sax->endElement;
    if (c.end_element != NULL)
        ctxt->sax->endElement = dtbi_htmlcheck_on_end_element;
    ctxt->sax->error = NULL;
    ctxt->sax->warning = NULL;
    ctxt->vctxt.error = NULL;
    ctxt->vctxt.warning = NULL;
    htmlCtxtUseOptions(ctxt, HTML_PARSE_NONET | HTML_PARSE_COMPACT);
    htmlParseDocument(ctxt);
    doc = ctxt->myDoc;
    ctxt->myDoc = NULL;
    json_t *lints = json_array();
    if (doc != NULL && lints != NULL) {
        dtbi_htmlcheck_check_tree(doc, lints, c.errors, body, len);
    }
    if (doc != NULL)
        xmlFreeDoc(doc);
    htmlFreeParserCtxt(ctxt);
    xmlSetGenericErrorFunc(app_ctx, app_fn);
    st->result = dtb_request_own_json(
        rq, json_pack("{s:o,s:o,s:I,s:I,s:I}", "errors", c.errors, "lints",
                      lints != NULL ? lints : json_array(), "dropped", (json_int_t)c.dropped,
                      "bytes", (json_int_t)len, "check_ns", (json_int_t)(dtb_now_ns() - t0)));
    json_t *keep = st->result != NULL ? json_deep_copy(st->result) : NULL;
    if (keep != NULL) {
        pthread_mutex_lock(&s->lock);
        /* two threads may have checked the same page at once: keep one slot for it */
        struct cached *slot = find_cached(s, len, h);
        if (slot == NULL)
            slot = &s->cache[s->next++ % CACHE_SLOTS];
        json_decref(slot->result);
        slot->result = keep;
        slot->len = len;
        slot->hash = h;
        pthread_mutex_unlock(&s->lock);
    }
}

static json_t *htmlcheck_to_json(void *state, struct dtb_request *rq, void *req_state)
{
    struct htmlcheck_req *st = req_state;
    (void)state;
    (void)rq;
    return st != NULL && st->result != NULL ? json_incref(st->result) : NULL;
}

const struct dtb_panel_ops dtb_panel_htmlcheck = {
    .abi = DTB_PANEL_ABI,
    .id = "htmlcheck",
    .title = "HTML check",
    .default_on = 1,
    .flags = DTB_PANEL_WANTS_BODY,
    .init = htmlcheck_init,
    .cleanup = htmlcheck_cleanup,
    .on_request_start = htmlcheck_start,
    .on_request_end = htmlcheck_end,
    .to_json = htmlcheck_to_json,
    .nav_subtitle = dtbi_htmlcheck_subtitle,
    .render_html = dtbi_htmlcheck_render,
};
