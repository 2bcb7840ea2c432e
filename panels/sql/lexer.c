/*
 * lexer.c - the SQL panel's literal lexer: quoted text and parameter tokens (?NNN, :name,
 * @name, $name) in a statement, the values SQLite put in place of the parameters in its
 * expanded SQL, and the redaction of values bound to secret-named columns.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql_int.h"

/* ---- parameters from SQLite's expanded SQL ------------------------------------------------ */

int dtbi_sql_is_ident(unsigned char c)
{
    return isalnum(c) || c == '_' || c >= 0x80;
}

/* Skips a quoted literal or identifier at s (quote q, doubled to escape); returns past it. */
const char *dtbi_sql_skip_quoted(const char *s)
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
        while (dtbi_sql_is_ident((unsigned char)s[n]))
            n++;
        return n > 1 ? n : 0;
    }
    return 0;
}

/* The next parameter at or after t outside quoted text: its start, with its length in *tok; NULL
 * at the end of the text. */
const char *dtbi_sql_next_param(const char *t, size_t *tok)
{
    while (*t != '\0') {
        if (*t == '\'' || *t == '"' || *t == '`') {
            t = dtbi_sql_skip_quoted(t);
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
        const char *end = dtbi_sql_skip_quoted(p);
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
        const char *end = dtbi_sql_skip_quoted(p + 1);
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
    while (p > sql && dtbi_sql_is_ident((unsigned char)p[-1]))
        p--;
    n = (size_t)(end - p);
    if (n > 0 && dtb_toolbar_is_secret_namen(tb, p, n)) /* a name of any length */
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
        while (dtbi_sql_is_ident((unsigned char)c[n]))
            n++;
        return n > 0 && dtb_toolbar_is_secret_namen(tb, c, n);
    }
    return 0;
}

/* Splits expanded against the template sql into parameter values (secrets redacted).
 * Returns a new array, or NULL when the two do not line up. */
json_t *dtbi_sql_params_from_expanded(const struct dtb_toolbar *tb, const char *sql,
                                      const char *expanded)
{
    const char *t = sql, *e = expanded;
    json_t *out = json_array();
    int index = 0;
    while (out != NULL && *t != '\0') {
        size_t tok;
        if (*t == '\'' || *t == '"' || *t == '`') {
            const char *end = dtbi_sql_skip_quoted(t);
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
    for (const char *t = sql; (t = dtbi_sql_next_param(t, &tok)) != NULL; t += tok, running++) {
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
