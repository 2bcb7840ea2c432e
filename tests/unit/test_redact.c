/*
 * test_redact.c - unit tests for the recording rules: which names are secrets' (normalised
 * names, short patterns as whole segments, the default list, names of any length), secret
 * parameters inside URLs, invalid UTF-8 repaired into U+FFFD, and the bounds on recorded pairs
 * (record_max_pairs, the pairs' share of record_max_bytes) with what was not recorded counted.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static struct dtb_toolbar tb;

static void load(const char *text)
{
    struct dtb_error err = {0};
    dtbi_config_free(&tb.cfg);
    ck_assert_msg(dtbi_config_load(&tb.cfg, text, "test", &err) == DTB_OK, "%s", err.text);
}

static void setup(void)
{
    memset(&tb, 0, sizeof(tb));
    unsetenv("DTB_REDACT");
    unsetenv("DTB_RECORD_MAX_PAIRS");
    unsetenv("DTB_RECORD_MAX_BYTES");
    load("{}");
}

static void teardown(void)
{
    dtbi_config_free(&tb.cfg);
}

static int secret(const char *name)
{
    return dtb_toolbar_is_secret_name(&tb, name);
}

START_TEST(test_normalize)
{
    char out[64];
    ck_assert_uint_eq(dtbi_redact_normalize("X-API_Key.v2", 12, out), 9);
    ck_assert_str_eq(out, "xapikeyv2");
    ck_assert_uint_eq(dtbi_redact_normalize("--_.", 4, out), 0);
    ck_assert_str_eq(out, "");
    /* bytes beyond ASCII are kept as they are */
    ck_assert_uint_eq(dtbi_redact_normalize("P\xC3\x84SS", 5, out), 5);
    ck_assert_str_eq(out, "p\xC3\x84ss");
}
END_TEST

START_TEST(test_default_names)
{
    static const char *const secrets[] = {
        "X-API-Key",
        "api-key",
        "apiKey",
        "APIKey",
        "api_key",
        "API.KEY",
        "key",
        "pwd",
        "PWD",
        "passphrase",
        "private_key",
        "privateKey",
        "jwt",
        "X-JWT-Assertion",
        "PHPSESSID",
        "sid",
        "connect.sid",
        "JSESSIONID",
        "sessid",
        "user_sid",
        "Authorization",
        "X-Auth-Token",
        "auth",
        "basicAuth",
        "credentials",
        "signature",
        "X-Hub-Signature-256",
        "bearer",
        "password",
        "Pass-Word",
        "csrftoken",
        "_csrf",
        "session",
        "Set-Cookie",
        "client_secret",
        "key2",
        "aws_secret_access_key",
    };
    static const char *const plain[] = {
        "monkey",  "keyword",   "Keyboard", "turkey", "inside", "side",   "considered",
        "author",  "Authority", "q",        "name",   "user",   "Host",   "Accept",
        "Referer", "page",      "sidebar",  "pwdx",   "jwtish", "hockey", "Content-Type",
    };
    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
        ck_assert_msg(secret(secrets[i]), "%s is not redacted", secrets[i]);
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
        ck_assert_msg(!secret(plain[i]), "%s is redacted", plain[i]);
}
END_TEST

START_TEST(test_long_names)
{
    /* no length limit: the secret part may come after any number of characters */
    size_t n = 5000;
    char *name = malloc(n + 1);
    memset(name, 'a', n);
    memcpy(name + n - 7, "_secret", 7);
    name[n] = '\0';
    ck_assert(secret(name));
    memcpy(name + 190, "-Key-", 5); /* a short pattern as a segment far in */
    memset(name + n - 7, 'b', 7);
    ck_assert(secret(name));
    memset(name, 'a', n);
    ck_assert(!secret(name));
    /* a name with bytes after a NUL: matched on all its n bytes */
    ck_assert(dtb_toolbar_is_secret_namen(&tb, "x\0token", 7));
    free(name);
}
END_TEST

