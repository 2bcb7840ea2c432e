/*
 * fuzz_inject.c - any bytes as a response body with any content type: the HTML5 body-end finder,
 * the document sniffing and the XHTML path (libxml2) must never read out of bounds, and the
 * place they name must be inside the body, right before a "</body" when there is one; the
 * insert point is -1 exactly when a reason is given, else a '<' or the end of the body.
 * The incremental scanner, fed the body in chunks whose sizes come from the input's bytes, must
 * give the same answer, and its streaming-safe offset must never pass the insertion point.
 * The first byte picks the content type (its other bits pick the chunking).
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    int xhtml = data[0] & 1;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    (void)dtbi_looks_like_html(body, len);
    size_t at = dtbi_find_body_end(body, len);
    if (at > len)
        __builtin_trap();
    if (at < len && (len - at < 6 || strncasecmp(body + at, "</body", 6) != 0))
        __builtin_trap();
    const char *why = NULL;
    long ip = dtbi_html_insert_point(body, len, &why);
    if (ip < -1 || ip > (long)len || (ip < 0) != (why != NULL))
        __builtin_trap();
    if (ip >= 0 && (size_t)ip < len && body[ip] != '<')
        __builtin_trap();
    struct dtbi_scan sc;
    dtbi_scan_init(&sc);
    size_t i = 0, safe = 0;
    uint32_t h = data[0];
    while (i < len) {
        h = h * 2654435761u + (unsigned char)body[i];
        size_t n = (data[0] & 2) ? 1 : 1 + (h >> 24) % ((data[0] & 4) ? 7 : 300);
        if (n > len - i)
            n = len - i;
        dtbi_scan_feed(&sc, body + i, n);
        i += n;
        size_t now = dtbi_scan_safe(&sc);
        if (now < safe || now > i || (ip >= 0 && now > (size_t)ip))
            __builtin_trap();
        safe = now;
    }
    const char *swhy = NULL;
    if (dtbi_scan_finish(&sc, &swhy) != ip || swhy != why || dtbi_scan_body_end(&sc) != at)
        __builtin_trap();
    if (xhtml) {
        long x = dtbi_xhtml_body_end(body, len);
        if (x >= 0 && ((size_t)x > len || len - (size_t)x < 6 || strncmp(body + x, "</", 2) != 0))
            __builtin_trap();
    }
    return 0;
}
