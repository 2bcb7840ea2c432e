/*
 * spans.h - the per-request span store behind <debugtoolbar/span.h> (spans.c), read by the
 * Timer panel. Internal, not installed.
 */
#ifndef DTB_SPANS_H
#define DTB_SPANS_H

#include "internal.h"

enum {
    DTBI_SPAN_APP = 0,
    DTBI_SPAN_SQL = 1,
    DTBI_SPAN_CACHE = 2,    /* dtb_cache_record with a duration */
    DTBI_SPAN_TEMPLATE = 3, /* dtb_template_record_timed */
    DTBI_SPAN_SESSION = 4   /* dtb_session_record_timed */
};

struct dtbi_span {
    const char *name; /* borrowed until the request completes */
    int64_t start_ns; /* monotonic */
    int64_t end_ns;   /* 0 while open */
    int parent;       /* index of the enclosing span, -1 at the top */
    int kind;         /* DTBI_SPAN_* */
};

struct dtbi_spans {
    struct dtb_request *rq;
    struct dtbi_span *recs; /* in the order they began (arena) */
    size_t n, cap;
    int open;         /* the innermost open span, -1 */
    unsigned dropped; /* over the limit, or out of memory */
};

/* A new store in rq's arena (from the Timer panel's on_request_start); NULL when out of
 * memory. */
struct dtbi_spans *dtbi_spans_new(struct dtb_request *rq);
/* rq's store, or NULL (the Timer panel is off) (panels/timer.c). */
struct dtbi_spans *dtbi_spans_of(struct dtb_request *rq);
/* Makes s this thread's store around a handler call; returns the previous one, which
 * dtbi_spans_leave puts back. */
struct dtbi_spans *dtbi_spans_enter(struct dtbi_spans *s);
void dtbi_spans_leave(struct dtbi_spans *prev);
/* Adds a finished span of the toolbar's own (an SQL query, a cache call, a template render, a
 * session load: name borrowed until completion), child of the span open on the thread. It is
 * recorded when it ended, so the spans recorded since its start under the same parent (a
 * template render's queries) become its children. */
void dtbi_span_add(struct dtb_request *rq, int kind, const char *name, int64_t start_ns,
                   int64_t dur_ns);

/* The clock the app's spans read: "tsc", "tsc (rate not yet measured)" or "clock_gettime"
 * (spans.c says why). */
const char *dtbi_span_clock(void);

/* "span", "sql", "cache", "template" or "session". */
const char *dtbi_span_kind_name(int kind);

#endif
