/*
 * debugtoolbar.h - the one header applications include.
 *
 * debugtoolbar wraps a libmicrohttpd (MHD) application's access handler, keeps one record per
 * request (timings, headers, SQL, logs, ...) and injects an in-browser toolbar into the HTML
 * documents the application serves. It is off unless its config enables it, and even then it
 * answers only the client addresses the config allows (loopback by default).
 *
 * Minimal use (see README.md):
 *
 *     #include <microhttpd.h>
 *     #include <debugtoolbar.h>
 *     #include <debugtoolbar/mhd.h>         // maps MHD's response calls onto dtb_ ones
 *
 *     struct dtb_error err;
 *     struct dtb_toolbar *tb = dtb_toolbar_create(NULL, &err);   // DTB_CONFIG or defaults
 *     if (tb == NULL || dtb_toolbar_start(tb, &err) != DTB_OK) { print err.text; exit(1); }
 *     d = dtb_start_daemon(tb, MHD_USE_INTERNAL_POLLING_THREAD, 8080, NULL, NULL,
 *                          &handler, NULL, MHD_OPTION_END);
 *     ...
 *     MHD_stop_daemon(d);
 *     dtb_toolbar_destroy(tb);
 *
 * Thread safety: every function here may be called from any thread unless its comment says
 * otherwise; see docs/threadsafety.md.
 */
#ifndef DEBUGTOOLBAR_H
#define DEBUGTOOLBAR_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <microhttpd.h>

#include <debugtoolbar/export.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DTB_VERSION_MAJOR 0
#define DTB_VERSION_MINOR 1
#define DTB_VERSION_PATCH 0
#define DTB_VERSION "0.1.0"
#define DTB_VERSION_HEX ((DTB_VERSION_MAJOR << 16) | (DTB_VERSION_MINOR << 8) | DTB_VERSION_PATCH)
#define DTB_AT_LEAST_VERSION(x, y, z) (DTB_VERSION_HEX >= (((x) << 16) | ((y) << 8) | (z)))

/* The library's run-time version, e.g. "0.1.0". Can't fail; the string is static. */
DTB_EXPORT const char *dtb_version(void);

/* Result codes. Append-only: a code's number never changes and is never reused. */
typedef enum dtb_rc {
    DTB_OK = 0,
    DTB_ENOMEM = 1,    /* out of memory */
    DTB_EINVAL = 2,    /* invalid argument */
    DTB_ECONFIG = 3,   /* invalid configuration */
    DTB_EIO = 4,       /* file or socket error */
    DTB_ESTORE = 5,    /* history store error */
    DTB_ENOTFOUND = 6, /* no such request, panel or file */
    DTB_EMHD = 7,      /* libmicrohttpd refused */
    DTB_ESTATE = 8,    /* called in the wrong state (e.g. start twice) */
    DTB_RC_LAST        /* never use */
} dtb_rc;

/* A static English description of rc. Can't fail. */
DTB_EXPORT const char *dtb_strerror(dtb_rc rc);

/*
 * Error details, owned by the caller. Every function taking one accepts NULL. The first error
 * wins: a function only fills it when err->code is DTB_OK (initialise with {0} or
 * dtb_error_clear()). Contents are unspecified on success.
 * line/column are 1-based positions in `source` (a config file), 0 when not applicable;
 * key is the config key at fault ("sql.slow_ms"), empty when not applicable.
 */
struct dtb_error {
    dtb_rc code;
    int line;
    int column;
    char source[80];
    char key[64];
    char text[160];
};

/* Resets err to "no error". err may be NULL. */
DTB_EXPORT void dtb_error_clear(struct dtb_error *err);

/* Formats err as one line ("file:3:14: key 'hosts': ...") into out. Returns out. */
DTB_EXPORT const char *dtb_error_format(const struct dtb_error *err, char *out, size_t outlen);

struct dtb_toolbar;
struct dtb_request;

/*
 * Creates a toolbar from a JSON config file. path NULL means the file named by DTB_CONFIG, or
 * the defaults when that is unset too. Every key can be overridden by DTB_<KEY> environment
 * variables (DTB_ENABLED=1, DTB_HOSTS=127.0.0.1,10.0.0.0/8, DTB_SQL_SLOW_MS=50, ...).
 * Returns a new toolbar (destroy with dtb_toolbar_destroy) or NULL with err filled: a malformed
 * or invalid config names the key, line and column.
 */
