/*
 * pages_hostile.c - demo pages that put the toolbar to the test: a strict Content-Security-
 * Policy whose nonce the toolbar must reuse (/csp), CSS that restyles every element (/chaos),
 * user markup claiming to be the toolbar's (/clobber), HTML with mistakes on purpose for the
 * HTML check panel (/broken), and binary junk labelled text/html (/junk).
 */
#include <stdio.h>
#include <stdlib.h>

#include "pages.h"

/* A page served under a strict Content-Security-Policy: scripts need the nonce. The toolbar
 * copies it onto its own script and stylesheet. */
enum MHD_Result csp_page(struct MHD_Connection *con)
{
    struct page p = {0};
    struct MHD_Response *r;
    enum MHD_Result ret;
    char nonce[33];
    unsigned char raw[16];
    static const char hex[] = "0123456789abcdef";
    FILE *f = fopen("/dev/urandom", "rb");
    if (f == NULL || fread(raw, 1, sizeof(raw), f) != sizeof(raw)) {
        if (f != NULL)
            fclose(f);
        return MHD_NO;
    }
    fclose(f);
    for (int i = 0; i < 16; i++) {
        nonce[2 * i] = hex[raw[i] >> 4];
        nonce[2 * i + 1] = hex[raw[i] & 15];
    }
    nonce[32] = '\0';
    head(&p, "Strict CSP");
    page_add(&p, "<h1>Strict Content-Security-Policy</h1><p class=\"lead\">This page allows only "
                 "scripts and styles carrying its nonce. The toolbar still works.</p>"
                 "<p id=\"check\">The page's own script has not run.</p><script nonce=\"");
    page_add(&p, nonce);
    page_add(&p, "\">document.getElementById('check').textContent='The page\\'s own script ran.';"
                 "</script>");
    foot(&p);
    if (p.failed)
        return MHD_NO;
    r = MHD_create_response_from_buffer(p.len, p.data, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(p.data);
        return MHD_NO;
    }
    char csp[256];
    snprintf(csp, sizeof(csp),
             "default-src 'self'; script-src 'nonce-%s'; style-src 'self' 'nonce-%s'; "
             "object-src 'none'; base-uri 'none'",
             nonce, nonce);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, HTML);
    MHD_add_response_header(r, "Content-Security-Policy", csp);
    ret = MHD_queue_response(con, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

/* A page whose CSS fights everything: the toolbar must still look right, and must not move
 * anything on it. */
enum MHD_Result chaos_page(struct MHD_Connection *con)
{
    struct page p = {0};
    page_add(&p, "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                 "<title>CSS chaos</title><style>"
                 "* { all: unset; display: block; font-size: 40px !important; "
                 "color: #c00 !important; z-index: 2147483647 !important; }"
                 "head, style, title { display: none; }"
                 "div { position: relative; z-index: 999999; background: yellow; }"
                 "dtb-toolbar, #dtb-root { display: none; transform: scale(3); }"
                 "body { margin: 0; padding: 10px; background: #eef; }"
                 "</style></head><body><div>Aggressive global CSS</div>"
                 "<p>Every element is restyled, z-index is at its maximum, and the toolbar's own "
                 "element is told to hide.</p></body></html>");
    return send_page(con, MHD_HTTP_OK, HTML, &p);
}

/* A page that lets its users write HTML with ids and data-* attributes (as a comment or a
 * profile might): elements that claim to be the toolbar's, placed before it. The toolbar must
 * ignore them and load from its own prefix only. */
enum MHD_Result clobber_page(struct MHD_Connection *con)
{
    struct page p = {0};
    page_add(&p, "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                 "<title>User HTML</title></head><body><h1>User HTML</h1>"
                 "<div id=\"dtb-root\" data-prefix=\"//evil.example/\" "
                 "data-id=\"0000000000000000\">a user's div</div>"
                 "<dtb-toolbar id=\"dtb-root\" data-prefix=\"//evil.example/\"></dtb-toolbar>"
                 "<img name=\"currentScript\" alt=\"\">"
                 "<form id=\"debugToolbar\"></form>"
                 "<p>Markup a user wrote, claiming to be the toolbar.</p></body></html>");
    return send_page(con, MHD_HTTP_OK, HTML, &p);
}

/* A page with mistakes on purpose, for the HTML check panel: misnested and unclosed tags, an
 * unknown entity, a duplicate id, a file upload in a form that is not multipart, an image with
 * no alt, a label for no field, and no lang or title. */
enum MHD_Result broken_page(struct MHD_Connection *con)
{
    struct page p = {0};
    page_add(&p, "<!DOCTYPE html>\n<html>\n<head><meta charset=\"utf-8\">"
                 "<link rel=\"stylesheet\" href=\"/static/petshop.css\"></head>\n<body>\n"
                 "<main><div class=\"wrap\">\n"
                 "<h1 id=\"top\">A broken page</h1>\n"
                 "<p class=\"lead\">This page has mistakes on purpose. Browsers forgive them; "
                 "the HTML check panel does not.</p>\n"
                 "<p><b><i>Misnested tags</b></i> and an unknown entity: &nosuch;</p>\n"
                 "<div id=\"top\">A second element with id \"top\".</div>\n"
                 "<form method=\"post\" action=\"/upload\"><input type=\"file\" name=\"photo\">"
                 "<button>Upload</button></form>\n"
                 "<img src=\"/favicon.ico\" width=\"32\" height=\"32\">\n"
                 "<label for=\"nothing\">A label for no field</label>\n"
                 "<table><tr><td>A cell</div></td></tr></table>\n"
                 "<p>An unclosed <span>span\n"
                 "</div></main>\n</body>\n</html>\n");
    return send_page(con, MHD_HTTP_OK, HTML, &p);
}

/* Binary junk labelled text/html: served as it is (it does not start like a document). */
enum MHD_Result junk_page(struct MHD_Connection *con)
{
    static const unsigned char junk[] = {0x00, 0xff, 0xfe, 0x3c, 0x62, 0x6f, 0x64, 0x79, 0x3e,
                                         0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00,
                                         0x3c, 0x2f, 0x62, 0x6f, 0x64, 0x79, 0x3e, 0xc3, 0x28};
    struct page p = {0};
    page_addn(&p, (const char *)junk, sizeof(junk));
    return send_page(con, MHD_HTTP_OK, HTML, &p);
}
