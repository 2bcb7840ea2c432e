/*
 * test_pg.c - PostgreSQL capture and actions against a real server (started by pg-run.sh, which
 * exports PGHOST/PGPORT/PGUSER/PGDATABASE): the dtb_pq_* wrappers inside a wrapped MHD app,
 * then the record and the signed EXPLAIN, EXPLAIN ANALYZE and re-run over HTTP. A re-run runs
 * in a READ ONLY transaction: a SELECT that would write fails.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* before <debugtoolbar/sql.h>, which declares the dtb_pq_ calls only after it */
#include <libpq-fe.h>

#include <debugtoolbar.h>
#include <debugtoolbar/mhd.h>
#include <debugtoolbar/sql.h>
#include <microhttpd.h>

#include "http.h"

static PGconn *conn;

static enum MHD_Result send_page(struct MHD_Connection *con)
{
    static const char page[] = "<html><body>pg</body></html>";
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(page), (void *)page, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Content-Type", "text/html");
    enum MHD_Result ret = MHD_queue_response(con, 200, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result app(void *cls, struct MHD_Connection *con, const char *url,
                           const char *method, const char *version, const char *upload_data,
                           size_t *upload_data_size, void **req_cls)
{
    const char *v1[] = {"2"};
    if (strcmp(url, "/slow") == 0) {
        /* the server is killed while this runs: the query fails, the page is still served */
        PQclear(dtb_pq_exec(conn, "SELECT pg_sleep(2)"));
        PQclear(dtb_pq_exec(conn, "SELECT 1"));
        return send_page(con);
    }
    const char *v2[] = {"cat-3"};
    const char *v3[] = {"alice", "s3cret"};
    PQclear(dtb_pq_exec(conn, "SELECT count(*) FROM pet"));
    PQclear(dtb_pq_exec_params(conn, "SELECT id, name FROM pet WHERE id = $1", 1, NULL, v1, NULL,
                               NULL, 0));
    PQclear(dtb_pq_prepare(conn, "by_name", "SELECT id FROM pet WHERE name = $1", 1, NULL));
    PQclear(dtb_pq_exec_prepared(conn, "by_name", 1, v2, NULL, NULL, 0));
    PQclear(dtb_pq_exec(conn, "SELECT * FROM no_such_table"));
    PQclear(dtb_pq_exec_params(conn, "INSERT INTO users (name, password) VALUES ($1, $2)", 2, NULL,
                               v3, NULL, NULL, 0));
    PQclear(dtb_pq_exec(conn, "SELECT nextval('counter')"));
    PQclear(dtb_pq_exec(conn, "DEALLOCATE by_name"));
    return send_page(con);
}

static long post_action(const char *base, const char *action, const char *id, int i,
                        const char *sig, struct http_resp *r)
{
    char url[256], body[512];
    snprintf(url, sizeof(url), "%s/_debug_toolbar/panels/sql/%s", base, action);
    snprintf(body, sizeof(body), "{\"request\":\"%s\",\"query\":%d,\"sig\":\"%s\"}", id, i, sig);
    const char *json[] = {"Content-Type: application/json", NULL};
    ck_assert_int_eq(http_request("POST", url, json, body, r), 0);
    return r->status;
}

/* The stored record of request id (waits for its completion). */
static json_t *wait_record(const char *base, const char *id)
{
    char url[256];
    struct http_resp r;
    json_t *rec = NULL;
    snprintf(url, sizeof(url), "%s/_debug_toolbar/api/requests/%s", base, id);
    for (int i = 0; i < 200 && rec == NULL; i++) {
        ck_assert_int_eq(http_get(url, &r), 0);
        if (r.status == 200)
            rec = json_loads(r.body, 0, NULL);
        http_resp_free(&r);
        usleep(10000);
    }
    ck_assert_ptr_nonnull(rec);
    return rec;
}

static int find(json_t *queries, const char *needle)
{
    size_t i;
    json_t *q;
    json_array_foreach(queries, i, q) if (strstr(json_string_value(json_object_get(q, "sql")),
                                                 needle) != NULL) return (int)i;
    return -1;
}

START_TEST(test_pg_capture_and_actions)
{
    struct dtb_error err = {0};
    struct http_resp r;
    char base[64], url[256];
    conn = PQconnectdb("");
    ck_assert_int_eq(PQstatus(conn), CONNECTION_OK);
    PQclear(PQexec(conn, "CREATE TABLE pet(id int PRIMARY KEY, name text);"
                         "INSERT INTO pet SELECT i, 'cat-' || i FROM generate_series(1, 50) i;"
                         "CREATE TABLE users(name text, password text);"
                         "CREATE SEQUENCE counter;"));
    struct dtb_toolbar *tb = dtb_toolbar_create_from_string("{\"enabled\": true}", "t", &err);
    ck_assert_ptr_nonnull(tb);
    ck_assert_int_eq(dtb_toolbar_start(tb, &err), DTB_OK);
    struct MHD_Daemon *d = http_toolbar_daemon(tb, app, base);
    ck_assert_ptr_nonnull(d);
    snprintf(url, sizeof(url), "%s/", base);
    ck_assert_int_eq(http_get(url, &r), 0);
    char *id = http_header(&r, "X-Debug-Toolbar-Id");
    http_resp_free(&r);
    ck_assert_ptr_nonnull(id);
    json_t *rec = wait_record(base, id);
    json_t *sql = json_object_get(json_object_get(rec, "panels"), "sql");
    json_t *qs = json_object_get(sql, "queries");
    /* eight calls; PQprepare itself is not a query run, so seven recorded */
    ck_assert_int_eq(json_integer_value(json_object_get(sql, "count")), 7);
    json_t *q1 = json_array_get(qs, 1);
    ck_assert_str_eq(json_string_value(json_object_get(q1, "engine")), "postgresql");
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(q1, "params"), 0)), "2");
    ck_assert_int_eq(json_integer_value(json_object_get(q1, "rows")), 1);
    ck_assert_ptr_null(strstr(json_string_value(json_object_get(q1, "db")), "password"));
    /* the call site is the app's line (the dtb_pq_* macros), the duration the toolbar's clock */
    const char *site = json_string_value(json_object_get(q1, "call_site"));
    ck_assert_msg(site != NULL && strstr(site, "test_pg.c:") != NULL &&
                      strstr(site, "(app)") != NULL,
                  "call site %s", site ? site : "(none)");
    ck_assert_int_gt(json_integer_value(json_object_get(q1, "duration_ns")), 0);
    /* the database: engine, and the server's version */
    json_t *db0 = json_array_get(json_object_get(sql, "databases"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(db0, "engine")), "postgresql");
    char want[16];
    snprintf(want, sizeof(want), "%d.", PQserverVersion(conn) / 10000);
    const char *ver = json_string_value(json_object_get(db0, "version"));
    ck_assert_msg(ver != NULL && strncmp(ver, want, strlen(want)) == 0, "version %s",
                  ver ? ver : "(none)");
    int prep = find(qs, "WHERE name = $1");
    ck_assert_int_ge(prep, 0);
    int bad = find(qs, "no_such_table");
    ck_assert_ptr_nonnull(strstr(
        json_string_value(json_object_get(json_array_get(qs, bad), "error")), "no_such_table"));
    int ins = find(qs, "INSERT INTO users");
    json_t *ip = json_object_get(json_array_get(qs, ins), "params");
    ck_assert_str_eq(json_string_value(json_array_get(ip, 0)), "alice");
    ck_assert_str_eq(json_string_value(json_array_get(ip, 1)), "********");
    char *dump = json_dumps(rec, 0);
    ck_assert_ptr_null(strstr(dump, "s3cret"));
    free(dump);

    const char *sig = json_string_value(json_object_get(json_array_get(qs, 1), "sig"));
    ck_assert_int_eq(post_action(base, "select", id, 1, sig, &r), 200);
    ck_assert_ptr_nonnull(strstr(r.body, "\"rows\":[[\"2\",\"cat-2\"]]"));
    http_resp_free(&r);
    ck_assert_int_eq(post_action(base, "explain", id, 1, sig, &r), 200);
    ck_assert_ptr_nonnull(strstr(r.body, "Index Scan"));
    http_resp_free(&r);
    ck_assert_int_eq(post_action(base, "analyze", id, 1, sig, &r), 200);
    ck_assert_ptr_nonnull(strstr(r.body, "actual time"));
    http_resp_free(&r);
    int nv = find(qs, "nextval");
    ck_assert_int_eq(post_action(base, "select", id, nv,
                                 json_string_value(json_object_get(json_array_get(qs, nv), "sig")),
                                 &r),
                     400);
    ck_assert_ptr_nonnull(strstr(r.body, "read-only"));
    http_resp_free(&r);
    ck_assert_int_eq(post_action(base, "select", id, ins,
                                 json_string_value(json_object_get(json_array_get(qs, ins), "sig")),
                                 &r),
                     400);
    http_resp_free(&r);
    /* query 1's signature replayed for another query of the request */
    ck_assert_int_eq(post_action(base, "select", id, ins, sig, &r), 403);
    http_resp_free(&r);
    ck_assert_int_eq(post_action(base, "select", "0123456789abcdef", 1, sig, &r), 404);
    http_resp_free(&r); /* a request the history never held */
    /* the sequence was not advanced by the refused re-run */
    PGresult *res = PQexec(conn, "SELECT last_value FROM counter");
    ck_assert_str_eq(PQgetvalue(res, 0, 0), "1");
    PQclear(res);
    /* the signature of another request: refused, though its query 1 is the same */
    ck_assert_int_eq(http_get(url, &r), 0);
    char *other = http_header(&r, "X-Debug-Toolbar-Id");
    http_resp_free(&r);
    ck_assert_ptr_nonnull(other);
    json_decref(wait_record(base, other));
    ck_assert_int_eq(post_action(base, "select", other, 1, sig, &r), 403);
    http_resp_free(&r);
    free(other);
    json_decref(rec);
    free(id);

    /* PostgreSQL killed mid-request (pg-run.sh gives its PID): the page is served, the failed
     * queries are recorded with their errors, a re-run says the server is gone */
    const char *pgpid = getenv("DTB_PG_PID");
    ck_assert_msg(pgpid != NULL, "pg-run.sh sets DTB_PG_PID");
    pid_t server = (pid_t)atoi(pgpid);
    pid_t killer = fork();
    if (killer == 0) {
        usleep(300000);
        kill(server, SIGQUIT); /* immediate shutdown: every backend ends at once */
        _exit(0);
    }
    snprintf(url, sizeof(url), "%s/slow", base);
    ck_assert_int_eq(http_get(url, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "<dtb-toolbar"));
    id = http_header(&r, "X-Debug-Toolbar-Id");
    http_resp_free(&r);
    waitpid(killer, NULL, 0);
    rec = wait_record(base, id);
    qs = json_object_get(json_object_get(json_object_get(rec, "panels"), "sql"), "queries");
    ck_assert_int_eq(json_array_size(qs), 2);
    ck_assert_ptr_nonnull(json_string_value(json_object_get(json_array_get(qs, 0), "error")));
    ck_assert_ptr_nonnull(json_string_value(json_object_get(json_array_get(qs, 1), "error")));
    sig = json_string_value(json_object_get(json_array_get(qs, 1), "sig"));
    long st = post_action(base, "explain", id, 1, sig, &r);
    ck_assert_msg(st >= 400 && st != 403, "re-run with the server gone answered %ld", st);
    ck_assert_ptr_nonnull(strstr(r.body, "\"error\""));
    http_resp_free(&r);
    json_decref(rec);
    free(id);
    MHD_stop_daemon(d);
    dtb_toolbar_destroy(tb);
    dtb_pq_finish(conn);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("postgresql");
    TCase *tc = tcase_create("capture");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_pg_capture_and_actions);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
