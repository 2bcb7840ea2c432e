/*
 * test_middleware.c - integration tests: a small MHD app wrapped by the toolbar, on an
 * ephemeral loopback port, spoken to over real HTTP with libcurl.
 *
 * Covers the request lifecycle in MHD's three threading modes, injection and its guards, the
 * toolbar's URLs, the host check and the disabled mode, chaining of the app's own callbacks,
 * and responses the app reuses.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <debugtoolbar.h>
#include <debugtoolbar/mhd.h>
#include <microhttpd.h>

#include "http.h"

#define LARGE_LINES 200000 /* a 3.6 MB page */
#define ROOT_TAG "<dtb-toolbar id=\"dtb-root\""

static const char PAGE[] = "<!DOCTYPE html><html><head><title>T</title></head>"
                           "<body><p>hello</p><script>var s = \"</body>\";</script></body></html>";
static const char JSON_BODY[] = "{\"cats\": [1, 2, 3]}";

static struct MHD_Response *reused; /* created once, queued on every /reused request */
static atomic_int completed_calls;
static atomic_int req_cls_mismatch;
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
static const char *const STREAM_PAGES[] = {
    "<!DOCTYPE html><html><body><p>streamed</p><script>var s = '</body>';</script></body></html>\n",
    "<!DOCTYPE html><html><body><p>streamed</p><script>var x = 1;",
    "</div>Hello, <b>streamed</b> world",
};
#define STREAM_MAGIC 0x5eedf00dU
#define BIGFD_SIZE ((size_t)17 << 20)
struct stream_src {
    unsigned magic;
    const char *page;
    size_t len, step;
    char chunking;
};
static atomic_int stream_frees, stream_bad_cls;

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

struct server {
    struct dtb_toolbar *tb;
    struct MHD_Daemon *d;
    char base[64];
};

static unsigned mode_flags(int mode)
{
    switch (mode) {
    case 1:
        return MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION;
    default:
        return MHD_USE_INTERNAL_POLLING_THREAD;
    }
}

static void server_start(struct server *s, const char *config, int mode)
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

static void server_stop(struct server *s)
{
    MHD_stop_daemon(s->d);
    MHD_destroy_response(reused);
    reused = NULL;
    dtb_toolbar_destroy(s->tb);
}

static int get(struct server *s, const char *path, struct http_resp *r)
{
    char url[512];
    snprintf(url, sizeof(url), "%s%s", s->base, path);
    return http_get(url, r);
}

static int req(struct server *s, const char *method, const char *path, const char *const *hdrs,
               const char *body, struct http_resp *r)
{
    char url[512];
    snprintf(url, sizeof(url), "%s%s", s->base, path);
    return http_request(method, url, hdrs, body, r);
}

/* The stored record for id, waiting for completion (stored after the last byte is sent). */
static int get_record(struct server *s, const char *id, struct http_resp *r)
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

static const char *ENABLED = "{\"enabled\": true}";

static int g_mode;

static void check_injection(struct server *s)
{
    struct http_resp r;
    ck_assert_int_eq(get(s, "/page", &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(http_count(&r, ROOT_TAG), 1);
    /* right before the real </body>, not the one in the script string */
    const char *at = strstr(r.body, ROOT_TAG);
    const char *tail = strstr(at, "</script></body></html>");
    ck_assert_ptr_nonnull(tail);
    ck_assert_ptr_nonnull(strstr(r.body, "var s = \"</body>\";"));
    char *cl = http_header(&r, "Content-Length");
    ck_assert_ptr_nonnull(cl);
    ck_assert_uint_eq(strtoul(cl, NULL, 10), r.len);
    char *id = http_header(&r, "X-Debug-Toolbar-Id");
    ck_assert_ptr_nonnull(id);
    ck_assert_uint_eq(strlen(id), 16);
    char expect[64];
    snprintf(expect, sizeof(expect), "data-id=\"%s\"", id);
    ck_assert_ptr_nonnull(strstr(r.body, expect));
    char *st = http_header(&r, "Server-Timing");
    ck_assert_ptr_nonnull(st);
    ck_assert_ptr_nonnull(strstr(st, "dur="));
    /* page bytes outside the snippet are the app's, unchanged */
    size_t before = (size_t)(at - r.body);
    ck_assert_int_eq(memcmp(r.body, PAGE, before), 0);
    const char *rest = strstr(at, "</script>") + strlen("</script>");
    ck_assert_str_eq(rest, PAGE + before);
    http_resp_free(&r);

    /* the record is in the history and its panels render */
    struct http_resp rec;
    ck_assert_int_eq(get_record(s, id, &rec), 0);
    json_t *j = json_loads(rec.body, 0, NULL);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(json_string_value(json_object_get(j, "path")), "/page");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "status")), 200);
    ck_assert(json_is_object(json_object_get(json_object_get(j, "panels"), "timer")));
    ck_assert(json_array_size(json_object_get(j, "nav")) >= 4);
    json_decref(j);
    http_resp_free(&rec);
    char path[256];
    snprintf(path, sizeof(path), "/_debug_toolbar/api/requests/%s/panels/headers", id);
    ck_assert_int_eq(get(s, path, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "<table"));
    http_resp_free(&r);
    free(id);
    free(cl);
    free(st);
}

