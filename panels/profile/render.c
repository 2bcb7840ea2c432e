/*
 * render.c - the Profile panel's views, from the stored profile only: the nav line, the
 * fragment (a top-functions table with file:line editor links, the stacks profile.js draws as
 * a flame graph, and downloads in the collapsed-stack format of flamegraph.pl and inferno and
 * in speedscope's file format), and the comparison of two requests' top functions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile_int.h"

/* ---- output formats ---------------------------------------------------------------------- */

/* A frame's name for the collapsed format: ';' separates frames and a line is one stack. */
static void folded_name(struct dtb_buf *out, const json_t *frames, json_int_t i)
{
    const char *s = json_string_value(json_object_get(json_array_get(frames, (size_t)i), "name"));
    for (; s != NULL && *s != '\0'; s++)
        dtb_buf_append(out, *s == ';' || *s == '\n' || *s == '\r' ? ":" : s, 1);
    if (s == NULL)
        dtb_buf_append_str(out, "?");
}

static int folded_text(const json_t *stats, struct dtb_buf *out)
{
    const json_t *frames = json_object_get(stats, "frames");
    size_t i, k;
    json_t *st, *f;
    json_array_foreach(json_object_get(stats, "stacks"), i, st)
    {
        json_array_foreach(json_object_get(st, "f"), k, f)
        {
            if (k > 0)
                dtb_buf_append_str(out, ";");
            folded_name(out, frames, json_integer_value(f));
        }
        dtb_buf_appendf(out, " %lld\n", (long long)json_integer_value(json_object_get(st, "n")));
    }
    return out->failed ? -1 : 0;
}

static json_t *speedscope(const json_t *stats, const char *name)
{
    const json_t *frames = json_object_get(stats, "frames");
    json_int_t interval = json_integer_value(json_object_get(stats, "interval_ns"));
    json_t *sframes = json_array(), *samples = json_array(), *weights = json_array();
    json_int_t total = 0;
    size_t i;
    json_t *v;
    json_array_foreach(frames, i, v)
    {
        json_t *f = json_pack("{s:O}", "name", json_object_get(v, "name"));
        if (json_object_get(v, "file") != NULL)
            json_object_set(f, "file", json_object_get(v, "file"));
        if (json_object_get(v, "line") != NULL)
            json_object_set(f, "line", json_object_get(v, "line"));
        json_array_append_new(sframes, f);
    }
    json_array_foreach(json_object_get(stats, "stacks"), i, v)
    {
        json_int_t w = json_integer_value(json_object_get(v, "n")) * interval;
        json_array_append(samples, json_object_get(v, "f"));
        json_array_append_new(weights, json_integer(w));
        total += w;
    }
    return json_pack("{s:s,s:{s:o},s:[{s:s,s:s,s:s,s:i,s:I,s:o,s:o}],s:s,s:i,s:s}", "$schema",
                     "https://www.speedscope.app/file-format-schema.json", "shared", "frames",
                     sframes, "profiles", "type", "sampled", "name", name, "unit", "nanoseconds",
                     "startValue", 0, "endValue", total, "samples", samples, "weights", weights,
                     "name", name, "activeProfileIndex", 0, "exporter",
                     "debugtoolbar " DTB_VERSION);
}

/* ---- the panel's text and fragment ------------------------------------------------------- */

struct fn_stat {
    json_int_t self, total;
    json_int_t seen; /* the last stack counted in total (a recursive function counts once) */
};

/* Self and total samples per frame. Returns a calloc'd array of json_array_size(frames). */
static struct fn_stat *function_stats(const json_t *stats, json_int_t *all)
{
    const json_t *frames = json_object_get(stats, "frames");
    size_t nf = json_array_size(frames), i, k;
    struct fn_stat *fs = calloc(nf ? nf : 1, sizeof(*fs));
    json_t *st, *f;
    *all = 0;
    if (fs == NULL)
        return NULL;
    json_array_foreach(json_object_get(stats, "stacks"), i, st)
    {
        json_int_t n = json_integer_value(json_object_get(st, "n"));
        const json_t *ids = json_object_get(st, "f");
        size_t depth = json_array_size(ids);
        *all += n;
        json_array_foreach(ids, k, f)
        {
            json_int_t id = json_integer_value(f);
            if (id < 0 || (size_t)id >= nf)
                continue;
            if (fs[id].seen != (json_int_t)i + 1) {
                fs[id].seen = (json_int_t)i + 1;
                fs[id].total += n;
            }
            if (k + 1 == depth)
                fs[id].self += n;
        }
    }
    return fs;
}

