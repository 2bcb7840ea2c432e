/*
 * counters.c - what the hardware counters cost per request: the middleware reads the handler
 * thread's counter group (one read(2) of a PERF_FORMAT_GROUP) before and after each handler
 * call. Prints the ns per request for the hardware group where the kernel allows it, for a
 * group of four software counters (the same system call and read format: a stand-in on
 * machines without a PMU), and for the path taken where counters are refused (one flag load).
 * Each figure is the median of 21 batches, timed on the thread's CPU clock.
 * Usage: bench/counters [reads per batch]
 */
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "counters.h"
#include "debugtoolbar/panel.h"

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median ns per read of cs (or of the thread's hardware group when cs is NULL). */
static double per_read(const struct dtbi_counter_set *cs, int n)
{
    double runs[21];
    uint64_t v[DTBI_COUNTERS_MAX];
    int scaled;
    for (int r = 0; r < 21; r++) {
        double t0 = now_ns();
        for (int i = 0; i < n; i++)
            if (cs != NULL)
                dtbi_counters_read(cs, v, &scaled);
            else
                dtbi_counters_thread_read(v, &scaled);
        runs[r] = (now_ns() - t0) / n;
    }
    qsort(runs, 21, sizeof(runs[0]), by_value);
    return runs[10];
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 20000;
    uint64_t v[DTBI_COUNTERS_MAX];
    int scaled;
    if (n < 1)
        n = 20000;
    if (dtbi_counters_thread_read(v, &scaled) == 0)
        printf("counters: hardware group, %.0f ns per request (2 reads)\n", 2 * per_read(NULL, n));
    else
        printf("counters: hardware counters off (%s): %.1f ns per request\n",
               dtb_hw_counters_off_reason(), 2 * per_read(NULL, n));
    static const uint32_t type[4] = {PERF_TYPE_SOFTWARE, PERF_TYPE_SOFTWARE, PERF_TYPE_SOFTWARE,
                                     PERF_TYPE_SOFTWARE};
    static const uint64_t config[4] = {PERF_COUNT_SW_TASK_CLOCK, PERF_COUNT_SW_PAGE_FAULTS,
                                       PERF_COUNT_SW_CONTEXT_SWITCHES,
                                       PERF_COUNT_SW_CPU_MIGRATIONS};
    struct dtbi_counter_set cs;
    int err;
    if (dtbi_counters_open(&cs, type, config, 4, &err) == 0) {
        printf("counters: a group of 4 software counters, %.0f ns per request (2 reads)\n",
               2 * per_read(&cs, n));
        dtbi_counters_close(&cs);
    } else {
        printf("counters: software counters refused too (errno %d)\n", err);
    }
    return 0;
}
