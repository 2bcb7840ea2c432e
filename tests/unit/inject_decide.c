/*
 * inject_decide.c - prints the injector's decision for each file named on the command line,
 * one JSON object a line: {"file": path, "at": byte offset of the insertion point or -1,
 * "why": the skip reason or null}. oracle.js holds these decisions to parse5.
 */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "internal.h"

/* The whole file, or NULL (and a message). */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    size_t cap = 4096, n = 0, got;
    char *buf = malloc(cap);
    if (f == NULL || buf == NULL) {
        fprintf(stderr, "inject_decide: cannot read %s\n", path);
        if (f != NULL)
            fclose(f);
        free(buf);
        return NULL;
    }
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *b = realloc(buf, cap *= 2);
            if (b == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = b;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

int main(int argc, char **argv)
{
    int status = 0;
    for (int i = 1; i < argc; i++) {
        size_t len = 0;
        char *page = slurp(argv[i], &len);
        if (page == NULL) {
            status = 1;
            continue;
        }
        const char *why = NULL;
        long at = dtbi_html_insert_point(page, len, &why);
        json_t *line = json_pack("{s:s,s:I,s:s?}", "file", argv[i], "at", (json_int_t)at, "why",
                                 at < 0 ? why : NULL);
        char *text = line != NULL ? json_dumps(line, JSON_COMPACT) : NULL;
        if (text == NULL) {
            status = 1;
        } else {
            puts(text);
            free(text);
        }
        json_decref(line);
        free(page);
    }
    return status;
}
