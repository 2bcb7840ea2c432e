/*
 * memory.c - the Memory panel: what the request did to the heap, from the heap ledger in
 * libdebugtoolbar-malloc.so (toolbar/malloc.c) when the process runs with it (dtb-run --memory,
 * or preloaded or linked by hand).
 *
 * Per request: allocations, frees, reallocations and their bytes; the peak of the request's
 * live bytes; the size histogram; the top allocation sites by bytes and by count; the blocks
 * allocated during the request and still live at its end (leak candidates, or caches the app
 * meant to keep) with their sites, sizes and counts; the toolbar's own allocations apart; the
 * process's RSS (/proc/self/statm) and glibc's arena figures (mallinfo2) at start and end;
 * and, across requests, how many of a route's latest requests in a row each left bytes behind.
 *
 * The ledger is found with dlsym(RTLD_DEFAULT) at start: without it the panel says how to load
 * it, and the request path calls nothing. Sites are return addresses until the record is
 * built; they are named then (dladdr, and libdw for static functions and file:line).
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "debugtoolbar/malloc.h"
#include "panels.h"

#define TOP_SITES 20
#define TOP_LIVE 50

struct mem_req {
    void *ledger;
    int64_t rss_start, rss_end;
    struct mallinfo2 mi_start, mi_end;
    int done;                  /* the ledger's report is in rep */
    struct dtb_mem_report rep; /* its arrays in the request's arena; raw site addresses */
    long streak;               /* the route's latest requests in a row that left bytes */
    uint64_t streak_bytes;
};

/* ---- routes that leave bytes behind on every request ------------------------------------ */

#define ROUTE_SLOTS 64

/* Per "METHOD path": how many of its latest requests in a row left bytes live, and how many
 * bytes those requests left in all. A small table: a new route takes its hash's slot. */
struct route_streak {
    char key[160];
    long streak;
    uint64_t bytes;
};
static struct route_streak routes[ROUTE_SLOTS];
static pthread_mutex_t routes_lock = PTHREAD_MUTEX_INITIALIZER;

