/*
 * sql.c - the SQL panel: capture from SQLite (sqlite3_trace_v2) and from any driver
 * (dtb_sql_record), duplicate / similar / N+1 detection, slow queries, the databases, and the
 * signed actions (EXPLAIN QUERY PLAN, re-run of a single read-only SELECT).
 *
 * Hot path (a statement run during a request): the STMT event notes the start on the toolbar's
 * monotonic clock (SQLite's own profile figure has 1 ms resolution), ROW events count rows, the
 * PROFILE event records. Each distinct statement text is kept once per request (interned by
 * hash; the N+1 pattern repeats one text). Parameters are captured as SQLite's expanded SQL,
 * only for statements that have parameters; they are split into values when the record is
 * built, after the response has been sent, never while the app waits.
 *
 * The call site comes from the dtb_sqlite3_step() macro (file, line and function of the app's
 * code, exact and nearly free), not from a backtrace: symbolizing needs debug info and costs
 * microseconds per query. Statements stepped without the macro show no call site, unless
 * panel_options.sql.stacks is on: then the statement's start (or dtb_sql_record's call) takes
 * the raw return addresses with libunwind (no symbols, no allocation: a few microseconds, see
 * bench/sql_capture), and when the record is built, after the response, they are named with
 * libdw (symbols.c) and the call site is the first frame outside SQLite, libpq and the
 * toolbar, followed by up to stack_depth - 1 of its callers.
 *
 * Actions take only a request id, a query index and that query's signature (sign.c), made
 * when the record is built: an HMAC over the id and index, bound to a SHA-256 of the query's
 * SQL, parameters and database key. A signature opens one query only, and only as it was
 * recorded: SQL or parameters changed in the store (Redis can be written by others) no longer
 * verify. The database is a key into a registry of the databases this process saw the app use
 * (the files and connections the capture hooks met); an action whose key this process did not
 * register answers 404, and no path or conninfo is ever taken from a record. A re-run is
 * read-only by construction: a separate read-only
 * connection, a single statement that sqlite3_stmt_readonly() accepts, a time limit, 100 rows.
 * PostgreSQL capture and its actions live in sql_pq.c.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sqlite3.h>

#include "config.h"
#ifdef HAVE_PROFILER
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#endif

#include "debugtoolbar/sql.h"
#include "sampler.h"
#include "spans.h"
#include "sql.h"

#define N_PLUS_ONE_DEFAULT 5
#define MAX_INFLIGHT 8
#define MAX_DBS 16
#define RERUN_MAX_ROWS 100
#define RERUN_TIME_LIMIT_NS 2000000000LL
#define STACK_MAX 32 /* return addresses taken per query (panel_options.sql.stacks) */
#define STACK_DEPTH_DEFAULT 5

/* ---- per-request state (arena) ------------------------------------------------------------ */

struct sql_text {
    const char *sql;
    uint64_t hash;
};

struct sql_query {
    uint32_t text;
    int db;                   /* index into dbs, -1 for none */
    const char *engine;       /* static or arena */
    const char *expanded;     /* arena; NULL when the statement has no parameters */
    json_t *params;           /* dtb_sql_record's params (the request owns them), or NULL */
    const char *error;        /* arena; the driver's error message, or NULL */
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
    int stacks; /* panel_options.sql.stacks: take each query's return addresses */
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
    pthread_mutex_t lock; /* guards databases and registered */
    json_t *databases;    /* declared with dtb_sql_database */
    struct registered_db registered[MAX_REGISTERED];
    int nregistered;
};

extern const struct dtb_panel_ops dtb_panel_sql;

/* tb's SQL panel state, or NULL when the panel is off or tb not started. */
static struct panel_state *panel_of(const struct dtb_toolbar *tb)
{
    for (size_t i = 0; tb != NULL && i < tb->nenabled; i++)
        if (tb->enabled_panels[i] == &dtb_panel_sql)
            return tb->panel_states[i];
    return NULL;
}

/* Guards the attach list (SQLite capture, below) and the attached files. */
static pthread_mutex_t attach_lock = PTHREAD_MUTEX_INITIALIZER;

/* The SQLite files this process attached (dtb_sqlite_attach*), so that an action on a database
 * that another process sharing the store recorded runs here too when this process opened the
 * same file, even before any of its own requests used it. Bounded like the registry. */
#define MAX_ATTACHED_FILES 64
static char *attached_files[MAX_ATTACHED_FILES];
static int nattached_files;

static void remember_attached_file(sqlite3 *db)
{
    const char *f = sqlite3_db_filename(db, "main");
    if (f == NULL || f[0] == '\0')
        return; /* in-memory and temporary databases have no file another process could open */
    pthread_mutex_lock(&attach_lock);
    int known = 0;
    for (int i = 0; i < nattached_files && !known; i++)
        known = strcmp(attached_files[i], f) == 0;
    if (!known && nattached_files < MAX_ATTACHED_FILES &&
        (attached_files[nattached_files] = strdup(f)) != NULL)
        nattached_files++;
    pthread_mutex_unlock(&attach_lock);
}

/* Registers engine's target as a database of this process; returns its key (stable for the
 * panel's life: the same engine and target give the same key in every process), or NULL when
 * the registry is full. The key is the first DB_KEY_LEN hex digits of SHA-256(engine NUL
 * target), so processes sharing a store agree on it for the databases they both use. */
static const char *register_db(struct panel_state *ps, const char *engine, const char *target)
{
    size_t el = strlen(engine), tl = strlen(target);
    char key[DB_KEY_LEN + 1];
    char *both = malloc(el + tl + 2);
    const char *found = NULL;
    if (both == NULL)
        return NULL;
    memcpy(both, engine, el + 1);
    memcpy(both + el + 1, target, tl + 1);
    dtbi_sha256_hex(both, el + tl + 1, key, DB_KEY_LEN);
    free(both);
    pthread_mutex_lock(&ps->lock);
    for (int i = 0; i < ps->nregistered && found == NULL; i++)
        if (strcmp(ps->registered[i].key, key) == 0)
            found = ps->registered[i].key;
    if (found == NULL && ps->nregistered < MAX_REGISTERED) {
        struct registered_db *r = &ps->registered[ps->nregistered];
        r->engine = strdup(engine);
        r->target = strdup(target);
        if (r->engine != NULL && r->target != NULL) {
            memcpy(r->key, key, sizeof(key));
            found = r->key;
            ps->nregistered++;
        } else {
            free(r->engine);
            free(r->target);
        }
    }
    pthread_mutex_unlock(&ps->lock);
    return found;
}

/* The registered database under key: 0 with new copies of its engine and target, or -1 when
 * this process registered no such key. */
static int lookup_db(struct panel_state *ps, const char *key, char **engine, char **target)
{
    int rc = -1;
    if (ps == NULL || key == NULL)
        return -1;
    pthread_mutex_lock(&ps->lock);
    for (int i = 0; i < ps->nregistered && rc != 0; i++) {
        if (strcmp(ps->registered[i].key, key) == 0) {
            *engine = strdup(ps->registered[i].engine);
            *target = strdup(ps->registered[i].target);
            rc = 0;
        }
    }
    pthread_mutex_unlock(&ps->lock);
    if (rc != 0) {
        /* not used here yet: a file this process attached, registered now if its key matches */
        char *file = NULL;
        pthread_mutex_lock(&attach_lock);
        for (int i = 0; i < nattached_files && file == NULL; i++) {
            size_t n = strlen(attached_files[i]);
            char both[8 + PATH_MAX], k[DB_KEY_LEN + 1];
            if (n >= PATH_MAX)
                continue;
            memcpy(both, "sqlite", 7);
            memcpy(both + 7, attached_files[i], n + 1);
            dtbi_sha256_hex(both, 7 + n, k, DB_KEY_LEN);
            if (strcmp(k, key) == 0)
                file = strdup(attached_files[i]);
        }
        pthread_mutex_unlock(&attach_lock);
        if (file != NULL && register_db(ps, "sqlite", file) != NULL) {
            *engine = strdup("sqlite");
            *target = file;
            file = NULL;
            rc = 0;
        }
        free(file);
    }
    if (rc == 0 && (*engine == NULL || *target == NULL)) {
        free(*engine);
        free(*target);
        rc = -1;
    }
    return rc;
}

