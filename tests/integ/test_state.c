/*
 * test_state.c - the state panels' API end to end: a wrapped MHD app reports hostile and
 * invalid data through <debugtoolbar/state.h> (session, cache, templates, log, routes), from
 * the handler and from an attached thread; the stored record and every panel's HTML fragment
 * are checked over HTTP: values kept, secrets redacted, everything escaped, nothing recorded
 * outside a request.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <debugtoolbar.h>
#include <debugtoolbar/mhd.h>
#include <debugtoolbar/panel.h>
#include <debugtoolbar/state.h>
#include <microhttpd.h>

#include "http.h"

#define HOSTILE "<script>alert('x')</script>\"&"

static void *worker(void *arg)
{
    struct dtb_request *prev = dtb_request_attach(arg);
    dtb_log(DTB_LOG_ERROR, "from a worker thread %d", 42);
    dtb_cache_record("get", "worker-key", 1, -1, 1000);
    dtb_request_detach(prev);
    return NULL;
}

static enum MHD_Result app(void *cls, struct MHD_Connection *con, const char *url,
                           const char *method, const char *version, const char *upload_data,
                           size_t *upload_data_size, void **req_cls)
{
    static const char page[] = "<!DOCTYPE html><html lang=\"en\"><head><title>t</title></head>"
                               "<body><p>state</p></body></html>";
    (void)cls, (void)method, (void)version, (void)upload_data, (void)upload_data_size;
    (void)req_cls;
    if (strcmp(url, "/state") == 0) {
        json_t *before = json_pack("{s:s,s:i}", "user", HOSTILE, "n", 1);
        json_t *after = json_pack("{s:s,s:i,s:s,s:{s:s}}", "user", HOSTILE, "n", 2, "password",
                                  "hunter2", "nested", "api_token", "t0ps3cret");
        struct dtb_session_info info = {.cookie = "sid",
                                        .id = "0123456789abcdef0123456789abcdef",
                                        .data = before,
                                        .store = "memory",
                                        .ttl_seconds = 100,
                                        .created_unix = 1700000000};
        dtb_session_record_info(&info);
        info.data = after;
        info.ttl_seconds = 99;
        dtb_session_record_info(&info);
        json_decref(before);
        json_decref(after);
        dtb_cache_record("get", HOSTILE, 0, -1, 2000);
        dtb_cache_record("set", "bad\xff\xfe utf8", -1, 300, 3000);
        dtb_cache_record("get", "k", 1, -1, 500);
        json_t *ctx =
            json_pack("{s:s,s:[i,i],s:s}", "title", HOSTILE, "ids", 1, 2, "secret_key", "s3cr3t");
        dtb_template_record_timed("page.html", ctx, 12345);
        dtb_template_record(HOSTILE, NULL);
        json_decref(ctx);
        dtb_log(DTB_LOG_DEBUG, "debug %s", "d");
        dtb_log(DTB_LOG_WARNING, "hostile %s", HOSTILE);
        dtb_log(DTB_LOG_CRITICAL, "bytes \xff end");
        char big[40000];
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        dtb_log(DTB_LOG_INFO, "%s", big);
        pthread_t t;
        pthread_create(&t, NULL, worker, dtb_request_current());
        pthread_join(t, NULL);
    }
    if (strcmp(url, "/session-sizes") == 0) {
        /* a caller compiled with a later, longer layout: what this library knows is read */
        struct {
            struct dtb_session_info info;
            long long later_field;
        } later = {.info = {.size = sizeof(later), .id = "later", .created_unix = 111},
                   .later_field = 7};
        dtb_session_record_info(&later.info);
        /* a caller whose layout ends before created_unix: what lies past its size is not read */
        struct dtb_session_info earlier = {.size = offsetof(struct dtb_session_info, created_unix),
                                           .id = "earlier",
                                           .created_unix = 222};
        dtb_session_record_info(&earlier);
    }
    if (strcmp(url, "/named") == 0)
        dtb_route_matched("by-name");
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(page), (void *)page, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Content-Type", "text/html");
    enum MHD_Result ret = MHD_queue_response(con, 200, r);
    MHD_destroy_response(r);
    return ret;
}

/* A panel that records something but fails to render it. */
static json_t *broken_to_json(void *state, struct dtb_request *rq, void *req_state)
{
    (void)state, (void)rq, (void)req_state;
    return json_pack("{s:i}", "n", 1);
}

static int broken_render(const json_t *stats, struct dtb_buf *out)
{
    (void)stats;
    dtb_buf_append_str(out, "<p>half a fragment");
    return -1;
}

