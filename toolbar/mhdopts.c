/*
 * mhdopts.c - turns the app's MHD_start_daemon options (a va_list) into an MHD_OptionItem
 * array, so the toolbar can add its own lifecycle hooks and still pass every app option on.
 *
 * MHD keeps one NOTIFY_COMPLETED and one URI_LOG_CALLBACK per daemon, so the app's are taken
 * out (to be chained by the middleware) and ours are appended. Nested MHD_OPTION_ARRAYs are
 * flattened. An option this file does not know passes through unchanged when it comes in item
 * form (an MHD_OPTION_ARRAY entry describes itself); in the va_list its argument's size is
 * unknown, so the list cannot be read past it: the build fails, and the middleware starts the
 * app's daemon exactly as asked, without the toolbar (said in the log).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

enum arg_shape {
    SHAPE_UNKNOWN,
    SHAPE_SIZE,     /* size_t */
    SHAPE_UINT,     /* unsigned int */
    SHAPE_INT,      /* int or enum */
    SHAPE_PTR,      /* one pointer */
    SHAPE_TWO_PTR,  /* function pointer + closure */
    SHAPE_SIZE_PTR, /* size_t + pointer */
    SHAPE_SOCKET,   /* MHD_socket */
};

static enum arg_shape shape_of(enum MHD_OPTION opt)
{
    switch ((int)opt) {
    case MHD_OPTION_CONNECTION_MEMORY_LIMIT:
    case MHD_OPTION_THREAD_STACK_SIZE:
    case MHD_OPTION_CONNECTION_MEMORY_INCREMENT:
        return SHAPE_SIZE;
    case MHD_OPTION_CONNECTION_LIMIT:
    case MHD_OPTION_CONNECTION_TIMEOUT:
    case MHD_OPTION_PER_IP_CONNECTION_LIMIT:
    case MHD_OPTION_THREAD_POOL_SIZE:
    case MHD_OPTION_NONCE_NC_SIZE:
    case MHD_OPTION_TCP_FASTOPEN_QUEUE_SIZE:
    case MHD_OPTION_LISTENING_ADDRESS_REUSE:
    case MHD_OPTION_LISTEN_BACKLOG_SIZE:
    case MHD_OPTION_SERVER_INSANITY:
        return SHAPE_UINT;
    case MHD_OPTION_HTTPS_CRED_TYPE:
    case MHD_OPTION_STRICT_FOR_CLIENT:
    case MHD_OPTION_SIGPIPE_HANDLED_BY_APP:
    case MHD_OPTION_TLS_NO_ALPN:
        return SHAPE_INT;
    case MHD_OPTION_SOCK_ADDR:
    case MHD_OPTION_HTTPS_MEM_KEY:
    case MHD_OPTION_HTTPS_MEM_CERT:
    case MHD_OPTION_HTTPS_PRIORITIES:
    case MHD_OPTION_HTTPS_MEM_TRUST:
    case MHD_OPTION_HTTPS_CERT_CALLBACK:
    case MHD_OPTION_HTTPS_MEM_DHPARAMS:
    case MHD_OPTION_HTTPS_KEY_PASSWORD:
    case MHD_OPTION_HTTPS_CERT_CALLBACK2:
        return SHAPE_PTR;
    case MHD_OPTION_NOTIFY_COMPLETED:
    case MHD_OPTION_URI_LOG_CALLBACK:
    case MHD_OPTION_EXTERNAL_LOGGER:
    case MHD_OPTION_UNESCAPE_CALLBACK:
    case MHD_OPTION_NOTIFY_CONNECTION:
    case MHD_OPTION_GNUTLS_PSK_CRED_HANDLER:
        return SHAPE_TWO_PTR;
    case MHD_OPTION_DIGEST_AUTH_RANDOM:
        return SHAPE_SIZE_PTR;
    case MHD_OPTION_LISTEN_SOCKET:
        return SHAPE_SOCKET;
    default:
        return SHAPE_UNKNOWN;
    }
}

struct opt_vec {
    struct MHD_OptionItem *v;
    size_t n;
    size_t cap;
};

static int vec_push(struct opt_vec *ov, enum MHD_OPTION opt, intptr_t value, void *ptr)
{
    if (ov->n == ov->cap) {
        size_t cap = ov->cap ? ov->cap * 2 : 16;
        struct MHD_OptionItem *v = realloc(ov->v, cap * sizeof(*v));
        if (v == NULL)
            return -1;
        ov->v = v;
        ov->cap = cap;
    }
    ov->v[ov->n].option = opt;
    ov->v[ov->n].value = value;
    ov->v[ov->n].ptr_value = ptr;
    ov->n++;
    return 0;
}

