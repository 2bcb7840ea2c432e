/*
 * test_stress.c - many clients at once against a wrapped MHD app, in each of MHD's thread
 * models: every response must be the app's page plus the toolbar, byte for byte; every stored
 * record must be complete and its SQL must carry its own request's marker (nothing attributed to
 * the wrong request); the history must hold exactly history_size records; no request may fail.
 *
 *   test_stress [THREADS REQUESTS]     defaults 4 x 300 per mode (`make check`);
 *                                      `make stress` runs 8 x 20000 (STRESS_THREADS/REQUESTS)
 * Built under ThreadSanitizer too (configure --enable-tsan), where it is the one test run.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <microhttpd.h>
#include <debugtoolbar.h>
#include <debugtoolbar/mhd.h>
#include <debugtoolbar/sql.h>

#define HISTORY 16

/* one connection per MHD thread, closed when the thread ends, as apps do */
static pthread_key_t db_key;
static char dbfile[64];

static void close_db(void *p)
{
    dtb_sqlite_detach(p);
    sqlite3_close(p);
}

static void page_of(long n, char *out, size_t cap)
{
    snprintf(out, cap, "<!DOCTYPE html><html><head><title>r%ld</title></head><body><p>request %ld"
                       "</p></body></html>", n, n);
}

static enum MHD_Result app(void *cls, struct MHD_Connection *con, const char *url,
                           const char *method, const char *version, const char *upload_data,
                           size_t *upload_data_size, void **req_cls)
{
    char page[256];
    long n = strtol(url + 1, NULL, 10);
    sqlite3_stmt *st;
    (void)cls, (void)method, (void)version, (void)upload_data, (void)upload_data_size;
    (void)req_cls;
    sqlite3 *db = pthread_getspecific(db_key);
    if (db == NULL) {
        sqlite3_open_v2(dbfile, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
        dtb_sqlite_attach(db);
        pthread_setspecific(db_key, db);
    }
    /* the request's own marker goes through SQL: the record must show this one */
    if (sqlite3_prepare_v2(db, "SELECT ? AS marker", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, n);
        while (dtb_sqlite3_step(st) == SQLITE_ROW)
            ;
        sqlite3_finalize(st);
    }
    page_of(n, page, sizeof(page));
    char *body = strdup(page);
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body,
                                                             MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", "text/html");
    enum MHD_Result ret = MHD_queue_response(con, 200, r);
    MHD_destroy_response(r);
    return ret;
}

struct body {
    char *data;
    size_t len;
};

static size_t on_data(char *p, size_t s, size_t n, void *u)
{
    struct body *b = u;
    char *d = realloc(b->data, b->len + s * n + 1);
    if (d == NULL)
        return 0;
    memcpy(d + b->len, p, s * n);
    b->data = d;
    b->len += s * n;
    d[b->len] = '\0';
    return s * n;
}

struct client {
    unsigned port;
    long first, count;
    long bad;
    long last_n[HISTORY];
    char last_id[HISTORY][17];
};

static const char *snippet_re_start = "<dtb-toolbar id=\"dtb-root\" data-id=\"";

static void *client(void *arg)
{
    struct client *c = arg;
    CURL *h = curl_easy_init();
    char url[128], page[256], want[1024];
    struct body b = {0};
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    for (long i = 0; i < c->count; i++) {
        long n = c->first + i;
        snprintf(url, sizeof(url), "http://127.0.0.1:%u/%ld", c->port, n);
        curl_easy_setopt(h, CURLOPT_URL, url);
        b.len = 0;
        long code = 0;
        CURLcode cc = curl_easy_perform(h);
        if (cc != CURLE_OK || curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK ||
            code != 200 || b.data == NULL) {
            if (c->bad++ == 0)
                fprintf(stderr, "stress: %s: %s, status %ld\n", url, curl_easy_strerror(cc), code);
            continue;
        }
        /* the page plus the toolbar before </body>, byte for byte, with its own id */
        const char *s = strstr(b.data, snippet_re_start);
        if (s == NULL) {
            if (c->bad++ == 0)
                fprintf(stderr, "stress: %s: no toolbar in %.300s\n", url, b.data);
            continue;
        }
        char id[17];
        snprintf(id, sizeof(id), "%.16s", s + strlen(snippet_re_start));
        page_of(n, page, sizeof(page));
        char *end = strstr(page, "</body>");
        snprintf(want, sizeof(want),
                 "%.*s<dtb-toolbar id=\"dtb-root\" data-id=\"%s\" data-prefix=\"/_debug_toolbar\">"
                 "</dtb-toolbar>",
                 (int)(end - page), page, id);
        if (strncmp(b.data, want, strlen(want)) != 0 ||
            strcmp(b.data + b.len - strlen("</body></html>"), "</body></html>") != 0) {
            c->bad++;
            continue;
        }
        c->last_n[i % HISTORY] = n;
        memcpy(c->last_id[i % HISTORY], id, 17);
    }
    free(b.data);
    curl_easy_cleanup(h);
    return NULL;
}

static int get_json(unsigned port, const char *path, json_t **out)
{
    CURL *h = curl_easy_init();
    char url[160];
    struct body b = {0};
    long code = 0;
    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(h);
    if (out != NULL)
        *out = code == 200 && b.data != NULL ? json_loads(b.data, 0, NULL) : NULL;
    free(b.data);
    return (int)code;
}

/* Someone looking at the toolbar while the load runs: lists the history and opens records and
 * panels, so records are built while others are being stored and evicted. */
struct viewer {
    unsigned port;
    atomic_int stop;
    long views;
};

static int get_json(unsigned port, const char *path, json_t **out);

static void *viewer(void *arg)
{
    struct viewer *v = arg;
    while (!atomic_load(&v->stop)) {
        json_t *list = NULL, *rec = NULL;
        char path[128];
        get_json(v->port, "/_debug_toolbar/api/requests", &list);
        const char *id = json_string_value(json_object_get(json_array_get(list, 0), "id"));
        if (id != NULL) {
            snprintf(path, sizeof(path), "/_debug_toolbar/api/requests/%s", id);
            get_json(v->port, path, &rec);
            snprintf(path, sizeof(path), "/_debug_toolbar/api/requests/%s/panels/sql", id);
            get_json(v->port, path, NULL);
            v->views++;
        }
        json_decref(rec);
        json_decref(list);
        usleep(2000);
    }
    return NULL;
}

static int run_mode(const char *name, unsigned flags, unsigned pool, int threads, long requests)
{
    struct dtb_error err = {0};
    char conf[128];
    int failures = 0;
    snprintf(conf, sizeof(conf), "{\"enabled\": true, \"history_size\": %d}", HISTORY);
    struct dtb_toolbar *tb = dtb_toolbar_create_from_string(conf, "stress", &err);
    if (tb == NULL || dtb_toolbar_start(tb, &err) != DTB_OK)
        return 1;
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d =
        pool > 0 ? dtb_start_daemon(tb, flags, 0, NULL, NULL, app, NULL, MHD_OPTION_SOCK_ADDR, &sa,
                                    MHD_OPTION_THREAD_POOL_SIZE, pool, MHD_OPTION_END)
                 : dtb_start_daemon(tb, flags, 0, NULL, NULL, app, NULL, MHD_OPTION_SOCK_ADDR, &sa,
                                    MHD_OPTION_END);
    if (d == NULL)
        return 1;
    unsigned port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
    struct client *cs = calloc((size_t)threads, sizeof(*cs));
    pthread_t *ts = calloc((size_t)threads, sizeof(*ts));
    time_t t0 = time(NULL);
    struct viewer v = {.port = port};
    pthread_t vt;
    pthread_create(&vt, NULL, viewer, &v);
    for (int i = 0; i < threads; i++) {
        cs[i].port = port;
        cs[i].first = 1 + (long)i * requests;
        cs[i].count = requests;
        pthread_create(&ts[i], NULL, client, &cs[i]);
    }
    long bad = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(ts[i], NULL);
        bad += cs[i].bad;
    }
    atomic_store(&v.stop, 1);
    pthread_join(vt, NULL);
    usleep(200000); /* completion runs after the last response */
    if (bad > 0) {
        printf("stress %s: %ld responses were not the page plus the toolbar\n", name, bad);
        failures++;
    }
    /* the history holds exactly HISTORY records, each complete and attributed */
    json_t *list = NULL;
    get_json(port, "/_debug_toolbar/api/requests", &list);
    if (json_array_size(list) != HISTORY) {
        printf("stress %s: history holds %zu records, not %d\n", name, json_array_size(list), HISTORY);
        failures++;
    }
    size_t i;
    json_t *row;
    json_array_foreach(list, i, row)
    {
        char path[64];
        json_t *rec = NULL;
        snprintf(path, sizeof(path), "/_debug_toolbar/api/requests/%s",
                 json_string_value(json_object_get(row, "id")));
        get_json(port, path, &rec);
        const char *rpath = json_string_value(json_object_get(rec, "path"));
        long n = rpath != NULL ? strtol(rpath + 1, NULL, 10) : -1;
        json_t *sql = json_object_get(json_object_get(rec, "panels"), "sql");
        json_t *q = json_array_get(json_object_get(sql, "queries"), 0);
        json_t *marker = json_array_get(json_object_get(q, "params"), 0);
        if (rec == NULL || json_integer_value(json_object_get(sql, "count")) != 1 ||
            json_integer_value(marker) != n || json_object_get(json_object_get(rec, "panels"), "timer") == NULL ||
            !json_is_true(json_object_get(rec, "completed"))) {
            printf("stress %s: record %s is incomplete or not its own (path /%ld)\n", name,
                   json_string_value(json_object_get(row, "id")), n);
            failures++;
        }
        json_decref(rec);
    }
    json_decref(list);
    printf("stress %s: %d clients x %ld requests in %lds (the toolbar opened %ld times meanwhile), "
           "%s\n",
           name, threads, requests, (long)(time(NULL) - t0), v.views,
           failures ? "FAILED" : "all correct");
    MHD_stop_daemon(d);
    dtb_toolbar_destroy(tb);
    free(cs);
    free(ts);
    return failures;
}

int main(int argc, char **argv)
{
    int threads = argc > 2 ? atoi(argv[1]) : 4;
    long requests = argc > 2 ? atol(argv[2]) : 300;
    int failures = 0;
    snprintf(dbfile, sizeof(dbfile), "/tmp/dtb-stress-XXXXXX");
    int fd = mkstemp(dbfile);
    if (fd < 0)
        return 1;
    close(fd);
    sqlite3 *init;
    sqlite3_open(dbfile, &init);
    sqlite3_exec(init, "CREATE TABLE t(x)", NULL, NULL, NULL);
    sqlite3_close(init);
    curl_global_init(CURL_GLOBAL_ALL);
    pthread_key_create(&db_key, close_db);
    failures += run_mode("poll", MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, 0, threads, requests);
    failures += run_mode("pool", MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, 4, threads, requests);
    failures += run_mode("conn", MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
                         threads, requests);
    curl_global_cleanup();
    unlink(dbfile);
    return failures == 0 ? 0 : 1;
}
