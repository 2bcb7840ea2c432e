/*
 * test_middleware_urls.c - integration tests: the toolbar's own URLs under its prefix (the
 * page's shell and the scripts it lists among them), the host check, the disabled mode, and the
 * history bound under concurrent clients on a thread pool; a small MHD app wrapped by the toolbar,
 * spoken to over real HTTP with libcurl.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "middleware_app.h"

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

/* The page's shell lists its scripts (deferred, so run in that order): common.js, then
 * page.js's parts, then page.js; each URL (with its ?v= version) is served as JavaScript. */
START_TEST(test_page_scripts)
{
    static const char *const scripts[] = {"common.js", "filters.js", "compare.js", "page.js"};
    struct server s;
    struct http_resp page, r;
    server_start(&s, ENABLED, g_mode);
    ck_assert_int_eq(get(&s, "/_debug_toolbar/", &page), 0);
    ck_assert_int_eq(page.status, 200);
    char *csp = http_header(&page, "Content-Security-Policy");
    ck_assert_ptr_nonnull(csp);
    ck_assert_ptr_nonnull(strstr(csp, "default-src 'self'"));
    free(csp);
    ck_assert_ptr_null(strstr(page.body, "<script>"));
    const char *at = page.body;
    for (size_t i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
        char want[64];
        snprintf(want, sizeof(want), "<script src=\"/_debug_toolbar/static/%s?v=", scripts[i]);
        const char *tag = strstr(at, want);
        ck_assert_msg(tag != NULL, "%s listed after the scripts before it", scripts[i]);
        const char *src = tag + strlen("<script src=\"/_debug_toolbar");
        const char *end = strchr(src, '"');
        ck_assert_ptr_nonnull(end);
        ck_assert_int_eq(strncmp(end, "\" defer></script>", 17), 0);
        char url[160];
        snprintf(url, sizeof(url), "/_debug_toolbar%.*s", (int)(end - src), src);
        ck_assert_int_eq(get(&s, url, &r), 0);
        ck_assert_int_eq(r.status, 200);
        char *type = http_header(&r, "Content-Type");
        ck_assert_ptr_nonnull(type);
        ck_assert_msg(strncmp(type, "text/javascript", 15) == 0, "%s: %s", url, type);
        ck_assert_ptr_nonnull(strstr(r.body, "\"use strict\""));
        free(type);
        http_resp_free(&r);
        at = end;
    }
    http_resp_free(&page);
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

static Suite *suite(void)
{
    Suite *s = suite_create("middleware_urls");
    TCase *tc = tcase_create("http");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_toolbar_urls);
    tcase_add_test(tc, test_page_scripts);
    tcase_add_test(tc, test_host_not_allowed);
    tcase_add_test(tc, test_disabled);
    tcase_add_test(tc, test_history_bounded);
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
