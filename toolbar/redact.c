/*
 * redact.c - which names are secrets' names; URLs with their secret parameters hidden; copies
 * of recorded JSON and pair lists with secrets' values hidden and lists cut at record_max_pairs
 * (dtb_toolbar_redact_json, dtb_toolbar_redact_pairs, for panels).
 *
 * A name matches by rule, never by length: it is normalised (ASCII lower case, '-', '_' and '.'
 * removed) and compared with the normalised patterns of the redact key. A long pattern
 * ("password", "apikey", "phpsessid") matches anywhere in the normalised name; a short one (up
 * to DTBI_REDACT_SHORT characters: "key", "sid", "jwt", "pwd", "auth") only a whole segment of
 * the name, so that "X-API-Key", "apiKey", "connect.sid" and "user_sid" match while "monkey",
 * "keyword", "inside" and "author" do not. Names of any length are matched.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

size_t dtbi_redact_normalize(const char *name, size_t n, char *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c == '-' || c == '_' || c == '.')
            continue;
        out[k++] = (char)(c < 0x80 ? tolower(c) : c);
    }
    out[k] = '\0';
    return k;
}

/* Character classes for segment boundaries: 0 separator, 1 lower case (and any non-ASCII
 * byte), 2 upper case, 3 digit. */
static int cclass(unsigned char c)
{
    if (c >= 0x80 || islower(c))
        return 1;
    if (isupper(c))
        return 2;
    if (isdigit(c))
        return 3;
    return 0;
}

/* 1 when pattern (normalised, plen bytes) equals a whole segment of name. */
static int segment_match(const char *name, size_t n, const char *pattern, size_t plen)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && cclass((unsigned char)name[i]) == 0)
            i++;
        size_t start = i;
        while (i < n) {
            int c = cclass((unsigned char)name[i]);
            if (c == 0)
                break;
            if (i > start) {
                int p = cclass((unsigned char)name[i - 1]);
                if ((p == 1 && c == 2) || (p != 3 && c == 3) || (p == 3 && c != 3))
                    break; /* "apiKey", "key2", "2fa" */
                /* "APIKey": the last capital of a run before a lower-case letter starts the
                 * next segment */
                if (p == 2 && c == 2 && i + 1 < n && cclass((unsigned char)name[i + 1]) == 1)
                    break;
            }
            i++;
        }
        if (i - start == plen && strncasecmp(name + start, pattern, plen) == 0)
            return 1;
    }
    return 0;
}

int dtbi_redact_match(const json_t *patterns, const char *name, size_t n)
{
    char small[256], *norm = small;
    size_t nlen, i;
    const json_t *pat;
    int found = 0;
    if (name == NULL || json_array_size(patterns) == 0)
        return 0;
    if (n >= sizeof(small)) {
        norm = malloc(n + 1);
        if (norm == NULL)
            return 1; /* cannot tell: keep it hidden */
    }
    nlen = dtbi_redact_normalize(name, n, norm);
    json_array_foreach(patterns, i, pat)
    {
        const char *p = json_string_value(pat);
        size_t plen = json_string_length(pat);
        if (p == NULL || plen == 0)
            continue;
        if (plen <= DTBI_REDACT_SHORT ? segment_match(name, n, p, plen)
                                      : plen <= nlen && memmem(norm, nlen, p, plen) != NULL) {
            found = 1;
            break;
        }
    }
    if (norm != small)
        free(norm);
    return found;
}

int dtb_toolbar_is_secret_namen(const struct dtb_toolbar *tb, const char *name, size_t n)
{
    return tb != NULL && dtbi_redact_match(tb->cfg.redact, name, n);
}

int dtb_toolbar_is_secret_name(const struct dtb_toolbar *tb, const char *name)
{
    return name != NULL && dtb_toolbar_is_secret_namen(tb, name, strlen(name));
}

/* Appends one "name=value" parameter of a query or fragment, its value hidden when the
 * decoded name is a secret's. */
static void url_param(const struct dtb_toolbar *tb, struct dtb_buf *out, const char *p, size_t n)
{
    const char *eq = memchr(p, '=', n);
    char *name;
    if (eq == NULL) {
        dtb_buf_append(out, p, n);
        return;
    }
    name = malloc((size_t)(eq - p) + 1);
    if (name == NULL) {
        out->failed = 1;
        return;
    }
    memcpy(name, p, (size_t)(eq - p));
    name[eq - p] = '\0';
    for (char *c = name; *c != '\0'; c++)
        if (*c == '+')
            *c = ' ';
    size_t len = MHD_http_unescape(name); /* "api%2Dkey" is "api-key" */
    dtb_buf_append(out, p, (size_t)(eq - p) + 1);
    if (dtb_toolbar_is_secret_namen(tb, name, len))
        dtb_buf_append_str(out, DTB_REDACTED);
    else
        dtb_buf_append(out, eq + 1, n - (size_t)(eq + 1 - p));
    free(name);
}