int dtbi_profile_subtitle(const json_t *stats, struct dtb_buf *out)
{
    if (!json_is_true(json_object_get(stats, "on")))
        return dtb_buf_append_str(out, json_object_get(stats, "reason") ? "off: unavailable"
                                                                        : "off (?dtb-profile=1)");
    json_int_t all;
    struct fn_stat *fs = function_stats(stats, &all);
    size_t best = 0, nf = json_array_size(json_object_get(stats, "frames"));
    for (size_t i = 1; fs != NULL && i < nf; i++)
        if (fs[i].self > fs[best].self)
            best = i;
    if (fs == NULL || all == 0)
        dtb_buf_appendf(out, "%lld samples", (long long)all);
    else
        dtb_buf_appendf(out, "%lld samples, %s %.0f%%", (long long)all,
                        json_string_value(json_object_get(
                            json_array_get(json_object_get(stats, "frames"), best), "name")),
                        100.0 * (double)fs[best].self / (double)all);
    free(fs);
    return out->failed ? -1 : 0;
}

static int by_self(const void *a, const void *b, void *arg)
{
    const struct fn_stat *fs = arg;
    const struct fn_stat *x = &fs[*(const size_t *)a], *y = &fs[*(const size_t *)b];
    if (x->self != y->self)
        return x->self < y->self ? 1 : -1;
    return x->total < y->total ? 1 : x->total > y->total ? -1 : 0;
}

/* A JSON text made safe inside <script type="application/json">: '<', '>' and '&' escaped
 * as \u sequences (they can occur only inside strings there). */
static void append_json_block(struct dtb_buf *out, const char *cls, const json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII);
    dtb_buf_appendf(out, "<script type=\"application/json\" class=\"%s\">", cls);
    for (const char *p = text; p != NULL && *p != '\0'; p++) {
        if (*p == '<')
            dtb_buf_append_str(out, "\\u003c");
        else if (*p == '>')
            dtb_buf_append_str(out, "\\u003e");
        else if (*p == '&')
            dtb_buf_append_str(out, "\\u0026");
        else
            dtb_buf_append(out, p, 1);
    }
    dtb_buf_append_str(out, "</script>");
    if (text == NULL)
        out->failed = 1;
    free(text);
}

