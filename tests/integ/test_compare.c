/*
 * test_compare.c - panels' own compare views (compare_html): the Cache and Profile panels'
 * comparisons rendered from stored JSON, with hostile keys, function names and file names
 * escaped and the figures and changes right; the panel table's ABI rule (a table from before
 * compare_html is accepted and never read past its end); and the view served over HTTP at
 * <prefix>/api/compare/<a>/<b>/panels/<panel> from two real records, gated like every
 * toolbar URL (a foreign Host gets the app's own answer).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <debugtoolbar.h>
#include <debugtoolbar/mhd.h>
#include <debugtoolbar/panel.h>
#include <debugtoolbar/state.h>
#include <microhttpd.h>

#include "http.h"
#include "internal.h"
#include "panels.h"

extern const struct dtb_panel_ops dtb_panel_cache, dtb_panel_profile;

static const char EVIL[] = "<script>alert(1)</script>\"'&";

/* Renders p's comparison of a and b (either may be NULL) and checks nothing hostile is raw. */
static char *compare(const struct dtb_panel_ops *p, json_t *a, json_t *b)
{
    struct dtb_buf out;
    dtb_buf_init(&out);
    ck_assert(dtbi_panel_has_compare(p));
    ck_assert_int_eq(p->compare_html(a, b, &out), 0);
    ck_assert_ptr_nonnull(out.data);
    ck_assert_msg(strstr(out.data, "<script") == NULL, "%s", out.data);
    ck_assert_msg(strstr(out.data, "\"'&") == NULL, "%s", out.data);
    json_decref(a);
    json_decref(b);
    return dtb_buf_steal(&out);
}

/* The text of the table row (<tr ...>...</tr>) that contains needle, or fails. */
static char *row_with(const char *html, const char *needle)
{
    const char *at = strstr(html, needle), *start, *end;
    ck_assert_msg(at != NULL, "no %s in %s", needle, html);
    for (start = at; start > html && strncmp(start, "<tr", 3) != 0; start--)
        ;
    end = strstr(at, "</tr>");
    ck_assert_ptr_nonnull(end);
    return strndup(start, (size_t)(end - start));
}

/* Checks the row that holds needle: its data-change is change, and it holds has (unless NULL). */
static void expect_row(const char *html, const char *needle, const char *change, const char *has)
{
    char *r = row_with(html, needle), want[64];
    snprintf(want, sizeof(want), "data-change=\"%s\"", change);
    ck_assert_msg(strstr(r, want) != NULL, "%s in %s", want, r);
    ck_assert_msg(has == NULL || strstr(r, has) != NULL, "%s in %s", has, r);
    free(r);
}

static json_t *cache_call(const char *op, const char *key, int hit)
{
    return json_pack("{s:s,s:s,s:o,s:i,s:i,s:f}", "op", op, "key", key, "hit",
                     hit < 0 ? json_null() : json_boolean(hit), "timeout", -1, "duration_ns", 1000,
                     "at_ms", 0.5);
}