START_TEST(test_lifecycle_modes)
{
    struct server s;
    atomic_store(&completed_calls, 0);
    atomic_store(&req_cls_mismatch, 0);
    server_start(&s, ENABLED, _i);
    for (int i = 0; i < 3; i++)
        check_injection(&s);
    server_stop(&s);
    /* the app's own callbacks ran for every request, with its own req_cls */
    ck_assert_int_ge(atomic_load(&completed_calls), 3);
    ck_assert_int_eq(atomic_load(&req_cls_mismatch), 0);
}
END_TEST

START_TEST(test_json_untouched_with_headers)
{
    struct server s;
    struct http_resp r;
    server_start(&s, ENABLED, g_mode);
    ck_assert_int_eq(get(&s, "/json", &r), 0);
    ck_assert_str_eq(r.body, JSON_BODY);
    char *id = http_header(&r, "X-Debug-Toolbar-Id");
    ck_assert_ptr_nonnull(id);
    http_resp_free(&r);
    struct http_resp rec;
    ck_assert_int_eq(get_record(&s, id, &rec), 0);
    ck_assert_ptr_nonnull(strstr(rec.body, "not an HTML content type"));
    http_resp_free(&rec);
    free(id);
    server_stop(&s);
}
END_TEST

/* GET path: answered status, and its record says the toolbar was not injected, for reason. */
static void check_not_injected(struct server *s, const char *path, long status, const char *reason)
{
    struct http_resp r, rec;
    ck_assert_int_eq(get(s, path, &r), 0);
    ck_assert_int_eq(r.status, status);
    ck_assert_uint_eq(r.len, 0);
    char *id = http_header(&r, "X-Debug-Toolbar-Id");
    ck_assert_msg(id != NULL, "%s: no X-Debug-Toolbar-Id", path);
    http_resp_free(&r);
    ck_assert_int_eq(get_record(s, id, &rec), 0);
    json_t *j = json_loads(rec.body, 0, NULL);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(json_string_value(json_object_get(j, "id")), id);
    ck_assert_str_eq(json_string_value(json_object_get(j, "path")), path);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "status")), status);
    ck_assert_msg(json_is_false(json_object_get(j, "injected")), "%s: recorded as injected", path);
    ck_assert_msg(json_is_string(json_object_get(j, "skip_reason")), "%s: no skip_reason", path);
    ck_assert_str_eq(json_string_value(json_object_get(j, "skip_reason")), reason);
    json_decref(j);
    http_resp_free(&rec);
    free(id);
}