static void route_note(struct dtb_request *rq, uint64_t live_bytes, long *streak, uint64_t *bytes)
{
    char key[160];
    uint64_t h = 1469598103934665603ull;
    snprintf(key, sizeof(key), "%s %s", dtb_request_method(rq), dtb_request_path(rq));
    for (const char *c = key; *c != '\0'; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ull;
    pthread_mutex_lock(&routes_lock);
    struct route_streak *r = &routes[h % ROUTE_SLOTS];
    if (strcmp(r->key, key) != 0) {
        snprintf(r->key, sizeof(r->key), "%s", key);
        r->streak = 0;
        r->bytes = 0;
    }
    if (live_bytes > 0) {
        r->streak++;
        r->bytes += live_bytes;
    } else {
        r->streak = 0;
        r->bytes = 0;
    }
    *streak = r->streak;
    *bytes = r->bytes;
    pthread_mutex_unlock(&routes_lock);
}

static int mem_init(void **panel_state, struct dtb_toolbar *tb, const json_t *conf,
                    struct dtb_error *err)
{
    const struct dtb_malloc_hooks *h = dlsym(RTLD_DEFAULT, "dtb_malloc_hooks");
    (void)tb, (void)conf, (void)err;
    *panel_state = h != NULL && h->version == DTB_MALLOC_HOOKS_VERSION ? (void *)h : NULL;
    return 0;
}

/* /proc/self/statm, opened once and read with pread: one system call a reading where
 * fopen/fscanf/fclose made three and a FILE (twice a request, and system calls are dear in
 * a virtual machine). /proc/self names the process that opened it, so a forked child drops
 * the parent's descriptor and opens its own. An app that closes every descriptor and reuses
 * the number would get a wrong RSS figure, never a changed file: pread moves no offset. */
static atomic_int statm_fd = -1;
static pthread_once_t statm_once = PTHREAD_ONCE_INIT;

static void statm_child(void)
{
    int fd = atomic_exchange(&statm_fd, -1);
    if (fd >= 0)
        close(fd);
}

static long page_size;

static void statm_register(void)
{
    page_size = sysconf(_SC_PAGESIZE);
    pthread_atfork(NULL, NULL, statm_child);
}

/* The process's resident set in bytes (/proc/self/statm), or -1. */
static int64_t rss_bytes(void)
{
    char buf[96], *end;
    int fd = atomic_load(&statm_fd);
    if (fd < 0) {
        pthread_once(&statm_once, statm_register);
        int mine = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
        if (mine < 0)
            return -1;
        fd = -1;
        if (atomic_compare_exchange_strong(&statm_fd, &fd, mine))
            fd = mine;
        else
            close(mine); /* another thread opened it first: fd is that one */
    }
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    strtoll(buf, &end, 10); /* size, then resident */
    long long resident = strtoll(end, &end, 10);
    return resident > 0 ? (int64_t)resident * page_size : -1;
}

static void *mem_start(void *state, struct dtb_request *rq)
{
    const struct dtb_malloc_hooks *h = state;
    struct mem_req *st;
    if (h == NULL)
        return NULL;
    st = dtb_request_alloc(rq, sizeof(*st));
    if (st == NULL)
        return NULL;
    st->rss_start = rss_bytes();
    st->mi_start = mallinfo2();
    st->ledger = h->ledger_new();
    return st;
}

/* Around each call into the app's handler: the thread's allocations go to the request's
 * ledger. */
static void *mem_call_enter(void *state, struct dtb_request *rq, void *req_state)
{
    const struct dtb_malloc_hooks *h = state;
    struct mem_req *st = req_state;
    (void)rq;
    return st != NULL && st->ledger != NULL ? h->app_enter(st->ledger) : NULL;
}

static void mem_call_leave(void *state, struct dtb_request *rq, void *req_state, void *previous)
{
    const struct dtb_malloc_hooks *h = state;
    struct mem_req *st = req_state;
    (void)rq;
    if (st != NULL && st->ledger != NULL)
        h->app_leave(previous);
}

static json_t *arena_json(const struct mallinfo2 *mi)
{
    return json_pack("{s:I,s:I,s:I,s:I}", "arena", (json_int_t)mi->arena, "in_use",
                     (json_int_t)mi->uordblks, "free", (json_int_t)mi->fordblks, "mmapped",
                     (json_int_t)mi->hblkhd);
}

static void mem_end(void *state, struct dtb_request *rq, void *req_state)
{
    const struct dtb_malloc_hooks *h = state;
    struct mem_req *st = req_state;
    struct dtb_mem_report r;
    if (h == NULL || st == NULL || st->ledger == NULL)
        return;
    int rc = h->finish(st->ledger, &r);
    h->ledger_free(st->ledger);
    st->ledger = NULL;
    if (rc == 0) {
        /* kept as they are, in the request's arena: the record, if it is ever built, makes
         * its JSON from them (most records are never looked at) */
        st->rep = r;
        st->rep.sites = r.nsites > 0 ? dtb_request_alloc(rq, r.nsites * sizeof(*r.sites)) : NULL;
        st->rep.live = r.nlive > 0 ? dtb_request_alloc(rq, r.nlive * sizeof(*r.live)) : NULL;
        if ((r.nsites > 0 && st->rep.sites == NULL) || (r.nlive > 0 && st->rep.live == NULL)) {
            h->report_free(&r);
            return;
        }
        if (r.nsites > 0)
            memcpy(st->rep.sites, r.sites, r.nsites * sizeof(*r.sites));
        if (r.nlive > 0)
            memcpy(st->rep.live, r.live, r.nlive * sizeof(*r.live));
        st->mi_end = mallinfo2();
        st->rss_end = rss_bytes();
        route_note(rq, r.live_bytes, &st->streak, &st->streak_bytes);
        st->done = 1;
    }
    h->report_free(&r);
}

/* Adds function, file, line and module of a site to obj. */
static void name_site(const struct dtb_malloc_hooks *h, json_t *obj, json_int_t addr)
{
    char func[256], file[512], module[256], hex[32];
    int line = 0;
    h->symbolize((void *)(uintptr_t)addr, func, sizeof(func), file, sizeof(file), &line, module,
                 sizeof(module));
    snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)addr);
    json_object_set_new(obj, "address", json_string(hex));
    json_object_set_new(obj, "function", dtb_json_text(func));
    json_object_set_new(obj, "file", dtb_json_text(file));
    json_object_set_new(obj, "line", json_integer(line));
    json_object_set_new(obj, "module", dtb_json_text(module));
}

