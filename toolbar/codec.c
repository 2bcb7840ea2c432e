/*
 * codec.c - HTTP content codings for the response filter: gzip and deflate (zlib), br
 * (libbrotli) and zstd (libzstd) decoded with a cap on the decoded size and re-encoded at a fast
 * level; Accept-Encoding read per RFC 9110 (is identity refused?); and the WHATWG MIME-sniffing
 * HTML patterns for responses that name no Content-Type.
 *
 * Each library is optional at configure time (HAVE_ZLIB, HAVE_BROTLI, HAVE_ZSTD): a coding whose
 * library is missing is reported as not available and its responses pass through untouched.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

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

static const char *const names[] = {"identity", "gzip", "deflate", "br", "zstd"};

const char *dtbi_coding_name(enum dtbi_coding c)
{
    return (unsigned)c < sizeof(names) / sizeof(names[0]) ? names[c] : "unknown";
}

int dtbi_coding_available(enum dtbi_coding c)
{
    switch (c) {
    case DTBI_CODING_IDENTITY:
        return 1;
    case DTBI_CODING_GZIP:
    case DTBI_CODING_DEFLATE:
#ifdef HAVE_ZLIB
        return 1;
#else
        return 0;
#endif
    case DTBI_CODING_BR:
#ifdef HAVE_BROTLI
        return 1;
#else
        return 0;
#endif
    case DTBI_CODING_ZSTD:
#ifdef HAVE_ZSTD
        return 1;
#else
        return 0;
#endif
    case DTBI_CODING_UNKNOWN:
        break;
    }
    return 0;
}

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* The token [s, e) without surrounding whitespace, compared case-insensitively to name. */
static int token_is(const char *s, const char *e, const char *name)
{
    size_t n = strlen(name);
    while (s < e && is_ows(*s))
        s++;
    while (e > s && is_ows(e[-1]))
        e--;
    return (size_t)(e - s) == n && strncasecmp(s, name, n) == 0;
}

enum dtbi_coding dtbi_coding_parse(const char *ce)
{
    const char *e;
    if (ce == NULL)
        return DTBI_CODING_IDENTITY;
    e = ce + strlen(ce);
    if (strchr(ce, ',') != NULL) /* several codings stacked: not taken apart */
        return DTBI_CODING_UNKNOWN;
    if (token_is(ce, e, "") || token_is(ce, e, "identity"))
        return DTBI_CODING_IDENTITY;
    if (token_is(ce, e, "gzip") || token_is(ce, e, "x-gzip"))
        return DTBI_CODING_GZIP;
    if (token_is(ce, e, "deflate"))
        return DTBI_CODING_DEFLATE;
    if (token_is(ce, e, "br"))
        return DTBI_CODING_BR;
    if (token_is(ce, e, "zstd"))
        return DTBI_CODING_ZSTD;
    return DTBI_CODING_UNKNOWN;
}

/* RFC 9110 qvalue: "0" ["." 0*3DIGIT] / "1" ["." 0*3("0")]. Returns 1 and sets *zero when
 * well-formed (zero: the value is 0), else 0. */
static int qvalue(const char *s, const char *e, int *zero)
{
    while (s < e && is_ows(*s))
        s++;
    while (e > s && is_ows(e[-1]))
        e--;
    if (s == e || (*s != '0' && *s != '1'))
        return 0;
    int one = *s == '1', nonzero = 0;
    s++;
    if (s < e) {
        if (*s != '.' || e - s > 4)
            return 0;
        for (s++; s < e; s++) {
            if (*s < '0' || *s > '9' || (one && *s != '0'))
                return 0;
            nonzero |= *s != '0';
        }
    }
    *zero = !one && !nonzero;
    return 1;
}

int dtbi_accepts_identity(const char *ae)
{
    int identity = -1, star = -1; /* -1 not listed, 0 refused, 1 accepted */
    const char *p = ae;
    if (ae == NULL)
        return 1; /* no preference: anything goes */
    while (*p != '\0') {
        const char *end = strchr(p, ',');
        if (end == NULL)
            end = p + strlen(p);
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *tok_end = semi != NULL ? semi : end;
        int zero = 0, ok = 1;
        /* parameters: only q matters; a malformed q drops the element */
        for (const char *q = semi; q != NULL && q < end;) {
            const char *next = memchr(q + 1, ';', (size_t)(end - q - 1));
            const char *pe = next != NULL ? next : end;
            const char *eq = memchr(q + 1, '=', (size_t)(pe - q - 1));
            if (eq != NULL && token_is(q + 1, eq, "q"))
                ok = qvalue(eq + 1, pe, &zero);
            q = next;
        }
        if (ok) {
            if (token_is(p, tok_end, "identity"))
                identity = !zero;
            else if (token_is(p, tok_end, "*"))
                star = !zero;
        }
        p = *end == ',' ? end + 1 : end;
    }
    if (identity >= 0)
        return identity;
    return star != 0;
}

