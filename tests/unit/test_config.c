/*
 * test_config.c - the config loader: defaults, every key valid and invalid, errors that name
 * key, line and column, environment overrides, CIDR parsing and matching.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "internal.h"

#ifdef HAVE_HIREDIS
#define STORE_URL "redis://127.0.0.1:6390/2" /* accepted: not connected to here */
#else
#define STORE_URL "memory" /* a build without Redis refuses URLs (test_store_support) */
#endif

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
    ck_assert_ptr_null(cfg.panel_options); /* the SQL panel's defaults are its own */
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
    ck_assert_int_eq(
        load("{\"enabled\": true, \"hosts\": [\"10.0.0.0/8\", \"::1\"],"
             "\"intercept_redirects\": true, \"panels\": [\"timer\"],"
             "\"url_prefix\": \"/dbg/\", \"secret_key\": \"0123456789abcdefX\","
             "\"history_size\": 7, \"history_max_bytes\": 1000000,"
             "\"record_max_bytes\": 5000, \"store\": \"" STORE_URL "\","
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
    ck_assert_str_eq(cfg.store, STORE_URL);
    ck_assert_str_eq(cfg.store_prefix, "app");
    ck_assert(cfg.store_ttl == 60 && cfg.store_timeout_ms == 20);
    json_t *sql = json_object_get(cfg.panel_options, "sql"); /* the older keys, moved there */
    ck_assert(json_number_value(json_object_get(sql, "slow_ms")) == 2.5);
    ck_assert(json_is_false(json_object_get(sql, "explain")));
    ck_assert(json_is_false(json_object_get(sql, "capture_params")));
    ck_assert_str_eq(cfg.insert_before, "</main>");
    ck_assert_str_eq(json_string_value(json_array_get(cfg.redact, 0)), "pin");
    ck_assert_int_eq(json_integer_value(
                         json_object_get(json_object_get(cfg.panel_options, "sql"), "n_plus_one")),
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
    expect_error("{\"hosts\": [\"127.0.0.1\", [\"::1\", \"],\"],\n\n   \"::1\"]}", "hosts[1]", 1,
                 25);
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
    expect_error("{\"record_max_bytes\": 100000, \"history_max_bytes\": 65536}", "record_max_bytes",
                 1, 2);
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
    ck_assert(json_number_value(
                  json_object_get(json_object_get(cfg.panel_options, "sql"), "slow_ms")) == 7.5);
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

START_TEST(test_editor)
{
    const char *text =
        "{\n"
        "  \"editor\": \"idea://open?file={file}&line={line}\",\n"
        "  \"editor_paths\": [{\"from\": \"/build/src\", \"to\": \"/home/me/src\"}],\n"
        "  \"source_root\": \"/build\"\n"
        "}";
    ck_assert_int_eq(load(NULL), DTB_OK);
    ck_assert_ptr_null(cfg.editor); /* no editor links unless configured */
    ck_assert_ptr_null(json_object_get(cfg.effective, "editor"));
    dtbi_config_free(&cfg);
    ck_assert_int_eq(load(text), DTB_OK);
    ck_assert_str_eq(cfg.editor, "idea://open?file={file}&line={line}");
    ck_assert_str_eq(cfg.source_root, "/build");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(cfg.editor_paths, 0), "to")),
                     "/home/me/src");
    ck_assert_str_eq(json_string_value(json_object_get(cfg.effective, "editor")), cfg.editor);
    ck_assert_uint_eq(json_array_size(json_object_get(cfg.effective, "editor_paths")), 1);
    ck_assert_str_eq(json_string_value(json_object_get(cfg.effective, "source_root")), "/build");
    dtbi_config_free(&cfg);
    /* a template that could run script, none at all, or no {file} */
    expect_error("{\"enabled\": true,\n \"editor\": \"javascript:alert(1)//{file}\"}", "editor", 2,
                 2);
    expect_error("{\"editor\": \"DATA:text/html,{file}\"}", "editor", 1, 2);
    expect_error("{\"editor\": \"/open?{file}\"}", "editor", 1, 2);
    expect_error("{\"editor\": \"vscode://file/x\"}", "editor", 1, 2);
    expect_error("{\"editor\": 3}", "editor", 1, 2);
    expect_error("{\"source_root\": \"src\"}", "source_root", 1, 2);
    expect_error("{\"editor_paths\": {\"from\": \"/a\"}}", "editor_paths", 1, 2);
    expect_error(
        "{\"editor_paths\": [\n  {\"from\": \"/a\", \"to\": \"/b\"},\n  {\"from\": \"/a\"}]}",
        "editor_paths[1]", 3, 3);
    expect_error("{\"editor_paths\": [{\"from\": \"/a\", \"to\": \"/b\", \"x\": 1}]}",
                 "editor_paths[0]", 1, 19);
    expect_error("{\"editor_paths\": [{\"from\": \"\", \"to\": \"/b\"}]}", "editor_paths[0]", 1,
                 19);
    /* the environment: DTB_EDITOR overrides the file, with the same checks */
    setenv("DTB_EDITOR", "vscode://file/{file}:{line}", 1);
    ck_assert_int_eq(load(text), DTB_OK);
    ck_assert_str_eq(cfg.editor, "vscode://file/{file}:{line}");
    dtbi_config_free(&cfg);
    setenv("DTB_EDITOR", "javascript:{file}", 1);
    ck_assert_int_eq(load(NULL), DTB_ECONFIG);
    ck_assert_str_eq(err.source, "environment");
    ck_assert_str_eq(err.key, "DTB_EDITOR");
    unsetenv("DTB_EDITOR");
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

/* A Redis store in a build with hiredis; in one without, a config that asks for it is refused
 * naming the key and its line (from the file or DTB_STORE). */
START_TEST(test_store_support)
{
#ifdef HAVE_HIREDIS
    ck_assert_int_eq(load("{\"store\": \"unix:/run/redis.sock\"}"), DTB_OK);
    ck_assert_str_eq(cfg.store, "unix:/run/redis.sock");
    dtbi_config_free(&cfg);
#else
    expect_error("{\"enabled\": true,\n  \"store\": \"redis://127.0.0.1:6379/0\"}", "store", 2, 3);
    ck_assert_msg(strstr(err.text, "this build has no Redis support: rebuild with hiredis "
                                   "(libhiredis-dev)") != NULL,
                  "%s", err.text);
    setenv("DTB_STORE", "unix:/run/redis.sock", 1);
    ck_assert_int_eq(load(NULL), DTB_ECONFIG);
    ck_assert_str_eq(err.key, "DTB_STORE");
    unsetenv("DTB_STORE");
#endif
    ck_assert_int_eq(load("{\"store\": \"memory\"}"), DTB_OK);
    dtbi_config_free(&cfg);
}
END_TEST

static void collect_line(void *cls, const char *line)
{
    char *into = cls;
    size_t n = strlen(into);
    snprintf(into + n, 1024 - n, "%s\n", line);
}

static enum MHD_Result no_app(void *cls, struct MHD_Connection *con, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **req_cls)
{
    return MHD_NO;
}

/* A daemon on 127.0.0.1 (any port) with tb's toolbar, stopped at once: the start-up log line. */
static void start_and_stop(struct dtb_toolbar *tb)
{
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d =
        dtb_start_daemon(tb, MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, no_app, NULL,
                         MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
    ck_assert_ptr_nonnull(d);
    MHD_stop_daemon(d);
}

/* Every line the toolbar logs goes to the app's sink (here the start-up line naming the port),
 * without the prefix; with no sink set, or after NULL, it goes to stderr as before. */
START_TEST(test_logger_sink_and_stderr)
{
    char lines[1024] = "", text[1024];
    struct dtb_error err = {0};
    struct dtb_toolbar *tb = dtb_toolbar_create_from_string("{\"enabled\": true}", "t", &err);
    ck_assert_ptr_nonnull(tb);
    ck_assert_msg(dtb_toolbar_start(tb, &err) == DTB_OK, "start: %s", err.text);

    dtb_toolbar_set_logger(tb, collect_line, lines);
    start_and_stop(tb);
    ck_assert_msg(strstr(lines, "toolbar on port ") != NULL, "sink got: %s", lines);
    ck_assert_msg(strncmp(lines, "toolbar on port ", 16) == 0, "a line without prefix: %s", lines);

    /* the default: stderr, caught in a file for the test */
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    int saved = dup(STDERR_FILENO);
    ck_assert_int_ge(saved, 0);
    fflush(stderr);
    ck_assert_int_ge(dup2(fileno(f), STDERR_FILENO), 0);
    lines[0] = '\0';
    dtb_toolbar_set_logger(tb, NULL, NULL);
    start_and_stop(tb);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(f);
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    fclose(f);
    ck_assert_msg(strstr(text, "debugtoolbar: toolbar on port ") != NULL, "stderr got: %s", text);
    ck_assert_str_eq(lines, ""); /* the old sink gets nothing more */
    dtb_toolbar_destroy(tb);
}
END_TEST

#ifdef HAVE_HIREDIS
/* The app's sink gets the toolbar's log lines (here: a Redis store that is not there at start),
 * and NULL brings back stderr. */
START_TEST(test_logger)
{
    char lines[1024] = "";
    struct dtb_error err = {0};
    struct dtb_toolbar *tb = dtb_toolbar_create_from_string(
        "{\"enabled\": true, \"store\": \"unix:/nonexistent/dtb-test.sock\", "
        "\"secret_key\": \"0123456789abcdef0123456789abcdef\"}",
        "t", &err);
    ck_assert_ptr_nonnull(tb);
    dtb_toolbar_set_logger(tb, collect_line, lines);
    ck_assert_msg(dtb_toolbar_start(tb, &err) == DTB_OK, "start: %s", err.text);
    ck_assert_msg(strstr(lines, "Redis store unavailable") != NULL, "sink got: %s", lines);
    ck_assert_msg(strstr(lines, "debugtoolbar: ") == NULL, "the sink gets lines without prefix");
    dtb_toolbar_set_logger(tb, NULL, NULL);
    dtb_toolbar_destroy(tb);
}
END_TEST
#endif

/* allowed_hosts and trusted_proxies: parsed, in the effective config, errors with key, line and
 * column, and DTB_* overrides like the other lists */
START_TEST(test_hosts_and_proxies)
{
    char *dump;
    ck_assert_int_eq(load(NULL), DTB_OK);
    ck_assert_uint_eq(json_array_size(cfg.allowed_hosts), 0);
    ck_assert_uint_eq(cfg.ntrusted_proxies, 0);
    dump = json_dumps(cfg.effective, JSON_COMPACT);
    ck_assert_ptr_nonnull(strstr(dump, "\"allowed_hosts\":[]"));
    ck_assert_ptr_nonnull(strstr(dump, "\"trusted_proxies\":[]"));
    free(dump);
    dtbi_config_free(&cfg);

    ck_assert_int_eq(load("{\"allowed_hosts\": [\"Dev.Example.COM\", \".corp.test\", \"*\", "
                          "\"box.\"],\n \"trusted_proxies\": [\"10.0.0.0/8\", \"::1\"]}"),
                     DTB_OK);
    ck_assert_uint_eq(json_array_size(cfg.allowed_hosts), 4);
    ck_assert_str_eq(json_string_value(json_array_get(cfg.allowed_hosts, 0)), "dev.example.com");
    ck_assert_str_eq(json_string_value(json_array_get(cfg.allowed_hosts, 1)), ".corp.test");
    ck_assert_str_eq(json_string_value(json_array_get(cfg.allowed_hosts, 2)), "*");
    ck_assert_str_eq(json_string_value(json_array_get(cfg.allowed_hosts, 3)), "box");
    ck_assert_uint_eq(cfg.ntrusted_proxies, 2);
    ck_assert_int_eq(match4("10.0.0.0/8", "10.9.8.7"), 1);
    dump = json_dumps(cfg.effective, JSON_COMPACT);
    ck_assert_ptr_nonnull(strstr(dump, "\"trusted_proxies\":[\"10.0.0.0/8\",\"::1\"]"));
    ck_assert_ptr_nonnull(
        strstr(dump, "\"allowed_hosts\":[\"dev.example.com\",\".corp.test\",\"*\",\"box\"]"));
    free(dump);
    dtbi_config_free(&cfg);

    expect_error("{\"trusted_proxies\": [\"10.0.0.1\",\n  \"proxy.local\"]}", "trusted_proxies[1]",
                 2, 3);
    expect_error("{\"trusted_proxies\": \"10.0.0.1\"}", "trusted_proxies", 1, 2);
    expect_error("{\"trusted_proxies\": [\"10.0.0.0/40\"]}", "trusted_proxies[0]", 1, 22);
    expect_error("{\"allowed_hosts\": \"example.com\"}", "allowed_hosts", 1, 2);
    expect_error("{\n\"allowed_hosts\": [\"a.test\", \"example.com:8080\"]}", "allowed_hosts[1]", 2,
                 29);
    expect_error("{\"allowed_hosts\": [\"*.example.com\"]}", "allowed_hosts[0]", 1, 20);
    expect_error("{\"allowed_hosts\": [\"ex ample.com\"]}", "allowed_hosts[0]", 1, 20);
    expect_error("{\"allowed_hosts\": [\".\"]}", "allowed_hosts[0]", 1, 20);
    expect_error("{\"allowed_hosts\": [\"\"]}", "allowed_hosts[0]", 1, 20);
    expect_error("{\"allowed_hosts\": [7]}", "allowed_hosts[0]", 1, 20);

    setenv("DTB_ALLOWED_HOSTS", " dev.test , .corp.test ", 1);
    setenv("DTB_TRUSTED_PROXIES", "192.168.0.0/16", 1);
    ck_assert_int_eq(load("{\"allowed_hosts\": [\"other.test\"]}"), DTB_OK);
    ck_assert_uint_eq(json_array_size(cfg.allowed_hosts), 2);
    ck_assert_str_eq(json_string_value(json_array_get(cfg.allowed_hosts, 1)), ".corp.test");
    ck_assert_uint_eq(cfg.ntrusted_proxies, 1);
    ck_assert_uint_eq(cfg.trusted_proxies[0].prefix, 16);
    dtbi_config_free(&cfg);
    setenv("DTB_TRUSTED_PROXIES", "192.168.0.0/16, nonsense", 1);
    ck_assert_int_eq(load(NULL), DTB_ECONFIG);
    ck_assert_str_eq(err.source, "environment");
    ck_assert_str_eq(err.key, "DTB_TRUSTED_PROXIES");
    unsetenv("DTB_TRUSTED_PROXIES");
    setenv("DTB_ALLOWED_HOSTS", "dev.test:80", 1);
    ck_assert_int_eq(load(NULL), DTB_ECONFIG);
    ck_assert_str_eq(err.key, "DTB_ALLOWED_HOSTS");
    unsetenv("DTB_ALLOWED_HOSTS");
}
END_TEST

/* The schema drives the effective config (dotted keys nested, in the table's order, unset ones
 * left out) and the README's table (one row per key, with its DTB_* variable); a number below
 * its bound names the value. */
START_TEST(test_schema)
{
    char *md = NULL, *dump;
    size_t len = 0;
    FILE *f = open_memstream(&md, &len);
    ck_assert_ptr_nonnull(f);
    dtbi_config_table_markdown(f);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(md, "| key | environment | default | meaning |\n"));
    ck_assert_ptr_nonnull(strstr(md, "\n| `sql.slow_ms` | `DTB_SQL_SLOW_MS` | — | still accepted: "
                                     "sets `panel_options.sql.slow_ms` "));
    ck_assert_ptr_nonnull(
        strstr(md, "\n| `history_max_bytes` | `DTB_HISTORY_MAX_BYTES` | 16 MiB | "));
    ck_assert_ptr_nonnull(strstr(md, "\n| `app` | — | — | "));
    free(md);

    ck_assert_int_eq(load("{\"sql\": {\"explain\": false}}"), DTB_OK);
    dump = json_dumps(cfg.effective, JSON_COMPACT);
    ck_assert_msg(strstr(dump, "\"panel_options\":{\"sql\":{\"explain\":false}}") != NULL, "%s",
                  dump);
    ck_assert_msg(strstr(dump, "\"sql\":{\"slow") == NULL, "%s", dump);
    ck_assert_msg(strncmp(dump, "{\"enabled\":false,\"hosts\":[\"127.0.0.1\",\"::1\"],", 44) == 0,
                  "%s", dump);
    ck_assert_ptr_nonnull(strstr(dump, "\"panels\":null"));
    ck_assert_ptr_null(strstr(dump, "\"editor\""));
    ck_assert_ptr_null(strstr(dump, "\"preload\""));
    ck_assert_ptr_null(strstr(dump, "\"app\""));
    free(dump);
    dtbi_config_free(&cfg);

    expect_error("{\"sql\": {\"slow_ms\": -2.5}}", "sql.slow_ms", 1, 10);
    ck_assert_str_eq(err.text, "expected a number >= 0, got -2.5");
    expect_error("{\"sql\": [1]}", "sql", 1, 2);
    expect_error("{\"preload\": {\"ports\": [0]}}", "preload.ports[0]", 1, 24);
    expect_error("{\"sql.slow_ms\": 1}", "sql.slow_ms", 1, 2);
}
END_TEST

/* The SQL panel's settings live under panel_options.sql; the older sql.* keys and their
 * DTB_SQL_* variables still work: checked by their type (errors name the old key), copied into
 * panel_options.sql (the environment wins, then the new key, then the old one), said once in
 * the log, and shown in the effective config under panel_options.sql only. */
START_TEST(test_moved_sql_keys)
{
    char lines[1024] = "";
    struct dtb_error e = {0};
    struct dtb_toolbar *tb = dtb_toolbar_create_from_string("{}", "t", &e);
    ck_assert_ptr_nonnull(tb);
    dtb_toolbar_set_logger(tb, collect_line, lines);

    ck_assert_int_eq(load("{\"sql\": {\"slow_ms\": 5, \"explain\": false},\n"
                          " \"panel_options\": {\"sql\": {\"slow_ms\": 7, \"n_plus_one\": 3}}}"),
                     DTB_OK);
    json_t *sql = json_object_get(cfg.panel_options, "sql");
    ck_assert_int_eq(json_integer_value(json_object_get(sql, "slow_ms")), 7); /* the new key */
    ck_assert(json_is_false(json_object_get(sql, "explain")));
    ck_assert_int_eq(json_integer_value(json_object_get(sql, "n_plus_one")), 3);
    ck_assert_ptr_null(json_object_get(sql, "capture_params")); /* unset: the panel's default */
    ck_assert_ptr_null(json_object_get(cfg.effective, "sql"));
    ck_assert_ptr_eq(json_object_get(cfg.effective, "panel_options"), cfg.panel_options);
    dtbi_config_free(&cfg);
    ck_assert_msg(strstr(lines, "config key sql.slow_ms is now panel_options.sql.slow_ms, which "
                                "is also set and wins\n") != NULL,
                  "log: %s", lines);
    ck_assert_msg(strstr(lines, "config key sql.explain is now panel_options.sql.explain (the old "
                                "key still works)\n") != NULL,
                  "log: %s", lines);

    /* said once per process */
    lines[0] = '\0';
    ck_assert_int_eq(load("{\"sql\": {\"explain\": true}}"), DTB_OK);
    ck_assert(json_is_true(json_object_get(json_object_get(cfg.panel_options, "sql"), "explain")));
    dtbi_config_free(&cfg);
    ck_assert_str_eq(lines, "");

    /* the variable wins over both keys, and is no old key of the file's (nothing logged) */
    setenv("DTB_SQL_SLOW_MS", "2.5", 1);
    setenv("DTB_SQL_CAPTURE_PARAMS", "off", 1);
    ck_assert_int_eq(
        load("{\"sql\": {\"slow_ms\": 5},"
             " \"panel_options\": {\"sql\": {\"slow_ms\": 7, \"capture_params\": true}}}"),
        DTB_OK);
    sql = json_object_get(cfg.panel_options, "sql");
    ck_assert(json_number_value(json_object_get(sql, "slow_ms")) == 2.5);
    ck_assert(json_is_false(json_object_get(sql, "capture_params")));
    dtbi_config_free(&cfg);
    ck_assert_int_eq(load(NULL), DTB_OK);
    sql = json_object_get(json_object_get(cfg.effective, "panel_options"), "sql");
    ck_assert(json_number_value(json_object_get(sql, "slow_ms")) == 2.5);
    ck_assert(json_is_false(json_object_get(sql, "capture_params")));
    dtbi_config_free(&cfg);
    ck_assert_str_eq(lines, "");
    setenv("DTB_SQL_CAPTURE_PARAMS", "maybe", 1);
    ck_assert_int_eq(load(NULL), DTB_ECONFIG);
    ck_assert_str_eq(err.source, "environment");
    ck_assert_str_eq(err.key, "DTB_SQL_CAPTURE_PARAMS");
    unsetenv("DTB_SQL_CAPTURE_PARAMS");
    setenv("DTB_SQL_SLOW_MS", "-1", 1);
    ck_assert_int_eq(load(NULL), DTB_ECONFIG);
    ck_assert_str_eq(err.key, "DTB_SQL_SLOW_MS");
    unsetenv("DTB_SQL_SLOW_MS");

    /* a bad old key still names itself and its place; a bad panel_options.sql is its own */
    expect_error("{\"sql\": {\n  \"explain\": 1}}", "sql.explain", 2, 3);
    expect_error("{\"sql\": {\"slow_ms\": 1}, \"panel_options\": {\"sql\": []}}",
                 "panel_options.sql", 1, 43);
    expect_error("{\"sql\": {\"slow_ms\": 1}, \"panel_options\": 3}", "panel_options", 1, 25);
    dtb_toolbar_set_logger(tb, NULL, NULL);
    dtb_toolbar_destroy(tb);
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
#ifdef HAVE_HIREDIS
    tcase_add_test(tc, test_logger);
#endif
    tcase_add_test(tc, test_logger_sink_and_stderr);
    tcase_add_test(tc, test_store_support);
    tcase_add_test(tc, test_hosts_and_proxies);
    tcase_add_test(tc, test_editor);
    tcase_add_test(tc, test_record_max_pairs);
    tcase_add_test(tc, test_schema);
    tcase_add_test(tc, test_moved_sql_keys);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
