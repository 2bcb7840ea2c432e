/*
 * filter_copy.c - the toolbar's copy of an app's response: the toolbar's markup (with the
 * page's CSP nonce), the page with it spliced in (a new buffer, or an iovec over the app's held
 * bytes), the app's headers carried over with the toolbar's own (X-Debug-Toolbar-Id,
 * Server-Timing, Vary, Cache-Control), and the page that stands in for an intercepted redirect.
 * The app's response object is never changed.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "filter_int.h"

/* Extracts a CSP nonce usable on our script tag: from script-src-elem, script-src or
 * default-src, in that order. Only base64 characters are accepted. */
int dtbi_csp_nonce(const char *csp, char *out, size_t outlen)
{
    static const char *const directives[] = {"script-src-elem", "script-src", "default-src"};
    if (csp == NULL)
        return 0;
    for (size_t d = 0; d < 3; d++) {
        size_t dl = strlen(directives[d]);
        const char *p = csp;
        while (*p != '\0') {
            while (*p == ' ' || *p == ';' || *p == '\t')
                p++;
            const char *end = strchr(p, ';');
            if (end == NULL)
                end = p + strlen(p);
            if ((size_t)(end - p) > dl && strncasecmp(p, directives[d], dl) == 0 &&
                (p[dl] == ' ' || p[dl] == '\t')) {
                const char *n = p + dl;
                while (n < end) {
                    const char *hit = strstr(n, "'nonce-");
                    if (hit == NULL || hit >= end)
                        break;
                    hit += 7;
                    size_t len = 0;
                    while (hit + len < end &&
                           (isalnum((unsigned char)hit[len]) || strchr("+/=_-", hit[len]) != NULL))
                        len++;
                    if (hit + len < end && hit[len] == '\'' && len > 0 && len < outlen) {
                        memcpy(out, hit, len);
                        out[len] = '\0';
                        return 1;
                    }
                    n = hit;
                }
            }
            p = end;
        }
    }
    return 0;
}

struct copy_ctx {
    struct MHD_Response *dst;
    struct dtb_request *rq;
    int failed;
    int page;          /* to the intercepted-redirect page: only what still applies to a new body */
    int drop_encoding; /* the body goes out decoded: the app's Content-Encoding does not apply */
    int vary_ae;       /* set when the app's Vary already names Accept-Encoding (or is "*") */
    int fresh;         /* injected: the app's validators and cache policy describe other bytes */
};

/* 1 when a Vary value lists Accept-Encoding or is "*". */
static int vary_covers_ae(const char *v)
{
    for (const char *p = v; p != NULL && *p != '\0'; p++) {
        if (*p == '*' || strncasecmp(p, "accept-encoding", 15) == 0)
            return 1;
    }
    return 0;
}

/* Headers of a redirect that do not go on the page that stands in for it: that page has a
 * body, a type and a cache policy of its own, and is not a redirect. */
static int not_for_page(const char *key)
{
    static const char *const skip[] = {MHD_HTTP_HEADER_CONTENT_TYPE,
                                       MHD_HTTP_HEADER_CONTENT_ENCODING,
                                       MHD_HTTP_HEADER_LOCATION,
                                       MHD_HTTP_HEADER_CACHE_CONTROL,
                                       MHD_HTTP_HEADER_ETAG,
                                       MHD_HTTP_HEADER_LAST_MODIFIED,
                                       MHD_HTTP_HEADER_TRANSFER_ENCODING};
    for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
        if (strcasecmp(key, skip[i]) == 0)
            return 1;
    return 0;
}

static enum MHD_Result copy_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    struct copy_ctx *c = cls;
    enum MHD_Result ok;
    if (key == NULL || strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0 ||
        (c->page && (kind == MHD_FOOTER_KIND || not_for_page(key))) ||
        (c->drop_encoding && strcasecmp(key, MHD_HTTP_HEADER_CONTENT_ENCODING) == 0) ||
        (c->fresh && kind != MHD_FOOTER_KIND &&
         (strcasecmp(key, MHD_HTTP_HEADER_ETAG) == 0 ||
          strcasecmp(key, MHD_HTTP_HEADER_LAST_MODIFIED) == 0 ||
          strcasecmp(key, MHD_HTTP_HEADER_CACHE_CONTROL) == 0)))
        return MHD_YES;
    if (kind != MHD_FOOTER_KIND && strcasecmp(key, MHD_HTTP_HEADER_VARY) == 0 &&
        vary_covers_ae(value))
        c->vary_ae = 1;
    if (kind == MHD_FOOTER_KIND)
        ok = MHD_add_response_footer(c->dst, key, value ? value : "");
    else
        ok = MHD_add_response_header(c->dst, key, value ? value : "");
    if (ok != MHD_YES)
        c->failed = 1;
    else if (kind != MHD_FOOTER_KIND)
        dtbi_record_pair(c->rq, DTBI_PAIRS_RESPONSE_HEADERS, key, strlen(key), value,
                         value ? strlen(value) : 0);
    return MHD_YES;
}

