/*
 * debugtoolbar/state.h - what the app tells the state panels: its session, cache calls,
 * templates, log lines and routes.
 *
 * Every recording call files its data under the request current on the calling thread
 * (dtb_request_current, or a thread attached with dtb_request_attach) and is a no-op when there
 * is none: outside a request, with the toolbar off, or for a client that is not allowed. Data is
 * copied; nothing passed in is kept. Strings may hold anything: the panels escape what they show.
 *
 * With -DDTB_DISABLE every call here is an empty inline function and dtb_recording() gives 0,
 * so an app built without the toolbar needs no #ifdef around them (it may still guard the work of
 * building a template context or session snapshot with `if (dtb_recording())`).
 */
#ifndef DEBUGTOOLBAR_STATE_H
#define DEBUGTOOLBAR_STATE_H

#include <stdint.h>

#include <debugtoolbar/export.h>
#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Log levels, as Python's logging numbers them. */
enum dtb_log_level {
    DTB_LOG_DEBUG = 10,
    DTB_LOG_INFO = 20,
    DTB_LOG_WARNING = 30,
    DTB_LOG_ERROR = 40,
    DTB_LOG_CRITICAL = 50,
};

/*
 * A snapshot of the session as the app's session layer sees it. The struct can grow: fields are
 * only ever added at its end, and `size` says how much of it the caller filled. Zero (as in
 * `struct dtb_session_info info = {0}` or designated initializers without it) means the
 * fields up to `error`, this header's first layout; DTB_SESSION_INFO_INIT sets it for the
 * header the caller was compiled with, which a newer library reads field by field.
 */
struct dtb_session_info {
    size_t size;           /* sizeof(struct dtb_session_info) as the caller knew it, or 0 */
    const char *cookie;    /* the session cookie's name, or NULL */
    const char *id;        /* session id (the panel masks all but its ends), NULL when none */
    const json_t *data;    /* the session's data, or NULL (empty) */
    const char *store;     /* "memory", "redis://127.0.0.1:6379/0", ... */
    long long ttl_seconds; /* time to live as the store reports it (Redis: TTL); -1 no expiry,
                              -2 unknown or no such key */
    int64_t created_unix;  /* seconds since the epoch; 0 when unknown */
    int64_t accessed_unix; /* last access before this request; 0 when unknown */
    const char *error;     /* the store failed: why (the request still went on), else NULL */
};

/* An initializer: `struct dtb_session_info info = DTB_SESSION_INFO_INIT;`, then the fields. */
#define DTB_SESSION_INFO_INIT                                                                      \
    {                                                                                              \
        .size = sizeof(struct dtb_session_info)                                                    \
    }

#ifndef DTB_DISABLE

/* 1 when recording calls on this thread are kept (a request is current), else 0. */
DTB_EXPORT int dtb_recording(void);

/*
 * Session: call when the session is loaded and again after the request changed it (or at the
 * end). The first snapshot of a request is "before", the last one "after": the panel shows the
 * data, the store and TTL of the last one, and what changed between the two.
 */
DTB_EXPORT void dtb_session_record(const char *id, const json_t *data, const char *store,
                                   long long ttl_seconds);
DTB_EXPORT void dtb_session_record_info(const struct dtb_session_info *info);
/* The same, with the time the session layer took to load (first snapshot) or save (later
 * ones) it, measured by the caller (dtb_now_ns): a span on the Timer panel's waterfall. */
DTB_EXPORT void dtb_session_record_timed(const struct dtb_session_info *info, int64_t duration_ns);

/*
 * Cache: one call per cache operation. op: "get", "set", "delete", ...; hit: 1 hit, 0 miss,
 * -1 not a lookup; timeout_s: the entry's timeout in seconds, -1 none or unknown; duration_ns
 * measured by the caller (dtb_now_ns), -1 unknown. A call with a duration is also a span on
 * the Timer panel's waterfall ("get <key>"), as is a template render with its time.
 */
DTB_EXPORT void dtb_cache_record(const char *op, const char *key, int hit, long timeout_s,
                                 int64_t duration_ns);

/*
 * Templates: the template's name and the context it was rendered with (every variable; a JSON
 * object, borrowed, copied). dtb_template_record_timed adds the render time.
 */
DTB_EXPORT void dtb_template_record(const char *name, const json_t *context);
DTB_EXPORT void dtb_template_record_timed(const char *name, const json_t *context,
                                          int64_t duration_ns);

/* Logging: a message at level (enum dtb_log_level) with the caller's file, line and function. */
DTB_EXPORT void dtb_log_at(const char *file, int line, const char *func, int level, const char *fmt,
                           ...) __attribute__((format(printf, 5, 6)));
#define dtb_log(level, ...) dtb_log_at(__FILE__, __LINE__, __func__, (level), __VA_ARGS__)

/*
 * Routes: the app declares its routes once (any time, any thread; process-wide). method is
 * "GET", "POST", ... or "*"; pattern is a path whose segments may be <name> (one segment),
 * <int:name> (digits) or <path:name> (the rest); name is the route's name. The panel marks the
 * first route matching the request, unless the app says which one with dtb_route_matched.
 * Returns 0, or -1 (bad argument or out of memory).
 */
DTB_EXPORT int dtb_route_add(const char *method, const char *pattern, const char *name);
DTB_EXPORT void dtb_route_matched(const char *name);
/* Forgets every route (tests, or an app that rebuilds its routing). */
DTB_EXPORT void dtb_routes_clear(void);

#else /* DTB_DISABLE: no-ops the compiler removes; arguments still count as used */

static inline int dtb_recording(void)
{
    return 0;
}
static inline void dtb_session_record(const char *id, const json_t *data, const char *store,
                                      long long ttl_seconds)
{
    (void)id, (void)data, (void)store, (void)ttl_seconds;
}
static inline void dtb_session_record_info(const struct dtb_session_info *info)
{
    (void)info;
}
static inline void dtb_session_record_timed(const struct dtb_session_info *info,
                                            int64_t duration_ns)
{
    (void)info, (void)duration_ns;
}
static inline void dtb_cache_record(const char *op, const char *key, int hit, long timeout_s,
                                    int64_t duration_ns)
{
    (void)op, (void)key, (void)hit, (void)timeout_s, (void)duration_ns;
}
static inline void dtb_template_record(const char *name, const json_t *context)
{
    (void)name, (void)context;
}
static inline void dtb_template_record_timed(const char *name, const json_t *context,
                                             int64_t duration_ns)
{
    (void)name, (void)context, (void)duration_ns;
}
static inline __attribute__((format(printf, 2, 3))) void dtb_log_off(int level, const char *fmt,
                                                                     ...)
{
    (void)level, (void)fmt;
}
#define dtb_log(level, ...) dtb_log_off((level), __VA_ARGS__)
static inline int dtb_route_add(const char *method, const char *pattern, const char *name)
{
    (void)method, (void)pattern, (void)name;
    return 0;
}
static inline void dtb_route_matched(const char *name)
{
    (void)name;
}
static inline void dtb_routes_clear(void)
{
}

#endif

#ifdef __cplusplus
}
#endif

#endif /* DEBUGTOOLBAR_STATE_H */
