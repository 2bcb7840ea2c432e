/*
 * petshop.c - the debugtoolbar demo: a pet shop on libmicrohttpd and SQLite.
 *
 *   petshop [--port N] [--bind ADDR] [--db FILE] [--config FILE] [--threads poll|pool|conn]
 *
 * The toolbar's config comes from --config, else $DTB_CONFIG, else the demo's own
 * petshop.json (toolbar enabled). The same file's "app" object holds the demo's settings.
 * Built with -DDTB_DISABLE (configure --disable-demo-toolbar) it makes no toolbar call at all.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "petshop.h"
#include <debugtoolbar/state.h>
#ifndef DTB_DISABLE
#include <debugtoolbar.h>
#include <debugtoolbar/sql.h>
#endif

#ifndef PETSHOP_DEFAULT_CONFIG
#define PETSHOP_DEFAULT_CONFIG "petshop.json"
#endif

static void usage(void)
{
    fprintf(stderr, "usage: petshop [--port N] [--bind ADDR] [--db FILE] [--config FILE] "
                    "[--threads poll|pool|conn]\n");
}

/* A POST to /login or /logout: the form's fields, read by MHD's post processor. */
struct form {
    struct MHD_PostProcessor *pp;
    char user[128];
    char password[128];
};

static enum MHD_Result form_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *filename, const char *content_type,
                                  const char *transfer_encoding, const char *data, uint64_t off,
                                  size_t size)
{
    struct form *f = cls;
    char *dst = NULL;
    size_t cap = 0;
    (void)kind, (void)filename, (void)content_type, (void)transfer_encoding;
    if (strcmp(key, "user") == 0) {
        dst = f->user;
        cap = sizeof(f->user);
    } else if (strcmp(key, "password") == 0) {
        dst = f->password;
        cap = sizeof(f->password);
    }
    if (dst != NULL && off < cap - 1) {
        size_t n = size < cap - 1 - off ? size : cap - 1 - off;
        memcpy(dst + off, data, n);
        dst[off + n] = '\0';
    }
    return MHD_YES;
}

static void completed(void *cls, struct MHD_Connection *con, void **req_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct form *f = *req_cls;
    (void)cls, (void)con, (void)toe;
    if (f != NULL) {
        if (f->pp != NULL)
            MHD_destroy_post_processor(f->pp);
        free(f);
        *req_cls = NULL;
    }
}

