/*
 * http.c - libcurl wrapper for the integration tests: one blocking request at a time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <curl/curl.h>
#include <debugtoolbar.h>
#include <jansson.h>
#include <microhttpd.h>

#include "http.h"

struct sink {
    char *data;
    size_t len, cap;
};

/* Appends what curl received; the buffer doubles (a large body in many small writes must not
 * cost a copy of everything so far each time: under AddressSanitizer realloc always copies). */
static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct sink *s = userdata;
    size_t n = size * nmemb;
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + n + 1)
            cap *= 2;
        char *p = realloc(s->data, cap);
        if (p == NULL)
            return 0;
        s->data = p;
        s->cap = cap;
    }
    memcpy(s->data + s->len, ptr, n);
    s->len += n;
    s->data[s->len] = '\0';
    return n;
}

int http_request(const char *method, const char *url, const char *const *headers, const char *body,
                 struct http_resp *resp)
{
    CURL *c = curl_easy_init();
    struct curl_slist *hl = NULL;
    struct sink b = {0}, h = {0};
    CURLcode rc;
    memset(resp, 0, sizeof(*resp));
    if (c == NULL)
        return -1;
    for (size_t i = 0; headers != NULL && headers[i] != NULL; i++)
        hl = curl_slist_append(hl, headers[i]);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    /* libcurl must not ignore SIGPIPE for the process while it works: the tests must see
     * one the toolbar would raise */
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    else if (strcmp(method, "POST") == 0)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
    else if (strcmp(method, "GET") != 0)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
        free(b.data);
        free(h.data);
        return -1;
    }
    resp->body = b.data ? b.data : strdup("");
    resp->len = b.len;
    resp->headers = h.data ? h.data : strdup("");
    return 0;
}

int http_get(const char *url, struct http_resp *resp)
{
    return http_request("GET", url, NULL, NULL, resp);
}

char *http_header(const struct http_resp *resp, const char *name)
{
    size_t n = strlen(name);
    const char *p = resp->headers;
    char *last = NULL;
    while (p != NULL && *p != '\0') {
        const char *eol = strstr(p, "\r\n");
        size_t linelen = eol ? (size_t)(eol - p) : strlen(p);
        if (linelen > n && strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1;
            while (*v == ' ')
                v++;
            free(last); /* after a redirect or 100-continue, the last block wins */
            last = strndup(v, linelen - (size_t)(v - p));
        }
        p = eol ? eol + 2 : NULL;
    }
    return last;
}

size_t http_count(const struct http_resp *resp, const char *needle)
{
    size_t count = 0, n = strlen(needle);
    const char *p = resp->body;
    while (p != NULL && (p = memmem(p, resp->len - (size_t)(p - resp->body), needle, n)) != NULL) {
        count++;
        p += n;
    }
    return count;
}

void http_resp_free(struct http_resp *resp)
{
    free(resp->body);
    free(resp->headers);
    memset(resp, 0, sizeof(*resp));
}

json_t *http_record_for(const char *base, const char *path, char **id_out)
{
    char url[256];
    struct http_resp r;
    char *id;
    snprintf(url, sizeof(url), "%s%s", base, path);
    if (http_get(url, &r) != 0)
        return NULL;
    id = http_header(&r, "X-Debug-Toolbar-Id");
    http_resp_free(&r);
    if (id == NULL)
        return NULL;
    snprintf(url, sizeof(url), "%s/_debug_toolbar/api/requests/%s", base, id);
    for (int i = 0; i < 1000; i++) { /* 10 s at most: the record is stored at completion */
        if (http_get(url, &r) != 0)
            break;
        if (r.status == 200) {
            json_t *j = json_loads(r.body, 0, NULL);
            http_resp_free(&r);
            *id_out = id;
            return j;
        }
        http_resp_free(&r);
        usleep(10000);
    }
    free(id);
    return NULL;
}

struct MHD_Daemon *http_toolbar_daemon(struct dtb_toolbar *tb, MHD_AccessHandlerCallback app,
                                       char base[64])
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d = dtb_start_daemon(tb, MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, app,
                                            NULL, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
    if (d != NULL)
        snprintf(base, 64, "http://127.0.0.1:%u",
                 (unsigned)MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port);
    return d;
}
