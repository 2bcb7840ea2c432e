/*
 * middleware.c - wraps the app's MHD access handler and hooks the request lifecycle.
 *
 *   URI_LOG_CALLBACK   earliest hook: the record is created (start time, client check)
 *   access handler     first call: the gate (proxy headers, Host, actions' origin: gate.c),
 *                      method, headers, query, cookies; toolbar URLs served here;
 *                      every call: the thread-local current request is set around the app's
 *                      handler, its time and thread CPU time summed; consumed upload bytes
 *                      go to the form parser
 *   NOTIFY_COMPLETED   the app's callback first, then the record is finished and stored
 *
 * The app's own URI-log and completion callbacks are chained and its req_cls is its own
 * (rq->app_req_cls). A disabled toolbar starts the daemon exactly as MHD_start_daemon would.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "internal.h"
#include "profiler.h"

void *dtbi_mw_uri_log(void *cls, const char *uri, struct MHD_Connection *con);
void dtbi_mw_completed(void *cls, struct MHD_Connection *con, void **req_cls,
                       enum MHD_RequestTerminationCode toe);

void *dtbi_mw_uri_log(void *cls, const char *uri, struct MHD_Connection *con)
{
    struct dtbi_daemon_ctx *dctx = cls;
    struct dtb_request *rq = dtbi_request_create(dctx, con, uri);
    void *app_cls = NULL;
    if (dctx->app_uri_log != NULL)
        app_cls = dctx->app_uri_log(dctx->app_uri_log_cls, uri, con);
    if (rq == NULL) {
        /* Out of memory: the request is served without a record. The app's own value is
         * then what MHD hands the handler, which must not mistake it for a record. */
        dtbi_log_once("oom-record", "out of memory creating a request record; not recorded");
        return NULL;
    }
    rq->app_req_cls = app_cls;
    return rq;
}

static enum MHD_Result mw_handler(void *cls, struct MHD_Connection *con, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    struct dtbi_daemon_ctx *dctx = cls;
    struct dtb_request *rq = *req_cls;
    struct dtb_request *prev;
    struct dtbi_call call;
    enum MHD_Result ret;
    int64_t t0, t1;
    size_t before;

    if (rq == NULL) /* no record (out of memory at the first hook): plain pass-through */
        return dctx->app_handler(dctx->app_handler_cls, con, url, method, version, upload_data,
                                 upload_data_size, req_cls);
    if (rq->calls++ == 0) {
        t0 = dtb_now_ns();
        /* proxy headers, Host, and for actions Content-Type/Origin/Sec-Fetch-Site: a
         * refused request goes to the app untouched, as for a client outside hosts */
        if (rq->active && !dtbi_gate_request(rq, con, version))
            rq->active = false;
        if (rq->active) {
            rq->toolbar_route = dtbi_is_toolbar_url(rq->tb, url) != 0;
            if (rq->toolbar_route && strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
                !dtbi_gate_action(con))
                rq->active = rq->toolbar_route = false;
        }
        if (rq->active)
            dtbi_request_begin(rq, con, url, method, version);
        rq->times.first_handler_ns = t0;
        rq->times.toolbar_ns += dtb_now_ns() - t0;
    }
    if (rq->toolbar_route) {
        if (rq->calls == 1 && strcmp(method, "POST") == 0)
            return MHD_YES; /* the body comes in the next calls */
        if (*upload_data_size != 0) {
            dtbi_routes_upload(rq, upload_data, *upload_data_size);
            *upload_data_size = 0;
            return MHD_YES;
        }
        return dtbi_routes_serve(rq, con, url, method);
    }
    if (!rq->active)
        return dctx->app_handler(dctx->app_handler_cls, con, url, method, version, upload_data,
                                 upload_data_size, &rq->app_req_cls);

    rq->handled = true;
    before = *upload_data_size;
    prev = dtbi_current();
    dtbi_set_current(rq);
    dtbi_call_enter(rq, &call);
    t0 = dtb_now_ns();
    ret = dctx->app_handler(dctx->app_handler_cls, con, url, method, version, upload_data,
                            upload_data_size, &rq->app_req_cls);
    t1 = dtb_now_ns();
    dtbi_call_leave(rq, &call);
    dtbi_set_current(prev);
    rq->times.handler_ns += t1 - t0;
    if (before > 0 && *upload_data_size < before) {
        int64_t u0 = dtb_now_ns();
        dtbi_request_upload(rq, upload_data, before - *upload_data_size);
        rq->times.toolbar_ns += dtb_now_ns() - u0;
    }
    return ret;
}

