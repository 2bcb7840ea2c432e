/*
 * hits.c - a third-party panel, built only against the installed headers, and the small MHD
 * app that adds it. The "Hits" panel counts how often this process has served each path and
 * uses every hook a panel has beyond recording and rendering:
 *
 *   settings   panel_options.hits.warn_after (how many hits of one path earn a warning mark,
 *              1..1000000, default 3) and panel_options.hits.label (the panel's subtitle word,
 *              default "hits"), checked in init: a bad one stops the toolbar with the key, line
 *              and column (dtb_panel_config_error);
 *   summary    the request's line in History gets the field "hits" (summary);
 *   marks      a path served warn_after times or more is marked in History (summary_marks);
 *   action     POST <url_prefix>/panels/hits/reset with {"path": ..., "sig": ...} sets the
 *              path's count back to zero (handle_action); the signature, made by dtb_sign when
 *              the request was recorded, proves the path came from a record of this toolbar;
 *   script     the panel's button that asks for that action (script_source, served as
 *              <url_prefix>/static/panel-hits.js and loaded when the panel first opens);
 *   style      its look (style_source, served as <url_prefix>/static/panel-hits.css and added
 *              inside the toolbar's Shadow DOM when the panel first opens).
 *
 * Build after `make install`:
 *     cc hits.c $(pkg-config --cflags --libs debugtoolbar) -o hits
 * Run:  DTB_ENABLED=1 ./hits 8082     then open http://127.0.0.1:8082/
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <debugtoolbar.h>
#include <debugtoolbar/mhd.h>
#include <debugtoolbar/panel.h>
#include <jansson.h>
#include <microhttpd.h>

#define MAX_PATHS 64

struct hits_state {
    struct dtb_toolbar *tb;
    json_int_t warn_after;
    char label[32];
    pthread_mutex_t lock;
    struct {
        char path[128];
        json_int_t count;
    } paths[MAX_PATHS];
    int npaths;
};

/* The path's count, raised by one (add) or not; -1 when the table is full. */
static json_int_t count_of(struct hits_state *st, const char *path, int add)
{
    json_int_t n = -1;
    pthread_mutex_lock(&st->lock);
    int i;
    for (i = 0; i < st->npaths && strcmp(st->paths[i].path, path) != 0; i++)
        ;
    if (i == st->npaths && add && st->npaths < MAX_PATHS && strlen(path) < 128) {
        snprintf(st->paths[i].path, sizeof(st->paths[i].path), "%s", path);
        st->paths[i].count = 0;
        st->npaths++;
    }
    if (i < st->npaths) {
        if (add)
            st->paths[i].count++;
        n = st->paths[i].count;
    }
    pthread_mutex_unlock(&st->lock);
    return n;
}

static int hits_init(void **state, struct dtb_toolbar *tb, const json_t *conf,
                     struct dtb_error *err)
{
    json_t *v;
    const char *key;
    json_object_foreach((json_t *)conf, key, v)
    {
        if (strcmp(key, "warn_after") != 0 && strcmp(key, "label") != 0)
            return dtb_panel_config_error(tb, err, "hits", key,
                                          "unknown setting (known: warn_after, label)");
    }
    v = json_object_get(conf, "warn_after");
    if (v != NULL &&
        (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 1000000))
        return dtb_panel_config_error(tb, err, "hits", "warn_after",
                                      "must be an integer from 1 to 1000000");
    json_t *label = json_object_get(conf, "label");
    if (label != NULL && (!json_is_string(label) || json_string_length(label) == 0 ||
                          json_string_length(label) >= 32))
        return dtb_panel_config_error(tb, err, "hits", "label",
                                      "must be a string of 1 to 31 bytes");
    struct hits_state *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return dtb_panel_config_error(tb, err, "hits", NULL, "out of memory");
    st->tb = tb;
    st->warn_after = v != NULL ? json_integer_value(v) : 3;
    snprintf(st->label, sizeof(st->label), "%s", label ? json_string_value(label) : "hits");
    pthread_mutex_init(&st->lock, NULL);
    *state = st;
    return 0;
}

