/*
 * sign.c - signatures that bind content: HMAC-SHA256 (nettle) under the toolbar's secret_key
 * of a subject (what the signature authorizes, e.g. "sql:<request id>:<query index>") and a
 * SHA-256 of the content it is about (e.g. the query's SQL, parameters and database key).
 * Content that changes after signing no longer verifies. Each content part is hashed with its
 * length in front, so parts cannot run into each other ("ab","c" differs from "a","bc").
 * Verification compares in constant time (nettle's memeql_sec). dtb_sign and dtb_verify are
 * public (debugtoolbar/panel.h): panels sign what their actions act on.
 */
#include <string.h>

#include <nettle/hmac.h>
#include <nettle/memops.h>
#include <nettle/sha2.h>

#include "internal.h"

/* SHA-256 over the parts, each preceded by its length as 8 big-endian bytes. */
static void content_hash(const struct dtb_sign_part *parts, size_t nparts,
                         uint8_t out[SHA256_DIGEST_SIZE])
{
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    for (size_t i = 0; i < nparts; i++) {
        uint8_t len[8];
        uint64_t n = parts[i].data != NULL ? parts[i].len : 0;
        for (int b = 0; b < 8; b++)
            len[b] = (uint8_t)(n >> (56 - 8 * b));
        sha256_update(&ctx, sizeof(len), len);
        if (n > 0)
            sha256_update(&ctx, n, parts[i].data);
    }
    sha256_digest(&ctx, SHA256_DIGEST_SIZE, out);
}

void dtb_sign(const struct dtb_toolbar *tb, const char *subject, const struct dtb_sign_part *parts,
              size_t nparts, char out[65])
{
    struct hmac_sha256_ctx ctx;
    uint8_t digest[SHA256_DIGEST_SIZE], content[SHA256_DIGEST_SIZE];
    static const char hex[] = "0123456789abcdef";
    content_hash(parts, nparts, content);
    hmac_sha256_set_key(&ctx, tb->cfg.secret_key_len, tb->cfg.secret_key);
    /* the subject is a C string: the NUL after it ends it unambiguously */
    hmac_sha256_update(&ctx, strlen(subject) + 1, (const uint8_t *)subject);
    hmac_sha256_update(&ctx, sizeof(content), content);
    hmac_sha256_digest(&ctx, sizeof(digest), digest);
    for (size_t i = 0; i < sizeof(digest); i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 15];
    }
    out[64] = '\0';
}

int dtb_verify(const struct dtb_toolbar *tb, const char *subject, const struct dtb_sign_part *parts,
               size_t nparts, const char *sig)
{
    char want[65];
    if (sig == NULL || strlen(sig) != 64)
        return 0;
    dtb_sign(tb, subject, parts, nparts, want);
    return memeql_sec(want, sig, 64);
}

void dtb_sha256_hex(const void *data, size_t len, char *out, size_t hexlen)
{
    struct sha256_ctx ctx;
    uint8_t digest[SHA256_DIGEST_SIZE];
    static const char hex[] = "0123456789abcdef";
    sha256_init(&ctx);
    sha256_update(&ctx, len, data);
    sha256_digest(&ctx, sizeof(digest), digest);
    if (hexlen > 2 * sizeof(digest))
        hexlen = 2 * sizeof(digest);
    for (size_t i = 0; i < hexlen; i++)
        out[i] = hex[(digest[i / 2] >> (i % 2 ? 0 : 4)) & 15];
    out[hexlen] = '\0';
}
