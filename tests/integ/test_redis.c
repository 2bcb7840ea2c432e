/*
 * test_redis.c - the Redis history store against a real redis-server that this test starts
 * itself on a Unix socket in a temporary folder (and stops by PID): two toolbars in front of
 * two daemons share one Redis, so a request served by one is listed and rendered by the other;
 * the history is capped; Redis killed mid-run loses no page and no record (memory fallback),
 * and records go back to Redis once it is restarted; a frozen Redis costs each record one
 * bounded wait; requests completing at once on a thread pool all reach Redis, each record its
 * own request's; workers forked after the toolbar started write through their own writer and
 * connection; a record changed in Redis after its SQL query was signed opens no SQL action
 * (other SQL or parameters are refused, a database the process did not register is unknown).
 * Skips (exit 77) when redis-server is not installed, saying so loudly.
 */
#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <debugtoolbar.h>
#include <debugtoolbar/mhd.h>
#include <debugtoolbar/sql.h>
#include <debugtoolbar/state.h>
#include <hiredis/hiredis.h>
#include <microhttpd.h>

#include "http.h"

#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#else
#define UNDER_TSAN 0
#endif

static char tmpdir[256];
static char sock[300];
static pid_t redis_pid;

/* Each test runs in a process of its own (Check forks), with a socket of its own; the PID of
 * each redis-server goes to a file, so that main() stops any that a failed test left. */
static void redis_start(void)
{
    char cmd_sock[320], pidfile[320];
    snprintf(sock, sizeof(sock), "%s/redis-%d.sock", tmpdir, (int)getpid());
    snprintf(cmd_sock, sizeof(cmd_sock), "%s", sock);
    redis_pid = fork();
    if (redis_pid > 0) {
        FILE *f;
        snprintf(pidfile, sizeof(pidfile), "%s/redis-%d.pid", tmpdir, (int)redis_pid);
        if ((f = fopen(pidfile, "w")) != NULL)
            fclose(f);
    }
    if (redis_pid == 0) {
        freopen("/dev/null", "w", stdout);
        execlp("redis-server", "redis-server", "--port", "0", "--unixsocket", cmd_sock, "--save",
               "", "--appendonly", "no", "--dir", tmpdir, (char *)NULL);
        _exit(127);
    }
    /* ready when it accepts a connection: the socket file appears at bind(), a moment
     * before listen(), and a connection then is refused */
    for (int i = 0; i < 500; i++) {
        struct sockaddr_un su = {0};
        int fd = socket(AF_UNIX, SOCK_STREAM, 0), ok;
        su.sun_family = AF_UNIX;
        ck_assert_uint_lt(strlen(sock), sizeof(su.sun_path));
        memcpy(su.sun_path, sock, strlen(sock) + 1);
        ok = fd >= 0 && connect(fd, (struct sockaddr *)&su, sizeof(su)) == 0;
        if (fd >= 0)
            close(fd);
        if (ok)
            return;
        usleep(10000);
    }
    ck_abort_msg("redis-server did not start");
}

static void redis_stop(void)
{
    char pidfile[320];
    if (redis_pid > 0) {
        kill(redis_pid, SIGCONT);
        kill(redis_pid, SIGTERM);
        waitpid(redis_pid, NULL, 0);
        snprintf(pidfile, sizeof(pidfile), "%s/redis-%d.pid", tmpdir, (int)redis_pid);
        unlink(pidfile);
        redis_pid = 0;
        unlink(sock);
    }
}

/* Stops the redis-servers that failed tests left running (by the PIDs they wrote down) and
 * removes the temporary folder. Returns how many there were. */
static int redis_cleanup(void)
{
    int left = 0;
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    char path[600];
    while (d != NULL && (e = readdir(d)) != NULL) {
        int pid;
        if (sscanf(e->d_name, "redis-%d.pid", &pid) == 1 && pid > 0) {
            kill(pid, SIGCONT);
            kill(pid, SIGTERM);
            left++;
        }
        if (e->d_name[0] != '.') {
            snprintf(path, sizeof(path), "%s/%s", tmpdir, e->d_name);
            unlink(path);
        }
    }
    if (d != NULL)
        closedir(d);
    rmdir(tmpdir);
    return left;
}

static const char PAGE[] = "<html><body><p>shared</p></body></html>";
static sqlite3 *app_db; /* the app's SQLite database, in the tests that use one */

