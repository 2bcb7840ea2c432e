/*
 * test_sql_http.c - the SQL panel end to end: a wrapped MHD app runs SQLite statements on a
 * real database file; the record, the fragment and the signed actions are checked over HTTP.
 */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <debugtoolbar.h>
#include <debugtoolbar/mhd.h>
#include <debugtoolbar/sql.h>
#include <microhttpd.h>

#include "http.h"

static char dbfile[256];
static sqlite3 *db;
static int app_trace_calls;

static int app_trace(unsigned type, void *ctx, void *p, void *x)
{
    (*(int *)ctx)++;
    return 0;
}

static void exec_bound(const char *sql, int kind)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return; /* a failing statement: nothing runs, nothing is recorded */
    if (kind == 1)
        sqlite3_bind_text(st, 1, "O'Brien <script>alert(1)</script>", -1, SQLITE_STATIC);
    if (kind == 2)
        sqlite3_bind_blob(st, 1, "\x01\x02\xff", 3, SQLITE_STATIC);
    if (kind == 3)
        sqlite3_bind_null(st, 1);
    if (kind == 4)
        sqlite3_bind_double(st, 1, 2.5);
    while (dtb_sqlite3_step(st) == SQLITE_ROW)
        ;
    sqlite3_finalize(st);
}

static void *worker(void *arg)
{
    struct dtb_request *rq = arg;
    struct dtb_request *prev = dtb_request_attach(rq);
    exec_bound("SELECT 'from a thread'", 0);
    dtb_request_detach(prev);
    return NULL;
}

