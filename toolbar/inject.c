/*
 * inject.c - where the toolbar goes: the one HTML scanner this project owns.
 *
 * dtbi_find_body_end follows HTML5's tokenizer for the states that decide whether a "</body"
 * is a real end tag: data, tags and their attribute values (quoted and unquoted), comments
 * (with "<!-->", "<!--->" and "--!>"), bogus comments ("<!...>", "<?...>", "</" + non-letter),
 * raw text (script with its escaped and double-escaped states, style, xmp, iframe, noembed,
 * noframes, noscript), RCDATA (textarea, title), plaintext, and CDATA inside SVG/MathML. It
 * does not build a tree and does not care about misnesting: the last real </body> end tag wins,
 * as in browsers, where content after it still goes into body. It does count the few open
 * elements that change where appended markup goes (select, template, svg/math, table): a
 * </body> inside select or template is ignored, and a page without a real </body> that ends
 * inside one of them, or inside a comment, script, raw text or tag, is not injected, with an
 * exact reason (dtbi_html_insert_point); an unclosed comment or tag at the end of the body is
 * a safe place before it. Known limits: HTML integration points inside SVG/MathML
 * (foreignObject, desc, title, mi...) are not followed, and formatting elements still open at
 * the insert point are reconstructed around the toolbar by browsers (as for any content
 * there). One pass, no allocation, memchr between tags.
 * libxml2 is the test oracle (tests/unit/test_inject.c) and Chromium the final judge. Every
 * state is linear: memchr searches are reused until passed, never restarted per byte.
 *
 * XHTML is different: it is XML, so libxml2 checks it is well-formed first and an XML-rules
 * scan (comments, CDATA, PIs, quoted attributes) finds the body's end tag.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "internal.h"

static int is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

static unsigned char lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* Case-insensitive: does s[0..len) start with the lower-case word w? */
static int starts_ci(const char *s, size_t len, const char *w)
{
    size_t n = strlen(w);
    if (len < n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)s[i]) != (unsigned char)w[i])
            return 0;
    return 1;
}

/* What the skip functions return for a construct that the page never closes. */
#define NOEND SIZE_MAX

/* Skips a tag's attributes from i (just after the tag name) to just past its '>'.
 * Returns NOEND when the tag never closes. */
static size_t skip_attributes(const char *s, size_t len, size_t i)
{
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c == '>')
            return i + 1;
        if (is_space(c) || c == '/') {
            i++;
            continue;
        }
        /* attribute name (its first character may be '=') */
        i++;
        while (i < len && !is_space((unsigned char)s[i]) && s[i] != '/' && s[i] != '>' &&
               s[i] != '=')
            i++;
        while (i < len && is_space((unsigned char)s[i]))
            i++;
        if (i < len && s[i] == '=') {
            i++;
            while (i < len && is_space((unsigned char)s[i]))
                i++;
            if (i < len && (s[i] == '"' || s[i] == '\'')) {
                const char *q = memchr(s + i + 1, s[i], len - i - 1);
                if (q == NULL)
                    return NOEND;
                i = (size_t)(q - s) + 1;
            } else {
                while (i < len && !is_space((unsigned char)s[i]) && s[i] != '>')
                    i++;
            }
        }
    }
    return NOEND;
}

/* Reads a tag name starting at i (a letter) into name (lower-cased, truncated); returns the
 * index just after it. */
static size_t read_name(const char *s, size_t len, size_t i, char *name, size_t cap)
{
    size_t n = 0;
    while (i < len && !is_space((unsigned char)s[i]) && s[i] != '/' && s[i] != '>') {
        if (n + 1 < cap)
            name[n++] = (char)lower((unsigned char)s[i]);
        i++;
    }
    name[n] = '\0';
    return i;
}

/* Is s[i..] "</name" followed by whitespace, '/' or '>'? */
static int is_end_tag_of(const char *s, size_t len, size_t i, const char *name)
{
    size_t n = strlen(name);
    if (i + 2 + n > len)
        return 0;
    if (s[i] != '<' || s[i + 1] != '/' || !starts_ci(s + i + 2, len - i - 2, name))
        return 0;
    if (i + 2 + n == len)
        return 1; /* at EOF the tag is unfinished, but the raw text ends here anyway */
    unsigned char c = (unsigned char)s[i + 2 + n];
    return is_space(c) || c == '/' || c == '>';
}

