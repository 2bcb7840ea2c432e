/*
 * test_oom.c - allocation failures on the recording and injection paths: for k = 1, 2, ... the
 * k-th allocation the toolbar makes (or jansson or libxml2 make for it) while one request is
 * served fails; the client must get the app's page every time (with the toolbar, or without it
 * when the failure cost the injection), the app must keep serving, and nothing the toolbar
 * allocated may outlive the toolbar.
 *
 * It replaces malloc, calloc, realloc and free (glibc's __libc_* do the work), so it runs in the
 * plain build only: built with a sanitizer it is a stub that skips (77).
 */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
/* A sanitizer owns malloc in this build: replacing it would crash before main. */
#include <stdio.h>
int main(void)
{
    printf("*** SKIP: a sanitizer owns malloc in this build; the plain build runs this test\n");
    return 77;
}
#else
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <link.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <debugtoolbar.h>
#include <debugtoolbar/mhd.h>
#include <debugtoolbar/sql.h>
#include <microhttpd.h>

#include "http.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

/* ---- which allocations count: those whose caller is the toolbar, jansson or libxml2 ------- */

struct range {
    uintptr_t lo, hi;
};
static struct range ranges[8];
static int nranges;

static int phdr_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size, (void)data;
    const char *n = info->dlpi_name;
    if (n == NULL || (strstr(n, "libdebugtoolbar") == NULL && strstr(n, "libjansson") == NULL &&
                      strstr(n, "libxml2") == NULL))
        return 0;
    for (int i = 0; i < info->dlpi_phnum && nranges < 8; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
            ranges[nranges].lo = info->dlpi_addr + ph->p_vaddr;
            ranges[nranges].hi = ranges[nranges].lo + ph->p_memsz;
            nranges++;
        }
    }
    return 0;
}

static int counted_caller(const void *ret)
{
    for (int i = 0; i < nranges; i++)
        if ((uintptr_t)ret >= ranges[i].lo && (uintptr_t)ret < ranges[i].hi)
            return 1;
    return 0;
}

/* ---- failure injection and live-allocation tracking ----------------------------------------- */

static atomic_int armed;
static long current_k;
static atomic_long countdown;
static atomic_int failed_once;
static pthread_t target; /* the MHD thread */
static atomic_int target_set;
static atomic_int tracking;

#define SLOTS (1 << 16)
static void *live[SLOTS]; /* open addressing; pointers the toolbar side allocated */
static const void *live_caller[SLOTS];
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static long nlive;

static size_t slot_of(const void *p)
{
    uintptr_t x = (uintptr_t)p >> 4;
    x ^= x >> 17;
    return (size_t)(x * 0x9E3779B97F4A7C15ull) & (SLOTS - 1);
}

static void live_add(void *p, const void *caller)
{
    pthread_mutex_lock(&live_lock);
    for (size_t i = slot_of(p), n = 0; n < SLOTS; i = (i + 1) & (SLOTS - 1), n++) {
        if (live[i] == NULL || live[i] == (void *)1) {
            live[i] = p;
            live_caller[i] = caller;
            nlive++;
            break;
        }
    }
    pthread_mutex_unlock(&live_lock);
}

static void live_del(void *p)
{
    pthread_mutex_lock(&live_lock);
    for (size_t i = slot_of(p), n = 0; n < SLOTS && live[i] != NULL;
         i = (i + 1) & (SLOTS - 1), n++) {
        if (live[i] == p) {
            live[i] = (void *)1; /* tombstone */
            nlive--;
            break;
        }
    }
    pthread_mutex_unlock(&live_lock);
}

static int should_fail(const void *caller)
{
    if (!atomic_load(&armed) || !atomic_load(&target_set) ||
        !pthread_equal(pthread_self(), target) || !counted_caller(caller))
        return 0;
    if (atomic_fetch_sub(&countdown, 1) == 1) {
        atomic_store(&failed_once, 1);
        if (getenv("OOM_TRACE") != NULL && atol(getenv("OOM_TRACE")) == current_k) {
            /* where the failing allocation was asked for */
            void *frames[16];
            int n = backtrace(frames, 16);
            backtrace_symbols_fd(frames, n, 2);
        }
        return 1;
    }
    return 0;
}