static enum MHD_Result app(void *cls, struct MHD_Connection *con, const char *url,
                           const char *method, const char *version, const char *upload_data,
                           size_t *upload_data_size, void **req_cls)
{
    static const char page[] = "<html><body><p>sql</p></body></html>";
    if (strcmp(url, "/sql") == 0) {
        exec_bound("SELECT count(*) FROM pet", 0);
        for (int i = 0; i < 6; i++) {
            sqlite3_stmt *st;
            sqlite3_prepare_v2(db, "SELECT name FROM pet WHERE id = ?", -1, &st, NULL);
            sqlite3_bind_int(st, 1, i < 2 ? 1 : i); /* 1 twice: a duplicate */
            while (dtb_sqlite3_step(st) == SQLITE_ROW)
                ;
            sqlite3_finalize(st);
        }
        exec_bound("SELECT * FROM pet WHERE name = ?", 1);
        exec_bound("SELECT * FROM pet WHERE name = ?", 2);
        exec_bound("SELECT * FROM pet WHERE name = ?", 3);
        exec_bound("SELECT * FROM pet WHERE id > ?", 4);
        exec_bound("SELECT * FROM no_such_table", 0); /* fails to prepare: not run */
        sqlite3_exec(db, "BEGIN; UPDATE pet SET name = name WHERE id = 1; COMMIT;", NULL, NULL,
                     NULL);
        exec_bound("SELECT * FROM users WHERE password = ?", 1);
        pthread_t t;
        pthread_create(&t, NULL, worker, dtb_request_current());
        pthread_join(t, NULL);
        dtb_sql_record("redis", "GET <b>key</b>", NULL, 1500, 1);
        json_t *params = json_pack("[s]", "cart:7");
        dtb_sql_record("redis", "HGETALL ?", params, 1200, 3);
        json_decref(params);
    }
    if (strcmp(url, "/fail") == 0) /* fails when it runs: a constraint */
        exec_bound("INSERT INTO pet(id, name) VALUES (1, 'dup')", 0);
    if (strcmp(url, "/rerun") == 0) { /* parameters the re-run must bind back as they were */
        sqlite3_stmt *st;
        sqlite3_prepare_v2(db, "SELECT hex(b) FROM bin WHERE b = ?", -1, &st, NULL);
        sqlite3_bind_blob(st, 1, "\x01\x02\xff", 3, SQLITE_STATIC);
        while (dtb_sqlite3_step(st) == SQLITE_ROW)
            ;
        sqlite3_finalize(st);
        sqlite3_prepare_v2(db, "SELECT id FROM pet WHERE id = :id AND id >= :id", -1, &st, NULL);
        sqlite3_bind_int(st, sqlite3_bind_parameter_index(st, ":id"), 2);
        while (dtb_sqlite3_step(st) == SQLITE_ROW)
            ;
        sqlite3_finalize(st);
        sqlite3_prepare_v2(db, "SELECT ?2 || ?1 || ?", -1, &st, NULL);
        sqlite3_bind_text(st, 1, "a", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, "b", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, "c", -1, SQLITE_STATIC);
        while (dtb_sqlite3_step(st) == SQLITE_ROW)
            ;
        sqlite3_finalize(st);
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(page), (void *)page, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Content-Type", "text/html");
    enum MHD_Result ret = MHD_queue_response(con, 200, r);
    MHD_destroy_response(r);
    return ret;
}

static struct dtb_toolbar *tb;
static struct MHD_Daemon *d;
static char base[64];

static void setup(void)
{
    struct dtb_error err = {0};
    snprintf(dbfile, sizeof(dbfile), "/tmp/dtb-sql-XXXXXX");
    int fd = mkstemp(dbfile);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(sqlite3_open(dbfile, &db), SQLITE_OK);
    ck_assert_int_eq(
        sqlite3_exec(db,
                     "PRAGMA user_version = 7;"
                     "CREATE TABLE pet(id INTEGER PRIMARY KEY, name TEXT);"
                     "CREATE TABLE users(id INTEGER PRIMARY KEY, password TEXT);"
                     "INSERT INTO pet(name) VALUES ('a'),('b'),('c'),('d'),('e'),('f');"
                     "CREATE TABLE bin(b BLOB); INSERT INTO bin VALUES (X'0102FF');",
                     NULL, NULL, NULL),
        SQLITE_OK);
    app_trace_calls = 0;
    ck_assert_int_eq(dtb_sqlite_attach_with(db, SQLITE_TRACE_STMT, app_trace, &app_trace_calls),
                     DTB_OK);
    tb = dtb_toolbar_create_from_string(
        "{\"enabled\": true, \"panel_options\": {\"sql\": {\"slow_ms\": 0}}}", "t", &err);
    ck_assert_ptr_nonnull(tb);
    ck_assert_int_eq(dtb_toolbar_start(tb, &err), DTB_OK);
    d = http_toolbar_daemon(tb, app, base);
    ck_assert_ptr_nonnull(d);
}

/* Replaces the fixture's toolbar and daemon with ones started from config. */
static void restart(const char *config)
{
    struct dtb_error err = {0};
    MHD_stop_daemon(d);
    dtb_toolbar_destroy(tb);
    tb = dtb_toolbar_create_from_string(config, "t", &err);
    ck_assert_msg(tb != NULL, "create: %s", err.text);
    ck_assert_msg(dtb_toolbar_start(tb, &err) == DTB_OK, "start: %s", err.text);
    d = http_toolbar_daemon(tb, app, base);
    ck_assert_ptr_nonnull(d);
}

static void teardown(void)
{
    MHD_stop_daemon(d);
    dtb_toolbar_destroy(tb);
    dtb_sqlite_detach(db);
    sqlite3_close(db);
    unlink(dbfile);
}

static json_t *record_for(const char *path, char **id_out)
{
    json_t *rec = http_record_for(base, path, id_out);
    ck_assert_msg(rec != NULL, "no record for %s", path);
    return rec;
}

static json_t *query(json_t *sql, size_t i)
{
    return json_array_get(json_object_get(sql, "queries"), i);
}

/* The history list's summary of request id (a new reference), or NULL. */
static json_t *summary_of(const char *id)
{
    char url[256];
    struct http_resp r;
    json_t *found = NULL, *s;
    size_t i;
    snprintf(url, sizeof(url), "%s/_debug_toolbar/api/requests", base);
    ck_assert_int_eq(http_get(url, &r), 0);
    ck_assert_int_eq(r.status, 200);
    json_t *list = json_loads(r.body, 0, NULL);
    http_resp_free(&r);
    json_array_foreach(list, i, s)
    {
        if (found == NULL && strcmp(json_string_value(json_object_get(s, "id")), id) == 0)
            found = json_incref(s);
    }
    json_decref(list);
    return found;
}

static long action(const char *name, const char *id, int index, const char *sig,
                   struct http_resp *r)
{
    char url[256], body[512];
    snprintf(url, sizeof(url), "%s/_debug_toolbar/panels/sql/%s", base, name);
    snprintf(body, sizeof(body), "{\"request\": \"%s\", \"query\": %d, \"sig\": \"%s\"}", id, index,
             sig ? sig : "");
    const char *json[] = {"Content-Type: application/json", NULL};
    ck_assert_int_eq(http_request("POST", url, json, body, r), 0);
    return r->status;
}

START_TEST(test_capture)
{
    char *id;
    json_t *rec = record_for("/sql", &id);
    json_t *sql = json_object_get(json_object_get(rec, "panels"), "sql");
    ck_assert_ptr_nonnull(sql);
    /* count + 6 point + 4 bound + UPDATE (+BEGIN/COMMIT) + password + thread = 15..16 */
    ck_assert_int_ge(json_integer_value(json_object_get(sql, "count")), 15);
    ck_assert_str_eq(json_string_value(json_object_get(query(sql, 0), "sql")),
                     "SELECT count(*) FROM pet");
    ck_assert_ptr_nonnull(
        strstr(json_string_value(json_object_get(query(sql, 0), "call_site")), "test_sql_http.c"));
    /* point queries: params, rows, duplicates (id 1 twice) and similar */
    json_t *q1 = query(sql, 1);
    ck_assert_int_eq(json_integer_value(json_array_get(json_object_get(q1, "params"), 0)), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(q1, "rows")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(q1, "duplicate")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(q1, "similar")), 4);
    ck_assert_int_eq(json_integer_value(json_object_get(query(sql, 5), "duplicate")), 0);
    json_t *nplus = json_object_get(sql, "n_plus_one");
    ck_assert_int_eq(json_array_size(nplus), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(nplus, 0), "count")), 6);
    /* bound text (quotes), blob, null, float */
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(query(sql, 7), "params"), 0)),
                     "O'Brien <script>alert(1)</script>");
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(query(sql, 8), "params"), 0), "blob")),
                     "0102ff");
    ck_assert(json_is_null(json_array_get(json_object_get(query(sql, 9), "params"), 0)));
    ck_assert(json_real_value(json_array_get(json_object_get(query(sql, 10), "params"), 0)) == 2.5);
    ck_assert(json_is_true(json_object_get(query(sql, 10), "slow"))); /* slow_ms is 0 */
    /* statements inside a transaction, a redacted password parameter, a thread's query,
     * another driver's record */
    size_t n = json_array_size(json_object_get(sql, "queries"));
    int saw_update = 0, saw_secret = 0, saw_thread = 0, saw_redis = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_object_get(query(sql, i), "sql"));
        if (strstr(s, "UPDATE pet") != NULL)
            saw_update = 1;
        if (strstr(s, "password = ?") != NULL) {
            saw_secret = 1;
            ck_assert_str_eq(
                json_string_value(json_array_get(json_object_get(query(sql, i), "params"), 0)),
                "********");
        }
        if (strstr(s, "from a thread") != NULL)
            saw_thread = 1;
        if (strcmp(json_string_value(json_object_get(query(sql, i), "engine")), "redis") == 0)
            saw_redis = 1;
    }
    ck_assert(saw_update && saw_secret && saw_thread && saw_redis);
    char *dump = json_dumps(rec, 0);
    ck_assert_ptr_null(strstr(dump, "no_such_table"));
    free(dump);
    ck_assert_int_gt(app_trace_calls, 10); /* the app's own trace callback still runs */
    json_t *db0 = json_array_get(json_object_get(sql, "databases"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(db0, "version")), sqlite3_libversion());
    ck_assert_int_eq(json_integer_value(json_object_get(db0, "schema_version")), 7);
    /* the database is shown by its file name; queries name it by its key only */
    ck_assert_str_eq(json_string_value(json_object_get(db0, "name")), dbfile);
    ck_assert_str_eq(json_string_value(json_object_get(q1, "db")),
                     json_string_value(json_object_get(db0, "key")));
    ck_assert_ptr_null(strstr(json_string_value(json_object_get(q1, "db")), "/"));
    /* the history list's fields, from the panel's summary hook */
    json_t *sum = summary_of(id), *q;
    size_t i, slow = 0;
    ck_assert_ptr_nonnull(sum);
    json_array_foreach(json_object_get(sql, "queries"), i, q) slow +=
        json_is_true(json_object_get(q, "slow"));
    ck_assert_int_gt(slow, 0);
    ck_assert_int_eq(json_integer_value(json_object_get(sum, "queries")),
                     json_integer_value(json_object_get(sql, "count")));
    ck_assert_int_eq(json_integer_value(json_object_get(sum, "n_plus_one")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(sum, "slow_queries")), (json_int_t)slow);
    ck_assert(json_is_integer(json_object_get(sum, "sql_errors")));
    ck_assert_int_eq(json_integer_value(json_object_get(sum, "sql_errors")), 0);
    ck_assert_str_eq(json_string_value(json_object_get(sum, "id")), id);
    json_decref(sum);
    /* the panel's own script, named in the record's nav and served from the embedded assets */
    json_t *nav;
    int scripts = 0;
    json_array_foreach(json_object_get(rec, "nav"), i, nav)
    {
        const char *script = json_string_value(json_object_get(nav, "script"));
        if (strcmp(json_string_value(json_object_get(nav, "id")), "sql") == 0) {
            ck_assert_ptr_nonnull(script);
            ck_assert_str_eq(script, "sql.js");
        }
        scripts += script != NULL;
    }
    ck_assert_int_eq(scripts, 1);
    char url[256];
    struct http_resp r;
    snprintf(url, sizeof(url), "%s/_debug_toolbar/static/sql.js", base);
    ck_assert_int_eq(http_get(url, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "modules[\"sql.js\"]"));
    ck_assert_ptr_nonnull(strstr(r.body, "/panels/sql/"));
    http_resp_free(&r);
    json_decref(rec);
    free(id);
}
END_TEST

