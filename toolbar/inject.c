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
 * a safe place before it. HTML integration points inside SVG/MathML (foreignObject, desc,
 * title, mi...) hold HTML (raw text, no CDATA) up to their end tag; a </body> in them is not a
 * place for the toolbar either. Known limits: SVG/MathML nested inside an integration point is
 * read as HTML, and formatting elements still open at
 * the insert point are reconstructed around the toolbar by browsers (as for any content
 * there). One pass, no allocation, memchr between tags.
 * The scanner is a resumable state machine (struct dtbi_scan): a page may be fed in chunks of
 * any size, a stream included, and gives the same answer as fed whole (the buffered functions
 * are one feed); the few bytes a state looks back at ("--" before a '>') are kept across chunks,
 * so no construct is rescanned from its start. While streaming, dtbi_scan_safe says how much of
 * the page can already go out.
 * libxml2 and parse5 are the test oracles (tests/unit/test_inject.c, oracle.js) and Chromium the
 * final judge. Every state is linear: memchr searches are reused until passed, never restarted
 * per byte.
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

/* The scanner's states. Each one either consumes bytes or hands the byte it stands on to the
 * next state, never both in a cycle: every byte is looked at a bounded number of times, however
 * the page is cut into chunks. */
enum scan_state {
    S_DATA,               /* text: memchr to the next '<' */
    S_LT,                 /* after '<' */
    S_BANG,               /* after "<!" */
    S_BANG_DASH,          /* after "<!-" */
    S_CDATA_OPEN,         /* "<![CDATA[" in SVG/MathML, `match` bytes of "[CDATA[" read */
    S_COMMENT_START,      /* after "<!--" */
    S_COMMENT_START_DASH, /* after "<!---" */
    S_COMMENT,            /* comment text: from '>' to '>' */
    S_BOGUS,              /* bogus comment ("<!...>", "<?...>", "</" + non-letter): to '>' */
    S_CDATA,              /* CDATA section: from '>' to '>' */
    S_END_LT,             /* after "</" */
    S_TAG_NAME,           /* a tag's name */
    S_ATTR,               /* in a tag, between attributes */
    S_ATTR_NAME,          /* an attribute's name, after its first byte */
    S_ATTR_AFTER_NAME,    /* spaces after an attribute's name */
    S_ATTR_BEFORE_VALUE,  /* spaces after '=' */
    S_ATTR_DQ,            /* "value" */
    S_ATTR_SQ,            /* 'value' */
    S_ATTR_UNQ,           /* unquoted value */
    S_RAW,                /* raw text or RCDATA of element `name`: memchr to the next '<' */
    S_RAW_LT,             /* in it, `match` bytes of "/name" read after a '<' */
    S_SCRIPT,             /* script data (`sub`: normal, escaped, double-escaped) */
    S_SCRIPT_LT,          /* after a '<' in it */
    S_SCRIPT_BANG,        /* "<!" then `match` dashes */
    S_SCRIPT_ESC_START,   /* after "<!--" */
    S_SCRIPT_ESC_DASH,    /* after "<!---" */
    S_SCRIPT_END,         /* "</" then `match` bytes of "script" */
    S_SCRIPT_DOUBLE,      /* escaped: '<' then `match` bytes of "script" */
    S_PLAINTEXT           /* the rest of the page is text */
};

enum { SCRIPT_NORMAL, SCRIPT_ESCAPED, SCRIPT_DOUBLE };

void dtbi_scan_init(struct dtbi_scan *sc)
{
    memset(sc, 0, sizeof(*sc));
    sc->body_end = SIZE_MAX;
    sc->state = S_DATA;
}

/* The byte k (1..3) places before s[i], from the previous chunks when s does not reach back. */
static inline unsigned char before(const struct dtbi_scan *sc, const unsigned char *s, size_t i,
                                   size_t k)
{
    return i >= k ? s[i - k] : sc->hist[3 - (k - i)];
}

/* Index of the next c at or after i in s[0..n) (n when none), reusing the last search while it
 * is still ahead: escaped script text alternates between '<' and '>' and stays linear. */