static enum MHD_Result app(void *cls, struct MHD_Connection *con, const char *url,
                           const char *method, const char *version, const char *upload_data,
                           size_t *upload_data_size, void **req_cls)
{
    if (strcmp(url, "/huge") == 0) { /* a record of about 3 MB */
        static char line[16000];
        memset(line, 'x', sizeof(line) - 1);
        for (int i = 0; i < 200; i++)
            dtb_log(DTB_LOG_INFO, "%s", line);
    }
    if (strcmp(url, "/sql") == 0 && app_db != NULL) {
        sqlite3_stmt *st;
        sqlite3_prepare_v2(app_db, "SELECT name FROM pet WHERE id = ?", -1, &st, NULL);
        sqlite3_bind_int(st, 1, 1);
        while (dtb_sqlite3_step(st) == SQLITE_ROW)
            ;
        sqlite3_finalize(st);
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(PAGE), (void *)PAGE, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Content-Type", "text/html");
    enum MHD_Result ret = MHD_queue_response(con, 200, r);
    MHD_destroy_response(r);
    return ret;
}

struct node {
    struct dtb_toolbar *tb;
    struct MHD_Daemon *d;
    char base[64];
};

/* Tests that are not about a slow Redis give each Redis call 5 s: on a loaded machine (a
 * sanitizer build beside a browser test) a round trip can pass the 50 ms default, and the
 * record would then rightly go to memory, which is not what those tests look at. */
#define PATIENT 5000

/* Starts a toolbar and a daemon in front of app: MHD's internal polling thread, or a pool of
 * pool threads when pool > 1. */
static void node_start_full(struct node *n, unsigned timeout_ms, unsigned pool, const char *extra)
{
    char cfg[1024];
    struct dtb_error err = {0};
    char msg[300];
    snprintf(cfg, sizeof(cfg),
             "{\"enabled\": true, \"store\": \"unix:%s\", \"secret_key\": "
             "\"0123456789abcdef-shared\", \"store_prefix\": \"dtbtest\", "
             "\"store_timeout_ms\": %u%s}",
             sock, timeout_ms, extra ? extra : "");
    n->tb = dtb_toolbar_create_from_string(cfg, "redis-test", &err);
    ck_assert_msg(n->tb != NULL, "%s", dtb_error_format(&err, msg, sizeof(msg)));
    ck_assert_msg(dtb_toolbar_start(n->tb, &err) == DTB_OK, "%s",
                  dtb_error_format(&err, msg, sizeof(msg)));
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    n->d = dtb_start_daemon(n->tb, MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, app, NULL,
                            MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_THREAD_POOL_SIZE,
                            pool > 1 ? pool : 1, MHD_OPTION_END);
    ck_assert_ptr_nonnull(n->d);
    snprintf(n->base, sizeof(n->base), "http://127.0.0.1:%u",
             (unsigned)MHD_get_daemon_info(n->d, MHD_DAEMON_INFO_BIND_PORT)->port);
}

static void node_start_timeout(struct node *n, unsigned timeout_ms, const char *extra)
{
    node_start_full(n, timeout_ms, 1, extra);
}

static void node_start(struct node *n, const char *extra)
{
    node_start_full(n, PATIENT, 1, extra);
}

static void node_stop(struct node *n)
{
    MHD_stop_daemon(n->d);
    dtb_toolbar_destroy(n->tb);
}

static char *hit(struct node *n)
{
    char url[128];
    struct http_resp r;
    snprintf(url, sizeof(url), "%s/", n->base);
    ck_assert_int_eq(http_get(url, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(http_count(&r, "<dtb-toolbar id=\"dtb-root\""), 1);
    char *id = http_header(&r, "X-Debug-Toolbar-Id");
    ck_assert_ptr_nonnull(id);
    http_resp_free(&r);
    return id;
}

static long fetch(struct node *n, const char *path, struct http_resp *r)
{
    char url[256];
    snprintf(url, sizeof(url), "%s/_debug_toolbar%s", n->base, path);
    ck_assert_int_eq(http_get(url, r), 0);
    return r->status;
}

/* Waits until node n can read request id (records are stored at completion). */
static void wait_record(struct node *n, const char *id)
{
    char path[128];
    struct http_resp r;
    snprintf(path, sizeof(path), "/api/requests/%s", id);
    for (int i = 0; i < 1000; i++) {
        long st = fetch(n, path, &r);
        http_resp_free(&r);
        if (st == 200)
            return;
        usleep(10000);
    }
    ck_abort_msg("record %s never became readable", id);
}

START_TEST(test_shared_between_processes)
{
    struct node a, b;
    struct http_resp r;
    char path[128];
    redis_start();
    node_start(&a, NULL);
    node_start(&b, NULL);
    char *id = hit(&a);
    wait_record(&b, id);
    ck_assert_int_eq(fetch(&b, "/api/requests", &r), 200);
    ck_assert_ptr_nonnull(strstr(r.body, id));
    http_resp_free(&r);
    snprintf(path, sizeof(path), "/api/requests/%s/panels/timer", id);
    ck_assert_int_eq(fetch(&b, path, &r), 200);
    http_resp_free(&r);
    free(id);
    node_stop(&a);
    node_stop(&b);
    redis_stop();
}
END_TEST

/* How many keys Redis holds under pattern. */
static int redis_count(const char *pattern)
{
    char cmd[600];
    int n = -1;
    snprintf(cmd, sizeof(cmd), "redis-cli -s '%s' --scan --pattern '%s' | wc -l", sock, pattern);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    if (fscanf(p, "%d", &n) != 1)
        n = -1;
    pclose(p);
    return n;
}

START_TEST(test_history_capped)
{
    struct node a, b;
    struct http_resp r;
    char *ids[6], path[128];
    redis_start();
    node_start(&a, ", \"history_size\": 3");
    node_start(&b, ", \"history_size\": 3");
    for (int i = 0; i < 6; i++)
        ids[i] = hit(&a);
    wait_record(&b, ids[5]);
    ck_assert_int_eq(fetch(&a, "/api/requests", &r), 200);
    json_t *list = json_loads(r.body, 0, NULL);
    http_resp_free(&r);
    ck_assert_int_eq(json_array_size(list), 3);
    for (int i = 0; i < 3; i++) /* newest first */
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(list, i), "id")),
                         ids[5 - i]);
    json_decref(list);
    /* the evicted ones answer 404 with a JSON error, in every process, and are gone from
     * Redis: it holds the three listed records only */
    for (int i = 0; i < 6; i++) {
        snprintf(path, sizeof(path), "/api/requests/%s", ids[i]);
        for (int k = 0; k < 2; k++) {
            long st = fetch(k == 0 ? &a : &b, path, &r);
            ck_assert_msg(st == (i < 3 ? 404 : 200), "request %d from node %d: %ld", i, k, st);
            if (i < 3)
                ck_assert_ptr_nonnull(strstr(r.body, "\"error\""));
            http_resp_free(&r);
        }
        free(ids[i]);
    }
    ck_assert_int_eq(redis_count("dtbtest:req:*"), 3);
    node_stop(&a);
    node_stop(&b);
    redis_stop();
}
END_TEST