static void *note(void *p, const void *caller)
{
    if (p != NULL && atomic_load(&tracking) && counted_caller(caller))
        live_add(p, caller);
    return p;
}

void *malloc(size_t n)
{
    const void *caller = __builtin_return_address(0);
    if (should_fail(caller)) {
        errno = ENOMEM;
        return NULL;
    }
    return note(__libc_malloc(n), caller);
}

void *calloc(size_t a, size_t b)
{
    const void *caller = __builtin_return_address(0);
    if (should_fail(caller)) {
        errno = ENOMEM;
        return NULL;
    }
    return note(__libc_calloc(a, b), caller);
}

void *realloc(void *p, size_t n)
{
    const void *caller = __builtin_return_address(0);
    if (should_fail(caller)) {
        errno = ENOMEM;
        return NULL;
    }
    void *q = __libc_realloc(p, n);
    if (q != NULL && p != NULL && atomic_load(&tracking))
        live_del(p);
    return note(q, caller);
}

void free(void *p)
{
    if (p != NULL && atomic_load(&tracking))
        live_del(p);
    __libc_free(p);
}

/* ---- the app -----------------------------------------------------------------------------------
 */

static const char PAGE[] = "<!DOCTYPE html><html><head><title>oom</title></head><body>"
                           "<p>the page</p></body></html>";
