/*
 * inject_tags.c - what a finished tag does to the injector's scan (inject.c): the start tags
 * that open raw text, RCDATA, script or plaintext, the few open elements that change where
 * appended markup goes (select, template, table, SVG/MathML and their HTML integration points),
 * and the end tags that close them. Name tables only; no bytes are read here.
 */
#include <string.h>

#include "inject_int.h"

/* Start tags that end SVG/MathML content when they appear inside it (HTML's "breakout"
 * list, font aside). */
static int breaks_out_of_foreign(const char *name)
{
    static const char *const names[] = {
        "b",      "big",  "blockquote", "body",  "br",   "center", "code",    "dd",   "div",
        "dl",     "dt",   "em",         "embed", "h1",   "h2",     "h3",      "h4",   "h5",
        "h6",     "head", "hr",         "i",     "img",  "li",     "listing", "menu", "meta",
        "nobr",   "ol",   "p",          "pre",   "ruby", "s",      "small",   "span", "strong",
        "strike", "sub",  "sup",        "table", "tt",   "u",      "ul",      "var"};
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
        if (strcmp(name, names[k]) == 0)
            return 1;
    return 0;
}

enum tag_kind {
    T_OTHER,
    T_SCRIPT,
    T_RAWTEXT,
    T_PLAINTEXT,
    T_BODY,
    T_SELECT,
    T_ENDS_SELECT,
    T_TABLE,
    T_TEMPLATE,
    T_FOREIGN
};

/* What a start tag's (lower-case) name does to the scan; most names are told apart by their
 * first letter alone (the plain path's speed). */
static enum tag_kind tag_kind(const char *n)
{
    switch (n[0]) {
    case 'b':
        return strcmp(n, "body") == 0 ? T_BODY : T_OTHER;
    case 'i':
        return strcmp(n, "iframe") == 0  ? T_RAWTEXT
               : strcmp(n, "input") == 0 ? T_ENDS_SELECT
                                         : T_OTHER;
    case 'k':
        return strcmp(n, "keygen") == 0 ? T_ENDS_SELECT : T_OTHER;
    case 'm':
        return strcmp(n, "math") == 0 ? T_FOREIGN : T_OTHER;
    case 'n':
        return strcmp(n, "noembed") == 0 || strcmp(n, "noframes") == 0 || strcmp(n, "noscript") == 0
                   ? T_RAWTEXT
                   : T_OTHER;
    case 'p':
        return n[1] != '\0' && strcmp(n, "plaintext") == 0 ? T_PLAINTEXT : T_OTHER;
    case 's':
        if (strcmp(n, "script") == 0)
            return T_SCRIPT;
        if (strcmp(n, "style") == 0)
            return T_RAWTEXT;
        if (strcmp(n, "select") == 0)
            return T_SELECT;
        return strcmp(n, "svg") == 0 ? T_FOREIGN : T_OTHER;
    case 't':
        if (strcmp(n, "textarea") == 0)
            return T_RAWTEXT; /* RCDATA, which ends the same way */
        if (strcmp(n, "title") == 0)
            return T_RAWTEXT;
        if (strcmp(n, "table") == 0)
            return T_TABLE;
        return strcmp(n, "template") == 0 ? T_TEMPLATE : T_OTHER;
    case 'x':
        return strcmp(n, "xmp") == 0 ? T_RAWTEXT : T_OTHER;
    default:
        return T_OTHER;
    }
}

/* SVG's and MathML's HTML integration points: what they hold is HTML again. */
static int is_integration_point(const char *name)
{
    static const char *const names[] = {
        "foreignobject", "desc", "title", "mi", "mo", "mn", "ms", "mtext", "annotation-xml"};
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
        if (strcmp(name, names[k]) == 0)
            return 1;
    return 0;
}

/* A finished end tag (its name in sc->name): the state after it. */
unsigned dtbi_end_tag(struct dtbi_scan *sc)
{
    const char *name = sc->name;
    if (sc->raw_end)
        return S_DATA; /* the end of script, style, textarea...: changes nothing else */
    if (name[0] == 'b' && strcmp(name, "body") == 0) {
        /* ignored in select and template; in SVG/MathML it ends the body but leaves the
         * foreign element open, so markup before it would be foreign */
        if (!sc->select && sc->tmpl == 0 && sc->foreign == 0)
            sc->body_end = sc->at;
    } else if (name[0] != 's' && name[0] != 't' && sc->foreign == 0) {
        /* no other end tag changes anything (the plain path) */
    } else if (sc->hip) {
        /* HTML inside SVG/MathML: only the integration point's own end tag matters here */
        if (is_integration_point(name))
            sc->hip = 0;
    } else if (strcmp(name, "select") == 0) {
        sc->select = 0;
    } else if (strcmp(name, "table") == 0) {
        sc->table -= sc->table > 0;
    } else if (strcmp(name, "template") == 0) {
        sc->tmpl -= sc->tmpl > 0;
    } else if (sc->foreign > 0 && strcmp(name, "svg") == 0) {
        /* closes an open <svg> only: "</svg>" in MathML content is ignored */
        if (sc->svg > 0) {
            sc->svg--;
            sc->foreign--;
        }
    } else if (sc->foreign > 0 && strcmp(name, "math") == 0) {
        if (sc->foreign > sc->svg)
            sc->foreign--;
    } else if (sc->foreign > 0 && (strcmp(name, "p") == 0 || strcmp(name, "br") == 0)) {
        sc->foreign = sc->svg = 0;
    }
    return S_DATA;
}

/* A finished start tag (its name in sc->name): the state after it. */
unsigned dtbi_start_tag(struct dtbi_scan *sc, int self_closing)
{
    const char *name = sc->name;
    if (sc->foreign > 0 && !sc->hip) {
        if (breaks_out_of_foreign(name)) {
            sc->foreign = sc->svg = 0;
        } else {
            if (!self_closing && is_integration_point(name))
                sc->hip = 1; /* HTML content inside, up to its end tag */
            else if (!self_closing && (strcmp(name, "svg") == 0 || strcmp(name, "math") == 0)) {
                sc->foreign++;
                sc->svg += name[0] == 's'; /* each name is closed by its own end tag */
            }
            return S_DATA; /* no raw text in SVG/MathML */
        }
    }
    switch (tag_kind(name)) {
    case T_OTHER:
        return S_DATA;
    case T_SCRIPT:
        sc->sub = SCRIPT_NORMAL;
        return S_SCRIPT;
    case T_RAWTEXT:
        if (name[0] == 't' && name[1] == 'e')
            sc->select = 0; /* <textarea> closes a <select> */
        return S_RAW;
    case T_PLAINTEXT:
        return S_PLAINTEXT; /* everything after is text */
    case T_BODY:
        sc->seen_body = 1;
        return S_DATA;
    case T_SELECT:
        sc->select = !sc->select; /* a <select> inside one closes it */
        return S_DATA;
    case T_ENDS_SELECT:
        sc->select = 0;
        return S_DATA;
    case T_TABLE:
        sc->table++;
        return S_DATA;
    case T_TEMPLATE:
        sc->tmpl++;
        return S_DATA;
    case T_FOREIGN:
        if (!self_closing && sc->foreign == 0) { /* (in an integration point: not followed) */
            sc->foreign = 1;
            sc->svg = name[0] == 's';
            sc->foreign_name = name[0] == 's' ? "svg" : "math";
        }
        return S_DATA;
    }
    return S_DATA;
}
