/*
 * config.c - the toolbar's config: a JSON file (jansson), DTB_* environment overrides, one
 * validation pass, and errors that name the key, line and column.
 *
 * Environment values are converted to JSON and set into the parsed object before validation,
 * so file and environment go through the same checks. jansson keeps no positions for values,
 * so a small locator finds a key's position in the raw text for error messages (it skips over
 * string contents and only reports a key token followed by ':'); it is not a JSON parser.
 * Also here: CIDR parsing and matching for `hosts` and `trusted_proxies`.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

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

int dtbi_config_locate(const struct dtbi_config *cfg, const char *key_path, int *line,
                       int *column)
{
    return locate(cfg->text, key_path, line, column);
}

/* ---- validation ------------------------------------------------------------------------------- */

struct loader {
    const char *text;
    const char *source;
    json_t *from_env; /* object: dotted key -> env var name, for keys the environment set */
    struct dtb_error *err;
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
    if (locate(ld->text, key, &line, &col) != 0)
        line = col = 0;
    return dtbi_error_set(ld->err, DTB_ECONFIG, ld->source, line, col, key, "%s", text);
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

static dtb_rc get_bool(struct loader *ld, json_t *obj, const char *name, const char *key,
                       bool *out)
{
    json_t *v = json_object_get(obj, name);
    if (v == NULL)
        return DTB_OK;
    if (!json_is_boolean(v))
        return bad(ld, key, "expected true or false, got %s", type_name(v));
    *out = json_is_true(v);
    return DTB_OK;
}

static dtb_rc get_int(struct loader *ld, json_t *obj, const char *name, const char *key,
                      long long lo, long long hi, long long *out)
{
    json_t *v = json_object_get(obj, name);
    if (v == NULL)
        return DTB_OK;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        char *shown = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        dtb_rc rc = bad(ld, key, "expected an integer from %lld to %lld, got %.40s", lo, hi,
                        shown ? shown : "?");
        free(shown);
        return rc;
    }
    *out = json_integer_value(v);
    return DTB_OK;
}

