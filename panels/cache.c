/*
 * cache.c - the Cache panel: every cache operation the app reported (dtb_cache_record) with
 * its key, hit or miss, timeout and time, and the request's hit ratio. Its compare view puts
 * two requests' figures side by side and, per operation and key, what each request got.
 */
#include <stdio.h>
#include <string.h>

#include <debugtoolbar/state.h>

#include "panels.h"

struct cache_req {
    json_t *calls; /* owned by the request */
    long hits, misses;
    int64_t total_ns;
};

static void *cache_start(void *state, struct dtb_request *rq)
{
    struct cache_req *st = dtb_request_alloc(rq, sizeof(*st));
    (void)state;
    if (st != NULL)
        st->calls = dtb_request_own_json(rq, json_array());
    return st;
}

void dtb_cache_record(const char *op, const char *key, int hit, long timeout_s, int64_t duration_ns)
{
    DTB_TOOLBAR_SCOPE();
    struct dtb_request *rq;
    struct cache_req *st = dtbi_current_panel_state("cache", &rq);
    if (st == NULL || st->calls == NULL)
        return;
    const struct dtb_request_times *t = dtb_request_times(rq);
    json_t *c = json_pack(
        "{s:o,s:o,s:o,s:I,s:I,s:f}", "op", dtb_json_text(op ? op : "?"), "key",
        dtb_json_text(key ? key : ""), "hit", hit < 0 ? json_null() : json_boolean(hit), "timeout",
        (json_int_t)timeout_s, "duration_ns", (json_int_t)(duration_ns >= 0 ? duration_ns : -1),
        "at_ms", dtbi_ms(dtb_now_ns() - t->start_ns));
    if (json_array_append_new(st->calls, c) != 0)
        return;
    if (hit > 0)
        st->hits++;
    else if (hit == 0)
        st->misses++;
    if (duration_ns > 0)
        st->total_ns += duration_ns;
    if (duration_ns >= 0) {
        /* a span on the waterfall, ended now: "get view:/" */
        char head[24];
        size_t n = (size_t)snprintf(head, sizeof(head), "%.16s ", op ? op : "?");
        size_t k = key != NULL ? strnlen(key, 100) : 0;
        char *name = dtb_request_alloc(rq, n + k + 1);
        if (name != NULL) {
            memcpy(name, head, n);
            memcpy(name + n, key != NULL ? key : "", k);
            dtb_span_add(rq, "cache", name, dtb_now_ns() - duration_ns, duration_ns);
        }
    }
}

static json_t *cache_to_json(void *state, struct dtb_request *rq, void *req_state)
{
    struct cache_req *st = req_state;
    (void)state;
    (void)rq;
    if (st == NULL || st->calls == NULL)
        return NULL;
    long lookups = st->hits + st->misses;
    return json_pack("{s:O,s:I,s:I,s:I,s:o}", "calls", st->calls, "hits", (json_int_t)st->hits,
                     "misses", (json_int_t)st->misses, "total_ns", (json_int_t)st->total_ns,
                     "hit_ratio",
                     lookups > 0 ? json_real((double)st->hits / (double)lookups) : json_null());
}

static int cache_subtitle(const json_t *stats, struct dtb_buf *out)
{
    size_t n = json_array_size(json_object_get(stats, "calls"));
    if (n == 0)
        return dtb_buf_append_str(out, "no calls");
    json_int_t h = json_integer_value(json_object_get(stats, "hits"));
    json_int_t m = json_integer_value(json_object_get(stats, "misses"));
    return dtb_buf_appendf(out, "%zu call%s, %lld hit%s, %lld miss%s", n, n == 1 ? "" : "s",
                           (long long)h, h == 1 ? "" : "s", (long long)m, m == 1 ? "" : "es");
}

