/*
 * malloc.c - libdebugtoolbar-malloc.so, the heap ledger: what each request allocated, freed
 * and left behind.
 *
 * It replaces malloc, free, calloc, realloc, reallocarray, posix_memalign, aligned_alloc,
 * memalign, valloc, pvalloc and malloc_usable_size (glibc's "Replacing malloc") and forwards
 * to glibc's own (__libc_malloc and friends: no dlsym, so no recursion). Preloaded (dtb-run
 * --memory) or linked into the app; never part of libdebugtoolbar itself, which finds the
 * ledger through the one other symbol here, dtb_malloc_hooks (debugtoolbar/malloc.h).
 *
 * Outside a request every call forwards after one thread-local load and a branch (free reads
 * the word before the block instead, see below). Inside a request (the thread's context is a
 * ledger's, set by the toolbar around the app's handler) an allocation is counted (count,
 * bytes, size class, caller's return address) and tracked: it gets a 16-byte header (more for
 * aligned ones) in front of the block,
 *
 *     [entry pointer][tag: 0xDB7A | log2(header size) | owner thread's token]  block...
 *
 * and an entry in the ledger (block, size, site). glibc keeps a chunk's size word right before
 * every block it returns, and no size has its top bits set, so free() tells a tracked block
 * from any other exactly by the tag's top 16 bits, with no table and no lock.
 *
 * A tracked block freed on its owner thread while its ledger is open (the common case: the
 * request's own temporaries, MHD's response freed after the last byte) updates the ledger
 * with no atomics. Freed by another thread, it takes the one global lock, marks its entry
 * freed and counts it as freed elsewhere. When the request ends, its owner thread, under that
 * lock, lists the entries still live and clears their headers' entry pointer: a block that
 * outlives its request keeps its header (free still finds where glibc's block starts) but no
 * longer points at the ledger, which is then freed. So a block freed by another thread after
 * the request ended is never a false leak and never touches freed memory.
 *
 * The toolbar's own allocations inside the handler run in the ledger's toolbar context: only
 * counted, as the toolbar's. Under AddressSanitizer, ThreadSanitizer or MemorySanitizer, which
 * own malloc (and keep no glibc size word before their blocks), the library refuses to run.
 * fork: the child gets the lock back unlocked (pthread_atfork).
 */
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifdef HAVE_LIBDW
#include <elfutils/libdwfl.h>
#endif

#include "debugtoolbar/malloc.h"

#ifdef DTB_LEDGER_TEST
/* tests/unit/ledger_stress.c builds the ledger into a program, under any sanitizer: the
 * replaced functions are named dtbl_malloc... and forward to the program's own allocator */
#define REPLACE(name) dtbl_##name
#define __libc_malloc dtbl_real_malloc
#define __libc_calloc dtbl_real_calloc
#define __libc_realloc dtbl_real_realloc
#define __libc_free dtbl_real_free
#define __libc_memalign dtbl_real_memalign
#define __libc_valloc dtbl_real_valloc
#define __libc_pvalloc dtbl_real_pvalloc
size_t dtbl_real_usable_size(void *p);
#else
#define REPLACE(name) name
#endif
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_valloc(size_t);
extern void *__libc_pvalloc(size_t);

#define EXPORT __attribute__((visibility("default")))
#define TLS __attribute__((tls_model("initial-exec")))
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

/* ---- ledger --------------------------------------------------------------------------------- */

#define TAG_MAGIC 0xDB7Aull
#define TAG_SHIFT_BITS 6
#define TOKEN_MASK ((1ull << 42) - 1)
#define MAX_HEADER_SHIFT 20 /* aligned blocks up to 1 MiB alignment are tracked */
#define NSITES 1024         /* per-ledger site table (open addressing) */
#define CHUNK_ENTRIES 1024

struct ledger;

/* What a thread's context points at: a ledger's app or toolbar side. */
struct ctx {
    struct ledger *l;
    int toolbar;
};