START_TEST(test_custom_patterns)
{
    load("{\"redact\": [\"X-Tenant_ID\", \"ssn\"]}");
    ck_assert(secret("x-tenant-id"));
    ck_assert(secret("XTenantId"));
    ck_assert(secret("my.x_tenant.id.value"));
    ck_assert(secret("SSN"));
    ck_assert(secret("user_ssn"));
    ck_assert(!secret("lessnote")); /* short: a whole segment only */
    ck_assert(!secret("password")); /* the list replaces the defaults */
    /* normalised and deduplicated in the effective config */
    load("{\"redact\": [\"API_KEY\", \"api-key\", \"Api.Key\"]}");
    ck_assert_uint_eq(json_array_size(tb.cfg.redact), 1);
    ck_assert_str_eq(json_string_value(json_array_get(tb.cfg.redact, 0)), "apikey");

    struct dtb_error err = {0};
    struct dtbi_config cfg;
    ck_assert_int_eq(dtbi_config_load(&cfg, "{\"redact\": [\"token\", \"-_.\"]}", "t", &err),
                     DTB_ECONFIG);
    ck_assert_str_eq(err.key, "redact[1]");
}
END_TEST

static void url_is(const char *in, const char *want)
{
    char *got = dtb_toolbar_redact_url(&tb, in);
    ck_assert_ptr_nonnull(got);
    ck_assert_msg(strcmp(got, want) == 0, "%s -> %s, not %s", in, got, want);
    free(got);
}

START_TEST(test_urls)
{
    url_is("http://shop.example/cart?token=abc&page=2",
           "http://shop.example/cart?token=********&page=2");
    url_is("/x?api-key=1&q=a+b&api%2Dkey=2&Api.Key=3",
           "/x?api-key=********&q=a+b&api%2Dkey=********&Api.Key=********");
    url_is("/cb#access_token=xyz&state=s1&id_token=j.w.t",
           "/cb#access_token=********&state=s1&id_token=********");
    url_is("/a?pwd=1;jwt=2#frag", "/a?pwd=********;jwt=********#frag");
    url_is("/plain/path", "/plain/path");
    url_is("/a?flag&monkey=banana&=x", "/a?flag&monkey=banana&=x");
    /* not a URL: left alone (a search text may hold "?token=") */
    url_is("what is ?token=x", "what is ?token=x");
    url_is("", "");
}
END_TEST

START_TEST(test_utf8_repair)
{
    json_t *s = dtbi_json_textn("a\xFF"
                                "b",
                                3);
    ck_assert_str_eq(json_string_value(s), "a\xEF\xBF\xBD"
                                           "b");
    json_decref(s);
    /* a cut sequence: each of its bytes is one U+FFFD */
    s = dtbi_json_textn("\xE2\x82", 2);
    ck_assert_str_eq(json_string_value(s), "\xEF\xBF\xBD\xEF\xBF\xBD");
    json_decref(s);
    /* valid text, a NUL included, is kept byte for byte */
    s = dtbi_json_textn("\xE2\x82\xAC\0z", 5);
    ck_assert_uint_eq(json_string_length(s), 5);
    ck_assert_int_eq(memcmp(json_string_value(s), "\xE2\x82\xAC\0z", 5), 0);
    json_decref(s);
}
END_TEST

static struct dtb_request *new_request(void)
{
    struct dtb_request *rq = calloc(1, sizeof(*rq));
    rq->tb = &tb;
    rq->headers = json_array();
    rq->query = json_array();
    rq->cookies = json_array();
    rq->form = json_array();
    rq->response_headers = json_array();
    return rq;
}

