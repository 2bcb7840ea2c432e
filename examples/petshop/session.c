/*
 * session.c - the demo's sessions: a cookie (petshop_session) naming a server-side session,
 * kept in memory by default or in Redis (app.session.store: "redis://host:port/db" or
 * "unix:/path/to/redis.sock") through hiredis, one key per session with a TTL
 * (app.session.ttl, default 3600 s) refreshed on every request that has a session. Each
 * Redis call is bounded by app.session.timeout_ms (default 200).
 *
 * Every load and save is reported to the toolbar's Session panel with the store's own answer
 * to TTL. When Redis fails, the request goes on without a session and the panel says why;
 * the demo reconnects at most once a second, with short timeouts, so a dead Redis never
 * stalls a page.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#ifdef HAVE_HIREDIS
#include <hiredis/hiredis.h>
#endif

#include "petshop.h"
#include <debugtoolbar/state.h>

#define COOKIE "petshop_session"

static long ttl = 3600;
static long timeout_ms = 200;
static char store_name[120] = "memory";
/* Redis */
static int use_redis;
static char redis_host[128], redis_path[200];
static int redis_port = 6379, redis_db;
#ifdef HAVE_HIREDIS
static redisContext *rc;
static time_t redis_retry_at;
#endif
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
/* memory */
struct mem_session {
    char id[33];
    char *json; /* {"data":..., "created":..., "accessed":...} */
    time_t expires;
    struct mem_session *next;
};
static struct mem_session *mem;

int session_init(const json_t *conf)
{
    const json_t *t = json_object_get(conf, "ttl");
    const json_t *to = json_object_get(conf, "timeout_ms");
    const char *store = json_string_value(json_object_get(conf, "store"));
    if (json_is_integer(t) && json_integer_value(t) > 0)
        ttl = (long)json_integer_value(t);
    if (json_is_integer(to) && json_integer_value(to) > 0 && json_integer_value(to) <= 60000)
        timeout_ms = (long)json_integer_value(to);
    if (store == NULL || strcmp(store, "memory") == 0)
        return 0;
    snprintf(store_name, sizeof(store_name), "%s", store);
    if (strncmp(store, "unix:", 5) == 0 && store[5] == '/') {
        snprintf(redis_path, sizeof(redis_path), "%s", store + 5);
    } else if (strncmp(store, "redis://", 8) == 0) {
        const char *hp = store + 8, *colon = strchr(hp, ':'), *slash = strchr(hp, '/');
        size_t hl = (size_t)((colon ? colon : slash ? slash : hp + strlen(hp)) - hp);
        if (hl == 0 || hl >= sizeof(redis_host))
            goto bad;
        memcpy(redis_host, hp, hl);
        redis_host[hl] = '\0';
        if (colon != NULL)
            redis_port = atoi(colon + 1);
        if (slash != NULL)
            redis_db = atoi(slash + 1);
        if (redis_port <= 0 || redis_port > 65535 || redis_db < 0)
            goto bad;
    } else {
        goto bad;
    }
#ifndef HAVE_HIREDIS
    fprintf(stderr, "petshop: app.session.store: this build has no Redis support: rebuild with "
                    "hiredis (libhiredis-dev)\n");
    return -1;
#endif
    use_redis = 1;
    return 0;
bad:
    fprintf(stderr,
            "petshop: app.session.store: expected \"memory\", \"redis://HOST:PORT/DB\" "
            "or \"unix:/PATH\", not \"%s\"\n",
            store);
    return -1;
}

#ifdef HAVE_HIREDIS
/* ---- Redis (lock held) ------------------------------------------------------------------ */

static void redis_drop(void)
{
    if (rc != NULL)
        redisFree(rc);
    rc = NULL;
    redis_retry_at = time(NULL) + 1;
}

static int redis_ready(char *err, size_t errlen)
{
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    if (rc != NULL)
        return 0;
    if (time(NULL) < redis_retry_at) {
        snprintf(err, errlen, "Redis at %s is unavailable (retrying within a second)", store_name);
        return -1;
    }
    rc = redis_path[0] ? redisConnectUnixWithTimeout(redis_path, tv)
                       : redisConnectWithTimeout(redis_host, redis_port, tv);
    if (rc == NULL || rc->err) {
        snprintf(err, errlen, "cannot connect to Redis at %s: %s", store_name,
                 rc != NULL ? rc->errstr : "out of memory");
        redis_drop();
        return -1;
    }
    redisSetTimeout(rc, tv);
    if (redis_db > 0) {
        redisReply *r = redisCommand(rc, "SELECT %d", redis_db);
        int ok = r != NULL && r->type != REDIS_REPLY_ERROR;
        freeReplyObject(r);
        if (!ok) {
            snprintf(err, errlen, "Redis at %s refused SELECT %d", store_name, redis_db);
            redis_drop();
            return -1;
        }
    }
    return 0;
}

