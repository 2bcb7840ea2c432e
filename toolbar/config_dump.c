/*
 * config_dump.c - the config as the schema says to show it: the effective config (each key's
 * value after file, environment and defaults, dotted keys nested, secrets redacted), which the
 * Config panel and dtb_toolbar_config_json show, and the README's Markdown table of keys
 * (tests/unit/config-table.sh holds README.md to it).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config_int.h"

static const void *cfield(const struct dtbi_config *cfg, const struct cfg_entry *e)
{
    return (const char *)cfg + e->off;
}

/* An integer field of 4 or 8 bytes (unsigned, size_t, long long), read by size. */
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

json_t *dtbi_config_effective(const struct dtbi_config *cfg)
{
    json_t *out = json_object();
    for (size_t i = 0; out != NULL && i < dtbi_config_nschema; i++) {
        const struct cfg_entry *e = &dtbi_config_schema[i];
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
    for (size_t i = 0; i < dtbi_config_nschema; i++) {
        const struct cfg_entry *e = &dtbi_config_schema[i];
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