static size_t next_of(const unsigned char *s, size_t n, size_t i, int c, size_t *cache)
{
    if (*cache == SIZE_MAX || *cache < i) {
        const unsigned char *p = memchr(s + i, c, n - i);
        *cache = p == NULL ? n : (size_t)(p - s);
    }
    return *cache;
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
static unsigned end_tag(struct dtbi_scan *sc)
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
static unsigned start_tag(struct dtbi_scan *sc, int self_closing)
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

void dtbi_scan_feed(struct dtbi_scan *sc, const char *chunk, size_t n)
{
    const unsigned char *s = (const unsigned char *)chunk;
    const size_t base = sc->pos;
    unsigned st = sc->state;
    size_t i = 0, lt_at = SIZE_MAX, gt_at = SIZE_MAX;
    const unsigned char *p;
    unsigned char c;
    while (i < n) {
        switch (st) {
        case S_DATA:
            p = memchr(s + i, '<', n - i);
            if (p == NULL) {
                i = n;
                break;
            }
            i = (size_t)(p - s);
            sc->at = base + i++;
            st = S_LT;
            /* the common "<name" and "</name" go straight to the name (the plain path) */
            if (i + 1 < n) {
                if (is_alpha(s[i])) {
                    sc->is_end = 0;
                    goto tag_name;
                }
                if (s[i] == '/' && is_alpha(s[i + 1])) {
                    sc->is_end = 1;
                    i++;
                    goto tag_name;
                }
            }
            break;
        case S_LT:
            c = s[i];
            if (c == '!') {
                st = S_BANG;
                i++;
            } else if (c == '?') {
                st = S_BOGUS;
                i++;
            } else if (c == '/') {
                st = S_END_LT;
                i++;
            } else if (is_alpha(c)) {
                sc->is_end = 0;
                goto tag_name;
            } else {
                st = S_DATA; /* a '<' that starts nothing is text */
            }
            break;
        case S_BANG:
            c = s[i];
            if (c == '-') {
                st = S_BANG_DASH;
                i++;
            } else if (c == '[' && sc->foreign > 0 && !sc->hip) {
                st = S_CDATA_OPEN; /* a real CDATA section in SVG/MathML */
                sc->match = 1;
                i++;
            } else {
                st = S_BOGUS; /* DOCTYPE, CDATA in HTML */
            }
            break;
        case S_BANG_DASH:
            if (s[i] == '-') {
                st = S_COMMENT_START;
                i++;
            } else {
                st = S_BOGUS;
            }
            break;
        case S_CDATA_OPEN:
            if (s[i] == (unsigned char)"[CDATA["[sc->match]) {
                i++;
                if (++sc->match == 7) {
                    st = S_CDATA;
                    sc->from = base + i;
                }
            } else {
                st = S_BOGUS;
            }
            break;
        case S_COMMENT_START:
            c = s[i];
            if (c == '>') { /* "<!-->" */
                st = S_DATA;
                i++;
            } else if (c == '-') {
                st = S_COMMENT_START_DASH;
                i++;
            } else {
                st = S_COMMENT;
                sc->from = base + i;
            }
            break;
        case S_COMMENT_START_DASH:
            if (s[i] == '>') { /* "<!--->" */
                st = S_DATA;
                i++;
            } else {
                st = S_COMMENT;
                sc->from = base + i - 1; /* the dash is the comment's first byte */
            }
            break;
        case S_COMMENT:
        case S_BOGUS:
        case S_CDATA: {
            /* only a '>' can end them ("-->", "--!>", "]]>"): from '>' to '>' */
            p = memchr(s + i, '>', n - i);
            if (p == NULL) {
                i = n;
                break;
            }
            i = (size_t)(p - s);
            size_t a = base + i;
            if (st == S_BOGUS)
                st = S_DATA;
            else if (st == S_COMMENT) {
                if (a >= sc->from + 2 && before(sc, s, i, 1) == '-' && before(sc, s, i, 2) == '-')
                    st = S_DATA;
                else if (a >= sc->from + 3 && before(sc, s, i, 1) == '!' &&
                         before(sc, s, i, 2) == '-' && before(sc, s, i, 3) == '-')
                    st = S_DATA;
            } else if (a >= sc->from + 2 && before(sc, s, i, 1) == ']' &&
                       before(sc, s, i, 2) == ']') {
                st = S_DATA;
            }
            i++;
            break;
        }
        case S_END_LT:
            c = s[i];
            if (is_alpha(c)) {
                sc->is_end = 1;
                goto tag_name;
            } else {
                st = c == '>' ? S_DATA : S_BOGUS; /* "</>" is dropped */
                i++;
            }
            break;
        tag_name:
            sc->raw_end = 0;
            sc->nlen = 0;
            st = S_TAG_NAME;
            /* fall through */
        case S_TAG_NAME:
            for (; i < n; i++) {
                c = s[i];
                if (c == '>') { /* a tag without attributes (not self-closing) */
                    sc->name[sc->nlen] = '\0';
                    i++;
                    st = sc->is_end ? end_tag(sc) : start_tag(sc, 0);
                    break;
                }
                if (is_space(c) || c == '/') {
                    sc->name[sc->nlen] = '\0';
                    st = S_ATTR;
                    break;
                }
                /* a NUL is U+FFFD in a tag name: no name we look for has one */
                if (sc->nlen + 1u < sizeof(sc->name))
                    sc->name[sc->nlen++] = (char)(c == 0 ? 0xFF : lower(c));
            }
            break;
        case S_ATTR:
            while (i < n && (is_space(s[i]) || s[i] == '/'))
                i++;
            if (i == n)
                break;
            if (s[i] == '>') {
                int self_closing = before(sc, s, i, 1) == '/';
                i++;
                st = sc->is_end ? end_tag(sc) : start_tag(sc, self_closing);
            } else {
                i++; /* an attribute name's first byte may be anything, '=' included */
                st = S_ATTR_NAME;
            }
            break;
        case S_ATTR_NAME:
            while (i < n && !is_space(s[i]) && s[i] != '/' && s[i] != '>' && s[i] != '=')
                i++;
            if (i < n)
                st = S_ATTR_AFTER_NAME;
            break;
        case S_ATTR_AFTER_NAME:
            while (i < n && is_space(s[i]))
                i++;
            if (i == n)
                break;
            if (s[i] == '=') {
                i++;
                st = S_ATTR_BEFORE_VALUE;
            } else {
                st = S_ATTR;
            }
            break;
        case S_ATTR_BEFORE_VALUE:
            while (i < n && is_space(s[i]))
                i++;
            if (i == n)
                break;
            if (s[i] == '"' || s[i] == '\'') {
                st = s[i] == '"' ? S_ATTR_DQ : S_ATTR_SQ;
                i++;
            } else {
                st = S_ATTR_UNQ;
            }
            break;
        case S_ATTR_DQ:
        case S_ATTR_SQ:
            p = memchr(s + i, st == S_ATTR_DQ ? '"' : '\'', n - i);
            if (p == NULL) {
                i = n;
                break;
            }
            i = (size_t)(p - s) + 1;
            st = S_ATTR;
            break;
        case S_ATTR_UNQ:
            while (i < n && !is_space(s[i]) && s[i] != '>')
                i++;
            if (i < n)
                st = S_ATTR;
            break;
        case S_RAW:
            p = memchr(s + i, '<', n - i);
            if (p == NULL) {
                i = n;
                break;
            }
            i = (size_t)(p - s) + 1;
            sc->match = 0;
            st = S_RAW_LT;
            break;
        case S_RAW_LT:
            /* "</name" then a space, '/' or '>' ends it; anything else is text again */
            if (sc->match == 0) {
                if (s[i] != '/') {
                    st = S_RAW;
                    break;
                }
                sc->match = 1;
                i++;
            }
            while (i < n && sc->match <= sc->nlen &&
                   lower(s[i]) == (unsigned char)sc->name[sc->match - 1]) {
                sc->match++;
                i++;
            }
            if (i == n)
                break;
            c = s[i];
            if (sc->match == sc->nlen + 1 && (is_space(c) || c == '/' || c == '>')) {
                sc->at = base + i - sc->match - 1u;
                sc->is_end = 1;
                sc->raw_end = 1;
                st = S_ATTR;
            } else {
                st = S_RAW;
            }
            break;
        case S_SCRIPT:
            if (sc->sub == SCRIPT_NORMAL) {
                p = memchr(s + i, '<', n - i);
                if (p == NULL) {
                    i = n;
                    break;
                }
                i = (size_t)(p - s) + 1;
                st = S_SCRIPT_LT;
            } else {
                /* escaped: only '<' and a '>' right after "--" change anything; memchr for
                 * each (each search reused until passed), a byte loop on a short rest */
                if (n - i < 32) {
                    while (i < n && s[i] != '<' && s[i] != '>')
                        i++;
                } else {
                    size_t lt = next_of(s, n, i, '<', &lt_at), gt = next_of(s, n, i, '>', &gt_at);
                    i = lt < gt ? lt : gt;
                }
                if (i == n)
                    break;
                if (s[i] == '>') {
                    if (base + i >= sc->from + 2 && before(sc, s, i, 1) == '-' &&
                        before(sc, s, i, 2) == '-')
                        sc->sub = SCRIPT_NORMAL; /* "-->" ends both escaped states */
                } else {
                    st = S_SCRIPT_LT;
                }
                i++;
            }
            break;
        case S_SCRIPT_LT:
            c = s[i];
            sc->match = 0;
            if (c == '!' && sc->sub == SCRIPT_NORMAL) {
                st = S_SCRIPT_BANG;
                i++;
            } else if (c == '/') {
                st = S_SCRIPT_END;
                i++;
            } else if ((c == 's' || c == 'S') && sc->sub == SCRIPT_ESCAPED) {
                st = S_SCRIPT_DOUBLE;
                sc->match = 1;
                i++;
            } else {
                st = S_SCRIPT;
            }
            break;
        case S_SCRIPT_BANG:
            if (s[i] == '-') {
                i++;
                if (++sc->match == 2)
                    st = S_SCRIPT_ESC_START;
            } else {
                st = S_SCRIPT;
            }
            break;
        case S_SCRIPT_ESC_START:
            /* "<!-->" and "<!--->": the "--" of the start may also end it */
            c = s[i];
            if (c == '>') {
                st = S_SCRIPT;
                i++;
            } else if (c == '-') {
                st = S_SCRIPT_ESC_DASH;
                i++;
            } else {
                sc->sub = SCRIPT_ESCAPED;
                sc->from = base + i;
                st = S_SCRIPT;
            }
            break;
        case S_SCRIPT_ESC_DASH:
            if (s[i] == '>') {
                st = S_SCRIPT;
                i++;
            } else {
                sc->sub = SCRIPT_ESCAPED;
                sc->from = base + i - 1;
                st = S_SCRIPT;
            }
            break;
        case S_SCRIPT_END:
        case S_SCRIPT_DOUBLE:
            while (i < n && sc->match < 6 && lower(s[i]) == (unsigned char)"script"[sc->match]) {
                sc->match++;
                i++;
            }
            if (i == n)
                break;
            c = s[i];
            if (sc->match < 6 || (!is_space(c) && c != '/' && c != '>')) {
                st = S_SCRIPT;
            } else if (st == S_SCRIPT_DOUBLE) {
                sc->sub = SCRIPT_DOUBLE;
                st = S_SCRIPT;
            } else if (sc->sub == SCRIPT_DOUBLE) {
                sc->sub = SCRIPT_ESCAPED; /* "</script>" ends the double-escaped part */
                st = S_SCRIPT;
            } else {
                sc->at = base + i - 8u; /* the real end tag */
                sc->is_end = 1;
                sc->raw_end = 1;
                st = S_ATTR;
            }
            break;
        case S_PLAINTEXT:
        default:
            i = n;
            break;
        }
    }
    sc->state = (unsigned char)st;
    sc->pos = base + n;
    if (n >= 3) {
        memcpy(sc->hist, s + n - 3, 3);
    } else if (n > 0) {
        memmove(sc->hist, sc->hist + n, 3 - n);
        memcpy(sc->hist + 3 - n, s, n);
    }
}

/* States inside a comment, bogus comment or tag: a page that ends there can get the toolbar
 * before the construct's '<' (sc->at). */
static int in_movable(const struct dtbi_scan *sc)
{
    switch (sc->state) {
    case S_LT:
    case S_BANG:
    case S_BANG_DASH:
    case S_CDATA_OPEN:
    case S_COMMENT_START:
    case S_COMMENT_START_DASH:
    case S_COMMENT:
    case S_BOGUS:
    case S_END_LT:
    case S_TAG_NAME:
        return 1;
    case S_ATTR:
    case S_ATTR_NAME:
    case S_ATTR_AFTER_NAME:
    case S_ATTR_BEFORE_VALUE:
    case S_ATTR_DQ:
    case S_ATTR_SQ:
    case S_ATTR_UNQ:
        return !sc->raw_end;
    default:
        return 0;
    }
}

size_t dtbi_scan_safe(const struct dtbi_scan *sc)
{
    if (sc->body_end != SIZE_MAX)
        return sc->body_end;
    return in_movable(sc) ? sc->at : sc->pos;
}

size_t dtbi_scan_body_end(const struct dtbi_scan *sc)
{
    return sc->body_end != SIZE_MAX ? sc->body_end : sc->pos;
}

long dtbi_scan_finish(const struct dtbi_scan *sc, const char **why)
{
    /* how the page ends: the tokenizer state (NULL: data), and whether the markup may go
     * before the unclosed construct */
    const char *eof_reason = NULL;
    int movable = 0;
    switch (sc->state) {
    case S_DATA:
    case S_LT: /* a lone '<' at the end is text */
        break;
    case S_CDATA:
        eof_reason = "page ends inside a CDATA section";
        break;
    case S_TAG_NAME:
    case S_ATTR:
    case S_ATTR_NAME:
    case S_ATTR_AFTER_NAME:
    case S_ATTR_BEFORE_VALUE:
    case S_ATTR_DQ:
    case S_ATTR_SQ:
    case S_ATTR_UNQ:
        if (sc->raw_end) {
            eof_reason = inside_element(sc->name); /* its end tag is unfinished */
        } else {
            eof_reason = "page ends inside a tag";
            movable = 1;
        }
        break;
    case S_RAW:
    case S_RAW_LT:
    case S_PLAINTEXT:
        eof_reason = inside_element(sc->name);
        break;
    case S_SCRIPT:
    case S_SCRIPT_LT:
    case S_SCRIPT_BANG:
    case S_SCRIPT_ESC_START:
    case S_SCRIPT_ESC_DASH:
    case S_SCRIPT_END:
    case S_SCRIPT_DOUBLE:
        eof_reason = inside_element("script");
        break;
    default: /* comments and bogus comments */
        eof_reason = "page ends inside a comment";
        movable = 1;
        break;
    }
    *why = NULL;
    if (sc->body_end != SIZE_MAX)
        return (long)sc->body_end;
    /* appended: only where the parser puts it into body, as an HTML element */
    if (sc->select)
        *why = "page ends inside <select>";
    else if (sc->tmpl > 0)
        *why = "page ends inside <template>";
    else if (sc->foreign > 0)
        *why = inside_element(sc->foreign_name);
    else if (sc->table > 0)
        *why = "page ends inside <table>";
    else if (eof_reason != NULL && movable && sc->seen_body)
        return (long)sc->at; /* before the unclosed comment or tag, in body */
    else
        *why = eof_reason;
    return *why != NULL ? -1 : (long)sc->pos;
}

size_t dtbi_find_body_end(const char *s, size_t len)
{
    struct dtbi_scan sc;
    dtbi_scan_init(&sc);
    dtbi_scan_feed(&sc, s, len);
    return dtbi_scan_body_end(&sc);
}

long dtbi_html_insert_point(const char *s, size_t len, const char **why)
{
    struct dtbi_scan sc;
    dtbi_scan_init(&sc);
    dtbi_scan_feed(&sc, s, len);
    return dtbi_scan_finish(&sc, why);
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
