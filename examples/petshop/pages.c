/*
 * pages.c - the demo's pages. /cats, /big and /api/cats are the benchmark pages of
 * WORKLOAD.md, byte-for-byte in shape (no stylesheet, fixed skeleton); the others are the
 * demo's own, styled by /static/petshop.css.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "petshop.h"
#ifndef DTB_DISABLE
#include <debugtoolbar.h>
#include <debugtoolbar/mhd.h>
#endif

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
    "code{background:#efece5;padding:1px 5px;border-radius:4px}";

static void head(struct page *p, const char *title)
{
    page_add(p, "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>");
    page_esc(p, title);
    page_add(p, " \xC2\xB7 Petshop</title><link rel=\"stylesheet\" href=\"/static/petshop.css\">"
                "</head><body><header><div class=\"wrap\"><span class=\"brand\">"
                "\xF0\x9F\x90\xBE Petshop</span><a href=\"/\">Home</a><a href=\"/cats\">Cats</a>"
                "<a href=\"/dogs\">Dogs</a><a href=\"/api/cats\">API</a></div></header>"
                "<main><div class=\"wrap\">");
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

static enum MHD_Result cats_bench(struct MHD_Connection *con)
{
    struct page p = {0};
    long long count = 0;
    db_count(KIND_CAT, &count);
    page_add(&p, "<!DOCTYPE html><html><head><title>Cats</title></head><body>");
    page_addf(&p, "<h1>%lld cats</h1><table><tr><th>id</th><th>name</th><th>age</th></tr>", count);
    for (long long id = 1; id <= 10; id++) { /* N+1 on purpose: one query per row */
        struct animal a;
        if (db_get(KIND_CAT, id, &a) == 1) {
            page_addf(&p, "<tr><td>%lld</td><td>", a.id);
            page_esc(&p, a.name);
            page_addf(&p, "</td><td>%d</td></tr>", a.age);
        }
    }
    page_add(&p, "</table>");
    filler(&p, 20000);
    return send_page(con, MHD_HTTP_OK, HTML, &p);
}

static enum MHD_Result big(struct MHD_Connection *con)
{
    struct page p = {0};
    page_add(&p, "<!DOCTYPE html><html><head><title>Big</title></head><body><h1>Big page</h1>");
    filler(&p, 1000000);
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

static enum MHD_Result index_page(struct MHD_Connection *con)
{
    struct page p = {0};
    long long cats = 0, dogs = 0;
    db_count(KIND_CAT, &cats);
    db_count(KIND_DOG, &dogs);
    head(&p, "Home");
    page_add(&p, "<h1>Welcome to the petshop</h1><p class=\"lead\">This is the debugtoolbar "
                 "demo: a small libmicrohttpd app with a SQLite database. Open any page, then "
                 "open the toolbar on the right to see what happened while it was served.</p>");
    page_addf(&p, "<p>We have <strong>%lld cats</strong> and <strong>%lld dogs</strong>.</p>",
              cats, dogs);
    page_add(&p,
             "<div class=\"cards\">"
             "<div class=\"card\"><h3><a href=\"/cats\">Cats</a></h3><p>Ten cats, one query "
             "each: the N+1 pattern the SQL panel flags.</p></div>"
             "<div class=\"card\"><h3><a href=\"/dogs\">Dogs</a></h3><p>Twenty dogs in one "
             "query.</p></div>"
             "<div class=\"card\"><h3><a href=\"/cats/7\">Cat #7</a></h3><p>One cat's page.</p>"
             "</div>"
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
             "</div>");
    foot(&p);
    return send_page(con, MHD_HTTP_OK, HTML, &p);
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

static enum MHD_Result dogs_page(struct MHD_Connection *con)
{
    struct page p = {0};
    struct animal dogs[20];
    int n = 0;
    db_list(KIND_DOG, 20, dogs, &n);
    head(&p, "Dogs");
    page_addf(&p, "<h1>Dogs</h1><p class=\"lead\">The first %d dogs, in one query.</p>", n);
    page_add(&p, "<table><thead><tr><th>Id</th><th>Name</th><th>Age</th></tr></thead><tbody>");
    for (int i = 0; i < n; i++) {
        page_addf(&p, "<tr><td>%lld</td><td>", dogs[i].id);
        page_esc(&p, dogs[i].name);
        page_addf(&p, "</td><td>%d</td></tr>", dogs[i].age);
    }
    page_add(&p, "</tbody></table>");
    foot(&p);
    return send_page(con, MHD_HTTP_OK, HTML, &p);
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
    page_add(&p, "<h1>");
    page_esc(&p, a.name);
    page_addf(&p, "</h1><p class=\"lead\">Cat number %lld is %d year%s old.</p>", a.id, a.age,
              a.age == 1 ? "" : "s");
    page_add(&p, "<p><a href=\"/cats\">All cats</a></p>");
    foot(&p);
    return send_page(con, MHD_HTTP_OK, HTML, &p);
}

static enum MHD_Result redirect(struct MHD_Connection *con, const char *to)
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
    ret = MHD_queue_response(con, MHD_HTTP_FOUND, r);
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

enum MHD_Result pages_handle(struct MHD_Connection *con, const char *url)
{
    if (strcmp(url, "/") == 0)
        return index_page(con);
    if (strcmp(url, "/cats") == 0)
        return cats_bench(con);
    if (strcmp(url, "/dogs") == 0)
        return dogs_page(con);
    if (strcmp(url, "/live") == 0)
        return live_page(con);
    if (strcmp(url, "/csp") == 0)
        return csp_page(con);
    if (strcmp(url, "/chaos") == 0)
        return chaos_page(con);
    if (strncmp(url, "/cats/", 6) == 0)
        return cat_page(con, url + 6);
    if (strcmp(url, "/api/cats") == 0)
        return api_list(con, KIND_CAT);
    if (strcmp(url, "/api/dogs") == 0)
        return api_list(con, KIND_DOG);
    if (strcmp(url, "/big") == 0)
        return big(con);
    if (strcmp(url, "/old-cats") == 0)
        return redirect(con, "/cats");
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
