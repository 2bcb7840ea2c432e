/*
 * test_gate.c - the gate's checks one by one: which Host values pass (IP literals, localhost,
 * *.localhost, allowed_hosts), Origin against Host, the JSON Content-Type, and the client a
 * Forwarded / X-Forwarded-For / X-Real-IP value names behind trusted proxies.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static struct dtbi_config cfg;

static void load(const char *text)
{
    struct dtb_error err;
    dtb_error_clear(&err);
    ck_assert_int_eq(dtbi_config_load(&cfg, text, "t.json", &err), DTB_OK);
}

START_TEST(test_host)
{
    static const char *const yes[] = {
        "127.0.0.1",
        "127.0.0.1:8080",
        "10.1.2.3",
        "[::1]",
        "[::1]:8080",
        "[2001:db8::7]:1",
        "localhost",
        "LOCALHOST:80",
        "localhost.",
        "app.localhost",
        "a.b.localhost:5000",
        "dev.example.test",
        "Dev.Example.Test:8443",
        "corp.test",
        "x.corp.test",
        "a.b.corp.test:1",
        "dev.example.test.",
    };
    static const char *const no[] = {
        "",
        ":80",
        "attacker.example",
        "attacker.example:8080",
        "localhost.attacker.example",
        "xlocalhost",
        ".localhost",
        "127.0.0.1.nip.io",
        "example.test",
        "x.dev.example.test",
        "evil-corp.test",
        "corp.test.evil",
        "::1",
        "[::1",
        "[::1]x",
        "[::1]:",
        "[nope]",
        "127.0.0.1:",
        "127.0.0.1:99999",
        "127.0.0.1:123456",
        "127.0.0.1:8x",
        "localhost:80:80",
        "127.1",
        "0x7f.0.0.1",
    };
    load("{\"allowed_hosts\": [\"dev.example.test\", \".corp.test\"]}");
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        ck_assert_msg(dtbi_host_allowed(&cfg, yes[i], 0), "refused: %s", yes[i]);
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        ck_assert_msg(!dtbi_host_allowed(&cfg, no[i], 0), "allowed: %s", no[i]);
    /* no Host: only HTTP/1.0 */
    ck_assert(dtbi_host_allowed(&cfg, NULL, 1));
    ck_assert(!dtbi_host_allowed(&cfg, NULL, 0));
    dtbi_config_free(&cfg);
    load("{\"allowed_hosts\": [\"*\"]}");
    ck_assert(dtbi_host_allowed(&cfg, "anything.example:8080", 0));
    ck_assert(!dtbi_host_allowed(&cfg, "anything.example:http", 0));
    dtbi_config_free(&cfg);
    load(NULL); /* the default: no names */
    ck_assert(!dtbi_host_allowed(&cfg, "dev.example.test", 0));
    ck_assert(dtbi_host_allowed(&cfg, "localhost:8080", 0));
    dtbi_config_free(&cfg);
}
END_TEST

START_TEST(test_origin_and_content_type)
{
    ck_assert(dtbi_origin_same(NULL, "127.0.0.1:8080"));
    ck_assert(dtbi_origin_same("http://127.0.0.1:8080", "127.0.0.1:8080"));
    ck_assert(dtbi_origin_same("https://Dev.Example.Test", "dev.example.test"));
    ck_assert(!dtbi_origin_same("http://127.0.0.1:8081", "127.0.0.1:8080"));
    ck_assert(!dtbi_origin_same("http://127.0.0.1", "127.0.0.1:8080"));
    ck_assert(!dtbi_origin_same("http://attacker.example:8080", "127.0.0.1:8080"));
    ck_assert(!dtbi_origin_same("http://127.0.0.1:8080/", "127.0.0.1:8080"));
    ck_assert(!dtbi_origin_same("null", "127.0.0.1:8080"));
    ck_assert(!dtbi_origin_same("file://127.0.0.1:8080", "127.0.0.1:8080"));
    ck_assert(!dtbi_origin_same("127.0.0.1:8080", "127.0.0.1:8080"));
    ck_assert(!dtbi_origin_same("http://", ""));
    ck_assert(!dtbi_origin_same("http://x", NULL));

    ck_assert(dtbi_content_type_json("application/json"));
    ck_assert(dtbi_content_type_json("Application/JSON; charset=utf-8"));
    ck_assert(dtbi_content_type_json(" application/json ;charset=utf-8"));
    ck_assert(!dtbi_content_type_json(NULL));
    ck_assert(!dtbi_content_type_json(""));
    ck_assert(!dtbi_content_type_json("text/plain"));
    ck_assert(!dtbi_content_type_json("text/plain; application/json"));
    ck_assert(!dtbi_content_type_json("application/x-www-form-urlencoded"));
    ck_assert(!dtbi_content_type_json("multipart/form-data; boundary=x"));
    ck_assert(!dtbi_content_type_json("application/jsonx"));
    ck_assert(!dtbi_content_type_json("application/json-seq"));
}
END_TEST

/* The client value names, as text ("-" when it names none). */
static const char *client(enum dtbi_fwd_kind kind, const char *value)
{
    static char out[INET6_ADDRSTRLEN];
    struct sockaddr_storage ss;
    if (dtbi_forwarded_client(&cfg, kind, value, &ss) != 0)
        return "-";
    if (ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, out, sizeof(out));
    else
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, out, sizeof(out));
    return out;
}