/* XHTML goes through libxml2 (toolbar/inject.c: well-formed, a body, then the last </body>) */
static const char XPAGE[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE html>"
                            "<html xmlns=\"http://www.w3.org/1999/xhtml\"><head><title>oom</title>"
                            "</head><body><p>the xhtml page</p><![CDATA[ </body> ]]>"
                            "<!-- </body> --></body></html>";
static const char XHTML_TYPE[] = "application/xhtml+xml; charset=utf-8";
static sqlite3 *db;

static enum MHD_Result app(void *cls, struct MHD_Connection *con, const char *url,
                           const char *method, const char *version, const char *upload_data,
                           size_t *upload_data_size, void **req_cls)
{
    sqlite3_stmt *st;
    (void)cls, (void)method, (void)version, (void)upload_data;
    (void)upload_data_size, (void)req_cls;
    if (!atomic_load(&target_set)) {
        target = pthread_self();
        atomic_store(&target_set, 1);
    }
    if (sqlite3_prepare_v2(db, "SELECT ? + 1", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int(st, 1, 41);
        while (dtb_sqlite3_step(st) == SQLITE_ROW)
            ;
        sqlite3_finalize(st);
    }
    int xhtml = strcmp(url, "/xhtml") == 0;
    struct MHD_Response *r = xhtml ? MHD_create_response_from_buffer(
                                         sizeof(XPAGE) - 1, (void *)XPAGE, MHD_RESPMEM_PERSISTENT)
                                   : MHD_create_response_from_buffer(sizeof(PAGE) - 1, (void *)PAGE,
                                                                     MHD_RESPMEM_PERSISTENT);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", xhtml ? XHTML_TYPE : "text/html");
    enum MHD_Result ret = MHD_queue_response(con, 200, r);
    MHD_destroy_response(r);
    return ret;
}

/* The body must be the page, or the page with the toolbar before its last </body>: 1 without
 * the toolbar, 2 with it, 0 for anything else. */
static int is_page(const char *body, const char *page)
{
    const char *end = NULL;
    for (const char *p = strstr(page, "</body>"); p != NULL; p = strstr(p + 1, "</body>"))
        end = p;
    size_t head = (size_t)(end - page), blen = strlen(body), tail = strlen(end);
    if (strcmp(body, page) == 0)
        return 1;
    return blen > strlen(page) + 9 && strncmp(body, page, head) == 0 &&
                   strncmp(body + head, "<dtb-toolbar", 12) == 0 &&
                   strstr(body + head, "</dtb-toolbar><script ") != NULL &&
                   strcmp(body + blen - tail, end) == 0 &&
                   strncmp(body + blen - tail - 9, "</script>", 9) == 0
               ? 2
               : 0;
}

/* For k = 1, 2, ... the k-th counted allocation of one request for url fails (trace ids
 * trace_base + k); every answer must be page, with or without the toolbar, as ctype. Returns
 * how many allocations failed one by one; -1 if the request still had unfailed allocations
 * after max; adds the wrong answers to *bad and counts the answers without the toolbar. */
static long request_loop(const char *url, const char *page, const char *ctype, long trace_base,
                         long max, int *bad, long *plain)
{
    struct http_resp r;
    long k;
    *plain = 0;
    for (k = 1; k <= max; k++) {
        atomic_store(&failed_once, 0);
        current_k = trace_base + k;
        atomic_store(&countdown, k);
        atomic_store(&armed, 1);
        int rc = http_get(url, &r);
        usleep(2000); /* completion (recording) runs after the response */
        atomic_store(&armed, 0);
        int got = rc == 0 && r.status == 200 && r.body != NULL ? is_page(r.body, page) : 0;
        char *ct = rc == 0 ? http_header(&r, "Content-Type") : NULL;
        if (got == 0 || ct == NULL || strcmp(ct, ctype) != 0) {
            printf("test_oom: %s, failing allocation %ld: status %ld, type %s, body %.80s\n", url,
                   k, rc == 0 ? r.status : -1L, ct ? ct : "(none)",
                   rc == 0 && r.body ? r.body : "(none)");
            (*bad)++;
        } else if (got == 1) {
            (*plain)++;
        }
        free(ct);
        if (rc == 0)
            http_resp_free(&r);
        if (!atomic_load(&failed_once))
            return k - 1; /* the request made fewer than k allocations: every one has failed once */
    }
    return -1;
}

int main(void)
{
    char url[128], xurl[128], dbfile[] = "/tmp/dtb-oom-XXXXXX";
    struct http_resp r;
    struct dtb_error err = {0};
    dl_iterate_phdr(phdr_cb, NULL);
    void *warm[2];
    backtrace(warm, 2); /* loads what backtrace needs before anything can fail */
    if (nranges == 0) {
        printf("test_oom: the toolbar's libraries are not loaded as shared objects\n");
        return 1;
    }
    int fd = mkstemp(dbfile);
    close(fd);
    sqlite3_open(dbfile, &db);
    dtb_sqlite_attach(db);
    struct dtb_toolbar *tb =
        dtb_toolbar_create_from_string("{\"enabled\": true, \"history_size\": 2}", "oom", &err);
    if (tb == NULL || dtb_toolbar_start(tb, &err) != DTB_OK)
        return 1;
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d = dtb_start_daemon(tb, MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, app,
                                            NULL, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
    if (d == NULL)
        return 1;
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/page",
             (unsigned)MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port);
    snprintf(xurl, sizeof(xurl), "%.*s/xhtml", (int)(strstr(url, "/page") - url), url);
    /* both pages get the toolbar when nothing fails (else the loops would prove nothing); the
     * XHTML one also warms up what libxml2 sets up once */
    if (http_get(url, &r) != 0 || r.status != 200 || is_page(r.body, PAGE) != 2)
        return 1;
    http_resp_free(&r);
    if (http_get(xurl, &r) != 0 || r.status != 200 || is_page(r.body, XPAGE) != 2) {
        printf("test_oom: the XHTML page has no toolbar: %.300s\n", r.body ? r.body : "(none)");
        return 1;
    }
    http_resp_free(&r);
    usleep(2000);
    /* from here on: what one-time set-up allocated (libxml2's tables) is not counted */
    atomic_store(&tracking, 1);
    int bad = 0;
    long plain, xplain;
    long k = request_loop(url, PAGE, "text/html", 0, 5000, &bad, &plain);
    long kx = request_loop(xurl, XPAGE, XHTML_TYPE, 200000, 20000, &bad, &xplain);
    /* then the record: built when first read, with the k-th allocation of that failing; the
     * answer is the record or an error, never a crash, and the next record builds */
    long k2;
    for (k2 = 1; k2 <= 20000 && bad == 0; k2++) {
        char rec_url[192];
        if (http_get(url, &r) != 0 || r.status != 200) {
            bad++;
            break;
        }
        char *id = http_header(&r, "X-Debug-Toolbar-Id");
        http_resp_free(&r);
        usleep(2000);
        snprintf(rec_url, sizeof(rec_url), "%.*s/_debug_toolbar/api/requests/%s",
                 (int)(strstr(url, "/page") - url), url, id != NULL ? id : "x");
        free(id);
        atomic_store(&failed_once, 0);
        current_k = 100000 + k2;
        atomic_store(&countdown, k2);
        atomic_store(&armed, 1);
        int rc = http_get(rec_url, &r);
        atomic_store(&armed, 0);
        if (rc != 0 || (r.status != 200 && r.status != 404 && r.status != 500)) {
            printf("test_oom: record build, failing allocation %ld: status %ld\n", k2,
                   rc == 0 ? r.status : -1L);
            bad++;
        }
        if (rc == 0)
            http_resp_free(&r);
        if (!atomic_load(&failed_once))
            break;
    }
    printf("test_oom: %ld allocations of building a record failed one by one\n", k2 - 1);
    /* the app still serves, and the toolbar still works */
    if (http_get(url, &r) != 0 || r.status != 200 || is_page(r.body, PAGE) != 2) {
        printf("test_oom: after the loop the page has no toolbar\n");
        bad++;
    }
    http_resp_free(&r);
    if (http_get(xurl, &r) != 0 || r.status != 200 || is_page(r.body, XPAGE) != 2) {
        printf("test_oom: after the loop the XHTML page has no toolbar\n");
        bad++;
    }
    http_resp_free(&r);
    /* each loop must have failed many distinct allocations, one by one, to its end: a loop that
     * stops early (no counted allocation fails, or the counting broke) proves nothing. Today:
     * ~83 on the HTML request's path, ~1277 building a record. */
    if (k < 0 || k <= 50) {
        printf("test_oom: the HTML request's path failed %ld allocations, not > 50 to its end\n",
               k);
        bad++;
    }
    /* XHTML: the same path plus libxml2's parse (~56 more today, ~30 of which cost the
     * injection): half of that must be there, or the libxml2 path was not reached */
    if (kx < 0 || kx < k + 25 || xplain < plain + 15) {
        printf("test_oom: the XHTML request's path failed %ld allocations (%ld answers without "
               "the toolbar), not >= %ld (%ld) to its end: libxml2's parse was not reached\n",
               kx, xplain, k + 25, plain + 15);
        bad++;
    }
    if (k2 > 20000 || k2 - 1 <= 500) {
        printf("test_oom: building a record failed %ld allocations, not > 500 to its end\n",
               k2 - 1);
        bad++;
    }
    MHD_stop_daemon(d);
    dtb_toolbar_destroy(tb);
    dtb_sqlite_detach(db);
    sqlite3_close(db);
    unlink(dbfile);
    long left = nlive;
    atomic_store(&tracking, 0);
    for (size_t i = 0; i < SLOTS && left > 0; i++) {
        if (live[i] != NULL && live[i] != (void *)1) {
            Dl_info di;
            if (dladdr(live_caller[i], &di) && di.dli_sname != NULL)
                printf("test_oom: still live: allocated in %s\n", di.dli_sname);
            else
                printf("test_oom: still live: allocated at %p (%s)\n", live_caller[i],
                       di.dli_fname ? di.dli_fname : "?");
        }
    }
    printf("test_oom: %ld allocations on the HTML request's path (%ld answers without the "
           "toolbar) and %ld on the XHTML one (%ld without) failed one by one: %s; %ld toolbar "
           "allocations still live after destroy\n",
           k, plain, kx, xplain, bad ? "FAILED" : "the page was served every time", left);
    return bad == 0 && left == 0 ? 0 : 1;
}
#endif
