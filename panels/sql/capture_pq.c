/*
 * capture_pq.c - PostgreSQL for the SQL panel: libpq wrappers that record each query, and the
 * signed actions run on a separate connection in a READ ONLY transaction with a statement
 * timeout, always rolled back.
 *
 * Prepared statements are remembered per connection (name -> SQL) so dtb_pq_exec_prepared can
 * show the SQL; dtb_pq_finish forgets them. Parameters are recorded in text form; binary ones
 * as their size. The database is registered as a conninfo string without the password (libpq
 * finds it again in ~/.pgpass or the environment when an action reconnects); records carry
 * only its key. A connection string the app declares (dtb_sql_database) is shown as libpq
 * parses it, rebuilt with its password options redacted.
 * Built without libpq, the wrappers exist and return NULL.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifdef HAVE_LIBPQ
#include <libpq-fe.h>
#else
typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;
typedef unsigned int Oid;
#endif

#include "sql_int.h"

DTB_EXPORT PGresult *(dtb_pq_exec)(PGconn *conn, const char *command);
DTB_EXPORT PGresult *(dtb_pq_exec_params)(PGconn *conn, const char *command, int nParams,
                                          const Oid *paramTypes, const char *const *paramValues,
                                          const int *paramLengths, const int *paramFormats,
                                          int resultFormat);
DTB_EXPORT PGresult *dtb_pq_prepare(PGconn *conn, const char *stmtName, const char *query,
                                    int nParams, const Oid *paramTypes);
DTB_EXPORT PGresult *(dtb_pq_exec_prepared)(PGconn *conn, const char *stmtName, int nParams,
                                            const char *const *paramValues, const int *paramLengths,
                                            const int *paramFormats, int resultFormat);
DTB_EXPORT void dtb_pq_finish(PGconn *conn);

#ifdef HAVE_LIBPQ

struct prepared {
    PGconn *conn;
    char *name;
    char *sql;
    struct prepared *next;
};

static pthread_mutex_t prep_lock = PTHREAD_MUTEX_INITIALIZER;
static struct prepared *preps;

/* "host=... port=... dbname=... user=..." without a password; quoted per libpq's rules. */
static void conninfo(PGconn *conn, char *out, size_t cap)
{
    const char *keys[] = {"host", "port", "dbname", "user"};
    const char *vals[] = {PQhost(conn), PQport(conn), PQdb(conn), PQuser(conn)};
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; i < 4; i++) {
        if (vals[i] == NULL || vals[i][0] == '\0')
            continue;
        n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%s='", n ? " " : "", keys[i]);
        for (const char *c = vals[i]; *c != '\0' && n + 3 < cap; c++) {
            if (*c == '\'' || *c == '\\')
                out[n++] = '\\';
            out[n++] = *c;
        }
        if (n + 1 < cap) {
            out[n++] = '\'';
            out[n] = '\0';
        }
    }
}

/* Appends one value as libpq reads it in a key=value string: bare when it has no space,
 * quote or backslash (and is not empty), else in single quotes with ' and \ escaped. */
static void append_conninfo_value(struct dtb_buf *b, const char *v)
{
    if (v[0] != '\0' && strpbrk(v, " \t\n\r\f\v'\\") == NULL) {
        dtb_buf_append_str(b, v);
        return;
    }
    dtb_buf_append_str(b, "'");
    for (const char *c = v; *c != '\0'; c++) {
        if (*c == '\'' || *c == '\\')
            dtb_buf_append_str(b, "\\");
        dtb_buf_append(b, c, 1);
    }
    dtb_buf_append_str(b, "'");
}

