/*
 * pages.c - the demo's pages. /cats, /big and /api/cats are the benchmark pages of
 * WORKLOAD.md, byte-for-byte in shape (no stylesheet, fixed skeleton); the others are the
 * demo's own, styled by /static/petshop.css.
 *
 * Here: the page buffer, sending a page, the templates and the layout, the session each page
 * other than the benchmark ones runs with, login and logout, and the router. The benchmark
 * pages are pages_bench.c, the demo's own pages_demo.c, and the pages that put the toolbar to
 * the test (strict CSP, hostile CSS, markup claiming to be the toolbar's, broken HTML, binary
 * junk) pages_hostile.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pages.h"

long index_timeout = 50;

/* The session of the request this thread serves (the demo's pages other than the benchmark
 * ones have one), saved into each response as it is sent. */
static _Thread_local struct session *cur_sess;

/* ---- page buffer -------------------------------------------------------------------------- */

void page_addn(struct page *p, const char *s, size_t n)
{
    if (p->failed)
        return;
    if (p->len + n + 1 > p->cap) {
        size_t cap = p->cap ? p->cap : 4096;
        while (cap < p->len + n + 1)
            cap *= 2;
        char *d = realloc(p->data, cap);
        if (d == NULL) {
            p->failed = 1;
            return;
        }
        p->data = d;
        p->cap = cap;
    }
    memcpy(p->data + p->len, s, n);
    p->len += n;
    p->data[p->len] = '\0';
}

void page_add(struct page *p, const char *s)
{
    page_addn(p, s, strlen(s));
}

