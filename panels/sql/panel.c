/*
 * panel.c - the SQL panel's state and registration: the panel's settings (init), the registry
 * of the databases this process saw the app use (records carry only a key into it), the
 * databases the app declares (dtb_sql_database), the per-request query list (texts interned
 * by hash, in the request's arena) and the driver-neutral capture entry points (dtb_sql_site,
 * dtb_sql_record, dtbi_sql_add).
 *
 * The call site comes from the dtb_sqlite3_step() macro (file, line and function of the app's
 * code, exact and nearly free), not from a backtrace: symbolizing needs debug info and costs
 * microseconds per query. Statements stepped without the macro show no call site, unless
 * panel_options.sql.stacks is on: then the statement's start (or dtb_sql_record's call) takes
 * the raw return addresses with libunwind (no symbols, no allocation: a few microseconds, see
 * bench/sql_capture), and when the record is built they are named (analyze.c).
 *
 * The other concerns: capture_sqlite.c (SQLite), capture_pq.c (PostgreSQL), lexer.c (literals
 * and redaction), analyze.c (the record), render.c (the HTML fragment), actions.c (the signed
 * actions).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#ifdef HAVE_PROFILER
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#endif

#include "debugtoolbar/sql.h"
#include "sql_int.h"

/* tb's SQL panel state, or NULL when the panel is off or tb not started. */
struct panel_state *dtbi_sql_panel_of(const struct dtb_toolbar *tb)
{
    return dtb_toolbar_panel_state(tb, "sql");
}

/* Registers engine's target as a database of this process; returns its key (stable for the
 * panel's life: the same engine and target give the same key in every process), or NULL when
 * the registry is full. The key is the first DB_KEY_LEN hex digits of SHA-256(engine NUL
 * target), so processes sharing a store agree on it for the databases they both use. */
