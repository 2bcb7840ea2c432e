/*
 * htmlcheck.c - the HTML check panel: the page the app rendered, parsed by libxml2's HTML
 * parser at completion (after the response was sent), with its parse errors (line, column)
 * and lints found in one walk of the document: duplicate ids, file inputs in a form that is not
 * multipart, images without alt, no lang, no <title>, labels pointing at no field.
 *
 * Errors are collected by a handler on this parse's own context (never printed). libxml2's
 * HTML parser knows HTML 4 tags only: "Tag main invalid" for an HTML5, SVG or custom element
 * is not an error and is dropped. Pages larger than panel_options.htmlcheck.max_bytes
 * (default 256 KiB) are not checked, so a big page costs nothing. A page served again with
 * the same bytes reuses its result (a small cache keyed by length and a 64-bit hash), so an
 * unchanging page is checked once, not on every request.
 */
#include <ctype.h>
#include <pthread.h>
#include <string.h>

#include <libxml/HTMLparser.h>

#include "panels.h"

#define MAX_ITEMS 200
#define CACHE_SLOTS 32

struct cached {
    size_t len;
    uint64_t hash;
    json_t *result; /* {errors, lints, dropped, bytes, check_ns} */
};

struct htmlcheck_state {
    size_t max_bytes;
    pthread_mutex_t lock;
    struct cached cache[CACHE_SLOTS];
    unsigned next; /* round-robin replacement */
};

/* A fast 64-bit hash of the page (not cryptographic: it only spares re-checking a page). */
static uint64_t page_hash(const char *p, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0xFF51AFD7ED558CCDull;
        h ^= h >> 32;
    }
    for (; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 0x100000001B3ull;
    h ^= h >> 29;
    return h * 0xC4CEB9FE1A85EC53ull;
}

struct htmlcheck_req {
    json_t *result; /* owned by the request */
};

/* libxml2's generic error handler during a check: nothing is printed. */
static void quiet(void *ctx, const char *msg, ...)
{
    (void)ctx, (void)msg;
}

static int htmlcheck_init(void **state, struct dtb_toolbar *tb, const json_t *conf,
                          struct dtb_error *err)
{
    struct htmlcheck_state *s = calloc(1, sizeof(*s));
    const json_t *mb = json_object_get(conf, "max_bytes");
    (void)err;
    if (s == NULL)
        return -1;
    s->max_bytes = 256u * 1024u;
    pthread_mutex_init(&s->lock, NULL);
    if (json_is_integer(mb) && json_integer_value(mb) > 0)
        s->max_bytes = (size_t)json_integer_value(mb);
    dtb_toolbar_want_body(tb, s->max_bytes);
    *state = s;
    return 0;
}

static void htmlcheck_cleanup(void *state)
{
    struct htmlcheck_state *s = state;
    if (s == NULL)
        return;
    for (int i = 0; i < CACHE_SLOTS; i++)
        json_decref(s->cache[i].result);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static void *htmlcheck_start(void *state, struct dtb_request *rq)
{
    (void)state;
    return dtb_request_alloc(rq, sizeof(struct htmlcheck_req));
}

/* Elements libxml2 2.9's HTML 4 table does not know but a browser does. */
static int known_elsewhere(const char *name)
{
    static const char *const names[] = {"article",
                                        "aside",
                                        "audio",
                                        "bdi",
                                        "canvas",
                                        "data",
                                        "datalist",
                                        "details",
                                        "dialog",
                                        "embed",
                                        "figcaption",
                                        "figure",
                                        "footer",
                                        "header",
                                        "hgroup",
                                        "main",
                                        "mark",
                                        "menu",
                                        "meter",
                                        "nav",
                                        "output",
                                        "picture",
                                        "progress",
                                        "rp",
                                        "rt",
                                        "ruby",
                                        "search",
                                        "section",
                                        "slot",
                                        "source",
                                        "summary",
                                        "template",
                                        "time",
                                        "track",
                                        "video",
                                        "wbr",
                                        "svg",
                                        "math",
                                        "path",
                                        "circle",
                                        "rect",
                                        "line",
                                        "polyline",
                                        "polygon",
                                        "ellipse",
                                        "g",
                                        "defs",
                                        "use",
                                        "symbol",
                                        "text",
                                        "tspan",
                                        "lineargradient",
                                        "radialgradient",
                                        "stop",
                                        "clippath",
                                        "mask",
                                        "pattern",
                                        "image",
                                        "title",
                                        "desc",
                                        "foreignobject",
                                        "mi",
                                        "mo",
                                        "mn",
                                        "mrow",
                                        "msup",
                                        "msub",
                                        "mfrac",
                                        "msqrt",
                                        "mtext"};
    if (name == NULL)
        return 0;
    if (strchr(name, '-') != NULL)
        return 1; /* a custom element */
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(name, names[i]) == 0)
            return 1;
    return 0;
}

