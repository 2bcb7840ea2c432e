/*
 * parse.c - the HTML check panel's parse-error collection: libxml2's structured errors of one
 * parse (dropping "unknown tag" for the HTML5, SVG and custom elements its HTML 4 table does
 * not know), and a SAX end-element hook that reports an element whose end tag is missing,
 * which libxml2 closes without a word.
 */
#include <ctype.h>
#include <string.h>

#include "htmlcheck_int.h"

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

void dtbi_htmlcheck_on_end_element(void *data, const xmlChar *name)
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

void dtbi_htmlcheck_on_error(void *data, xmlErrorPtr e)
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
