/*
 * common.c - helpers shared by the panels that the app feeds through <debugtoolbar/state.h>.
 */
#include <stdio.h>
#include <stdlib.h>

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

int dtb_recording(void)
{
    return dtb_request_current() != NULL;
}

static json_t *redact(const struct dtb_toolbar *tb, const json_t *v, int depth)
{
    const char *key;
    json_t *item, *out;
    size_t i;
    if (depth > 64)
        return json_string("\xE2\x80\xA6");
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        out = json_object();
        json_object_foreach((json_t *)v, key, item)
        {
            json_t *c = dtb_toolbar_is_secret_name(tb, key) ? json_string(DTB_REDACTED)
                                                            : redact(tb, item, depth + 1);
            if (c == NULL || json_object_set_new(out, key, c) != 0) {
                json_decref(out);
                return NULL;
            }
        }
        return out;
    case JSON_ARRAY:
        out = json_array();
        json_array_foreach(v, i, item)
        {
            if (json_array_append_new(out, redact(tb, item, depth + 1)) != 0) {
                json_decref(out);
                return NULL;
            }
        }
        return out;
    default:
        return json_deep_copy(v);
    }
}

json_t *dtbi_redact_json(const struct dtb_toolbar *tb, const json_t *v)
{
    return v == NULL ? NULL : redact(tb, v, 0);
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