/* A SQLite file's schema version (PRAGMA user_version), read through a separate read-only
 * connection (never the app's, which may be busy on another thread) and cached for a few
 * seconds per file. Returns -1 when it cannot be read. */
#define SCHEMA_CACHE 8
static pthread_mutex_t schema_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char file[256];
    int version;
    int64_t read_ns;
} schema_cache[SCHEMA_CACHE];

static int schema_version(const char *file)
{
    int64_t now = dtb_now_ns();
    int version = -1, slot = 0;
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    if (file == NULL || file[0] == '\0' || strlen(file) >= sizeof(schema_cache[0].file))
        return -1;
    pthread_mutex_lock(&schema_lock);
    for (int i = 0; i < SCHEMA_CACHE; i++) {
        if (strcmp(schema_cache[i].file, file) == 0 &&
            now - schema_cache[i].read_ns < 5000000000LL) {
            version = schema_cache[i].version;
            pthread_mutex_unlock(&schema_lock);
            return version;
        }
        if (schema_cache[i].read_ns < schema_cache[slot].read_ns)
            slot = i;
    }
    pthread_mutex_unlock(&schema_lock);
    if (dtbi_real()->sqlite3_open_v2(file, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    dtbi_real()->sqlite3_close(db);
    pthread_mutex_lock(&schema_lock);
    snprintf(schema_cache[slot].file, sizeof(schema_cache[slot].file), "%s", file);
    schema_cache[slot].version = version;
    schema_cache[slot].read_ns = now;
    pthread_mutex_unlock(&schema_lock);
    return version;
}

static _Thread_local struct {
    const char *file;
    int line;
    const char *func;
} tl_site;

void dtb_sql_site(const char *file, int line, const char *func)
{
    DTBI_TOOLBAR_SCOPE();
    if (dtb_request_current() == NULL)
        return; /* nothing will record it: it must not stick to a later query */
    tl_site.file = file;
    tl_site.line = line;
    tl_site.func = func;
}

static uint64_t fnv1a(const char *s, size_t *len)
{
    uint64_t h = 1469598103934665603ULL;
    const char *p = s;
    for (; *p != '\0'; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    *len = (size_t)(p - s);
    return h;
}

/* Grows an arena array: a new block twice the size (the old one stays in the arena). */
static void *grow(struct dtb_request *rq, void *old, size_t *cap, size_t n, size_t elem)
{
    size_t ncap = *cap ? *cap * 2 : 16;
    void *p = dtb_request_alloc(rq, ncap * elem);
    if (p == NULL)
        return NULL;
    if (old != NULL)
        memcpy(p, old, n * elem);
    *cap = ncap;
    return p;
}

static int intern_text(struct dtb_request *rq, struct sql_state *st, const char *sql)
{
    size_t len;
    uint64_t h = fnv1a(sql, &len);
    for (size_t i = st->ntexts; i-- > 0;)
        if (st->texts[i].hash == h && strcmp(st->texts[i].sql, sql) == 0)
            return (int)i;
    if (st->ntexts == st->texts_cap) {
        struct sql_text *t = grow(rq, st->texts, &st->texts_cap, st->ntexts, sizeof(*t));
        if (t == NULL)
            return -1;
        st->texts = t;
    }
    char *copy = dtb_request_alloc(rq, len + 1);
    if (copy == NULL)
        return -1;
    memcpy(copy, sql, len + 1);
    st->texts[st->ntexts].sql = copy;
    st->texts[st->ntexts].hash = h;
    return (int)st->ntexts++;
}

static struct sql_query *new_query(struct dtb_request *rq, struct sql_state *st)
{
    if (st->n == st->cap) {
        struct sql_query *q = grow(rq, st->q, &st->cap, st->n, sizeof(*q));
        if (q == NULL)
            return NULL;
        st->q = q;
    }
    struct sql_query *q = &st->q[st->n];
    memset(q, 0, sizeof(*q));
    q->db = -1;
    return q;
}

static int intern_db(struct dtb_request *rq, struct sql_state *st, const char *engine,
                     const char *name)
{
    if (name == NULL || engine == NULL)
        return -1;
    for (int i = 0; i < st->ndbs; i++)
        if (strcmp(st->dbs[i], name) == 0 && strcmp(st->dbengs[i], engine) == 0)
            return i;
    if (st->ndbs == MAX_DBS)
        return -1;
    st->dbs[st->ndbs] = dtb_request_strdup(rq, name);
    st->dbengs[st->ndbs] = dtb_request_strdup(rq, engine);
    return st->dbs[st->ndbs] && st->dbengs[st->ndbs] ? st->ndbs++ : -1;
}

/* ---- SQLite capture ----------------------------------------------------------------------- */

struct attach {
    sqlite3 *db;
    unsigned app_mask;
    dtb_sqlite_trace_fn app_cb;
    void *app_ctx;
    struct attach *next;
};

static struct attach *attached;


static void on_stmt(struct sql_state *st, sqlite3_stmt *stmt, const char *text)
{
    if (text != NULL && text[0] == '-' && text[1] == '-')
        return; /* a statement run by a trigger: part of its caller */
    for (int i = 0; i < MAX_INFLIGHT; i++) {
        if (st->fly[i].stmt == NULL || st->fly[i].stmt == stmt) {
            st->fly[i].stmt = stmt;
            st->fly[i].start_ns = dtb_now_ns();
            st->fly[i].rows = 0;
            st->fly[i].file = tl_site.file;
            st->fly[i].line = tl_site.line;
            st->fly[i].func = tl_site.func;
            st->fly[i].nips = 0;
#ifdef HAVE_PROFILER
            if (st->stacks && tl_site.file == NULL)
                st->fly[i].nips = unw_backtrace(st->fly[i].ips, STACK_MAX);
#endif
            tl_site.file = NULL;
            return;
        }
    }
}

static struct inflight *find_inflight(struct sql_state *st, sqlite3_stmt *stmt)
{
    for (int i = 0; i < MAX_INFLIGHT; i++)
        if (st->fly[i].stmt == stmt)
            return &st->fly[i];
    return NULL;
}

static void on_profile(struct dtb_request *rq, struct sql_state *st, sqlite3_stmt *stmt)
{
    int64_t now = dtb_now_ns();
    struct inflight *f = find_inflight(st, stmt);
    struct sql_query *q;
    const char *sql = sqlite3_sql(stmt);
    int text;
    if (f == NULL || sql == NULL)
        return;
    q = new_query(rq, st);
    if (q == NULL) {
        f->stmt = NULL;
        return;
    }
    /* The N+1 pattern re-runs one statement: same text pointer and same text (a finalized
     * statement's memory can be reused by another), so the hash lookup is skipped. */
    if (sql == st->last_sql && strcmp(sql, st->texts[st->last_text].sql) == 0) {
        text = st->last_text;
    } else {
        text = intern_text(rq, st, sql);
        if (text < 0) {
            f->stmt = NULL;
            return;
        }
        st->last_sql = sql;
        st->last_text = text;
    }
    q->text = (uint32_t)text;
    q->engine = "sqlite";
    q->start_ns = f->start_ns;
    q->dur_ns = now - f->start_ns;
    dtbi_span_add(rq, DTBI_SPAN_SQL, st->texts[text].sql, q->start_ns, q->dur_ns);
    q->rows = f->rows;
    q->file = f->file;
    q->line = f->line;
    q->func = f->func;
    if (f->nips > 0 && (q->ips = dtb_request_alloc(rq, (size_t)f->nips * sizeof(void *))) != NULL) {
        memcpy(q->ips, f->ips, (size_t)f->nips * sizeof(void *));
        q->nips = f->nips;
    }
    sqlite3 *db = sqlite3_db_handle(stmt);
    if (db != st->last_db || st->last_db == NULL) {
        st->last_db = db;
        st->last_dbi = intern_db(rq, st, "sqlite", sqlite3_db_filename(db, "main"));
    }
    q->db = st->last_dbi;
    if (sqlite3_bind_parameter_count(stmt) > 0 && dtb_request_toolbar(rq)->cfg.sql_capture_params) {
        char *x = sqlite3_expanded_sql(stmt);
        q->expanded = dtb_request_strdup(rq, x);
        sqlite3_free(x);
    }
    f->stmt = NULL;
    st->last_stmt = stmt;
    st->n++;
}

/* The current request's SQL state, cached per thread: a request id (random, 64 bits) tells a
 * new request that reuses an old one's address apart. */
static _Thread_local struct {
    struct dtb_request *rq;
    char id[17];
    struct sql_state *st;
} tl_state;

static struct sql_state *state_of(struct dtb_request *rq)
{
    if (tl_state.rq != rq || memcmp(tl_state.id, dtb_request_id(rq), 16) != 0) {
        tl_state.rq = rq;
        memcpy(tl_state.id, dtb_request_id(rq), 17);
        tl_state.st = dtb_request_panel_state(rq, "sql");
    }
    return tl_state.st;
}

void dtb_sql_step_failed(sqlite3_stmt *stmt, int rc)
{
    DTBI_TOOLBAR_SCOPE();
    struct dtb_request *rq = dtb_request_current();
    struct sql_state *st = rq != NULL ? state_of(rq) : NULL;
    /* SQLite reports the statement's end (PROFILE) inside sqlite3_step, before it returns */
    if (st == NULL || st->n == 0 || st->last_stmt != stmt || st->q[st->n - 1].error != NULL)
        return;
    char msg[512];
    snprintf(msg, sizeof(msg), "%s (%s)", sqlite3_errmsg(sqlite3_db_handle(stmt)),
             sqlite3_errstr(rc));
    st->q[st->n - 1].error = dtb_request_strdup(rq, msg);
}

static int trace_cb(unsigned type, void *ctx, void *p, void *x)
{
    struct attach *a = ctx;
    struct dtb_request *rq = dtb_request_current();
    if (rq != NULL) {
        DTBI_TOOLBAR_SCOPE();
        struct sql_state *st = state_of(rq);
        if (st != NULL) {
            if (type == SQLITE_TRACE_STMT) {
                on_stmt(st, p, x);
            } else if (type == SQLITE_TRACE_ROW) {
                struct inflight *f = find_inflight(st, p);
                if (f != NULL)
                    f->rows++;
            } else if (type == SQLITE_TRACE_PROFILE) {
                on_profile(rq, st, p);
            }
        }
    }
    if (a != NULL && a->app_cb != NULL && (a->app_mask & type))
        return a->app_cb(type, a->app_ctx, p, x);
    return 0;
}

dtb_rc dtb_sqlite_attach_with(sqlite3 *db, unsigned app_mask, dtb_sqlite_trace_fn app_cb,
                              void *app_ctx)
{
    DTBI_TOOLBAR_SCOPE();
    struct attach *a = NULL;
    unsigned mask = SQLITE_TRACE_STMT | SQLITE_TRACE_PROFILE | SQLITE_TRACE_ROW;
    if (db == NULL)
        return DTB_EINVAL;
    remember_attached_file(db);
    if (app_cb != NULL) {
        a = calloc(1, sizeof(*a));
        if (a == NULL)
            return DTB_ENOMEM;
        a->db = db;
        a->app_mask = app_mask;
        a->app_cb = app_cb;
        a->app_ctx = app_ctx;
        pthread_mutex_lock(&attach_lock);
        a->next = attached;
        attached = a;
        pthread_mutex_unlock(&attach_lock);
        mask |= app_mask;
    }
    return sqlite3_trace_v2(db, mask, trace_cb, a) == SQLITE_OK ? DTB_OK : DTB_EINVAL;
}

dtb_rc dtb_sqlite_attach(sqlite3 *db)
{
    return dtb_sqlite_attach_with(db, 0, NULL, NULL);
}

void dtb_sqlite_detach(sqlite3 *db)
{
    DTBI_TOOLBAR_SCOPE();
    struct attach *found = NULL;
    pthread_mutex_lock(&attach_lock);
    for (struct attach **pp = &attached; *pp != NULL; pp = &(*pp)->next) {
        if ((*pp)->db == db) {
            found = *pp;
            *pp = found->next;
            break;
        }
    }
    pthread_mutex_unlock(&attach_lock);
    if (found != NULL)
        sqlite3_trace_v2(db, found->app_mask, found->app_cb, found->app_ctx);
    else
        sqlite3_trace_v2(db, 0, NULL, NULL);
    free(found);
}

void dtbi_sql_add(struct dtb_request *rq, const char *engine, const char *sql, json_t *params,
                  int64_t start_ns, int64_t duration_ns, int64_t rows, const char *db,
                  const char *error, const char *db_version)
{
    struct sql_state *st = dtb_request_panel_state(rq, "sql");
    struct sql_query *q;
    int text;
    if (st == NULL || sql == NULL) {
        json_decref(params);
        return;
    }
    q = new_query(rq, st);
    text = q != NULL ? intern_text(rq, st, sql) : -1;
    if (text < 0) {
        json_decref(params);
        return;
    }
    q->text = (uint32_t)text;
    q->engine = dtb_request_strdup(rq, engine ? engine : "sql");
    q->dur_ns = duration_ns;
    q->start_ns = start_ns;
    dtbi_span_add(rq, DTBI_SPAN_SQL, st->texts[text].sql, start_ns, duration_ns);
    q->rows = rows;
    q->file = tl_site.file;
    q->line = tl_site.line;
    q->func = tl_site.func;
#ifdef HAVE_PROFILER
    if (st->stacks && tl_site.file == NULL) {
        void *ips[STACK_MAX];
        int n = unw_backtrace(ips, STACK_MAX);
        if (n > 0 && (q->ips = dtb_request_alloc(rq, (size_t)n * sizeof(void *))) != NULL) {
            memcpy(q->ips, ips, (size_t)n * sizeof(void *));
            q->nips = n;
        }
    }
#endif
    tl_site.file = NULL;
    q->db = intern_db(rq, st, q->engine, db);
    if (q->db >= 0 && db_version != NULL && st->dbvers[q->db] == NULL)
        st->dbvers[q->db] = dtb_request_strdup(rq, db_version);
    q->error = error != NULL ? dtb_request_strdup(rq, error) : NULL;
    if (params != NULL && dtb_request_toolbar(rq)->cfg.sql_capture_params)
        q->params = dtb_request_own_json(rq, dtbi_sql_redact_params(dtb_request_toolbar(rq), sql, params));
    json_decref(params);
    st->n++;
}

void dtb_sql_record(const char *engine, const char *sql, const json_t *params, int64_t duration_ns,
                    int64_t rows)
{
    DTBI_TOOLBAR_SCOPE();
    struct dtb_request *rq = dtb_request_current();
    if (rq == NULL || sql == NULL)
        return;
    dtbi_sql_add(rq, engine, sql, params ? json_deep_copy(params) : NULL,
                 dtb_now_ns() - duration_ns, duration_ns, rows, NULL, NULL, NULL);
}

/* ---- parameters from SQLite's expanded SQL ------------------------------------------------ */

static int is_ident(unsigned char c)
{
    return isalnum(c) || c == '_' || c >= 0x80;
}

/* Skips a quoted literal or identifier at s (quote q, doubled to escape); returns past it. */
static const char *skip_quoted(const char *s)
{
    char q = *s++;
    while (*s != '\0') {
        if (*s == q) {
            if (s[1] == q) {
                s += 2;
                continue;
            }
            return s + 1;
        }
        s++;
    }
    return s;
}

/* Length of a parameter token at s (?NNN, :name, @name, $name), or 0. */
static size_t param_token(const char *s)
{
    size_t n = 1;
    if (*s == '?') {
        while (isdigit((unsigned char)s[n]))
            n++;
        return n;
    }
    if (*s == ':' || *s == '@' || *s == '$') {
        while (is_ident((unsigned char)s[n]))
            n++;
        return n > 1 ? n : 0;
    }
    return 0;
}

/* The next parameter at or after t outside quoted text: its start, with its length in *tok; NULL
 * at the end of the text. */
static const char *next_param(const char *t, size_t *tok)
{
    while (*t != '\0') {
        if (*t == '\'' || *t == '"' || *t == '`') {
            t = skip_quoted(t);
            continue;
        }
        if ((*tok = param_token(t)) > 0)
            return t;
        t++;
    }
    return NULL;
}

/* Reads the literal SQLite put in place of a parameter; returns a new JSON value (or NULL on
 * a mismatch) and advances *e. */
static json_t *read_literal(const char **e)
{
    const char *p = *e;
    if (strncmp(p, "NULL", 4) == 0) {
        *e = p + 4;
        return json_null();
    }
    if (*p == '\'') {
        const char *end = skip_quoted(p);
        size_t cap = (size_t)(end - p);
        char *buf = malloc(cap + 1);
        size_t n = 0;
        if (buf == NULL)
            return NULL;
        for (const char *c = p + 1; c < end - 1; c++) {
            buf[n++] = *c;
            if (*c == '\'' && c[1] == '\'')
                c++;
        }
        json_t *v = json_stringn(buf, n);
        free(buf);
        *e = end;
        return v != NULL ? v : json_pack("{s:s}", "text", "(not UTF-8)");
    }
    if ((*p == 'x' || *p == 'X') && p[1] == '\'') {
        const char *end = skip_quoted(p + 1);
        json_t *v = json_pack("{s:s%}", "blob", p + 2, (size_t)(end - p - 3));
        *e = end;
        return v;
    }
    if (*p == '-' || isdigit((unsigned char)*p)) {
        char *endp;
        long long i = strtoll(p, &endp, 10);
        if (*endp != '.' && *endp != 'e' && *endp != 'E') {
            *e = endp;
            return json_integer(i);
        }
        double d = strtod(p, &endp);
        *e = endp;
        return json_real(d);
    }
    return NULL;
}

/* The identifier a parameter at pos is compared with or inserted into, for redaction:
 * "password = ?" or an INSERT column list. Returns 1 when that name is a secret's. */
static int param_is_secret(const struct dtb_toolbar *tb, const char *sql, size_t pos, int index)
{
    const char *p = sql + pos;
    size_t n = 0;
    while (p > sql && (isspace((unsigned char)p[-1]) || strchr("=<>!", p[-1]) != NULL))
        p--;
    if (p - sql >= 4 && strncasecmp(p - 4, "LIKE", 4) == 0) {
        p -= 4;
        while (p > sql && isspace((unsigned char)p[-1]))
            p--;
    }
    const char *end = p;
    while (p > sql && is_ident((unsigned char)p[-1]))
        p--;
    n = (size_t)(end - p);
    if (n > 0 && dtbi_is_secret_namen(tb, p, n)) /* a name of any length */
        return 1;
    /* INSERT INTO t (a, b, password) VALUES (?, ?, ?): the index-th column */
    const char *ins = strcasestr(sql, "INSERT");
    const char *open = ins ? strchr(ins, '(') : NULL;
    const char *values = ins ? strcasestr(ins, "VALUES") : NULL;
    if (open != NULL && values != NULL && open < values && index >= 0) {
        const char *c = open + 1;
        for (int k = 0; k < index && c < values; k++) {
            c = strchr(c, ',');
            if (c == NULL || c > values)
                return 0;
            c++;
        }
        while (isspace((unsigned char)*c) || *c == '"' || *c == '`' || *c == '[')
            c++;
        n = 0;
        while (is_ident((unsigned char)c[n]))
            n++;
        return n > 0 && dtbi_is_secret_namen(tb, c, n);
    }
    return 0;
}

/* Splits expanded against the template sql into parameter values (secrets redacted).
 * Returns a new array, or NULL when the two do not line up. */
static json_t *params_from_expanded(const struct dtb_toolbar *tb, const char *sql,
                                    const char *expanded)
{
    const char *t = sql, *e = expanded;
    json_t *out = json_array();
    int index = 0;
    while (out != NULL && *t != '\0') {
        size_t tok;
        if (*t == '\'' || *t == '"' || *t == '`') {
            const char *end = skip_quoted(t);
            size_t n = (size_t)(end - t);
            if (strncmp(t, e, n) != 0)
                goto mismatch;
            t += n;
            e += n;
            continue;
        }
        tok = param_token(t);
        if (tok > 0) {
            json_t *v = read_literal(&e);
            if (v == NULL)
                goto mismatch;
            if (param_is_secret(tb, sql, (size_t)(t - sql), index)) {
                json_decref(v);
                v = json_string(DTB_REDACTED);
            }
            json_array_append_new(out, v);
            t += tok;
            index++;
            continue;
        }
        if (*t != *e)
            goto mismatch;
        t++;
        e++;
    }
    return out;
mismatch:
    json_decref(out);
    return NULL;
}

json_t *dtbi_sql_redact_params(const struct dtb_toolbar *tb, const char *sql, const json_t *params)
{
    json_t *out = json_deep_copy(params);
    size_t tok;
    int running = 0;
    if (!json_is_array(out))
        return out;
    for (const char *t = sql; (t = next_param(t, &tok)) != NULL; t += tok, running++) {
        int index = running;
        if (t[0] == '?' && tok > 1)
            index = atoi(t + 1) - 1;
        else if (t[0] == '$' && isdigit((unsigned char)t[1]))
            index = atoi(t + 1) - 1;
        if (index >= 0 && (size_t)index < json_array_size(out) &&
            param_is_secret(tb, sql, (size_t)(t - sql), index))
            json_array_set_new(out, (size_t)index, json_string(DTB_REDACTED));
    }
    return out;
}

/* ---- the panel ---------------------------------------------------------------------------- */

static int sql_init(void **state, struct dtb_toolbar *tb, const json_t *conf,
                    struct dtb_error *err)
{
    struct panel_state *ps = calloc(1, sizeof(*ps));
    json_t *n = json_object_get(conf, "n_plus_one");
    if (ps == NULL)
        return -1;
    ps->tb = tb;
    ps->n_plus_one = json_is_integer(n) && json_integer_value(n) > 1 ? (long)json_integer_value(n)
                                                                      : N_PLUS_ONE_DEFAULT;
    ps->stack_depth = STACK_DEPTH_DEFAULT;
    const json_t *stacks = json_object_get(conf, "stacks"),
                 *depth = json_object_get(conf, "stack_depth");
    const char *bad = NULL, *what = NULL;
    if (stacks != NULL && !json_is_boolean(stacks))
        bad = "stacks", what = "expected true or false";
    else if (depth != NULL && (!json_is_integer(depth) || json_integer_value(depth) < 1 ||
                               json_integer_value(depth) > 16))
        bad = "stack_depth", what = "expected an integer from 1 to 16";
    if (bad != NULL) {
        char path[64];
        int line = 0, col = 0;
        snprintf(path, sizeof(path), "panel_options.sql.%s", bad);
        dtbi_config_locate(&tb->cfg, path, &line, &col);
        dtbi_error_set(err, DTB_ECONFIG, tb->cfg.source, line, col, path, "%s", what);
        free(ps);
        return -1;
    }
    ps->stacks = json_is_true(stacks);
    if (depth != NULL)
        ps->stack_depth = (int)json_integer_value(depth);
    ps->databases = json_array();
    pthread_mutex_init(&ps->lock, NULL);
    *state = ps;
    return 0;
}

static void sql_cleanup(void *state)
{
    struct panel_state *ps = state;
    for (int i = 0; i < ps->nregistered; i++) {
        free(ps->registered[i].engine);
        free(ps->registered[i].target);
    }
    json_decref(ps->databases);
    pthread_mutex_destroy(&ps->lock);
    free(ps);
}

dtb_rc dtb_sql_database(struct dtb_toolbar *tb, const char *engine, const char *name_or_dsn,
                        const json_t *settings)
{
    struct panel_state *ps = panel_of(tb);
    if (engine == NULL || name_or_dsn == NULL)
        return DTB_EINVAL;
    if (ps == NULL)
        return DTB_ESTATE;
    /* A SQLite database is a file name, shown as it is. Anything else is a connection string:
     * libpq parses it and the display is rebuilt from its options, passwords redacted (no
     * text of ours picks a DSN apart); one libpq rejects is not shown at all. */
    char *shown = strncmp(engine, "sqlite", 6) == 0 ? strdup(name_or_dsn)
                                                    : dtbi_pq_dsn_display(tb, name_or_dsn);
    if (shown == NULL)
        return DTB_ENOMEM;
    json_t *d = json_pack("{s:s,s:s,s:O?}", "engine", engine, "name", shown, "settings",
                          (json_t *)settings);
    free(shown);
    if (d == NULL)
        return DTB_ENOMEM;
    pthread_mutex_lock(&ps->lock);
    json_array_append_new(ps->databases, d);
    pthread_mutex_unlock(&ps->lock);
    return DTB_OK;
}

static void *sql_start(void *state, struct dtb_request *rq)
{
    const struct panel_state *ps = state;
    struct sql_state *st = dtb_request_alloc(rq, sizeof(struct sql_state));
    if (st != NULL)
        st->stacks = ps->stacks;
    return st;
}

/* A frame of SQLite, libpq or the toolbar (by module, or by name when they are linked in). */
static int library_frame(const struct dtbi_symbol *s, int *database)
{
    static const char *const dbmods[] = {"libsqlite3", "libpq"};
    static const char *const dbfuncs[] = {"sqlite3", "PQ"};
    static const char *const ours[] = {"dtb_", "dtbi_"};
    for (size_t i = 0; i < 2; i++)
        if ((s->module != NULL && strncmp(s->module, dbmods[i], strlen(dbmods[i])) == 0) ||
            strncmp(s->function, dbfuncs[i], strlen(dbfuncs[i])) == 0)
            return *database = 1;
    if (s->module != NULL && strncmp(s->module, "libdebugtoolbar", 15) == 0)
        return 1;
    for (size_t i = 0; i < 2; i++)
        if (strncmp(s->function, ours[i], strlen(ours[i])) == 0)
            return 1;
    return 0;
}

static void frame_text(char *out, size_t len, const struct dtbi_symbol *s)
{
    if (s->at_file != NULL && s->at_line > 0)
        snprintf(out, len, "%s:%d (%s)", s->at_file, s->at_line, s->function);
    else
        snprintf(out, len, "%s (%s)", s->function, s->module != NULL ? s->module : "?");
}

/* The call site of a query from its return addresses: the first frame, past SQLite's or
 * libpq's, that is none of theirs nor the toolbar's; into site, and with its callers into a
 * new array *stack (up to depth frames). 0, or -1 when no frame qualifies. */
static int site_from_stack(void *const *ips, int n, int depth, char *site, size_t len,
                           json_t **stack)
{
    int seen_db = 0, at = -1;
    struct dtbi_symbol s;
    *stack = NULL;
    for (int i = 0; i < n && at < 0; i++) {
        int db = 0;
        dtbi_symbolize((uintptr_t)ips[i], 0, &s);
        if (library_frame(&s, &db))
            seen_db |= db;
        else if (seen_db)
            at = i;
    }
    if (at < 0)
        return -1;
    frame_text(site, len, &s);
    *stack = json_array();
    for (int i = at; i < n && (int)json_array_size(*stack) < depth && *stack != NULL; i++) {
        char f[300];
        int db = 0;
        dtbi_symbolize((uintptr_t)ips[i], 0, &s);
        if (i > at && library_frame(&s, &db))
            continue; /* the toolbar's wrapper around the app's handler */
        frame_text(f, sizeof(f), &s);
        json_array_append_new(*stack, dtb_json_text(f));
    }
    return 0;
}

struct qkey {
    uint32_t text;
    uint64_t hash;
    size_t index;
};

static int qkey_cmp(const void *a, const void *b)
{
    const struct qkey *x = a, *y = b;
    if (x->text != y->text)
        return x->text < y->text ? -1 : 1;
    if (x->hash != y->hash)
        return x->hash < y->hash ? -1 : 1;
    return x->index < y->index ? -1 : (x->index > y->index);
}

static json_t *query_params(const struct dtb_toolbar *tb, const struct sql_state *st,
                            const struct sql_query *q)
{
    if (q->params != NULL)
        return json_incref(q->params);
    if (q->expanded == NULL)
        return json_array();
    json_t *p = params_from_expanded(tb, st->texts[q->text].sql, q->expanded);
    return p != NULL ? p : json_null();
}

/* The content a query's signature binds, as the record holds it: its SQL text, its
 * parameters (compact JSON, keys sorted; empty when there are none) and its database key.
 * Returns 0 with parts filled (*params_text to free), or -1 when the query has no SQL or no
 * database (nothing to sign). */
static int query_content(const json_t *q, struct dtbi_sign_part parts[3], char **params_text)
{
    const json_t *sql = json_object_get(q, "sql"), *db = json_object_get(q, "db");
    const json_t *params = json_object_get(q, "params");
    *params_text = NULL;
    if (!json_is_string(sql) || !json_is_string(db))
        return -1;
    if (params != NULL) {
        *params_text = json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        if (*params_text == NULL)
            return -1;
    }
    parts[0].data = json_string_value(sql);
    parts[0].len = json_string_length(sql);
    parts[1].data = *params_text;
    parts[1].len = *params_text != NULL ? strlen(*params_text) : 0;
    parts[2].data = json_string_value(db);
    parts[2].len = json_string_length(db);
    return 0;
}

/* What a query's signature authorizes: actions on query index of request id. */
static void query_subject(char out[64], const char *id, size_t index)
{
    snprintf(out, 64, "sql:%s:%zu", id, index);
}

static json_t *sql_to_json(void *state, struct dtb_request *rq, void *req_state)
{
    struct panel_state *ps = state;
    struct sql_state *st = req_state;
    const struct dtb_toolbar *tb = dtb_request_toolbar(rq);
    int64_t t0 = dtb_request_times(rq)->start_ns, total = 0;
    json_t *queries = json_array(), *out;
    size_t dups = 0, similar = 0;
    if (st == NULL || queries == NULL) {
        json_decref(queries);
        return NULL;
    }
    /* each database the queries used is registered with this process, under a key: the
     * records name the key, and an action runs only on a database registered here */
    const char *dbkeys[MAX_DBS] = {NULL};
    for (int i = 0; i < st->ndbs; i++)
        dbkeys[i] = register_db(ps, st->dbengs[i], st->dbs[i]);
    size_t *per_text = calloc(st->ntexts + 1, sizeof(size_t));
    for (size_t i = 0; i < st->n; i++) {
        const struct sql_query *q = &st->q[i];
        char site[300] = "";
        json_t *params = query_params(tb, st, q);
        json_t *stack = NULL;
        if (q->file != NULL)
            snprintf(site, sizeof(site), "%s:%d (%s)", q->file, q->line, q->func ? q->func : "?");
        else if (q->nips > 0)
            site_from_stack(q->ips, q->nips, ps->stack_depth, site, sizeof(site), &stack);
        json_t *row = json_pack("{s:s,s:o,s:I,s:I,s:s,s:s?,s:I,s:s?,s:b,s:i,s:i}", "sql",
                                st->texts[q->text].sql, "params", params, "duration_ns",
                                (json_int_t)q->dur_ns, "start_ns", (json_int_t)(q->start_ns - t0),
                                "engine", q->engine, "call_site", site[0] ? site : NULL, "rows",
                                (json_int_t)q->rows, "db", q->db >= 0 ? dbkeys[q->db] : NULL,
                                "slow", (double)q->dur_ns / 1e6 > tb->cfg.sql_slow_ms,
                                "duplicate", 0, "similar", 0);
        if (row != NULL && q->error != NULL)
            json_object_set_new(row, "error", json_string(q->error));
        if (row != NULL && stack != NULL)
            json_object_set_new(row, "stack", stack);
        else
            json_decref(stack);
        if (row != NULL && tb->cfg.sql_explain && q->db >= 0 && dbkeys[q->db] != NULL &&
            (strcmp(q->engine, "sqlite") == 0 || strcmp(q->engine, "postgresql") == 0)) {
            /* each query that offers actions gets its own signature, over the request id and
             * its index, bound to its SQL, parameters and database key: a signature opens
             * that one query as it was recorded, and nothing else */
            char sig[65], subject[64], *params_text;
            struct dtbi_sign_part parts[3];
            if (query_content(row, parts, &params_text) == 0) {
                query_subject(subject, dtb_request_id(rq), json_array_size(queries));
                dtbi_sign(tb, subject, parts, 3, sig);
                json_object_set_new(row, "sig", json_string(sig));
            }
            free(params_text);
        }
        if (row != NULL)
            json_array_append_new(queries, row);
        else
            json_array_append_new(queries, json_pack("{s:s}", "sql", "(not UTF-8)"));
        total += q->dur_ns;
        if (per_text != NULL)
            per_text[q->text]++;
    }
    /* duplicates: same text and same parameters; similar: same text, other parameters.
     * Sorted by (text, hash of the parameters) so a request with many queries stays
     * O(n log n). */
    struct qkey *keys = calloc(st->n + 1, sizeof(*keys));
    for (size_t i = 0; i < st->n && keys != NULL; i++) {
        size_t len;
        keys[i].text = st->q[i].text;
        keys[i].index = i;
        if (st->q[i].expanded != NULL) {
            /* the expanded SQL is the text with its parameters: hash it as it is */
            keys[i].hash = fnv1a(st->q[i].expanded, &len);
        } else if (json_array_size(json_object_get(json_array_get(queries, i), "params")) == 0) {
            keys[i].hash = 0;
        } else {
            char *p = json_dumps(json_object_get(json_array_get(queries, i), "params"),
                                 JSON_COMPACT | JSON_ENCODE_ANY);
            keys[i].hash = p != NULL ? fnv1a(p, &len) : 0;
            free(p);
        }
    }
    if (keys != NULL)
        qsort(keys, st->n, sizeof(*keys), qkey_cmp);
    for (size_t i = 0; i < st->n && keys != NULL;) {
        size_t j = i;
        while (j < st->n && keys[j].text == keys[i].text && keys[j].hash == keys[i].hash)
            j++;
        json_int_t same = (json_int_t)(j - i);
        for (size_t k = i; k < j; k++) {
            json_t *a = json_array_get(queries, keys[k].index);
            json_int_t texts = per_text != NULL ? (json_int_t)per_text[keys[k].text] : same;
            json_object_set_new(a, "duplicate", json_integer(same - 1));
            json_object_set_new(a, "similar", json_integer(texts - same));
            dups += same > 1;
            similar += texts - same > 0;
        }
        i = j;
    }
    free(keys);
    json_t *nplus = json_array();
    for (size_t t = 0; t < st->ntexts && per_text != NULL; t++)
        if ((long)per_text[t] >= ps->n_plus_one)
            json_array_append_new(nplus, json_pack("{s:s,s:I}", "sql", st->texts[t].sql, "count",
                                                   (json_int_t)per_text[t]));
    free(per_text);
    json_t *dbs = json_array();
    for (int i = 0; i < st->ndbs; i++) {
        const char *engine = st->dbengs[i];
        json_t *d =
            json_pack("{s:s,s:s,s:s?}", "engine", engine, "name", st->dbs[i], "key", dbkeys[i]);
        if (d != NULL && strcmp(engine, "sqlite") == 0) {
            json_object_set_new(d, "version", json_string(sqlite3_libversion()));
            int v = schema_version(st->dbs[i]);
            if (v >= 0)
                json_object_set_new(d, "schema_version", json_integer(v));
        } else if (d != NULL && st->dbvers[i] != NULL) {
            json_object_set_new(d, "version", json_string(st->dbvers[i]));
        }
        json_array_append_new(dbs, d);
    }
    pthread_mutex_lock(&ps->lock);
    json_t *declared = json_deep_copy(ps->databases);
    pthread_mutex_unlock(&ps->lock);
    out = json_pack("{s:o,s:I,s:I,s:I,s:I,s:o,s:o,s:o,s:f,s:I}", "queries", queries, "count",
                    (json_int_t)st->n, "total_ns", (json_int_t)total, "duplicates",
                    (json_int_t)dups, "similar", (json_int_t)similar, "n_plus_one", nplus,
                    "databases", dbs, "declared_databases", declared ? declared : json_array(),
                    "slow_ms", tb->cfg.sql_slow_ms, "n_plus_one_threshold",
                    (json_int_t)ps->n_plus_one);
    if (out != NULL) {
        json_object_set_new(out, "actions", json_boolean(tb->cfg.sql_explain));
        /* the timeline's scale: the whole request, from its start to its completion */
        const struct dtb_request_times *tm = dtb_request_times(rq);
        if (tm->end_ns > tm->start_ns)
            json_object_set_new(out, "request_ns", json_integer((json_int_t)(tm->end_ns - tm->start_ns)));
    }
    return out;
}

/* ---- rendering ---------------------------------------------------------------------------- */

static const char *const keywords[] = {
    "SELECT", "FROM",   "WHERE",  "AND",    "OR",      "NOT",    "IN",      "IS",     "NULL",
    "INSERT", "INTO",   "VALUES", "UPDATE", "SET",     "DELETE", "JOIN",    "LEFT",   "RIGHT",
    "INNER",  "OUTER",  "ON",     "AS",     "ORDER",   "GROUP",  "BY",      "HAVING", "LIMIT",
    "OFFSET", "UNION",  "ALL",    "DISTINCT", "CREATE", "TABLE", "INDEX",  "DROP",   "ALTER",
    "BEGIN",  "COMMIT", "ROLLBACK", "WITH", "CASE",    "WHEN",   "THEN",    "ELSE",   "END",
    "LIKE",   "BETWEEN", "EXISTS", "PRAGMA", "ASC",    "DESC",   "COUNT",   "PRIMARY", "KEY",
};
static const char *const breaks[] = {"FROM", "WHERE", "GROUP", "ORDER", "LIMIT", "JOIN",
                                     "LEFT", "INNER", "VALUES", "SET", "HAVING", "UNION"};

static int word_in(const char *w, size_t n, const char *const *list, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (strlen(list[i]) == n && strncasecmp(w, list[i], n) == 0)
            return 1;
    return 0;
}

/* SQL formatted (a line break before major clauses) and highlighted; every byte escaped. */
static void render_sql(struct dtb_buf *out, const char *sql)
{
    const char *p = sql;
    dtb_buf_append_str(out, "<pre class=\"dtb-code\">");
    while (*p != '\0') {
        if (*p == '\'') {
            const char *end = skip_quoted(p);
            dtb_buf_append_str(out, "<span class=\"dtb-str\">");
            dtb_buf_append_html(out, p, (size_t)(end - p));
            dtb_buf_append_str(out, "</span>");
            p = end;
        } else if (isdigit((unsigned char)*p) && (p == sql || !is_ident((unsigned char)p[-1]))) {
            const char *s = p;
            while (isalnum((unsigned char)*p) || *p == '.')
                p++;
            dtb_buf_append_str(out, "<span class=\"dtb-num-lit\">");
            dtb_buf_append_html(out, s, (size_t)(p - s));
            dtb_buf_append_str(out, "</span>");
        } else if (is_ident((unsigned char)*p)) {
            const char *s = p;
            while (is_ident((unsigned char)*p))
                p++;
            size_t n = (size_t)(p - s);
            if (word_in(s, n, keywords, sizeof(keywords) / sizeof(keywords[0]))) {
                if (s != sql && word_in(s, n, breaks, sizeof(breaks) / sizeof(breaks[0])))
                    dtb_buf_append_str(out, "\n");
                dtb_buf_append_str(out, "<span class=\"dtb-kw\">");
                dtb_buf_append_html(out, s, n);
                dtb_buf_append_str(out, "</span>");
            } else {
                dtb_buf_append_html(out, s, n);
            }
        } else {
            size_t n = 1;
            while (p[n] != '\0' && (p[n] & 0xC0) == 0x80)
                n++; /* keep a UTF-8 sequence together */
            dtb_buf_append_html(out, p, n);
            p += n;
        }
    }
    dtb_buf_append_str(out, "</pre>");
}

static double ms(json_int_t ns)
{
    return (double)ns / 1e6;
}

static int sql_subtitle(const json_t *stats, struct dtb_buf *out)
{
    json_int_t n = json_integer_value(json_object_get(stats, "count"));
    json_int_t sim = 0;
    size_t i;
    json_t *q;
    char f[32];
    json_array_foreach(json_object_get(stats, "queries"), i, q)
        sim += json_integer_value(json_object_get(q, "similar")) > 0;
    dtbi_fmt_ms(ms(json_integer_value(json_object_get(stats, "total_ns"))), f, sizeof(f));
    if (sim > 0)
        return dtb_buf_appendf(out, "%lld quer%s, %lld similar, %s", (long long)n,
                               n == 1 ? "y" : "ies", (long long)sim, f);
    return dtb_buf_appendf(out, "%lld quer%s in %s", (long long)n, n == 1 ? "y" : "ies", f);
}

/* One recorded value as an SQL literal. */
static void append_literal(struct dtb_buf *b, const json_t *v)
{
    if (json_is_integer(v)) {
        dtb_buf_appendf(b, "%lld", (long long)json_integer_value(v));
    } else if (json_is_real(v)) {
        dtb_buf_appendf(b, "%.17g", json_real_value(v));
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v), *q;
        dtb_buf_append_str(b, "'");
        while ((q = strchr(s, '\'')) != NULL) {
            dtb_buf_append(b, s, (size_t)(q - s) + 1);
            dtb_buf_append_str(b, "'");
            s = q + 1;
        }
        dtb_buf_append_str(b, s);
        dtb_buf_append_str(b, "'");
    } else if (json_is_string(json_object_get(v, "blob"))) {
        dtb_buf_appendf(b, "X'%s'", json_string_value(json_object_get(v, "blob")));
    } else if (json_is_integer(json_object_get(v, "binary_bytes"))) {
        dtb_buf_appendf(b, "/* %lld binary bytes */",
                        (long long)json_integer_value(json_object_get(v, "binary_bytes")));
    } else {
        dtb_buf_append_str(b, "NULL");
    }
}

/* The statement with the recorded values (secrets already redacted) in place of its
 * parameters, made when the panel is rendered; NULL when they do not line up. PostgreSQL's $N
 * names the N-th value; SQLite's parameters took their values in the order they occur. */
static char *expand_sql(const char *sql, const json_t *params, int positional)
{
    struct dtb_buf b;
    const char *t = sql, *p;
    size_t j = 0, tok;
    dtb_buf_init(&b);
    if (t == NULL)
        return NULL;
    for (; (p = next_param(t, &tok)) != NULL; t = p + tok) {
        dtb_buf_append(&b, t, (size_t)(p - t)); /* the text up to the parameter */
        const json_t *v = positional && p[0] == '$' && isdigit((unsigned char)p[1])
                              ? json_array_get(params, (size_t)atoi(p + 1) - 1)
                              : json_array_get(params, j++);
        if (v == NULL) {
            dtb_buf_free(&b);
            return NULL;
        }
        append_literal(&b, v);
    }
    dtb_buf_append_str(&b, t);
    return dtb_buf_steal(&b);
}

static int sql_render(const json_t *stats, struct dtb_buf *out)
{
    json_t *queries = json_object_get(stats, "queries"), *q;
    json_int_t total = json_integer_value(json_object_get(stats, "total_ns"));
    size_t i;
    /* bars on the request's timeline (a query's place in the request shows where the time
     * went); records without the request's length scale to the last query's end */
    int64_t span = json_integer_value(json_object_get(stats, "request_ns"));
    if (span < 1)
        span = 1;
    json_array_foreach(queries, i, q)
    {
        int64_t end = json_integer_value(json_object_get(q, "start_ns")) +
                      json_integer_value(json_object_get(q, "duration_ns"));
        if (end > span)
            span = end;
    }
    char ftotal[32];
    dtb_buf_appendf(out, "<p><strong>%lld</strong> quer%s in <strong>%s</strong>",
                    (long long)json_integer_value(json_object_get(stats, "count")),
                    json_integer_value(json_object_get(stats, "count")) == 1 ? "y" : "ies",
                    dtbi_fmt_ms(ms(total), ftotal, sizeof(ftotal)));
    dtb_buf_appendf(out, ", %lld with duplicates, %lld with similar queries.</p>",
                    (long long)json_integer_value(json_object_get(stats, "duplicates")),
                    (long long)json_integer_value(json_object_get(stats, "similar")));
    json_array_foreach(json_object_get(stats, "n_plus_one"), i, q)
    {
        dtb_buf_appendf(out, "<div class=\"dtb-warn\"><strong>N+1?</strong> This statement ran "
                             "%lld times in one request:",
                        (long long)json_integer_value(json_object_get(q, "count")));
        render_sql(out, json_string_value(json_object_get(q, "sql")));
        dtb_buf_append_str(out, "</div>");
    }
    dtb_buf_append_str(out, "<table class=\"dtb-table\"><thead><tr><th>#</th><th>Query</th>"
                            "<th class=\"dtb-num\">Time</th><th class=\"dtb-num\">Rows</th>"
                            "<th>Timeline</th></tr></thead><tbody>");
    json_array_foreach(queries, i, q)
    {
        json_int_t dur = json_integer_value(json_object_get(q, "duration_ns"));
        json_int_t start = json_integer_value(json_object_get(q, "start_ns"));
        json_int_t dup = json_integer_value(json_object_get(q, "duplicate"));
        json_int_t sim = json_integer_value(json_object_get(q, "similar"));
        const char *engine = json_string_value(json_object_get(q, "engine"));
        const char *site = json_string_value(json_object_get(q, "call_site"));
        json_t *params = json_object_get(q, "params");
        dtb_buf_appendf(out, "<tr><td class=\"dtb-num\">%zu</td><td>", i + 1);
        render_sql(out, json_string_value(json_object_get(q, "sql")));
        if (json_array_size(params) > 0) {
            char *t = json_dumps(params, JSON_COMPACT);
            char *x = expand_sql(json_string_value(json_object_get(q, "sql")), params,
                                 engine != NULL && strcmp(engine, "postgresql") == 0);
            dtb_buf_append_str(out, "<div class=\"dtb-muted\">params <code>");
            dtb_buf_append_html_str(out, t ? t : "");
            dtb_buf_append_str(out, "</code></div>");
            if (x != NULL) {
                dtb_buf_append_str(out, "<details class=\"dtb-expanded\"><summary>with its "
                                        "values</summary>");
                render_sql(out, x);
                dtb_buf_append_str(out, "</details>");
            }
            free(t);
            free(x);
        }
        dtb_buf_append_str(out, "<div>");
        dtb_buf_append_str(out, "<span class=\"dtb-badge\">");
        dtb_buf_append_html_str(out, engine ? engine : "sql");
        dtb_buf_append_str(out, "</span>");
        if (json_is_true(json_object_get(q, "slow")))
            dtb_buf_append_str(out, "<span class=\"dtb-badge dtb-warn\">slow</span>");
        if (dup > 0)
            dtb_buf_appendf(out, "<span class=\"dtb-badge dtb-warn\">duplicated %lld\xC3\x97</span>",
                            (long long)dup + 1);
        if (sim > 0)
            dtb_buf_appendf(out, "<span class=\"dtb-badge\">similar %lld\xC3\x97</span>",
                            (long long)sim + 1);
        if (json_object_get(q, "error") != NULL) {
            dtb_buf_append_str(out, " <span class=\"dtb-error\">");
            dtb_buf_append_html_str(out, json_string_value(json_object_get(q, "error")));
            dtb_buf_append_str(out, "</span>");
        }
        if (site != NULL) {
            dtb_buf_append_str(out, " <span class=\"dtb-muted\">");
            dtbi_render_site(out, site);
            dtb_buf_append_str(out, "</span>");
        }
        const json_t *stack = json_object_get(q, "stack"), *fr;
        if (json_array_size(stack) > 1) {
            /* the call site's callers (panel_options.sql.stacks) */
            size_t k;
            dtb_buf_append_str(out, "<details class=\"dtb-sql-stack\"><summary>stack</summary>"
                                    "<ol class=\"dtb-muted\">");
            json_array_foreach(stack, k, fr)
            {
                dtb_buf_append_str(out, "<li>");
                dtbi_render_site(out, json_string_value(fr));
                dtb_buf_append_str(out, "</li>");
            }
            dtb_buf_append_str(out, "</ol></details>");
        }
        dtb_buf_append_str(out, "</div>");
        int pg = engine != NULL && strcmp(engine, "postgresql") == 0;
        if (engine != NULL && (strcmp(engine, "sqlite") == 0 || pg) &&
            json_object_get(q, "db") != NULL && json_is_true(json_object_get(stats, "actions"))) {
            static const char *const actions[][2] = {
                {"explain", "Explain"}, {"analyze", "Explain analyze"}, {"select", "Re-run"}};
            const char *sig = json_string_value(json_object_get(q, "sig"));
            for (int a = 0; a < 3; a++) {
                if (a == 1 && !pg)
                    continue; /* EXPLAIN ANALYZE is PostgreSQL's */
                dtb_buf_appendf(out, "<button type=\"button\" class=\"dtb-sql-action\" "
                                     "data-action=\"%s\" data-query=\"%zu\" data-sig=\"",
                                actions[a][0], i);
                dtb_buf_append_html_str(out, sig ? sig : "");
                dtb_buf_appendf(out, "\">%s</button>", actions[a][1]);
            }
        }
        dtb_buf_appendf(out,
                        "</td><td class=\"dtb-num\">%s</td><td class=\"dtb-num\">%lld</td>"
                        "<td><div class=\"dtb-timeline\"><span class=\"dtb-bar\" data-left=\"%.2f\""
                        " data-width=\"%.2f\"></span></div></td></tr>",
                        dtbi_fmt_ms(ms(dur), (char[32]){0}, 32),
                        (long long)json_integer_value(json_object_get(q, "rows")),
                        100.0 * (double)start / (double)span, 100.0 * (double)dur / (double)span);
    }
    dtb_buf_append_str(out, "</tbody></table>");
    json_t *dbs = json_object_get(stats, "databases"), *d;
    json_t *declared = json_object_get(stats, "declared_databases");
    if (json_array_size(dbs) + json_array_size(declared) > 0) {
        dtb_buf_append_str(out, "<h4 class=\"dtb-h\">Databases</h4><table class=\"dtb-table\">"
                                "<thead><tr><th>Engine</th><th>Database</th><th>Version</th>"
                                "<th>Schema</th><th>Settings</th></tr></thead><tbody>");
        for (int k = 0; k < 2; k++) {
            json_array_foreach(k == 0 ? declared : dbs, i, d)
            {
                dtb_buf_append_str(out, "<tr><td>");
                dtb_buf_append_html_str(out, json_string_value(json_object_get(d, "engine")));
                dtb_buf_append_str(out, "</td><td><code>");
                dtb_buf_append_html_str(out, json_string_value(json_object_get(d, "name")));
                dtb_buf_append_str(out, "</code></td><td>");
                dtb_buf_append_html_str(out, json_string_value(json_object_get(d, "version")));
                dtb_buf_append_str(out, "</td><td class=\"dtb-num\">");
                if (json_object_get(d, "schema_version") != NULL)
                    dtb_buf_appendf(out, "%lld", (long long)json_integer_value(
                                                     json_object_get(d, "schema_version")));
                dtb_buf_append_str(out, "</td><td>");
                if (json_object_get(d, "settings") != NULL)
                    dtb_render_json_tree(out, json_object_get(d, "settings"));
                dtb_buf_append_str(out, "</td></tr>");
            }
        }
        dtb_buf_append_str(out, "</tbody></table>");
    }
    return out->failed ? -1 : 0;
}

/* ---- signed actions ----------------------------------------------------------------------- */

static int progress_cb(void *deadline)
{
    return dtb_now_ns() > *(int64_t *)deadline;
}

static int hex_digit(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                          : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Binds one recorded value (as params_from_expanded wrote it) to parameter k. */
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
    for (const char *t = sql; (t = next_param(t, &tok)) != NULL; t += tok) {
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
    if (dtbi_real()->sqlite3_open_v2(file, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
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
        out = json_pack("{s:s}", "error", rc == SQLITE_INTERRUPT ? "time limit reached"
                                                                  : sqlite3_errmsg(db));
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
    dtbi_real()->sqlite3_close(db);
    if (out == NULL) {
        *status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        out = json_pack("{s:s}", "error", "out of memory");
    }
    return out;
}

int dtbi_sql_action_parse(const char *body, size_t len, char id[17], size_t *index,
                          char sig[65])
{
    json_t *req = body != NULL ? json_loadb(body, len, 0, NULL) : NULL;
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
    json_decref(req);
    return ok ? 0 : -1;
}

enum MHD_Result dtbi_sql_action(struct dtb_request *rq, struct MHD_Connection *con,
                                const char *action, const char *body, size_t body_len)
{
    struct dtb_toolbar *tb = rq->tb;
    char id[17], sig[65], subject[64], *params_text = NULL, *engine = NULL, *target = NULL;
    struct dtbi_sign_part parts[3];
    size_t index;
    unsigned status;
    json_t *rec, *q, *answer;
    if (!tb->cfg.sql_explain)
        return dtbi_send_json(con, MHD_HTTP_FORBIDDEN,
                              json_pack("{s:s}", "error", "SQL actions are off (sql.explain)"));
    if (strcmp(action, "explain") != 0 && strcmp(action, "select") != 0 &&
        strcmp(action, "analyze") != 0)
        return dtbi_send_json(con, MHD_HTTP_NOT_FOUND,
                              json_pack("{s:s}", "error", "no such action"));
    if (dtbi_sql_action_parse(body, body_len, id, &index, sig) != 0)
        return dtbi_send_json(
            con, MHD_HTTP_BAD_REQUEST,
            json_pack("{s:s}", "error", "expected {\"request\", \"query\", \"sig\"}"));
    rec = dtbi_load_record(tb, id);
    q = json_array_get(
        json_object_get(json_object_get(json_object_get(rec, "panels"), "sql"), "queries"), index);
    if (q == NULL) {
        json_decref(rec);
        return dtbi_send_json(con, MHD_HTTP_NOT_FOUND,
                              json_pack("{s:s}", "error", "unknown or expired request or query"));
    }
    /* the database is a key to one this process registered, never a path or conninfo taken
     * from the record (which anyone who can write the store could have changed) */
    const char *key = json_string_value(json_object_get(q, "db"));
    if (key != NULL && lookup_db(panel_of(tb), key, &engine, &target) != 0) {
        json_decref(rec);
        return dtbi_send_json(con, MHD_HTTP_NOT_FOUND,
                              json_pack("{s:s}", "error", "unknown database"));
    }
    /* the signature binds the SQL, the parameters and the database key as they were recorded */
    query_subject(subject, id, index);
    if (query_content(q, parts, &params_text) != 0 ||
        !dtbi_sign_verify(tb, subject, parts, 3, sig)) {
        free(params_text);
        free(engine);
        free(target);
        json_decref(rec);
        return dtbi_send_json(con, MHD_HTTP_FORBIDDEN,
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
    return dtbi_send_json(con, status, answer);
}

const struct dtb_panel_ops dtb_panel_sql = {
    .abi = DTB_PANEL_ABI,
    .id = "sql",
    .title = "SQL",
    .default_on = 1,
    .init = sql_init,
    .cleanup = sql_cleanup,
    .on_request_start = sql_start,
    .to_json = sql_to_json,
    .nav_subtitle = sql_subtitle,
    .render_html = sql_render,
};
