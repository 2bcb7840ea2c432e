/*
 * sampler.c - the sampling profiler behind the Profile panel. While a profiled request's
 * handler runs, a per-thread timer (timer_create on the thread's CPU clock, or the monotonic
 * clock in wall mode, delivered with SIGEV_THREAD_ID to that thread alone) sends a real-time
 * signal; its handler unwinds the interrupted stack with libunwind (local unwinding from the
 * signal's context: no frame pointers needed) into the thread's preallocated buffer. The
 * handler never allocates, locks or symbolizes: addresses are copied to the request when the
 * call returns and turned into names later (symbols.c).
 *
 * The signal is chosen when the first toolbar starts: the highest real-time signal nobody
 * handles (or the one the config names). An app that handles SIGPROF, or that takes our
 * signal over later, keeps it: the profiler then says it is off, and why.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "sampler.h"

#if defined(__SANITIZE_THREAD__)
#define SAMPLER_DEFERRED 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SAMPLER_DEFERRED 1
#endif
#endif
#ifndef SAMPLER_DEFERRED
#define SAMPLER_DEFERRED 0
#endif

#ifdef HAVE_PROFILER
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#endif

/* ---- process-wide state ------------------------------------------------------------------- */

static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;
static int installed;    /* toolbars using the sampler */
static int sample_signo; /* the signal our handler is on, 0 when none */
static struct sigaction previous_action;
static char off_reason[160]; /* why the sampler is off, "" when on */
static pthread_key_t thread_key;
static int thread_key_made;

/* ---- per thread ---------------------------------------------------------------------------- */

#define THREAD_WORDS (64 * 1024) /* 512 KiB: ~3,000 samples of 20 frames */

struct sampler_thread {
    volatile sig_atomic_t armed; /* the signal handler records only while set */
    int max_depth;
    uintptr_t *buf; /* samples: [depth, weight, ip (leaf first)...] ... */
    size_t len;
    unsigned samples; /* intervals the samples stand for */
    unsigned signals; /* samples taken */
    unsigned dropped; /* buffer full */
    timer_t timer;
    int have_timer;
    clockid_t clock;
};

static _Thread_local struct sampler_thread *tls_sampler;

static void thread_free(void *p)
{
    struct sampler_thread *t = p;
    if (t == NULL)
        return;
    t->armed = 0;
    if (t->have_timer)
        timer_delete(t->timer);
    free(t->buf);
    free(t);
}

#ifdef HAVE_PROFILER
static void on_signal(int sig, siginfo_t *si, void *ucontext)
{
    int saved = errno;
    struct sampler_thread *t = tls_sampler;
    (void)sig;
    if (t != NULL && t->armed) {
        size_t room = THREAD_WORDS - t->len;
        /* The kernel checks CPU-time timers at its scheduler tick: one signal may stand for
         * several intervals (the overrun), and the sample is weighted so. */
        unsigned weight =
            1 + (si->si_code == SI_TIMER && si->si_overrun > 0 ? (unsigned)si->si_overrun : 0);
        if (room < 8) {
            t->dropped += weight;
        } else {
            unw_cursor_t cursor;
            uintptr_t *out = t->buf + t->len + 2;
            size_t n = 0, max = room - 2;
            if (max > (size_t)t->max_depth)
                max = (size_t)t->max_depth;
#if SAMPLER_DEFERRED
            /* ThreadSanitizer runs handlers later, at a safe point, with the context of the
             * moment the signal came: that stack is gone. Unwind from here instead. */
            unw_context_t here;
            (void)ucontext;
            int rc = unw_getcontext(&here) == 0 ? unw_init_local(&cursor, &here) : -1;
#else
            int rc = unw_init_local2(&cursor, (unw_context_t *)ucontext, UNW_INIT_SIGNAL_FRAME);
#endif
            if (rc == 0) {
                do {
                    unw_word_t ip;
                    if (unw_get_reg(&cursor, UNW_REG_IP, &ip) < 0 || ip == 0)
                        break;
                    out[n++] = (uintptr_t)ip;
                } while (n < max && unw_step(&cursor) > 0);
            }
            if (n > 0) {
                t->buf[t->len] = n;
                t->buf[t->len + 1] = weight;
                t->len += 2 + n;
                t->samples += weight;
                t->signals++;
            }
        }
    }
    errno = saved;
}
#endif

/* 1 when sig has a handler other than ours. */
static int taken(int sig)
{
    struct sigaction sa;
    if (sigaction(sig, NULL, &sa) != 0)
        return 1;
    if (sa.sa_flags & SA_SIGINFO)
        return 1;
    return sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN;
}