struct collect {
    json_t *errors;
    size_t dropped;
    endElementSAXFunc end_element; /* libxml2's own */
};

/* Elements whose end tag HTML lets a page leave out, and void elements (no end tag at all). */
static int end_tag_optional(const char *name)
{
    static const char *const names[] = {
        "html", "head",     "body",   "li",       "dt",      "dd",     "p",      "rt",
        "rp",   "optgroup", "option", "colgroup", "caption", "thead",  "tbody",  "tfoot",
        "tr",   "td",       "th",     "area",     "base",    "br",     "col",    "embed",
        "hr",   "img",      "input",  "link",     "meta",    "param",  "source", "track",
        "wbr",  "basefont", "frame",  "isindex",  "keygen",  "command"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(name, names[i]) == 0)
            return 1;
    return 0;
}

/* Whether the markup just read (up to the parser's position) is name's own end tag. libxml2
 * ends an element whose end tag is missing by itself when an outer one closes (or the page
 * ends), without a word: then the end tag just read is another element's. */
static int ends_with_own_end_tag(htmlParserCtxtPtr ctxt, const char *name)
{
    const char *base = (const char *)ctxt->input->base, *p = (const char *)ctxt->input->cur;
    if (base == NULL || p == NULL)
        return 1;
    for (int back = 0; p > base + 1 && back < 256; back++, p--) {
        if (p[-2] == '<' && p[-1] == '/') {
            size_t n = strlen(name);
            return strncasecmp(p, name, n) == 0 && !isalnum((unsigned char)p[n]) && p[n] != '-';
        }
    }
    return 1; /* no end tag in reach: say nothing */
}

static void on_end_element(void *data, const xmlChar *name)
{
    htmlParserCtxtPtr ctxt = data;
    struct collect *c = ctxt->_private;
    const char *n = (const char *)name;
    json_t *last = json_array_get(c->errors, json_array_size(c->errors) - 1);
    /* libxml2 may have said it already, at this very place ("tag mismatch") */
    int said = last != NULL &&
               json_integer_value(json_object_get(last, "line")) == ctxt->input->line &&
               json_integer_value(json_object_get(last, "column")) == ctxt->input->col;
    if (n != NULL && !said && !end_tag_optional(n) && !ends_with_own_end_tag(ctxt, n)) {
        if (json_array_size(c->errors) >= MAX_ITEMS) {
            c->dropped++;
        } else {
            char msg[200];
            int line = ctxt->node != NULL ? (int)xmlGetLineNo(ctxt->node) : ctxt->input->line;
            snprintf(msg, sizeof(msg),
                     "<%.80s> opened on line %d is never closed: its end tag "
                     "is missing",
                     n, line);
            json_array_append_new(c->errors,
                                  json_pack("{s:i,s:i,s:s,s:o}", "line", ctxt->input->line,
                                            "column", ctxt->input->col, "level", "error", "message",
                                            dtb_json_text(msg)));
        }
    }
    c->end_element(data, name);
}

