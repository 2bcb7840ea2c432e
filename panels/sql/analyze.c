/*
 * analyze.c - the SQL panel's record: each query with its parameters, call site (named from
 * the raw return addresses when stacks are on) and signature, duplicates (same text and
 * parameters), similar queries (same text), the N+1 pattern, slow queries, and the databases
 * the request used.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "sql_int.h"

/* A frame of SQLite, libpq or the toolbar (by module, or by name when they are linked in). */
static int library_frame(const struct dtb_symbol *s, int *database)
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

static void frame_text(char *out, size_t len, const struct dtb_symbol *s)
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
    struct dtb_symbol s;
    *stack = NULL;
    for (int i = 0; i < n && at < 0; i++) {
        int db = 0;
        dtb_symbolize((uintptr_t)ips[i], 0, &s);
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
        dtb_symbolize((uintptr_t)ips[i], 0, &s);
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
    json_t *p = dtbi_sql_params_from_expanded(tb, st->texts[q->text].sql, q->expanded);
    return p != NULL ? p : json_null();
}

/* The content a query's signature binds, as the record holds it: its SQL text, its
 * parameters (compact JSON, keys sorted; empty when there are none) and its database key.
 * Returns 0 with parts filled (*params_text to free), or -1 when the query has no SQL or no
 * database (nothing to sign). */
int dtbi_sql_query_content(const json_t *q, struct dtb_sign_part parts[3], char **params_text)
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
void dtbi_sql_query_subject(char out[64], const char *id, size_t index)
{
    snprintf(out, 64, "sql:%s:%zu", id, index);
}

int dtbi_sql_summary(const json_t *stats, json_t *fields)
{
    const json_t *q;
    json_int_t slow = 0, errors = 0;
    size_t i;
    json_array_foreach(json_object_get(stats, "queries"), i, q)
    {
        slow += json_is_true(json_object_get(q, "slow"));
        errors += json_object_get(q, "error") != NULL;
    }
    json_object_set_new(fields, "queries",
                        json_integer(json_integer_value(json_object_get(stats, "count"))));
    json_object_set_new(
        fields, "n_plus_one",
        json_integer((json_int_t)json_array_size(json_object_get(stats, "n_plus_one"))));
    json_object_set_new(fields, "slow_queries", json_integer(slow));
    json_object_set_new(fields, "sql_errors", json_integer(errors));
    return 0;
}

json_t *dtbi_sql_to_json(void *state, struct dtb_request *rq, void *req_state)
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
        dbkeys[i] = dtbi_sql_register_db(ps, st->dbengs[i], st->dbs[i]);
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
        json_t *row = json_pack(
            "{s:s,s:o,s:I,s:I,s:s,s:s?,s:I,s:s?,s:b,s:i,s:i}", "sql", st->texts[q->text].sql,
            "params", params, "duration_ns", (json_int_t)q->dur_ns, "start_ns",
            (json_int_t)(q->start_ns - t0), "engine", q->engine, "call_site", site[0] ? site : NULL,
            "rows", (json_int_t)q->rows, "db", q->db >= 0 ? dbkeys[q->db] : NULL, "slow",
            (double)q->dur_ns / 1e6 > ps->slow_ms, "duplicate", 0, "similar", 0);
        if (row != NULL && q->error != NULL)
            json_object_set_new(row, "error", json_string(q->error));
        if (row != NULL && stack != NULL)
            json_object_set_new(row, "stack", stack);
        else
            json_decref(stack);
        if (row != NULL && ps->explain && q->db >= 0 && dbkeys[q->db] != NULL &&
            (strcmp(q->engine, "sqlite") == 0 || strcmp(q->engine, "postgresql") == 0)) {
            /* each query that offers actions gets its own signature, over the request id and
             * its index, bound to its SQL, parameters and database key: a signature opens
             * that one query as it was recorded, and nothing else */
            char sig[65], subject[64], *params_text;
            struct dtb_sign_part parts[3];
            if (dtbi_sql_query_content(row, parts, &params_text) == 0) {
                dtbi_sql_query_subject(subject, dtb_request_id(rq), json_array_size(queries));
                dtb_sign(tb, subject, parts, 3, sig);
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
            keys[i].hash = dtbi_sql_fnv1a(st->q[i].expanded, &len);
        } else if (json_array_size(json_object_get(json_array_get(queries, i), "params")) == 0) {
            keys[i].hash = 0;
        } else {
            char *p = json_dumps(json_object_get(json_array_get(queries, i), "params"),
                                 JSON_COMPACT | JSON_ENCODE_ANY);
            keys[i].hash = p != NULL ? dtbi_sql_fnv1a(p, &len) : 0;
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
            int v = dtbi_sql_schema_version(st->dbs[i]);
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
                    "slow_ms", ps->slow_ms, "n_plus_one_threshold", (json_int_t)ps->n_plus_one);
    if (out != NULL) {
        json_object_set_new(out, "actions", json_boolean(ps->explain));
        /* the timeline's scale: the whole request, from its start to its completion */
        const struct dtb_request_times *tm = dtb_request_times(rq);
        if (tm->end_ns > tm->start_ns)
            json_object_set_new(out, "request_ns",
                                json_integer((json_int_t)(tm->end_ns - tm->start_ns)));
    }
    return out;
}