START_TEST(test_cache_view)
{
    char gone[64], fresh[64];
    snprintf(gone, sizeof(gone), "gone:%s", EVIL);
    snprintf(fresh, sizeof(fresh), "new:%s", EVIL);
    /* A: a miss then a set of the hostile key, and a key B never asks for */
    json_t *a = json_pack("{s:[o,o,o],s:i,s:i,s:i,s:f}", "calls", cache_call("get", EVIL, 0),
                          cache_call("set", EVIL, -1), cache_call("get", gone, 0), "hits", 0,
                          "misses", 2, "total_ns", 3000000, "hit_ratio", 0.0);
    /* B: two hits of that key, and a new one */
    json_t *b = json_pack("{s:[o,o,o],s:i,s:i,s:i,s:f}", "calls", cache_call("get", EVIL, 1),
                          cache_call("get", EVIL, 1), cache_call("get", fresh, 0), "hits", 2,
                          "misses", 1, "total_ns", 1000000, "hit_ratio", 2.0 / 3.0);
    char *html = compare(&dtb_panel_cache, a, b);
    ck_assert_ptr_nonnull(strstr(html, "dtb-cmp-cache"));
    /* the figures: A, B and B - A */
    expect_row(html, ">hits<", "changed",
               ">0</td><td class=\"dtb-num\">2</td><td class=\"dtb-num\">+2<");
    expect_row(html, ">misses<", "changed",
               ">2</td><td class=\"dtb-num\">1</td><td class=\"dtb-num\">-1<");
    expect_row(html, ">calls<", "same",
               ">3</td><td class=\"dtb-num\">3</td><td class=\"dtb-num\">0<");
    expect_row(html, ">hit ratio<", "changed", ">0.0%</td><td class=\"dtb-num\">66.7%</td>");
    expect_row(html, ">time in the cache<", "changed",
               ">3.0 ms</td><td class=\"dtb-num\">1.0 ms</td><td class=\"dtb-num\">-2.0 ms<");
    /* per key, escaped: the hostile key's get went from a miss to two hits */
    const char *esc = "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;";
    char needle[128];
    snprintf(needle, sizeof(needle), "<td>get</td><td><code>%s</code>", esc);
    expect_row(html, needle, "changed", "<td>miss</td><td>2 hits</td>");
    snprintf(needle, sizeof(needle), "<td>set</td><td><code>%s</code>", esc);
    expect_row(html, needle, "removed", "<td>done</td><td>\xE2\x80\x94</td>");
    snprintf(needle, sizeof(needle), "<code>gone:%s</code>", esc);
    expect_row(html, needle, "removed", "<td>miss</td><td>\xE2\x80\x94</td>");
    snprintf(needle, sizeof(needle), "<code>new:%s</code>", esc);
    expect_row(html, needle, "added", "<td>\xE2\x80\x94</td><td>miss</td>");
    free(html);
    /* nothing recorded on either side */
    html = compare(&dtb_panel_cache, NULL, json_pack("{s:[]}", "calls"));
    ck_assert_ptr_nonnull(strstr(html, "Neither request made cache calls"));
    free(html);
}
END_TEST

/* A profile's stored JSON: frames and stacks (root first) with their sample counts. */
static json_t *profile(json_t *frames, json_t *stacks)
{
    return json_pack("{s:b,s:s,s:i,s:i,s:i,s:i,s:i,s:o,s:o}", "on", 1, "mode", "cpu", "rate_hz",
                     1000, "interval_ns", 1000000, "samples", 0, "signals", 0, "dropped", 0,
                     "frames", frames, "stacks", stacks);
}

