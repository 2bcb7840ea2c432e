/*
 * test_codec.c - unit tests for toolbar/codec.c: Accept-Encoding per RFC 9110, Content-Encoding
 * names, each coding decoded after the real library encoded it (round trip), truncated streams
 * and decompression bombs refused, and the WHATWG HTML sniffing patterns.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

START_TEST(test_accept_identity)
{
    ck_assert_int_eq(dtbi_accepts_identity(NULL), 1);
    ck_assert_int_eq(dtbi_accepts_identity(""), 1);
    ck_assert_int_eq(dtbi_accepts_identity("gzip, deflate, br, zstd"), 1);
    ck_assert_int_eq(dtbi_accepts_identity("gzip;q=1.0, identity; q=0.5, *;q=0"), 1);
    ck_assert_int_eq(dtbi_accepts_identity("gzip, identity;q=0"), 0);
    ck_assert_int_eq(dtbi_accepts_identity("gzip, IDENTITY ; Q=0.000"), 0);
    ck_assert_int_eq(dtbi_accepts_identity("gzip,\tidentity;q=0.0"), 0);
    ck_assert_int_eq(dtbi_accepts_identity("gzip, *;q=0"), 0);
    ck_assert_int_eq(dtbi_accepts_identity("gzip, *;q=0, identity"), 1);
    ck_assert_int_eq(dtbi_accepts_identity("gzip, *;q=0, identity;q=0.001"), 1);
    ck_assert_int_eq(dtbi_accepts_identity("identity;q=0.01"), 1);
    ck_assert_int_eq(dtbi_accepts_identity("*"), 1);
    /* a malformed q drops only that element */
    ck_assert_int_eq(dtbi_accepts_identity("gzip, identity;q=zero"), 1);
    ck_assert_int_eq(dtbi_accepts_identity("identity;q=1.5"), 1);
    /* identityx is another coding; q on another parameter still counts */
    ck_assert_int_eq(dtbi_accepts_identity("identityx;q=0"), 1);
    ck_assert_int_eq(dtbi_accepts_identity("identity;foo=bar;q=0"), 0);
    ck_assert_int_eq(dtbi_accepts_identity(" , ,gzip,, identity;q=0 ,"), 0);
}
END_TEST

START_TEST(test_coding_names)
{
    ck_assert_int_eq(dtbi_coding_parse(NULL), DTBI_CODING_IDENTITY);
    ck_assert_int_eq(dtbi_coding_parse("identity"), DTBI_CODING_IDENTITY);
    ck_assert_int_eq(dtbi_coding_parse(" GZip "), DTBI_CODING_GZIP);
    ck_assert_int_eq(dtbi_coding_parse("x-gzip"), DTBI_CODING_GZIP);
    ck_assert_int_eq(dtbi_coding_parse("deflate"), DTBI_CODING_DEFLATE);
    ck_assert_int_eq(dtbi_coding_parse("br"), DTBI_CODING_BR);
    ck_assert_int_eq(dtbi_coding_parse("ZSTD"), DTBI_CODING_ZSTD);
    ck_assert_int_eq(dtbi_coding_parse("compress"), DTBI_CODING_UNKNOWN);
    ck_assert_int_eq(dtbi_coding_parse("gzip, br"), DTBI_CODING_UNKNOWN);
    ck_assert_str_eq(dtbi_coding_name(DTBI_CODING_BR), "br");
}
END_TEST

static const char PAGE[] = "<!DOCTYPE html><html><head><title>t</title></head><body>"
                           "<p>a page that compresses well well well well well well</p>"
                           "</body></html>";

static void round_trip(enum dtbi_coding c)
{
    char *enc = NULL, *dec = NULL;
    size_t enc_len = 0, dec_len = 0;
    if (!dtbi_coding_available(c))
        return;
    ck_assert_int_eq(dtbi_encode(c, PAGE, sizeof(PAGE) - 1, &enc, &enc_len), 0);
    ck_assert_uint_gt(enc_len, 0);
    ck_assert_int_eq(dtbi_decode(c, enc, enc_len, 1 << 20, &dec, &dec_len), 0);
    ck_assert_uint_eq(dec_len, sizeof(PAGE) - 1);
    ck_assert_int_eq(memcmp(dec, PAGE, dec_len), 0);
    free(dec);
    /* a cut-short stream does not decode, whatever the cut */
    for (size_t cut = 1; cut < enc_len; cut += (enc_len > 40 ? 7 : 1)) {
        ck_assert_msg(dtbi_decode(c, enc, enc_len - cut, 1 << 20, &dec, &dec_len) == -1,
                      "%s cut by %zu decoded", dtbi_coding_name(c), cut);
        ck_assert_ptr_null(dec);
    }
    /* the cap: one byte under the page's size is over */
    ck_assert_int_eq(dtbi_decode(c, enc, enc_len, sizeof(PAGE) - 2, &dec, &dec_len), -2);
    ck_assert_int_eq(dtbi_decode(c, enc, enc_len, sizeof(PAGE) - 1, &dec, &dec_len), 0);
    free(dec);
    free(enc);
}

