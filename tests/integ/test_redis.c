/*
 * test_redis.c - the Redis history store against a real redis-server that this test starts
 * itself on a Unix socket in a temporary folder (and stops by PID): two toolbars in front of
 * two daemons share one Redis, so a request served by one is listed and rendered by the other;
 * the history is capped; records expire; requests completing at once on a thread pool all
 * reach Redis, each record its own request's; a Redis store needs a secret key; a record
 * changed in Redis after its SQL query was signed opens no SQL action (other SQL or parameters
 * are refused, a database the process did not register is unknown). Redis going away or
 * freezing is test_redis_outage's; workers forked after the start are test_redis_fork's.
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
    int setup = redis_setup();
    if (setup != 0)
        return setup;
    Suite *s = suite_create("redis");
    TCase *tc = tcase_create("store");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_shared_between_processes);
    tcase_add_test(tc, test_history_capped);
    tcase_add_test(tc, test_ttl_expires);
    tcase_add_test(tc, test_concurrent_requests);
    tcase_add_test(tc, test_needs_secret_key);
    tcase_add_test(tc, test_tampered_sql_action);
    suite_add_tcase(s, tc);
    return redis_run(s, "test_redis");
}
