/*
 * redis_node.h - shared by the Redis store's integration tests: a real redis-server each test
 * starts on a Unix socket in a temporary folder (and stops by PID), and "nodes" (a toolbar
 * storing its history in that Redis, in front of a small MHD app on 127.0.0.1) spoken to over
 * real HTTP.
 */
#ifndef DTB_TEST_REDIS_NODE_H
#define DTB_TEST_REDIS_NODE_H

#include <check.h>
#include <sys/types.h>

#include <debugtoolbar.h>
#include <debugtoolbar/mhd.h>
#include <debugtoolbar/sql.h>
#include <microhttpd.h>

#include "http.h"

extern char tmpdir[256]; /* the temporary folder of this run */
extern char sock[300];   /* the socket of the current test's redis-server */
extern pid_t redis_pid;  /* its PID, 0 when none runs */
extern sqlite3 *app_db;  /* the app's SQLite database, in the tests that use one */

struct node {
    struct dtb_toolbar *tb;
    struct MHD_Daemon *d;
    char base[64];
};

/* Tests that are not about a slow Redis give each Redis call 5 s: on a loaded machine (a
 * sanitizer build beside a browser test) a round trip can pass the 50 ms default, and the
 * record would then rightly go to memory, which is not what those tests look at. */
#define PATIENT 5000

/* Starts a redis-server on a socket of this process's own (sets sock and redis_pid). */
void redis_start(void);
/* Stops it (SIGCONT, SIGTERM, waits for it) and removes its socket. */
void redis_stop(void);
/* The app every node serves: a small HTML page; /huge logs about 3 MB; /sql runs a query on
 * app_db. */
enum MHD_Result app(void *cls, struct MHD_Connection *con, const char *url, const char *method,
                    const char *version, const char *upload_data, size_t *upload_data_size,
                    void **req_cls);
/* Starts a toolbar storing in the current Redis (each call bounded by timeout_ms) and a daemon
 * in front of app (a pool of pool threads when pool > 1); extra is more JSON config members. */
void node_start_full(struct node *n, unsigned timeout_ms, unsigned pool, const char *extra);
void node_start_timeout(struct node *n, unsigned timeout_ms, const char *extra);
void node_start(struct node *n, const char *extra);
void node_stop(struct node *n);
/* GETs / from n (asserting the toolbar is there) and returns its request id (malloc'd). */
char *hit(struct node *n);
/* GETs n's /_debug_toolbar + path into r; returns the status. */
long fetch(struct node *n, const char *path, struct http_resp *r);
/* Waits until node n can read request id (records are stored at completion). */
void wait_record(struct node *n, const char *id);
/* How many keys Redis holds under pattern. */
int redis_count(const char *pattern);
/* n's history lists id first, as kept in memory because Redis was not there. */
void newest_kept_in_memory(struct node *n, const char *id);

/* A test program's start: exits 77 (skip, saying so loudly) when redis-server is not installed,
 * and makes the temporary folder. Returns 0, or the exit status to return at once. */
int redis_setup(void);
/* Runs the suite s, stops the redis-servers failed tests left running, removes the temporary
 * folder; name is the program's, for the message. Returns the exit status. */
int redis_run(Suite *s, const char *name);

#endif