struct entry {
    _Atomic uintptr_t ptr; /* the block; 0 = freed elsewhere; odd = on the free list */
    uint64_t size;
    void *site;
    struct ledger *l;
};

struct hdr {
    _Atomic(struct entry *) e; /* NULL once the ledger ended (or when not tracked) */
    uint64_t tag;
};

struct chunk {
    struct chunk *next;
    size_t used;
    struct entry entries[CHUNK_ENTRIES];
};

struct ledger {
    struct ctx app, tb;
    uint64_t owner; /* token of the owner thread */
    int finished;
    /* the owner thread's counters */
    uint64_t allocs, frees, reallocs, bytes_allocated, bytes_freed;
    uint64_t live, peak; /* bytes of the request's tracked blocks */
    uint64_t tb_allocs, tb_bytes, untracked;
    uint64_t handed_blocks, handed_bytes;
    uint64_t hist[DTB_MEM_HIST];
    struct dtb_mem_site sites[NSITES];
    size_t nsites;
    uint64_t other_count, other_bytes;
    struct chunk *chunks;
    struct entry *freelist;
    /* written by other threads, under the lock */
    _Atomic uint64_t remote_frees, remote_bytes;
};

static TLS __thread struct ctx *tl_cur;
static TLS __thread uint64_t tl_token;
static _Atomic uint64_t next_token;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static size_t (*glibc_usable_size)(void *);

static uint64_t my_token(void)
{
    if (tl_token == 0)
        tl_token = (atomic_fetch_add(&next_token, 1) + 1) & TOKEN_MASK;
    return tl_token;
}

/* glibc's usable size of one of its own blocks. */
static size_t usable(void *p)
{
    if (glibc_usable_size != NULL)
        return glibc_usable_size(p);
    size_t sz = ((size_t *)p)[-1]; /* glibc's chunk size word, until dlsym answered */
    return (sz & ~(size_t)7) - ((sz & 2) ? 16 : 8);
}

static int is_tracked(const void *p, uint64_t *tag)
{
    *tag = ((const uint64_t *)p)[-1];
    return (*tag >> 48) == TAG_MAGIC;
}

static size_t header_size(uint64_t tag)
{
    return (size_t)1 << ((tag >> 42) & ((1u << TAG_SHIFT_BITS) - 1));
}

static unsigned size_class(size_t n)
{
    if (n <= 16)
        return 0;
    unsigned c = 64 - (unsigned)__builtin_clzll((unsigned long long)(n - 1)) - 4;
    return c < DTB_MEM_HIST - 1 ? c : DTB_MEM_HIST - 1;
}

static void count_site(struct ledger *l, void *site, size_t n)
{
    size_t h = ((uintptr_t)site * 0x9E3779B97F4A7C15ull) >> 54; /* 10 bits: NSITES */
    for (size_t i = 0; i < 8; i++) {
        struct dtb_mem_site *s = &l->sites[(h + i) & (NSITES - 1)];
        if (s->site == site) {
            s->count++;
            s->bytes += n;
            return;
        }
        if (s->site == NULL && l->nsites < NSITES * 3 / 4) {
            s->site = site;
            s->count = 1;
            s->bytes = n;
            l->nsites++;
            return;
        }
    }
    l->other_count++;
    l->other_bytes += n;
}

static struct entry *entry_get(struct ledger *l)
{
    struct entry *e = l->freelist;
    if (e != NULL) {
        l->freelist =
            (struct entry *)(atomic_load_explicit(&e->ptr, memory_order_relaxed) & ~(uintptr_t)1);
        return e;
    }
    struct chunk *c = l->chunks;
    if (c == NULL || c->used == CHUNK_ENTRIES) {
        c = __libc_malloc(sizeof(*c));
        if (c == NULL)
            return NULL;
        c->used = 0;
        c->next = l->chunks;
        l->chunks = c;
    }
    return &c->entries[c->used++];
}