int dtbi_sampler_install(int want_signo)
{
#ifndef HAVE_PROFILER
    (void)want_signo;
    pthread_mutex_lock(&install_lock);
    installed++;
    snprintf(off_reason, sizeof(off_reason),
             "the library was built without libunwind and libdw (install libunwind-dev "
             "libdw-dev and rebuild)");
    pthread_mutex_unlock(&install_lock);
    return 0;
#else
    pthread_mutex_lock(&install_lock);
    if (installed++ > 0) {
        pthread_mutex_unlock(&install_lock);
        return 0;
    }
    off_reason[0] = '\0';
    sample_signo = 0;
    if (!thread_key_made && pthread_key_create(&thread_key, thread_free) == 0)
        thread_key_made = 1;
    if (!thread_key_made) {
        snprintf(off_reason, sizeof(off_reason), "out of thread-specific keys");
    } else if (taken(SIGPROF)) {
        snprintf(off_reason, sizeof(off_reason),
                 "the program handles SIGPROF (another profiler?): it keeps it, and this "
                 "profiler stays off");
    } else {
        int sig = 0;
        if (want_signo != 0) {
            if (want_signo < SIGRTMIN || want_signo > SIGRTMAX)
                snprintf(off_reason, sizeof(off_reason),
                         "signal %d is not a real-time signal (%d to %d)", want_signo, SIGRTMIN,
                         SIGRTMAX);
            else if (taken(want_signo))
                snprintf(off_reason, sizeof(off_reason),
                         "the program already handles signal %d: it keeps it", want_signo);
            else
                sig = want_signo;
        } else {
            for (int s = SIGRTMAX; s >= SIGRTMIN && sig == 0; s--)
                if (!taken(s))
                    sig = s;
            if (sig == 0)
                snprintf(off_reason, sizeof(off_reason),
                         "the program handles every real-time signal");
        }
        if (sig != 0) {
            struct sigaction sa;
            memset(&sa, 0, sizeof(sa));
            sa.sa_sigaction = on_signal;
            sa.sa_flags = SA_SIGINFO | SA_RESTART;
            sigemptyset(&sa.sa_mask);
            if (sigaction(sig, &sa, &previous_action) == 0)
                sample_signo = sig;
            else
                snprintf(off_reason, sizeof(off_reason), "sigaction(%d) failed: %s", sig,
                         strerror(errno));
        }
    }
    /* the unwinder caches per thread: no lock is shared between signal handlers */
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
    pthread_mutex_unlock(&install_lock);
    return 0;
#endif
}

void dtbi_sampler_uninstall(void)
{
    pthread_mutex_lock(&install_lock);
    if (installed > 0 && --installed == 0 && sample_signo != 0) {
        struct sigaction cur;
        /* put back what was there, unless the program replaced our handler since */
#ifdef HAVE_PROFILER
        if (sigaction(sample_signo, NULL, &cur) == 0 && (cur.sa_flags & SA_SIGINFO) &&
            cur.sa_sigaction == on_signal)
            sigaction(sample_signo, &previous_action, NULL);
#else
        (void)cur;
#endif
        sample_signo = 0;
    }
    pthread_mutex_unlock(&install_lock);
}

int dtbi_sampler_signal(void)
{
    return sample_signo;
}

const char *dtbi_sampler_off_reason(char *buf, size_t len)
{
    pthread_mutex_lock(&install_lock);
    if (off_reason[0] != '\0') {
        snprintf(buf, len, "%s", off_reason);
        pthread_mutex_unlock(&install_lock);
        return buf;
    }
    int sig = sample_signo;
    pthread_mutex_unlock(&install_lock);
#ifdef HAVE_PROFILER
    struct sigaction cur;
    if (sig == 0) {
        snprintf(buf, len, "the profiler is not installed (the toolbar is stopped)");
        return buf;
    }
    if (sigaction(sig, NULL, &cur) != 0 || !(cur.sa_flags & SA_SIGINFO) ||
        cur.sa_sigaction != on_signal) {
        snprintf(buf, len, "the program took over signal %d, which the profiler used: it keeps it",
                 sig);
        return buf;
    }
    if (taken(SIGPROF)) {
        snprintf(buf, len,
                 "the program handles SIGPROF (another profiler?): this profiler stays "
                 "off");
        return buf;
    }
    return NULL;
#else
    (void)sig;
    return buf;
#endif
}

int dtbi_sampler_start(int rate_hz, int wall, int max_depth)
{
#ifdef HAVE_PROFILER
    struct sampler_thread *t = tls_sampler;
    int sig = sample_signo;
    clockid_t clock = wall ? CLOCK_MONOTONIC : CLOCK_THREAD_CPUTIME_ID;
    if (sig == 0 || rate_hz <= 0)
        return -1;
    if (t == NULL) {
        t = calloc(1, sizeof(*t));
        if (t == NULL)
            return -1;
        t->buf = malloc(THREAD_WORDS * sizeof(uintptr_t));
        if (t->buf == NULL || pthread_setspecific(thread_key, t) != 0) {
            free(t->buf);
            free(t);
            return -1;
        }
        tls_sampler = t;
    }
    if (t->have_timer && t->clock != clock) {
        timer_delete(t->timer);
        t->have_timer = 0;
    }
    if (!t->have_timer) {
        struct sigevent sev;
        memset(&sev, 0, sizeof(sev));
        sev.sigev_notify = SIGEV_THREAD_ID;
        sev.sigev_signo = sig;
        sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
        if (timer_create(clock, &sev, &t->timer) != 0)
            return -1;
        t->have_timer = 1;
        t->clock = clock;
    }
    t->len = 0;
    t->samples = 0;
    t->signals = 0;
    t->dropped = 0;
    t->max_depth = max_depth > 0 && max_depth <= 512 ? max_depth : 128;
    long ns = 1000000000L / rate_hz;
    struct itimerspec its = {{ns / 1000000000L, ns % 1000000000L},
                             {ns / 1000000000L, ns % 1000000000L}};
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    t->armed = 1;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (timer_settime(t->timer, 0, &its, NULL) != 0) {
        t->armed = 0;
        return -1;
    }
    return 0;
#else
    (void)rate_hz, (void)wall, (void)max_depth;
    return -1;
#endif
}

const uintptr_t *dtbi_sampler_stop(size_t *words, unsigned *samples, unsigned *signals,
                                   unsigned *dropped)
{
    struct sampler_thread *t = tls_sampler;
    static const struct itimerspec zero;
    *words = 0;
    *samples = 0;
    *signals = 0;
    *dropped = 0;
    if (t == NULL)
        return NULL;
    t->armed = 0;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (t->have_timer)
        timer_settime(t->timer, 0, &zero, NULL);
    *words = t->len;
    *samples = t->samples;
    *signals = t->signals;
    *dropped = t->dropped;
    return t->buf;
}
