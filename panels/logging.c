/*
 * logging.c - the Logging panel: what the app logged through dtb_log while serving the request,
 * with level, time and call site; the panel filters by level in the browser.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <debugtoolbar/state.h>

#include "panels.h"

#define LOG_MESSAGE_MAX 16384 /* longer messages are cut, and say so */

struct logging_req {
    json_t *records; /* owned by the request */
    int max_level;
};

static const struct {
    int level;
    const char *name;
} levels[] = {{DTB_LOG_DEBUG, "debug"},
              {DTB_LOG_INFO, "info"},
              {DTB_LOG_WARNING, "warning"},
              {DTB_LOG_ERROR, "error"},
              {DTB_LOG_CRITICAL, "critical"}};

static const char *level_name(int level)
{
    const char *name = "debug";
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
        if (level >= levels[i].level)
            name = levels[i].name;
    return name;
}

static void *logging_start(void *state, struct dtb_request *rq)
{
    struct logging_req *st = dtb_request_alloc(rq, sizeof(*st));
    (void)state;
    if (st != NULL)
        st->records = dtb_request_own_json(rq, json_array());
    return st;
}

void dtb_log_at(const char *file, int line, const char *func, int level, const char *fmt, ...)
{
    DTB_TOOLBAR_SCOPE();
    struct dtb_request *rq;
    struct logging_req *st = dtbi_current_panel_state("logging", &rq);
    char small[512], *msg = small;
    va_list ap;
    int n;
    if (st == NULL || st->records == NULL || fmt == NULL)
        return;
    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(small)) {
        size_t cap = (size_t)n < LOG_MESSAGE_MAX ? (size_t)n + 1 : LOG_MESSAGE_MAX;
        msg = malloc(cap);
        if (msg == NULL) {
            msg = small; /* keep what fitted */
        } else {
            va_start(ap, fmt);
            vsnprintf(msg, cap, fmt, ap);
            va_end(ap);
        }
    }
    char site[512];
    snprintf(site, sizeof(site), "%s:%d", file != NULL ? file : "?", line);
    json_t *r =
        json_pack("{s:i,s:s,s:o,s:b,s:o,s:o,s:f}", "level", level, "level_name", level_name(level),
                  "message", dtb_json_text(msg), "cut",
                  (size_t)n >= LOG_MESSAGE_MAX || (msg == small && (size_t)n >= sizeof(small)),
                  "site", dtb_json_text(site), "func", dtb_json_text(func), "at_ms",
                  dtbi_ms(dtb_now_ns() - dtb_request_times(rq)->start_ns));
    if (msg != small)
        free(msg);
    if (json_array_append_new(st->records, r) == 0 && level > st->max_level)
        st->max_level = level;
}

static json_t *logging_to_json(void *state, struct dtb_request *rq, void *req_state)
{
    struct logging_req *st = req_state;
    json_t *counts, *r;
    size_t i;
    (void)state;
    (void)rq;
    if (st == NULL || st->records == NULL)
        return NULL;
    counts = json_object();
    json_array_foreach(st->records, i, r)
    {
        const char *name = json_string_value(json_object_get(r, "level_name"));
        json_object_set_new(counts, name,
                            json_integer(json_integer_value(json_object_get(counts, name)) + 1));
    }
    return json_pack("{s:O,s:o,s:s?}", "records", st->records, "counts", counts, "max_level",
                     json_array_size(st->records) > 0 ? level_name(st->max_level) : NULL);
}

static int logging_subtitle(const json_t *stats, struct dtb_buf *out)
{
    size_t n = json_array_size(json_object_get(stats, "records"));
    const json_t *counts = json_object_get(stats, "counts");
    json_int_t bad = json_integer_value(json_object_get(counts, "warning")) +
                     json_integer_value(json_object_get(counts, "error")) +
                     json_integer_value(json_object_get(counts, "critical"));
    if (n == 0)
        return dtb_buf_append_str(out, "no messages");
    dtb_buf_appendf(out, "%zu message%s", n, n == 1 ? "" : "s");
    if (bad > 0)
        dtb_buf_appendf(out, ", %lld warning or worse", (long long)bad);
    return out->failed ? -1 : 0;
}

/* The history list's "log_warnings" and "log_errors" (errors and critical messages). */
static int logging_summary(const json_t *stats, json_t *fields)
{
    const json_t *counts = json_object_get(stats, "counts");
    json_object_set_new(fields, "log_warnings",
                        json_integer(json_integer_value(json_object_get(counts, "warning"))));
    json_object_set_new(fields, "log_errors",
                        json_integer(json_integer_value(json_object_get(counts, "error")) +
                                     json_integer_value(json_object_get(counts, "critical"))));
    return 0;
}

static int logging_render(const json_t *stats, struct dtb_buf *out)
{
    const json_t *records = json_object_get(stats, "records"), *r;
    size_t i;
    if (json_array_size(records) == 0) {
        dtb_buf_append_str(out, "<p class=\"dtb-muted\">Nothing was logged (dtb_log) while this "
                                "request was served.</p>");
        return out->failed ? -1 : 0;
    }
    dtb_buf_append_str(out, "<p><label>Show <select class=\"dtb-log-filter\">");
    for (size_t k = 0; k < sizeof(levels) / sizeof(levels[0]); k++)
        dtb_buf_appendf(out, "<option value=\"%d\">%s and above</option>", levels[k].level,
                        levels[k].name);
    dtb_buf_append_str(out, "</select></label></p><table class=\"dtb-table dtb-log\"><thead><tr>"
                            "<th>Level</th><th class=\"dtb-num\">At</th><th>Message</th>"
                            "<th>Where</th></tr></thead><tbody>");
    json_array_foreach(records, i, r)
    {
        json_int_t level = json_integer_value(json_object_get(r, "level"));
        const char *name = json_string_value(json_object_get(r, "level_name"));
        dtb_buf_appendf(out, "<tr data-level=\"%lld\"><td><span class=\"dtb-badge%s\">",
                        (long long)level, level >= DTB_LOG_WARNING ? " dtb-warn" : "");
        dtb_buf_append_html_str(out, name != NULL ? name : "?");
        dtb_buf_appendf(out, "</span></td><td class=\"dtb-num\">%.2f ms</td><td><code>",
                        json_real_value(json_object_get(r, "at_ms")));
        dtb_buf_append_html_str(out, json_string_value(json_object_get(r, "message")));
        if (json_is_true(json_object_get(r, "cut")))
            dtb_buf_append_str(out, "\xE2\x80\xA6");
        dtb_buf_append_str(out, "</code></td><td class=\"dtb-muted\">");
        dtbi_render_site(out, json_string_value(json_object_get(r, "site")));
        if (json_is_string(json_object_get(r, "func"))) {
            dtb_buf_append_str(out, " in ");
            dtb_buf_append_html_str(out, json_string_value(json_object_get(r, "func")));
        }
        dtb_buf_append_str(out, "</td></tr>");
    }
    dtb_buf_append_str(out, "</tbody></table>");
    return out->failed ? -1 : 0;
}

const struct dtb_panel_ops dtb_panel_logging = {
    .abi = DTB_PANEL_ABI,
    .id = "logging",
    .title = "Logging",
    .default_on = 1,
    .on_request_start = logging_start,
    .to_json = logging_to_json,
    .nav_subtitle = logging_subtitle,
    .render_html = logging_render,
    .summary = logging_summary,
};