static int broken_subtitle(const json_t *stats, struct dtb_buf *out)
{
    (void)stats, (void)out;
    return -1;
}

static const struct dtb_panel_ops broken_panel = {
    .abi = DTB_PANEL_ABI,
    .id = "broken",
    .title = "Broken",
    .default_on = 1,
    .to_json = broken_to_json,
    .nav_subtitle = broken_subtitle,
    .render_html = broken_render,
};

static struct dtb_toolbar *tb;
static struct MHD_Daemon *d;
static char base[64];

static void setup(void)
{
    struct dtb_error err = {0};
    dtb_routes_clear();
    ck_assert_int_eq(dtb_route_add("GET", "/state", "state"), 0);
    ck_assert_int_eq(dtb_route_add("GET", "/items/<int:id>/<slug>", "item"), 0);
    ck_assert_int_eq(dtb_route_add("*", "/files/<path:rest>", "files"), 0);
    ck_assert_int_eq(dtb_route_add("POST", "/named", "post-only"), 0);
    ck_assert_int_eq(dtb_route_add("GET", "/elsewhere", "by-name"), 0);
    ck_assert_int_eq(dtb_route_add("GET", "no-slash", "bad"), -1);
    tb = dtb_toolbar_create_from_string(
        "{\"enabled\": true, \"secret_key\": \"toolbar-secret-4f2a9c\", \"app\": "
        "{\"db_password\": \"hunter2\", \"name\": \"shop\", \"nested\": {\"api_key\": \"k-77\"}}}",
        "t", &err);
    ck_assert_ptr_nonnull(tb);
    ck_assert_int_eq(dtb_toolbar_add_panel(tb, &broken_panel), DTB_OK);
    ck_assert_int_eq(dtb_toolbar_start(tb, &err), DTB_OK);
    /* settings the app sets at run time join the file's */
    json_t *v = json_string("tok-31337");
    ck_assert_int_eq(dtb_config_set(tb, "session_token", v), DTB_OK);
    json_decref(v);
    v = json_integer(4);
    ck_assert_int_eq(dtb_config_set(tb, "workers", v), DTB_OK);
    json_decref(v);
    d = http_toolbar_daemon(tb, app, base);
    ck_assert_ptr_nonnull(d);
}

static void teardown(void)
{
    MHD_stop_daemon(d);
    dtb_toolbar_destroy(tb);
    dtb_routes_clear();
}

static json_t *record_for(const char *path, char **id_out)
{
    json_t *rec = http_record_for(base, path, id_out);
    ck_assert_msg(rec != NULL, "no record for %s", path);
    return rec;
}

/* The panel's HTML fragment; checks that no hostile markup got through. */
static char *fragment(const char *id, const char *panel)
{
    char url[256];
    struct http_resp r;
    snprintf(url, sizeof(url), "%s/_debug_toolbar/api/requests/%s/panels/%s", base, id, panel);
    ck_assert_int_eq(http_get(url, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strstr(r.body, "<script") == NULL, "%s: raw <script>", panel);
    char *body = r.body;
    r.body = NULL;
    http_resp_free(&r);
    return body;
}

static json_t *panel(json_t *rec, const char *id)
{
    json_t *p = json_object_get(json_object_get(rec, "panels"), id);
    ck_assert_msg(p != NULL, "no panel %s", id);
    return p;
}

START_TEST(test_session)
{
    char *id;
    json_t *rec = record_for("/state", &id);
    json_t *s = panel(rec, "session");
    char *text = json_dumps(rec, 0);
    ck_assert_ptr_null(strstr(text, "0123456789abcdef0123456789abcdef")); /* id masked */
    ck_assert_ptr_null(strstr(text, "hunter2"));                          /* redacted */
    ck_assert_ptr_null(strstr(text, "t0ps3cret"));
    free(text);
    ck_assert(json_is_true(json_object_get(s, "modified")));
    json_t *after = json_object_get(s, "after");
    ck_assert_str_eq(json_string_value(json_object_get(after, "id")), "0123\xE2\x80\xA6"
                                                                      "cdef");
    ck_assert_int_eq(json_integer_value(json_object_get(after, "ttl")), 99);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(after, "data"), "user")),
                     HOSTILE);
    json_t *changes = json_object_get(s, "changes");
    ck_assert_int_eq(json_array_size(changes), 3); /* n changed, password and nested added */
    char *html = fragment(id, "session");
    ck_assert_ptr_nonnull(strstr(html, "&lt;script&gt;"));
    ck_assert_ptr_nonnull(strstr(html, "0123\xE2\x80\xA6"
                                       "cdef"));
    free(html);
    json_decref(rec);
    free(id);
}
END_TEST

