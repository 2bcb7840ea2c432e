/*
 * sql_capture.c - nanoseconds added per SQL query by the toolbar's SQLite capture.
 *
 * In one process: a toolbar-wrapped MHD app serves one request whose handler runs N point
 * SELECTs (one prepared statement, reset and re-bound each time, as an app would) on a
 * connection attached to the toolbar, then N on a connection that is not; the difference per
 * query is what capture costs. The traced run is made twice, with the default config and with
 * panel_options.sql.capture_params off (a second toolbar before a second daemon), which shows
 * what reading the bound parameters (sqlite3_expanded_sql) costs, and a third time with
 * panel_options.sql.stacks on, which shows what taking each query's return addresses with libunwind
 * costs (the call site of a program without the dtb_sqlite3_step macro). Each figure is the best of
 * a few rounds, measured in the same run (shared machines are noisy). A request of 100,000 queries
 * also pays for its query and span lists' growth (fresh pages, page faults), so the default config
 * is measured a second way too, as pages are served: SMALL_REQUESTS requests of SMALL_N queries,
 * the per-query figure summed over them. Run with `make bench`.
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

#define N 100000
#define ROUNDS 5
#define SMALL_N 10
#define SMALL_REQUESTS 2000

static sqlite3 *traced, *plain;
static double ns_traced = 1e30, ns_plain = 1e30, ns_noparams = 1e30, ns_stacks = 1e30;
static double small_traced, small_plain; /* ns summed over the small requests */

/* The handler thread's CPU time: the queries run there, and the machine's other load (a shared
 * machine's builds) does not count. */
static int64_t now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double run(sqlite3 *db, int n)
{
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "SELECT id, name, age FROM cat WHERE id = ?", -1, &st, NULL);
    int64_t t0 = now();
    for (int i = 0; i < n; i++) {
        sqlite3_bind_int(st, 1, 1 + i % 1000);
        while (sqlite3_step(st) == SQLITE_ROW)
            ;
        sqlite3_reset(st);
    }
    int64_t t1 = now();
    sqlite3_finalize(st);
    return (double)(t1 - t0) / n;
}

