/*
 * respmap.c - the dtb_ response constructors and the table that remembers their bodies.
 *
 * MHD offers no way to read a response's body back, so the toolbar builds buffer responses
 * itself (same signatures as MHD's) through MHD_create_response_from_buffer_with_free_callback_cls,
 * and keeps (response -> body) in a hash table. The entry is removed by that free callback,
 * i.e. exactly when MHD destroys the response, so a stale pointer can never be looked up.
 * When no toolbar is enabled in the process the constructors are MHD's own calls.
 *
 * File-descriptor responses are built as a callback response whose reader does what MHD's own
 * does (pread at the response's offset, never moving the file offset; the fd closed when MHD
 * frees the response), so the filter can read an HTML file's bytes the same way. The cost: MHD
 * does not use sendfile() for them while a toolbar is on.
 * Content-reader callback and pipe responses are remembered as streams: the app's reader and its
 * closure (a pipe gets a reader of ours that reads it to its end), held while a streaming copy of
 * the filter's (stream.c) still reads through them. The app's free callback runs once, when the
 * last of the two responses is gone. Not handled here: iovec responses (they pass through).
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

atomic_int dtbi_active_toolbars;

struct body_entry {
    struct body_entry *next;
    struct MHD_Response *response;
    const void *data;
    size_t size;
    void *to_free;                        /* our copy or the app's MUST_FREE buffer */
    MHD_ContentReaderFreeCallback app_cb; /* the app's own free callback, if any */
    void *app_cb_cls;
    enum MHD_ResponseFlags flags; /* set through dtb_response_set_flags */
    int fd;                       /* a file-descriptor response's fd (ours to close), or -1 */
    uint64_t fd_offset;
    int stream; /* a stream: reader (the app's, or ours for a pipe or file) and its closure */
    MHD_ContentReaderCallback reader;
    void *reader_cls;
    size_t block;
    unsigned holds; /* responses of the filter that send these bytes too (map_lock) */
    int gone;       /* the app's response is destroyed; the last hold frees (map_lock) */
};

#define NBUCKETS 1024
static struct body_entry *buckets[NBUCKETS];
static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t bucket_of(const struct MHD_Response *r)
{
    uintptr_t p = (uintptr_t)r;
    p ^= p >> 17;
    p *= (uintptr_t)0x9E3779B97F4A7C15ULL;
    return (size_t)(p >> 7) % NBUCKETS;
}

static int tracking(void)
{
    return atomic_load_explicit(&dtbi_active_toolbars, memory_order_relaxed) > 0;
}

/* Frees what the entry owns: the body (through the app's callback or ours), the fd, itself. */
static void entry_free(struct body_entry *e)
{
    if (e->app_cb != NULL)
        e->app_cb(e->app_cb_cls);
    if (e->fd >= 0)
        close(e->fd);
    free(e->to_free);
    free(e);
}

/* MHD calls this when it destroys the response. The body outlives it while a copy the filter
 * queued still sends those bytes (dtbi_respmap_hold). */
static void entry_free_cb(void *cls)
{
    struct body_entry *e = cls;
    int held;
    pthread_mutex_lock(&map_lock);
    for (struct body_entry **pp = &buckets[bucket_of(e->response)]; *pp != NULL;
         pp = &(*pp)->next) {
        if (*pp == e) {
            *pp = e->next;
            break;
        }
    }
    e->gone = 1;
    held = e->holds > 0;
    pthread_mutex_unlock(&map_lock);
    if (!held)
        entry_free(e);
}

void dtbi_respmap_release(void *hold)
{
    struct body_entry *e = hold;
    int last;
    if (e == NULL)
        return;
    pthread_mutex_lock(&map_lock);
    last = --e->holds == 0 && e->gone;
    pthread_mutex_unlock(&map_lock);
    if (last)
        entry_free(e);
}

/* Adds e (response set) to the table. */
static void entry_insert(struct body_entry *e)
{
    pthread_mutex_lock(&map_lock);
    size_t b = bucket_of(e->response);
    e->next = buckets[b];
    buckets[b] = e;
    pthread_mutex_unlock(&map_lock);
}

