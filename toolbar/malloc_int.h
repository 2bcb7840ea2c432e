/*
 * malloc_int.h - private to libdebugtoolbar-malloc.so's files (malloc.c, malloc_hooks.c): the
 * replaced names (dtbl_ ones under DTB_LEDGER_TEST) and glibc's own allocator, the ledger's
 * structures and tag layout, the thread's context and token, and the one global lock.
 * Not installed; never part of libdebugtoolbar.
 */
#ifndef DTB_MALLOC_INT_H
#define DTB_MALLOC_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#ifdef HAVE_CONFIG_H
#include "config.h"
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

/* The thread's current context (NULL: outside a request) and its token (malloc.c). */
extern TLS __thread struct ctx *dtbi_tl_cur;
extern TLS __thread uint64_t dtbi_tl_token;
extern _Atomic uint64_t dtbi_next_token;
/* The one global lock: a block freed by another thread, and the end of a ledger. */
extern pthread_mutex_t dtbi_lock;
/* glibc's malloc_usable_size, once dlsym has answered (set when the library starts). */
extern size_t (*dtbi_glibc_usable_size)(void *);

/* The thread's token (the owner of the ledgers it creates), given on first use. */
static inline uint64_t my_token(void)
{
    if (dtbi_tl_token == 0)
        dtbi_tl_token = (atomic_fetch_add(&dtbi_next_token, 1) + 1) & TOKEN_MASK;
    return dtbi_tl_token;
}

/* 1 when p is a block with the ledger's header (its tag in *tag). */
static inline int is_tracked(const void *p, uint64_t *tag)
{
    *tag = ((const uint64_t *)p)[-1];
    return (*tag >> 48) == TAG_MAGIC;
}

#endif