/* n's history lists id first, as kept in memory because Redis was not there. */
static void newest_kept_in_memory(struct node *n, const char *id)
{
    struct http_resp r;
    ck_assert_int_eq(fetch(n, "/api/requests", &r), 200);
    json_t *list = json_loads(r.body, 0, NULL);
    http_resp_free(&r);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 0), "id")), id);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 0), "store")),
                     "memory (Redis was unavailable)");
    json_decref(list);
}

START_TEST(test_redis_absent_at_start)
{
    /* No Redis when the toolbar starts: the pages are served, the records kept in memory and
     * listed as such; once Redis is there the records go to it (another process reads them). */
    struct node a, b;
    redis_start();
    redis_stop(); /* sets the socket path, and nothing listens on it */
    node_start(&a, NULL);
    char *id = hit(&a);
    wait_record(&a, id);
    newest_kept_in_memory(&a, id);
    free(id);
    redis_start();
    node_start(&b, NULL);
    usleep(1100000); /* past a's reconnect back-off */
    id = hit(&a);
    wait_record(&b, id);
    free(id);
    node_stop(&a);
    node_stop(&b);
    redis_stop();
}
END_TEST

START_TEST(test_ttl_expires)
{
    struct node a;
    struct http_resp r;
    char path[128];
    redis_start();
    node_start(&a, ", \"store_ttl\": 1");
    char *id = hit(&a);
    wait_record(&a, id);
    usleep(2200000);
    snprintf(path, sizeof(path), "/api/requests/%s", id);
    ck_assert_int_eq(fetch(&a, path, &r), 404);
    ck_assert_ptr_nonnull(strstr(r.body, "\"error\""));
    http_resp_free(&r);
    free(id);
    node_stop(&a);
    redis_stop();
}
END_TEST

