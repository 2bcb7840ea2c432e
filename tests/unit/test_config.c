/*
 * test_config.c - the config loader: defaults, every key valid and invalid, errors that name
 * key, line and column, environment overrides, CIDR parsing and matching.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static struct dtbi_config cfg;
static struct dtb_error err;

static dtb_rc load(const char *text)
{
    dtb_error_clear(&err);
    return dtbi_config_load(&cfg, text, "t.json", &err);
}

static void expect_error(const char *text, const char *key, int line, int col)
{
    ck_assert_msg(load(text) == DTB_ECONFIG, "accepted: %s", text);
    ck_assert_str_eq(err.key, key);
    ck_assert_int_eq(err.line, line);
    ck_assert_int_eq(err.column, col);
    ck_assert_str_eq(err.source, "t.json");
    ck_assert(err.text[0] != '\0');
}

START_TEST(test_defaults)
{
    ck_assert_int_eq(load(NULL), DTB_OK);
    ck_assert(!cfg.enabled);
    ck_assert_uint_eq(cfg.nhosts, 2);
    ck_assert_str_eq(cfg.url_prefix, "/_debug_toolbar");
    ck_assert_uint_eq(cfg.history_size, 25);
    ck_assert_str_eq(cfg.store, "memory");
    ck_assert(cfg.sql_slow_ms == 100);
    ck_assert(cfg.sql_explain && cfg.sql_capture_params);
    ck_assert_str_eq(cfg.insert_before, "</body>");
    ck_assert(!cfg.secret_key_set);
    ck_assert_uint_eq(cfg.secret_key_len, 32);
    ck_assert(json_array_size(cfg.redact) >= 8);
    ck_assert_ptr_null(json_object_get(cfg.effective, "secret_key"));
    dtbi_config_free(&cfg);
}
END_TEST

START_TEST(test_all_keys)
{
    ck_assert_int_eq(load("{\"enabled\": true, \"hosts\": [\"10.0.0.0/8\", \"::1\"],"
                          "\"intercept_redirects\": true, \"panels\": [\"timer\"],"
                          "\"url_prefix\": \"/dbg/\", \"secret_key\": \"0123456789abcdefX\","
                          "\"history_size\": 7, \"history_max_bytes\": 1000000,"
                          "\"record_max_bytes\": 5000, \"store\": \"redis://127.0.0.1:6390/2\","
                          "\"store_prefix\": \"app\", \"store_ttl\": 60, \"store_timeout_ms\": 20,"
                          "\"sql\": {\"slow_ms\": 2.5, \"explain\": false, \"capture_params\": false},"
                          "\"insert_before\": \"</main>\", \"redact\": [\"PIN\"],"
                          "\"panel_options\": {\"sql\": {\"n_plus_one\": 3}}, \"app\": {\"a\": 1}}"),
                     DTB_OK);
    ck_assert(cfg.enabled && cfg.intercept_redirects);
    ck_assert_uint_eq(cfg.nhosts, 2);
    ck_assert_str_eq(cfg.url_prefix, "/dbg");
    ck_assert(cfg.secret_key_set);
    ck_assert_uint_eq(cfg.history_size, 7);
    ck_assert_uint_eq(cfg.record_max_bytes, 5000);
    ck_assert_str_eq(cfg.store, "redis://127.0.0.1:6390/2");
    ck_assert_str_eq(cfg.store_prefix, "app");
    ck_assert(cfg.store_ttl == 60 && cfg.store_timeout_ms == 20);
    ck_assert(cfg.sql_slow_ms == 2.5 && !cfg.sql_explain && !cfg.sql_capture_params);
    ck_assert_str_eq(cfg.insert_before, "</main>");
    ck_assert_str_eq(json_string_value(json_array_get(cfg.redact, 0)), "pin");
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(cfg.panel_options, "sql"),
                                                        "n_plus_one")),
                     3);
    ck_assert_int_eq(json_integer_value(json_object_get(cfg.app, "a")), 1);
    ck_assert_str_eq(json_string_value(json_object_get(cfg.effective, "secret_key")), DTB_REDACTED);
    dtbi_config_free(&cfg);
}
END_TEST

START_TEST(test_errors_name_key_line_column)
{
    expect_error("{\n  \"enabled\": \"yes\"\n}", "enabled", 2, 3);
    expect_error("{\"a\": 1,\n\n   \"history_size\": 0}", "a", 1, 2);
    expect_error("{\n\n\n  \"history_size\": \"ten\"}", "history_size", 4, 3);
    /* the key's name inside an earlier string value is not the key */
    expect_error("{\"store_prefix\": \"x\\\"history_size\\\": 1\",\n \"history_size\": 0}",
                 "history_size", 2, 2);
    expect_error("{\"sql\": {\n   \"slow_ms\": -1}}", "sql.slow_ms", 2, 4);
    expect_error("{\"sql\": {\"fast\": 1}}", "sql.fast", 1, 10);
    /* an array's bad element: its own line and column */
    expect_error("{\"hosts\": [\"127.0.0.1\",\n \"10.0.0.0/33\"]}", "hosts[1]", 2, 2);
    expect_error("{\"hosts\": [\"nonsense\"]}", "hosts[0]", 1, 12);
    expect_error("{\"hosts\": [\"127.0.0.1\", [\"::1\", \"],\"],\n\n   \"::1\"]}", "hosts[1]", 1, 25);
    expect_error("{\"hosts\": [\"127.0.0.1\", \"::1\",\n\n   \"x],\\\"y\"]}", "hosts[2]", 3, 4);
    expect_error("{\"hosts\": \"127.0.0.1\"}", "hosts", 1, 2);
    expect_error("{\"url_prefix\": \"nope\"}", "url_prefix", 1, 2);
    expect_error("{\"url_prefix\": \"/\"}", "url_prefix", 1, 2);
    expect_error("{\"url_prefix\": \"/a b\"}", "url_prefix", 1, 2);
    expect_error("{\"secret_key\": \"short\"}", "secret_key", 1, 2);
    expect_error("{\"store\": \"mysql://x\"}", "store", 1, 2);
    expect_error("{\"store\": \"redis://host:99999\"}", "store", 1, 2);
    expect_error("{\"panels\": [\"timer\", 3]}", "panels[1]", 1, 22);
    expect_error("{\"app\": []}", "app", 1, 2);
    expect_error("{\"panel_options\": {\"sql\": 1}}", "panel_options.sql", 1, 20);
    expect_error("{\"record_max_bytes\": 100000, \"history_max_bytes\": 65536}",
                 "record_max_bytes", 1, 2);
    expect_error("{\"history_size\": 10001}", "history_size", 1, 2);
}
END_TEST