/* Raw text or RCDATA of element `name` from i: returns the index of its end tag's '<', or len. */
static size_t skip_rawtext(const char *s, size_t len, size_t i, const char *name)
{
    while (i < len) {
        const char *lt = memchr(s + i, '<', len - i);
        if (lt == NULL)
            return len;
        i = (size_t)(lt - s);
        if (is_end_tag_of(s, len, i, name))
            return i;
        i++;
    }
    return len;
}

/* Index of the next c at or after i (len when none), reusing the last search while it is still
 * ahead: a scan that alternates between two characters stays linear. *cache starts at
 * SIZE_MAX (nothing searched yet). */
static size_t next_of(const char *s, size_t len, size_t i, char c, size_t *cache)
{
    if (*cache == SIZE_MAX || *cache < i) {
        const char *p = memchr(s + i, c, len - i);
        *cache = p == NULL ? len : (size_t)(p - s);
    }
    return *cache;
}

/* Script data with HTML5's escaped ("<!--" ... "-->") and double-escaped ("<script" inside an
 * escaped section) states. Returns the index of the real "</script"'s '<', or len.
 * In the escaped states only '<' and a '>' right after "--" change anything, so the scan jumps
 * between those two characters (each searched once per stretch: linear in the page). */
static size_t skip_script(const char *s, size_t len, size_t i)
{
    enum { NORMAL, ESCAPED, DOUBLE } st = NORMAL;
    size_t from = 0, lt_at = SIZE_MAX, gt_at = SIZE_MAX;
    while (i < len) {
        size_t lt = next_of(s, len, i, '<', &lt_at);
        if (st != NORMAL) {
            size_t gt = next_of(s, len, i, '>', &gt_at);
            if (gt < lt) {
                /* "-->" (its dashes inside the escaped text) ends both escaped states */
                if (gt >= from + 2 && s[gt - 1] == '-' && s[gt - 2] == '-')
                    st = NORMAL;
                i = gt + 1;
                continue;
            }
        }
        if (lt >= len)
            return len;
        i = lt;
        if (st == NORMAL && i + 3 < len && s[i + 1] == '!' && s[i + 2] == '-' && s[i + 3] == '-') {
            st = ESCAPED;
            i += 4;
            /* "<!-->" and "<!--->": the "--" of the start may also end it */
            if (i < len && s[i] == '>') {
                st = NORMAL;
                i++;
            } else if (i + 1 < len && s[i] == '-' && s[i + 1] == '>') {
                st = NORMAL;
                i += 2;
            }
            from = i;
            continue;
        }
        if (is_end_tag_of(s, len, i, "script")) {
            if (st == DOUBLE) {
                st = ESCAPED;
                i += 8;
                continue;
            }
            return i;
        }
        if (st == ESCAPED && i + 7 < len && starts_ci(s + i + 1, len - i - 1, "script")) {
            unsigned char d = (unsigned char)s[i + 7];
            if (is_space(d) || d == '/' || d == '>') {
                st = DOUBLE;
                i += 7;
                continue;
            }
        }
        i++;
    }
    return len;
}

/* End of a comment that starts at i ("<!--"): index just past it, or NOEND. Only a '>' can end
 * it ("-->", "--!>", or the "<!-->"/"<!--->" forms), so the scan jumps from '>' to '>'. */
static size_t skip_comment(const char *s, size_t len, size_t i)
{
    size_t from;
    i += 4;
    if (i < len && s[i] == '>')
        return i + 1; /* "<!-->" */
    if (i + 1 < len && s[i] == '-' && s[i + 1] == '>')
        return i + 2; /* "<!--->" */
    from = i;
    while (i < len) {
        const char *g = memchr(s + i, '>', len - i);
        if (g == NULL)
            return NOEND;
        i = (size_t)(g - s);
        if (i >= from + 2 && s[i - 1] == '-' && s[i - 2] == '-')
            return i + 1;
        if (i >= from + 3 && s[i - 1] == '!' && s[i - 2] == '-' && s[i - 3] == '-')
            return i + 1;
        i++;
    }
    return NOEND;
}

/* End of a CDATA section that starts at i ("<![CDATA["): just past its "]]>", or NOEND.
 * Jumps from '>' to '>' (a search for "]]>" slows down on runs of ']'). */
