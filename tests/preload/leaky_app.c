/*
 * leaky_app.c - an ordinary libmicrohttpd program that knows nothing of the toolbar (no
 * toolbar header, not linked with it) and leaks on purpose, for dtb-run --memory's test.
 *
 *   leaky_app MODE        MODE: poll | pool | conn
 *
 * Prints "port N" once listening on 127.0.0.1 (any port), then serves until SIGTERM:
 *   /leak   an HTML page; leak_two() keeps 2 blocks of 24 bytes on every request
 *   /       an HTML page built from many small allocations, every one freed
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

static void *kept[4096];
static int nkept;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static __attribute__((noinline, noclone)) void leak_two(void)
{
    for (int i = 0; i < 2; i++) {
        void *p = malloc(24);
        if (p == NULL)
            return;
        memset(p, 0, 24);
        pthread_mutex_lock(&lock);
        if (nkept < 4096)
            kept[nkept++] = p;
        pthread_mutex_unlock(&lock);
    }
}

/* the page as a list of small strings, joined, the pieces freed */
static __attribute__((noinline, noclone)) char *build_page(const char *title)
{
    char *pieces[64];
    size_t total = 0;
    for (int i = 0; i < 64; i++) {
        pieces[i] = malloc(32);
        if (pieces[i] == NULL)
            return NULL;
        snprintf(pieces[i], 32, "<li>item %d</li>", i);
        total += strlen(pieces[i]);
    }
    char *page = malloc(total + 256);
    if (page != NULL) {
        size_t n = (size_t)snprintf(page, 256,
                                    "<!DOCTYPE html><html><head><title>%s</title></head>"
                                    "<body><ul>",
                                    title);
        for (int i = 0; i < 64; i++) {
            strcpy(page + n, pieces[i]);
            n += strlen(pieces[i]);
        }
        strcpy(page + n, "</ul></body></html>");
    }
    for (int i = 0; i < 64; i++)
        free(pieces[i]);
    return page;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *con, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **req_cls)
{
    (void)cls, (void)method, (void)version, (void)upload_data, (void)upload_data_size;
    (void)req_cls;
    if (strcmp(url, "/leak") == 0)
        leak_two();
    char *page = build_page(url);
    if (page == NULL)
        return MHD_NO;
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(page), page, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", "text/html");
    enum MHD_Result ret = MHD_queue_response(con, 200, r);
    MHD_destroy_response(r);
    return ret;
}

int main(int argc, char **argv)
{
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, pool = 0;
    struct sockaddr_in sa = {0};
    sigset_t set;
    int sig;
    if (argc < 2) {
        fprintf(stderr, "usage: leaky_app poll|pool|conn\n");
        return 2;
    }
    if (strcmp(argv[1], "pool") == 0)
        pool = 3;
    else if (strcmp(argv[1], "conn") == 0)
        flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d =
        MHD_start_daemon(flags, 0, NULL, NULL, handler, NULL, MHD_OPTION_SOCK_ADDR, &sa,
                         MHD_OPTION_THREAD_POOL_SIZE, pool, MHD_OPTION_END);
    if (d == NULL)
        return 1;
    printf("port %u\n", (unsigned)MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port);
    fflush(stdout);
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    for (int i = 0; i < nkept; i++)
        free(kept[i]);
    return 0;
}
