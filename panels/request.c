/*
 * request.c - the Request panel: method, path, version, client, query arguments, form fields,
 * cookies, and a Bearer JWT's header and claims decoded (never verified; the signature is never
 * shown), with the time left before it expires. Secret-named values are redacted before the
 * record is stored.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <nettle/base64.h>

#include "panels.h"

/* base64url segment -> JSON object, or NULL. */
static json_t *decode_segment(const char *seg, size_t len)
{
    struct base64_decode_ctx ctx;
    size_t padded = (len + 3) / 4 * 4, out_len;
    char *in;
    uint8_t *out;
    json_t *j = NULL;
    if (len == 0 || len > 65536)
        return NULL;
    in = malloc(padded);
    out = malloc(BASE64_DECODE_LENGTH(padded) + 1);
    if (in != NULL && out != NULL) {
        memcpy(in, seg, len);
        memset(in + len, '=', padded - len);
        base64url_decode_init(&ctx);
        out_len = BASE64_DECODE_LENGTH(padded);
        if (base64_decode_update(&ctx, &out_len, out, padded, in) && base64_decode_final(&ctx)) {
            j = json_loadb((const char *)out, out_len, 0, NULL);
            if (!json_is_object(j)) {
                json_decref(j);
                j = NULL;
            }
        }
    }
    free(in);
    free(out);
    return j;
}

int dtbi_jwt_decode(const char *token, json_t **header, json_t **claims)
{
    const char *dot1, *dot2;
    json_t *h, *c;
    if (token == NULL)
        return -1;
    dot1 = strchr(token, '.');
    if (dot1 == NULL)
        return -1;
    dot2 = strchr(dot1 + 1, '.');
    if (dot2 != NULL && strchr(dot2 + 1, '.') != NULL)
        return -1; /* JWE (five parts) or garbage */
    h = decode_segment(token, (size_t)(dot1 - token));
    c = decode_segment(dot1 + 1, dot2 ? (size_t)(dot2 - dot1 - 1) : strlen(dot1 + 1));
    if (h == NULL || c == NULL) {
        json_decref(h);
        json_decref(c);
        return -1;
    }
    *header = h;
    *claims = c;
    return 0;
}

static json_t *jwt_info(const struct dtb_request *rq)
{
    const json_t *headers = dtb_request_pairs(rq, "headers");
    size_t i;
    const json_t *p;
    json_array_foreach(headers, i, p)
    {
        const char *name = json_string_value(json_array_get(p, 0));
        const char *v = json_string_value(json_array_get(p, 1));
        json_t *h, *c;
        if (name == NULL || v == NULL || strcasecmp(name, "Authorization") != 0 ||
            strncasecmp(v, "Bearer ", 7) != 0)
            continue;
        if (dtbi_jwt_decode(v + 7, &h, &c) != 0)
            return json_pack("{s:s}", "error", "the Bearer token is not a JWT");
        json_t *out = json_pack("{s:o,s:o,s:b}", "header", h, "claims", c, "verified", 0);
        json_t *exp = json_object_get(c, "exp");
        if (out != NULL && json_is_number(exp)) {
            double now = (double)dtb_request_times(rq)->started_unix_ns / 1e9;
            json_object_set_new(out, "expires_in_s", json_real(json_number_value(exp) - now));
        }
        return out;
    }
    return NULL;
}

static json_t *request_to_json(void *state, struct dtb_request *rq, void *req_state)
{
    const struct dtb_toolbar *tb = dtb_request_toolbar(rq);
    char *url = dtb_toolbar_redact_url(tb, dtb_request_url(rq));
    json_t *out =
        json_pack("{s:s,s:s,s:s?,s:s,s:s,s:o,s:o,s:o,s:{s:I,s:I,s:I}}", "method",
                  dtb_request_method(rq), "path", dtb_request_path(rq), "url", url, "version",
                  dtb_request_version(rq), "client", dtb_request_client(rq), "query",
                  dtb_toolbar_redact_pairs(tb, dtb_request_pairs(rq, "query")), "form",
                  dtb_toolbar_redact_pairs(tb, dtb_request_pairs(rq, "form")), "cookies",
                  dtb_toolbar_redact_pairs(tb, dtb_request_pairs(rq, "cookies")), "omitted",
                  "query", (json_int_t)dtb_request_pairs_omitted(rq, "query"), "form",
                  (json_int_t)dtb_request_pairs_omitted(rq, "form"), "cookies",
                  (json_int_t)dtb_request_pairs_omitted(rq, "cookies"));
    free(url);
    json_t *jwt = jwt_info(rq);
    if (out != NULL && jwt != NULL)
        json_object_set_new(out, "jwt", jwt);
    else
        json_decref(jwt);
    return out;
}