START_TEST(test_forwarded_client)
{
    char many[2048] = "";
    load("{\"trusted_proxies\": [\"127.0.0.1\", \"10.0.0.0/8\", \"fd00::/8\"]}");
    /* X-Forwarded-For: the rightmost address that is not a trusted proxy */
    ck_assert_str_eq(client(DTBI_FWD_X_FORWARDED_FOR, "192.0.2.7"), "192.0.2.7");
    ck_assert_str_eq(client(DTBI_FWD_X_FORWARDED_FOR, "192.0.2.7, 198.51.100.1"), "198.51.100.1");
    ck_assert_str_eq(client(DTBI_FWD_X_FORWARDED_FOR, "198.51.100.1,192.0.2.7 ,10.0.0.3"),
                     "192.0.2.7");
    ck_assert_str_eq(client(DTBI_FWD_X_FORWARDED_FOR, "10.0.0.1, 127.0.0.1"), "10.0.0.1");
    ck_assert_str_eq(client(DTBI_FWD_X_FORWARDED_FOR, "192.0.2.7:4711"), "192.0.2.7");
    ck_assert_str_eq(client(DTBI_FWD_X_FORWARDED_FOR, "2001:db8::1"), "2001:db8::1");
    ck_assert_str_eq(client(DTBI_FWD_X_FORWARDED_FOR, "[2001:db8::1]:80, fd00::5"), "2001:db8::1");
    ck_assert_str_eq(client(DTBI_FWD_X_FORWARDED_FOR, ",,192.0.2.7,,"), "192.0.2.7");
    ck_assert_str_eq(client(DTBI_FWD_X_FORWARDED_FOR, "junk, 192.0.2.7"), "192.0.2.7");
    ck_assert_str_eq(client(DTBI_FWD_X_FORWARDED_FOR, "192.0.2.7, junk"), "-");
    ck_assert_str_eq(client(DTBI_FWD_X_FORWARDED_FOR, "192.0.2.7, junk, 10.0.0.1"), "-");
    ck_assert_str_eq(client(DTBI_FWD_X_FORWARDED_FOR, "unknown"), "-");
    ck_assert_str_eq(client(DTBI_FWD_X_FORWARDED_FOR, ""), "-");
    ck_assert_str_eq(client(DTBI_FWD_X_FORWARDED_FOR, " , "), "-");
    ck_assert_str_eq(client(DTBI_FWD_X_FORWARDED_FOR, "192.0.2.7:99999"), "-");
    ck_assert_str_eq(client(DTBI_FWD_X_FORWARDED_FOR, "[2001:db8::1"), "-");
    ck_assert_str_eq(client(DTBI_FWD_X_FORWARDED_FOR, "fe80::1%eth0"), "-");
    ck_assert_str_eq(client(DTBI_FWD_X_FORWARDED_FOR, NULL), "-");
    /* Forwarded: the for= parameters, quoted or not, any case, among other parameters */
    ck_assert_str_eq(client(DTBI_FWD_FORWARDED, "for=192.0.2.60;proto=http;by=203.0.113.43"),
                     "192.0.2.60");
    ck_assert_str_eq(client(DTBI_FWD_FORWARDED, "For=\"[2001:db8:cafe::17]:4711\""),
                     "2001:db8:cafe::17");
    ck_assert_str_eq(client(DTBI_FWD_FORWARDED, "for=192.0.2.43, for=198.51.100.17"),
                     "198.51.100.17");
    ck_assert_str_eq(client(DTBI_FWD_FORWARDED, "for=192.0.2.43, proto=https ; for = 10.0.0.9"),
                     "192.0.2.43");
    ck_assert_str_eq(client(DTBI_FWD_FORWARDED, "by=\"a,b\";for=192.0.2.1"), "192.0.2.1");
    ck_assert_str_eq(client(DTBI_FWD_FORWARDED, "for=unknown"), "-");
    ck_assert_str_eq(client(DTBI_FWD_FORWARDED, "for=_hidden, for=10.0.0.1"), "-");
    ck_assert_str_eq(client(DTBI_FWD_FORWARDED, "proto=http"), "-");
    ck_assert_str_eq(client(DTBI_FWD_FORWARDED, "forx=192.0.2.1"), "-");
    ck_assert_str_eq(client(DTBI_FWD_FORWARDED, "for=\"192.0.2.1"), "-");
    /* X-Real-IP: one address */
    ck_assert_str_eq(client(DTBI_FWD_REAL_IP, " 192.0.2.9 "), "192.0.2.9");
    ck_assert_str_eq(client(DTBI_FWD_REAL_IP, "192.0.2.9, 192.0.2.8"), "-");
    ck_assert_str_eq(client(DTBI_FWD_REAL_IP, "10.0.0.1"), "10.0.0.1");
    /* a list longer than any proxy chain is refused, not walked */
    for (int i = 0; i < 100; i++)
        strcat(many, "10.0.0.1,");
    ck_assert_str_eq(client(DTBI_FWD_X_FORWARDED_FOR, many), "-");
    dtbi_config_free(&cfg);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gate");
    TCase *tc = tcase_create("gate");
    tcase_add_test(tc, test_host);
    tcase_add_test(tc, test_origin_and_content_type);
    tcase_add_test(tc, test_forwarded_client);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
