/*
 * filter_guards.c - whether a response gets the toolbar: the guards that need no body (status,
 * content type, redirect, attachment, fetch metadata, XHR, a body we cannot see), the ones that
 * need the bytes (decoding, sniffing, a start that looks like HTML), reading a file response
 * under the size cap, where the toolbar goes, and whether a redirect is to be intercepted. Each
 * guard names why it skipped; the queueing paths are filter.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "filter_int.h"

/* Case-insensitive "is this header's media type one of these" (parameters ignored). */
int dtbi_media_type_is(const char *ct, const char *type)
{
    size_t n = strlen(type);
    if (ct == NULL)
        return 0;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    return strncasecmp(ct, type, n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t');
}

static const char *request_header(struct MHD_Connection *con, const char *name)
{
    return MHD_lookup_connection_value(con, MHD_HEADER_KIND, name);
}

/* The guards that need no body. *sniff is set when the response names no Content-Type, so
 * the body decides (after decoding) whether it is HTML. */
const char *dtbi_skip_reason(struct dtb_request *rq, struct MHD_Connection *con, unsigned status,
                             struct MHD_Response *response, const char *ct, int known,
                             int *html_like, int *sniff, int *navigation)
{
    const char *v;
    *html_like = 0;
    *sniff = 0;
    *navigation = 0;
    if (status < 200 || status == 204 || status == 304)
        return "status without a body";
    if (ct == NULL)
        *sniff = 1;
    else if (!dtbi_media_type_is(ct, "text/html") &&
             !dtbi_media_type_is(ct, "application/xhtml+xml"))
        return "not an HTML content type";
    *html_like = !*sniff;
    if (status >= 300 && status < 400)
        return "redirect";
    v = MHD_get_response_header(response, "Content-Disposition");
    if (v != NULL && strncasecmp(v, "attachment", 10) == 0)
        return "Content-Disposition: attachment";
    v = request_header(con, "Sec-Fetch-Dest");
    if (v != NULL && strcasecmp(v, "document") != 0 && strcasecmp(v, "iframe") != 0 &&
        strcasecmp(v, "frame") != 0)
        return "Sec-Fetch-Dest is not a document";
    /* a browser navigation says so: any text/html body is then a page the browser renders */
    *navigation = v != NULL;
    v = request_header(con, "X-Requested-With");
    if (v != NULL && strcasecmp(v, "XMLHttpRequest") == 0)
        return "X-Requested-With: XMLHttpRequest";
    if (!known)
        return "body not visible (callback or pipe)";
    return NULL;
}

/* Decodes the body when it is encoded, then the checks that need the bytes: sniffing for a
 * response with no Content-Type, and a start that looks like HTML. */
const char *dtbi_body_reason(struct MHD_Response *response, int sniff, int navigation,
                             int *html_like, struct page *pg)
{
    const char *ce = MHD_get_response_header(response, MHD_HTTP_HEADER_CONTENT_ENCODING);
    pg->coding = dtbi_coding_parse(ce);
    if (pg->coding == DTBI_CODING_UNKNOWN || !dtbi_coding_available(pg->coding))
        return "Content-Encoding not supported";
    if (pg->coding != DTBI_CODING_IDENTITY) {
        size_t n = 0;
        switch (dtbi_decode(pg->coding, pg->body, pg->len, BODY_CAP, &pg->decoded, &n)) {
        case 0:
            break;
        case -2:
            return "decoded body over the size cap";
        case -3:
            return "out of memory while decoding";
        default:
            return "encoded body does not decode";
        }
        pg->body = pg->decoded;
        pg->len = n;
    }
    if (sniff) {
        if (!dtbi_sniffs_as_html(pg->body, pg->len))
            return "not an HTML content type";
        *html_like = 1;
        const char *xcto = MHD_get_response_header(response, "X-Content-Type-Options");
        if (xcto != NULL && strncasecmp(xcto, "nosniff", 7) == 0)
            return "no Content-Type and nosniff";
    }
    /* a navigation renders any text/html body as a page; otherwise it must start like one */
    if (!(navigation && !sniff) && !dtbi_looks_like_html(pg->body, pg->len))
        return "body does not start like an HTML document";
    return NULL;
}

/* Reads a file response's bytes with pread at its offset (the fd's own offset never moves).
 * Returns NULL and *out (malloc'd), or why not. */
const char *dtbi_read_file(int fd, uint64_t offset, uint64_t size, char **out)
{
    size_t got = 0;
    char *buf;
    *out = NULL;
    if (size > BODY_CAP)
        return "file over the size cap";
    buf = malloc(size > 0 ? (size_t)size : 1);
    if (buf == NULL)
        return "out of memory while reading the file";
    while (got < size) {
        ssize_t n = pread(fd, buf + got, (size_t)size - got, (off_t)(offset + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            free(buf);
            return "file could not be read";
        }
        got += (size_t)n;
    }
    *out = buf;
    return NULL;
}

/* Where the toolbar goes, or -1 to skip (reason set). */
long dtbi_find_insert_point(struct dtb_request *rq, const char *body, size_t len, int xhtml,
                            const char **reason)
{
    const char *ib = rq->tb->cfg.insert_before;
    if (xhtml) {
        long at = dtbi_xhtml_body_end(body, len);
        if (at < 0)
            *reason = "XHTML document not well-formed or without body";
        return at;
    }
    if (ib != NULL && strcasecmp(ib, "</body>") != 0) {
        /* A custom insert_before marker: its last occurrence, else the end. */
        size_t n = strlen(ib);
        for (size_t i = len >= n ? len - n + 1 : 0; n > 0 && i-- > 0;)
            if (strncasecmp(body + i, ib, n) == 0)
                return (long)i;
        return (long)len;
    }
    return dtbi_html_insert_point(body, len, reason);
}

/* 1 for a browser navigation: Sec-Fetch-Dest: document, or an Accept naming text/html. */
int dtbi_is_navigation(struct MHD_Connection *con)
{
    const char *dest = request_header(con, "Sec-Fetch-Dest");
    const char *accept = request_header(con, MHD_HTTP_HEADER_ACCEPT);
    if (dest != NULL)
        return strcasecmp(dest, "document") == 0;
    return accept != NULL && strcasestr(accept, "text/html") != NULL;
}

/* With intercept_redirects, a 3xx answer to a browser navigation becomes a small page with the
 * toolbar and a link to the target, so the developer sees the request that redirected. */
int dtbi_wants_intercept(struct dtb_request *rq, struct MHD_Connection *con, unsigned status,
                         struct MHD_Response *response)
{
    const char *accept = request_header(con, MHD_HTTP_HEADER_ACCEPT);
    const char *dest = request_header(con, "Sec-Fetch-Dest");
    return rq->tb->cfg.intercept_redirects && status >= 300 && status < 400 && status != 304 &&
           accept != NULL && strstr(accept, "text/html") != NULL &&
           (dest == NULL || strcasecmp(dest, "document") == 0) &&
           MHD_get_response_header(response, MHD_HTTP_HEADER_LOCATION) != NULL;
}