static void hits_cleanup(void *state)
{
    struct hits_state *st = state;
    pthread_mutex_destroy(&st->lock);
    free(st);
}

/* Per request: the path's count once the request has been served. */
struct hits_req {
    json_int_t count;
};

static void *hits_start(void *state, struct dtb_request *rq)
{
    (void)state;
    return dtb_request_alloc(rq, sizeof(struct hits_req));
}

static void hits_end(void *state, struct dtb_request *rq, void *req_state)
{
    struct hits_req *hr = req_state;
    if (hr != NULL)
        hr->count = count_of(state, dtb_request_path(rq), 1);
}

/* The path, its count, the warning threshold and the path's signature for the reset action:
 * everything the panel shows later comes from this JSON alone. */
static json_t *hits_to_json(void *state, struct dtb_request *rq, void *req_state)
{
    struct hits_state *st = state;
    struct hits_req *hr = req_state;
    const char *path = dtb_request_path(rq);
    char sig[65];
    if (hr == NULL)
        return NULL;
    struct dtb_sign_part part = {path, strlen(path)};
    dtb_sign(st->tb, "hits:reset", &part, 1, sig);
    return json_pack("{s:o,s:I,s:I,s:s,s:s}", "path", dtb_json_text(path), "count", hr->count,
                     "warn_after", st->warn_after, "label", st->label, "sig", sig);
}

static int hits_subtitle(const json_t *stats, struct dtb_buf *out)
{
    return dtb_buf_appendf(out, "%" JSON_INTEGER_FORMAT " %s",
                           json_integer_value(json_object_get(stats, "count")),
                           json_string_value(json_object_get(stats, "label")));
}

/* Every recorded string through dtb_buf_append_html: the path is the client's. */
static int hits_render(const json_t *stats, struct dtb_buf *out)
{
    const char *path = json_string_value(json_object_get(stats, "path"));
    dtb_buf_append_str(out, "<p>This process has served <code>");
    dtb_buf_append_html_str(out, path);
    dtb_buf_appendf(out, "</code> %" JSON_INTEGER_FORMAT " times.</p>",
                    json_integer_value(json_object_get(stats, "count")));
    dtb_buf_append_str(out, "<p><button type=\"button\" class=\"hits-reset\" data-path=\"");
    dtb_buf_append_html_str(out, path);
    dtb_buf_append_str(out, "\" data-sig=\"");
    dtb_buf_append_html_str(out, json_string_value(json_object_get(stats, "sig")));
    dtb_buf_append_str(out, "\">Reset the count</button> <output class=\"hits-out\"></output></p>");
    return out->failed ? -1 : 0;
}

/* The panel's script: the reset button posts the path and its signature to the action. It
 * sets text only (textContent), never HTML. */
static const char HITS_CSS[] = ".hits-reset { font-weight: bold; }\n"
                               ".hits-out { margin-left: 6px; color: var(--muted, #666); }\n";

static const char HITS_JS[] =
    "window.debugToolbarModules = window.debugToolbarModules || {};\n"
    "window.debugToolbarModules[\"panel-hits.js\"] = function (node, host) {\n"
    "  var b = node.querySelector(\".hits-reset\"), out = node.querySelector(\".hits-out\");\n"
    "  if (!b || b.dataset.wired) { return; }\n"
    "  b.dataset.wired = \"1\";\n"
    "  b.addEventListener(\"click\", function () {\n"
    "    fetch(host.prefix + \"/panels/hits/reset\", {\n"
    "      method: \"POST\", credentials: \"same-origin\",\n"
    "      headers: { \"Content-Type\": \"application/json\" },\n"
    "      body: JSON.stringify({ path: b.dataset.path, sig: b.dataset.sig })\n"
    "    }).then(function (r) { return r.json(); }).then(function (j) {\n"
    "      out.textContent = j.error ? j.error : \"reset (it was \" + j.before + \")\";\n"
    "    });\n"
    "  });\n"
    "};\n";