/* The Server-Timing value for the live request, from the panels (or a minimal core one). */
static void server_timing(struct dtb_request *rq, struct dtb_buf *out)
{
    struct dtb_toolbar *tb = rq->tb;
    for (size_t i = 0; i < tb->nenabled && rq->panel_req_states != NULL; i++) {
        const struct dtb_panel_ops *p = tb->enabled_panels[i];
        size_t before = out->len;
        if (p->server_timing == NULL)
            continue;
        if (out->len > 0)
            dtb_buf_append_str(out, ", ");
        size_t mark = out->len;
        if (p->server_timing(tb->panel_states[i], rq, rq->panel_req_states[i], out) != 0 ||
            out->len == mark) {
            out->len = before; /* nothing (or a failure): drop the separator */
            if (out->data != NULL)
                out->data[before] = '\0';
        }
    }
    if (out->len == 0)
        dtb_buf_appendf(out, "app;dur=%.3f", (double)rq->times.handler_ns / 1e6);
}

/* Appends the toolbar's markup (the host element and its script) to b. */
void dtbi_append_markup(struct dtb_request *rq, struct dtb_buf *b, const char *nonce)
{
    /* toolbar.js takes the prefix from its own src and the id from its own data-id, and uses
     * the host right before it only when that host carries the same id */
    dtb_buf_append_str(b, "<dtb-toolbar id=\"dtb-root\" data-id=\"");
    dtb_buf_append_str(b, rq->id);
    dtb_buf_append_str(b, "\"></dtb-toolbar><script src=\"");
    dtb_buf_append_html_str(b, rq->tb->script_url);
    dtb_buf_append_str(b, "\" data-id=\"");
    dtb_buf_append_str(b, rq->id);
    dtb_buf_append_str(b, "\"");
    if (nonce != NULL) {
        dtb_buf_append_str(b, " nonce=\"");
        dtb_buf_append_html_str(b, nonce);
        dtb_buf_append_str(b, "\"");
    }
    dtb_buf_append_str(b, " async=\"async\"></script>");
}

/* The page with the toolbar's markup at byte at, in one new buffer (NULL when out of memory). */
char *dtbi_splice(struct dtb_request *rq, const char *body, size_t len, size_t at,
                  const char *nonce, size_t *out_len)
{
    struct dtb_buf b;
    dtb_buf_init(&b);
    dtb_buf_reserve(&b, len + 512);
    dtb_buf_append(&b, body, at);
    dtbi_append_markup(rq, &b, nonce);
    dtb_buf_append(&b, body + at, len - at);
    *out_len = b.len;
    return dtb_buf_steal(&b);
}

/* A page sent from the app's own bytes, held (respmap) until MHD frees the response that sends
 * them, with the markup between its two parts. */
struct held_page {
    void *hold;
    char markup[];
};

static void held_page_free(void *cls)
{
    struct held_page *hp = cls;
    dtbi_respmap_release(hp->hold);
    free(hp);
}

/* The injected page as an iovec response over the app's held body: the page's bytes are not
 * copied (a 1 MB page would cost a fresh 1 MB, page-faulted in, per request). On success the
 * response owns the hold; on failure (NULL) the caller keeps it. */
struct MHD_Response *dtbi_held_page_response(struct dtb_request *rq, void *hold, const char *body,
                                             size_t len, size_t at, const char *nonce,
                                             size_t *out_len)
{
    struct dtb_buf m;
    struct held_page *hp;
    struct MHD_Response *r;
    dtb_buf_init(&m);
    dtbi_append_markup(rq, &m, nonce);
    if (m.failed || (hp = malloc(sizeof(*hp) + m.len)) == NULL) {
        dtb_buf_free(&m);
        return NULL;
    }
    hp->hold = hold;
    memcpy(hp->markup, m.data, m.len);
    struct MHD_IoVec iov[3] = {{body, at}, {hp->markup, m.len}, {body + at, len - at}};
    *out_len = len + m.len;
    dtb_buf_free(&m);
    r = dtbi_real()->from_iovec(iov, 3, held_page_free, hp);
    if (r == NULL)
        free(hp);
    return r;
}

/* Adds a header to the queued copy and to the record's response headers. Returns 0 or -1. */
static int add_header(struct dtb_request *rq, struct MHD_Response *r, const char *key,
                      const char *value)
{
    if (MHD_add_response_header(r, key, value) != MHD_YES)
        return -1;
    if (rq->response_headers != NULL)
        json_array_append_new(rq->response_headers, json_pack("[ss]", key, value));
    return 0;
}

