/*
 * inject_page.c - the injector's verdict on a whole page: where the toolbar goes once the
 * scanner (inject.c) has read the last byte (dtbi_scan_finish, with the exact reason when it
 * cannot go anywhere), the buffered entry points (one init, one feed, one finish), and
 * dtbi_looks_like_html, the sniff for a body sent without a content type.
 */
#include <stdint.h>
#include <string.h>

#include "inject_int.h"

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
