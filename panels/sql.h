/*
 * sql.h - shared between the SQL panel's files (not installed).
 */
#ifndef DTB_PANELS_SQL_H
#define DTB_PANELS_SQL_H

#include "panels.h"

/* Records one query into rq's SQL panel; params (a JSON array, stolen) may be NULL; db is a
 * file name or connection string (no password) that the toolbar registers, when the record is
 * built, as a database this process saw (the actions only run on registered databases); error
 * and db_version (the server's version, shown with the database) may be NULL. */
void dtbi_sql_add(struct dtb_request *rq, const char *engine, const char *sql, json_t *params,
                  int64_t start_ns, int64_t duration_ns, int64_t rows, const char *db,
                  const char *error, const char *db_version);

/* A copy of params with the values bound to secret-named columns redacted. New reference. */
json_t *dtbi_sql_redact_params(const struct dtb_toolbar *tb, const char *sql, const json_t *params);

/* Runs a signed action ("explain", "analyze", "select") on PostgreSQL in a READ ONLY
 * transaction with a statement timeout, rolled back. Returns a new JSON answer, sets *status. */
json_t *dtbi_pq_run(const char *action, const char *conninfo, const char *sql,
                    const json_t *params, unsigned *status);

/* What a connection string is shown as when libpq rejects it, or when there is no libpq. */
#define DTBI_DSN_UNPARSABLE "(unparsable connection string)"
#define DTBI_DSN_NO_LIBPQ "(connection string not shown: built without libpq)"

/* A connection string (key=value or postgresql:// URI) as shown: parsed by libpq's
 * PQconninfoParse and rebuilt as key=value pairs, with the values of password options
 * (password, sslpassword) and of secret-named options (tb's redaction list; tb may be NULL)
 * replaced by DTB_REDACTED. DTBI_DSN_UNPARSABLE when libpq rejects it, DTBI_DSN_NO_LIBPQ in a
 * build without libpq. A new string (free()), or NULL when out of memory. */
char *dtbi_pq_dsn_display(const struct dtb_toolbar *tb, const char *dsn);

/* Parses a signed action's body: {"request": 16 hex digits, "query": index >= 0, "sig": ...}.
 * Returns 0 with id, index and sig (empty when missing or not 64 characters) filled, or -1. */
int dtbi_sql_action_parse(const char *body, size_t len, char id[17], size_t *index,
                          char sig[65]);

#endif