START_TEST(test_redis_killed_and_back)
{
    struct node a, b;
    struct http_resp r;
    char path[128];
    redis_start();
    node_start(&a, NULL);
    node_start(&b, NULL);
    redis_stop();        /* Redis goes away mid-run */
    char *id = hit(&a);  /* the page is still served, with the toolbar */
    wait_record(&a, id); /* and its record kept in a's memory */
    ck_assert_int_eq(fetch(&a, "/api/requests", &r), 200);
    ck_assert_ptr_nonnull(strstr(r.body, "Redis was unavailable"));
    http_resp_free(&r);
    free(id);
    redis_start();
    usleep(1100000); /* past the reconnect back-off */
    id = hit(&a);
    wait_record(&b, id); /* stored in Redis again: the other process reads it */
    snprintf(path, sizeof(path), "/api/requests/%s", id);
    ck_assert_int_eq(fetch(&b, path, &r), 200);
    http_resp_free(&r);
    free(id);
    node_stop(&a);
    node_stop(&b);
    redis_stop();
}
END_TEST

START_TEST(test_redis_closes_mid_write)
{
    /* Redis drops the connection while a 3 MB record is being written to it (its bulk length
     * limit is 1 MB): the write fails with EPIPE. The app must not die of SIGPIPE, the page is
     * served, and the record is kept in memory. */
    struct node a;
    struct http_resp r;
    char cmd[512], url[128], path[128];
    redis_start();
    snprintf(cmd, sizeof(cmd), "redis-cli -s '%s' CONFIG SET proto-max-bulk-len 1048576 >/dev/null",
             sock);
    ck_assert_int_eq(system(cmd), 0);
    node_start(&a, ", \"record_max_bytes\": 8388608, \"history_max_bytes\": 67108864");
    snprintf(url, sizeof(url), "%s/huge", a.base);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(http_get(url, &r), 0);
        ck_assert_int_eq(r.status, 200);
        char *id = http_header(&r, "X-Debug-Toolbar-Id");
        http_resp_free(&r);
        ck_assert_ptr_nonnull(id);
        wait_record(&a, id);
        snprintf(path, sizeof(path), "/api/requests/%s", id);
        ck_assert_int_eq(fetch(&a, path, &r), 200);
        ck_assert_uint_gt(r.len, 3000000);
        http_resp_free(&r);
        free(id);
    }
    node_stop(&a);
    redis_stop();
}
END_TEST

START_TEST(test_redis_frozen)
{
    /* Redis stops answering (SIGSTOP) with the default 50 ms bound on each call: the pages are
     * served, the records wait out the bound once and are then kept in memory, listed as such,
     * and readable. Without the bound the store would hold its lock forever and the reads
     * below would never return. */
    struct node a;
    struct http_resp r;
    char path[128];
    redis_start();
    node_start_timeout(&a, 50, NULL);
    free(hit(&a)); /* connected */
    kill(redis_pid, SIGSTOP);
    char *id1 = hit(&a), *id2 = hit(&a);
    wait_record(&a, id1);
    wait_record(&a, id2);
    newest_kept_in_memory(&a, id2);
    snprintf(path, sizeof(path), "/api/requests/%s/panels/timer", id1);
    ck_assert_int_eq(fetch(&a, path, &r), 200);
    http_resp_free(&r);
    free(id1);
    free(id2);
    kill(redis_pid, SIGCONT);
    node_stop(&a);
    redis_stop();
}
END_TEST

/* A worker forked after the toolbar started (the prefork model): it serves with the toolbar it
 * inherited, and writes to Redis through its own writer and connection, not its parent's. */