START_TEST(test_pair_bounds)
{
    load("{\"record_max_pairs\": 3, \"record_max_bytes\": 4096}");
    struct dtb_request *rq = new_request();
    size_t before = dtbi_request_bytes(rq);
    for (int i = 0; i < 5; i++)
        dtbi_record_pair(rq, DTBI_PAIRS_QUERY, "a", 1, "1", 1);
    ck_assert_uint_eq(json_array_size(rq->query), 3);
    ck_assert_uint_eq(dtb_request_pairs_omitted(rq, "query"), 2);
    /* every kind has its own count */
    ck_assert_ptr_nonnull(dtbi_record_pair(rq, DTBI_PAIRS_HEADERS, "X-A", 3, "1", 1));
    ck_assert_uint_eq(dtb_request_pairs_omitted(rq, "headers"), 0);
    /* the recorded pairs count against history_max_bytes */
    ck_assert_uint_ge(dtbi_request_bytes(rq), before + 4 * 256);
    /* bytes: the pairs share half of record_max_bytes; a value too big is not recorded, and
     * does not stop a later small one */
    char big[1500];
    memset(big, 'v', sizeof(big));
    ck_assert_ptr_nonnull(dtbi_record_pair(rq, DTBI_PAIRS_COOKIES, "c1", 2, big, sizeof(big)));
    ck_assert_ptr_null(dtbi_record_pair(rq, DTBI_PAIRS_COOKIES, "c2", 2, big, sizeof(big)));
    ck_assert_ptr_nonnull(dtbi_record_pair(rq, DTBI_PAIRS_COOKIES, "c3", 2, "x", 1));
    ck_assert_uint_eq(json_array_size(rq->cookies), 2);
    ck_assert_uint_eq(dtb_request_pairs_omitted(rq, "cookies"), 1);
    ck_assert_uint_le(rq->pair_bytes, 2048);
    dtbi_request_destroy(rq);

    /* escapes and U+FFFD count: 300 quotes take 600 bytes of JSON, 300 stray bytes 900 */
    load("{}");
    rq = new_request();
    char quotes[300];
    memset(quotes, '"', sizeof(quotes));
    dtbi_record_pair(rq, DTBI_PAIRS_RESPONSE_HEADERS, "Q", 1, quotes, sizeof(quotes));
    ck_assert_uint_ge(rq->pair_bytes, 600);
    size_t b0 = rq->pair_bytes;
    memset(quotes, '\xFF', sizeof(quotes));
    dtbi_record_pair(rq, DTBI_PAIRS_RESPONSE_HEADERS, "Q", 1, quotes, sizeof(quotes));
    ck_assert_uint_ge(rq->pair_bytes - b0, 900);
    dtbi_request_destroy(rq);
}
END_TEST

START_TEST(test_pair_utf8)
{
    struct dtb_request *rq = new_request();
    ck_assert_ptr_nonnull(dtbi_record_pair(rq, DTBI_PAIRS_HEADERS, "X-Bad", 5, "\xFF", 1));
    ck_assert_ptr_nonnull(dtbi_record_pair(rq, DTBI_PAIRS_HEADERS, "X-\xFE", 3, "ok", 2));
    ck_assert_uint_eq(json_array_size(rq->headers), 2);
    ck_assert_str_eq(json_string_value(json_array_get(json_array_get(rq->headers, 0), 1)),
                     "\xEF\xBF\xBD");
    ck_assert_str_eq(json_string_value(json_array_get(json_array_get(rq->headers, 1), 0)),
                     "X-\xEF\xBF\xBD");
    ck_assert(!rq->degraded);
    dtbi_request_destroy(rq);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("redact");
    TCase *tc = tcase_create("rules");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_normalize);
    tcase_add_test(tc, test_default_names);
    tcase_add_test(tc, test_long_names);
    tcase_add_test(tc, test_custom_patterns);
    tcase_add_test(tc, test_urls);
    tcase_add_test(tc, test_utf8_repair);
    tcase_add_test(tc, test_pair_bounds);
    tcase_add_test(tc, test_pair_utf8);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
