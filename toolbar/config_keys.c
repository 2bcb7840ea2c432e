/*
 * config_keys.c - the config's schema: one table (key, DTB_* variable, type, bounds, default,
 * field or parser, help) from which the loader, the environment overrides, the effective config
 * and the README's table are all driven, and the parsers of the keys that need more than their
 * type (addresses, host names, the URL prefix, the store, redaction patterns, editor links...).
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_int.h"
#include "store.h"

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
        return dtbi_config_no_memory(ld);
    json_array_foreach(v, i, item)
    {
        snprintf(k, sizeof(k), "%s[%zu]", key, i);
        if (dtbi_cidr_parse(json_string_value(item), &(*out)[i]) != 0)
            return dtbi_config_bad(ld, k, "not an IP address or CIDR range: \"%.60s\"",
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
        return dtbi_config_no_memory(ld);
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
            return dtbi_config_bad(
                ld, k,
                "a host name without a port, got \"%.60s\" (every port is allowed; "
                "IP addresses always are)",
                s);
        if (s[0] == '*')
            return dtbi_config_bad(ld, k,
                                   "\"*\" alone allows any name; for a domain and its subdomains "
                                   "write \".example.com\", got \"%.60s\"",
                                   s);
        if (len == dot || len > 254 ||
            strspn(s + dot, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._") !=
                len - dot)
            return dtbi_config_bad(ld, k,
                                   "expected a host name, \".domain\" or \"*\", got \"%.60s\"", s);
        low = strdup(s);
        if (low == NULL)
            return dtbi_config_no_memory(ld);
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
        return dtbi_config_bad(
            ld, e->key,
            "must start with \"/\", not be \"/\", and use only letters, digits and "
            "_ . / -");
    return DTB_OK;
}

/* secret_key: 16 to 64 bytes, shown redacted; when unset, dtbi_config_load draws one. */
static dtb_rc parse_secret_key(struct loader *ld, const struct cfg_entry *e, json_t *v,
                               struct dtbi_config *cfg)
{
    if (!json_is_string(v))
        return dtbi_config_bad(ld, e->key, "expected a string, got %s", dtbi_config_type_name(v));
    size_t len = json_string_length(v);
    if (len < 16 || len > sizeof(cfg->secret_key))
        return dtbi_config_bad(ld, e->key, "must be 16 to %zu bytes long", sizeof(cfg->secret_key));
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
        return dtbi_config_bad(ld, json_object_get(ld->root, e->key) ? e->key : "history_max_bytes",
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
        return dtbi_config_bad(
            ld, e->key,
            "this build has no Redis support: rebuild with hiredis (libhiredis-dev), or "
            "use \"memory\"");
    return DTB_OK;
#else
    char host[256], path[256];
    int port, db;
    if (strcmp(cfg->store, "memory") != 0 &&
        dtbi_redis_url_parse(cfg->store, host, sizeof(host), &port, path, sizeof(path), &db) != 0)
        return dtbi_config_bad(
            ld, e->key,
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
        return dtbi_config_no_memory(ld);
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
            return dtbi_config_no_memory(ld);
        n = dtbi_redact_normalize(pattern, n, norm);
        if (n == 0) {
            free(norm);
            return dtbi_config_bad(
                ld, k, "\"%.60s\" matches nothing: names are compared without - _ .", pattern);
        }
        json_array_foreach(cfg->redact, j, have) dup |= strcmp(json_string_value(have), norm) == 0;
        if (!dup && json_array_append_new(cfg->redact, json_string(norm)) != 0) {
            free(norm);
            return dtbi_config_no_memory(ld);
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
            return dtbi_config_bad(ld, k, "expected an object, got %s",
                                   dtbi_config_type_name(item));
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
        return dtbi_config_no_memory(ld);
    panel = json_object_get(opts, id);
    if (panel == NULL && json_is_object(opts) &&
        json_object_set_new(opts, id, panel = json_object()) != 0)
        return dtbi_config_no_memory(ld);
    if (!json_is_object(panel))
        return DTB_OK; /* panel_options' own check names it */
    there = json_object_get(panel, dot + 1) != NULL;
    if (!from_env)
        dtbi_log_once(e->key, "config key %s is now panel_options.%s%s", e->key, e->key,
                      there ? ", which is also set and wins" : " (the old key still works)");
    if ((from_env || !there) && json_object_set(panel, dot + 1, v) != 0)
        return dtbi_config_no_memory(ld);
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
        return dtbi_config_bad(ld, e->key, "expected an IP address such as \"127.0.0.1\", got %s",
                               dtbi_config_type_name(v));
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
        return dtbi_config_bad(ld, e->key, "expected an array of port numbers, got %s",
                               dtbi_config_type_name(v));
    cfg->nports = 0;
    json_array_foreach(v, i, item)
    {
        snprintf(k, sizeof(k), "%s[%zu]", e->key, i);
        if (!json_is_integer(item) || json_integer_value(item) < 1 ||
            json_integer_value(item) > 65535)
            return dtbi_config_bad(ld, k, "expected a port number from 1 to 65535, got %s",
                                   dtbi_config_type_name(item));
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
        return dtbi_config_bad(ld, e->key,
                               "expected a URL template such as \"vscode://file/{file}:{line}\" "
                               "(a scheme other than javascript:, data:, vbscript: or blob:)");
    if (strstr(t, "{file}") == NULL)
        return dtbi_config_bad(ld, e->key, "the template must contain {file}");
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
        return dtbi_config_bad(ld, e->key, "expected an array of {\"from\", \"to\"}, got %s",
                               dtbi_config_type_name(v));
    json_array_foreach(v, i, item)
    {
        const char *ik;
        json_t *iv;
        snprintf(k, sizeof(k), "%s[%zu]", e->key, i);
        if (!json_is_object(item))
            return dtbi_config_bad(
                ld, k, "expected {\"from\": \"/build/src\", \"to\": \"/home/me/src\"}, got %s",
                dtbi_config_type_name(item));
        json_object_foreach(item, ik, iv)
        {
            if (strcmp(ik, "from") != 0 && strcmp(ik, "to") != 0)
                return dtbi_config_bad(ld, k,
                                       "unknown key \"%.40s\" (expected \"from\" and \"to\")", ik);
        }
        const json_t *from = json_object_get(item, "from"), *to = json_object_get(item, "to");
        if (!json_is_string(from) || !json_is_string(to) || json_string_value(from)[0] == '\0' ||
            json_string_value(to)[0] == '\0')
            return dtbi_config_bad(ld, k, "\"from\" and \"to\" must both be non-empty strings");
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
        return dtbi_config_bad(ld, e->key, "expected an absolute directory, got \"%.60s\"",
                               cfg->source_root);
    return DTB_OK;
}

/* ---- the table ---------------------------------------------------------------------------- */

#define FIELD(f) offsetof(struct dtbi_config, f), sizeof(((struct dtbi_config *)0)->f)
#define NO_FIELD 0, 0

/* The schema. A key with a '.' lives in the object named before it ("sql"). */
const struct cfg_entry dtbi_config_schema[] = {
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

const size_t dtbi_config_nschema = sizeof(dtbi_config_schema) / sizeof(dtbi_config_schema[0]);