/* Counts an allocation of n bytes for the request. */
static void account(struct ledger *l, size_t n, void *site)
{
    l->allocs++;
    l->bytes_allocated += n;
    l->hist[size_class(n)]++;
    count_site(l, site, n);
}

/* The peak of live bytes: the request's tracked bytes less what other threads freed of them. */
static void raise_peak(struct ledger *l)
{
    if (l->live > l->peak) {
        uint64_t remote = atomic_load_explicit(&l->remote_bytes, memory_order_relaxed);
        uint64_t live = l->live > remote ? l->live - remote : 0;
        if (live > l->peak)
            l->peak = live;
    }
}

/* Puts the header in front of a block glibc returned (base, with hsize bytes of room) and
 * tracks it in l. Returns the app's pointer. */
static void *track(struct ledger *l, void *base, size_t hsize, size_t n, void *site)
{
    char *p = (char *)base + hsize;
    struct hdr *h = (struct hdr *)p - 1;
    struct entry *e = entry_get(l);
    h->tag = (TAG_MAGIC << 48) | ((uint64_t)__builtin_ctzll(hsize) << 42) | my_token();
    if (e != NULL) {
        atomic_store_explicit(&e->ptr, (uintptr_t)p, memory_order_relaxed);
        e->size = n;
        e->site = site;
        e->l = l;
        l->live += n;
        raise_peak(l);
    } else {
        l->untracked++;
    }
    atomic_store_explicit(&h->e, e, memory_order_relaxed);
    return p;
}

/* An allocation in context c: align 0 for malloc, else memalign's. Keeps glibc's errno. */
static void *ctx_alloc(struct ctx *c, size_t n, size_t align, int zero, void *site)
{
    struct ledger *l = c->l;
    if (c->toolbar) {
        l->tb_allocs++;
        l->tb_bytes += n;
        if (align == 0)
            return zero ? __libc_calloc(1, n) : __libc_malloc(n);
        return __libc_memalign(align, n);
    }
    size_t hsize = 16;
    while (hsize < align)
        hsize <<= 1;
    if (hsize > ((size_t)1 << MAX_HEADER_SHIFT)) { /* huge alignment: counted, not tracked */
        account(l, n, site);
        l->untracked++;
        return __libc_memalign(align, n);
    }
    if (n > SIZE_MAX - hsize) {
        errno = ENOMEM;
        return NULL;
    }
    void *base;
    if (hsize == 16)
        base = zero ? __libc_calloc(1, n + hsize) : __libc_malloc(n + hsize);
    else
        base = __libc_memalign(hsize, n + hsize);
    if (base == NULL)
        return NULL;
    account(l, n, site);
    return track(l, base, hsize, n, site);
}

/* Frees a tracked block (its tag already read) from context c (NULL outside requests). */
static void tracked_free(void *p, uint64_t tag, struct ctx *c)
{
    struct hdr *h = (struct hdr *)p - 1;
    size_t hsize = header_size(tag);
    void *base = (char *)p - hsize;
    /* acquire: a NULL set by the ledger's end (release) is ordered before this block's free */
    struct entry *e = atomic_load_explicit(&h->e, memory_order_acquire);
    uint64_t size;
    if (e != NULL && (tag & TOKEN_MASK) == tl_token) {
        /* the owner thread, the ledger open: only this thread ends it (and clears e) */
        struct ledger *l = e->l;
        size = e->size;
        l->live -= size;
        atomic_store_explicit(&e->ptr, (uintptr_t)l->freelist | 1, memory_order_relaxed);
        l->freelist = e;
    } else if (e != NULL) {
        /* another thread's block: its ledger may be ending right now */
        pthread_mutex_lock(&lock);
        e = atomic_load_explicit(&h->e, memory_order_relaxed);
        if (e != NULL) {
            size = e->size;
            atomic_fetch_add_explicit(&e->l->remote_frees, 1, memory_order_relaxed);
            atomic_fetch_add_explicit(&e->l->remote_bytes, size, memory_order_relaxed);
            atomic_store_explicit(&e->ptr, 0, memory_order_relaxed);
        } else {
            size = usable(base) - hsize;
        }
        pthread_mutex_unlock(&lock);
    } else {
        size = usable(base) - hsize; /* its request has ended */
    }
    if (c != NULL && !c->toolbar) {
        c->l->frees++;
        c->l->bytes_freed += size;
    }
    __libc_free(base);
}

