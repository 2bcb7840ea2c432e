/*
 * test_profile.c - where the time goes, end to end over HTTP: a wrapped MHD app spends a known
 * amount of its thread's CPU time, and the Timer panel's record and HTML must show that
 * amount (from the thread's CPU clock), with context switches and faults; figures under a
 * millisecond are shown in µs or ns, never "0.0 ms". The Profile panel samples a handler that
 * burns CPU in two named functions in a 3:1 ratio and must attribute it so; its collapsed-stack
 * and speedscope outputs must parse. Built twice: as the suite builds, and with
 * -fomit-frame-pointer (the unwinder must not need frame pointers). Hardware counters: the
 * Timer panel shows the /busy loop's instructions and cycles where the kernel allows them, and
 * else one line naming perf_event_paranoid's value; the counter group itself is checked with
 * the kernel's software counters, which every machine has.
 */
#include <check.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <debugtoolbar.h>
#include <debugtoolbar/mhd.h>
#include <debugtoolbar/panel.h>
#include <debugtoolbar/state.h>
#include <microhttpd.h>

#include "counters.h"
#include "http.h"
#include "panels.h"

static const char page[] = "<!DOCTYPE html><html lang=\"en\"><head><title>t</title></head>"
                           "<body><p>profile</p></body></html>";

static int64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The CPU time the last /busy handler consumed in its loop, by its own measure. */
static volatile int64_t busy_spent_ns;

/* Spins on the CPU until this thread has used ns of CPU time (however loaded the machine is). */
__attribute__((noinline)) static int64_t burn_thread_cpu(int64_t ns)
{
    int64_t t0 = thread_cpu_ns(), t;
    volatile unsigned x = 1;
    do {
        for (int i = 0; i < 1000; i++)
            x = x * 1103515245u + 12345u;
        t = thread_cpu_ns();
    } while (t - t0 < ns);
    return t - t0;
}

/* Two named functions that the profile must tell apart (kept out of line and distinct). */
__attribute__((noinline)) int64_t burn_three_quarters(int64_t ns)
{
    int64_t spent = burn_thread_cpu(ns);
    __asm__ volatile("" ::: "memory");
    return spent;
}

__attribute__((noinline)) int64_t burn_one_quarter(int64_t ns)
{
    int64_t spent = burn_thread_cpu(ns);
    __asm__ volatile("" ::: "memory");
    return spent;
}

/* Sleeps ms milliseconds in small naps: no CPU, only real time passes. */
__attribute__((noinline)) void wait_on_clock(int ms)
{
    for (int i = 0; i < ms; i++)
        usleep(1000);
    __asm__ volatile("" ::: "memory");
}

static enum MHD_Result app(void *cls, struct MHD_Connection *con, const char *url,
                           const char *method, const char *version, const char *upload_data,
                           size_t *upload_data_size, void **req_cls)
{
    (void)cls, (void)method, (void)version, (void)upload_data, (void)upload_data_size;
    (void)req_cls;
    if (strcmp(url, "/busy") == 0)
        busy_spent_ns = burn_thread_cpu(2000000);
    if (strcmp(url, "/") == 0) { /* sub-millisecond figures for the state panels */
        dtb_template_record_timed("small.html", NULL, 48200);
        dtb_cache_record("get", "k", 1, -1, 3500);
    }
    if (strcmp(url, "/wait") == 0)
        wait_on_clock(60);
    if (strcmp(url, "/burn") == 0) {
        /* Long stretches: a sample may stand for several intervals (the kernel checks CPU
         * timers at its tick, later under load), all given to the function it lands in, so
         * few boundaries between the two keep that error small. */
        for (int i = 0; i < 2; i++) {
            burn_three_quarters(90000000);
            burn_one_quarter(30000000);
        }
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(page), (void *)page, MHD_RESPMEM_PERSISTENT);
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
    d = http_toolbar_daemon(tb, app, base);
    ck_assert_ptr_nonnull(d);
}

static void teardown(void)
{
    MHD_stop_daemon(d);
    dtb_toolbar_destroy(tb);
}

static char *fragment(const char *id, const char *panel)
{
    char url[256];
    struct http_resp r;
    snprintf(url, sizeof(url), "%s/_debug_toolbar/api/requests/%s/panels/%s", base, id, panel);
    ck_assert_int_eq(http_get(url, &r), 0);
    ck_assert_int_eq(r.status, 200);
    char *body = r.body;
    r.body = NULL;
    http_resp_free(&r);
    return body;
}

