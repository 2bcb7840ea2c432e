/*
 * page.c - the toolbar's own page, at url_prefix itself, for allowed clients only:
 *
 *   GET <prefix>/                         the page: an HTML shell that loads common.js,
 *                                         filters.js, compare.js, page.js, toolbar.css and
 *                                         page.css by URL (no inline script or style), sent
 *                                         with a strict Content-Security-Policy
 *   GET <prefix>                          redirects to <prefix>/
 *   GET <prefix>/api/requests/<id>.json   one stored record as a download
 *   GET <prefix>/api/compare/<a>/<b>/panels/<panel>
 *                                         one panel's own comparison of two stored records
 *                                         (its compare_html), an HTML fragment
 *
 * The page itself (history with filters, a request's panels, compare, export, editor links) is
 * page.js with filters.js and compare.js, rendered from the same JSON URLs as the injected
 * toolbar. Also here: the summary fields the page's filters use, added when a request's
 * summary is built.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The page's policy: its own scripts, styles, images and fetches only. */
#define PAGE_CSP                                                                                   \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

static enum MHD_Result queue(struct MHD_Connection *con, unsigned status, struct MHD_Response *r)
{
    enum MHD_Result ret;
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    ret = dtbi_real()->queue_response(con, status, r);
    dtbi_real()->destroy_response(r);
    return ret;
}

/* "<prefix>/static/<name>?v=<etag without quotes>" into out (escaped for an attribute). */
static void asset_url(struct dtb_buf *out, const char *prefix, const char *name)
{
    const struct dtbi_asset *a = dtbi_asset_find(name, strlen(name));
    dtb_buf_append_html_str(out, prefix);
    dtb_buf_appendf(out, "/static/%s", name);
    if (a != NULL && strlen(a->etag) > 2)
        dtb_buf_appendf(out, "?v=%.*s", (int)(strlen(a->etag) - 2), a->etag + 1);
}

enum MHD_Result dtbi_page_serve(struct dtb_toolbar *tb, struct MHD_Connection *con,
                                const char *path, size_t plen)
{
    const char *prefix = tb->cfg.url_prefix;
    struct dtb_buf b;
    struct MHD_Response *r;
    (void)path;
    if (plen == 0) {
        char *loc = NULL;
        if (asprintf(&loc, "%s/", prefix) < 0)
            return MHD_NO;
        r = dtbi_real()->from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        if (r != NULL)
            MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, loc);
        free(loc);
        return queue(con, MHD_HTTP_MOVED_PERMANENTLY, r);
    }
    dtb_buf_init(&b);
    dtb_buf_append_str(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                           "<meta name=\"viewport\" content=\"width=device-width, "
                           "initial-scale=1\"><title>Debug toolbar: requests</title>"
                           "<link rel=\"icon\" href=\"");
    asset_url(&b, prefix, "icon.svg");
    dtb_buf_append_str(&b, "\"><link rel=\"stylesheet\" href=\"");
    asset_url(&b, prefix, "page.css");
    dtb_buf_append_str(&b, "\"><script src=\"");
    asset_url(&b, prefix, "common.js"); /* what page.js shares with toolbar.js, run first */
    dtb_buf_append_str(&b, "\" defer></script><script src=\"");
    asset_url(&b, prefix, "filters.js"); /* page.js's parts: deferred, so run in this order */
    dtb_buf_append_str(&b, "\" defer></script><script src=\"");
    asset_url(&b, prefix, "compare.js");
    dtb_buf_append_str(&b, "\" defer></script><script src=\"");
    asset_url(&b, prefix, "page.js");
    dtb_buf_append_str(&b, "\" defer></script></head>\n<body><dtb-page id=\"dtb-page\" "
                           "data-prefix=\"");
    dtb_buf_append_html_str(&b, prefix);
    dtb_buf_append_str(&b, "\" data-css=\"");
    asset_url(&b, prefix, "toolbar.css");
    dtb_buf_append_str(&b, "\" data-page-css=\"");
    asset_url(&b, prefix, "page.css");
    dtb_buf_append_str(&b, "\"></dtb-page><noscript>This page needs JavaScript. The history "
                           "is also at <a href=\"");
    dtb_buf_append_html_str(&b, prefix);
    dtb_buf_append_str(&b, "/api/requests\">api/requests</a> (JSON).</noscript></body></html>\n");
    if (b.failed) {
        dtb_buf_free(&b);
        return MHD_NO;
    }
    size_t len = b.len;
    r = dtbi_real()->from_buffer_with_free_callback(len, dtb_buf_steal(&b), free);
    if (r != NULL) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
        MHD_add_response_header(r, "Content-Security-Policy", PAGE_CSP);
        MHD_add_response_header(r, "X-Frame-Options", "DENY");
    }
    return queue(con, MHD_HTTP_OK, r);
}