START_TEST(test_bad_json)
{
    ck_assert_int_eq(load("{\n  \"enabled\": true,,\n}"), DTB_ECONFIG);
    ck_assert_int_eq(err.line, 2);
    ck_assert(err.column > 0);
    ck_assert_str_eq(err.key, "");
    ck_assert_int_eq(load("[1]"), DTB_ECONFIG);
    ck_assert_int_eq(err.line, 1);
    ck_assert_int_eq(load("{\"enabled\": true, \"enabled\": false}"), DTB_ECONFIG);
    ck_assert_int_eq(load(""), DTB_ECONFIG);
}
END_TEST

START_TEST(test_environment)
{
    setenv("DTB_ENABLED", "yes", 1);
    setenv("DTB_HOSTS", " 10.1.0.0/16 , ::1 ", 1);
    setenv("DTB_HISTORY_SIZE", "3", 1);
    setenv("DTB_SQL_SLOW_MS", "7.5", 1);
    setenv("DTB_PANELS", "timer,request", 1);
    ck_assert_int_eq(load("{\"enabled\": false, \"history_size\": 9}"), DTB_OK);
    ck_assert(cfg.enabled);
    ck_assert_uint_eq(cfg.nhosts, 2);
    ck_assert_uint_eq(cfg.history_size, 3);
    ck_assert(cfg.sql_slow_ms == 7.5);
    ck_assert_uint_eq(json_array_size(cfg.panels), 2);
    dtbi_config_free(&cfg);
    setenv("DTB_HISTORY_SIZE", "many", 1);
    ck_assert_int_eq(load(NULL), DTB_ECONFIG);
    ck_assert_str_eq(err.source, "environment");
    ck_assert_str_eq(err.key, "DTB_HISTORY_SIZE");
    setenv("DTB_HISTORY_SIZE", "0", 1); /* a valid integer, but out of range */
    ck_assert_int_eq(load(NULL), DTB_ECONFIG);
    ck_assert_str_eq(err.key, "DTB_HISTORY_SIZE");
    unsetenv("DTB_HISTORY_SIZE");
    setenv("DTB_ENABLED", "perhaps", 1);
    ck_assert_int_eq(load(NULL), DTB_ECONFIG);
    ck_assert_str_eq(err.key, "DTB_ENABLED");
    unsetenv("DTB_ENABLED");
    unsetenv("DTB_HOSTS");
    unsetenv("DTB_SQL_SLOW_MS");
    unsetenv("DTB_PANELS");
}
END_TEST

