/*
 * ledger.c - what the heap ledger (libdebugtoolbar-malloc.so, linked here) adds to a
 * malloc/free pair: outside a request (target < 5 ns) and inside one (target < 50 ns), against
 * glibc's own __libc_malloc/__libc_free in the same process.
 *
 *   bench/ledger [PAIRS]      default 2,000,000 pairs per measure; the median of 7 rounds
 * Sizes cycle through 16..512 bytes, a few blocks kept live at a time, as a request does.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "debugtoolbar/malloc.h"

extern void *__libc_malloc(size_t);
extern void __libc_free(void *);
extern const struct dtb_malloc_hooks dtb_malloc_hooks;

#define ROUNDS 7
#define LIVE 8

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void keep(void *p)
{
    __asm__ volatile("" : : "r"(p) : "memory");
}

static double run_libc(long pairs)
{
    void *live[LIVE] = {0};
    int64_t t0 = now_ns();
    for (long i = 0; i < pairs; i++) {
        size_t slot = (size_t)i % LIVE;
        __libc_free(live[slot]);
        live[slot] = __libc_malloc(16 + ((size_t)i * 40) % 497);
        keep(live[slot]);
    }
    int64_t t1 = now_ns();
    for (int k = 0; k < LIVE; k++)
        __libc_free(live[k]);
    return (double)(t1 - t0) / (double)pairs;
}

static double run_ledger(long pairs)
{
    void *live[LIVE] = {0};
    int64_t t0 = now_ns();
    for (long i = 0; i < pairs; i++) {
        size_t slot = (size_t)i % LIVE;
        free(live[slot]);
        live[slot] = malloc(16 + ((size_t)i * 40) % 497);
        keep(live[slot]);
    }
    int64_t t1 = now_ns();
    for (int k = 0; k < LIVE; k++)
        free(live[k]);
    return (double)(t1 - t0) / (double)pairs;
}

static double run_inside(long pairs)
{
    const struct dtb_malloc_hooks *h = &dtb_malloc_hooks;
    struct dtb_mem_report r;
    void *ledger = h->ledger_new();
    void *prev = h->app_enter(ledger);
    double ns = run_ledger(pairs);
    h->app_leave(prev);
    if (h->finish(ledger, &r) != 0 || r.allocs != (uint64_t)pairs || r.live_blocks != 0) {
        fprintf(stderr, "ledger: the ledger counted %llu allocations, %llu live (want %ld, 0)\n",
                (unsigned long long)r.allocs, (unsigned long long)r.live_blocks, pairs);
        exit(1);
    }
    h->report_free(&r);
    h->ledger_free(ledger);
    return ns;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The three measures interleaved, round after round (so that a change of load on the machine
 * hits all three), and the median of each. */
static void medians(long pairs, double *libc, double *outside, double *inside)
{
    double a[ROUNDS], b[ROUNDS], c[ROUNDS];
    for (int i = 0; i < ROUNDS; i++) {
        a[i] = run_libc(pairs);
        b[i] = run_ledger(pairs);
        c[i] = run_inside(pairs);
    }
    qsort(a, ROUNDS, sizeof(a[0]), cmp);
    qsort(b, ROUNDS, sizeof(b[0]), cmp);
    qsort(c, ROUNDS, sizeof(c[0]), cmp);
    *libc = a[ROUNDS / 2];
    *outside = b[ROUNDS / 2];
    *inside = c[ROUNDS / 2];
}

int main(int argc, char **argv)
{
    long pairs = argc > 1 ? atol(argv[1]) : 2000000;
    if (pairs < LIVE)
        pairs = LIVE;
    run_libc(pairs / 10); /* warm up */
    run_inside(pairs / 10);
    double libc, outside, inside;
    medians(pairs, &libc, &outside, &inside);
    printf("ledger: glibc malloc/free pair %.1f ns; through the ledger outside a request %.1f ns "
           "(+%.1f ns, target < 5), inside a request %.1f ns (+%.1f ns, target < 50)\n",
           libc, outside, outside - libc, inside, inside - libc);
    return 0;
}
