/*
 * config_locate.c - where a config key is, for errors that name key, line and column: jansson
 * keeps no positions for values, so a small locator finds a key's position in the raw text (it
 * skips over string contents and only reports a key token followed by ':'; it is not a JSON
 * parser), and the loader's error helpers use it.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"

/* Line and column (from 1) of byte off of text. */
static void line_col(const char *text, size_t off, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t k = 0; k < off && text[k] != '\0'; k++) {
        if (text[k] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

/* Finds the key token `"name"` followed by optional whitespace and ':' at or after *pos.
 * Returns 1 with the key's line and column and advances *pos past it, else 0. */
static int find_key(const char *text, size_t *pos, const char *name, int *line, int *col)
{
    size_t i = *pos, n = strlen(name);
    while (text[i] != '\0') {
        if (text[i] != '"') {
            i++;
            continue;
        }
        size_t start = i++;
        while (text[i] != '\0' && text[i] != '"') {
            if (text[i] == '\\' && text[i + 1] != '\0')
                i++;
            i++;
        }
        if (text[i] == '\0')
            return 0;
        size_t len = i - start - 1, j = ++i;
        while (text[j] == ' ' || text[j] == '\t' || text[j] == '\r' || text[j] == '\n')
            j++;
        if (text[j] == ':' && len == n && memcmp(text + start + 1, name, n) == 0) {
            line_col(text, start, line, col); /* errors are rare, texts are small */
            *pos = i;
            return 1;
        }
    }
    return 0;
}

/* After a key (at *pos, before its ':'), finds element `index` of the array that is its value.
 * Returns 1 with its line and column, else 0 (then the key's own place is kept). */
static int find_element(const char *text, size_t pos, long index, int *line, int *col)
{
    size_t i = pos;
    int depth = 0;
    long at = 0;
    while (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n' ||
           text[i] == ':')
        i++;
    if (text[i] != '[')
        return 0;
    for (int expect = 1; text[i] != '\0'; i++) {
        char c = text[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (depth == 1 && expect && c != ']') {
            if (at == index) {
                line_col(text, i, line, col);
                return 1;
            }
            expect = 0;
        }
        if (c == '"') { /* skip the string */
            for (i++; text[i] != '\0' && text[i] != '"'; i++)
                if (text[i] == '\\' && text[i + 1] != '\0')
                    i++;
            if (text[i] == '\0')
                return 0;
        } else if (c == '[' || c == '{') {
            depth++;
            if (depth == 1)
                expect = 1;
        } else if (c == ']' || c == '}') {
            if (--depth == 0)
                return 0;
        } else if (c == ',' && depth == 1) {
            at++;
            expect = 1;
        }
    }
    return 0;
}

/* Locates a dotted path ("sql.slow_ms", "hosts[1]") in text: a key, or an array's element.
 * Returns 0 or -1. */
static int locate(const char *text, const char *path, int *line, int *col)
{
    char comp[64];
    size_t pos = 0;
    const char *p = path;
    if (text == NULL)
        return -1;
    while (*p != '\0') {
        size_t n = strcspn(p, ".[");
        if (n == 0 || n >= sizeof(comp))
            return -1;
        memcpy(comp, p, n);
        comp[n] = '\0';
        if (!find_key(text, &pos, comp, line, col))
            return -1;
        p += n;
        if (*p == '[') {
            int l, c;
            if (find_element(text, pos, strtol(p + 1, NULL, 10), &l, &c)) {
                *line = l;
                *col = c;
            }
            break;
        }
        if (*p == '.')
            p++;
    }
    return 0;
}

int dtbi_config_locate(const struct dtbi_config *cfg, const char *key_path, int *line, int *column)
{
    return locate(cfg->text, key_path, line, column);
}

/* ---- errors that name the key ------------------------------------------------------------ */

dtb_rc dtbi_config_bad(struct loader *ld, const char *key, const char *fmt, ...)
{
    char text[160];
    va_list ap;
    int line = 0, col = 0;
    char base[64];
    size_t n = strcspn(key, "[");
    snprintf(base, sizeof(base), "%.*s", (int)n, key);
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    const char *env = json_string_value(json_object_get(ld->from_env, base));
    if (env != NULL)
        return dtbi_error_set(ld->err, DTB_ECONFIG, ENV_SOURCE, 0, 0, env, "%s", text);
    size_t pos = 0;
    if (locate(ld->text, key, &line, &col) != 0 && /* else a key spelled "a.b" itself */
        (ld->text == NULL || !find_key(ld->text, &pos, key, &line, &col)))
        line = col = 0;
    return dtbi_error_set(ld->err, DTB_ECONFIG, ld->source, line, col, key, "%s", text);
}

dtb_rc dtbi_config_no_memory(struct loader *ld)
{
    return dtbi_error_set(ld->err, DTB_ENOMEM, ld->source, 0, 0, NULL, "out of memory");
}

const char *dtbi_config_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "a value";
}
