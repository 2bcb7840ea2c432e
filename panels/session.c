/*
 * session.c - the Session panel: the session as the app's session layer reported it
 * (dtb_session_record): cookie, id (masked), data as a tree, store, created / last access,
 * time to live as the store answered, and what the request changed (first snapshot versus
 * last). Secret-named keys in the data are redacted before anything is stored.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <debugtoolbar/state.h>

#include "panels.h"

struct session_req {
    json_t *first; /* snapshot objects, owned by the request */
    json_t *last;
    int count;
};

static void *session_start(void *state, struct dtb_request *rq)
{
    (void)state;
    return dtb_request_alloc(rq, sizeof(struct session_req));
}

/* "abcd…wxyz": enough to tell sessions apart, not enough to steal one. */
static json_t *mask_id(const char *id)
{
    char buf[32];
    size_t n;
    if (id == NULL)
        return json_null();
    n = strlen(id);
    if (n <= 12)
        return json_string(DTB_REDACTED);
    snprintf(buf, sizeof(buf), "%.4s\xE2\x80\xA6%s", id, id + n - 4);
    return dtb_json_text(buf);
}

void dtb_session_record_info(const struct dtb_session_info *info)
{
    dtb_session_record_timed(info, -1);
}

/* What a caller's dtb_session_info holds, into one of this library's layout: the fields past
 * what the caller filled (its `size`; 0 = the first layout, up to `error`) stay zero. */
static void session_info_copy(struct dtb_session_info *out, const struct dtb_session_info *in)
{
    size_t n =
        in->size != 0 ? in->size : offsetof(struct dtb_session_info, error) + sizeof(in->error);
    memset(out, 0, sizeof(*out));
    memcpy(out, in, n < sizeof(*out) ? n : sizeof(*out));
    out->size = sizeof(*out);
}

void dtb_session_record_timed(const struct dtb_session_info *caller, int64_t duration_ns)
{
    DTB_TOOLBAR_SCOPE();
    struct dtb_request *rq;
    struct session_req *st = dtbi_current_panel_state("session", &rq);
    struct dtb_session_info copy;
    const struct dtb_session_info *info = &copy;
    json_t *snap;
    if (st == NULL || caller == NULL)
        return;
    session_info_copy(&copy, caller);
    const struct dtb_request_times *t = dtb_request_times(rq);
    json_t *data = info->data != NULL ? dtb_toolbar_redact_json(dtb_request_toolbar(rq), info->data)
                                      : json_object();
    snap = json_pack("{s:o,s:o,s:o,s:o,s:I,s:I,s:I,s:o,s:f}", "cookie", dtb_json_text(info->cookie),
                     "id", mask_id(info->id), "data", data != NULL ? data : json_null(), "store",
                     dtb_json_text(info->store), "ttl", (json_int_t)info->ttl_seconds, "created",
                     (json_int_t)info->created_unix, "accessed", (json_int_t)info->accessed_unix,
                     "error", dtb_json_text(info->error), "at_ms",
                     dtbi_ms(dtb_now_ns() - t->start_ns));
    /* the raw id, to tell a new session from the old one; never stored */
    if (snap != NULL && info->id != NULL)
        json_object_set_new(snap, "_id", dtb_json_text(info->id));
    if (dtb_request_own_json(rq, snap) == NULL)
        return;
    /* a span on the waterfall, ended now: the first snapshot is the load, later ones saves */
    if (duration_ns >= 0)
        dtb_span_add(rq, "session", st->first == NULL ? "load" : "save", dtb_now_ns() - duration_ns,
                     duration_ns);
    if (st->first == NULL)
        st->first = snap;
    st->last = snap;
    st->count++;
}

void dtb_session_record(const char *id, const json_t *data, const char *store,
                        long long ttl_seconds)
{
    DTB_TOOLBAR_SCOPE();
    struct dtb_session_info info = DTB_SESSION_INFO_INIT;
    info.id = id;
    info.data = data;
    info.store = store;
    info.ttl_seconds = ttl_seconds;
    dtb_session_record_info(&info);
}

/* Top-level differences between two data objects: [{key, change, before?, after?}]. */
static json_t *diff(const json_t *a, const json_t *b)
{
    json_t *out = json_array(), *v;
    const char *key;
    json_object_foreach((json_t *)a, key, v)
    {
        json_t *w = json_object_get(b, key);
        if (w == NULL)
            json_array_append_new(
                out, json_pack("{s:s,s:s,s:O}", "key", key, "change", "removed", "before", v));
        else if (!json_equal(v, w))
            json_array_append_new(out, json_pack("{s:s,s:s,s:O,s:O}", "key", key, "change",
                                                 "changed", "before", v, "after", w));
    }
    json_object_foreach((json_t *)b, key, v)
    {
        if (json_object_get(a, key) == NULL)
            json_array_append_new(
                out, json_pack("{s:s,s:s,s:O}", "key", key, "change", "added", "after", v));
    }
    return out;
}

static json_t *public_snapshot(const json_t *snap)
{
    json_t *c = json_copy((json_t *)snap);
    json_object_del(c, "_id");
    return c;
}

static json_t *session_to_json(void *state, struct dtb_request *rq, void *req_state)
{
    struct session_req *st = req_state;
    (void)state;
    (void)rq;
    if (st == NULL || st->count == 0)
        return json_pack("{s:i}", "snapshots", 0);
    const char *id0 = json_string_value(json_object_get(st->first, "_id"));
    const char *id1 = json_string_value(json_object_get(st->last, "_id"));
    int id_changed = (id0 == NULL) != (id1 == NULL) || (id0 && id1 && strcmp(id0, id1) != 0);
    const json_t *d0 = json_object_get(st->first, "data"), *d1 = json_object_get(st->last, "data");
    json_t *changes = st->count > 1 ? diff(d0, d1) : json_array();
    int modified = id_changed || json_array_size(changes) > 0;
    return json_pack("{s:i,s:o,s:o,s:b,s:b,s:o}", "snapshots", st->count, "before",
                     public_snapshot(st->first), "after", public_snapshot(st->last), "modified",
                     modified, "new_id", id_changed && st->count > 1, "changes", changes);
}

