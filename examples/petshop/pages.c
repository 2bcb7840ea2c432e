/*
 * pages.c - the demo's pages. /cats, /big and /api/cats are the benchmark pages of
 * WORKLOAD.md, byte-for-byte in shape (no stylesheet, fixed skeleton); the others are the
 * demo's own, styled by /static/petshop.css.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifdef HAVE_ZLIB
#include <zlib.h>
#endif

#include "petshop.h"
#ifndef DTB_DISABLE
#include <debugtoolbar.h>
#include <debugtoolbar/mhd.h>
#endif
#include <debugtoolbar/span.h>
#include <debugtoolbar/state.h>

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

static enum MHD_Result send_page(struct MHD_Connection *con, unsigned status, const char *ctype,
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

static const char HTML[] = "text/html; charset=utf-8";

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

/* A template is a function from a JSON context to HTML, like a Jinja template given a dict:
 * render() runs it, times it and tells the Templates panel its name and whole context. */
typedef void (*template_fn)(struct page *p, const json_t *ctx);

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Renders name with ctx (consumed). */
static void render(struct page *p, const char *name, json_t *ctx, template_fn fn)
{
    int64_t t0 = now_ns();
    fn(p, ctx);
    dtb_template_record_timed(name, ctx, now_ns() - t0);
    json_decref(ctx);
}

static const char *str(const json_t *ctx, const char *key)
{
    const char *v = json_string_value(json_object_get(ctx, key));
    return v != NULL ? v : "";
}

static long long num(const json_t *ctx, const char *key)
{
    return (long long)json_integer_value(json_object_get(ctx, key));
}

static void tpl_layout_head(struct page *p, const json_t *ctx)
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

static void head(struct page *p, const char *title)
{
    const json_t *user = cur_sess != NULL ? json_object_get(cur_sess->data, "user") : NULL;
    render(p, "layout.html", json_pack("{s:s,s:O?}", "title", title, "user", user),
           tpl_layout_head);
}

static void foot(struct page *p)
{
    page_add(p, "</div></main><footer><div class=\"wrap\">The debugtoolbar demo. Open the "
                "toolbar with the <strong>DT</strong> handle on the right edge."
                "</div></footer></body></html>");
}

/* WORKLOAD.md's page skeleton, filled with paragraphs until the body reaches target bytes. */
static void filler(struct page *p, size_t target)
{
    static const char para[] =
        "<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
        "incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud "
        "exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat.</p>";
    static const char tail[] = "</body></html>";
    static const char words[] = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do "
                                "eiusmod tempor incididunt ut labore et dolore magna aliqua.";
    while (p->len + sizeof(para) - 1 + sizeof(tail) - 1 <= target)
        page_add(p, para);
    /* one shorter paragraph brings the page to the target size exactly */
    size_t rest = target - p->len - (sizeof(tail) - 1);
    if (p->len + sizeof(tail) - 1 < target && rest > 7) {
        size_t n = rest - 7 < sizeof(words) - 1 ? rest - 7 : sizeof(words) - 1;
        page_add(p, "<p>");
        page_addn(p, words, n);
        page_add(p, "</p>");
    }
    page_add(p, tail);
}

/* The /cats page of WORKLOAD.md, into p. */
static void cats_bench_page(struct page *p)
{
    long long count = 0;
    db_count(KIND_CAT, &count);
    page_add(p, "<!DOCTYPE html><html><head><title>Cats</title></head><body>");
    page_addf(p, "<h1>%lld cats</h1><table><tr><th>id</th><th>name</th><th>age</th></tr>", count);
    for (long long id = 1; id <= 10; id++) { /* N+1 on purpose: one query per row */
        struct animal a;
        if (db_get(KIND_CAT, id, &a) == 1) {
            page_addf(p, "<tr><td>%lld</td><td>", a.id);
            page_esc(p, a.name);
            page_addf(p, "</td><td>%d</td></tr>", a.age);
        }
    }
    page_add(p, "</table>");
    filler(p, 20000);
}

static enum MHD_Result cats_bench(struct MHD_Connection *con)
{
    struct page p = {0};
    cats_bench_page(&p);
    return send_page(con, MHD_HTTP_OK, HTML, &p);
}

/* /gz/cats: the /cats page as an app that compresses its pages sends it: gzip (zlib at its
 * default level) when the request's Accept-Encoding names gzip, else as it is. */
