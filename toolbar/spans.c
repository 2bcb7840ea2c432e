/*
 * spans.c - the app's named spans (<debugtoolbar/span.h>) and the toolbar's own (SQL
 * queries, cache calls...: dtb_span_add), per request, in the order they were recorded, each
 * with its parent; kept when an enabled panel asked (dtb_toolbar_want_spans: the Timer panel)
 * and read by panels through dtb_request_span. While the app's handler runs, a thread-local pointer
 * to it makes dtb_span_begin/dtb_span_end a few loads, a clock read and a store (bench/spans.c).
 *
 * The clock read. clock_gettime(CLOCK_MONOTONIC) costs 35-50 ns in a virtual machine, most of a
 * span pair's budget, so on x86-64 with an invariant TSC the app's spans read the TSC (with
 * RDTSCP, which also names the CPU; without it, RDTSC and the vDSO's getcpu) and turn it into
 * monotonic nanoseconds from a per-thread anchor: a (TSC, clock_gettime) pair taken on one CPU.
 * The anchor is renewed with clock_gettime when the thread is on another CPU (the TSCs of two
 * CPUs may be offset), when it is older than 20 ms (so an error in the rate stays under a few
 * microseconds), and on every read until the rate is known. The rate (ns per tick) is measured
 * from a thread's anchors on one CPU at least 10 ms apart, and measured again over longer
 * intervals as the process lives. Elsewhere, or with DTB_SPANS_TSC=0 in the environment, spans
 * read clock_gettime as dtb_now_ns does. The Timer panel's record names the clock in use.
 */
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "debugtoolbar/span.h"
#include "spans.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <x86intrin.h>
#define SPANS_TSC 1
#endif

#define SPANS_FIRST 64
#define SPANS_MAX 10000

/* initial-exec: a load off %fs, not a __tls_get_addr call (the library is loaded at start or
 * preloaded; its few bytes fit the static TLS surplus of a later dlopen too) */
static _Thread_local struct dtbi_spans *tls_spans __attribute__((tls_model("initial-exec")));

#ifdef SPANS_TSC
#define ANCHOR_MAX_NS 20000000LL /* an anchor older than this is renewed */
#define CALIBRATE_NS 10000000LL  /* the shortest interval the rate is measured over */

/* -1 not checked yet, 0 clock_gettime, 1 RDTSC + getcpu, 2 RDTSCP */
static atomic_int tsc_mode = -1;
static _Atomic uint64_t tsc_rate_bits; /* ns per tick (a double's bits), 0 = not known */

struct anchor {
    uint64_t tsc, max_ticks; /* max_ticks: ANCHOR_MAX_NS in ticks, 0 = renew on every read */
    int64_t ns;
    unsigned cpu;
    int set;
    /* the thread's first anchor on its CPU, which the rate is measured from */
    uint64_t base_tsc;
    int64_t base_ns, measured_ns; /* measured_ns: the interval of this thread's last measure */
    unsigned base_cpu;
    int base_set;
};
static _Thread_local struct anchor tls_anchor __attribute__((tls_model("initial-exec")));

static int tsc_check(void)
{
    unsigned a, b, c, d;
    int mode = 0;
    const char *env = getenv("DTB_SPANS_TSC");
    if ((env == NULL || strcmp(env, "0") != 0) &&
        __get_cpuid_max(0x80000000u, NULL) >= 0x80000007u &&
        __get_cpuid(0x80000007u, &a, &b, &c, &d) && (d & (1u << 8)) != 0) { /* invariant TSC */
        mode = 1;
        if (__get_cpuid(0x80000001u, &a, &b, &c, &d) && (d & (1u << 27)) != 0) /* RDTSCP */
            mode = 2;
        else if (sched_getcpu() < 0)
            mode = 0;
    }
    atomic_store_explicit(&tsc_mode, mode, memory_order_relaxed);
    return mode;
}

static double tsc_rate(void)
{
    uint64_t bits = atomic_load_explicit(&tsc_rate_bits, memory_order_relaxed);
    double r;
    memcpy(&r, &bits, sizeof(r));
    return r;
}

/* The TSC, and the CPU it was read on. */
static inline uint64_t read_tsc(int mode, unsigned *cpu)
{
    if (mode == 2)
        return __rdtscp(cpu);
    *cpu = (unsigned)sched_getcpu();
    return __rdtsc();
}

/* A new anchor for the TSC read t on cpu (clock_gettime between two TSC reads on that CPU),
 * and the rate measured from the thread's first anchor when they lie far enough apart. */
