/*
 * fuzz_config.c - any bytes as the JSON config file, with DTB_* environment overrides taken
 * from the input: the loader must accept or refuse with an error naming a place, never crash.
 * Input: the config text, optionally followed by "\0NAME=value\0NAME=value..." environment pairs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <debugtoolbar.h>

static const char *const vars[] = {"DTB_ENABLED", "DTB_HOSTS", "DTB_HISTORY_SIZE",
                                   "DTB_URL_PREFIX", "DTB_SQL_SLOW_MS", "DTB_STORE",
                                   "DTB_SECRET_KEY", "DTB_INTERCEPT_REDIRECTS"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    struct dtb_error err = {0};
    char msg[512];
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        unsetenv(vars[i]);
    /* environment values after the first NUL: "k=v" where k indexes vars by its first byte */
    size_t n = strlen(text);
    for (char *p = text + n + 1; p < text + size; p += strlen(p) + 1) {
        char *eq = strchr(p, '=');
        if (eq != NULL && eq > p)
            setenv(vars[(unsigned char)p[0] % (sizeof(vars) / sizeof(vars[0]))], eq + 1, 1);
    }
    struct dtb_toolbar *tb = dtb_toolbar_create_from_string(text, "fuzz.json", &err);
    if (tb == NULL) {
        dtb_error_format(&err, msg, sizeof(msg));
        if (msg[0] == '\0')
            __builtin_trap(); /* a refusal always says why */
    }
    dtb_toolbar_destroy(tb);
    free(text);
    return 0;
}
