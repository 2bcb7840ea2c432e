/*
 * inject_int.h - private to the injector's files (inject.c, inject_tags.c, inject_page.c,
 * inject_xhtml.c): the scanner's states, the byte classes every part reads, and the two
 * tag hooks the state machine calls. Not installed.
 */
#ifndef DTB_INJECT_INT_H
#define DTB_INJECT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

static inline int is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

static inline unsigned char lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* What the skip functions return for a construct that the page never closes. */
#define NOEND SIZE_MAX

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

/* A finished end tag (its name in sc->name): the state after it (inject_tags.c). */
unsigned dtbi_end_tag(struct dtbi_scan *sc);
/* A finished start tag (its name in sc->name): the state after it, raw text, script or
 * plaintext included (inject_tags.c). */
unsigned dtbi_start_tag(struct dtbi_scan *sc, int self_closing);

#endif
