/*
 * routes.c - the toolbar's own URLs, under url_prefix, for allowed clients only:
 *
 *   GET static/<file>                         embedded assets (ETag, Cache-Control); an app
 *                                             panel's script_source as static/panel-<id>.js
 *                                             (style_source as static/panel-<id>.css)
 *   GET api/requests                          the history, newest first
 *   GET api/requests/<id>                     one stored record, plus "nav" (titles, subtitles)
 *   GET api/requests/<id>/panels/<panel>      one panel as an HTML fragment
 *   GET api/requests/<id>.json                one stored record as a download (page.c)
 *   GET api/compare/<a>/<b>/panels/<panel>    one panel's comparison of two records (page.c)
 *   GET / (the prefix itself)                 the toolbar's own page (page.c)
 *   POST panels/<panel>/<action>              a panel's action (its handle_action), JSON in
 *                                             and out, after the checks every action gets
 *
 * Everything is rendered from the stored JSON, so any process sharing the store can answer.
 * A client that is not allowed never gets here: the middleware hands its request to the app.
 * Errors are JSON {"error": "..."} with a fitting status.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store.h"

int dtbi_is_toolbar_url(const struct dtb_toolbar *tb, const char *url)
{
    size_t n = tb->prefix_len;
    return url != NULL && strncmp(url, tb->cfg.url_prefix, n) == 0 &&
           (url[n] == '/' || url[n] == '\0' || url[n] == '?');
}

#define ROUTE_BODY_MAX 65536

void dtbi_routes_upload(struct dtb_request *rq, const char *data, size_t size)
{
    if (rq->route_body_len + size > ROUTE_BODY_MAX) {
        rq->route_body_len = ROUTE_BODY_MAX + 1; /* marks "too large" */
        return;
    }
    char *p = realloc(rq->route_body, rq->route_body_len + size + 1);
    if (p == NULL)
        return;
    memcpy(p + rq->route_body_len, data, size);
    rq->route_body_len += size;
    p[rq->route_body_len] = '\0';
    rq->route_body = p;
}

static enum MHD_Result send_buf(struct MHD_Connection *con, unsigned status, const char *ctype,
                                char *data, size_t len, const char *etag, const char *cache)
{
    struct MHD_Response *r = dtbi_real()->from_buffer_with_free_callback(len, data, free);
    enum MHD_Result ret;
    if (r == NULL) {
        free(data);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, cache ? cache : "no-store");
    if (etag != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag);
    ret = dtbi_real()->queue_response(con, status, r);
    dtbi_real()->destroy_response(r);
    return ret;
}

/* Out of memory while answering: a fixed answer that needs no allocation of ours. */
static enum MHD_Result send_out_of_memory(struct MHD_Connection *con)
{
    static const char msg[] = "{\"error\":\"out of memory\"}";
    struct MHD_Response *r =
        dtbi_real()->from_buffer(sizeof(msg) - 1, (void *)msg, MHD_RESPMEM_PERSISTENT);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    enum MHD_Result ret = dtbi_real()->queue_response(con, MHD_HTTP_INTERNAL_SERVER_ERROR, r);
    dtbi_real()->destroy_response(r);
    return ret;
}

enum MHD_Result dtbi_send_json(struct MHD_Connection *con, unsigned status, json_t *value)
{
    char *text = value != NULL ? json_dumps(value, JSON_COMPACT) : NULL;
    json_decref(value);
    if (text == NULL)
        return send_out_of_memory(con);
    return send_buf(con, status, "application/json", text, strlen(text), NULL, NULL);
}

static enum MHD_Result send_error(struct MHD_Connection *con, unsigned status, const char *msg)
{
    return dtbi_send_json(con, status, json_pack("{s:s}", "error", msg));
}

/* Sends len bytes of data (static: they outlive the response) as a static file of the given
 * type, with its ETag when it has one, and its cache policy. */
static enum MHD_Result send_static(struct MHD_Connection *con, unsigned status, const void *data,
                                   size_t len, const char *type, const char *etag,
                                   const char *cache)
{
    struct MHD_Response *r = dtbi_real()->from_buffer(len, (void *)data, MHD_RESPMEM_PERSISTENT);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (etag != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, cache);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    enum MHD_Result ret = dtbi_real()->queue_response(con, status, r);
    dtbi_real()->destroy_response(r);
    return ret;
}

