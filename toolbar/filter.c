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
 *
 * Here: the queueing paths (a whole body, a file, a stream) and the facts about the connection
 * only they need (the daemon's listening address, whether the client takes identity). The
 * guards that decide whether a response gets the toolbar are filter_guards.c; building the
 * toolbar's copy (markup, splice, headers, the intercepted-redirect page) is filter_copy.c.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>
#include <unistd.h>

#include "filter_int.h"

/* Bodies larger than this are not kept for panels that check the page. */
#define BODY_COPY_MAX (4u << 20)

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
        dtbi_skip_reason(rq, con, status, response, ct, 1, &html_like, &sniff, &navigation);
    struct MHD_Response *copy = NULL;
    char nonce[128];
    struct dtb_buf m;
    enum MHD_Result ret;
    if (reason == NULL && sniff)
        reason = "no Content-Type on a streamed body";
    if (reason == NULL && dtbi_coding_parse(MHD_get_response_header(
                              response, MHD_HTTP_HEADER_CONTENT_ENCODING)) != DTBI_CODING_IDENTITY)
        reason = "Content-Encoding on a streamed body";
    if (reason == NULL && dtbi_media_type_is(ct, "application/xhtml+xml"))
        reason = "XHTML streamed body (checked as a whole document only)";
    if (reason == NULL && src->size != MHD_SIZE_UNKNOWN && src->size > UINT64_MAX / 2)
        reason = "streamed body of an impossible size";
    if (reason == NULL) {
        const char *csp = MHD_get_response_header(response, "Content-Security-Policy");
        int has_nonce = dtbi_csp_nonce(csp, nonce, sizeof(nonce));
        dtb_buf_init(&m);
        dtbi_append_markup(rq, &m, has_nonce ? nonce : NULL);
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
            dtbi_add_headers(rq, response, copy, 0, 1, NULL, 0) != 0) {
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
    if (dtbi_wants_intercept(rq, con, status, response))
        return dtbi_queue_intercepted(rq, con, status, response, t0);
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
    reason = dtbi_skip_reason(rq, con, status, response, ct, known || is_fd, &html_like, &sniff,
                              &navigation);
    if (reason == NULL && is_fd) {
        reason = dtbi_read_file(fd, fd_offset, fd_size, &file_body);
        body = file_body;
        len = (size_t)fd_size;
    }
    if (reason == NULL) {
        pg.body = body;
        pg.len = len;
        reason = dtbi_body_reason(response, sniff, navigation, &html_like, &pg);
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
        int xhtml = dtbi_media_type_is(ct, "application/xhtml+xml");
        const char *csp = MHD_get_response_header(response, "Content-Security-Policy");
        int has_nonce = dtbi_csp_nonce(csp, nonce, sizeof(nonce));
        ti = dtb_now_ns();
        long at = dtbi_find_insert_point(rq, pg.body, pg.len, xhtml, &reason);
        if (at >= 0 && known && pg.coding == DTBI_CODING_IDENTITY) {
            /* the app's bytes as they are, with the markup between: no copy */
            copy = dtbi_held_page_response(rq, hold, pg.body, pg.len, (size_t)at,
                                           has_nonce ? nonce : NULL, &out_len);
            held = copy != NULL;
            if (held)
                hold = NULL; /* the response's now */
        } else if (at >= 0) {
            out = dtbi_splice(rq, pg.body, pg.len, (size_t)at, has_nonce ? nonce : NULL, &out_len);
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
    why_not = reason != NULL && html_like && dtbi_is_navigation(con) && (known || is_fd);
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
    if (copy != NULL &&
        dtbi_add_headers(rq, response, copy, rq->resp.injected && decoded_out, rq->resp.injected,
                         why_not ? reason : NULL,
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
