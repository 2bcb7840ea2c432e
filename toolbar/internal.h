/*
 * internal.h - declarations shared between the library's own files (prefix dtbi_).
 * Nothing here is exported; the linker's export list keeps only dtb_ symbols.
 */
#ifndef DTB_INTERNAL_H
#define DTB_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "debugtoolbar.h"
#include "debugtoolbar/panel.h"

/* ---- errors (error.c) ------------------------------------------------------------------ */

/* Fills err (if not NULL and still DTB_OK) and returns code. key/source may be NULL. */
dtb_rc dtbi_error_set(struct dtb_error *err, dtb_rc code, const char *source, int line, int column,
                      const char *key, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* Logs one line to stderr prefixed "debugtoolbar: ", at most once per distinct `cause`
 * string for the process lifetime (cause is compared by content). */
void dtbi_log_once(const char *cause, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dtbi_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- config (config.c) ----------------------------------------------------------------- */

struct dtbi_cidr {
    int family; /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    unsigned prefix;
};

struct dtbi_config {
    bool enabled;
    struct dtbi_cidr *hosts;
    size_t nhosts;
    struct dtbi_cidr *trusted_proxies; /* peers whose Forwarded/X-Forwarded-For/X-Real-IP count */
    size_t ntrusted_proxies;
    json_t *allowed_hosts; /* array of lower-case names, ".domain" or "*" (Host check) */
    bool intercept_redirects;
    json_t *panels;   /* array of panel ids, or NULL = defaults */
    char *url_prefix; /* no trailing slash, e.g. "/_debug_toolbar" */
    unsigned char secret_key[64];
    size_t secret_key_len;
    bool secret_key_set;
    size_t history_size;
    size_t history_max_bytes;
    size_t record_max_bytes;
    size_t record_max_pairs; /* pairs kept per list (headers, query, cookies, form...) */
    char *store;
    char *store_prefix;        /* Redis key prefix, default "dtb" */
    long long store_ttl;       /* seconds a Redis record lives, default 3600 */
    unsigned store_timeout_ms; /* bound on every Redis call, default 50 */
    char *insert_before;
    json_t *redact;        /* array of normalised patterns (dtbi_redact_normalize) */
    json_t *panel_options; /* object: panel id -> object, or NULL */
    bool bind_set;         /* preload.bind: the address daemons listen on when they name none */
    struct sockaddr_storage bind;
    bool ports_set; /* preload.ports given: only these listening ports get the toolbar */
    size_t nports;
    uint16_t ports[64];
    json_t *app;          /* the app's own settings from the file ("app" key), or NULL */
    char *editor;         /* editor URL template ("vscode://file/{file}:{line}"), or NULL */
    json_t *editor_paths; /* array of {"from", "to"} path mappings, or NULL */
    char *source_root;    /* relative source paths are resolved against it, or NULL */
    json_t *effective;    /* the whole effective config as JSON (secret redacted) */
    char *source;         /* the source name given to dtbi_config_load (copied) */
    char *text;           /* a copy of the config text, or NULL (for dtbi_config_locate) */
};

/* Finds the line/column (1-based) of a dotted key path ("sql.slow_ms") in cfg->text, with the
 * same locator the loader uses for its own errors. Returns 0, or -1 when not found (or the
 * config came from defaults/environment only). Used for errors found after loading, e.g. an
 * unknown panel id. */
int dtbi_config_locate(const struct dtbi_config *cfg, const char *key_path, int *line, int *column);

/* Loads text (source names it for errors), applies DTB_* environment overrides, validates.
 * Returns DTB_OK or an error naming key, line and column. cfg is filled on success and must be
 * released with dtbi_config_free. */
dtb_rc dtbi_config_load(struct dtbi_config *cfg, const char *text, const char *source,
                        struct dtb_error *err);
void dtbi_config_free(struct dtbi_config *cfg);
/* Prints the config schema as the README's Markdown table of keys (key, DTB_* variable, default,
 * meaning), one row per key; tests/unit/config-table.sh holds README.md to it. */
void dtbi_config_table_markdown(FILE *out);
/* Parses "10.0.0.0/8", "::1", "127.0.0.1". Returns 0 or -1. */
int dtbi_cidr_parse(const char *s, struct dtbi_cidr *out);
/* 1 when addr (sockaddr) is inside one of the ranges. */
int dtbi_cidr_match(const struct dtbi_cidr *list, size_t n, const struct sockaddr *addr);

/* ---- injector (inject*.c) ------------------------------------------------------------- */

/*
 * Finds where the toolbar goes in an HTML document: the byte offset of the '<' of the last
 * real </body> end tag, following HTML5's tokenizer for comments, bogus comments (<!...>,
 * <?...>), DOCTYPE, quoted and unquoted attribute values, raw text (script, style, xmp,
 * iframe, noembed, noframes, noscript), RCDATA (textarea, title) and plaintext.
 * Returns len when there is no real </body> (the toolbar is then appended). Can't fail.
 */
size_t dtbi_find_body_end(const char *html, size_t len);

/* Where the toolbar goes in an HTML document, or -1 when the page ends where appended markup
 * would be swallowed, dropped or made foreign: *why then says where ("page ends inside a
 * comment", "page ends inside <select>", ...; a static string). The last real </body> wins
 * (one inside an open <select> or <template> is ignored, as browsers do); without one the
 * toolbar is appended, or goes before an unclosed comment or tag at the end of the body. */
long dtbi_html_insert_point(const char *html, size_t len, const char **why);

/* The same scanner, incremental: a page fed in chunks of any size (one byte included) gives
 * exactly the buffered functions' answers, in time linear in the bytes fed and with no
 * allocation (the two functions above are init + one feed + finish). The state is small and
 * fixed; its fields are private to the inject*.c files. */
struct dtbi_scan {
    size_t pos;               /* bytes fed so far */
    size_t body_end;          /* '<' of the last real </body>, SIZE_MAX before one */
    size_t at;                /* '<' of the construct being read */
    size_t from;              /* start of a comment's (or escaped script's) text */
    const char *foreign_name; /* "svg" or "math" */
    int select, table, tmpl, foreign, svg, hip, seen_body; /* svg: open <svg>s among foreign;
                                                            * hip: in an HTML integration point */
    unsigned char state, sub, match, is_end, raw_end, nlen;
    unsigned char hist[3]; /* the last three bytes fed, hist[2] the latest */
    char name[16];         /* tag name (or raw text element) read, lower case, truncated */
};
/* Starts a page. */
void dtbi_scan_init(struct dtbi_scan *sc);
/* Scans the next n bytes of the page. */
void dtbi_scan_feed(struct dtbi_scan *sc, const char *chunk, size_t n);
/* While streaming: the offset before which bytes can be forwarded, since the insertion point
 * can no longer be before it (the last real </body> so far, or the '<' of a comment or tag still
 * open at the end of the bytes fed so far, else everything fed). */
size_t dtbi_scan_safe(const struct dtbi_scan *sc);
/* The '<' of the last real </body> so far, or the bytes fed when there is none (as
 * dtbi_find_body_end). */
size_t dtbi_scan_body_end(const struct dtbi_scan *sc);
/* The page has ended: as dtbi_html_insert_point for all the bytes fed. */
long dtbi_scan_finish(const struct dtbi_scan *sc, const char **why);

/* Same for an XHTML document, after checking it is well-formed XML with libxml2: offset of the
 * '<' of the body element's end tag; -1 when not well-formed or there is no body element. */
long dtbi_xhtml_body_end(const char *doc, size_t len);

/* libxml2 reports some failures (out of memory) through its thread's generic error handler,
 * which prints: silence it around a parse, then put back what the app had. */
struct dtbi_xml_quiet {
    void (*fn)(void);
    void *ctx;
};
void dtbi_xml_quiet(struct dtbi_xml_quiet *saved);
void dtbi_xml_unquiet(const struct dtbi_xml_quiet *saved);

/* 1 when the body starts like an HTML document (after an optional BOM, whitespace and
 * comments: a doctype or a tag), else 0 (JSON, plain text, binary junk). */
int dtbi_looks_like_html(const char *body, size_t len);

/* ---- embedded assets (generated assets.c) ---------------------------------------------- */

struct dtbi_asset {
    const char *name;         /* "toolbar.js" */
    const char *content_type; /* "text/javascript; charset=utf-8" */
    const unsigned char *data;
    size_t len;
    const char *etag; /* "\"<hex of a content hash>\"" */
};
extern const struct dtbi_asset dtbi_assets[];
extern const size_t dtbi_assets_count;
const struct dtbi_asset *dtbi_asset_find(const char *name, size_t name_len);

/* ---- the toolbar and the request record (toolbar.c, request.c) ------------------------- */

struct dtbi_store;
struct dtbi_spans;

/* One per dtb_start_daemon call: the app's handler and callbacks we chain. */
struct dtbi_daemon_ctx {
    struct dtb_toolbar *tb;
    MHD_AccessHandlerCallback app_handler;
    void *app_handler_cls;
    MHD_RequestCompletedCallback app_completed;
    void *app_completed_cls;
    void *(*app_uri_log)(void *cls, const char *uri, struct MHD_Connection *con);
    void *app_uri_log_cls;
    struct MHD_OptionItem *options;   /* what we pass to MHD, ending in MHD_OPTION_END */
    const struct sockaddr *sock_addr; /* the app's MHD_OPTION_SOCK_ADDR, or NULL */
    struct sockaddr_storage bind_sa;  /* preload.bind with the daemon's port */
    atomic_bool off;                  /* a port preload.ports does not name: pass-through */
    atomic_uint port;                 /* the listening port, once known (0 before) */
    atomic_int listen_state;          /* 0 not looked up yet, 1 listen holds it, 2 unknown */
    char listen[128];                 /* "127.0.0.1:8080", "[::1]:8080", "unix:/path" */
    struct dtbi_daemon_ctx *next;
};

/* At most this many enabled panels may hook the calls into the app's handler (call_enter,
 * call_leave): dtb_toolbar_start refuses more. */
#define DTBI_CALL_HOOKS_MAX 8

struct dtb_toolbar {
    struct dtbi_config cfg;
    bool started;
    bool enabled;                        /* cfg.enabled and started without error */
    const struct dtb_panel_ops **panels; /* registered: built-ins, then added ones */
    size_t npanels;
    size_t panels_cap;
    const struct dtb_panel_ops **enabled_panels; /* after start, in sidebar order */
    void **panel_states;
    size_t nenabled;
    size_t ninstrumented;
    struct dtbi_store *store;
    pthread_mutex_t lock; /* guards app_config and daemons */
    json_t *app_config;   /* merged app settings (unredacted) */
    struct dtbi_daemon_ctx *daemons;
    size_t prefix_len;
    char *script_url;   /* prefix + "/static/toolbar.js?v=" + etag */
    json_t *empty;      /* an empty array, never modified: returned for missing pair lists */
    bool wants_body;    /* an enabled panel has DTB_PANEL_WANTS_BODY */
    bool want_spans;    /* an enabled panel keeps spans (dtb_toolbar_want_spans) */
    size_t body_max;    /* largest body kept for them (dtb_toolbar_want_body), 0 = default */
    size_t ncall_hooks; /* enabled panels with call_enter or call_leave (abi 7) */
    unsigned char call_hooks[DTBI_CALL_HOOKS_MAX]; /* their indexes in enabled_panels */
    pthread_mutex_t pending_lock;
    char pending[64][17]; /* ids injected but not stored yet; "" = free slot */
};

/* The per-request arena: chunks freed together at completion. */
struct dtbi_arena_chunk {
    struct dtbi_arena_chunk *next;
    size_t used;
    size_t size;
    _Alignas(16) unsigned char data[];
};

struct dtbi_owned_json {
    json_t *value;
    struct dtbi_owned_json *next;
};

struct dtb_request {
    struct dtb_toolbar *tb;
    struct dtbi_daemon_ctx *dctx;
    unsigned port; /* the daemon's listening port (0: unknown) */
    char id[17];
    bool active;        /* toolbar on and client allowed */
    bool toolbar_route; /* served by the toolbar itself, not recorded */
    bool handled;       /* the app's handler ran at least once */
    bool degraded;      /* an internal error lost part of the record */
    unsigned calls;
    void *app_req_cls;
    struct dtbi_arena_chunk *arena;
    const char *method;
    const char *url;
    const char *path;
    const char *version;
    char client[64];
    json_t *headers;
    json_t *query;
    json_t *cookies;
    json_t *form;
    json_t *response_headers;
    struct MHD_PostProcessor *pp;
    size_t form_bytes;
    struct dtb_request_times times;
    struct dtb_request_response resp;
    void **panel_req_states;
    struct dtbi_spans *spans; /* when tb->want_spans (spans.c) */
    const char *body_copy;    /* the HTML body (arena), for DTB_PANEL_WANTS_BODY panels */
    size_t body_copy_len;
    char *route_body; /* toolbar route: POST body (bounded) */
    size_t route_body_len;
    struct dtbi_owned_json *owned;       /* references released at destroy (dtb_request_own_json) */
    size_t arena_bytes;                  /* sum of the arena's chunks */
    enum MHD_RequestTerminationCode toe; /* how the request ended */
    size_t pair_bytes;   /* JSON text of the recorded pairs (names, values, punctuation) */
    size_t pair_count;   /* pairs recorded in all lists */
    size_t omitted[5];   /* pairs not recorded, per enum dtbi_pairs (bounds) */
    bool form_skipping;  /* the form field being received is not recorded */
    const char *why_not; /* an HTML page to a navigation not injected: the reason, sent in
                          * X-Debug-Toolbar-Skip (filter.c) */
    const char *daemon;  /* the serving daemon's listening address ("127.0.0.1:8080") */
};

/* TLS current request (request.c). */
struct dtb_request *dtbi_current(void);
void dtbi_set_current(struct dtb_request *rq);

/* Creates the record (malloc'd), active when tb is enabled and the client is allowed.
 * Returns NULL when out of memory. */
struct dtb_request *dtbi_request_create(struct dtbi_daemon_ctx *dctx, struct MHD_Connection *con,
                                        const char *uri);
/* Fills method, url, headers, query, cookies at the first handler call. */
void dtbi_request_begin(struct dtb_request *rq, struct MHD_Connection *con, const char *url,
                        const char *method, const char *version);
/* Completion: panels' on_request_end + to_json, record stored, everything freed. */
void dtbi_request_finish(struct dtb_request *rq, enum MHD_RequestTerminationCode toe);
/* Builds a finished request's record: its summary (new reference) and JSON text (malloc'd).
 * Any thread, once; the request is left for the caller to destroy. Returns 0, or -1 when out
 * of memory (said once in the log). */
int dtbi_request_materialize(struct dtb_request *rq, json_t **summary, char **text);
/* Builds rq's record, puts it into s (saying once in the log when the store refuses it), then
 * destroys rq. */
void dtbi_request_put_built(struct dtbi_store *s, struct dtb_request *rq);
/* Bytes a finished, unbuilt request holds (its arena and captured lists), for store limits. */
size_t dtbi_request_bytes(const struct dtb_request *rq);
void dtbi_request_destroy(struct dtb_request *rq);
/* Feeds consumed upload bytes to the form parser. */
void dtbi_request_upload(struct dtb_request *rq, const char *data, size_t size);

/* ---- the libraries' own functions (real.c) ------------------------------------------------ */

/* The MHD and SQLite functions a preloaded shim may replace, as their libraries define them.
 * Every call the toolbar makes to one of these goes through dtbi_real(). */
struct dtbi_real_api {
    struct MHD_Daemon *(*start_daemon_va)(unsigned int, uint16_t, MHD_AcceptPolicyCallback, void *,
                                          MHD_AccessHandlerCallback, void *, va_list);
    enum MHD_Result (*queue_response)(struct MHD_Connection *, unsigned int, struct MHD_Response *);
    struct MHD_Response *(*from_buffer)(size_t, void *, enum MHD_ResponseMemoryMode);
    struct MHD_Response *(*from_buffer_with_free_callback)(size_t, void *,
                                                           MHD_ContentReaderFreeCallback);
    struct MHD_Response *(*from_buffer_with_free_callback_cls)(size_t, void *,
                                                               MHD_ContentReaderFreeCallback,
                                                               void *);
    struct MHD_Response *(*from_iovec)(const struct MHD_IoVec *, unsigned int,
                                       MHD_ContentReaderFreeCallback, void *);
    struct MHD_Response *(*from_callback)(uint64_t, size_t, MHD_ContentReaderCallback, void *,
                                          MHD_ContentReaderFreeCallback);
    struct MHD_Response *(*from_pipe)(int);
    void (*destroy_response)(struct MHD_Response *);
    enum MHD_Result (*set_response_options)(struct MHD_Response *, enum MHD_ResponseFlags, ...);
    int (*sqlite3_open_v2)(const char *, sqlite3 **, int, const char *);
    int (*sqlite3_close)(sqlite3 *);
};
const struct dtbi_real_api *dtbi_real(void);
/* For the dtb-run shim (libdebugtoolbar-preload.so, toolbar/preload.c): 1 while this thread is
 * inside a libmicrohttpd or SQLite function the toolbar itself called, so that the shim passes
 * calls the library makes to itself straight through. Exported for the shim only: declared
 * here, not in the app's headers (check-exports.sh knows it). */
DTB_EXPORT int dtb_preload_passthrough(void);

/* ---- response bodies (respmap.c) ------------------------------------------------------- */

/* Count of started, enabled toolbars in the process (fast path check). */
extern atomic_int dtbi_active_toolbars;
/* Takes a hold on the body of a response built by a dtb_ buffer constructor: returns the hold
 * and fills data/size/flags (flags as set through dtb_response_set_flags, MHD_RF_NONE when
 * none), or NULL when the response is not one of those. The bytes stay valid until the hold is
 * released, even after the app's response is destroyed: a response the toolbar queues in its
 * place can send them without a copy. */
void *dtbi_respmap_hold(struct MHD_Response *r, const void **data, size_t *size,
                        enum MHD_ResponseFlags *flags);
/* Releases a hold (NULL is a no-op); the last one, after the app's response is gone, frees. */
void dtbi_respmap_release(void *hold);
/* A streamed body: the reader to call (with cls) for the app's bytes from position 0, its total
 * size (MHD_SIZE_UNKNOWN when it is not known) and MHD block size. */
struct dtbi_stream_src {
    MHD_ContentReaderCallback reader;
    void *cls;
    uint64_t size;
    size_t block;
};
/* Takes a hold on a stream response (a content-reader callback, a pipe or a file descriptor
 * built by a dtb_ constructor): returns the hold and fills src and flags, or NULL. The reader
 * and its closure stay valid until the hold is released. */
void *dtbi_respmap_hold_stream(struct MHD_Response *r, struct dtbi_stream_src *src,
                               enum MHD_ResponseFlags *flags);
/* The toolbar's copy of a streamed HTML page (stream.c): the app's bytes through src, the markup
 * (mlen bytes) put in as the page streams by, decided by the incremental scanner; check_start:
 * the page must start like an HTML document (not a browser navigation). Takes the hold on
 * success; on failure (NULL) the caller keeps it. The record's injected and skip_reason are set
 * when the stream ends. */
struct MHD_Response *dtbi_stream_response(struct dtb_request *rq, void *hold,
                                          const struct dtbi_stream_src *src, const char *markup,
                                          size_t mlen, int check_start);
/* Looks up a file-descriptor response built by dtb_response_from_fd*: 1 and its fd (the
 * response's: never closed or moved by the caller), offset, size and flags; else 0. */
int dtbi_respmap_lookup_fd(struct MHD_Response *r, int *fd, uint64_t *offset, uint64_t *size,
                           enum MHD_ResponseFlags *flags);

/* ---- middleware (middleware.c, mhdopts.c) ---------------------------------------------- */

/* Converts the app's va_list options into an MHD_OptionItem array (nested arrays flattened),
 * taking out NOTIFY_COMPLETED and URI_LOG_CALLBACK into dctx and appending ours.
 * Returns 0, or -1 on an unknown option or out of memory. */
int dtbi_mhd_options_build(struct dtbi_daemon_ctx *dctx, va_list ap);

/* ---- the toolbar's own URLs (routes.c) ------------------------------------------------- */

/* 1 when url is under the toolbar prefix. */
int dtbi_is_toolbar_url(const struct dtb_toolbar *tb, const char *url);
/* Serves a toolbar URL. Returns what MHD_queue_response returned, or MHD_NO on failure. */
enum MHD_Result dtbi_routes_serve(struct dtb_request *rq, struct MHD_Connection *con,
                                  const char *url, const char *method);

/* Sends value (stolen) as a JSON response. Returns what MHD_queue_response returned. */
enum MHD_Result dtbi_send_json(struct MHD_Connection *con, unsigned status, json_t *value);

/* Collects a POST body for a toolbar URL (bounded). */
void dtbi_routes_upload(struct dtb_request *rq, const char *data, size_t size);

/* ---- the toolbar's own page (page.c) ------------------------------------------------- */

/* Serves url_prefix itself: "<prefix>/" is the page's HTML shell (it loads page.js and the
 * stylesheets by URL, sent with a strict Content-Security-Policy); "<prefix>" redirects there.
 * path is what follows the prefix, plen its length up to any query. */
enum MHD_Result dtbi_page_serve(struct dtb_toolbar *tb, struct MHD_Connection *con,
                                const char *path, size_t plen);
/* Serves one stored record as a download (Content-Disposition: attachment). */
enum MHD_Result dtbi_page_export(struct dtb_toolbar *tb, struct MHD_Connection *con,
                                 const char *id);
/* The editor settings the UI builds file:line links with: {"template", "paths",
 * "source_root"} (new reference), or NULL when `editor` is not configured. */
json_t *dtbi_page_editor_json(const struct dtb_toolbar *tb);
/* Adds the daemon's port to a request's summary (what the panels add for the history list's
 * filters comes from their summary hooks). */
void dtbi_page_summary_flags(const struct dtb_request *rq, const json_t *panels, json_t *summary);
/* Serves one panel's comparison of two stored records (its compare_html) as an HTML fragment;
 * a and b are request ids (checked by the caller), panel_id a panel id. 404 with a JSON error
 * for an unknown panel, one without a compare view, or a record no longer stored. */
enum MHD_Result dtbi_page_compare(struct dtb_toolbar *tb, struct MHD_Connection *con, const char *a,
                                  const char *b, const char *panel_id);
/* 1 when the panel has a compare view: compare_html set, in a table that has that member
 * (abi 2 and later; an abi 1 table ends before it and must not be read there). */
static inline int dtbi_panel_has_compare(const struct dtb_panel_ops *p)
{
    return p->abi >= 2 && p->compare_html != NULL;
}

static inline int dtbi_panel_has_marks(const struct dtb_panel_ops *p)
{
    return p->abi >= 2 && p->summary_marks != NULL;
}

/* 1 when the panel adds summary fields: summary set, in a table of abi 4 or later. */
static inline int dtbi_panel_has_summary(const struct dtb_panel_ops *p)
{
    return p->abi >= 4 && p->summary != NULL;
}

/* The panel's script (an embedded asset's name), in a table of abi 5 or later; else NULL. */
static inline const char *dtbi_panel_script(const struct dtb_panel_ops *p)
{
    return p->abi >= 5 ? p->script : NULL;
}

/* The JavaScript text of an app panel's own script (script_source, abi 6 or later), or NULL. */
static inline const char *dtbi_panel_script_source(const struct dtb_panel_ops *p)
{
    return p->abi >= 6 ? p->script_source : NULL;
}

/* The panel's stylesheet (an embedded asset's name) and an app panel's own stylesheet text
 * (abi 7 or later); else NULL. */
static inline const char *dtbi_panel_style(const struct dtb_panel_ops *p)
{
    return p->abi >= 7 ? p->style : NULL;
}
static inline const char *dtbi_panel_style_source(const struct dtb_panel_ops *p)
{
    return p->abi >= 7 ? p->style_source : NULL;
}

/* 1 when the panel hooks the calls into the app's handler (call_enter or call_leave, abi 7). */
static inline int dtbi_panel_has_call_hooks(const struct dtb_panel_ops *p)
{
    return p->abi >= 7 && (p->call_enter != NULL || p->call_leave != NULL);
}

/* 1 when the panel takes actions: handle_action set, in a table of abi 3 or later. */
static inline int dtbi_panel_has_action(const struct dtb_panel_ops *p)
{
    return p->abi >= 3 && p->handle_action != NULL;
}

/* ---- who gets the toolbar (gate.c) ------------------------------------------------------- */

/* At the first handler call of a request whose socket peer passed (request.c): 1 when the
 * toolbar is for it. The client is the peer, or behind a peer in trusted_proxies the one its
 * Forwarded / X-Forwarded-For / X-Real-IP headers name (then copied into rq->client); it must
 * be in hosts. The Host must pass dtbi_host_allowed. Refusals are said once in the log. */
int dtbi_gate_request(struct dtb_request *rq, struct MHD_Connection *con, const char *version);
/* 1 when a toolbar URL asked with a method other than GET/HEAD may act: a JSON Content-Type,
 * Origin absent or the Host's, Sec-Fetch-Site absent or same-origin. */
int dtbi_gate_action(struct MHD_Connection *con);
/* 1 when host (a Host header's value, NULL when absent) is an IP literal (v4, or v6 in
 * brackets), localhost or *.localhost, or matches allowed_hosts ("name", ".domain" for the
 * domain and its subdomains, "*"); any port. No Host passes only for HTTP/1.0 (http10). */
int dtbi_host_allowed(const struct dtbi_config *cfg, const char *host, int http10);
/* 1 when origin is NULL, or "http(s)://" followed by exactly host (case-insensitive). */
int dtbi_origin_same(const char *origin, const char *host);
/* 1 when ct is application/json, optionally with parameters. */
int dtbi_content_type_json(const char *ct);
enum dtbi_fwd_kind { DTBI_FWD_FORWARDED, DTBI_FWD_X_FORWARDED_FOR, DTBI_FWD_REAL_IP };
/* The client a proxy header's value names: the rightmost address that is not in
 * trusted_proxies (the leftmost when all are); Forwarded's for= parameters; X-Real-IP must hold
 * one address. Returns 0 with *out filled, or -1 (an unknown or malformed address on the way). */
int dtbi_forwarded_client(const struct dtbi_config *cfg, enum dtbi_fwd_kind kind, const char *value,
                          struct sockaddr_storage *out);

/* ---- signing (sign.c) ------------------------------------------------------------------- */

/* dtb_sign and dtb_verify (signatures that bind content) are public: debugtoolbar/panel.h. */

/* Requests whose page carries the toolbar but whose record is not stored yet (it is stored
 * at completion, after the last byte is sent): the UI is told "pending" (202) instead of
 * "unknown" (404) for them. A small fixed set; when full, ids are simply not tracked. */
void dtbi_pending_add(struct dtb_toolbar *tb, const char *id);
void dtbi_pending_remove(struct dtb_toolbar *tb, const char *id);
int dtbi_pending_has(struct dtb_toolbar *tb, const char *id);

/* ---- content codings and sniffing (codec.c) ---------------------------------------------- */

enum dtbi_coding {
    DTBI_CODING_IDENTITY,
    DTBI_CODING_GZIP,
    DTBI_CODING_DEFLATE,
    DTBI_CODING_BR,
    DTBI_CODING_ZSTD,
    DTBI_CODING_UNKNOWN
};
/* The coding a Content-Encoding value names (case and whitespace ignored; NULL or "identity":
 * DTBI_CODING_IDENTITY); several stacked codings or an unknown one: DTBI_CODING_UNKNOWN. */
enum dtbi_coding dtbi_coding_parse(const char *content_encoding);
/* "gzip", "br", ... */
const char *dtbi_coding_name(enum dtbi_coding c);
/* 1 when the library for c was found at configure time. */
int dtbi_coding_available(enum dtbi_coding c);
/* 1 when an Accept-Encoding value (NULL: header absent) leaves identity acceptable: RFC 9110
 * 12.5.3, identity is refused only by "identity;q=0", or by "*;q=0" with no identity entry. */
int dtbi_accepts_identity(const char *accept_encoding);
/* Decodes in into *out (malloc'd) of at most cap bytes. Returns 0; -1 when the data is not a
 * complete, valid stream of that coding; -2 when the decoded size passes cap (decoding stops
 * there); -3 out of memory; -4 coding not available. */
int dtbi_decode(enum dtbi_coding c, const void *in, size_t len, size_t cap, char **out,
                size_t *out_len);
/* Encodes in at a fast level into *out (malloc'd). Returns 0, -3 on failure, -4 not available. */
int dtbi_encode(enum dtbi_coding c, const void *in, size_t len, char **out, size_t *out_len);
/* 1 when body matches the WHATWG MIME-sniffing HTML patterns (a resource with no type). */
int dtbi_sniffs_as_html(const char *body, size_t len);

/* ---- filter (filter.c) ----------------------------------------------------------------- */

enum MHD_Result dtbi_filter_queue(struct dtb_request *rq, struct MHD_Connection *con,
                                  unsigned status, struct MHD_Response *response);

/* ---- the heap ledger's table (memscope.c, debugtoolbar/malloc.h) ------------------------ */

/* Looks up libdebugtoolbar-malloc.so's table once (at a toolbar's start): from then on
 * dtb_toolbar_scope_enter/leave and dtbi_mem_handover reach it. Without it they do nothing. */
void dtbi_memscope_init(void);
/* p, a malloc block the app hands to libmicrohttpd as a response body (MUST_FREE): the
 * request's heap ledger no longer lists it as left live (nothing without the ledger). */
void dtbi_mem_handover(void *p);

/* Builds the request's JSON record and summary (toolbar.c). */
const struct dtb_panel_ops *dtbi_panel_find(const struct dtb_toolbar *tb, const char *id);

/* ---- bounded recording and redaction (request.c, redact.c, buf.c) ---------------------- */

/* The lists of [name, value] pairs a request records (dtb_request_pairs kinds). */
enum dtbi_pairs {
    DTBI_PAIRS_HEADERS,
    DTBI_PAIRS_QUERY,
    DTBI_PAIRS_COOKIES,
    DTBI_PAIRS_FORM,
    DTBI_PAIRS_RESPONSE_HEADERS,
};

/* Records [name, value] (any bytes: invalid UTF-8 becomes U+FFFD) into rq's list of that kind,
 * while the list holds fewer than record_max_pairs and the pairs' JSON fits in their share of
 * record_max_bytes; otherwise it is counted as not recorded. Returns the pair (borrowed), or
 * NULL when it was not recorded. */
json_t *dtbi_record_pair(struct dtb_request *rq, enum dtbi_pairs kind, const char *name,
                         size_t name_len, const char *value, size_t value_len);

/* A JSON string of n bytes (NULs included) where each invalid UTF-8 byte became U+FFFD.
 * NULL only when out of memory. */
json_t *dtbi_json_textn(const char *s, size_t n);

/* Writes name in normalised form (ASCII lower case, '-', '_' and '.' removed) to out, which
 * holds n + 1 bytes; returns the normalised length. */
size_t dtbi_redact_normalize(const char *name, size_t n, char *out);
/* 1 when name (n bytes) matches one of patterns (normalised strings): a pattern of up to
 * DTBI_REDACT_SHORT characters must equal a whole segment of the name (split at - _ . and
 * other punctuation, lower-to-upper case changes and letter/digit changes: "X-API-Key",
 * "apiKey", "key2" have the segment "key", "monkey" has not); a longer one may appear anywhere
 * in the normalised name. No length limit. */
#define DTBI_REDACT_SHORT 4
int dtbi_redact_match(const json_t *patterns, const char *name, size_t n);

#endif /* DTB_INTERNAL_H */
