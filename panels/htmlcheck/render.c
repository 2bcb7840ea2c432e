/*
 * render.c - the HTML check panel's nav subtitle (errors and lints counted) and its HTML: the
 * parse errors and the lints as tables, or why the page was not checked.
 */
#include "htmlcheck_int.h"

int dtbi_htmlcheck_subtitle(const json_t *stats, struct dtb_buf *out)
{
    if (json_is_string(json_object_get(stats, "skipped")))
        return dtb_buf_append_str(out, "not checked");
    size_t e = json_array_size(json_object_get(stats, "errors"));
    size_t l = json_array_size(json_object_get(stats, "lints"));
    if (e + l == 0)
        return dtb_buf_append_str(out, "no problems");
    return dtb_buf_appendf(out, "%zu error%s, %zu lint%s", e, e == 1 ? "" : "s", l,
                           l == 1 ? "" : "s");
}

int dtbi_htmlcheck_render(const json_t *stats, struct dtb_buf *out)
{
    const json_t *errors = json_object_get(stats, "errors"),
                 *lints = json_object_get(stats, "lints");
    const json_t *x;
    size_t i;
    if (json_is_string(json_object_get(stats, "skipped"))) {
        dtb_buf_append_str(out, "<p class=\"dtb-muted\">Not checked: ");
        dtb_buf_append_html_str(out, json_string_value(json_object_get(stats, "skipped")));
        dtb_buf_append_str(out, ".</p>");
        return out->failed ? -1 : 0;
    }
    dtb_buf_appendf(out,
                    "<p>%lld bytes checked by libxml2's HTML parser in %.3f ms, after the "
                    "response was sent",
                    (long long)json_integer_value(json_object_get(stats, "bytes")),
                    dtbi_ms(json_integer_value(json_object_get(stats, "check_ns"))));
    if (json_is_true(json_object_get(stats, "cached")))
        dtb_buf_appendf(out,
                        " (an earlier response with the same bytes; this one took %.3f ms "
                        "to look up)",
                        dtbi_ms(json_integer_value(json_object_get(stats, "lookup_ns"))));
    dtb_buf_append_str(out, ".</p>");
    dtb_buf_append_str(out, "<h4 class=\"dtb-h\">Parse errors</h4>");
    if (json_array_size(errors) == 0) {
        dtb_buf_append_str(out, "<p class=\"dtb-muted\">None.</p>");
    } else {
        dtb_buf_append_str(out, "<table class=\"dtb-table\"><thead><tr><th class=\"dtb-num\">"
                                "Line</th><th class=\"dtb-num\">Col</th><th>Level</th><th>"
                                "Message</th></tr></thead><tbody>");
        json_array_foreach(errors, i, x)
        {
            dtb_buf_appendf(out,
                            "<tr><td class=\"dtb-num\">%lld</td><td class=\"dtb-num\">%lld"
                            "</td><td>",
                            (long long)json_integer_value(json_object_get(x, "line")),
                            (long long)json_integer_value(json_object_get(x, "column")));
            dtb_buf_append_html_str(out, json_string_value(json_object_get(x, "level")));
            dtb_buf_append_str(out, "</td><td>");
            dtb_buf_append_html_str(out, json_string_value(json_object_get(x, "message")));
            dtb_buf_append_str(out, "</td></tr>");
        }
        dtb_buf_append_str(out, "</tbody></table>");
        if (json_integer_value(json_object_get(stats, "dropped")) > 0)
            dtb_buf_appendf(out, "<p class=\"dtb-muted\">and %lld more.</p>",
                            (long long)json_integer_value(json_object_get(stats, "dropped")));
    }
    dtb_buf_append_str(out, "<h4 class=\"dtb-h\">Lints</h4>");
    if (json_array_size(lints) == 0) {
        dtb_buf_append_str(out, "<p class=\"dtb-muted\">None.</p>");
    } else {
        dtb_buf_append_str(out, "<table class=\"dtb-table\"><thead><tr><th class=\"dtb-num\">"
                                "Line</th><th>Rule</th><th>Problem</th></tr></thead><tbody>");
        json_array_foreach(lints, i, x)
        {
            json_int_t line = json_integer_value(json_object_get(x, "line"));
            dtb_buf_append_str(out, "<tr><td class=\"dtb-num\">");
            if (line > 0)
                dtb_buf_appendf(out, "%lld", (long long)line);
            dtb_buf_append_str(out, "</td><td><code>");
            dtb_buf_append_html_str(out, json_string_value(json_object_get(x, "rule")));
            dtb_buf_append_str(out, "</code></td><td>");
            dtb_buf_append_html_str(out, json_string_value(json_object_get(x, "message")));
            dtb_buf_append_str(out, "</td></tr>");
        }
        dtb_buf_append_str(out, "</tbody></table>");
    }
    return out->failed ? -1 : 0;
}
