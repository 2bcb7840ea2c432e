/*
 * inject.c - where the toolbar goes: the one HTML scanner this project owns.
 *
 * dtbi_find_body_end follows HTML5's tokenizer for the states that decide whether a "</body"
 * is a real end tag: data, tags and their attribute values (quoted and unquoted), comments
 * (with "<!-->", "<!--->" and "--!>"), bogus comments ("<!...>", "<?...>", "</" + non-letter),
 * raw text (script with its escaped and double-escaped states, style, xmp, iframe, noembed,
 * noframes, noscript), RCDATA (textarea, title) and plaintext. It does not build a tree and
 * does not care about misnesting: the last real </body> end tag wins, as in browsers, where
 * content after it still goes into body. One pass, no allocation, memchr between tags.
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

/* Skips a tag's attributes from i (just after the tag name) to just past its '>'.
 * Returns len when the tag never closes. */
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
                    return len;
                i = (size_t)(q - s) + 1;
            } else {
                while (i < len && !is_space((unsigned char)s[i]) && s[i] != '>')
                    i++;
            }
        }
    }
    return len;
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

/* End of a comment that starts at i ("<!--"): index just past it, or len. Only a '>' can end
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
            return len;
        i = (size_t)(g - s);
        if (i >= from + 2 && s[i - 1] == '-' && s[i - 2] == '-')
            return i + 1;
        if (i >= from + 3 && s[i - 1] == '!' && s[i - 2] == '-' && s[i - 3] == '-')
            return i + 1;
        i++;
    }
    return len;
}

static size_t skip_to_gt(const char *s, size_t len, size_t i)
{
    const char *gt = memchr(s + i, '>', len - i);
    return gt == NULL ? len : (size_t)(gt - s) + 1;
}

size_t dtbi_find_body_end(const char *s, size_t len)
{
    size_t i = 0, last = len;
    char name[16];
    while (i < len) {
        const char *lt = memchr(s + i, '<', len - i);
        if (lt == NULL)
            break;
        i = (size_t)(lt - s);
        if (i + 1 >= len)
            break;
        unsigned char c = (unsigned char)s[i + 1];
        if (c == '!') {
            if (i + 3 < len && s[i + 2] == '-' && s[i + 3] == '-')
                i = skip_comment(s, len, i);
            else
                i = skip_to_gt(s, len, i + 2); /* DOCTYPE, CDATA in HTML: bogus comment */
        } else if (c == '?') {
            i = skip_to_gt(s, len, i + 2);
        } else if (c == '/') {
            if (i + 2 < len && is_alpha((unsigned char)s[i + 2])) {
                size_t start = i;
                size_t j = read_name(s, len, i + 2, name, sizeof(name));
                i = skip_attributes(s, len, j);
                if (strcmp(name, "body") == 0)
                    last = start;
            } else if (i + 2 < len && s[i + 2] == '>') {
                i += 3; /* "</>" is dropped */
            } else {
                i = skip_to_gt(s, len, i + 2); /* bogus comment */
            }
        } else if (is_alpha(c)) {
            size_t j = read_name(s, len, i + 1, name, sizeof(name));
            i = skip_attributes(s, len, j);
            if (i >= len)
                break;
            if (strcmp(name, "script") == 0) {
                i = skip_script(s, len, i);
            } else if (strcmp(name, "style") == 0 || strcmp(name, "xmp") == 0 ||
                       strcmp(name, "iframe") == 0 || strcmp(name, "noembed") == 0 ||
                       strcmp(name, "noframes") == 0 || strcmp(name, "noscript") == 0 ||
                       strcmp(name, "textarea") == 0 || strcmp(name, "title") == 0) {
                i = skip_rawtext(s, len, i, name);
            } else if (strcmp(name, "plaintext") == 0) {
                break; /* everything after is text */
            }
        } else {
            i++; /* a '<' that starts nothing is text */
        }
    }
    return last;
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
