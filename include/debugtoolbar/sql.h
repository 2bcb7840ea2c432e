/*
 * debugtoolbar/sql.h - SQL capture for the SQL panel.
 *
 * SQLite: attach each connection once; every statement it runs while a request is current is
 * recorded (text once per distinct statement, bound parameters, duration from the toolbar's
 * own monotonic clock, rows, call site). Outside a request SQLite still calls the toolbar's
 * trace hook at each statement's start and end and at each row; the hook reads one thread-local
 * pointer and returns.
 *
 *     sqlite3_open_v2(path, &db, flags, NULL);
 *     dtb_sqlite_attach(db);
 *     ...
 *     rc = dtb_sqlite3_step(stmt);   // sqlite3_step that also records the call site
 *
 * Any other driver records through dtb_sql_record(). With -DDTB_DISABLE every call and macro
 * here compiles to nothing (or to the plain sqlite3_ call).
 */
#ifndef DEBUGTOOLBAR_SQL_H
#define DEBUGTOOLBAR_SQL_H

#include <stdint.h>

#include <debugtoolbar.h>
#include <sqlite3.h>

#ifdef __cplusplus
extern "C" {
#endif

/* SQLite's trace callback type (sqlite3_trace_v2). */
typedef int (*dtb_sqlite_trace_fn)(unsigned type, void *ctx, void *p, void *x);

/*
 * Starts recording db's statements (sqlite3_trace_v2 with STMT, PROFILE and ROW events).
 * SQLite allows one trace callback per connection: an app that traces too passes its own
 * callback, mask and context to dtb_sqlite_attach_with, and the toolbar calls it as well for
 * the events in its mask. Returns DTB_OK, DTB_EINVAL (db NULL) or DTB_ENOMEM. Any thread;
 * call once per connection, before use.
 */
DTB_EXPORT dtb_rc dtb_sqlite_attach(sqlite3 *db);
DTB_EXPORT dtb_rc dtb_sqlite_attach_with(sqlite3 *db, unsigned app_mask, dtb_sqlite_trace_fn app_cb,
                                         void *app_ctx);
/* Stops recording db (restoring the app's own callback, if any). Call before sqlite3_close. */
DTB_EXPORT void dtb_sqlite_detach(sqlite3 *db);

/* Sets the call site recorded for the next statement run on this thread (see the macro). */
DTB_EXPORT void dtb_sql_site(const char *file, int line, const char *func);

/* A query from any other driver. params is a JSON array (borrowed, copied) or NULL;
 * duration_ns from the caller's clock; rows -1 when unknown. No-op without a current request. */
DTB_EXPORT void dtb_sql_record(const char *engine, const char *sql, const json_t *params,
                               int64_t duration_ns, int64_t rows);

/* Declares a database for the panel: engine ("sqlite", "postgresql"), file or DSN, and
 * settings such as the pool (JSON object, borrowed, copied). A SQLite file name is shown as it
 * is; any other engine's DSN (key=value or postgresql:// URI) is parsed by libpq and shown
 * rebuilt from its options, passwords (password, sslpassword, secret-named options) redacted;
 * one libpq rejects shows as "(unparsable connection string)", and a build without libpq shows
 * no DSN text at all. */
DTB_EXPORT dtb_rc dtb_sql_database(struct dtb_toolbar *tb, const char *engine,
                                   const char *name_or_dsn, const json_t *settings);

/*
 * PostgreSQL (libpq): the same calls as PQexec, PQexecParams, PQprepare and PQexecPrepared,
 * recording each query (SQL, text parameters, duration, rows, errors, the database without its
 * password). Declared when <libpq-fe.h> is included before this header. A library built
 * without libpq still exports them; they then return NULL.
 */
#ifdef LIBPQ_FE_H
DTB_EXPORT PGresult *dtb_pq_exec(PGconn *conn, const char *command);
DTB_EXPORT PGresult *dtb_pq_exec_params(PGconn *conn, const char *command, int nParams,
                                        const Oid *paramTypes, const char *const *paramValues,
                                        const int *paramLengths, const int *paramFormats,
                                        int resultFormat);
DTB_EXPORT PGresult *dtb_pq_prepare(PGconn *conn, const char *stmtName, const char *query,
                                    int nParams, const Oid *paramTypes);
DTB_EXPORT PGresult *dtb_pq_exec_prepared(PGconn *conn, const char *stmtName, int nParams,
                                          const char *const *paramValues, const int *paramLengths,
                                          const int *paramFormats, int resultFormat);
/* Forgets conn's prepared statements, then PQfinish(conn). */
DTB_EXPORT void dtb_pq_finish(PGconn *conn);
#ifndef DTB_DISABLE
/* The calls that run a query also record the caller's file:line and function as its call site
 * (a function-like macro is not expanded inside itself: the inner names are the functions). */
#define dtb_pq_exec(conn, command)                                                                 \
    (dtb_sql_site(__FILE__, __LINE__, __func__), dtb_pq_exec(conn, command))
#define dtb_pq_exec_params(conn, command, n, types, values, lengths, formats, rformat)             \
    (dtb_sql_site(__FILE__, __LINE__, __func__),                                                   \
     dtb_pq_exec_params(conn, command, n, types, values, lengths, formats, rformat))
#define dtb_pq_exec_prepared(conn, name, n, values, lengths, formats, rformat)                     \
    (dtb_sql_site(__FILE__, __LINE__, __func__),                                                   \
     dtb_pq_exec_prepared(conn, name, n, values, lengths, formats, rformat))
#endif
#endif

/* Adds SQLite's error to the query stmt just ran (the dtb_sqlite3_step macro calls it when a
 * step fails: SQLite's trace events do not carry the result). */
DTB_EXPORT void dtb_sql_step_failed(sqlite3_stmt *stmt, int rc);

/* For a panel's own look at a SQLite file (an EXPLAIN, a schema version): sqlite3_open_v2 and
 * sqlite3_close as SQLite's library defines them, even under dtb-run, whose preloaded shim
 * attaches SQL capture to every connection the program opens; a connection opened so is never
 * recorded. Same arguments and results as SQLite's. */
DTB_EXPORT int dtb_sqlite_open_untraced(const char *file, sqlite3 **db, int flags);
DTB_EXPORT int dtb_sqlite_close_untraced(sqlite3 *db);

#ifdef DTB_DISABLE
#define dtb_sqlite3_step(stmt) sqlite3_step(stmt)
#else
static inline int dtb_sqlite3_step_at(sqlite3_stmt *stmt, const char *file, int line,
                                      const char *func)
{
    dtb_sql_site(file, line, func);
    int rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        dtb_sql_step_failed(stmt, rc);
    return rc;
}
/* sqlite3_step, recording the caller's file:line and function as the query's call site, and
 * the error when the statement fails. */
#define dtb_sqlite3_step(stmt) dtb_sqlite3_step_at((stmt), __FILE__, __LINE__, __func__)
#endif

#ifdef __cplusplus
}
#endif

#endif /* DEBUGTOOLBAR_SQL_H */
