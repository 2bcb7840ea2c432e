/*
 * config_env.c - the DTB_* environment overrides: each variable of the schema that is set is
 * converted to JSON by its key's type (booleans as 1/0, true/false, yes/no, on/off; lists
 * comma-separated) and set into the parsed config before validation, so file and environment
 * go through the same checks; an error in a variable names the variable.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_int.h"

/* A variable's text s as JSON of e's type (a new reference), or NULL with ld->err filled. */
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
dtb_rc dtbi_config_apply_env(struct loader *ld, json_t *root)
{
    for (size_t i = 0; i < dtbi_config_nschema; i++) {
        const struct cfg_entry *e = &dtbi_config_schema[i];
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
