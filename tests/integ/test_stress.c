/*
 * test_stress.c - many clients at once against a wrapped MHD app, in each of MHD's thread
 * models: every response must be the app's page plus the toolbar (element and script tag, with
 * the id of its X-Debug-Toolbar-Id header), byte for byte; every stored record must be complete
 * and its SQL must carry its own request's marker (nothing attributed to the wrong request), and
 * its id must be the one that request's response carried; the history must hold exactly
 * history_size records; no request may fail. Meanwhile a viewer opens the newest record and its
 * SQL panel: each answer must be that request's, or a 404 JSON error once it was evicted.
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
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <debugtoolbar.h>
#include <debugtoolbar/mhd.h>
#include <debugtoolbar/sql.h>
#include <microhttpd.h>

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
    snprintf(out, cap,
             "<!DOCTYPE html><html><head><title>r%ld</title></head><body><p>request %ld"
             "</p></body></html>",
             n, n);
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
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
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

/* the X-Debug-Toolbar-Id response header into a char[17] ("" when absent or malformed) */
static size_t on_header(char *p, size_t s, size_t n, void *u)
{
    static const char name[] = "X-Debug-Toolbar-Id:";
    char *id = u;
    size_t len = s * n;
    if (len > sizeof(name) - 1 && strncasecmp(p, name, sizeof(name) - 1) == 0) {
        const char *v = p + sizeof(name) - 1;
        const char *end = p + len;
        while (v < end && *v == ' ')
            v++;
        size_t vl = (size_t)(end - v);
        while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n'))
            vl--;
        if (vl == 16) {
            memcpy(id, v, 16);
            id[16] = '\0';
        }
    }
    return len;
}

/* Sets h to collect a response's body into b and its X-Debug-Toolbar-Id into id (17 bytes). */
static void collect_into(CURL *h, struct body *b, char *id)
{
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, (void *)id);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
}

/* The toolbar's markup, read from one reference response: MARKUP_START + the request's id +
 * after_id + the id again + MARKUP_END goes right before the page's </body>. Read-only once
 * the clients start. */
static const char MARKUP_START[] = "<dtb-toolbar id=\"dtb-root\" data-id=\"";
static const char MARKUP_MIDDLE[] = "\"></dtb-toolbar>"
                                    "<script src=\"/_debug_toolbar/static/toolbar.js?v=";
static const char MARKUP_ID_AGAIN[] = "\" data-id=\"";
static const char MARKUP_END[] = "\" async=\"async\"></script>";
static char after_id[256];    /* MARKUP_MIDDLE + the script's version + MARKUP_ID_AGAIN */
static char reference_id[17]; /* the reference request's (/0) */

struct client {
    unsigned port;
    long first, count;
    long bad;
    char (*ids)[17]; /* ids[i]: the toolbar id request first + i was answered with ("" if wrong) */
};

/* the whole body the client must get for request n with toolbar id id, into want (NUL-ended);
 * its length, or 0 when it does not fit */
static size_t expected_body(long n, const char *id, char *want, size_t cap)
{
    char page[256];
    page_of(n, page, sizeof(page));
    const char *end = strstr(page, "</body>");
    int w = snprintf(want, cap, "%.*s%s%s%s%s%s%s", (int)(end - page), page, MARKUP_START, id,
                     after_id, id, MARKUP_END, end);
    return w > 0 && (size_t)w < cap ? (size_t)w : 0;
}

