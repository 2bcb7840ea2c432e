/*
 * test_panel_action.c - a panel's own actions (handle_action) and the public signatures
 * (dtb_sign / dtb_verify): a third-party panel signs what it records and answers POSTs to
 * <prefix>/panels/<id>/<action> with the signature checked; the core refuses, before the panel
 * sees anything, a GET, a body that is not a JSON object, a body over 64 KiB, an action name
 * outside [a-z0-9_-], an unknown panel, a panel without the hook and an ABI 2 table (whose
 * table ends before handle_action), and a cross-origin or non-JSON POST gets the app's own
 * answer. The SQL panel's old URL (<prefix>/sql/<action>) is gone. Also the summary hook:
 * panels' named fields in the history list, never replacing the core's own or an earlier
 * panel's, and never read from an ABI 3 table. And the call hooks (call_enter, call_leave):
 * around each call into the app's handler, in panel order and back, with the token handed
 * over; never called from an ABI 6 table; more than DTB's limit of hooked panels is refused.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <debugtoolbar.h>
#include <debugtoolbar/mhd.h>
#include <debugtoolbar/panel.h>
#include <microhttpd.h>

#include "http.h"

static const char page[] = "<!DOCTYPE html><html lang=\"en\"><head><title>t</title></head>"
                           "<body><p>notes</p></body></html>";
static const char app404[] = "the app's own 404";

static enum MHD_Result app(void *cls, struct MHD_Connection *con, const char *url,
                           const char *method, const char *version, const char *upload_data,
                           size_t *upload_data_size, void **req_cls)
{
    (void)cls, (void)method, (void)version, (void)upload_data, (void)req_cls;
    if (*upload_data_size != 0) {
        *upload_data_size = 0; /* a POST the toolbar left to the app: its body is ignored */
        return MHD_YES;
    }
    int known = strcmp(url, "/page") == 0;
    struct MHD_Response *r =
        known ? MHD_create_response_from_buffer(strlen(page), (void *)page, MHD_RESPMEM_PERSISTENT)
              : MHD_create_response_from_buffer(strlen(app404), (void *)app404,
                                                MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Content-Type", known ? "text/html" : "text/plain");
    enum MHD_Result ret = MHD_queue_response(con, known ? 200 : 404, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- the panels ----------------------------------------------------------------------------- */

static const char NOTE[] = "a note <b>&'\"";
static int calls;     /* handle_action calls of the notes panel */
static int old_calls; /* must stay 0: an ABI 2 table has no handle_action */
static const char *last_action;

static void note_subject(char out[64], const char *id)
{
    snprintf(out, 64, "notes:%s", id);
}

/* Records NOTE with a signature over it, for this request only. */
static json_t *notes_to_json(void *s, struct dtb_request *rq, void *r)
{
    (void)s, (void)r;
    char subject[64], sig[65];
    struct dtb_sign_part part = {NOTE, strlen(NOTE)};
    note_subject(subject, dtb_request_id(rq));
    dtb_sign(dtb_request_toolbar(rq), subject, &part, 1, sig);
    return json_pack("{s:s,s:s,s:s}", "note", NOTE, "request", dtb_request_id(rq), "sig", sig);
}

/* "echo": answers the note when its signature verifies. */
static unsigned notes_action(void *s, struct dtb_toolbar *tb, const char *action,
                             const json_t *body, json_t **answer)
{
    (void)s;
    calls++;
    last_action = strcmp(action, "echo") == 0 ? "echo" : "other";
    const char *note = json_string_value(json_object_get(body, "note"));
    const char *id = json_string_value(json_object_get(body, "request"));
    const char *sig = json_string_value(json_object_get(body, "sig"));
    char subject[64];
    if (strcmp(action, "echo") != 0) {
        *answer = json_pack("{s:s}", "error", "no such action");
        return 404;
    }
    if (note == NULL || id == NULL || strlen(id) > 32) {
        *answer = json_pack("{s:s}", "error", "expected {note, request, sig}");
        return 400;
    }
    struct dtb_sign_part part = {note, strlen(note)};
    note_subject(subject, id);
    if (!dtb_verify(tb, subject, &part, 1, sig)) {
        *answer = json_pack("{s:s}", "error", "wrong signature");
        return 403;
    }
    *answer = json_pack("{s:s,s:s}", "echo", note, "action", action);
    return 200;
}

static json_t *plain_to_json(void *s, struct dtb_request *rq, void *r)
{
    (void)s, (void)rq, (void)r;
    return json_pack("{s:i}", "n", 1);
}

static unsigned must_not_act(void *s, struct dtb_toolbar *tb, const char *action,
                             const json_t *body, json_t **answer)
{
    (void)s, (void)tb, (void)action, (void)body;
    old_calls++;
    *answer = json_pack("{s:s}", "error", "an abi 2 table's handle_action was read");
    return 200;
}

/* Fields for History: its own, and two that are the core's (kept as the core set them). */
static int notes_summary(const json_t *stats, json_t *fields)
{
    (void)stats;
    json_object_set_new(fields, "notes", json_integer(1));
    json_object_set_new(fields, "id", json_string("hijacked"));
    json_object_set_new(fields, "status", json_integer(999));
    return 0;
}

/* A later panel setting "notes" too: the first panel's value stays. */
static int plain_summary(const json_t *stats, json_t *fields)
{
    (void)stats;
    json_object_set_new(fields, "notes", json_integer(2));
    json_object_set_new(fields, "plain", json_string("yes"));
    return 0;
}

static int must_not_summarize(const json_t *stats, json_t *fields)
{
    (void)stats;
    json_object_set_new(fields, "three", json_string("an abi 3 table's summary was read"));
    return 0;
}

static const struct dtb_panel_ops notes_panel = {.abi = DTB_PANEL_ABI,
                                                 .id = "notes",
                                                 .title = "Notes",
                                                 .default_on = 1,
                                                 .to_json = notes_to_json,
                                                 .handle_action = notes_action,
                                                 .summary = notes_summary};
static const struct dtb_panel_ops plain_panel = {.abi = DTB_PANEL_ABI,
                                                 .id = "plain",
                                                 .title = "Plain",
                                                 .default_on = 1,
                                                 .to_json = plain_to_json,
                                                 .summary = plain_summary};
static const struct dtb_panel_ops three_panel = {.abi = 3,
                                                 .id = "three",
                                                 .title = "Three",
                                                 .default_on = 1,
                                                 .to_json = plain_to_json,
                                                 .summary = must_not_summarize};
static const struct dtb_panel_ops old_panel = {.abi = 2,
                                               .id = "old",
                                               .title = "Old",
                                               .default_on = 1,
                                               .to_json = plain_to_json,
                                               .handle_action = must_not_act};

/* ---- signatures ----------------------------------------------------------------------------- */

START_TEST(test_sign)
{
    struct dtb_error err = {0};
    struct dtb_toolbar *tb = dtb_toolbar_create_from_string("{\"enabled\": true}", "t", &err);
    ck_assert_ptr_nonnull(tb);
    char sig[65], other[65];
    struct dtb_sign_part two[2] = {{"ab", 2}, {"c", 1}}, moved[2] = {{"a", 1}, {"bc", 2}};
    dtb_sign(tb, "s", two, 2, sig);
    ck_assert_uint_eq(strlen(sig), 64);
    ck_assert_uint_eq(strspn(sig, "0123456789abcdef"), 64);
    ck_assert(dtb_verify(tb, "s", two, 2, sig));
    /* the parts' boundaries, the subject and the content all count */
    ck_assert(!dtb_verify(tb, "s", moved, 2, sig));
    ck_assert(!dtb_verify(tb, "t", two, 2, sig));
    ck_assert(!dtb_verify(tb, "s", two, 1, sig));
    dtb_sign(tb, "s", moved, 2, other);
    ck_assert_str_ne(sig, other);
    /* NULL, short and altered signatures */
    ck_assert(!dtb_verify(tb, "s", two, 2, NULL));
    ck_assert(!dtb_verify(tb, "s", two, 2, ""));
    char last = sig[63];
    sig[63] = '\0';
    ck_assert(!dtb_verify(tb, "s", two, 2, sig));
    sig[63] = last == '0' ? '1' : '0'; /* another last digit */
    ck_assert(!dtb_verify(tb, "s", two, 2, sig));
    /* another toolbar, another secret_key: its signatures do not verify here */
    struct dtb_toolbar *tb2 = dtb_toolbar_create_from_string("{\"enabled\": true}", "t", &err);
    ck_assert_ptr_nonnull(tb2);
    dtb_sign(tb2, "s", two, 2, other);
    ck_assert(dtb_verify(tb2, "s", two, 2, other));
    ck_assert(!dtb_verify(tb, "s", two, 2, other));
    dtb_toolbar_destroy(tb2);
    dtb_toolbar_destroy(tb);
}
END_TEST

/* ---- over HTTP ------------------------------------------------------------------------------ */

static char base[64];

static long post(const char *path, const char *ctype, const char *origin, const char *body,
                 struct http_resp *r)
{
    char url[256], ct[96], og[96];
    const char *headers[3] = {NULL, NULL, NULL};
    int n = 0;
    snprintf(url, sizeof(url), "%s%s", base, path);
    if (ctype != NULL) {
        snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
        headers[n++] = ct;
    }
    if (origin != NULL) {
        snprintf(og, sizeof(og), "Origin: %s", origin);
        headers[n++] = og;
    }
    ck_assert_int_eq(http_request("POST", url, headers, body, r), 0);
    return r->status;
}

START_TEST(test_http)
{
    struct dtb_error err = {0};
    struct dtb_toolbar *tb = dtb_toolbar_create_from_string("{\"enabled\": true}", "t", &err);
    struct http_resp r;
    char *id, url[256];
    const char *json = "application/json";
    ck_assert_ptr_nonnull(tb);
    ck_assert_int_eq(dtb_toolbar_add_panel(tb, &notes_panel), DTB_OK);
    ck_assert_int_eq(dtb_toolbar_add_panel(tb, &plain_panel), DTB_OK);
    ck_assert_int_eq(dtb_toolbar_add_panel(tb, &old_panel), DTB_OK);
    ck_assert_int_eq(dtb_toolbar_add_panel(tb, &three_panel), DTB_OK);
    ck_assert_int_eq(dtb_toolbar_start(tb, &err), DTB_OK);
    struct MHD_Daemon *d = http_toolbar_daemon(tb, app, base);
    ck_assert_ptr_nonnull(d);
    json_t *rec = http_record_for(base, "/page", &id);
    ck_assert_ptr_nonnull(rec);
    json_t *notes = json_object_get(json_object_get(rec, "panels"), "notes");
    const char *sig = json_string_value(json_object_get(notes, "sig"));
    ck_assert_ptr_nonnull(sig);

    /* the panel's signature round-trips through the record and the UI's POST */
    json_t *b = json_pack("{s:s,s:s,s:s}", "note", NOTE, "request", id, "sig", sig);
    char *text = json_dumps(b, JSON_COMPACT);
    ck_assert_int_eq(post("/_debug_toolbar/panels/notes/echo", json, NULL, text, &r), 200);
    json_t *a = json_loads(r.body, 0, NULL);
    ck_assert_str_eq(json_string_value(json_object_get(a, "echo")), NOTE);
    ck_assert_str_eq(json_string_value(json_object_get(a, "action")), "echo");
    json_decref(a);
    http_resp_free(&r);
    ck_assert_int_eq(calls, 1);
    /* the same origin as the Host is an allowed action */
    snprintf(url, sizeof(url), "%s", base);
    ck_assert_int_eq(post("/_debug_toolbar/panels/notes/echo", json, url, text, &r), 200);
    http_resp_free(&r);
    free(text);
    /* content changed since signing, or another request's id: 403 from the panel */
    json_object_set_new(b, "note", json_string("another note"));
    text = json_dumps(b, JSON_COMPACT);
    ck_assert_int_eq(post("/_debug_toolbar/panels/notes/echo", json, NULL, text, &r), 403);
    http_resp_free(&r);
    free(text);
    json_object_set_new(b, "note", json_string(NOTE));
    json_object_set_new(b, "request", json_string("0123456789abcdef"));
    text = json_dumps(b, JSON_COMPACT);
    ck_assert_int_eq(post("/_debug_toolbar/panels/notes/echo", json, NULL, text, &r), 403);
    http_resp_free(&r);
    /* an action name the panel does not know: the panel's own 404 */
    ck_assert_int_eq(post("/_debug_toolbar/panels/notes/other", json, NULL, "{}", &r), 404);
    http_resp_free(&r);
    ck_assert_str_eq(last_action, "other");
    int before = calls;

    /* refused by the core, before the panel sees anything */
    struct {
        const char *path, *body;
        long status;
    } refused[] = {
        {"/_debug_toolbar/panels/notes/echo", "not json", 400},
        {"/_debug_toolbar/panels/notes/echo", "[1, 2]", 400},
        {"/_debug_toolbar/panels/notes/echo", "\"text\"", 400},
        {"/_debug_toolbar/panels/notes/echo", "", 400},
        {"/_debug_toolbar/panels/notes/Echo", "{}", 404},
        {"/_debug_toolbar/panels/notes/ec.ho", "{}", 404},
        {"/_debug_toolbar/panels/notes/echo/more", "{}", 404},
        {"/_debug_toolbar/panels/notes/", "{}", 404},
        {"/_debug_toolbar/panels/notes", "{}", 404},
        {"/_debug_toolbar/panels/notes/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "{}", 404},
        {"/_debug_toolbar/panels/nope/echo", "{}", 404},
        {"/_debug_toolbar/panels/plain/echo", "{}", 404},
        {"/_debug_toolbar/panels/old/echo", "{}", 404},
        {"/_debug_toolbar/panels//echo", "{}", 404},
        /* the SQL panel's actions moved under panels/ */
        {"/_debug_toolbar/sql/select", "{}", 404},
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        ck_assert_msg(post(refused[i].path, json, NULL, refused[i].body, &r) == refused[i].status,
                      "%s %s: %ld %s", refused[i].path, refused[i].body, r.status, r.body);
        ck_assert_msg(strstr(r.body, "\"error\"") != NULL, "%s: %s", refused[i].path, r.body);
        http_resp_free(&r);
    }
    /* a body over 64 KiB */
    size_t big = 70000;
    char *large = malloc(big + 1);
    ck_assert_ptr_nonnull(large);
    memset(large, ' ', big);
    large[0] = '{', large[big - 1] = '}', large[big] = '\0';
    ck_assert_int_eq(post("/_debug_toolbar/panels/notes/echo", json, NULL, large, &r), 413);
    http_resp_free(&r);
    free(large);
    /* GET: only POST */
    snprintf(url, sizeof(url), "%s/_debug_toolbar/panels/notes/echo", base);
    ck_assert_int_eq(http_get(url, &r), 0);
    ck_assert_int_eq(r.status, 405);
    http_resp_free(&r);
    ck_assert_int_eq(calls, before);
    ck_assert_int_eq(old_calls, 0);

    /* not a same-origin JSON request: the app's own answer, the panel never called */
    ck_assert_int_eq(
        post("/_debug_toolbar/panels/notes/echo", json, "http://evil.example", text, &r), 404);
    ck_assert_str_eq(r.body, app404);
    http_resp_free(&r);
    ck_assert_int_eq(post("/_debug_toolbar/panels/notes/echo", "text/plain", NULL, text, &r), 404);
    ck_assert_str_eq(r.body, app404);
    http_resp_free(&r);
    ck_assert_int_eq(calls, before);

    /* the panels' summary fields in the history list, the core's own kept */
    snprintf(url, sizeof(url), "%s/_debug_toolbar/api/requests", base);
    ck_assert_int_eq(http_get(url, &r), 0);
    json_t *list = json_loads(r.body, 0, NULL), *sum = NULL, *e;
    size_t i;
    http_resp_free(&r);
    json_array_foreach(list, i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "id")), id) == 0)
            sum = e;
    }
    ck_assert_ptr_nonnull(sum);
    ck_assert_int_eq(json_integer_value(json_object_get(sum, "notes")), 1);
    ck_assert_str_eq(json_string_value(json_object_get(sum, "plain")), "yes");
    ck_assert_int_eq(json_integer_value(json_object_get(sum, "status")), 200);
    ck_assert_str_eq(json_string_value(json_object_get(sum, "path")), "/page");
    ck_assert_ptr_null(json_object_get(sum, "three"));
    json_decref(list);

    free(text);
    json_decref(b);
    json_decref(rec);
    free(id);
    MHD_stop_daemon(d);
    dtb_toolbar_destroy(tb);
}
END_TEST