static enum MHD_Result app(void *cls, struct MHD_Connection *con, const char *url,
                           const char *method, const char *version, const char *upload_data,
                           size_t *upload_data_size, void **req_cls)
{
    int is_traced = strcmp(url, "/traced") == 0 || strcmp(url, "/small-traced") == 0;
    if (strncmp(url, "/small-", 7) == 0) {
        double a = run(is_traced ? traced : plain, SMALL_N) * SMALL_N;
        *(is_traced ? &small_traced : &small_plain) += a;
    } else {
        double a = run(is_traced ? traced : plain, N);
        double *best = !is_traced         ? &ns_plain
                       : *(int *)cls == 1 ? &ns_noparams
                       : *(int *)cls == 2 ? &ns_stacks
                                          : &ns_traced;
        if (a < *best)
            *best = a;
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(2, (void *)"ok", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret = MHD_queue_response(con, 200, r);
    MHD_destroy_response(r);
    return ret;
}

static size_t sink(char *p, size_t s, size_t n, void *u)
{
    return s * n;
}

static void get(const char *url)
{
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_perform(c);
    curl_easy_cleanup(c);
}

/* One keep-alive connection for the small requests, as a browser's. */
static void get_many(const char *url, int times)
{
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    for (int i = 0; i < times; i++)
        curl_easy_perform(c);
    curl_easy_cleanup(c);
}

/* A database file of WORKLOAD.md's cats, opened with an exclusive lock so that the figures
 * are SQLite's and the toolbar's, not the file-locking system calls'. */
static sqlite3 *open_db(char *path)
{
    sqlite3 *db;
    int fd = mkstemp(path);
    close(fd);
    sqlite3_open(path, &db);
    sqlite3_exec(
        db,
        "PRAGMA locking_mode = EXCLUSIVE;"
        "CREATE TABLE cat(id INTEGER PRIMARY KEY, name TEXT NOT NULL, age INTEGER NOT NULL);"
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) "
        "INSERT INTO cat SELECT i, 'cat-' || i, i % 20 FROM n;",
        NULL, NULL, NULL);
    return db;
}

int main(void)
{
    char path[] = "/tmp/dtb-bench-XXXXXX", path2[] = "/tmp/dtb-bench-XXXXXX", url[128];
    struct dtb_error err = {0};
    traced = open_db(path);
    plain = open_db(path2);
    static const char *const cfgs[3] = {
        "{\"enabled\": true, \"record_max_bytes\": 16777216, \"history_max_bytes\": 67108864}",
        "{\"enabled\": true, \"record_max_bytes\": 16777216, \"history_max_bytes\": 67108864, "
        "\"panel_options\": {\"sql\": {\"capture_params\": false}}}",
        "{\"enabled\": true, \"record_max_bytes\": 16777216, \"history_max_bytes\": 67108864, "
        "\"panel_options\": {\"sql\": {\"stacks\": true}}}"};
    static int noparams[3] = {0, 1, 2};
    struct dtb_toolbar *tb[3];
    struct MHD_Daemon *d[3];
    unsigned port[3];
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int k = 0; k < 3; k++) {
        tb[k] = dtb_toolbar_create_from_string(cfgs[k], "bench", &err);
        dtb_toolbar_start(tb[k], &err);
        d[k] = dtb_start_daemon(tb[k], MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, app,
                                &noparams[k], MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
        port[k] = MHD_get_daemon_info(d[k], MHD_DAEMON_INFO_BIND_PORT)->port;
    }
    dtb_sqlite_attach(traced);         /* records into whichever toolbar's request is current */
    for (int r = 0; r < ROUNDS; r++) { /* interleaved, so drift hits all alike */
        snprintf(url, sizeof(url), "http://127.0.0.1:%u/plain", port[0]);
        get(url);
        snprintf(url, sizeof(url), "http://127.0.0.1:%u/traced", port[0]);
        get(url);
        snprintf(url, sizeof(url), "http://127.0.0.1:%u/traced", port[1]);
        get(url);
        snprintf(url, sizeof(url), "http://127.0.0.1:%u/traced", port[2]);
        get(url);
    }
    for (int r = 0; r < 2; r++) { /* interleaved halves */
        snprintf(url, sizeof(url), "http://127.0.0.1:%u/small-plain", port[0]);
        get_many(url, SMALL_REQUESTS / 2);
        snprintf(url, sizeof(url), "http://127.0.0.1:%u/small-traced", port[0]);
        get_many(url, SMALL_REQUESTS / 2);
    }
    printf("sql capture: %d point SELECTs, best of %d rounds\n", N, ROUNDS);
    printf("  untraced  %8.1f ns/query\n", ns_plain);
    printf("  traced    %8.1f ns/query\n", ns_traced);
    printf("  added     %8.1f ns/query (ratio traced/untraced %.2f)\n", ns_traced - ns_plain,
           ns_traced / ns_plain);
    printf("  with sql.capture_params off: traced %.1f ns/query, added %.1f ns/query\n",
           ns_noparams, ns_noparams - ns_plain);
    printf("  with panel_options.sql.stacks on: traced %.1f ns/query, added %.1f ns/query "
           "(%.1f ns for the stack)\n",
           ns_stacks, ns_stacks - ns_plain, ns_stacks - ns_traced);
    double sp = small_plain / (SMALL_REQUESTS * SMALL_N),
           st = small_traced / (SMALL_REQUESTS * SMALL_N);
    printf("  as pages are served (%d requests of %d queries, keep-alive): untraced %.1f, traced "
           "%.1f, added %.1f ns/query\n",
           SMALL_REQUESTS, SMALL_N, sp, st, st - sp);
    for (int k = 0; k < 3; k++) {
        MHD_stop_daemon(d[k]);
        dtb_toolbar_destroy(tb[k]);
    }
    dtb_sqlite_detach(traced);
    sqlite3_close(traced);
    sqlite3_close(plain);
    unlink(path);
    unlink(path2);
    return 0;
}