/* ---- decoding ---------------------------------------------------------------------------- */

/* A growing output bounded by cap. */
struct out {
    char *data;
    size_t len, size, cap;
};

/* Room for more output: returns 0, -2 when the cap is reached, -3 out of memory. */
static int out_grow(struct out *o)
{
    size_t want;
    char *d;
    if (o->size > o->cap)
        return -2;
    want = o->size == 0 ? 64 * 1024 : o->size * 2;
    if (want > o->cap + 1)
        want = o->cap + 1; /* one byte past the cap tells "over" */
    if (want <= o->size)
        return -2;
    d = realloc(o->data, want);
    if (d == NULL)
        return -3;
    o->data = d;
    o->size = want;
    return 0;
}

#ifdef HAVE_ZLIB
static int inflate_all(const void *in, size_t len, int wbits, struct out *o)
{
    z_stream z;
    int rc = 0, zr;
    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, wbits) != Z_OK)
        return -3;
    z.next_in = (Bytef *)(uintptr_t)in;
    for (;;) {
        size_t left_in = len - (size_t)((const char *)z.next_in - (const char *)in);
        if (o->len == o->size && (rc = out_grow(o)) != 0)
            break;
        z.avail_in = left_in > UINT32_MAX ? UINT32_MAX : (uInt)left_in;
        z.next_out = (Bytef *)o->data + o->len;
        z.avail_out = (uInt)(o->size - o->len);
        zr = inflate(&z, Z_NO_FLUSH);
        o->len = o->size - z.avail_out;
        left_in = len - (size_t)((const char *)z.next_in - (const char *)in);
        if (zr == Z_STREAM_END) {
            if (left_in == 0)
                break;
            if (wbits <= 15 || inflateReset(&z) != Z_OK) { /* gzip: another member */
                rc = -1;
                break;
            }
            continue;
        }
        if (zr == Z_BUF_ERROR && left_in == 0 && z.avail_out > 0) {
            rc = -1; /* input ended before the stream did */
            break;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR) {
            rc = zr == Z_MEM_ERROR ? -3 : -1;
            break;
        }
    }
    inflateEnd(&z);
    if (rc == 0 && o->len > o->cap)
        rc = -2;
    return rc;
}
#endif

#ifdef HAVE_BROTLI
static int brotli_all(const void *in, size_t len, struct out *o)
{
    BrotliDecoderState *s = BrotliDecoderCreateInstance(NULL, NULL, NULL);
    const uint8_t *next_in = in;
    size_t avail_in = len;
    int rc = 0;
    if (s == NULL)
        return -3;
    for (;;) {
        if (o->len == o->size && (rc = out_grow(o)) != 0)
            break;
        uint8_t *next_out = (uint8_t *)o->data + o->len;
        size_t avail_out = o->size - o->len;
        BrotliDecoderResult r =
            BrotliDecoderDecompressStream(s, &avail_in, &next_in, &avail_out, &next_out, NULL);
        o->len = o->size - avail_out;
        if (r == BROTLI_DECODER_RESULT_SUCCESS) {
            rc = avail_in == 0 ? 0 : -1;
            break;
        }
        if (r == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT)
            continue;
        rc = -1; /* error, or input ended before the stream did */
        break;
    }
    BrotliDecoderDestroyInstance(s);
    if (rc == 0 && o->len > o->cap)
        rc = -2;
    return rc;
}
#endif

#ifdef HAVE_ZSTD
static int zstd_all(const void *in, size_t len, struct out *o)
{
    ZSTD_DCtx *d = ZSTD_createDCtx();
    ZSTD_inBuffer ib = {in, len, 0};
    size_t r = 1;
    int rc = 0;
    if (d == NULL)
        return -3;
    for (;;) {
        if (o->len == o->size && (rc = out_grow(o)) != 0)
            break;
        ZSTD_outBuffer ob = {o->data, o->size, o->len};
        r = ZSTD_decompressStream(d, &ob, &ib);
        o->len = ob.pos;
        if (ZSTD_isError(r)) {
            rc = -1;
            break;
        }
        if (ib.pos == ib.size && ob.pos < ob.size) {
            rc = r == 0 ? 0 : -1; /* r != 0: the last frame is cut short */
            break;
        }
    }
    ZSTD_freeDCtx(d);
    if (rc == 0 && o->len > o->cap)
        rc = -2;
    return rc;
}
#endif

