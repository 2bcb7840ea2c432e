/*
 * plain_app.c - an ordinary libmicrohttpd + SQLite program that knows nothing of the toolbar
 * (it never includes its headers and does not link it), for dtb-run's tests.
 *
 *   plain_app DB MODE PORT [METRICS_PORT]      MODE: poll | pool | conn; PORT 0: any
 *
 * Prints "port N" (and "metrics N") once listening on 127.0.0.1, then serves until SIGTERM:
 *   /         an HTML page that runs two SQLite queries
 *   /cached   one response object built at start and queued for every request
 *   /legacy   an HTML page whose response has MHD_RF_HTTP_1_0_SERVER set
 *   /json     JSON
 *   /fd /pipe /iovec   HTML pages from a file descriptor (read and injected), a pipe
 *             (injected as it streams by) and an iovec (a body the toolbar cannot see: it must
 *             pass through untouched)
 *   /stats    JSON: completions seen by its own notify-completed callback and whether each
 *             one got back the req_cls its handler set; calls of its own URI-log callback and
 *             first handler calls that found that callback's pointer (so it ran first)
 * With METRICS_PORT a second daemon there serves an HTML page at /metrics.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>
#include <sqlite3.h>

static const char *db_path;
static struct MHD_Response *cached;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long completions, req_cls_mismatches, uri_logs, first_after_uri_log;
static int uri_tag; /* what the URI-log callback returns: the request's first req_cls */
static char fd_path[256];

static const char CACHED[] = "<!DOCTYPE html><html><head><title>Cached</title></head><body>"
                             "<p>one response object for every request</p></body></html>";

static void completed(void *cls, struct MHD_Connection *con, void **req_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)con, (void)toe;
    if (*req_cls == NULL || *req_cls == &uri_tag)
        return; /* a request its handler never saw (the toolbar's own URLs) */
    pthread_mutex_lock(&lock);
    completions++;
    if (*req_cls != cls)
        req_cls_mismatches++;
    pthread_mutex_unlock(&lock);
    *req_cls = NULL;
}

static void *uri_log(void *cls, const char *uri, struct MHD_Connection *con)
{
    (void)cls, (void)uri, (void)con;
    pthread_mutex_lock(&lock);
    uri_logs++;
    pthread_mutex_unlock(&lock);
    return &uri_tag;
}

static const char STREAMED[] = "<!DOCTYPE html><html><body><p>not a buffer</p></body></html>";

