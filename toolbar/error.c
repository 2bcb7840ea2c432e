/*
 * error.c - result codes, struct dtb_error filling (first error wins) and the library's
 * log: to stderr, or to the sink set with dtb_toolbar_set_logger; dtbi_log_once says a cause
 * once per process. Logging never fails the caller.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char *const rc_text[] = {
    [DTB_OK] = "no error",
    [DTB_ENOMEM] = "out of memory",
    [DTB_EINVAL] = "invalid argument",
    [DTB_ECONFIG] = "invalid configuration",
    [DTB_EIO] = "input/output error",
    [DTB_ESTORE] = "history store error",
    [DTB_ENOTFOUND] = "not found",
    [DTB_EMHD] = "libmicrohttpd refused",
    [DTB_ESTATE] = "called in the wrong state",
};

const char *dtb_strerror(dtb_rc rc)
{
    if ((unsigned)rc >= sizeof(rc_text) / sizeof(rc_text[0]) || rc_text[rc] == NULL)
        return "unknown error";
    return rc_text[rc];
}

void dtb_error_clear(struct dtb_error *err)
{
    if (err != NULL)
        memset(err, 0, sizeof(*err));
}

dtb_rc dtbi_error_set(struct dtb_error *err, dtb_rc code, const char *source, int line, int column,
                      const char *key, const char *fmt, ...)
{
    va_list ap;
    if (err == NULL || err->code != DTB_OK)
        return code;
    err->code = code;
    err->line = line;
    err->column = column;
    snprintf(err->source, sizeof(err->source), "%s", source ? source : "");
    snprintf(err->key, sizeof(err->key), "%s", key ? key : "");
    va_start(ap, fmt);
    vsnprintf(err->text, sizeof(err->text), fmt, ap);
    va_end(ap);
    return code;
}

int dtb_panel_config_error(const struct dtb_toolbar *tb, struct dtb_error *err,
                           const char *panel_id, const char *key, const char *fmt, ...)
{
    char path[160], text[sizeof(err->text)];
    int line = 0, col = 0;
    va_list ap;
    if (key != NULL && key[0] != '\0')
        snprintf(path, sizeof(path), "panel_options.%s.%s", panel_id ? panel_id : "", key);
    else
        snprintf(path, sizeof(path), "panel_options.%s", panel_id ? panel_id : "");
    if (tb != NULL)
        dtbi_config_locate(&tb->cfg, path, &line, &col);
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    dtbi_error_set(err, DTB_ECONFIG, tb != NULL ? tb->cfg.source : NULL, line, col, path, "%s",
                   text);
    return -1;
}

const char *dtb_error_format(const struct dtb_error *err, char *out, size_t outlen)
{
    size_t n = 0;
    if (outlen == 0)
        return out;
    out[0] = '\0';
    if (err == NULL)
        return out;
    if (err->source[0] != '\0') {
        if (err->line > 0)
            n = (size_t)snprintf(out, outlen, "%s:%d:%d: ", err->source, err->line, err->column);
        else
            n = (size_t)snprintf(out, outlen, "%s: ", err->source);
    }
    if (n < outlen && err->key[0] != '\0')
        n += (size_t)snprintf(out + n, outlen - n, "key '%s': ", err->key);
    if (n < outlen)
        snprintf(out + n, outlen - n, "%s", err->text[0] ? err->text : dtb_strerror(err->code));
    return out;
}

/* Causes already logged: a short fixed table is enough (causes are a small static set). */
#define LOG_ONCE_MAX 64
static pthread_mutex_t log_once_lock = PTHREAD_MUTEX_INITIALIZER;
static char *log_once_seen[LOG_ONCE_MAX];
static size_t log_once_n;

/* The sink: read and set under its own lock, so a line never goes to a half-set sink. */
static pthread_mutex_t sink_lock = PTHREAD_MUTEX_INITIALIZER;
static dtb_log_fn sink_fn;
static void *sink_cls;

void dtb_toolbar_set_logger(struct dtb_toolbar *tb, dtb_log_fn fn, void *cls)
{
    if (tb == NULL)
        return;
    pthread_mutex_lock(&sink_lock);
    sink_fn = fn;
    sink_cls = fn != NULL ? cls : NULL;
    pthread_mutex_unlock(&sink_lock);
}

static void vlog(const char *fmt, va_list ap)
{
    char line[512];
    dtb_log_fn fn;
    void *cls;
    vsnprintf(line, sizeof(line), fmt, ap);
    pthread_mutex_lock(&sink_lock);
    fn = sink_fn;
    cls = sink_cls;
    pthread_mutex_unlock(&sink_lock);
    if (fn != NULL)
        fn(cls, line);
    else
        fprintf(stderr, "debugtoolbar: %s\n", line);
}

void dtbi_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
}

void dtbi_log_once(const char *cause, const char *fmt, ...)
{
    va_list ap;
    int seen = 0;
    pthread_mutex_lock(&log_once_lock);
    for (size_t i = 0; i < log_once_n; i++) {
        if (strcmp(log_once_seen[i], cause) == 0) {
            seen = 1;
            break;
        }
    }
    if (!seen && log_once_n < LOG_ONCE_MAX) {
        log_once_seen[log_once_n] = strdup(cause);
        if (log_once_seen[log_once_n] != NULL)
            log_once_n++;
    }
    pthread_mutex_unlock(&log_once_lock);
    if (seen)
        return;
    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
}
