/*
 * fuzz_dsn.c - any bytes as a connection string declared for the SQL panel: the display must
 * never crash, never show a password, and be what libpq parses back to the same options
 * (passwords redacted), or the fixed "(unparsable connection string)".
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "sql/sql_int.h"

#ifdef HAVE_LIBPQ
#include <libpq-fe.h>

static const char *value_of(const PQconninfoOption *opts, const char *keyword)
{
    for (; opts->keyword != NULL; opts++)
        if (strcmp(opts->keyword, keyword) == 0)
            return opts->val;
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *dsn = malloc(size + 1), *err = NULL;
    if (dsn == NULL)
        return 0;
    memcpy(dsn, data, size);
    dsn[size] = '\0';
    char *shown = dtbi_pq_dsn_display(NULL, dsn);
    PQconninfoOption *in = PQconninfoParse(dsn, &err);
    PQfreemem(err);
    err = NULL;
    if (shown == NULL)
        __builtin_trap();
    if (in == NULL) {
        if (strcmp(shown, DTBI_DSN_UNPARSABLE) != 0)
            __builtin_trap(); /* rejected by libpq: never shown */
    } else {
        PQconninfoOption *out = PQconninfoParse(shown, &err);
        PQfreemem(err);
        if (out == NULL)
            __builtin_trap(); /* the display is a valid conninfo */
        for (const PQconninfoOption *o = in; o->keyword != NULL; o++) {
            const char *back = value_of(out, o->keyword);
            int secret = o->dispchar != NULL && o->dispchar[0] == '*';
            if ((o->val == NULL) != (back == NULL))
                __builtin_trap();
            if (o->val != NULL && strcmp(back, secret ? DTB_REDACTED : o->val) != 0)
                __builtin_trap(); /* same options, passwords redacted */
        }
        PQconninfoFree(out);
        PQconninfoFree(in);
    }
    free(shown);
    free(dsn);
    return 0;
}
#else
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *shown = dtbi_pq_dsn_display(NULL, "password=x");
    if (shown == NULL || strcmp(shown, DTBI_DSN_NO_LIBPQ) != 0)
        __builtin_trap();
    free(shown);
    return 0;
}
#endif
