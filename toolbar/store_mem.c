/*
 * store_mem.c - the default history store: a ring of the last N records in this process.
 *
 * Bounded two ways: by entry count (history_size) and by the bytes the records take
 * (history_max_bytes); the oldest entries go first. One mutex guards the ring. A finished
 * request is kept as it is (put_request) and its record built on first read, then kept as JSON
 * text; a request evicted unread costs no JSON at all. Records are built outside the ring's
 * mutex, which the app's requests take to store theirs: a reader takes the unbuilt requests
 * out of the ring, builds them, and puts the records back (build_lock lets one reader at a
 * time do that, so no reader ever sees a request taken out).
 * Deliberately not shared between processes: that is what the Redis store is for.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

struct mem_entry {
    char id[17];
    json_t *summary; /* immutable once stored; list() hands out copies */
    char *record;
    size_t bytes;
    struct dtb_request *rq; /* not built yet (then summary and record are NULL) */
    unsigned long long seq; /* the entry's number, to find it again after a build */
};

struct mem_store {
    struct dtbi_store base;
    pthread_mutex_t lock;       /* guards the ring; never held while a record is built */
    pthread_mutex_t build_lock; /* held by a reader (get, list) from building to reading */
    unsigned long long seq;
    struct mem_entry *ring; /* ring[(head + i) % cap] for i in 0..count-1, oldest first */
    size_t cap;
    size_t head;
    size_t count;
    size_t bytes;
    size_t max_bytes;
};

static void entry_clear(struct mem_entry *e)
{
    if (e->rq != NULL)
        dtbi_request_destroy(e->rq);
    json_decref(e->summary);
    free(e->record);
    memset(e, 0, sizeof(*e));
}

/* Drops the oldest entry. Lock held. */
static void evict_oldest(struct mem_store *m)
{
    struct mem_entry *e = &m->ring[m->head];
    m->bytes -= e->bytes;
    entry_clear(e);
    m->head = (m->head + 1) % m->cap;
    m->count--;
}

/* What a built record counts against history_max_bytes. */
static size_t text_bytes(size_t len)
{
    return len + 256 + sizeof(struct mem_entry);
}

/* Adds ne as the newest entry, evicting the oldest ones it needs room from. */
static void append(struct mem_store *m, struct mem_entry *ne)
{
    pthread_mutex_lock(&m->lock);
    while (m->count > 0 && (m->count == m->cap || m->bytes + ne->bytes > m->max_bytes))
        evict_oldest(m);
    ne->seq = ++m->seq;
    m->ring[(m->head + m->count) % m->cap] = *ne;
    m->count++;
    m->bytes += ne->bytes;
    pthread_mutex_unlock(&m->lock);
}

/* Requests taken out of the ring to be built, at most BUILD_BATCH at a time. */
#define BUILD_BATCH 64
struct build_item {
    unsigned long long seq;
    struct dtb_request *rq;
    json_t *summary;
    char *text;
};

/* Builds the records of the ring's unbuilt requests (only id's when id is not NULL), newest
 * first, without holding the ring's lock while building. build_lock held, lock not held. */
static void build_pending(struct mem_store *m, const char *id)
{
    struct build_item items[BUILD_BATCH];
    size_t n;
    do {
        n = 0;
        pthread_mutex_lock(&m->lock);
        for (size_t i = m->count; i-- > 0 && n < BUILD_BATCH;) {
            struct mem_entry *e = &m->ring[(m->head + i) % m->cap];
            if (e->rq != NULL && (id == NULL || strcmp(e->id, id) == 0)) {
                items[n].seq = e->seq;
                items[n++].rq = e->rq;
                e->rq = NULL; /* the entry stays, counted, until its record is back */
            }
        }
        pthread_mutex_unlock(&m->lock);
        for (size_t k = 0; k < n; k++) {
            /* on failure both stay NULL: the entry then reads as unknown */
            dtbi_request_materialize(items[k].rq, &items[k].summary, &items[k].text);
            dtbi_request_destroy(items[k].rq);
        }
        pthread_mutex_lock(&m->lock);
        for (size_t i = 0; i < m->count; i++) {
            struct mem_entry *e = &m->ring[(m->head + i) % m->cap];
            for (size_t k = 0; k < n; k++) {
                if (items[k].seq != e->seq)
                    continue;
                m->bytes -= e->bytes;
                e->bytes = items[k].text != NULL ? text_bytes(strlen(items[k].text)) : 0;
                m->bytes += e->bytes;
                e->summary = items[k].summary;
                e->record = items[k].text;
                items[k].summary = NULL;
                items[k].text = NULL;
                break;
            }
        }
        pthread_mutex_unlock(&m->lock);
        for (size_t k = 0; k < n; k++) { /* evicted while being built */
            json_decref(items[k].summary);
            free(items[k].text);
        }
    } while (n == BUILD_BATCH);
}

