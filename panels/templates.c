/*
 * templates.c - the Templates panel: every template the app rendered (dtb_template_record),
 * its render time and the full context it was rendered with, as a tree. Secret-named context
 * variables are redacted before anything is stored.
 */
#include <debugtoolbar/state.h>

#include "panels.h"

struct templates_req {
    json_t *list; /* owned by the request */
    int64_t total_ns;
};

static void *templates_start(void *state, struct dtb_request *rq)
{
    struct templates_req *st = dtb_request_alloc(rq, sizeof(*st));
    (void)state;
    if (st != NULL)
        st->list = dtb_request_own_json(rq, json_array());
    return st;
}

void dtb_template_record_timed(const char *name, const json_t *context, int64_t duration_ns)
{
    DTB_TOOLBAR_SCOPE();
    struct dtb_request *rq;
    struct templates_req *st = dtbi_current_panel_state("templates", &rq);
    if (st == NULL || st->list == NULL)
        return;
    json_t *ctx =
        context != NULL ? dtb_toolbar_redact_json(dtb_request_toolbar(rq), context) : json_object();
    json_t *t = json_pack("{s:o,s:I,s:o,s:f}", "name", dtb_json_text(name ? name : "?"),
                          "duration_ns", (json_int_t)(duration_ns >= 0 ? duration_ns : -1),
                          "context", ctx != NULL ? ctx : json_null(), "at_ms",
                          dtbi_ms(dtb_now_ns() - dtb_request_times(rq)->start_ns));
    if (json_array_append_new(st->list, t) == 0 && duration_ns > 0)
        st->total_ns += duration_ns;
    /* a span on the waterfall, ended now, around the queries and spans that ran inside it */
    if (duration_ns >= 0)
        dtb_span_add(rq, "template", dtb_request_strdup(rq, name ? name : "?"),
                     dtb_now_ns() - duration_ns, duration_ns);
}

void dtb_template_record(const char *name, const json_t *context)
{
    dtb_template_record_timed(name, context, -1);
}

static json_t *templates_to_json(void *state, struct dtb_request *rq, void *req_state)
{
    struct templates_req *st = req_state;
    (void)state;
    (void)rq;
    if (st == NULL || st->list == NULL)
        return NULL;
    return json_pack("{s:O,s:I}", "templates", st->list, "total_ns", (json_int_t)st->total_ns);
}

static int templates_subtitle(const json_t *stats, struct dtb_buf *out)
{
    size_t n = json_array_size(json_object_get(stats, "templates"));
    if (n == 0)
        return dtb_buf_append_str(out, "none rendered");
    char f[32];
    return dtb_buf_appendf(
        out, "%zu rendered in %s", n,
        dtbi_fmt_ms(dtbi_ms(json_integer_value(json_object_get(stats, "total_ns"))), f, sizeof(f)));
}

static int templates_render(const json_t *stats, struct dtb_buf *out)
{
    const json_t *list = json_object_get(stats, "templates"), *t;
    size_t i;
    if (json_array_size(list) == 0) {
        dtb_buf_append_str(out, "<p class=\"dtb-muted\">No template was rendered.</p>");
        return out->failed ? -1 : 0;
    }
    dtb_buf_append_str(out, "<table class=\"dtb-table\"><thead><tr><th>#</th><th>Template</th>"
                            "<th class=\"dtb-num\">Render time</th><th>Context</th></tr></thead>"
                            "<tbody>");
    json_array_foreach(list, i, t)
    {
        json_int_t dur = json_integer_value(json_object_get(t, "duration_ns"));
        dtb_buf_appendf(out, "<tr><td class=\"dtb-num\">%zu</td><td>", i + 1);
        dtbi_render_scalar(out, json_object_get(t, "name"));
        dtb_buf_append_str(out, "</td><td class=\"dtb-num\">");
        char f[32];
        if (dur >= 0)
            dtb_buf_append_str(out, dtbi_fmt_ms(dtbi_ms(dur), f, sizeof(f)));
        dtb_buf_append_str(out, "</td><td>");
        dtb_render_json_tree(out, json_object_get(t, "context"));
        dtb_buf_append_str(out, "</td></tr>");
    }
    dtb_buf_append_str(out, "</tbody></table>");
    return out->failed ? -1 : 0;
}

const struct dtb_panel_ops dtb_panel_templates = {
    .abi = DTB_PANEL_ABI,
    .id = "templates",
    .title = "Templates",
    .default_on = 1,
    .on_request_start = templates_start,
    .to_json = templates_to_json,
    .nav_subtitle = templates_subtitle,
    .render_html = templates_render,
};
