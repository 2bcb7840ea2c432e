/*
 * store_redis.c - the history store shared by many processes and hosts, in Redis (hiredis).
 *
 * Keys (P = store_prefix): P:req:<id> holds one record's JSON (SET ... EX store_ttl);
 * P:history is a list of summaries, newest first (LPUSH + LTRIM to history_size, EXPIRE), and
 * P:ids the same requests' ids, so that the records of those that fall off are deleted: an
 * evicted id answers 404, and Redis holds no more records than the history lists.
 * Any process pointed at the same Redis and prefix lists and renders every process's requests.
 *
 * Redis must never hold up or break the app: one connection under one mutex, every command
 * bounded by store_timeout_ms (connect and I/O), records that cannot be written go to an
 * in-process memory store (logged once, and the record says where it went), and the
 * connection is retried at most once a second. Reads look in Redis first, then the fallback.
 *
 * Nor is the app's thread kept to build or write a record: a finished request is queued
 * (put_request) for one writer thread of the store, which builds its record and writes it. The
 * queue is bounded (WRITE_QUEUE_MAX requests and history_max_bytes); a request that finds it
 * full goes to the memory fallback. A read waits (boundedly) until what was queued before it is
 * written, so a page's own record is there when its toolbar asks. The writer starts with the
 * first request in each process, so an app that forks workers after creating the toolbar gets
 * a writer, and a connection, of each worker's own.
 * Deliberately not here: clustering, sentinel, TLS, AUTH (use a Unix socket or a local Redis).
 *
 * Here: the connection, the commands (put, get, list), the URL parser, fork safety, creation and
 * destruction. The write queue and its writer thread are store_redis_queue.c.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "store_redis_int.h"

/* fork: a child must never inherit a store's lock held by the writer thread, which it does not
 * have (its own writer would wait on it forever). Every store's locks are taken before fork
 * and released after it, in the parent and in the child. */
static pthread_mutex_t stores_lock = PTHREAD_MUTEX_INITIALIZER;
static struct redis_store *stores;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void fork_prepare(void)
{
    pthread_mutex_lock(&stores_lock);
    for (struct redis_store *r = stores; r != NULL; r = r->next_store) {
        pthread_mutex_lock(&r->qlock); /* never taken while holding lock: this order is safe */
        pthread_mutex_lock(&r->lock);
    }
}

static void fork_release(void)
{
    for (struct redis_store *r = stores; r != NULL; r = r->next_store) {
        pthread_mutex_unlock(&r->lock);
        pthread_mutex_unlock(&r->qlock);
    }
    pthread_mutex_unlock(&stores_lock);
}

static void atfork_install(void)
{
    pthread_atfork(fork_prepare, fork_release, fork_release);
}

static void store_register(struct redis_store *r)
{
    pthread_once(&atfork_once, atfork_install);
    pthread_mutex_lock(&stores_lock);
    r->next_store = stores;
    stores = r;
    pthread_mutex_unlock(&stores_lock);
}

static void store_unregister(struct redis_store *r)
{
    pthread_mutex_lock(&stores_lock);
    for (struct redis_store **pp = &stores; *pp != NULL; pp = &(*pp)->next_store)
        if (*pp == r) {
            *pp = r->next_store;
            break;
        }
    pthread_mutex_unlock(&stores_lock);
}

/* Parses "redis://host[:port][/db]" or "unix:/path[?db=N]". Returns 0 or -1. */
int dtbi_redis_url_parse(const char *url, char *host, size_t hostlen, int *port, char *path,
                         size_t pathlen, int *db)
{
    *port = 6379;
    *db = 0;
    host[0] = path[0] = '\0';
    if (strncmp(url, "unix:", 5) == 0) {
        const char *p = url + 5, *q = strchr(p, '?');
        size_t n = q ? (size_t)(q - p) : strlen(p);
        if (n == 0 || n >= pathlen || p[0] != '/')
            return -1;
        memcpy(path, p, n);
        path[n] = '\0';
        if (q != NULL) {
            char *end;
            if (strncmp(q, "?db=", 4) != 0)
                return -1;
            long v = strtol(q + 4, &end, 10);
            if (*end != '\0' || end == q + 4 || v < 0 || v > 1000)
                return -1;
            *db = (int)v;
        }
        return 0;
    }
    if (strncmp(url, "redis://", 8) != 0)
        return -1;
    const char *h = url + 8;
    size_t hl = strcspn(h, ":/");
    if (hl == 0 || hl >= hostlen)
        return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    const char *rest = h + hl;
    char *end;
    if (*rest == ':') {
        long v = strtol(rest + 1, &end, 10);
        if (end == rest + 1 || v <= 0 || v > 65535)
            return -1;
        *port = (int)v;
        rest = end;
    }
    if (*rest == '/') {
        if (rest[1] == '\0')
            return 0;
        long v = strtol(rest + 1, &end, 10);
        if (*end != '\0' || end == rest + 1 || v < 0 || v > 1000)
            return -1;
        *db = (int)v;
        rest = end;
    }
    return *rest == '\0' ? 0 : -1;
}

