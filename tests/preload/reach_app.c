/*
 * reach_app.c - an ordinary libmicrohttpd program (it knows nothing of the toolbar) that serves
 * one HTML page in every form a real program may use, for dtb-run's tests. Each encoded form is
 * made by the real library (zlib, libbrotli, libzstd) when the program starts.
 *
 *   reach_app DIR PORT [PORT2]     serves on 127.0.0.1 (PORT 0: any; PORT2: a second daemon)
 *   reach_app --decode CODING      decodes stdin to stdout (gzip, deflate, br, zstd)
 *
 * Prints "port N" (and "port2 N"), "codings ..." (those it can encode), then serves until
 * SIGTERM:
 *   /page            the page from a buffer (text/html)
 *   /page/CODING     the page encoded (gzip also says Vary: Accept-Encoding, ETag,
 *                    Last-Modified and Cache-Control: max-age=2723040, public)
 *   /page/fd         the page from a file descriptor at an offset in DIR/page.file (between
 *                    other bytes); the program's file offset is set to 7 before and checked in
 *                    its completion callback
 *   /page/untyped    the page with no Content-Type
 *   /page/nosniff    the same with X-Content-Type-Options: nosniff
 *   /page/truncated  the gzip page cut short
 *   /page/bomb       text/html, gzip: members of zeros decoding to 1 GiB (1 MiB on the wire)
 *   /page/pipe       the page from a pipe
 *   /page/cb-known   the page from a content reader, its size known, 1 to 97 bytes a call
 *   /page/cb-1       the page from a content reader, size unknown (chunked), 1 byte a call
 *   /page/cb-random  the same, 1 to 4096 bytes a call (a fixed pseudo-random sequence)
 *   /stats           JSON: fd responses completed, and how many found their offset moved;
 *                    reader callbacks freed, and with a bad closure (either way)
 */
#include "config.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#ifdef HAVE_ZLIB
#include <zlib.h>
#endif
#ifdef HAVE_BROTLI
#include <brotli/decode.h>
#include <brotli/encode.h>
#endif
#ifdef HAVE_ZSTD
#include <zstd.h>
#endif

static char page[8192];
static size_t page_len;
static const char *coding_names[4] = {"gzip", "deflate", "br", "zstd"};
static char *encoded[4];
static size_t encoded_len[4];
static char *bomb;
static size_t bomb_len;
static char file_path[512];
static const size_t FILE_OFFSET = 1000; /* where the page starts in the file */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long fd_done, fd_moved;
static int fd_tag;

static void make_page(void)
{
    size_t n = (size_t)snprintf(page, sizeof(page),
                                "<!DOCTYPE html>\n<html><head><title>Reach</title>"
                                "<script>var s = \"</body>\";</script></head>\n<body>\n"
                                "<h1>One page, every way</h1>\n");
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(page + n, sizeof(page) - n,
                              "<p>Paragraph %d: the cat sat on the mat.</p>\n", i);
    n += (size_t)snprintf(page + n, sizeof(page) - n,
                          "<!-- </body> in a comment -->\n</body>\n</html>\n");
    page_len = n;
}

#ifdef HAVE_ZLIB
static char *zlib_encode(const void *in, size_t len, int wbits, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, 6, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    size_t bound = deflateBound(&z, (uLong)len);
    char *out = malloc(bound);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)bound;
    if (out == NULL || deflate(&z, Z_FINISH) != Z_STREAM_END) {
        deflateEnd(&z);
        free(out);
        return NULL;
    }
    *out_len = bound - z.avail_out;
    deflateEnd(&z);
    return out;
}
#endif