static int by_count_desc(const void *a, const void *b)
{
    const struct dtb_mem_site *x = *(const struct dtb_mem_site *const *)a;
    const struct dtb_mem_site *y = *(const struct dtb_mem_site *const *)b;
    return x->count > y->count ? -1 : x->count < y->count;
}

static json_t *site_list(const struct dtb_malloc_hooks *h, const struct dtb_mem_site *const *rows,
                         size_t n)
{
    json_t *out = json_array();
    for (size_t i = 0; i < n && i < TOP_SITES; i++) {
        json_t *o = json_pack("{s:I,s:I}", "count", (json_int_t)rows[i]->count, "bytes",
                              (json_int_t)rows[i]->bytes);
        name_site(h, o, (json_int_t)(uintptr_t)rows[i]->site);
        json_array_append_new(out, o);
    }
    return out;
}

static json_t *mem_to_json(void *state, struct dtb_request *rq, void *req_state)
{
    const struct dtb_malloc_hooks *h = state;
    struct mem_req *st = req_state;
    (void)rq;
    if (h == NULL)
        return json_pack("{s:b}", "ledger", 0);
    if (st == NULL || !st->done)
        return json_pack("{s:b,s:b}", "ledger", 1, "failed", 1);
    const struct dtb_mem_report *r = &st->rep;
    void *tb = h->toolbar_enter();
    json_t *out = json_pack(
        "{s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,"
        "s:I}",
        "ledger", 1, "allocs", (json_int_t)r->allocs, "frees", (json_int_t)r->frees, "reallocs",
        (json_int_t)r->reallocs, "bytes_allocated", (json_int_t)r->bytes_allocated, "bytes_freed",
        (json_int_t)r->bytes_freed, "peak_bytes", (json_int_t)r->peak_bytes, "toolbar_allocs",
        (json_int_t)r->toolbar_allocs, "toolbar_bytes", (json_int_t)r->toolbar_bytes, "untracked",
        (json_int_t)r->untracked, "freed_elsewhere", (json_int_t)r->freed_elsewhere, "other_count",
        (json_int_t)r->other_count, "other_bytes", (json_int_t)r->other_bytes, "live_blocks",
        (json_int_t)r->live_blocks, "live_bytes", (json_int_t)r->live_bytes, "rss_start",
        (json_int_t)st->rss_start, "rss_end", (json_int_t)st->rss_end, "leak_streak",
        (json_int_t)st->streak, "handed_blocks", (json_int_t)r->handed_blocks, "handed_bytes",
        (json_int_t)r->handed_bytes, "leak_streak_bytes", (json_int_t)st->streak_bytes);
    if (out == NULL) {
        h->toolbar_leave(tb);
        return NULL;
    }
    /* the histogram: {"max": bytes (null for the last, larger class), "count"} where count > 0 */
    json_t *hist = json_array();
    for (size_t i = 0; i < DTB_MEM_HIST; i++)
        if (r->hist[i] > 0)
            json_array_append_new(
                hist,
                json_pack("{s:o,s:I}", "max",
                          i + 1 < DTB_MEM_HIST ? json_integer((json_int_t)16 << i) : json_null(),
                          "count", (json_int_t)r->hist[i]));
    json_object_set_new(out, "histogram", hist);
    /* the top sites by bytes (as the ledger sorted them) and by count */
    size_t n = r->nsites;
    const struct dtb_mem_site **rows = n > 0 ? malloc(n * sizeof(*rows)) : NULL;
    for (size_t i = 0; i < n && rows != NULL; i++)
        rows[i] = &r->sites[i];
    json_object_set_new(out, "sites_by_bytes", site_list(h, rows, rows != NULL ? n : 0));
    if (rows != NULL)
        qsort(rows, n, sizeof(*rows), by_count_desc);
    json_object_set_new(out, "sites_by_count", site_list(h, rows, rows != NULL ? n : 0));
    json_object_set_new(out, "sites_total", json_integer((json_int_t)n));
    free(rows);
    /* the blocks still live at the end, grouped by site and size */
    json_t *groups = json_array();
    for (size_t i = 0; i < r->nlive && i < TOP_LIVE; i++) {
        json_int_t size = (json_int_t)r->live[i].size, count = (json_int_t)r->live[i].count;
        json_t *o = json_pack("{s:I,s:I,s:I}", "size", size, "count", count, "bytes", size * count);
        name_site(h, o, (json_int_t)(uintptr_t)r->live[i].site);
        json_array_append_new(groups, o);
    }
    json_object_set_new(out, "live", groups);
    json_object_set_new(out, "live_groups", json_integer((json_int_t)r->nlive));
    json_object_set_new(out, "arena_start", arena_json(&st->mi_start));
    json_object_set_new(out, "arena_end", arena_json(&st->mi_end));
    h->toolbar_leave(tb);
    return out;
}

