/*
 * routing.c - the Routes panel: the app's routes (dtb_route_add, process-wide), with the one
 * that served this request marked: the one the app named (dtb_route_matched) or else the first
 * whose method and pattern match, with the values its <placeholders> took.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <debugtoolbar/state.h>

#include "panels.h"

struct route {
    char *method, *pattern, *name;
};

static pthread_mutex_t routes_lock = PTHREAD_MUTEX_INITIALIZER;
static struct route *routes;
static size_t nroutes, routes_cap;
/* Counts the changes of the list (dtb_route_add, dtb_routes_clear). Under routes_lock. */
static unsigned long routes_gen;

/* A toolbar's panel state: the routes as JSON, made for the first record that lists them and
 * shared by every later one (read-only; jansson's reference counts are atomic) until the list
 * changes; kept only whole. Under routes_lock. */
struct routing_state {
    json_t *list;
    unsigned long gen; /* routes_gen when list was made */
};

struct routing_req {
    const char *matched; /* named by the app (arena), or NULL */
};

int dtb_route_add(const char *method, const char *pattern, const char *name)
{
    struct route r;
    int rc = -1;
    if (pattern == NULL || pattern[0] != '/')
        return -1;
    r.method = strdup(method != NULL ? method : "*");
    r.pattern = strdup(pattern);
    r.name = strdup(name != NULL ? name : "");
    pthread_mutex_lock(&routes_lock);
    if (r.method != NULL && r.pattern != NULL && r.name != NULL) {
        if (nroutes == routes_cap) {
            size_t cap = routes_cap ? routes_cap * 2 : 16;
            struct route *n = realloc(routes, cap * sizeof(*n));
            if (n != NULL) {
                routes = n;
                routes_cap = cap;
            }
        }
        if (nroutes < routes_cap) {
            routes[nroutes++] = r;
            rc = 0;
            routes_gen++;
        }
    }
    pthread_mutex_unlock(&routes_lock);
    if (rc != 0) {
        free(r.method);
        free(r.pattern);
        free(r.name);
    }
    return rc;
}

void dtb_routes_clear(void)
{
    pthread_mutex_lock(&routes_lock);
    for (size_t i = 0; i < nroutes; i++) {
        free(routes[i].method);
        free(routes[i].pattern);
        free(routes[i].name);
    }
    free(routes);
    routes = NULL;
    nroutes = routes_cap = 0;
    routes_gen++;
    pthread_mutex_unlock(&routes_lock);
}

void dtb_route_matched(const char *name)
{
    DTB_TOOLBAR_SCOPE();
    struct dtb_request *rq;
    struct routing_req *st = dtbi_current_panel_state("routes", &rq);
    if (st != NULL && name != NULL)
        st->matched = dtb_request_strdup(rq, name);
}

static void *routing_start(void *state, struct dtb_request *rq)
{
    (void)state;
    return dtb_request_alloc(rq, sizeof(struct routing_req));
}

/* Matches path against pattern; on success fills args (an object) and returns 1. */
static int match(const char *pattern, const char *path, json_t *args)
{
    const char *p = pattern, *s = path;
    while (*p != '\0') {
        if (*p == '<') {
            const char *close = strchr(p, '>');
            const char *colon;
            char conv[8] = "", name[64];
            size_t n;
            if (close == NULL)
                return 0;
            colon = memchr(p, ':', (size_t)(close - p));
            if (colon != NULL) {
                n = (size_t)(colon - p - 1);
                if (n >= sizeof(conv))
                    return 0;
                memcpy(conv, p + 1, n);
                conv[n] = '\0';
                p = colon;
            }
            n = (size_t)(close - p - 1);
            if (n >= sizeof(name))
                return 0;
            memcpy(name, p + 1, n);
            name[n] = '\0';
            const char *end = s;
            if (strcmp(conv, "path") == 0) {
                end = s + strlen(s);
            } else {
                while (*end != '\0' && *end != '/')
                    end++;
            }
            if (end == s)
                return 0;
            if (strcmp(conv, "int") == 0)
                for (const char *c = s; c < end; c++)
                    if (!isdigit((unsigned char)*c))
                        return 0;
            json_t *v = json_stringn(s, (size_t)(end - s));
            json_object_set_new(args, name, v != NULL ? v : dtb_json_text("?"));
            s = end;
            p = close + 1;
            continue;
        }
        if (*p != *s)
            return 0;
        p++;
        s++;
    }
    return *s == '\0';
}

static int routing_init(void **state, struct dtb_toolbar *tb, const json_t *conf,
                        struct dtb_error *err)
{
    (void)tb, (void)conf, (void)err;
    *state = calloc(1, sizeof(struct routing_state));
    return *state != NULL ? 0 : -1;
}

static void routing_cleanup(void *state)
{
    struct routing_state *rs = state;
    json_decref(rs->list);
    free(rs);
}