START_TEST(test_profile_view)
{
    char evil_file[80];
    snprintf(evil_file, sizeof(evil_file), "/src/%s.c", EVIL);
    /* A: main -> work (60 self) and main -> parse (40 self); frames in one order */
    json_t *a =
        profile(json_pack("[{s:s,s:s},{s:s,s:s,s:i},{s:s,s:s,s:i,s:s}]", "name", "main", "module",
                          "app", "name", "work", "file", "/src/work.c", "line", 12, "name", EVIL,
                          "file", evil_file, "line", 7, "module", EVIL),
                json_pack("[{s:[i,i],s:i},{s:[i,i],s:i}]", "f", 0, 1, "n", 60, "f", 0, 2, "n", 40));
    /* B: frames in another order; work 20, the hostile one 30, and a new function 50 */
    json_t *b =
        profile(json_pack("[{s:s,s:s,s:i,s:s},{s:s,s:s},{s:s,s:s,s:i},{s:s}]", "name", EVIL, "file",
                          evil_file, "line", 7, "module", EVIL, "name", "main", "module", "app",
                          "name", "work", "file", "/src/work.c", "line", 12, "name", "cache_fill"),
                json_pack("[{s:[i,i],s:i},{s:[i,i],s:i},{s:[i,i],s:i}]", "f", 1, 2, "n", 20, "f", 1,
                          0, "n", 30, "f", 1, 3, "n", 50));
    char *html = compare(&dtb_panel_profile, a, b);
    ck_assert_ptr_nonnull(strstr(html, "<li>A: 100 samples of CPU time at 1000 Hz</li>"));
    ck_assert_ptr_nonnull(strstr(html, "<li>B: 100 samples"));
    /* work: self 60% -> 20%; its file:line is an editor link's source */
    expect_row(html, "<code>work</code>", "changed",
               ">60.0%</td><td class=\"dtb-num\">20.0%</td><td class=\"dtb-num\">-40.0</td>");
    expect_row(html, "<code>work</code>", "changed",
               "<span class=\"dtb-src\" data-file=\"/src/work.c\" data-line=\"12\">"
               "/src/work.c:12</span>");
    /* the largest change of self time first: cache_fill (+50), work (-40), ..., main (0) */
    ck_assert(strstr(html, "<code>cache_fill</code>") < strstr(html, "<code>work</code>"));
    ck_assert(strstr(html, "<code>work</code>") < strstr(html, "<code>main</code>"));
    /* only in B, and no file: no link */
    expect_row(html, "<code>cache_fill</code>", "added",
               "<td class=\"dtb-num\"></td><td class=\"dtb-num\">50.0%</td>"
               "<td class=\"dtb-num\">+50.0</td>");
    char *r = row_with(html, "<code>cache_fill</code>");
    ck_assert_ptr_null(strstr(r, "dtb-src"));
    free(r);
    /* main: total 100% on both sides, self 0: the same */
    expect_row(html, "<code>main</code>", "same",
               ">100.0%</td><td class=\"dtb-num\">100.0%</td><td class=\"dtb-num\">+0.0</td>");
    /* the hostile frame, matched across records by name and module, escaped everywhere */
    const char *esc = "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;";
    char needle[160], file[160];
    snprintf(needle, sizeof(needle), "<code>%s</code>", esc);
    expect_row(html, needle, "changed",
               ">40.0%</td><td class=\"dtb-num\">30.0%</td><td class=\"dtb-num\">-10.0</td>");
    snprintf(file, sizeof(file), "data-file=\"/src/%s.c\" data-line=\"7\"", esc);
    expect_row(html, needle, "changed", file);
    free(html);
    /* one side not profiled, with a hostile reason; the other without samples */
    html = compare(&dtb_panel_profile, json_pack("{s:b,s:s}", "on", 0, "reason", EVIL),
                   profile(json_array(), json_array()));
    ck_assert_ptr_nonnull(strstr(html, "A: not profiled (&lt;script&gt;"));
    ck_assert_ptr_nonnull(strstr(html, "No samples to compare"));
    free(html);
    html = compare(&dtb_panel_profile, NULL, NULL);
    ck_assert_ptr_nonnull(strstr(html, "A: no profile recorded"));
    free(html);
}
END_TEST

/* ---- the panel table's ABI ---------------------------------------------------------------- */

static json_t *nothing_to_json(void *s, struct dtb_request *rq, void *r)
{
    (void)s, (void)rq, (void)r;
    return json_object();
}

static int must_not_run(const json_t *a, const json_t *b, struct dtb_buf *out)
{
    (void)a, (void)b, (void)out;
    ck_abort_msg("an abi 1 table's compare_html was read");
    return -1;
}