/* "1.5 KiB" */
static void append_bytes(struct dtb_buf *out, json_int_t b)
{
    if (b < 0)
        dtb_buf_append_str(out, "?");
    else if (b < 1024)
        dtb_buf_appendf(out, "%lld B", (long long)b);
    else if (b < 1024 * 1024)
        dtb_buf_appendf(out, "%.1f KiB", (double)b / 1024);
    else
        dtb_buf_appendf(out, "%.1f MiB", (double)b / (1024.0 * 1024));
}

static json_int_t iget(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static int mem_subtitle(const json_t *stats, struct dtb_buf *out)
{
    if (!json_is_true(json_object_get(stats, "ledger")))
        return dtb_buf_append_str(out, "ledger not loaded");
    if (json_is_true(json_object_get(stats, "failed")))
        return dtb_buf_append_str(out, "not recorded");
    json_int_t allocs = iget(stats, "allocs"), live = iget(stats, "live_blocks");
    dtb_buf_appendf(out, "%lld alloc%s, ", (long long)allocs, allocs == 1 ? "" : "s");
    if (live == 0)
        return dtb_buf_append_str(out, "nothing left");
    append_bytes(out, iget(stats, "live_bytes"));
    dtb_buf_appendf(out, " left in %lld block%s", (long long)live, live == 1 ? "" : "s");
    if (iget(stats, "leak_streak") >= 3)
        dtb_buf_appendf(out, " (every time, %lld requests)", (long long)iget(stats, "leak_streak"));
    return out->failed ? -1 : 0;
}

static void render_site(struct dtb_buf *out, const json_t *s)
{
    const char *func = json_string_value(json_object_get(s, "function"));
    const char *file = json_string_value(json_object_get(s, "file"));
    const char *module = json_string_value(json_object_get(s, "module"));
    dtb_buf_append_str(out, "<td><code>");
    dtb_buf_append_html_str(out, func != NULL && func[0] != '\0'
                                     ? func
                                     : json_string_value(json_object_get(s, "address")));
    dtb_buf_append_str(out, "</code>");
    if (file != NULL && file[0] != '\0') {
        dtb_buf_append_str(out, " <span class=\"dtb-muted\">");
        dtb_buf_append_html_str(out, file);
        dtb_buf_appendf(out, ":%lld</span>", (long long)iget(s, "line"));
    }
    if (module != NULL && module[0] != '\0') {
        dtb_buf_append_str(out, " <span class=\"dtb-muted\">(");
        dtb_buf_append_html_str(out, module);
        dtb_buf_append_str(out, ")</span>");
    }
    dtb_buf_append_str(out, "</td>");
}

static void render_sites(struct dtb_buf *out, const char *title, const json_t *sites)
{
    const json_t *s;
    size_t i;
    if (json_array_size(sites) == 0)
        return;
    dtb_buf_appendf(out,
                    "<h4>%s</h4><table class=\"dtb-table\"><thead><tr><th>Site</th>"
                    "<th class=\"dtb-num\">Allocations</th><th class=\"dtb-num\">Bytes</th>"
                    "</tr></thead><tbody>",
                    title);
    json_array_foreach(sites, i, s)
    {
        dtb_buf_append_str(out, "<tr>");
        render_site(out, s);
        dtb_buf_appendf(out, "<td class=\"dtb-num\">%lld</td><td class=\"dtb-num\">",
                        (long long)iget(s, "count"));
        append_bytes(out, iget(s, "bytes"));
        dtb_buf_append_str(out, "</td></tr>");
    }
    dtb_buf_append_str(out, "</tbody></table>");
}

/* A row of the summary table: a count (count_key; none when NULL), bytes (bytes_key; none when
 * NULL) and a muted note (when not NULL). */
static void count_row(struct dtb_buf *out, const json_t *stats, const char *title,
                      const char *count_key, const char *bytes_key, const char *note)
{
    dtb_buf_appendf(out, "<tr><th>%s</th><td class=\"dtb-num\">", title);
    if (count_key != NULL)
        dtb_buf_appendf(out, "%lld", (long long)iget(stats, count_key));
    dtb_buf_append_str(out, "</td><td>");
    if (bytes_key != NULL)
        append_bytes(out, iget(stats, bytes_key));
    if (note != NULL)
        dtb_buf_appendf(out, "%s<span class=\"dtb-muted\">%s</span>", bytes_key ? " " : "", note);
    dtb_buf_append_str(out, "</td></tr>");
}

/* History marks the route whose latest requests each left bytes behind. */
static int mem_marks(const json_t *stats, json_t *marks)
{
    json_int_t streak = iget(stats, "leak_streak");
    char title[160];
    if (streak < 2)
        return 0;
    snprintf(title, sizeof(title),
             "The last %lld requests to this route each left bytes behind (%lld bytes in all)",
             (long long)streak, (long long)iget(stats, "leak_streak_bytes"));
    return json_array_append_new(
        marks, json_pack("{s:s,s:s,s:s}", "text", "leaks", "title", title, "level", "warn"));
}

static int mem_render(const json_t *stats, struct dtb_buf *out)
{
    const json_t *live = json_object_get(stats, "live"), *g, *a0, *a1;
    size_t i;
    if (!json_is_true(json_object_get(stats, "ledger"))) {
        dtb_buf_append_str(out, "<p class=\"dtb-muted\">The heap ledger is not loaded. Run the app "
                                "with <code>dtb-run --memory</code>, or preload or link "
                                "<code>libdebugtoolbar-malloc.so</code> (see the README).</p>");
        return out->failed ? -1 : 0;
    }
    if (json_is_true(json_object_get(stats, "failed"))) {
        dtb_buf_append_str(out, "<p class=\"dtb-muted\">This request's heap was not recorded "
                                "(out of memory).</p>");
        return out->failed ? -1 : 0;
    }
    dtb_buf_append_str(out, "<table class=\"dtb-table\"><tbody>");
    count_row(out, stats, "Allocations", "allocs", "bytes_allocated", NULL);
    count_row(out, stats, "Frees", "frees", "bytes_freed", NULL);
    count_row(out, stats, "Reallocations", "reallocs", NULL, "each also an allocation and a free");
    count_row(out, stats, "Peak live", NULL, "peak_bytes", NULL);
    count_row(out, stats, "Left live at the end", "live_blocks", "live_bytes", NULL);
    count_row(out, stats, "The toolbar's own", "toolbar_allocs", "toolbar_bytes", NULL);
    if (iget(stats, "handed_blocks") > 0)
        count_row(out, stats, "Response bodies handed to libmicrohttpd", "handed_blocks",
                  "handed_bytes", "freed once sent");
    if (iget(stats, "freed_elsewhere") > 0)
        dtb_buf_appendf(out,
                        "<tr><th>Freed by other threads</th><td class=\"dtb-num\">%lld</td>"
                        "<td></td></tr>",
                        (long long)iget(stats, "freed_elsewhere"));
    dtb_buf_append_str(out, "<tr><th>Process RSS</th><td></td><td>");
    append_bytes(out, iget(stats, "rss_start"));
    dtb_buf_append_str(out, " &rarr; ");
    append_bytes(out, iget(stats, "rss_end"));
    dtb_buf_append_str(out, "</td></tr>");
    a0 = json_object_get(stats, "arena_start");
    a1 = json_object_get(stats, "arena_end");
    static const char *const arena_keys[][2] = {{"arena", "malloc arena"},
                                                {"in_use", "arena in use"},
                                                {"free", "arena free"},
                                                {"mmapped", "mmapped blocks"}};
    for (i = 0; i < 4 && a0 != NULL && a1 != NULL; i++) {
        dtb_buf_appendf(out, "<tr><th>%s</th><td></td><td>", arena_keys[i][1]);
        append_bytes(out, iget(a0, arena_keys[i][0]));
        dtb_buf_append_str(out, " &rarr; ");
        append_bytes(out, iget(a1, arena_keys[i][0]));
        dtb_buf_append_str(out, "</td></tr>");
    }
    dtb_buf_append_str(out, "</tbody></table>");

    if (iget(stats, "leak_streak") >= 2) {
        dtb_buf_appendf(out,
                        "<p class=\"dtb-warn\"><strong>The last %lld requests to this "
                        "route each left bytes behind</strong>: ",
                        (long long)iget(stats, "leak_streak"));
        append_bytes(out, iget(stats, "leak_streak_bytes"));
        dtb_buf_append_str(out, " in all. A leak, or a cache that keeps growing.</p>");
    }
    dtb_buf_append_str(out, "<h4>Blocks left live at the end</h4>");
    if (json_array_size(live) == 0) {
        dtb_buf_append_str(out, "<p class=\"dtb-muted\">Nothing the request allocated was "
                                "still live when it ended.</p>");
    } else {
        dtb_buf_append_str(out, "<p class=\"dtb-muted\">Allocated during the request and not "
                                "freed when it ended: leak candidates, or caches the app "
                                "meant to keep.</p><table class=\"dtb-table\"><thead><tr>"
                                "<th>Site</th><th class=\"dtb-num\">Blocks</th>"
                                "<th class=\"dtb-num\">Size</th><th class=\"dtb-num\">Bytes</th>"
                                "</tr></thead><tbody>");
        json_array_foreach(live, i, g)
        {
            dtb_buf_append_str(out, "<tr>");
            render_site(out, g);
            dtb_buf_appendf(out, "<td class=\"dtb-num\">%lld</td><td class=\"dtb-num\">",
                            (long long)iget(g, "count"));
            append_bytes(out, iget(g, "size"));
            dtb_buf_append_str(out, "</td><td class=\"dtb-num\">");
            append_bytes(out, iget(g, "bytes"));
            dtb_buf_append_str(out, "</td></tr>");
        }
        dtb_buf_append_str(out, "</tbody></table>");
        if (iget(stats, "live_groups") > (json_int_t)json_array_size(live))
            dtb_buf_appendf(
                out, "<p class=\"dtb-muted\">and %lld more sites and sizes.</p>",
                (long long)(iget(stats, "live_groups") - (json_int_t)json_array_size(live)));
    }
    render_sites(out, "Top sites by bytes", json_object_get(stats, "sites_by_bytes"));
    render_sites(out, "Top sites by count", json_object_get(stats, "sites_by_count"));
    const json_t *hist = json_object_get(stats, "histogram");
    if (json_array_size(hist) > 0) {
        dtb_buf_append_str(out, "<h4>Sizes</h4><table class=\"dtb-table\"><thead><tr>"
                                "<th>Size</th><th class=\"dtb-num\">Allocations</th></tr></thead>"
                                "<tbody>");
        json_array_foreach(hist, i, g)
        {
            const json_t *max = json_object_get(g, "max");
            dtb_buf_append_str(out, "<tr><td>");
            if (json_is_integer(max)) {
                dtb_buf_append_str(out, "&le; ");
                append_bytes(out, json_integer_value(max));
            } else {
                dtb_buf_append_str(out, "&gt; 8.0 MiB");
            }
            dtb_buf_appendf(out, "</td><td class=\"dtb-num\">%lld</td></tr>",
                            (long long)iget(g, "count"));
        }
        dtb_buf_append_str(out, "</tbody></table>");
    }
    return out->failed ? -1 : 0;
}

const struct dtb_panel_ops dtb_panel_memory = {
    .abi = DTB_PANEL_ABI,
    .id = "memory",
    .title = "Memory",
    .default_on = 1,
    .init = mem_init,
    .on_request_start = mem_start,
    .on_request_end = mem_end,
    .summary_marks = mem_marks,
    .to_json = mem_to_json,
    .nav_subtitle = mem_subtitle,
    .render_html = mem_render,
    .call_enter = mem_call_enter,
    .call_leave = mem_call_leave,
};