START_TEST(test_guards)
{
    struct server s;
    struct http_resp r;
    server_start(&s, ENABLED, g_mode);
    /* an htmx-style fetch of a fragment stays clean */
    const char *fetch[] = {"Sec-Fetch-Dest: empty", NULL};
    ck_assert_int_eq(req(&s, "GET", "/page", fetch, NULL, &r), 0);
    ck_assert_str_eq(r.body, PAGE);
    http_resp_free(&r);
    const char *xhr[] = {"X-Requested-With: XMLHttpRequest", NULL};
    ck_assert_int_eq(req(&s, "GET", "/page", xhr, NULL, &r), 0);
    ck_assert_str_eq(r.body, PAGE);
    http_resp_free(&r);
    ck_assert_int_eq(get(&s, "/fragment", &r), 0);
    ck_assert_uint_eq(http_count(&r, ROOT_TAG), 1); /* a document request: appended */
    http_resp_free(&r);
    /* text first (and a stray end tag): a browser navigation renders it as a page, so with
     * Sec-Fetch-Dest: document (or iframe) it gets the toolbar; without the header it is not
     * taken for a document */
    const char *nav[] = {"Sec-Fetch-Dest: document", NULL};
    const char *frame[] = {"Sec-Fetch-Dest: iframe", NULL};
    ck_assert_int_eq(req(&s, "GET", "/textfirst", nav, NULL, &r), 0);
    ck_assert_uint_eq(http_count(&r, ROOT_TAG), 1);
    ck_assert_ptr_nonnull(strstr(r.body, "</div>Hello, <b>world</b>" ROOT_TAG));
    http_resp_free(&r);
    ck_assert_int_eq(req(&s, "GET", "/textfirst", frame, NULL, &r), 0);
    ck_assert_uint_eq(http_count(&r, ROOT_TAG), 1);
    http_resp_free(&r);
    ck_assert_int_eq(get(&s, "/textfirst", &r), 0);
    ck_assert_str_eq(r.body, "</div>Hello, <b>world</b>");
    char *tid = http_header(&r, "X-Debug-Toolbar-Id");
    ck_assert_ptr_nonnull(tid);
    http_resp_free(&r);
    struct http_resp trec;
    ck_assert_int_eq(get_record(&s, tid, &trec), 0);
    ck_assert_ptr_nonnull(strstr(trec.body, "body does not start like an HTML document"));
    http_resp_free(&trec);
    free(tid);
    ck_assert_int_eq(get(&s, "/gzip", &r), 0);
    ck_assert_str_eq(r.body, "<html><body>x</body></html>");
    http_resp_free(&r);
    /* 204 and 304 have no body (MHD drops one anyway): the toolbar must know it and skip them */
    check_not_injected(&s, "/nocontent", 204, "status without a body");
    check_not_injected(&s, "/notmodified", 304, "status without a body");
    ck_assert_int_eq(get(&s, "/redirect", &r), 0);
    ck_assert_int_eq(r.status, 302);
    ck_assert_str_eq(r.body, "<html><body>moved</body></html>");
    http_resp_free(&r);
    ck_assert_int_eq(get(&s, "/stream", &r), 0); /* streamed: the toolbar as it streams by */
    ck_assert_uint_eq(http_count(&r, ROOT_TAG), 1);
    ck_assert_ptr_nonnull(strstr(r.body, "\"></script></body></html>"));
    http_resp_free(&r);
    /* 404 pages are documents too */
    ck_assert_int_eq(get(&s, "/missing", &r), 0);
    ck_assert_int_eq(r.status, 404);
    ck_assert_uint_eq(http_count(&r, ROOT_TAG), 1);
    http_resp_free(&r);
    server_stop(&s);
}
END_TEST

START_TEST(test_head_same_length)
{
    struct server s;
    struct http_resp g, h;
    server_start(&s, ENABLED, g_mode);
    ck_assert_int_eq(get(&s, "/page", &g), 0);
    ck_assert_int_eq(req(&s, "HEAD", "/page", NULL, NULL, &h), 0);
    char *gl = http_header(&g, "Content-Length"), *hl = http_header(&h, "Content-Length");
    ck_assert_ptr_nonnull(gl);
    ck_assert_ptr_nonnull(hl);
    ck_assert_str_eq(gl, hl);
    ck_assert_uint_eq(h.len, 0);
    free(gl);
    free(hl);
    http_resp_free(&g);
    http_resp_free(&h);
    server_stop(&s);
}
END_TEST

START_TEST(test_reused_response)
{
    struct server s;
    struct http_resp r;
    server_start(&s, ENABLED, g_mode);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(get(&s, "/reused", &r), 0);
        ck_assert_int_eq(r.status, 200);
        ck_assert_uint_eq(http_count(&r, ROOT_TAG), 1);
        char *x = http_header(&r, "X-App");
        ck_assert_ptr_nonnull(x);
        ck_assert_str_eq(x, "kept");
        free(x);
        http_resp_free(&r);
    }
    /* the app's object still holds only its own headers */
    ck_assert_ptr_null(MHD_get_response_header(reused, "X-Debug-Toolbar-Id"));
    server_stop(&s);
}
END_TEST

