/*
 * sql_int.h - shared between the SQL panel's files (not installed): the per-request query
 * list, the panel's state and the functions one file of the panel offers another.
 */
#ifndef DTB_PANELS_SQL_INT_H
#define DTB_PANELS_SQL_INT_H

#include <pthread.h>
#include <sqlite3.h>

#include "../panels.h"

#define N_PLUS_ONE_DEFAULT 5
#define MAX_INFLIGHT 8
#define MAX_DBS 16
#define STACK_MAX 32 /* return addresses taken per query (panel_options.sql.stacks) */
#define STACK_DEPTH_DEFAULT 5
#define SLOW_MS_DEFAULT 100.0 /* panel_options.sql.slow_ms */

/* ---- per-request state (arena) ------------------------------------------------------------ */

struct sql_text {
    const char *sql;
    uint64_t hash;
};

struct sql_query {
    uint32_t text;
    int db;               /* index into dbs, -1 for none */
    const char *engine;   /* static or arena */
    const char *expanded; /* arena; NULL when the statement has no parameters */
    json_t *params;       /* dtb_sql_record's params (the request owns them), or NULL */
    const char *error;    /* arena; the driver's error message, or NULL */
    int64_t start_ns;
    int64_t dur_ns;
    int64_t rows;
    const char *file;
    int line;
    const char *func;
    void **ips; /* arena: the return addresses at the query (stacks on, no macro site) */
    int nips;
};

struct inflight {
    sqlite3_stmt *stmt;
    int64_t start_ns;
    int64_t rows;
    const char *file;
    int line;
    const char *func;
    int nips;
    void *ips[STACK_MAX];
};

struct sql_state {
    const char *last_sql; /* sqlite3_sql() of the last statement: stable per statement */
    int last_text;
    sqlite3 *last_db;
    sqlite3_stmt *last_stmt; /* the statement of the last query recorded (st->q[n - 1]) */
    int last_dbi;
    struct sql_query *q;
    size_t n, cap;
    struct sql_text *texts;
    size_t ntexts, texts_cap;
    struct inflight fly[MAX_INFLIGHT];
    const char *dbs[MAX_DBS];
    const char *dbengs[MAX_DBS]; /* each database's engine ("sqlite", "postgresql", ...) */
    const char *dbvers[MAX_DBS]; /* the server's version, when the driver tells it */
    int ndbs;
    int stacks;         /* panel_options.sql.stacks: take each query's return addresses */
    int capture_params; /* panel_options.sql.capture_params: record bound values */
};

/* A database this process saw the app use (a SQLite file, a PostgreSQL connection's conninfo
 * without its password), under a key. Records carry only the key; an action runs on the
 * registered target, never on a path or conninfo read from a record. */
#define MAX_REGISTERED 64
#define DB_KEY_LEN 32
struct registered_db {
    char key[DB_KEY_LEN + 1];
    char *engine;
    char *target;
};

struct panel_state {
    struct dtb_toolbar *tb;
    long n_plus_one;
    int stacks;           /* panel_options.sql.stacks */
    int stack_depth;      /* frames shown from the call site outwards */
    double slow_ms;       /* panel_options.sql.slow_ms: slower queries are marked slow */
    int explain;          /* panel_options.sql.explain: the Explain and Re-run actions */
    int capture_params;   /* panel_options.sql.capture_params: record bound parameters */
    pthread_mutex_t lock; /* guards databases and registered */
    json_t *databases;    /* declared with dtb_sql_database */
    struct registered_db registered[MAX_REGISTERED];
    int nregistered;
};

extern const struct dtb_panel_ops dtb_panel_sql;

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
json_t *dtbi_pq_run(const char *action, const char *conninfo, const char *sql, const json_t *params,
                    unsigned *status);

/* What a connection string is shown as when libpq rejects it, or when there is no libpq. */
#define DTBI_DSN_UNPARSABLE "(unparsable connection string)"
#define DTBI_DSN_NO_LIBPQ "(connection string not shown: built without libpq)"

/* A connection string (key=value or postgresql:// URI) as shown: parsed by libpq's
 * PQconninfoParse and rebuilt as key=value pairs, with the values of password options
 * (password, sslpassword) and of secret-named options (tb's redaction list; tb may be NULL)
 * replaced by DTB_REDACTED. DTBI_DSN_UNPARSABLE when libpq rejects it, DTBI_DSN_NO_LIBPQ in a
 * build without libpq. A new string (free()), or NULL when out of memory. */
char *dtbi_pq_dsn_display(const struct dtb_toolbar *tb, const char *dsn);