static int hits_summary(const json_t *stats, json_t *fields)
{
    return json_object_set(fields, "hits", json_object_get(stats, "count"));
}

static int hits_marks(const json_t *stats, json_t *marks)
{
    json_int_t n = json_integer_value(json_object_get(stats, "count"));
    if (n < json_integer_value(json_object_get(stats, "warn_after")))
        return 0;
    return json_array_append_new(marks, json_pack("{s:s,s:s,s:s}", "text", "hot", "title",
                                                  "This path was served often by this process.",
                                                  "level", "warn"));
}

/* POST <url_prefix>/panels/hits/reset {"path": p, "sig": s}: the core has checked the client,
 * the origin and the JSON; the signature says p came from one of this toolbar's records. */
static unsigned hits_action(void *state, struct dtb_toolbar *tb, const char *action,
                            const json_t *body, json_t **answer)
{
    struct hits_state *st = state;
    const char *path = json_string_value(json_object_get(body, "path"));
    const char *sig = json_string_value(json_object_get(body, "sig"));
    if (strcmp(action, "reset") != 0) {
        *answer = json_pack("{s:s}", "error", "no such action");
        return 404;
    }
    struct dtb_sign_part part = {path, path != NULL ? strlen(path) : 0};
    if (path == NULL || !dtb_verify(tb, "hits:reset", &part, 1, sig)) {
        *answer = json_pack("{s:s}", "error", "bad signature");
        return 403;
    }
    json_int_t before = count_of(st, path, 0);
    pthread_mutex_lock(&st->lock);
    for (int i = 0; i < st->npaths; i++)
        if (strcmp(st->paths[i].path, path) == 0)
            st->paths[i].count = 0;
    pthread_mutex_unlock(&st->lock);
    *answer = json_pack("{s:s,s:I}", "path", path, "before", before);
    return 200;
}

static const struct dtb_panel_ops hits_panel = {
    .abi = DTB_PANEL_ABI,
    .id = "hits",
    .title = "Hits",
    .default_on = 1,
    .init = hits_init,
    .cleanup = hits_cleanup,
    .on_request_start = hits_start,
    .on_request_end = hits_end,
    .to_json = hits_to_json,
    .nav_subtitle = hits_subtitle,
    .render_html = hits_render,
    .summary_marks = hits_marks,
    .handle_action = hits_action,
    .summary = hits_summary,
    .script_source = HITS_JS,
    .style_source = HITS_CSS,
};

static const char PAGE[] = "<!DOCTYPE html><html><head><title>Hits</title></head>"
                           "<body><h1>A page with a panel of its own</h1></body></html>";

static enum MHD_Result handler(void *cls, struct MHD_Connection *con, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **req_cls)
{
    (void)cls, (void)url, (void)method, (void)version, (void)upload, (void)upload_size;
    (void)req_cls;
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(PAGE), (void *)PAGE, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Content-Type", "text/html; charset=utf-8");
    enum MHD_Result ret = MHD_queue_response(con, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

int main(int argc, char **argv)
{
    unsigned port = argc > 1 ? (unsigned)atoi(argv[1]) : 8082;
    struct dtb_error err = {0};
    char msg[300];
    sigset_t set;
    int sig;

    struct dtb_toolbar *tb = dtb_toolbar_create(NULL, &err);
    if (tb == NULL || dtb_toolbar_add_panel(tb, &hits_panel) != DTB_OK ||
        dtb_toolbar_start(tb, &err) != DTB_OK) {
        fprintf(stderr, "hits: %s\n", dtb_error_format(&err, msg, sizeof(msg)));
        return 1;
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d =
        dtb_start_daemon(tb, MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t)port, NULL, NULL, handler,
                         NULL, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "hits: cannot listen on 127.0.0.1:%u\n", port);
        return 1;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    printf("hits: serving on http://127.0.0.1:%u/\n", (unsigned)di->port);
    fflush(stdout);
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    dtb_toolbar_destroy(tb);
    return 0;
}