/* ---- call hooks ----------------------------------------------------------------------------- */

/* What happened on the handler's thread, in order: the hooks' and the app's marks. */
static char trace[512];

static void mark(const char *what)
{
    size_t n = strlen(trace);
    snprintf(trace + n, sizeof(trace) - n, "%s%s", n ? " " : "", what);
}

static enum MHD_Result traced_app(void *cls, struct MHD_Connection *con, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    mark("app");
    return app(cls, con, url, method, version, upload_data, upload_data_size, req_cls);
}

static void *hook_start(void *s, struct dtb_request *rq)
{
    (void)s;
    return dtb_request_strdup(rq, "state");
}

static void *outer_enter(void *s, struct dtb_request *rq, void *r)
{
    (void)s, (void)rq;
    mark(r != NULL && strcmp(r, "state") == 0 ? "outer+" : "outer+nostate");
    return (void *)"outer-token";
}

static void outer_leave(void *s, struct dtb_request *rq, void *r, void *token)
{
    (void)s, (void)rq, (void)r;
    mark(token != NULL && strcmp(token, "outer-token") == 0 ? "outer-" : "outer-badtoken");
}

static void *inner_enter(void *s, struct dtb_request *rq, void *r)
{
    (void)s, (void)rq, (void)r;
    mark("inner+");
    return NULL;
}

