/*
 * fuzz_inject_gumbo.c - the injector held to gumbo, a WHATWG HTML5 parser (differential): any
 * bytes as an HTML page; where the injector says the toolbar goes, the page with the toolbar's
 * markup spliced in is parsed with gumbo, and
 *   - the toolbar's host element is one HTML-namespace element inside <body>, not inside
 *     template content, and its script is one HTML <script> element;
 *   - the tree with those two nodes removed equals gumbo's tree of the page as the app sent it
 *     (a serialisation of every node: namespace, tag, attributes, text, comments).
 * The one known exception: formatting elements still active where the toolbar goes (an open
 * <b> closed by a misnested end tag) are reconstructed around it by the parser, as around any
 * content there. Such a page is accepted only when the host's parent is such a clone (a
 * formatting element whose first child is the host) and unwrapping the clones makes the trees
 * equal, or, as the clone stays the current node and what follows may go into it, makes the
 * page up to the toolbar parse the same. A page the injector declines (a reason given) is not
 * checked. gumbo 0.10 is older than today's standard in ways that move markup (</p> and </br> end
 * SVG/MathML content; an end tag of one unknown name closes an element of another; "</>" hides the
 * tag after it; <noscript> read with scripting off; a "<![" short of "<![CDATA[" in SVG): pages
 * that show one are recognised as such (gumbo_differs) and not judged; parse5
 * (tests/unit/oracle.js) covers those.
 */
#include <gumbo.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char HOST[] =
    "<dtb-toolbar id=\"dtb-root\" data-id=\"0123456789abcdef\"></dtb-toolbar>";
static const char SCRIPT[] =
    "<script src=\"/_debug_toolbar/static/toolbar.js?v=0\" data-id=\"0123456789abcdef\" "
    "async=\"async\"></script>";

/* A growable byte buffer for the serialisation. */
struct out {
    char *p;
    size_t len, cap;
};

