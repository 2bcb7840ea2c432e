/*
 * report.c - the body of /report: a small report over the animals that spends its CPU in
 * named functions, so that the Profile panel's flame graph has something true to show. It
 * loads every cat and dog (two queries), counts them by age, and for each of the first cats
 * finds the dog with the closest name (edit distance, the bulk of the CPU time).
 */
#include <stdlib.h>
#include <string.h>

#include "petshop.h"

/* Cats compared with every dog's name: some 20 ms of CPU. */
#define REPORT_CATS 100
#define REPORT_DOGS 1000

/* Levenshtein distance between a and b (names shorter than 64 bytes). */
__attribute__((noinline)) static int report_name_distance(const char *a, const char *b)
{
    int prev[64], cur[64];
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63)
        la = 63;
    if (lb > 63)
        lb = 63;
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            int del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (lb + 1) * sizeof(int));
    }
    return prev[lb];
}

/* For each cat, the dog whose name is closest: [{cat, dog, distance}], first best. */
__attribute__((noinline)) static json_t *report_closest_names(const struct animal *cats, int nc,
                                                              const struct animal *dogs, int nd)
{
    json_t *out = json_array();
    for (int i = 0; i < nc; i++) {
        int best = -1, bestd = 1 << 30;
        for (int j = 0; j < nd; j++) {
            int d = report_name_distance(cats[i].name, dogs[j].name);
            if (d < bestd) {
                bestd = d;
                best = j;
            }
        }
        if (best >= 0 && json_array_size(out) < 10)
            json_array_append_new(out, json_pack("{s:s,s:s,s:i}", "cat", cats[i].name, "dog",
                                                 dogs[best].name, "distance", bestd));
    }
    return out;
}

/* Cats and dogs by age: [{age, cats, dogs}] for the ages present. */
__attribute__((noinline)) static json_t *report_age_table(const struct animal *cats, int nc,
                                                          const struct animal *dogs, int nd)
{
    int c[100] = {0}, d[100] = {0};
    json_t *out = json_array();
    for (int i = 0; i < nc; i++)
        c[cats[i].age >= 0 && cats[i].age < 100 ? cats[i].age : 99]++;
    for (int i = 0; i < nd; i++)
        d[dogs[i].age >= 0 && dogs[i].age < 100 ? dogs[i].age : 99]++;
    for (int a = 0; a < 100; a++)
        if (c[a] + d[a] > 0)
            json_array_append_new(out,
                                  json_pack("{s:i,s:i,s:i}", "age", a, "cats", c[a], "dogs", d[a]));
    return out;
}

json_t *report_build(void)
{
    struct animal *cats = calloc(REPORT_DOGS, sizeof(*cats));
    struct animal *dogs = calloc(REPORT_DOGS, sizeof(*dogs));
    int nc = 0, nd = 0;
    json_t *out = NULL;
    if (cats == NULL || dogs == NULL || db_list(KIND_CAT, REPORT_DOGS, cats, &nc) != 0 ||
        db_list(KIND_DOG, REPORT_DOGS, dogs, &nd) != 0)
        goto done;
    out = json_pack("{s:i,s:i,s:o,s:i,s:o}", "cats", nc, "dogs", nd, "ages",
                    report_age_table(cats, nc, dogs, nd), "compared",
                    nc < REPORT_CATS ? nc : REPORT_CATS, "closest",
                    report_closest_names(cats, nc < REPORT_CATS ? nc : REPORT_CATS, dogs, nd));
done:
    free(cats);
    free(dogs);
    return out;
}
