/*
 * http.h - a small libcurl client for the integration tests (test-only dependency).
 */
#ifndef DTB_TEST_HTTP_H
#define DTB_TEST_HTTP_H

#include <stddef.h>

struct http_resp {
    long status;
    char *body; /* NUL-terminated; len excludes the NUL */
    size_t len;
    char *headers; /* raw header block */
};

/* method: "GET", "HEAD", "POST"; headers: NULL-terminated list of "Name: value"; body may be
 * NULL. Returns 0 and fills resp, or -1 (transport error). */
int http_request(const char *method, const char *url, const char *const *headers, const char *body,
                 struct http_resp *resp);
int http_get(const char *url, struct http_resp *resp);
/* Value of header name (case-insensitive) as a new string, or NULL. */
char *http_header(const struct http_resp *resp, const char *name);
/* Number of times needle occurs in the body. */
size_t http_count(const struct http_resp *resp, const char *needle);
void http_resp_free(struct http_resp *resp);

/* GETs base + path and waits (10 s at most) for the record of that request, named by its
 * X-Debug-Toolbar-Id. Returns the record (a new jansson reference; declare json_t by including
 * <jansson.h> first) with *id_out malloc'd, or NULL. */
#ifdef JANSSON_H
json_t *http_record_for(const char *base, const char *path, char **id_out);
#endif

/* Starts app wrapped by tb on 127.0.0.1, an ephemeral port, MHD's internal polling thread;
 * base gets "http://127.0.0.1:PORT". NULL when it cannot start. (Include <debugtoolbar.h>
 * first.) */
#ifdef DEBUGTOOLBAR_H
struct MHD_Daemon *http_toolbar_daemon(struct dtb_toolbar *tb, MHD_AccessHandlerCallback app,
                                       char base[64]);
#endif

#endif