/* An app panel's script (script_source) as static/panel-<id>.js, or its stylesheet
 * (style_source) as static/panel-<id>.css: the app's own, not cached (it changes with the app,
 * which has no build step of ours to name a version). */
static enum MHD_Result serve_panel_asset(struct dtb_toolbar *tb, struct MHD_Connection *con,
                                         const char *name)
{
    size_t n = strlen(name);
    int css = n > 4 && strcmp(name + n - 4, ".css") == 0;
    size_t ext = css ? 4 : 3;
    for (size_t i = 0; i < tb->nenabled; i++) {
        const struct dtb_panel_ops *p = tb->enabled_panels[i];
        const char *src = css ? dtbi_panel_style_source(p) : dtbi_panel_script_source(p);
        size_t idlen = strlen(p->id);
        if (src == NULL || n != 6 + idlen + ext || strncmp(name + 6, p->id, idlen) != 0)
            continue;
        return send_static(con, MHD_HTTP_OK, src, strlen(src),
                           css ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8", NULL,
                           "no-cache");
    }
    return send_error(con, MHD_HTTP_NOT_FOUND, "no such asset");
}

static enum MHD_Result serve_static(struct MHD_Connection *con, const char *name)
{
    const struct dtbi_asset *a = dtbi_asset_find(name, strlen(name));
    if (a == NULL)
        return send_error(con, MHD_HTTP_NOT_FOUND, "no such asset");
    const char *inm =
        MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    if (inm != NULL && strcmp(inm, a->etag) == 0)
        return send_static(con, MHD_HTTP_NOT_MODIFIED, NULL, 0, a->content_type, a->etag,
                           "public, max-age=86400");
    return send_static(con, MHD_HTTP_OK, a->data, a->len, a->content_type, a->etag,
                       "public, max-age=86400");
}

