/*
 * db.c - the demo's SQLite database: created and migrated at start (schema version in
 * PRAGMA user_version), one connection per MHD worker thread, and the Animal queries shared
 * by cats and dogs. Every statement is prepared with bound parameters.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "petshop.h"
#ifndef DTB_DISABLE
#include <debugtoolbar.h>
#include <debugtoolbar/sql.h>
#else
#define dtb_sqlite3_step(stmt) sqlite3_step(stmt)
#endif

static char *db_path;
static _Thread_local sqlite3 *thread_db;
static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;
static sqlite3 **conns;
static size_t nconns;

const char *kind_table(enum animal_kind k)
{
    return k == KIND_DOG ? "dog" : "cat";
}

static int exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "petshop: %s: %s\n", sql, msg ? msg : "error");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* Migration 1: the two tables of WORKLOAD.md, 1000 rows each (name kind-i, age i % 20). */
static int migrate_1(sqlite3 *db)
{
    sqlite3_stmt *st;
    if (exec(db, "BEGIN") != 0)
        return -1;
    for (int k = 0; k < 2; k++) {
        char sql[160];
        const char *t = kind_table((enum animal_kind)k);
        snprintf(
            sql, sizeof(sql),
            "CREATE TABLE %s(id INTEGER PRIMARY KEY, name TEXT NOT NULL, age INTEGER NOT NULL)", t);
        if (exec(db, sql) != 0)
            goto fail;
        snprintf(sql, sizeof(sql), "INSERT INTO %s(id, name, age) VALUES (?, ?, ?)", t);
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
            goto fail;
        for (int i = 1; i <= 1000; i++) {
            char name[32];
            snprintf(name, sizeof(name), "%s-%d", t, i);
            sqlite3_bind_int(st, 1, i);
            sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int(st, 3, i % 20);
            if (sqlite3_step(st) != SQLITE_DONE) {
                sqlite3_finalize(st);
                goto fail;
            }
            sqlite3_reset(st);
        }
        sqlite3_finalize(st);
    }
    if (exec(db, "PRAGMA user_version = 1") != 0 || exec(db, "COMMIT") != 0)
        goto fail;
    return 0;
fail:
    exec(db, "ROLLBACK");
    return -1;
}

/* Migration 2: the visit book of /visit (one row per visit, written through to the disk). */
static int migrate_2(sqlite3 *db)
{
    if (exec(db, "BEGIN") != 0)
        return -1;
    if (exec(db, "CREATE TABLE visit(id INTEGER PRIMARY KEY, at INTEGER NOT NULL)") != 0 ||
        exec(db, "PRAGMA user_version = 2") != 0 || exec(db, "COMMIT") != 0) {
        exec(db, "ROLLBACK");
        return -1;
    }
    return 0;
}

int db_init(const char *path)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int version = 0;
    db_path = strdup(path);
    if (db_path == NULL ||
        sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        fprintf(stderr, "petshop: cannot open database %s\n", path);
        return -1;
    }
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version < 1 && migrate_1(db) != 0) {
        fprintf(stderr, "petshop: could not create the database in %s\n", path);
        sqlite3_close(db);
        return -1;
    }
    if (version < 2 && migrate_2(db) != 0) {
        fprintf(stderr, "petshop: could not add the visit book to %s\n", path);
        sqlite3_close(db);
        return -1;
    }
    sqlite3_close(db);
    return 0;
}

sqlite3 *db_conn(void)
{
    sqlite3 *db;
    if (thread_db != NULL)
        return thread_db;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 2000);
#ifndef DTB_DISABLE
    /* SQL capture: each connection is handed to the toolbar once, when it is opened. */
    dtb_sqlite_attach(db);
#endif
    pthread_mutex_lock(&conns_lock);
    sqlite3 **p = realloc(conns, (nconns + 1) * sizeof(*p));
    if (p != NULL) {
        conns = p;
        conns[nconns++] = db;
    }
    pthread_mutex_unlock(&conns_lock);
    if (p == NULL) {
        sqlite3_close(db);
        return NULL;
    }
    thread_db = db;
    return db;
}

