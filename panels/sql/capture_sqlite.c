/*
 * capture_sqlite.c - the SQL panel's SQLite capture (sqlite3_trace_v2): the STMT event notes
 * the start on the toolbar's monotonic clock (SQLite's own profile figure has 1 ms
 * resolution), ROW events count rows, the PROFILE event records. Each distinct statement text
 * is kept once per request (interned by hash; the N+1 pattern repeats one text). Parameters
 * are captured as SQLite's expanded SQL, only for statements that have parameters; they are
 * split into values when the record is built (lexer.c), after the response has been sent,
 * never while the app waits. Also: the files this process attached (an action may run on
 * them) and each file's schema version.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#ifdef HAVE_PROFILER
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#endif

#include <sqlite3.h>

#include "debugtoolbar/sql.h"
#include "sql_int.h"

/* Guards the attach list (SQLite capture, below) and the attached files. */
static pthread_mutex_t attach_lock = PTHREAD_MUTEX_INITIALIZER;

/* The SQLite files this process attached (dtb_sqlite_attach*), so that an action on a database
 * that another process sharing the store recorded runs here too when this process opened the
 * same file, even before any of its own requests used it. Bounded like the registry. */
#define MAX_ATTACHED_FILES 64
static char *attached_files[MAX_ATTACHED_FILES];
static int nattached_files;

char *dtbi_sql_attached_file(const char *key)
{
    char *file = NULL;
    pthread_mutex_lock(&attach_lock);
    for (int i = 0; i < nattached_files && file == NULL; i++) {
        size_t n = strlen(attached_files[i]);
        char both[8 + PATH_MAX], k[DB_KEY_LEN + 1];
        if (n >= PATH_MAX)
            continue;
        memcpy(both, "sqlite", 7);
        memcpy(both + 7, attached_files[i], n + 1);
        dtb_sha256_hex(both, 7 + n, k, DB_KEY_LEN);
        if (strcmp(k, key) == 0)
            file = strdup(attached_files[i]);
    }
    pthread_mutex_unlock(&attach_lock);
    return file;
}

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

int dtbi_sql_schema_version(const char *file)
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
    if (dtb_sqlite_open_untraced(file, &db, SQLITE_OPEN_READONLY) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    dtb_sqlite_close_untraced(db);
    pthread_mutex_lock(&schema_lock);
    snprintf(schema_cache[slot].file, sizeof(schema_cache[slot].file), "%s", file);
    schema_cache[slot].version = version;
    schema_cache[slot].read_ns = now;
    pthread_mutex_unlock(&schema_lock);
    return version;
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
            st->fly[i].file = dtbi_sql_tl_site.file;
            st->fly[i].line = dtbi_sql_tl_site.line;
            st->fly[i].func = dtbi_sql_tl_site.func;
            st->fly[i].nips = 0;
#ifdef HAVE_PROFILER
            if (st->stacks && dtbi_sql_tl_site.file == NULL)
                st->fly[i].nips = unw_backtrace(st->fly[i].ips, STACK_MAX);
#endif
            dtbi_sql_tl_site.file = NULL;
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
    q = dtbi_sql_new_query(rq, st);
    if (q == NULL) {
        f->stmt = NULL;
        return;
    }
    /* The N+1 pattern re-runs one statement: same text pointer and same text (a finalized
     * statement's memory can be reused by another), so the hash lookup is skipped. */
    if (sql == st->last_sql && strcmp(sql, st->texts[st->last_text].sql) == 0) {
        text = st->last_text;
    } else {
        text = dtbi_sql_intern_text(rq, st, sql);
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
    dtb_span_add(rq, "sql", st->texts[text].sql, q->start_ns, q->dur_ns);
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
        st->last_dbi = dtbi_sql_intern_db(rq, st, "sqlite", sqlite3_db_filename(db, "main"));
    }
    q->db = st->last_dbi;
    if (sqlite3_bind_parameter_count(stmt) > 0 && st->capture_params) {
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
    DTB_TOOLBAR_SCOPE();
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
        DTB_TOOLBAR_SCOPE();
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
    DTB_TOOLBAR_SCOPE();
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
    DTB_TOOLBAR_SCOPE();
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