static size_t skip_cdata(const char *s, size_t len, size_t i)
{
    size_t from = i + 9;
    for (i = from; i < len;) {
        const char *g = memchr(s + i, '>', len - i);
        if (g == NULL)
            return NOEND;
        i = (size_t)(g - s);
        if (i >= from + 2 && s[i - 1] == ']' && s[i - 2] == ']')
            return i + 1;
        i++;
    }
    return NOEND;
}

static size_t skip_to_gt(const char *s, size_t len, size_t i)
{
    const char *gt = i < len ? memchr(s + i, '>', len - i) : NULL;
    return gt == NULL ? NOEND : (size_t)(gt - s) + 1;
}

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

/* Exact reasons for a page that ends where appended markup is lost or misplaced. */
static const char *inside_element(const char *name)
{
    static const char *const names[][2] = {
        {"script", "page ends inside <script>"},     {"style", "page ends inside <style>"},
        {"xmp", "page ends inside <xmp>"},           {"iframe", "page ends inside <iframe>"},
        {"noembed", "page ends inside <noembed>"},   {"noframes", "page ends inside <noframes>"},
        {"noscript", "page ends inside <noscript>"}, {"textarea", "page ends inside <textarea>"},
        {"title", "page ends inside <title>"},       {"plaintext", "page ends inside <plaintext>"},
        {"select", "page ends inside <select>"},     {"template", "page ends inside <template>"},
        {"svg", "page ends inside <svg>"},           {"math", "page ends inside <math>"},
        {"table", "page ends inside <table>"}};
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
        if (strcmp(name, names[k][0]) == 0)
            return names[k][1];
    return "page ends inside an element that hides appended markup";
}

/* What one pass over a page finds: the last real </body> ('<' offset, or len), and how the
 * page ends: the open elements that change where appended markup goes, the tokenizer state
 * at the end (eof_reason: NULL when it is data) and where the unclosed construct starts. */
struct page_scan {
    size_t body_end;
    int seen_body;     /* a <body> start tag */
    int select, table; /* open <select> (0/1), <table> depth */
    int tmpl, foreign; /* <template> depth; <svg>/<math> depth */
    const char *foreign_name;
    const char *eof_reason; /* the page ends inside ... (tokenizer state) */
    int eof_movable;        /* a comment or tag in data: the markup may go before it */
    size_t eof_at;          /* '<' of that construct */
};

