/*
 * petshop.h - the demo app's shared declarations: an MHD app with a SQLite database of cats
 * and dogs, pages rendered into a growable buffer, and the debug toolbar around it.
 */
#ifndef PETSHOP_H
#define PETSHOP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <microhttpd.h>
#include <sqlite3.h>

/* Animal: the shared shape of Cat and Dog (two tables with the same columns). */
struct animal {
    long long id;
    char name[64];
    int age;
};

/* The two kinds; the table name comes from this fixed list, never from a request. */
enum animal_kind { KIND_CAT, KIND_DOG };
const char *kind_table(enum animal_kind k);

/* db.c */
int db_init(const char *path); /* creates and migrates; 0 or -1 (message printed) */
sqlite3 *db_conn(void);        /* this thread's connection (opened lazily), or NULL */
void db_close_all(void);
int db_count(enum animal_kind k, long long *out);
int db_get(enum animal_kind k, long long id, struct animal *out); /* 1 found, 0 not, -1 error */
int db_list(enum animal_kind k, int limit, struct animal *out, int *n);
/* Cats or dogs whose name contains text (a bound parameter), at most limit. */
int db_search(enum animal_kind k, const char *text, int limit, struct animal *out, int *n);
/* Adds a row to the visit book, committed to the disk (a real wait on the file system's
 * fsync), and gives the number of visits. 0, or -1 on error. */
int db_record_visit(long long *count);

/* report.c: /report's figures (two queries, then CPU in named functions), or NULL on error */
json_t *report_build(void);

/* pages.c: a growable text buffer with HTML escaping */
struct page {
    char *data;
    size_t len;
    size_t cap;
    int failed;
};
void page_add(struct page *p, const char *s);
void page_addn(struct page *p, const char *s, size_t n);
void page_addf(struct page *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void page_esc(struct page *p, const char *s);

/* Handles one GET/HEAD request: queues the response and returns MHD's answer. */
enum MHD_Result pages_handle(struct MHD_Connection *con, const char *url);
/* POST /login (user, password from the form) and POST /logout. */
enum MHD_Result pages_login(struct MHD_Connection *con, const char *user, const char *password);
enum MHD_Result pages_logout(struct MHD_Connection *con);
/* Declares the demo's routes to the toolbar's Routes panel. */
void pages_routes(void);

/* memory.c: the bodies of /leaky (leaks on purpose) and /crumbs (many small allocations) */
void memory_leaky_page(struct page *p);
void memory_crumbs_page(struct page *p);

/* cache.c: the page cache (in-process, timeouts in seconds; 0 = the default timeout) */
void cache_init(const json_t *conf); /* app.cache */
long cache_default_timeout(void);
char *cache_get(const char *key); /* a copy (free it), or NULL on a miss */
void cache_set(const char *key, const char *value, long timeout_s);
void cache_free_all(void);
extern long index_timeout; /* app.cache.index_timeout: the home page's body */

/* session.c: server-side sessions named by a cookie, in memory or in Redis */
struct session {
    char id[33];      /* "" when there is none */
    json_t *data;     /* an object, never NULL after session_load */
    int64_t created;  /* unix seconds */
    int64_t accessed; /* last access before this request */
    int dirty;
    int logout;
    char error[512]; /* the store failed: why */
};
int session_init(const json_t *conf); /* app.session; -1 with a message on a bad store */
void session_load(struct MHD_Connection *con, struct session *s);
void session_login(struct session *s, const char *user);
void session_logout(struct session *s);
/* Writes the session back (refreshing its TTL) and sets the cookie on r. */
void session_save(struct session *s, struct MHD_Response *r);
void session_free(struct session *s);
void session_shutdown(void);

#endif