char *dtbi_pq_dsn_display(const struct dtb_toolbar *tb, const char *dsn)
{
    char *errmsg = NULL;
    PQconninfoOption *opts = dsn != NULL ? PQconninfoParse(dsn, &errmsg) : NULL;
    struct dtb_buf b;
    PQfreemem(errmsg); /* it may quote the string, password included: never shown */
    if (opts == NULL)
        return strdup(DTBI_DSN_UNPARSABLE);
    dtb_buf_init(&b);
    for (const PQconninfoOption *o = opts; o->keyword != NULL; o++) {
        if (o->val == NULL)
            continue;
        /* libpq marks its password options ("password", "sslpassword") with dispchar '*' */
        int secret = (o->dispchar != NULL && o->dispchar[0] == '*') ||
                     (tb != NULL && dtb_toolbar_is_secret_name(tb, o->keyword));
        if (b.len > 0)
            dtb_buf_append_str(&b, " ");
        dtb_buf_append_str(&b, o->keyword);
        dtb_buf_append_str(&b, "=");
        append_conninfo_value(&b, secret ? DTB_REDACTED : o->val);
    }
    PQconninfoFree(opts);
    if (b.failed) {
        dtb_buf_free(&b);
        return NULL;
    }
    return b.data != NULL ? dtb_buf_steal(&b) : strdup("");
}

static json_t *params_json(int n, const char *const *values, const int *lengths, const int *formats)
{
    DTB_TOOLBAR_SCOPE();
    json_t *arr = json_array();
    for (int i = 0; i < n && arr != NULL; i++) {
        json_t *v;
        if (values == NULL || values[i] == NULL)
            v = json_null();
        else if (formats != NULL && formats[i] == 1)
            v = json_pack("{s:i}", "binary_bytes", lengths ? lengths[i] : 0);
        else
            v = json_string(values[i]);
        json_array_append_new(arr, v != NULL ? v : json_string("(not UTF-8)"));
    }
    return arr;
}

static void record(struct dtb_request *rq, PGconn *conn, const char *sql, json_t *params,
                   int64_t t0, PGresult *res)
{
    int64_t t1 = dtb_now_ns();
    char info[512];
    long long rows = -1;
    const char *error = NULL;
    ExecStatusType s = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (s == PGRES_TUPLES_OK)
        rows = PQntuples(res);
    else if (s == PGRES_COMMAND_OK && res != NULL && PQcmdTuples(res)[0] != '\0')
        rows = atoll(PQcmdTuples(res));
    if (s == PGRES_FATAL_ERROR || s == PGRES_NONFATAL_ERROR || s == PGRES_BAD_RESPONSE)
        error = res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(conn);
    conninfo(conn, info, sizeof(info));
    char version[32] = "";
    int v = PQserverVersion(conn); /* e.g. 150008 for 15.8, 90624 for 9.6.24 */
    if (v >= 100000)
        snprintf(version, sizeof(version), "%d.%d", v / 10000, v % 10000);
    else if (v > 0)
        snprintf(version, sizeof(version), "%d.%d.%d", v / 10000, v / 100 % 100, v % 100);
    DTB_TOOLBAR_SCOPE();
    dtbi_sql_add(rq, "postgresql", sql, params, t0, t1 - t0, rows, info, error,
                 version[0] ? version : NULL);
}

PGresult *(dtb_pq_exec)(PGconn *conn, const char *command)
{
    struct dtb_request *rq = dtb_request_current();
    int64_t t0;
    PGresult *r;
    if (rq == NULL)
        return PQexec(conn, command);
    t0 = dtb_now_ns();
    r = PQexec(conn, command);
    record(rq, conn, command, NULL, t0, r);
    return r;
}

PGresult *(dtb_pq_exec_params)(PGconn *conn, const char *command, int nParams,
                               const Oid *paramTypes, const char *const *paramValues,
                               const int *paramLengths, const int *paramFormats, int resultFormat)
{
    struct dtb_request *rq = dtb_request_current();
    int64_t t0;
    PGresult *r;
    if (rq == NULL)
        return PQexecParams(conn, command, nParams, paramTypes, paramValues, paramLengths,
                            paramFormats, resultFormat);
    t0 = dtb_now_ns();
    r = PQexecParams(conn, command, nParams, paramTypes, paramValues, paramLengths, paramFormats,
                     resultFormat);
    record(rq, conn, command, params_json(nParams, paramValues, paramLengths, paramFormats), t0, r);
    return r;
}

