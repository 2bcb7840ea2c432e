/*
 * pages.h - private to the demo's page files (pages.c, pages_bench.c, pages_demo.c,
 * pages_hostile.c): sending a page, the templates and the layout every styled page shares, and
 * the page handlers the router (pages.c) calls.
 */
#ifndef PETSHOP_PAGES_H
#define PETSHOP_PAGES_H

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "petshop.h"
#ifndef DTB_DISABLE
#include <debugtoolbar.h>
#include <debugtoolbar/mhd.h>
#endif
#include <debugtoolbar/span.h>
#include <debugtoolbar/state.h>

static const char HTML[] = "text/html; charset=utf-8";

/* A template is a function from a JSON context to HTML, like a Jinja template given a dict:
 * render() runs it, times it and tells the Templates panel its name and whole context. */
typedef void (*template_fn)(struct page *p, const json_t *ctx);

/* ---- pages.c ---- */

/* Sends p (its data freed by MHD) with the request's session saved into the response. */
enum MHD_Result send_page(struct MHD_Connection *con, unsigned status, const char *ctype,
                          struct page *p);
/* Renders name with ctx (consumed). */
void render(struct page *p, const char *name, json_t *ctx, template_fn fn);
/* A template context's string (or "") and integer (or 0). */
const char *str(const json_t *ctx, const char *key);
long long num(const json_t *ctx, const char *key);
/* The styled pages' layout: before and after their content. */
void head(struct page *p, const char *title);
void foot(struct page *p);
/* The 404 page. */
enum MHD_Result not_found(struct MHD_Connection *con);

/* ---- pages_bench.c: the benchmark pages of WORKLOAD.md ---- */

void cats_bench_page(struct page *p);
void big_page(struct page *p);
enum MHD_Result cats_bench(struct MHD_Connection *con);
enum MHD_Result cats_gzip(struct MHD_Connection *con);
enum MHD_Result send_chunked(struct MHD_Connection *con, void (*build)(struct page *));
enum MHD_Result big(struct MHD_Connection *con);
enum MHD_Result api_list(struct MHD_Connection *con, enum animal_kind k);

/* ---- pages_demo.c: the demo's own pages ---- */

enum MHD_Result index_page(struct MHD_Connection *con);
enum MHD_Result live_page(struct MHD_Connection *con);
enum MHD_Result dogs_page(struct MHD_Connection *con);
enum MHD_Result report_page(struct MHD_Connection *con);
enum MHD_Result visit_page(struct MHD_Connection *con);
enum MHD_Result cat_page(struct MHD_Connection *con, const char *idtext);
enum MHD_Result memory_page(struct MHD_Connection *con, const char *title,
                            void (*body)(struct page *));
enum MHD_Result login_page(struct MHD_Connection *con, unsigned status, const char *user,
                           const char *error);
enum MHD_Result search_page(struct MHD_Connection *con);

/* ---- pages_hostile.c: pages that put the toolbar to the test ---- */

enum MHD_Result csp_page(struct MHD_Connection *con);
enum MHD_Result chaos_page(struct MHD_Connection *con);
enum MHD_Result clobber_page(struct MHD_Connection *con);
enum MHD_Result broken_page(struct MHD_Connection *con);
enum MHD_Result junk_page(struct MHD_Connection *con);

#endif
