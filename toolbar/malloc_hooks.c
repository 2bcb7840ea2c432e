/*
 * malloc_hooks.c - libdebugtoolbar-malloc.so's side that the toolbar calls, through the one
 * table it exports (dtb_malloc_hooks, debugtoolbar/malloc.h): a request's ledger created and
 * ended, the thread's context switched between the app and the toolbar, the report of what the
 * request allocated and left live (grouped by site and size), a block handed over to
 * libmicrohttpd, and return addresses symbolized (dladdr, and libdw when built with it). Also
 * the library's start (refusing to run under a sanitizer that owns malloc) and its fork
 * handlers. The replaced allocator itself is malloc.c.
 */
#include <dlfcn.h>
#include <malloc.h>
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

#include "malloc_int.h"

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
    struct ctx *prev = dtbi_tl_cur;
    if (l != NULL && !l->finished && l->owner == my_token())
        dtbi_tl_cur = &l->app;
    return prev;
}

static void ctx_restore(void *previous)
{
    dtbi_tl_cur = previous;
}

static void *toolbar_enter(void)
{
    struct ctx *prev = dtbi_tl_cur;
    if (prev != NULL)
        dtbi_tl_cur = &prev->l->tb;
    return prev;
}

/* Ends l: lists its live blocks into *live (NULL to just detach them) and clears their
 * headers' entry pointers, under the lock. Owner thread, dtbi_tl_cur NULL. */
static int detach(struct ledger *l, struct dtb_mem_live **live, size_t *nlive)
{
    size_t n = 0, i = 0;
    *nlive = 0;
    if (live != NULL)
        *live = NULL;
    pthread_mutex_lock(&dtbi_lock);
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
    pthread_mutex_unlock(&dtbi_lock);
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
    struct ctx *saved = dtbi_tl_cur;
    dtbi_tl_cur = NULL; /* the ledger's own work is nobody's */
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
    dtbi_tl_cur = saved;
    return rc;
}

static void handover(void *p)
{
    uint64_t tag;
    if (p == NULL || !is_tracked(p, &tag) || (tag & TOKEN_MASK) != dtbi_tl_token)
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
        struct ctx *saved = dtbi_tl_cur;
        dtbi_tl_cur = NULL;
        detach(l, NULL, &n);
        dtbi_tl_cur = saved;
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
    struct ctx *saved = dtbi_tl_cur;
    dtbi_tl_cur = NULL;
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
    dtbi_tl_cur = saved;
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
    pthread_mutex_lock(&dtbi_lock);
}

static void after_fork_parent(void)
{
    pthread_mutex_unlock(&dtbi_lock);
}

static void after_fork_child(void)
{
    pthread_mutex_init(&dtbi_lock, NULL);
#ifdef HAVE_LIBDW
    pthread_mutex_init(&sym_lock, NULL);
    dwfl = NULL; /* the parent's describes the parent (its memory is left alone) */
#endif
}

__attribute__((constructor)) static void ledger_init(void)
{
#ifdef DTB_LEDGER_TEST
    dtbi_glibc_usable_size = dtbl_real_usable_size;
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
        dtbi_glibc_usable_size = next;
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}