START_TEST(test_record_max_pairs)
{
    ck_assert_int_eq(load(NULL), DTB_OK);
    ck_assert_uint_eq(cfg.record_max_pairs, 500);
    ck_assert_int_eq(json_integer_value(json_object_get(cfg.effective, "record_max_pairs")), 500);
    dtbi_config_free(&cfg);
    ck_assert_int_eq(load("{\"record_max_pairs\": 20}"), DTB_OK);
    ck_assert_uint_eq(cfg.record_max_pairs, 20);
    ck_assert_int_eq(json_integer_value(json_object_get(cfg.effective, "record_max_pairs")), 20);
    dtbi_config_free(&cfg);
    setenv("DTB_RECORD_MAX_PAIRS", "7", 1);
    ck_assert_int_eq(load("{\"record_max_pairs\": 20}"), DTB_OK);
    ck_assert_uint_eq(cfg.record_max_pairs, 7);
    dtbi_config_free(&cfg);
    setenv("DTB_RECORD_MAX_PAIRS", "lots", 1);
    ck_assert_int_eq(load(NULL), DTB_ECONFIG);
    ck_assert_str_eq(err.key, "DTB_RECORD_MAX_PAIRS");
    unsetenv("DTB_RECORD_MAX_PAIRS");
    expect_error("{\n  \"record_max_pairs\": 0}", "record_max_pairs", 2, 3);
    expect_error("{\"record_max_pairs\": \"500\"}", "record_max_pairs", 1, 2);
    expect_error("{\"record_max_pairs\": 1000001}", "record_max_pairs", 1, 2);
    /* redact patterns are normalised; one that normalises to nothing is refused */
    ck_assert_int_eq(load("{\"redact\": [\"X-Api_Key\"]}"), DTB_OK);
    ck_assert_str_eq(json_string_value(json_array_get(cfg.redact, 0)), "xapikey");
    dtbi_config_free(&cfg);
    expect_error("{\"redact\": [\"pin\",\n \"-\"]}", "redact[1]", 2, 2);
}
END_TEST

static int match4(const char *range, const char *ip)
{
    struct dtbi_cidr c;
    struct sockaddr_in sa = {0};
    ck_assert_int_eq(dtbi_cidr_parse(range, &c), 0);
    sa.sin_family = AF_INET;
    inet_pton(AF_INET, ip, &sa.sin_addr);
    return dtbi_cidr_match(&c, 1, (struct sockaddr *)&sa);
}

static int match6(const char *range, const char *ip)
{
    struct dtbi_cidr c;
    struct sockaddr_in6 sa = {0};
    ck_assert_int_eq(dtbi_cidr_parse(range, &c), 0);
    sa.sin6_family = AF_INET6;
    inet_pton(AF_INET6, ip, &sa.sin6_addr);
    return dtbi_cidr_match(&c, 1, (struct sockaddr *)&sa);
}

START_TEST(test_cidr)
{
    struct dtbi_cidr c;
    ck_assert_int_eq(match4("127.0.0.1", "127.0.0.1"), 1);
    ck_assert_int_eq(match4("127.0.0.1", "127.0.0.2"), 0);
    ck_assert_int_eq(match4("10.0.0.0/8", "10.200.3.4"), 1);
    ck_assert_int_eq(match4("10.0.0.0/8", "11.0.0.1"), 0);
    ck_assert_int_eq(match4("0.0.0.0/0", "8.8.8.8"), 1);
    ck_assert_int_eq(match4("192.168.1.0/25", "192.168.1.127"), 1);
    ck_assert_int_eq(match4("192.168.1.0/25", "192.168.1.128"), 0);
    ck_assert_int_eq(match6("::1", "::1"), 1);
    ck_assert_int_eq(match6("::1/128", "::2"), 0);
    ck_assert_int_eq(match6("fd00::/8", "fd12::5"), 1);
    ck_assert_int_eq(match6("127.0.0.1", "::ffff:127.0.0.1"), 1); /* v4-mapped client */
    ck_assert_int_eq(match6("127.0.0.1", "::ffff:127.0.0.2"), 0);
    ck_assert_int_eq(match4("::1", "127.0.0.1"), 0);
    ck_assert_int_eq(dtbi_cidr_parse("10.0.0.0/33", &c), -1);
    ck_assert_int_eq(dtbi_cidr_parse("::/129", &c), -1);
    ck_assert_int_eq(dtbi_cidr_parse("10.0.0.0/", &c), -1);
    ck_assert_int_eq(dtbi_cidr_parse("10.0.0.0/-1", &c), -1);
    ck_assert_int_eq(dtbi_cidr_parse("localhost", &c), -1);
    ck_assert_int_eq(dtbi_cidr_parse("", &c), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("load");
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_all_keys);
    tcase_add_test(tc, test_errors_name_key_line_column);
    tcase_add_test(tc, test_bad_json);
    tcase_add_test(tc, test_environment);
    tcase_add_test(tc, test_cidr);
    tcase_add_test(tc, test_record_max_pairs);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