static dtb_rc mem_put_request(struct dtbi_store *s, struct dtb_request *rq)
{
    struct mem_store *m = (struct mem_store *)s;
    struct mem_entry ne;
    memset(&ne, 0, sizeof(ne));
    snprintf(ne.id, sizeof(ne.id), "%s", dtb_request_id(rq));
    ne.bytes = dtbi_request_bytes(rq);
    if (ne.bytes > m->max_bytes)
        return DTB_ESTORE;
    ne.rq = rq;
    append(m, &ne);
    return DTB_OK;
}

static dtb_rc mem_put(struct dtbi_store *s, const char *id, json_t *summary, const char *record)
{
    struct mem_store *m = (struct mem_store *)s;
    struct mem_entry ne;
    memset(&ne, 0, sizeof(ne));
    snprintf(ne.id, sizeof(ne.id), "%s", id);
    ne.summary = json_incref(summary);
    ne.record = strdup(record);
    if (ne.record == NULL) {
        entry_clear(&ne);
        return DTB_ENOMEM;
    }
    ne.bytes = text_bytes(strlen(record));
    if (ne.bytes > m->max_bytes) {
        entry_clear(&ne);
        return DTB_ESTORE;
    }
    append(m, &ne);
    return DTB_OK;
}

static char *mem_get(struct dtbi_store *s, const char *id)
{
    struct mem_store *m = (struct mem_store *)s;
    char *out = NULL;
    pthread_mutex_lock(&m->build_lock);
    build_pending(m, id);
    pthread_mutex_lock(&m->lock);
    for (size_t i = m->count; i-- > 0;) {
        struct mem_entry *e = &m->ring[(m->head + i) % m->cap];
        if (strcmp(e->id, id) == 0) {
            if (e->record != NULL)
                out = strdup(e->record);
            break;
        }
    }
    pthread_mutex_unlock(&m->lock);
    pthread_mutex_unlock(&m->build_lock);
    return out;
}

static json_t *mem_list(struct dtbi_store *s)
{
    struct mem_store *m = (struct mem_store *)s;
    json_t *arr = json_array();
    if (arr == NULL)
        return NULL;
    pthread_mutex_lock(&m->build_lock);
    build_pending(m, NULL);
    pthread_mutex_lock(&m->lock);
    for (size_t i = m->count; i-- > 0;) {
        struct mem_entry *e = &m->ring[(m->head + i) % m->cap];
        if (e->summary == NULL)
            continue;
        /* a copy: the caller's thread must not share reference counts with the ring's */
        if (json_array_append_new(arr, json_deep_copy(e->summary)) != 0) {
            json_decref(arr);
            arr = NULL;
            break;
        }
    }
    pthread_mutex_unlock(&m->lock);
    pthread_mutex_unlock(&m->build_lock);
    return arr;
}

static void mem_destroy(struct dtbi_store *s)
{
    struct mem_store *m = (struct mem_store *)s;
    if (m == NULL)
        return;
    while (m->count > 0)
        evict_oldest(m);
    free(m->ring);
    pthread_mutex_destroy(&m->lock);
    pthread_mutex_destroy(&m->build_lock);
    free(m);
}

static const struct dtbi_store_ops mem_ops = {
    .name = "memory",
    .put = mem_put,
    .put_request = mem_put_request,
    .get = mem_get,
    .list = mem_list,
    .destroy = mem_destroy,
};

struct dtbi_store *dtbi_store_mem_create(size_t max_entries, size_t max_bytes)
{
    struct mem_store *m = calloc(1, sizeof(*m));
    if (m == NULL || max_entries == 0)
        goto fail;
    m->ring = calloc(max_entries, sizeof(*m->ring));
    if (m->ring == NULL)
        goto fail;
    m->base.ops = &mem_ops;
    m->cap = max_entries;
    m->max_bytes = max_bytes;
    pthread_mutex_init(&m->lock, NULL);
    pthread_mutex_init(&m->build_lock, NULL);
    return &m->base;
fail:
    free(m);
    return NULL;
}
