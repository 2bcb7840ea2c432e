/*
 * test_panels.c - the first panels' rendering from stored JSON (escaping hostile strings),
 * the JWT decoder, the Server-Timing parser and the shared render helpers.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/base64.h>

#include "panels.h"

extern const struct dtb_panel_ops dtb_panel_timer, dtb_panel_request, dtb_panel_headers,
    dtb_panel_config, dtb_panel_versions;

static const char EVIL[] = "<script>alert(1)</script>\"'&";

/* Renders panel p from stats and checks the output never carries the raw hostile string. */
static char *render(const struct dtb_panel_ops *p, json_t *stats)
{
    struct dtb_buf b;
    dtb_buf_init(&b);
    ck_assert_int_eq(p->render_html(stats, &b), 0);
    ck_assert_ptr_null(strstr(b.data, "<script"));
    ck_assert_ptr_null(strstr(b.data, "\"'&"));
    if (p->nav_subtitle != NULL) {
        struct dtb_buf s;
        dtb_buf_init(&s);
        /* Subtitles are plain text (the UI sets them with textContent), never HTML. */
        ck_assert_int_eq(p->nav_subtitle(stats, &s), 0);
        ck_assert_ptr_nonnull(s.data);
        ck_assert_ptr_null(strstr(s.data, "&lt;"));
        dtb_buf_free(&s);
    }
    json_decref(stats);
    return dtb_buf_steal(&b);
}