static int request_subtitle(const json_t *stats, struct dtb_buf *out)
{
    /* Plain text: the UI sets subtitles with textContent. */
    dtb_buf_append_str(out, json_string_value(json_object_get(stats, "method")) ?: "");
    dtb_buf_append_str(out, " ");
    const char *path = json_string_value(json_object_get(stats, "path"));
    if (path != NULL && strlen(path) > 40) {
        size_t n = 37;
        while (n > 0 && ((unsigned char)path[n] & 0xC0) == 0x80)
            n--; /* never split a UTF-8 sequence */
        dtb_buf_append(out, path, n);
        dtb_buf_append_str(out, "\xE2\x80\xA6");
    } else
        dtb_buf_append_str(out, path ? path : "");
    return out->failed ? -1 : 0;
}

static void kv_row(struct dtb_buf *out, const char *k, const char *v)
{
    dtb_buf_append_str(out, "<tr><td>");
    dtb_buf_append_html_str(out, k);
    dtb_buf_append_str(out, "</td><td><code>");
    dtb_buf_append_html_str(out, v ? v : "");
    dtb_buf_append_str(out, "</code></td></tr>");
}

static void expiry_text(struct dtb_buf *out, double secs)
{
    double a = secs < 0 ? -secs : secs;
    const char *unit = "s";
    double v = a;
    if (a >= 86400) {
        v = a / 86400;
        unit = "days";
    } else if (a >= 3600) {
        v = a / 3600;
        unit = "h";
    } else if (a >= 60) {
        v = a / 60;
        unit = "min";
    }
    if (secs >= 0)
        dtb_buf_appendf(out, "expires in %.0f %s", v, unit);
    else
        dtb_buf_appendf(out, "<span class=\"dtb-warn\">expired %.0f %s ago</span>", v, unit);
}

static int request_render(const json_t *stats, struct dtb_buf *out)
{
    dtb_buf_append_str(out, "<table class=\"dtb-table\"><tbody>");
    kv_row(out, "Method", json_string_value(json_object_get(stats, "method")));
    kv_row(out, "Path", json_string_value(json_object_get(stats, "path")));
    kv_row(out, "URL", json_string_value(json_object_get(stats, "url")));
    kv_row(out, "HTTP version", json_string_value(json_object_get(stats, "version")));
    kv_row(out, "Client address", json_string_value(json_object_get(stats, "client")));
    dtb_buf_append_str(out, "</tbody></table>");
    const json_t *omitted = json_object_get(stats, "omitted");
    dtb_render_pairs_table(out, "Query arguments", json_object_get(stats, "query"));
    dtbi_render_omitted(out, json_object_get(omitted, "query"));
    dtb_render_pairs_table(out, "Form fields", json_object_get(stats, "form"));
    dtbi_render_omitted(out, json_object_get(omitted, "form"));
    dtb_render_pairs_table(out, "Cookies", json_object_get(stats, "cookies"));
    dtbi_render_omitted(out, json_object_get(omitted, "cookies"));
    json_t *jwt = json_object_get(stats, "jwt");
    if (jwt != NULL) {
        dtb_buf_append_str(out, "<h4 class=\"dtb-h\">Bearer token (JWT) "
                                "<span class=\"dtb-badge dtb-warn\">not verified</span></h4>");
        if (json_object_get(jwt, "error") != NULL) {
            dtb_buf_append_str(out, "<p class=\"dtb-error\">");
            dtb_buf_append_html_str(out, json_string_value(json_object_get(jwt, "error")));
            dtb_buf_append_str(out, "</p>");
        } else {
            json_t *exp = json_object_get(jwt, "expires_in_s");
            if (exp != NULL) {
                dtb_buf_append_str(out, "<p>");
                expiry_text(out, json_number_value(exp));
                dtb_buf_append_str(out, "</p>");
            }
            dtb_buf_append_str(out, "<p class=\"dtb-muted\">Header</p>");
            dtb_render_json_tree(out, json_object_get(jwt, "header"));
            dtb_buf_append_str(out, "<p class=\"dtb-muted\">Claims</p>");
            dtb_render_json_tree(out, json_object_get(jwt, "claims"));
        }
    }
    return out->failed ? -1 : 0;
}

const struct dtb_panel_ops dtb_panel_request = {
    .abi = DTB_PANEL_ABI,
    .id = "request",
    .title = "Request",
    .default_on = 1,
    .to_json = request_to_json,
    .nav_subtitle = request_subtitle,
    .render_html = request_render,
};