/* hiredis writes with write(2): a Redis that went away mid-write would raise SIGPIPE, whose
 * default action ends the app. While a thread talks to Redis, SIGPIPE is blocked for it, and one
 * it raised meanwhile is taken back before the mask is restored. The app's own disposition and
 * any SIGPIPE that was already pending are left alone. */
struct pipe_guard {
    sigset_t old;
    int was_pending;
};

static void lock_redis(struct redis_store *r, struct pipe_guard *g)
{
    sigset_t set, pending;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, &g->old);
    g->was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE);
    pthread_mutex_lock(&r->lock);
}

static void unlock_redis(struct redis_store *r, struct pipe_guard *g)
{
    sigset_t set, pending;
    pthread_mutex_unlock(&r->lock);
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    if (!g->was_pending && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE)) {
        struct timespec zero = {0, 0};
        sigtimedwait(&set, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

static void drop_connection(struct redis_store *r, const char *why)
{
    if (!r->was_down) /* said at each outage, not at each retry */
        dtbi_log("Redis store unavailable (%s); keeping records in memory until it is back", why);
    if (r->c != NULL)
        redisFree(r->c);
    r->c = NULL;
    r->was_down = true;
    r->next_retry_ns = dtb_now_ns() + 1000000000LL;
}

/* Returns 1 with a usable connection, else 0. Lock held. */
static int connected(struct redis_store *r)
{
    redisReply *rep;
    if (r->c != NULL && r->conn_pid != getpid()) {
        /* a forked child: the socket is its parent's; close the child's copy, open its own */
        redisFree(r->c);
        r->c = NULL;
        r->next_retry_ns = 0;
    }
    if (r->c != NULL)
        return 1;
    if (dtb_now_ns() < r->next_retry_ns)
        return 0;
    if (r->unix_path[0] != '\0')
        r->c = redisConnectUnixWithTimeout(r->unix_path, r->timeout);
    else
        r->c = redisConnectWithTimeout(r->host, r->port, r->timeout);
    if (r->c == NULL || r->c->err) {
        drop_connection(r, r->c ? r->c->errstr : "out of memory");
        return 0;
    }
    redisSetTimeout(r->c, r->timeout);
    r->conn_pid = getpid();
    if (r->db != 0) {
        rep = redisCommand(r->c, "SELECT %d", r->db);
        int ok = rep != NULL && rep->type == REDIS_REPLY_STATUS;
        freeReplyObject(rep);
        if (!ok) {
            drop_connection(r, "SELECT failed");
            return 0;
        }
    }
    if (r->was_down)
        dtbi_log("Redis store reachable again; records go to Redis");
    r->was_down = false;
    return 1;
}

/* Deletes the records whose ids fell off the history (they answer 404 from then on, and Redis
 * holds no more records than the history lists). Lock held; 0, or -1 when Redis failed. */
static int delete_evicted(struct redis_store *r, const redisReply *ids)
{
    size_t n = 0, bytes = strlen(r->key_req_prefix) + 17;
    int rc = 0;
    if (ids == NULL || ids->type != REDIS_REPLY_ARRAY || ids->elements == 0)
        return 0;
    const char **argv = calloc(ids->elements + 1, sizeof(*argv));
    char *keys = calloc(ids->elements, bytes);
    if (argv == NULL || keys == NULL)
        goto out; /* they expire with store_ttl all the same */
    argv[n++] = "DEL";
    for (size_t i = 0; i < ids->elements; i++) {
        const redisReply *e = ids->element[i];
        if (e->type != REDIS_REPLY_STRING || e->len > 16)
            continue;
        char *k = keys + i * bytes;
        snprintf(k, bytes, "%s%.*s", r->key_req_prefix, (int)e->len, e->str);
        argv[n++] = k;
    }
    if (n > 1) {
        redisReply *rep = redisCommandArgv(r->c, (int)n, argv, NULL);
        if (rep == NULL)
            rc = -1;
        freeReplyObject(rep);
    }
out:
    free(argv);
    free(keys);
    return rc;
}

static dtb_rc redis_put(struct dtbi_store *s, const char *id, json_t *summary, const char *record)
{
    struct redis_store *r = (struct redis_store *)s;
    char key[400], ttl[32], keep[32], size[32];
    char *sum = json_dumps(summary, JSON_COMPACT);
    int ok = 0;
    if (sum == NULL)
        return DTB_ENOMEM;
    snprintf(key, sizeof(key), "%s%s", r->key_req_prefix, id);
    snprintf(ttl, sizeof(ttl), "%lld", r->ttl);
    snprintf(keep, sizeof(keep), "%zu", r->history_size - 1);
    snprintf(size, sizeof(size), "%zu", r->history_size);
    struct pipe_guard guard;
    lock_redis(r, &guard);
    if (connected(r)) {
        /* One transaction, one round trip: the record, its summary and id at the head of the
         * two lists, the ids that fall off, both lists trimmed to history_size. */
        const char *multi[] = {"MULTI"};
        const char *set[] = {"SET", key, record, "EX", ttl};
        const char *push[] = {"LPUSH", r->key_history, sum};
        const char *push_id[] = {"LPUSH", r->key_ids, id};
        const char *fall[] = {"LRANGE", r->key_ids, size, "-1"};
        const char *trim[] = {"LTRIM", r->key_history, "0", keep};
        const char *trim_ids[] = {"LTRIM", r->key_ids, "0", keep};
        const char *exp[] = {"EXPIRE", r->key_history, ttl};
        const char *exp_ids[] = {"EXPIRE", r->key_ids, ttl};
        const char *exec[] = {"EXEC"};
        const char **cmds[] = {multi, set, push, push_id, fall, trim, trim_ids, exp, exp_ids, exec};
        const int argc[] = {1, 5, 3, 3, 4, 4, 4, 3, 3, 1};
        const int ncmds = (int)(sizeof(argc) / sizeof(argc[0]));
        redisReply *result = NULL;
        for (int i = 0; i < ncmds; i++)
            redisAppendCommandArgv(r->c, argc[i], cmds[i], NULL);
        ok = 1;
        for (int i = 0; i < ncmds; i++) {
            redisReply *rep = NULL;
            if (redisGetReply(r->c, (void **)&rep) != REDIS_OK) {
                ok = 0;
                break;
            }
            if (rep->type == REDIS_REPLY_ERROR)
                ok = 0;
            if (i == ncmds - 1 && rep->type == REDIS_REPLY_ARRAY &&
                rep->elements == (size_t)ncmds - 2)
                result = rep; /* EXEC: the replies of the commands between MULTI and EXEC */
            else
                freeReplyObject(rep);
        }
        if (ok && result == NULL)
            ok = 0; /* the transaction was not run */
        for (size_t i = 0; ok && i < result->elements; i++)
            if (result->element[i]->type == REDIS_REPLY_ERROR)
                ok = 0;
        if (ok && delete_evicted(r, result->element[3]) != 0)
            ok = -1; /* stored; only the clean-up failed */
        freeReplyObject(result);
        if (ok != 1)
            drop_connection(r, r->c->err ? r->c->errstr : "command failed");
    }
    unlock_redis(r, &guard);
    free(sum);
    if (ok != 0)
        return DTB_OK;
    return r->fallback->ops->put(r->fallback, id, summary, record);
}

static char *get_once(struct redis_store *r, const char *id)
{
    char key[400];
    char *out = NULL;
    snprintf(key, sizeof(key), "%s%s", r->key_req_prefix, id);
    struct pipe_guard guard;
    lock_redis(r, &guard);
    if (connected(r)) {
        const char *argv[] = {"GET", key};
        redisReply *rep = redisCommandArgv(r->c, 2, argv, NULL);
        if (rep == NULL)
            drop_connection(r, r->c->errstr);
        else if (rep->type == REDIS_REPLY_STRING)
            out = strndup(rep->str, rep->len);
        freeReplyObject(rep);
    }
    unlock_redis(r, &guard);
    return out != NULL ? out : r->fallback->ops->get(r->fallback, id);
}

/* A record is looked for at once; only when it is not there yet, and requests are still
 * queued, does the reader wait for them and look again. */
static char *redis_get(struct dtbi_store *s, const char *id)
{
    struct redis_store *r = (struct redis_store *)s;
    char *out = get_once(r, id);
    if (out == NULL && dtbi_wait_written(r))
        out = get_once(r, id);
    return out;
}

static int has_id(json_t *list, const char *id)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        const char *x = json_string_value(json_object_get(v, "id"));
        if (x != NULL && strcmp(x, id) == 0)
            return 1;
    }
    return 0;
}