static void worker(struct node *parent, int ready_fd, int quit_fd)
{
    struct sockaddr_in sa = {0};
    char c;
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d =
        dtb_start_daemon(parent->tb, MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, app, NULL,
                         MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
    unsigned port = d ? (unsigned)MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port : 0;
    if (write(ready_fd, &port, sizeof(port)) != (ssize_t)sizeof(port))
        _exit(2);
    while (read(quit_fd, &c, 1) > 0) /* until the parent closes the pipe */
        ;
    MHD_stop_daemon(d);
    dtb_toolbar_destroy(parent->tb);
    _exit(d != NULL ? 0 : 1);
}

START_TEST(test_forked_workers)
{
    struct node parent, reader;
    struct node w[2];
    pid_t pids[2];
    int quit[2];
    char path[128];
    struct http_resp r;
    redis_start();
    node_start(&parent, NULL);
    node_start(&reader, NULL);
    char *id = hit(&parent); /* the parent has its writer and connection before it forks */
    wait_record(&reader, id);
    free(id);
    ck_assert_int_eq(pipe(quit), 0);
    for (int i = 0; i < 2; i++) {
        int ready[2];
        unsigned port = 0;
        ck_assert_int_eq(pipe(ready), 0);
        pids[i] = fork();
        ck_assert_int_ge(pids[i], 0);
        if (pids[i] == 0) {
            close(ready[0]);
            close(quit[1]);
            worker(&parent, ready[1], quit[0]);
        }
        close(ready[1]);
        ck_assert_int_eq(read(ready[0], &port, sizeof(port)), (ssize_t)sizeof(port));
        close(ready[0]);
        ck_assert_uint_ne(port, 0);
        w[i] = parent;
        snprintf(w[i].base, sizeof(w[i].base), "http://127.0.0.1:%u", port);
    }
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 2; i++) {
            id = hit(&w[i]);
            wait_record(&reader, id); /* written to Redis by the worker */
            snprintf(path, sizeof(path), "/api/requests/%s/panels/timer", id);
            ck_assert_int_eq(fetch(&reader, path, &r), 200);
            http_resp_free(&r);
            free(id);
        }
    }
    id = hit(&parent); /* and the parent's own writer still works */
    wait_record(&reader, id);
    free(id);
    close(quit[1]);
    for (int i = 0; i < 2; i++) {
        int st = -1;
        ck_assert_int_eq(waitpid(pids[i], &st, 0), pids[i]);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "worker %d ended with %d", i, st);
    }
    close(quit[0]);
    node_stop(&parent);
    node_stop(&reader);
    redis_stop();
}
END_TEST

/* A fork while the writer thread is inside a Redis call (Redis frozen, so the call waits): the
 * child must not inherit the store's lock held by a thread it does not have, or its own writer
 * would wait on it forever and its records would never reach Redis. */
START_TEST(test_fork_while_writing)
{
    struct node parent, reader, w;
    int quit[2], ready[2];
    unsigned port = 0;
    redis_start();
    node_start(&parent, NULL);
    node_start(&reader, NULL);
    char *id = hit(&parent);
    wait_record(&reader, id);
    free(id);
    kill(redis_pid, SIGSTOP);
    char *frozen = hit(&parent); /* queued: the writer takes the store's lock, waits for Redis */
    usleep(300000);
    pid_t waker = fork(); /* Redis answers again in 0.5 s, while fork waits for that lock */
    ck_assert_int_ge(waker, 0);
    if (waker == 0) {
        usleep(500000);
        kill(redis_pid, SIGCONT);
        _exit(0);
    }
    ck_assert_int_eq(pipe(quit), 0);
    ck_assert_int_eq(pipe(ready), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(ready[0]);
        close(quit[1]);
        worker(&parent, ready[1], quit[0]);
    }
    close(ready[1]);
    ck_assert_int_eq(read(ready[0], &port, sizeof(port)), (ssize_t)sizeof(port));
    close(ready[0]);
    ck_assert_uint_ne(port, 0);
    ck_assert_int_eq(waitpid(waker, NULL, 0), waker);
    kill(redis_pid, SIGCONT);
    wait_record(&reader, frozen); /* the parent's writer is through */
    free(frozen);
    usleep(1100000); /* past any retry pause the freeze may have caused (inherited by the child) */
    w = parent;
    snprintf(w.base, sizeof(w.base), "http://127.0.0.1:%u", port);
    id = hit(&w);
    wait_record(&reader, id); /* written to Redis by the child's own writer */
    free(id);
    close(quit[1]);
    int st = -1;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the worker ended with %d", st);
    close(quit[0]);
    node_stop(&parent);
    node_stop(&reader);
    redis_stop();
}
END_TEST

/* Many requests completing at once on a pool of MHD threads all queue for the one writer:
 * every record reaches Redis (another toolbar reads it) and is the record of its own request. */
#define CLIENTS 4
#define PER_CLIENT 40
struct client {
    const char *base;
    char *ids[PER_CLIENT];
    int t;
};

