/*
 * filter_int.h - private to the response filter's files (filter.c, filter_guards.c,
 * filter_copy.c): the page as the filter sees it, the size cap, and the functions one file of
 * the filter calls in another. Not installed.
 */
#ifndef DTB_FILTER_INT_H
#define DTB_FILTER_INT_H

#include <stdint.h>

#include "internal.h"

/* Bodies are decoded (and files read) up to this size; past it the response is left alone. */
#define BODY_CAP (16u << 20)

/* The page as the filter sees it: the app's bytes, or their decoded form. */
struct page {
    enum dtbi_coding coding; /* the app's Content-Encoding */
    char *decoded;           /* malloc'd when the body was decoded */
    const char *body;
    size_t len;
};

/* ---- the guards (filter_guards.c) ---- */

/* Case-insensitive "is this header's media type one of these" (parameters ignored). */
int dtbi_media_type_is(const char *ct, const char *type);
/* The guards that need no body, or NULL when none skips. *sniff is set when the response names
 * no Content-Type, so the body decides (after decoding) whether it is HTML. */
const char *dtbi_skip_reason(struct dtb_request *rq, struct MHD_Connection *con, unsigned status,
                             struct MHD_Response *response, const char *ct, int known,
                             int *html_like, int *sniff, int *navigation);
/* Decodes the body when it is encoded, then the checks that need the bytes: sniffing for a
 * response with no Content-Type, and a start that looks like HTML. NULL when the page passes. */
const char *dtbi_body_reason(struct MHD_Response *response, int sniff, int navigation,
                             int *html_like, struct page *pg);
/* Reads a file response's bytes with pread at its offset (the fd's own offset never moves).
 * Returns NULL and *out (malloc'd), or why not. */
const char *dtbi_read_file(int fd, uint64_t offset, uint64_t size, char **out);
/* Where the toolbar goes, or -1 to skip (reason set). */
long dtbi_find_insert_point(struct dtb_request *rq, const char *body, size_t len, int xhtml,
                            const char **reason);
/* 1 when a 3xx answer to a browser navigation is to become the intercepted-redirect page. */
int dtbi_wants_intercept(struct dtb_request *rq, struct MHD_Connection *con, unsigned status,
                         struct MHD_Response *response);
/* 1 for a browser navigation: Sec-Fetch-Dest: document, or an Accept naming text/html. */
int dtbi_is_navigation(struct MHD_Connection *con);

/* ---- the toolbar's copy of a response (filter_copy.c) ---- */

/* A CSP nonce usable on the toolbar's script tag, from script-src-elem, script-src or
 * default-src, into out (base64 characters only). 1 when found, else 0. */
int dtbi_csp_nonce(const char *csp, char *out, size_t outlen);
/* Appends the toolbar's markup (the host element and its script) to b. */
void dtbi_append_markup(struct dtb_request *rq, struct dtb_buf *b, const char *nonce);
/* The page with the toolbar's markup at byte at, in one new buffer (NULL when out of memory). */
char *dtbi_splice(struct dtb_request *rq, const char *body, size_t len, size_t at,
                  const char *nonce, size_t *out_len);
/* The injected page as an iovec response over the app's held body (hold). On success the
 * response owns the hold; on failure (NULL) the caller keeps it. */
struct MHD_Response *dtbi_held_page_response(struct dtb_request *rq, void *hold, const char *body,
                                             size_t len, size_t at, const char *nonce,
                                             size_t *out_len);
/* The app's headers onto the toolbar's copy of its response, and the toolbar's own
 * (Cache-Control, X-Debug-Toolbar-Skip, Vary, X-Debug-Toolbar-Id, Server-Timing). Returns 0, or
 * -1 (out of memory). */
int dtbi_add_headers(struct dtb_request *rq, struct MHD_Response *response,
                     struct MHD_Response *copy, int drop_encoding, int fresh, const char *why_not,
                     int vary_ae);
/* Queues the intercepted-redirect page (with the toolbar and a link to the Location) in place
 * of the app's 3xx answer. */
enum MHD_Result dtbi_queue_intercepted(struct dtb_request *rq, struct MHD_Connection *con,
                                       unsigned status, struct MHD_Response *response, int64_t t0);

#endif