static json_t *redis_list(struct dtbi_store *s)
{
    struct redis_store *r = (struct redis_store *)s;
    json_t *out = json_array();
    json_t *mem;
    char last[32];
    size_t i;
    json_t *v;
    if (out == NULL)
        return NULL;
    dtbi_wait_written(r);
    snprintf(last, sizeof(last), "%zu", r->history_size - 1);
    struct pipe_guard guard;
    lock_redis(r, &guard);
    if (connected(r)) {
        const char *argv[] = {"LRANGE", r->key_history, "0", last};
        redisReply *rep = redisCommandArgv(r->c, 4, argv, NULL);
        if (rep == NULL) {
            drop_connection(r, r->c->errstr);
        } else if (rep->type == REDIS_REPLY_ARRAY) {
            for (size_t k = 0; k < rep->elements; k++) {
                redisReply *e = rep->element[k];
                json_t *item =
                    e->type == REDIS_REPLY_STRING ? json_loadb(e->str, e->len, 0, NULL) : NULL;
                if (json_is_object(item))
                    json_array_append_new(out, item);
                else
                    json_decref(item);
            }
        }
        freeReplyObject(rep);
    }
    unlock_redis(r, &guard);
    /* Records kept in memory while Redis was away are listed too. */
    mem = r->fallback->ops->list(r->fallback);
    json_array_foreach(mem, i, v)
    {
        const char *id = json_string_value(json_object_get(v, "id"));
        if (id != NULL && !has_id(out, id) && json_array_size(out) < r->history_size) {
            json_t *c = json_deep_copy(v);
            json_object_set_new(c, "store", json_string("memory (Redis was unavailable)"));
            json_array_append_new(out, c);
        }
    }
    json_decref(mem);
    return out;
}