static void *client_main(void *arg)
{
    struct client *c = arg;
    char url[160];
    struct http_resp r;
    for (int i = 0; i < PER_CLIENT; i++) {
        c->ids[i] = NULL;
        snprintf(url, sizeof(url), "%s/?client=%d&n=%d", c->base, c->t, i);
        if (http_get(url, &r) != 0)
            continue;
        if (r.status == 200)
            c->ids[i] = http_header(&r, "X-Debug-Toolbar-Id");
        http_resp_free(&r);
    }
    return NULL;
}

START_TEST(test_concurrent_requests)
{
    struct node a, b;
    struct client cl[CLIENTS];
    pthread_t th[CLIENTS];
    char path[128], want[64];
    struct http_resp r;
    redis_start();
    node_start_full(&a, PATIENT, 4, ", \"history_size\": 500");
    node_start(&b, ", \"history_size\": 500");
    free(hit(&a)); /* libcurl's global set-up, before any thread */
    for (int t = 0; t < CLIENTS; t++) {
        cl[t].base = a.base;
        cl[t].t = t;
        ck_assert_int_eq(pthread_create(&th[t], NULL, client_main, &cl[t]), 0);
    }
    for (int t = 0; t < CLIENTS; t++)
        pthread_join(th[t], NULL);
    for (int t = 0; t < CLIENTS; t++) {
        for (int i = 0; i < PER_CLIENT; i++) {
            ck_assert_msg(cl[t].ids[i] != NULL, "client %d request %d failed", t, i);
            wait_record(&b, cl[t].ids[i]);
            snprintf(path, sizeof(path), "/api/requests/%s", cl[t].ids[i]);
            ck_assert_int_eq(fetch(&b, path, &r), 200);
            json_t *rec = json_loads(r.body, 0, NULL);
            http_resp_free(&r);
            snprintf(want, sizeof(want), "[[\"client\",\"%d\"],[\"n\",\"%d\"]]", t, i);
            char *q =
                json_dumps(json_object_get(
                               json_object_get(json_object_get(rec, "panels"), "request"), "query"),
                           JSON_COMPACT | JSON_ENCODE_ANY);
            ck_assert_msg(q != NULL && strcmp(q, want) == 0, "record %s has query %s, not %s",
                          cl[t].ids[i], q ? q : "(none)", want);
            free(q);
            json_decref(rec);
            free(cl[t].ids[i]);
        }
    }
    /* the shared history lists them all, with the one before them */
    ck_assert_int_eq(fetch(&b, "/api/requests", &r), 200);
    json_t *list = json_loads(r.body, 0, NULL);
    http_resp_free(&r);
    ck_assert_int_eq(json_array_size(list), CLIENTS * PER_CLIENT + 1);
    json_decref(list);
    node_stop(&a);
    node_stop(&b);
    redis_stop();
}
END_TEST

START_TEST(test_needs_secret_key)
{
    char cfg[512];
    struct dtb_error err = {0};
    snprintf(cfg, sizeof(cfg), "{\"enabled\": true,\n \"store\": \"unix:%s\"}", sock);
    struct dtb_toolbar *tb = dtb_toolbar_create_from_string(cfg, "cfg.json", &err);
    ck_assert_ptr_nonnull(tb);
    ck_assert_int_eq(dtb_toolbar_start(tb, &err), DTB_ECONFIG);
    ck_assert_str_eq(err.key, "secret_key");
    ck_assert_int_eq(err.line, 2);
    ck_assert_int_eq(dtb_toolbar_enabled(tb), 0);
    dtb_toolbar_destroy(tb);
}
END_TEST