static char *encode(int c, const void *in, size_t len, size_t *out_len)
{
    switch (c) {
#ifdef HAVE_ZLIB
    case 0:
        return zlib_encode(in, len, 16 + MAX_WBITS, out_len);
    case 1:
        return zlib_encode(in, len, MAX_WBITS, out_len);
#endif
#ifdef HAVE_BROTLI
    case 2: {
        size_t n = BrotliEncoderMaxCompressedSize(len);
        char *out = malloc(n);
        if (out == NULL || !BrotliEncoderCompress(5, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_TEXT, len,
                                                  in, &n, (uint8_t *)out)) {
            free(out);
            return NULL;
        }
        *out_len = n;
        return out;
    }
#endif
#ifdef HAVE_ZSTD
    case 3: {
        size_t n = ZSTD_compressBound(len);
        char *out = malloc(n);
        if (out == NULL || ZSTD_isError(n = ZSTD_compress(out, n, in, len, 3))) {
            free(out);
            return NULL;
        }
        *out_len = n;
        return out;
    }
#endif
    default:
        (void)in, (void)len, (void)out_len;
        return NULL;
    }
}

/* --decode: stdin to stdout with the real library. */
static int decode_stdin(const char *coding)
{
    size_t cap = 1 << 16, len = 0, n;
    char *in = malloc(cap);
    while (in != NULL && (n = fread(in + len, 1, cap - len, stdin)) > 0) {
        len += n;
        if (len == cap)
            in = realloc(in, cap *= 2);
    }
    if (in == NULL)
        return 1;
    size_t out_cap = 1 << 24, out_len = 0;
    char *out = malloc(out_cap);
    int ok = 0;
#ifdef HAVE_ZLIB
    if (strcmp(coding, "gzip") == 0 || strcmp(coding, "deflate") == 0) {
        z_stream z;
        memset(&z, 0, sizeof(z));
        inflateInit2(&z, strcmp(coding, "gzip") == 0 ? 16 + MAX_WBITS : MAX_WBITS);
        z.next_in = (Bytef *)in;
        z.avail_in = (uInt)len;
        z.next_out = (Bytef *)out;
        z.avail_out = (uInt)out_cap;
        ok = inflate(&z, Z_FINISH) == Z_STREAM_END && z.avail_in == 0;
        out_len = out_cap - z.avail_out;
        inflateEnd(&z);
    }
#endif
#ifdef HAVE_BROTLI
    if (strcmp(coding, "br") == 0) {
        out_len = out_cap;
        ok = BrotliDecoderDecompress(len, (const uint8_t *)in, &out_len, (uint8_t *)out) ==
             BROTLI_DECODER_RESULT_SUCCESS;
    }
#endif
#ifdef HAVE_ZSTD
    if (strcmp(coding, "zstd") == 0) {
        out_len = ZSTD_decompress(out, out_cap, in, len);
        ok = !ZSTD_isError(out_len);
    }
#endif
    if (ok)
        fwrite(out, 1, out_len, stdout);
    free(in);
    free(out);
    return ok ? 0 : 1;
}

/* a content reader over the page: its closure is checked on every call and in its free */
#define CB_MAGIC 0xC0FFEE11u
struct cb_src {
    unsigned magic;
    unsigned seed;
    char mode; /* k, 1, r */
};
static long cb_freed, cb_bad;

static ssize_t cb_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct cb_src *c = cls;
    if (c->magic != CB_MAGIC) {
        pthread_mutex_lock(&lock);
        cb_bad++;
        pthread_mutex_unlock(&lock);
        return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    if (pos >= page_len)
        return MHD_CONTENT_READER_END_OF_STREAM;
    c->seed = c->seed * 1103515245u + 12345u;
    size_t n = c->mode == '1' ? 1 : 1 + (c->seed >> 8) % (c->mode == 'k' ? 97 : 4096);
    if (n > page_len - pos)
        n = page_len - (size_t)pos;
    if (n > max)
        n = max;
    memcpy(buf, page + pos, n);
    return (ssize_t)n;
}

static void cb_free(void *cls)
{
    struct cb_src *c = cls;
    pthread_mutex_lock(&lock);
    cb_freed++;
    if (c->magic != CB_MAGIC)
        cb_bad++;
    pthread_mutex_unlock(&lock);
    c->magic = 0;
    free(c);
}

