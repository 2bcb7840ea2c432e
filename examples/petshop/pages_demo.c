/*
 * pages_demo.c - the demo's own pages, each showing a panel at work: the home page (its body
 * from the page cache), /dogs (one query, a template), /cats/<id> (a route argument), /live
 * (API calls from the browser), /report (CPU in named functions, for the Profile panel), /visit
 * (a committed write, for the Timer panel's waterfall), /login, /search (one text through SQL,
 * the cache, a template and the log), and /leaky and /crumbs (for the Memory panel).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pages.h"

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
enum MHD_Result index_page(struct MHD_Connection *con)
{
    struct page p = {0};
    head(&p, "Home");
    return send_cached(con, &p, "view:/", index_timeout, build_index, NULL);
}
/* A page that calls the JSON API from the browser: the toolbar lists those calls live. */
enum MHD_Result live_page(struct MHD_Connection *con)
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

enum MHD_Result dogs_page(struct MHD_Connection *con)
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
enum MHD_Result report_page(struct MHD_Connection *con)
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
enum MHD_Result visit_page(struct MHD_Connection *con)
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

enum MHD_Result cat_page(struct MHD_Connection *con, const char *idtext)
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

/* /leaky and /crumbs, for the Memory panel (memory.c) */
enum MHD_Result memory_page(struct MHD_Connection *con, const char *title,
                            void (*body)(struct page *))
{
    struct page p = {0};
    head(&p, title);
    body(&p);
    foot(&p);
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

enum MHD_Result login_page(struct MHD_Connection *con, unsigned status, const char *user,
                           const char *error)
{
    struct page p = {0};
    head(&p, "Log in");
    render(&p, "login.html", json_pack("{s:s,s:s?}", "user", user, "error", error), tpl_login);
    foot(&p);
    return send_page(con, status, HTML, &p);
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
enum MHD_Result search_page(struct MHD_Connection *con)
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