/* A SQLite file at path holding sql. */
static void sqlite_file(const char *path, const char *sql)
{
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* POSTs a SQL action to n for query index of request id, with sig. */
static long sql_action(struct node *n, const char *action, const char *id, int index,
                       const char *sig, struct http_resp *r)
{
    char url[256], body[512];
    snprintf(url, sizeof(url), "%s/_debug_toolbar/panels/sql/%s", n->base, action);
    snprintf(body, sizeof(body), "{\"request\": \"%s\", \"query\": %d, \"sig\": \"%s\"}", id, index,
             sig);
    static const char *const json[] = {"Content-Type: application/json", NULL};
    ck_assert_int_eq(http_request("POST", url, json, body, r), 0);
    return r->status;
}

/* Replaces the stored record of id with rec, as anyone who can write the store could. */
static void redis_put_record(redisContext *c, const char *id, const json_t *rec)
{
    char key[64], *text = json_dumps(rec, JSON_COMPACT);
    ck_assert_ptr_nonnull(text);
    snprintf(key, sizeof(key), "dtbtest:req:%s", id);
    redisReply *reply = redisCommand(c, "SET %s %s", key, text);
    ck_assert_ptr_nonnull(reply);
    ck_assert_int_eq(reply->type, REDIS_REPLY_STATUS);
    freeReplyObject(reply);
    free(text);
}

START_TEST(test_tampered_sql_action)
{
    struct node a;
    struct http_resp r;
    char path[300], other[300], pgdir[300], pgsock[400], conninfo[600];
    redis_start();
    node_start(&a, NULL);
    snprintf(path, sizeof(path), "%s/app-%d.sqlite", tmpdir, (int)getpid());
    snprintf(other, sizeof(other), "%s/other-%d.sqlite", tmpdir, (int)getpid());
    sqlite_file(path, "CREATE TABLE pet(id INTEGER PRIMARY KEY, name TEXT);"
                      "INSERT INTO pet VALUES (1, 'rex'), (2, 'tom');"
                      "CREATE TABLE secret(v TEXT); INSERT INTO secret VALUES ('top-secret-row');");
    sqlite_file(other, "CREATE TABLE pet(id INTEGER PRIMARY KEY, name TEXT);"
                       "INSERT INTO pet VALUES (1, 'other-db-row');");
    ck_assert_int_eq(sqlite3_open(path, &app_db), SQLITE_OK);
    ck_assert_int_eq(dtb_sqlite_attach(app_db), DTB_OK);
    char url[128];
    snprintf(url, sizeof(url), "%s/sql", a.base);
    ck_assert_int_eq(http_get(url, &r), 0);
    char *id = http_header(&r, "X-Debug-Toolbar-Id");
    http_resp_free(&r);
    ck_assert_ptr_nonnull(id);
    wait_record(&a, id);

    redisContext *c = redisConnectUnix(sock);
    ck_assert(c != NULL && c->err == 0);
    char key[64];
    snprintf(key, sizeof(key), "dtbtest:req:%s", id);
    redisReply *reply = redisCommand(c, "GET %s", key);
    ck_assert(reply != NULL && reply->type == REDIS_REPLY_STRING);
    json_t *orig = json_loads(reply->str, 0, NULL);
    freeReplyObject(reply);
    ck_assert_ptr_nonnull(orig);
    json_t *q = json_array_get(
        json_object_get(json_object_get(json_object_get(orig, "panels"), "sql"), "queries"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(q, "sql")),
                     "SELECT name FROM pet WHERE id = ?");
    const char *sig = json_string_value(json_object_get(q, "sig"));
    ck_assert_ptr_nonnull(sig);
    /* the record names its database by key, not by path */
    ck_assert_ptr_null(strstr(json_string_value(json_object_get(q, "db")), "/"));

    /* untampered: the re-run works */
    ck_assert_int_eq(sql_action(&a, "select", id, 0, sig, &r), 200);
    ck_assert_ptr_nonnull(strstr(r.body, "\"rows\":[[\"rex\"]]"));
    http_resp_free(&r);

    /* other SQL in the record, with the query's own signature: refused, not run */
    json_t *bad = json_deep_copy(orig);
    json_t *bq = json_array_get(
        json_object_get(json_object_get(json_object_get(bad, "panels"), "sql"), "queries"), 0);
    json_object_set_new(bq, "sql", json_string("SELECT v FROM secret WHERE 1 = ?"));
    redis_put_record(c, id, bad);
    for (int k = 0; k < 2; k++) {
        ck_assert_int_eq(sql_action(&a, k == 0 ? "select" : "explain", id, 0, sig, &r), 403);
        ck_assert_ptr_null(strstr(r.body, "top-secret-row"));
        http_resp_free(&r);
    }
    json_decref(bad);
    /* other parameters: refused */
    bad = json_deep_copy(orig);
    bq = json_array_get(
        json_object_get(json_object_get(json_object_get(bad, "panels"), "sql"), "queries"), 0);
    json_object_set_new(bq, "params", json_pack("[i]", 2));
    redis_put_record(c, id, bad);
    ck_assert_int_eq(sql_action(&a, "select", id, 0, sig, &r), 403);
    ck_assert_ptr_null(strstr(r.body, "tom"));
    http_resp_free(&r);
    json_decref(bad);
    /* another SQLite file as the database: unknown to this process, never opened */
    bad = json_deep_copy(orig);
    bq = json_array_get(
        json_object_get(json_object_get(json_object_get(bad, "panels"), "sql"), "queries"), 0);
    json_object_set_new(bq, "db", json_string(other));
    redis_put_record(c, id, bad);
    ck_assert_int_eq(sql_action(&a, "select", id, 0, sig, &r), 404);
    ck_assert_ptr_null(strstr(r.body, "other-db-row"));
    ck_assert_ptr_nonnull(strstr(r.body, "unknown database"));
    http_resp_free(&r);
    json_decref(bad);
    /* a PostgreSQL conninfo pointing at a socket of the test's: unknown, never connected to
     * (connect_timeout bounds the attempt that the toolbar must not make) */
    snprintf(pgdir, sizeof(pgdir), "%s/pg-%d", tmpdir, (int)getpid());
    ck_assert_int_eq(mkdir(pgdir, 0700), 0);
    snprintf(pgsock, sizeof(pgsock), "%s/.s.PGSQL.5999", pgdir);
    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_un su = {0};
    su.sun_family = AF_UNIX;
    ck_assert_uint_lt(strlen(pgsock), sizeof(su.sun_path));
    memcpy(su.sun_path, pgsock, strlen(pgsock) + 1);
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&su, sizeof(su)), 0);
    ck_assert_int_eq(listen(lfd, 4), 0);
    snprintf(conninfo, sizeof(conninfo), "host=%s port=5999 dbname=x connect_timeout=2", pgdir);
    bad = json_deep_copy(orig);
    bq = json_array_get(
        json_object_get(json_object_get(json_object_get(bad, "panels"), "sql"), "queries"), 0);
    json_object_set_new(bq, "engine", json_string("postgresql"));
    json_object_set_new(bq, "db", json_string(conninfo));
    json_object_set_new(bq, "params", json_pack("[s]", "1")); /* as libpq's text parameters */
    redis_put_record(c, id, bad);
    ck_assert_int_eq(sql_action(&a, "select", id, 0, sig, &r), 404);
    http_resp_free(&r);
    int cfd = accept(lfd, NULL, NULL);
    ck_assert_msg(cfd < 0, "the toolbar connected to a conninfo taken from the record");
    close(lfd);
    unlink(pgsock);
    rmdir(pgdir);
    json_decref(bad);

    /* the record as it was signed works again */
    redis_put_record(c, id, orig);
    ck_assert_int_eq(sql_action(&a, "select", id, 0, sig, &r), 200);
    ck_assert_ptr_nonnull(strstr(r.body, "rex"));
    http_resp_free(&r);
    json_decref(orig);
    redisFree(c);
    free(id);
    node_stop(&a);
    dtb_sqlite_detach(app_db);
    sqlite3_close(app_db);
    app_db = NULL;
    unlink(path);
    unlink(other);
    redis_stop();
}
END_TEST

