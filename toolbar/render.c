/*
 * render.c - HTML helpers shared by panels: a [name, value] pairs table and a collapsible
 * JSON tree. Every string goes through dtb_buf_append_html; no style attributes, no scripts.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static void append_value_text(struct dtb_buf *out, const json_t *v)
{
    if (json_is_string(v)) {
        dtb_buf_append_html(out, json_string_value(v), json_string_length(v));
        return;
    }
    char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    if (t != NULL)
        dtb_buf_append_html_str(out, t);
    free(t);
}

int dtb_render_pairs_table(struct dtb_buf *out, const char *title, const json_t *pairs)
{
    size_t i;
    const json_t *pair;
    if (title != NULL) {
        dtb_buf_append_str(out, "<h4 class=\"dtb-h\">");
        dtb_buf_append_html_str(out, title);
        dtb_buf_append_str(out, "</h4>");
    }
    if (json_array_size(pairs) == 0) {
        dtb_buf_append_str(out, "<p class=\"dtb-muted\">None</p>");
        return out->failed ? -1 : 0;
    }
    dtb_buf_append_str(out, "<table class=\"dtb-table\"><thead><tr><th>Name</th><th>Value</th>"
                            "</tr></thead><tbody>");
    json_array_foreach(pairs, i, pair)
    {
        dtb_buf_append_str(out, "<tr><td><code>");
        append_value_text(out, json_array_get(pair, 0));
        dtb_buf_append_str(out, "</code></td><td><code>");
        append_value_text(out, json_array_get(pair, 1));
        dtb_buf_append_str(out, "</code></td></tr>");
    }
    dtb_buf_append_str(out, "</tbody></table>");
    return out->failed ? -1 : 0;
}

static void tree(struct dtb_buf *out, const json_t *v, int depth)
{
    const char *key;
    const json_t *item;
    size_t i;
    if (depth > 32) {
        dtb_buf_append_str(out, "<span class=\"dtb-muted\">\xE2\x80\xA6</span>");
        return;
    }
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        dtb_buf_appendf(out, "<details class=\"dtb-tree\"%s><summary>{%zu}</summary><ul>",
                        depth < 2 ? " open" : "", json_object_size(v));
        json_object_foreach((json_t *)v, key, item)
        {
            dtb_buf_append_str(out, "<li><span class=\"dtb-key\">");
            dtb_buf_append_html_str(out, key);
            dtb_buf_append_str(out, "</span>: ");
            tree(out, item, depth + 1);
            dtb_buf_append_str(out, "</li>");
        }
        dtb_buf_append_str(out, "</ul></details>");
        break;
    case JSON_ARRAY:
        dtb_buf_appendf(out, "<details class=\"dtb-tree\"%s><summary>[%zu]</summary><ul>",
                        depth < 2 ? " open" : "", json_array_size(v));
        json_array_foreach(v, i, item)
        {
            dtb_buf_append_str(out, "<li>");
            tree(out, item, depth + 1);
            dtb_buf_append_str(out, "</li>");
        }
        dtb_buf_append_str(out, "</ul></details>");
        break;
    case JSON_STRING:
        dtb_buf_append_str(out, "<span class=\"dtb-str\">\"");
        dtb_buf_append_html(out, json_string_value(v), json_string_length(v));
        dtb_buf_append_str(out, "\"</span>");
        break;
    case JSON_INTEGER:
    case JSON_REAL:
        dtb_buf_append_str(out, "<span class=\"dtb-num-lit\">");
        append_value_text(out, v);
        dtb_buf_append_str(out, "</span>");
        break;
    default:
        dtb_buf_append_str(out, "<span class=\"dtb-lit\">");
        append_value_text(out, v);
        dtb_buf_append_str(out, "</span>");
        break;
    }
}

int dtb_render_json_tree(struct dtb_buf *out, const json_t *value)
{
    if (value == NULL)
        dtb_buf_append_str(out, "<span class=\"dtb-muted\">none</span>");
    else
        tree(out, value, 0);
    return out->failed ? -1 : 0;
}