int dtbi_decode(enum dtbi_coding c, const void *in, size_t len, size_t cap, char **out,
                size_t *out_len)
{
    struct out o = {NULL, 0, 0, cap};
    int rc = -4;
    *out = NULL;
    *out_len = 0;
    switch (c) {
#ifdef HAVE_ZLIB
    case DTBI_CODING_GZIP:
        rc = inflate_all(in, len, 16 + MAX_WBITS, &o);
        break;
    case DTBI_CODING_DEFLATE:
        /* "deflate" is the zlib format; some servers send raw deflate: both are read */
        rc = inflate_all(in, len, MAX_WBITS, &o);
        if (rc == -1) {
            o.len = 0;
            rc = inflate_all(in, len, -MAX_WBITS, &o);
        }
        break;
#endif
#ifdef HAVE_BROTLI
    case DTBI_CODING_BR:
        rc = brotli_all(in, len, &o);
        break;
#endif
#ifdef HAVE_ZSTD
    case DTBI_CODING_ZSTD:
        rc = zstd_all(in, len, &o);
        break;
#endif
    default:
        break;
    }
    if (rc != 0) {
        free(o.data);
        return rc;
    }
    if (o.data == NULL && (o.data = malloc(1)) == NULL)
        return -3;
    *out = o.data;
    *out_len = o.len;
    return 0;
}

/* ---- encoding ---------------------------------------------------------------------------- */

#ifdef HAVE_ZLIB
static int deflate_all(const void *in, size_t len, int wbits, char **out, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (len > UINT32_MAX || deflateInit2(&z, 1, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -3;
    size_t bound = deflateBound(&z, (uLong)len);
    char *buf = malloc(bound);
    if (buf == NULL) {
        deflateEnd(&z);
        return -3;
    }
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)buf;
    z.avail_out = (uInt)bound;
    int zr = deflate(&z, Z_FINISH);
    *out_len = bound - z.avail_out;
    deflateEnd(&z);
    if (zr != Z_STREAM_END) {
        free(buf);
        return -3;
    }
    *out = buf;
    return 0;
}
#endif

int dtbi_encode(enum dtbi_coding c, const void *in, size_t len, char **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    switch (c) {
#ifdef HAVE_ZLIB
    case DTBI_CODING_GZIP:
        return deflate_all(in, len, 16 + MAX_WBITS, out, out_len);
    case DTBI_CODING_DEFLATE:
        return deflate_all(in, len, MAX_WBITS, out, out_len);
#endif
#ifdef HAVE_BROTLI
    case DTBI_CODING_BR: {
        size_t n = BrotliEncoderMaxCompressedSize(len);
        char *buf = n > 0 ? malloc(n) : NULL;
        if (buf == NULL)
            return -3;
        if (!BrotliEncoderCompress(1, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_TEXT, len, in, &n,
                                   (uint8_t *)buf)) {
            free(buf);
            return -3;
        }
        *out = buf;
        *out_len = n;
        return 0;
    }
#endif
#ifdef HAVE_ZSTD
    case DTBI_CODING_ZSTD: {
        size_t n = ZSTD_compressBound(len);
        char *buf = malloc(n > 0 ? n : 1);
        if (buf == NULL)
            return -3;
        n = ZSTD_compress(buf, n, in, len, 1);
        if (ZSTD_isError(n)) {
            free(buf);
            return -3;
        }
        *out = buf;
        *out_len = n;
        return 0;
    }
#endif
    default:
        return -4;
    }
}

/* ---- sniffing ---------------------------------------------------------------------------- */

int dtbi_sniffs_as_html(const char *body, size_t len)
{
    /* WHATWG MIME Sniffing, "identifying a resource with an unknown MIME type": the HTML
     * patterns, after leading whitespace bytes, each followed by a tag-terminating byte */
    static const char *const patterns[] = {"<!DOCTYPE HTML",
                                           "<HTML",
                                           "<HEAD",
                                           "<SCRIPT",
                                           "<IFRAME",
                                           "<H1",
                                           "<DIV",
                                           "<FONT",
                                           "<TABLE",
                                           "<A",
                                           "<STYLE",
                                           "<TITLE",
                                           "<B",
                                           "<BODY",
                                           "<BR",
                                           "<P",
                                           "<!--"};
    size_t i = 0;
    while (i < len && (body[i] == '\t' || body[i] == '\n' || body[i] == '\f' || body[i] == '\r' ||
                       body[i] == ' '))
        i++;
    for (size_t k = 0; k < sizeof(patterns) / sizeof(patterns[0]); k++) {
        size_t n = strlen(patterns[k]);
        if (len - i > n && strncasecmp(body + i, patterns[k], n) == 0 &&
            (body[i + n] == ' ' || body[i + n] == '>'))
            return 1;
    }
    return 0;
}