static dtb_rc get_string(struct loader *ld, json_t *obj, const char *name, const char *key,
                         char **out)
{
    json_t *v = json_object_get(obj, name);
    if (v == NULL)
        return DTB_OK;
    if (!json_is_string(v))
        return bad(ld, key, "expected a string, got %s", type_name(v));
    if (json_string_value(v)[0] == '\0')
        return bad(ld, key, "must not be empty");
    char *s = strdup(json_string_value(v));
    if (s == NULL)
        return dtbi_error_set(ld->err, DTB_ENOMEM, ld->source, 0, 0, key, "out of memory");
    free(*out);
    *out = s;
    return DTB_OK;
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

/* An array of IP addresses or CIDR ranges (`hosts`, `trusted_proxies`) into *out (calloc'd,
 * *n entries); nothing when the key is absent. */
static dtb_rc get_cidr_list(struct loader *ld, json_t *root, const char *name,
                            struct dtbi_cidr **out, size_t *n)
{
    json_t *v = json_object_get(root, name), *item;
    size_t i;
    char k[80];
    dtb_rc rc;
    if (v == NULL)
        return DTB_OK;
    if ((rc = check_string_array(ld, v, name)) != DTB_OK)
        return rc;
    *out = calloc(json_array_size(v) + 1, sizeof(**out));
    if (*out == NULL)
        return dtbi_error_set(ld->err, DTB_ENOMEM, ld->source, 0, 0, NULL, "out of memory");
    json_array_foreach(v, i, item)
    {
        snprintf(k, sizeof(k), "%s[%zu]", name, i);
        if (dtbi_cidr_parse(json_string_value(item), &(*out)[i]) != 0)
            return bad(ld, k, "not an IP address or CIDR range: \"%.60s\"",
                       json_string_value(item));
    }
    *n = json_array_size(v);
    return DTB_OK;
}

/* `allowed_hosts`: host names (lower-cased) the toolbar answers besides IP literals and
 * localhost: "name", ".domain" (the domain and its subdomains) or "*" (any). */
static dtb_rc get_allowed_hosts(struct loader *ld, json_t *root, struct dtbi_config *cfg)
{
    json_t *v = json_object_get(root, "allowed_hosts"), *item;
    size_t i;
    char k[80];
    dtb_rc rc;
    cfg->allowed_hosts = json_array();
    if (cfg->allowed_hosts == NULL)
        return dtbi_error_set(ld->err, DTB_ENOMEM, ld->source, 0, 0, NULL, "out of memory");
    if (v == NULL)
        return DTB_OK;
    if ((rc = check_string_array(ld, v, "allowed_hosts")) != DTB_OK)
        return rc;
    json_array_foreach(v, i, item)
    {
        const char *s = json_string_value(item);
        size_t len = strlen(s), dot = s[0] == '.';
        char *low;
        snprintf(k, sizeof(k), "allowed_hosts[%zu]", i);
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
            return dtbi_error_set(ld->err, DTB_ENOMEM, ld->source, 0, 0, NULL, "out of memory");
        for (size_t j = 0; j < len; j++)
            low[j] = (char)tolower((unsigned char)low[j]);
        if (len > 1 + dot && low[len - 1] == '.') /* "example.com." is "example.com" */
            low[len - 1] = '\0';
        json_array_append_new(cfg->allowed_hosts, json_string(low));
        free(low);
    }
    return DTB_OK;
}

static const char *const known_keys[] = {
    "enabled",       "hosts",          "intercept_redirects", "panels",    "url_prefix",
    "secret_key",    "history_size",   "history_max_bytes",   "record_max_bytes",
    "store",         "store_prefix",   "store_ttl",           "store_timeout_ms",
    "sql",           "insert_before",  "redact",              "panel_options", "app",
    "preload",       "allowed_hosts",  "trusted_proxies",     "editor",    "editor_paths",
    "source_root",   "record_max_pairs",
};
static const char *const sql_keys[] = {"slow_ms", "explain", "capture_params"};

/* Matched as README's "Redaction" says (toolbar/redact.c): the short ones (up to four
 * characters) only as a whole segment of a name, the others anywhere in it. */
static const char *const default_redact[] = {
    "password", "passwd",     "secret",     "token",     "api_key",     "authorization",
    "cookie",   "session",    "csrf",       "key",       "auth",        "credential",
    "private",  "passphrase", "pwd",        "signature", "jwt",         "bearer",
    "sid",      "sessid",     "jsessionid", "phpsessid", "connect.sid",
};

/* Adds pattern, normalised (dtbi_redact_normalize), to list unless it is there already. key
 * names it for errors. */
static dtb_rc add_redact_pattern(struct loader *ld, json_t *list, const char *pattern,
                                 const char *key)
{
    size_t n = strlen(pattern), i;
    char *norm = malloc(n + 1);
    json_t *have;
    if (norm == NULL)
        return dtbi_error_set(ld->err, DTB_ENOMEM, ld->source, 0, 0, NULL, "out of memory");
    n = dtbi_redact_normalize(pattern, n, norm);
    if (n == 0) {
        free(norm);
        return bad(ld, key, "\"%.60s\" matches nothing: names are compared without - _ .", pattern);
    }
    json_array_foreach(list, i, have)
    {
        if (strcmp(json_string_value(have), norm) == 0) {
            free(norm);
            return DTB_OK;
        }
    }
    int rc = json_array_append_new(list, json_string(norm));
    free(norm);
    return rc == 0 ? DTB_OK
                   : dtbi_error_set(ld->err, DTB_ENOMEM, ld->source, 0, 0, NULL, "out of memory");
}

static int is_known(const char *key, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(key, list[i]) == 0)
            return 1;
    return 0;
}

/* editor (a URL template with {file} and {line}), editor_paths ([{"from", "to"}]) and
 * source_root (an absolute directory). The template's scheme must be a plain one: the links
 * the UI builds from it must never run script. */