/* A free inside a request (c not NULL) of a block that is not tracked. */
static void untracked_free(void *p, struct ctx *c)
{
    if (!c->toolbar) {
        c->l->frees++;
        c->l->bytes_freed += usable(p);
    }
    __libc_free(p);
}

static void do_free(void *p, struct ctx *c)
{
    uint64_t tag;
    if (p == NULL)
        return;
    if (is_tracked(p, &tag))
        tracked_free(p, tag, c);
    else if (c != NULL)
        untracked_free(p, c);
    else
        __libc_free(p);
}

/* realloc of a block of l's, tracked with a 16-byte header, on l's owner thread (n > 0).
 * Counted as the old block freed and a new one allocated, as any realloc in a request is. */
static void *tracked_realloc(struct ledger *l, struct entry *e, void *p, size_t n, void *site)
{
    if (n > SIZE_MAX - 16) {
        errno = ENOMEM;
        return NULL;
    }
    char *base = __libc_realloc((char *)p - 16, n + 16);
    if (base == NULL)
        return NULL; /* the old block is untouched, still tracked */
    uint64_t old = e->size;
    l->frees++;
    l->bytes_freed += old;
    l->reallocs++;
    account(l, n, site);
    atomic_store_explicit(&e->ptr, (uintptr_t)(base + 16), memory_order_relaxed);
    e->size = n;
    e->site = site;
    l->live = l->live - old + n;
    raise_peak(l);
    return base + 16;
}

static void *do_realloc(void *p, size_t n, void *site)
{
    struct ctx *c = tl_cur;
    uint64_t tag;
    if (p == NULL)
        return c != NULL ? ctx_alloc(c, n, 0, 0, site) : __libc_malloc(n);
    int tracked = is_tracked(p, &tag);
    if (LIKELY(c == NULL && !tracked))
        return __libc_realloc(p, n);
    if (n == 0) { /* glibc: frees the block, returns NULL */
        do_free(p, c);
        return NULL;
    }
    if (!tracked && c->toolbar) {
        c->l->tb_allocs++;
        c->l->tb_bytes += n;
        return __libc_realloc(p, n);
    }
    if (tracked && c != NULL && !c->toolbar && header_size(tag) == 16 &&
        (tag & TOKEN_MASK) == tl_token) {
        /* the request's own block, on its thread: glibc's realloc, header and all (it grows in
         * place or moves with mremap where it can, as it would without the ledger) */
        struct hdr *h = (struct hdr *)p - 1;
        struct entry *e = atomic_load_explicit(&h->e, memory_order_relaxed);
        if (e != NULL && e->l == c->l)
            return tracked_realloc(c->l, e, p, n, site);
    }
    /* a new block (tracked when the app runs), the contents, the old block freed */
    size_t old = tracked ? usable((char *)p - header_size(tag)) - header_size(tag) : usable(p);
    void *q;
    if (c == NULL) {
        q = __libc_malloc(n);
    } else {
        q = ctx_alloc(c, n, 0, 0, site);
        if (q != NULL && !c->toolbar)
            c->l->reallocs++;
    }
    if (q == NULL)
        return NULL;
    memcpy(q, p, old < n ? old : n);
    if (tracked)
        tracked_free(p, tag, c);
    else
        untracked_free(p, c);
    return q;
}

