/*
 * buf.c - growable byte buffer (struct dtb_buf) and the one HTML-escaping helper.
 *
 * Every recorded string that reaches a page goes through dtb_buf_append_html(). The buffer
 * latches allocation failures (b->failed) so callers check once after a run of appends.
 * Not thread-safe: a buffer belongs to one thread at a time.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void dtb_buf_init(struct dtb_buf *b)
{
    memset(b, 0, sizeof(*b));
}

void dtb_buf_free(struct dtb_buf *b)
{
    if (b == NULL)
        return;
    free(b->data);
    memset(b, 0, sizeof(*b));
}

void dtb_buf_reset(struct dtb_buf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

int dtb_buf_reserve(struct dtb_buf *b, size_t extra)
{
    if (b->failed)
        return -1;
    if (extra > SIZE_MAX - b->len - 1) {
        b->failed = 1;
        return -1;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(b->data, cap);
    if (p == NULL) {
        b->failed = 1;
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

int dtb_buf_append(struct dtb_buf *b, const void *data, size_t n)
{
    if (dtb_buf_reserve(b, n) != 0)
        return -1;
    if (n > 0)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int dtb_buf_append_str(struct dtb_buf *b, const char *s)
{
    return dtb_buf_append(b, s, strlen(s));
}

int dtb_buf_appendf(struct dtb_buf *b, const char *fmt, ...)
{
    va_list ap;
    char small[256];
    if (b->failed)
        return -1;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return -1;
    }
    if ((size_t)n < sizeof(small))
        return dtb_buf_append(b, small, (size_t)n);
    if (dtb_buf_reserve(b, (size_t)n) != 0)
        return -1;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

int dtb_buf_append_html(struct dtb_buf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t run = 0; /* start of the pending run of bytes copied as they are */
    size_t i = 0;
    if (s == NULL)
        return b->failed ? -1 : 0;
    while (i < n) {
        const char *rep = NULL;
        size_t step = 1;
        switch (p[i]) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        case '\0':
            rep = "\xEF\xBF\xBD";
            break;
        default:
            if (p[i] >= 0x80) {
                step = utf8_seq_len(p + i, n - i);
                if (step == 0) {
                    rep = "\xEF\xBF\xBD"; /* U+FFFD for an invalid byte */
                    step = 1;
                }
            }
            break;
        }
        if (rep != NULL) {
            dtb_buf_append(b, s + run, i - run);
            dtb_buf_append_str(b, rep);
            run = i + step;
        }
        i += step;
    }
    dtb_buf_append(b, s + run, n - run);
    return b->failed ? -1 : 0;
}

int dtb_buf_append_html_str(struct dtb_buf *b, const char *s)
{
    if (s == NULL)
        return b->failed ? -1 : 0;
    return dtb_buf_append_html(b, s, strlen(s));
}

char *dtb_buf_steal(struct dtb_buf *b)
{
    char *d;
    if (b->failed) {
        dtb_buf_free(b);
        return NULL;
    }
    if (b->data == NULL && dtb_buf_append(b, "", 0) != 0)
        return NULL;
    d = b->data;
    memset(b, 0, sizeof(*b));
    return d;
}

json_t *dtbi_json_textn(const char *s, size_t n)
{
    struct dtb_buf b;
    size_t i = 0;
    json_t *j = json_stringn(s, n);
    if (j != NULL)
        return j; /* valid UTF-8 (the common case) */
    dtb_buf_init(&b);
    while (i < n) {
        size_t step = utf8_seq_len((const unsigned char *)s + i, n - i);
        if (step == 0) {
            dtb_buf_append(&b, "\xEF\xBF\xBD", 3);
            i++;
        } else {
            dtb_buf_append(&b, s + i, step);
            i += step;
        }
    }
    j = b.failed ? NULL : json_stringn(b.data != NULL ? b.data : "", b.len);
    dtb_buf_free(&b);
    return j;
}

json_t *dtb_json_text(const char *s)
{
    return s == NULL ? json_null() : dtbi_json_textn(s, strlen(s));
}
