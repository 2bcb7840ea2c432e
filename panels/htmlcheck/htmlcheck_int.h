/*
 * htmlcheck_int.h - shared between the HTML check panel's files (not installed): the bound on
 * listed items, the parse-error collector, and the functions one file of the panel offers
 * another.
 */
#ifndef DTB_PANELS_HTMLCHECK_INT_H
#define DTB_PANELS_HTMLCHECK_INT_H

#include <libxml/HTMLparser.h>

#include "../panels.h"

#define MAX_ITEMS 200

struct collect {
    json_t *errors;
    size_t dropped;
    endElementSAXFunc end_element; /* libxml2's own */
};

/* parse.c: the SAX end-element hook (reports an element whose end tag is missing) and the
 * structured-error handler of one parse; both read the struct collect in ctxt->_private. */
void dtbi_htmlcheck_on_end_element(void *data, const xmlChar *name);
void dtbi_htmlcheck_on_error(void *data, xmlErrorPtr e);

/* lint.c: the lints (into lints) and the unknown entities (into errors) of doc, parsed from
 * body, in one walk of the document. */
void dtbi_htmlcheck_check_tree(htmlDocPtr doc, json_t *lints, json_t *errors, const char *body,
                               size_t len);

/* render.c: the nav subtitle and the panel's HTML from its stats. */
int dtbi_htmlcheck_subtitle(const json_t *stats, struct dtb_buf *out);
int dtbi_htmlcheck_render(const json_t *stats, struct dtb_buf *out);

#endif
