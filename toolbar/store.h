/*
 * store.h - the history store interface: where finished requests' records go.
 *
 * A store owns serialized JSON strings, never live objects, so one process can render what
 * another stored. The memory store (store_mem.c) is a bounded ring under one mutex; other
 * backends implement the same ops. Every op may be called from any thread.
 */
#ifndef DTB_STORE_H
#define DTB_STORE_H

#include "internal.h"

struct dtbi_store_ops {
    const char *name;
    /* Stores a record: summary is a JSON object (borrowed; the store keeps its own reference
     * or copy and never modifies it), record a JSON text (copied). Returns DTB_OK or error. */
    dtb_rc (*put)(struct dtbi_store *s, const char *id, json_t *summary, const char *record);
    /* The record for id as a new malloc'd string, or NULL when unknown or evicted. */
    char *(*get)(struct dtbi_store *s, const char *id);
    /* The summaries, newest first, as a new JSON array reference; NULL on error. */
    json_t *(*list)(struct dtbi_store *s);
    void (*destroy)(struct dtbi_store *s);
};

struct dtbi_store {
    const struct dtbi_store_ops *ops;
};

/* A bounded in-memory ring: at most max_entries records and max_bytes bytes (oldest evicted
 * first). Returns NULL when out of memory. */
struct dtbi_store *dtbi_store_mem_create(size_t max_entries, size_t max_bytes);

#endif /* DTB_STORE_H */