static void put(struct out *o, const void *s, size_t n)
{
    if (o->p == NULL || o->len + n > o->cap) {
        o->cap = (o->len + n) * 2 + 64;
        o->p = realloc(o->p, o->cap);
        if (o->p == NULL)
            abort();
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

static void puts_(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

/* Length-prefixed, so no text can fake a structure. */
static void put_str(struct out *o, const char *s, size_t n)
{
    char head[32];
    int k = snprintf(head, sizeof(head), "%zu:", n);
    put(o, head, (size_t)k);
    put(o, s, n);
}

/* The element's tag name, lower case, as the parser read it (unknown tags included). */
static void tag_name(const GumboElement *e, char *buf, size_t cap)
{
    if (e->tag != GUMBO_TAG_UNKNOWN) {
        snprintf(buf, cap, "%s", gumbo_normalized_tagname(e->tag));
        return;
    }
    GumboStringPiece s = e->original_tag;
    /* gumbo's original text of a tag also holds the "</>" dropped right before it */
    while (s.length >= 3 && memcmp(s.data, "</>", 3) == 0) {
        s.data += 3;
        s.length -= 3;
    }
    gumbo_tag_from_original_text(&s);
    size_t n = s.length < cap - 1 ? s.length : cap - 1;
    for (size_t i = 0; i < n; i++) {
        char c = s.data[i];
        buf[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    buf[n] = '\0';
}

static int is_element(const GumboNode *n)
{
    return n->type == GUMBO_NODE_ELEMENT || n->type == GUMBO_NODE_TEMPLATE;
}

static const char *attr(const GumboNode *n, const char *name)
{
    const GumboAttribute *a = gumbo_get_attribute(&n->v.element.attributes, name);
    return a != NULL ? a->value : NULL;
}

/* The toolbar's two nodes: the host and its script. */
static int is_host(const GumboNode *n)
{
    char name[64];
    if (!is_element(n))
        return 0;
    tag_name(&n->v.element, name, sizeof(name));
    return strcmp(name, "dtb-toolbar") == 0;
}

static int is_toolbar_script(const GumboNode *n)
{
    const char *src;
    return is_element(n) && n->v.element.tag == GUMBO_TAG_SCRIPT &&
           (src = attr(n, "src")) != NULL &&
           strcmp(src, "/_debug_toolbar/static/toolbar.js?v=0") == 0;
}

static int is_formatting(const GumboNode *n)
{
    if (n->type != GUMBO_NODE_ELEMENT || n->v.element.tag_namespace != GUMBO_NAMESPACE_HTML)
        return 0;
    switch (n->v.element.tag) {
    case GUMBO_TAG_A:
    case GUMBO_TAG_B:
    case GUMBO_TAG_BIG:
    case GUMBO_TAG_CODE:
    case GUMBO_TAG_EM:
    case GUMBO_TAG_FONT:
    case GUMBO_TAG_I:
    case GUMBO_TAG_NOBR:
    case GUMBO_TAG_S:
    case GUMBO_TAG_SMALL:
    case GUMBO_TAG_STRIKE:
    case GUMBO_TAG_STRONG:
    case GUMBO_TAG_TT:
    case GUMBO_TAG_U:
        return 1;
    default:
        return 0;
    }
}

/* A formatting element whose first child is the toolbar's host (or another such element): what
 * the parser's reconstruction of active formatting elements makes at inserted markup. It stays
 * the current node, so what the page has after the toolbar may go into it too. */
static int is_reconstruction(const GumboNode *n)
{
    if (!is_formatting(n) || n->v.element.children.length == 0)
        return 0;
    const GumboNode *first = n->v.element.children.data[0];
    return is_host(first) || is_reconstruction(first);
}

static int is_text(const GumboNode *n)
{
    return n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_WHITESPACE;
}

/* Serialises n's children; skip_toolbar drops the toolbar's nodes (adjacent texts they split
 * are one text again), skip_wrappers also unwraps the reconstructed formatting elements (their
 * other children serialised in their place). */
static void serialise(struct out *o, const GumboNode *n, int skip_toolbar, int skip_wrappers);

static void flush_text(struct out *o, struct out *text)
{
    if (text->p == NULL)
        return; /* no text since the last node */
    puts_(o, "T");
    put_str(o, text->p, text->len);
    free(text->p);
    text->p = NULL;
    text->len = text->cap = 0;
}

static void children(struct out *o, struct out *text, const GumboVector *c, int skip_toolbar,
                     int skip_wrappers)
{
    for (unsigned i = 0; i < c->length; i++) {
        const GumboNode *k = c->data[i];
        if (skip_toolbar && (is_host(k) || is_toolbar_script(k)))
            continue;
        if (skip_wrappers && is_reconstruction(k)) {
            children(o, text, &k->v.element.children, skip_toolbar, skip_wrappers);
            continue;
        }
        if (is_text(k)) {
            puts_(text, k->v.text.text); /* a run of texts is one text */
            continue;
        }
        flush_text(o, text);
        serialise(o, k, skip_toolbar, skip_wrappers);
    }
}

static void serialise_children(struct out *o, const GumboVector *c, int skip_toolbar,
                               int skip_wrappers)
{
    struct out text = {0};
    children(o, &text, c, skip_toolbar, skip_wrappers);
    flush_text(o, &text);
}

static void serialise(struct out *o, const GumboNode *n, int skip_toolbar, int skip_wrappers)
{
    static const char *const ns[] = {"html", "svg", "math"};
    char name[64];
    switch (n->type) {
    case GUMBO_NODE_DOCUMENT:
        puts_(o, "D");
        put_str(o, n->v.document.name, strlen(n->v.document.name));
        puts_(o, "(");
        serialise_children(o, &n->v.document.children, skip_toolbar, skip_wrappers);
        puts_(o, ")");
        break;
    case GUMBO_NODE_ELEMENT:
    case GUMBO_NODE_TEMPLATE:
        tag_name(&n->v.element, name, sizeof(name));
        puts_(o, n->type == GUMBO_NODE_TEMPLATE ? "E!" : "E");
        puts_(o, ns[n->v.element.tag_namespace]);
        puts_(o, " ");
        put_str(o, name, strlen(name));
        for (unsigned i = 0; i < n->v.element.attributes.length; i++) {
            const GumboAttribute *a = n->v.element.attributes.data[i];
            puts_(o, " A");
            put_str(o, a->name, strlen(a->name));
            put_str(o, a->value, strlen(a->value));
        }
        puts_(o, "(");
        serialise_children(o, &n->v.element.children, skip_toolbar, skip_wrappers);
        puts_(o, ")");
        break;
    case GUMBO_NODE_COMMENT:
        puts_(o, "C");
        put_str(o, n->v.text.text, strlen(n->v.text.text));
        break;
    case GUMBO_NODE_CDATA:
        puts_(o, "X");
        put_str(o, n->v.text.text, strlen(n->v.text.text));
        break;
    default: /* text is serialised by its parent, runs joined */
        break;
    }
}

/* Every toolbar node under n: hosts and scripts counted, the host's ancestry checked. */
struct found {
    int hosts, scripts, host_ok, script_ok;
    const GumboNode *host;
};

static void find(const GumboNode *n, int in_body, int in_template, struct found *f)
{
    const GumboVector *c;
    if (n->type == GUMBO_NODE_DOCUMENT)
        c = &n->v.document.children;
    else if (is_element(n))
        c = &n->v.element.children;
    else
        return;
    if (is_host(n)) {
        f->hosts++;
        f->host = n;
        f->host_ok = in_body && !in_template && n->v.element.tag_namespace == GUMBO_NAMESPACE_HTML;
    }
    if (is_toolbar_script(n)) {
        f->scripts++;
        f->script_ok = in_body && !in_template;
    }
    if (n->type == GUMBO_NODE_TEMPLATE)
        in_template = 1;
    if (is_element(n) && n->v.element.tag == GUMBO_TAG_BODY &&
        n->v.element.tag_namespace == GUMBO_NAMESPACE_HTML)
        in_body = 1;
    for (unsigned i = 0; i < c->length; i++)
        find(c->data[i], in_body, in_template, f);
}

static int is_delim(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == '/' || c == '>';
}

/* An element of a name gumbo does not know, closed by an end tag of another name: gumbo 0.10
 * tells unknown names apart by its tag enum only (all GUMBO_TAG_UNKNOWN), so "</m>" closes an
 * open <l> and what is inside it (an <svg>, say), where the standard ignores that end tag. */
static int closed_by_other_name(const GumboElement *e)
{
    char name[64];
    GumboStringPiece t = e->original_end_tag;
    if (e->tag != GUMBO_TAG_UNKNOWN || t.length < 3 || t.data[0] != '<' || t.data[1] != '/')
        return 0;
    tag_name(e, name, sizeof(name));
    size_t i = 0;
    for (; i + 2 < t.length && !is_delim(t.data[i + 2]); i++) {
        char c = t.data[i + 2];
        if (name[i] == '\0' || (char)(c >= 'A' && c <= 'Z' ? c + 32 : c) != name[i])
            return 1;
    }
    return name[i] != '\0';
}

/* Pages gumbo 0.10 parses against today's HTML standard (which parse5, browsers and the injector
 * follow), not judged here:
 *   - it predates the rule that an end tag </p> or </br> inside SVG/MathML content closes that
 *     content: it handles the tag as in HTML content, making an HTML <p> or <br> element, at the
 *     end tag's place, inside the SVG/MathML element, which stays open;
 *   - closed_by_other_name;
 *   - it has no scripting flag and parses <noscript> as scripting-off browsers do (its content
 *     as markup), where browsers with scripting on, and the injector, read raw text;
 *   - a "</>" (dropped): gumbo counts it in the original text of the tag that follows, and
 *     reads that tag's name from there ("</></svg>" no longer closes an <svg>); found in the
 *     page's bytes, by the caller. */
static int gumbo_differs(const GumboNode *n, const char *page, size_t len, int in_foreign)
{
    if (!is_element(n) && n->type != GUMBO_NODE_DOCUMENT)
        return 0;
    if (is_element(n)) {
        const GumboElement *e = &n->v.element;
        size_t at = e->start_pos.offset;
        if (in_foreign && e->tag_namespace == GUMBO_NAMESPACE_HTML &&
            (e->tag == GUMBO_TAG_P || e->tag == GUMBO_TAG_BR) && at + 1 < len && page[at] == '<' &&
            page[at + 1] == '/')
            return 1;
        if (closed_by_other_name(e))
            return 1;
        if (e->tag == GUMBO_TAG_NOSCRIPT && e->tag_namespace == GUMBO_NAMESPACE_HTML)
            return 1;
        if (e->tag_namespace != GUMBO_NAMESPACE_HTML)
            in_foreign = 1;
    }
    const GumboVector *c =
        n->type == GUMBO_NODE_DOCUMENT ? &n->v.document.children : &n->v.element.children;
    for (unsigned i = 0; i < c->length; i++)
        if (gumbo_differs(c->data[i], page, len, in_foreign))
            return 1;
    return 0;
}

/* The reconstructed clone stays the current node, so what follows the toolbar may go into it
 * (content there would, too): then the page up to the toolbar must parse the same with and
 * without it, the clones unwrapped. */
static int prefix_unchanged(const char *page, size_t at, const char *spliced)
{
    size_t extra = sizeof(HOST) - 1 + sizeof(SCRIPT) - 1;
    GumboOutput *x = gumbo_parse_with_options(&kGumboDefaultOptions, page, at);
    GumboOutput *y = gumbo_parse_with_options(&kGumboDefaultOptions, spliced, at + extra);
    struct out a = {0}, b = {0};
    serialise(&a, x->document, 0, 0);
    serialise(&b, y->document, 1, 1);
    int same = a.len == b.len && memcmp(a.p, b.p, a.len) == 0;
    free(a.p);
    free(b.p);
    gumbo_destroy_output(&kGumboDefaultOptions, x);
    gumbo_destroy_output(&kGumboDefaultOptions, y);
    return same;
}

/* A "<![" that does not open a whole "<![CDATA[": in SVG/MathML gumbo 0.10 ends the bogus
 * comment it starts at the next '<' (where the standard reads on to the next '>'). */
static int partial_cdata(const char *page, size_t size)
{
    for (const char *p = page; (p = memmem(p, size - (size_t)(p - page), "<![", 3)) != NULL; p++)
        if (size - (size_t)(p - page) < 9 || memcmp(p, "<![CDATA[", 9) != 0)
            return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *page = (const char *)data, *why = NULL;
    long at = dtbi_html_insert_point(page, size, &why);
    if (at < 0)
        return 0; /* declined, with its reason */
    size_t hl = sizeof(HOST) - 1, sl = sizeof(SCRIPT) - 1, n = size + hl + sl;
    char *spliced = malloc(n);
    if (spliced == NULL)
        abort();
    memcpy(spliced, page, (size_t)at);
    memcpy(spliced + at, HOST, hl);
    memcpy(spliced + at + hl, SCRIPT, sl);
    memcpy(spliced + at + hl + sl, page + at, size - (size_t)at);

    struct out a = {0}, b = {0};
    GumboOutput *orig = gumbo_parse_with_options(&kGumboDefaultOptions, page, size);
    GumboOutput *with = gumbo_parse_with_options(&kGumboDefaultOptions, spliced, n);
    struct found f = {0};
    find(orig->document, 0, 0, &f);
    if (f.hosts > 0 || f.scripts > 0)
        goto out; /* the page holds the toolbar's markup itself: its nodes are not told apart */
    if (gumbo_differs(orig->document, page, size, 0) || memmem(page, size, "</>", 3) != NULL ||
        partial_cdata(page, size))
        goto out; /* the known difference of gumbo's version */
    find(with->document, 0, 0, &f);
    if (f.hosts != 1 || !f.host_ok || f.scripts != 1 || !f.script_ok)
        __builtin_trap(); /* the toolbar is not one HTML element inside body */

    serialise(&a, orig->document, 0, 0);
    serialise(&b, with->document, 1, 0);
    if (a.len != b.len || memcmp(a.p, b.p, a.len) != 0) {
        /* the known exception: formatting elements reconstructed around the toolbar */
        const GumboNode *parent = f.host->parent;
        if (parent == NULL || !is_reconstruction(parent))
            __builtin_trap(); /* the page's tree changed around the toolbar */
        b.len = 0;
        serialise(&b, with->document, 1, 1);
        if ((a.len != b.len || memcmp(a.p, b.p, a.len) != 0) &&
            !prefix_unchanged(page, (size_t)at, spliced))
            __builtin_trap(); /* changed more than the reconstruction does */
    }
out:
    free(a.p);
    free(b.p);
    gumbo_destroy_output(&kGumboDefaultOptions, orig);
    gumbo_destroy_output(&kGumboDefaultOptions, with);
    free(spliced);
    return 0;
}
