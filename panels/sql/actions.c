/*
 * actions.c - the SQL panel's signed actions (EXPLAIN QUERY PLAN, re-run of a single read-only
 * SELECT; EXPLAIN / EXPLAIN ANALYZE on PostgreSQL through capture_pq.c).
 *
 * Actions take only a request id, a query index and that query's signature (sign.c), made
 * when the record is built: an HMAC over the id and index, bound to a SHA-256 of the query's
 * SQL, parameters and database key. A signature opens one query only, and only as it was
 * recorded: SQL or parameters changed in the store (Redis can be written by others) no longer
 * verify. The database is a key into a registry of the databases this process saw the app use
 * (the files and connections the capture hooks met); an action whose key this process did not
 * register answers 404, and no path or conninfo is ever taken from a record. A re-run is
 * read-only by construction: a separate read-only connection, a single statement that
 * sqlite3_stmt_readonly() accepts, a time limit, 100 rows.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "debugtoolbar/sql.h"
#include "sql_int.h"

#define RERUN_MAX_ROWS 100
#define RERUN_TIME_LIMIT_NS 2000000000LL

/* An action's answer: *out = answer, and the status. */
static unsigned answer_with(json_t **out, unsigned status, json_t *answer)
{
    *out = answer;
    return status;
}

static int progress_cb(void *deadline)
{
    return dtb_now_ns() > *(int64_t *)deadline;
}

