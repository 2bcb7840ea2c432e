/*
 * test_middleware_stream.c - integration tests: large and streamed responses through the
 * toolbar in MHD's three threading modes, over real HTTP with libcurl. A large page is sent
 * from the app's own bytes and stays intact; pages from content readers (every chunking, known
 * size or not), a file past the read cap and a pipe get the toolbar before the real </body> or
 * none with the reason recorded, and the app's reader sees its closure and is freed once.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "middleware_app.h"

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

static Suite *suite(void)
{
    Suite *s = suite_create("middleware_stream");
    TCase *tc = tcase_create("http");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_large_page_intact, 0, 3);
    tcase_add_loop_test(tc, test_streams, 0, 3);
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
