/*
 * config.c - the toolbar's config: one schema table (`schema` below: key, DTB_* variable, type,
 * bounds, default, field or parser, help) that drives the parsing of the JSON file (jansson),
 * the DTB_* environment overrides, the defaults, errors that name the key, line and column, the
 * effective config and the README's table of keys (dtbi_config_table_markdown).
 *
 * Environment values are converted to JSON and set into the parsed object before validation,
 * so file and environment go through the same checks. jansson keeps no positions for values,
 * so a small locator finds a key's position in the raw text for error messages (it skips over
 * string contents and only reports a key token followed by ':'); it is not a JSON parser.
 * Also here: CIDR parsing and matching for `hosts` and `trusted_proxies`. The core knows no
 * panel's settings: those live under panel_options.<id> and the panel checks them; keys that
 * moved there (the SQL panel's older sql.*) are still type-checked and copied (parse_moved).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "config.h"
#include "store.h"

#define ENV_SOURCE "environment"

/* ---- CIDR ---------------------------------------------------------------------------------- */

int dtbi_cidr_parse(const char *s, struct dtbi_cidr *out)
{
    char buf[64];
    char *slash, *end;
    long prefix = -1;
    if (s == NULL || strlen(s) >= sizeof(buf) || s[0] == '\0')
        return -1;
    memcpy(buf, s, strlen(s) + 1);
    slash = strchr(buf, '/');
    if (slash != NULL) {
        *slash = '\0';
        if (slash[1] == '\0' || !isdigit((unsigned char)slash[1]))
            return -1;
        errno = 0;
        prefix = strtol(slash + 1, &end, 10);
        if (*end != '\0' || errno != 0)
            return -1;
    }
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, buf, out->addr) == 1) {
        out->family = AF_INET;
        if (prefix > 32)
            return -1;
        out->prefix = prefix < 0 ? 32 : (unsigned)prefix;
        return 0;
    }
    if (inet_pton(AF_INET6, buf, out->addr) == 1) {
        out->family = AF_INET6;
        if (prefix > 128)
            return -1;
        out->prefix = prefix < 0 ? 128 : (unsigned)prefix;
        return 0;
    }
    return -1;
}

static int prefix_equal(const unsigned char *a, const unsigned char *b, unsigned bits)
{
    unsigned bytes = bits / 8, rest = bits % 8;
    if (memcmp(a, b, bytes) != 0)
        return 0;
    if (rest == 0)
        return 1;
    unsigned char mask = (unsigned char)(0xFF << (8 - rest));
    return (a[bytes] & mask) == (b[bytes] & mask);
}