int main(void)
{
    if (system("command -v redis-server >/dev/null 2>&1") != 0) {
        fprintf(stderr, "\n*** SKIP: redis-server is not installed (apt-get install "
                        "redis-server); the Redis store is NOT tested ***\n\n");
        return 77;
    }
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/dtb-redis-XXXXXX");
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(sock, sizeof(sock), "%s/redis.sock", tmpdir);
    Suite *s = suite_create("redis");
    TCase *tc = tcase_create("store");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_shared_between_processes);
    tcase_add_test(tc, test_history_capped);
    tcase_add_test(tc, test_ttl_expires);
    tcase_add_test(tc, test_redis_killed_and_back);
    tcase_add_test(tc, test_redis_frozen);
    tcase_add_test(tc, test_redis_absent_at_start);
    tcase_add_test(tc, test_concurrent_requests);
    if (!UNDER_TSAN) { /* ThreadSanitizer cannot follow a threaded process's fork */
        tcase_add_test(tc, test_forked_workers);
        tcase_add_test(tc, test_fork_while_writing);
    }
    tcase_add_test(tc, test_needs_secret_key);
    tcase_add_test(tc, test_redis_closes_mid_write);
    tcase_add_test(tc, test_tampered_sql_action);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (redis_cleanup() > 0)
        fprintf(stderr, "test_redis: stopped redis-servers that failed tests left running\n");
    return failed == 0 ? 0 : 1;
}
