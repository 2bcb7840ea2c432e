/*
 * preload.c - libdebugtoolbar-preload.so, the shim dtb-run preloads into an unmodified
 * libmicrohttpd program to put the toolbar in it without recompiling.
 *
 * It defines, in front of the libraries:
 *   MHD_start_daemon, MHD_start_daemon_va   the daemon is started through dtb_start_daemon_va
 *                                           (access handler wrapped, lifecycle hooks added; the
 *                                           program's own options, callbacks and req_cls kept)
 *   MHD_create_response_from_buffer, _from_data, _with_free_callback, _with_free_callback_cls
 *                                           the body is remembered (until MHD frees the response)
 *   MHD_create_response_from_fd, _fd64, _fd_at_offset, _fd_at_offset64
 *                                           the file is remembered (read with pread when HTML)
 *   MHD_create_response_from_callback, _from_pipe
 *                                           remembered as streams (injected as they stream by)
 *   MHD_queue_response                      the toolbar's filter (inject, add its headers)
 *   MHD_set_response_options                the flags are remembered for the injected copy
 *   sqlite3_open, sqlite3_open_v2, sqlite3_open16, sqlite3_close, sqlite3_close_v2
 *                                           SQL capture attached to every connection
 * and passes everything else to the real functions (dlsym RTLD_NEXT). The toolbar's own calls
 * to these functions never come back here (see toolbar/real.c), so a program that links the
 * library and calls dtb_ functions itself is not wrapped twice.
 *
 * The config comes from DTB_CONFIG and the DTB_* variables (dtb-run sets them from --config and
 * --enable). With the toolbar off the shim calls the real functions and adds nothing.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <microhttpd.h>
#include <sqlite3.h>

#include <debugtoolbar.h>
#include <debugtoolbar/sql.h>

#include "internal.h" /* dtb_preload_passthrough, exported by the library for this shim only */

/* A deprecated macro in microhttpd.h, still a function in the library programs may call */
#undef MHD_create_response_from_fd_at_offset
struct MHD_Response *MHD_create_response_from_fd_at_offset(size_t size, int fd, off_t offset);

static struct {
    struct MHD_Daemon *(*start_daemon_va)(unsigned int, uint16_t, MHD_AcceptPolicyCallback, void *,
                                          MHD_AccessHandlerCallback, void *, va_list);
    enum MHD_Result (*queue_response)(struct MHD_Connection *, unsigned int, struct MHD_Response *);
    enum MHD_Result (*set_response_options)(struct MHD_Response *, enum MHD_ResponseFlags, ...);
    struct MHD_Response *(*from_buffer)(size_t, void *, enum MHD_ResponseMemoryMode);
    struct MHD_Response *(*from_data)(size_t, void *, int, int);
    struct MHD_Response *(*from_buffer_with_free_callback)(size_t, void *,
                                                           MHD_ContentReaderFreeCallback);
    struct MHD_Response *(*from_buffer_with_free_callback_cls)(size_t, void *,
                                                               MHD_ContentReaderFreeCallback,
                                                               void *);
    struct MHD_Response *(*from_fd)(size_t, int);
    struct MHD_Response *(*from_fd64)(uint64_t, int);
    struct MHD_Response *(*from_fd_at_offset)(size_t, int, off_t);
    struct MHD_Response *(*from_fd_at_offset64)(uint64_t, int, uint64_t);
    struct MHD_Response *(*from_callback)(uint64_t, size_t, MHD_ContentReaderCallback, void *,
                                          MHD_ContentReaderFreeCallback);
    struct MHD_Response *(*from_pipe)(int);
    int (*sqlite3_open)(const char *, sqlite3 **);
    int (*sqlite3_open_v2)(const char *, sqlite3 **, int, const char *);
    int (*sqlite3_open16)(const void *, sqlite3 **);
    int (*sqlite3_close)(sqlite3 *);
    int (*sqlite3_close_v2)(sqlite3 *);
} real;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static struct dtb_toolbar *tb; /* NULL: the toolbar is off and the shim only passes through */
/* Set while this thread is inside the toolbar on the shim's behalf. libmicrohttpd calls some of
 * its own exported functions through its PLT (MHD_start_daemon calls MHD_start_daemon_va, a
 * constructor calls another): those calls land here again and must go straight through. */
static _Thread_local int inside;

#define REAL(field, name) (*(void **)&real.field = dlsym(RTLD_NEXT, (name)))

