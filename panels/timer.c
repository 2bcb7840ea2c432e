/*
 * timer.c - the Timer panel: wall time, time in the app's handler, CPU time of the handler's
 * thread (its CPU clock, exact, summed over the handler's calls; the user/system split and the
 * context switches and page faults from RUSAGE_THREAD, whose times advance in scheduler
 * ticks so that split is approximate), the toolbar's own cost,
 * a waterfall of the request's phases, the app's spans (<debugtoolbar/span.h>) and its SQL
 * queries on one time axis, and the app's own Server-Timing metrics. It also writes the
 * Server-Timing header's app/dtb metrics and the top-level spans at queue time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "panels.h"

static double ms(int64_t ns)
{
    return (double)ns / 1e6;
}

/* ---- Server-Timing parser ------------------------------------------------------------------ */

static int is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static const char *skip_ows(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Reads a token or quoted-string value into out (bounded). Returns the position after it,
 * or NULL when malformed. */
static const char *read_value(const char *p, char *out, size_t cap)
{
    size_t n = 0;
    if (*p == '"') {
        p++;
        while (*p != '\0' && *p != '"') {
            if (*p == '\\' && p[1] != '\0')
                p++;
            if (n + 1 < cap)
                out[n++] = *p;
            p++;
        }
        if (*p != '"')
            return NULL;
        out[n] = '\0';
        return p + 1;
    }
    while (is_tchar((unsigned char)*p)) {
        if (n + 1 < cap)
            out[n++] = *p;
        p++;
    }
    out[n] = '\0';
    return n > 0 ? p : NULL;
}

int dtbi_server_timing_parse(const char *header, json_t **out)
{
    const char *p = header;
    json_t *arr = json_array();
    if (arr == NULL)
        return -1;
    while (p != NULL && *p != '\0') {
        char name[128], key[64], val[256];
        size_t n = 0;
        json_t *m = NULL;
        p = skip_ows(p);
        while (is_tchar((unsigned char)*p)) {
            if (n + 1 < sizeof(name))
                name[n++] = *p;
            p++;
        }
        name[n] = '\0';
        if (n > 0)
            m = json_pack("{s:s}", "name", name);
        for (;;) {
            p = skip_ows(p);
            if (*p != ';')
                break;
            p = skip_ows(p + 1);
            size_t k = 0;
            while (is_tchar((unsigned char)*p)) {
                if (k + 1 < sizeof(key))
                    key[k++] = *p;
                p++;
            }
            key[k] = '\0';
            p = skip_ows(p);
            val[0] = '\0';
            if (*p == '=') {
                p = read_value(skip_ows(p + 1), val, sizeof(val));
                if (p == NULL)
                    break;
            }
            if (m == NULL || k == 0)
                continue;
            if (strcasecmp(key, "dur") == 0 && json_object_get(m, "dur") == NULL) {
                char *end;
                double d = strtod(val, &end);
                if (end != val && *end == '\0')
                    json_object_set_new(m, "dur", json_real(d));
            } else if (strcasecmp(key, "desc") == 0 && json_object_get(m, "desc") == NULL) {
                json_t *s = json_string(val);
                if (s != NULL)
                    json_object_set_new(m, "desc", s);
            }
        }
        if (m != NULL)
            json_array_append_new(arr, m);
        /* skip to the next metric (also past anything malformed) */
        if (p == NULL)
            break;
        while (*p != '\0' && *p != ',') {
            if (*p == '"') {
                char dummy[2];
                const char *q = read_value(p, dummy, sizeof(dummy));
                p = q != NULL ? q : p + strlen(p);
                continue;
            }
            p++;
        }
        if (*p == ',')
            p++;
    }
    *out = arr;
    return 0;
}

/* ---- the panel ------------------------------------------------------------------------------ */

static int timer_init(void **state, struct dtb_toolbar *tb, const json_t *conf,
                      struct dtb_error *err)
{
    (void)state, (void)conf, (void)err;
    dtb_toolbar_want_spans(tb); /* the waterfall's spans */
    return 0;
}

struct span_order {
    int64_t start;
    int depth;
    int index;
};

static int by_start(const void *a, const void *b)
{
    const struct span_order *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->depth != y->depth)
        return x->depth < y->depth ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* The spans as [{"name", "kind", "parent", "start_ms", "dur_ms"}] from the request's start,
 * ordered by start (a parent before its children; parent is an index into this list); one
 * still open ends at end. */
static json_t *spans_json(const struct dtb_request *rq, int64_t start, int64_t end)
{
    json_t *arr = json_array();
    size_t n = dtb_request_span_count(rq, NULL);
    struct span_order *order = calloc(n ? n : 1, sizeof(*order));
    int *pos = calloc(n ? n : 1, sizeof(*pos));
    if (arr == NULL || order == NULL || pos == NULL) {
        free(order);
        free(pos);
        json_decref(arr);
        return json_array();
    }
    for (size_t i = 0; i < n; i++) {
        int d = 0;
        for (int p = dtb_request_span(rq, i)->parent; p >= 0 && (size_t)p < n && d < 10000; d++)
            p = dtb_request_span(rq, (size_t)p)->parent;
        order[i] = (struct span_order){dtb_request_span(rq, i)->start_ns, d, (int)i};
    }
    qsort(order, n, sizeof(*order), by_start);
    for (size_t k = 0; k < n; k++)
        pos[order[k].index] = (int)k;
    for (size_t k = 0; k < n; k++) {
        const struct dtb_span_info *r = dtb_request_span(rq, (size_t)order[k].index);
        int64_t e = r->end_ns ? r->end_ns : end;
        char name[121];
        snprintf(name, sizeof(name), "%s", r->name); /* an SQL text is cut at 120 bytes */
        json_array_append_new(
            arr,
            json_pack("{s:o,s:s,s:i,s:f,s:f,s:b}", "name", dtb_json_text(name), "kind", r->kind,
                      "parent", r->parent >= 0 && (size_t)r->parent < n ? pos[r->parent] : -1,
                      "start_ms", ms(r->start_ns - start), "dur_ms",
                      ms(e > r->start_ns ? e - r->start_ns : 0), "open", r->end_ns == 0));
    }
    free(order);
    free(pos);
    return arr;
}

static json_t *timer_to_json(void *state, struct dtb_request *rq, void *req_state)
{
    const struct dtb_request_times *t = dtb_request_times(rq);
    const struct dtb_request_response *resp = dtb_request_response(rq);
    int64_t end = t->end_ns ? t->end_ns : dtb_now_ns();
    int64_t total = end - t->start_ns;
    json_t *upstream = NULL;
    char started[40];
    time_t secs = (time_t)(t->started_unix_ns / 1000000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(started, sizeof(started), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(started + strlen(started), sizeof(started) - strlen(started), ".%03dZ",
             (int)((t->started_unix_ns / 1000000) % 1000));
    if (resp->upstream_server_timing != NULL)
        dtbi_server_timing_parse(resp->upstream_server_timing, &upstream);
    json_t *phases = json_array();
    int64_t first = t->first_handler_ns ? t->first_handler_ns : t->start_ns;
    json_array_append_new(phases, json_pack("{s:s,s:f,s:f}", "name", "request received", "start_ms",
                                            0.0, "dur_ms", ms(first - t->start_ns)));
    int64_t queued = t->queued_ns ? t->queued_ns : end;
    json_array_append_new(phases,
                          json_pack("{s:s,s:f,s:f}", "name", "handler (to queue)", "start_ms",
                                    ms(first - t->start_ns), "dur_ms", ms(queued - first)));
    json_array_append_new(phases, json_pack("{s:s,s:f,s:f}", "name", "response sent", "start_ms",
                                            ms(queued - t->start_ns), "dur_ms", ms(end - queued)));
    json_t *stats = json_pack("{s:f,s:f,s:f,s:f,s:f,s:f,s:s,s:o,s:o}", "total_ms", ms(total),
                              "handler_ms", ms(t->handler_ns), "cpu_user_ms", ms(t->cpu_user_ns),
                              "cpu_sys_ms", ms(t->cpu_sys_ns), "toolbar_ms", ms(t->toolbar_ns),
                              "inject_ms", ms(t->inject_ns), "started_at", started, "phases",
                              phases, "upstream", upstream ? upstream : json_array());
    /* the thread's CPU clock, exact, less the toolbar's own share; its rusage counters */
    int64_t app_cpu = t->cpu_ns - t->toolbar_cpu_ns;
    if (app_cpu < 0)
        app_cpu = 0;
    if (stats != NULL)
        json_object_set_new(stats, "spans", spans_json(rq, t->start_ns, end));
    if (stats != NULL)
        json_object_set_new(stats, "span_clock", json_string(dtb_span_clock()));
    if (stats != NULL)
        json_object_update_new(stats, json_pack("{s:I,s:f,s:I,s:I,s:I,s:I,s:I}", "cpu_ns",
                                                (json_int_t)app_cpu, "cpu_ms", ms(app_cpu),
                                                "toolbar_cpu_ns", (json_int_t)t->toolbar_cpu_ns,
                                                "ctx_voluntary", (json_int_t)t->ctx_voluntary,
                                                "ctx_involuntary", (json_int_t)t->ctx_involuntary,
                                                "faults_minor", (json_int_t)t->faults_minor,
                                                "faults_major", (json_int_t)t->faults_major));
    /* hardware counters, or why there are none */
    if (stats != NULL && t->hw_calls > 0)
        json_object_set_new(
            stats, "hw",
            json_pack("{s:I,s:I,s:I,s:I,s:f,s:b}", "instructions", (json_int_t)t->instructions,
                      "cycles", (json_int_t)t->cycles, "cache_misses", (json_int_t)t->cache_misses,
                      "branch_misses", (json_int_t)t->branch_misses, "ipc",
                      t->cycles > 0 ? (double)t->instructions / (double)t->cycles : 0.0, "scaled",
                      t->hw_scaled > 0));
    else if (stats != NULL && dtb_hw_counters_off_reason() != NULL)
        json_object_set_new(stats, "hw_off", dtb_json_text(dtb_hw_counters_off_reason()));
    return stats;
}

static int timer_server_timing(void *state, struct dtb_request *rq, void *req_state,
                               struct dtb_buf *out)
{
    /* Called while the app's handler is still running (it is queueing its response): the
     * app's time so far is from its first call to now, less the toolbar's own share. */
    const struct dtb_request_times *t = dtb_request_times(rq);
    int64_t now = t->queued_ns ? t->queued_ns : dtb_now_ns();
    int64_t app = (now - t->first_handler_ns) - t->toolbar_ns;
    dtb_buf_appendf(out, "app;dur=%.3f;desc=\"app\", dtb;dur=%.3f;desc=\"debugtoolbar\"",
                    ms(app > 0 ? app : 0), ms(t->toolbar_ns));
    /* the app's finished top-level spans, named as tokens ("load cart" -> load_cart) */
    size_t n = dtb_request_span_count(rq, NULL);
    int listed = 0;
    for (size_t i = 0; i < n && listed < 20; i++) {
        const struct dtb_span_info *r = dtb_request_span(rq, i);
        if (r->parent != -1 || strcmp(r->kind, "span") != 0 || r->end_ns == 0)
            continue;
        dtb_buf_append_str(out, ", ");
        size_t k = 0;
        for (const char *p = r->name; *p != '\0' && k < 40; p++, k++)
            dtb_buf_append(out, is_tchar((unsigned char)*p) ? p : "_", 1);
        if (k == 0)
            dtb_buf_append_str(out, "span");
        dtb_buf_appendf(out, ";dur=%.3f", ms(r->end_ns - r->start_ns));
        listed++;
    }
    return out->failed ? -1 : 0;
}

static double num(const json_t *stats, const char *key)
{
    return json_number_value(json_object_get(stats, key));
}

/* The handler's CPU time: the thread's CPU clock when the record has it (older records: the
 * rusage sum). */
static double cpu_ms(const json_t *stats)
{
    if (json_object_get(stats, "cpu_ms") != NULL)
        return num(stats, "cpu_ms");
    return num(stats, "cpu_user_ms") + num(stats, "cpu_sys_ms");
}

static int timer_subtitle(const json_t *stats, struct dtb_buf *out)
{
    char a[32], b[32];
    return dtb_buf_appendf(out, "%s (CPU %s)", dtbi_fmt_ms(num(stats, "total_ms"), a, sizeof(a)),
                           dtbi_fmt_ms(cpu_ms(stats), b, sizeof(b)));
}

static void row(struct dtb_buf *out, const char *name, double value, const char *unit)
{
    char f[32];
    dtb_buf_append_str(out, "<tr><td>");
    dtb_buf_append_html_str(out, name);
    if (strcmp(unit, "ms") == 0)
        dtb_buf_appendf(out, "</td><td class=\"dtb-num\">%s</td></tr>",
                        dtbi_fmt_ms(value, f, sizeof(f)));
    else
        dtb_buf_appendf(out, "</td><td class=\"dtb-num\">%.0f%s%s</td></tr>", value,
                        unit[0] ? " " : "", unit);
}

static int timer_render(const json_t *stats, struct dtb_buf *out)
{
    double total = num(stats, "total_ms");
    size_t i;
    json_t *p;
    dtb_buf_append_str(out, "<table class=\"dtb-table\"><thead><tr><th>Resource</th>"
                            "<th class=\"dtb-num\">Value</th></tr></thead><tbody>");
    row(out, "Total time", total, "ms");
    row(out, "App handler", num(stats, "handler_ms"), "ms");
    row(out, "CPU of the app's handler (its thread's CPU clock)", cpu_ms(stats), "ms");
    row(out, "of which user (approximate: scheduler ticks)", num(stats, "cpu_user_ms"), "ms");
    row(out, "of which system (approximate: scheduler ticks)", num(stats, "cpu_sys_ms"), "ms");
    if (json_object_get(stats, "ctx_voluntary") != NULL) {
        row(out, "CPU of the toolbar inside the handler (not counted above)",
            num(stats, "toolbar_cpu_ns") / 1e6, "ms");
        row(out, "Context switches, voluntary (waits)", num(stats, "ctx_voluntary"), "");
        row(out, "Context switches, involuntary (preempted)", num(stats, "ctx_involuntary"), "");
        row(out, "Page faults, minor", num(stats, "faults_minor"), "");
        row(out, "Page faults, major (read from disk)", num(stats, "faults_major"), "");
    }
    const json_t *hw = json_object_get(stats, "hw");
    if (hw != NULL) {
        const char *est = json_is_true(json_object_get(hw, "scaled")) ? " (estimated: shared)" : "";
        char label[96];
        snprintf(label, sizeof(label), "Instructions (user space, the handler's thread)%s", est);
        row(out, label, num(hw, "instructions"), "");
        row(out, "Cycles", num(hw, "cycles"), "");
        dtb_buf_appendf(out,
                        "<tr><td>Instructions per cycle (IPC)</td><td class=\"dtb-num\">"
                        "%.2f</td></tr>",
                        num(hw, "ipc"));
        row(out, "Cache misses", num(hw, "cache_misses"), "");
        row(out, "Branch misses", num(hw, "branch_misses"), "");
    } else if (json_object_get(stats, "hw_off") != NULL) {
        dtb_buf_append_str(out, "<tr><td>Hardware counters</td><td class=\"dtb-muted\">off: ");
        dtb_buf_append_html_str(out, json_string_value(json_object_get(stats, "hw_off")));
        dtb_buf_append_str(out, "</td></tr>");
    }
    row(out, "Toolbar overhead (recording, filtering, injecting)", num(stats, "toolbar_ms"), "ms");
    row(out, "of which injection", num(stats, "inject_ms"), "ms");
    dtb_buf_append_str(out, "</tbody></table><p class=\"dtb-muted\">Started ");
    dtb_buf_append_html_str(out, json_string_value(json_object_get(stats, "started_at")));
    dtb_buf_append_str(out, "</p><h4 class=\"dtb-h\">Waterfall</h4><table class=\"dtb-table\">"
                            "<thead><tr><th>Phase, span, query</th><th class=\"dtb-num\">Start</th>"
                            "<th class=\"dtb-num\">Duration</th><th>Timeline</th></tr></thead>"
                            "<tbody>");
    json_array_foreach(json_object_get(stats, "phases"), i, p)
    {
        double start = num(p, "start_ms"), dur = num(p, "dur_ms");
        char fs[32], fd[32];
        dtb_buf_append_str(out, "<tr><td>");
        dtb_buf_append_html_str(out, json_string_value(json_object_get(p, "name")));
        dtb_buf_appendf(out,
                        "</td><td class=\"dtb-num\">%s</td><td class=\"dtb-num\">%s"
                        "</td><td><div class=\"dtb-timeline\"><span class=\"dtb-bar\" "
                        "data-left=\"%.2f\" data-width=\"%.2f\"></span></div></td></tr>",
                        dtbi_fmt_ms(start, fs, sizeof(fs)), dtbi_fmt_ms(dur, fd, sizeof(fd)),
                        total > 0 ? 100.0 * start / total : 0.0,
                        total > 0 ? 100.0 * dur / total : 0.0);
    }
    /* the spans and queries, indented under their parents, on the same axis */
    json_t *spans = json_object_get(stats, "spans");
    size_t nspans = json_array_size(spans);
    int *depth = calloc(nspans ? nspans : 1, sizeof(*depth));
    json_array_foreach(spans, i, p)
    {
        double start = num(p, "start_ms"), dur = num(p, "dur_ms");
        json_int_t parent = json_integer_value(json_object_get(p, "parent"));
        int d = 1;
        if (depth != NULL && parent >= 0 && (size_t)parent < i)
            d = depth[parent] + 1;
        if (depth != NULL)
            depth[i] = d;
        char fs[32], fd[32];
        dtb_buf_append_str(out, "<tr><td>");
        for (int k = 0; k < d && k < 16; k++)
            dtb_buf_append_str(out, "\xC2\xA0\xC2\xA0");
        const char *kind = json_string_value(json_object_get(p, "kind"));
        static const char *const labels[][2] = {
            {"sql", "SQL"}, {"cache", "Cache"}, {"template", "Template"}, {"session", "Session"}};
        for (size_t k = 0; kind != NULL && k < sizeof(labels) / sizeof(labels[0]); k++)
            if (strcmp(kind, labels[k][0]) == 0)
                dtb_buf_appendf(out, "<span class=\"dtb-muted\">%s</span> ", labels[k][1]);
        dtb_buf_append_str(out, "<code>");
        dtb_buf_append_html_str(out, json_string_value(json_object_get(p, "name")));
        dtb_buf_append_str(out, "</code>");
        if (json_is_true(json_object_get(p, "open")))
            dtb_buf_append_str(out, " <span class=\"dtb-muted\">(not ended)</span>");
        dtb_buf_appendf(out,
                        "</td><td class=\"dtb-num\">%s</td><td class=\"dtb-num\">%s"
                        "</td><td><div class=\"dtb-timeline\"><span class=\"dtb-bar\" "
                        "data-left=\"%.2f\" data-width=\"%.2f\"></span></div></td></tr>",
                        dtbi_fmt_ms(start, fs, sizeof(fs)), dtbi_fmt_ms(dur, fd, sizeof(fd)),
                        total > 0 ? 100.0 * start / total : 0.0,
                        total > 0 ? 100.0 * dur / total : 0.0);
    }
    free(depth);
    dtb_buf_append_str(out, "</tbody></table>");
    json_t *up = json_object_get(stats, "upstream");
    if (json_array_size(up) > 0) {
        dtb_buf_append_str(out, "<h4 class=\"dtb-h\">The app's Server-Timing</h4>"
                                "<table class=\"dtb-table\"><thead><tr><th>Metric</th>"
                                "<th>Description</th><th class=\"dtb-num\">Duration</th></tr>"
                                "</thead><tbody>");
        json_array_foreach(up, i, p)
        {
            dtb_buf_append_str(out, "<tr><td>");
            dtb_buf_append_html_str(out, json_string_value(json_object_get(p, "name")));
            dtb_buf_append_str(out, "</td><td>");
            dtb_buf_append_html_str(out, json_string_value(json_object_get(p, "desc")));
            char fd[32];
            if (json_object_get(p, "dur") != NULL)
                dtb_buf_appendf(out, "</td><td class=\"dtb-num\">%s</td></tr>",
                                dtbi_fmt_ms(num(p, "dur"), fd, sizeof(fd)));
            else
                dtb_buf_append_str(out, "</td><td class=\"dtb-num\">\xE2\x80\x94</td></tr>");
        }
        dtb_buf_append_str(out, "</tbody></table>");
    }
    return out->failed ? -1 : 0;
}

const struct dtb_panel_ops dtb_panel_timer = {
    .abi = DTB_PANEL_ABI,
    .id = "timer",
    .title = "Timer",
    .default_on = 1,
    .init = timer_init,
    .to_json = timer_to_json,
    .nav_subtitle = timer_subtitle,
    .render_html = timer_render,
    .server_timing = timer_server_timing,
};
