/*
 * ledger_stress.c - the heap ledger's own threading, under any sanitizer (ThreadSanitizer is
 * the point): toolbar/malloc.c is built into this program with DTB_LEDGER_TEST, its replaced
 * functions named dtbl_malloc... and forwarding to the program's allocator (the sanitizer's),
 * so nothing is interposed and the sanitizer sees every access the ledger makes.
 *
 * "Connection" threads each run requests: a ledger, the app context entered, blocks allocated
 * (malloc, calloc, realloc, memalign, posix_memalign), some freed by the thread itself, some
 * handed to "freer" threads that free them at once (often while the request is still open, or
 * while it ends), some kept and freed by the thread after the request ended, some allocated in
 * the toolbar context. At each end the report must be exact: live blocks = kept + handed -
 * freed elsewhere, the toolbar's allocations counted apart, every allocation counted.
 *
 *   ledger_stress [THREADS REQUESTS]       defaults 4 x 300
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "debugtoolbar/malloc.h"

/* the ledger's replaced functions (toolbar/malloc.c built with DTB_LEDGER_TEST) */
void *dtbl_malloc(size_t n);
void dtbl_free(void *p);
void *dtbl_calloc(size_t n, size_t m);
void *dtbl_realloc(void *p, size_t n);
void *dtbl_memalign(size_t align, size_t n);
int dtbl_posix_memalign(void **out, size_t align, size_t n);
size_t dtbl_malloc_usable_size(void *p);
extern const struct dtb_malloc_hooks dtb_malloc_hooks;

/* What the ledger forwards to: this program's allocator (a sanitizer's, in those builds), with
 * a 16-byte prefix like glibc's chunk header: the word before every block is 0 (a size word
 * never carries the ledger's tag), the one before it the sanitizer's block. */
static void *real_aligned(size_t align, size_t n, int zero)
{
    void *base = NULL;
    if (align < 16)
        align = 16;
    if (n > SIZE_MAX - align || posix_memalign(&base, align, n + align) != 0)
        return NULL;
    if (zero)
        memset(base, 0, n + align);
    void **p = (void **)((char *)base + align);
    p[-1] = NULL;
    p[-2] = base;
    return p;
}
void *dtbl_real_malloc(size_t n)
{
    return real_aligned(16, n, 0);
}
void *dtbl_real_calloc(size_t n, size_t m)
{
    return n != 0 && m > SIZE_MAX / n ? NULL : real_aligned(16, n * m, 1);
}
void *dtbl_real_memalign(size_t align, size_t n)
{
    return real_aligned(align, n, 0);
}
void *dtbl_real_valloc(size_t n)
{
    return real_aligned(4096, n, 0);
}
void *dtbl_real_pvalloc(size_t n)
{
    return real_aligned(4096, (n + 4095) & ~(size_t)4095, 0);
}
size_t dtbl_real_usable_size(void *p)
{
    void *base = ((void **)p)[-2];
    return malloc_usable_size(base) - (size_t)((char *)p - (char *)base);
}
void dtbl_real_free(void *p)
{
    if (p != NULL)
        free(((void **)p)[-2]);
}
void *dtbl_real_realloc(void *p, size_t n)
{
    if (p == NULL)
        return dtbl_real_malloc(n);
    void *q = dtbl_real_malloc(n);
    if (q != NULL) {
        size_t old = dtbl_real_usable_size(p);
        memcpy(q, p, old < n ? old : n);
        dtbl_real_free(p);
    }
    return q;
}

/* ---- the freers' queue ------------------------------------------------------------------- */

#define QCAP 4096
static void *queue[QCAP];
static size_t qhead, qlen;
static int stopping;
static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t qcond = PTHREAD_COND_INITIALIZER;

static int hand(void *p)
{
    pthread_mutex_lock(&qlock);
    int ok = qlen < QCAP;
    if (ok) {
        queue[(qhead + qlen++) % QCAP] = p;
        pthread_cond_signal(&qcond);
    }
    pthread_mutex_unlock(&qlock);
    return ok;
}

static void *freer(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&qlock);
        while (qlen == 0 && !stopping)
            pthread_cond_wait(&qcond, &qlock);
        if (qlen == 0) {
            pthread_mutex_unlock(&qlock);
            return NULL;
        }
        void *p = queue[qhead];
        qhead = (qhead + 1) % QCAP;
        qlen--;
        pthread_mutex_unlock(&qlock);
        *(volatile char *)p = 0x5a; /* the freer uses it: the handoff must be a happens-before */
        dtbl_free(p);
    }
}