static void *do_memalign(size_t align, size_t n, void *site)
{
    struct ctx *c = tl_cur;
    if (LIKELY(c == NULL))
        return __libc_memalign(align, n);
    if (align <= 16)
        return ctx_alloc(c, n, 0, 0, site);
    if (align & (align - 1)) { /* glibc rounds it up to a power of two */
        size_t a = 32;
        while (a < align && a != 0)
            a <<= 1;
        if (a == 0) {
            errno = EINVAL;
            return NULL;
        }
        align = a;
    }
    return ctx_alloc(c, n, align, 0, site);
}

/* ---- the replaced functions ----------------------------------------------------------------- */

EXPORT void *REPLACE(malloc)(size_t n)
{
    struct ctx *c = tl_cur;
    if (LIKELY(c == NULL))
        return __libc_malloc(n);
    return ctx_alloc(c, n, 0, 0, __builtin_return_address(0));
}

EXPORT void REPLACE(free)(void *p)
{
    uint64_t tag;
    if (p == NULL)
        return;
    if (LIKELY(!is_tracked(p, &tag))) {
        struct ctx *c = tl_cur;
        if (LIKELY(c == NULL))
            __libc_free(p);
        else
            untracked_free(p, c);
        return;
    }
    tracked_free(p, tag, tl_cur);
}