/* The injected page is sent from the app's own bytes (no copy): they must stay intact until
 * the last byte is sent, though the app destroyed its response right after queueing it. Under
 * AddressSanitizer a body freed too early is a use after free. */
START_TEST(test_large_page_intact)
{
    struct server s;
    struct http_resp r;
    char line[32];
    server_start(&s, ENABLED, _i);
    for (int k = 0; k < 2; k++) {
        ck_assert_int_eq(get(&s, "/large", &r), 0);
        ck_assert_int_eq(r.status, 200);
        ck_assert_uint_eq(http_count(&r, ROOT_TAG), 1);
        const char *at = strstr(r.body, ROOT_TAG);
        ck_assert_ptr_nonnull(strstr(at, "</body></html>"));
        /* every line, in order, before the toolbar */
        const char *p = r.body + strlen("<html><body>");
        for (int i = 0; i < LARGE_LINES; i++) {
            snprintf(line, sizeof(line), "<p>%010d</p>\n", i);
            ck_assert_msg(strncmp(p, line, strlen(line)) == 0, "line %d differs", i);
            p += strlen(line);
        }
        ck_assert_ptr_eq(p, at);
        http_resp_free(&r);
    }
    server_stop(&s);
}
END_TEST

/* The record of a response: injected, and its skip reason ("" when none). */
static void record_says(struct server *s, struct http_resp *r, int injected, const char *reason)
{
    struct http_resp rec;
    char *id = http_header(r, "X-Debug-Toolbar-Id");
    ck_assert_ptr_nonnull(id);
    ck_assert_int_eq(get_record(s, id, &rec), 0);
    json_t *j = json_loads(rec.body, 0, NULL);
    ck_assert_ptr_nonnull(j);
    const char *why = json_string_value(json_object_get(j, "skip_reason"));
    ck_assert_msg(json_is_true(json_object_get(j, "injected")) == injected, "injected %d: %s",
                  json_is_true(json_object_get(j, "injected")), why != NULL ? why : "");
    ck_assert_str_eq(why != NULL ? why : "", reason);
    json_decref(j);
    http_resp_free(&rec);
    free(id);
}

/* A streamed page in every chunking, known size or not: the toolbar right before the real
 * </body>, or (page ending inside a script, a fragment) no toolbar and the reason recorded; the
 * app's bytes otherwise exactly its own; Content-Length right; the app's reader always called
 * with its closure, its free callback once per response. */