/* Appends the parameters of p[0..n) (split at '&' and ';'), secret values hidden. */
static void url_params(const struct dtb_toolbar *tb, struct dtb_buf *out, const char *p, size_t n)
{
    while (n > 0) {
        size_t k = 0;
        while (k < n && p[k] != '&' && p[k] != ';')
            k++;
        url_param(tb, out, p, k);
        if (k < n)
            dtb_buf_append(out, p + k, 1);
        else
            break;
        p += k + 1;
        n -= k + 1;
    }
}

char *dtb_toolbar_redact_url(const struct dtb_toolbar *tb, const char *text)
{
    struct dtb_buf out;
    size_t len = strlen(text);
    const char *q = strpbrk(text, "?#");
    dtb_buf_init(&out);
    if (q == NULL || (text[0] != '/' && strstr(text, "://") == NULL)) {
        dtb_buf_append(&out, text, len);
        return dtb_buf_steal(&out);
    }
    dtb_buf_append(&out, text, (size_t)(q - text));
    while (*q == '?' || *q == '#') {
        const char *end = q + 1 + strcspn(q + 1, *q == '?' ? "#" : "");
        dtb_buf_append(&out, q, 1);
        url_params(tb, &out, q + 1, (size_t)(end - q - 1));
        q = end;
    }
    return dtb_buf_steal(&out);
}

/* ---- copies of recorded data with secrets hidden (for panels) ---- */

/* "N more not recorded", where a list is cut at record_max_pairs. */
static json_t *omitted_note(size_t n)
{
    char text[64];
    snprintf(text, sizeof(text), "\xE2\x80\xA6 %zu more not recorded", n);
    return json_string(text);
}

static json_t *redact(const struct dtb_toolbar *tb, const json_t *v, int depth)
{
    const char *key;
    json_t *item, *out;
    size_t i;
    if (depth > 64)
        return json_string("\xE2\x80\xA6");
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        out = json_object();
        i = 0;
        json_object_foreach((json_t *)v, key, item)
        {
            if (i++ == tb->cfg.record_max_pairs) {
                json_object_set_new(out, "\xE2\x80\xA6", omitted_note(json_object_size(v) - i + 1));
                break;
            }
            json_t *c = dtb_toolbar_is_secret_name(tb, key) ? json_string(DTB_REDACTED)
                                                            : redact(tb, item, depth + 1);
            if (c == NULL || json_object_set_new(out, key, c) != 0) {
                json_decref(out);
                return NULL;
            }
        }
        return out;
    case JSON_ARRAY:
        out = json_array();
        json_array_foreach(v, i, item)
        {
            if (i == tb->cfg.record_max_pairs) {
                json_array_append_new(out, omitted_note(json_array_size(v) - i));
                break;
            }
            if (json_array_append_new(out, redact(tb, item, depth + 1)) != 0) {
                json_decref(out);
                return NULL;
            }
        }
        return out;
    default:
        return json_deep_copy(v);
    }
}

json_t *dtb_toolbar_redact_json(const struct dtb_toolbar *tb, const json_t *v)
{
    return v == NULL ? NULL : redact(tb, v, 0);
}

json_t *dtb_toolbar_redact_pairs(const struct dtb_toolbar *tb, const json_t *pairs)
{
    json_t *out = json_array();
    size_t i;
    const json_t *p;
    if (out == NULL)
        return NULL;
    json_array_foreach(pairs, i, p)
    {
        const json_t *name = json_array_get(p, 0), *value = json_array_get(p, 1);
        json_t *v;
        if (dtb_toolbar_is_secret_namen(tb, json_string_value(name), json_string_length(name))) {
            v = json_string(DTB_REDACTED);
        } else if (json_is_string(value) && strpbrk(json_string_value(value), "?#") != NULL) {
            /* a URL's secret parameters: Referer, Location, a "next" argument... */
            char *u = dtb_toolbar_redact_url(tb, json_string_value(value));
            v = u != NULL ? dtb_json_text(u) : NULL;
            free(u);
        } else {
            v = json_incref((json_t *)value);
        }
        if (json_array_append_new(
                out, json_pack("[Oo]", name ? name : json_string_nocheck(""), v)) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}
