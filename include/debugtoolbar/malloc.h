/*
 * debugtoolbar/malloc.h - the table libdebugtoolbar-malloc.so, the heap ledger
 * (toolbar/malloc.c), offers the toolbar: its Memory panel, and the toolbar's own code marking
 * its allocations (dtb_toolbar_scope_enter).
 *
 * The malloc library defines one symbol, dtb_malloc_hooks (this table). It is looked up with
 * dlsym(RTLD_DEFAULT) when a toolbar starts; without the library loaded the Memory panel says
 * how to load it and the request path calls nothing.
 *
 * A ledger belongs to one request and to the thread that created it (MHD runs every call of a
 * request's handler, and its completion, on one thread). While a thread runs the app's code for
 * a request, its current context is that ledger's app context: allocations are counted and
 * tracked there. While it runs the toolbar's own code inside the app's handler, the context is
 * the ledger's toolbar context: allocations are only counted, as the toolbar's.
 */
#ifndef DEBUGTOOLBAR_MALLOC_H
#define DEBUGTOOLBAR_MALLOC_H

#include <stddef.h>
#include <stdint.h>

#define DTB_MALLOC_HOOKS_VERSION 2
#define DTB_MEM_HIST 21 /* size classes: <=16, <=32, ..., <=8 MiB, larger */

struct dtb_mem_site {
    void *site; /* the allocation's return address */
    uint64_t count;
    uint64_t bytes;
};

struct dtb_mem_live {
    void *site;
    uint64_t size; /* bytes of each block */
    uint64_t count;
};

struct dtb_mem_report {
    uint64_t allocs, frees, reallocs;
    uint64_t bytes_allocated, bytes_freed;
    uint64_t peak_bytes;     /* highest live bytes of the request's own blocks */
    uint64_t toolbar_allocs; /* the toolbar's own, while inside the app's handler */
    uint64_t toolbar_bytes;
    uint64_t untracked;       /* counted, but not listed (no memory to track them) */
    uint64_t freed_elsewhere; /* request blocks freed by another thread before its end */
    uint64_t hist[DTB_MEM_HIST];
    size_t nsites; /* every site, by bytes (largest first) */
    struct dtb_mem_site *sites;
    uint64_t other_count, other_bytes; /* sites beyond the ledger's table */
    uint64_t live_blocks, live_bytes;  /* allocated in the request, live at its end */
    size_t nlive;                      /* grouped by (site, size), by bytes (largest first) */
    struct dtb_mem_live *live;
    uint64_t handed_blocks, handed_bytes; /* given to libmicrohttpd as response bodies */
};

struct dtb_malloc_hooks {
    unsigned version; /* DTB_MALLOC_HOOKS_VERSION */
    /* A new ledger owned by the calling thread; NULL when out of memory. */
    void *(*ledger_new)(void);
    /* The calling thread runs the app's code for ledger: returns the previous context, for
     * app_leave. Refused (nothing changes) on a thread that does not own the ledger. */
    void *(*app_enter)(void *ledger);
    void (*app_leave)(void *previous);
    /* The calling thread runs the toolbar's code: inside a request its allocations are the
     * toolbar's. Returns the previous context, for toolbar_leave. */
    void *(*toolbar_enter)(void);
    void (*toolbar_leave)(void *previous);
    /* Ends the ledger on its owner thread and fills out (its arrays are freed by
     * report_free). Returns 0, or -1 (wrong thread, already ended, out of memory). */
    int (*finish)(void *ledger, struct dtb_mem_report *out);
    void (*report_free)(struct dtb_mem_report *r);
    /* Frees the ledger (ending it first when it was not). Owner thread. */
    void (*ledger_free)(void *ledger);
    /* The block (the calling thread's, allocated in its open ledger) now belongs to
     * libmicrohttpd: a response body it frees once the response is sent, which may be after
     * the request's end. It is counted as handed over, never listed as left live. Any other
     * pointer (not a tracked block of this thread's open ledger) is ignored; p must come from
     * malloc. */
    void (*handover)(void *p);
    /* Names addr: function, source file and line (0 when unknown), module. Empty strings
     * when unknown. Any thread. */
    void (*symbolize)(void *addr, char *func, size_t funclen, char *file, size_t filelen, int *line,
                      char *module, size_t modlen);
};

#endif