/* The panel's handle_action (actions.c): "explain", "select" or "analyze" on one recorded
 * query, for a body {"request", "query", "sig"}. */
unsigned dtbi_sql_handle_action(void *state, struct dtb_toolbar *tb, const char *action,
                                const json_t *body, json_t **answer);

/* Reads a signed action's body: {"request": 16 hex digits, "query": index >= 0, "sig": ...}.
 * Returns 0 with id, index and sig (empty when missing or not 64 characters) filled, or -1. */
int dtbi_sql_action_fields(const json_t *req, char id[17], size_t *index, char sig[65]);
int dtbi_sql_action_parse(const char *body, size_t len, char id[17], size_t *index, char sig[65]);

/* ---- panel.c ----------------------------------------------------------------------------- */

/* tb's SQL panel state, or NULL when the panel is off or tb not started. */
struct panel_state *dtbi_sql_panel_of(const struct dtb_toolbar *tb);

/* Registers engine's target as a database of this process; returns its key (stable for the
 * panel's life: the same engine and target give the same key in every process), or NULL when
 * the registry is full. */
const char *dtbi_sql_register_db(struct panel_state *ps, const char *engine, const char *target);

/* The registered database under key: 0 with new copies of its engine and target, or -1 when
 * this process registered no such key. */
int dtbi_sql_lookup_db(struct panel_state *ps, const char *key, char **engine, char **target);

/* The call site the dtb_sqlite3_step() macro noted for the next query on this thread. */
struct dtbi_sql_site {
    const char *file;
    int line;
    const char *func;
};
extern _Thread_local struct dtbi_sql_site dtbi_sql_tl_site;

/* FNV-1a of s; its length into *len. */
uint64_t dtbi_sql_fnv1a(const char *s, size_t *len);

/* The index of sql's text among the request's texts (added when new), or -1. */
int dtbi_sql_intern_text(struct dtb_request *rq, struct sql_state *st, const char *sql);

/* A new, zeroed query at the end of the request's list (st->n not yet counted), or NULL. */
struct sql_query *dtbi_sql_new_query(struct dtb_request *rq, struct sql_state *st);

/* The index of a database among the request's databases (added when new), or -1. */
int dtbi_sql_intern_db(struct dtb_request *rq, struct sql_state *st, const char *engine,
                       const char *name);

/* ---- capture_sqlite.c -------------------------------------------------------------------- */

/* A SQLite file's schema version (PRAGMA user_version), cached a few seconds; -1 when it
 * cannot be read. */
int dtbi_sql_schema_version(const char *file);

/* A file this process attached (dtb_sqlite_attach*) whose database key is key: a new string,
 * or NULL. */
char *dtbi_sql_attached_file(const char *key);

/* ---- lexer.c ----------------------------------------------------------------------------- */

/* Whether c can be part of an identifier. */
int dtbi_sql_is_ident(unsigned char c);

/* Skips a quoted literal or identifier at s (quote q, doubled to escape); returns past it. */
const char *dtbi_sql_skip_quoted(const char *s);

/* The next parameter at or after t outside quoted text: its start, with its length in *tok;
 * NULL when there is none. */
const char *dtbi_sql_next_param(const char *t, size_t *tok);

/* Splits expanded against the template sql into parameter values (secrets redacted). */
json_t *dtbi_sql_params_from_expanded(const struct dtb_toolbar *tb, const char *sql,
                                      const char *expanded);

/* ---- analyze.c --------------------------------------------------------------------------- */

/* The content a query's signature binds (its SQL, parameters and database key): 0 with
 * parts filled (*params_text to free), or -1 when there is nothing to sign. */
int dtbi_sql_query_content(const json_t *q, struct dtb_sign_part parts[3], char **params_text);

/* What a query's signature authorizes: actions on query index of request id. */
void dtbi_sql_query_subject(char out[64], const char *id, size_t index);

/* The panel's to_json: the record of rq's queries. */
json_t *dtbi_sql_to_json(void *state, struct dtb_request *rq, void *req_state);

/* The panel's summary: the history list's "queries", "n_plus_one" (statements that ran
 * n_plus_one times or more), "slow_queries" and "sql_errors". */
int dtbi_sql_summary(const json_t *stats, json_t *fields);

/* ---- render.c ---------------------------------------------------------------------------- */

/* The panel's nav_subtitle and render_html. */
int dtbi_sql_subtitle(const json_t *stats, struct dtb_buf *out);
int dtbi_sql_render(const json_t *stats, struct dtb_buf *out);

#endif