enum MHD_Result dtbi_page_export(struct dtb_toolbar *tb, struct MHD_Connection *con, const char *id)
{
    json_t *rec = dtb_toolbar_load_record(tb, id);
    char *text, disp[80];
    struct MHD_Response *r;
    if (rec == NULL)
        return dtbi_send_json(con, MHD_HTTP_NOT_FOUND,
                              json_pack("{s:s}", "error", "unknown or expired request id"));
    text = json_dumps(rec, JSON_INDENT(2));
    json_decref(rec);
    if (text == NULL)
        return dtbi_send_json(con, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
    r = dtbi_real()->from_buffer_with_free_callback(strlen(text), text, free);
    if (r == NULL) {
        free(text);
        return MHD_NO;
    }
    /* id is 16 hex digits (checked by the caller): nothing to quote */
    snprintf(disp, sizeof(disp), "attachment; filename=\"request-%s.json\"", id);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_DISPOSITION, disp);
    return queue(con, MHD_HTTP_OK, r);
}

/* A panel's stats in a record, or NULL; *dropped is set when the record kept only a marker
 * (the panel's data was over record_max_bytes). */
static const json_t *panel_stats(const json_t *rec, const char *panel_id, int *dropped)
{
    const json_t *stats = json_object_get(json_object_get(rec, "panels"), panel_id);
    if (json_is_true(json_object_get(stats, "truncated"))) {
        *dropped = 1;
        return NULL;
    }
    return stats;
}

enum MHD_Result dtbi_page_compare(struct dtb_toolbar *tb, struct MHD_Connection *con, const char *a,
                                  const char *b, const char *panel_id)
{
    const struct dtb_panel_ops *p = dtbi_panel_find(tb, panel_id);
    json_t *ra, *rb;
    struct dtb_buf out;
    struct MHD_Response *r;
    int dropped = 0;
    if (p == NULL || !dtbi_panel_has_compare(p))
        return dtbi_send_json(con, MHD_HTTP_NOT_FOUND,
                              json_pack("{s:s}", "error", "no compare view for this panel"));
    ra = dtb_toolbar_load_record(tb, a);
    rb = ra != NULL ? dtb_toolbar_load_record(tb, b) : NULL;
    if (rb == NULL) {
        json_decref(ra);
        return dtbi_send_json(con, MHD_HTTP_NOT_FOUND,
                              json_pack("{s:s}", "error", "unknown or expired request id"));
    }
    const json_t *sa = panel_stats(ra, panel_id, &dropped);
    const json_t *sb = panel_stats(rb, panel_id, &dropped);
    dtb_buf_init(&out);
    if (dropped)
        dtb_buf_append_str(&out, "<p class=\"dtb-warn\">This panel's data was dropped from one "
                                 "of the records (it was larger than record_max_bytes).</p>");
    if (p->compare_html(sa, sb, &out) != 0 || out.failed) {
        dtb_buf_free(&out);
        json_decref(ra);
        json_decref(rb);
        return dtbi_send_json(con, MHD_HTTP_INTERNAL_SERVER_ERROR,
                              json_pack("{s:s}", "error", "this panel failed to compare"));
    }
    json_decref(ra);
    json_decref(rb);
    size_t len = out.len;
    r = dtbi_real()->from_buffer_with_free_callback(len, dtb_buf_steal(&out), free);
    if (r != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
    return queue(con, MHD_HTTP_OK, r);
}

void dtbi_page_summary_flags(const struct dtb_request *rq, const json_t *panels, json_t *summary)
{
    (void)panels;
    if (rq->port != 0)
        json_object_set_new(summary, "port", json_integer(rq->port));
}

json_t *dtbi_page_editor_json(const struct dtb_toolbar *tb)
{
    if (tb->cfg.editor == NULL)
        return NULL;
    /* "o" takes the reference: the config's array gets one more, a new empty one is given */
    return json_pack("{s:s,s:o,s:s?}", "template", tb->cfg.editor, "paths",
                     tb->cfg.editor_paths != NULL ? json_incref(tb->cfg.editor_paths)
                                                  : json_array(),
                     "source_root", tb->cfg.source_root);
}