static void on_error(void *data, xmlErrorPtr e)
{
    xmlParserCtxtPtr ctxt = data;
    struct collect *c = ctxt != NULL ? ctxt->_private : NULL;
    if (c == NULL || e == NULL)
        return;
    if (e->code == XML_HTML_UNKNOWN_TAG && known_elsewhere(e->str1))
        return;
    if (json_array_size(c->errors) >= MAX_ITEMS) {
        c->dropped++;
        return;
    }
    char msg[512];
    snprintf(msg, sizeof(msg), "%s", e->message != NULL ? e->message : "error");
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    json_array_append_new(c->errors,
                          json_pack("{s:i,s:i,s:s,s:o}", "line", e->line, "column", e->int2,
                                    "level", e->level == XML_ERR_WARNING ? "warning" : "error",
                                    "message", dtb_json_text(msg)));
}

static void lint(json_t *lints, const char *rule, const char *message, xmlNodePtr node)
{
    if (json_array_size(lints) >= MAX_ITEMS)
        return;
    json_array_append_new(lints, json_pack("{s:s,s:o,s:i}", "rule", rule, "message",
                                           dtb_json_text(message), "line",
                                           node != NULL ? (int)xmlGetLineNo(node) : 0));
}

/* Line and column (from 1) of the first needle at or after line `from` of the page. */
static void locate(const char *body, size_t len, int from, const char *needle, int *line, int *col)
{
    const char *p = body, *end = body + len, *ls;
    int l = 1;
    while (l < from && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL)
            break;
        p = nl + 1;
        l++;
    }
    const char *hit = memmem(p, (size_t)(end - p), needle, strlen(needle));
    *line = from;
    *col = 0;
    if (hit == NULL)
        return;
    for (ls = p; p < hit; p++)
        if (*p == '\n') {
            l++;
            ls = p + 1;
        }
    *line = l;
    *col = (int)(hit - ls) + 1;
}

static int named(xmlNodePtr n, const char *name)
{
    return n != NULL && n->type == XML_ELEMENT_NODE && n->name != NULL &&
           strcasecmp((const char *)n->name, name) == 0;
}

/* Whether s is NULL or only white space. */
static int blank(const char *s)
{
    while (s != NULL && *s != '\0' && isspace((unsigned char)*s))
        s++;
    return s == NULL || *s == '\0';
}

/* The next node of a document-order walk of the tree under root (NULL at its end); with
 * skip_children, n's subtree is passed over. */
static xmlNodePtr walk_next(xmlNodePtr n, xmlNodePtr root, int skip_children)
{
    if (!skip_children && n->children != NULL && n->type == XML_ELEMENT_NODE)
        return n->children;
    while (n != NULL && n != root) {
        if (n->next != NULL)
            return n->next;
        n = n->parent;
    }
    return NULL;
}

/* A form with a file input that is not multipart/form-data: the browser sends the file name
 * only. */
static int form_loses_files(xmlNodePtr form)
{
    int file = 0;
    for (xmlNodePtr n = form->children; n != NULL && !file; n = walk_next(n, form, 0)) {
        if (named(n, "input")) {
            xmlChar *type = xmlGetProp(n, (const xmlChar *)"type");
            file = type != NULL && strcasecmp((const char *)type, "file") == 0;
            xmlFree(type);
        }
    }
    if (!file)
        return 0;
    xmlChar *enc = xmlGetProp(form, (const xmlChar *)"enctype");
    const char *e = (const char *)enc;
    while (e != NULL && isspace((unsigned char)*e))
        e++;
    size_t n = e != NULL ? strlen(e) : 0;
    while (n > 0 && isspace((unsigned char)e[n - 1]))
        n--;
    int multipart = n == 19 && strncasecmp(e, "multipart/form-data", 19) == 0;
    xmlFree(enc);
    return !multipart;
}

/* libxml2 keeps an unknown entity ("&nosuch;") as text without a word: report each one in a
 * text node of the body (not in a script or style) as a parse error, at its place in the page. */