DTB_EXPORT struct dtb_toolbar *dtb_toolbar_create(const char *path, struct dtb_error *err);

/* Same as dtb_toolbar_create, from a JSON text; source names it in errors (may be NULL). */
DTB_EXPORT struct dtb_toolbar *
dtb_toolbar_create_from_string(const char *json_text, const char *source, struct dtb_error *err);

/*
 * Starts the toolbar: initialises the panels and the history store and installs process-wide
 * instrumentation. Config and panel list are immutable afterwards. A disabled toolbar starts
 * too and then does nothing. Returns DTB_OK, or an error with err filled; a toolbar that failed
 * to start stays disabled. Call once, before starting the daemon.
 */
DTB_EXPORT dtb_rc dtb_toolbar_start(struct dtb_toolbar *tb, struct dtb_error *err);

/* Stops and frees the toolbar. Call after MHD_stop_daemon. NULL is a no-op. */
DTB_EXPORT void dtb_toolbar_destroy(struct dtb_toolbar *tb);

/* 1 when the toolbar is enabled by its config and started, else 0. Can't fail. */
DTB_EXPORT int dtb_toolbar_enabled(const struct dtb_toolbar *tb);

/* The toolbar's URL prefix ("/_debug_toolbar"); borrowed while tb lives. */
DTB_EXPORT const char *dtb_toolbar_url_prefix(const struct dtb_toolbar *tb);

/* The effective config (file + environment) as JSON, secrets redacted. New reference. */
DTB_EXPORT json_t *dtb_toolbar_config_json(const struct dtb_toolbar *tb);

/*
 * Where the library's log lines go: fn(cls, line) for each line, without a trailing newline
 * and without the "debugtoolbar: " prefix that the default sink (stderr) adds. fn NULL brings
 * back the default. fn may be called from any thread, including MHD's, and must not call back
 * into the toolbar. The log is the process's: one sink serves every toolbar in it, and the last
 * call wins. tb must be a toolbar (it names whose log the caller means); it may be disabled.
 */
typedef void (*dtb_log_fn)(void *cls, const char *line);
DTB_EXPORT void dtb_toolbar_set_logger(struct dtb_toolbar *tb, dtb_log_fn fn, void *cls);

/*
 * Starts an MHD daemon with the app's handler wrapped: the same arguments as MHD_start_daemon
 * after tb. The app's own MHD_OPTION_NOTIFY_COMPLETED and MHD_OPTION_URI_LOG_CALLBACK keep
 * working (they are chained), and its per-request pointer (req_cls) is its own. With tb NULL or
 * disabled the daemon is started exactly as MHD_start_daemon would, and so it is, without the
 * toolbar (said in the log), when the options hold one the library does not know outside an
 * MHD_OPTION_ARRAY (inside one, an unknown option passes through to MHD). Returns the daemon,
 * or NULL when MHD refused to start it.
 */
DTB_EXPORT struct MHD_Daemon *dtb_start_daemon(struct dtb_toolbar *tb, unsigned int flags,
                                               uint16_t port, MHD_AcceptPolicyCallback apc,
                                               void *apc_cls, MHD_AccessHandlerCallback dh,
                                               void *dh_cls, ...);

/* va_list form of dtb_start_daemon. */
DTB_EXPORT struct MHD_Daemon *dtb_start_daemon_va(struct dtb_toolbar *tb, unsigned int flags,
                                                  uint16_t port, MHD_AcceptPolicyCallback apc,
                                                  void *apc_cls, MHD_AccessHandlerCallback dh,
                                                  void *dh_cls, va_list ap);

/*
 * Response constructors with MHD's signatures. They build the MHD response and remember its
 * body so that dtb_queue_response() can inject the toolbar into a copy. When no toolbar is
 * enabled in the process they are MHD's own calls and cost nothing more.
 */
DTB_EXPORT struct MHD_Response *dtb_response_from_buffer(size_t size, void *buffer,
                                                         enum MHD_ResponseMemoryMode mode);
DTB_EXPORT struct MHD_Response *dtb_response_from_buffer_static(size_t size, const void *buffer);
DTB_EXPORT struct MHD_Response *dtb_response_from_buffer_copy(size_t size, const void *buffer);
DTB_EXPORT struct MHD_Response *
dtb_response_from_buffer_with_free_callback(size_t size, void *buffer,
                                            MHD_ContentReaderFreeCallback crfc);
