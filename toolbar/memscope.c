/*
 * memscope.c - the toolbar's side of the heap ledger's table (debugtoolbar/malloc.h): whose
 * allocations the toolbar's own code makes while it runs inside the app's handler (the
 * toolbar's, DTB_TOOLBAR_SCOPE), and the response bodies handed to libmicrohttpd. The table is
 * found with dlsym once, when a toolbar starts; without libdebugtoolbar-malloc.so loaded these
 * do nothing. The Memory panel (panels/memory.c) finds the same table for its ledgers.
 */
#include <dlfcn.h>
#include <pthread.h>

#include "debugtoolbar/malloc.h"
#include "internal.h"

/* Set once (the library, once loaded, can never be unloaded); read without a lock. */
static const struct dtb_malloc_hooks *hooks;
static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;

static void hooks_lookup(void)
{
    const struct dtb_malloc_hooks *h = dlsym(RTLD_DEFAULT, "dtb_malloc_hooks");
    if (h != NULL && h->version == DTB_MALLOC_HOOKS_VERSION)
        __atomic_store_n(&hooks, h, __ATOMIC_RELEASE);
}

void dtbi_memscope_init(void)
{
    pthread_once(&hooks_once, hooks_lookup);
}

void *dtb_toolbar_scope_enter(void)
{
    const struct dtb_malloc_hooks *h = __atomic_load_n(&hooks, __ATOMIC_ACQUIRE);
    return h != NULL ? h->toolbar_enter() : NULL;
}

void dtb_toolbar_scope_leave(void *previous)
{
    const struct dtb_malloc_hooks *h = __atomic_load_n(&hooks, __ATOMIC_ACQUIRE);
    if (h != NULL)
        h->toolbar_leave(previous);
}

void dtbi_mem_handover(void *p)
{
    const struct dtb_malloc_hooks *h = __atomic_load_n(&hooks, __ATOMIC_ACQUIRE);
    if (h != NULL)
        h->handover(p);
}
