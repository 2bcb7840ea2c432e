/*
 * test_spans.c - the span API end to end: a wrapped MHD app opens nested spans (by hand and
 * with DTB_SPAN) and runs SQLite statements inside one; the Timer panel's record must list them
 * in the order they began with the right parents, the waterfall must show them, and the
 * Server-Timing header must carry the top-level spans. Outside a request the calls do nothing.
 * The app's session, cache and template recording calls with a duration become spans too,
 * recorded when they end: what ran inside a template render (a query, a span) is its child.
 * The spans' clock (the TSC where it is invariant, else clock_gettime) agrees with
 * dtb_now_ns within microseconds.
 */
#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <debugtoolbar.h>
#include <debugtoolbar/mhd.h>
#include <debugtoolbar/panel.h>
#include <debugtoolbar/span.h>
#include <debugtoolbar/sql.h>
#include <debugtoolbar/state.h>
#include <microhttpd.h>
#include <sqlite3.h>

#include "http.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#endif

static const char page[] = "<!DOCTYPE html><html lang=\"en\"><head><title>t</title></head>"
                           "<body><p>spans</p></body></html>";

static sqlite3 *db;

static void inner_work(void)
{
    DTB_SPAN("inner scope");
    int leaf = dtb_span_begin("leaf");
    usleep(1000);
    dtb_span_end(leaf);
}

/* /auto: no span calls, only the recording calls of a session layer, a cache and templates */
static void auto_work(void)
{
    struct dtb_session_info info = {.id = NULL, .store = "memory", .ttl_seconds = -2};
    int64_t t0 = dtb_now_ns();
    usleep(300);
    dtb_session_record_timed(&info, dtb_now_ns() - t0);
    t0 = dtb_now_ns();
    usleep(300);
    dtb_cache_record("get", "view:/", 0, -1, dtb_now_ns() - t0);
    dtb_cache_record("get", "untimed", 0, -1, -1); /* no duration: no span */
    t0 = dtb_now_ns();
    sqlite3_exec(db, "SELECT 2", NULL, NULL, NULL);
    {
        DTB_SPAN("fill");
        usleep(300);
    }
    dtb_template_record_timed("page.html", NULL, dtb_now_ns() - t0);
    t0 = dtb_now_ns();
    usleep(300);
    dtb_session_record_timed(&info, dtb_now_ns() - t0);
}

/* /clock: 80 spans of about 300 us each, timed by dtb_now_ns inside, on one CPU (the thread is
 * pinned for the while: the TSC's rate is measured from a thread's anchors on one CPU) */
#define TICKS 80
static int64_t tick_t0[TICKS], tick_t1[TICKS], clock_before, clock_after;

static void clock_work(void)
{
    cpu_set_t old, one;
    int pinned = pthread_getaffinity_np(pthread_self(), sizeof(old), &old) == 0;
    if (pinned) {
        CPU_ZERO(&one);
        CPU_SET(sched_getcpu(), &one);
        pinned = pthread_setaffinity_np(pthread_self(), sizeof(one), &one) == 0;
    }
    clock_before = dtb_now_ns();
    for (int i = 0; i < TICKS; i++) {
        int s = dtb_span_begin("tick");
        tick_t0[i] = dtb_now_ns();
        while (dtb_now_ns() - tick_t0[i] < 300000)
            ;
        tick_t1[i] = dtb_now_ns();
        dtb_span_end(s);
    }
    clock_after = dtb_now_ns();
    if (pinned)
        pthread_setaffinity_np(pthread_self(), sizeof(old), &old);
}

static enum MHD_Result app(void *cls, struct MHD_Connection *con, const char *url,
                           const char *method, const char *version, const char *upload_data,
                           size_t *upload_data_size, void **req_cls)
{
    (void)cls, (void)method, (void)version, (void)upload_data;
    (void)upload_data_size, (void)req_cls;
    if (strcmp(url, "/auto") == 0 || strcmp(url, "/clock") == 0) {
        if (url[1] == 'a')
            auto_work();
        else
            clock_work();
        struct MHD_Response *r =
            MHD_create_response_from_buffer(strlen(page), (void *)page, MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(r, "Content-Type", "text/html");
        enum MHD_Result ret = MHD_queue_response(con, 200, r);
        MHD_destroy_response(r);
        return ret;
    }
    int outer = dtb_span_begin("load");
    {
        DTB_SPAN("query");
        sqlite3_exec(db, "SELECT 1", NULL, NULL, NULL);
    }
    inner_work();
    dtb_span_end(outer);
    int second = dtb_span_begin("render");
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(page), (void *)page, MHD_RESPMEM_PERSISTENT);
    dtb_span_end(second);
    MHD_add_response_header(r, "Content-Type", "text/html");
    enum MHD_Result ret = MHD_queue_response(con, 200, r);
    MHD_destroy_response(r);
    return ret;
}

