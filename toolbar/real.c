/*
 * real.c - the MHD and SQLite functions the toolbar itself calls, taken from their libraries.
 *
 * Under dtb-run a preloaded shim defines MHD_start_daemon, MHD_queue_response, the buffer
 * response constructors and sqlite3_open and sqlite3_close to put the toolbar in front of an
 * unmodified program. The toolbar's own calls to those functions must reach the libraries, never
 * the shim (that would wrap twice or recurse), whatever the link order. So they go through this
 * table, filled once from the very library that defines a function the shim never replaces (dladdr
 * of MHD_get_version / sqlite3_libversion, dlopen with RTLD_NOLOAD, dlsym on that handle, which
 * searches that library, not the global scope). Without a shim the table holds the same functions a
 * direct call would reach. Every call made through the table is marked on the thread
 * (dtb_preload_passthrough) for the shim.
 */
#include <dlfcn.h>
#include <pthread.h>

#include "debugtoolbar/sql.h"
#include "internal.h"

/* The libraries' functions, and the table of guarded calls the toolbar uses. */
static struct dtbi_real_api lib = {
    .start_daemon_va = MHD_start_daemon_va,
    .queue_response = MHD_queue_response,
    .from_buffer = MHD_create_response_from_buffer,
    .from_buffer_with_free_callback = MHD_create_response_from_buffer_with_free_callback,
    .from_buffer_with_free_callback_cls = MHD_create_response_from_buffer_with_free_callback_cls,
    .from_iovec = MHD_create_response_from_iovec,
    .from_callback = MHD_create_response_from_callback,
    .from_pipe = MHD_create_response_from_pipe,
    .destroy_response = MHD_destroy_response,
    .set_response_options = MHD_set_response_options,
    .sqlite3_open_v2 = sqlite3_open_v2,
    .sqlite3_close = sqlite3_close,
};

/* > 0 while this thread is inside one of those functions on the toolbar's behalf: libmicrohttpd
 * calls some of its own exported functions through its PLT (one constructor calls another),
 * and a preloaded shim that catches such a call must pass it straight through. */
static _Thread_local int depth;

int dtb_preload_passthrough(void)
{
    return depth > 0;
}

static struct MHD_Daemon *g_start_daemon_va(unsigned int flags, uint16_t port,
                                            MHD_AcceptPolicyCallback apc, void *apc_cls,
                                            MHD_AccessHandlerCallback dh, void *dh_cls, va_list ap)
{
    depth++;
    struct MHD_Daemon *d = lib.start_daemon_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
    depth--;
    return d;
}

static enum MHD_Result g_queue_response(struct MHD_Connection *c, unsigned int status,
                                        struct MHD_Response *r)
{
    depth++;
    enum MHD_Result ret = lib.queue_response(c, status, r);
    depth--;
    return ret;
}

static struct MHD_Response *g_from_buffer(size_t size, void *buf, enum MHD_ResponseMemoryMode m)
{
    depth++;
    struct MHD_Response *r = lib.from_buffer(size, buf, m);
    depth--;
    return r;
}

static struct MHD_Response *g_from_buffer_with_free_callback(size_t size, void *buf,
                                                             MHD_ContentReaderFreeCallback cb)
{
    depth++;
    struct MHD_Response *r = lib.from_buffer_with_free_callback(size, buf, cb);
    depth--;
    return r;
}

static struct MHD_Response *g_from_buffer_with_free_callback_cls(size_t size, void *buf,
                                                                 MHD_ContentReaderFreeCallback cb,
                                                                 void *cls)
{
    depth++;
    struct MHD_Response *r = lib.from_buffer_with_free_callback_cls(size, buf, cb, cls);
    depth--;
    return r;
}

static struct MHD_Response *g_from_iovec(const struct MHD_IoVec *iov, unsigned int n,
                                         MHD_ContentReaderFreeCallback cb, void *cls)
{
    depth++;
    struct MHD_Response *r = lib.from_iovec(iov, n, cb, cls);
    depth--;
    return r;
}