static void inner_leave(void *s, struct dtb_request *rq, void *r, void *token)
{
    (void)s, (void)rq, (void)r;
    mark(token == NULL ? "inner-" : "inner-badtoken");
}

static void *six_enter(void *s, struct dtb_request *rq, void *r)
{
    (void)s, (void)rq, (void)r;
    mark("six+"); /* never: an ABI 6 table ends before call_enter */
    return NULL;
}

static const struct dtb_panel_ops outer_panel = {.abi = DTB_PANEL_ABI,
                                                 .id = "outer",
                                                 .title = "Outer",
                                                 .default_on = 1,
                                                 .on_request_start = hook_start,
                                                 .to_json = plain_to_json,
                                                 .call_enter = outer_enter,
                                                 .call_leave = outer_leave};
static const struct dtb_panel_ops six_panel = {.abi = 6,
                                               .id = "six",
                                               .title = "Six",
                                               .default_on = 1,
                                               .to_json = plain_to_json,
                                               .call_enter = six_enter};
static const struct dtb_panel_ops inner_panel = {.abi = DTB_PANEL_ABI,
                                                 .id = "inner",
                                                 .title = "Inner",
                                                 .default_on = 1,
                                                 .to_json = plain_to_json,
                                                 .call_enter = inner_enter,
                                                 .call_leave = inner_leave};

