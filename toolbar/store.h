/*
 * store.h - the history store interface: where finished requests' records go.
 *
 * A store owns serialized JSON strings, so one process can render what another stored; the
 * memory store may also hold finished requests whose record it builds when first read. The
 * memory store (store_mem.c) is a bounded ring under one mutex; other backends implement the
 * same ops. Every op may be called from any thread.
 */
#ifndef DTB_STORE_H
#define DTB_STORE_H

#include "internal.h"

struct dtbi_store_ops {
    const char *name;
    /* Stores a record: summary is a JSON object (borrowed; the store keeps its own reference
     * or copy and never modifies it), record a JSON text (copied). Returns DTB_OK or error. */
    dtb_rc (*put)(struct dtbi_store *s, const char *id, json_t *summary, const char *record);
    /* Optional: takes a finished request whose record the store builds later
     * (dtbi_request_materialize): the memory store when it is first read (or never, when it
     * is evicted unread), the Redis store on its writer thread. On DTB_OK the store owns rq
     * and destroys it; on error the caller still does. */
    dtb_rc (*put_request)(struct dtbi_store *s, struct dtb_request *rq);
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
 * first). It keeps a finished request as it is and builds its record on first read: most
 * records are never looked at, and building one costs more than serving many pages. Returns
 * NULL when out of memory. */
struct dtbi_store *dtbi_store_mem_create(size_t max_entries, size_t max_bytes);

/* The Redis store (store_redis.c): url is "redis://host[:port][/db]" or "unix:/path[?db=N]";
 * keys are prefix:req:<id> and prefix:history. Never fails because Redis is down (records then
 * go to an in-process fallback); returns NULL only for a bad url or out of memory. */
struct dtbi_store *dtbi_store_redis_create(const char *url, const char *prefix, long long ttl,
                                           unsigned timeout_ms, size_t history_size,
                                           size_t max_bytes);
/* Parses a store URL (see above). Returns 0 or -1. */
int dtbi_redis_url_parse(const char *url, char *host, size_t hostlen, int *port, char *path,
                         size_t pathlen, int *db);

#endif /* DTB_STORE_H */