static void *client(void *arg)
{
    struct client *c = arg;
    CURL *h = curl_easy_init();
    char url[128], want[1024], id[17];
    struct body b = {0};
    collect_into(h, &b, id);
    for (long i = 0; i < c->count; i++) {
        long n = c->first + i;
        snprintf(url, sizeof(url), "http://127.0.0.1:%u/%ld", c->port, n);
        curl_easy_setopt(h, CURLOPT_URL, url);
        b.len = 0;
        id[0] = '\0';
        long code = 0;
        CURLcode cc = curl_easy_perform(h);
        if (cc != CURLE_OK || curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK ||
            code != 200 || b.data == NULL) {
            if (c->bad++ == 0)
                fprintf(stderr, "stress: %s: %s, status %ld\n", url, curl_easy_strerror(cc), code);
            continue;
        }
        /* the page plus the toolbar (element and script) before </body>, byte for byte, with
         * the id its X-Debug-Toolbar-Id header gives */
        size_t wlen = id[0] != '\0' ? expected_body(n, id, want, sizeof(want)) : 0;
        if (wlen == 0 || b.len != wlen || memcmp(b.data, want, wlen) != 0) {
            if (c->bad++ == 0)
                fprintf(stderr, "stress: %s (id '%s'): got\n  %.*s\nwanted\n  %s\n", url, id,
                        (int)(b.len < 600 ? b.len : 600), b.data, wlen ? want : "(no id)");
            continue;
        }
        memcpy(c->ids[i], id, 17);
    }
    free(b.data);
    curl_easy_cleanup(h);
    return NULL;
}

/* GET path: its status, body (malloc'd, NUL-ended, may be NULL) and Content-Type. */
static long fetch(unsigned port, const char *path, char **body, char *ctype, size_t ctcap)
{
    CURL *h = curl_easy_init();
    char url[160];
    struct body b = {0};
    long code = 0;
    char *ct = NULL;
    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    if (ctype != NULL) {
        ctype[0] = '\0';
        if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct != NULL)
            snprintf(ctype, ctcap, "%s", ct);
    }
    curl_easy_cleanup(h);
    *body = b.data;
    return code;
}

static int get_json(unsigned port, const char *path, json_t **out)
{
    char *body = NULL;
    long code = fetch(port, path, &body, NULL, 0);
    if (out != NULL)
        *out = code == 200 && body != NULL ? json_loads(body, 0, NULL) : NULL;
    free(body);
    return (int)code;
}

/* Someone looking at the toolbar while the load runs: lists the history and opens records and
 * panels, so records are built while others are being stored and evicted. Each answer must be
 * right: the list a JSON array of at most HISTORY rows; a record its own request's (id, path,
 * SQL marker), or a 404 JSON error once evicted; a panel an HTML fragment, or that 404. */
struct viewer {
    unsigned port;
    atomic_int stop;
    long views, evicted, bad;
};

static void viewer_fail(struct viewer *v, const char *what, const char *path, long code,
                        const char *body)
{
    if (v->bad++ == 0)
        fprintf(stderr, "stress viewer: %s: %s answered %ld: %.300s\n", what, path, code,
                body != NULL ? body : "(no body)");
}

/* a 404 for an evicted id: {"error": "unknown or expired request id"} as JSON */
static int is_evicted(long code, const char *body, const char *ctype)
{
    json_t *j = code == 404 && body != NULL ? json_loads(body, 0, NULL) : NULL;
    int ok = j != NULL && strcmp(ctype, "application/json") == 0 &&
             json_is_string(json_object_get(j, "error")) &&
             strcmp(json_string_value(json_object_get(j, "error")),
                    "unknown or expired request id") == 0;
    json_decref(j);
    return ok;
}

