/*
 * filter.c - the response filter: decides whether a response gets the toolbar, and queues a
 * copy of it with the toolbar spliced in, Content-Length right and the toolbar's headers added.
 *
 * Guards run first, each naming why it skipped (the reason goes into the request's record
 * and, when the response looked like HTML, into the log once per cause). A skipped response
 * from a buffer we know is still queued as a copy carrying X-Debug-Toolbar-Id and
 * Server-Timing, so JSON and fetch/XHR calls show up in the history; a response whose body we
 * cannot see (callback, pipe, iovec) is queued as it is. A file-descriptor response is read
 * (pread, under the size cap) only when it may be an HTML page, and injected like a buffer. The
 * app's response object is never changed: the app queues, reuses and destroys it as if the toolbar
 * were not there. An encoded body (gzip, deflate, br, zstd) is decoded, injected, and sent decoded
 * when the client did not refuse identity, else re-encoded in the app's coding (codec.c).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>
#include <unistd.h>

#include "internal.h"

/* Case-insensitive "is this header's media type one of these" (parameters ignored). */
static int media_type_is(const char *ct, const char *type)
{
    size_t n = strlen(type);
    if (ct == NULL)
        return 0;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    return strncasecmp(ct, type, n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t');
}

static const char *request_header(struct MHD_Connection *con, const char *name)
{
    return MHD_lookup_connection_value(con, MHD_HEADER_KIND, name);
}

/* Extracts a CSP nonce usable on our script tag: from script-src-elem, script-src or
 * default-src, in that order. Only base64 characters are accepted. */
static int csp_nonce(const char *csp, char *out, size_t outlen)
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

/* Bodies larger than this are not kept for panels that check the page. */
#define BODY_COPY_MAX (4u << 20)

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

/* Builds the body with the toolbar snippet at offset at. Returns malloc'd bytes or NULL. */
/* Appends the toolbar's markup (the host element and its script) to b. */
static void append_markup(struct dtb_request *rq, struct dtb_buf *b, const char *nonce)
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
static char *splice(struct dtb_request *rq, const char *body, size_t len, size_t at,
                    const char *nonce, size_t *out_len)
{
    struct dtb_buf b;
    dtb_buf_init(&b);
    dtb_buf_reserve(&b, len + 512);
    dtb_buf_append(&b, body, at);
    append_markup(rq, &b, nonce);
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
static struct MHD_Response *held_page_response(struct dtb_request *rq, void *hold, const char *body,
                                               size_t len, size_t at, const char *nonce,
                                               size_t *out_len)
{
    struct dtb_buf m;
    struct held_page *hp;
    struct MHD_Response *r;
    dtb_buf_init(&m);
    append_markup(rq, &m, nonce);
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

/* Where the toolbar goes, or -1 to skip (reason set). */
static long find_insert_point(struct dtb_request *rq, const char *body, size_t len, int xhtml,
                              const char **reason)
{
    const char *ib = rq->tb->cfg.insert_before;
    if (xhtml) {
        long at = dtbi_xhtml_body_end(body, len);
        if (at < 0)
            *reason = "XHTML document not well-formed or without body";
        return at;
    }
    if (ib != NULL && strcasecmp(ib, "</body>") != 0) {
        /* A custom insert_before marker: its last occurrence, else the end. */
        size_t n = strlen(ib);
        for (size_t i = len >= n ? len - n + 1 : 0; n > 0 && i-- > 0;)
            if (strncasecmp(body + i, ib, n) == 0)
                return (long)i;
        return (long)len;
    }
    return dtbi_html_insert_point(body, len, reason);
}

/* The guards that need no body. *sniff is set when the response names no Content-Type, so
 * the body decides (after decoding) whether it is HTML. */
static const char *skip_reason(struct dtb_request *rq, struct MHD_Connection *con, unsigned status,
                               struct MHD_Response *response, const char *ct, int known,
                               int *html_like, int *sniff, int *navigation)
{
    const char *v;
    *html_like = 0;
    *sniff = 0;
    *navigation = 0;
    if (status < 200 || status == 204 || status == 304)
        return "status without a body";
    if (ct == NULL)
        *sniff = 1;
    else if (!media_type_is(ct, "text/html") && !media_type_is(ct, "application/xhtml+xml"))
        return "not an HTML content type";
    *html_like = !*sniff;
    if (status >= 300 && status < 400)
        return "redirect";
    v = MHD_get_response_header(response, "Content-Disposition");
    if (v != NULL && strncasecmp(v, "attachment", 10) == 0)
        return "Content-Disposition: attachment";
    v = request_header(con, "Sec-Fetch-Dest");
    if (v != NULL && strcasecmp(v, "document") != 0 && strcasecmp(v, "iframe") != 0 &&
        strcasecmp(v, "frame") != 0)
        return "Sec-Fetch-Dest is not a document";
    /* a browser navigation says so: any text/html body is then a page the browser renders */
    *navigation = v != NULL;
    v = request_header(con, "X-Requested-With");
    if (v != NULL && strcasecmp(v, "XMLHttpRequest") == 0)
        return "X-Requested-With: XMLHttpRequest";
    if (!known)
        return "body not visible (callback or pipe)";
    return NULL;
}

/* Bodies are decoded (and files read) up to this size; past it the response is left alone. */
#define BODY_CAP (16u << 20)

/* The page as the filter sees it: the app's bytes, or their decoded form. */
struct page {
    enum dtbi_coding coding; /* the app's Content-Encoding */
    char *decoded;           /* malloc'd when the body was decoded */
    const char *body;
    size_t len;
};

/* Decodes the body when it is encoded, then the checks that need the bytes: sniffing for a
 * response with no Content-Type, and a start that looks like HTML. */
static const char *body_reason(struct MHD_Response *response, int sniff, int navigation,
                               int *html_like, struct page *pg)
{
    const char *ce = MHD_get_response_header(response, MHD_HTTP_HEADER_CONTENT_ENCODING);
    pg->coding = dtbi_coding_parse(ce);
    if (pg->coding == DTBI_CODING_UNKNOWN || !dtbi_coding_available(pg->coding))
        return "Content-Encoding not supported";
    if (pg->coding != DTBI_CODING_IDENTITY) {
        size_t n = 0;
        switch (dtbi_decode(pg->coding, pg->body, pg->len, BODY_CAP, &pg->decoded, &n)) {
        case 0:
            break;
        case -2:
            return "decoded body over the size cap";
        case -3:
            return "out of memory while decoding";
        default:
            return "encoded body does not decode";
        }
        pg->body = pg->decoded;
        pg->len = n;
    }
    if (sniff) {
        if (!dtbi_sniffs_as_html(pg->body, pg->len))
            return "not an HTML content type";
        *html_like = 1;
        const char *xcto = MHD_get_response_header(response, "X-Content-Type-Options");
        if (xcto != NULL && strncasecmp(xcto, "nosniff", 7) == 0)
            return "no Content-Type and nosniff";
    }
    /* a navigation renders any text/html body as a page; otherwise it must start like one */
    if (!(navigation && !sniff) && !dtbi_looks_like_html(pg->body, pg->len))
        return "body does not start like an HTML document";
    return NULL;
}

/* Reads a file response's bytes with pread at its offset (the fd's own offset never moves).
 * Returns NULL and *out (malloc'd), or why not. */
static const char *read_file(int fd, uint64_t offset, uint64_t size, char **out)
{
    size_t got = 0;
    char *buf;
    *out = NULL;
    if (size > BODY_CAP)
        return "file over the size cap";
    buf = malloc(size > 0 ? (size_t)size : 1);
    if (buf == NULL)
        return "out of memory while reading the file";
    while (got < size) {
        ssize_t n = pread(fd, buf + got, (size_t)size - got, (off_t)(offset + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            free(buf);
            return "file could not be read";
        }
        got += (size_t)n;
    }
    *out = buf;
    return NULL;
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

/* 1 for a browser navigation: Sec-Fetch-Dest: document, or an Accept naming text/html. */
static int is_navigation(struct MHD_Connection *con)
{
    const char *dest = request_header(con, "Sec-Fetch-Dest");
    const char *accept = request_header(con, MHD_HTTP_HEADER_ACCEPT);
    if (dest != NULL)
        return strcasecmp(dest, "document") == 0;
    return accept != NULL && strcasestr(accept, "text/html") != NULL;
}

/* The listening address of the daemon serving rq, looked up once per daemon (getsockname on
 * its listen socket), or NULL. */
static const char *daemon_address(struct dtb_request *rq, struct MHD_Connection *con)
{
    struct dtbi_daemon_ctx *d = rq->dctx;
    if (d == NULL)
        return NULL;
    if (atomic_load_explicit(&d->listen_state, memory_order_acquire) == 0) {
        char buf[sizeof(d->listen)] = "", host[INET6_ADDRSTRLEN];
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(con, MHD_CONNECTION_INFO_DAEMON);
        const union MHD_DaemonInfo *di =
            ci != NULL ? MHD_get_daemon_info(ci->daemon, MHD_DAEMON_INFO_LISTEN_FD) : NULL;
        if (di != NULL && di->listen_fd != MHD_INVALID_SOCKET &&
            getsockname(di->listen_fd, (struct sockaddr *)&ss, &sl) == 0) {
            if (ss.ss_family == AF_INET) {
                const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
                if (inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host)) != NULL)
                    snprintf(buf, sizeof(buf), "%s:%u", host, (unsigned)ntohs(a->sin_port));
            } else if (ss.ss_family == AF_INET6) {
                const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
                if (inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host)) != NULL)
                    snprintf(buf, sizeof(buf), "[%s]:%u", host, (unsigned)ntohs(a->sin6_port));
            } else if (ss.ss_family == AF_UNIX) {
                const struct sockaddr_un *a = (const struct sockaddr_un *)&ss;
                snprintf(buf, sizeof(buf), "unix:%.*s", (int)sizeof(a->sun_path), a->sun_path);
            }
        }
        pthread_mutex_lock(&rq->tb->lock);
        if (atomic_load_explicit(&d->listen_state, memory_order_relaxed) == 0) {
            memcpy(d->listen, buf, sizeof(buf));
            atomic_store_explicit(&d->listen_state, buf[0] != '\0' ? 1 : 2, memory_order_release);
        }
        pthread_mutex_unlock(&rq->tb->lock);
    }
    return atomic_load_explicit(&d->listen_state, memory_order_acquire) == 1 ? d->listen : NULL;
}

/* Every Accept-Encoding line of the request joined (NULL when there is none). */
struct ae_collect {
    struct dtb_buf b;
    int any;
};

static enum MHD_Result collect_ae(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    struct ae_collect *c = cls;
    (void)kind;
    if (key != NULL && strcasecmp(key, MHD_HTTP_HEADER_ACCEPT_ENCODING) == 0) {
        if (c->any)
            dtb_buf_append_str(&c->b, ",");
        dtb_buf_append_str(&c->b, value != NULL ? value : "");
        c->any = 1;
    }
    return MHD_YES;
}

static int client_accepts_identity(struct MHD_Connection *con)
{
    struct ae_collect c = {.any = 0};
    int ok;
    dtb_buf_init(&c.b);
    MHD_get_connection_values(con, MHD_HEADER_KIND, collect_ae, &c);
    ok = dtbi_accepts_identity(c.any ? (c.b.data != NULL ? c.b.data : "") : NULL);
    dtb_buf_free(&c.b);
    return ok;
}

/* With intercept_redirects, a 3xx answer to a browser navigation becomes a small page with the
 * toolbar and a link to the target, so the developer sees the request that redirected. */
static int wants_intercept(struct dtb_request *rq, struct MHD_Connection *con, unsigned status,
                           struct MHD_Response *response)
{
    const char *accept = request_header(con, MHD_HTTP_HEADER_ACCEPT);
    const char *dest = request_header(con, "Sec-Fetch-Dest");
    return rq->tb->cfg.intercept_redirects && status >= 300 && status < 400 && status != 304 &&
           accept != NULL && strstr(accept, "text/html") != NULL &&
           (dest == NULL || strcasecmp(dest, "document") == 0) &&
           MHD_get_response_header(response, MHD_HTTP_HEADER_LOCATION) != NULL;
}

static enum MHD_Result queue_intercepted(struct dtb_request *rq, struct MHD_Connection *con,
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
    out = splice(rq, page, len, dtbi_find_body_end(page, len), NULL, &out_len);
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

/* The app's headers onto the toolbar's copy of its response (copy_header decides which), and
 * the toolbar's own: Cache-Control: no-store when fresh (the page is not the app's bytes),
 * X-Debug-Toolbar-Skip when why_not, Vary: Accept-Encoding when vary_ae and the app's Vary does
 * not cover it, X-Debug-Toolbar-Id and Server-Timing. Returns 0, or -1 (out of memory). */
static int add_headers(struct dtb_request *rq, struct MHD_Response *response,
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

/* A stream (content reader, pipe, large file): the toolbar's streaming copy when the response
 * may be an HTML page, else the app's response as it is. */
static enum MHD_Result queue_stream(struct dtb_request *rq, struct MHD_Connection *con,
                                    unsigned status, struct MHD_Response *response, void *hold,
                                    const struct dtbi_stream_src *src, enum MHD_ResponseFlags flags,
                                    int64_t t0)
{
    const char *ct = MHD_get_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE);
    int html_like, sniff, navigation;
    const char *reason =
        skip_reason(rq, con, status, response, ct, 1, &html_like, &sniff, &navigation);
    struct MHD_Response *copy = NULL;
    char nonce[128];
    struct dtb_buf m;
    enum MHD_Result ret;
    if (reason == NULL && sniff)
        reason = "no Content-Type on a streamed body";
    if (reason == NULL && dtbi_coding_parse(MHD_get_response_header(
                              response, MHD_HTTP_HEADER_CONTENT_ENCODING)) != DTBI_CODING_IDENTITY)
        reason = "Content-Encoding on a streamed body";
    if (reason == NULL && media_type_is(ct, "application/xhtml+xml"))
        reason = "XHTML streamed body (checked as a whole document only)";
    if (reason == NULL && src->size != MHD_SIZE_UNKNOWN && src->size > UINT64_MAX / 2)
        reason = "streamed body of an impossible size";
    if (reason == NULL) {
        const char *csp = MHD_get_response_header(response, "Content-Security-Policy");
        int has_nonce = csp_nonce(csp, nonce, sizeof(nonce));
        dtb_buf_init(&m);
        append_markup(rq, &m, has_nonce ? nonce : NULL);
        if (!m.failed)
            copy = dtbi_stream_response(rq, hold, src, m.data, m.len, !navigation);
        dtb_buf_free(&m);
        if (copy == NULL)
            reason = "out of memory while streaming";
    }
    if (copy != NULL) {
        hold = NULL; /* the copy's now */
        rq->resp.skip_reason = "streamed page not read to its end";
        if ((flags != MHD_RF_NONE &&
             dtbi_real()->set_response_options(copy, flags, MHD_RO_END) != MHD_YES) ||
            add_headers(rq, response, copy, 0, 1, NULL, 0) != 0) {
            dtbi_real()->destroy_response(copy);
            copy = NULL;
            reason = "out of memory while streaming";
        }
    }
    dtbi_respmap_release(hold);
    if (copy == NULL) {
        rq->resp.skip_reason = reason;
        if (html_like)
            dtbi_log_once(reason, "toolbar not injected into an HTML response: %s (e.g. %s %s)",
                          reason, dtb_request_method(rq), dtb_request_path(rq));
        rq->times.toolbar_ns += dtb_now_ns() - t0;
        return dtbi_real()->queue_response(con, status, response);
    }
    dtbi_pending_add(rq->tb, rq->id);
    rq->times.toolbar_ns += dtb_now_ns() - t0;
    ret = dtbi_real()->queue_response(con, status, copy);
    dtbi_real()->destroy_response(copy);
    return ret;
}

enum MHD_Result dtbi_filter_queue(struct dtb_request *rq, struct MHD_Connection *con,
                                  unsigned status, struct MHD_Response *response)
{
    int64_t t0 = dtb_now_ns(), ti = 0;
    const void *body = NULL;
    size_t len = 0, out_len = 0;
    int known, html_like, sniff, navigation;
    enum MHD_ResponseFlags flags = MHD_RF_NONE;
    char *out = NULL;
    char nonce[128];
    const char *ct = MHD_get_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE);
    const char *reason;
    struct MHD_Response *copy = NULL;
    struct page pg = {DTBI_CODING_IDENTITY, NULL, NULL, 0};
    int decoded_out = 0;    /* the injected page goes out without the app's Content-Encoding */
    int is_fd = 0, fd = -1; /* a file-descriptor response (the fd is the response's) */
    uint64_t fd_offset = 0, fd_size = 0;
    char *file_body = NULL; /* its bytes, read when it may be an HTML page */
    int why_not = 0;        /* the copy says why the page has no toolbar */
    void *hold = NULL;      /* on the app's body, while a response of ours may send it */
    int held = 0;           /* copy is the injected page over the app's held body */
    enum MHD_Result ret;

    rq->times.queued_ns = t0;
    rq->daemon = dtb_request_strdup(rq, daemon_address(rq, con));
    rq->resp.status = status;
    rq->resp.content_type = dtb_request_strdup(rq, ct);
    rq->resp.upstream_server_timing =
        dtb_request_strdup(rq, MHD_get_response_header(response, "Server-Timing"));
    if (wants_intercept(rq, con, status, response))
        return queue_intercepted(rq, con, status, response, t0);
    hold = dtbi_respmap_hold(response, &body, &len, &flags);
    known = hold != NULL;
    if (!known)
        is_fd = dtbi_respmap_lookup_fd(response, &fd, &fd_offset, &fd_size, &flags);
    if (!known && (!is_fd || fd_size > BODY_CAP)) {
        /* a content reader, a pipe, or a file too large to read whole: streamed */
        struct dtbi_stream_src src;
        void *sh = dtbi_respmap_hold_stream(response, &src, &flags);
        if (sh != NULL) {
            rq->resp.body_size = src.size != MHD_SIZE_UNKNOWN ? (size_t)src.size : 0;
            return queue_stream(rq, con, status, response, sh, &src, flags, t0);
        }
    }
    rq->resp.body_size = known ? len : is_fd ? (size_t)fd_size : 0;
    reason =
        skip_reason(rq, con, status, response, ct, known || is_fd, &html_like, &sniff, &navigation);
    if (reason == NULL && is_fd) {
        reason = read_file(fd, fd_offset, fd_size, &file_body);
        body = file_body;
        len = (size_t)fd_size;
    }
    if (reason == NULL) {
        pg.body = body;
        pg.len = len;
        reason = body_reason(response, sniff, navigation, &html_like, &pg);
    }
    if (html_like && pg.body != NULL && rq->tb->wants_body &&
        pg.len <= (rq->tb->body_max > 0 ? rq->tb->body_max : BODY_COPY_MAX)) {
        char *copy_of_body = dtb_request_alloc(rq, pg.len + 1);
        if (copy_of_body != NULL) {
            memcpy(copy_of_body, pg.body, pg.len);
            rq->body_copy = copy_of_body;
            rq->body_copy_len = pg.len;
        }
    }
    if (reason == NULL) {
        int xhtml = media_type_is(ct, "application/xhtml+xml");
        const char *csp = MHD_get_response_header(response, "Content-Security-Policy");
        int has_nonce = csp_nonce(csp, nonce, sizeof(nonce));
        ti = dtb_now_ns();
        long at = find_insert_point(rq, pg.body, pg.len, xhtml, &reason);
        if (at >= 0 && known && pg.coding == DTBI_CODING_IDENTITY) {
            /* the app's bytes as they are, with the markup between: no copy */
            copy = held_page_response(rq, hold, pg.body, pg.len, (size_t)at,
                                      has_nonce ? nonce : NULL, &out_len);
            held = copy != NULL;
            if (held)
                hold = NULL; /* the response's now */
        } else if (at >= 0) {
            out = splice(rq, pg.body, pg.len, (size_t)at, has_nonce ? nonce : NULL, &out_len);
        }
        if (at >= 0 && out == NULL && !held)
            reason = "out of memory while injecting";
        if (out != NULL && pg.coding != DTBI_CODING_IDENTITY) {
            /* RFC 9110: unless the client refused identity it takes the page as it is */
            if (client_accepts_identity(con)) {
                decoded_out = 1;
            } else {
                char *enc = NULL;
                size_t enc_len = 0;
                if (dtbi_encode(pg.coding, out, out_len, &enc, &enc_len) != 0) {
                    reason = "out of memory while re-encoding";
                    free(out);
                    out = NULL;
                } else {
                    free(out);
                    out = enc;
                    out_len = enc_len;
                }
            }
        }
        rq->times.inject_ns += dtb_now_ns() - ti;
    }
    free(pg.decoded);
    if (reason != NULL && html_like)
        dtbi_log_once(reason, "toolbar not injected into an HTML response: %s (e.g. %s %s)", reason,
                      dtb_request_method(rq), dtb_request_path(rq));
    rq->resp.skip_reason = reason;
    free(file_body); /* the page went into out, or is served from the file as it is */
    /* An HTML-looking answer to a navigation that still gets no toolbar says why (in a header
     * on the copy, and in the history) */
    why_not = reason != NULL && html_like && is_navigation(con) && (known || is_fd);
    if (why_not)
        rq->why_not = reason;
    if (!known && out == NULL && why_not) {
        /* the file as it is, through the response's own fd (duplicated: ours to close) */
        int dfd = dup(fd);
        copy = dfd >= 0 ? dtb_response_from_fd_at_offset64(fd_size, dfd, fd_offset) : NULL;
        if (copy == NULL && dfd >= 0)
            close(dfd);
    }
    if (!known && out == NULL && copy == NULL) {
        rq->why_not = NULL;
        rq->times.toolbar_ns += dtb_now_ns() - t0;
        return dtbi_real()->queue_response(con, status, response);
    }
    if (held) {
        rq->resp.injected = 1;
        dtbi_pending_add(rq->tb, rq->id);
    } else if (copy != NULL) {
        /* the file's copy, made above */
    } else if (out != NULL) {
        copy = dtbi_real()->from_buffer_with_free_callback(out_len, out, free);
        if (copy == NULL) {
            free(out);
        } else {
            rq->resp.injected = 1;
            dtbi_pending_add(rq->tb, rq->id);
        }
    } else {
        /* the app's bytes, held: the copy owns the hold once it exists */
        copy = dtbi_real()->from_buffer_with_free_callback_cls(len, (void *)(uintptr_t)body,
                                                               dtbi_respmap_release, hold);
        if (copy != NULL)
            hold = NULL;
    }
    if (copy != NULL && flags != MHD_RF_NONE &&
        dtbi_real()->set_response_options(copy, flags, MHD_RO_END) != MHD_YES) {
        dtbi_real()->destroy_response(copy);
        copy = NULL;
    }
    if (copy != NULL && add_headers(rq, response, copy, rq->resp.injected && decoded_out,
                                    rq->resp.injected, why_not ? reason : NULL,
                                    rq->resp.injected && pg.coding != DTBI_CODING_IDENTITY) != 0) {
        dtbi_real()->destroy_response(copy);
        copy = NULL;
    }
    if (copy == NULL) {
        /* Never fail the app's request: serve its own response untouched. */
        rq->degraded = true;
        rq->resp.injected = 0;
        rq->why_not = NULL;
        rq->resp.skip_reason = "out of memory while copying the response";
        rq->times.toolbar_ns += dtb_now_ns() - t0;
        dtbi_respmap_release(hold);
        return dtbi_real()->queue_response(con, status, response);
    }
    rq->times.toolbar_ns += dtb_now_ns() - t0;
    ret = dtbi_real()->queue_response(con, status, copy);
    dtbi_real()->destroy_response(copy);
    dtbi_respmap_release(hold); /* when the copy is not the app's bytes (NULL then is a no-op) */
    return ret;
}