static void scan_page(const char *s, size_t len, struct page_scan *p)
{
    size_t i = 0;
    char name[16];
    memset(p, 0, sizeof(*p));
    p->body_end = len;
    while (i < len) {
        const char *lt = memchr(s + i, '<', len - i);
        if (lt == NULL)
            break;
        i = (size_t)(lt - s);
        if (i + 1 >= len)
            break; /* a lone '<' at the end is text */
        size_t at = i;
        unsigned char c = (unsigned char)s[i + 1];
        if (c == '!') {
            if (i + 3 < len && s[i + 2] == '-' && s[i + 3] == '-') {
                i = skip_comment(s, len, i);
                if (i == NOEND) {
                    p->eof_reason = "page ends inside a comment";
                    p->eof_movable = 1;
                }
            } else if (p->foreign > 0 && len - i >= 9 && memcmp(s + i, "<![CDATA[", 9) == 0) {
                i = skip_cdata(s, len, i); /* a real CDATA section in SVG/MathML */
                if (i == NOEND)
                    p->eof_reason = "page ends inside a CDATA section";
            } else {
                i = skip_to_gt(s, len, i + 2); /* DOCTYPE, CDATA in HTML: bogus comment */
                if (i == NOEND) {
                    p->eof_reason = "page ends inside a comment";
                    p->eof_movable = 1;
                }
            }
        } else if (c == '?') {
            i = skip_to_gt(s, len, i + 2);
            if (i == NOEND) {
                p->eof_reason = "page ends inside a comment";
                p->eof_movable = 1;
            }
        } else if (c == '/') {
            if (i + 2 < len && is_alpha((unsigned char)s[i + 2])) {
                size_t j = read_name(s, len, i + 2, name, sizeof(name));
                i = skip_attributes(s, len, j);
                if (i == NOEND) {
                    p->eof_reason = "page ends inside a tag";
                    p->eof_movable = 1;
                } else if (name[0] == 'b' && strcmp(name, "body") == 0) {
                    if (!p->select && p->tmpl == 0) /* ignored in select and template */
                        p->body_end = at;
                } else if (name[0] != 's' && name[0] != 't' && p->foreign == 0) {
                    /* no other end tag changes anything (the plain path) */
                } else if (strcmp(name, "select") == 0) {
                    p->select = 0;
                } else if (strcmp(name, "table") == 0) {
                    p->table -= p->table > 0;
                } else if (strcmp(name, "template") == 0) {
                    p->tmpl -= p->tmpl > 0;
                } else if (p->foreign > 0 &&
                           (strcmp(name, "svg") == 0 || strcmp(name, "math") == 0)) {
                    p->foreign--;
                } else if (p->foreign > 0 && (strcmp(name, "p") == 0 || strcmp(name, "br") == 0)) {
                    p->foreign = 0;
                }
            } else if (i + 2 < len && s[i + 2] == '>') {
                i += 3; /* "</>" is dropped */
            } else {
                i = skip_to_gt(s, len, i + 2); /* bogus comment */
                if (i == NOEND) {
                    p->eof_reason = "page ends inside a comment";
                    p->eof_movable = 1;
                }
            }
        } else if (is_alpha(c)) {
            size_t j = read_name(s, len, i + 1, name, sizeof(name));
            i = skip_attributes(s, len, j);
            if (i == NOEND) {
                p->eof_reason = "page ends inside a tag";
                p->eof_movable = 1;
                p->eof_at = at;
                break;
            }
            int self_closing = s[i - 2] == '/';
            if (p->foreign > 0) {
                if (breaks_out_of_foreign(name))
                    p->foreign = 0;
                else {
                    if (!self_closing && (strcmp(name, "svg") == 0 || strcmp(name, "math") == 0))
                        p->foreign++;
                    continue; /* no raw text in SVG/MathML */
                }
            }
            enum tag_kind k = tag_kind(name);
            if (k == T_OTHER)
                continue;
            if (k == T_SCRIPT) {
                i = skip_script(s, len, i);
            } else if (k == T_RAWTEXT) {
                if (name[0] == 't' && name[1] == 'e')
                    p->select = 0; /* <textarea> closes a <select> */
                i = skip_rawtext(s, len, i, name);
            } else if (k == T_PLAINTEXT) {
                p->eof_reason = inside_element(name); /* everything after is text */
                break;
            } else {
                if (k == T_BODY)
                    p->seen_body = 1;
                else if (k == T_SELECT)
                    p->select = !p->select; /* a <select> inside one closes it */
                else if (k == T_ENDS_SELECT)
                    p->select = 0;
                else if (k == T_TABLE)
                    p->table++;
                else if (k == T_TEMPLATE)
                    p->tmpl++;
                else if (k == T_FOREIGN && !self_closing) {
                    p->foreign = 1;
                    p->foreign_name = name[0] == 's' ? "svg" : "math";
                }
                continue;
            }
            /* raw text: its end tag must be there and finished, else the page ends inside */
            if (i >= len || skip_attributes(s, len, i + 2 + strlen(name)) == NOEND) {
                p->eof_reason = inside_element(name);
                break;
            }
        } else {
            i++; /* a '<' that starts nothing is text */
        }
        if (i == NOEND) {
            p->eof_at = at;
            break;
        }
    }
}

size_t dtbi_find_body_end(const char *s, size_t len)
{
    struct page_scan p;
    scan_page(s, len, &p);
    return p.body_end;
}

long dtbi_html_insert_point(const char *s, size_t len, const char **why)
{
    struct page_scan p;
    scan_page(s, len, &p);
    *why = NULL;
    if (p.body_end < len)
        return (long)p.body_end;
    /* appended: only where the parser puts it into body, as an HTML element */
    if (p.select)
        *why = "page ends inside <select>";
    else if (p.tmpl > 0)
        *why = "page ends inside <template>";
    else if (p.foreign > 0)
        *why = inside_element(p.foreign_name);
    else if (p.table > 0)
        *why = "page ends inside <table>";
    else if (p.eof_reason != NULL && p.eof_movable && p.seen_body)
        return (long)p.eof_at; /* before the unclosed comment or tag, in body */
    else
        *why = p.eof_reason;
    return *why != NULL ? -1 : (long)len;
}