/* A request id is 16 lower-case hex digits; anything else is never looked up. */
static int valid_id(const char *s, size_t n)
{
    if (n != 16)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

json_t *dtb_toolbar_load_record(struct dtb_toolbar *tb, const char *id)
{
    if (tb == NULL || tb->store == NULL || id == NULL)
        return NULL;
    char *text = tb->store->ops->get(tb->store, id);
    json_t *rec;
    if (text == NULL)
        return NULL;
    rec = json_loads(text, 0, NULL);
    free(text);
    return rec;
}

static enum MHD_Result serve_record(struct dtb_toolbar *tb, struct MHD_Connection *con,
                                    const char *id)
{
    json_t *rec = dtb_toolbar_load_record(tb, id);
    json_t *nav, *panels;
    struct dtb_buf sub;
    if (rec == NULL && dtbi_pending_has(tb, id))
        return dtbi_send_json(con, MHD_HTTP_ACCEPTED, json_pack("{s:b}", "pending", 1));
    if (rec == NULL)
        return send_error(con, MHD_HTTP_NOT_FOUND, "unknown or expired request id");
    panels = json_object_get(rec, "panels");
    nav = json_array();
    dtb_buf_init(&sub);
    for (size_t i = 0; i < tb->nenabled && nav != NULL; i++) {
        const struct dtb_panel_ops *p = tb->enabled_panels[i];
        json_t *stats = json_object_get(panels, p->id);
        if (stats == NULL)
            continue;
        dtb_buf_reset(&sub);
        if (p->nav_subtitle != NULL && p->nav_subtitle(stats, &sub) != 0)
            dtb_buf_reset(&sub);
        char own[80], own_css[80];
        const char *script = dtbi_panel_script(p), *style = dtbi_panel_style(p);
        if (dtbi_panel_script_source(p) != NULL) {
            snprintf(own, sizeof(own), "panel-%s.js", p->id);
            script = own;
        }
        if (dtbi_panel_style_source(p) != NULL) {
            snprintf(own_css, sizeof(own_css), "panel-%s.css", p->id);
            style = own_css;
        }
        json_array_append_new(nav, json_pack("{s:s,s:s,s:s,s:b,s:s?,s:s?}", "id", p->id, "title",
                                             p->title, "subtitle", sub.data ? sub.data : "",
                                             "compare", dtbi_panel_has_compare(p), "script", script,
                                             "style", style));
    }
    dtb_buf_free(&sub);
    json_object_set_new(rec, "nav", nav);
    if (tb->cfg.editor != NULL) /* for the UI's file:line links (page.c) */
        json_object_set_new(rec, "editor", dtbi_page_editor_json(tb));
    return dtbi_send_json(con, MHD_HTTP_OK, rec);
}

static enum MHD_Result serve_panel(struct dtb_toolbar *tb, struct MHD_Connection *con,
                                   const char *id, const char *panel_id)
{
    const struct dtb_panel_ops *p = dtbi_panel_find(tb, panel_id);
    json_t *rec, *stats;
    struct dtb_buf out;
    if (p == NULL)
        return send_error(con, MHD_HTTP_NOT_FOUND, "unknown panel");
    rec = dtb_toolbar_load_record(tb, id);
    if (rec == NULL)
        return send_error(con, MHD_HTTP_NOT_FOUND, "unknown or expired request id");
    stats = json_object_get(json_object_get(rec, "panels"), panel_id);
    dtb_buf_init(&out);
    if (stats == NULL) {
        dtb_buf_append_str(&out, "<p class=\"dtb-muted\">This panel recorded nothing for this "
                                 "request.</p>");
    } else if (json_is_true(json_object_get(stats, "truncated"))) {
        dtb_buf_appendf(&out,
                        "<p class=\"dtb-warn\">This panel's data (%lld bytes) was dropped: "
                        "the record was larger than record_max_bytes.</p>",
                        (long long)json_integer_value(json_object_get(stats, "bytes")));
    } else if (p->render_html == NULL || p->render_html(stats, &out) != 0 || out.failed) {
        dtb_buf_free(&out);
        dtb_buf_init(&out);
        dtb_buf_append_str(&out, "<p class=\"dtb-error\">This panel failed to render.</p>");
    }
    json_decref(rec);
    if (out.failed) {
        dtb_buf_free(&out);
        return send_out_of_memory(con);
    }
    size_t len = out.len;
    return send_buf(con, MHD_HTTP_OK, "text/html; charset=utf-8", dtb_buf_steal(&out), len, NULL,
                    NULL);
}

/* A panel's action: POST panels/<panel>/<action> (what, wlen: after "panels/"). Every check
 * is made here, before the panel sees it (the client, Host and same-origin JSON checks were
 * made by the middleware): the method, the body's size, an action name of [a-z0-9_-], a body
 * that is a JSON object. */
static enum MHD_Result serve_action(struct dtb_request *rq, struct MHD_Connection *con,
                                    const char *what, size_t wlen, const char *method)
{
    struct dtb_toolbar *tb = rq->tb;
    const char *slash = memchr(what, '/', wlen);
    char pid[64], action[32];
    size_t n = slash != NULL ? (size_t)(slash - what) : 0, an = slash != NULL ? wlen - n - 1 : 0;
    const struct dtb_panel_ops *p = NULL;
    void *state = NULL;
    if (slash == NULL || n == 0 || n >= sizeof(pid) || an == 0 || an >= sizeof(action) ||
        strspn(slash + 1, "abcdefghijklmnopqrstuvwxyz0123456789_-") < an)
        return send_error(con, MHD_HTTP_NOT_FOUND, "no such toolbar URL");
    memcpy(pid, what, n);
    pid[n] = '\0';
    memcpy(action, slash + 1, an);
    action[an] = '\0';
    for (size_t i = 0; i < tb->nenabled && p == NULL; i++) {
        if (strcmp(tb->enabled_panels[i]->id, pid) == 0 &&
            dtbi_panel_has_action(tb->enabled_panels[i])) {
            p = tb->enabled_panels[i];
            state = tb->panel_states[i];
        }
    }
    if (p == NULL)
        return send_error(con, MHD_HTTP_NOT_FOUND, "no actions for this panel");
    if (strcmp(method, "POST") != 0)
        return send_error(con, MHD_HTTP_METHOD_NOT_ALLOWED, "POST only");
    if (rq->route_body_len > ROUTE_BODY_MAX)
        return send_error(con, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large");
    json_t *body =
        rq->route_body != NULL ? json_loadb(rq->route_body, rq->route_body_len, 0, NULL) : NULL;
    if (!json_is_object(body)) {
        json_decref(body);
        return send_error(con, MHD_HTTP_BAD_REQUEST, "expected a JSON object");
    }
    json_t *answer = NULL;
    unsigned status = p->handle_action(state, tb, action, body, &answer);
    json_decref(body);
    if (answer == NULL)
        return send_out_of_memory(con);
    return dtbi_send_json(con, status, answer);
}

enum MHD_Result dtbi_routes_serve(struct dtb_request *rq, struct MHD_Connection *con,
                                  const char *url, const char *method)
{
    struct dtb_toolbar *tb = rq->tb;
    const char *path = url + tb->prefix_len;
    size_t plen = strcspn(path, "?");
    int is_get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;

    if (plen == 0 || (plen == 1 && path[0] == '/')) /* the page (page.c) */
        return is_get ? dtbi_page_serve(tb, con, path, plen)
                      : send_error(con, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
    if (plen >= 8 && strncmp(path, "/static/", 8) == 0) {
        char name[64];
        size_t n = plen - 8;
        if (!is_get)
            return send_error(con, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
        if (n == 0 || n >= sizeof(name))
            return send_error(con, MHD_HTTP_NOT_FOUND, "no such asset");
        memcpy(name, path + 8, n);
        name[n] = '\0';
        if (n > 9 && strncmp(name, "panel-", 6) == 0 &&
            (strcmp(name + n - 3, ".js") == 0 || strcmp(name + n - 4, ".css") == 0))
            return serve_panel_asset(tb, con, name);
        return serve_static(con, name);
    }
    if (plen == 13 && strncmp(path, "/api/requests", 13) == 0) {
        if (!is_get)
            return send_error(con, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
        json_t *list = tb->store->ops->list(tb->store);
        if (list == NULL)
            return send_error(con, MHD_HTTP_INTERNAL_SERVER_ERROR, "history unavailable");
        return dtbi_send_json(con, MHD_HTTP_OK, list);
    }
    if (plen > 14 && strncmp(path, "/api/requests/", 14) == 0) {
        const char *id = path + 14;
        size_t idlen = strcspn(id, "/?.");
        char idbuf[17];
        if (!is_get)
            return send_error(con, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
        if (!valid_id(id, idlen))
            return send_error(con, MHD_HTTP_NOT_FOUND, "unknown or expired request id");
        memcpy(idbuf, id, 16);
        idbuf[16] = '\0';
        const char *rest = id + idlen;
        size_t rlen = plen - (size_t)(rest - path);
        if (rlen == 0)
            return serve_record(tb, con, idbuf);
        if (rlen == 5 && strncmp(rest, ".json", 5) == 0) /* a download (page.c) */
            return dtbi_page_export(tb, con, idbuf);
        if (rlen > 8 && strncmp(rest, "/panels/", 8) == 0) {
            char pid[64];
            size_t n = rlen - 8;
            if (n >= sizeof(pid) || memchr(rest + 8, '/', n) != NULL)
                return send_error(con, MHD_HTTP_NOT_FOUND, "unknown panel");
            memcpy(pid, rest + 8, n);
            pid[n] = '\0';
            return serve_panel(tb, con, idbuf, pid);
        }
    }
    if (plen > 13 && strncmp(path, "/api/compare/", 13) == 0) {
        /* /api/compare/<a>/<b>/panels/<panel> */
        const char *ids = path + 13;
        char a[17], b[17], pid[64];
        size_t rest = plen - 13, n;
        if (!is_get)
            return send_error(con, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
        if (rest < 16 + 1 + 16 + 8 || !valid_id(ids, 16) || ids[16] != '/' ||
            !valid_id(ids + 17, 16) || strncmp(ids + 33, "/panels/", 8) != 0)
            return send_error(con, MHD_HTTP_NOT_FOUND, "no such toolbar URL");
        n = rest - 41;
        if (n == 0 || n >= sizeof(pid) || memchr(ids + 41, '/', n) != NULL)
            return send_error(con, MHD_HTTP_NOT_FOUND, "unknown panel");
        memcpy(a, ids, 16);
        a[16] = '\0';
        memcpy(b, ids + 17, 16);
        b[16] = '\0';
        memcpy(pid, ids + 41, n);
        pid[n] = '\0';
        return dtbi_page_compare(tb, con, a, b, pid);
    }
    if (plen > 8 && strncmp(path, "/panels/", 8) == 0)
        return serve_action(rq, con, path + 8, plen - 8, method);
    return send_error(con, MHD_HTTP_NOT_FOUND, "no such toolbar URL");
}
