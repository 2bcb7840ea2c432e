/*
 * test_redis_outage.c - the Redis history store when Redis fails, against a real redis-server
 * this test starts itself on a Unix socket (and stops or freezes by PID): no Redis at start,
 * then Redis back; Redis killed mid-run, then restarted; Redis closing the connection in the
 * middle of a big write; a frozen Redis. Every page is served, no record is lost (memory
 * fallback, listed as such) and records go back to Redis once it answers again.
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

int main(void)
{
    int setup = redis_setup();
    if (setup != 0)
        return setup;
    Suite *s = suite_create("redis");
    TCase *tc = tcase_create("store");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_redis_killed_and_back);
    tcase_add_test(tc, test_redis_frozen);
    tcase_add_test(tc, test_redis_absent_at_start);
    tcase_add_test(tc, test_redis_closes_mid_write);
    suite_add_tcase(s, tc);
    return redis_run(s, "test_redis_outage");
}