/* Runs a command; on failure fills err, drops the connection and returns NULL. */
static redisReply *redis_cmd(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    redisReply *r;
    if (redis_ready(err, errlen) != 0)
        return NULL;
    va_start(ap, fmt);
    r = redisvCommand(rc, fmt, ap);
    va_end(ap);
    if (r == NULL) {
        snprintf(err, errlen, "Redis at %s failed: %s", store_name,
                 rc->errstr[0] ? rc->errstr : "no reply");
        redis_drop();
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        snprintf(err, errlen, "Redis at %s answered: %.*s", store_name, (int)r->len, r->str);
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

#endif /* HAVE_HIREDIS */

/* ---- the store: get / put / delete / ttl ---------------------------------------------- */

/* The stored text of session id, or NULL (absent or error: see err). */
static char *store_get(const char *id, long long *ttl_out, char *err, size_t errlen)
{
    char *text = NULL;
    *ttl_out = -2;
    pthread_mutex_lock(&lock);
#ifdef HAVE_HIREDIS
    if (use_redis) {
        redisReply *r = redis_cmd(err, errlen, "GET petshop:session:%s", id);
        if (r != NULL && r->type == REDIS_REPLY_STRING)
            text = strndup(r->str, r->len);
        freeReplyObject(r);
        if (text != NULL) {
            r = redis_cmd(err, errlen, "TTL petshop:session:%s", id);
            if (r != NULL && r->type == REDIS_REPLY_INTEGER)
                *ttl_out = r->integer;
            freeReplyObject(r);
        }
    } else
#endif
    {
        time_t now = time(NULL);
        for (struct mem_session *m = mem; m != NULL; m = m->next) {
            if (strcmp(m->id, id) == 0 && m->expires > now) {
                text = strdup(m->json);
                *ttl_out = (long long)(m->expires - now);
                break;
            }
        }
    }
    pthread_mutex_unlock(&lock);
    return text;
}

/* Stores text under id with the TTL; returns the store's TTL afterwards, or -2 (see err). */
static long long store_put(const char *id, const char *text, char *err, size_t errlen)
{
    long long out = -2;
    pthread_mutex_lock(&lock);
#ifdef HAVE_HIREDIS
    if (use_redis) {
        redisReply *r = redis_cmd(err, errlen, "SET petshop:session:%s %s EX %ld", id, text, ttl);
        if (r != NULL) {
            freeReplyObject(r);
            r = redis_cmd(err, errlen, "TTL petshop:session:%s", id);
            if (r != NULL && r->type == REDIS_REPLY_INTEGER)
                out = r->integer;
            freeReplyObject(r);
        }
    } else
#endif
    {
        struct mem_session *m;
        time_t now = time(NULL);
        for (m = mem; m != NULL; m = m->next)
            if (strcmp(m->id, id) == 0)
                break;
        if (m == NULL && (m = calloc(1, sizeof(*m))) != NULL) {
            snprintf(m->id, sizeof(m->id), "%s", id);
            m->next = mem;
            mem = m;
        }
        char *copy = strdup(text);
        if (m != NULL && copy != NULL) {
            free(m->json);
            m->json = copy;
            m->expires = now + ttl;
            out = ttl;
        } else {
            free(copy);
            snprintf(err, errlen, "out of memory");
        }
    }
    pthread_mutex_unlock(&lock);
    return out;
}

static void store_delete(const char *id, char *err, size_t errlen)
{
    pthread_mutex_lock(&lock);
#ifdef HAVE_HIREDIS
    if (use_redis) {
        freeReplyObject(redis_cmd(err, errlen, "DEL petshop:session:%s", id));
    } else
#endif
    {
        for (struct mem_session **p = &mem; *p != NULL; p = &(*p)->next) {
            if (strcmp((*p)->id, id) == 0) {
                struct mem_session *m = *p;
                *p = m->next;
                free(m->json);
                free(m);
                break;
            }
        }
    }
    pthread_mutex_unlock(&lock);
}

void session_shutdown(void)
{
    pthread_mutex_lock(&lock);
#ifdef HAVE_HIREDIS
    if (rc != NULL)
        redisFree(rc);
    rc = NULL;
#endif
    while (mem != NULL) {
        struct mem_session *m = mem;
        mem = m->next;
        free(m->json);
        free(m);
    }
    pthread_mutex_unlock(&lock);
}

/* ---- sessions --------------------------------------------------------------------------- */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Tells the Session panel; t0: when the load or save began (its span on the waterfall), or -1 */
static void report(const struct session *s, long long ttl_now, int64_t t0)
{
    struct dtb_session_info info = DTB_SESSION_INFO_INIT;
    if (!dtb_recording())
        return;
    info.cookie = COOKIE;
    info.id = s->id[0] ? s->id : NULL;
    info.data = s->data;
    info.store = store_name;
    info.ttl_seconds = ttl_now;
    info.created_unix = s->created;
    info.accessed_unix = s->accessed;
    info.error = s->error[0] ? s->error : NULL;
    dtb_session_record_timed(&info, t0 >= 0 ? now_ns() - t0 : -1);
}

static int valid_id(const char *v)
{
    if (v == NULL || strlen(v) != 32)
        return 0;
    for (int i = 0; i < 32; i++)
        if (!isxdigit((unsigned char)v[i]) || isupper((unsigned char)v[i]))
            return 0;
    return 1;
}

void session_load(struct MHD_Connection *con, struct session *s)
{
    const char *cookie = MHD_lookup_connection_value(con, MHD_COOKIE_KIND, COOKIE);
    long long ttl_now = -2;
    int64_t t0 = now_ns();
    memset(s, 0, sizeof(*s));
    if (valid_id(cookie)) {
        char *text = store_get(cookie, &ttl_now, s->error, sizeof(s->error));
        json_t *stored = text != NULL ? json_loads(text, 0, NULL) : NULL;
        free(text);
        if (json_is_object(json_object_get(stored, "data"))) {
            snprintf(s->id, sizeof(s->id), "%s", cookie);
            s->data = json_incref(json_object_get(stored, "data"));
            s->created = (int64_t)json_integer_value(json_object_get(stored, "created"));
            s->accessed = (int64_t)json_integer_value(json_object_get(stored, "accessed"));
        }
        json_decref(stored);
    }
    if (s->data == NULL)
        s->data = json_object();
    report(s, ttl_now, t0);
}

static void new_id(char out[33])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[16] = {0};
    FILE *f = fopen("/dev/urandom", "rb");
    if (f != NULL) {
        if (fread(raw, 1, sizeof(raw), f) != sizeof(raw))
            memset(raw, 0, sizeof(raw));
        fclose(f);
    }
    for (int i = 0; i < 16; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[32] = '\0';
}

void session_login(struct session *s, const char *user)
{
    time_t now = time(NULL);
    new_id(s->id); /* a new id at login: no session fixation */
    s->created = (int64_t)now;
    json_object_set_new(s->data, "user", json_string(user));
    json_object_set_new(s->data, "logged_in_at", json_integer((json_int_t)now));
    json_object_set_new(s->data, "visits", json_integer(0));
    s->dirty = 1;
}

void session_logout(struct session *s)
{
    s->logout = 1;
}

void session_save(struct session *s, struct MHD_Response *r)
{
    char cookie[200];
    long long ttl_now = -2;
    int64_t t0 = now_ns();
    if (s->logout && s->id[0]) {
        store_delete(s->id, s->error, sizeof(s->error));
        snprintf(cookie, sizeof(cookie), "%s=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0", COOKIE);
        if (r != NULL)
            MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, cookie);
        s->id[0] = '\0';
        json_object_clear(s->data);
        report(s, -2, -1);
        return;
    }
    if (s->id[0] == '\0' || s->error[0] != '\0') {
        if (s->dirty)
            report(s, -2, -1);
        return; /* no session, or a store that failed at load: nothing to write */
    }
    int64_t accessed = (int64_t)time(NULL);
    json_t *stored = json_pack("{s:O,s:I,s:I}", "data", s->data, "created", (json_int_t)s->created,
                               "accessed", (json_int_t)accessed);
    char *text = json_dumps(stored, JSON_COMPACT);
    json_decref(stored);
    if (text != NULL)
        ttl_now = store_put(s->id, text, s->error, sizeof(s->error));
    free(text);
    if (r != NULL && s->error[0] == '\0') {
        snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; HttpOnly; SameSite=Lax; Max-Age=%ld",
                 COOKIE, s->id, ttl);
        MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, cookie);
    }
    report(s, ttl_now, t0);
}

void session_free(struct session *s)
{
    json_decref(s->data);
    s->data = NULL;
}
