/*
 * cache.c - the demo's page cache: in-process, a default timeout (app.cache.default_timeout,
 * 300 s) and per-call timeouts (the home page's body for app.cache.index_timeout, 50 s). Every
 * call is reported to the toolbar's Cache panel.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "petshop.h"
#include <debugtoolbar/state.h>

struct entry {
    char *key;
    char *value;
    time_t expires;
    struct entry *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *entries;
static long default_timeout = 300;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void cache_init(const json_t *conf)
{
    const json_t *t = json_object_get(conf, "default_timeout");
    if (json_is_integer(t) && json_integer_value(t) > 0)
        default_timeout = (long)json_integer_value(t);
}

long cache_default_timeout(void)
{
    return default_timeout;
}

char *cache_get(const char *key)
{
    int64_t t0 = now_ns();
    char *copy = NULL;
    time_t now = time(NULL);
    pthread_mutex_lock(&lock);
    for (struct entry *e = entries; e != NULL; e = e->next) {
        if (strcmp(e->key, key) == 0) {
            if (e->expires > now)
                copy = strdup(e->value);
            break;
        }
    }
    pthread_mutex_unlock(&lock);
    dtb_cache_record("get", key, copy != NULL, -1, now_ns() - t0);
    if (copy == NULL)
        dtb_log(DTB_LOG_INFO, "cache miss for %s", key);
    return copy;
}

void cache_set(const char *key, const char *value, long timeout_s)
{
    int64_t t0 = now_ns();
    struct entry *e;
    if (timeout_s <= 0)
        timeout_s = default_timeout;
    pthread_mutex_lock(&lock);
    for (e = entries; e != NULL; e = e->next)
        if (strcmp(e->key, key) == 0)
            break;
    if (e == NULL) {
        e = calloc(1, sizeof(*e));
        if (e != NULL && (e->key = strdup(key)) == NULL) {
            free(e);
            e = NULL;
        }
        if (e != NULL) {
            e->next = entries;
            entries = e;
        }
    }
    if (e != NULL) {
        char *v = strdup(value);
        if (v != NULL) {
            free(e->value);
            e->value = v;
            e->expires = time(NULL) + timeout_s;
        }
    }
    pthread_mutex_unlock(&lock);
    dtb_cache_record("set", key, -1, timeout_s, now_ns() - t0);
}

void cache_free_all(void)
{
    pthread_mutex_lock(&lock);
    while (entries != NULL) {
        struct entry *e = entries;
        entries = e->next;
        free(e->key);
        free(e->value);
        free(e);
    }
    pthread_mutex_unlock(&lock);
}
