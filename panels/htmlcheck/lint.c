/*
 * lint.c - the HTML check panel's lints, found in one walk of the parsed document: duplicate
 * ids, file inputs in a form that is not multipart, images without alt, no lang, no <title>,
 * labels pointing at no field; and the unknown entities libxml2 keeps as text without a word.
 */
#include <ctype.h>
#include <string.h>

#include "htmlcheck_int.h"

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
void dtbi_htmlcheck_check_tree(htmlDocPtr doc, json_t *lints, json_t *errors, const char *body,
                               size_t len)
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
