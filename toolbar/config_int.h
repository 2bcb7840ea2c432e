/*
 * config_int.h - shared between the config reader's files (not installed): the loader's state,
 * the schema's entry type, and what one of those files offers the others.
 *
 *   config.c         loading: the typed store of each key, unknown keys, defaults, the order
 *   config_keys.c    the schema table and the parsers of keys that need more than their type
 *   config_locate.c  the key locator and the errors that name key, line and column
 *   config_env.c     the DTB_* environment overrides
 *   config_dump.c    the effective config and the README's table of keys
 *   config_cidr.c    CIDR parsing and matching (hosts, trusted_proxies)
 */
#ifndef DTB_TOOLBAR_CONFIG_INT_H
#define DTB_TOOLBAR_CONFIG_INT_H

#include <stddef.h>

#include "internal.h"

#define ENV_SOURCE "environment"

/* Every key is one entry of `dtbi_config_schema` (config_keys.c), which drives everything else:
 * which keys exist, their DTB_* variables, their types and bounds, their defaults, where they land
 * in struct dtbi_config, the effective config, and the README's table (dtbi_config_table_markdown).
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

/* ---- config_keys.c ------------------------------------------------------------------------- */

/* The schema: one entry per key, in the order keys are checked. A key with a '.' lives in the
 * object named before it ("preload"). */
extern const struct cfg_entry dtbi_config_schema[];
extern const size_t dtbi_config_nschema;

/* ---- config_locate.c ----------------------------------------------------------------------- */

/* Fills ld->err with a config error on key (a dotted path, maybe with "[i]"): source, line and
 * column of the key (or of the array's element) in the text, or the DTB_* variable that set
 * it. Returns DTB_ECONFIG. */
dtb_rc dtbi_config_bad(struct loader *ld, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fills ld->err with "out of memory". Returns DTB_ENOMEM. */
dtb_rc dtbi_config_no_memory(struct loader *ld);

/* "an object", "a string", ... for messages (a static string). */
const char *dtbi_config_type_name(const json_t *v);

/* ---- config_env.c -------------------------------------------------------------------------- */

/* Sets every DTB_* variable that is set into root, over the file's value, and notes it in
 * ld->from_env. Returns DTB_OK, or an error naming the variable. */
dtb_rc dtbi_config_apply_env(struct loader *ld, json_t *root);

/* ---- config_dump.c ------------------------------------------------------------------------- */

/* The effective config: each key that is dumped, in the schema's order, objects nested. A new
 * reference, or NULL when out of memory. */
json_t *dtbi_config_effective(const struct dtbi_config *cfg);

#endif