static void completed(void *cls, struct MHD_Connection *con, void **req_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)con, (void)toe;
    int *kept = *req_cls;
    if (kept == NULL || kept == &fd_tag)
        return;
    /* the program's own descriptor of the file it gave the response: its offset must be 7 */
    pthread_mutex_lock(&lock);
    fd_done++;
    if (lseek(*kept, 0, SEEK_CUR) != 7)
        fd_moved++;
    pthread_mutex_unlock(&lock);
    close(*kept);
    free(kept);
    *req_cls = NULL;
}

static enum MHD_Result queue(struct MHD_Connection *con, struct MHD_Response *r, const char *type)
{
    if (r == NULL)
        return MHD_NO;
    if (type != NULL)
        MHD_add_response_header(r, "Content-Type", type);
    enum MHD_Result ret = MHD_queue_response(con, 200, r);
    MHD_destroy_response(r);
    return ret;
}

static struct MHD_Response *buffer(const void *data, size_t len)
{
    return MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_PERSISTENT);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *con, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **req_cls)
{
    (void)cls, (void)method, (void)version, (void)upload, (void)upload_size;
    struct MHD_Response *r;
    if (*req_cls == NULL) {
        *req_cls = &fd_tag;
        return MHD_YES;
    }
    if (strcmp(url, "/page") == 0)
        return queue(con, buffer(page, page_len), "text/html; charset=utf-8");
    for (int c = 0; c < 4; c++) {
        if (strncmp(url, "/page/", 6) == 0 && strcmp(url + 6, coding_names[c]) == 0 &&
            encoded[c] != NULL) {
            r = buffer(encoded[c], encoded_len[c]);
            MHD_add_response_header(r, "Content-Encoding", coding_names[c]);
            if (c == 0) {
                MHD_add_response_header(r, "Vary", "Accept-Encoding");
                MHD_add_response_header(r, "ETag", "\"reach-1\"");
                MHD_add_response_header(r, "Last-Modified", "Mon, 02 Nov 2026 10:00:00 GMT");
                MHD_add_response_header(r, "Cache-Control", "max-age=2723040, public");
            }
            return queue(con, r, "text/html");
        }
    }
    if (strcmp(url, "/page/fd") == 0) {
        int fd = open(file_path, O_RDONLY);
        int *kept = malloc(sizeof(int));
        if (fd < 0 || kept == NULL || lseek(fd, 7, SEEK_SET) != 7)
            return MHD_NO;
        *kept = dup(fd); /* shares the file offset with fd */
        *req_cls = kept;
        return queue(con, MHD_create_response_from_fd_at_offset64(page_len, fd, FILE_OFFSET),
                     "text/html");
    }
    if (strcmp(url, "/page/untyped") == 0)
        return queue(con, buffer(page, page_len), NULL);
    if (strcmp(url, "/page/nosniff") == 0) {
        r = buffer(page, page_len);
        MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
        return queue(con, r, NULL);
    }
    if (strcmp(url, "/page/truncated") == 0 && encoded[0] != NULL) {
        r = buffer(encoded[0], encoded_len[0] - 9);
        MHD_add_response_header(r, "Content-Encoding", "gzip");
        return queue(con, r, "text/html");
    }
    if (strcmp(url, "/page/bomb") == 0 && bomb != NULL) {
        r = buffer(bomb, bomb_len);
        MHD_add_response_header(r, "Content-Encoding", "gzip");
        return queue(con, r, "text/html");
    }
    if (strcmp(url, "/page/pipe") == 0) {
        int p[2];
        if (pipe(p) != 0)
            return MHD_NO;
        if (write(p[1], page, page_len) != (ssize_t)page_len) /* fits in the pipe's buffer */
            return MHD_NO;
        close(p[1]);
        return queue(con, MHD_create_response_from_pipe(p[0]), "text/html");
    }
    if (strncmp(url, "/page/cb-", 9) == 0) {
        struct cb_src *c = calloc(1, sizeof(*c));
        if (c == NULL)
            return MHD_NO;
        c->magic = CB_MAGIC;
        c->seed = 7;
        c->mode = url[9] == 'k' ? 'k' : url[9] == '1' ? '1' : 'r';
        r = MHD_create_response_from_callback(c->mode == 'k' ? page_len : MHD_SIZE_UNKNOWN, 4096,
                                              cb_read, c, cb_free);
        if (r == NULL)
            free(c);
        return queue(con, r, "text/html");
    }
    if (strcmp(url, "/stats") == 0) {
        char buf[160];
        pthread_mutex_lock(&lock);
        int n =
            snprintf(buf, sizeof(buf),
                     "{\"fd_done\": %ld, \"fd_moved\": %ld, \"cb_freed\": %ld, \"cb_bad\": %ld}",
                     fd_done, fd_moved, cb_freed, cb_bad);
        pthread_mutex_unlock(&lock);
        return queue(con, MHD_create_response_from_buffer((size_t)n, buf, MHD_RESPMEM_MUST_COPY),
                     "application/json");
    }
    return queue(con, buffer("not found", 9), "text/plain");
}

