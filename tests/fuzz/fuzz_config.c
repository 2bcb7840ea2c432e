/*
 * fuzz_config.c - any bytes as the JSON config file, with DTB_* environment overrides taken
 * from the input: the loader must accept or refuse with an error naming a place, never crash.
 * Input: the config text, optionally followed by "\0NAME=value\0NAME=value..." environment pairs,
 * where the first byte of NAME picks the variable (its value modulo the number of variables).
 *
 * Oracles beyond "no crash": a refusal always says why, and one blamed on the environment names
 * a DTB_* variable that is set; an accepted config's effective values (dtb_toolbar_config_json)
 * are those of the boolean and integer variables that were set (the environment wins).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <debugtoolbar.h>

enum kind { K_BOOL, K_INT, K_OTHER };

/* Every variable toolbar/config_keys.c lists (the DTB_* column of its schema), the first eight in
 * their historical order so that the saved cases keep their meaning. */
static const struct {
    const char *var;
    const char *parent, *key; /* where it lands in the effective config (parent: dotted) */
    enum kind kind;
} vars[] = {
    {"DTB_ENABLED", NULL, "enabled", K_BOOL},
    {"DTB_HOSTS", NULL, "hosts", K_OTHER},
    {"DTB_HISTORY_SIZE", NULL, "history_size", K_INT},
    {"DTB_URL_PREFIX", NULL, "url_prefix", K_OTHER},
    {"DTB_SQL_SLOW_MS", "panel_options.sql", "slow_ms", K_OTHER},
    {"DTB_STORE", NULL, "store", K_OTHER},
    {"DTB_SECRET_KEY", NULL, "secret_key", K_OTHER},
    {"DTB_INTERCEPT_REDIRECTS", NULL, "intercept_redirects", K_BOOL},
    {"DTB_PANELS", NULL, "panels", K_OTHER},
    {"DTB_HISTORY_MAX_BYTES", NULL, "history_max_bytes", K_INT},
    {"DTB_RECORD_MAX_BYTES", NULL, "record_max_bytes", K_INT},
    {"DTB_STORE_PREFIX", NULL, "store_prefix", K_OTHER},
    {"DTB_STORE_TTL", NULL, "store_ttl", K_INT},
    {"DTB_STORE_TIMEOUT_MS", NULL, "store_timeout_ms", K_INT},
    {"DTB_SQL_EXPLAIN", "panel_options.sql", "explain", K_BOOL},
    {"DTB_SQL_CAPTURE_PARAMS", "panel_options.sql", "capture_params", K_BOOL},
    {"DTB_INSERT_BEFORE", NULL, "insert_before", K_OTHER},
    {"DTB_REDACT", NULL, "redact", K_OTHER},
    {"DTB_EDITOR", NULL, "editor", K_OTHER},
    {"DTB_SOURCE_ROOT", NULL, "source_root", K_OTHER},
    {"DTB_RECORD_MAX_PAIRS", NULL, "record_max_pairs", K_INT},
    {"DTB_ALLOWED_HOSTS", NULL, "allowed_hosts", K_OTHER},
    {"DTB_TRUSTED_PROXIES", NULL, "trusted_proxies", K_OTHER},
};
#define NVARS (sizeof(vars) / sizeof(vars[0]))

static int is_true(const char *s)
{
    return !strcasecmp(s, "1") || !strcasecmp(s, "true") || !strcasecmp(s, "yes") ||
           !strcasecmp(s, "on");
}

/* The effective config agrees with every boolean and integer variable that is set. */
static void check_effective(const struct dtb_toolbar *tb)
{
    json_t *e = dtb_toolbar_config_json(tb);
    if (e == NULL)
        __builtin_trap();
    for (size_t i = 0; i < NVARS; i++) {
        const char *s = getenv(vars[i].var);
        if (s == NULL || vars[i].kind == K_OTHER)
            continue;
        json_t *where = e;
        for (const char *p = vars[i].parent; p != NULL && *p != '\0';) {
            size_t n = strcspn(p, ".");
            char name[32];
            snprintf(name, sizeof(name), "%.*s", (int)n, p);
            where = json_object_get(where, name);
            p += n + (p[n] == '.');
        }
        json_t *v = json_object_get(where, vars[i].key);
        if (vars[i].kind == K_BOOL && (!json_is_boolean(v) || json_is_true(v) != is_true(s)))
            __builtin_trap(); /* an accepted boolean variable did not take effect */
        if (vars[i].kind == K_INT &&
            (!json_is_integer(v) || json_integer_value(v) != strtoll(s, NULL, 10)))
            __builtin_trap(); /* an accepted integer variable did not take effect */
    }
    json_decref(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    struct dtb_error err = {0};
    char msg[512];
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    for (size_t i = 0; i < NVARS; i++)
        unsetenv(vars[i].var);
    /* environment values after the first NUL: "k=v" where k indexes vars by its first byte */
    size_t n = strlen(text);
    for (char *p = text + n + 1; p < text + size; p += strlen(p) + 1) {
        char *eq = strchr(p, '=');
        if (eq != NULL && eq > p)
            setenv(vars[(unsigned char)p[0] % NVARS].var, eq + 1, 1);
    }
    struct dtb_toolbar *tb = dtb_toolbar_create_from_string(text, "fuzz.json", &err);
    if (tb == NULL) {
        dtb_error_format(&err, msg, sizeof(msg));
        if (msg[0] == '\0' || err.code == DTB_OK)
            __builtin_trap(); /* a refusal always says why */
        if (strcmp(err.source, "environment") == 0 &&
            (strncmp(err.key, "DTB_", 4) != 0 || getenv(err.key) == NULL))
            __builtin_trap(); /* blamed the environment, but not a variable that is set */
    } else {
        check_effective(tb);
    }
    dtb_toolbar_destroy(tb);
    free(text);
    return 0;
}