static void view_once(struct viewer *v)
{
    char path[128], ctype[128];
    char *body = NULL;
    long code = fetch(v->port, "/_debug_toolbar/api/requests", &body, ctype, sizeof(ctype));
    json_t *list = code == 200 && body != NULL ? json_loads(body, 0, NULL) : NULL;
    if (!json_is_array(list) || json_array_size(list) > HISTORY ||
        strcmp(ctype, "application/json") != 0) {
        viewer_fail(v, "the history list", "/_debug_toolbar/api/requests", code, body);
        goto out;
    }
    free(body);
    body = NULL;
    json_t *row = json_array_get(list, 0);
    const char *id = json_string_value(json_object_get(row, "id"));
    const char *rpath = json_string_value(json_object_get(row, "path"));
    if (row == NULL)
        goto out; /* nothing stored yet */
    if (id == NULL || strlen(id) != 16 || rpath == NULL || rpath[0] != '/') {
        viewer_fail(v, "a history row", "/_debug_toolbar/api/requests", code, "(bad row)");
        goto out;
    }
    long n = strtol(rpath + 1, NULL, 10);
    snprintf(path, sizeof(path), "/_debug_toolbar/api/requests/%s", id);
    code = fetch(v->port, path, &body, ctype, sizeof(ctype));
    if (code == 200) {
        json_t *rec = body != NULL ? json_loads(body, 0, NULL) : NULL;
        json_t *q = json_array_get(
            json_object_get(json_object_get(json_object_get(rec, "panels"), "sql"), "queries"), 0);
        const char *got = json_string_value(json_object_get(rec, "id"));
        const char *gpath = json_string_value(json_object_get(rec, "path"));
        if (rec == NULL || got == NULL || strcmp(got, id) != 0 || gpath == NULL ||
            strcmp(gpath, rpath) != 0 ||
            json_integer_value(json_array_get(json_object_get(q, "params"), 0)) != n ||
            !json_is_true(json_object_get(rec, "completed")) ||
            strcmp(ctype, "application/json") != 0)
            viewer_fail(v, "a record that is not its own request's", path, code, body);
        json_decref(rec);
    } else if (is_evicted(code, body, ctype)) {
        v->evicted++;
    } else {
        viewer_fail(v, "a record", path, code, body);
    }
    free(body);
    body = NULL;
    snprintf(path, sizeof(path), "/_debug_toolbar/api/requests/%s/panels/sql", id);
    code = fetch(v->port, path, &body, ctype, sizeof(ctype));
    if (code == 200) {
        char marker[64]; /* its one query's parameter: the request's own number */
        snprintf(marker, sizeof(marker), "params <code>[%ld]</code>", n);
        if (body == NULL || strncmp(body, "<p><strong>1</strong> query in", 30) != 0 ||
            strstr(body, marker) == NULL || strncmp(ctype, "text/html", 9) != 0)
            viewer_fail(v, "the SQL panel", path, code, body);
    } else if (is_evicted(code, body, ctype)) {
        v->evicted++;
    } else {
        viewer_fail(v, "the SQL panel", path, code, body);
    }
    v->views++;
out:
    free(body);
    json_decref(list);
}

static void *viewer(void *arg)
{
    struct viewer *v = arg;
    /* until stopped, and at least one record opened (bounded: 500 more tries after stop) */
    for (int after = 0; !atomic_load(&v->stop) || (v->views == 0 && after++ < 500);) {
        view_once(v);
        usleep(2000);
    }
    return NULL;
}

/* One reference request: the toolbar's markup for this toolbar, checked against its known
 * shape, with the script's version read from it; and that script is served. */
