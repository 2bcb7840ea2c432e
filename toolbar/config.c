/*
 * config.c - the toolbar's config: loads the JSON file (jansson), applies the DTB_* environment
 * overrides (config_env.c), checks every key of the schema (config_keys.c) by its type and its
 * parser in the table's order, with defaults for keys not given and errors that name the key,
 * line and column (config_locate.c), and builds the effective config (config_dump.c).
 *
 * The core knows no panel's settings: those live under panel_options.<id> and the panel checks
 * them; keys that moved there (the SQL panel's older sql.*) are still type-checked and copied
 * (parse_moved in config_keys.c).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "config_int.h"

static void *field(struct dtbi_config *cfg, const struct cfg_entry *e)
{
    return (char *)cfg + e->off;
}

/* An integer field of 4 or 8 bytes (unsigned, size_t, long long), set by size. */
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

/* An array of non-empty strings. */
static dtb_rc check_string_array(struct loader *ld, json_t *v, const char *key)
{
    size_t i;
    json_t *item;
    char k[80];
    if (!json_is_array(v))
        return dtbi_config_bad(ld, key, "expected an array of strings, got %s",
                               dtbi_config_type_name(v));
    json_array_foreach(v, i, item)
    {
        snprintf(k, sizeof(k), "%s[%zu]", key, i);
        if (!json_is_string(item) || json_string_value(item)[0] == '\0')
            return dtbi_config_bad(ld, k, "expected a non-empty string, got %s",
                                   dtbi_config_type_name(item));
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
            return dtbi_config_bad(ld, e->key, "expected true or false, got %s",
                                   dtbi_config_type_name(v));
        if (e->size != 0)
            *(bool *)field(cfg, e) = json_is_true(v);
        return DTB_OK;
    case CFG_INT:
        if (!json_is_integer(v) || json_integer_value(v) < e->min ||
            json_integer_value(v) > e->max) {
            char *shown = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
            rc = dtbi_config_bad(ld, e->key, "expected an integer from %lld to %lld, got %.40s",
                                 e->min, e->max, shown ? shown : "?");
            free(shown);
            return rc;
        }
        if (e->size != 0)
            int_store(field(cfg, e), e->size, json_integer_value(v));
        return DTB_OK;
    case CFG_NUMBER:
        if (!json_is_number(v))
            return dtbi_config_bad(ld, e->key, "expected a number >= %lld, got %s", e->min,
                                   dtbi_config_type_name(v));
        if (json_number_value(v) < (double)e->min)
            return dtbi_config_bad(ld, e->key, "expected a number >= %lld, got %g", e->min,
                                   json_number_value(v));
        if (e->size != 0)
            *(double *)field(cfg, e) = json_number_value(v);
        return DTB_OK;
    case CFG_STRING: {
        if (!json_is_string(v))
            return dtbi_config_bad(ld, e->key, "expected a string, got %s",
                                   dtbi_config_type_name(v));
        if (json_string_value(v)[0] == '\0')
            return dtbi_config_bad(ld, e->key, "must not be empty");
        if (e->size == 0)
            return DTB_OK;
        char *s = strdup(json_string_value(v)), **at = field(cfg, e);
        if (s == NULL)
            return dtbi_config_no_memory(ld);
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
            return dtbi_config_bad(ld, e->key, "expected an object, got %s",
                                   dtbi_config_type_name(v));
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

/* ---- looking keys up in the schema --------------------------------------------------------- */

/* The entry of a dotted key, or NULL. */
static const struct cfg_entry *schema_find(const char *key)
{
    for (size_t i = 0; i < dtbi_config_nschema; i++)
        if (strcmp(dtbi_config_schema[i].key, key) == 0)
            return &dtbi_config_schema[i];
    return NULL;
}

/* 1 when name is the object part of some dotted key ("sql"). */
static int schema_is_parent(const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < dtbi_config_nschema; i++)
        if (strncmp(dtbi_config_schema[i].key, name, n) == 0 && dtbi_config_schema[i].key[n] == '.')
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
                return dtbi_config_bad(ld, key, "expected an object, got %s",
                                       dtbi_config_type_name(v));
            json_object_foreach(v, sub, item)
            {
                snprintf(k, sizeof(k), "%s.%s", key, sub);
                if (schema_find(k) == NULL)
                    return dtbi_config_bad(ld, k, "unknown key");
            }
        } else if (strchr(key, '.') != NULL || schema_find(key) == NULL) {
            return dtbi_config_bad(ld, key, "unknown key");
        }
    }
    return DTB_OK;
}

static dtb_rc validate(struct loader *ld, json_t *root, struct dtbi_config *cfg)
{
    dtb_rc rc = check_known(ld, root);
    for (size_t i = 0; rc == DTB_OK && i < dtbi_config_nschema; i++) {
        const struct cfg_entry *e = &dtbi_config_schema[i];
        json_t *v = schema_get(root, e->key), *def = NULL;
        if (v == NULL && e->def != NULL) {
            v = def = json_loads(e->def, JSON_DECODE_ANY, NULL);
            if (def == NULL)
                return dtbi_config_no_memory(ld);
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
    rc = root != NULL ? dtbi_config_apply_env(&ld, root) : DTB_ENOMEM;
    if (rc == DTB_OK)
        rc = validate(&ld, root, cfg);
    if (rc == DTB_OK && !cfg->secret_key_set) {
        cfg->secret_key_len = 32;
        if (getrandom(cfg->secret_key, 32, 0) != 32)
            rc = dtbi_error_set(err, DTB_EIO, ld.source, 0, 0, "secret_key",
                                "no random bytes for a secret_key");
    }
    if (rc == DTB_OK) {
        cfg->effective = dtbi_config_effective(cfg);
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