/* dtb_session_info's size: a longer caller layout is read as far as this library knows it; a
 * shorter one only as far as the caller said */
START_TEST(test_session_info_size)
{
    char *id;
    json_t *rec = record_for("/session-sizes", &id);
    json_t *s = panel(rec, "session");
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(s, "before"), "created")),
                     111);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(s, "after"), "created")),
                     0);
    json_decref(rec);
    free(id);
}
END_TEST

START_TEST(test_cache_templates_logging)
{
    char *id;
    json_t *rec = record_for("/state", &id);
    json_t *c = panel(rec, "cache");
    ck_assert_int_eq(json_array_size(json_object_get(c, "calls")), 4); /* + the worker's */
    ck_assert_int_eq(json_integer_value(json_object_get(c, "hits")), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(c, "misses")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(c, "total_ns")), 6500);
    json_t *call1 = json_array_get(json_object_get(c, "calls"), 1);
    ck_assert_str_eq(json_string_value(json_object_get(call1, "key")),
                     "bad\xEF\xBF\xBD\xEF\xBF\xBD utf8");
    ck_assert_int_eq(json_integer_value(json_object_get(call1, "timeout")), 300);

    json_t *t = json_object_get(panel(rec, "templates"), "templates");
    ck_assert_int_eq(json_array_size(t), 2);
    json_t *ctx = json_object_get(json_array_get(t, 0), "context");
    ck_assert_str_eq(json_string_value(json_object_get(ctx, "title")), HOSTILE);
    ck_assert_str_eq(json_string_value(json_object_get(ctx, "secret_key")), "********");
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(t, 0), "duration_ns")),
                     12345);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(t, 1), "name")), HOSTILE);

    json_t *logs = json_object_get(panel(rec, "logging"), "records");
    ck_assert_int_eq(json_array_size(logs), 5);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(logs, 1), "level_name")),
                     "warning");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(logs, 2), "message")),
                     "bytes \xEF\xBF\xBD end");
    json_t *big = json_array_get(logs, 3);
    ck_assert(json_is_true(json_object_get(big, "cut")));
    ck_assert_int_eq(json_string_length(json_object_get(big, "message")), 16383);
    json_t *w = json_array_get(logs, 4);
    ck_assert_str_eq(json_string_value(json_object_get(w, "message")), "from a worker thread 42");
    ck_assert_str_eq(json_string_value(json_object_get(w, "func")), "worker");
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(w, "site")), "test_state.c:"));

    const char *panels[] = {"cache", "templates", "logging"};
    for (int i = 0; i < 3; i++) {
        char *html = fragment(id, panels[i]);
        ck_assert_msg(strstr(html, "&lt;script&gt;") != NULL, "%s not escaped", panels[i]);
        free(html);
    }
    json_decref(rec);
    free(id);
}
END_TEST

START_TEST(test_routes)
{
    char *id;
    struct {
        const char *path, *name;
        int matched;
        const char *arg, *value;
    } cases[] = {
        {"/state", "state", 0, NULL, NULL},
        {"/items/12/blue-cat", "item", 1, "slug", "blue-cat"},
        {"/items/x1/blue-cat", NULL, -1, NULL, NULL}, /* int converter */
        {"/files/a/b/c.txt", "files", 2, "rest", "a/b/c.txt"},
        {"/named", "by-name", 4, NULL, NULL}, /* named by the app, not the POST route */
        {"/nowhere", NULL, -1, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *rec = record_for(cases[i].path, &id);
        json_t *ro = panel(rec, "routes");
        ck_assert_int_eq(json_array_size(json_object_get(ro, "routes")), 5);
        ck_assert_msg(json_integer_value(json_object_get(ro, "matched")) == cases[i].matched,
                      "%s matched %lld", cases[i].path,
                      (long long)json_integer_value(json_object_get(ro, "matched")));
        if (cases[i].arg != NULL)
            ck_assert_str_eq(
                json_string_value(json_object_get(json_object_get(ro, "args"), cases[i].arg)),
                cases[i].value);
        char *html = fragment(id, "routes");
        if (cases[i].matched >= 0)
            ck_assert_ptr_nonnull(strstr(html, "dtb-current"));
        else
            ck_assert_ptr_null(strstr(html, "dtb-current"));
        free(html);
        json_decref(rec);
        free(id);
    }
    /* records share one JSON list of the routes: a route added while the app runs is in the
     * next record, and the record before it still lists the five */
    json_t *before = record_for("/state", &id);
    free(id);
    ck_assert_int_eq(dtb_route_add("GET", "/late", "late"), 0);
    json_t *rec = record_for("/late", &id);
    free(id);
    json_t *ro = panel(rec, "routes");
    ck_assert_int_eq(json_array_size(json_object_get(ro, "routes")), 6);
    ck_assert_int_eq(json_integer_value(json_object_get(ro, "matched")), 5);
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(ro, "routes"), 5), "pattern")),
                     "/late");
    ck_assert_int_eq(json_array_size(json_object_get(panel(before, "routes"), "routes")), 5);
    json_decref(rec);
    json_decref(before);
    dtb_routes_clear();
    rec = record_for("/late", &id);
    free(id);
    ck_assert_int_eq(json_array_size(json_object_get(panel(rec, "routes"), "routes")), 0);
    json_decref(rec);
}
END_TEST

