/*
 * sign.c - HMAC-SHA256 (nettle) of short messages under the toolbar's secret_key, for the
 * signed SQL actions. Verification compares in constant time (nettle's memeql_sec).
 */
#include <string.h>

#include <nettle/hmac.h>
#include <nettle/memops.h>

#include "internal.h"

void dtbi_sign(const struct dtb_toolbar *tb, const char *msg, char out[65])
{
    struct hmac_sha256_ctx ctx;
    uint8_t digest[SHA256_DIGEST_SIZE];
    static const char hex[] = "0123456789abcdef";
    hmac_sha256_set_key(&ctx, tb->cfg.secret_key_len, tb->cfg.secret_key);
    hmac_sha256_update(&ctx, strlen(msg), (const uint8_t *)msg);
    hmac_sha256_digest(&ctx, sizeof(digest), digest);
    for (size_t i = 0; i < sizeof(digest); i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 15];
    }
    out[64] = '\0';
}

int dtbi_sign_verify(const struct dtb_toolbar *tb, const char *msg, const char *sig)
{
    char want[65];
    if (sig == NULL || strlen(sig) != 64)
        return 0;
    dtbi_sign(tb, msg, want);
    return memeql_sec(want, sig, 64);
}
