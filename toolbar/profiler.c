/*
 * profiler.c - around each call into the app's handler: the thread's CPU clock
 * (CLOCK_THREAD_CPUTIME_ID, exact to the nanosecond) and RUSAGE_THREAD (the user/system split,
 * which advances in scheduler ticks, and the context switches and page faults), summed into
 * the request's times; the panels' call hooks (call_enter and call_leave of struct
 * dtb_panel_ops: the Profile panel's sampler, the Memory panel's heap ledger); the thread's
 * span store (spans.c); the thread's hardware counters (counters.c), read last on entry and
 * first on leaving.
 */
#include <sys/resource.h>
#include <time.h>

#include "profiler.h"
#include "spans.h"

int64_t dtbi_thread_cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t tv_ns(const struct timeval *tv)
{
    return (int64_t)tv->tv_sec * 1000000000 + (int64_t)tv->tv_usec * 1000;
}

void dtbi_call_enter(struct dtb_request *rq, struct dtbi_call *c)
{
    const struct dtb_toolbar *tb = rq->tb;
    c->span_prev = dtbi_spans_enter(dtbi_spans_of(rq));
    if (tb->ncall_hooks > 0 && rq->panel_req_states != NULL) {
        for (size_t k = 0; k < tb->ncall_hooks; k++) {
            size_t i = tb->call_hooks[k];
            const struct dtb_panel_ops *p = tb->enabled_panels[i];
            c->tokens[k] = p->call_enter != NULL
                               ? p->call_enter(tb->panel_states[i], rq, rq->panel_req_states[i])
                               : NULL;
        }
    }
    getrusage(RUSAGE_THREAD, &c->ru0);
    c->cpu0 = dtbi_thread_cpu_ns();
    int scaled;
    c->hw_ok = dtbi_counters_thread_read(c->hw0, &scaled) == 0;
}

void dtbi_call_leave(struct dtb_request *rq, struct dtbi_call *c)
{
    struct rusage ru1;
    uint64_t hw1[DTBI_COUNTERS_MAX];
    int scaled = 0;
    int hw = c->hw_ok && dtbi_counters_thread_read(hw1, &scaled) == 0;
    int64_t cpu1 = dtbi_thread_cpu_ns();
    getrusage(RUSAGE_THREAD, &ru1);
    const struct dtb_toolbar *tb = rq->tb;
    if (tb->ncall_hooks > 0 && rq->panel_req_states != NULL) {
        for (size_t k = tb->ncall_hooks; k-- > 0;) {
            size_t i = tb->call_hooks[k];
            const struct dtb_panel_ops *p = tb->enabled_panels[i];
            if (p->call_leave != NULL)
                p->call_leave(tb->panel_states[i], rq, rq->panel_req_states[i], c->tokens[k]);
        }
    }
    dtbi_spans_leave(c->span_prev);
    struct dtb_request_times *t = &rq->times;
    t->cpu_ns += cpu1 - c->cpu0;
    t->cpu_user_ns += tv_ns(&ru1.ru_utime) - tv_ns(&c->ru0.ru_utime);
    t->cpu_sys_ns += tv_ns(&ru1.ru_stime) - tv_ns(&c->ru0.ru_stime);
    t->ctx_voluntary += ru1.ru_nvcsw - c->ru0.ru_nvcsw;
    t->ctx_involuntary += ru1.ru_nivcsw - c->ru0.ru_nivcsw;
    t->faults_minor += ru1.ru_minflt - c->ru0.ru_minflt;
    t->faults_major += ru1.ru_majflt - c->ru0.ru_majflt;
    if (hw) {
        t->instructions += (int64_t)(hw1[0] - c->hw0[0]);
        t->cycles += (int64_t)(hw1[1] - c->hw0[1]);
        t->cache_misses += (int64_t)(hw1[2] - c->hw0[2]);
        t->branch_misses += (int64_t)(hw1[3] - c->hw0[3]);
        t->hw_calls++;
        t->hw_scaled += scaled;
    }
}
