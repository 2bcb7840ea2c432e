/*
 * store_redis_queue.c - the Redis store's write queue and its writer thread: a finished request
 * is queued (put_request) rather than built and written on the app's thread; one writer per
 * process, started with its first request and run at a lower priority, builds each record and
 * writes it in batches; a full queue (WRITE_QUEUE_MAX requests or history_max_bytes) sends the
 * request to the memory fallback, and a reader waits, boundedly, for what was queued before it.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "store_redis_int.h"

#define WRITER_NICE 10
#define WRITER_BATCH_NS (5 * 1000 * 1000L)

static void *writer_main(void *arg)
{
    struct redis_store *r = arg;
#ifdef __linux__
    /* The app comes first: under a load that keeps every core busy, the writer gets what is
     * left over (Linux nice values are per thread), and what it cannot write in time goes to
     * the memory fallback instead of slowing the app's pages. */
    setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), WRITER_NICE);
#endif
    pthread_mutex_lock(&r->qlock);
    for (;;) {
        if (r->qlen == 0 && !r->stopping) {
            while (r->qlen == 0 && !r->stopping)
                pthread_cond_wait(&r->qwork, &r->qlock);
            /* Woken for one request: let a few more gather first, so that under load the
             * writer wakes (and takes a core from the app) once per batch, not per request. A
             * reader waiting for the queue waits these few milliseconds more. */
            if (!r->stopping && r->qlen < WRITE_QUEUE_MAX / 4) {
                struct timespec pause = {0, WRITER_BATCH_NS};
                pthread_mutex_unlock(&r->qlock);
                nanosleep(&pause, NULL);
                pthread_mutex_lock(&r->qlock);
            }
        }
        if (r->qlen == 0)
            break; /* stopping, and everything queued is written */
        struct dtb_request *rq = r->ring[r->qhead];
        r->qhead = (r->qhead + 1) % WRITE_QUEUE_MAX;
        r->qlen--;
        r->qbytes -= dtbi_request_bytes(rq);
        pthread_mutex_unlock(&r->qlock);

        dtbi_request_put_built(&r->base, rq);

        pthread_mutex_lock(&r->qlock);
        r->written++;
        pthread_cond_broadcast(&r->qdone);
    }
    pthread_mutex_unlock(&r->qlock);
    return NULL;
}

/* Drops what a parent process had queued (a forked child must not write it again). qlock held. */
void dtbi_queue_forget(struct redis_store *r)
{
    while (r->qlen > 0) {
        dtbi_request_destroy(r->ring[r->qhead]);
        r->qhead = (r->qhead + 1) % WRITE_QUEUE_MAX;
        r->qlen--;
    }
    r->qbytes = 0;
    r->queued = r->written = 0;
}

/* (Re)initializes the queue's condition variables. A forked child must: its copies may still
 * count its parent's writer as a waiter, and a signal would go to that thread, which the child
 * does not have. */
void dtbi_queue_conds_init(struct redis_store *r)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->qdone, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&r->qwork, NULL);
}

/* Starts this process's writer thread, with every signal blocked in it (the app's handlers
 * run in the app's threads). qlock held. Returns 0 or -1. */
static int writer_start(struct redis_store *r)
{
    sigset_t all, old;
    if (r->writer_pid == getpid())
        return 0;
    if (r->writer_pid != 0)
        dtbi_queue_conds_init(r); /* a forked child */
    dtbi_queue_forget(r);
    r->stopping = false;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&r->writer, NULL, writer_main, r);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        dtbi_log_once("redis-writer",
                      "cannot start the Redis writer thread (%s); records are "
                      "written from the app's threads",
                      strerror(rc));
        return -1;
    }
    r->writer_pid = getpid();
    return 0;
}

dtb_rc dtbi_redis_put_request(struct dtbi_store *s, struct dtb_request *rq)
{
    struct redis_store *r = (struct redis_store *)s;
    size_t bytes = dtbi_request_bytes(rq);
    pthread_mutex_lock(&r->qlock);
    if (r->stopping || writer_start(r) != 0) {
        pthread_mutex_unlock(&r->qlock);
        return DTB_ESTORE; /* the caller builds the record and calls put */
    }
    if (r->qlen == WRITE_QUEUE_MAX || (r->qlen > 0 && r->qbytes + bytes > r->max_bytes)) {
        pthread_mutex_unlock(&r->qlock);
        dtbi_log_once("redis-behind", "the Redis writer is behind; keeping records in memory "
                                      "until it catches up");
        return r->fallback->ops->put_request(r->fallback, rq);
    }
    r->ring[(r->qhead + r->qlen) % WRITE_QUEUE_MAX] = rq;
    r->qlen++;
    r->qbytes += bytes;
    r->queued++;
    pthread_cond_signal(&r->qwork);
    pthread_mutex_unlock(&r->qlock);
    return DTB_OK;
}

/* Waits until every request queued before this call is written (or in the fallback), for at
 * most read_wait_ns: a reader then sees every request that completed before it asked. Returns
 * 1 when there was something to wait for, else 0. */
int dtbi_wait_written(struct redis_store *r)
{
    int waited = 0;
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += (time_t)(r->read_wait_ns / 1000000000LL);
    deadline.tv_nsec += (long)(r->read_wait_ns % 1000000000LL);
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&r->qlock);
    if (r->writer_pid == getpid()) {
        uint64_t target = r->queued;
        waited = r->written < target;
        while (r->written < target)
            if (pthread_cond_timedwait(&r->qdone, &r->qlock, &deadline) == ETIMEDOUT)
                break;
    }
    pthread_mutex_unlock(&r->qlock);
    return waited;
}