START_TEST(test_call_hooks)
{
    struct dtb_error err = {0};
    char b[64];
    struct dtb_toolbar *tb = dtb_toolbar_create_from_string("{\"enabled\": true}", "t", &err);
    ck_assert_ptr_nonnull(tb);
    ck_assert_int_eq(dtb_toolbar_add_panel(tb, &outer_panel), DTB_OK);
    ck_assert_int_eq(dtb_toolbar_add_panel(tb, &six_panel), DTB_OK);
    ck_assert_int_eq(dtb_toolbar_add_panel(tb, &inner_panel), DTB_OK);
    ck_assert_int_eq(dtb_toolbar_start(tb, &err), DTB_OK);
    struct MHD_Daemon *d = http_toolbar_daemon(tb, traced_app, b);
    ck_assert_ptr_nonnull(d);
    char *id = NULL;
    trace[0] = '\0';
    json_t *rec = http_record_for(b, "/page", &id);
    ck_assert_ptr_nonnull(rec);
    /* the record is stored after the response: the handler's calls are over */
    ck_assert_str_eq(trace, "outer+ inner+ app inner- outer-");
    json_decref(rec);
    free(id);
    MHD_stop_daemon(d);
    dtb_toolbar_destroy(tb);
}
END_TEST

/* Hooking every handler call has a cost: the core takes at most 8 such enabled panels. */
START_TEST(test_call_hooks_limit)
{
    static struct dtb_panel_ops many[9];
    static char ids[9][8];
    struct dtb_error err = {0};
    /* the panels enabled: the nine, or the first eight (the built-in Profile and Memory
     * panels, which hook the calls too, are left out) */
    const char *nine = "{\"enabled\": true, \"panels\": [\"hook0\", \"hook1\", \"hook2\", "
                       "\"hook3\", \"hook4\", \"hook5\", \"hook6\", \"hook7\", \"hook8\"]}";
    const char *eight = "{\"enabled\": true, \"panels\": [\"hook0\", \"hook1\", \"hook2\", "
                        "\"hook3\", \"hook4\", \"hook5\", \"hook6\", \"hook7\"]}";
    for (int i = 0; i < 9; i++) {
        snprintf(ids[i], sizeof(ids[i]), "hook%d", i);
        many[i] = inner_panel;
        many[i].id = ids[i];
    }
    struct dtb_toolbar *tb = dtb_toolbar_create_from_string(nine, "t", &err);
    ck_assert_ptr_nonnull(tb);
    for (int i = 0; i < 9; i++)
        ck_assert_int_eq(dtb_toolbar_add_panel(tb, &many[i]), DTB_OK);
    ck_assert_int_eq(dtb_toolbar_start(tb, &err), DTB_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.text, "hook8"));
    dtb_toolbar_destroy(tb);
    tb = dtb_toolbar_create_from_string(eight, "t", &err);
    ck_assert_ptr_nonnull(tb);
    for (int i = 0; i < 9; i++)
        ck_assert_int_eq(dtb_toolbar_add_panel(tb, &many[i]), DTB_OK);
    ck_assert_int_eq(dtb_toolbar_start(tb, &err), DTB_OK);
    dtb_toolbar_destroy(tb);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("panel_action");
    TCase *tc = tcase_create("actions");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_sign);
    tcase_add_test(tc, test_http);
    tcase_add_test(tc, test_call_hooks);
    tcase_add_test(tc, test_call_hooks_limit);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