START_TEST(test_abi)
{
    struct dtb_error err = {0};
    struct dtb_toolbar *tb = dtb_toolbar_create_from_string("{\"enabled\": true}", "t", &err);
    /* an abi 1 table: the core must not read compare_html (here set, to be caught) */
    static const struct dtb_panel_ops old = {.abi = 1,
                                             .id = "old",
                                             .title = "Old",
                                             .to_json = nothing_to_json,
                                             .compare_html = must_not_run};
    static const struct dtb_panel_ops future = {
        .abi = DTB_PANEL_ABI + 1, .id = "future", .title = "F", .to_json = nothing_to_json};
    static const struct dtb_panel_ops zero = {
        .abi = 0, .id = "zero", .title = "Z", .to_json = nothing_to_json};
    ck_assert_ptr_nonnull(tb);
    ck_assert_int_eq(dtb_toolbar_add_panel(tb, &old), DTB_OK);
    ck_assert_int_eq(dtb_toolbar_add_panel(tb, &future), DTB_EINVAL);
    ck_assert_int_eq(dtb_toolbar_add_panel(tb, &zero), DTB_EINVAL);
    ck_assert(!dtbi_panel_has_compare(&old));
    ck_assert(dtbi_panel_has_compare(&dtb_panel_cache));
    dtb_toolbar_destroy(tb);
}
END_TEST

/* ---- over HTTP ------------------------------------------------------------------------------ */

static const char page[] = "<!DOCTYPE html><html lang=\"en\"><head><title>t</title></head>"
                           "<body><p>cache</p></body></html>";
static const char app404[] = "the app's own 404";