static void init(void)
{
    struct dtb_error err = {0};
    char msg[512];
    REAL(start_daemon_va, "MHD_start_daemon_va");
    REAL(queue_response, "MHD_queue_response");
    REAL(set_response_options, "MHD_set_response_options");
    REAL(from_buffer, "MHD_create_response_from_buffer");
    REAL(from_data, "MHD_create_response_from_data");
    REAL(from_buffer_with_free_callback, "MHD_create_response_from_buffer_with_free_callback");
    REAL(from_buffer_with_free_callback_cls,
         "MHD_create_response_from_buffer_with_free_callback_cls");
    REAL(from_fd, "MHD_create_response_from_fd");
    REAL(from_fd64, "MHD_create_response_from_fd64");
    REAL(from_fd_at_offset, "MHD_create_response_from_fd_at_offset");
    REAL(from_fd_at_offset64, "MHD_create_response_from_fd_at_offset64");
    REAL(from_callback, "MHD_create_response_from_callback");
    REAL(from_pipe, "MHD_create_response_from_pipe");
    REAL(sqlite3_open, "sqlite3_open");
    REAL(sqlite3_open_v2, "sqlite3_open_v2");
    REAL(sqlite3_open16, "sqlite3_open16");
    REAL(sqlite3_close, "sqlite3_close");
    REAL(sqlite3_close_v2, "sqlite3_close_v2");
    struct dtb_toolbar *t = dtb_toolbar_create(NULL, &err);
    if (t == NULL || dtb_toolbar_start(t, &err) != DTB_OK) {
        /* the user asked for the toolbar: a config it cannot start with is an error */
        fprintf(stderr, "dtb-run: %s\n", dtb_error_format(&err, msg, sizeof(msg)));
        dtb_toolbar_destroy(t);
        exit(1);
    }
    if (!dtb_toolbar_enabled(t)) {
        dtb_toolbar_destroy(t);
        return;
    }
    tb = t;
}

/* 1 when the call is the program's own and the toolbar is on: then the shim steps in. */
static int on(void)
{
    if (inside || dtb_preload_passthrough())
        return 0;
    inside++;
    pthread_once(&once, init);
    inside--;
    return tb != NULL;
}

#define ENTER() (inside++)
#define LEAVE(v) (inside--, (v))

/* ---- libmicrohttpd ------------------------------------------------------------------------ */

struct MHD_Daemon *MHD_start_daemon_va(unsigned int flags, uint16_t port,
                                       MHD_AcceptPolicyCallback apc, void *apc_cls,
                                       MHD_AccessHandlerCallback dh, void *dh_cls, va_list ap)
{
    if (!on())
        return real.start_daemon_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
    ENTER();
    struct MHD_Daemon *d = dtb_start_daemon_va(tb, flags, port, apc, apc_cls, dh, dh_cls, ap);
    return LEAVE(d);
}

struct MHD_Daemon *MHD_start_daemon(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc,
                                    void *apc_cls, MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
    struct MHD_Daemon *d;
    va_list ap;
    va_start(ap, dh_cls);
    d = MHD_start_daemon_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
    va_end(ap);
    return d;
}

struct MHD_Response *MHD_create_response_from_buffer(size_t size, void *buffer,
                                                     enum MHD_ResponseMemoryMode mode)
{
    if (!on())
        return real.from_buffer(size, buffer, mode);
    ENTER();
    struct MHD_Response *r = dtb_response_from_buffer(size, buffer, mode);
    return LEAVE(r);
}

struct MHD_Response *MHD_create_response_from_data(size_t size, void *data, int must_free,
                                                   int must_copy)
{
    if (!on())
        return real.from_data(size, data, must_free, must_copy);
    ENTER();
    struct MHD_Response *r = dtb_response_from_data(size, data, must_free, must_copy);
    return LEAVE(r);
}

struct MHD_Response *
MHD_create_response_from_buffer_with_free_callback(size_t size, void *buffer,
                                                   MHD_ContentReaderFreeCallback crfc)
{
    if (!on())
        return real.from_buffer_with_free_callback(size, buffer, crfc);
    ENTER();
    struct MHD_Response *r = dtb_response_from_buffer_with_free_callback(size, buffer, crfc);
    return LEAVE(r);
}