START_TEST(test_round_trips)
{
    for (enum dtbi_coding c = DTBI_CODING_GZIP; c <= DTBI_CODING_ZSTD; c++)
        round_trip(c);
}
END_TEST

START_TEST(test_bomb)
{
    /* 64 MiB of zeros, small once encoded: decoding stops at the cap */
    size_t n = 64u << 20;
    char *zeros = calloc(1, n), *enc = NULL, *dec = NULL;
    size_t enc_len = 0, dec_len = 0;
    ck_assert_ptr_nonnull(zeros);
    for (enum dtbi_coding c = DTBI_CODING_GZIP; c <= DTBI_CODING_ZSTD; c++) {
        if (!dtbi_coding_available(c))
            continue;
        ck_assert_int_eq(dtbi_encode(c, zeros, n, &enc, &enc_len), 0);
        ck_assert_uint_lt(enc_len, n / 100);
        ck_assert_int_eq(dtbi_decode(c, enc, enc_len, 1u << 20, &dec, &dec_len), -2);
        ck_assert_ptr_null(dec);
        free(enc);
    }
    free(zeros);
}
END_TEST

#ifdef HAVE_ZLIB
#include <zlib.h>
START_TEST(test_deflate_raw_and_gzip_members)
{
    /* raw deflate (no zlib header), as some servers send "deflate" */
    z_stream z;
    unsigned char buf[512];
    char *dec = NULL, *two = NULL, *enc = NULL;
    size_t dec_len = 0, enc_len = 0;
    memset(&z, 0, sizeof(z));
    ck_assert_int_eq(deflateInit2(&z, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)PAGE;
    z.avail_in = sizeof(PAGE) - 1;
    z.next_out = buf;
    z.avail_out = sizeof(buf);
    ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t raw_len = sizeof(buf) - z.avail_out;
    deflateEnd(&z);
    ck_assert_int_eq(dtbi_decode(DTBI_CODING_DEFLATE, buf, raw_len, 1 << 20, &dec, &dec_len), 0);
    ck_assert_uint_eq(dec_len, sizeof(PAGE) - 1);
    free(dec);
    /* two gzip members are one body; gzip with trailing junk is not */
    ck_assert_int_eq(dtbi_encode(DTBI_CODING_GZIP, PAGE, sizeof(PAGE) - 1, &enc, &enc_len), 0);
    two = malloc(2 * enc_len);
    memcpy(two, enc, enc_len);
    memcpy(two + enc_len, enc, enc_len);
    ck_assert_int_eq(dtbi_decode(DTBI_CODING_GZIP, two, 2 * enc_len, 1 << 20, &dec, &dec_len), 0);
    ck_assert_uint_eq(dec_len, 2 * (sizeof(PAGE) - 1));
    free(dec);
    memcpy(two + enc_len, "junk", 4);
    ck_assert_int_eq(dtbi_decode(DTBI_CODING_GZIP, two, enc_len + 4, 1 << 20, &dec, &dec_len), -1);
    free(two);
    free(enc);
}
END_TEST
#endif

START_TEST(test_sniff)
{
    static const char *const yes[] = {"<!DOCTYPE html>",
                                      "<!doctype HTML ",
                                      "\n\t <html>",
                                      "<HEAD>",
                                      "<script>",
                                      "<iframe ",
                                      "<h1>",
                                      "<div>",
                                      "<font>",
                                      "<table>",
                                      "<a >",
                                      "<style>",
                                      "<title>",
                                      "<b>",
                                      "<body>",
                                      "<br>",
                                      "<p>",
                                      "<!-- x -->",
                                      "<!-->"};
    static const char *const no[] = {"<!DOCTYPE htm>",
                                     "<htmlx>",
                                     "<html",
                                     "<h2>",
                                     "<span>",
                                     "<p/>",
                                     "\xEF\xBB\xBF<html>",
                                     "{\"a\": 1}",
                                     "hello <html>",
                                     "<?xml version=\"1.0\"?>",
                                     "<br/>",
                                     "<!--x",
                                     "",
                                     "\v<p>"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        ck_assert_msg(dtbi_sniffs_as_html(yes[i], strlen(yes[i])), "%s", yes[i]);
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        ck_assert_msg(!dtbi_sniffs_as_html(no[i], strlen(no[i])), "%s", no[i]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("codec");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_accept_identity);
    tcase_add_test(tc, test_coding_names);
    tcase_add_test(tc, test_round_trips);
    tcase_add_test(tc, test_bomb);
#ifdef HAVE_ZLIB
    tcase_add_test(tc, test_deflate_raw_and_gzip_members);
#endif
    tcase_add_test(tc, test_sniff);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