static json_t *routing_to_json(void *state, struct dtb_request *rq, void *req_state)
{
    struct routing_req *st = req_state;
    struct routing_state *rs = state;
    const char *method = dtb_request_method(rq), *path = dtb_request_path(rq);
    json_t *list = NULL, *args = json_object(), *out;
    long matched = -1;
    const char *by = NULL;
    if (args == NULL)
        return NULL;
    pthread_mutex_lock(&routes_lock);
    if (rs->list == NULL || rs->gen != routes_gen) {
        json_t *l = json_array();
        int ok = l != NULL;
        for (size_t i = 0; ok && i < nroutes; i++)
            ok = json_array_append_new(l, json_pack("{s:o,s:o,s:o}", "method",
                                                    dtb_json_text(routes[i].method), "pattern",
                                                    dtb_json_text(routes[i].pattern), "name",
                                                    dtb_json_text(routes[i].name))) == 0;
        if (ok) {
            json_decref(rs->list);
            rs->list = l;
            rs->gen = routes_gen;
        } else {
            json_decref(l);
        }
    }
    list = rs->gen == routes_gen ? json_incref(rs->list) : NULL;
    for (size_t i = 0; i < nroutes && matched < 0; i++) {
        struct route *r = &routes[i];
        if (st != NULL && st->matched != NULL) {
            if (strcmp(st->matched, r->name) == 0) {
                matched = (long)i;
                by = "app";
                match(r->pattern, path != NULL ? path : "", args);
            }
            continue;
        }
        int method_ok =
            strcmp(r->method, "*") == 0 || (method != NULL && strcmp(r->method, method) == 0) ||
            (method != NULL && strcmp(method, "HEAD") == 0 && strcmp(r->method, "GET") == 0);
        if (method_ok && path != NULL && match(r->pattern, path, args)) {
            matched = (long)i;
            by = "pattern";
        } else {
            json_object_clear(args);
        }
    }
    pthread_mutex_unlock(&routes_lock);
    if (list == NULL) {
        json_decref(args);
        return NULL;
    }
    out = json_pack("{s:o,s:I,s:s?,s:o,s:o}", "routes", list, "matched", (json_int_t)matched,
                    "matched_by", by, "args", args, "named",
                    st != NULL && st->matched != NULL ? dtb_json_text(st->matched) : json_null());
    return out;
}

static int routing_subtitle(const json_t *stats, struct dtb_buf *out)
{
    json_int_t m = json_integer_value(json_object_get(stats, "matched"));
    const json_t *r = json_array_get(json_object_get(stats, "routes"), (size_t)m);
    size_t n = json_array_size(json_object_get(stats, "routes"));
    if (n == 0)
        return dtb_buf_append_str(out, "none declared");
    if (m < 0 || r == NULL)
        return dtb_buf_appendf(out, "no match of %zu", n);
    const char *name = json_string_value(json_object_get(r, "name"));
    return dtb_buf_append_str(out, name != NULL && name[0] != '\0'
                                       ? name
                                       : json_string_value(json_object_get(r, "pattern")));
}

static int routing_render(const json_t *stats, struct dtb_buf *out)
{
    const json_t *list = json_object_get(stats, "routes"), *r;
    json_int_t m = json_integer_value(json_object_get(stats, "matched"));
    size_t i;
    if (json_array_size(list) == 0) {
        dtb_buf_append_str(out, "<p class=\"dtb-muted\">The app declared no routes "
                                "(dtb_route_add).</p>");
        return out->failed ? -1 : 0;
    }
    if (m < 0) {
        dtb_buf_append_str(out, "<div class=\"dtb-warn\">No declared route matches this "
                                "request");
        if (json_is_string(json_object_get(stats, "named"))) {
            dtb_buf_append_str(out, " (the app named <code>");
            dtb_buf_append_html_str(out, json_string_value(json_object_get(stats, "named")));
            dtb_buf_append_str(out, "</code>, which is not declared)");
        }
        dtb_buf_append_str(out, ".</div>");
    } else if (json_object_size(json_object_get(stats, "args")) > 0) {
        dtb_buf_append_str(out, "<p>Arguments of the matched route: ");
        dtb_render_json_tree(out, json_object_get(stats, "args"));
        dtb_buf_append_str(out, "</p>");
    }
    dtb_buf_append_str(out, "<table class=\"dtb-table\"><thead><tr><th></th><th>Method</th>"
                            "<th>Pattern</th><th>Name</th></tr></thead><tbody>");
    json_array_foreach(list, i, r)
    {
        int hit = (json_int_t)i == m;
        dtb_buf_appendf(out, "<tr%s><td>%s</td><td>", hit ? " class=\"dtb-current\"" : "",
                        hit ? "<span class=\"dtb-badge\">this request</span>" : "");
        dtb_buf_append_html_str(out, json_string_value(json_object_get(r, "method")));
        dtb_buf_append_str(out, "</td><td>");
        dtbi_render_scalar(out, json_object_get(r, "pattern"));
        dtb_buf_append_str(out, "</td><td>");
        dtb_buf_append_html_str(out, json_string_value(json_object_get(r, "name")));
        dtb_buf_append_str(out, "</td></tr>");
    }
    dtb_buf_append_str(out, "</tbody></table>");
    if (m >= 0)
        dtb_buf_appendf(
            out, "<p class=\"dtb-muted\">Matched by %s.</p>",
            strcmp(json_string_value(json_object_get(stats, "matched_by")) ?: "", "app") == 0
                ? "the app (dtb_route_matched)"
                : "method and pattern");
    return out->failed ? -1 : 0;
}

const struct dtb_panel_ops dtb_panel_routes = {
    .abi = DTB_PANEL_ABI,
    .id = "routes",
    .title = "Routes",
    .default_on = 1,
    .init = routing_init,
    .cleanup = routing_cleanup,
    .on_request_start = routing_start,
    .to_json = routing_to_json,
    .nav_subtitle = routing_subtitle,
    .render_html = routing_render,
};