/* Builds the response and registers its body. When the entry cannot be allocated the response
 * is still built, untracked (no toolbar in it): the app never loses its response to the toolbar.
 * to_free is ours to free (or the app's MUST_FREE buffer); app_cb the app's own free callback. */
static struct MHD_Response *create_tracked(size_t size, const void *data, void *to_free,
                                           MHD_ContentReaderFreeCallback app_cb, void *app_cb_cls)
{
    struct body_entry *e = calloc(1, sizeof(*e));
    struct MHD_Response *r;
    if (e == NULL) {
        if (app_cb != NULL)
            return dtbi_real()->from_buffer_with_free_callback_cls(size, (void *)(uintptr_t)data,
                                                                   app_cb, app_cb_cls);
        return dtbi_real()->from_buffer_with_free_callback_cls(
            size, (void *)(uintptr_t)data, to_free != NULL ? free : NULL, to_free);
    }
    e->fd = -1;
    e->data = data;
    e->size = size;
    e->to_free = to_free;
    e->app_cb = app_cb;
    e->app_cb_cls = app_cb_cls;
    r = dtbi_real()->from_buffer_with_free_callback_cls(size, (void *)(uintptr_t)data,
                                                        entry_free_cb, e);
    if (r == NULL) {
        free(to_free);
        free(e);
        return NULL;
    }
    e->response = r;
    entry_insert(e);
    if (to_free != NULL)
        dtbi_mem_handover(to_free); /* freed by MHD, once sent, perhaps after the request */
    return r;
}

/* The entry of r, or NULL. Lock held. */
static struct body_entry *find_entry(const struct MHD_Response *r)
{
    for (struct body_entry *e = buckets[bucket_of(r)]; e != NULL; e = e->next)
        if (e->response == r)
            return e;
    return NULL;
}

void *dtbi_respmap_hold(struct MHD_Response *r, const void **data, size_t *size,
                        enum MHD_ResponseFlags *flags)
{
    pthread_mutex_lock(&map_lock);
    struct body_entry *e = find_entry(r);
    if (e != NULL && e->fd < 0 && !e->stream) {
        *data = e->data;
        *size = e->size;
        *flags = e->flags;
        e->holds++;
    } else {
        e = NULL;
    }
    pthread_mutex_unlock(&map_lock);
    return e;
}

static ssize_t fd_reader(void *cls, uint64_t pos, char *buf, size_t max);

int dtbi_respmap_lookup_fd(struct MHD_Response *r, int *fd, uint64_t *offset, uint64_t *size,
                           enum MHD_ResponseFlags *flags)
{
    pthread_mutex_lock(&map_lock);
    struct body_entry *e = find_entry(r);
    int found = e != NULL && e->fd >= 0 && e->reader == fd_reader;
    if (found) {
        *fd = e->fd;
        *offset = e->fd_offset;
        *size = e->size;
        *flags = e->flags;
    }
    pthread_mutex_unlock(&map_lock);
    return found;
}

/* MHD's own file reader, on our entry: pread at the response's offset. */
static ssize_t fd_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct body_entry *e = cls;
    ssize_t n;
    if (pos + e->fd_offset > (uint64_t)INT64_MAX)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    if (max > SSIZE_MAX)
        max = SSIZE_MAX;
    do
        n = pread(e->fd, buf, max, (off_t)(pos + e->fd_offset));
    while (n < 0 && errno == EINTR);
    if (n <= 0) /* the file is shorter than the response says, or unreadable */
        return MHD_CONTENT_READER_END_WITH_ERROR;
    return n;
}

/* Block size MHD uses for its own file responses (MHD_FILE_READ_BLOCK_SIZE). */
#define FD_BLOCK_SIZE (16 * 1024)