/* /hit and /miss record one cache get of a hostile key; anything else is the app's 404. */
static enum MHD_Result app(void *cls, struct MHD_Connection *con, const char *url,
                           const char *method, const char *version, const char *upload_data,
                           size_t *upload_data_size, void **req_cls)
{
    (void)cls, (void)method, (void)version, (void)upload_data, (void)upload_data_size;
    (void)req_cls;
    int known = strcmp(url, "/hit") == 0 || strcmp(url, "/miss") == 0;
    if (known)
        dtb_cache_record("get", EVIL, strcmp(url, "/hit") == 0, -1, 1000);
    struct MHD_Response *r =
        known ? MHD_create_response_from_buffer(strlen(page), (void *)page, MHD_RESPMEM_PERSISTENT)
              : MHD_create_response_from_buffer(strlen(app404), (void *)app404,
                                                MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Content-Type", known ? "text/html" : "text/plain");
    enum MHD_Result ret = MHD_queue_response(con, known ? 200 : 404, r);
    MHD_destroy_response(r);
    return ret;
}

static json_t *old_to_json(void *s, struct dtb_request *rq, void *r)
{
    (void)s, (void)rq, (void)r;
    return json_pack("{s:i}", "n", 1);
}

static const struct dtb_panel_ops old_panel = {
    .abi = 1, .id = "old", .title = "Old", .default_on = 1, .to_json = old_to_json};

START_TEST(test_http)
{
    struct dtb_error err = {0};
    /* editor links without path mappings: the record still says how to build them */
    struct dtb_toolbar *tb = dtb_toolbar_create_from_string(
        "{\"enabled\": true, \"editor\": \"vscode://file/{file}:{line}\"}", "t", &err);
    char base[64], url[512];
    struct http_resp r;
    char *a, *b;
    ck_assert_ptr_nonnull(tb);
    ck_assert_int_eq(dtb_toolbar_add_panel(tb, &old_panel), DTB_OK);
    ck_assert_int_eq(dtb_toolbar_start(tb, &err), DTB_OK);
    struct MHD_Daemon *d = http_toolbar_daemon(tb, app, base);
    ck_assert_ptr_nonnull(d);
    json_t *ra = http_record_for(base, "/miss", &a);
    json_t *rb = http_record_for(base, "/hit", &b);
    ck_assert_ptr_nonnull(ra);
    ck_assert_ptr_nonnull(rb);
    json_decref(ra);
    json_decref(rb);

    /* the record's nav says which panels have a compare view */
    snprintf(url, sizeof(url), "%s/_debug_toolbar/api/requests/%s", base, a);
    ck_assert_int_eq(http_get(url, &r), 0);
    json_t *rec = json_loads(r.body, 0, NULL);
    size_t i, seen = 0;
    json_t *n;
    json_array_foreach(json_object_get(rec, "nav"), i, n)
    {
        const char *id = json_string_value(json_object_get(n, "id"));
        int want = strcmp(id, "cache") == 0 || strcmp(id, "profile") == 0;
        ck_assert_msg(json_is_true(json_object_get(n, "compare")) == want, "nav %s", id);
        seen += strcmp(id, "cache") == 0 || strcmp(id, "old") == 0;
    }
    ck_assert_uint_eq(seen, 2);
    json_t *ed = json_object_get(rec, "editor");
    ck_assert_str_eq(json_string_value(json_object_get(ed, "template")),
                     "vscode://file/{file}:{line}");
    ck_assert(json_is_array(json_object_get(ed, "paths")));
    ck_assert_uint_eq(json_array_size(json_object_get(ed, "paths")), 0);
    json_decref(rec);
    http_resp_free(&r);

    /* the Cache panel's view of the two records: the key went from a miss to a hit */
    snprintf(url, sizeof(url), "%s/_debug_toolbar/api/compare/%s/%s/panels/cache", base, a, b);
    ck_assert_int_eq(http_get(url, &r), 0);
    ck_assert_int_eq(r.status, 200);
    char *ct = http_header(&r, "Content-Type");
    ck_assert_str_eq(ct, "text/html; charset=utf-8");
    free(ct);
    ck_assert_ptr_null(strstr(r.body, "<script"));
    expect_row(r.body, "<td>get</td><td><code>&lt;script&gt;alert(1)", "changed",
               "<td>miss</td><td>hit</td>");
    http_resp_free(&r);

    /* a foreign Host (DNS rebinding) gets the app's own 404, not the view */
    char host[80];
    snprintf(host, sizeof(host), "Host: attacker.example:%s", strrchr(base, ':') + 1);
    const char *hdrs[] = {host, NULL};
    ck_assert_int_eq(http_request("GET", url, hdrs, NULL, &r), 0);
    ck_assert_int_eq(r.status, 404);
    ck_assert_str_eq(r.body, app404);
    http_resp_free(&r);

    /* no view: a panel without one, a table from before compare_html, an unknown panel */
    static const char *const none[] = {"sql", "old", "nosuch"};
    for (size_t k = 0; k < 3; k++) {
        snprintf(url, sizeof(url), "%s/_debug_toolbar/api/compare/%s/%s/panels/%s", base, a, b,
                 none[k]);
        ck_assert_int_eq(http_get(url, &r), 0);
        ck_assert_int_eq(r.status, 404);
        ck_assert_ptr_nonnull(strstr(r.body, "\"error\""));
        http_resp_free(&r);
    }
    /* a record no longer (or never) stored, and malformed URLs */
    snprintf(url, sizeof(url), "%s/_debug_toolbar/api/compare/%s/0123456789abcdef/panels/cache",
             base, a);
    ck_assert_int_eq(http_get(url, &r), 0);
    ck_assert_int_eq(r.status, 404);
    ck_assert_ptr_nonnull(strstr(r.body, "unknown or expired"));
    http_resp_free(&r);
    static const char *const bad[] = {"%s/_debug_toolbar/api/compare/%s/%s/panels/",
                                      "%s/_debug_toolbar/api/compare/%s/%s/cache",
                                      "%s/_debug_toolbar/api/compare/%s/%s/panels/cache/x",
                                      "%s/_debug_toolbar/api/compare/%s/%.15s/panels/cache"};
    for (size_t k = 0; k < 4; k++) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        snprintf(url, sizeof(url), bad[k], base, a, b);
#pragma GCC diagnostic pop
        ck_assert_int_eq(http_get(url, &r), 0);
        ck_assert_msg(r.status == 404, "%s: %ld", url, r.status);
        ck_assert_ptr_nonnull(strstr(r.body, "\"error\""));
        http_resp_free(&r);
    }
    free(a);
    free(b);
    MHD_stop_daemon(d);
    dtb_toolbar_destroy(tb);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("compare");
    TCase *tc = tcase_create("views");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_cache_view);
    tcase_add_test(tc, test_profile_view);
    tcase_add_test(tc, test_abi);
    tcase_add_test(tc, test_http);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
