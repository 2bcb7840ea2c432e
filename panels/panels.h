/*
 * panels.h - helpers shared by the built-in panels (not installed). The panels are built on
 * the public headers alone (tests/unit/check-includes.sh): nothing here reaches the core's
 * internals.
 */
#ifndef DTB_PANELS_H
#define DTB_PANELS_H

#include <stdint.h>

#include "debugtoolbar.h"
#include "debugtoolbar/panel.h"

/* Decodes a JWT's header and claims (base64url + JSON); the signature is ignored, nothing is
 * verified. Returns 0 with two new references, or -1 (header/claims untouched). */
int dtbi_jwt_decode(const char *token, json_t **header, json_t **claims);

/* Parses a Server-Timing header value into a new array of {"name", "dur"?, "desc"?}.
 * Malformed entries are skipped. Returns 0, or -1 when out of memory. */
int dtbi_server_timing_parse(const char *header, json_t **out);

/* The state of panel `id` for the request current on this thread, or NULL (no request, or the
 * panel is off). *rq is set to the request when not NULL. */
void *dtbi_current_panel_state(const char *id, struct dtb_request **rq);

/* Milliseconds from nanoseconds, for display. */
static inline double dtbi_ms(int64_t ns)
{
    return (double)ns / 1e6;
}

/* Appends a call site "file:line" or "file:line (func)" escaped, inside
 * <span class="dtb-src" data-file=".." data-line="..">, which the UI turns into a link to the
 * configured editor; text that names no file:line is appended escaped as it is. */
void dtbi_render_site(struct dtb_buf *out, const char *site);

/* Appends file:line escaped, inside <span class="dtb-src" data-file data-line> (an editor link
 * in the UI) when file is a non-empty name and line is above 0; else file alone (or nothing). */
void dtbi_render_file_line(struct dtb_buf *out, const char *file, long long line);

/* ---- compare views (compare_html): two requests' stats side by side ---- */

/* How one item differs between A and B; its name is the row's data-change attribute. */
enum dtbi_change { DTBI_SAME, DTBI_ADDED, DTBI_REMOVED, DTBI_CHANGED };

/* Opens a comparison table's row for an item that changed so: <tr class data-change>, then a
 * cell with a badge ("added", "removed", "changed"; empty when the same). */
void dtbi_compare_row_start(struct dtb_buf *out, enum dtbi_change change);

/* One row of a figures table ("" | A | B | B − A): label escaped, then each value, absent
 * ones empty, and the difference when both are present. unit: "ms" (values in ms, shown by
 * dtbi_fmt_ms), "%" (percent, one decimal) or "" (whole numbers). */
void dtbi_compare_figure(struct dtb_buf *out, const char *label, int has_a, double a, int has_b,
                         double b, const char *unit);

/* Appends "N more not recorded" when n (a JSON integer, may be NULL) is above 0. Returns 0 or
 * -1 (out of memory). */
int dtbi_render_omitted(struct dtb_buf *out, const json_t *n);

/* A duration in milliseconds for display, in the unit that shows it ("1.24 s", "12.3 ms",
 * "2.1 ms", "410 µs", "48.2 µs", "350 ns"): never "0.0 ms" for a figure that is not zero.
 * Writes into buf (32 bytes are enough) and returns it. */
const char *dtbi_fmt_ms(double ms, char *buf, size_t len);

/* Appends "<code>value</code>" for a JSON scalar or a compact dump of anything else. */
void dtbi_render_scalar(struct dtb_buf *out, const json_t *v);

#endif