const char *dtbi_sql_register_db(struct panel_state *ps, const char *engine, const char *target)
{
    size_t el = strlen(engine), tl = strlen(target);
    char key[DB_KEY_LEN + 1];
    char *both = malloc(el + tl + 2);
    const char *found = NULL;
    if (both == NULL)
        return NULL;
    memcpy(both, engine, el + 1);
    memcpy(both + el + 1, target, tl + 1);
    dtb_sha256_hex(both, el + tl + 1, key, DB_KEY_LEN);
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
int dtbi_sql_lookup_db(struct panel_state *ps, const char *key, char **engine, char **target)
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
        char *file = dtbi_sql_attached_file(key);
        if (file != NULL && dtbi_sql_register_db(ps, "sqlite", file) != NULL) {
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

_Thread_local struct dtbi_sql_site dtbi_sql_tl_site;

void dtb_sql_site(const char *file, int line, const char *func)
{
    DTB_TOOLBAR_SCOPE();
    if (dtb_request_current() == NULL)
        return; /* nothing will record it: it must not stick to a later query */
    dtbi_sql_tl_site.file = file;
    dtbi_sql_tl_site.line = line;
    dtbi_sql_tl_site.func = func;
}

uint64_t dtbi_sql_fnv1a(const char *s, size_t *len)
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

int dtbi_sql_intern_text(struct dtb_request *rq, struct sql_state *st, const char *sql)
{
    size_t len;
    uint64_t h = dtbi_sql_fnv1a(sql, &len);
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

struct sql_query *dtbi_sql_new_query(struct dtb_request *rq, struct sql_state *st)
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

int dtbi_sql_intern_db(struct dtb_request *rq, struct sql_state *st, const char *engine,
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
    q = dtbi_sql_new_query(rq, st);
    text = q != NULL ? dtbi_sql_intern_text(rq, st, sql) : -1;
    if (text < 0) {
        json_decref(params);
        return;
    }
    q->text = (uint32_t)text;
    q->engine = dtb_request_strdup(rq, engine ? engine : "sql");
    q->dur_ns = duration_ns;
    q->start_ns = start_ns;
    dtb_span_add(rq, "sql", st->texts[text].sql, start_ns, duration_ns);
    q->rows = rows;
    q->file = dtbi_sql_tl_site.file;
    q->line = dtbi_sql_tl_site.line;
    q->func = dtbi_sql_tl_site.func;
#ifdef HAVE_PROFILER
    if (st->stacks && dtbi_sql_tl_site.file == NULL) {
        void *ips[STACK_MAX];
        int n = unw_backtrace(ips, STACK_MAX);
        if (n > 0 && (q->ips = dtb_request_alloc(rq, (size_t)n * sizeof(void *))) != NULL) {
            memcpy(q->ips, ips, (size_t)n * sizeof(void *));
            q->nips = n;
        }
    }
#endif
    dtbi_sql_tl_site.file = NULL;
    q->db = dtbi_sql_intern_db(rq, st, q->engine, db);
    if (q->db >= 0 && db_version != NULL && st->dbvers[q->db] == NULL)
        st->dbvers[q->db] = dtb_request_strdup(rq, db_version);
    q->error = error != NULL ? dtb_request_strdup(rq, error) : NULL;
    if (params != NULL && st->capture_params)
        q->params =
            dtb_request_own_json(rq, dtbi_sql_redact_params(dtb_request_toolbar(rq), sql, params));
    json_decref(params);
    st->n++;
}

void dtb_sql_record(const char *engine, const char *sql, const json_t *params, int64_t duration_ns,
                    int64_t rows)
{
    DTB_TOOLBAR_SCOPE();
    struct dtb_request *rq = dtb_request_current();
    if (rq == NULL || sql == NULL)
        return;
    dtbi_sql_add(rq, engine, sql, params ? json_deep_copy(params) : NULL,
                 dtb_now_ns() - duration_ns, duration_ns, rows, NULL, NULL, NULL);
}

/* ---- the panel ---------------------------------------------------------------------------- */

/* A boolean setting of conf: 0 with *out set (def when absent), or -1 when it is not one. */
static int bool_option(const json_t *conf, const char *key, int def, int *out)
{
    const json_t *v = json_object_get(conf, key);
    if (v != NULL && !json_is_boolean(v))
        return -1;
    *out = v != NULL ? json_is_true(v) : def;
    return 0;
}

/* The panel's settings (panel_options.sql; the core has already moved the older sql.* keys
 * and their DTB_SQL_* variables there): n_plus_one, stacks, stack_depth, slow_ms, explain and
 * capture_params. A bad one refuses the start with an error naming it, its line and column. */
static int sql_init(void **state, struct dtb_toolbar *tb, const json_t *conf, struct dtb_error *err)
{
    struct panel_state *ps = calloc(1, sizeof(*ps));
    json_t *n = json_object_get(conf, "n_plus_one");
    if (ps == NULL)
        return -1;
    ps->tb = tb;
    ps->n_plus_one = json_is_integer(n) && json_integer_value(n) > 1 ? (long)json_integer_value(n)
                                                                     : N_PLUS_ONE_DEFAULT;
    ps->stack_depth = STACK_DEPTH_DEFAULT;
    ps->slow_ms = SLOW_MS_DEFAULT;
    const json_t *depth = json_object_get(conf, "stack_depth"),
                 *slow = json_object_get(conf, "slow_ms");
    const char *bad = NULL, *what = "expected true or false";
    if (bool_option(conf, "stacks", 0, &ps->stacks) != 0)
        bad = "stacks";
    else if (depth != NULL && (!json_is_integer(depth) || json_integer_value(depth) < 1 ||
                               json_integer_value(depth) > 16))
        bad = "stack_depth", what = "expected an integer from 1 to 16";
    else if (slow != NULL && (!json_is_number(slow) || json_number_value(slow) < 0))
        bad = "slow_ms", what = "expected a number >= 0";
    else if (bool_option(conf, "explain", 1, &ps->explain) != 0)
        bad = "explain";
    else if (bool_option(conf, "capture_params", 1, &ps->capture_params) != 0)
        bad = "capture_params";
    if (bad != NULL) {
        free(ps);
        return dtb_panel_config_error(tb, err, "sql", bad, "%s", what);
    }
    if (depth != NULL)
        ps->stack_depth = (int)json_integer_value(depth);
    if (slow != NULL)
        ps->slow_ms = json_number_value(slow);
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
    struct panel_state *ps = dtbi_sql_panel_of(tb);
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
    if (st != NULL) {
        st->stacks = ps->stacks;
        st->capture_params = ps->capture_params;
    }
    return st;
}

const struct dtb_panel_ops dtb_panel_sql = {
    .abi = DTB_PANEL_ABI,
    .id = "sql",
    .title = "SQL",
    .default_on = 1,
    .init = sql_init,
    .cleanup = sql_cleanup,
    .on_request_start = sql_start,
    .to_json = dtbi_sql_to_json,
    .nav_subtitle = dtbi_sql_subtitle,
    .render_html = dtbi_sql_render,
    .handle_action = dtbi_sql_handle_action,
    .summary = dtbi_sql_summary,
    .script = "sql.js", /* its actions (assets/panels/sql.js) */
    .style = "sql.css", /* their buttons, results and plans (assets/panels/sql.css) */
};