int dtbi_profile_render(const json_t *stats, struct dtb_buf *out)
{
    const json_t *frames = json_object_get(stats, "frames");
    dtb_buf_append_str(out, "<div class=\"dtb-profile\" data-dtb-module=\"profile.js\">"
                            "<p><button type=\"button\" class=\"dtb-btn dtb-profile-switch\">"
                            "Profile this browser's requests</button> ");
    if (!json_is_true(json_object_get(stats, "on"))) {
        const char *why = json_string_value(json_object_get(stats, "reason"));
        if (why != NULL) {
            dtb_buf_append_str(out, "The profiler is off: ");
            dtb_buf_append_html_str(out, why);
            dtb_buf_append_str(out, ".</p></div>");
        } else {
            dtb_buf_append_str(out, "This request was not profiled. Add <code>?dtb-profile=1"
                                    "</code> to a URL, or turn the switch on to profile the "
                                    "next requests of this browser.</p></div>");
        }
        return out->failed ? -1 : 0;
    }
    json_int_t all;
    struct fn_stat *fs = function_stats(stats, &all);
    size_t nf = json_array_size(frames);
    dtb_buf_appendf(
        out, "%lld samples (%lld signals) of %s time at %lld Hz (one every %s)", (long long)all,
        (long long)json_integer_value(json_object_get(stats, "signals")),
        strcmp(json_string_value(json_object_get(stats, "mode")), "wall") == 0 ? "wall-clock"
                                                                               : "CPU",
        (long long)json_integer_value(json_object_get(stats, "rate_hz")),
        dtbi_fmt_ms((double)json_integer_value(json_object_get(stats, "interval_ns")) / 1e6,
                    (char[32]){0}, 32));
    if (json_integer_value(json_object_get(stats, "dropped")) > 0)
        dtb_buf_appendf(out, "; %lld dropped (buffer full)",
                        (long long)json_integer_value(json_object_get(stats, "dropped")));
    dtb_buf_append_str(out,
                       ". <a href=\"#\" class=\"dtb-btn dtb-profile-dl\" data-format=\"folded\" "
                       "download=\"profile.folded\">Collapsed stacks</a> "
                       "<a href=\"#\" class=\"dtb-btn dtb-profile-dl\" data-format=\"speedscope\" "
                       "download=\"profile.speedscope.json\">speedscope</a></p>"
                       "<div class=\"dtb-flame\" aria-label=\"Flame graph\"></div>");
    dtb_buf_append_str(out, "<h4 class=\"dtb-h\">Top functions</h4><table class=\"dtb-table\">"
                            "<thead><tr><th>Function</th><th>Where</th>"
                            "<th class=\"dtb-num\">Self</th><th class=\"dtb-num\">Total</th>"
                            "</tr></thead><tbody>");
    size_t *order = calloc(nf ? nf : 1, sizeof(*order));
    if (fs != NULL && order != NULL) {
        for (size_t i = 0; i < nf; i++)
            order[i] = i;
        qsort_r(order, nf, sizeof(*order), by_self, fs);
        for (size_t j = 0; j < nf && j < 50; j++) {
            const json_t *f = json_array_get(frames, order[j]);
            const struct fn_stat *x = &fs[order[j]];
            dtb_buf_append_str(out, "<tr><td><code>");
            dtb_buf_append_html_str(out, json_string_value(json_object_get(f, "name")));
            dtb_buf_append_str(out, "</code></td><td>");
            if (json_object_get(f, "file") != NULL) { /* an editor link in the UI */
                dtbi_render_file_line(out, json_string_value(json_object_get(f, "file")),
                                      (long long)json_integer_value(json_object_get(f, "line")));
                dtb_buf_append_str(out, " ");
            }
            dtb_buf_append_str(out, "<span class=\"dtb-muted\">");
            dtb_buf_append_html_str(out, json_string_value(json_object_get(f, "module")));
            dtb_buf_appendf(out,
                            "</span></td><td class=\"dtb-num\">%.1f%% (%lld)</td>"
                            "<td class=\"dtb-num\">%.1f%% (%lld)</td></tr>",
                            all ? 100.0 * (double)x->self / (double)all : 0.0, (long long)x->self,
                            all ? 100.0 * (double)x->total / (double)all : 0.0,
                            (long long)x->total);
        }
    }
    free(order);
    free(fs);
    dtb_buf_append_str(out, "</tbody></table>");
    /* the data the flame graph and the downloads are made from */
    append_json_block(out, "dtb-profile-data", stats);
    struct dtb_buf folded;
    dtb_buf_init(&folded);
    folded_text(stats, &folded);
    dtb_buf_append_str(out, "<pre class=\"dtb-profile-folded\" hidden>");
    dtb_buf_append_html(out, folded.data ? folded.data : "", folded.len);
    dtb_buf_append_str(out, "</pre>");
    if (folded.failed)
        out->failed = 1;
    dtb_buf_free(&folded);
    json_t *ss = speedscope(stats, "debugtoolbar profile");
    if (ss == NULL)
        out->failed = 1;
    else
        append_json_block(out, "dtb-profile-speedscope", ss);
    json_decref(ss);
    dtb_buf_append_str(out, "</div>");
    return out->failed ? -1 : 0;
}

/* ---- compare view: the top functions of two profiles ------------------------------------- */

/* A function in either profile: frames are matched by name and module (a frame's index is
 * its record's own). Shares are percent of that profile's samples. */
struct cmp_fn {
    const json_t *frame; /* A's frame when A has it, else B's */
    int in_a, in_b;
    double self_a, total_a, self_b, total_b;
};