static dtb_rc check_editor(struct loader *ld, json_t *root, struct dtbi_config *cfg)
{
    static const char *const refused[] = {"javascript:", "data:", "vbscript:", "blob:"};
    json_t *v, *item;
    size_t i;
    char k[80];
    dtb_rc rc;
    if ((rc = get_string(ld, root, "editor", "editor", &cfg->editor)) != DTB_OK)
        return rc;
    if (cfg->editor != NULL) {
        const char *t = cfg->editor;
        size_t n = strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");
        int bad_scheme = n == 0 || !isalpha((unsigned char)t[0]) || t[n] != ':';
        for (size_t r = 0; !bad_scheme && r < sizeof(refused) / sizeof(refused[0]); r++)
            bad_scheme = strncasecmp(t, refused[r], strlen(refused[r])) == 0;
        if (bad_scheme)
            return bad(ld, "editor",
                       "expected a URL template such as \"vscode://file/{file}:{line}\" "
                       "(a scheme other than javascript:, data:, vbscript: or blob:)");
        if (strstr(t, "{file}") == NULL)
            return bad(ld, "editor", "the template must contain {file}");
    }
    if ((rc = get_string(ld, root, "source_root", "source_root", &cfg->source_root)) != DTB_OK)
        return rc;
    if (cfg->source_root != NULL && cfg->source_root[0] != '/')
        return bad(ld, "source_root", "expected an absolute directory, got \"%.60s\"",
                   cfg->source_root);
    v = json_object_get(root, "editor_paths");
    if (v == NULL)
        return DTB_OK;
    if (!json_is_array(v))
        return bad(ld, "editor_paths", "expected an array of {\"from\", \"to\"}, got %s",
                   type_name(v));
    json_array_foreach(v, i, item)
    {
        const char *ik;
        json_t *iv;
        snprintf(k, sizeof(k), "editor_paths[%zu]", i);
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
    cfg->editor_paths = json_incref(v);
    return DTB_OK;
}

static dtb_rc validate(struct loader *ld, json_t *root, struct dtbi_config *cfg)
{
    const char *key;
    json_t *v;
    dtb_rc rc;
    long long n;

    json_object_foreach(root, key, v)
    {
        if (!is_known(key, known_keys, sizeof(known_keys) / sizeof(known_keys[0])))
            return bad(ld, key, "unknown key");
    }
    if ((rc = get_bool(ld, root, "enabled", "enabled", &cfg->enabled)) != DTB_OK)
        return rc;
    if ((rc = get_bool(ld, root, "intercept_redirects", "intercept_redirects",
                       &cfg->intercept_redirects)) != DTB_OK)
        return rc;

    if ((rc = get_cidr_list(ld, root, "hosts", &cfg->hosts, &cfg->nhosts)) != DTB_OK)
        return rc;
    if (json_object_get(root, "hosts") == NULL) {
        cfg->hosts = calloc(2, sizeof(*cfg->hosts));
        if (cfg->hosts == NULL)
            return dtbi_error_set(ld->err, DTB_ENOMEM, ld->source, 0, 0, NULL, "out of memory");
        dtbi_cidr_parse("127.0.0.1", &cfg->hosts[0]);
        dtbi_cidr_parse("::1", &cfg->hosts[1]);
        cfg->nhosts = 2;
    }
    if ((rc = get_cidr_list(ld, root, "trusted_proxies", &cfg->trusted_proxies,
                            &cfg->ntrusted_proxies)) != DTB_OK)
        return rc;
    if ((rc = get_allowed_hosts(ld, root, cfg)) != DTB_OK)
        return rc;

    v = json_object_get(root, "panels");
    if (v != NULL) {
        if ((rc = check_string_array(ld, v, "panels")) != DTB_OK)
            return rc;
        cfg->panels = json_incref(v);
    }

    if ((rc = get_string(ld, root, "url_prefix", "url_prefix", &cfg->url_prefix)) != DTB_OK)
        return rc;
    {
        size_t len = strlen(cfg->url_prefix);
        if (len > 1 && cfg->url_prefix[len - 1] == '/')
            cfg->url_prefix[--len] = '\0';
        if (cfg->url_prefix[0] != '/' || len < 2 ||
            strspn(cfg->url_prefix, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                    "0123456789_./-") != len ||
            strstr(cfg->url_prefix, "..") != NULL || strstr(cfg->url_prefix, "//") != NULL)
            return bad(ld, "url_prefix",
                       "must start with \"/\", not be \"/\", and use only letters, digits and "
                       "_ . / -");
    }

    v = json_object_get(root, "secret_key");
    if (v != NULL) {
        if (!json_is_string(v))
            return bad(ld, "secret_key", "expected a string, got %s", type_name(v));
        size_t len = json_string_length(v);
        if (len < 16 || len > sizeof(cfg->secret_key))
            return bad(ld, "secret_key", "must be 16 to %zu bytes long",
                       sizeof(cfg->secret_key));
        memcpy(cfg->secret_key, json_string_value(v), len);
        cfg->secret_key_len = len;
        cfg->secret_key_set = true;
    }

    n = (long long)cfg->history_size;
    if ((rc = get_int(ld, root, "history_size", "history_size", 1, 10000, &n)) != DTB_OK)
        return rc;
    cfg->history_size = (size_t)n;
    n = (long long)cfg->history_max_bytes;
    if ((rc = get_int(ld, root, "history_max_bytes", "history_max_bytes", 65536,
                      (long long)1 << 34, &n)) != DTB_OK)
        return rc;
    cfg->history_max_bytes = (size_t)n;
    n = (long long)cfg->record_max_bytes;
    if ((rc = get_int(ld, root, "record_max_bytes", "record_max_bytes", 4096, (long long)1 << 34,
                      &n)) != DTB_OK)
        return rc;
    cfg->record_max_bytes = (size_t)n;
    if (cfg->record_max_bytes > cfg->history_max_bytes)
        return bad(ld, json_object_get(root, "record_max_bytes") ? "record_max_bytes"
                                                                   : "history_max_bytes",
                   "record_max_bytes (%zu) must not exceed history_max_bytes (%zu)",
                   cfg->record_max_bytes, cfg->history_max_bytes);
    n = (long long)cfg->record_max_pairs;
    if ((rc = get_int(ld, root, "record_max_pairs", "record_max_pairs", 1, 1000000, &n)) != DTB_OK)
        return rc;
    cfg->record_max_pairs = (size_t)n;

    if ((rc = get_string(ld, root, "store", "store", &cfg->store)) != DTB_OK)
        return rc;
    if (strcmp(cfg->store, "memory") != 0) {
        char host[256], path[256];
        int port, db;
        if (dtbi_redis_url_parse(cfg->store, host, sizeof(host), &port, path, sizeof(path),
                                 &db) != 0)
            return bad(ld, "store",
                       "expected \"memory\", \"redis://host:port/db\" or \"unix:/path\", got "
                       "\"%.60s\"",
                       cfg->store);
    }
    if ((rc = get_string(ld, root, "store_prefix", "store_prefix", &cfg->store_prefix)) !=
        DTB_OK)
        return rc;
    n = cfg->store_ttl;
    if ((rc = get_int(ld, root, "store_ttl", "store_ttl", 1, 30LL * 86400, &n)) != DTB_OK)
        return rc;
    cfg->store_ttl = n;
    n = cfg->store_timeout_ms;
    if ((rc = get_int(ld, root, "store_timeout_ms", "store_timeout_ms", 1, 10000, &n)) != DTB_OK)
        return rc;
    cfg->store_timeout_ms = (unsigned)n;

    v = json_object_get(root, "sql");
    if (v != NULL) {
        json_t *item;
        char k[80];
        if (!json_is_object(v))
            return bad(ld, "sql", "expected an object, got %s", type_name(v));
        json_object_foreach(v, key, item)
        {
            snprintf(k, sizeof(k), "sql.%s", key);
            if (!is_known(key, sql_keys, sizeof(sql_keys) / sizeof(sql_keys[0])))
                return bad(ld, k, "unknown key");
        }
        item = json_object_get(v, "slow_ms");
        if (item != NULL) {
            if (!json_is_number(item) || json_number_value(item) < 0)
                return bad(ld, "sql.slow_ms", "expected a number >= 0, got %s",
                           json_is_number(item) ? "a negative number" : type_name(item));
            cfg->sql_slow_ms = json_number_value(item);
        }
        if ((rc = get_bool(ld, v, "explain", "sql.explain", &cfg->sql_explain)) != DTB_OK)
            return rc;
        if ((rc = get_bool(ld, v, "capture_params", "sql.capture_params",
                           &cfg->sql_capture_params)) != DTB_OK)
            return rc;
    }

    if ((rc = get_string(ld, root, "insert_before", "insert_before", &cfg->insert_before)) !=
        DTB_OK)
        return rc;

    v = json_object_get(root, "redact");
    json_decref(cfg->redact);
    cfg->redact = json_array();
    if (cfg->redact == NULL)
        return dtbi_error_set(ld->err, DTB_ENOMEM, ld->source, 0, 0, NULL, "out of memory");
    if (v != NULL) {
        size_t i;
        json_t *item;
        if ((rc = check_string_array(ld, v, "redact")) != DTB_OK)
            return rc;
        json_array_foreach(v, i, item)
        {
            char k[32];
            snprintf(k, sizeof(k), "redact[%zu]", i);
            if ((rc = add_redact_pattern(ld, cfg->redact, json_string_value(item), k)) != DTB_OK)
                return rc;
        }
    } else {
        for (size_t i = 0; i < sizeof(default_redact) / sizeof(default_redact[0]); i++)
            if ((rc = add_redact_pattern(ld, cfg->redact, default_redact[i], "redact")) != DTB_OK)
                return rc;
    }

    v = json_object_get(root, "panel_options");
    if (v != NULL) {
        json_t *item;
        char k[80];
        if (!json_is_object(v))
            return bad(ld, "panel_options", "expected an object, got %s", type_name(v));
        json_object_foreach(v, key, item)
        {
            snprintf(k, sizeof(k), "panel_options.%s", key);
            if (!json_is_object(item))
                return bad(ld, k, "expected an object, got %s", type_name(item));
        }
        cfg->panel_options = json_incref(v);
    }
    v = json_object_get(root, "preload");
    if (v != NULL) {
        json_t *item, *ports;
        const char *pk;
        char k[80];
        size_t i;
        if (!json_is_object(v))
            return bad(ld, "preload", "expected an object, got %s", type_name(v));
        json_object_foreach(v, pk, item)
        {
            snprintf(k, sizeof(k), "preload.%s", pk);
            if (strcmp(pk, "ports") != 0 && strcmp(pk, "bind") != 0)
                return bad(ld, k, "unknown key");
        }
        item = json_object_get(v, "bind");
        if (item != NULL) {
            const char *a = json_string_value(item);
            struct sockaddr_in *s4 = (struct sockaddr_in *)&cfg->bind;
            struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&cfg->bind;
            memset(&cfg->bind, 0, sizeof(cfg->bind));
            if (a != NULL && inet_pton(AF_INET, a, &s4->sin_addr) == 1)
                s4->sin_family = AF_INET;
            else if (a != NULL && inet_pton(AF_INET6, a, &s6->sin6_addr) == 1)
                s6->sin6_family = AF_INET6;
            else
                return bad(ld, "preload.bind", "expected an IP address such as \"127.0.0.1\", got %s",
                           type_name(item));
            cfg->bind_set = true;
        }
        ports = json_object_get(v, "ports");
        if (ports != NULL && !json_is_array(ports))
            return bad(ld, "preload.ports", "expected an array of port numbers, got %s",
                       type_name(ports));
        json_array_foreach(ports, i, item)
        {
            snprintf(k, sizeof(k), "preload.ports[%zu]", i);
            if (!json_is_integer(item) || json_integer_value(item) < 1 ||
                json_integer_value(item) > 65535)
                return bad(ld, k, "expected a port number from 1 to 65535, got %s",
                           type_name(item));
            if (cfg->nports < sizeof(cfg->ports) / sizeof(cfg->ports[0]))
                cfg->ports[cfg->nports++] = (uint16_t)json_integer_value(item);
        }
        cfg->ports_set = ports != NULL;
    }
    if ((rc = check_editor(ld, root, cfg)) != DTB_OK)
        return rc;
    v = json_object_get(root, "app");
    if (v != NULL) {
        if (!json_is_object(v))
            return bad(ld, "app", "expected an object, got %s", type_name(v));
        cfg->app = json_incref(v);
    }
    return DTB_OK;
}

/* ---- environment ------------------------------------------------------------------------------ */

enum env_kind { ENV_BOOL, ENV_INT, ENV_NUMBER, ENV_STRING, ENV_LIST };

struct env_def {
    const char *var;
    const char *key; /* dotted */
    enum env_kind kind;
};

static const struct env_def env_defs[] = {
    {"DTB_ENABLED", "enabled", ENV_BOOL},
    {"DTB_HOSTS", "hosts", ENV_LIST},
    {"DTB_INTERCEPT_REDIRECTS", "intercept_redirects", ENV_BOOL},
    {"DTB_PANELS", "panels", ENV_LIST},
    {"DTB_URL_PREFIX", "url_prefix", ENV_STRING},
    {"DTB_SECRET_KEY", "secret_key", ENV_STRING},
    {"DTB_HISTORY_SIZE", "history_size", ENV_INT},
    {"DTB_HISTORY_MAX_BYTES", "history_max_bytes", ENV_INT},
    {"DTB_RECORD_MAX_BYTES", "record_max_bytes", ENV_INT},
    {"DTB_RECORD_MAX_PAIRS", "record_max_pairs", ENV_INT},
    {"DTB_STORE", "store", ENV_STRING},
    {"DTB_STORE_PREFIX", "store_prefix", ENV_STRING},
    {"DTB_STORE_TTL", "store_ttl", ENV_INT},
    {"DTB_STORE_TIMEOUT_MS", "store_timeout_ms", ENV_INT},
    {"DTB_SQL_SLOW_MS", "sql.slow_ms", ENV_NUMBER},
    {"DTB_SQL_EXPLAIN", "sql.explain", ENV_BOOL},
    {"DTB_SQL_CAPTURE_PARAMS", "sql.capture_params", ENV_BOOL},
    {"DTB_INSERT_BEFORE", "insert_before", ENV_STRING},
    {"DTB_REDACT", "redact", ENV_LIST},
    {"DTB_ALLOWED_HOSTS", "allowed_hosts", ENV_LIST},
    {"DTB_TRUSTED_PROXIES", "trusted_proxies", ENV_LIST},
    {"DTB_EDITOR", "editor", ENV_STRING},
    {"DTB_SOURCE_ROOT", "source_root", ENV_STRING},
};

static json_t *env_value(const struct env_def *d, const char *s, struct loader *ld)
{
    char *end;
    switch (d->kind) {
    case ENV_BOOL:
        if (!strcasecmp(s, "1") || !strcasecmp(s, "true") || !strcasecmp(s, "yes") ||
            !strcasecmp(s, "on"))
            return json_true();
        if (!strcasecmp(s, "0") || !strcasecmp(s, "false") || !strcasecmp(s, "no") ||
            !strcasecmp(s, "off") || s[0] == '\0')
            return json_false();
        dtbi_error_set(ld->err, DTB_ECONFIG, ENV_SOURCE, 0, 0, d->var,
                       "expected 1/0, true/false, yes/no or on/off, got \"%.40s\"", s);
        return NULL;
    case ENV_INT: {
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (s[0] == '\0' || *end != '\0' || errno != 0) {
            dtbi_error_set(ld->err, DTB_ECONFIG, ENV_SOURCE, 0, 0, d->var,
                           "expected an integer, got \"%.40s\"", s);
            return NULL;
        }
        return json_integer(v);
    }
    case ENV_NUMBER: {
        double v = strtod(s, &end);
        if (s[0] == '\0' || *end != '\0') {
            dtbi_error_set(ld->err, DTB_ECONFIG, ENV_SOURCE, 0, 0, d->var,
                           "expected a number, got \"%.40s\"", s);
            return NULL;
        }
        return json_real(v);
    }
    case ENV_STRING:
        return json_string(s);
    case ENV_LIST: {
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
    }
    return NULL;
}

static dtb_rc apply_env(struct loader *ld, json_t *root)
{
    for (size_t i = 0; i < sizeof(env_defs) / sizeof(env_defs[0]); i++) {
        const struct env_def *d = &env_defs[i];
        const char *s = getenv(d->var);
        json_t *v, *target = root;
        const char *leaf = d->key;
        if (s == NULL)
            continue;
        v = env_value(d, s, ld);
        if (v == NULL)
            return ld->err != NULL && ld->err->code != DTB_OK ? ld->err->code : DTB_ECONFIG;
        const char *dot = strchr(d->key, '.');
        if (dot != NULL) {
            char parent[32];
            snprintf(parent, sizeof(parent), "%.*s", (int)(dot - d->key), d->key);
            target = json_object_get(root, parent);
            if (!json_is_object(target)) {
                target = json_object();
                json_object_set_new(root, parent, target);
            }
            leaf = dot + 1;
            json_object_set_new(ld->from_env, parent, json_string(d->var));
        }
        json_object_set_new(target, leaf, v);
        json_object_set_new(ld->from_env, d->key, json_string(d->var));
    }
    return DTB_OK;
}

/* ---- loading ----------------------------------------------------------------------------------- */

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

static json_t *effective_json(const struct dtbi_config *cfg)
{
    json_t *hosts = cidr_list_json(cfg->hosts, cfg->nhosts);
    json_t *e = json_pack(
        "{s:b,s:o,s:b,s:O?,s:s,s:I,s:I,s:I,s:s,s:s,s:I,s:I,s:{s:f,s:b,s:b},s:s,s:O,s:O?}",
        "enabled", cfg->enabled, "hosts", hosts, "intercept_redirects",
        cfg->intercept_redirects, "panels", cfg->panels, "url_prefix", cfg->url_prefix,
        "history_size", (json_int_t)cfg->history_size, "history_max_bytes",
        (json_int_t)cfg->history_max_bytes, "record_max_bytes", (json_int_t)cfg->record_max_bytes,
        "store", cfg->store, "store_prefix", cfg->store_prefix, "store_ttl",
        (json_int_t)cfg->store_ttl, "store_timeout_ms", (json_int_t)cfg->store_timeout_ms, "sql",
        "slow_ms", cfg->sql_slow_ms, "explain", cfg->sql_explain, "capture_params",
        cfg->sql_capture_params, "insert_before", cfg->insert_before, "redact", cfg->redact,
        "panel_options", cfg->panel_options);
    if (e != NULL)
        json_object_set_new(e, "record_max_pairs", json_integer((json_int_t)cfg->record_max_pairs));
    if (e != NULL && cfg->secret_key_set)
        json_object_set_new(e, "secret_key", json_string(DTB_REDACTED));
    if (e != NULL && (json_object_set(e, "allowed_hosts", cfg->allowed_hosts) != 0 ||
                      json_object_set_new(e, "trusted_proxies",
                                          cidr_list_json(cfg->trusted_proxies,
                                                         cfg->ntrusted_proxies)) != 0)) {
        json_decref(e);
        e = NULL;
    }
    if (e != NULL && cfg->editor != NULL)
        json_object_set_new(e, "editor", json_string(cfg->editor));
    if (e != NULL && cfg->editor_paths != NULL)
        json_object_set(e, "editor_paths", cfg->editor_paths);
    if (e != NULL && cfg->source_root != NULL)
        json_object_set_new(e, "source_root", json_string(cfg->source_root));
    return e;
}

dtb_rc dtbi_config_load(struct dtbi_config *cfg, const char *text, const char *source,
                        struct dtb_error *err)
{
    struct loader ld = {text, source ? source : "config", NULL, err};
    json_error_t jerr;
    json_t *root;
    dtb_rc rc;

    memset(cfg, 0, sizeof(*cfg));
    cfg->history_size = 25;
    cfg->history_max_bytes = 16u << 20;
    cfg->record_max_bytes = 1u << 20;
    cfg->record_max_pairs = 500;
    cfg->sql_slow_ms = 100;
    cfg->sql_explain = true;
    cfg->sql_capture_params = true;
    cfg->store_ttl = 3600;
    cfg->store_timeout_ms = 50;
    cfg->url_prefix = strdup("/_debug_toolbar");
    cfg->store = strdup("memory");
    cfg->store_prefix = strdup("dtb");
    cfg->insert_before = strdup("</body>");
    cfg->source = strdup(ld.source);
    cfg->text = text != NULL ? strdup(text) : NULL;
    ld.from_env = json_object();
    if (cfg->url_prefix == NULL || cfg->store == NULL || cfg->store_prefix == NULL ||
        cfg->insert_before == NULL || cfg->source == NULL || (text != NULL && cfg->text == NULL) ||
        ld.from_env == NULL) {
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