static int cache_render(const json_t *stats, struct dtb_buf *out)
{
    const json_t *calls = json_object_get(stats, "calls"), *c;
    const json_t *ratio = json_object_get(stats, "hit_ratio");
    size_t i;
    if (json_array_size(calls) == 0) {
        dtb_buf_append_str(out, "<p class=\"dtb-muted\">No cache calls in this request.</p>");
        return out->failed ? -1 : 0;
    }
    dtb_buf_appendf(out,
                    "<p><strong>%zu</strong> call%s: <strong>%lld</strong> hit%s, "
                    "<strong>%lld</strong> miss%s",
                    json_array_size(calls), json_array_size(calls) == 1 ? "" : "s",
                    (long long)json_integer_value(json_object_get(stats, "hits")),
                    json_integer_value(json_object_get(stats, "hits")) == 1 ? "" : "s",
                    (long long)json_integer_value(json_object_get(stats, "misses")),
                    json_integer_value(json_object_get(stats, "misses")) == 1 ? "" : "es");
    if (json_is_real(ratio))
        dtb_buf_appendf(out, ", hit ratio <strong>%.0f%%</strong>", 100.0 * json_real_value(ratio));
    char f[32];
    dtb_buf_appendf(
        out, ", %s in the cache.</p>",
        dtbi_fmt_ms(dtbi_ms(json_integer_value(json_object_get(stats, "total_ns"))), f, sizeof(f)));
    dtb_buf_append_str(out, "<table class=\"dtb-table\"><thead><tr><th>#</th><th>Op</th>"
                            "<th>Key</th><th>Result</th><th class=\"dtb-num\">Timeout</th>"
                            "<th class=\"dtb-num\">Time</th><th class=\"dtb-num\">At</th>"
                            "</tr></thead><tbody>");
    json_array_foreach(calls, i, c)
    {
        const json_t *hit = json_object_get(c, "hit");
        json_int_t timeout = json_integer_value(json_object_get(c, "timeout"));
        json_int_t dur = json_integer_value(json_object_get(c, "duration_ns"));
        dtb_buf_appendf(out, "<tr><td class=\"dtb-num\">%zu</td><td>", i + 1);
        dtb_buf_append_html_str(out, json_string_value(json_object_get(c, "op")));
        dtb_buf_append_str(out, "</td><td>");
        dtbi_render_scalar(out, json_object_get(c, "key"));
        dtb_buf_append_str(out, "</td><td>");
        if (json_is_boolean(hit))
            dtb_buf_append_str(out, json_is_true(hit)
                                        ? "<span class=\"dtb-badge\">hit</span>"
                                        : "<span class=\"dtb-badge dtb-warn\">miss</span>");
        dtb_buf_append_str(out, "</td><td class=\"dtb-num\">");
        if (timeout >= 0)
            dtb_buf_appendf(out, "%lld s", (long long)timeout);
        dtb_buf_append_str(out, "</td><td class=\"dtb-num\">");
        if (dur >= 0)
            dtb_buf_append_str(out, dtbi_fmt_ms(dtbi_ms(dur), f, sizeof(f)));
        dtb_buf_appendf(out, "</td><td class=\"dtb-num\">%s</td></tr>",
                        dtbi_fmt_ms(json_real_value(json_object_get(c, "at_ms")), f, sizeof(f)));
    }
    dtb_buf_append_str(out, "</tbody></table>");
    return out->failed ? -1 : 0;
}

/* ---- compare view ---------------------------------------------------------------------- */

/* Adds side's calls to items (an array of {"op", "key", "a", "b"}, where "a" and "b" count
 * each outcome: {"hit", "miss", "done"}); index maps "op\nkey" to an item's position.
 * Returns 0 or -1. */
static int collect(json_t *items, json_t *index, const json_t *calls, const char *side)
{
    const json_t *c;
    size_t i;
    struct dtb_buf k;
    dtb_buf_init(&k);
    json_array_foreach(calls, i, c)
    {
        const char *op = json_string_value(json_object_get(c, "op"));
        const char *key = json_string_value(json_object_get(c, "key"));
        const json_t *hit = json_object_get(c, "hit");
        const char *what = json_is_true(hit) ? "hit" : json_is_false(hit) ? "miss" : "done";
        dtb_buf_reset(&k);
        dtb_buf_appendf(&k, "%s\n%s", op ? op : "?", key ? key : "");
        if (k.failed)
            break;
        json_t *pos = json_object_get(index, k.data), *item, *counts;
        if (pos == NULL) {
            item = json_pack("{s:s,s:s}", "op", op ? op : "?", "key", key ? key : "");
            if (item == NULL ||
                json_object_set_new(index, k.data,
                                    json_integer((json_int_t)json_array_size(items))) != 0 ||
                json_array_append_new(items, item) != 0) {
                k.failed = 1;
                break;
            }
        } else {
            item = json_array_get(items, (size_t)json_integer_value(pos));
        }
        counts = json_object_get(item, side);
        if (counts == NULL) {
            counts = json_pack("{s:I,s:I,s:I}", "hit", 0, "miss", 0, "done", 0);
            if (counts == NULL || json_object_set_new(item, side, counts) != 0) {
                k.failed = 1;
                break;
            }
        }
        json_object_set_new(counts, what,
                            json_integer(json_integer_value(json_object_get(counts, what)) + 1));
    }
    int rc = k.failed ? -1 : 0;
    dtb_buf_free(&k);
    return rc;
}

