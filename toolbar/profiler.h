/*
 * profiler.h - what the middleware does around each call into the app's handler (profiler.c):
 * precise thread CPU time and rusage counters.
 * Internal (dtbi_), not installed.
 */
#ifndef DTB_PROFILER_H
#define DTB_PROFILER_H

#include <sys/resource.h>
#include <time.h>

#include "internal.h"

/* What dtbi_call_enter measured, handed back to dtbi_call_leave (on the caller's stack). */
struct dtbi_call {
    struct rusage ru0;
    int64_t cpu0; /* CLOCK_THREAD_CPUTIME_ID at entry, ns */
};

/* Before the app's handler runs for rq on this thread: takes the thread's CPU clock and
 * rusage. */
void dtbi_call_enter(struct dtb_request *rq, struct dtbi_call *c);
/* After it returned: adds the CPU time (exact, from the thread's CPU clock), user/system
 * (RUSAGE_THREAD, tick-grained), context switches and faults to rq's times. */
void dtbi_call_leave(struct dtb_request *rq, struct dtbi_call *c);

/* The calling thread's CPU time in ns (CLOCK_THREAD_CPUTIME_ID). Can't fail. */
int64_t dtbi_thread_cpu_ns(void);

#endif
