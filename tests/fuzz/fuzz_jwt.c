/*
 * fuzz_jwt.c - any bytes as a Bearer token: the JWT decoder (base64url, JSON) must never crash
 * and must return JSON objects or nothing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "panels.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *token = malloc(size + 1);
    json_t *header = NULL, *claims = NULL;
    if (token == NULL)
        return 0;
    memcpy(token, data, size);
    token[size] = '\0';
    if (dtbi_jwt_decode(token, &header, &claims) == 0) {
        if (!json_is_object(header) || !json_is_object(claims))
            __builtin_trap();
        json_decref(header);
        json_decref(claims);
    }
    free(token);
    return 0;
}
