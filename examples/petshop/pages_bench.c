/*
 * pages_bench.c - the demo's benchmark pages, as WORKLOAD.md gives them (no stylesheet, fixed
 * skeleton, no session): /cats (ten cats, one query each, filled to 20 kB), /big (1 MB),
 * /api/cats and /api/dogs (JSON), and the same pages gzip-compressed by the app (/gz/cats) or
 * streamed in chunks of unknown total size (/chunked/cats, /chunked/big).
 */
#include <stdlib.h>
#include <string.h>

#include "pages.h"
#ifdef HAVE_ZLIB
#include <zlib.h>
#endif

/* WORKLOAD.md's page skeleton, filled with paragraphs until the body reaches target bytes. */
static void filler(struct page *p, size_t target)
{
    static const char para[] =
        "<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
        "incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud "
        "exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat.</p>";
    static const char tail[] = "</body></html>";
    static const char words[] = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do "
                                "eiusmod tempor incididunt ut labore et dolore magna aliqua.";
    while (p->len + sizeof(para) - 1 + sizeof(tail) - 1 <= target)
        page_add(p, para);
    /* one shorter paragraph brings the page to the target size exactly */
    size_t rest = target - p->len - (sizeof(tail) - 1);
    if (p->len + sizeof(tail) - 1 < target && rest > 7) {
        size_t n = rest - 7 < sizeof(words) - 1 ? rest - 7 : sizeof(words) - 1;
        page_add(p, "<p>");
        page_addn(p, words, n);
        page_add(p, "</p>");
    }
    page_add(p, tail);
}

/* The /cats page of WORKLOAD.md, into p. */
void cats_bench_page(struct page *p)
{
    long long count = 0;
    db_count(KIND_CAT, &count);
    page_add(p, "<!DOCTYPE html><html><head><title>Cats</title></head><body>");
    page_addf(p, "<h1>%lld cats</h1><table><tr><th>id</th><th>name</th><th>age</th></tr>", count);
    for (long long id = 1; id <= 10; id++) { /* N+1 on purpose: one query per row */
        struct animal a;
        if (db_get(KIND_CAT, id, &a) == 1) {
            page_addf(p, "<tr><td>%lld</td><td>", a.id);
            page_esc(p, a.name);
            page_addf(p, "</td><td>%d</td></tr>", a.age);
        }
    }
    page_add(p, "</table>");
    filler(p, 20000);
}

enum MHD_Result cats_bench(struct MHD_Connection *con)
{
    struct page p = {0};
    cats_bench_page(&p);
    return send_page(con, MHD_HTTP_OK, HTML, &p);
}

/* /gz/cats: the /cats page as an app that compresses its pages sends it: gzip (zlib at its
 * default level) when the request's Accept-Encoding names gzip, else as it is. */
enum MHD_Result cats_gzip(struct MHD_Connection *con)
{
    struct page p = {0};
    cats_bench_page(&p);
#ifdef HAVE_ZLIB
    const char *ae =
        MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
    if (!p.failed && ae != NULL && strstr(ae, "gzip") != NULL) {
        z_stream z = {0};
        uLong cap = compressBound((uLong)p.len) + 32;
        unsigned char *out = malloc(cap);
        /* windowBits 15 + 16: a gzip wrapper */
        if (out != NULL && deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                                        Z_DEFAULT_STRATEGY) == Z_OK) {
            z.next_in = (unsigned char *)p.data;
            z.avail_in = (uInt)p.len;
            z.next_out = out;
            z.avail_out = (uInt)cap;
            int rc = deflate(&z, Z_FINISH);
            size_t n = z.total_out;
            deflateEnd(&z);
            if (rc == Z_STREAM_END) {
                free(p.data);
                struct MHD_Response *r =
                    MHD_create_response_from_buffer(n, out, MHD_RESPMEM_MUST_FREE);
                if (r == NULL) {
                    free(out);
                    return MHD_NO;
                }
                MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, HTML);
                MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
                MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT_ENCODING);
                enum MHD_Result ret = MHD_queue_response(con, MHD_HTTP_OK, r);
                MHD_destroy_response(r);
                return ret;
            }
        }
        free(out);
    }
#endif
    return send_page(con, MHD_HTTP_OK, HTML, &p);
}

/* /chunked/cats and /chunked/big: the /cats and /big pages streamed by a content reader in
 * chunks of 1 to 4096 bytes (a fixed sequence), their size unknown: sent chunked. */
struct stream_page {
    struct page p;
    size_t step;
};

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream_page *sp = cls;
    if (pos >= sp->p.len)
        return MHD_CONTENT_READER_END_OF_STREAM;
    size_t n = 1 + (sp->step++ * 2654435761u) % 4096;
    if (n > max)
        n = max;
    if (n > sp->p.len - pos)
        n = sp->p.len - pos;
    memcpy(buf, sp->p.data + pos, n);
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    struct stream_page *sp = cls;
    free(sp->p.data);
    free(sp);
}

/* The page build() makes, streamed as /chunked/cats is. */
enum MHD_Result send_chunked(struct MHD_Connection *con, void (*build)(struct page *))
{
    struct stream_page *sp = calloc(1, sizeof(*sp));
    if (sp == NULL)
        return MHD_NO;
    build(&sp->p);
    if (sp->p.failed) {
        stream_free(sp);
        return MHD_NO;
    }
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, sp, stream_free);
    if (r == NULL) {
        stream_free(sp);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, HTML);
    enum MHD_Result ret = MHD_queue_response(con, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

/* The /big page of WORKLOAD.md, into p. */
void big_page(struct page *p)
{
    page_add(p, "<!DOCTYPE html><html><head><title>Big</title></head><body><h1>Big page</h1>");
    filler(p, 1000000);
}

enum MHD_Result big(struct MHD_Connection *con)
{
    struct page p = {0};
    big_page(&p);
    return send_page(con, MHD_HTTP_OK, HTML, &p);
}

enum MHD_Result api_list(struct MHD_Connection *con, enum animal_kind k)
{
    json_t *arr = json_array();
    struct page p = {0};
    for (long long id = 1; id <= 10; id++) {
        struct animal a;
        if (db_get(k, id, &a) == 1)
            json_array_append_new(arr, json_pack("{s:I,s:s,s:i}", "id", (json_int_t)a.id, "name",
                                                 a.name, "age", a.age));
    }
    char *text = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    if (text == NULL)
        return MHD_NO;
    page_add(&p, text);
    free(text);
    return send_page(con, MHD_HTTP_OK, "application/json", &p);
}