static void entities_in(xmlNodePtr n, json_t *errors, const char *body, size_t len)
{
    const char *t = (const char *)n->content;
    if (t == NULL || strchr(t, '&') == NULL || named(n->parent, "script") ||
        named(n->parent, "style"))
        return;
    int in_body = 0;
    for (xmlNodePtr a = n->parent; a != NULL && !in_body; a = a->parent)
        in_body = named(a, "body");
    if (!in_body)
        return;
    for (const char *a = strchr(t, '&'); a != NULL; a = strchr(a + 1, '&')) {
        char name[40];
        size_t k = 0;
        const char *q = a + 1;
        while (k + 1 < sizeof(name) && ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
                                        (*q >= '0' && *q <= '9' && k > 0)))
            name[k++] = *q++;
        name[k] = '\0';
        if (k == 0 || *q != ';' || htmlEntityLookup((const xmlChar *)name) != NULL)
            continue;
        if (json_array_size(errors) >= MAX_ITEMS)
            break;
        char msg[120], needle[48];
        int line, col;
        snprintf(msg, sizeof(msg), "unknown entity &%s;", name);
        snprintf(needle, sizeof(needle), "&%s;", name);
        locate(body, len, (int)xmlGetLineNo(n), needle, &line, &col);
        json_array_append_new(errors, json_pack("{s:i,s:i,s:s,s:o}", "line", line, "column", col,
                                                "level", "error", "message", dtb_json_text(msg)));
    }
}

/* The lints, and the unknown entities, in one walk of the document (no XPath: libxml2 2.9's
 * XPath leaks memory when an allocation fails). Lints are listed rule by rule, each in the
 * page's order. */
static void check_tree(htmlDocPtr doc, json_t *lints, json_t *errors, const char *body, size_t len)
{
    enum { DUP_ID, FORM, IMG_ALT, LANG, TITLE, LABEL, NRULES };
    json_t *by_rule[NRULES], *ids = json_object(), *fields = json_object(), *labels = json_array();
    int titles = 0;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    for (int i = 0; i < NRULES; i++)
        by_rule[i] = json_array();
    for (xmlNodePtr n = root; n != NULL; n = walk_next(n, (xmlNodePtr)doc, 0)) {
        if (n->type == XML_TEXT_NODE) {
            entities_in(n, errors, body, len);
            continue;
        }
        if (n->type != XML_ELEMENT_NODE)
            continue;
        xmlChar *id = xmlGetProp(n, (const xmlChar *)"id");
        if (id != NULL) {
            json_t *key = dtb_json_text((const char *)id);
            const char *k = json_string_value(key);
            if (k != NULL) {
                json_int_t c = json_integer_value(json_object_get(ids, k));
                if (c == 1) { /* each repeated value once, at its second use */
                    char msg[400];
                    snprintf(msg, sizeof(msg), "id \"%s\" is used more than once", k);
                    lint(by_rule[DUP_ID], "duplicate-id", msg, n);
                }
                json_object_set_new(ids, k, json_integer(c + 1));
                if (named(n, "input") || named(n, "select") || named(n, "textarea") ||
                    named(n, "button") || named(n, "output") || named(n, "meter") ||
                    named(n, "progress"))
                    json_object_set_new(fields, k, json_true());
            }
            json_decref(key);
            xmlFree(id);
        }
        if (named(n, "form") && form_loses_files(n))
            lint(by_rule[FORM], "form-enctype",
                 "a form with a file input is not multipart/form-data: the file is not sent", n);
        if (named(n, "img") && !xmlHasProp(n, (const xmlChar *)"alt")) {
            char msg[400];
            xmlChar *src = xmlGetProp(n, (const xmlChar *)"src");
            snprintf(msg, sizeof(msg), "image \"%s\" has no alt text",
                     src != NULL ? (const char *)src : "");
            xmlFree(src);
            lint(by_rule[IMG_ALT], "img-alt", msg, n);
        }
        if (n == root && named(n, "html")) {
            xmlChar *lang = xmlGetProp(n, (const xmlChar *)"lang");
            if (blank((const char *)lang))
                lint(by_rule[LANG], "html-lang", "<html> has no lang attribute", n);
            xmlFree(lang);
        }
        if (named(n, "title") && named(n->parent, "head")) {
            xmlChar *text = xmlNodeGetContent(n);
            titles += !blank((const char *)text);
            xmlFree(text);
        }
        if (named(n, "label")) {
            xmlChar *f = xmlGetProp(n, (const xmlChar *)"for");
            if (f != NULL)
                json_array_append_new(labels,
                                      json_pack("{s:o,s:i}", "for", dtb_json_text((const char *)f),
                                                "line", (int)xmlGetLineNo(n)));
            xmlFree(f);
        }
    }
    if (titles == 0)
        lint(by_rule[TITLE], "title", "the page has no <title> (or an empty one)", NULL);
    size_t i;
    json_t *l;
    json_array_foreach(labels, i, l)
    {
        const char *f = json_string_value(json_object_get(l, "for"));
        if (f != NULL && json_object_get(fields, f) == NULL) {
            char msg[400];
            snprintf(msg, sizeof(msg), "label for=\"%s\" points at no field", f);
            lint(by_rule[LABEL], "label-for", msg, NULL);
            json_t *last = json_array_get(by_rule[LABEL], json_array_size(by_rule[LABEL]) - 1);
            json_object_set(last, "line", json_object_get(l, "line"));
        }
    }
    for (int r = 0; r < NRULES; r++) {
        json_array_foreach(by_rule[r], i, l)
        {
            if (json_array_size(lints) < MAX_ITEMS)
                json_array_append(lints, l);
        }
        json_decref(by_rule[r]);
    }
    json_decref(ids);
    json_decref(fields);
    json_decref(labels);
}