static int read_markup(unsigned port)
{
    char path[256], ctype[128], *js = NULL;
    char want_head[256], page[256];
    CURL *h = curl_easy_init();
    char url[128], id[17] = "";
    struct body b = {0};
    long code = 0;
    int ok = 0;
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/0", port);
    curl_easy_setopt(h, CURLOPT_URL, url);
    collect_into(h, &b, id);
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(h);
    page_of(0, page, sizeof(page));
    const char *end = strstr(page, "</body>");
    size_t head = (size_t)(end - page), tail = strlen(end);
    snprintf(want_head, sizeof(want_head), "%.*s%s%s%s", (int)head, page, MARKUP_START, id,
             MARKUP_MIDDLE);
    if (code != 200 || b.data == NULL || strlen(id) != 16 ||
        strncmp(b.data, want_head, strlen(want_head)) != 0 || b.len < strlen(want_head) + tail ||
        strcmp(b.data + b.len - tail, end) != 0) {
        printf("stress: the reference page is not the page plus the toolbar: %ld, id '%s', "
               "%.600s\n",
               code, id, b.data ? b.data : "(none)");
        goto out;
    }
    /* the script's version (hex), then the same id on the script and the tag's end */
    const char *v = b.data + strlen(want_head);
    size_t rest = b.len - tail - strlen(want_head), vlen = strspn(v, "0123456789abcdef");
    char want_rest[128];
    snprintf(want_rest, sizeof(want_rest), "%s%s%s", MARKUP_ID_AGAIN, id, MARKUP_END);
    if (vlen < 8 || rest != vlen + strlen(want_rest) ||
        strncmp(v + vlen, want_rest, strlen(want_rest)) != 0) {
        printf("stress: the reference page's script tag is not the toolbar's: %.600s\n", b.data);
        goto out;
    }
    snprintf(after_id, sizeof(after_id), "%s%.*s%s", MARKUP_MIDDLE, (int)vlen, v, MARKUP_ID_AGAIN);
    memcpy(reference_id, id, sizeof(reference_id));
    /* the script the tag names is served */
    snprintf(path, sizeof(path), "/_debug_toolbar/static/toolbar.js?v=%.*s", (int)vlen, v);
    code = fetch(port, path, &js, ctype, sizeof(ctype));
    if (code != 200 || js == NULL || strlen(js) < 1000 || strstr(ctype, "javascript") == NULL) {
        printf("stress: the toolbar's script %s answered %ld (%s)\n", path, code, ctype);
        goto out;
    }
    ok = 1;
out:
    free(b.data);
    free(js);
    return ok;
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
    if (!read_markup(port)) {
        MHD_stop_daemon(d);
        dtb_toolbar_destroy(tb);
        return 1;
    }
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
        cs[i].ids = calloc((size_t)requests, sizeof(*cs[i].ids));
        if (cs[i].ids == NULL)
            return 1;
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
    if (v.bad > 0 || v.views == 0) {
        printf("stress %s: the toolbar opened %ld times while the load ran, %ld answers wrong\n",
               name, v.views, v.bad);
        failures++;
    }
    /* the history holds exactly HISTORY records, each complete and attributed: its SQL marker
     * is its path's, and its id is the one the client got that request's page with (records are
     * stored in completion order, which is not the clients' order: any request may be there) */
    json_t *list = NULL;
    get_json(port, "/_debug_toolbar/api/requests", &list);
    if (json_array_size(list) != HISTORY) {
        printf("stress %s: history holds %zu records, not %d\n", name, json_array_size(list),
               HISTORY);
        failures++;
    }
    size_t i;
    json_t *row;
    json_array_foreach(list, i, row)
    {
        char path[64];
        json_t *rec = NULL;
        const char *id = json_string_value(json_object_get(row, "id"));
        snprintf(path, sizeof(path), "/_debug_toolbar/api/requests/%s", id ? id : "none");
        get_json(port, path, &rec);
        const char *rpath = json_string_value(json_object_get(rec, "path"));
        long n = rpath != NULL ? strtol(rpath + 1, NULL, 10) : -1;
        json_t *sql = json_object_get(json_object_get(rec, "panels"), "sql");
        json_t *q = json_array_get(json_object_get(sql, "queries"), 0);
        json_t *marker = json_array_get(json_object_get(q, "params"), 0);
        if (rec == NULL || json_integer_value(json_object_get(sql, "count")) != 1 ||
            json_integer_value(marker) != n ||
            json_object_get(json_object_get(rec, "panels"), "timer") == NULL ||
            !json_is_true(json_object_get(rec, "completed"))) {
            printf("stress %s: record %s is incomplete or not its own (path /%ld)\n", name, id, n);
            failures++;
        }
        const char *got = n == 0 ? reference_id
                          : n >= 1 && n <= (long)threads * requests
                              ? cs[(n - 1) / requests].ids[(n - 1) % requests]
                              : "";
        if (id == NULL || strcmp(got, id) != 0) {
            printf("stress %s: record %s (path /%ld) is not the request the client got with "
                   "that id (it got '%s')\n",
                   name, id, n, got);
            failures++;
        }
        json_decref(rec);
    }
    json_decref(list);
    printf("stress %s: %d clients x %ld requests in %lds (the toolbar opened %ld times meanwhile, "
           "%ld of its records or panels already evicted), %s\n",
           name, threads, requests, (long)(time(NULL) - t0), v.views, v.evicted,
           failures ? "FAILED" : "all correct");
    MHD_stop_daemon(d);
    dtb_toolbar_destroy(tb);
    for (int i = 0; i < threads; i++)
        free(cs[i].ids);
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
    failures +=
        run_mode("poll", MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, 0, threads, requests);
    failures +=
        run_mode("pool", MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, 4, threads, requests);
    failures += run_mode("conn", MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
                         threads, requests);
    curl_global_cleanup();
    unlink(dbfile);
    return failures == 0 ? 0 : 1;
}