static enum MHD_Result cats_gzip(struct MHD_Connection *con)
{
    struct page p = {0};
    cats_bench_page(&p);
#ifdef HAVE_ZLIB
    const char *ae =
        MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
    if (!p.failed && ae != NULL && strstr(ae, "gzip") != NULL) {
        z_stream z = {0};
        uLong cap = compressBound((uLong)p.len) + 32;
        unsigned char *out = malloc(cap);
        /* windowBits 15 + 16: a gzip wrapper */
        if (out != NULL && deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                                        Z_DEFAULT_STRATEGY) == Z_OK) {
            z.next_in = (unsigned char *)p.data;
            z.avail_in = (uInt)p.len;
            z.next_out = out;
            z.avail_out = (uInt)cap;
            int rc = deflate(&z, Z_FINISH);
            size_t n = z.total_out;
            deflateEnd(&z);
            if (rc == Z_STREAM_END) {
                free(p.data);
                struct MHD_Response *r =
                    MHD_create_response_from_buffer(n, out, MHD_RESPMEM_MUST_FREE);
                if (r == NULL) {
                    free(out);
                    return MHD_NO;
                }
                MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, HTML);
                MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
                MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT_ENCODING);
                enum MHD_Result ret = MHD_queue_response(con, MHD_HTTP_OK, r);
                MHD_destroy_response(r);
                return ret;
            }
        }
        free(out);
    }
#endif
    return send_page(con, MHD_HTTP_OK, HTML, &p);
}

/* /chunked/cats and /chunked/big: the /cats and /big pages streamed by a content reader in
 * chunks of 1 to 4096 bytes (a fixed sequence), their size unknown: sent chunked. */
struct stream_page {
    struct page p;
    size_t step;
};

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream_page *sp = cls;
    if (pos >= sp->p.len)
        return MHD_CONTENT_READER_END_OF_STREAM;
    size_t n = 1 + (sp->step++ * 2654435761u) % 4096;
    if (n > max)
        n = max;
    if (n > sp->p.len - pos)
        n = sp->p.len - pos;
    memcpy(buf, sp->p.data + pos, n);
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    struct stream_page *sp = cls;
    free(sp->p.data);
    free(sp);
}