START_TEST(test_config_panel)
{
    char *id;
    json_t *rec = record_for("/state", &id);
    json_t *cfg = panel(rec, "config");
    json_t *app = json_object_get(cfg, "app");
    ck_assert_str_eq(json_string_value(json_object_get(app, "name")), "shop");
    ck_assert_int_eq(json_integer_value(json_object_get(app, "workers")), 4);
    ck_assert_str_eq(json_string_value(json_object_get(app, "db_password")), "********");
    ck_assert_str_eq(json_string_value(json_object_get(app, "session_token")), "********");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(app, "nested"), "api_key")),
                     "********");
    /* no secret anywhere: not in the record, not in the panel's HTML */
    char *dump = json_dumps(rec, 0);
    char *html = fragment(id, "config");
    const char *secrets[] = {"hunter2", "tok-31337", "k-77", "toolbar-secret-4f2a9c"};
    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
        ck_assert_msg(strstr(dump, secrets[i]) == NULL, "record shows %s", secrets[i]);
        ck_assert_msg(strstr(html, secrets[i]) == NULL, "panel shows %s", secrets[i]);
    }
    ck_assert_ptr_nonnull(strstr(html, "workers"));
    free(dump);
    free(html);
    json_decref(rec);
    free(id);
}
END_TEST

START_TEST(test_outside_request)
{
    /* no request on this thread: every call is a no-op, and nothing crashes */
    ck_assert_int_eq(dtb_recording(), 0);
    dtb_session_record("x", NULL, "memory", 1);
    dtb_cache_record("get", "k", 1, -1, 1);
    dtb_template_record("t", NULL);
    dtb_log(DTB_LOG_INFO, "nobody hears this");
    dtb_route_matched("state");
    char *id;
    json_t *rec = record_for("/plain", &id);
    ck_assert_int_eq(json_integer_value(json_object_get(panel(rec, "session"), "snapshots")), 0);
    ck_assert_int_eq(json_array_size(json_object_get(panel(rec, "cache"), "calls")), 0);
    ck_assert_int_eq(json_array_size(json_object_get(panel(rec, "logging"), "records")), 0);
    json_t *h = panel(rec, "htmlcheck");
    ck_assert_int_eq(json_array_size(json_object_get(h, "errors")), 0);
    ck_assert_int_eq(json_array_size(json_object_get(h, "lints")), 0);
    const char *all[] = {"session", "cache", "templates", "logging", "routes", "htmlcheck"};
    for (int i = 0; i < 6; i++)
        free(fragment(id, all[i]));
    json_decref(rec);
    free(id);
}
END_TEST

START_TEST(test_panel_fails_to_render)
{
    char *id;
    json_t *rec = record_for("/state", &id);
    /* its place says so; the other panels render, and the sidebar lists them all */
    char *html = fragment(id, "broken");
    ck_assert_ptr_nonnull(strstr(html, "failed to render"));
    ck_assert_ptr_null(strstr(html, "half a fragment"));
    free(html);
    html = fragment(id, "cache");
    ck_assert_ptr_nonnull(strstr(html, "<table"));
    free(html);
    json_t *nav = json_object_get(rec, "nav");
    ck_assert_int_ge(json_array_size(nav), 13);
    json_decref(rec);
    free(id);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("state");
    TCase *tc = tcase_create("http");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_session);
    tcase_add_test(tc, test_session_info_size);
    tcase_add_test(tc, test_cache_templates_logging);
    tcase_add_test(tc, test_routes);
    tcase_add_test(tc, test_outside_request);
    tcase_add_test(tc, test_config_panel);
    tcase_add_test(tc, test_panel_fails_to_render);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