static struct dtb_toolbar *tb;
static struct MHD_Daemon *d;
static char base[64];

static void setup(void)
{
    struct dtb_error err = {0};
    tb = dtb_toolbar_create_from_string("{\"enabled\": true}", "t", &err);
    ck_assert_ptr_nonnull(tb);
    ck_assert_int_eq(dtb_toolbar_start(tb, &err), DTB_OK);
    ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
    dtb_sqlite_attach(db);
    d = http_toolbar_daemon(tb, app, base);
    ck_assert_ptr_nonnull(d);
}

static void teardown(void)
{
    MHD_stop_daemon(d);
    dtb_sqlite_detach(db);
    sqlite3_close(db);
    dtb_toolbar_destroy(tb);
}

START_TEST(test_nested_in_order)
{
    char *id;
    json_t *rec = http_record_for(base, "/", &id);
    ck_assert_ptr_nonnull(rec);
    json_t *spans =
        json_object_get(json_object_get(json_object_get(rec, "panels"), "timer"), "spans");
    static const struct {
        const char *name;
        int parent;
    } want[] = {{"load", -1},       {"query", 0}, {"SELECT 1", 1},
                {"inner scope", 0}, {"leaf", 3},  {"render", -1}};
    ck_assert_int_eq(json_array_size(spans), 6);
    double prev_start = -1;
    for (size_t i = 0; i < 6; i++) {
        json_t *s = json_array_get(spans, i);
        ck_assert_str_eq(json_string_value(json_object_get(s, "name")), want[i].name);
        ck_assert_int_eq(json_integer_value(json_object_get(s, "parent")), want[i].parent);
        double start = json_number_value(json_object_get(s, "start_ms"));
        ck_assert(start >= prev_start);
        prev_start = start;
        ck_assert(json_number_value(json_object_get(s, "dur_ms")) >= 0);
    }
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(spans, 2), "kind")), "sql");
    /* the leaf slept 1 ms, and its parents hold it */
    ck_assert(json_number_value(json_object_get(json_array_get(spans, 4), "dur_ms")) >= 1.0);
    ck_assert(json_number_value(json_object_get(json_array_get(spans, 0), "dur_ms")) >=
              json_number_value(json_object_get(json_array_get(spans, 3), "dur_ms")));
    char url[256];
    struct http_resp r;
    snprintf(url, sizeof(url), "%s/_debug_toolbar/api/requests/%s/panels/timer", base, id);
    ck_assert_int_eq(http_get(url, &r), 0);
    ck_assert_ptr_nonnull(strstr(r.body, "Waterfall"));
    ck_assert_ptr_nonnull(strstr(r.body, "inner scope"));
    ck_assert_ptr_nonnull(strstr(r.body, "SELECT 1"));
    ck_assert_ptr_null(strstr(r.body, "style="));
    http_resp_free(&r);
    json_decref(rec);
    free(id);
}
END_TEST

START_TEST(test_server_timing_top_level)
{
    char url[128];
    struct http_resp r;
    snprintf(url, sizeof(url), "%s/", base);
    ck_assert_int_eq(http_get(url, &r), 0);
    char *st = http_header(&r, "Server-Timing");
    ck_assert_ptr_nonnull(st);
    ck_assert_msg(strstr(st, "load;dur=") != NULL, "%s", st);
    ck_assert_msg(strstr(st, "render;dur=") != NULL, "%s", st);
    ck_assert_msg(strstr(st, "leaf") == NULL, "a nested span in %s", st);
    free(st);
    http_resp_free(&r);
}
END_TEST

