/*
 * request_finish.c - a request's record at its completion: the panels' end hooks, the record
 * handed to the store (built by the store itself, or here), and dtbi_request_materialize, which
 * turns the record into the history's summary (the panels' marks and fields) and its JSON text,
 * shrunk under history_max_bytes by dropping the largest panels' stats.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store.h"

static void iso8601(int64_t unix_ns, char *out, size_t outlen)
{
    time_t secs = (time_t)(unix_ns / 1000000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(out, outlen, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, outlen - n, ".%03dZ", (int)((unix_ns / 1000000) % 1000));
}

/* Shrinks an oversized record by dropping the largest panels' stats, saying so. */
static char *dump_bounded(json_t *record, size_t max_bytes)
{
    char *text = json_dumps(record, JSON_COMPACT);
    json_t *panels = json_object_get(record, "panels");
    while (text != NULL && strlen(text) > max_bytes && json_object_size(panels) > 0) {
        const char *key, *biggest = NULL;
        size_t biggest_len = 0;
        json_t *v;
        json_object_foreach(panels, key, v)
        {
            char *t = json_dumps(v, JSON_COMPACT);
            size_t l = t ? strlen(t) : 0;
            free(t);
            if (l >= biggest_len && json_object_get(v, "truncated") == NULL) {
                biggest_len = l;
                biggest = key;
            }
        }
        free(text);
        text = NULL;
        if (biggest == NULL)
            break;
        json_t *trunc = json_object_get(record, "truncated");
        json_array_append_new(trunc, json_string(biggest));
        json_object_set_new(
            panels, biggest,
            json_pack("{s:b,s:I}", "truncated", 1, "bytes", (json_int_t)biggest_len));
        text = json_dumps(record, JSON_COMPACT);
    }
    return text;
}

void dtbi_request_finish(struct dtb_request *rq, enum MHD_RequestTerminationCode toe)
{
    struct dtb_toolbar *tb = rq->tb;
    char id[17];
    int64_t t0;
    if (!rq->active || !rq->handled || rq->toolbar_route || tb->store == NULL) {
        if (rq->resp.injected)
            dtbi_pending_remove(tb, rq->id);
        dtbi_request_destroy(rq);
        return;
    }
    t0 = dtb_now_ns();
    rq->times.end_ns = t0;
    rq->toe = toe;
    for (size_t i = 0; i < tb->nenabled && rq->panel_req_states != NULL; i++) {
        const struct dtb_panel_ops *p = tb->enabled_panels[i];
        if (p->on_request_end != NULL)
            p->on_request_end(tb->panel_states[i], rq, rq->panel_req_states[i]);
    }
    /* Everything after this point is the toolbar's own cost, shown in the Timer panel. */
    rq->times.toolbar_ns += dtb_now_ns() - t0;
    /* nothing of the connection may outlive it */
    if (rq->pp != NULL) {
        MHD_destroy_post_processor(rq->pp);
        rq->pp = NULL;
    }
    rq->dctx = NULL;
    memcpy(id, rq->id, sizeof(id));
    int injected = rq->resp.injected;
    if (tb->store->ops->put_request != NULL &&
        tb->store->ops->put_request(tb->store, rq) == DTB_OK) {
        if (injected) /* rq belongs to the store now: only the copied id is used */
            dtbi_pending_remove(tb, id);
        return;
    }
    dtbi_request_put_built(tb->store, rq);
    if (injected)
        dtbi_pending_remove(tb, id);
}

void dtbi_request_put_built(struct dtbi_store *s, struct dtb_request *rq)
{
    json_t *summary = NULL;
    char *text = NULL;
    if (dtbi_request_materialize(rq, &summary, &text) == 0 &&
        s->ops->put(s, rq->id, summary, text) != DTB_OK)
        dtbi_log_once("store-put", "could not store a request record (store '%s')", s->ops->name);
    free(text);
    json_decref(summary);
    dtbi_request_destroy(rq);
}