static enum MHD_Result send_unbuffered(struct MHD_Connection *con, const char *url)
{
    struct MHD_Response *r = NULL;
    if (strcmp(url, "/fd") == 0) {
        int fd = open(fd_path, O_RDONLY);
        if (fd >= 0)
            r = MHD_create_response_from_fd((size_t)(sizeof(STREAMED) - 1), fd);
    } else if (strcmp(url, "/pipe") == 0) {
        int p[2];
        if (pipe(p) == 0) {
            if (write(p[1], STREAMED, sizeof(STREAMED) - 1) != (ssize_t)(sizeof(STREAMED) - 1))
                return MHD_NO;
            close(p[1]);
            r = MHD_create_response_from_pipe(p[0]);
        }
    } else {
        static const struct MHD_IoVec parts[2] = {{STREAMED, 20},
                                                  {STREAMED + 20, sizeof(STREAMED) - 1 - 20}};
        r = MHD_create_response_from_iovec(parts, 2, NULL, NULL);
    }
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "text/html");
    enum MHD_Result ret = MHD_queue_response(con, 200, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_text(struct MHD_Connection *con, const char *type, char *text,
                                 int legacy)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", type);
    if (legacy)
        MHD_set_response_options(r, MHD_RF_HTTP_1_0_SERVER, MHD_RO_END);
    enum MHD_Result ret = MHD_queue_response(con, 200, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *con, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **req_cls)
{
    (void)method, (void)version, (void)upload, (void)upload_size;
    if (*req_cls == &uri_tag || *req_cls == NULL) { /* first call: its own req_cls */
        pthread_mutex_lock(&lock);
        if (*req_cls == &uri_tag)
            first_after_uri_log++;
        pthread_mutex_unlock(&lock);
        *req_cls = cls;
        return MHD_YES;
    }
    if (strcmp(url, "/fd") == 0 || strcmp(url, "/pipe") == 0 || strcmp(url, "/iovec") == 0)
        return send_unbuffered(con, url);
    if (strcmp(url, "/cached") == 0)
        return MHD_queue_response(con, 200, cached);
    if (strcmp(url, "/json") == 0)
        return send_text(con, "application/json", strdup("{\"ok\": true}"), 0);
    if (strcmp(url, "/stats") == 0) {
        char buf[256];
        pthread_mutex_lock(&lock);
        snprintf(buf, sizeof(buf),
                 "{\"completions\": %ld, \"req_cls_mismatches\": %ld, \"uri_logs\": %ld, "
                 "\"first_after_uri_log\": %ld}",
                 completions, req_cls_mismatches, uri_logs, first_after_uri_log);
        pthread_mutex_unlock(&lock);
        return send_text(con, "application/json", strdup(buf), 0);
    }
    if (strcmp(url, "/legacy") == 0)
        return send_text(con, "text/html",
                         strdup("<html><body><p>HTTP/1.0 server</p></body></html>"), 1);
    if (strcmp(url, "/metrics") == 0)
        return send_text(con, "text/html", strdup("<html><body><p>metrics</p></body></html>"), 0);
    /* "/": two queries on a connection opened per request */
    sqlite3 *db;
    sqlite3_stmt *st;
    long count = -1;
    char name[64] = "?";
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        if (sqlite3_prepare_v2(db, "SELECT count(*) FROM pet", -1, &st, NULL) == SQLITE_OK) {
            if (sqlite3_step(st) == SQLITE_ROW)
                count = sqlite3_column_int(st, 0);
            sqlite3_finalize(st);
        }
        if (sqlite3_prepare_v2(db, "SELECT name FROM pet WHERE id = ?", -1, &st, NULL) ==
            SQLITE_OK) {
            sqlite3_bind_int(st, 1, 2);
            if (sqlite3_step(st) == SQLITE_ROW)
                snprintf(name, sizeof(name), "%s", (const char *)sqlite3_column_text(st, 0));
            sqlite3_finalize(st);
        }
    }
    sqlite3_close(db);
    char *page = malloc(256);
    snprintf(page, 256,
             "<!DOCTYPE html><html><head><title>Pets</title></head><body>"
             "<p>%ld pets; pet 2 is %s</p></body></html>",
             count, name);
    return send_text(con, "text/html; charset=utf-8", page, 0);
}

static struct MHD_Daemon *start(unsigned flags, unsigned pool, void *tag, const char *port)
{
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)atoi(port));
    return MHD_start_daemon(flags, 0, NULL, NULL, handler, tag, MHD_OPTION_SOCK_ADDR, &sa,
                            MHD_OPTION_THREAD_POOL_SIZE, pool, MHD_OPTION_URI_LOG_CALLBACK, uri_log,
                            NULL, MHD_OPTION_NOTIFY_COMPLETED, completed, tag, MHD_OPTION_END);
}

int main(int argc, char **argv)
{
    static int main_tag, metrics_tag;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, pool = 0;
    sigset_t set;
    int sig;
    if (argc < 4) {
        fprintf(stderr, "usage: plain_app DB poll|pool|conn PORT [METRICS_PORT]\n");
        return 2;
    }
    db_path = argv[1];
    snprintf(fd_path, sizeof(fd_path), "%s.page", db_path);
    FILE *f = fopen(fd_path, "w");
    if (f == NULL || fputs(STREAMED, f) < 0 || fclose(f) != 0)
        return 1;
    if (strcmp(argv[2], "pool") == 0)
        pool = 3;
    else if (strcmp(argv[2], "conn") == 0)
        flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    cached =
        MHD_create_response_from_buffer(sizeof(CACHED) - 1, (void *)CACHED, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(cached, "Content-Type", "text/html");
    struct MHD_Daemon *d = start(flags, pool, &main_tag, argv[3]), *m = NULL;
    if (d == NULL)
        return 1;
    printf("port %u\n", (unsigned)MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port);
    if (argc > 4) {
        m = start(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, 0, &metrics_tag, argv[4]);
        if (m == NULL)
            return 1;
        printf("metrics %u\n", (unsigned)MHD_get_daemon_info(m, MHD_DAEMON_INFO_BIND_PORT)->port);
    }
    fflush(stdout);
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    if (m != NULL)
        MHD_stop_daemon(m);
    MHD_destroy_response(cached);
    return 0;
}