int dtbi_looks_like_html(const char *body, size_t len)
{
    size_t i = 0;
    if (len >= 3 && (unsigned char)body[0] == 0xEF && (unsigned char)body[1] == 0xBB &&
        (unsigned char)body[2] == 0xBF)
        i = 3;
    for (;;) {
        while (i < len && is_space((unsigned char)body[i]))
            i++;
        if (i + 3 < len && body[i] == '<' && body[i + 1] == '!' && body[i + 2] == '-' &&
            body[i + 3] == '-') {
            i = skip_comment(body, len, i);
            if (i == NOEND)
                return 0;
            continue;
        }
        break;
    }
    if (i + 1 >= len || body[i] != '<')
        return 0;
    unsigned char c = (unsigned char)body[i + 1];
    return c == '!' || c == '?' || is_alpha(c);
}

/* XML-rules scan for the last "</body" end tag ('<' offset), or -1. */
static long xml_body_end(const char *s, size_t len)
{
    size_t i = 0;
    long last = -1;
    while (i < len) {
        const char *lt = memchr(s + i, '<', len - i);
        if (lt == NULL)
            break;
        i = (size_t)(lt - s);
        if (i + 1 >= len)
            break;
        if (starts_ci(s + i, len - i, "<!--")) {
            const char *e = memmem(s + i + 4, len - i - 4, "-->", 3);
            i = e ? (size_t)(e - s) + 3 : len;
        } else if (len - i >= 9 && memcmp(s + i, "<![CDATA[", 9) == 0) {
            const char *e = memmem(s + i + 9, len - i - 9, "]]>", 3);
            i = e ? (size_t)(e - s) + 3 : len;
        } else if (s[i + 1] == '?') {
            const char *e = memmem(s + i + 2, len - i - 2, "?>", 2);
            i = e ? (size_t)(e - s) + 2 : len;
        } else if (s[i + 1] == '!') {
            /* DOCTYPE, possibly with an internal subset in [...] */
            int depth = 0;
            i += 2;
            while (i < len && (s[i] != '>' || depth > 0)) {
                if (s[i] == '[')
                    depth++;
                else if (s[i] == ']')
                    depth--;
                i++;
            }
            i++;
        } else {
            size_t start = i;
            int end_tag = s[i + 1] == '/';
            size_t j = i + (end_tag ? 2 : 1);
            if (end_tag && len - j >= 4 && memcmp(s + j, "body", 4) == 0 &&
                (j + 4 == len || is_space((unsigned char)s[j + 4]) || s[j + 4] == '>'))
                last = (long)start;
            i = skip_attributes(s, len, j);
            if (i == NOEND)
                break;
        }
    }
    return last;
}

static void silent(void *ctx, const char *msg, ...)
{
    (void)ctx, (void)msg;
}

void dtbi_xml_quiet(struct dtbi_xml_quiet *saved)
{
    saved->fn = (void (*)(void))xmlGenericError;
    saved->ctx = xmlGenericErrorContext;
    xmlSetGenericErrorFunc(NULL, silent);
}

void dtbi_xml_unquiet(const struct dtbi_xml_quiet *saved)
{
    xmlSetGenericErrorFunc(saved->ctx, (xmlGenericErrorFunc)saved->fn);
}

long dtbi_xhtml_body_end(const char *doc, size_t len)
{
    struct dtbi_xml_quiet quiet;
    xmlParserCtxtPtr ctxt;
    xmlDocPtr xdoc;
    xmlNodePtr root, n;
    int ok = 0;
    if (len > (size_t)0x7fffffff)
        return -1;
    dtbi_xml_quiet(&quiet);
    ctxt = xmlNewParserCtxt();
    if (ctxt == NULL) {
        dtbi_xml_unquiet(&quiet);
        return -1;
    }
    xdoc = xmlCtxtReadMemory(ctxt, doc, (int)len, NULL, NULL,
                             XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (xdoc != NULL && ctxt->wellFormed) {
        root = xmlDocGetRootElement(xdoc);
        for (n = root ? root->children : NULL; n != NULL; n = n->next)
            if (n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, BAD_CAST "body") == 0)
                ok = 1;
    }
    xmlFreeDoc(xdoc);
    xmlFreeParserCtxt(ctxt);
    dtbi_xml_unquiet(&quiet);
    return ok ? xml_body_end(doc, len) : -1;
}