/* ---- connection threads ------------------------------------------------------------------ */

struct conn {
    int requests;
    unsigned seed;
    long bad;
};

static unsigned rnd(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

static void *connection(void *arg)
{
    struct conn *c = arg;
    const struct dtb_malloc_hooks *h = &dtb_malloc_hooks;
    void *kept[64];
    for (int r = 0; r < c->requests; r++) {
        void *ledger = h->ledger_new();
        uint64_t allocs = 0, handed = 0, tb_allocs = 0;
        size_t nkept = 0;
        void *prev = h->app_enter(ledger);
        for (int i = 0; i < 40; i++) {
            unsigned k = rnd(&c->seed);
            size_t n = 1 + k % 700;
            void *p;
            switch (k % 5) {
            case 0:
                p = dtbl_calloc(1, n);
                break;
            case 1:
                p = dtbl_realloc(dtbl_malloc(n), n * 2); /* two allocations, one free */
                allocs++;
                break;
            case 2:
                p = dtbl_memalign(64, n);
                break;
            case 3:
                if (dtbl_posix_memalign(&p, 128, n) != 0)
                    p = NULL;
                break;
            default:
                p = dtbl_malloc(n);
            }
            if (p == NULL || dtbl_malloc_usable_size(p) < n) {
                c->bad++;
                continue;
            }
            allocs++;
            memset(p, 1, n);
            switch (rnd(&c->seed) % 4) {
            case 0:
                dtbl_free(p);
                break;
            case 1:
                if (hand(p))
                    handed++;
                else
                    dtbl_free(p);
                break;
            default:
                if (nkept < 64)
                    kept[nkept++] = p;
                else
                    dtbl_free(p);
            }
            if (i % 8 == 0) { /* the toolbar's own, inside the handler */
                void *t = h->toolbar_enter();
                void *q = dtbl_malloc(32);
                tb_allocs++;
                h->toolbar_leave(t);
                dtbl_free(q);
            }
        }
        h->app_leave(prev);
        struct dtb_mem_report rep;
        if (h->finish(ledger, &rep) != 0 || rep.allocs != allocs ||
            rep.toolbar_allocs != tb_allocs ||
            rep.live_blocks != nkept + handed - rep.freed_elsewhere || rep.untracked != 0) {
            if (c->bad++ == 0)
                fprintf(stderr,
                        "ledger_stress: a report is not exact: allocs %llu (want %llu), toolbar "
                        "%llu (want %llu), live %llu (want %zu kept + %llu handed - %llu freed "
                        "elsewhere)\n",
                        (unsigned long long)rep.allocs, (unsigned long long)allocs,
                        (unsigned long long)rep.toolbar_allocs, (unsigned long long)tb_allocs,
                        (unsigned long long)rep.live_blocks, nkept, (unsigned long long)handed,
                        (unsigned long long)rep.freed_elsewhere);
        }
        h->report_free(&rep);
        h->ledger_free(ledger);
        /* kept blocks outlive their request: half freed here, half by the freers */
        for (size_t i = 0; i < nkept; i++)
            if (i % 2 == 0 || !hand(kept[i]))
                dtbl_free(kept[i]);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 4;
    int requests = argc > 2 ? atoi(argv[2]) : 300;
    pthread_t conns[16], freers[2];
    struct conn cs[16];
    long bad = 0;
    if (threads < 1 || threads > 16)
        threads = 4;
    for (int i = 0; i < 2; i++)
        pthread_create(&freers[i], NULL, freer, NULL);
    for (int i = 0; i < threads; i++) {
        cs[i] = (struct conn){requests, 12345u + 7919u * (unsigned)i, 0};
        pthread_create(&conns[i], NULL, connection, &cs[i]);
    }
    for (int i = 0; i < threads; i++) {
        pthread_join(conns[i], NULL);
        bad += cs[i].bad;
    }
    pthread_mutex_lock(&qlock);
    stopping = 1;
    pthread_cond_broadcast(&qcond);
    pthread_mutex_unlock(&qlock);
    for (int i = 0; i < 2; i++)
        pthread_join(freers[i], NULL);
    printf("ledger_stress: %d threads x %d requests: %s\n", threads, requests,
           bad == 0 ? "every report exact" : "FAILED");
    return bad == 0 ? 0 : 1;
}
