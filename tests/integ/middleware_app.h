/*
 * middleware_app.h - shared by the middleware's integration tests: a small MHD app (pages,
 * JSON, fragments, streams, files, pipes, redirects, a reused response) wrapped by the
 * toolbar on an ephemeral loopback port in one of MHD's threading modes, spoken to over real
 * HTTP with libcurl.
 */
#ifndef DTB_TEST_MIDDLEWARE_APP_H
#define DTB_TEST_MIDDLEWARE_APP_H

#include <stdatomic.h>

#include <debugtoolbar.h>
#include <debugtoolbar/mhd.h>
#include <microhttpd.h>

#include "http.h"

#define LARGE_LINES 200000 /* a 3.6 MB page */
#define ROOT_TAG "<dtb-toolbar id=\"dtb-root\""
#define BIGFD_SIZE ((size_t)17 << 20) /* /bigfd: a 17 MiB HTML file */

extern const char PAGE[];      /* /page and /form: the toolbar goes before its real </body> */
extern const char JSON_BODY[]; /* /json */
/* /s/<page>...: the pages streamed by a content reader (see middleware_app.c) */
extern const char *const STREAM_PAGES[];
extern atomic_int completed_calls;              /* the app's completion callback's calls */
extern atomic_int req_cls_mismatch;             /* requests where the app saw a value not its own */
extern atomic_int stream_frees, stream_bad_cls; /* the stream reader's frees, bad closures */
extern struct MHD_Response *reused;             /* /reused: created once, queued on every request */
extern const char *ENABLED;                     /* the config of an enabled toolbar */
extern int g_mode;                              /* the threading mode of the one-mode tests */

struct server {
    struct dtb_toolbar *tb;
    struct MHD_Daemon *d;
    char base[64];
};

/* Starts the app wrapped by a toolbar with config: mode 0 MHD's internal polling thread, 1 a
 * thread per connection, 2 a pool of 3 threads. */
void server_start(struct server *s, const char *config, int mode);
void server_stop(struct server *s);
/* GETs (or sends method to) s's base + path into r; 0, or -1 on a transport error. */
int get(struct server *s, const char *path, struct http_resp *r);
int req(struct server *s, const char *method, const char *path, const char *const *hdrs,
        const char *body, struct http_resp *r);
/* The stored record for id, waiting for completion (stored after the last byte is sent). */
int get_record(struct server *s, const char *id, struct http_resp *r);

#endif