DTB_EXPORT struct MHD_Response *
dtb_response_from_buffer_with_free_callback_cls(size_t size, const void *buffer,
                                                MHD_ContentReaderFreeCallback crfc, void *crfc_cls);

/*
 * Queues response for connection, running the toolbar's response filter: for an HTML document
 * served to an allowed client it queues a copy with the toolbar injected, Content-Length fixed
 * and the X-Debug-Toolbar-Id and Server-Timing headers added. The app's response object is never
 * queued-with-changes or destroyed by the library: the app still owns (and destroys) it.
 * Anything else is MHD_queue_response(connection, status_code, response).
 * Returns what MHD_queue_response returns.
 */
DTB_EXPORT enum MHD_Result dtb_queue_response(struct MHD_Connection *connection,
                                              unsigned int status_code,
                                              struct MHD_Response *response);

/* MHD_destroy_response; kept for symmetry with <debugtoolbar/mhd.h>. */
DTB_EXPORT void dtb_destroy_response(struct MHD_Response *response);

/* MHD_create_response_from_fd, _fd64, _fd_at_offset, _fd_at_offset64: the same response
 * (read with pread at the offset, the fd closed when MHD frees the response), remembered so an
 * HTML file under the size cap gets the toolbar. While a toolbar is on MHD serves them without
 * sendfile(). */
DTB_EXPORT struct MHD_Response *dtb_response_from_fd(size_t size, int fd);
DTB_EXPORT struct MHD_Response *dtb_response_from_fd64(uint64_t size, int fd);
DTB_EXPORT struct MHD_Response *dtb_response_from_fd_at_offset(size_t size, int fd, off_t offset);
DTB_EXPORT struct MHD_Response *dtb_response_from_fd_at_offset64(uint64_t size, int fd,
                                                                 uint64_t offset);

/* MHD_create_response_from_callback and MHD_create_response_from_pipe (same arguments, same
 * meaning), remembered as streams: an HTML page they produce gets the toolbar as it streams by,
 * right before its real </body> (or at its end), with the app's bytes otherwise passed through
 * as they come. A known size grows by the toolbar's markup. The app's reader, its closure and
 * its free callback keep their meaning (the free callback runs once, when MHD is done with both
 * the app's response and the toolbar's copy of it). */
DTB_EXPORT struct MHD_Response *dtb_response_from_callback(uint64_t size, size_t block_size,
                                                           MHD_ContentReaderCallback crc,
                                                           void *crc_cls,
                                                           MHD_ContentReaderFreeCallback crfc);
DTB_EXPORT struct MHD_Response *dtb_response_from_pipe(int fd);

/* MHD_create_response_from_data (deprecated by MHD), remembering the body like the above. */
DTB_EXPORT struct MHD_Response *dtb_response_from_data(size_t size, void *data, int must_free,
                                                       int must_copy);

/*
 * MHD_set_response_options(response, flags, MHD_RO_END), remembering the flags so that the copy
 * the toolbar queues in place of a response (to inject or to add its headers) carries them too:
 * MHD has no way to read them back. Returns what MHD returns.
 */
DTB_EXPORT enum MHD_Result dtb_response_set_flags(struct MHD_Response *response,
                                                  enum MHD_ResponseFlags flags);

/*
 * The request being served on this thread, or NULL (toolbar off for this client, or not inside
 * the app's handler). Borrowed: valid only until the handler returns.
 */
DTB_EXPORT struct dtb_request *dtb_request_current(void);

/*
 * For apps that serve a request from their own thread (MHD_suspend_connection): attach the
 * request to the calling thread before recording, detach after. Returns the previous current
 * request, to be passed to dtb_request_detach. rq may be NULL (then nothing is recorded).
 */
DTB_EXPORT struct dtb_request *dtb_request_attach(struct dtb_request *rq);
DTB_EXPORT void dtb_request_detach(struct dtb_request *previous);

/* The request's id (16 hex digits). Borrowed for the request's lifetime. */
DTB_EXPORT const char *dtb_request_id(const struct dtb_request *rq);

/*
 * Declares a piece of the app's own config for the Config panel. value is copied; keys named
 * like secrets (password, token, ...) are shown redacted. Call before or after start; any
 * thread. Returns DTB_OK, DTB_EINVAL or DTB_ENOMEM.
 */
DTB_EXPORT dtb_rc dtb_config_set(struct dtb_toolbar *tb, const char *key, const json_t *value);

#ifdef __cplusplus
}
#endif

#endif /* DEBUGTOOLBAR_H */