/* The app's headers onto the toolbar's copy of its response (copy_header decides which), and
 * the toolbar's own: Cache-Control: no-store when fresh (the page is not the app's bytes),
 * X-Debug-Toolbar-Skip when why_not, Vary: Accept-Encoding when vary_ae and the app's Vary does
 * not cover it, X-Debug-Toolbar-Id and Server-Timing. Returns 0, or -1 (out of memory). */
int dtbi_add_headers(struct dtb_request *rq, struct MHD_Response *response,
                     struct MHD_Response *copy, int drop_encoding, int fresh, const char *why_not,
                     int vary_ae)
{
    struct copy_ctx cc = {copy, rq, 0, 0, drop_encoding, 0, fresh};
    struct dtb_buf st;
    int rc = 0;
    MHD_get_response_headers(response, copy_header, &cc);
    dtb_buf_init(&st);
    server_timing(rq, &st);
    if (cc.failed || st.failed ||
        (cc.fresh && add_header(rq, copy, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") != 0) ||
        (why_not != NULL && add_header(rq, copy, "X-Debug-Toolbar-Skip", why_not) != 0) ||
        (vary_ae && !cc.vary_ae &&
         MHD_add_response_header(copy, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT_ENCODING) !=
             MHD_YES) ||
        MHD_add_response_header(copy, "X-Debug-Toolbar-Id", rq->id) != MHD_YES ||
        MHD_add_response_header(copy, "Server-Timing", st.data) != MHD_YES) {
        rc = -1;
    } else {
        if (vary_ae && !cc.vary_ae)
            dtbi_record_pair(rq, DTBI_PAIRS_RESPONSE_HEADERS, MHD_HTTP_HEADER_VARY, 4,
                             MHD_HTTP_HEADER_ACCEPT_ENCODING, 15);
        dtbi_record_pair(rq, DTBI_PAIRS_RESPONSE_HEADERS, "X-Debug-Toolbar-Id", 18, rq->id,
                         strlen(rq->id));
        dtbi_record_pair(rq, DTBI_PAIRS_RESPONSE_HEADERS, "Server-Timing", 13, st.data,
                         st.data != NULL ? strlen(st.data) : 0);
    }
    dtb_buf_free(&st);
    return rc;
}

enum MHD_Result dtbi_queue_intercepted(struct dtb_request *rq, struct MHD_Connection *con,
                                       unsigned status, struct MHD_Response *response, int64_t t0)
{
    const char *loc = MHD_get_response_header(response, MHD_HTTP_HEADER_LOCATION);
    struct dtb_buf b, st;
    size_t len;
    char *page, *out;
    size_t out_len = 0;
    struct MHD_Response *r;
    enum MHD_Result ret;
    dtb_buf_init(&b);
    dtb_buf_append_str(&b, "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                           "<title>Redirect intercepted</title></head><body>"
                           "<h1>Redirect intercepted</h1><p>The app answered <strong>");
    dtb_buf_appendf(&b, "%u", status);
    dtb_buf_append_str(&b, "</strong> with <code>Location</code>: <a href=\"");
    dtb_buf_append_html_str(&b, loc);
    dtb_buf_append_str(&b, "\">");
    dtb_buf_append_html_str(&b, loc);
    dtb_buf_append_str(&b, "</a></p><p>The debug toolbar stopped it (intercept_redirects is on) "
                           "so this request's panels can be read. Follow the link to go on."
                           "</p></body></html>");
    len = b.len;
    page = dtb_buf_steal(&b);
    if (page == NULL)
        return dtbi_real()->queue_response(con, status, response);
    out = dtbi_splice(rq, page, len, dtbi_find_body_end(page, len), NULL, &out_len);
    free(page);
    if (out == NULL)
        return dtbi_real()->queue_response(con, status, response);
    r = dtbi_real()->from_buffer_with_free_callback(out_len, out, free);
    if (r == NULL) {
        free(out);
        return dtbi_real()->queue_response(con, status, response);
    }
    /* the app's other headers still apply: above all Set-Cookie (a login answers with a
     * redirect that sets the session cookie) */
    struct copy_ctx cc = {r, rq, 0, 1, 0, 0, 0};
    MHD_get_response_headers(response, copy_header, &cc);
    dtb_buf_init(&st);
    server_timing(rq, &st);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Debug-Toolbar-Id", rq->id);
    if (!st.failed && st.data != NULL)
        MHD_add_response_header(r, "Server-Timing", st.data);
    dtb_buf_free(&st);
    rq->resp.injected = 1;
    rq->resp.skip_reason = "redirect intercepted";
    dtbi_pending_add(rq->tb, rq->id);
    rq->times.toolbar_ns += dtb_now_ns() - t0;
    ret = dtbi_real()->queue_response(con, MHD_HTTP_OK, r);
    dtbi_real()->destroy_response(r);
    return ret;
}