/* One side's outcomes for a key: "hit", "miss", "2 hits, 1 miss", or a dash when none. */
static void outcomes(struct dtb_buf *out, const json_t *counts)
{
    static const char *const names[][2] = {{"hit", "hits"}, {"miss", "misses"}, {"done", "done"}};
    json_int_t n[3], calls = 0;
    const char *sep = "";
    if (counts == NULL) {
        dtb_buf_append_str(out, "\xE2\x80\x94");
        return;
    }
    for (int i = 0; i < 3; i++)
        calls += n[i] = json_integer_value(json_object_get(counts, names[i][0]));
    for (int i = 0; i < 3; i++) {
        if (n[i] == 0)
            continue;
        if (calls == 1)
            dtb_buf_append_str(out, names[i][0]);
        else
            dtb_buf_appendf(out, "%s%lld %s", sep, (long long)n[i], names[i][n[i] != 1]);
        sep = ", ";
    }
}

static void figures(struct dtb_buf *out, const json_t *a, const json_t *b, const char *label,
                    const char *key, const char *unit)
{
    const json_t *x = json_object_get(a, key), *y = json_object_get(b, key);
    double scale = strcmp(unit, "ms") == 0 ? 1e-6 : strcmp(unit, "%") == 0 ? 100.0 : 1.0;
    dtbi_compare_figure(out, label, json_is_number(x), json_number_value(x) * scale,
                        json_is_number(y), json_number_value(y) * scale, unit);
}

static int cache_compare(const json_t *a, const json_t *b, struct dtb_buf *out)
{
    const json_t *ca = json_object_get(a, "calls"), *cb = json_object_get(b, "calls"), *item;
    json_t *items = json_array(), *index = json_object();
    json_t *na = json_integer((json_int_t)json_array_size(ca));
    json_t *nb = json_integer((json_int_t)json_array_size(cb));
    size_t i;
    int rc = 0;
    if (items == NULL || index == NULL || na == NULL || nb == NULL ||
        collect(items, index, ca, "a") != 0 || collect(items, index, cb, "b") != 0) {
        rc = -1;
        goto done;
    }
    if (json_array_size(items) == 0) {
        dtb_buf_append_str(out, "<p class=\"dtb-muted\">Neither request made cache calls.</p>");
        goto done;
    }
    dtb_buf_append_str(out, "<div class=\"dtb-cmp-view dtb-cmp-cache\">"
                            "<table class=\"dtb-table dtb-cmp-figures\"><thead><tr><th></th>"
                            "<th></th><th class=\"dtb-num\">A</th><th class=\"dtb-num\">B</th>"
                            "<th class=\"dtb-num\">B \xE2\x88\x92 A</th></tr></thead><tbody>");
    dtbi_compare_figure(out, "calls", 1, (double)json_integer_value(na), 1,
                        (double)json_integer_value(nb), "");
    figures(out, a, b, "hits", "hits", "");
    figures(out, a, b, "misses", "misses", "");
    figures(out, a, b, "hit ratio", "hit_ratio", "%");
    figures(out, a, b, "time in the cache", "total_ns", "ms");
    dtb_buf_append_str(out, "</tbody></table><h4 class=\"dtb-h\">Calls by key</h4>"
                            "<table class=\"dtb-table dtb-cmp-keys\"><thead><tr><th></th>"
                            "<th>Op</th><th>Key</th><th>A</th><th>B</th></tr></thead><tbody>");
    json_array_foreach(items, i, item)
    {
        const json_t *x = json_object_get(item, "a"), *y = json_object_get(item, "b");
        dtbi_compare_row_start(out, x == NULL           ? DTBI_ADDED
                                    : y == NULL         ? DTBI_REMOVED
                                    : !json_equal(x, y) ? DTBI_CHANGED
                                                        : DTBI_SAME);
        dtb_buf_append_str(out, "<td>");
        dtb_buf_append_html_str(out, json_string_value(json_object_get(item, "op")));
        dtb_buf_append_str(out, "</td><td>");
        dtbi_render_scalar(out, json_object_get(item, "key"));
        dtb_buf_append_str(out, "</td><td>");
        outcomes(out, x);
        dtb_buf_append_str(out, "</td><td>");
        outcomes(out, y);
        dtb_buf_append_str(out, "</td></tr>");
    }
    dtb_buf_append_str(out, "</tbody></table></div>");
done:
    json_decref(items);
    json_decref(index);
    json_decref(na);
    json_decref(nb);
    return rc != 0 || out->failed ? -1 : 0;
}

const struct dtb_panel_ops dtb_panel_cache = {
    .abi = DTB_PANEL_ABI,
    .id = "cache",
    .title = "Cache",
    .default_on = 1,
    .on_request_start = cache_start,
    .to_json = cache_to_json,
    .nav_subtitle = cache_subtitle,
    .render_html = cache_render,
    .compare_html = cache_compare,
};
