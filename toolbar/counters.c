/*
 * counters.c - hardware performance counters per request: each handler thread opens, on its
 * first call, one perf_event_open group of its own user-space instructions, cycles, cache
 * misses and branch misses (counting all along, never enabled or disabled); the middleware
 * reads the group (one read(2)) before and after each call into the app's handler and adds the
 * difference to the request (profiler.c). Where the kernel refuses (perf_event_paranoid, a
 * seccomp filter, a VM without a virtual PMU) the first refusal is kept as one line that says
 * why, and no thread tries again.
 */
#include <errno.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "counters.h"
#include "debugtoolbar/panel.h"

int dtbi_counters_open(struct dtbi_counter_set *cs, const uint32_t *type, const uint64_t *config,
                       int n, int *err)
{
    cs->n = 0;
    if (n < 1 || n > DTBI_COUNTERS_MAX) {
        *err = EINVAL;
        return -1;
    }
    for (int i = 0; i < n; i++) {
        struct perf_event_attr a;
        memset(&a, 0, sizeof(a));
        a.size = sizeof(a);
        a.type = type[i];
        a.config = config[i];
        a.exclude_kernel = 1; /* what perf_event_paranoid 2 allows, and the app's own work */
        a.exclude_hv = 1;
        a.read_format =
            PERF_FORMAT_GROUP | PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
        int fd = (int)syscall(SYS_perf_event_open, &a, 0, -1, i == 0 ? -1 : cs->fd[0],
                              PERF_FLAG_FD_CLOEXEC);
        if (fd < 0) {
            *err = errno;
            dtbi_counters_close(cs);
            return -1;
        }
        cs->fd[cs->n++] = fd;
    }
    return 0;
}

int dtbi_counters_read(const struct dtbi_counter_set *cs, uint64_t *vals, int *scaled)
{
    /* PERF_FORMAT_GROUP: nr, time_enabled, time_running, then one value per counter */
    uint64_t buf[3 + DTBI_COUNTERS_MAX];
    size_t want = (size_t)(3 + cs->n) * sizeof(uint64_t);
    if (cs->n < 1 || read(cs->fd[0], buf, sizeof(buf)) != (ssize_t)want ||
        buf[0] != (uint64_t)cs->n)
        return -1;
    *scaled = buf[2] < buf[1];
    for (int i = 0; i < cs->n; i++)
        vals[i] = *scaled && buf[2] > 0
                      ? (uint64_t)((double)buf[3 + i] * ((double)buf[1] / (double)buf[2]))
                      : buf[3 + i];
    return 0;
}

void dtbi_counters_close(struct dtbi_counter_set *cs)
{
    for (int i = cs->n - 1; i >= 0; i--)
        close(cs->fd[i]);
    cs->n = 0;
}

/* ---- the handler threads' groups ------------------------------------------------------- */

static const uint32_t hw_type[DTBI_COUNTERS_MAX] = {PERF_TYPE_HARDWARE, PERF_TYPE_HARDWARE,
                                                    PERF_TYPE_HARDWARE, PERF_TYPE_HARDWARE};
static const uint64_t hw_config[DTBI_COUNTERS_MAX] = {
    PERF_COUNT_HW_INSTRUCTIONS, PERF_COUNT_HW_CPU_CYCLES, PERF_COUNT_HW_CACHE_MISSES,
    PERF_COUNT_HW_BRANCH_MISSES};

static atomic_int refused; /* the kernel said no once: nobody tries again */
static char reason[200];   /* written once, before refused is set */
static pthread_mutex_t reason_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_key_t key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static _Thread_local struct dtbi_counter_set tls_set;
static _Thread_local int tls_tried;

static void thread_gone(void *p)
{
    dtbi_counters_close(p);
}

static void make_key(void)
{
    pthread_key_create(&key, thread_gone);
}

static int paranoid(void)
{
    int v = 99;
    FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
    if (f != NULL) {
        if (fscanf(f, "%d", &v) != 1)
            v = 99;
        fclose(f);
    }
    return v;
}

static void refuse(int err)
{
    int p = paranoid();
    char level[24];
    if (p == 99)
        snprintf(level, sizeof(level), "unreadable");
    else
        snprintf(level, sizeof(level), "%d", p);
    pthread_mutex_lock(&reason_lock);
    if (!atomic_load(&refused)) {
        if (err == EACCES || err == EPERM)
            snprintf(reason, sizeof(reason),
                     "not allowed: perf_event_paranoid is %s (a thread's own counters need 2 or "
                     "less, or CAP_PERFMON), or a seccomp filter forbids perf_event_open",
                     level);
        else if (err == ENOENT || err == ENODEV || err == EOPNOTSUPP)
            snprintf(reason, sizeof(reason),
                     "this machine exposes no hardware counters (a virtual machine without a "
                     "virtual PMU?); perf_event_paranoid is %s",
                     level);
        else
            snprintf(reason, sizeof(reason),
                     "perf_event_open failed: %s; perf_event_paranoid is %s", strerror(err), level);
        atomic_store(&refused, 1);
    }
    pthread_mutex_unlock(&reason_lock);
}

int dtbi_counters_thread_read(uint64_t vals[DTBI_COUNTERS_MAX], int *scaled)
{
    if (atomic_load_explicit(&refused, memory_order_relaxed))
        return -1;
    if (!tls_tried) {
        int err = 0;
        tls_tried = 1;
        pthread_once(&key_once, make_key);
        if (dtbi_counters_open(&tls_set, hw_type, hw_config, DTBI_COUNTERS_MAX, &err) != 0) {
            /* out of file descriptors is this thread's trouble, not the machine's */
            if (err != EMFILE && err != ENFILE)
                refuse(err);
            return -1;
        }
        pthread_setspecific(key, &tls_set);
    }
    return dtbi_counters_read(&tls_set, vals, scaled);
}

const char *dtb_hw_counters_off_reason(void)
{
    return atomic_load(&refused) ? reason : NULL;
}
