/*
 * debugtoolbar/span.h - named spans of the app's own work, shown on the Timer panel's
 * waterfall with the request's phases and SQL queries; the top-level ones also go out in the
 * Server-Timing header.
 *
 *     int s = dtb_span_begin("load cart");
 *     ...
 *     dtb_span_end(s);
 *
 *     {
 *         DTB_SPAN("render");   // ends when the enclosing block ends
 *         ...
 *     }
 *
 * Spans nest: a span begun while another is open on the thread is its child. They are kept per
 * request and per thread: begun and ended on the thread serving the request (or one attached to
 * it with dtb_request_attach), one thread at a time. Outside a request dtb_span_begin returns -1
 * and dtb_span_end(-1) does nothing; with -DDTB_DISABLE both are empty inline functions.
 * name is not copied: it must live until the request completes (a string literal does).
 * A request keeps up to 10,000 spans; more are not recorded.
 */
#ifndef DEBUGTOOLBAR_SPAN_H
#define DEBUGTOOLBAR_SPAN_H

#include <debugtoolbar/export.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef DTB_DISABLE

/* Opens a span named name on this thread's request. Returns its handle for dtb_span_end, or
 * -1 when nothing is recorded (no request, or the request's span limit reached). */
DTB_EXPORT int dtb_span_begin(const char *name);
/* Closes the span (and, when it was not the innermost one, makes its parent the open one).
 * -1 or a handle of another request is ignored. */
DTB_EXPORT void dtb_span_end(int span);

#else

static inline int dtb_span_begin(const char *name)
{
    (void)name;
    return -1;
}
static inline void dtb_span_end(int span)
{
    (void)span;
}

#endif

/* For DTB_SPAN: ends the span a scope variable holds. */
static inline void dtb_span_end_scope_(int *span)
{
    dtb_span_end(*span);
}

#define DTB_SPAN_CAT2_(a, b) a##b
#define DTB_SPAN_CAT_(a, b) DTB_SPAN_CAT2_(a, b)
/* A span from here to the end of the enclosing block (GCC and Clang's cleanup attribute). */
#define DTB_SPAN(name)                                                                             \
    int DTB_SPAN_CAT_(dtb_span_scope_, __LINE__)                                                   \
        __attribute__((cleanup(dtb_span_end_scope_), unused)) = dtb_span_begin(name)

#ifdef __cplusplus
}
#endif

#endif /* DEBUGTOOLBAR_SPAN_H */
