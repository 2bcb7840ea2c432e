/*
 * store_redis_int.h - private to the Redis store's files (store_redis.c, store_redis_queue.c):
 * the store's structure and the write queue's functions the store calls. Not installed.
 */
#ifndef DTB_STORE_REDIS_INT_H
#define DTB_STORE_REDIS_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/time.h>
#include <sys/types.h>

#include <hiredis/hiredis.h>

#include "store.h"

#define WRITE_QUEUE_MAX 256

struct redis_store {
    struct dtbi_store base;
    pthread_mutex_t lock;
    redisContext *c;
    char host[256];
    int port;
    char unix_path[256];
    int db;
    struct timeval timeout;
    char key_history[300];
    char key_ids[300]; /* the ids of the listed records, newest first, to delete evicted ones */
    char key_req_prefix[300];
    long long ttl;
    size_t history_size;
    struct dtbi_store *fallback;
    int64_t next_retry_ns;
    bool was_down;
    pid_t conn_pid; /* the process that opened c: a forked child opens its own */
    /* the write queue: ring[(qhead + i) % WRITE_QUEUE_MAX], oldest first */
    pthread_mutex_t qlock;
    pthread_cond_t qwork; /* the writer waits for requests */
    pthread_cond_t qdone; /* readers wait for the writer to catch up */
    struct dtb_request *ring[WRITE_QUEUE_MAX];
    size_t qhead, qlen, qbytes, max_bytes;
    uint64_t queued, written; /* counts, so a reader knows what was queued before it */
    pid_t writer_pid;         /* the process whose writer thread is running, or 0 */
    pthread_t writer;
    bool stopping;
    int64_t read_wait_ns;
    struct redis_store *next_store; /* every Redis store, for fork (stores_lock) */
};

/* ---- the write queue and its writer thread (store_redis_queue.c) ---- */

/* Drops what a parent process had queued (a forked child must not write it again). qlock held. */
void dtbi_queue_forget(struct redis_store *r);
/* (Re)initializes the queue's condition variables (at creation, and in a forked child). */
void dtbi_queue_conds_init(struct redis_store *r);
/* Waits until every request queued before this call is written (or in the fallback), for at
 * most read_wait_ns. Returns 1 when there was something to wait for, else 0. */
int dtbi_wait_written(struct redis_store *r);
/* The store's put_request: queues a finished request for the writer thread (started on the
 * first request in each process), or hands it to the memory fallback when the queue is full. */
dtb_rc dtbi_redis_put_request(struct dtbi_store *s, struct dtb_request *rq);

#endif