static json_t *panel(json_t *rec, const char *id)
{
    json_t *p = json_object_get(json_object_get(rec, "panels"), id);
    ck_assert_ptr_nonnull(p);
    return p;
}

START_TEST(test_cpu_of_busy_loop)
{
    char *id;
    /* a first request binds the lazily bound symbols and faults in the pages the path uses
     * (much more so under the sanitizers): that first-time cost is not the loop's */
    json_t *rec = http_record_for(base, "/busy", &id);
    ck_assert_ptr_nonnull(rec);
    json_decref(rec);
    free(id);
    rec = http_record_for(base, "/busy", &id);
    ck_assert_ptr_nonnull(rec);
    json_t *t = panel(rec, "timer");
    int64_t cpu = json_integer_value(json_object_get(t, "cpu_ns"));
    /* 2 ms of the handler thread's CPU, measured by the handler itself, ± 20% */
    ck_assert_int_ge(busy_spent_ns, 2000000);
    ck_assert_msg(cpu >= 1600000 && cpu <= 2400000, "CPU %lld ns for a 2 ms loop (%lld)",
                  (long long)cpu, (long long)busy_spent_ns);
    ck_assert_int_ge(cpu, busy_spent_ns);
    ck_assert_ptr_nonnull(json_object_get(t, "ctx_voluntary"));
    ck_assert_ptr_nonnull(json_object_get(t, "faults_minor"));
    char *html = fragment(id, "timer");
    char want[32];
    snprintf(want, sizeof(want), ">%.1f ms<", (double)cpu / 1e6);
    ck_assert_msg(strstr(html, want) != NULL, "%s not in the Timer panel", want);
    ck_assert_ptr_nonnull(strstr(html, "approximate"));
    ck_assert_ptr_nonnull(strstr(html, "Context switches"));
    free(html);
    json_decref(rec);
    free(id);
}
END_TEST

/* 1 when text shows a figure under a millisecond in ms ("0.05 ms", "0.0 ms"). */
static int sub_ms_in_ms(const char *text)
{
    for (const char *p = strstr(text, "0."); p != NULL; p = strstr(p + 1, "0.")) {
        const char *q = p + 2;
        while (*q >= '0' && *q <= '9')
            q++;
        if ((p == text || p[-1] < '0' || p[-1] > '9') && strncmp(q, " ms", 3) == 0)
            return 1;
    }
    return 0;
}

START_TEST(test_small_figures_not_zero)
{
    char *id;
    json_t *rec = http_record_for(base, "/", &id);
    ck_assert_ptr_nonnull(rec);
    json_t *t = panel(rec, "timer");
    int64_t cpu = json_integer_value(json_object_get(t, "cpu_ns"));
    ck_assert_int_gt(cpu, 0);
    char *html = fragment(id, "timer");
    ck_assert_ptr_null(strstr(html, ">0.0 ms<"));
    ck_assert_ptr_null(strstr(html, ">0.000 ms<"));
    /* the state panels' sub-millisecond figures too: a 48.2 us render, a 3.5 us cache call */
    const char *const others[] = {"templates", "cache"};
    for (size_t k = 0; k < 2; k++) {
        char *h = fragment(id, others[k]);
        ck_assert_msg(!sub_ms_in_ms(h), "%s: %s", others[k], h);
        ck_assert_ptr_nonnull(strstr(h, k == 0 ? "48.2 \xC2\xB5s" : "3.5 \xC2\xB5s"));
        free(h);
    }
    if (cpu < 1000000) /* a static page: well under a millisecond of CPU */
        ck_assert_ptr_nonnull(strstr(html, " \xC2\xB5s<"));
    free(html);
    json_t *nav = json_object_get(rec, "nav");
    size_t i;
    json_t *n;
    json_array_foreach(nav, i, n)
    {
        const char *sub = json_string_value(json_object_get(n, "subtitle"));
        ck_assert_msg(sub == NULL || !sub_ms_in_ms(sub), "subtitle %s", sub);
    }
    json_decref(rec);
    free(id);
}
END_TEST