START_TEST(test_no_capture_outside_request)
{
    char *id;
    exec_bound("SELECT 'outside'", 0); /* no current request: not recorded, no crash */
    json_t *rec = record_for("/plain", &id);
    json_t *sql = json_object_get(json_object_get(rec, "panels"), "sql");
    ck_assert_int_eq(json_integer_value(json_object_get(sql, "count")), 0);
    json_decref(rec);
    free(id);
}
END_TEST

START_TEST(test_fragment_escapes)
{
    char *id;
    char url[256];
    struct http_resp r;
    json_t *rec = record_for("/sql", &id);
    snprintf(url, sizeof(url), "%s/_debug_toolbar/api/requests/%s/panels/sql", base, id);
    ck_assert_int_eq(http_get(url, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_null(strstr(r.body, "<script"));
    ck_assert_ptr_null(strstr(r.body, "<b>key"));
    ck_assert_ptr_nonnull(strstr(r.body, "GET &lt;b&gt;"));
    ck_assert_ptr_nonnull(strstr(r.body, "O&#39;Brien &lt;script&gt;"));
    ck_assert_ptr_nonnull(strstr(r.body, "class=\"dtb-kw\""));
    ck_assert_ptr_nonnull(strstr(r.body, "N+1"));
    /* each statement with its values, expanded when rendered: escaped, secrets redacted */
    ck_assert_ptr_nonnull(strstr(r.body, "with its values"));
    ck_assert_ptr_nonnull(
        strstr(r.body, "<span class=\"dtb-str\">&#39;O&#39;&#39;Brien &lt;script&gt;"));
    ck_assert_ptr_nonnull(strstr(r.body, "<span class=\"dtb-str\">&#39;********&#39;</span>"));
    ck_assert_ptr_nonnull(strcasestr(r.body, "&#39;0102ff&#39;"));
    ck_assert_ptr_nonnull(strstr(r.body, "2.5"));
    http_resp_free(&r);
    json_decref(rec);
    free(id);
}
END_TEST

START_TEST(test_signed_actions)
{
    char *id;
    struct http_resp r;
    json_t *rec = record_for("/sql", &id);
    json_t *sql = json_object_get(json_object_get(rec, "panels"), "sql");
    /* one signature per query, over "sql:<id>:<index>" */
    ck_assert_ptr_null(json_object_get(sql, "sig"));
    const char *sig1 = json_string_value(json_object_get(query(sql, 1), "sig"));
    const char *sig0 = json_string_value(json_object_get(query(sql, 0), "sig"));
    ck_assert_ptr_nonnull(sig1);
    ck_assert_ptr_nonnull(sig0);
    ck_assert_str_ne(sig0, sig1);
    ck_assert_int_eq(action("select", id, 1, sig1, &r), 200);
    ck_assert_ptr_nonnull(strstr(r.body, "\"rows\":[[\"a\"]]"));
    http_resp_free(&r);
    ck_assert_int_eq(action("explain", id, 1, sig1, &r), 200);
    ck_assert_ptr_nonnull(strstr(r.body, "\"plan\""));
    ck_assert_ptr_nonnull(strstr(r.body, "PRIMARY KEY"));
    http_resp_free(&r);
    char bad[65];
    snprintf(bad, sizeof(bad), "%s", sig1);
    bad[0] = bad[0] == 'a' ? 'b' : 'a';
    ck_assert_int_eq(action("select", id, 1, bad, &r), 403);
    http_resp_free(&r);
    ck_assert_int_eq(action("select", id, 1, NULL, &r), 403);
    http_resp_free(&r);
    /* a signature replayed for another query of the same request is refused */
    ck_assert_int_eq(action("select", id, 1, sig0, &r), 403);
    http_resp_free(&r);
    ck_assert_int_eq(action("explain", id, 0, sig1, &r), 403);
    http_resp_free(&r);
    /* a non-SELECT statement: signed, but never re-run */
    size_t n = json_array_size(json_object_get(sql, "queries"));
    for (size_t i = 0; i < n; i++) {
        if (strstr(json_string_value(json_object_get(query(sql, i), "sql")), "UPDATE") != NULL) {
            const char *sig = json_string_value(json_object_get(query(sql, i), "sig"));
            ck_assert_int_eq(action("select", id, (int)i, sig, &r), 400);
            ck_assert_ptr_nonnull(strstr(r.body, "read-only SELECT"));
            http_resp_free(&r);
        }
    }
    /* another request's id with this signature is refused, even for the same SQL, parameters
     * and database: the signature names its request */
    char *other;
    json_t *orec = record_for("/sql", &other);
    ck_assert_str_eq(json_string_value(json_object_get(
                         query(json_object_get(json_object_get(orec, "panels"), "sql"), 1), "sql")),
                     json_string_value(json_object_get(query(sql, 1), "sql")));
    ck_assert_int_eq(action("select", other, 1, sig1, &r), 403);
    http_resp_free(&r);
    json_decref(orec);
    free(other);
    /* a validly signed action for a request the history no longer holds: 404 */
    char *stale_id = strdup(id);
    for (int i = 0; i < 30; i++) {
        char *other;
        json_t *o = record_for("/plain", &other);
        json_decref(o);
        free(other);
    }
    ck_assert_int_eq(action("select", stale_id, 1, sig1, &r), 404);
    http_resp_free(&r);
    free(stale_id);
    /* a request id the history never held: nothing to authorize */
    ck_assert_int_eq(action("select", "0123456789abcdef", 1, sig1, &r), 404);
    http_resp_free(&r);
    json_decref(rec);
    free(id);
}
END_TEST

/* Checks /sql's record against the SQL panel's settings: slow_ms 0 (every query slow) or the
 * default (none of these is), explain (the actions, and the record's "actions" and "sig"),
 * capture_params (the bound parameters of SQLite and of dtb_sql_record). */
static void check_settings(int all_slow, int explain, int params)
{
    char *id;
    struct http_resp r;
    json_t *rec = record_for("/sql", &id), *q;
    json_t *sql = json_object_get(json_object_get(rec, "panels"), "sql");
    size_t i, n = json_array_size(json_object_get(sql, "queries")), slow = 0, signed_ = 0;
    ck_assert_uint_ge(n, 15);
    json_array_foreach(json_object_get(sql, "queries"), i, q)
    {
        slow += json_is_true(json_object_get(q, "slow"));
        signed_ += json_object_get(q, "sig") != NULL;
    }
    ck_assert_uint_eq(slow, (all_slow ? n : 0));
    ck_assert(json_number_value(json_object_get(sql, "slow_ms")) == (all_slow ? 0 : 100));
    ck_assert(json_is_true(json_object_get(sql, "actions")) == explain);
    ck_assert(explain ? signed_ > 0 : signed_ == 0);
    /* the first bound query: SELECT name FROM pet WHERE id = ? with 1; the record's last one:
     * dtb_sql_record's HGETALL with ["cart:7"] */
    ck_assert_uint_eq(json_array_size(json_object_get(query(sql, 1), "params")), params ? 1 : 0);
    ck_assert_str_eq(json_string_value(json_object_get(query(sql, n - 1), "sql")), "HGETALL ?");
    ck_assert_uint_eq(json_array_size(json_object_get(query(sql, n - 1), "params")),
                      params ? 1 : 0);
    const char *sig = json_string_value(json_object_get(query(sql, 1), "sig"));
    ck_assert_int_eq(action("explain", id, 1, sig, &r), explain ? 200 : 403);
    if (!explain)
        ck_assert_ptr_nonnull(strstr(r.body, "SQL actions are off (panel_options.sql.explain)"));
    http_resp_free(&r);
    json_decref(rec);
    free(id);
}

/* The panel's settings under panel_options.sql; the older sql.* keys and DTB_SQL_* variables
 * still set them (the variable first, then the new key, then the old one). */
START_TEST(test_settings)
{
    check_settings(1, 1, 1); /* the fixture: panel_options.sql.slow_ms 0 */
    restart("{\"enabled\": true}");
    check_settings(0, 1, 1);
    restart("{\"enabled\": true, \"panel_options\": {\"sql\": {\"slow_ms\": 0, \"explain\": false, "
            "\"capture_params\": false}}}");
    check_settings(1, 0, 0);
    restart("{\"enabled\": true, \"sql\": {\"slow_ms\": 0, \"explain\": false, "
            "\"capture_params\": false}}");
    check_settings(1, 0, 0);
    restart("{\"enabled\": true, \"sql\": {\"slow_ms\": 0, \"explain\": false},"
            "\"panel_options\": {\"sql\": {\"slow_ms\": 100, \"capture_params\": false}}}");
    check_settings(0, 0, 0);
    setenv("DTB_SQL_SLOW_MS", "0", 1);
    setenv("DTB_SQL_EXPLAIN", "off", 1);
    setenv("DTB_SQL_CAPTURE_PARAMS", "0", 1);
    restart("{\"enabled\": true, \"sql\": {\"slow_ms\": 100, \"explain\": true},"
            "\"panel_options\": {\"sql\": {\"slow_ms\": 100, \"capture_params\": true}}}");
    unsetenv("DTB_SQL_SLOW_MS");
    unsetenv("DTB_SQL_EXPLAIN");
    unsetenv("DTB_SQL_CAPTURE_PARAMS");
    check_settings(1, 0, 0);
}
END_TEST

/* A bad setting refuses the start, naming panel_options.sql.<key> with its line and column;
 * a bad older key is refused when the config is read, under its own name. */
START_TEST(test_bad_settings)
{
    static const struct {
        const char *config, *key;
        int line, column;
    } cases[] = {
        {"{\"enabled\": true,\n \"panel_options\": {\"sql\": {\n   \"slow_ms\": -1}}}",
         "panel_options.sql.slow_ms", 3, 4},
        {"{\"enabled\": true, \"panel_options\": {\"sql\": {\"slow_ms\": \"fast\"}}}",
         "panel_options.sql.slow_ms", 1, 45},
        {"{\"enabled\": true,\n\"panel_options\": {\"sql\": {\"explain\": 1}}}",
         "panel_options.sql.explain", 2, 27},
        {"{\"enabled\": true, \"panel_options\": {\"sql\": {\"capture_params\": \"no\"}}}",
         "panel_options.sql.capture_params", 1, 45},
    };
    char msg[512];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct dtb_error err = {0};
        struct dtb_toolbar *t = dtb_toolbar_create_from_string(cases[i].config, "t.json", &err);
        ck_assert_ptr_nonnull(t);
        ck_assert_int_eq(dtb_toolbar_start(t, &err), DTB_ECONFIG);
        dtb_error_format(&err, msg, sizeof(msg));
        ck_assert_msg(strcmp(err.key, cases[i].key) == 0 && err.line == cases[i].line &&
                          err.column == cases[i].column && strcmp(err.source, "t.json") == 0,
                      "case %zu: %s", i, msg);
        dtb_toolbar_destroy(t);
    }
    struct dtb_error err = {0};
    ck_assert_ptr_null(dtb_toolbar_create_from_string(
        "{\"enabled\": true,\n \"sql\": {\"slow_ms\": -1}}", "t.json", &err));
    ck_assert_str_eq(err.key, "sql.slow_ms");
    ck_assert_int_eq(err.line, 2);
    ck_assert_int_eq(err.column, 10);
}
END_TEST

START_TEST(test_failing_statement)
{
    char *id;
    json_t *rec = record_for("/fail", &id);
    json_t *sql = json_object_get(json_object_get(rec, "panels"), "sql");
    ck_assert_int_eq(json_array_size(json_object_get(sql, "queries")), 1);
    const char *err = json_string_value(json_object_get(query(sql, 0), "error"));
    ck_assert_msg(err != NULL && strstr(err, "UNIQUE constraint failed: pet.id") != NULL,
                  "error %s", err ? err : "(none)");
    json_t *sum = summary_of(id);
    ck_assert_ptr_nonnull(sum);
    ck_assert_int_eq(json_integer_value(json_object_get(sum, "queries")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(sum, "sql_errors")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(sum, "n_plus_one")), 0);
    json_decref(sum);
    json_decref(rec);
    free(id);
}
END_TEST

START_TEST(test_rerun_params)
{
    /* a blob, a name used twice, numbered parameters out of order: each re-run binds what the
     * query ran with */
    static const char *const want[][2] = {
        {"SELECT hex(b) FROM bin WHERE b = ?", "\"rows\":[[\"0102FF\"]]"},
        {"SELECT id FROM pet WHERE id = :id AND id >= :id", "\"rows\":[[2]]"},
        {"SELECT ?2 || ?1 || ?", "\"rows\":[[\"bac\"]]"}};
    char *id;
    struct http_resp r;
    json_t *rec = record_for("/rerun", &id);
    json_t *sql = json_object_get(json_object_get(rec, "panels"), "sql");
    ck_assert_int_eq(json_array_size(json_object_get(sql, "queries")), 3);
    /* the timeline's scale is the whole request: it ends after the last query */
    json_t *last = query(sql, 2);
    ck_assert_int_ge(json_integer_value(json_object_get(sql, "request_ns")),
                     json_integer_value(json_object_get(last, "start_ns")) +
                         json_integer_value(json_object_get(last, "duration_ns")));
    for (int i = 0; i < 3; i++) {
        json_t *q = query(sql, (size_t)i);
        ck_assert_str_eq(json_string_value(json_object_get(q, "sql")), want[i][0]);
        ck_assert_int_eq(action("select", id, i, json_string_value(json_object_get(q, "sig")), &r),
                         200);
        ck_assert_msg(strstr(r.body, want[i][1]) != NULL, "%s: %s", want[i][0], r.body);
        http_resp_free(&r);
    }
    json_decref(rec);
    free(id);
}
END_TEST

/* The names the toolbar shows for the databases declared with dtb_sql_database. */
static json_t *declared(void)
{
    char *id;
    json_t *rec = record_for("/plain", &id);
    json_t *d = json_object_get(json_object_get(json_object_get(rec, "panels"), "sql"),
                                "declared_databases");
    json_t *names = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(d, i, v) json_array_append(names, json_object_get(v, "name"));
    json_decref(rec);
    free(id);
    return names;
}

START_TEST(test_declared_dsn_redacted)
{
    /* a long DSN with a short password (it overflowed a fixed buffer), a quoted password with
     * spaces, spaces around '=', the URI form with passwords in the user part and the query,
     * one libpq rejects, and a SQLite file */
    char long_dsn[1200], long_host[1001];
    memset(long_host, 'h', sizeof(long_host) - 1);
    long_host[sizeof(long_host) - 1] = '\0';
    snprintf(long_dsn, sizeof(long_dsn), "password=x host=%s dbname=shop", long_host);
    const char *dsns[] = {
        long_dsn,
        "host=db password='correct horse battery' dbname=shop",
        "host=db password = hunter2 dbname=shop",
        "postgresql://alice:s3cretpw@db.example:5433/shop?sslmode=require&sslpassword=keypass",
        "host=db password='unterminated dbname=shop",
    };
    for (size_t i = 0; i < sizeof(dsns) / sizeof(dsns[0]); i++)
        ck_assert_int_eq(dtb_sql_database(tb, "postgresql", dsns[i], NULL), DTB_OK);
    ck_assert_int_eq(dtb_sql_database(tb, "sqlite", "/srv/app/shop.db", NULL), DTB_OK);
    json_t *names = declared();
    ck_assert_int_eq(json_array_size(names), 6);
    char *all = json_dumps(names, 0);
    static const char *const secrets[] = {"hunter2",  "horse",   "battery",     "correct",
                                          "s3cretpw", "keypass", "unterminated"};
    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
        ck_assert_msg(strstr(all, secrets[i]) == NULL, "%s shown in %s", secrets[i], all);
    ck_assert_str_eq(json_string_value(json_array_get(names, 5)), "/srv/app/shop.db");
#ifdef HAVE_LIBPQ
    /* rebuilt from libpq's options, in libpq's order: each pair whole, nothing else */
    char host[1010];
    snprintf(host, sizeof(host), "host=%s", long_host);
    const char *want[][8] = {
        {host, "dbname=shop", "password=********"},
        {"host=db", "dbname=shop", "password=********"},
        {"host=db", "dbname=shop", "password=********"},
        {"user=alice", "password=********", "host=db.example", "port=5433", "dbname=shop",
         "sslmode=require", "sslpassword=********"},
    };
    for (size_t i = 0; i < 4; i++) {
        const char *shown = json_string_value(json_array_get(names, i));
        size_t pairs = 0, words = 1;
        for (; pairs < 8 && want[i][pairs] != NULL; pairs++) {
            const char *at = strstr(shown, want[i][pairs]);
            size_t n = strlen(want[i][pairs]);
            ck_assert_msg(at != NULL && (at == shown || at[-1] == ' ') &&
                              (at[n] == ' ' || at[n] == '\0'),
                          "%s not in %s", want[i][pairs], shown);
        }
        for (const char *c = shown; *c != '\0'; c++)
            words += *c == ' ';
        ck_assert_uint_eq(words, pairs);
    }
    ck_assert_str_eq(json_string_value(json_array_get(names, 4)), "(unparsable connection string)");
#else
    /* without libpq nothing parses a DSN: none is shown */
    for (size_t i = 0; i < 5; i++)
        ck_assert_str_eq(json_string_value(json_array_get(names, i)),
                         "(connection string not shown: built without libpq)");
#endif
    free(all);
    json_decref(names);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sql");
    TCase *tc = tcase_create("http");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_capture);
    tcase_add_test(tc, test_no_capture_outside_request);
    tcase_add_test(tc, test_fragment_escapes);
    tcase_add_test(tc, test_signed_actions);
    tcase_add_test(tc, test_rerun_params);
    tcase_add_test(tc, test_failing_statement);
    tcase_add_test(tc, test_declared_dsn_redacted);
    tcase_add_test(tc, test_settings);
    tcase_add_test(tc, test_bad_settings);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
