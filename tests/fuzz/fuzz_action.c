/*
 * fuzz_action.c - any bytes as the body of a signed SQL action: the parser must accept only a
 * 16-hex-digit request id and a sane index, and never crash.
 */
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "sql/sql_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char id[17], sig[65];
    size_t index = 0;
    if (dtbi_sql_action_parse((const char *)data, size, id, &index, sig) == 0) {
        if (strlen(id) != 16 || strspn(id, "0123456789abcdef") != 16 || strlen(sig) > 64 ||
            index >= 1000000000)
            __builtin_trap();
    }
    return 0;
}
