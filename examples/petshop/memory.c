/*
 * memory.c - two demo pages for the Memory panel (run the demo with dtb-run --memory, or with
 * libdebugtoolbar-malloc.so preloaded):
 *   /leaky    remembers every visitor in a list it never frees: 3 blocks a request, left live
 *             at the end, at remember_visit (the panel lists them as leak candidates)
 *   /crumbs   builds its page from hundreds of small allocations, every one freed: many
 *             allocations, a peak, and nothing left behind
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "petshop.h"

struct visit {
    struct visit *next;
    char *when;
    char *note;
};

static struct visit *visits; /* never freed: the leak the page is about */
static long nvisits;
static pthread_mutex_t visits_lock = PTHREAD_MUTEX_INITIALIZER;

/* Keeps a record of this visit: 3 blocks (the node and two strings), on purpose never freed. */
static __attribute__((noinline)) void remember_visit(void)
{
    struct visit *v = malloc(sizeof(*v));
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    if (v == NULL)
        return;
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", gmtime_r(&now, &tm));
    v->when = malloc(strlen(when) + 1); /* (strdup's own malloc would be the site) */
    if (v->when != NULL)
        memcpy(v->when, when, strlen(when) + 1);
    v->note = malloc(48);
    if (v->note != NULL)
        snprintf(v->note, 48, "visit at %.20s", when);
    pthread_mutex_lock(&visits_lock);
    v->next = visits;
    visits = v;
    nvisits++;
    pthread_mutex_unlock(&visits_lock);
}

void memory_leaky_page(struct page *p)
{
    remember_visit();
    pthread_mutex_lock(&visits_lock);
    long n = nvisits;
    pthread_mutex_unlock(&visits_lock);
    page_add(p, "<h1>A page that leaks</h1><p class=\"lead\">Each visit is remembered in a list "
                "that is never freed: three blocks (the list node and two strings) a request.</p>");
    page_addf(p, "<p>%ld visit%s remembered so far.</p>", n, n == 1 ? "" : "s");
    page_add(p, "<p>Open the toolbar's <strong>Memory</strong> panel: under <em>Blocks left "
                "live at the end</em> it lists them with their site, <code>remember_visit</code> "
                "(run the demo with <code>dtb-run --memory</code>).</p>");
}

/* One table row as its own small string (the caller frees it). */
static __attribute__((noinline)) char *crumb_row(int i)
{
    char *cell = malloc(32);
    char *row = malloc(96);
    if (cell == NULL || row == NULL) {
        free(cell);
        free(row);
        return NULL;
    }
    snprintf(cell, 32, "crumb %d", i);
    snprintf(row, 96, "<tr><td>%d</td><td>%s</td><td>%d</td></tr>", i, cell, i * i);
    free(cell);
    return row;
}

void memory_crumbs_page(struct page *p)
{
    enum { ROWS = 300 };
    char *rows[ROWS];
    page_add(p, "<h1>A page of crumbs</h1><p class=\"lead\">This page is built from hundreds of "
                "small allocations (two per row, then the rows), all freed before it is sent: the "
                "Memory panel counts them, shows the peak and the sizes, and finds nothing left "
                "behind.</p><table><tr><th>#</th><th>crumb</th><th>square</th></tr>");
    for (int i = 0; i < ROWS; i++)
        rows[i] = crumb_row(i);
    for (int i = 0; i < ROWS; i++) {
        if (rows[i] != NULL)
            page_add(p, rows[i]);
        free(rows[i]);
    }
    page_add(p, "</table>");
}