void db_close_all(void)
{
    pthread_mutex_lock(&conns_lock);
    for (size_t i = 0; i < nconns; i++) {
#ifndef DTB_DISABLE
        dtb_sqlite_detach(conns[i]);
#endif
        sqlite3_close(conns[i]);
    }
    free(conns);
    conns = NULL;
    nconns = 0;
    pthread_mutex_unlock(&conns_lock);
    free(db_path);
    db_path = NULL;
}

static sqlite3_stmt *prepare(const char *fmt, enum animal_kind k)
{
    char sql[200];
    sqlite3_stmt *st = NULL;
    sqlite3 *db = db_conn();
    snprintf(sql, sizeof(sql), fmt, kind_table(k));
    if (db == NULL || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return NULL;
    return st;
}

int db_count(enum animal_kind k, long long *out)
{
    sqlite3_stmt *st = prepare("SELECT count(*) FROM %s", k);
    int rc = -1;
    if (st != NULL && dtb_sqlite3_step(st) == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = 0;
    }
    sqlite3_finalize(st);
    return rc;
}

static void row_to_animal(sqlite3_stmt *st, struct animal *a)
{
    a->id = sqlite3_column_int64(st, 0);
    snprintf(a->name, sizeof(a->name), "%s", (const char *)sqlite3_column_text(st, 1));
    a->age = sqlite3_column_int(st, 2);
}

int db_get(enum animal_kind k, long long id, struct animal *out)
{
    sqlite3_stmt *st = prepare("SELECT id, name, age FROM %s WHERE id = ?", k);
    int rc = -1;
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    switch (dtb_sqlite3_step(st)) {
    case SQLITE_ROW:
        row_to_animal(st, out);
        rc = 1;
        break;
    case SQLITE_DONE:
        rc = 0;
        break;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Steps st to the end, keeping at most limit rows; finalizes it. 0, or -1 on error. */
static int collect(sqlite3_stmt *st, int limit, struct animal *out, int *n)
{
    int rc;
    *n = 0;
    for (;;) {
        rc = dtb_sqlite3_step(st);
        if (rc != SQLITE_ROW || *n >= limit)
            break;
        row_to_animal(st, &out[(*n)++]);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

int db_list(enum animal_kind k, int limit, struct animal *out, int *n)
{
    sqlite3_stmt *st = prepare("SELECT id, name, age FROM %s ORDER BY id LIMIT ?", k);
    *n = 0;
    if (st == NULL)
        return -1;
    sqlite3_bind_int(st, 1, limit);
    return collect(st, limit, out, n);
}

int db_record_visit(long long *count)
{
    sqlite3 *db = db_conn();
    sqlite3_stmt *st = NULL;
    int rc = -1;
    /* a write transaction: SQLite waits for the journal and the file to reach the disk */
    if (db == NULL ||
        sqlite3_prepare_v2(db, "INSERT INTO visit(at) VALUES (strftime('%s','now'))", -1, &st,
                           NULL) != SQLITE_OK ||
        dtb_sqlite3_step(st) != SQLITE_DONE) {
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM visit", -1, &st, NULL) == SQLITE_OK &&
        dtb_sqlite3_step(st) == SQLITE_ROW) {
        *count = sqlite3_column_int64(st, 0);
        rc = 0;
    }
    sqlite3_finalize(st);
    return rc;
}

int db_search(enum animal_kind k, const char *text, int limit, struct animal *out, int *n)
{
    /* the user's text is a bound parameter, never part of the SQL */
    sqlite3_stmt *st = prepare(
        "SELECT id, name, age FROM %s WHERE name LIKE '%%' || ? || '%%' ORDER BY id LIMIT ?", k);
    *n = 0;
    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, limit);
    return collect(st, limit, out, n);
}