START_TEST(test_streams)
{
    struct server s;
    struct http_resp r;
    char path[16];
    const char *nav[] = {"Sec-Fetch-Dest: document", NULL};
    server_start(&s, ENABLED, _i);
    atomic_store(&stream_frees, 0);
    atomic_store(&stream_bad_cls, 0);
    int requests = 0;
    for (const char *c = "1rw"; *c != '\0'; c++) {
        for (const char *z = "ku"; *z != '\0'; z++) {
            /* the document: exactly one toolbar, before the last </body> */
            snprintf(path, sizeof(path), "/s/d%c%c", *c, *z);
            ck_assert_int_eq(get(&s, path, &r), 0);
            requests++;
            const char *page = STREAM_PAGES[0];
            ck_assert_uint_eq(http_count(&r, ROOT_TAG), 1);
            const char *at = strstr(r.body, ROOT_TAG);
            const char *real_end = strstr(page, "</body></html>");
            ck_assert_int_eq((int)(at - r.body), (int)(real_end - page));
            ck_assert_int_eq(memcmp(r.body, page, (size_t)(at - r.body)), 0);
            const char *after = strstr(at, "</script>") + 9;
            ck_assert_str_eq(after, real_end);
            char *cl = http_header(&r, "Content-Length");
            if (*z == 'k') {
                ck_assert_ptr_nonnull(cl);
                ck_assert_uint_eq(strtoul(cl, NULL, 10), r.len);
            }
            free(cl);
            record_says(&s, &r, 1, "");
            http_resp_free(&r);
            /* a page ending inside a script: untouched but for spaces owed to a known size */
            snprintf(path, sizeof(path), "/s/s%c%c", *c, *z);
            ck_assert_int_eq(get(&s, path, &r), 0);
            requests++;
            size_t n = strlen(STREAM_PAGES[1]);
            ck_assert_int_eq(memcmp(r.body, STREAM_PAGES[1], n), 0);
            ck_assert_uint_eq(http_count(&r, ROOT_TAG), 0);
            for (size_t i = n; i < r.len; i++)
                ck_assert_int_eq(r.body[i], ' ');
            ck_assert_msg(*z == 'k' ? r.len > n : r.len == n, "%s: %zu bytes", path, r.len);
            record_says(&s, &r, 0, "page ends inside <script>");
            http_resp_free(&r);
            /* a fragment, not asked for as a document: passed through */
            snprintf(path, sizeof(path), "/s/f%c%c", *c, *z);
            ck_assert_int_eq(get(&s, path, &r), 0);
            requests++;
            ck_assert_int_eq(strncmp(r.body, STREAM_PAGES[2], strlen(STREAM_PAGES[2])), 0);
            ck_assert_uint_eq(http_count(&r, ROOT_TAG), 0);
            record_says(&s, &r, 0, "body does not start like an HTML document");
            http_resp_free(&r);
            /* ...but a browser navigation renders it as a page: the toolbar at its end */
            ck_assert_int_eq(req(&s, "GET", path, nav, NULL, &r), 0);
            requests++;
            ck_assert_uint_eq(http_count(&r, ROOT_TAG), 1);
            ck_assert_int_eq(strncmp(r.body, STREAM_PAGES[2], strlen(STREAM_PAGES[2])), 0);
            record_says(&s, &r, 1, "");
            http_resp_free(&r);
        }
    }
    /* a file past the read cap: streamed, the toolbar before its </body>, its size grown */
    ck_assert_int_eq(get(&s, "/bigfd", &r), 0);
    record_says(&s, &r, 1, "");
    ck_assert_uint_gt(r.len, BIGFD_SIZE);
    ck_assert_int_eq(memcmp(r.body, "<!DOCTYPE html><html><body><pre>", 32), 0);
    static const char end[] = "</pre><dtb-toolbar id=\"dtb-root\"";
    const char *mark =
        memmem(r.body + BIGFD_SIZE - 100, r.len - (BIGFD_SIZE - 100), end, sizeof(end) - 1);
    ck_assert_msg(mark != NULL, "len %zu, ends %.60s", r.len, r.body + r.len - 60);
    ck_assert_int_eq((int)(mark - r.body), (int)(BIGFD_SIZE - 20)); /* where </pre> was */
    ck_assert_str_eq(r.body + r.len - 23, "</script></body></html>");
    record_says(&s, &r, 1, "");
    http_resp_free(&r);
    /* a pipe */
    ck_assert_int_eq(get(&s, "/pipe", &r), 0);
    ck_assert_uint_eq(http_count(&r, ROOT_TAG), 1);
    ck_assert_int_eq((int)(strstr(r.body, ROOT_TAG) - r.body),
                     (int)(strstr(STREAM_PAGES[0], "</body></html>") - STREAM_PAGES[0]));
    http_resp_free(&r);
    server_stop(&s);
    ck_assert_int_eq(atomic_load(&stream_bad_cls), 0);
    ck_assert_int_eq(atomic_load(&stream_frees), requests);
}
END_TEST

START_TEST(test_csp_nonce)
{
    struct server s;
    struct http_resp r;
    server_start(&s, ENABLED, g_mode);
    ck_assert_int_eq(get(&s, "/csp", &r), 0);
    ck_assert_ptr_nonnull(strstr(r.body, "nonce=\"abc123==\""));
    http_resp_free(&r);
    server_stop(&s);
}
END_TEST