/* "name\tmodule" of frame f into key. */
static void frame_key(struct dtb_buf *key, const json_t *f)
{
    const char *m = json_string_value(json_object_get(f, "module"));
    dtb_buf_reset(key);
    dtb_buf_appendf(key, "%s\t%s", json_string_value(json_object_get(f, "name")) ?: "?",
                    m ? m : "");
}

/* Adds one profile's functions to fns (grown as needed; index maps keys to positions).
 * Returns 0 or -1. */
static int cmp_collect(const json_t *stats, int side, struct cmp_fn **fns, size_t *n, size_t *cap,
                       json_t *index)
{
    const json_t *frames = json_object_get(stats, "frames");
    size_t nf = json_array_size(frames);
    json_int_t all;
    struct fn_stat *fs;
    struct dtb_buf key;
    int rc = 0;
    if (!json_is_true(json_object_get(stats, "on")))
        return 0;
    fs = function_stats(stats, &all);
    if (fs == NULL)
        return -1;
    dtb_buf_init(&key);
    for (size_t i = 0; i < nf && rc == 0; i++) {
        const json_t *f = json_array_get(frames, i);
        double self = all ? 100.0 * (double)fs[i].self / (double)all : 0.0;
        double total = all ? 100.0 * (double)fs[i].total / (double)all : 0.0;
        frame_key(&key, f);
        json_t *pos = key.failed ? NULL : json_object_get(index, key.data);
        struct cmp_fn *e;
        if (key.failed) {
            rc = -1;
            break;
        }
        if (pos != NULL) {
            e = &(*fns)[json_integer_value(pos)];
        } else {
            if (*n == *cap) {
                size_t c = *cap ? *cap * 2 : 64;
                struct cmp_fn *g = realloc(*fns, c * sizeof(*g));
                if (g == NULL) {
                    rc = -1;
                    break;
                }
                *fns = g;
                *cap = c;
            }
            if (json_object_set_new(index, key.data, json_integer((json_int_t)*n)) != 0) {
                rc = -1;
                break;
            }
            e = &(*fns)[(*n)++];
            memset(e, 0, sizeof(*e));
            e->frame = f;
        }
        if (side == 0) {
            e->in_a = 1;
            e->self_a += self;
            e->total_a += total;
        } else {
            e->in_b = 1;
            e->self_b += self;
            e->total_b += total;
        }
    }
    dtb_buf_free(&key);
    free(fs);
    return rc;
}

static double cmp_abs(double v)
{
    return v < 0 ? -v : v;
}

/* Largest change of self share first, then the larger self share. */
static int by_change(const void *x, const void *y)
{
    const struct cmp_fn *a = x, *b = y;
    double da = cmp_abs(a->self_b - a->self_a), db = cmp_abs(b->self_b - b->self_a);
    double ma = a->self_a > a->self_b ? a->self_a : a->self_b;
    double mb = b->self_a > b->self_b ? b->self_a : b->self_b;
    if (da != db)
        return da < db ? 1 : -1;
    return ma < mb ? 1 : ma > mb ? -1 : 0;
}

/* One side's samples, mode and rate, or why it has none. */
static void cmp_side(struct dtb_buf *out, const char *name, const json_t *stats)
{
    dtb_buf_appendf(out, "<li>%s: ", name);
    if (stats == NULL) {
        dtb_buf_append_str(out, "no profile recorded");
    } else if (!json_is_true(json_object_get(stats, "on"))) {
        const char *why = json_string_value(json_object_get(stats, "reason"));
        dtb_buf_append_str(out, "not profiled");
        if (why != NULL) {
            dtb_buf_append_str(out, " (");
            dtb_buf_append_html_str(out, why);
            dtb_buf_append_str(out, ")");
        }
    } else {
        json_int_t all;
        free(function_stats(stats, &all));
        dtb_buf_appendf(out, "%lld samples of %s time at %lld Hz", (long long)all,
                        strcmp(json_string_value(json_object_get(stats, "mode")) ?: "", "wall") == 0
                            ? "wall-clock"
                            : "CPU",
                        (long long)json_integer_value(json_object_get(stats, "rate_hz")));
    }
    dtb_buf_append_str(out, "</li>");
}

