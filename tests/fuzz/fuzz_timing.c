/*
 * fuzz_timing.c - any bytes as a Server-Timing header: the parser must never crash and must
 * return an array of {"name", "dur"?, "desc"?} objects.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "panels.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *header = malloc(size + 1);
    json_t *out = NULL, *m;
    size_t i;
    if (header == NULL)
        return 0;
    memcpy(header, data, size);
    header[size] = '\0';
    if (dtbi_server_timing_parse(header, &out) == 0) {
        if (!json_is_array(out))
            __builtin_trap();
        json_array_foreach(out, i, m)
        {
            if (!json_is_string(json_object_get(m, "name")))
                __builtin_trap();
        }
    }
    json_decref(out);
    free(header);
    return 0;
}
