/*
 * spans.c - what one dtb_span_begin/dtb_span_end pair costs inside a request (target: under
 * 50 ns). A wrapped MHD app on loopback times batches of pairs in its handler with its
 * thread's CPU clock (so the machine's other load does not count), less what an empty window
 * reads on that clock (its reads are system calls, about 1 us here: over 50 pairs that alone
 * added 20-30 ns a pair); the bench fetches it a number of times and prints the median ns per pair,
 * and the cost of the calls outside a request (no request current: a thread-local load).
 * Usage: bench/spans [requests] [pairs per request]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <debugtoolbar.h>
#include <debugtoolbar/mhd.h>
#include <debugtoolbar/span.h>
#include <microhttpd.h>

static int pairs = 50; /* a page's worth: the spans a request starts with need no growth */
static double per_pair[1000];
static int nruns;

/* The thread's CPU time: the machine's other load does not count. */
static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static enum MHD_Result app(void *cls, struct MHD_Connection *con, const char *url,
                           const char *method, const char *version, const char *upload_data,
                           size_t *upload_data_size, void **req_cls)
{
    static const char body[] = "ok";
    (void)cls, (void)url, (void)method, (void)version, (void)upload_data;
    (void)upload_data_size, (void)req_cls;
    /* CLOCK_THREAD_CPUTIME_ID is a system call here (about 1 us in a VM): the time an empty
     * window reads, taken just before, is not the spans' and is taken off */
    double t0 = now_ns(), t1 = now_ns();
    for (int i = 0; i < pairs; i++) {
        int s = dtb_span_begin("bench");
        dtb_span_end(s);
    }
    double t2 = now_ns();
    if (nruns < 1000)
        per_pair[nruns++] = ((t2 - t1) - (t1 - t0)) / pairs;
    struct MHD_Response *r =
        MHD_create_response_from_buffer(2, (void *)body, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret = MHD_queue_response(con, 200, r);
    MHD_destroy_response(r);
    return ret;
}

static size_t discard(char *p, size_t s, size_t n, void *u)
{
    (void)p, (void)u;
    return s * n;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int requests = argc > 1 ? atoi(argv[1]) : 501;
    if (argc > 2)
        pairs = atoi(argv[2]);
    if (requests < 1 || requests > 1000 || pairs < 1)
        return 2;
    struct dtb_error err = {0};
    struct dtb_toolbar *tb = dtb_toolbar_create_from_string("{\"enabled\": true}", "bench", &err);
    if (tb == NULL || dtb_toolbar_start(tb, &err) != DTB_OK)
        return 1;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d = dtb_start_daemon(tb, MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, app,
                                            NULL, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
    if (d == NULL)
        return 1;
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/",
             (unsigned)MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    for (int i = 0; i < requests; i++)
        curl_easy_perform(c);
    curl_easy_cleanup(c);
    MHD_stop_daemon(d);
    dtb_toolbar_destroy(tb);
    /* outside a request */
    double t0 = now_ns();
    for (int i = 0; i < pairs * 100; i++) {
        int s = dtb_span_begin("bench");
        dtb_span_end(s);
    }
    double outside = (now_ns() - t0) / (pairs * 100.0);
    /* the floor: the two clock reads a pair makes (the machine's clock source decides it) */
    double clocks[101];
    for (int r = 0; r < 101; r++) {
        double c0 = now_ns(), c1 = now_ns();
        for (int i = 0; i < pairs; i++) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            clock_gettime(CLOCK_MONOTONIC, &ts);
        }
        clocks[r] = ((now_ns() - c1) - (c1 - c0)) / pairs;
    }
    qsort(clocks, 101, sizeof(double), cmp);
    qsort(per_pair, (size_t)nruns, sizeof(double), cmp);
    double pair = nruns ? per_pair[nruns / 2] : 0.0;
    printf("spans: %.1f ns per begin/end pair in a request (median of %d requests of %d pairs; "
           "target < 50 ns), %.1f ns outside a request; two clock reads alone %.1f ns "
           "(pair/clocks %.2f)\n",
           pair, nruns, pairs, outside, clocks[50], clocks[50] > 0 ? pair / clocks[50] : 0.0);
    return 0;
}
