/*
 * test_middleware.c - integration tests: a small MHD app wrapped by the toolbar, on an
 * ephemeral loopback port, spoken to over real HTTP with libcurl.
 *
 * Covers the request lifecycle in MHD's three threading modes, injection and its guards,
 * chaining of the app's own callbacks, responses the app reuses, the CSP nonce, forms recorded
 * and redacted, and intercepted redirects. Large and streamed responses are
 * test_middleware_stream's; the toolbar's URLs, the host check, the disabled mode and the
 * history bound are test_middleware_urls's.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "middleware_app.h"

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
    tcase_add_test(tc, test_csp_nonce);
    tcase_add_test(tc, test_form_recorded_and_redacted);
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