static struct MHD_Daemon *start(const char *port)
{
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)atoi(port));
    return MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, 0, NULL, NULL, handler,
                            NULL, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_NOTIFY_COMPLETED, completed,
                            NULL, MHD_OPTION_END);
}

int main(int argc, char **argv)
{
    sigset_t set;
    int sig;
    if (argc == 3 && strcmp(argv[1], "--decode") == 0)
        return decode_stdin(argv[2]);
    if (argc < 3) {
        fprintf(stderr, "usage: reach_app DIR PORT [PORT2] | reach_app --decode CODING\n");
        return 2;
    }
    make_page();
    for (int c = 0; c < 4; c++)
        encoded[c] = encode(c, page, page_len, &encoded_len[c]);
    if (encoded[0] != NULL) {
        /* 16 MiB of zeros as one gzip member, repeated: 1 GiB once decoded */
        size_t zn = 16u << 20, mlen = 0;
        char *zeros = calloc(1, zn), *member = zeros ? encode(0, zeros, zn, &mlen) : NULL;
        if (member != NULL && (bomb = malloc(mlen * 64)) != NULL) {
            for (int i = 0; i < 64; i++)
                memcpy(bomb + (size_t)i * mlen, member, mlen);
            bomb_len = mlen * 64;
        }
        free(member);
        free(zeros);
    }
    snprintf(file_path, sizeof(file_path), "%s/page.file", argv[1]);
    FILE *f = fopen(file_path, "w");
    if (f == NULL)
        return 1;
    for (size_t i = 0; i < FILE_OFFSET; i++)
        fputc("<!-- not the page -->"[i % 21], f);
    fwrite(page, 1, page_len, f);
    fputs("<p>after the page</p></body></html>", f);
    if (fclose(f) != 0)
        return 1;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    struct MHD_Daemon *d = start(argv[2]), *d2 = NULL;
    if (d == NULL)
        return 1;
    printf("port %u\n", (unsigned)MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port);
    if (argc > 3) {
        if ((d2 = start(argv[3])) == NULL)
            return 1;
        printf("port2 %u\n", (unsigned)MHD_get_daemon_info(d2, MHD_DAEMON_INFO_BIND_PORT)->port);
    }
    printf("codings");
    for (int c = 0; c < 4; c++)
        if (encoded[c] != NULL)
            printf(" %s", coding_names[c]);
    printf("\n");
    fflush(stdout);
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    if (d2 != NULL)
        MHD_stop_daemon(d2);
    for (int c = 0; c < 4; c++)
        free(encoded[c]);
    free(bomb);
    return 0;
}