static struct MHD_Response *g_from_callback(uint64_t size, size_t block,
                                            MHD_ContentReaderCallback crc, void *cls,
                                            MHD_ContentReaderFreeCallback crfc)
{
    depth++;
    struct MHD_Response *r = lib.from_callback(size, block, crc, cls, crfc);
    depth--;
    return r;
}

static struct MHD_Response *g_from_pipe(int fd)
{
    depth++;
    struct MHD_Response *r = lib.from_pipe(fd);
    depth--;
    return r;
}

static void g_destroy_response(struct MHD_Response *r)
{
    depth++;
    lib.destroy_response(r);
    depth--;
}

/* libmicrohttpd 0.9.75 knows no response option but MHD_RO_END. */
static enum MHD_Result g_set_response_options(struct MHD_Response *r, enum MHD_ResponseFlags f, ...)
{
    depth++;
    enum MHD_Result ret = lib.set_response_options(r, f, MHD_RO_END);
    depth--;
    return ret;
}

static int g_sqlite3_open_v2(const char *file, sqlite3 **db, int flags, const char *vfs)
{
    depth++;
    int rc = lib.sqlite3_open_v2(file, db, flags, vfs);
    depth--;
    return rc;
}

static int g_sqlite3_close(sqlite3 *db)
{
    depth++;
    int rc = lib.sqlite3_close(db);
    depth--;
    return rc;
}

static const struct dtbi_real_api guarded = {
    .start_daemon_va = g_start_daemon_va,
    .queue_response = g_queue_response,
    .from_buffer = g_from_buffer,
    .from_buffer_with_free_callback = g_from_buffer_with_free_callback,
    .from_buffer_with_free_callback_cls = g_from_buffer_with_free_callback_cls,
    .from_iovec = g_from_iovec,
    .from_callback = g_from_callback,
    .from_pipe = g_from_pipe,
    .destroy_response = g_destroy_response,
    .set_response_options = g_set_response_options,
    .sqlite3_open_v2 = g_sqlite3_open_v2,
    .sqlite3_close = g_sqlite3_close,
};

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void *library_of(void *symbol)
{
    Dl_info info;
    if (dladdr(symbol, &info) == 0 || info.dli_fname == NULL)
        return NULL;
    return dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
}

#define TAKE(handle, field, name)                                                                  \
    do {                                                                                           \
        void *p_ = (handle) != NULL ? dlsym((handle), (name)) : NULL;                              \
        if (p_ != NULL)                                                                            \
            *(void **)&lib.field = p_;                                                             \
    } while (0)

static void resolve(void)
{
    void *mhd = library_of((void *)&MHD_get_version);
    void *sq = library_of((void *)&sqlite3_libversion);
    TAKE(mhd, start_daemon_va, "MHD_start_daemon_va");
    TAKE(mhd, queue_response, "MHD_queue_response");
    TAKE(mhd, from_buffer, "MHD_create_response_from_buffer");
    TAKE(mhd, from_buffer_with_free_callback, "MHD_create_response_from_buffer_with_free_callback");
    TAKE(mhd, from_buffer_with_free_callback_cls,
         "MHD_create_response_from_buffer_with_free_callback_cls");
    TAKE(mhd, from_iovec, "MHD_create_response_from_iovec");
    TAKE(mhd, from_callback, "MHD_create_response_from_callback");
    TAKE(mhd, from_pipe, "MHD_create_response_from_pipe");
    TAKE(mhd, destroy_response, "MHD_destroy_response");
    TAKE(mhd, set_response_options, "MHD_set_response_options");
    TAKE(sq, sqlite3_open_v2, "sqlite3_open_v2");
    TAKE(sq, sqlite3_close, "sqlite3_close");
    /* the handles stay open: the libraries are loaded for the life of the process anyway */
}

const struct dtbi_real_api *dtbi_real(void)
{
    pthread_once(&once, resolve);
    return &guarded;
}

int dtb_sqlite_open_untraced(const char *file, sqlite3 **db, int flags)
{
    return dtbi_real()->sqlite3_open_v2(file, db, flags, NULL);
}

int dtb_sqlite_close_untraced(sqlite3 *db)
{
    return dtbi_real()->sqlite3_close(db);
}
