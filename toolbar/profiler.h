/*
 * profiler.h - what the middleware does around each call into the app's handler (profiler.c):
 * precise thread CPU time, rusage counters and the sampling profiler.
 * Internal (dtbi_), not installed.
 */
#ifndef DTB_PROFILER_H
#define DTB_PROFILER_H

#include <sys/resource.h>
#include <time.h>

#include "counters.h"
#include "internal.h"

struct dtbi_profile_req;
struct dtbi_spans;

/* What dtbi_call_enter measured, handed back to dtbi_call_leave (on the caller's stack). */
struct dtbi_call {
    struct rusage ru0;
    int64_t cpu0;                      /* CLOCK_THREAD_CPUTIME_ID at entry, ns */
    struct dtbi_profile_req *profiled; /* the sampling profiler was armed for this call */
    struct dtbi_spans *span_prev;      /* the thread's span store before this call */
    uint64_t hw0[DTBI_COUNTERS_MAX];   /* hardware counters at entry */
    int hw_ok;                         /* hw0 was read */
};

/* Before the app's handler runs for rq on this thread: takes the thread's CPU clock and
 * rusage, arms the profiler when the request asked for it. */
void dtbi_call_enter(struct dtb_request *rq, struct dtbi_call *c);
/* After it returned: adds the CPU time (exact, from the thread's CPU clock), user/system
 * (RUSAGE_THREAD, tick-grained), context switches and faults, and the hardware counters where
 * the kernel allows them, to rq's times; disarms the profiler.
 */
void dtbi_call_leave(struct dtb_request *rq, struct dtbi_call *c);

/* The Profile panel's side (panels/profile.c): requests in flight that asked to be profiled
 * (nothing is looked up while it is 0), and arming/collecting around one handler call. */
extern atomic_int dtbi_profile_live;
int dtbi_profile_call_start(struct dtbi_profile_req *pr);
void dtbi_profile_call_stop(struct dtb_request *rq, struct dtbi_profile_req *pr);
/* The collapsed-stack text (flamegraph.pl: "root;child;leaf count" lines) and speedscope's
 * JSON file format of a stored profile. */
int dtbi_profile_folded(const json_t *stats, struct dtb_buf *out);
json_t *dtbi_profile_speedscope(const json_t *stats, const char *name);

/* The calling thread's CPU time in ns (CLOCK_THREAD_CPUTIME_ID). Can't fail. */
int64_t dtbi_thread_cpu_ns(void);

#endif