EXPORT void *REPLACE(calloc)(size_t n, size_t m)
{
    struct ctx *c = tl_cur;
    size_t total;
    if (LIKELY(c == NULL))
        return __libc_calloc(n, m);
    if (__builtin_mul_overflow(n, m, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return ctx_alloc(c, total, 0, 1, __builtin_return_address(0));
}

EXPORT void *REPLACE(realloc)(void *p, size_t n)
{
    return do_realloc(p, n, __builtin_return_address(0));
}

EXPORT void *REPLACE(reallocarray)(void *p, size_t n, size_t m)
{
    size_t total;
    if (__builtin_mul_overflow(n, m, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return do_realloc(p, total, __builtin_return_address(0));
}

EXPORT void *REPLACE(memalign)(size_t align, size_t n)
{
    return do_memalign(align, n, __builtin_return_address(0));
}

EXPORT void *REPLACE(aligned_alloc)(size_t align, size_t n)
{
    return do_memalign(align, n, __builtin_return_address(0));
}

EXPORT int REPLACE(posix_memalign)(void **out, size_t align, size_t n)
{
    int saved = errno;
    if (align == 0 || (align & (align - 1)) != 0 || align % sizeof(void *) != 0)
        return EINVAL;
    void *p = do_memalign(align, n, __builtin_return_address(0));
    errno = saved;
    if (p == NULL)
        return ENOMEM;
    *out = p;
    return 0;
}

EXPORT void *REPLACE(valloc)(size_t n)
{
    if (LIKELY(tl_cur == NULL))
        return __libc_valloc(n);
    return do_memalign((size_t)sysconf(_SC_PAGESIZE), n, __builtin_return_address(0));
}

EXPORT void *REPLACE(pvalloc)(size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (LIKELY(tl_cur == NULL))
        return __libc_pvalloc(n);
    if (n > SIZE_MAX - page) {
        errno = ENOMEM;
        return NULL;
    }
    n = n == 0 ? page : (n + page - 1) & ~(page - 1);
    return do_memalign(page, n, __builtin_return_address(0));
}

EXPORT size_t REPLACE(malloc_usable_size)(void *p)
{
    uint64_t tag;
    if (p == NULL)
        return 0;
    if (is_tracked(p, &tag))
        return usable((char *)p - header_size(tag)) - header_size(tag);
    return usable(p);
}

/* ---- the toolbar's side ------------------------------------------------------------------- */

static void *ledger_new(void)
{
    struct ledger *l = __libc_calloc(1, sizeof(*l));
    if (l == NULL)
        return NULL;
    l->app.l = l;
    l->tb.l = l;
    l->tb.toolbar = 1;
    l->owner = my_token();
    return l;
}

static void *app_enter(void *ledger)
{
    struct ledger *l = ledger;
    struct ctx *prev = tl_cur;
    if (l != NULL && !l->finished && l->owner == my_token())
        tl_cur = &l->app;
    return prev;
}

static void ctx_restore(void *previous)
{
    tl_cur = previous;
}

static void *toolbar_enter(void)
{
    struct ctx *prev = tl_cur;
    if (prev != NULL)
        tl_cur = &prev->l->tb;
    return prev;
}

/* Ends l: lists its live blocks into *live (NULL to just detach them) and clears their
 * headers' entry pointers, under the lock. Owner thread, tl_cur NULL. */
static int detach(struct ledger *l, struct dtb_mem_live **live, size_t *nlive)
{
    size_t n = 0, i = 0;
    *nlive = 0;
    if (live != NULL)
        *live = NULL;
    pthread_mutex_lock(&lock);
    for (struct chunk *c = l->chunks; c != NULL && live != NULL; c = c->next)
        for (size_t k = 0; k < c->used; k++) {
            uintptr_t v = atomic_load_explicit(&c->entries[k].ptr, memory_order_relaxed);
            n += v != 0 && (v & 1) == 0;
        }
    if (live != NULL && n > 0) {
        *live = __libc_malloc(n * sizeof(**live));
        if (*live == NULL)
            n = 0;
    }
    for (struct chunk *c = l->chunks; c != NULL; c = c->next)
        for (size_t k = 0; k < c->used; k++) {
            struct entry *e = &c->entries[k];
            uintptr_t v = atomic_load_explicit(&e->ptr, memory_order_relaxed);
            if (v == 0 || (v & 1) != 0)
                continue;
            atomic_store_explicit(&((struct hdr *)v - 1)->e, NULL, memory_order_release);
            if (i < n) {
                (*live)[i].site = e->site;
                (*live)[i].size = e->size;
                (*live)[i].count = 1;
                i++;
            }
        }
    l->finished = 1;
    pthread_mutex_unlock(&lock);
    *nlive = i;
    return live != NULL && n == 0 && i > 0 ? -1 : 0;
}

static int by_site_size(const void *a, const void *b)
{
    const struct dtb_mem_live *x = a, *y = b;
    if (x->site != y->site)
        return (uintptr_t)x->site < (uintptr_t)y->site ? -1 : 1;
    return x->size < y->size ? -1 : x->size > y->size;
}

static int by_live_bytes(const void *a, const void *b)
{
    const struct dtb_mem_live *x = a, *y = b;
    uint64_t bx = x->size * x->count, by = y->size * y->count;
    return bx > by ? -1 : bx < by;
}

static int by_site_bytes(const void *a, const void *b)
{
    const struct dtb_mem_site *x = a, *y = b;
    return x->bytes > y->bytes ? -1 : x->bytes < y->bytes;
}

static int finish(void *ledger, struct dtb_mem_report *out)
{
    struct ledger *l = ledger;
    struct dtb_mem_live *live;
    size_t nlive;
    memset(out, 0, sizeof(*out));
    if (l == NULL || l->finished || l->owner != my_token())
        return -1;
    struct ctx *saved = tl_cur;
    tl_cur = NULL; /* the ledger's own work is nobody's */
    int rc = detach(l, &live, &nlive);
    out->allocs = l->allocs;
    out->frees = l->frees;
    out->reallocs = l->reallocs;
    out->bytes_allocated = l->bytes_allocated;
    out->bytes_freed = l->bytes_freed;
    out->peak_bytes = l->peak;
    out->toolbar_allocs = l->tb_allocs;
    out->toolbar_bytes = l->tb_bytes;
    out->untracked = l->untracked;
    out->freed_elsewhere = atomic_load(&l->remote_frees);
    out->handed_blocks = l->handed_blocks;
    out->handed_bytes = l->handed_bytes;
    memcpy(out->hist, l->hist, sizeof(out->hist));
    out->other_count = l->other_count;
    out->other_bytes = l->other_bytes;
    out->sites = l->nsites > 0 ? __libc_malloc(l->nsites * sizeof(*out->sites)) : NULL;
    if (out->sites != NULL) {
        for (size_t i = 0; i < NSITES; i++)
            if (l->sites[i].site != NULL)
                out->sites[out->nsites++] = l->sites[i];
        qsort(out->sites, out->nsites, sizeof(*out->sites), by_site_bytes);
    } else if (l->nsites > 0) {
        rc = -1;
    }
    for (size_t i = 0; i < nlive; i++) {
        out->live_blocks++;
        out->live_bytes += live[i].size;
    }
    if (nlive > 0) {
        size_t groups = 0;
        qsort(live, nlive, sizeof(*live), by_site_size);
        for (size_t i = 0; i < nlive; i++) {
            if (groups > 0 && live[groups - 1].site == live[i].site &&
                live[groups - 1].size == live[i].size)
                live[groups - 1].count++;
            else
                live[groups++] = live[i];
        }
        qsort(live, groups, sizeof(*live), by_live_bytes);
        out->live = live;
        out->nlive = groups;
    }
    tl_cur = saved;
    return rc;
}

static void handover(void *p)
{
    uint64_t tag;
    if (p == NULL || !is_tracked(p, &tag) || (tag & TOKEN_MASK) != tl_token)
        return;
    struct hdr *h = (struct hdr *)p - 1;
    struct entry *e = atomic_load_explicit(&h->e, memory_order_relaxed);
    if (e == NULL)
        return; /* its ledger has ended */
    /* the owner thread, the ledger open: only this thread changes the entry */
    struct ledger *l = e->l;
    l->live -= e->size;
    l->handed_blocks++;
    l->handed_bytes += e->size;
    atomic_store_explicit(&e->ptr, (uintptr_t)l->freelist | 1, memory_order_relaxed);
    l->freelist = e;
    /* release: as when the ledger ends, its later free (any thread) sees no entry */
    atomic_store_explicit(&h->e, NULL, memory_order_release);
}

static void report_free(struct dtb_mem_report *r)
{
    __libc_free(r->sites);
    __libc_free(r->live);
    r->sites = NULL;
    r->live = NULL;
}

static void ledger_free(void *ledger)
{
    struct ledger *l = ledger;
    size_t n;
    if (l == NULL)
        return;
    if (!l->finished) {
        if (l->owner != my_token())
            return; /* another thread's open ledger: its blocks still point at it */
        struct ctx *saved = tl_cur;
        tl_cur = NULL;
        detach(l, NULL, &n);
        tl_cur = saved;
    }
    while (l->chunks != NULL) {
        struct chunk *c = l->chunks;
        l->chunks = c->next;
        __libc_free(c);
    }
    __libc_free(l);
}

/* ---- symbols ------------------------------------------------------------------------------ */

#ifdef HAVE_LIBDW
static pthread_mutex_t sym_lock = PTHREAD_MUTEX_INITIALIZER;
static Dwfl *dwfl;
static char *debuginfo_path;
static const Dwfl_Callbacks dwfl_cb = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .debuginfo_path = &debuginfo_path,
};

/* The process's modules as they are now (modules loaded later: reported again on a miss). */
static Dwfl_Module *dw_module(Dwarf_Addr a)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (dwfl == NULL || attempt == 1) {
            if (dwfl == NULL)
                dwfl = dwfl_begin(&dwfl_cb);
            if (dwfl == NULL)
                return NULL;
            dwfl_report_begin(dwfl);
            if (dwfl_linux_proc_report(dwfl, getpid()) != 0 ||
                dwfl_report_end(dwfl, NULL, NULL) != 0)
                return NULL;
        }
        Dwfl_Module *m = dwfl_addrmodule(dwfl, a);
        if (m != NULL)
            return m;
    }
    return NULL;
}
#endif

static void symbolize(void *addr, char *func, size_t funclen, char *file, size_t filelen, int *line,
                      char *module, size_t modlen)
{
    Dl_info di;
    func[0] = file[0] = module[0] = '\0';
    *line = 0;
    struct ctx *saved = tl_cur;
    tl_cur = NULL;
    if (dladdr(addr, &di) != 0) {
        if (di.dli_fname != NULL) {
            const char *slash = strrchr(di.dli_fname, '/');
            snprintf(module, modlen, "%s", slash != NULL ? slash + 1 : di.dli_fname);
        }
        if (di.dli_sname != NULL)
            snprintf(func, funclen, "%s", di.dli_sname);
    }
#ifdef HAVE_LIBDW
    /* the return address is after the call: its line is the one of the byte before */
    Dwarf_Addr a = (Dwarf_Addr)(uintptr_t)addr - 1;
    pthread_mutex_lock(&sym_lock);
    Dwfl_Module *m = dw_module(a);
    if (m != NULL) {
        const char *name = dwfl_module_addrname(m, a);
        if (name != NULL)
            snprintf(func, funclen, "%s", name);
        Dwfl_Line *ln = dwfl_module_getsrc(m, a);
        int l = 0;
        const char *src = ln != NULL ? dwfl_lineinfo(ln, NULL, &l, NULL, NULL, NULL) : NULL;
        if (src != NULL) {
            snprintf(file, filelen, "%s", src);
            *line = l;
        }
    }
    pthread_mutex_unlock(&sym_lock);
#endif
    tl_cur = saved;
}

EXPORT const struct dtb_malloc_hooks dtb_malloc_hooks = {
    .version = DTB_MALLOC_HOOKS_VERSION,
    .ledger_new = ledger_new,
    .app_enter = app_enter,
    .app_leave = ctx_restore,
    .toolbar_enter = toolbar_enter,
    .toolbar_leave = ctx_restore,
    .finish = finish,
    .report_free = report_free,
    .handover = handover,
    .ledger_free = ledger_free,
    .symbolize = symbolize,
};

/* ---- start, fork ---------------------------------------------------------------------------- */

extern void __asan_init(void) __attribute__((weak));
extern void __tsan_init(void) __attribute__((weak));
extern void __msan_init(void) __attribute__((weak));
extern void __hwasan_init(void) __attribute__((weak));

static void before_fork(void)
{
    pthread_mutex_lock(&lock);
}

static void after_fork_parent(void)
{
    pthread_mutex_unlock(&lock);
}

static void after_fork_child(void)
{
    pthread_mutex_init(&lock, NULL);
#ifdef HAVE_LIBDW
    pthread_mutex_init(&sym_lock, NULL);
    dwfl = NULL; /* the parent's describes the parent (its memory is left alone) */
#endif
}

__attribute__((constructor)) static void ledger_init(void)
{
#ifdef DTB_LEDGER_TEST
    glibc_usable_size = dtbl_real_usable_size;
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
    return;
#endif
    const char *which = &__asan_init != NULL     ? "AddressSanitizer"
                        : &__tsan_init != NULL   ? "ThreadSanitizer"
                        : &__msan_init != NULL   ? "MemorySanitizer"
                        : &__hwasan_init != NULL ? "HWAddressSanitizer"
                                                 : NULL;
    if (which != NULL) {
        char msg[256];
        int n = snprintf(msg, sizeof(msg),
                         "libdebugtoolbar-malloc: refusing to run: this program is built with "
                         "%s, which owns malloc; use the memory ledger with a build without "
                         "sanitizers\n",
                         which);
        if (write(2, msg, (size_t)n) < 0)
            _exit(1);
        _exit(1);
    }
    size_t (*next)(void *) = (size_t(*)(void *))dlsym(RTLD_NEXT, "malloc_usable_size");
    if (next != NULL && next != malloc_usable_size)
        glibc_usable_size = next;
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}
