/*
 * spans.h - the per-request span store behind <debugtoolbar/span.h> (spans.c), read by
 * panels through dtb_request_span. Internal, not installed.
 */
#ifndef DTB_SPANS_H
#define DTB_SPANS_H

#include "internal.h"

/* The kind of the app's own spans (dtb_span_begin): dtb_span_end ends only those. */
extern const char dtbi_span_app[];

struct dtbi_spans {
    struct dtb_request *rq;
    struct dtb_span_info *recs; /* in the order they began (arena) */
    size_t n, cap;
    int open;         /* the innermost open span, -1 */
    unsigned dropped; /* over the limit, or out of memory */
};

/* A new store in rq's arena (when an enabled panel wants spans, at the request's start); NULL
 * when out of memory. */
struct dtbi_spans *dtbi_spans_new(struct dtb_request *rq);
/* rq's store, or NULL (no panel wants spans). */
static inline struct dtbi_spans *dtbi_spans_of(struct dtb_request *rq)
{
    return rq->spans;
}
/* Makes s this thread's store around a handler call; returns the previous one, which
 * dtbi_spans_leave puts back. */
struct dtbi_spans *dtbi_spans_enter(struct dtbi_spans *s);
void dtbi_spans_leave(struct dtbi_spans *prev);

#endif
