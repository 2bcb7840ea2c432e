/*
 * redis_node.c - the helpers of the Redis store's integration tests (see redis_node.h): a real
 * redis-server started and stopped by PID, the app, the nodes in front of it, and the start and
 * end of each test program.
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

#include "redis_node.h"

char tmpdir[256];
char sock[300];
pid_t redis_pid;

/* Each test runs in a process of its own (Check forks), with a socket of its own; the PID of
 * each redis-server goes to a file, so that main() stops any that a failed test left. */
void redis_start(void)
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

void redis_stop(void)
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
sqlite3 *app_db;

enum MHD_Result app(void *cls, struct MHD_Connection *con, const char *url, const char *method,
                    const char *version, const char *upload_data, size_t *upload_data_size,
                    void **req_cls)
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

/* Starts a toolbar and a daemon in front of app: MHD's internal polling thread, or a pool of
 * pool threads when pool > 1. */
void node_start_full(struct node *n, unsigned timeout_ms, unsigned pool, const char *extra)
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

void node_start_timeout(struct node *n, unsigned timeout_ms, const char *extra)
{
    node_start_full(n, timeout_ms, 1, extra);
}

void node_start(struct node *n, const char *extra)
{
    node_start_full(n, PATIENT, 1, extra);
}

void node_stop(struct node *n)
{
    MHD_stop_daemon(n->d);
    dtb_toolbar_destroy(n->tb);
}

char *hit(struct node *n)
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

long fetch(struct node *n, const char *path, struct http_resp *r)
{
    char url[256];
    snprintf(url, sizeof(url), "%s/_debug_toolbar%s", n->base, path);
    ck_assert_int_eq(http_get(url, r), 0);
    return r->status;
}

/* Waits until node n can read request id (records are stored at completion). */
void wait_record(struct node *n, const char *id)
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

/* How many keys Redis holds under pattern. */
int redis_count(const char *pattern)
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

/* n's history lists id first, as kept in memory because Redis was not there. */
void newest_kept_in_memory(struct node *n, const char *id)
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

int redis_setup(void)
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
    return 0;
}

int redis_run(Suite *s, const char *name)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (redis_cleanup() > 0)
        fprintf(stderr, "%s: stopped redis-servers that failed tests left running\n", name);
    return failed == 0 ? 0 : 1;
}