static enum MHD_Result post(struct MHD_Connection *con, const char *url, const char *upload,
                            size_t *upload_size, void **req_cls)
{
    struct form *f = *req_cls;
    if (f == NULL) {
        f = calloc(1, sizeof(*f));
        if (f == NULL)
            return MHD_NO;
        *req_cls = f;
        f->pp = MHD_create_post_processor(con, 4096, form_field, f);
        return MHD_YES; /* MHD calls again with the body */
    }
    if (*upload_size > 0) {
        if (f->pp != NULL)
            MHD_post_process(f->pp, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(url, "/login") == 0)
        return pages_login(con, f->user, f->password);
    return pages_logout(con);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *con, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **req_cls)
{
    (void)cls, (void)version;
    if (strcmp(method, "POST") == 0 && (strcmp(url, "/login") == 0 || strcmp(url, "/logout") == 0))
        return post(con, url, upload, upload_size, req_cls);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        static const char msg[] = "method not allowed\n";
        struct MHD_Response *r =
            MHD_create_response_from_buffer(sizeof(msg) - 1, (void *)msg, MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
        enum MHD_Result ret = MHD_queue_response(con, MHD_HTTP_METHOD_NOT_ALLOWED, r);
        MHD_destroy_response(r);
        return ret;
    }
    return pages_handle(con, url);
}

int main(int argc, char **argv)
{
    unsigned port = 8080;
    const char *bind_addr = "127.0.0.1", *db = "petshop.db", *config = NULL, *threads = "pool";
    struct sockaddr_in sa4;
    struct sockaddr_in6 sa6;
    struct sockaddr *sa;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;
    unsigned pool = 0;
    struct MHD_Daemon *d;
    sigset_t set;
    int sig;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL) {
            usage();
            return 2;
        }
        if (strcmp(a, "--port") == 0)
            port = (unsigned)strtoul(v, NULL, 10);
        else if (strcmp(a, "--bind") == 0)
            bind_addr = v;
        else if (strcmp(a, "--db") == 0)
            db = v;
        else if (strcmp(a, "--config") == 0)
            config = v;
        else if (strcmp(a, "--threads") == 0)
            threads = v;
        else {
            usage();
            return 2;
        }
        i++;
    }
    if (port > 65535) {
        fprintf(stderr, "petshop: bad port %u\n", port);
        return 2;
    }
    if (strcmp(threads, "pool") == 0) {
        pool = 4;
    } else if (strcmp(threads, "conn") == 0) {
        flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION;
    } else if (strcmp(threads, "poll") != 0) {
        usage();
        return 2;
    }
    memset(&sa4, 0, sizeof(sa4));
    memset(&sa6, 0, sizeof(sa6));
    if (inet_pton(AF_INET, bind_addr, &sa4.sin_addr) == 1) {
        sa4.sin_family = AF_INET;
        sa4.sin_port = htons((uint16_t)port);
        sa = (struct sockaddr *)&sa4;
    } else if (inet_pton(AF_INET6, bind_addr, &sa6.sin6_addr) == 1) {
        sa6.sin6_family = AF_INET6;
        sa6.sin6_port = htons((uint16_t)port);
        sa = (struct sockaddr *)&sa6;
        flags |= MHD_USE_IPv6;
    } else {
        fprintf(stderr, "petshop: --bind takes an IP address, not \"%s\"\n", bind_addr);
        return 2;
    }
    if (config == NULL)
        config = getenv("DTB_CONFIG");
    if (config == NULL || config[0] == '\0')
        config = PETSHOP_DEFAULT_CONFIG;

    /* Block the stop signals before any thread starts, so sigwait gets them. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

#ifndef DTB_DISABLE
    struct dtb_error err = {0};
    char msg[400];
    struct dtb_toolbar *tb = dtb_toolbar_create(config, &err);
    if (tb == NULL || dtb_toolbar_start(tb, &err) != DTB_OK) {
        fprintf(stderr, "petshop: %s\n", dtb_error_format(&err, msg, sizeof(msg)));
        dtb_toolbar_destroy(tb);
        return 1;
    }
#endif
    /* The demo's own settings live in the same file under "app": the session store, the page
     * cache's timeouts, the database pool the SQL panel shows. */
    json_t *file = json_load_file(config, 0, NULL);
    json_t *app = json_object_get(file, "app");
    const json_t *it = json_object_get(json_object_get(app, "cache"), "index_timeout");
    if (json_is_integer(it) && json_integer_value(it) > 0)
        index_timeout = (long)json_integer_value(it);
    cache_init(json_object_get(app, "cache"));
    if (session_init(json_object_get(app, "session")) != 0) {
        json_decref(file);
#ifndef DTB_DISABLE
        dtb_toolbar_destroy(tb);
#endif
        return 1;
    }
#ifndef DTB_DISABLE
    dtb_sql_database(tb, "sqlite", db, json_object_get(app, "database"));
#endif
    json_decref(file);
    pages_routes();
    signal(SIGPIPE, SIG_IGN); /* a Redis that went away must not end the demo */
    if (db_init(db) != 0) {
#ifndef DTB_DISABLE
        dtb_toolbar_destroy(tb);
#endif
        return 1;
    }
    /* a pool size of 0 means none (MHD's polling thread, or a thread per connection); the
     * completion callback is needed in every mode (it frees a form's post processor) */
#ifndef DTB_DISABLE
    d = dtb_start_daemon(tb, flags, (uint16_t)port, NULL, NULL, handler, NULL, MHD_OPTION_SOCK_ADDR,
                         sa, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)pool,
                         MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_NOTIFY_COMPLETED, completed,
                         NULL, MHD_OPTION_END);
#else
    d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, handler, NULL, MHD_OPTION_SOCK_ADDR, sa,
                         MHD_OPTION_THREAD_POOL_SIZE, (unsigned)pool, MHD_OPTION_CONNECTION_TIMEOUT,
                         30u, MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
#endif
    if (d == NULL) {
        fprintf(stderr, "petshop: cannot listen on %s:%u\n", bind_addr, port);
        db_close_all();
#ifndef DTB_DISABLE
        dtb_toolbar_destroy(tb);
#endif
        return 1;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    if (sa->sa_family == AF_INET6)
        printf("petshop: serving on http://[%s]:%u/\n", bind_addr, (unsigned)di->port);
    else
        printf("petshop: serving on http://%s:%u/\n", bind_addr, (unsigned)di->port);
#ifndef DTB_DISABLE
    printf("petshop: debug toolbar %s\n", dtb_toolbar_enabled(tb) ? "on" : "off");
#endif
    fflush(stdout);
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    db_close_all();
    cache_free_all();
    session_shutdown();
    dtb_routes_clear();
#ifndef DTB_DISABLE
    dtb_toolbar_destroy(tb);
#endif
    return 0;
}
