/*
 * micro.c - in-process micro-benchmarks of the toolbar's own work, each figure the best of a
 * few rounds measured in one run (shared machines are noisy):
 *
 *   - injection on WORKLOAD.md's 1 MB page: the HTML5 body-end finder plus the splice (the fast
 *     path every HTML page takes), and the XHTML path (libxml2 checks well-formedness first);
 *   - one request's record: recording a request of 10 point SELECTs (the toolbar on versus a
 *     client it does not answer), and building its JSON when the record is first read (from
 *     the store directly, no HTTP).
 *
 * Run with `make bench`.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <debugtoolbar.h>
#include <debugtoolbar/mhd.h>
#include <debugtoolbar/sql.h>
#include <microhttpd.h>

#include "internal.h"
#include "store.h"

#define ROUNDS 5

static int64_t now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* WORKLOAD.md's /big: the skeleton filled with paragraphs to 1,000,000 bytes. */
static char *big_page(size_t *len, int xhtml)
{
    static const char para[] =
        "<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
        "incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud "
        "exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat.</p>";
    const char *head = xhtml ? "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<html xmlns=\"http://"
                               "www.w3.org/1999/xhtml\"><head><title>Big</title></head><body>"
                               "<h1>Big page</h1>"
                             : "<!DOCTYPE html><html><head><title>Big</title></head><body>"
                               "<h1>Big page</h1>";
    char *p = malloc(1100000);
    size_t n = strlen(head);
    memcpy(p, head, n);
    while (n + sizeof(para) - 1 + 14 <= 1000000) {
        memcpy(p + n, para, sizeof(para) - 1);
        n += sizeof(para) - 1;
    }
    memcpy(p + n, "</body></html>", 14);
    n += 14;
    *len = n;
    return p;
}

static const char snippet[] =
    "<dtb-toolbar id=\"dtb-root\" data-id=\"0123456789abcdef\"></dtb-toolbar><script src=\""
    "/_debug_toolbar/static/toolbar.js?v=0\" data-id=\"0123456789abcdef\" "
    "async=\"async\"></script>";

/* Finds the body end and splices the snippet into a new buffer, as the filter does. */
static double inject_mbps(const char *page, size_t len, int xhtml)
{
    double best = 0;
    for (int r = 0; r < ROUNDS; r++) {
        int reps = 20;
        int64_t t0 = now();
        for (int i = 0; i < reps; i++) {
            long at = xhtml ? dtbi_xhtml_body_end(page, len) : (long)dtbi_find_body_end(page, len);
            if (at < 0)
                abort();
            char *out = malloc(len + sizeof(snippet));
            memcpy(out, page, (size_t)at);
            memcpy(out + at, snippet, sizeof(snippet) - 1);
            memcpy(out + at + sizeof(snippet) - 1, page + at, len - (size_t)at);
            free(out);
        }
        double mbps = (double)len * reps / 1e6 / ((double)(now() - t0) / 1e9);
        if (mbps > best)
            best = mbps;
    }
    return best;
}

/* ---- one request's record ---------------------------------------------------------------- */

static sqlite3 *db;