START_TEST(test_request_panel_escapes)
{
    json_t *stats =
        json_pack("{s:s,s:s,s:s,s:s,s:s,s:[[ss]],s:[[ss]],s:[[ss]]}", "method", "GET", "path", EVIL,
                  "url", EVIL, "version", "HTTP/1.1", "client", "127.0.0.1", "query", EVIL, EVIL,
                  "form", "f", EVIL, "cookies", "c", EVIL);
    char *html = render(&dtb_panel_request, stats);
    ck_assert_ptr_nonnull(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;"));
    free(html);
}
END_TEST

START_TEST(test_headers_and_config_escape)
{
    char *html = render(&dtb_panel_headers, json_pack("{s:[[ss]],s:[[ss]]}", "request", EVIL, EVIL,
                                                      "response", "X", EVIL));
    ck_assert_ptr_nonnull(strstr(html, "&lt;script&gt;"));
    free(html);
    html = render(&dtb_panel_config,
                  json_pack("{s:{s:s},s:{s:[s]}}", "toolbar", EVIL, EVIL, "app", EVIL, EVIL));
    ck_assert_ptr_nonnull(strstr(html, "dtb-tree"));
    free(html);
    /* the Config panel's subtitle: "no app settings", "1 app setting", "2 app settings" */
    const char *want[] = {"no app settings", "1 app setting", "2 app settings"};
    for (int n = 0; n < 3; n++) {
        json_t *app = json_object(), *stats;
        for (int i = 0; i < n; i++)
            json_object_set_new(app, i ? "b" : "a", json_integer(i));
        stats = json_pack("{s:{},s:o}", "toolbar", "app", app);
        struct dtb_buf s;
        dtb_buf_init(&s);
        ck_assert_int_eq(dtb_panel_config.nav_subtitle(stats, &s), 0);
        ck_assert_str_eq(s.data, want[n]);
        dtb_buf_free(&s);
        json_decref(stats);
    }
    html = render(&dtb_panel_versions, json_pack("{s:[[ss]]}", "versions", "debugtoolbar", EVIL));
    free(html);
}
END_TEST

START_TEST(test_timer_panel)
{
    json_t *stats = json_pack("{s:f,s:f,s:f,s:f,s:f,s:f,s:s,s:[{s:s,s:f,s:f}],s:[{s:s,s:f,s:s}]}",
                              "total_ms", 10.0, "handler_ms", 8.0, "cpu_user_ms", 3.0, "cpu_sys_ms",
                              1.0, "toolbar_ms", 0.5, "inject_ms", 0.1, "started_at",
                              "2026-01-01T00:00:00.000Z", "phases", "name", EVIL, "start_ms", 2.0,
                              "dur_ms", 5.0, "upstream", "name", "db", "dur", 4.5, "desc", EVIL);
    struct dtb_buf s;
    dtb_buf_init(&s);
    dtb_panel_timer.nav_subtitle(stats, &s);
    ck_assert_str_eq(s.data, "10.0 ms (CPU 4.0 ms)");
    dtb_buf_free(&s);
    char *html = render(&dtb_panel_timer, stats);
    ck_assert_ptr_nonnull(strstr(html, "data-left=\"20.00\" data-width=\"50.00\""));
    ck_assert_ptr_null(strstr(html, "style="));
    free(html);
}
END_TEST

static char *b64url(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(BASE64_ENCODE_RAW_LENGTH(n) + 1);
    struct base64_encode_ctx ctx;
    base64url_encode_init(&ctx);
    size_t k = base64_encode_update(&ctx, out, n, (const uint8_t *)s);
    k += base64_encode_final(&ctx, out + k);
    while (k > 0 && out[k - 1] == '=')
        k--;
    out[k] = '\0';
    return out;
}

START_TEST(test_jwt)
{
    json_t *h, *c;
    char *hdr = b64url("{\"alg\":\"HS256\",\"typ\":\"JWT\"}");
    char *cl = b64url("{\"sub\":\"42\",\"name\":\"J\\u00f6rg\",\"exp\":1700000000}");
    char tok[512];
    snprintf(tok, sizeof(tok), "%s.%s.c2lnbmF0dXJl", hdr, cl);
    ck_assert_int_eq(dtbi_jwt_decode(tok, &h, &c), 0);
    ck_assert_str_eq(json_string_value(json_object_get(h, "alg")), "HS256");
    ck_assert_int_eq(json_integer_value(json_object_get(c, "exp")), 1700000000);
    json_decref(h);
    json_decref(c);
    snprintf(tok, sizeof(tok), "%s.%s", hdr, cl); /* unsigned (two segments) */
    ck_assert_int_eq(dtbi_jwt_decode(tok, &h, &c), 0);
    json_decref(h);
    json_decref(c);
    ck_assert_int_eq(dtbi_jwt_decode("garbage", &h, &c), -1);
    ck_assert_int_eq(dtbi_jwt_decode("a.b.c.d.e", &h, &c), -1);
    ck_assert_int_eq(dtbi_jwt_decode("!!!.@@@.x", &h, &c), -1);
    ck_assert_int_eq(dtbi_jwt_decode(".", &h, &c), -1);
    char *notjson = b64url("not json");
    snprintf(tok, sizeof(tok), "%s.%s.x", hdr, notjson);
    ck_assert_int_eq(dtbi_jwt_decode(tok, &h, &c), -1);
    char *arr = b64url("[1,2]");
    snprintf(tok, sizeof(tok), "%s.%s.x", hdr, arr);
    ck_assert_int_eq(dtbi_jwt_decode(tok, &h, &c), -1);
    free(hdr);
    free(cl);
    free(notjson);
    free(arr);
}
END_TEST

START_TEST(test_memory_panel)
{
    extern const struct dtb_panel_ops dtb_panel_memory;
    /* site names come from binaries' symbol tables: escaped like anything recorded */
    json_t *site = json_pack("{s:s,s:s,s:i,s:s,s:s,s:i,s:i}", "function", EVIL, "file", EVIL,
                             "line", 12, "module", EVIL, "address", "0x1", "count", 3, "bytes", 96);
    json_t *group =
        json_pack("{s:s,s:s,s:i,s:s,s:s,s:i,s:i,s:i}", "function", EVIL, "file", EVIL, "line", 12,
                  "module", EVIL, "address", "0x1", "size", 32, "count", 3, "bytes", 96);
    json_t *stats = json_pack(
        "{s:b,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:[O],s:[O],s:[o],s:[{s:i,s:i}]}",
        "ledger", 1, "allocs", 5, "frees", 2, "reallocs", 0, "bytes_allocated", 200, "bytes_freed",
        104, "peak_bytes", 200, "live_blocks", 3, "live_bytes", 96, "live_groups", 1,
        "toolbar_allocs", 4, "toolbar_bytes", 100, "leak_streak", 3, "sites_by_bytes", site,
        "sites_by_count", site, "live", group, "histogram", "max", 32, "count", 3);
    json_decref(site);
    char *html = render(&dtb_panel_memory, stats);
    ck_assert_ptr_nonnull(strstr(html, "&lt;script&gt;alert(1)"));
    ck_assert_ptr_nonnull(strstr(html, "Blocks left live at the end"));
    ck_assert_ptr_nonnull(strstr(html, "The last 3 requests to this route each left bytes"));
    free(html);
    struct dtb_buf b;
    dtb_buf_init(&b);
    stats = json_pack("{s:b}", "ledger", 0);
    ck_assert_int_eq(dtb_panel_memory.render_html(stats, &b), 0);
    ck_assert_ptr_nonnull(strstr(b.data, "dtb-run --memory"));
    dtb_buf_reset(&b);
    ck_assert_int_eq(dtb_panel_memory.nav_subtitle(stats, &b), 0);
    ck_assert_str_eq(b.data, "ledger not loaded");
    json_decref(stats);
    dtb_buf_free(&b);
}
END_TEST

START_TEST(test_server_timing)
{
    json_t *m;
    ck_assert_int_eq(dtbi_server_timing_parse("db;dur=53, app;dur=47.2;desc=\"App, \\\"main\\\"\", "
                                              "cache;desc=\"Cache Read\";dur=23.2, miss, ;bad, "
                                              "x;dur=abc",
                                              &m),
                     0);
    ck_assert_int_eq(json_array_size(m), 5);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(m, 0), "name")), "db");
    ck_assert(json_real_value(json_object_get(json_array_get(m, 0), "dur")) == 53.0);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(m, 1), "desc")),
                     "App, \"main\"");
    ck_assert(json_real_value(json_object_get(json_array_get(m, 2), "dur")) == 23.2);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(m, 3), "name")), "miss");
    ck_assert_ptr_null(json_object_get(json_array_get(m, 4), "dur"));
    json_decref(m);
    ck_assert_int_eq(dtbi_server_timing_parse("", &m), 0);
    ck_assert_int_eq(json_array_size(m), 0);
    json_decref(m);
    ck_assert_int_eq(dtbi_server_timing_parse("a;desc=\"unterminated", &m), 0);
    json_decref(m);
    ck_assert_int_eq(dtbi_server_timing_parse(",,,;;;===\"\"\\", &m), 0);
    json_decref(m);
}
END_TEST