PGresult *dtb_pq_prepare(PGconn *conn, const char *stmtName, const char *query, int nParams,
                         const Oid *paramTypes)
{
    struct prepared *p = calloc(1, sizeof(*p));
    PGresult *r = PQprepare(conn, stmtName, query, nParams, paramTypes);
    if (p != NULL) {
        p->conn = conn;
        p->name = strdup(stmtName ? stmtName : "");
        p->sql = strdup(query ? query : "");
        if (p->name == NULL || p->sql == NULL) {
            free(p->name);
            free(p->sql);
            free(p);
        } else {
            pthread_mutex_lock(&prep_lock);
            p->next = preps;
            preps = p;
            pthread_mutex_unlock(&prep_lock);
        }
    }
    return r;
}

PGresult *(dtb_pq_exec_prepared)(PGconn *conn, const char *stmtName, int nParams,
                                 const char *const *paramValues, const int *paramLengths,
                                 const int *paramFormats, int resultFormat)
{
    struct dtb_request *rq = dtb_request_current();
    char *sql = NULL;
    int64_t t0;
    PGresult *r;
    if (rq == NULL)
        return PQexecPrepared(conn, stmtName, nParams, paramValues, paramLengths, paramFormats,
                              resultFormat);
    pthread_mutex_lock(&prep_lock);
    for (struct prepared *p = preps; p != NULL; p = p->next)
        if (p->conn == conn && strcmp(p->name, stmtName ? stmtName : "") == 0) {
            sql = strdup(p->sql);
            break;
        }
    pthread_mutex_unlock(&prep_lock);
    t0 = dtb_now_ns();
    r = PQexecPrepared(conn, stmtName, nParams, paramValues, paramLengths, paramFormats,
                       resultFormat);
    record(rq, conn, sql != NULL ? sql : "(prepared statement)",
           params_json(nParams, paramValues, paramLengths, paramFormats), t0, r);
    free(sql);
    return r;
}

void dtb_pq_finish(PGconn *conn)
{
    pthread_mutex_lock(&prep_lock);
    for (struct prepared **pp = &preps; *pp != NULL;) {
        struct prepared *p = *pp;
        if (p->conn == conn) {
            *pp = p->next;
            free(p->name);
            free(p->sql);
            free(p);
        } else {
            pp = &p->next;
        }
    }
    pthread_mutex_unlock(&prep_lock);
    PQfinish(conn);
}

static json_t *error_answer(PGconn *conn, PGresult *res)
{
    const char *m = res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(conn);
    json_t *s = json_string(m != NULL && m[0] != '\0' ? m : "PostgreSQL error");
    return json_pack("{s:o}", "error", s != NULL ? s : json_string("PostgreSQL error"));
}