static enum MHD_Result app(void *cls, struct MHD_Connection *con, const char *url,
                           const char *method, const char *version, const char *upload_data,
                           size_t *upload_data_size, void **req_cls)
{
    sqlite3_stmt *st;
    (void)cls, (void)url, (void)method, (void)version, (void)upload_data;
    (void)upload_data_size, (void)req_cls;
    sqlite3_prepare_v2(db, "SELECT id, name, age FROM cat WHERE id = ?", -1, &st, NULL);
    for (int i = 1; i <= 10; i++) {
        sqlite3_bind_int(st, 1, i);
        while (dtb_sqlite3_step(st) == SQLITE_ROW)
            ;
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(2, (void *)"[]", MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(con, 200, r);
    MHD_destroy_response(r);
    return ret;
}

static size_t sink(char *p, size_t s, size_t n, void *u)
{
    (void)p, (void)u;
    return s * n;
}

static char last_id[17];

static size_t header_cb(char *p, size_t s, size_t n, void *u)
{
    (void)u;
    if (s * n > 20 && strncasecmp(p, "X-Debug-Toolbar-Id: ", 20) == 0)
        snprintf(last_id, sizeof(last_id), "%.16s", p + 20);
    return s * n;
}

/* ns per GET of url over one keep-alive connection, best of ROUNDS x count. */
static double per_get(CURL *c, const char *url, int count)
{
    double best = 1e30;
    curl_easy_setopt(c, CURLOPT_URL, url);
    for (int r = 0; r < ROUNDS; r++) {
        int64_t t0 = now();
        for (int i = 0; i < count; i++)
            curl_easy_perform(c);
        double ns = (double)(now() - t0) / count;
        if (ns < best)
            best = ns;
    }
    return best;
}

int main(void)
{
    size_t len, xlen;
    char *page = big_page(&len, 0), *xpage = big_page(&xlen, 1);
    printf("injection on the 1 MB page (best of %d):\n", ROUNDS);
    printf("  HTML5 body-end finder + splice   %8.0f MB/s\n", inject_mbps(page, len, 0));
    printf("  XHTML (libxml2 check) + splice   %8.0f MB/s\n", inject_mbps(xpage, xlen, 1));
    free(page);
    free(xpage);

    char path[] = "/tmp/dtb-micro-XXXXXX", url[160];
    int fd = mkstemp(path);
    close(fd);
    sqlite3_open(path, &db);
    sqlite3_exec(
        db,
        "CREATE TABLE cat(id INTEGER PRIMARY KEY, name TEXT NOT NULL, age INTEGER NOT NULL);"
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) "
        "INSERT INTO cat SELECT i, 'cat-' || i, i % 20 FROM n;",
        NULL, NULL, NULL);
    dtb_sqlite_attach(db);
    struct dtb_error err = {0};
    struct MHD_Daemon *d[2];
    struct dtb_toolbar *tb[2];
    const char *conf[2] = {"{\"enabled\": true}", "{\"enabled\": true, \"hosts\": [\"10.9.9.9\"]}"};
    unsigned port[2];
    for (int k = 0; k < 2; k++) {
        tb[k] = dtb_toolbar_create_from_string(conf[k], "micro", &err);
        if (tb[k] == NULL || dtb_toolbar_start(tb[k], &err) != DTB_OK) {
            char msg[300];
            fprintf(stderr, "micro: %s\n", dtb_error_format(&err, msg, sizeof(msg)));
            return 1;
        }
        struct sockaddr_in sa = {0};
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        d[k] = dtb_start_daemon(tb[k], MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, app, NULL,
                                MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
        port[k] = MHD_get_daemon_info(d[k], MHD_DAEMON_INFO_BIND_PORT)->port;
    }
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    double on = 1e30, off = 1e30;
    for (int r = 0; r < 3; r++) { /* interleaved */
        snprintf(url, sizeof(url), "http://127.0.0.1:%u/api", port[1]);
        double x = per_get(c, url, 2000);
        off = x < off ? x : off;
        snprintf(url, sizeof(url), "http://127.0.0.1:%u/api", port[0]);
        x = per_get(c, url, 2000);
        on = x < on ? x : on;
    }
    /* building: the first read of a record builds its JSON; a second read only copies it.
     * Read straight from the store, so no HTTP is in the figure. */
    double first = 0, second = 0;
    int n = 0;
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/api", port[0]);
    curl_easy_setopt(c, CURLOPT_URL, url);
    for (int i = 0; i < 200; i++) {
        curl_easy_perform(c);
        usleep(1000); /* completion runs after the response is sent */
        struct dtbi_store *st = tb[0]->store;
        int64_t t0 = now();
        char *a = st->ops->get(st, last_id);
        int64_t t1 = now();
        char *b = st->ops->get(st, last_id);
        int64_t t2 = now();
        if (a != NULL && b != NULL) {
            first += (double)(t1 - t0);
            second += (double)(t2 - t1);
            n++;
        }
        free(a);
        free(b);
    }
    printf("one request of 10 point SELECTs, over HTTP keep-alive (best of %d x 2000):\n", ROUNDS);
    printf("  toolbar off for the client     %8.1f us/request\n", off / 1e3);
    printf("  toolbar on (recording)         %8.1f us/request (+%.1f us)\n", on / 1e3,
           (on - off) / 1e3);
    if (n > 0)
        printf("  building its record (first read)   %6.1f us (mean of %d; a second read, "
               "which only copies it: %.1f us)\n",
               first / n / 1e3, n, second / n / 1e3);
    curl_easy_cleanup(c);
    for (int k = 0; k < 2; k++) {
        MHD_stop_daemon(d[k]);
        dtb_toolbar_destroy(tb[k]);
    }
    dtb_sqlite_detach(db);
    sqlite3_close(db);
    unlink(path);
    return 0;
}
