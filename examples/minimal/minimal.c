/*
 * minimal.c - the smallest app with the toolbar: an MHD hello-world page.
 *
 * The lines marked "toolbar" are all an existing MHD app adds. Build after `make install`:
 *     cc minimal.c $(pkg-config --cflags --libs debugtoolbar) -o minimal
 * Run:  DTB_ENABLED=1 ./minimal 8081     then open http://127.0.0.1:8081/
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <debugtoolbar.h>     /* toolbar */
#include <debugtoolbar/mhd.h> /* toolbar: MHD's response calls remember bodies */
#include <microhttpd.h>

static const char PAGE[] = "<!DOCTYPE html><html><head><title>Hello</title></head>"
                           "<body><h1>Hello from MHD</h1></body></html>";

static enum MHD_Result handler(void *cls, struct MHD_Connection *con, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **req_cls)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(PAGE), (void *)PAGE, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Content-Type", "text/html; charset=utf-8");
    enum MHD_Result ret = MHD_queue_response(con, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

int main(int argc, char **argv)
{
    unsigned port = argc > 1 ? (unsigned)atoi(argv[1]) : 8081;
    struct dtb_error err = {0};
    char msg[300];
    sigset_t set;
    int sig;

    /* toolbar: config from $DTB_CONFIG and DTB_* variables; off unless enabled */
    struct dtb_toolbar *tb = dtb_toolbar_create(NULL, &err);
    if (tb == NULL || dtb_toolbar_start(tb, &err) != DTB_OK) {
        fprintf(stderr, "minimal: %s\n", dtb_error_format(&err, msg, sizeof(msg)));
        return 1;
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* toolbar: dtb_start_daemon(tb, ...) instead of MHD_start_daemon(...) */
    struct MHD_Daemon *d =
        dtb_start_daemon(tb, MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t)port, NULL, NULL, handler,
                         NULL, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "minimal: cannot listen on 127.0.0.1:%u\n", port);
        return 1;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    printf("minimal: serving on http://127.0.0.1:%u/\n", (unsigned)di->port);
    fflush(stdout);
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    dtb_toolbar_destroy(tb); /* toolbar */
    return 0;
}
