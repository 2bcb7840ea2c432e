/*
 * test_redis_fork.c - the Redis history store in workers forked after the toolbar started (the
 * prefork model), against a real redis-server this test starts itself on a Unix socket (and
 * stops by PID): each worker writes through its own writer and connection, also when it was
 * forked while its parent's writer was inside a Redis call. Not run under ThreadSanitizer,
 * which cannot follow a threaded process's fork.
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

#include "redis_node.h"

#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#else
#define UNDER_TSAN 0
#endif

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

int main(void)
{
    int setup = redis_setup();
    if (setup != 0)
        return setup;
    Suite *s = suite_create("redis");
    TCase *tc = tcase_create("store");
    tcase_set_timeout(tc, 60);
    if (!UNDER_TSAN) { /* ThreadSanitizer cannot follow a threaded process's fork */
        tcase_add_test(tc, test_forked_workers);
        tcase_add_test(tc, test_fork_while_writing);
    }
    suite_add_tcase(s, tc);
    return redis_run(s, "test_redis_fork");
}