START_TEST(test_automatic_spans)
{
    char *id;
    json_t *rec = http_record_for(base, "/auto", &id);
    ck_assert_ptr_nonnull(rec);
    json_t *spans =
        json_object_get(json_object_get(json_object_get(rec, "panels"), "timer"), "spans");
    static const struct {
        const char *kind, *name;
        int parent;
    } want[] = {{"session", "load", -1}, {"cache", "get view:/", -1}, {"template", "page.html", -1},
                {"sql", "SELECT 2", 2},  {"span", "fill", 2},         {"session", "save", -1}};
    ck_assert_int_eq(json_array_size(spans), 6);
    for (size_t i = 0; i < 6; i++) {
        json_t *s = json_array_get(spans, i);
        ck_assert_str_eq(json_string_value(json_object_get(s, "kind")), want[i].kind);
        ck_assert_str_eq(json_string_value(json_object_get(s, "name")), want[i].name);
        ck_assert_int_eq(json_integer_value(json_object_get(s, "parent")), want[i].parent);
        ck_assert(json_number_value(json_object_get(s, "dur_ms")) >= (i == 3 ? 0.0 : 0.3));
    }
    /* the template holds its children */
    json_t *tpl = json_array_get(spans, 2), *fill = json_array_get(spans, 4);
    ck_assert(json_number_value(json_object_get(fill, "start_ms")) >=
              json_number_value(json_object_get(tpl, "start_ms")));
    ck_assert(json_number_value(json_object_get(fill, "start_ms")) +
                  json_number_value(json_object_get(fill, "dur_ms")) <=
              json_number_value(json_object_get(tpl, "start_ms")) +
                  json_number_value(json_object_get(tpl, "dur_ms")) + 0.001);
    char url[256];
    struct http_resp r;
    snprintf(url, sizeof(url), "%s/_debug_toolbar/api/requests/%s/panels/timer", base, id);
    ck_assert_int_eq(http_get(url, &r), 0);
    ck_assert_ptr_nonnull(strstr(r.body, "Template</span> <code>page.html"));
    ck_assert_ptr_nonnull(strstr(r.body, "Cache</span> <code>get view:/"));
    ck_assert_ptr_nonnull(strstr(r.body, "Session</span> <code>load"));
    http_resp_free(&r);
    /* Server-Timing: the app's own top-level spans only; "fill" ran inside the template */
    snprintf(url, sizeof(url), "%s/auto", base);
    ck_assert_int_eq(http_get(url, &r), 0);
    char *st = http_header(&r, "Server-Timing");
    ck_assert_ptr_nonnull(st);
    ck_assert_msg(strstr(st, "fill") == NULL, "%s", st);
    free(st);
    http_resp_free(&r);
    json_decref(rec);
    free(id);
}
END_TEST

/* The spans of /clock, checked against the dtb_now_ns readings taken inside them: each lasts
 * at least its inner interval, and together they lie within the handler's own interval. The
 * clock the record names: "tsc" where the CPU has an invariant TSC (unless
 * DTB_SPANS_TSC=0), else "clock_gettime". */
static void check_clock(const char *want_clock)
{
    char *id = NULL;
    json_t *rec = http_record_for(base, "/clock", &id);
    ck_assert_ptr_nonnull(rec);
    free(id);
    json_t *timer = json_object_get(json_object_get(rec, "panels"), "timer");
    json_t *spans = json_object_get(timer, "spans");
    ck_assert_int_eq(json_array_size(spans), TICKS);
    const double tol_ms = 0.02;
    for (size_t i = 0; i < TICKS; i++) {
        double dur = json_number_value(json_object_get(json_array_get(spans, i), "dur_ms"));
        double inner = (double)(tick_t1[i] - tick_t0[i]) / 1e6;
        ck_assert_msg(dur >= inner - tol_ms, "span %zu: %.4f ms, its inside %.4f ms", i, dur,
                      inner);
    }
    json_t *first = json_array_get(spans, 0), *last = json_array_get(spans, TICKS - 1);
    double all = json_number_value(json_object_get(last, "start_ms")) +
                 json_number_value(json_object_get(last, "dur_ms")) -
                 json_number_value(json_object_get(first, "start_ms"));
    double outer = (double)(clock_after - clock_before) / 1e6;
    double inner = (double)(tick_t1[TICKS - 1] - tick_t0[0]) / 1e6;
    ck_assert_msg(all >= inner - tol_ms && all <= outer + tol_ms,
                  "the spans cover %.4f ms; inside them %.4f, around them %.4f", all, inner, outer);
    const char *clock = json_string_value(json_object_get(timer, "span_clock"));
    ck_assert_ptr_nonnull(clock);
    ck_assert_str_eq(clock, want_clock);
    json_decref(rec);
}

static const char *expected_clock(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    unsigned a, b, c, d;
    if (__get_cpuid_max(0x80000000u, NULL) >= 0x80000007u &&
        __get_cpuid(0x80000007u, &a, &b, &c, &d) && (d & (1u << 8)) && sched_getcpu() >= 0)
        return "tsc";
#endif
    return "clock_gettime";
}

START_TEST(test_clock_tsc)
{
    check_clock(expected_clock());
    check_clock(expected_clock()); /* a second request: the rate now known from the start */
}
END_TEST

START_TEST(test_clock_gettime)
{
    setenv("DTB_SPANS_TSC", "0", 1);
    check_clock("clock_gettime");
}
END_TEST

START_TEST(test_outside_request)
{
    int s = dtb_span_begin("nowhere");
    ck_assert_int_eq(s, -1);
    dtb_span_end(s);
    dtb_span_end(12345);
    {
        DTB_SPAN("scoped nowhere");
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("spans");
    TCase *tc = tcase_create("http");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_nested_in_order);
    tcase_add_test(tc, test_server_timing_top_level);
    tcase_add_test(tc, test_automatic_spans);
    tcase_add_test(tc, test_outside_request);
    tcase_add_test(tc, test_clock_tsc);
    tcase_add_test(tc, test_clock_gettime);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