static int hex_digit(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Binds one recorded value (as dtbi_sql_params_from_expanded wrote it) to parameter k. */
static int bind_one(sqlite3_stmt *st, int k, const json_t *v)
{
    const char *hex = json_string_value(json_object_get(v, "blob"));
    if (json_is_integer(v))
        return sqlite3_bind_int64(st, k, json_integer_value(v));
    if (json_is_real(v))
        return sqlite3_bind_double(st, k, json_real_value(v));
    if (json_is_string(v))
        return sqlite3_bind_text(st, k, json_string_value(v), (int)json_string_length(v),
                                 SQLITE_TRANSIENT);
    if (hex != NULL) { /* X'..' in the expanded SQL */
        size_t n = strlen(hex) / 2;
        unsigned char *b = malloc(n + 1);
        int rc = b != NULL ? SQLITE_OK : SQLITE_NOMEM;
        for (size_t i = 0; rc == SQLITE_OK && i < n; i++) {
            int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
            if (hi < 0 || lo < 0)
                rc = SQLITE_MISMATCH;
            else
                b[i] = (unsigned char)(hi * 16 + lo);
        }
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_blob(st, k, b, (int)n, SQLITE_TRANSIENT);
        free(b);
        return rc;
    }
    return sqlite3_bind_null(st, k);
}

/* Binds the recorded values, one per parameter as it occurs in sql's text, to the parameter
 * each occurrence names: a name used twice, or ?NNN out of order, binds its own slot (a bare ?
 * takes the next number after the largest so far, as SQLite numbers them). */
static int bind_params(sqlite3_stmt *st, const char *sql, const json_t *params)
{
    size_t j = 0, tok;
    int largest = 0;
    for (const char *t = sql; (t = dtbi_sql_next_param(t, &tok)) != NULL; t += tok) {
        int k;
        if (t[0] == '?') {
            k = tok > 1 ? atoi(t + 1) : largest + 1;
        } else {
            char name[128];
            if (tok >= sizeof(name))
                return -1;
            memcpy(name, t, tok);
            name[tok] = '\0';
            k = sqlite3_bind_parameter_index(st, name);
        }
        const json_t *v = json_array_get(params, j++);
        if (k <= 0 || v == NULL || bind_one(st, k, v) != SQLITE_OK)
            return -1;
        if (k > largest)
            largest = k;
    }
    return 0;
}

static json_t *column_value(sqlite3_stmt *st, int c)
{
    switch (sqlite3_column_type(st, c)) {
    case SQLITE_INTEGER:
        return json_integer(sqlite3_column_int64(st, c));
    case SQLITE_FLOAT:
        return json_real(sqlite3_column_double(st, c));
    case SQLITE_TEXT: {
        json_t *s = json_stringn((const char *)sqlite3_column_text(st, c),
                                 (size_t)sqlite3_column_bytes(st, c));
        return s != NULL ? s : json_string("(not UTF-8)");
    }
    case SQLITE_BLOB:
        return json_pack("{s:i}", "blob_bytes", sqlite3_column_bytes(st, c));
    default:
        return json_null();
    }
}

static int only_space_left(const char *tail)
{
    while (tail != NULL && *tail != '\0') {
        if (!isspace((unsigned char)*tail) && *tail != ';')
            return 0;
        tail++;
    }
    return 1;
}

/* Runs the action on SQLite; returns a new JSON answer and sets *status. */
static json_t *run_sqlite(const char *action, const char *file, const char *sql,
                          const json_t *params, unsigned *status)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    int64_t deadline = dtb_now_ns() + RERUN_TIME_LIMIT_NS;
    json_t *out = NULL;
    int explain = strcmp(action, "explain") == 0;
    char *text = NULL;
    *status = MHD_HTTP_BAD_REQUEST;
    if (file == NULL || file[0] == '\0')
        return json_pack("{s:s}", "error", "an in-memory or temporary database cannot be reopened");
    if (dtb_sqlite_open_untraced(file, &db, SQLITE_OPEN_READONLY) != SQLITE_OK) {
        out = json_pack("{s:s}", "error", "cannot open the database read-only");
        goto done;
    }
    sqlite3_progress_handler(db, 1000, progress_cb, &deadline);
    if (sqlite3_prepare_v2(db, sql, -1, &st, &tail) != SQLITE_OK || st == NULL) {
        out = json_pack("{s:s}", "error", sqlite3_errmsg(db));
        goto done;
    }
    if (!only_space_left(tail)) {
        out = json_pack("{s:s}", "error", "only a single statement can be run");
        goto done;
    }
    if (!explain && (!sqlite3_stmt_readonly(st) || sqlite3_stmt_isexplain(st) ||
                     sqlite3_column_count(st) == 0)) {
        out = json_pack("{s:s}", "error", "only a read-only SELECT can be re-run");
        goto done;
    }
    if (explain) {
        sqlite3_finalize(st);
        st = NULL;
        if (asprintf(&text, "EXPLAIN QUERY PLAN %s", sql) < 0) {
            text = NULL;
            goto done;
        }
        if (sqlite3_prepare_v2(db, text, -1, &st, NULL) != SQLITE_OK) {
            out = json_pack("{s:s}", "error", sqlite3_errmsg(db));
            goto done;
        }
    }
    if (bind_params(st, sql, params) != 0) {
        out = json_pack("{s:s}", "error", "the recorded parameters cannot be bound");
        goto done;
    }
    json_t *rows = json_array(), *cols = json_array();
    int truncated = 0, rc;
    for (int c = 0; c < sqlite3_column_count(st); c++)
        json_array_append_new(cols, json_string(sqlite3_column_name(st, c)));
    for (;;) {
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
            break;
        if (json_array_size(rows) == RERUN_MAX_ROWS) {
            truncated = 1;
            break;
        }
        json_t *row = json_array();
        if (explain) {
            json_decref(row);
            row = json_pack("{s:I,s:I,s:s}", "id", (json_int_t)sqlite3_column_int64(st, 0),
                            "parent", (json_int_t)sqlite3_column_int64(st, 1), "detail",
                            (const char *)sqlite3_column_text(st, 3));
        } else {
            for (int c = 0; c < sqlite3_column_count(st); c++)
                json_array_append_new(row, column_value(st, c));
        }
        json_array_append_new(rows, row);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        json_decref(rows);
        json_decref(cols);
        out = json_pack("{s:s}", "error",
                        rc == SQLITE_INTERRUPT ? "time limit reached" : sqlite3_errmsg(db));
        goto done;
    }
    *status = MHD_HTTP_OK;
    if (explain) {
        json_decref(cols);
        out = json_pack("{s:o}", "plan", rows);
    } else {
        out = json_pack("{s:o,s:o,s:b}", "columns", cols, "rows", rows, "truncated", truncated);
    }
done:
    free(text);
    sqlite3_finalize(st);
    dtb_sqlite_close_untraced(db);
    if (out == NULL) {
        *status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        out = json_pack("{s:s}", "error", "out of memory");
    }
    return out;
}

int dtbi_sql_action_fields(const json_t *req, char id[17], size_t *index, char sig[65])
{
    const char *rid = json_string_value(json_object_get(req, "request"));
    const char *rsig = json_string_value(json_object_get(req, "sig"));
    json_t *qi = json_object_get(req, "query");
    int ok = rid != NULL && strlen(rid) == 16 && strspn(rid, "0123456789abcdef") == 16 &&
             json_is_integer(qi) && json_integer_value(qi) >= 0 &&
             json_integer_value(qi) < 1000000000;
    if (ok) {
        memcpy(id, rid, 17);
        *index = (size_t)json_integer_value(qi);
        /* a missing or malformed signature is checked (and refused) by the caller */
        snprintf(sig, 65, "%s", rsig != NULL && strlen(rsig) == 64 ? rsig : "");
    }
    return ok ? 0 : -1;
}

