/*
 * spans.c - the app's named spans (<debugtoolbar/span.h>) and the toolbar's own (SQL
 * queries), per request, in the order they began, each with its parent. The store hangs off
 * the Timer panel's request state; while the app's handler runs, a thread-local pointer to it
 * makes dtb_span_begin/dtb_span_end a few loads, a clock read and a store (bench/spans.c).
 */
#include <stdlib.h>
#include <string.h>

#include "debugtoolbar/span.h"
#include "spans.h"

#define SPANS_FIRST 64
#define SPANS_MAX 10000

static _Thread_local struct dtbi_spans *tls_spans;

struct dtbi_spans *dtbi_spans_new(struct dtb_request *rq)
{
    struct dtbi_spans *s = dtb_request_alloc(rq, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->rq = rq;
    s->open = -1;
    s->recs = dtb_request_alloc(rq, SPANS_FIRST * sizeof(*s->recs));
    s->cap = s->recs != NULL ? SPANS_FIRST : 0;
    return s;
}

struct dtbi_spans *dtbi_spans_enter(struct dtbi_spans *s)
{
    struct dtbi_spans *prev = tls_spans;
    tls_spans = s;
    return prev;
}

void dtbi_spans_leave(struct dtbi_spans *prev)
{
    tls_spans = prev;
}

/* The store of the request current on this thread: the handler's, or an attached thread's. */
static struct dtbi_spans *current(void)
{
    struct dtbi_spans *s = tls_spans;
    if (s != NULL)
        return s;
    struct dtb_request *rq = dtb_request_current();
    return rq != NULL ? dtbi_spans_of(rq) : NULL;
}

static struct dtbi_span *slot(struct dtbi_spans *s)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : SPANS_FIRST;
        if (s->n >= SPANS_MAX) {
            s->dropped++;
            return NULL;
        }
        struct dtbi_span *r = dtb_request_alloc(s->rq, cap * sizeof(*r));
        if (r == NULL) {
            s->dropped++;
            return NULL;
        }
        if (s->n > 0)
            memcpy(r, s->recs, s->n * sizeof(*r));
        s->recs = r;
        s->cap = cap;
    }
    return &s->recs[s->n++];
}

int dtb_span_begin(const char *name)
{
    struct dtbi_spans *s = current();
    struct dtbi_span *r;
    if (s == NULL || (r = slot(s)) == NULL)
        return -1;
    r->name = name != NULL ? name : "";
    r->kind = DTBI_SPAN_APP;
    r->parent = s->open;
    r->end_ns = 0;
    r->start_ns = dtb_now_ns();
    s->open = (int)(r - s->recs);
    return s->open;
}

void dtb_span_end(int span)
{
    if (span < 0)
        return;
    struct dtbi_spans *s = current();
    if (s == NULL || (size_t)span >= s->n || s->recs[span].end_ns != 0 ||
        s->recs[span].kind != DTBI_SPAN_APP)
        return;
    s->recs[span].end_ns = dtb_now_ns();
    s->open = s->recs[span].parent;
}

void dtbi_span_add(struct dtb_request *rq, int kind, const char *name, int64_t start_ns,
                   int64_t dur_ns)
{
    struct dtbi_spans *s = tls_spans;
    struct dtbi_span *r;
    if (s == NULL || s->rq != rq)
        s = dtbi_spans_of(rq);
    if (s == NULL || (r = slot(s)) == NULL)
        return;
    r->name = name != NULL ? name : "";
    r->kind = kind;
    r->parent = s->open;
    r->start_ns = start_ns;
    r->end_ns = start_ns + (dur_ns > 0 ? dur_ns : 0);
    /* The spans that ran inside it were recorded before it: they are its children. On one
     * thread every record before the first one that started earlier started earlier too (an
     * app span is recorded when it begins, the others when they end, and none of those
     * contains this one), so the walk back stops there. */
    int self = (int)(r - s->recs);
    for (int i = self - 1; i >= 0 && s->recs[i].start_ns >= r->start_ns; i--) {
        struct dtbi_span *c = &s->recs[i];
        if (c->parent == r->parent && c->end_ns != 0 && c->end_ns <= r->end_ns)
            c->parent = self;
    }
}

const char *dtbi_span_kind_name(int kind)
{
    static const char *const names[] = {"span", "sql", "cache", "template", "session"};
    return kind >= 0 && kind < (int)(sizeof(names) / sizeof(names[0])) ? names[kind] : "span";
}