static void redis_destroy(struct dtbi_store *s)
{
    struct redis_store *r = (struct redis_store *)s;
    if (r == NULL)
        return;
    /* the writer writes what is queued (each call bounded), then ends */
    pthread_mutex_lock(&r->qlock);
    r->stopping = true;
    int mine = r->writer_pid == getpid();
    pthread_cond_signal(&r->qwork);
    pthread_mutex_unlock(&r->qlock);
    if (mine)
        pthread_join(r->writer, NULL);
    store_unregister(r);
    dtbi_queue_forget(r); /* a forked child's copy of its parent's queue */
    if (r->c != NULL)
        redisFree(r->c);
    if (r->fallback != NULL)
        r->fallback->ops->destroy(r->fallback);
    pthread_mutex_destroy(&r->lock);
    pthread_mutex_destroy(&r->qlock);
    pthread_cond_destroy(&r->qwork);
    pthread_cond_destroy(&r->qdone);
    free(r);
}

static const struct dtbi_store_ops redis_ops = {
    .name = "redis",
    .put = redis_put,
    .put_request = dtbi_redis_put_request,
    .get = redis_get,
    .list = redis_list,
    .destroy = redis_destroy,
};

struct dtbi_store *dtbi_store_redis_create(const char *url, const char *prefix, long long ttl,
                                           unsigned timeout_ms, size_t history_size,
                                           size_t max_bytes)
{
    struct redis_store *r = calloc(1, sizeof(*r));
    if (r == NULL || history_size == 0)
        goto fail;
    if (dtbi_redis_url_parse(url, r->host, sizeof(r->host), &r->port, r->unix_path,
                             sizeof(r->unix_path), &r->db) != 0)
        goto fail;
    r->base.ops = &redis_ops;
    r->ttl = ttl > 0 ? ttl : 3600;
    r->history_size = history_size;
    r->timeout.tv_sec = timeout_ms / 1000;
    r->timeout.tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000;
    snprintf(r->key_history, sizeof(r->key_history), "%s:history", prefix);
    snprintf(r->key_ids, sizeof(r->key_ids), "%s:ids", prefix);
    snprintf(r->key_req_prefix, sizeof(r->key_req_prefix), "%s:req:", prefix);
    r->fallback = dtbi_store_mem_create(history_size, max_bytes);
    if (r->fallback == NULL)
        goto fail;
    r->max_bytes = max_bytes;
    /* a reader waits for the queue as long as four Redis calls may take, at least 200 ms: it
     * may be on the thread that serves the app's pages (MHD's single polling thread) */
    r->read_wait_ns = (int64_t)(timeout_ms > 50 ? 4 * timeout_ms : 200) * 1000000LL;
    pthread_mutex_init(&r->lock, NULL);
    pthread_mutex_init(&r->qlock, NULL);
    dtbi_queue_conds_init(r);
    store_register(r);
    struct pipe_guard guard;
    lock_redis(r, &guard);
    connected(r); /* connect now, so a dead Redis is reported at start */
    unlock_redis(r, &guard);
    return &r->base;
fail:
    free(r);
    return NULL;
}