int dtbi_sql_action_parse(const char *body, size_t len, char id[17], size_t *index, char sig[65])
{
    json_t *req = body != NULL ? json_loadb(body, len, 0, NULL) : NULL;
    int rc = dtbi_sql_action_fields(req, id, index, sig);
    json_decref(req);
    return rc;
}

unsigned dtbi_sql_handle_action(void *state, struct dtb_toolbar *tb, const char *action,
                                const json_t *body, json_t **answer_out)
{
    struct panel_state *ps = state;
    char id[17], sig[65], subject[64], *params_text = NULL, *engine = NULL, *target = NULL;
    struct dtb_sign_part parts[3];
    size_t index;
    unsigned status;
    json_t *rec, *q, *answer;
    if (!ps->explain)
        return answer_with(
            answer_out, MHD_HTTP_FORBIDDEN,
            json_pack("{s:s}", "error", "SQL actions are off (panel_options.sql.explain)"));
    if (strcmp(action, "explain") != 0 && strcmp(action, "select") != 0 &&
        strcmp(action, "analyze") != 0)
        return answer_with(answer_out, MHD_HTTP_NOT_FOUND,
                           json_pack("{s:s}", "error", "no such action"));
    if (dtbi_sql_action_fields(body, id, &index, sig) != 0)
        return answer_with(
            answer_out, MHD_HTTP_BAD_REQUEST,
            json_pack("{s:s}", "error", "expected {\"request\", \"query\", \"sig\"}"));
    rec = dtb_toolbar_load_record(tb, id);
    q = json_array_get(
        json_object_get(json_object_get(json_object_get(rec, "panels"), "sql"), "queries"), index);
    if (q == NULL) {
        json_decref(rec);
        return answer_with(answer_out, MHD_HTTP_NOT_FOUND,
                           json_pack("{s:s}", "error", "unknown or expired request or query"));
    }
    /* the database is a key to one this process registered, never a path or conninfo taken
     * from the record (which anyone who can write the store could have changed) */
    const char *key = json_string_value(json_object_get(q, "db"));
    if (key != NULL && dtbi_sql_lookup_db(ps, key, &engine, &target) != 0) {
        json_decref(rec);
        return answer_with(answer_out, MHD_HTTP_NOT_FOUND,
                           json_pack("{s:s}", "error", "unknown database"));
    }
    /* the signature binds the SQL, the parameters and the database key as they were recorded */
    dtbi_sql_query_subject(subject, id, index);
    if (dtbi_sql_query_content(q, parts, &params_text) != 0 ||
        !dtb_verify(tb, subject, parts, 3, sig)) {
        free(params_text);
        free(engine);
        free(target);
        json_decref(rec);
        return answer_with(answer_out, MHD_HTTP_FORBIDDEN,
                           json_pack("{s:s}", "error", "missing or wrong signature"));
    }
    free(params_text);
    json_t *params = json_object_get(q, "params");
    size_t i;
    json_t *v;
    int redacted = !json_is_array(params);
    json_array_foreach(params, i, v) redacted |=
        json_is_string(v) && strcmp(json_string_value(v), DTB_REDACTED) == 0;
    int pg = strcmp(engine, "postgresql") == 0;
    if (strcmp(engine, "sqlite") != 0 && !pg) {
        status = MHD_HTTP_BAD_REQUEST;
        answer = json_pack("{s:s}", "error", "actions are available for SQLite and PostgreSQL");
    } else if (redacted && strcmp(action, "explain") != 0) {
        status = MHD_HTTP_BAD_REQUEST;
        answer = json_pack("{s:s}", "error", "a query with redacted parameters is not re-run");
    } else if (pg) {
        answer = dtbi_pq_run(action, target, json_string_value(json_object_get(q, "sql")), params,
                             &status);
    } else if (strcmp(action, "analyze") == 0) {
        status = MHD_HTTP_BAD_REQUEST;
        answer = json_pack("{s:s}", "error", "EXPLAIN ANALYZE is for PostgreSQL queries");
    } else {
        answer = run_sqlite(action, target, json_string_value(json_object_get(q, "sql")), params,
                            &status);
    }
    free(engine);
    free(target);
    json_decref(rec);
    return answer_with(answer_out, status, answer);
}