struct MHD_Response *dtb_response_from_fd_at_offset64(uint64_t size, int fd, uint64_t offset)
{
    struct body_entry *e;
    struct MHD_Response *r;
    /* No toolbar on: MHD's own (under dtb-run the shim is then off and passes this through) */
    if (!tracking())
        return MHD_create_response_from_fd_at_offset64(size, fd, offset);
    /* MHD's own checks: the response's last byte must be addressable */
    if ((int64_t)size < 0 || (int64_t)offset < 0 || (int64_t)(size + offset) < 0)
        return NULL;
    e = calloc(1, sizeof(*e));
    if (e == NULL) /* untracked: MHD's own (no toolbar in it) */
        return MHD_create_response_from_fd_at_offset64(size, fd, offset);
    e->fd = fd;
    e->fd_offset = offset;
    e->size = (size_t)size;
    e->stream = 1;
    e->reader = fd_reader;
    e->reader_cls = e;
    e->block = FD_BLOCK_SIZE;
    r = dtbi_real()->from_callback(size, FD_BLOCK_SIZE, fd_reader, e, entry_free_cb);
    if (r == NULL) {
        free(e); /* like MHD: the fd stays the app's when no response was made */
        return NULL;
    }
    e->response = r;
    entry_insert(e);
    return r;
}

/* The app's reader, called through the entry (MHD gives its free callback the reader's
 * closure: the entry's, so that the app's free callback can wait for the last hold). */
static ssize_t app_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct body_entry *e = cls;
    return e->reader(e->reader_cls, pos, buf, max);
}

/* A pipe read to its end (MHD's own pipe response does the same); the fd closed on free. */
static ssize_t pipe_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct body_entry *e = cls;
    ssize_t n;
    (void)pos;
    if (max > SSIZE_MAX)
        max = SSIZE_MAX;
    do
        n = read(e->fd, buf, max);
    while (n < 0 && errno == EINTR);
    if (n == 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (n < 0)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    return n;
}

struct MHD_Response *dtb_response_from_callback(uint64_t size, size_t block_size,
                                                MHD_ContentReaderCallback crc, void *crc_cls,
                                                MHD_ContentReaderFreeCallback crfc)
{
    struct body_entry *e;
    struct MHD_Response *r;
    if (!tracking() || crc == NULL)
        return dtbi_real()->from_callback(size, block_size, crc, crc_cls, crfc);
    e = calloc(1, sizeof(*e));
    if (e == NULL) /* untracked: MHD's own (no toolbar in it) */
        return dtbi_real()->from_callback(size, block_size, crc, crc_cls, crfc);
    e->fd = -1;
    e->stream = 1;
    e->reader = crc;
    e->reader_cls = crc_cls;
    e->block = block_size;
    e->size = (size_t)size;
    e->app_cb = crfc;
    e->app_cb_cls = crc_cls;
    r = dtbi_real()->from_callback(size, block_size, app_reader, e, entry_free_cb);
    if (r == NULL) {
        free(e); /* like MHD: nothing was taken over */
        return NULL;
    }
    e->response = r;
    entry_insert(e);
    return r;
}

struct MHD_Response *dtb_response_from_pipe(int fd)
{
    struct body_entry *e;
    struct MHD_Response *r;
    if (!tracking())
        return dtbi_real()->from_pipe(fd);
    e = calloc(1, sizeof(*e));
    if (e == NULL)
        return dtbi_real()->from_pipe(fd);
    e->fd = fd;
    e->stream = 1;
    e->reader = pipe_reader;
    e->reader_cls = e;
    e->block = 4096; /* MHD's own pipe block (MHD_FILE_READ_BLOCK_SIZE is for files) */
    e->size = (size_t)MHD_SIZE_UNKNOWN;
    r = dtbi_real()->from_callback(MHD_SIZE_UNKNOWN, e->block, pipe_reader, e, entry_free_cb);
    if (r == NULL) {
        free(e); /* the fd stays the app's */
        return NULL;
    }
    e->response = r;
    entry_insert(e);
    return r;
}