json_t *dtbi_pq_run(const char *action, const char *info, const char *sql, const json_t *params,
                    unsigned *status)
{
    PGconn *conn;
    PGresult *res = NULL;
    json_t *out = NULL;
    size_t n = json_array_size(params);
    const char **values = calloc(n + 1, sizeof(*values));
    char *text = NULL;
    *status = MHD_HTTP_BAD_REQUEST;
    if (values == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(params, i);
        if (!json_is_string(v) && !json_is_null(v)) {
            free(values);
            return json_pack("{s:s}", "error", "binary parameters cannot be replayed");
        }
        values[i] = json_string_value(v);
    }
    const char *p = sql;
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '(')
        p++;
    if (strcmp(action, "select") == 0 && strncasecmp(p, "SELECT", 6) != 0 &&
        strncasecmp(p, "WITH", 4) != 0) {
        free(values);
        return json_pack("{s:s}", "error", "only a read-only SELECT can be re-run");
    }
    conn = PQconnectdb(info);
    if (PQstatus(conn) != CONNECTION_OK) {
        out = json_pack("{s:s}", "error", "cannot connect to the database again");
        goto done;
    }
    res = PQexec(conn, "BEGIN READ ONLY");
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        goto failed;
    PQclear(res);
    res = PQexec(conn, "SET LOCAL statement_timeout = 2000");
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        goto failed;
    PQclear(res);
    if (strcmp(action, "select") == 0)
        text = strdup(sql);
    else if (asprintf(&text, "%s %s",
                      strcmp(action, "analyze") == 0 ? "EXPLAIN (ANALYZE, BUFFERS)" : "EXPLAIN",
                      sql) < 0)
        text = NULL;
    if (text == NULL)
        goto done;
    res = PQexecParams(conn, text, (int)n, NULL, values, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        goto failed;
    json_t *cols = json_array(), *rows = json_array();
    int nrows = PQntuples(res), ncols = PQnfields(res), shown = nrows > 100 ? 100 : nrows;
    for (int c = 0; c < ncols; c++)
        json_array_append_new(cols, json_string(PQfname(res, c)));
    for (int r = 0; r < shown; r++) {
        json_t *row = json_array();
        for (int c = 0; c < ncols; c++) {
            json_t *v = PQgetisnull(res, r, c) ? json_null() : json_string(PQgetvalue(res, r, c));
            json_array_append_new(row, v != NULL ? v : json_string("(not UTF-8)"));
        }
        json_array_append_new(rows, row);
    }
    if (strcmp(action, "select") == 0) {
        out = json_pack("{s:o,s:o,s:b}", "columns", cols, "rows", rows, "truncated", nrows > shown);
    } else {
        /* PostgreSQL's plan is text, one line per row: shown as a tree by indentation */
        json_t *plan = json_array();
        for (int r = 0; r < shown; r++)
            json_array_append_new(plan, json_pack("{s:i,s:i,s:s}", "id", r + 1, "parent", 0,
                                                  "detail", PQgetvalue(res, r, 0)));
        json_decref(cols);
        json_decref(rows);
        out = json_pack("{s:o}", "plan", plan);
    }
    *status = MHD_HTTP_OK;
    goto done;
failed:
    out = error_answer(conn, res);
done:
    PQclear(res);
    if (conn != NULL && PQstatus(conn) == CONNECTION_OK)
        PQclear(PQexec(conn, "ROLLBACK"));
    PQfinish(conn);
    free(text);
    free(values);
    return out;
}

#else /* without libpq: the API exists, nothing runs */

PGresult *(dtb_pq_exec)(PGconn *conn, const char *command)
{
    return NULL;
}

PGresult *(dtb_pq_exec_params)(PGconn *conn, const char *command, int nParams,
                               const Oid *paramTypes, const char *const *paramValues,
                               const int *paramLengths, const int *paramFormats, int resultFormat)
{
    return NULL;
}

PGresult *dtb_pq_prepare(PGconn *conn, const char *stmtName, const char *query, int nParams,
                         const Oid *paramTypes)
{
    return NULL;
}

PGresult *(dtb_pq_exec_prepared)(PGconn *conn, const char *stmtName, int nParams,
                                 const char *const *paramValues, const int *paramLengths,
                                 const int *paramFormats, int resultFormat)
{
    return NULL;
}

void dtb_pq_finish(PGconn *conn)
{
}

char *dtbi_pq_dsn_display(const struct dtb_toolbar *tb, const char *dsn)
{
    return strdup(DTBI_DSN_NO_LIBPQ); /* no libpq to parse it with: its text is never shown */
}

json_t *dtbi_pq_run(const char *action, const char *info, const char *sql, const json_t *params,
                    unsigned *status)
{
    *status = MHD_HTTP_BAD_REQUEST;
    return json_pack("{s:s}", "error", "this build has no PostgreSQL support (libpq)");
}

#endif
