/*
 * headers.c - the Headers panel: request and response headers, secret-named values
 * (Authorization, Cookie, Set-Cookie, tokens...) redacted before the record is stored, as are
 * secret parameters in URL values (Referer, Location); how many were not recorded (bounds).
 */
#include "panels.h"

static json_t *headers_to_json(void *state, struct dtb_request *rq, void *req_state)
{
    const struct dtb_toolbar *tb = dtb_request_toolbar(rq);
    return json_pack("{s:o,s:o,s:{s:I,s:I}}", "request",
                     dtb_toolbar_redact_pairs(tb, dtb_request_pairs(rq, "headers")), "response",
                     dtb_toolbar_redact_pairs(tb, dtb_request_pairs(rq, "response_headers")),
                     "omitted", "request", (json_int_t)dtb_request_pairs_omitted(rq, "headers"),
                     "response", (json_int_t)dtb_request_pairs_omitted(rq, "response_headers"));
}

static int headers_subtitle(const json_t *stats, struct dtb_buf *out)
{
    return dtb_buf_appendf(out, "%zu request, %zu response",
                           json_array_size(json_object_get(stats, "request")),
                           json_array_size(json_object_get(stats, "response")));
}

static int headers_render(const json_t *stats, struct dtb_buf *out)
{
    const json_t *omitted = json_object_get(stats, "omitted");
    dtb_render_pairs_table(out, "Request headers", json_object_get(stats, "request"));
    dtbi_render_omitted(out, json_object_get(omitted, "request"));
    dtb_render_pairs_table(out, "Response headers", json_object_get(stats, "response"));
    return dtbi_render_omitted(out, json_object_get(omitted, "response"));
}

const struct dtb_panel_ops dtb_panel_headers = {
    .abi = DTB_PANEL_ABI,
    .id = "headers",
    .title = "Headers",
    .default_on = 1,
    .to_json = headers_to_json,
    .nav_subtitle = headers_subtitle,
    .render_html = headers_render,
};
