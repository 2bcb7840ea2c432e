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
 *
 * Here: the replaced functions and what they do inside a request (tracking, freeing, realloc,
 * aligned blocks). The toolbar's side (ledgers, their reports, symbols, the hooks table) and
 * the library's start are malloc_hooks.c; the structures are malloc_int.h.
 */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "malloc_int.h"

TLS __thread struct ctx *dtbi_tl_cur;
TLS __thread uint64_t dtbi_tl_token;
_Atomic uint64_t dtbi_next_token;
pthread_mutex_t dtbi_lock = PTHREAD_MUTEX_INITIALIZER;
size_t (*dtbi_glibc_usable_size)(void *);

/* glibc's usable size of one of its own blocks. */
static size_t usable(void *p)
{
    if (dtbi_glibc_usable_size != NULL)
        return dtbi_glibc_usable_size(p);
    size_t sz = ((size_t *)p)[-1]; /* glibc's chunk size word, until dlsym answered */
    return (sz & ~(size_t)7) - ((sz & 2) ? 16 : 8);
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
    if (e != NULL && (tag & TOKEN_MASK) == dtbi_tl_token) {
        /* the owner thread, the ledger open: only this thread ends it (and clears e) */
        struct ledger *l = e->l;
        size = e->size;
        l->live -= size;
        atomic_store_explicit(&e->ptr, (uintptr_t)l->freelist | 1, memory_order_relaxed);
        l->freelist = e;
    } else if (e != NULL) {
        /* another thread's block: its ledger may be ending right now */
        pthread_mutex_lock(&dtbi_lock);
        e = atomic_load_explicit(&h->e, memory_order_relaxed);
        if (e != NULL) {
            size = e->size;
            atomic_fetch_add_explicit(&e->l->remote_frees, 1, memory_order_relaxed);
            atomic_fetch_add_explicit(&e->l->remote_bytes, size, memory_order_relaxed);
            atomic_store_explicit(&e->ptr, 0, memory_order_relaxed);
        } else {
            size = usable(base) - hsize;
        }
        pthread_mutex_unlock(&dtbi_lock);
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
    struct ctx *c = dtbi_tl_cur;
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
        (tag & TOKEN_MASK) == dtbi_tl_token) {
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
    struct ctx *c = dtbi_tl_cur;
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
    struct ctx *c = dtbi_tl_cur;
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
        struct ctx *c = dtbi_tl_cur;
        if (LIKELY(c == NULL))
            __libc_free(p);
        else
            untracked_free(p, c);
        return;
    }
    tracked_free(p, tag, dtbi_tl_cur);
}

EXPORT void *REPLACE(calloc)(size_t n, size_t m)
{
    struct ctx *c = dtbi_tl_cur;
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
    if (LIKELY(dtbi_tl_cur == NULL))
        return __libc_valloc(n);
    return do_memalign((size_t)sysconf(_SC_PAGESIZE), n, __builtin_return_address(0));
}

EXPORT void *REPLACE(pvalloc)(size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (LIKELY(dtbi_tl_cur == NULL))
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