struct MHD_Response *MHD_create_response_from_buffer_with_free_callback_cls(
    size_t size, void *buffer, MHD_ContentReaderFreeCallback crfc, void *crfc_cls)
{
    if (!on())
        return real.from_buffer_with_free_callback_cls(size, buffer, crfc, crfc_cls);
    ENTER();
    struct MHD_Response *r =
        dtb_response_from_buffer_with_free_callback_cls(size, buffer, crfc, crfc_cls);
    return LEAVE(r);
}

struct MHD_Response *MHD_create_response_from_fd(size_t size, int fd)
{
    if (!on())
        return real.from_fd(size, fd);
    ENTER();
    struct MHD_Response *r = dtb_response_from_fd(size, fd);
    return LEAVE(r);
}

struct MHD_Response *MHD_create_response_from_fd64(uint64_t size, int fd)
{
    if (!on())
        return real.from_fd64(size, fd);
    ENTER();
    struct MHD_Response *r = dtb_response_from_fd64(size, fd);
    return LEAVE(r);
}

struct MHD_Response *MHD_create_response_from_fd_at_offset(size_t size, int fd, off_t offset)
{
    if (!on())
        return real.from_fd_at_offset(size, fd, offset);
    ENTER();
    struct MHD_Response *r = dtb_response_from_fd_at_offset(size, fd, offset);
    return LEAVE(r);
}

struct MHD_Response *MHD_create_response_from_fd_at_offset64(uint64_t size, int fd, uint64_t offset)
{
    if (!on())
        return real.from_fd_at_offset64(size, fd, offset);
    ENTER();
    struct MHD_Response *r = dtb_response_from_fd_at_offset64(size, fd, offset);
    return LEAVE(r);
}

struct MHD_Response *MHD_create_response_from_callback(uint64_t size, size_t block_size,
                                                       MHD_ContentReaderCallback crc, void *crc_cls,
                                                       MHD_ContentReaderFreeCallback crfc)
{
    if (!on())
        return real.from_callback(size, block_size, crc, crc_cls, crfc);
    ENTER();
    struct MHD_Response *r = dtb_response_from_callback(size, block_size, crc, crc_cls, crfc);
    return LEAVE(r);
}

struct MHD_Response *MHD_create_response_from_pipe(int fd)
{
    if (!on())
        return real.from_pipe(fd);
    ENTER();
    struct MHD_Response *r = dtb_response_from_pipe(fd);
    return LEAVE(r);
}

enum MHD_Result MHD_queue_response(struct MHD_Connection *connection, unsigned int status_code,
                                   struct MHD_Response *response)
{
    if (!on())
        return real.queue_response(connection, status_code, response);
    ENTER();
    enum MHD_Result r = dtb_queue_response(connection, status_code, response);
    return LEAVE(r);
}

/* libmicrohttpd 0.9.75 knows no response option but MHD_RO_END: the list is not forwarded. */
enum MHD_Result MHD_set_response_options(struct MHD_Response *response,
                                         enum MHD_ResponseFlags flags, ...)
{
    if (!on())
        return real.set_response_options(response, flags, MHD_RO_END);
    ENTER();
    enum MHD_Result r = dtb_response_set_flags(response, flags);
    return LEAVE(r);
}

/* ---- SQLite ------------------------------------------------------------------------------- */

static int attach(int shim_on, int rc, sqlite3 *db)
{
    if (shim_on && rc == SQLITE_OK && db != NULL) {
        ENTER();
        dtb_sqlite_attach(db);
        inside--;
    }
    return rc;
}

int sqlite3_open(const char *filename, sqlite3 **db)
{
    int shim_on = on();
    int rc = real.sqlite3_open(filename, db); /* before *db is read */
    return attach(shim_on, rc, *db);
}

int sqlite3_open_v2(const char *filename, sqlite3 **db, int flags, const char *vfs)
{
    int shim_on = on();
    int rc = real.sqlite3_open_v2(filename, db, flags, vfs); /* before *db is read */
    return attach(shim_on, rc, *db);
}

int sqlite3_open16(const void *filename, sqlite3 **db)
{
    int shim_on = on();
    int rc = real.sqlite3_open16(filename, db); /* before *db is read */
    return attach(shim_on, rc, *db);
}

int sqlite3_close(sqlite3 *db)
{
    if (on() && db != NULL) {
        ENTER();
        dtb_sqlite_detach(db);
        inside--;
    }
    return real.sqlite3_close(db);
}

int sqlite3_close_v2(sqlite3 *db)
{
    if (on() && db != NULL) {
        ENTER();
        dtb_sqlite_detach(db);
        inside--;
    }
    return real.sqlite3_close_v2(db);
}