/* The text between the element that starts with open and its closing tag, HTML-unescaped. */
static char *element_text(const char *html, const char *open, const char *close)
{
    const char *p = strstr(html, open);
    ck_assert_msg(p != NULL, "%s not in the fragment", open);
    p = strchr(p, '>') + 1;
    const char *e = strstr(p, close);
    ck_assert_ptr_nonnull(e);
    char *out = malloc((size_t)(e - p) + 1), *o = out;
    static const char *const ents[][2] = {
        {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}};
    while (p < e) {
        size_t k;
        for (k = 0; k < 5; k++)
            if (strncmp(p, ents[k][0], strlen(ents[k][0])) == 0)
                break;
        if (k < 5) {
            *o++ = ents[k][1][0];
            p += strlen(ents[k][0]);
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    return out;
}

/* Samples whose stack holds a frame named name. */
static long long samples_in(json_t *prof, const char *name)
{
    json_t *frames = json_object_get(prof, "frames"), *st, *f;
    size_t i, k;
    long long n = 0;
    json_array_foreach(json_object_get(prof, "stacks"), i, st)
    {
        json_array_foreach(json_object_get(st, "f"), k, f)
        {
            const char *fn = json_string_value(
                json_object_get(json_array_get(frames, (size_t)json_integer_value(f)), "name"));
            if (fn != NULL && strcmp(fn, name) == 0) {
                n += json_integer_value(json_object_get(st, "n"));
                break;
            }
        }
    }
    return n;
}

START_TEST(test_profile_three_to_one)
{
    char *id;
    json_t *rec = http_record_for(base, "/burn?dtb-profile=1", &id);
    ck_assert_ptr_nonnull(rec);
    json_t *p = panel(rec, "profile");
    ck_assert_msg(json_is_true(json_object_get(p, "on")), "profile off: %s",
                  json_string_value(json_object_get(p, "reason")));
    long long all = json_integer_value(json_object_get(p, "samples"));
    long long a = samples_in(p, "burn_three_quarters"), b = samples_in(p, "burn_one_quarter");
    /* 240 ms of CPU at 1 kHz (samples are weighted by the intervals they stand for) */
    ck_assert_msg(all >= 180, "only %lld samples (%lld dropped)", all,
                  (long long)json_integer_value(json_object_get(p, "dropped")));
    ck_assert_msg(a + b >= all * 9 / 10, "%lld + %lld of %lld samples in the two functions", a, b,
                  all);
    double share = 100.0 * (double)a / (double)(a + b);
    fprintf(stderr, "profile: %lld samples, burn_three_quarters %.1f%% (%lld/%lld)\n", all, share,
            a, b);
    ck_assert_msg(share >= 65.0 && share <= 85.0, "burn_three_quarters has %.1f%% (%lld/%lld)",
                  share, a, b);
    /* the handler is the stacks' root: the toolbar's and MHD's frames are cut off */
    json_t *frames = json_object_get(p, "frames");
    json_t *first =
        json_array_get(json_object_get(json_array_get(json_object_get(p, "stacks"), 0), "f"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(frames, (size_t)json_integer_value(first)), "name")),
                     "app");

    char *html = fragment(id, "profile");
    ck_assert_ptr_nonnull(strstr(html, "data-dtb-module=\"profile.js\""));
    ck_assert_ptr_nonnull(strstr(html, "<code>burn_three_quarters</code>"));
    ck_assert_ptr_null(strstr(html, "style="));
    /* collapsed stacks: "frame;frame;... count" per line, counts adding up to the samples */
    char *folded = element_text(html, "<pre class=\"dtb-profile-folded\"", "</pre>");
    long long sum = 0;
    int lines = 0;
    for (char *line = strtok(folded, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        char *sp = strrchr(line, ' ');
        ck_assert_msg(sp != NULL && sp > line, "no count: %s", line);
        char *end;
        long long n = strtoll(sp + 1, &end, 10);
        ck_assert_msg(*end == '\0' && n > 0, "bad count: %s", line);
        *sp = '\0';
        for (char *f = line; f != NULL; f = strchr(f, ';') ? strchr(f, ';') + 1 : NULL)
            ck_assert_msg(*f != ';' && *f != '\0', "empty frame in %s", line);
        ck_assert_msg(strncmp(line, "app;", 4) == 0 || strcmp(line, "app") == 0, "root: %s", line);
        sum += n;
        lines++;
    }
    ck_assert_int_gt(lines, 0);
    ck_assert_int_eq(sum, all);
    free(folded);
    /* speedscope's file format: a sampled profile whose stacks index the shared frames */
    char *ss_text = element_text(
        html, "<script type=\"application/json\" class=\"dtb-profile-speedscope\"", "</script>");
    json_error_t jerr;
    json_t *ss = json_loads(ss_text, 0, &jerr);
    ck_assert_msg(ss != NULL, "speedscope JSON: %s", jerr.text);
    ck_assert_str_eq(json_string_value(json_object_get(ss, "$schema")),
                     "https://www.speedscope.app/file-format-schema.json");
    json_t *sf = json_object_get(json_object_get(ss, "shared"), "frames");
    json_t *prof = json_array_get(json_object_get(ss, "profiles"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(prof, "type")), "sampled");
    ck_assert_str_eq(json_string_value(json_object_get(prof, "unit")), "nanoseconds");
    json_t *samples = json_object_get(prof, "samples"), *s1, *f;
    ck_assert_int_eq(json_array_size(samples), json_array_size(json_object_get(prof, "weights")));
    size_t i, k;
    long long wsum = 0;
    json_array_foreach(samples, i, s1)
    {
        json_array_foreach(s1, k, f)
            ck_assert_int_lt(json_integer_value(f), (long long)json_array_size(sf));
        wsum += json_integer_value(json_array_get(json_object_get(prof, "weights"), i));
    }
    ck_assert_int_eq(wsum, json_integer_value(json_object_get(prof, "endValue")));
    json_decref(ss);
    free(ss_text);
    free(html);
    json_decref(rec);
    free(id);
}
END_TEST

START_TEST(test_profile_off_unless_asked)
{
    char *id;
    json_t *rec = http_record_for(base, "/busy", &id);
    ck_assert_ptr_nonnull(rec);
    ck_assert(json_is_false(json_object_get(panel(rec, "profile"), "on")));
    char *html = fragment(id, "profile");
    ck_assert_ptr_nonnull(strstr(html, "?dtb-profile=1"));
    free(html);
    json_decref(rec);
    free(id);
}
END_TEST

START_TEST(test_profile_config_errors)
{
    static const char *const bad[] = {
        "{\"enabled\": true, \"panel_options\": {\"profile\": {\"rate_hz\": 0}}}",
        "{\"enabled\": true, \"panel_options\": {\"profile\": {\"mode\": \"fast\"}}}",
        "{\"enabled\": true, \"panel_options\": {\"profile\": {\"always\": 1}}}",
    };
    static const char *const keys[] = {"panel_options.profile.rate_hz",
                                       "panel_options.profile.mode",
                                       "panel_options.profile.always"};
    for (int i = 0; i < 3; i++) {
        struct dtb_error err = {0};
        struct dtb_toolbar *t = dtb_toolbar_create_from_string(bad[i], "bad", &err);
        ck_assert_ptr_nonnull(t);
        ck_assert_int_ne(dtb_toolbar_start(t, &err), DTB_OK);
        ck_assert_msg(strstr(err.key, keys[i]) != NULL || strstr(err.text, keys[i]) != NULL ||
                          strcmp(err.key, "profile") == 0,
                      "error names %s / %s", err.key, err.text);
        dtb_toolbar_destroy(t);
    }
}
END_TEST

START_TEST(test_format_units)
{
    char b[32];
    ck_assert_str_eq(dtbi_fmt_ms(0.0, b, sizeof(b)), "0 ms");
    ck_assert_str_eq(dtbi_fmt_ms(0.00035, b, sizeof(b)), "350 ns");
    ck_assert_str_eq(dtbi_fmt_ms(0.0482, b, sizeof(b)), "48.2 \xC2\xB5s");
    ck_assert_str_eq(dtbi_fmt_ms(0.41, b, sizeof(b)), "410 \xC2\xB5s");
    ck_assert_str_eq(dtbi_fmt_ms(2.04, b, sizeof(b)), "2.0 ms");
    ck_assert_str_eq(dtbi_fmt_ms(12.34, b, sizeof(b)), "12.3 ms");
    ck_assert_str_eq(dtbi_fmt_ms(1240.0, b, sizeof(b)), "1.24 s");
}
END_TEST

/* The group's mechanics on the kernel's software counters (present without a PMU): one read
 * gives every counter, and the task clock moves by the CPU time spent between two reads. */
START_TEST(test_counter_group)
{
    static const uint32_t type[2] = {PERF_TYPE_SOFTWARE, PERF_TYPE_SOFTWARE};
    static const uint64_t config[2] = {PERF_COUNT_SW_TASK_CLOCK, PERF_COUNT_SW_PAGE_FAULTS};
    struct dtbi_counter_set cs;
    int err = 0, scaled = 0;
    uint64_t a[2], b[2];
    if (dtbi_counters_open(&cs, type, config, 2, &err) != 0) {
        /* only a kernel that forbids perf_event_open altogether refuses software counters */
        ck_assert_msg(err == EACCES || err == EPERM || err == ENOSYS, "%s", strerror(err));
        return;
    }
    ck_assert_int_eq(cs.n, 2);
    ck_assert_int_eq(dtbi_counters_read(&cs, a, &scaled), 0);
    int64_t spent = burn_thread_cpu(3000000);
    char *pages = malloc(64 << 12);
    for (int i = 0; i < 64; i++)
        pages[i << 12] = (char)i; /* fresh pages: faults */
    ck_assert_int_eq(dtbi_counters_read(&cs, b, &scaled), 0);
    ck_assert_int_eq(scaled, 0);
    ck_assert_msg(b[0] - a[0] >= (uint64_t)spent * 9 / 10 && b[0] - a[0] <= (uint64_t)spent * 2,
                  "task clock %llu ns for %lld ns of CPU", (unsigned long long)(b[0] - a[0]),
                  (long long)spent);
    ck_assert_uint_ge(b[1], a[1]);
    free(pages);
    dtbi_counters_close(&cs);
    ck_assert_int_eq(cs.n, 0);
    ck_assert_int_eq(dtbi_counters_open(&cs, type, config, 0, &err), -1);
    ck_assert_int_eq(err, EINVAL);
}
END_TEST

/* The /busy loop's hardware counters in the Timer panel, or the one line saying why not. */
START_TEST(test_hardware_counters)
{
    char *id;
    json_t *rec = http_record_for(base, "/busy", &id);
    ck_assert_ptr_nonnull(rec);
    json_t *t = panel(rec, "timer"), *hw = json_object_get(t, "hw");
    char *html = fragment(id, "timer");
    if (hw != NULL) {
        /* 2 ms of a busy loop: millions of instructions and cycles */
        ck_assert_int_gt(json_integer_value(json_object_get(hw, "instructions")), 1000000);
        ck_assert_int_gt(json_integer_value(json_object_get(hw, "cycles")), 1000000);
        ck_assert(json_real_value(json_object_get(hw, "ipc")) > 0.05);
        ck_assert_ptr_nonnull(json_object_get(hw, "cache_misses"));
        ck_assert_ptr_nonnull(json_object_get(hw, "branch_misses"));
        ck_assert_ptr_nonnull(strstr(html, "Instructions per cycle (IPC)"));
        ck_assert_ptr_null(json_object_get(t, "hw_off"));
    } else {
        int level = 99;
        FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(fscanf(f, "%d", &level), 1);
        fclose(f);
        char want[64];
        snprintf(want, sizeof(want), "perf_event_paranoid is %d", level);
        const char *off = json_string_value(json_object_get(t, "hw_off"));
        ck_assert_ptr_nonnull(off);
        ck_assert_msg(strstr(off, want) != NULL, "%s", off);
        ck_assert_msg(strstr(html, want) != NULL, "the Timer panel does not say %s", want);
        ck_assert_ptr_nonnull(strstr(html, "Hardware counters"));
    }
    free(html);
    json_decref(rec);
    free(id);
}
END_TEST

/* ---- the app's signals, and the wall-clock mode (each test starts its own toolbar) ---------- */

static volatile sig_atomic_t app_signals;
static void app_handler(int sig)
{
    (void)sig;
    app_signals++;
}

/* Installs the app's own handler for sig. */
static void app_handles(int sig)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = app_handler;
    sigemptyset(&sa.sa_mask);
    ck_assert_int_eq(sigaction(sig, &sa, NULL), 0);
}

/* The app's handler is still the one for sig. */
static int app_still_handles(int sig)
{
    struct sigaction cur;
    return sigaction(sig, NULL, &cur) == 0 && !(cur.sa_flags & SA_SIGINFO) &&
           cur.sa_handler == app_handler;
}

/* A toolbar with config, its daemon, a profiled request to path: its Profile panel's stats. */
static json_t *profiled(const char *config, const char *path, char **reason_html)
{
    struct dtb_error err = {0};
    char url[128], *id;
    tb = dtb_toolbar_create_from_string(config, "t", &err);
    ck_assert_msg(tb != NULL, "%s", err.text);
    ck_assert_int_eq(dtb_toolbar_start(tb, &err), DTB_OK);
    d = http_toolbar_daemon(tb, app, base);
    ck_assert_ptr_nonnull(d);
    snprintf(url, sizeof(url), "%s?dtb-profile=1", path);
    json_t *rec = http_record_for(base, url, &id);
    ck_assert_ptr_nonnull(rec);
    json_t *p = json_deep_copy(panel(rec, "profile"));
    if (reason_html != NULL)
        *reason_html = fragment(id, "profile");
    json_decref(rec);
    free(id);
    MHD_stop_daemon(d);
    dtb_toolbar_destroy(tb);
    return p;
}

/* An app that handles SIGPROF keeps it: the profiler stays off and the panel says why. */
START_TEST(test_app_keeps_sigprof)
{
    char *html;
    app_handles(SIGPROF);
    json_t *p = profiled("{\"enabled\": true}", "/burn", &html);
    ck_assert(json_is_false(json_object_get(p, "on")));
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(p, "reason")), "SIGPROF"));
    ck_assert_ptr_nonnull(strstr(html, "The profiler is off: "));
    ck_assert_ptr_nonnull(strstr(html, "SIGPROF"));
    ck_assert(app_still_handles(SIGPROF));
    raise(SIGPROF);
    ck_assert_int_eq(app_signals, 1);
    free(html);
    json_decref(p);
}
END_TEST

