/*
 * symbols.c - dtb_symbolize: turns code addresses (the profiler's samples, SQL call sites,
 * allocation sites) into function, file:line and module, after the request (never in a signal
 * handler): elfutils' libdwfl over the process's own maps (symbol tables and DWARF where
 * present), dladdr when libdwfl knows nothing. Every address is looked up once per process:
 * results live in a hash table for the life of the process.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "internal.h"

#ifdef HAVE_PROFILER
#include <elfutils/libdwfl.h>
#endif

struct entry {
    uintptr_t key; /* the address looked up (ip, or ip - 1 for a return address); 0 = free */
    struct dtb_symbol sym;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *table;
static size_t table_cap, table_used;

#ifdef HAVE_PROFILER
static Dwfl *dwfl;
static time_t dwfl_reported; /* when the process's modules were last read */
static char *debuginfo_path;
static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .debuginfo_path = &debuginfo_path,
};

/* (Re)reads the process's modules: at the first lookup, and when an address is in none of
 * them (a library loaded since), at most once a second. */
static void report_modules(void)
{
    time_t now = time(NULL);
    if (dwfl != NULL && now == dwfl_reported)
        return;
    if (dwfl != NULL)
        dwfl_end(dwfl);
    dwfl_reported = now;
    dwfl = dwfl_begin(&callbacks);
    if (dwfl == NULL)
        return;
    if (dwfl_linux_proc_report(dwfl, getpid()) != 0 || dwfl_report_end(dwfl, NULL, NULL) != 0) {
        dwfl_end(dwfl);
        dwfl = NULL;
    }
}
#endif

static const char *base_name(const char *path)
{
    const char *s = path != NULL ? strrchr(path, '/') : NULL;
    return s != NULL ? s + 1 : path;
}

static char *dup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

static void lookup(uintptr_t a, struct dtb_symbol *out)
{
    char hex[32];
    memset(out, 0, sizeof(*out));
#ifdef HAVE_PROFILER
    Dwfl_Module *m = NULL;
    if (dwfl == NULL)
        report_modules();
    if (dwfl != NULL && (m = dwfl_addrmodule(dwfl, a)) == NULL) {
        report_modules();
        m = dwfl != NULL ? dwfl_addrmodule(dwfl, a) : NULL;
    }
    if (m != NULL) {
        GElf_Off off = 0;
        GElf_Sym sym;
        const char *mainfile = NULL;
        const char *name = dwfl_module_addrinfo(m, a, &off, &sym, NULL, NULL, NULL);
        dwfl_module_info(m, NULL, NULL, NULL, NULL, NULL, &mainfile, NULL);
        if (name != NULL) {
            out->function = strdup(name);
            Dwfl_Line *l = dwfl_module_getsrc(m, a - off); /* the function's own start */
            int line = 0;
            const char *file = l != NULL ? dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL) : NULL;
            out->file = dup_or_null(file);
            out->line = line;
            /* the address's own line: where a return address's call is */
            l = dwfl_module_getsrc(m, a);
            line = 0;
            file = l != NULL ? dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL) : NULL;
            out->at_file = dup_or_null(file);
            out->at_line = line;
        }
        out->module = dup_or_null(base_name(mainfile));
    }
#endif
    if (out->function == NULL) {
        Dl_info info;
        if (dladdr((void *)a, &info) != 0) {
            if (info.dli_sname != NULL)
                out->function = strdup(info.dli_sname);
            if (out->module == NULL)
                out->module = dup_or_null(base_name(info.dli_fname));
        }
    }
    if (out->function == NULL) {
        snprintf(hex, sizeof(hex), "0x%lx", (unsigned long)a);
        out->function = strdup(hex);
    }
    if (out->function == NULL)
        out->function = "?";
}

static size_t slot(uintptr_t key, size_t cap)
{
    uint64_t h = (uint64_t)key * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 17) & (cap - 1);
}

static int grow(void)
{
    size_t cap = table_cap ? table_cap * 2 : 1024;
    struct entry *t = calloc(cap, sizeof(*t));
    if (t == NULL)
        return -1;
    for (size_t i = 0; i < table_cap; i++) {
        if (table[i].key == 0)
            continue;
        size_t j = slot(table[i].key, cap);
        while (t[j].key != 0)
            j = (j + 1) & (cap - 1);
        t[j] = table[i];
    }
    free(table);
    table = t;
    table_cap = cap;
    return 0;
}

void dtb_symbolize(uintptr_t ip, int leaf, struct dtb_symbol *out)
{
    /* a return address points after the call: look up the call itself */
    uintptr_t a = leaf || ip == 0 ? ip : ip - 1;
    uintptr_t key = a != 0 ? a : 1;
    pthread_mutex_lock(&lock);
    if ((table_used + 1) * 2 > table_cap && grow() != 0) {
        pthread_mutex_unlock(&lock);
        out->function = "?";
        out->file = out->module = out->at_file = NULL;
        out->line = out->at_line = 0;
        return;
    }
    size_t j = slot(key, table_cap);
    while (table[j].key != 0 && table[j].key != key)
        j = (j + 1) & (table_cap - 1);
    if (table[j].key == 0) {
        lookup(a, &table[j].sym);
        table[j].key = key;
        table_used++;
    }
    *out = table[j].sym;
    pthread_mutex_unlock(&lock);
}