int dtbi_cidr_match(const struct dtbi_cidr *list, size_t n, const struct sockaddr *addr)
{
    unsigned char a[16];
    int family;
    if (addr == NULL)
        return 0;
    if (addr->sa_family == AF_INET) {
        family = AF_INET;
        memcpy(a, &((const struct sockaddr_in *)addr)->sin_addr, 4);
    } else if (addr->sa_family == AF_INET6) {
        const unsigned char *v6 = ((const struct sockaddr_in6 *)addr)->sin6_addr.s6_addr;
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
        if (memcmp(v6, mapped, 12) == 0) { /* ::ffff:a.b.c.d is the IPv4 client a.b.c.d */
            family = AF_INET;
            memcpy(a, v6 + 12, 4);
        } else {
            family = AF_INET6;
            memcpy(a, v6, 16);
        }
    } else {
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        if (list[i].family == family && prefix_equal(a, list[i].addr, list[i].prefix))
            return 1;
    return 0;
}

/* ---- locating keys in the text ------------------------------------------------------------- */

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

/* ---- the schema: one table ---------------------------------------------------------------------
 */

/* Every key is one entry of `schema` below, which drives everything else: which keys exist,
 * their DTB_* variables, their types and bounds, their defaults, where they land in struct
 * dtbi_config, the effective config, and the README's table (dtbi_config_table_markdown).
 * A simple key is stored by its type; anything more (lists of addresses, host names, editor
 * templates...) has a parser of its own. Keys are checked in the table's order. */

struct loader {
    const char *text;
    const char *source;
    json_t *root;     /* the config object, environment applied */
    json_t *from_env; /* object: dotted key -> env var name, for keys the environment set */
    struct dtb_error *err;
};

enum cfg_type {
    CFG_BOOL,   /* true or false; DTB_*: 1/0, true/false, yes/no, on/off */
    CFG_INT,    /* an integer from min to max (a size_t, long long or unsigned field) */
    CFG_NUMBER, /* a number >= min (a double field); DTB_*: a decimal number */
    CFG_STRING, /* a non-empty string (a char * field) */
    CFG_LIST,   /* an array of non-empty strings (a json_t * field); DTB_*: comma-separated */
    CFG_OBJECT, /* an object (a json_t * field) */
    CFG_CUSTOM, /* the parser checks and stores everything */
};

struct cfg_entry;
/* Checks and stores v (already of the entry's type, or anything for CFG_CUSTOM). */
typedef dtb_rc (*cfg_parse_fn)(struct loader *ld, const struct cfg_entry *e, json_t *v,
                               struct dtbi_config *cfg);
/* The entry's effective value (new reference), or NULL to leave it out. */
typedef json_t *(*cfg_dump_fn)(const struct dtbi_config *cfg);

enum {
    CFG_NO_DUMP = 1,   /* not in the effective config */
    CFG_DUMP_NULL = 2, /* in the effective config as null when unset (else left out) */
};

struct cfg_entry {
    const char *key; /* "history_size", "sql.slow_ms" (one level of nesting) */
    const char *env; /* "DTB_HISTORY_SIZE", or NULL */
    enum cfg_type type;
    long long min, max;      /* CFG_INT: bounds; CFG_NUMBER: min */
    const char *def;         /* the default as JSON text, parsed like a value; NULL: unset */
    size_t off, size;        /* the field in struct dtbi_config (size 0: the parser stores);
                              * a list or object without a parser is kept in a json_t * */
    cfg_parse_fn parse;      /* after the type's own check and store, or instead (CFG_CUSTOM) */
    cfg_dump_fn dump;        /* the effective value; NULL: the field, by type */
    unsigned flags;          /* CFG_NO_DUMP, CFG_DUMP_NULL */
    const char *doc_default; /* the README's default, when not def itself */
    const char *help;        /* the README's meaning */
};

static dtb_rc bad(struct loader *ld, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static dtb_rc bad(struct loader *ld, const char *key, const char *fmt, ...)
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

static dtb_rc no_memory(struct loader *ld)
{
    return dtbi_error_set(ld->err, DTB_ENOMEM, ld->source, 0, 0, NULL, "out of memory");
}

static const char *type_name(const json_t *v)
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

static void *field(struct dtbi_config *cfg, const struct cfg_entry *e)
{
    return (char *)cfg + e->off;
}

static const void *cfield(const struct dtbi_config *cfg, const struct cfg_entry *e)
{
    return (const char *)cfg + e->off;
}

/* An integer field of 4 or 8 bytes (unsigned, size_t, long long), set or read by size. */
static void int_store(void *p, size_t size, long long v)
{
    if (size == sizeof(uint32_t)) {
        uint32_t u = (uint32_t)v;
        memcpy(p, &u, sizeof(u));
    } else {
        int64_t s = (int64_t)v;
        memcpy(p, &s, sizeof(s));
    }
}

static long long int_load(const void *p, size_t size)
{
    if (size == sizeof(uint32_t)) {
        uint32_t u;
        memcpy(&u, p, sizeof(u));
        return u;
    }
    int64_t s;
    memcpy(&s, p, sizeof(s));
    return s;
}

/* An array of non-empty strings. */
static dtb_rc check_string_array(struct loader *ld, json_t *v, const char *key)
{
    size_t i;
    json_t *item;
    char k[80];
    if (!json_is_array(v))
        return bad(ld, key, "expected an array of strings, got %s", type_name(v));
    json_array_foreach(v, i, item)
    {
        snprintf(k, sizeof(k), "%s[%zu]", key, i);
        if (!json_is_string(item) || json_string_value(item)[0] == '\0')
            return bad(ld, k, "expected a non-empty string, got %s", type_name(item));
    }
    return DTB_OK;
}

/* Checks v against e's type and stores it in e's field (when it has one). */
static dtb_rc store_typed(struct loader *ld, const struct cfg_entry *e, json_t *v,
                          struct dtbi_config *cfg)
{
    dtb_rc rc;
    switch (e->type) {
    case CFG_BOOL:
        if (!json_is_boolean(v))
            return bad(ld, e->key, "expected true or false, got %s", type_name(v));
        if (e->size != 0)
            *(bool *)field(cfg, e) = json_is_true(v);
        return DTB_OK;
    case CFG_INT:
        if (!json_is_integer(v) || json_integer_value(v) < e->min ||
            json_integer_value(v) > e->max) {
            char *shown = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
            rc = bad(ld, e->key, "expected an integer from %lld to %lld, got %.40s", e->min, e->max,
                     shown ? shown : "?");
            free(shown);
            return rc;
        }
        if (e->size != 0)
            int_store(field(cfg, e), e->size, json_integer_value(v));
        return DTB_OK;
    case CFG_NUMBER:
        if (!json_is_number(v))
            return bad(ld, e->key, "expected a number >= %lld, got %s", e->min, type_name(v));
        if (json_number_value(v) < (double)e->min)
            return bad(ld, e->key, "expected a number >= %lld, got %g", e->min,
                       json_number_value(v));
        if (e->size != 0)
            *(double *)field(cfg, e) = json_number_value(v);
        return DTB_OK;
    case CFG_STRING: {
        if (!json_is_string(v))
            return bad(ld, e->key, "expected a string, got %s", type_name(v));
        if (json_string_value(v)[0] == '\0')
            return bad(ld, e->key, "must not be empty");
        if (e->size == 0)
            return DTB_OK;
        char *s = strdup(json_string_value(v)), **at = field(cfg, e);
        if (s == NULL)
            return no_memory(ld);
        free(*at);
        *at = s;
        return DTB_OK;
    }
    case CFG_LIST:
        if ((rc = check_string_array(ld, v, e->key)) != DTB_OK)
            return rc;
        break;
    case CFG_OBJECT:
        if (!json_is_object(v))
            return bad(ld, e->key, "expected an object, got %s", type_name(v));
        break;
    case CFG_CUSTOM:
        return DTB_OK;
    }
    if (e->size == sizeof(json_t *) && e->parse == NULL) { /* a list or object kept as is */
        json_t **at = field(cfg, e);
        json_decref(*at);
        *at = json_incref(v);
    }
    return DTB_OK;
}

/* ---- parsers of the keys that need more than their type -------------------------------------- */

/* An array of IP addresses or CIDR ranges (`hosts`, `trusted_proxies`) into *out (calloc'd,
 * *n entries). */
static dtb_rc cidr_list(struct loader *ld, const char *key, json_t *v, struct dtbi_cidr **out,
                        size_t *n)
{
    json_t *item;
    size_t i;
    char k[80];
    free(*out);
    *n = 0;
    *out = calloc(json_array_size(v) + 1, sizeof(**out));
    if (*out == NULL)
        return no_memory(ld);
    json_array_foreach(v, i, item)
    {
        snprintf(k, sizeof(k), "%s[%zu]", key, i);
        if (dtbi_cidr_parse(json_string_value(item), &(*out)[i]) != 0)
            return bad(ld, k, "not an IP address or CIDR range: \"%.60s\"",
                       json_string_value(item));
    }
    *n = json_array_size(v);
    return DTB_OK;
}

/* A CIDR list as the strings it was written as ("127.0.0.1", "10.0.0.0/8"). */
static json_t *cidr_list_json(const struct dtbi_cidr *list, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n && arr != NULL; i++) {
        char a[INET6_ADDRSTRLEN], s[INET6_ADDRSTRLEN + 8];
        inet_ntop(list[i].family, list[i].addr, a, sizeof(a));
        unsigned full = list[i].family == AF_INET ? 32 : 128;
        if (list[i].prefix == full)
            snprintf(s, sizeof(s), "%s", a);
        else
            snprintf(s, sizeof(s), "%s/%u", a, list[i].prefix);
        json_array_append_new(arr, json_string(s));
    }
    return arr;
}

static dtb_rc parse_hosts(struct loader *ld, const struct cfg_entry *e, json_t *v,
                          struct dtbi_config *cfg)
{
    return cidr_list(ld, e->key, v, &cfg->hosts, &cfg->nhosts);
}

static json_t *dump_hosts(const struct dtbi_config *cfg)
{
    return cidr_list_json(cfg->hosts, cfg->nhosts);
}

static dtb_rc parse_proxies(struct loader *ld, const struct cfg_entry *e, json_t *v,
                            struct dtbi_config *cfg)
{
    return cidr_list(ld, e->key, v, &cfg->trusted_proxies, &cfg->ntrusted_proxies);
}

static json_t *dump_proxies(const struct dtbi_config *cfg)
{
    return cidr_list_json(cfg->trusted_proxies, cfg->ntrusted_proxies);
}

/* `allowed_hosts`: host names (lower-cased) the toolbar answers besides IP literals and
 * localhost: "name", ".domain" (the domain and its subdomains) or "*" (any). */
static dtb_rc parse_allowed_hosts(struct loader *ld, const struct cfg_entry *e, json_t *v,
                                  struct dtbi_config *cfg)
{
    json_t *item;
    size_t i;
    char k[80];
    json_decref(cfg->allowed_hosts);
    cfg->allowed_hosts = json_array();
    if (cfg->allowed_hosts == NULL)
        return no_memory(ld);
    json_array_foreach(v, i, item)
    {
        const char *s = json_string_value(item);
        size_t len = strlen(s), dot = s[0] == '.';
        char *low;
        snprintf(k, sizeof(k), "%s[%zu]", e->key, i);
        if (strcmp(s, "*") == 0) {
            json_array_append(cfg->allowed_hosts, item);
            continue;
        }
        if (strchr(s, ':') != NULL || strchr(s, '[') != NULL)
            return bad(ld, k,
                       "a host name without a port, got \"%.60s\" (every port is allowed; "
                       "IP addresses always are)",
                       s);
        if (s[0] == '*')
            return bad(ld, k,
                       "\"*\" alone allows any name; for a domain and its subdomains "
                       "write \".example.com\", got \"%.60s\"",
                       s);
        if (len == dot || len > 254 ||
            strspn(s + dot, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._") !=
                len - dot)
            return bad(ld, k, "expected a host name, \".domain\" or \"*\", got \"%.60s\"", s);
        low = strdup(s);
        if (low == NULL)
            return no_memory(ld);
        for (size_t j = 0; j < len; j++)
            low[j] = (char)tolower((unsigned char)low[j]);
        if (len > 1 + dot && low[len - 1] == '.') /* "example.com." is "example.com" */
            low[len - 1] = '\0';
        json_array_append_new(cfg->allowed_hosts, json_string(low));
        free(low);
    }
    return DTB_OK;
}

/* url_prefix: no trailing slash, a safe path of its own. */
static dtb_rc parse_url_prefix(struct loader *ld, const struct cfg_entry *e, json_t *v,
                               struct dtbi_config *cfg)
{
    (void)v;
    size_t len = strlen(cfg->url_prefix);
    if (len > 1 && cfg->url_prefix[len - 1] == '/')
        cfg->url_prefix[--len] = '\0';
    if (cfg->url_prefix[0] != '/' || len < 2 ||
        strspn(cfg->url_prefix, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                "0123456789_./-") != len ||
        strstr(cfg->url_prefix, "..") != NULL || strstr(cfg->url_prefix, "//") != NULL)
        return bad(ld, e->key,
                   "must start with \"/\", not be \"/\", and use only letters, digits and "
                   "_ . / -");
    return DTB_OK;
}

/* secret_key: 16 to 64 bytes, shown redacted; when unset, dtbi_config_load draws one. */
static dtb_rc parse_secret_key(struct loader *ld, const struct cfg_entry *e, json_t *v,
                               struct dtbi_config *cfg)
{
    if (!json_is_string(v))
        return bad(ld, e->key, "expected a string, got %s", type_name(v));
    size_t len = json_string_length(v);
    if (len < 16 || len > sizeof(cfg->secret_key))
        return bad(ld, e->key, "must be 16 to %zu bytes long", sizeof(cfg->secret_key));
    memcpy(cfg->secret_key, json_string_value(v), len);
    cfg->secret_key_len = len;
    cfg->secret_key_set = true;
    return DTB_OK;
}

static json_t *dump_secret_key(const struct dtbi_config *cfg)
{
    return cfg->secret_key_set ? json_string(DTB_REDACTED) : NULL;
}

/* record_max_bytes, after history_max_bytes: one record fits in the history. */
static dtb_rc parse_record_max_bytes(struct loader *ld, const struct cfg_entry *e, json_t *v,
                                     struct dtbi_config *cfg)
{
    (void)v;
    if (cfg->record_max_bytes > cfg->history_max_bytes)
        return bad(ld, json_object_get(ld->root, e->key) ? e->key : "history_max_bytes",
                   "record_max_bytes (%zu) must not exceed history_max_bytes (%zu)",
                   cfg->record_max_bytes, cfg->history_max_bytes);
    return DTB_OK;
}

/* store: "memory", or a Redis URL the store can use (in a build with hiredis). */
static dtb_rc parse_store(struct loader *ld, const struct cfg_entry *e, json_t *v,
                          struct dtbi_config *cfg)
{
    (void)v;
#ifndef HAVE_HIREDIS
    if (strcmp(cfg->store, "memory") != 0)
        return bad(ld, e->key,
                   "this build has no Redis support: rebuild with hiredis (libhiredis-dev), or "
                   "use \"memory\"");
    return DTB_OK;
#else
    char host[256], path[256];
    int port, db;
    if (strcmp(cfg->store, "memory") != 0 &&
        dtbi_redis_url_parse(cfg->store, host, sizeof(host), &port, path, sizeof(path), &db) != 0)
        return bad(ld, e->key,
                   "expected \"memory\", \"redis://host:port/db\" or \"unix:/path\", got "
                   "\"%.60s\"",
                   cfg->store);
    return DTB_OK;
#endif
}

/* Matched as README's "Redaction" says (toolbar/redact.c): the short ones (up to four
 * characters) only as a whole segment of a name, the others anywhere in it. */
#define DEFAULT_REDACT                                                                             \
    "[\"password\", \"passwd\", \"secret\", \"token\", \"api_key\", \"authorization\", "           \
    "\"cookie\", \"session\", \"csrf\", \"key\", \"auth\", \"credential\", \"private\", "          \
    "\"passphrase\", \"pwd\", \"signature\", \"jwt\", \"bearer\", \"sid\", \"sessid\", "           \
    "\"jsessionid\", \"phpsessid\", \"connect.sid\"]"

/* redact: the patterns, normalised (dtbi_redact_normalize), each once. */
static dtb_rc parse_redact(struct loader *ld, const struct cfg_entry *e, json_t *v,
                           struct dtbi_config *cfg)
{
    size_t i;
    json_t *item;
    json_decref(cfg->redact);
    cfg->redact = json_array();
    if (cfg->redact == NULL)
        return no_memory(ld);
    json_array_foreach(v, i, item)
    {
        const char *pattern = json_string_value(item);
        char k[32];
        size_t n = strlen(pattern), j;
        char *norm = malloc(n + 1);
        json_t *have;
        int dup = 0;
        snprintf(k, sizeof(k), "%s[%zu]", e->key, i);
        if (norm == NULL)
            return no_memory(ld);
        n = dtbi_redact_normalize(pattern, n, norm);
        if (n == 0) {
            free(norm);
            return bad(ld, k, "\"%.60s\" matches nothing: names are compared without - _ .",
                       pattern);
        }
        json_array_foreach(cfg->redact, j, have) dup |= strcmp(json_string_value(have), norm) == 0;
        if (!dup && json_array_append_new(cfg->redact, json_string(norm)) != 0) {
            free(norm);
            return no_memory(ld);
        }
        free(norm);
    }
    return DTB_OK;
}

/* panel_options: an object per panel id. */
static dtb_rc parse_panel_options(struct loader *ld, const struct cfg_entry *e, json_t *v,
                                  struct dtbi_config *cfg)
{
    const char *key;
    json_t *item;
    char k[80];
    json_object_foreach(v, key, item)
    {
        snprintf(k, sizeof(k), "%s.%s", e->key, key);
        if (!json_is_object(item))
            return bad(ld, k, "expected an object, got %s", type_name(item));
    }
    json_decref(cfg->panel_options);
    cfg->panel_options = json_incref(v);
    return DTB_OK;
}

/* A key that moved under panel_options: "sql.slow_ms" (its entry's parser is this one) is now
 * panel_options.sql.slow_ms. The old key is still checked by its type here, so a bad value
 * names it and its line; then it is copied into the effective panel_options object, where the
 * panel's init reads and checks it. Precedence: the old key's DTB_* variable, then the new key
 * in the file, then the old key in the file (said once in the log). Its entry comes before
 * panel_options in the table. */
static dtb_rc parse_moved(struct loader *ld, const struct cfg_entry *e, json_t *v,
                          struct dtbi_config *cfg)
{
    const char *dot = strchr(e->key, '.');
    char id[32];
    json_t *opts, *panel;
    int from_env = json_object_get(ld->from_env, e->key) != NULL, there;
    (void)cfg;
    snprintf(id, sizeof(id), "%.*s", (int)(dot - e->key), e->key);
    opts = json_object_get(ld->root, "panel_options");
    if (opts == NULL && json_object_set_new(ld->root, "panel_options", opts = json_object()) != 0)
        return no_memory(ld);
    panel = json_object_get(opts, id);
    if (panel == NULL && json_is_object(opts) &&
        json_object_set_new(opts, id, panel = json_object()) != 0)
        return no_memory(ld);
    if (!json_is_object(panel))
        return DTB_OK; /* panel_options' own check names it */
    there = json_object_get(panel, dot + 1) != NULL;
    if (!from_env)
        dtbi_log_once(e->key, "config key %s is now panel_options.%s%s", e->key, e->key,
                      there ? ", which is also set and wins" : " (the old key still works)");
    if ((from_env || !there) && json_object_set(panel, dot + 1, v) != 0)
        return no_memory(ld);
    return DTB_OK;
}

static dtb_rc parse_preload_bind(struct loader *ld, const struct cfg_entry *e, json_t *v,
                                 struct dtbi_config *cfg)
{
    const char *a = json_string_value(v);
    struct sockaddr_in *s4 = (struct sockaddr_in *)&cfg->bind;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&cfg->bind;
    memset(&cfg->bind, 0, sizeof(cfg->bind));
    if (a != NULL && inet_pton(AF_INET, a, &s4->sin_addr) == 1)
        s4->sin_family = AF_INET;
    else if (a != NULL && inet_pton(AF_INET6, a, &s6->sin6_addr) == 1)
        s6->sin6_family = AF_INET6;
    else
        return bad(ld, e->key, "expected an IP address such as \"127.0.0.1\", got %s",
                   type_name(v));
    cfg->bind_set = true;
    return DTB_OK;
}

static dtb_rc parse_preload_ports(struct loader *ld, const struct cfg_entry *e, json_t *v,
                                  struct dtbi_config *cfg)
{
    json_t *item;
    size_t i;
    char k[80];
    if (!json_is_array(v))
        return bad(ld, e->key, "expected an array of port numbers, got %s", type_name(v));
    cfg->nports = 0;
    json_array_foreach(v, i, item)
    {
        snprintf(k, sizeof(k), "%s[%zu]", e->key, i);
        if (!json_is_integer(item) || json_integer_value(item) < 1 ||
            json_integer_value(item) > 65535)
            return bad(ld, k, "expected a port number from 1 to 65535, got %s", type_name(item));
        if (cfg->nports < sizeof(cfg->ports) / sizeof(cfg->ports[0]))
            cfg->ports[cfg->nports++] = (uint16_t)json_integer_value(item);
    }
    cfg->ports_set = true;
    return DTB_OK;
}

/* editor: a URL template with {file} and {line}. Its scheme must be a plain one: the links the
 * UI builds from it must never run script. */
static dtb_rc parse_editor(struct loader *ld, const struct cfg_entry *e, json_t *v,
                           struct dtbi_config *cfg)
{
    static const char *const refused[] = {"javascript:", "data:", "vbscript:", "blob:"};
    const char *t = cfg->editor;
    size_t n = strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");
    int bad_scheme = n == 0 || !isalpha((unsigned char)t[0]) || t[n] != ':';
    (void)v;
    for (size_t r = 0; !bad_scheme && r < sizeof(refused) / sizeof(refused[0]); r++)
        bad_scheme = strncasecmp(t, refused[r], strlen(refused[r])) == 0;
    if (bad_scheme)
        return bad(ld, e->key,
                   "expected a URL template such as \"vscode://file/{file}:{line}\" "
                   "(a scheme other than javascript:, data:, vbscript: or blob:)");
    if (strstr(t, "{file}") == NULL)
        return bad(ld, e->key, "the template must contain {file}");
    return DTB_OK;
}

/* editor_paths: [{"from", "to"}], both non-empty. */
static dtb_rc parse_editor_paths(struct loader *ld, const struct cfg_entry *e, json_t *v,
                                 struct dtbi_config *cfg)
{
    json_t *item;
    size_t i;
    char k[80];
    if (!json_is_array(v))
        return bad(ld, e->key, "expected an array of {\"from\", \"to\"}, got %s", type_name(v));
    json_array_foreach(v, i, item)
    {
        const char *ik;
        json_t *iv;
        snprintf(k, sizeof(k), "%s[%zu]", e->key, i);
        if (!json_is_object(item))
            return bad(ld, k,
                       "expected {\"from\": \"/build/src\", \"to\": \"/home/me/src\"}, got %s",
                       type_name(item));
        json_object_foreach(item, ik, iv)
        {
            if (strcmp(ik, "from") != 0 && strcmp(ik, "to") != 0)
                return bad(ld, k, "unknown key \"%.40s\" (expected \"from\" and \"to\")", ik);
        }
        const json_t *from = json_object_get(item, "from"), *to = json_object_get(item, "to");
        if (!json_is_string(from) || !json_is_string(to) || json_string_value(from)[0] == '\0' ||
            json_string_value(to)[0] == '\0')
            return bad(ld, k, "\"from\" and \"to\" must both be non-empty strings");
    }
    json_decref(cfg->editor_paths);
    cfg->editor_paths = json_incref(v);
    return DTB_OK;
}

static dtb_rc parse_source_root(struct loader *ld, const struct cfg_entry *e, json_t *v,
                                struct dtbi_config *cfg)
{
    (void)v;
    if (cfg->source_root[0] != '/')
        return bad(ld, e->key, "expected an absolute directory, got \"%.60s\"", cfg->source_root);
    return DTB_OK;
}

#define FIELD(f) offsetof(struct dtbi_config, f), sizeof(((struct dtbi_config *)0)->f)
#define NO_FIELD 0, 0

/* The schema. A key with a '.' lives in the object named before it ("sql"). */
static const struct cfg_entry schema[] = {
    {"enabled", "DTB_ENABLED", CFG_BOOL, 0, 0, "false", FIELD(enabled), NULL, NULL, 0, NULL,
     "the one switch"},
    {"hosts", "DTB_HOSTS", CFG_LIST, 0, 0, "[\"127.0.0.1\", \"::1\"]", NO_FIELD, parse_hosts,
     dump_hosts, 0, NULL, "client addresses or CIDR ranges that see the toolbar and its URLs"},
    {"allowed_hosts", "DTB_ALLOWED_HOSTS", CFG_LIST, 0, 0, "[]", FIELD(allowed_hosts),
     parse_allowed_hosts, NULL, 0, NULL,
     "host names the toolbar answers besides IP literals, `localhost` and `*.localhost`: "
     "`\"dev.example.com\"`, `\".example.com\"` (it and its subdomains), `\"*\"` (any); any "
     "port ([Security](#security))"},
    {"trusted_proxies", "DTB_TRUSTED_PROXIES", CFG_LIST, 0, 0, "[]", NO_FIELD, parse_proxies,
     dump_proxies, 0, NULL,
     "peer addresses or CIDR ranges whose `Forwarded` / `X-Forwarded-For` / `X-Real-IP` name "
     "the client; a request with those headers from any other peer gets no toolbar"},
    {"url_prefix", "DTB_URL_PREFIX", CFG_STRING, 0, 0, "\"/_debug_toolbar\"", FIELD(url_prefix),
     parse_url_prefix, NULL, 0, NULL, "where the toolbar's own URLs live"},
    {"history_size", "DTB_HISTORY_SIZE", CFG_INT, 1, 10000, "25", FIELD(history_size), NULL, NULL,
     0, NULL, "requests kept"},
    {"history_max_bytes", "DTB_HISTORY_MAX_BYTES", CFG_INT, 65536, 1LL << 34, "16777216",
     FIELD(history_max_bytes), NULL, NULL, 0, "16 MiB", "bytes kept, oldest dropped first"},
    {"record_max_bytes", "DTB_RECORD_MAX_BYTES", CFG_INT, 4096, 1LL << 34, "1048576",
     FIELD(record_max_bytes), parse_record_max_bytes, NULL, 0, "1 MiB",
     "one record's cap; the biggest panels are dropped and marked"},
    {"record_max_pairs", "DTB_RECORD_MAX_PAIRS", CFG_INT, 1, 1000000, "500",
     FIELD(record_max_pairs), NULL, NULL, 0, NULL,
     "headers, query arguments, cookies, form fields, response headers (each) and entries of "
     "one session or template object kept per request; the rest are counted (\"N more not "
     "recorded\")"},
    {"panels", "DTB_PANELS", CFG_LIST, 0, 0, NULL, FIELD(panels), NULL, NULL, CFG_DUMP_NULL,
     "all default panels", "panel ids to enable, in sidebar order"},
    {"secret_key", "DTB_SECRET_KEY", CFG_CUSTOM, 0, 0, NULL, NO_FIELD, parse_secret_key,
     dump_secret_key, 0, "random per process",
     "signs SQL actions; set it when processes share a store (16 to 64 bytes)"},
    {"store", "DTB_STORE", CFG_STRING, 0, 0, "\"memory\"", FIELD(store), parse_store, NULL, 0, NULL,
     "history store: `\"memory\"`, `\"redis://host:port/db\"`, `\"unix:/path\"`"},
    {"store_prefix", "DTB_STORE_PREFIX", CFG_STRING, 0, 0, "\"dtb\"", FIELD(store_prefix), NULL,
     NULL, 0, NULL, "the prefix of the store's Redis keys"},
    {"store_ttl", "DTB_STORE_TTL", CFG_INT, 1, 30LL * 86400, "3600", FIELD(store_ttl), NULL, NULL,
     0, NULL, "how long a record lives in Redis (s)"},
    {"store_timeout_ms", "DTB_STORE_TIMEOUT_MS", CFG_INT, 1, 10000, "50", FIELD(store_timeout_ms),
     NULL, NULL, 0, NULL, "bound on each Redis call (ms)"},
    {"redact", "DTB_REDACT", CFG_LIST, 0, 0, DEFAULT_REDACT, FIELD(redact), parse_redact, NULL, 0,
     "password, passwd, secret, token, api_key, authorization, cookie, session, csrf, key, "
     "auth, credential, private, passphrase, pwd, signature, jwt, bearer, sid, sessid, "
     "jsessionid, phpsessid, connect.sid",
     "names whose values are shown as `********` (rules below); a list replaces the defaults"},
    {"sql.slow_ms", "DTB_SQL_SLOW_MS", CFG_NUMBER, 0, 0, NULL, NO_FIELD, parse_moved, NULL,
     CFG_NO_DUMP, NULL, "still accepted: sets `panel_options.sql.slow_ms` ([SQL](#sql))"},
    {"sql.explain", "DTB_SQL_EXPLAIN", CFG_BOOL, 0, 0, NULL, NO_FIELD, parse_moved, NULL,
     CFG_NO_DUMP, NULL, "still accepted: sets `panel_options.sql.explain` ([SQL](#sql))"},
    {"sql.capture_params", "DTB_SQL_CAPTURE_PARAMS", CFG_BOOL, 0, 0, NULL, NO_FIELD, parse_moved,
     NULL, CFG_NO_DUMP, NULL,
     "still accepted: sets `panel_options.sql.capture_params` ([SQL](#sql))"},
    {"preload.ports", NULL, CFG_CUSTOM, 0, 0, NULL, NO_FIELD, parse_preload_ports, NULL,
     CFG_NO_DUMP, NULL,
     "`[8080]`: only these listening ports get the toolbar (meant for dtb-run, honoured by "
     "`dtb_start_daemon` too)"},
    {"preload.bind", NULL, CFG_CUSTOM, 0, 0, NULL, NO_FIELD, parse_preload_bind, NULL, CFG_NO_DUMP,
     NULL,
     "`\"127.0.0.1\"`: daemons that name no address listen on it (dtb-run, "
     "`dtb_start_daemon`)"},
    {"panel_options", NULL, CFG_OBJECT, 0, 0, NULL, FIELD(panel_options), parse_panel_options, NULL,
     CFG_DUMP_NULL, "`{}`",
     "per-panel settings by panel id, e.g. `{\"htmlcheck\": {\"max_bytes\": 262144}}`"},
    {"insert_before", "DTB_INSERT_BEFORE", CFG_STRING, 0, 0, "\"</body>\"", FIELD(insert_before),
     NULL, NULL, 0, NULL, "a custom marker to insert before instead"},
    {"intercept_redirects", "DTB_INTERCEPT_REDIRECTS", CFG_BOOL, 0, 0, "false",
     FIELD(intercept_redirects), NULL, NULL, 0, NULL, "show a page instead of following redirects"},
    {"app", NULL, CFG_OBJECT, 0, 0, NULL, FIELD(app), NULL, NULL, CFG_NO_DUMP, NULL,
     "your app's own settings; shown (redacted) in the Config panel"},
    {"editor", "DTB_EDITOR", CFG_STRING, 0, 0, NULL, FIELD(editor), parse_editor, NULL, 0, NULL,
     "a URL template that turns every call site (file:line) into a link: "
     "`vscode://file/{file}:{line}`, `idea://open?file={file}&line={line}`, "
     "`emacs://open?url=file://{file}&line={line}`"},
    {"editor_paths", NULL, CFG_CUSTOM, 0, 0, NULL, FIELD(editor_paths), parse_editor_paths, NULL, 0,
     "`[]`",
     "path mappings for containers and build trees, first match wins: "
     "`[{\"from\": \"/build/src\", \"to\": \"/home/me/src\"}]`"},
    {"source_root", "DTB_SOURCE_ROOT", CFG_STRING, 0, 0, NULL, FIELD(source_root),
     parse_source_root, NULL, 0, NULL,
     "an absolute directory that relative source paths (such as `__FILE__` in an out-of-tree "
     "build) are resolved against"},
};

#define N_SCHEMA (sizeof(schema) / sizeof(schema[0]))

/* The entry of a dotted key, or NULL. */
static const struct cfg_entry *schema_find(const char *key)
{
    for (size_t i = 0; i < N_SCHEMA; i++)
        if (strcmp(schema[i].key, key) == 0)
            return &schema[i];
    return NULL;
}

/* 1 when name is the object part of some dotted key ("sql"). */
static int schema_is_parent(const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < N_SCHEMA; i++)
        if (strncmp(schema[i].key, name, n) == 0 && schema[i].key[n] == '.')
            return 1;
    return 0;
}

/* The value of a dotted key in root, or NULL. */
static json_t *schema_get(json_t *root, const char *key)
{
    const char *dot = strchr(key, '.');
    if (dot == NULL)
        return json_object_get(root, key);
    char parent[32];
    snprintf(parent, sizeof(parent), "%.*s", (int)(dot - key), key);
    return json_object_get(json_object_get(root, parent), dot + 1);
}

/* ---- environment ------------------------------------------------------------------------------
 */

static json_t *env_value(struct loader *ld, const struct cfg_entry *e, const char *s)
{
    char *end;
    switch (e->type) {
    case CFG_BOOL:
        if (!strcasecmp(s, "1") || !strcasecmp(s, "true") || !strcasecmp(s, "yes") ||
            !strcasecmp(s, "on"))
            return json_true();
        if (!strcasecmp(s, "0") || !strcasecmp(s, "false") || !strcasecmp(s, "no") ||
            !strcasecmp(s, "off") || s[0] == '\0')
            return json_false();
        dtbi_error_set(ld->err, DTB_ECONFIG, ENV_SOURCE, 0, 0, e->env,
                       "expected 1/0, true/false, yes/no or on/off, got \"%.40s\"", s);
        return NULL;
    case CFG_INT: {
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (s[0] == '\0' || *end != '\0' || errno != 0) {
            dtbi_error_set(ld->err, DTB_ECONFIG, ENV_SOURCE, 0, 0, e->env,
                           "expected an integer, got \"%.40s\"", s);
            return NULL;
        }
        return json_integer(v);
    }
    case CFG_NUMBER: {
        double v = strtod(s, &end);
        if (s[0] == '\0' || *end != '\0') {
            dtbi_error_set(ld->err, DTB_ECONFIG, ENV_SOURCE, 0, 0, e->env,
                           "expected a number, got \"%.40s\"", s);
            return NULL;
        }
        return json_real(v);
    }
    case CFG_LIST: {
        json_t *arr = json_array();
        const char *p = s;
        while (arr != NULL && *p != '\0') {
            size_t n = strcspn(p, ",");
            const char *a = p, *b = p + n;
            while (a < b && isspace((unsigned char)*a))
                a++;
            while (b > a && isspace((unsigned char)b[-1]))
                b--;
            if (b > a)
                json_array_append_new(arr, json_stringn(a, (size_t)(b - a)));
            p += n;
            if (*p == ',')
                p++;
        }
        return arr;
    }
    case CFG_STRING:
    case CFG_OBJECT:
    case CFG_CUSTOM:
        break;
    }
    return json_string(s);
}

/* Sets every DTB_* variable that is set into root, over the file's value. */
static dtb_rc apply_env(struct loader *ld, json_t *root)
{
    for (size_t i = 0; i < N_SCHEMA; i++) {
        const struct cfg_entry *e = &schema[i];
        const char *s = e->env != NULL ? getenv(e->env) : NULL;
        json_t *v, *target = root;
        const char *leaf = e->key;
        if (s == NULL)
            continue;
        v = env_value(ld, e, s);
        if (v == NULL)
            return ld->err != NULL && ld->err->code != DTB_OK ? ld->err->code : DTB_ECONFIG;
        const char *dot = strchr(e->key, '.');
        if (dot != NULL) {
            char parent[32];
            snprintf(parent, sizeof(parent), "%.*s", (int)(dot - e->key), e->key);
            target = json_object_get(root, parent);
            if (!json_is_object(target)) {
                target = json_object();
                json_object_set_new(root, parent, target);
            }
            leaf = dot + 1;
            json_object_set_new(ld->from_env, parent, json_string(e->env));
        }
        json_object_set_new(target, leaf, v);
        json_object_set_new(ld->from_env, e->key, json_string(e->env));
    }
    return DTB_OK;
}

/* ---- validation -------------------------------------------------------------------------------
 */

/* Every key of root and of its objects ("sql") is in the schema. */
static dtb_rc check_known(struct loader *ld, json_t *root)
{
    const char *key, *sub;
    json_t *v, *item;
    char k[80];
    json_object_foreach(root, key, v)
    {
        if (schema_is_parent(key)) {
            if (!json_is_object(v))
                return bad(ld, key, "expected an object, got %s", type_name(v));
            json_object_foreach(v, sub, item)
            {
                snprintf(k, sizeof(k), "%s.%s", key, sub);
                if (schema_find(k) == NULL)
                    return bad(ld, k, "unknown key");
            }
        } else if (strchr(key, '.') != NULL || schema_find(key) == NULL) {
            return bad(ld, key, "unknown key");
        }
    }
    return DTB_OK;
}

static dtb_rc validate(struct loader *ld, json_t *root, struct dtbi_config *cfg)
{
    dtb_rc rc = check_known(ld, root);
    for (size_t i = 0; rc == DTB_OK && i < N_SCHEMA; i++) {
        const struct cfg_entry *e = &schema[i];
        json_t *v = schema_get(root, e->key), *def = NULL;
        if (v == NULL && e->def != NULL) {
            v = def = json_loads(e->def, JSON_DECODE_ANY, NULL);
            if (def == NULL)
                return no_memory(ld);
        }
        if (v != NULL) {
            rc = store_typed(ld, e, v, cfg);
            if (rc == DTB_OK && e->parse != NULL)
                rc = e->parse(ld, e, v, cfg);
        }
        json_decref(def);
    }
    return rc;
}

/* ---- the effective config -----------------------------------------------------------------------
 */

static json_t *dump_entry(const struct cfg_entry *e, const struct dtbi_config *cfg)
{
    if (e->dump != NULL)
        return e->dump(cfg);
    const void *p = cfield(cfg, e);
    switch (e->type) {
    case CFG_BOOL:
        return json_boolean(*(const bool *)p);
    case CFG_INT:
        return json_integer((json_int_t)int_load(p, e->size));
    case CFG_NUMBER:
        return json_real(*(const double *)p);
    case CFG_STRING: {
        const char *s = *(char *const *)p;
        return s != NULL ? json_string(s) : NULL;
    }
    case CFG_LIST:
    case CFG_OBJECT:
    case CFG_CUSTOM:
        break;
    }
    json_t *j = e->size == sizeof(json_t *) ? *(json_t *const *)p : NULL;
    if (j != NULL)
        return json_incref(j);
    return (e->flags & CFG_DUMP_NULL) ? json_null() : NULL;
}

/* The effective config: each key that is dumped, in the schema's order, objects nested. */
static json_t *effective_json(const struct dtbi_config *cfg)
{
    json_t *out = json_object();
    for (size_t i = 0; out != NULL && i < N_SCHEMA; i++) {
        const struct cfg_entry *e = &schema[i];
        json_t *target = out, *v;
        const char *leaf = e->key, *dot = strchr(e->key, '.');
        if (e->flags & CFG_NO_DUMP)
            continue;
        if (dot != NULL) {
            char parent[32];
            snprintf(parent, sizeof(parent), "%.*s", (int)(dot - e->key), e->key);
            target = json_object_get(out, parent);
            if (target == NULL) {
                target = json_object();
                if (json_object_set_new(out, parent, target) != 0)
                    target = NULL;
            }
            leaf = dot + 1;
        }
        v = dump_entry(e, cfg);
        if (v == NULL)
            continue; /* unset, and left out */
        if (target == NULL || json_object_set_new(target, leaf, v) != 0) {
            json_decref(out);
            out = NULL;
        }
    }
    return out;
}

/* ---- the README's table -----------------------------------------------------------------------
 */

void dtbi_config_table_markdown(FILE *out)
{
    fputs("| key | environment | default | meaning |\n| --- | --- | --- | --- |\n", out);
    for (size_t i = 0; i < N_SCHEMA; i++) {
        const struct cfg_entry *e = &schema[i];
        fprintf(out, "| `%s` | ", e->key);
        if (e->env != NULL)
            fprintf(out, "`%s`", e->env);
        else
            fputs("—", out);
        if (e->doc_default != NULL)
            fprintf(out, " | %s", e->doc_default);
        else if (e->def != NULL)
            fprintf(out, " | `%s`", e->def);
        else
            fputs(" | —", out);
        fprintf(out, " | %s |\n", e->help);
    }
}

/* ---- loading -----------------------------------------------------------------------------------
 */

dtb_rc dtbi_config_load(struct dtbi_config *cfg, const char *text, const char *source,
                        struct dtb_error *err)
{
    struct loader ld = {text, source ? source : "config", NULL, NULL, err};
    json_error_t jerr;
    json_t *root;
    dtb_rc rc;

    memset(cfg, 0, sizeof(*cfg));
    cfg->source = strdup(ld.source);
    cfg->text = text != NULL ? strdup(text) : NULL;
    ld.from_env = json_object();
    if (cfg->source == NULL || (text != NULL && cfg->text == NULL) || ld.from_env == NULL) {
        json_decref(ld.from_env);
        dtbi_config_free(cfg);
        return dtbi_error_set(err, DTB_ENOMEM, ld.source, 0, 0, NULL, "out of memory");
    }
    if (text != NULL) {
        root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
        if (root == NULL) {
            json_decref(ld.from_env);
            dtbi_config_free(cfg);
            return dtbi_error_set(err, DTB_ECONFIG, ld.source, jerr.line, jerr.column, NULL,
                                  "invalid JSON: %s", jerr.text);
        }
        if (!json_is_object(root)) {
            json_decref(root);
            json_decref(ld.from_env);
            dtbi_config_free(cfg);
            return dtbi_error_set(err, DTB_ECONFIG, ld.source, 1, 1, NULL,
                                  "the config must be a JSON object");
        }
    } else {
        root = json_object();
    }
    ld.root = root;
    rc = root != NULL ? apply_env(&ld, root) : DTB_ENOMEM;
    if (rc == DTB_OK)
        rc = validate(&ld, root, cfg);
    if (rc == DTB_OK && !cfg->secret_key_set) {
        cfg->secret_key_len = 32;
        if (getrandom(cfg->secret_key, 32, 0) != 32)
            rc = dtbi_error_set(err, DTB_EIO, ld.source, 0, 0, "secret_key",
                                "no random bytes for a secret_key");
    }
    if (rc == DTB_OK) {
        cfg->effective = effective_json(cfg);
        if (cfg->effective == NULL)
            rc = dtbi_error_set(err, DTB_ENOMEM, ld.source, 0, 0, NULL, "out of memory");
    }
    json_decref(root);
    json_decref(ld.from_env);
    if (rc != DTB_OK) {
        dtbi_error_set(err, rc, ld.source, 0, 0, NULL, "%s", dtb_strerror(rc));
        dtbi_config_free(cfg);
    }
    return rc;
}

void dtbi_config_free(struct dtbi_config *cfg)
{
    free(cfg->hosts);
    free(cfg->trusted_proxies);
    json_decref(cfg->allowed_hosts);
    json_decref(cfg->panels);
    free(cfg->url_prefix);
    free(cfg->store);
    free(cfg->store_prefix);
    free(cfg->insert_before);
    json_decref(cfg->redact);
    json_decref(cfg->panel_options);
    json_decref(cfg->app);
    free(cfg->editor);
    json_decref(cfg->editor_paths);
    free(cfg->source_root);
    json_decref(cfg->effective);
    free(cfg->source);
    free(cfg->text);
    memset(cfg, 0, sizeof(*cfg));
}
