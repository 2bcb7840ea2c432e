/*
 * profiler.h - what the middleware does around each call into the app's handler (profiler.c):
 * precise thread CPU time, rusage and hardware counters, and the panels' call hooks.
 * Internal (dtbi_), not installed.
 */
#ifndef DTB_PROFILER_H
#define DTB_PROFILER_H

#include <sys/resource.h>
#include <time.h>

#include "counters.h"
#include "internal.h"

struct dtbi_spans;

/* What dtbi_call_enter measured, handed back to dtbi_call_leave (on the caller's stack). */
struct dtbi_call {
    struct rusage ru0;
    int64_t cpu0;                      /* CLOCK_THREAD_CPUTIME_ID at entry, ns */
    void *tokens[DTBI_CALL_HOOKS_MAX]; /* what the panels' call_enter returned */
    struct dtbi_spans *span_prev;      /* the thread's span store before this call */
    uint64_t hw0[DTBI_COUNTERS_MAX];   /* hardware counters at entry */
    int hw_ok;                         /* hw0 was read */
};

/* Before the app's handler runs for rq on this thread: makes rq's span store the thread's,
 * calls the panels' call_enter, takes the thread's CPU clock, rusage and counters. */
void dtbi_call_enter(struct dtb_request *rq, struct dtbi_call *c);
/* After it returned: adds the CPU time (exact, from the thread's CPU clock), user/system
 * (RUSAGE_THREAD, tick-grained), context switches and faults, and the hardware counters where
 * the kernel allows them, to rq's times; calls the panels' call_leave.
 */
void dtbi_call_leave(struct dtb_request *rq, struct dtbi_call *c);

/* The calling thread's CPU time in ns (CLOCK_THREAD_CPUTIME_ID). Can't fail. */
int64_t dtbi_thread_cpu_ns(void);

#endif