static int session_subtitle(const json_t *stats, struct dtb_buf *out)
{
    const json_t *after = json_object_get(stats, "after");
    if (json_integer_value(json_object_get(stats, "snapshots")) == 0)
        return dtb_buf_append_str(out, "no session");
    if (json_is_string(json_object_get(after, "error")))
        return dtb_buf_append_str(out, "store failed");
    if (json_is_null(json_object_get(after, "id")))
        return dtb_buf_append_str(
            out, json_is_true(json_object_get(stats, "modified")) ? "ended" : "anonymous");
    json_int_t ttl = json_integer_value(json_object_get(after, "ttl"));
    dtb_buf_appendf(out, "%s",
                    json_is_true(json_object_get(stats, "modified")) ? "modified" : "unchanged");
    if (ttl >= 0)
        dtb_buf_appendf(out, ", TTL %lld s", (long long)ttl);
    return out->failed ? -1 : 0;
}

static void time_row(struct dtb_buf *out, const char *label, json_int_t unix_s)
{
    char when[40] = "unknown";
    if (unix_s > 0) {
        time_t t = (time_t)unix_s;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
    }
    dtb_buf_appendf(out, "<tr><th>%s</th><td>%s</td></tr>", label, when);
}

static int session_render(const json_t *stats, struct dtb_buf *out)
{
    const json_t *after = json_object_get(stats, "after"), *c;
    size_t i;
    if (json_integer_value(json_object_get(stats, "snapshots")) == 0) {
        dtb_buf_append_str(out, "<p class=\"dtb-muted\">The app recorded no session for this "
                                "request (dtb_session_record).</p>");
        return out->failed ? -1 : 0;
    }
    if (json_is_string(json_object_get(after, "error"))) {
        dtb_buf_append_str(out,
                           "<div class=\"dtb-warn\"><strong>The session store failed:</strong> ");
        dtb_buf_append_html_str(out, json_string_value(json_object_get(after, "error")));
        dtb_buf_append_str(out, "</div>");
    }
    dtb_buf_append_str(out, "<table class=\"dtb-table dtb-kv\"><tbody><tr><th>Cookie</th><td>");
    dtbi_render_scalar(out, json_object_get(after, "cookie"));
    dtb_buf_append_str(out, "</td></tr><tr><th>Session id</th><td>");
    if (json_is_string(json_object_get(after, "id")))
        dtbi_render_scalar(out, json_object_get(after, "id"));
    else
        dtb_buf_append_str(out, "<span class=\"dtb-muted\">none</span>");
    if (json_is_true(json_object_get(stats, "new_id")))
        dtb_buf_append_str(out, " <span class=\"dtb-badge\">new this request</span>");
    dtb_buf_append_str(out, "</td></tr><tr><th>Store</th><td>");
    dtbi_render_scalar(out, json_object_get(after, "store"));
    json_int_t ttl = json_integer_value(json_object_get(after, "ttl"));
    dtb_buf_append_str(out, "</td></tr><tr><th>Time to live</th><td>");
    if (ttl >= 0)
        dtb_buf_appendf(out, "%lld s", (long long)ttl);
    else
        dtb_buf_append_str(out, ttl == -1 ? "no expiry" : "unknown");
    dtb_buf_append_str(out, "</td></tr>");
    time_row(out, "Created", json_integer_value(json_object_get(after, "created")));
    time_row(out, "Last access", json_integer_value(json_object_get(after, "accessed")));
    dtb_buf_appendf(out, "<tr><th>Modified</th><td>%s</td></tr></tbody></table>",
                    json_is_true(json_object_get(stats, "modified")) ? "yes, by this request"
                                                                     : "no");
    if (json_array_size(json_object_get(stats, "changes")) > 0) {
        dtb_buf_append_str(out, "<h4 class=\"dtb-h\">Changed by this request</h4><table "
                                "class=\"dtb-table\"><thead><tr><th>Key</th><th>Change</th>"
                                "<th>Before</th><th>After</th></tr></thead><tbody>");
        json_array_foreach(json_object_get(stats, "changes"), i, c)
        {
            dtb_buf_append_str(out, "<tr><td><code>");
            dtb_buf_append_html_str(out, json_string_value(json_object_get(c, "key")));
            dtb_buf_append_str(out, "</code></td><td>");
            dtb_buf_append_html_str(out, json_string_value(json_object_get(c, "change")));
            dtb_buf_append_str(out, "</td><td>");
            if (json_object_get(c, "before") != NULL)
                dtb_render_json_tree(out, json_object_get(c, "before"));
            dtb_buf_append_str(out, "</td><td>");
            if (json_object_get(c, "after") != NULL)
                dtb_render_json_tree(out, json_object_get(c, "after"));
            dtb_buf_append_str(out, "</td></tr>");
        }
        dtb_buf_append_str(out, "</tbody></table>");
    }
    dtb_buf_append_str(out, "<h4 class=\"dtb-h\">Data</h4>");
    dtb_render_json_tree(out, json_object_get(after, "data"));
    return out->failed ? -1 : 0;
}

const struct dtb_panel_ops dtb_panel_session = {
    .abi = DTB_PANEL_ABI,
    .id = "session",
    .title = "Session",
    .default_on = 1,
    .on_request_start = session_start,
    .to_json = session_to_json,
    .nav_subtitle = session_subtitle,
    .render_html = session_render,
};
