/*
 * render.c - the SQL panel's HTML fragment and nav subtitle: each statement formatted and
 * highlighted (every byte escaped), its recorded values, the analysis and the databases.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sql_int.h"

static const char *const keywords[] = {
    "SELECT", "FROM",    "WHERE",    "AND",      "OR",     "NOT",    "IN",    "IS",      "NULL",
    "INSERT", "INTO",    "VALUES",   "UPDATE",   "SET",    "DELETE", "JOIN",  "LEFT",    "RIGHT",
    "INNER",  "OUTER",   "ON",       "AS",       "ORDER",  "GROUP",  "BY",    "HAVING",  "LIMIT",
    "OFFSET", "UNION",   "ALL",      "DISTINCT", "CREATE", "TABLE",  "INDEX", "DROP",    "ALTER",
    "BEGIN",  "COMMIT",  "ROLLBACK", "WITH",     "CASE",   "WHEN",   "THEN",  "ELSE",    "END",
    "LIKE",   "BETWEEN", "EXISTS",   "PRAGMA",   "ASC",    "DESC",   "COUNT", "PRIMARY", "KEY",
};
static const char *const breaks[] = {"FROM", "WHERE", "GROUP",  "ORDER", "LIMIT",  "JOIN",
                                     "LEFT", "INNER", "VALUES", "SET",   "HAVING", "UNION"};

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
            const char *end = dtbi_sql_skip_quoted(p);
            dtb_buf_append_str(out, "<span class=\"dtb-str\">");
            dtb_buf_append_html(out, p, (size_t)(end - p));
            dtb_buf_append_str(out, "</span>");
            p = end;
        } else if (isdigit((unsigned char)*p) &&
                   (p == sql || !dtbi_sql_is_ident((unsigned char)p[-1]))) {
            const char *s = p;
            while (isalnum((unsigned char)*p) || *p == '.')
                p++;
            dtb_buf_append_str(out, "<span class=\"dtb-num-lit\">");
            dtb_buf_append_html(out, s, (size_t)(p - s));
            dtb_buf_append_str(out, "</span>");
        } else if (dtbi_sql_is_ident((unsigned char)*p)) {
            const char *s = p;
            while (dtbi_sql_is_ident((unsigned char)*p))
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

int dtbi_sql_subtitle(const json_t *stats, struct dtb_buf *out)
{
    json_int_t n = json_integer_value(json_object_get(stats, "count"));
    json_int_t sim = 0;
    size_t i;
    json_t *q;
    char f[32];
    json_array_foreach(json_object_get(stats, "queries"), i, q) sim +=
        json_integer_value(json_object_get(q, "similar")) > 0;
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
    for (; (p = dtbi_sql_next_param(t, &tok)) != NULL; t = p + tok) {
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

int dtbi_sql_render(const json_t *stats, struct dtb_buf *out)
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
        dtb_buf_appendf(out,
                        "<div class=\"dtb-warn\"><strong>N+1?</strong> This statement ran "
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
            dtb_buf_appendf(out,
                            "<span class=\"dtb-badge dtb-warn\">duplicated %lld\xC3\x97</span>",
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
                dtb_buf_appendf(out,
                                "<button type=\"button\" class=\"dtb-sql-action\" "
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
                    dtb_buf_appendf(
                        out, "%lld",
                        (long long)json_integer_value(json_object_get(d, "schema_version")));
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