START_TEST(test_form_recorded_and_redacted)
{
    struct server s;
    struct http_resp r, rec;
    server_start(&s, ENABLED, g_mode);
    const char *h[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    ck_assert_int_eq(req(&s, "POST", "/form", h, "user=<b>bob</b>&password=hunter2", &r), 0);
    char *id = http_header(&r, "X-Debug-Toolbar-Id");
    ck_assert_ptr_nonnull(id);
    ck_assert_int_eq(get_record(&s, id, &rec), 0);
    ck_assert_ptr_null(strstr(rec.body, "hunter2"));
    ck_assert_ptr_nonnull(strstr(rec.body, "<b>bob</b>"));
    http_resp_free(&rec);
    char path[256];
    snprintf(path, sizeof(path), "/_debug_toolbar/api/requests/%s/panels/request", id);
    ck_assert_int_eq(get(&s, path, &rec), 0);
    ck_assert_ptr_null(strstr(rec.body, "<b>bob"));
    ck_assert_ptr_nonnull(strstr(rec.body, "&lt;b&gt;bob"));
    http_resp_free(&rec);
    free(id);
    http_resp_free(&r);
    server_stop(&s);
}
END_TEST

START_TEST(test_toolbar_urls)
{
    struct server s;
    struct http_resp r;
    server_start(&s, ENABLED, g_mode);
    ck_assert_int_eq(get(&s, "/page", &r), 0);
    char *id = http_header(&r, "X-Debug-Toolbar-Id");
    http_resp_free(&r);
    struct http_resp rec;
    ck_assert_int_eq(get_record(&s, id, &rec), 0);
    http_resp_free(&rec);
    ck_assert_int_eq(get(&s, "/_debug_toolbar/api/requests", &r), 0);
    ck_assert_int_eq(r.status, 200);
    json_t *list = json_loads(r.body, 0, NULL);
    ck_assert(json_is_array(list));
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 0), "id")), id);
    json_decref(list);
    http_resp_free(&r);
    ck_assert_int_eq(get(&s, "/_debug_toolbar/api/requests/0123456789abcdef", &r), 0);
    ck_assert_int_eq(r.status, 404);
    ck_assert_ptr_nonnull(strstr(r.body, "\"error\""));
    http_resp_free(&r);
    ck_assert_int_eq(get(&s, "/_debug_toolbar/static/toolbar.js", &r), 0);
    ck_assert_int_eq(r.status, 200);
    char *etag = http_header(&r, "ETag");
    ck_assert_ptr_nonnull(etag);
    http_resp_free(&r);
    char inm[128];
    snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
    const char *h[] = {inm, NULL};
    ck_assert_int_eq(req(&s, "GET", "/_debug_toolbar/static/toolbar.js", h, NULL, &r), 0);
    ck_assert_int_eq(r.status, 304);
    http_resp_free(&r);
    ck_assert_int_eq(get(&s, "/_debug_toolbar/static/../../etc/passwd", &r), 0);
    ck_assert_int_eq(r.status, 404);
    ck_assert_ptr_null(strstr(r.body, "root:"));
    http_resp_free(&r);
    free(etag);
    free(id);
    server_stop(&s);
}
END_TEST

START_TEST(test_host_not_allowed)
{
    struct server s;
    struct http_resp r;
    server_start(&s, "{\"enabled\": true, \"hosts\": [\"10.0.0.0/8\"]}", g_mode);
    ck_assert_int_eq(get(&s, "/page", &r), 0);
    ck_assert_str_eq(r.body, PAGE);
    char *id = http_header(&r, "X-Debug-Toolbar-Id");
    ck_assert_ptr_null(id);
    http_resp_free(&r);
    /* the toolbar's URLs are the app's own for this client */
    ck_assert_int_eq(get(&s, "/_debug_toolbar/api/requests", &r), 0);
    ck_assert_int_eq(r.status, 404);
    ck_assert_ptr_nonnull(strstr(r.body, "not found"));
    http_resp_free(&r);
    server_stop(&s);
}
END_TEST

START_TEST(test_disabled)
{
    struct server s;
    struct http_resp r;
    server_start(&s, "{\"enabled\": false}", g_mode);
    ck_assert_int_eq(dtb_toolbar_enabled(s.tb), 0);
    ck_assert_int_eq(get(&s, "/page", &r), 0);
    ck_assert_str_eq(r.body, PAGE);
    ck_assert_ptr_null(http_header(&r, "X-Debug-Toolbar-Id"));
    ck_assert_ptr_null(http_header(&r, "Server-Timing"));
    http_resp_free(&r);
    ck_assert_int_eq(get(&s, "/_debug_toolbar/static/toolbar.js", &r), 0);
    ck_assert_int_eq(r.status, 404);
    http_resp_free(&r);
    server_stop(&s);
}
END_TEST

