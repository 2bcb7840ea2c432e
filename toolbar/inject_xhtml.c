/*
 * inject_xhtml.c - where the toolbar goes in XHTML. XHTML is XML, not HTML: libxml2 checks that
 * the page is well-formed and that its root holds a body, then an XML-rules scan (comments,
 * CDATA, PIs, DOCTYPE with an internal subset, quoted attributes) finds the body's last end
 * tag. Also dtbi_xml_quiet/unquiet, which keep libxml2's generic errors off stderr.
 */
#include <stdint.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "inject_int.h"

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