static int64_t renew_anchor(struct anchor *an, int mode, uint64_t t, unsigned cpu)
{
    unsigned cpu2;
    int64_t ns = dtb_now_ns();
    uint64_t t2 = read_tsc(mode, &cpu2);
    an->set = 0;
    if (cpu2 != cpu || t2 < t)
        return ns; /* moved in between: no anchor this time */
    an->tsc = t + (t2 - t) / 2;
    an->ns = ns;
    an->cpu = cpu;
    an->set = 1;
    if (!an->base_set || an->base_cpu != cpu) {
        an->base_tsc = an->tsc, an->base_ns = ns, an->base_cpu = cpu, an->base_set = 1;
        an->measured_ns = 0;
    } else if (ns - an->base_ns >= CALIBRATE_NS && ns - an->base_ns >= 4 * an->measured_ns &&
               an->tsc > an->base_tsc) {
        double r = (double)(ns - an->base_ns) / (double)(an->tsc - an->base_tsc);
        uint64_t bits;
        memcpy(&bits, &r, sizeof(bits));
        atomic_store_explicit(&tsc_rate_bits, bits, memory_order_relaxed);
        an->measured_ns = ns - an->base_ns;
    }
    double r = tsc_rate();
    an->max_ticks = r > 0 ? (uint64_t)((double)ANCHOR_MAX_NS / r) : 0;
    return ns;
}

/* The clock's mode (tsc_mode), checked on first use. */
static inline int tsc_mode_get(void)
{
    int mode = atomic_load_explicit(&tsc_mode, memory_order_relaxed);
    return mode >= 0 ? mode : tsc_check();
}
#endif

/* Monotonic nanoseconds, as dtb_now_ns, for the app's spans (see the top of the file). */
static inline int64_t span_now(void)
{
#ifdef SPANS_TSC
    int mode = tsc_mode_get();
    if (mode > 0) {
        unsigned cpu;
        uint64_t t = read_tsc(mode, &cpu);
        struct anchor *an = &tls_anchor;
        if (an->set && cpu == an->cpu && t - an->tsc < an->max_ticks)
            return an->ns + (int64_t)((double)(t - an->tsc) * tsc_rate());
        return renew_anchor(an, mode, t, cpu);
    }
#endif
    return dtb_now_ns();
}

const char *dtb_span_clock(void)
{
#ifdef SPANS_TSC
    if (tsc_mode_get() > 0)
        return tsc_rate() > 0 ? "tsc" : "tsc (rate not yet measured)";
#endif
    return "clock_gettime";
}

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

static struct dtb_span_info *slot(struct dtbi_spans *s)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : SPANS_FIRST;
        if (s->n >= SPANS_MAX) {
            s->dropped++;
            return NULL;
        }
        struct dtb_span_info *r = dtb_request_alloc(s->rq, cap * sizeof(*r));
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
    struct dtb_span_info *r;
    if (s == NULL || (r = slot(s)) == NULL)
        return -1;
    r->name = name != NULL ? name : "";
    r->kind = dtbi_span_app;
    r->parent = s->open;
    r->end_ns = 0;
    r->start_ns = span_now();
    s->open = (int)(r - s->recs);
    return s->open;
}

void dtb_span_end(int span)
{
    if (span < 0)
        return;
    struct dtbi_spans *s = current();
    if (s == NULL || (size_t)span >= s->n || s->recs[span].end_ns != 0 ||
        s->recs[span].kind != dtbi_span_app)
        return;
    s->recs[span].end_ns = span_now();
    s->open = s->recs[span].parent;
}

void dtb_span_add(struct dtb_request *rq, const char *kind, const char *name, int64_t start_ns,
                  int64_t dur_ns)
{
    struct dtbi_spans *s = tls_spans;
    struct dtb_span_info *r;
    if (s == NULL || s->rq != rq)
        s = dtbi_spans_of(rq);
    if (s == NULL || (r = slot(s)) == NULL)
        return;
    r->name = name != NULL ? name : "";
    r->kind = kind != NULL ? kind : "span";
    r->parent = s->open;
    r->start_ns = start_ns;
    r->end_ns = start_ns + (dur_ns > 0 ? dur_ns : 0);
    /* The spans that ran inside it were recorded before it: they are its children. On one
     * thread every record before the first one that started earlier started earlier too (an
     * app span is recorded when it begins, the others when they end, and none of those
     * contains this one), so the walk back stops there. */
    int self = (int)(r - s->recs);
    for (int i = self - 1; i >= 0 && s->recs[i].start_ns >= r->start_ns; i--) {
        struct dtb_span_info *c = &s->recs[i];
        if (c->parent == r->parent && c->end_ns != 0 && c->end_ns <= r->end_ns)
            c->parent = self;
    }
}

const char dtbi_span_app[] = "span";

void dtb_toolbar_want_spans(struct dtb_toolbar *tb)
{
    if (tb != NULL)
        tb->want_spans = true;
}

size_t dtb_request_span_count(const struct dtb_request *rq, unsigned *dropped)
{
    const struct dtbi_spans *s = rq != NULL ? rq->spans : NULL;
    if (dropped != NULL)
        *dropped = s != NULL ? s->dropped : 0;
    return s != NULL ? s->n : 0;
}

const struct dtb_span_info *dtb_request_span(const struct dtb_request *rq, size_t i)
{
    const struct dtbi_spans *s = rq != NULL ? rq->spans : NULL;
    return s != NULL && i < s->n ? &s->recs[i] : NULL;
}