struct hammer {
    struct server *s;
    int n;
    int ok;
};

static void *hammer(void *arg)
{
    struct hammer *h = arg;
    for (int i = 0; i < h->n; i++) {
        struct http_resp r;
        if (get(h->s, i % 2 ? "/json" : "/page", &r) == 0 && r.status == 200)
            h->ok++;
        http_resp_free(&r);
    }
    return NULL;
}

START_TEST(test_history_bounded)
{
    struct server s;
    struct http_resp r;
    server_start(&s, "{\"enabled\": true, \"history_size\": 3}", 2);
    ck_assert_int_eq(get(&s, "/json", &r), 0);
    char *first = http_header(&r, "X-Debug-Toolbar-Id");
    http_resp_free(&r);
    /* many concurrent clients against the thread pool */
    pthread_t t[6];
    struct hammer h[6];
    for (int i = 0; i < 6; i++) {
        h[i].s = &s;
        h[i].n = 30;
        h[i].ok = 0;
        pthread_create(&t[i], NULL, hammer, &h[i]);
    }
    for (int i = 0; i < 6; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(h[i].ok, 30);
    }
    usleep(100000);
    /* the oldest record is gone: 404 with a JSON error */
    char path[128];
    snprintf(path, sizeof(path), "/_debug_toolbar/api/requests/%s", first);
    ck_assert_int_eq(get(&s, path, &r), 0);
    ck_assert_int_eq(r.status, 404);
    ck_assert_ptr_nonnull(strstr(r.body, "\"error\""));
    http_resp_free(&r);
    free(first);
    ck_assert_int_eq(get(&s, "/_debug_toolbar/api/requests", &r), 0);
    json_t *list = json_loads(r.body, 0, NULL);
    ck_assert_int_eq(json_array_size(list), 3);
    json_decref(list);
    http_resp_free(&r);
    server_stop(&s);
}
END_TEST

START_TEST(test_intercept_redirects)
{
    struct server s;
    struct http_resp r;
    const char *nav[] = {"Accept: text/html,application/xhtml+xml", NULL};
    server_start(&s, "{\"enabled\": true, \"intercept_redirects\": true}", g_mode);
    ck_assert_int_eq(req(&s, "GET", "/redirect", nav, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(http_count(&r, ROOT_TAG), 1);
    ck_assert_ptr_nonnull(strstr(r.body, "<a href=\"/page\">/page</a>"));
    http_resp_free(&r);
    /* not a browser navigation: the redirect passes through */
    ck_assert_int_eq(get(&s, "/redirect", &r), 0);
    ck_assert_int_eq(r.status, 302);
    http_resp_free(&r);
    server_stop(&s);
    /* switch off (the default): passes through for browsers too */
    server_start(&s, ENABLED, g_mode);
    ck_assert_int_eq(req(&s, "GET", "/redirect", nav, NULL, &r), 0);
    ck_assert_int_eq(r.status, 302);
    ck_assert_str_eq(r.body, "<html><body>moved</body></html>");
    http_resp_free(&r);
    server_stop(&s);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("middleware");
    TCase *tc = tcase_create("http");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_lifecycle_modes, 0, 3);
    tcase_add_test(tc, test_json_untouched_with_headers);
    tcase_add_test(tc, test_guards);
    tcase_add_test(tc, test_head_same_length);
    tcase_add_test(tc, test_reused_response);
    tcase_add_loop_test(tc, test_large_page_intact, 0, 3);
    tcase_add_loop_test(tc, test_streams, 0, 3);
    tcase_add_test(tc, test_csp_nonce);
    tcase_add_test(tc, test_form_recorded_and_redacted);
    tcase_add_test(tc, test_toolbar_urls);
    tcase_add_test(tc, test_host_not_allowed);
    tcase_add_test(tc, test_disabled);
    tcase_add_test(tc, test_history_bounded);
    tcase_add_test(tc, test_intercept_redirects);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
