/*
 * inject.c - where the toolbar goes: the one HTML scanner this project owns, as a resumable
 * state machine (dtbi_scan_init, dtbi_scan_feed, dtbi_scan_safe, dtbi_scan_body_end).
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
 * Here: the tokenizer's states, byte by byte. What a finished tag does to the scan (raw text,
 * select, template, table, SVG/MathML) is inject_tags.c; the verdict when the page ends and the
 * buffered entry points are inject_page.c; XHTML (libxml2) is inject_xhtml.c.
 */
#include <stdint.h>
#include <string.h>

#include "inject_int.h"

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
                    st = sc->is_end ? dtbi_end_tag(sc) : dtbi_start_tag(sc, 0);
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
                st = sc->is_end ? dtbi_end_tag(sc) : dtbi_start_tag(sc, self_closing);
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