/* The signal the config names, already the app's: the app keeps it, the profiler is off. */
START_TEST(test_app_keeps_named_signal)
{
    char config[128];
    int sig = SIGRTMIN + 3;
    app_handles(sig);
    snprintf(config, sizeof(config),
             "{\"enabled\": true, \"panel_options\": {\"profile\": {\"signal\": %d}}}", sig);
    json_t *p = profiled(config, "/burn", NULL);
    ck_assert(json_is_false(json_object_get(p, "on")));
    ck_assert_ptr_nonnull(
        strstr(json_string_value(json_object_get(p, "reason")), "already handles signal"));
    ck_assert(app_still_handles(sig));
    json_decref(p);
    /* with no signal named, the profiler takes a free one and the app's stays the app's */
    p = profiled("{\"enabled\": true}", "/burn", NULL);
    ck_assert_msg(json_is_true(json_object_get(p, "on")), "off: %s",
                  json_string_value(json_object_get(p, "reason")));
    ck_assert_int_ne(json_integer_value(json_object_get(p, "signal")), sig);
    ck_assert(app_still_handles(sig));
    json_decref(p);
}
END_TEST

/* Wall-clock mode samples a handler that waits: the CPU mode barely sees it. */
START_TEST(test_wall_mode_sees_waiting)
{
    json_t *p =
        profiled("{\"enabled\": true, \"panel_options\": {\"profile\": {\"mode\": \"wall\"}}}",
                 "/wait", NULL);
    ck_assert_msg(json_is_true(json_object_get(p, "on")), "off: %s",
                  json_string_value(json_object_get(p, "reason")));
    ck_assert_str_eq(json_string_value(json_object_get(p, "mode")), "wall");
    long long wall = samples_in(p, "wait_on_clock");
    /* 60 ms of sleeping at 1 kHz: most of it sampled, however loaded the machine */
    ck_assert_msg(wall >= 20, "wall mode: %lld samples in wait_on_clock", wall);
    json_decref(p);
    p = profiled("{\"enabled\": true}", "/wait", NULL);
    ck_assert_str_eq(json_string_value(json_object_get(p, "mode")), "cpu");
    long long cpu = samples_in(p, "wait_on_clock");
    ck_assert_msg(cpu * 4 < wall, "cpu mode: %lld samples in a sleeping function (wall %lld)", cpu,
                  wall);
    json_decref(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("profile");
    TCase *tc = tcase_create("http");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_cpu_of_busy_loop);
    tcase_add_test(tc, test_small_figures_not_zero);
    tcase_add_test(tc, test_format_units);
    tcase_add_test(tc, test_profile_three_to_one);
    tcase_add_test(tc, test_profile_off_unless_asked);
    tcase_add_test(tc, test_profile_config_errors);
    tcase_add_test(tc, test_counter_group);
    tcase_add_test(tc, test_hardware_counters);
    suite_add_tcase(s, tc);
    TCase *own = tcase_create("signals and wall mode");
    tcase_set_timeout(own, 60);
    tcase_add_test(own, test_app_keeps_sigprof);
    tcase_add_test(own, test_app_keeps_named_signal);
    tcase_add_test(own, test_wall_mode_sees_waiting);
    suite_add_tcase(s, own);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