/* The cache slot of a page with these bytes, or NULL. Lock held. */
static struct cached *find_cached(struct htmlcheck_state *s, size_t len, uint64_t h)
{
    for (int i = 0; i < CACHE_SLOTS; i++)
        if (s->cache[i].result != NULL && s->cache[i].len == len && s->cache[i].hash == h)
            return &s->cache[i];
    return NULL;
}

static void htmlcheck_end(void *state, struct dtb_request *rq, void *req_state)
{
    struct htmlcheck_state *s = state;
    struct htmlcheck_req *st = req_state;
    size_t len = 0;
    const char *body = dtb_request_body(rq, &len);
    const struct dtb_request_response *resp = dtb_request_response(rq);
    int64_t t0 = dtb_now_ns();
    struct collect c = {0};
    htmlParserCtxtPtr ctxt;
    htmlDocPtr doc;
    if (st == NULL)
        return;
    if (body == NULL) {
        const char *why = "not an HTML page from a buffer response";
        char big[160];
        if (resp->injected && resp->body_size > s->max_bytes) {
            snprintf(big, sizeof(big), "the page (%zu bytes) is larger than max_bytes (%zu)",
                     resp->body_size, s->max_bytes);
            why = big;
        }
        st->result = dtb_request_own_json(rq, json_pack("{s:s}", "skipped", why));
        return;
    }
    uint64_t h = page_hash(body, len);
    json_t *hit = NULL;
    pthread_mutex_lock(&s->lock);
    struct cached *seen = find_cached(s, len, h);
    if (seen != NULL)
        hit = json_deep_copy(seen->result);
    pthread_mutex_unlock(&s->lock);
    if (hit != NULL) {
        json_object_set_new(hit, "cached", json_true());
        json_object_set_new(hit, "lookup_ns", json_integer((json_int_t)(dtb_now_ns() - t0)));
        st->result = dtb_request_own_json(rq, hit);
        return;
    }
    /* libxml2 reports some failures (out of memory) through the thread's generic handler,
     * which prints: silence it around the parse, then put back what the app had */
    xmlGenericErrorFunc app_fn = xmlGenericError;
    void *app_ctx = xmlGenericErrorContext;
    c.errors = json_array();
    xmlSetGenericErrorFunc(NULL, quiet);
    ctxt = htmlCreateMemoryParserCtxt(body, (int)len);
    if (ctxt == NULL || c.errors == NULL) {
        json_decref(c.errors);
        if (ctxt != NULL)
            htmlFreeParserCtxt(ctxt);
        xmlSetGenericErrorFunc(app_ctx, app_fn);
        return;
    }
    /* this parse's own structured-error handler: nothing reaches stderr */
    ctxt->_private = &c;
    ctxt->sax->initialized = XML_SAX2_MAGIC;
    ctxt->sax->serror = on_error;
    c.end_element = ctxt->sax->endElement;
    if (c.end_element != NULL)
        ctxt->sax->endElement = on_end_element;
    ctxt->sax->error = NULL;
    ctxt->sax->warning = NULL;
    ctxt->vctxt.error = NULL;
    ctxt->vctxt.warning = NULL;
    htmlCtxtUseOptions(ctxt, HTML_PARSE_NONET | HTML_PARSE_COMPACT);
    htmlParseDocument(ctxt);
    doc = ctxt->myDoc;
    ctxt->myDoc = NULL;
    json_t *lints = json_array();
    if (doc != NULL && lints != NULL) {
        check_tree(doc, lints, c.errors, body, len);
    }
    if (doc != NULL)
        xmlFreeDoc(doc);
    htmlFreeParserCtxt(ctxt);
    xmlSetGenericErrorFunc(app_ctx, app_fn);
    st->result = dtb_request_own_json(
        rq, json_pack("{s:o,s:o,s:I,s:I,s:I}", "errors", c.errors, "lints",
                      lints != NULL ? lints : json_array(), "dropped", (json_int_t)c.dropped,
                      "bytes", (json_int_t)len, "check_ns", (json_int_t)(dtb_now_ns() - t0)));
    json_t *keep = st->result != NULL ? json_deep_copy(st->result) : NULL;
    if (keep != NULL) {
        pthread_mutex_lock(&s->lock);
        /* two threads may have checked the same page at once: keep one slot for it */
        struct cached *slot = find_cached(s, len, h);
        if (slot == NULL)
            slot = &s->cache[s->next++ % CACHE_SLOTS];
        json_decref(slot->result);
        slot->result = keep;
        slot->len = len;
        slot->hash = h;
        pthread_mutex_unlock(&s->lock);
    }
}