void *dtbi_respmap_hold_stream(struct MHD_Response *r, struct dtbi_stream_src *src,
                               enum MHD_ResponseFlags *flags)
{
    pthread_mutex_lock(&map_lock);
    struct body_entry *e = find_entry(r);
    if (e != NULL && e->stream) {
        src->reader = e->reader;
        src->cls = e->reader_cls;
        src->size = (uint64_t)e->size; /* MHD_SIZE_UNKNOWN for a pipe, or as the app said */
        src->block = e->block;
        *flags = e->flags;
        e->holds++;
    } else {
        e = NULL;
    }
    pthread_mutex_unlock(&map_lock);
    return e;
}

struct MHD_Response *dtb_response_from_fd_at_offset(size_t size, int fd, off_t offset)
{
    if (offset < 0)
        return NULL;
    return dtb_response_from_fd_at_offset64(size, fd, (uint64_t)offset);
}

struct MHD_Response *dtb_response_from_fd64(uint64_t size, int fd)
{
    return dtb_response_from_fd_at_offset64(size, fd, 0);
}

struct MHD_Response *dtb_response_from_fd(size_t size, int fd)
{
    return dtb_response_from_fd_at_offset64(size, fd, 0);
}

enum MHD_Result dtb_response_set_flags(struct MHD_Response *response, enum MHD_ResponseFlags flags)
{
    enum MHD_Result rc = dtbi_real()->set_response_options(response, flags, MHD_RO_END);
    if (rc != MHD_YES)
        return rc;
    pthread_mutex_lock(&map_lock);
    struct body_entry *e = find_entry(response);
    if (e != NULL)
        e->flags = flags;
    pthread_mutex_unlock(&map_lock);
    return rc;
}

struct MHD_Response *dtb_response_from_buffer(size_t size, void *buffer,
                                              enum MHD_ResponseMemoryMode mode)
{
    DTB_TOOLBAR_SCOPE();
    void *copy;
    if (!tracking())
        return dtbi_real()->from_buffer(size, buffer, mode);
    switch (mode) {
    case MHD_RESPMEM_PERSISTENT:
        return create_tracked(size, buffer, NULL, NULL, NULL);
    case MHD_RESPMEM_MUST_FREE:
        return create_tracked(size, buffer, buffer, NULL, NULL);
    case MHD_RESPMEM_MUST_COPY:
        copy = malloc(size > 0 ? size : 1);
        if (copy == NULL) /* MHD copies it itself, untracked */
            return dtbi_real()->from_buffer(size, buffer, mode);
        if (size > 0)
            memcpy(copy, buffer, size);
        return create_tracked(size, copy, copy, NULL, NULL);
    }
    return dtbi_real()->from_buffer(size, buffer, mode);
}

struct MHD_Response *dtb_response_from_buffer_static(size_t size, const void *buffer)
{
    return dtb_response_from_buffer(size, (void *)buffer, MHD_RESPMEM_PERSISTENT);
}

struct MHD_Response *dtb_response_from_buffer_copy(size_t size, const void *buffer)
{
    return dtb_response_from_buffer(size, (void *)buffer, MHD_RESPMEM_MUST_COPY);
}

struct MHD_Response *dtb_response_from_buffer_with_free_callback(size_t size, void *buffer,
                                                                 MHD_ContentReaderFreeCallback crfc)
{
    return dtb_response_from_buffer_with_free_callback_cls(size, buffer, crfc, buffer);
}

struct MHD_Response *
dtb_response_from_buffer_with_free_callback_cls(size_t size, const void *buffer,
                                                MHD_ContentReaderFreeCallback crfc, void *crfc_cls)
{
    DTB_TOOLBAR_SCOPE();
    if (!tracking())
        return dtbi_real()->from_buffer_with_free_callback_cls(size, (void *)(uintptr_t)buffer,
                                                               crfc, crfc_cls);
    return create_tracked(size, buffer, NULL, crfc, crfc_cls);
}

void dtb_destroy_response(struct MHD_Response *response)
{
    dtbi_real()->destroy_response(response);
}

struct MHD_Response *dtb_response_from_data(size_t size, void *data, int must_free, int must_copy)
{
    if (must_copy)
        return dtb_response_from_buffer(size, data, MHD_RESPMEM_MUST_COPY);
    return dtb_response_from_buffer(size, data,
                                    must_free ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
}