/* Takes one option in item form; the app's lifecycle callbacks go into dctx. */
static int take(struct dtbi_daemon_ctx *dctx, struct opt_vec *ov, enum MHD_OPTION opt,
                intptr_t value, void *ptr);

static int take_array(struct dtbi_daemon_ctx *dctx, struct opt_vec *ov,
                      const struct MHD_OptionItem *items, int depth)
{
    if (items == NULL || depth > 8)
        return -1;
    for (size_t i = 0; items[i].option != MHD_OPTION_END; i++) {
        if (items[i].option == MHD_OPTION_ARRAY) {
            if (take_array(dctx, ov, items[i].ptr_value, depth + 1) != 0)
                return -1;
            continue;
        }
        if (shape_of(items[i].option) == SHAPE_UNKNOWN) {
            /* an option of a newer libmicrohttpd: in item form it is self-describing, so it
             * goes to MHD as it is */
            if (vec_push(ov, items[i].option, items[i].value, items[i].ptr_value) != 0)
                return -1;
            continue;
        }
        if (take(dctx, ov, items[i].option, items[i].value, items[i].ptr_value) != 0)
            return -1;
    }
    return 0;
}

static int take(struct dtbi_daemon_ctx *dctx, struct opt_vec *ov, enum MHD_OPTION opt,
                intptr_t value, void *ptr)
{
    if (opt == MHD_OPTION_NOTIFY_COMPLETED) {
        dctx->app_completed = (MHD_RequestCompletedCallback)value;
        dctx->app_completed_cls = ptr;
        return 0;
    }
    if (opt == MHD_OPTION_SOCK_ADDR)
        dctx->sock_addr = ptr; /* kept, and passed on */
    if (opt == MHD_OPTION_URI_LOG_CALLBACK) {
        dctx->app_uri_log = (void *(*)(void *, const char *, struct MHD_Connection *))value;
        dctx->app_uri_log_cls = ptr;
        return 0;
    }
    return vec_push(ov, opt, value, ptr);
}

/* Reads one option's arguments from ap. */
static int take_va(struct dtbi_daemon_ctx *dctx, struct opt_vec *ov, enum MHD_OPTION opt,
                   va_list *ap)
{
    intptr_t value = 0;
    void *ptr = NULL;
    if (opt == MHD_OPTION_ARRAY)
        return take_array(dctx, ov, va_arg(*ap, const struct MHD_OptionItem *), 0);
    switch (shape_of(opt)) {
    case SHAPE_SIZE:
        value = (intptr_t)va_arg(*ap, size_t);
        break;
    case SHAPE_UINT:
        value = (intptr_t)va_arg(*ap, unsigned int);
        break;
    case SHAPE_INT:
        value = (intptr_t)va_arg(*ap, int);
        break;
    case SHAPE_SOCKET:
        value = (intptr_t)va_arg(*ap, MHD_socket);
        break;
    case SHAPE_PTR:
        ptr = va_arg(*ap, void *);
        break;
    case SHAPE_TWO_PTR:
        value = (intptr_t)va_arg(*ap, void (*)(void));
        ptr = va_arg(*ap, void *);
        break;
    case SHAPE_SIZE_PTR:
        value = (intptr_t)va_arg(*ap, size_t);
        ptr = va_arg(*ap, void *);
        break;
    case SHAPE_UNKNOWN:
        return -1;
    }
    return take(dctx, ov, opt, value, ptr);
}

/* The middleware's hooks (middleware.c). */
void dtbi_mw_completed(void *cls, struct MHD_Connection *con, void **req_cls,
                       enum MHD_RequestTerminationCode toe);
void *dtbi_mw_uri_log(void *cls, const char *uri, struct MHD_Connection *con);

int dtbi_mhd_options_build(struct dtbi_daemon_ctx *dctx, va_list ap)
{
    struct opt_vec ov = {0};
    va_list aq;
    int rc = 0;
    va_copy(aq, ap);
    for (;;) {
        enum MHD_OPTION opt = (enum MHD_OPTION)va_arg(aq, int);
        if (opt == MHD_OPTION_END)
            break;
        if (take_va(dctx, &ov, opt, &aq) != 0) {
            /* its argument's size is unknown, so the list cannot be read past it */
            dtbi_log("MHD option %d is not known to the toolbar; this daemon runs without it",
                     (int)opt);
            rc = -1;
            break;
        }
    }
    va_end(aq);
    if (rc == 0 &&
        (vec_push(&ov, MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)dtbi_mw_uri_log, dctx) != 0 ||
         vec_push(&ov, MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)dtbi_mw_completed, dctx) != 0 ||
         vec_push(&ov, MHD_OPTION_END, 0, NULL) != 0))
        rc = -1;
    if (rc != 0) {
        free(ov.v);
        return -1;
    }
    dctx->options = ov.v;
    return 0;
}
