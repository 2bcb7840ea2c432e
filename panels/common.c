/*
 * common.c - helpers shared by the panels that the app feeds through <debugtoolbar/state.h>:
 * the current request's panel state, and the "N more not recorded" line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "panels.h"

void *dtbi_current_panel_state(const char *id, struct dtb_request **rq)
{
    struct dtb_request *cur = dtb_request_current();
    if (cur == NULL)
        return NULL;
    if (rq != NULL)
        *rq = cur;
    return dtb_request_panel_state(cur, id);
}

DTB_EXPORT int dtb_recording(void) /* declared in debugtoolbar/state.h */
{
    return dtb_request_current() != NULL;
}

int dtbi_render_omitted(struct dtb_buf *out, const json_t *n)
{
    if (json_integer_value(n) > 0)
        dtb_buf_appendf(out,
                        "<p class=\"dtb-muted\">%lld more not recorded (record_max_pairs, "
                        "record_max_bytes)</p>",
                        (long long)json_integer_value(n));
    return out->failed ? -1 : 0;
}

void dtbi_render_scalar(struct dtb_buf *out, const json_t *v)
{
    dtb_buf_append_str(out, "<code>");
    if (json_is_string(v)) {
        dtb_buf_append_html(out, json_string_value(v), json_string_length(v));
    } else if (v != NULL) {
        char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        dtb_buf_append_html_str(out, t != NULL ? t : "");
        free(t);
    }
    dtb_buf_append_str(out, "</code>");
}

void dtbi_render_site(struct dtb_buf *out, const char *site)
{
    if (site == NULL)
        return;
    const char *func = strstr(site, " (");
    size_t n = func != NULL ? (size_t)(func - site) : strlen(site), colon = n;
    while (colon > 0 && site[colon - 1] >= '0' && site[colon - 1] <= '9')
        colon--;
    /* "?:0" is what a log record without a call site says: no file, no link */
    if (colon < 2 || colon == n || site[colon - 1] != ':' || n - colon > 9 ||
        (colon == 2 && site[0] == '?') || strtol(site + colon, NULL, 10) <= 0) {
        dtb_buf_append_html_str(out, site);
        return;
    }
    dtb_buf_append_str(out, "<span class=\"dtb-src\" data-file=\"");
    dtb_buf_append_html(out, site, colon - 1);
    dtb_buf_appendf(out, "\" data-line=\"%.*s\">", (int)(n - colon), site + colon);
    dtb_buf_append_html_str(out, site);
    dtb_buf_append_str(out, "</span>");
}

void dtbi_render_file_line(struct dtb_buf *out, const char *file, long long line)
{
    if (file == NULL || file[0] == '\0')
        return;
    if (line <= 0 || line > 999999999) {
        dtb_buf_append_html_str(out, file);
        return;
    }
    dtb_buf_append_str(out, "<span class=\"dtb-src\" data-file=\"");
    dtb_buf_append_html_str(out, file);
    dtb_buf_appendf(out, "\" data-line=\"%lld\">", line);
    dtb_buf_append_html_str(out, file);
    dtb_buf_appendf(out, ":%lld</span>", line);
}

static const char *const change_names[] = {"same", "added", "removed", "changed"};

void dtbi_compare_row_start(struct dtb_buf *out, enum dtbi_change change)
{
    const char *name = change_names[change];
    if (change == DTBI_SAME) {
        dtb_buf_append_str(out, "<tr data-change=\"same\"><td></td>");
        return;
    }
    dtb_buf_appendf(out,
                    "<tr class=\"dtb-cmp-%s\" data-change=\"%s\"><td><span class=\"dtb-badge "
                    "%s\">%s</span></td>",
                    name, name,
                    change == DTBI_ADDED     ? "dtb-diff-add"
                    : change == DTBI_REMOVED ? "dtb-diff-del"
                                             : "dtb-warn",
                    name);
}

/* One value of a figures table, in its unit; signed adds "+" to a positive one. */
static void figure(struct dtb_buf *out, double v, const char *unit, int signed_)
{
    char t[32];
    const char *plus = signed_ && v > 0 ? "+" : "";
    if (strcmp(unit, "ms") == 0)
        dtb_buf_appendf(out, "%s%s", plus, dtbi_fmt_ms(v, t, sizeof(t)));
    else if (strcmp(unit, "%") == 0)
        dtb_buf_appendf(out, "%s%.1f%%", plus, v);
    else
        dtb_buf_appendf(out, "%s%.0f", plus, v);
}

void dtbi_compare_figure(struct dtb_buf *out, const char *label, int has_a, double a, int has_b,
                         double b, const char *unit)
{
    enum dtbi_change c = !has_a && has_b   ? DTBI_ADDED
                         : has_a && !has_b ? DTBI_REMOVED
                         : a != b          ? DTBI_CHANGED
                                           : DTBI_SAME;
    dtbi_compare_row_start(out, c);
    dtb_buf_append_str(out, "<th scope=\"row\">");
    dtb_buf_append_html_str(out, label);
    dtb_buf_append_str(out, "</th><td class=\"dtb-num\">");
    if (has_a)
        figure(out, a, unit, 0);
    dtb_buf_append_str(out, "</td><td class=\"dtb-num\">");
    if (has_b)
        figure(out, b, unit, 0);
    dtb_buf_append_str(out, "</td><td class=\"dtb-num\">");
    if (has_a && has_b)
        figure(out, b - a, unit, 1);
    dtb_buf_append_str(out, "</td></tr>");
}

const char *dtbi_fmt_ms(double ms, char *buf, size_t len)
{
    double a = ms < 0 ? -ms : ms;
    if (a == 0.0)
        snprintf(buf, len, "0 ms");
    else if (a < 0.001)
        snprintf(buf, len, "%.0f ns", ms * 1e6);
    else if (a < 0.0995)
        snprintf(buf, len, "%.1f \xC2\xB5s", ms * 1e3);
    else if (a < 0.9995)
        snprintf(buf, len, "%.0f \xC2\xB5s", ms * 1e3);
    else if (a < 999.95)
        snprintf(buf, len, "%.1f ms", ms);
    else
        snprintf(buf, len, "%.2f s", ms / 1e3);
    return buf;
}