static json_t *htmlcheck_to_json(void *state, struct dtb_request *rq, void *req_state)
{
    struct htmlcheck_req *st = req_state;
    (void)state;
    (void)rq;
    return st != NULL && st->result != NULL ? json_incref(st->result) : NULL;
}

static int htmlcheck_subtitle(const json_t *stats, struct dtb_buf *out)
{
    if (json_is_string(json_object_get(stats, "skipped")))
        return dtb_buf_append_str(out, "not checked");
    size_t e = json_array_size(json_object_get(stats, "errors"));
    size_t l = json_array_size(json_object_get(stats, "lints"));
    if (e + l == 0)
        return dtb_buf_append_str(out, "no problems");
    return dtb_buf_appendf(out, "%zu error%s, %zu lint%s", e, e == 1 ? "" : "s", l,
                           l == 1 ? "" : "s");
}

static int htmlcheck_render(const json_t *stats, struct dtb_buf *out)
{
    const json_t *errors = json_object_get(stats, "errors"),
                 *lints = json_object_get(stats, "lints");
    const json_t *x;
    size_t i;
    if (json_is_string(json_object_get(stats, "skipped"))) {
        dtb_buf_append_str(out, "<p class=\"dtb-muted\">Not checked: ");
        dtb_buf_append_html_str(out, json_string_value(json_object_get(stats, "skipped")));
        dtb_buf_append_str(out, ".</p>");
        return out->failed ? -1 : 0;
    }
    dtb_buf_appendf(out,
                    "<p>%lld bytes checked by libxml2's HTML parser in %.3f ms, after the "
                    "response was sent",
                    (long long)json_integer_value(json_object_get(stats, "bytes")),
                    dtbi_ms(json_integer_value(json_object_get(stats, "check_ns"))));
    if (json_is_true(json_object_get(stats, "cached")))
        dtb_buf_appendf(out,
                        " (an earlier response with the same bytes; this one took %.3f ms "
                        "to look up)",
                        dtbi_ms(json_integer_value(json_object_get(stats, "lookup_ns"))));
    dtb_buf_append_str(out, ".</p>");
    dtb_buf_append_str(out, "<h4 class=\"dtb-h\">Parse errors</h4>");
    if (json_array_size(errors) == 0) {
        dtb_buf_append_str(out, "<p class=\"dtb-muted\">None.</p>");
    } else {
        dtb_buf_append_str(out, "<table class=\"dtb-table\"><thead><tr><th class=\"dtb-num\">"
                                "Line</th><th class=\"dtb-num\">Col</th><th>Level</th><th>"
                                "Message</th></tr></thead><tbody>");
        json_array_foreach(errors, i, x)
        {
            dtb_buf_appendf(out,
                            "<tr><td class=\"dtb-num\">%lld</td><td class=\"dtb-num\">%lld"
                            "</td><td>",
                            (long long)json_integer_value(json_object_get(x, "line")),
                            (long long)json_integer_value(json_object_get(x, "column")));
            dtb_buf_append_html_str(out, json_string_value(json_object_get(x, "level")));
            dtb_buf_append_str(out, "</td><td>");
            dtb_buf_append_html_str(out, json_string_value(json_object_get(x, "message")));
            dtb_buf_append_str(out, "</td></tr>");
        }
        dtb_buf_append_str(out, "</tbody></table>");
        if (json_integer_value(json_object_get(stats, "dropped")) > 0)
            dtb_buf_appendf(out, "<p class=\"dtb-muted\">and %lld more.</p>",
                            (long long)json_integer_value(json_object_get(stats, "dropped")));
    }
    dtb_buf_append_str(out, "<h4 class=\"dtb-h\">Lints</h4>");
    if (json_array_size(lints) == 0) {
        dtb_buf_append_str(out, "<p class=\"dtb-muted\">None.</p>");
    } else {
        dtb_buf_append_str(out, "<table class=\"dtb-table\"><thead><tr><th class=\"dtb-num\">"
                                "Line</th><th>Rule</th><th>Problem</th></tr></thead><tbody>");
        json_array_foreach(lints, i, x)
        {
            json_int_t line = json_integer_value(json_object_get(x, "line"));
            dtb_buf_append_str(out, "<tr><td class=\"dtb-num\">");
            if (line > 0)
                dtb_buf_appendf(out, "%lld", (long long)line);
            dtb_buf_append_str(out, "</td><td><code>");
            dtb_buf_append_html_str(out, json_string_value(json_object_get(x, "rule")));
            dtb_buf_append_str(out, "</code></td><td>");
            dtb_buf_append_html_str(out, json_string_value(json_object_get(x, "message")));
            dtb_buf_append_str(out, "</td></tr>");
        }
        dtb_buf_append_str(out, "</tbody></table>");
    }
    return out->failed ? -1 : 0;
}

const struct dtb_panel_ops dtb_panel_htmlcheck = {
    .abi = DTB_PANEL_ABI,
    .id = "htmlcheck",
    .title = "HTML check",
    .default_on = 1,
    .flags = DTB_PANEL_WANTS_BODY,
    .init = htmlcheck_init,
    .cleanup = htmlcheck_cleanup,
    .on_request_start = htmlcheck_start,
    .on_request_end = htmlcheck_end,
    .to_json = htmlcheck_to_json,
    .nav_subtitle = htmlcheck_subtitle,
    .render_html = htmlcheck_render,
};