int dtbi_profile_compare(const json_t *a, const json_t *b, struct dtb_buf *out)
{
    struct cmp_fn *fns = NULL;
    size_t n = 0, cap = 0;
    json_t *index = json_object();
    int rc = 0;
    if (index == NULL || cmp_collect(a, 0, &fns, &n, &cap, index) != 0 ||
        cmp_collect(b, 1, &fns, &n, &cap, index) != 0) {
        rc = -1;
        goto done;
    }
    dtb_buf_append_str(out, "<div class=\"dtb-cmp-view dtb-cmp-profile\"><ul>");
    cmp_side(out, "A", a);
    cmp_side(out, "B", b);
    dtb_buf_append_str(out, "</ul>");
    if (n == 0) {
        dtb_buf_append_str(out, "<p class=\"dtb-muted\">No samples to compare: profile both "
                                "requests (<code>?dtb-profile=1</code>).</p></div>");
        goto done;
    }
    qsort(fns, n, sizeof(*fns), by_change);
    dtb_buf_append_str(
        out, "<p class=\"dtb-muted\">Shares of each request's own samples, largest change of "
             "self time first; the difference is in percentage points.</p>"
             "<table class=\"dtb-table dtb-cmp-functions\"><thead><tr><th></th>"
             "<th>Function</th><th>Where</th><th class=\"dtb-num\">Self A</th>"
             "<th class=\"dtb-num\">Self B</th><th class=\"dtb-num\">\xCE\x94 self</th>"
             "<th class=\"dtb-num\">Total A</th><th class=\"dtb-num\">Total B</th>"
             "<th class=\"dtb-num\">\xCE\x94 total</th></tr></thead><tbody>");
    for (size_t i = 0; i < n && i < 50; i++) {
        const struct cmp_fn *e = &fns[i];
        const json_t *f = e->frame;
        /* under half a point either way is sampling noise, not a change */
        int moved =
            cmp_abs(e->self_b - e->self_a) >= 0.5 || cmp_abs(e->total_b - e->total_a) >= 0.5;
        dtbi_compare_row_start(out, !e->in_a   ? DTBI_ADDED
                                    : !e->in_b ? DTBI_REMOVED
                                    : moved    ? DTBI_CHANGED
                                               : DTBI_SAME);
        dtb_buf_append_str(out, "<td><code>");
        dtb_buf_append_html_str(out, json_string_value(json_object_get(f, "name")));
        dtb_buf_append_str(out, "</code></td><td>");
        dtbi_render_file_line(out, json_string_value(json_object_get(f, "file")),
                              (long long)json_integer_value(json_object_get(f, "line")));
        dtb_buf_append_str(out, " <span class=\"dtb-muted\">");
        dtb_buf_append_html_str(out, json_string_value(json_object_get(f, "module")));
        dtb_buf_append_str(out, "</span></td>");
        const double v[2][2] = {{e->self_a, e->self_b}, {e->total_a, e->total_b}};
        for (int k = 0; k < 2; k++) {
            dtb_buf_append_str(out, "<td class=\"dtb-num\">");
            if (e->in_a)
                dtb_buf_appendf(out, "%.1f%%", v[k][0]);
            dtb_buf_append_str(out, "</td><td class=\"dtb-num\">");
            if (e->in_b)
                dtb_buf_appendf(out, "%.1f%%", v[k][1]);
            dtb_buf_append_str(out, "</td><td class=\"dtb-num\">");
            dtb_buf_appendf(out, "%+.1f", v[k][1] - v[k][0]);
            dtb_buf_append_str(out, "</td>");
        }
        dtb_buf_append_str(out, "</tr>");
    }
    dtb_buf_append_str(out, "</tbody></table>");
    if (n > 50)
        dtb_buf_appendf(out, "<p class=\"dtb-muted\">%zu more functions not shown.</p>", n - 50);
    dtb_buf_append_str(out, "</div>");
done:
    free(fns);
    json_decref(index);
    return rc != 0 || out->failed ? -1 : 0;
}