void page_addf(struct page *p, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > 0)
        page_addn(p, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

void page_esc(struct page *p, const char *s)
{
    for (; *s != '\0'; s++) {
        switch (*s) {
        case '&':
            page_add(p, "&amp;");
            break;
        case '<':
            page_add(p, "&lt;");
            break;
        case '>':
            page_add(p, "&gt;");
            break;
        case '"':
            page_add(p, "&quot;");
            break;
        case '\'':
            page_add(p, "&#39;");
            break;
        default:
            page_addn(p, s, 1);
        }
    }
}

/* ---- responses ------------------------------------------------------------------------------ */

enum MHD_Result send_page(struct MHD_Connection *con, unsigned status, const char *ctype,
                          struct page *p)
{
    struct MHD_Response *r;
    enum MHD_Result ret;
    if (p->failed || p->data == NULL) {
        free(p->data);
        return MHD_NO;
    }
    r = MHD_create_response_from_buffer(p->len, p->data, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(p->data);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (cur_sess != NULL)
        session_save(cur_sess, r);
    ret = MHD_queue_response(con, status, r);
    MHD_destroy_response(r);
    return ret;
}

static const char CSS[] =
    ":root{--fg:#1d2327;--muted:#5f6b76;--bg:#fbfaf7;--card:#fff;--accent:#1f6f5c;--line:#e6e2da}"
    "*{box-sizing:border-box}body{margin:0;font:16px/1.55 system-ui,-apple-system,'Segoe UI',"
    "Roboto,sans-serif;color:var(--fg);background:var(--bg)}"
    "header{background:var(--accent);color:#fff;padding:18px 0}"
    "header .wrap{display:flex;align-items:center;gap:24px}"
    "header a{color:#fff;text-decoration:none;opacity:.9}header a:hover{opacity:1}"
    ".brand{font-weight:800;font-size:20px;letter-spacing:.01em}"
    ".wrap{max-width:920px;margin:0 auto;padding:0 20px}main{padding:28px 0 60px}"
    "h1{font-size:30px;margin:0 0 8px}p.lead{color:var(--muted);font-size:18px}"
    ".cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(240px,1fr));gap:16px;"
    "margin-top:24px}.card{background:var(--card);border:1px solid var(--line);border-radius:12px;"
    "padding:18px}.card h3{margin:0 0 6px}.card p{margin:0;color:var(--muted);font-size:14px}"
    ".card a{font-weight:600;color:var(--accent)}"
    "table{border-collapse:collapse;width:100%;background:var(--card);border-radius:12px;"
    "overflow:hidden;border:1px solid var(--line)}th,td{padding:9px 14px;text-align:left;"
    "border-bottom:1px solid var(--line)}th{background:#f1efe9;font-size:13px;text-transform:"
    "uppercase;letter-spacing:.04em;color:var(--muted)}td a{color:var(--accent)}"
    "footer{color:var(--muted);font-size:13px;padding:24px 0;border-top:1px solid var(--line)}"
    "code{background:#efece5;padding:1px 5px;border-radius:4px}"
    ".grow{flex:1}form.inline{display:inline;margin:0}header button{font:inherit;color:#fff;"
    "background:transparent;border:1px solid rgba(255,255,255,.6);border-radius:6px;"
    "padding:2px 10px;cursor:pointer}"
    "form.login{display:grid;grid-template-columns:max-content 260px;gap:10px 14px;"
    "align-items:center;margin-top:20px}form.login button{grid-column:2;justify-self:start;"
    "font:inherit;padding:6px 18px;border-radius:6px;border:0;background:var(--accent);"
    "color:#fff;cursor:pointer}form.login input{font:inherit;padding:6px 8px;"
    "border:1px solid var(--line);border-radius:6px}"
    ".error{color:#a4262c;font-weight:600}";

/* ---- templates --------------------------------------------------------------------------- */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Renders name with ctx (consumed). */
void render(struct page *p, const char *name, json_t *ctx, template_fn fn)
{
    int64_t t0 = now_ns();
    fn(p, ctx);
    dtb_template_record_timed(name, ctx, now_ns() - t0);
    json_decref(ctx);
}

const char *str(const json_t *ctx, const char *key)
{
    const char *v = json_string_value(json_object_get(ctx, key));
    return v != NULL ? v : "";
}

long long num(const json_t *ctx, const char *key)
{
    return (long long)json_integer_value(json_object_get(ctx, key));
}

void tpl_layout_head(struct page *p, const json_t *ctx)
{
    page_add(p, "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>");
    page_esc(p, str(ctx, "title"));
    page_add(p, " \xC2\xB7 Petshop</title><link rel=\"stylesheet\" href=\"/static/petshop.css\">"
                "</head><body><header><div class=\"wrap\"><span class=\"brand\">"
                "\xF0\x9F\x90\xBE Petshop</span><a href=\"/\">Home</a><a href=\"/cats\">Cats</a>"
                "<a href=\"/dogs\">Dogs</a><a href=\"/api/cats\">API</a>"
                "<span class=\"grow\"></span>");
    if (json_is_string(json_object_get(ctx, "user"))) {
        page_add(p, "<span>Signed in as <strong>");
        page_esc(p, str(ctx, "user"));
        page_add(p, "</strong></span><form method=\"post\" action=\"/logout\" class=\"inline\">"
                    "<button type=\"submit\">Log out</button></form>");
    } else {
        page_add(p, "<a href=\"/login\">Log in</a>");
    }
    page_add(p, "</div></header><main><div class=\"wrap\">");
}

void head(struct page *p, const char *title)
{
    const json_t *user = cur_sess != NULL ? json_object_get(cur_sess->data, "user") : NULL;
    render(p, "layout.html", json_pack("{s:s,s:O?}", "title", title, "user", user),
           tpl_layout_head);
}

void foot(struct page *p)
{
    page_add(p, "</div></main><footer><div class=\"wrap\">The debugtoolbar demo. Open the "
                "toolbar with the <strong>DT</strong> handle on the right edge."
                "</div></footer></body></html>");
}

enum MHD_Result not_found(struct MHD_Connection *con)
{
    struct page p = {0};
    head(&p, "Not found");
    page_add(&p, "<h1>Not found</h1><p class=\"lead\">There is no such page in the petshop. "
                 "Try the <a href=\"/\">home page</a>.</p>");
    foot(&p);
    return send_page(con, MHD_HTTP_NOT_FOUND, HTML, &p);
}

static enum MHD_Result redirect(struct MHD_Connection *con, unsigned status, const char *to)
{
    struct page p = {0};
    struct MHD_Response *r;
    enum MHD_Result ret;
    page_add(&p, "<!DOCTYPE html><html><head><title>Moved</title></head><body>Moved to <a href=\"");
    page_esc(&p, to);
    page_add(&p, "\">here</a>.</body></html>");
    if (p.failed)
        return MHD_NO;
    r = MHD_create_response_from_buffer(p.len, p.data, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(p.data);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, HTML);
    MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, to);
    if (cur_sess != NULL)
        session_save(cur_sess, r);
    ret = MHD_queue_response(con, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* The benchmark pages of WORKLOAD.md and the static files run without a session. */
static int wants_session(const char *url)
{
    return strcmp(url, "/cats") != 0 && strcmp(url, "/big") != 0 && strcmp(url, "/gz/cats") != 0 &&
           strncmp(url, "/chunked/", 9) != 0 && strncmp(url, "/api/", 5) != 0 &&
           strncmp(url, "/static/", 8) != 0 && strcmp(url, "/favicon.ico") != 0 &&
           strcmp(url, "/fragment") != 0;
}

/* Runs fn(con, arg) with the request's session loaded, saved into its response, freed. */
static enum MHD_Result with_session(struct MHD_Connection *con, const void *arg,
                                    enum MHD_Result (*fn)(struct MHD_Connection *, const void *))
{
    struct session s;
    enum MHD_Result ret;
    session_load(con, &s);
    if (s.error[0] != '\0')
        dtb_log(DTB_LOG_ERROR, "session store failed: %s", s.error);
    else if (json_is_integer(json_object_get(s.data, "visits")))
        json_object_set_new(
            s.data, "visits",
            json_integer(json_integer_value(json_object_get(s.data, "visits")) + 1));
    cur_sess = &s;
    ret = fn(con, arg);
    cur_sess = NULL;
    session_free(&s);
    return ret;
}

static enum MHD_Result route(struct MHD_Connection *con, const void *arg);

enum MHD_Result pages_handle(struct MHD_Connection *con, const char *url)
{
    if (wants_session(url))
        return with_session(con, url, route);
    return route(con, url);
}

struct credentials {
    const char *user, *password;
};

static enum MHD_Result do_login(struct MHD_Connection *con, const void *arg)
{
    const struct credentials *c = arg;
    const char *user = c->user;
    if (user[0] == '\0' || strcmp(c->password, "petshop") != 0) {
        dtb_log(DTB_LOG_WARNING, "failed login for \"%s\"", user);
        return login_page(con, MHD_HTTP_UNAUTHORIZED, user, "Wrong name or password.");
    }
    if (cur_sess->error[0] != '\0')
        return login_page(con, MHD_HTTP_SERVICE_UNAVAILABLE, user,
                          "The session store is unavailable; try again later.");
    session_login(cur_sess, user);
    dtb_log(DTB_LOG_INFO, "user \"%s\" logged in", user);
    return redirect(con, MHD_HTTP_SEE_OTHER, "/");
}

static enum MHD_Result do_logout(struct MHD_Connection *con, const void *unused)
{
    (void)unused;
    if (json_is_string(json_object_get(cur_sess->data, "user")))
        dtb_log(DTB_LOG_INFO, "user \"%s\" logged out",
                json_string_value(json_object_get(cur_sess->data, "user")));
    session_logout(cur_sess);
    return redirect(con, MHD_HTTP_SEE_OTHER, "/");
}

enum MHD_Result pages_login(struct MHD_Connection *con, const char *user, const char *password)
{
    struct credentials c = {user, password};
    return with_session(con, &c, do_login);
}

enum MHD_Result pages_logout(struct MHD_Connection *con)
{
    return with_session(con, NULL, do_logout);
}

void pages_routes(void)
{
    static const char *const routes[][3] = {
        {"GET", "/", "index"},
        {"GET", "/cats", "cats"},
        {"GET", "/cats/<int:id>", "cat"},
        {"GET", "/dogs", "dogs"},
        {"GET", "/api/cats", "api_cats"},
        {"GET", "/api/dogs", "api_dogs"},
        {"GET", "/big", "big"},
        {"GET", "/live", "live"},
        {"GET", "/csp", "csp"},
        {"GET", "/chaos", "chaos"},
        {"GET", "/clobber", "clobber"},
        {"GET", "/broken", "broken"},
        {"GET", "/search", "search"},
        {"GET", "/junk", "junk"},
        {"GET", "/fragment", "fragment"},
        {"GET", "/old-cats", "old_cats"},
        {"GET", "/login", "login_form"},
        {"POST", "/login", "login"},
        {"POST", "/logout", "logout"},
        {"GET", "/static/<path:file>", "static"},
        {"GET", "/favicon.ico", "favicon"},
        {"GET", "/leaky", "leaky"},
        {"GET", "/gz/cats", "cats_gzip"},
        {"GET", "/chunked/cats", "cats_chunked"},
        {"GET", "/chunked/big", "big_chunked"},
        {"GET", "/crumbs", "crumbs"},
        {"GET", "/report", "report"},
        {"GET", "/visit", "visit"},
    };
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        dtb_route_add(routes[i][0], routes[i][1], routes[i][2]);
}

static enum MHD_Result route(struct MHD_Connection *con, const void *arg)
{
    const char *url = arg;
    if (strcmp(url, "/") == 0)
        return index_page(con);
    if (strcmp(url, "/cats") == 0)
        return cats_bench(con);
    if (strcmp(url, "/gz/cats") == 0)
        return cats_gzip(con);
    if (strcmp(url, "/chunked/cats") == 0)
        return send_chunked(con, cats_bench_page);
    if (strcmp(url, "/chunked/big") == 0)
        return send_chunked(con, big_page);
    if (strcmp(url, "/dogs") == 0)
        return dogs_page(con);
    if (strcmp(url, "/live") == 0)
        return live_page(con);
    if (strcmp(url, "/report") == 0)
        return report_page(con);
    if (strcmp(url, "/visit") == 0)
        return visit_page(con);
    if (strcmp(url, "/csp") == 0)
        return csp_page(con);
    if (strcmp(url, "/chaos") == 0)
        return chaos_page(con);
    if (strcmp(url, "/clobber") == 0)
        return clobber_page(con);
    if (strcmp(url, "/broken") == 0)
        return broken_page(con);
    if (strcmp(url, "/search") == 0)
        return search_page(con);
    if (strcmp(url, "/junk") == 0)
        return junk_page(con);
    if (strcmp(url, "/leaky") == 0)
        return memory_page(con, "A page that leaks", memory_leaky_page);
    if (strcmp(url, "/crumbs") == 0)
        return memory_page(con, "A page of crumbs", memory_crumbs_page);
    if (strcmp(url, "/login") == 0)
        return login_page(con, MHD_HTTP_OK, "", NULL);
    if (strncmp(url, "/cats/", 6) == 0)
        return cat_page(con, url + 6);
    if (strcmp(url, "/api/cats") == 0)
        return api_list(con, KIND_CAT);
    if (strcmp(url, "/api/dogs") == 0)
        return api_list(con, KIND_DOG);
    if (strcmp(url, "/big") == 0)
        return big(con);
    if (strcmp(url, "/old-cats") == 0)
        return redirect(con, MHD_HTTP_FOUND, "/cats");
    if (strcmp(url, "/fragment") == 0) {
        struct page p = {0};
        page_add(&p, "<li class=\"cat\">cat-1</li><li class=\"cat\">cat-2</li>");
        return send_page(con, MHD_HTTP_OK, HTML, &p);
    }
    if (strcmp(url, "/favicon.ico") == 0) {
        struct page p = {0};
        page_add(&p, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 16 16\">"
                     "<circle cx=\"8\" cy=\"8\" r=\"7\" fill=\"#1f6f5c\"/></svg>");
        return send_page(con, MHD_HTTP_OK, "image/svg+xml", &p);
    }
    if (strcmp(url, "/static/petshop.css") == 0) {
        struct page p = {0};
        page_add(&p, CSS);
        return send_page(con, MHD_HTTP_OK, "text/css; charset=utf-8", &p);
    }
    return not_found(con);
}
