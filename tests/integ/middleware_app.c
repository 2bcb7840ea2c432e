/*
 * middleware_app.c - the app of the middleware's integration tests (see middleware_app.h) and
 * the server that wraps it with the toolbar on an ephemeral loopback port.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "middleware_app.h"

const char PAGE[] = "<!DOCTYPE html><html><head><title>T</title></head>"
                    "<body><p>hello</p><script>var s = \"</body>\";</script></body></html>";
const char JSON_BODY[] = "{\"cats\": [1, 2, 3]}";

struct MHD_Response *reused; /* created once, queued on every /reused request */
atomic_int completed_calls;
atomic_int req_cls_mismatch;
static char uri_log_marker;
static char handler_marker;

static void *app_uri_log(void *cls, const char *uri, struct MHD_Connection *con)
{
    return &uri_log_marker;
}

static void app_completed(void *cls, struct MHD_Connection *con, void **req_cls,
                          enum MHD_RequestTerminationCode toe)
{
    /* The app's value: set by its handler, or still its URI-log value for requests that
     * never reached it (the toolbar's own URLs). Never the toolbar's record. */
    if (*req_cls != &handler_marker && *req_cls != &uri_log_marker)
        atomic_fetch_add(&req_cls_mismatch, 1);
    atomic_fetch_add(&completed_calls, 1);
}

static ssize_t stream_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
    static const char body[] = "<html><body>streamed</body></html>";
    if (pos >= sizeof(body) - 1)
        return MHD_CONTENT_READER_END_OF_STREAM;
    size_t n = sizeof(body) - 1 - (size_t)pos;
    if (n > max)
        n = max;
    memcpy(buf, body + pos, n);
    return (ssize_t)n;
}

/* /s/<page><chunking><size>: a page streamed by a content reader. page: d (a document whose
 * real </body> follows a "</body>" in a script string), s (ends inside a script), f (a stray
 * end tag, then text: not a document's start); chunking: 1 (one byte a call), r (1 to 37
 * bytes, a fixed sequence), w (all it may); size: k (known) or u (unknown: chunked). The reader's
 * closure is checked on every call and its free callback counts itself once. */
const char *const STREAM_PAGES[] = {
    "<!DOCTYPE html><html><body><p>streamed</p><script>var s = '</body>';</script></body></html>\n",
    "<!DOCTYPE html><html><body><p>streamed</p><script>var x = 1;",
    "</div>Hello, <b>streamed</b> world",
};
#define STREAM_MAGIC 0x5eedf00dU
struct stream_src {
    unsigned magic;
    const char *page;
    size_t len, step;
    char chunking;
};
atomic_int stream_frees, stream_bad_cls;

static ssize_t stream_src_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream_src *ss = cls;
    if (ss->magic != STREAM_MAGIC) {
        atomic_fetch_add(&stream_bad_cls, 1);
        return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    if (pos >= ss->len)
        return MHD_CONTENT_READER_END_OF_STREAM;
    size_t n = ss->len - (size_t)pos;
    if (ss->chunking == '1')
        n = 1;
    else if (ss->chunking == 'r' && n > 1 + (ss->step * 7919u) % 37)
        n = 1 + (ss->step * 7919u) % 37;
    ss->step++;
    if (n > max)
        n = max;
    memcpy(buf, ss->page + pos, n);
    return (ssize_t)n;
}

static void stream_src_free(void *cls)
{
    struct stream_src *ss = cls;
    if (ss->magic != STREAM_MAGIC)
        atomic_fetch_add(&stream_bad_cls, 1);
    ss->magic = 0;
    free(ss);
    atomic_fetch_add(&stream_frees, 1);
}