void dtbi_mw_completed(void *cls, struct MHD_Connection *con, void **req_cls,
                       enum MHD_RequestTerminationCode toe)
{
    struct dtbi_daemon_ctx *dctx = cls;
    struct dtb_request *rq = *req_cls;
    if (rq == NULL) {
        if (dctx->app_completed != NULL)
            dctx->app_completed(dctx->app_completed_cls, con, req_cls, toe);
        return;
    }
    if (dctx->app_completed != NULL)
        dctx->app_completed(dctx->app_completed_cls, con, &rq->app_req_cls, toe);
    *req_cls = NULL;
    dtbi_request_finish(rq, toe);
}

/* MHD's own MHD_start_daemon calls MHD_start_daemon_va through its PLT, where a preloaded
 * shim would catch it again: the toolbar always starts daemons through the real _va. */
static struct MHD_Daemon *start_real(unsigned int flags, uint16_t port,
                                     MHD_AcceptPolicyCallback apc, void *apc_cls,
                                     MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
    struct MHD_Daemon *d;
    va_list ap;
    va_start(ap, dh_cls);
    d = dtbi_real()->start_daemon_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
    va_end(ap);
    return d;
}

/* 1 when sa is a loopback address (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104). */
static int is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
    }
    return 0;
}

/* 1 when every range in hosts is loopback: the default, and what most users keep. */
static int hosts_loopback_only(const struct dtb_toolbar *tb)
{
    for (size_t i = 0; i < tb->cfg.nhosts; i++) {
        const struct dtbi_cidr *c = &tb->cfg.hosts[i];
        if (c->family == AF_INET && !(c->addr[0] == 127 && c->prefix >= 8))
            return 0;
        if (c->family == AF_INET6 &&
            !(c->prefix == 128 && memcmp(c->addr, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0))
            return 0;
    }
    return 1;
}

static int port_named(const struct dtb_toolbar *tb, uint16_t port)
{
    for (size_t i = 0; i < tb->cfg.nports; i++)
        if (tb->cfg.ports[i] == port)
            return 1;
    return 0;
}

struct MHD_Daemon *dtb_start_daemon_va(struct dtb_toolbar *tb, unsigned int flags, uint16_t port,
                                       MHD_AcceptPolicyCallback apc, void *apc_cls,
                                       MHD_AccessHandlerCallback dh, void *dh_cls, va_list ap)
{
    struct dtbi_daemon_ctx *dctx;
    struct MHD_Daemon *d;
    if (tb == NULL || !tb->enabled)
        return dtbi_real()->start_daemon_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
    dctx = calloc(1, sizeof(*dctx));
    if (dctx == NULL)
        return NULL;
    dctx->tb = tb;
    dctx->app_handler = dh;
    dctx->app_handler_cls = dh_cls;
    if (dtbi_mhd_options_build(dctx, ap) != 0) {
        /* options the toolbar cannot carry (said in the log): the app's daemon as it asked */
        free(dctx);
        return dtbi_real()->start_daemon_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
    }
    /* preload.ports: the listening port decides; when it is known only after the start
     * (port 0), requests pass through until it is */
    uint16_t listen_port = port;
    if (dctx->sock_addr != NULL && dctx->sock_addr->sa_family == AF_INET)
        listen_port = ntohs(((const struct sockaddr_in *)dctx->sock_addr)->sin_port);
    else if (dctx->sock_addr != NULL && dctx->sock_addr->sa_family == AF_INET6)
        listen_port = ntohs(((const struct sockaddr_in6 *)dctx->sock_addr)->sin6_port);
    atomic_store(&dctx->off,
                 tb->cfg.ports_set && (listen_port == 0 || !port_named(tb, listen_port)));
    if (tb->cfg.bind_set && dctx->sock_addr == NULL) {
        /* preload.bind: listen on that address, not on every interface */
        dctx->bind_sa = tb->cfg.bind;
        if (dctx->bind_sa.ss_family == AF_INET) {
            ((struct sockaddr_in *)&dctx->bind_sa)->sin_port = htons(port);
            flags &= ~(unsigned)(MHD_USE_IPv6 | MHD_USE_DUAL_STACK);
        } else {
            ((struct sockaddr_in6 *)&dctx->bind_sa)->sin6_port = htons(port);
            flags |= MHD_USE_IPv6;
        }
        d = start_real(flags, port, apc, apc_cls, mw_handler, dctx, MHD_OPTION_SOCK_ADDR,
                       &dctx->bind_sa, MHD_OPTION_ARRAY, dctx->options, MHD_OPTION_END);
    } else {
        d = start_real(flags, port, apc, apc_cls, mw_handler, dctx, MHD_OPTION_ARRAY, dctx->options,
                       MHD_OPTION_END);
    }
    if (d == NULL) {
        free(dctx->options);
        free(dctx);
        return NULL;
    }
    if (tb->cfg.ports_set && listen_port == 0) {
        const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
        listen_port = di != NULL ? di->port : 0;
        atomic_store(&dctx->off, listen_port == 0 || !port_named(tb, listen_port));
    }
    if (listen_port == 0) {
        const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
        listen_port = di != NULL ? di->port : 0;
    }
    atomic_store(&dctx->port, listen_port);
    if (atomic_load(&dctx->off))
        dtbi_log("no toolbar on port %u: preload.ports does not name it", (unsigned)listen_port);
    else if (listen_port != 0)
        dtbi_log("toolbar on port %u; open http://127.0.0.1:%u%s/ to see its requests",
                 (unsigned)listen_port, (unsigned)listen_port, tb->cfg.url_prefix);
    /* where it really listens (whatever the app passed: an address, a socket, nothing) */
    struct sockaddr_storage where;
    socklen_t wlen = sizeof(where);
    const union MHD_DaemonInfo *lfd = MHD_get_daemon_info(d, MHD_DAEMON_INFO_LISTEN_FD);
    int known = lfd != NULL && getsockname(lfd->listen_fd, (struct sockaddr *)&where, &wlen) == 0;
    if (!atomic_load(&dctx->off) && known && !is_loopback((const struct sockaddr *)&where) &&
        hosts_loopback_only(tb))
        dtbi_log("the app listens beyond loopback (port %u), but the toolbar answers loopback "
                 "clients only: widen \"hosts\" to show it to others",
                 (unsigned)listen_port);
    pthread_mutex_lock(&tb->lock);
    dctx->next = tb->daemons;
    tb->daemons = dctx;
    pthread_mutex_unlock(&tb->lock);
    return d;
}

struct MHD_Daemon *dtb_start_daemon(struct dtb_toolbar *tb, unsigned int flags, uint16_t port,
                                    MHD_AcceptPolicyCallback apc, void *apc_cls,
                                    MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
    struct MHD_Daemon *d;
    va_list ap;
    va_start(ap, dh_cls);
    d = dtb_start_daemon_va(tb, flags, port, apc, apc_cls, dh, dh_cls, ap);
    va_end(ap);
    return d;
}

enum MHD_Result dtb_queue_response(struct MHD_Connection *connection, unsigned int status_code,
                                   struct MHD_Response *response)
{
    struct dtb_request *rq = dtbi_current();
    if (rq == NULL || !rq->active || response == NULL)
        return dtbi_real()->queue_response(connection, status_code, response);
    /* the toolbar's own CPU inside the handler (filtering, injecting) is not the app's, and
     * the injected copy's memory is the toolbar's */
    int64_t c0 = dtbi_thread_cpu_ns();
    void *mem = dtb_toolbar_scope_enter();
    enum MHD_Result ret = dtbi_filter_queue(rq, connection, status_code, response);
    dtb_toolbar_scope_leave(mem);
    rq->times.toolbar_cpu_ns += dtbi_thread_cpu_ns() - c0;
    return ret;
}