START_TEST(test_render_helpers)
{
    struct dtb_buf b;
    dtb_buf_init(&b);
    json_t *pairs = json_pack("[[ss][s{s:i}]]", "a<", "b>", "file", "size", 3);
    ck_assert_int_eq(dtb_render_pairs_table(&b, "T<", pairs), 0);
    ck_assert_ptr_nonnull(strstr(b.data, "<h4 class=\"dtb-h\">T&lt;</h4>"));
    ck_assert_ptr_nonnull(strstr(b.data, "a&lt;"));
    ck_assert_ptr_nonnull(strstr(b.data, "{&quot;size&quot;:3}"));
    dtb_buf_reset(&b);
    json_t *deep = json_string("leaf");
    for (int i = 0; i < 40; i++)
        deep = json_pack("[o]", deep);
    ck_assert_int_eq(dtb_render_json_tree(&b, deep), 0);
    ck_assert_ptr_nonnull(strstr(b.data, "\xE2\x80\xA6"));
    json_decref(deep);
    json_decref(pairs);
    dtb_buf_free(&b);
}
END_TEST

/* Call sites become <span class="dtb-src" data-file data-line> (the UI links them to the
 * editor), escaped; anything that names no file:line stays plain escaped text. */
START_TEST(test_site_spans)
{
    struct dtb_buf b;
    dtb_buf_init(&b);
    dtbi_render_site(&b, "../src/db.c:207 (collect)");
    ck_assert_str_eq(b.data, "<span class=\"dtb-src\" data-file=\"../src/db.c\" data-line=\"207\">"
                             "../src/db.c:207 (collect)</span>");
    dtb_buf_reset(&b);
    dtbi_render_site(&b, "/a dir/x.c:9");
    ck_assert_str_eq(b.data, "<span class=\"dtb-src\" data-file=\"/a dir/x.c\" data-line=\"9\">"
                             "/a dir/x.c:9</span>");
    dtb_buf_reset(&b);
    dtbi_render_site(&b, "/\"><script>x.c:12");
    ck_assert_ptr_null(strstr(b.data, "<script"));
    ck_assert_ptr_nonnull(strstr(b.data, "data-file=\"/&quot;&gt;&lt;script&gt;x.c\""));
    dtb_buf_reset(&b);
    dtbi_render_site(&b, "?:0");
    dtbi_render_site(&b, "no site <b>");
    dtbi_render_site(&b, "x.c:");
    dtbi_render_site(&b, NULL);
    ck_assert_ptr_null(strstr(b.data, "dtb-src"));
    ck_assert_ptr_nonnull(strstr(b.data, "no site &lt;b&gt;"));
    dtb_buf_free(&b);
}
END_TEST

/* The Profile panel's top functions: a frame's file:line is an editor link's source, escaped;
 * a frame without a line names its file only, unlinked. */
START_TEST(test_profile_sites)
{
    extern const struct dtb_panel_ops dtb_panel_profile;
    json_t *stats = json_pack(
        "{s:b,s:s,s:i,s:i,s:i,s:i,s:i,s:[{s:s,s:s,s:i},{s:s,s:s}],s:[{s:[i,i],s:i}]}", "on", 1,
        "mode", "cpu", "rate_hz", 1000, "interval_ns", 1000000, "samples", 3, "signals", 3,
        "dropped", 0, "frames", "name", "handler", "file", "/src/<a>.c", "line", 41, "name", "leaf",
        "file", "/src/nolines.c", "stacks", "f", 0, 1, "n", 3);
    struct dtb_buf b; /* not render(): the fragment carries its JSON data blocks */
    dtb_buf_init(&b);
    ck_assert_int_eq(dtb_panel_profile.render_html(stats, &b), 0);
    ck_assert_ptr_nonnull(strstr(b.data, "<span class=\"dtb-src\" data-file=\"/src/&lt;a&gt;.c\" "
                                         "data-line=\"41\">/src/&lt;a&gt;.c:41</span>"));
    ck_assert_ptr_nonnull(strstr(b.data, "<td>/src/nolines.c <span class=\"dtb-muted\">"));
    json_decref(stats);
    dtb_buf_free(&b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("panels");
    TCase *tc = tcase_create("render");
    tcase_add_test(tc, test_request_panel_escapes);
    tcase_add_test(tc, test_headers_and_config_escape);
    tcase_add_test(tc, test_timer_panel);
    tcase_add_test(tc, test_jwt);
    tcase_add_test(tc, test_server_timing);
    tcase_add_test(tc, test_memory_panel);
    tcase_add_test(tc, test_render_helpers);
    tcase_add_test(tc, test_site_spans);
    tcase_add_test(tc, test_profile_sites);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