static enum MHD_Result stream_page(struct MHD_Connection *con, const char *spec)
{
    struct stream_src *ss = calloc(1, sizeof(*ss));
    int which = spec[0] == 'd' ? 0 : spec[0] == 's' ? 1 : 2;
    ss->magic = STREAM_MAGIC;
    ss->page = STREAM_PAGES[which];
    ss->len = strlen(ss->page);
    ss->chunking = spec[1];
    struct MHD_Response *r = MHD_create_response_from_callback(
        spec[2] == 'k' ? ss->len : MHD_SIZE_UNKNOWN, 1024, stream_src_read, ss, stream_src_free);
    MHD_add_response_header(r, "Content-Type", "text/html; charset=utf-8");
    enum MHD_Result ret = MHD_queue_response(con, 200, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result reply(struct MHD_Connection *con, unsigned status, const char *ctype,
                             const char *body, const char *hname, const char *hvalue)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;
    if (ctype != NULL)
        MHD_add_response_header(r, "Content-Type", ctype);
    if (hname != NULL)
        MHD_add_response_header(r, hname, hvalue);
    ret = MHD_queue_response(con, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result app(void *cls, struct MHD_Connection *con, const char *url,
                           const char *method, const char *version, const char *upload_data,
                           size_t *upload_data_size, void **req_cls)
{
    if (*req_cls == &uri_log_marker) {
        *req_cls = &handler_marker;
        if (strcmp(method, "POST") == 0)
            return MHD_YES;
    } else if (*req_cls != &handler_marker) {
        atomic_fetch_add(&req_cls_mismatch, 1);
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0; /* the app consumes its upload */
        return MHD_YES;
    }
    if (strcmp(url, "/page") == 0 || strcmp(url, "/form") == 0)
        return reply(con, 200, "text/html; charset=utf-8", PAGE, NULL, NULL);
    if (strcmp(url, "/json") == 0)
        return reply(con, 200, "application/json", JSON_BODY, NULL, NULL);
    if (strcmp(url, "/fragment") == 0)
        return reply(con, 200, "text/html", "<p>fragment</p>", NULL, NULL);
    if (strcmp(url, "/textfirst") == 0)
        return reply(con, 200, "text/html", "</div>Hello, <b>world</b>", NULL, NULL);
    if (strcmp(url, "/gzip") == 0)
        return reply(con, 200, "text/html", "<html><body>x</body></html>", "Content-Encoding",
                     "gzip");
    if (strcmp(url, "/csp") == 0)
        return reply(con, 200, "text/html", PAGE, "Content-Security-Policy",
                     "default-src 'self'; script-src 'self' 'nonce-abc123=='");
    if (strcmp(url, "/nocontent") == 0)
        return reply(con, 204, "text/html", "", NULL, NULL);
    if (strcmp(url, "/notmodified") == 0)
        return reply(con, 304, "text/html", "", NULL, NULL);
    if (strcmp(url, "/redirect") == 0)
        return reply(con, 302, "text/html", "<html><body>moved</body></html>", "Location", "/page");
    if (strcmp(url, "/reused") == 0)
        return MHD_queue_response(con, 200, reused);
    if (strcmp(url, "/large") == 0) {
        /* a page of LARGE_LINES numbered lines, handed over MUST_FREE and destroyed at once:
         * the toolbar's response sends these bytes long after the app let go of them */
        char *big = malloc((size_t)LARGE_LINES * 18 + 64); /* "<p>%010d</p>\n" is 18 bytes */
        size_t n = (size_t)sprintf(big, "<html><body>");
        for (int i = 0; i < LARGE_LINES; i++)
            n += (size_t)sprintf(big + n, "<p>%010d</p>\n", i);
        n += (size_t)sprintf(big + n, "</body></html>");
        struct MHD_Response *r = MHD_create_response_from_buffer(n, big, MHD_RESPMEM_MUST_FREE);
        MHD_add_response_header(r, "Content-Type", "text/html");
        enum MHD_Result ret = MHD_queue_response(con, 200, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (strncmp(url, "/s/", 3) == 0 && strlen(url) == 6)
        return stream_page(con, url + 3);
    if (strcmp(url, "/bigfd") == 0) {
        /* a 17 MiB HTML file (past the 16 MiB read cap: streamed), mostly a sparse hole */
        static const char head[] = "<!DOCTYPE html><html><body><pre>",
                          tail[] = "</pre></body></html>";
        FILE *f = tmpfile();
        if (f == NULL)
            return MHD_NO;
        int fd = dup(fileno(f));
        fclose(f);
        if (fd < 0 || pwrite(fd, head, sizeof(head) - 1, 0) < 0 ||
            pwrite(fd, tail, sizeof(tail) - 1, BIGFD_SIZE - (sizeof(tail) - 1)) < 0)
            return MHD_NO;
        struct MHD_Response *r = MHD_create_response_from_fd(BIGFD_SIZE, fd);
        MHD_add_response_header(r, "Content-Type", "text/html");
        enum MHD_Result ret = MHD_queue_response(con, 200, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (strcmp(url, "/pipe") == 0) {
        int p[2];
        if (pipe(p) != 0)
            return MHD_NO;
        const char *page = STREAM_PAGES[0];
        if (write(p[1], page, strlen(page)) != (ssize_t)strlen(page)) /* fits the pipe */
            return MHD_NO;
        close(p[1]);
        struct MHD_Response *r = MHD_create_response_from_pipe(p[0]);
        MHD_add_response_header(r, "Content-Type", "text/html");
        enum MHD_Result ret = MHD_queue_response(con, 200, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (strcmp(url, "/stream") == 0) {
        struct MHD_Response *r =
            MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64, stream_cb, NULL, NULL);
        MHD_add_response_header(r, "Content-Type", "text/html");
        enum MHD_Result ret = MHD_queue_response(con, 200, r);
        MHD_destroy_response(r);
        return ret;
    }
    return reply(con, 404, "text/html", "<html><body>not found</body></html>", NULL, NULL);
}

static unsigned mode_flags(int mode)
{
    switch (mode) {
    case 1:
        return MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION;
    default:
        return MHD_USE_INTERNAL_POLLING_THREAD;
    }
}

void server_start(struct server *s, const char *config, int mode)
{
    struct dtb_error err = {0};
    char msg[256];
    static const char page[] = "<html><body><h1>reused</h1></body></html>";
    memset(s, 0, sizeof(*s));
    s->tb = dtb_toolbar_create_from_string(config, "test-config", &err);
    ck_assert_msg(s->tb != NULL, "create: %s", dtb_error_format(&err, msg, sizeof(msg)));
    ck_assert_int_eq(dtb_toolbar_start(s->tb, &err), DTB_OK);
    reused =
        MHD_create_response_from_buffer(sizeof(page) - 1, (void *)page, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(reused, "Content-Type", "text/html");
    MHD_add_response_header(reused, "X-App", "kept");
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (mode == 2)
        s->d = dtb_start_daemon(s->tb, mode_flags(mode), 0, NULL, NULL, app, NULL,
                                MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_THREAD_POOL_SIZE, 3,
                                MHD_OPTION_URI_LOG_CALLBACK, app_uri_log, NULL,
                                MHD_OPTION_NOTIFY_COMPLETED, app_completed, NULL, MHD_OPTION_END);
    else
        s->d = dtb_start_daemon(s->tb, mode_flags(mode), 0, NULL, NULL, app, NULL,
                                MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_URI_LOG_CALLBACK, app_uri_log,
                                NULL, MHD_OPTION_NOTIFY_COMPLETED, app_completed, NULL,
                                MHD_OPTION_END);
    ck_assert_ptr_nonnull(s->d);
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%u", (unsigned)di->port);
}

void server_stop(struct server *s)
{
    MHD_stop_daemon(s->d);
    MHD_destroy_response(reused);
    reused = NULL;
    dtb_toolbar_destroy(s->tb);
}

int get(struct server *s, const char *path, struct http_resp *r)
{
    char url[512];
    snprintf(url, sizeof(url), "%s%s", s->base, path);
    return http_get(url, r);
}

int req(struct server *s, const char *method, const char *path, const char *const *hdrs,
        const char *body, struct http_resp *r)
{
    char url[512];
    snprintf(url, sizeof(url), "%s%s", s->base, path);
    return http_request(method, url, hdrs, body, r);
}

int get_record(struct server *s, const char *id, struct http_resp *r)
{
    char path[256];
    snprintf(path, sizeof(path), "/_debug_toolbar/api/requests/%s", id);
    for (int i = 0; i < 1000; i++) {
        if (get(s, path, r) == 0 && r->status == 200)
            return 0;
        http_resp_free(r);
        usleep(10000);
    }
    return -1;
}

const char *ENABLED = "{\"enabled\": true}";

int g_mode;