/* The page build() makes, streamed as /chunked/cats is. */
static enum MHD_Result send_chunked(struct MHD_Connection *con, void (*build)(struct page *))
{
    struct stream_page *sp = calloc(1, sizeof(*sp));
    if (sp == NULL)
        return MHD_NO;
    build(&sp->p);
    if (sp->p.failed) {
        stream_free(sp);
        return MHD_NO;
    }
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, sp, stream_free);
    if (r == NULL) {
        stream_free(sp);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, HTML);
    enum MHD_Result ret = MHD_queue_response(con, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

/* The /big page of WORKLOAD.md, into p. */
static void big_page(struct page *p)
{
    page_add(p, "<!DOCTYPE html><html><head><title>Big</title></head><body><h1>Big page</h1>");
    filler(p, 1000000);
}

static enum MHD_Result big(struct MHD_Connection *con)
{
    struct page p = {0};
    big_page(&p);
    return send_page(con, MHD_HTTP_OK, HTML, &p);
}

static enum MHD_Result api_list(struct MHD_Connection *con, enum animal_kind k)
{
    json_t *arr = json_array();
    struct page p = {0};
    for (long long id = 1; id <= 10; id++) {
        struct animal a;
        if (db_get(k, id, &a) == 1)
            json_array_append_new(arr, json_pack("{s:I,s:s,s:i}", "id", (json_int_t)a.id, "name",
                                                 a.name, "age", a.age));
    }
    char *text = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    if (text == NULL)
        return MHD_NO;
    page_add(&p, text);
    free(text);
    return send_page(con, MHD_HTTP_OK, "application/json", &p);
}

static enum MHD_Result not_found(struct MHD_Connection *con)
{
    struct page p = {0};
    head(&p, "Not found");
    page_add(&p, "<h1>Not found</h1><p class=\"lead\">There is no such page in the petshop. "
                 "Try the <a href=\"/\">home page</a>.</p>");
    foot(&p);
    return send_page(con, MHD_HTTP_NOT_FOUND, HTML, &p);
}

static void tpl_index(struct page *p, const json_t *ctx)
{
    page_add(p, "<h1>Welcome to the petshop</h1><p class=\"lead\">This is the debugtoolbar "
                "demo: a small libmicrohttpd app with a SQLite database. Open any page, then "
                "open the toolbar on the right to see what happened while it was served.</p>");
    page_addf(p, "<p>We have <strong>%lld cats</strong> and <strong>%lld dogs</strong>.</p>",
              num(ctx, "cats"), num(ctx, "dogs"));
    page_add(p, "<div class=\"cards\">"
                "<div class=\"card\"><h3><a href=\"/cats\">Cats</a></h3><p>Ten cats, one query "
                "each: the N+1 pattern the SQL panel flags.</p></div>"
                "<div class=\"card\"><h3><a href=\"/dogs\">Dogs</a></h3><p>Twenty dogs in one "
                "query, rendered through a template.</p></div>"
                "<div class=\"card\"><h3><a href=\"/cats/7\">Cat #7</a></h3><p>One cat's page: "
                "the Routes panel shows the matched route and its argument.</p></div>"
                "<div class=\"card\"><h3><a href=\"/login\">Log in</a></h3><p>A session (in "
                "memory or Redis): the Session panel shows its data and TTL.</p></div>"
                "<div class=\"card\"><h3><a href=\"/\">This page again</a></h3><p>Its body is "
                "cached for 50 s: a miss and a set first, a hit after.</p></div>"
                "<div class=\"card\"><h3><a href=\"/broken\">A broken page</a></h3><p>Mistakes on "
                "purpose, for the HTML check panel.</p></div>"
                "<div class=\"card\"><h3><a href=\"/search?q=cat-1\">Search</a></h3><p>Your text "
                "as a SQL parameter, a cache key, a template variable and a log line.</p></div>"
                "<div class=\"card\"><h3><a href=\"/api/cats\">JSON API</a></h3><p>No toolbar in "
                "JSON, but it is in the history.</p></div>"
                "<div class=\"card\"><h3><a href=\"/live\">Live</a></h3><p>A page that calls "
                "the API from the browser: the toolbar lists each call.</p></div>"
                "<div class=\"card\"><h3><a href=\"/old-cats\">A redirect</a></h3><p>302 to /cats "
                "(set intercept_redirects to stop it).</p></div>"
                "<div class=\"card\"><h3><a href=\"/big\">A 1 MB page</a></h3><p>Injection on a "
                "large page.</p></div>"
                "<div class=\"card\"><h3><a href=\"/nowhere\">A 404 page</a></h3><p>Errors get "
                "the toolbar too.</p></div>"
                "<div class=\"card\"><h3><a href=\"/leaky\">Memory</a></h3><p>A page that leaks "
                "on purpose, and <a href=\"/crumbs\">one of many small allocations</a> (with "
                "dtb-run --memory).</p></div>"
                "<div class=\"card\"><h3><a href=\"/report?dtb-profile=1\">A report</a></h3>"
                "<p>CPU spent in named functions: the Profile panel's flame graph shows them.</p>"
                "</div>"
                "<div class=\"card\"><h3><a href=\"/visit\">Visits</a></h3><p>A page that waits "
                "on the disk (a committed INSERT): see the Timer panel's waterfall.</p></div>"
                "</div>");
}

/* A page whose body comes from the page cache: key's entry, or build's output cached for
 * timeout seconds (0: the default). The body, then the footer, are added to p and it is sent. */
static enum MHD_Result send_cached(struct MHD_Connection *con, struct page *p, const char *key,
                                   long timeout, void (*build)(struct page *, const void *),
                                   const void *arg)
{
    char *body = cache_get(key);
    if (body == NULL) {
        struct page b = {0};
        build(&b, arg);
        if (!b.failed && b.data != NULL)
            cache_set(key, b.data, timeout);
        body = b.data;
    }
    if (body != NULL)
        page_add(p, body);
    free(body);
    foot(p);
    return send_page(con, MHD_HTTP_OK, HTML, p);
}

static void build_index(struct page *b, const void *arg)
{
    long long cats = 0, dogs = 0;
    (void)arg;
    db_count(KIND_CAT, &cats);
    db_count(KIND_DOG, &dogs);
    render(b, "index.html",
           json_pack("{s:I,s:I}", "cats", (json_int_t)cats, "dogs", (json_int_t)dogs), tpl_index);
}

/* The home page: its body comes from the page cache (index_timeout seconds). */
static enum MHD_Result index_page(struct MHD_Connection *con)
{
    struct page p = {0};
    head(&p, "Home");
    return send_cached(con, &p, "view:/", index_timeout, build_index, NULL);
}
/* A page that calls the JSON API from the browser: the toolbar lists those calls live. */
static enum MHD_Result live_page(struct MHD_Connection *con)
{
    struct page p = {0};
    head(&p, "Live");
    page_add(&p, "<h1>Live</h1><p class=\"lead\">This page asks the JSON API for cats and dogs "
                 "from your browser. Each call shows up in the toolbar's History, where its own "
                 "panels (its SQL, its headers) can be opened.</p>"
                 "<p><button id=\"load-cats\" type=\"button\">Load cats (fetch)</button> "
                 "<button id=\"load-dogs\" type=\"button\">Load dogs (XMLHttpRequest)</button>"
                 "</p><ul id=\"animals\"></ul>"
                 "<script>"
                 "function show(list){var ul=document.getElementById('animals');ul.textContent='';"
                 "list.forEach(function(a){var li=document.createElement('li');"
                 "li.textContent=a.name+' ('+a.age+')';ul.appendChild(li);});}"
                 "document.getElementById('load-cats').onclick=function(){"
                 "fetch('/api/cats').then(function(r){return r.json();}).then(show);};"
                 "document.getElementById('load-dogs').onclick=function(){"
                 "var x=new XMLHttpRequest();x.open('GET','/api/dogs');"
                 "x.onload=function(){show(JSON.parse(x.responseText));};x.send();};"
                 "</script>");
    foot(&p);
    return send_page(con, MHD_HTTP_OK, HTML, &p);
}

static void tpl_dogs(struct page *p, const json_t *ctx)
{
    const json_t *dogs = json_object_get(ctx, "dogs"), *d;
    size_t i;
    page_addf(p, "<h1>Dogs</h1><p class=\"lead\">The first %zu dogs, in one query.</p>",
              json_array_size(dogs));
    page_add(p, "<table><thead><tr><th>Id</th><th>Name</th><th>Age</th></tr></thead><tbody>");
    json_array_foreach(dogs, i, d)
    {
        page_addf(p, "<tr><td>%lld</td><td>", num(d, "id"));
        page_esc(p, str(d, "name"));
        page_addf(p, "</td><td>%lld</td></tr>", num(d, "age"));
    }
    page_add(p, "</tbody></table>");
}

static enum MHD_Result dogs_page(struct MHD_Connection *con)
{
    struct page p = {0};
    struct animal dogs[20];
    int n = 0;
    json_t *list = json_array();
    db_list(KIND_DOG, 20, dogs, &n);
    dtb_log(DTB_LOG_DEBUG, "1 query for %d dogs", n);
    for (int i = 0; i < n; i++)
        json_array_append_new(list, json_pack("{s:I,s:s,s:i}", "id", (json_int_t)dogs[i].id, "name",
                                              dogs[i].name, "age", dogs[i].age));
    head(&p, "Dogs");
    render(&p, "dogs.html", json_pack("{s:o,s:i}", "dogs", list, "limit", 20), tpl_dogs);
    foot(&p);
    return send_page(con, MHD_HTTP_OK, HTML, &p);
}
static void tpl_report(struct page *p, const json_t *ctx)
{
    const json_t *v;
    size_t i;
    page_addf(p,
              "<h1>Report</h1><p class=\"lead\">%lld cats and %lld dogs by age, and the dog "
              "whose name is closest to each of the first %lld cats' (edit distance). "
              "Profile this page (<a href=\"/report?dtb-profile=1\">?dtb-profile=1</a>) "
              "to see where its CPU goes.</p>",
              num(ctx, "cats"), num(ctx, "dogs"), num(ctx, "compared"));
    page_add(p, "<table><thead><tr><th>Age</th><th>Cats</th><th>Dogs</th></tr></thead><tbody>");
    json_array_foreach(json_object_get(ctx, "ages"), i, v)
    {
        page_addf(p, "<tr><td>%lld</td><td>%lld</td><td>%lld</td></tr>", num(v, "age"),
                  num(v, "cats"), num(v, "dogs"));
    }
    page_add(p, "</tbody></table><h2>Closest names</h2><table><thead><tr><th>Cat</th>"
                "<th>Dog</th><th>Distance</th></tr></thead><tbody>");
    json_array_foreach(json_object_get(ctx, "closest"), i, v)
    {
        page_add(p, "<tr><td>");
        page_esc(p, str(v, "cat"));
        page_add(p, "</td><td>");
        page_esc(p, str(v, "dog"));
        page_addf(p, "</td><td>%lld</td></tr>", num(v, "distance"));
    }
    page_add(p, "</tbody></table>");
}

/* A report over the animals: its CPU goes to named functions (report.c). */
static enum MHD_Result report_page(struct MHD_Connection *con)
{
    struct page p = {0};
    json_t *ctx;
    {
        DTB_SPAN("report");
        ctx = report_build();
    }
    if (ctx == NULL) {
        page_add(&p, "<!DOCTYPE html><html><body><p>The report failed.</p></body></html>");
        return send_page(con, MHD_HTTP_INTERNAL_SERVER_ERROR, HTML, &p);
    }
    head(&p, "Report");
    render(&p, "report.html", ctx, tpl_report);
    foot(&p);
    return send_page(con, MHD_HTTP_OK, HTML, &p);
}

/* A page that waits on the disk: each visit is committed to the database file. */
static enum MHD_Result visit_page(struct MHD_Connection *con)
{
    struct page p = {0};
    long long count = 0;
    int rc = db_record_visit(&count);
    head(&p, "Visits");
    if (rc != 0)
        page_add(&p, "<h1>Visits</h1><p class=\"error\">The visit book could not be written.</p>");
    else
        page_addf(&p,
                  "<h1>Visits</h1><p class=\"lead\">You are visitor number %lld. Each visit "
                  "is one INSERT that SQLite commits to the disk before this page is sent: "
                  "the Timer panel's waterfall shows the wait, and the profiler in \"wall\" "
                  "mode shows where it is (fsync).</p>",
                  count);
    foot(&p);
    return send_page(con, rc == 0 ? MHD_HTTP_OK : MHD_HTTP_INTERNAL_SERVER_ERROR, HTML, &p);
}

static void tpl_cat(struct page *p, const json_t *ctx)
{
    const json_t *cat = json_object_get(ctx, "cat");
    page_add(p, "<h1>");
    page_esc(p, str(cat, "name"));
    page_addf(p, "</h1><p class=\"lead\">Cat number %lld is %lld year%s old.</p>", num(cat, "id"),
              num(cat, "age"), num(cat, "age") == 1 ? "" : "s");
    page_add(p, "<p><a href=\"/cats\">All cats</a></p>");
}

static enum MHD_Result cat_page(struct MHD_Connection *con, const char *idtext)
{
    char *end;
    long long id = strtoll(idtext, &end, 10);
    struct animal a;
    struct page p = {0};
    if (*idtext == '\0' || *end != '\0' || id <= 0 || db_get(KIND_CAT, id, &a) != 1)
        return not_found(con);
    head(&p, a.name);
    render(
        &p, "cat.html",
        json_pack("{s:{s:I,s:s,s:i}}", "cat", "id", (json_int_t)a.id, "name", a.name, "age", a.age),
        tpl_cat);
    foot(&p);
    return send_page(con, MHD_HTTP_OK, HTML, &p);
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

/* A page served under a strict Content-Security-Policy: scripts need the nonce. The toolbar
 * copies it onto its own script and stylesheet. */
static enum MHD_Result csp_page(struct MHD_Connection *con)
{
    struct page p = {0};
    struct MHD_Response *r;
    enum MHD_Result ret;
    char nonce[33];
    unsigned char raw[16];
    static const char hex[] = "0123456789abcdef";
    FILE *f = fopen("/dev/urandom", "rb");
    if (f == NULL || fread(raw, 1, sizeof(raw), f) != sizeof(raw)) {
        if (f != NULL)
            fclose(f);
        return MHD_NO;
    }
    fclose(f);
    for (int i = 0; i < 16; i++) {
        nonce[2 * i] = hex[raw[i] >> 4];
        nonce[2 * i + 1] = hex[raw[i] & 15];
    }
    nonce[32] = '\0';
    head(&p, "Strict CSP");
    page_add(&p, "<h1>Strict Content-Security-Policy</h1><p class=\"lead\">This page allows only "
                 "scripts and styles carrying its nonce. The toolbar still works.</p>"
                 "<p id=\"check\">The page's own script has not run.</p><script nonce=\"");
    page_add(&p, nonce);
    page_add(&p, "\">document.getElementById('check').textContent='The page\\'s own script ran.';"
                 "</script>");
    foot(&p);
    if (p.failed)
        return MHD_NO;
    r = MHD_create_response_from_buffer(p.len, p.data, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(p.data);
        return MHD_NO;
    }
    char csp[256];
    snprintf(csp, sizeof(csp),
             "default-src 'self'; script-src 'nonce-%s'; style-src 'self' 'nonce-%s'; "
             "object-src 'none'; base-uri 'none'",
             nonce, nonce);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, HTML);
    MHD_add_response_header(r, "Content-Security-Policy", csp);
    ret = MHD_queue_response(con, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

/* A page whose CSS fights everything: the toolbar must still look right, and must not move
 * anything on it. */
static enum MHD_Result chaos_page(struct MHD_Connection *con)
{
    struct page p = {0};
    page_add(&p, "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                 "<title>CSS chaos</title><style>"
                 "* { all: unset; display: block; font-size: 40px !important; "
                 "color: #c00 !important; z-index: 2147483647 !important; }"
                 "head, style, title { display: none; }"
                 "div { position: relative; z-index: 999999; background: yellow; }"
                 "dtb-toolbar, #dtb-root { display: none; transform: scale(3); }"
                 "body { margin: 0; padding: 10px; background: #eef; }"
                 "</style></head><body><div>Aggressive global CSS</div>"
                 "<p>Every element is restyled, z-index is at its maximum, and the toolbar's own "
                 "element is told to hide.</p></body></html>");
    return send_page(con, MHD_HTTP_OK, HTML, &p);
}

/* /leaky and /crumbs, for the Memory panel (memory.c) */
static enum MHD_Result memory_page(struct MHD_Connection *con, const char *title,
                                   void (*body)(struct page *))
{
    struct page p = {0};
    head(&p, title);
    body(&p);
    foot(&p);
    return send_page(con, MHD_HTTP_OK, HTML, &p);
}

/* A page that lets its users write HTML with ids and data-* attributes (as a comment or a
 * profile might): elements that claim to be the toolbar's, placed before it. The toolbar must
 * ignore them and load from its own prefix only. */
static enum MHD_Result clobber_page(struct MHD_Connection *con)
{
    struct page p = {0};
    page_add(&p, "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                 "<title>User HTML</title></head><body><h1>User HTML</h1>"
                 "<div id=\"dtb-root\" data-prefix=\"//evil.example/\" "
                 "data-id=\"0000000000000000\">a user's div</div>"
                 "<dtb-toolbar id=\"dtb-root\" data-prefix=\"//evil.example/\"></dtb-toolbar>"
                 "<img name=\"currentScript\" alt=\"\">"
                 "<form id=\"debugToolbar\"></form>"
                 "<p>Markup a user wrote, claiming to be the toolbar.</p></body></html>");
    return send_page(con, MHD_HTTP_OK, HTML, &p);
}

static void tpl_login(struct page *p, const json_t *ctx)
{
    page_add(p, "<h1>Log in</h1>");
    if (json_is_string(json_object_get(ctx, "error"))) {
        page_add(p, "<p class=\"error\">");
        page_esc(p, str(ctx, "error"));
        page_add(p, "</p>");
    }
    page_add(p, "<p class=\"lead\">Any name will do; the password is <code>petshop</code>. "
                "The session lives in the store the config names (memory or Redis); open the "
                "Session panel after logging in.</p>"
                "<form method=\"post\" action=\"/login\" class=\"login\">"
                "<label for=\"user\">Name</label><input id=\"user\" name=\"user\" "
                "autocomplete=\"username\" required value=\"");
    page_esc(p, str(ctx, "user"));
    page_add(p, "\"><label for=\"password\">Password</label><input id=\"password\" "
                "name=\"password\" type=\"password\" autocomplete=\"current-password\" required>"
                "<button type=\"submit\">Log in</button></form>");
}

static enum MHD_Result login_page(struct MHD_Connection *con, unsigned status, const char *user,
                                  const char *error)
{
    struct page p = {0};
    head(&p, "Log in");
    render(&p, "login.html", json_pack("{s:s,s:s?}", "user", user, "error", error), tpl_login);
    foot(&p);
    return send_page(con, status, HTML, &p);
}

/* A page with mistakes on purpose, for the HTML check panel: misnested and unclosed tags, an
 * unknown entity, a duplicate id, a file upload in a form that is not multipart, an image with
 * no alt, a label for no field, and no lang or title. */
static enum MHD_Result broken_page(struct MHD_Connection *con)
{
    struct page p = {0};
    page_add(&p, "<!DOCTYPE html>\n<html>\n<head><meta charset=\"utf-8\">"
                 "<link rel=\"stylesheet\" href=\"/static/petshop.css\"></head>\n<body>\n"
                 "<main><div class=\"wrap\">\n"
                 "<h1 id=\"top\">A broken page</h1>\n"
                 "<p class=\"lead\">This page has mistakes on purpose. Browsers forgive them; "
                 "the HTML check panel does not.</p>\n"
                 "<p><b><i>Misnested tags</b></i> and an unknown entity: &nosuch;</p>\n"
                 "<div id=\"top\">A second element with id \"top\".</div>\n"
                 "<form method=\"post\" action=\"/upload\"><input type=\"file\" name=\"photo\">"
                 "<button>Upload</button></form>\n"
                 "<img src=\"/favicon.ico\" width=\"32\" height=\"32\">\n"
                 "<label for=\"nothing\">A label for no field</label>\n"
                 "<table><tr><td>A cell</div></td></tr></table>\n"
                 "<p>An unclosed <span>span\n"
                 "</div></main>\n</body>\n</html>\n");
    return send_page(con, MHD_HTTP_OK, HTML, &p);
}

static void tpl_search(struct page *p, const json_t *ctx)
{
    const json_t *cats = json_object_get(ctx, "cats"), *c;
    size_t i;
    page_add(p, "<h1>Search</h1><form method=\"get\" action=\"/search\"><label for=\"q\">Name "
                "contains</label> <input id=\"q\" name=\"q\" value=\"");
    page_esc(p, str(ctx, "q"));
    page_add(p, "\"> <button type=\"submit\">Search</button></form>");
    page_addf(p, "<p class=\"lead\">%zu cat%s found.</p><ul>", json_array_size(cats),
              json_array_size(cats) == 1 ? "" : "s");
    json_array_foreach(cats, i, c)
    {
        page_addf(p, "<li><a href=\"/cats/%lld\">", num(c, "id"));
        page_esc(p, str(c, "name"));
        page_add(p, "</a></li>");
    }
    page_add(p, "</ul>");
}

static void build_search(struct page *b, const void *arg)
{
    const char *q = arg;
    struct animal found[20];
    int n = 0;
    json_t *cats = json_array();
    db_search(KIND_CAT, q, 20, found, &n);
    for (int i = 0; i < n; i++)
        json_array_append_new(
            cats, json_pack("{s:I,s:s}", "id", (json_int_t)found[i].id, "name", found[i].name));
    dtb_log(DTB_LOG_INFO, "search for \"%s\": %d results", q, n);
    /* the text may be any bytes: the template context keeps what is valid UTF-8 */
    json_t *text = json_string(q);
    render(
        b, "search.html",
        json_pack("{s:o,s:o}", "q", text != NULL ? text : json_string("(not UTF-8)"), "cats", cats),
        tpl_search);
}

/* A search: the text reaches SQL as a bound parameter, the cache as part of a key, the template
 * context and the log as it is; the toolbar shows each escaped. */
static enum MHD_Result search_page(struct MHD_Connection *con)
{
    const char *q = MHD_lookup_connection_value(con, MHD_GET_ARGUMENT_KIND, "q");
    struct page p = {0};
    char *key;
    if (q == NULL)
        q = "";
    if (asprintf(&key, "search:%s", q) < 0) /* the whole text: no two searches share a key */
        return MHD_NO;
    head(&p, "Search");
    enum MHD_Result ret = send_cached(con, &p, key, 0, build_search, q);
    free(key);
    return ret;
}

/* Binary junk labelled text/html: served as it is (it does not start like a document). */
static enum MHD_Result junk_page(struct MHD_Connection *con)
{
    static const unsigned char junk[] = {0x00, 0xff, 0xfe, 0x3c, 0x62, 0x6f, 0x64, 0x79, 0x3e,
                                         0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00,
                                         0x3c, 0x2f, 0x62, 0x6f, 0x64, 0x79, 0x3e, 0xc3, 0x28};
    struct page p = {0};
    page_addn(&p, (const char *)junk, sizeof(junk));
    return send_page(con, MHD_HTTP_OK, HTML, &p);
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
