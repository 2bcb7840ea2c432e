/*
 * respmap.c - the dtb_ response constructors and the table that remembers their bodies.
 *
 * MHD offers no way to read a response's body back, so the toolbar builds buffer responses
 * itself (same signatures as MHD's) through MHD_create_response_from_buffer_with_free_callback_cls,
 * and keeps (response -> body) in a hash table. The entry is removed by that free callback,
 * i.e. exactly when MHD destroys the response, so a stale pointer can never be looked up.
 * When no toolbar is enabled in the process the constructors are MHD's own calls.
 * Not handled here: callback, fd, iovec and pipe responses (they pass through untouched).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

/* MHD calls this when it destroys the response. */
static void entry_free_cb(void *cls)
{
    struct body_entry *e = cls;
    pthread_mutex_lock(&map_lock);
    for (struct body_entry **pp = &buckets[bucket_of(e->response)]; *pp != NULL;
         pp = &(*pp)->next) {
        if (*pp == e) {
            *pp = e->next;
            break;
        }
    }
    pthread_mutex_unlock(&map_lock);
    if (e->app_cb != NULL)
        e->app_cb(e->app_cb_cls);
    free(e->to_free);
    free(e);
}

/* Builds the response and registers its body. When the entry cannot be allocated the response
 * is still built, untracked (no toolbar in it): the app never loses its response to the toolbar.
 * to_free is ours to free (or the app's MUST_FREE buffer); app_cb the app's own free callback. */
static struct MHD_Response *create_tracked(size_t size, const void *data, void *to_free,
                                           MHD_ContentReaderFreeCallback app_cb,
                                           void *app_cb_cls)
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
    pthread_mutex_lock(&map_lock);
    size_t b = bucket_of(r);
    e->next = buckets[b];
    buckets[b] = e;
    pthread_mutex_unlock(&map_lock);
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

int dtbi_respmap_lookup(struct MHD_Response *r, const void **data, size_t *size,
                        enum MHD_ResponseFlags *flags)
{
    pthread_mutex_lock(&map_lock);
    struct body_entry *e = find_entry(r);
    if (e != NULL) {
        *data = e->data;
        *size = e->size;
        *flags = e->flags;
    }
    pthread_mutex_unlock(&map_lock);
    return e != NULL;
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

static int tracking(void)
{
    return atomic_load_explicit(&dtbi_active_toolbars, memory_order_relaxed) > 0;
}

struct MHD_Response *dtb_response_from_buffer(size_t size, void *buffer,
                                              enum MHD_ResponseMemoryMode mode)
{
    DTBI_TOOLBAR_SCOPE();
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

struct MHD_Response *dtb_response_from_buffer_with_free_callback_cls(
    size_t size, const void *buffer, MHD_ContentReaderFreeCallback crfc, void *crfc_cls)
{
    DTBI_TOOLBAR_SCOPE();
    if (!tracking())
        return dtbi_real()->from_buffer_with_free_callback_cls(size, (void *)(uintptr_t)buffer, crfc,
                                                                       crfc_cls);
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