/* The panels' marks for History (summary_marks), each with its panel's id, as summary.marks. */
static void summary_marks(const struct dtb_toolbar *tb, const json_t *panels, json_t *summary)
{
    json_t *marks = json_array(), *m;
    size_t i;
    for (size_t k = 0; k < tb->nenabled && marks != NULL; k++) {
        const struct dtb_panel_ops *p = tb->enabled_panels[k];
        const json_t *stats = json_object_get(panels, p->id);
        size_t before = json_array_size(marks);
        if (stats == NULL || !dtbi_panel_has_marks(p))
            continue;
        p->summary_marks(stats, marks);
        json_array_foreach(marks, i, m)
        {
            if (i >= before && json_is_object(m))
                json_object_set_new(m, "panel", json_string(p->id));
        }
    }
    if (json_array_size(marks) > 0)
        json_object_set_new(summary, "marks", marks);
    else
        json_decref(marks);
}

/* The panels' named fields for History (their summary hooks), copied into summary: a name the
 * summary has already (the core's own, or an earlier panel's) is kept as it is. */
static void summary_fields(const struct dtb_toolbar *tb, const json_t *panels, json_t *summary)
{
    for (size_t k = 0; k < tb->nenabled; k++) {
        const struct dtb_panel_ops *p = tb->enabled_panels[k];
        const json_t *stats = json_object_get(panels, p->id);
        json_t *fields, *v;
        const char *name;
        if (stats == NULL || !dtbi_panel_has_summary(p) || (fields = json_object()) == NULL)
            continue;
        p->summary(stats, fields);
        json_object_foreach(fields, name, v)
        {
            if (json_object_get(summary, name) == NULL)
                json_object_set(summary, name, v);
        }
        json_decref(fields);
    }
}

int dtbi_request_materialize(struct dtb_request *rq, json_t **summary_out, char **text_out)
{
    struct dtb_toolbar *tb = rq->tb;
    json_t *record = NULL, *panels = NULL, *summary = NULL;
    char started[40], *text = NULL;
    *summary_out = NULL;
    *text_out = NULL;
    panels = json_object();
    for (size_t i = 0; i < tb->nenabled && panels != NULL; i++) {
        const struct dtb_panel_ops *p = tb->enabled_panels[i];
        void *st = rq->panel_req_states != NULL ? rq->panel_req_states[i] : NULL;
        json_t *stats = p->to_json(tb->panel_states[i], rq, st);
        if (stats != NULL)
            json_object_set_new(panels, p->id, stats);
    }
    iso8601(rq->times.started_unix_ns, started, sizeof(started));
    double time_ms = (double)(rq->times.end_ns - rq->times.start_ns) / 1e6;
    /* method and path may be any bytes a client sent: stored as valid UTF-8 */
    summary = json_pack("{s:s,s:o,s:o,s:i,s:o,s:f,s:s,s:b,s:s?}", "id", rq->id, "method",
                        dtb_json_text(rq->method ? rq->method : ""), "path",
                        dtb_json_text(rq->path ? rq->path : ""), "status", (int)rq->resp.status,
                        "content_type", dtb_json_text(rq->resp.content_type), "time_ms", time_ms,
                        "started_at", started, "injected", rq->resp.injected, "skip_reason",
                        rq->resp.skip_reason);
    if (summary == NULL || panels == NULL)
        goto fail;
    dtbi_page_summary_flags(rq, panels, summary);
    summary_marks(tb, panels, summary);
    summary_fields(tb, panels, summary);
    if (rq->why_not != NULL) /* said in X-Debug-Toolbar-Skip (filter.c) */
        json_object_set_new(summary, "why_not", json_string(rq->why_not));
    if (rq->daemon != NULL) /* the listening address that served it (filter.c) */
        json_object_set_new(summary, "daemon", json_string(rq->daemon));
    record = json_deep_copy(summary);
    if (record == NULL)
        goto fail;
    char *url = dtb_toolbar_redact_url(tb, rq->url ? rq->url : "");
    json_object_set_new(record, "url", url != NULL ? dtb_json_text(url) : json_null());
    free(url);
    json_object_set_new(record, "completed",
                        json_boolean(rq->toe == MHD_REQUEST_TERMINATED_COMPLETED_OK));
    json_object_set_new(record, "degraded", json_boolean(rq->degraded));
    json_object_set_new(record, "truncated", json_array());
    json_object_set(record, "panels", panels);
    text = dump_bounded(record, tb->cfg.record_max_bytes);
    if (text == NULL)
        goto fail;
    json_decref(record);
    json_decref(panels);
    *summary_out = summary;
    *text_out = text;
    return 0;
fail:
    dtbi_log_once("record-build", "out of memory building a request record; not stored");
    json_decref(record);
    json_decref(panels);
    json_decref(summary);
    return -1;
}
