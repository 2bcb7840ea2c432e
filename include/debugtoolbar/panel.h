/*
 * debugtoolbar/panel.h - the panel interface and the helpers panels use.
 *
 * A panel is a const table of callbacks (struct dtb_panel_ops). Built-in panels live under
 * panels/ and are listed in panels/builtin.c; an app can add its own with dtb_toolbar_add_panel()
 * before dtb_toolbar_start(). The core never knows what a panel records.
 *
 * Lifecycle of one request, for every enabled panel:
 *   on_request_start   when the record is created (first call of the handler)
 *   ...the app runs; instrumentation records into the panel's req_state...
 *   on_request_end     at MHD's completion, after the response was sent
 *   to_json            the panel's stats: stored with the request in the history store
 *   nav_subtitle / render_html  later, from the stored JSON only, in any process
 *   compare_html                two requests' stored JSON side by side (the toolbar's page)
 *   handle_action               a POST from the panel's UI (<url_prefix>/panels/<id>/<action>)
 *   summary                     named fields for the request's line in History
 *
 * Rule: render_html, nav_subtitle and compare_html see only the stored JSON, so the memory
 * store, the Redis store and history share one path.
 *
 * The table grows at its end only. Its `abi` says which members it has: a table built with
 * DTB_PANEL_ABI 1 (before compare_html) is still accepted and its panel has no compare view;
 * the core never reads a member that the table's abi does not have.
 */
#ifndef DEBUGTOOLBAR_PANEL_H
#define DEBUGTOOLBAR_PANEL_H

#include <debugtoolbar.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- growable byte buffer ------------------------------------------------------------- */

/*
 * A growable, always NUL-terminated byte buffer. Zero-initialise or dtb_buf_init(); free with
 * dtb_buf_free(). On allocation failure the buffer sets `failed` and ignores further appends,
 * so a sequence of appends needs one check at the end:
 *
 *     struct dtb_buf b; dtb_buf_init(&b);
 *     dtb_buf_append_str(&b, "<td>"); dtb_buf_append_html(&b, sql, strlen(sql));
 *     if (b.failed) ...
 */
struct dtb_buf {
    char *data; /* NUL-terminated when len > 0 or after any append */
    size_t len;
    size_t cap;
    int failed;
    /* zero (dtb_buf_init or zero-initialisation): room for the library to keep more state
     * later without changing the struct's size, which callers' stack frames hold */
    void *reserved[2];
};

DTB_EXPORT void dtb_buf_init(struct dtb_buf *b);
DTB_EXPORT void dtb_buf_free(struct dtb_buf *b);
DTB_EXPORT void dtb_buf_reset(struct dtb_buf *b); /* len = 0, keeps memory */
/* Each returns 0 on success, -1 when out of memory (and b->failed is set). */
DTB_EXPORT int dtb_buf_reserve(struct dtb_buf *b, size_t extra);
DTB_EXPORT int dtb_buf_append(struct dtb_buf *b, const void *data, size_t n);
DTB_EXPORT int dtb_buf_append_str(struct dtb_buf *b, const char *s);
DTB_EXPORT int dtb_buf_appendf(struct dtb_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends s HTML-escaped (& < > " ' escaped); invalid UTF-8 bytes become U+FFFD. */
DTB_EXPORT int dtb_buf_append_html(struct dtb_buf *b, const char *s, size_t n);
DTB_EXPORT int dtb_buf_append_html_str(struct dtb_buf *b, const char *s);
/* A JSON string of s (any bytes): invalid UTF-8 bytes become U+FFFD, so text from the app or
 * the network can always be stored. NULL s gives JSON null; NULL only when out of memory. */
DTB_EXPORT json_t *dtb_json_text(const char *s);
/* Takes ownership of the bytes: returns data (caller frees) and resets b. NULL if failed. */
DTB_EXPORT char *dtb_buf_steal(struct dtb_buf *b);

/* ---- panels --------------------------------------------------------------------------- */

#define DTB_PANEL_ABI 7     /* this header's table: every member below */
#define DTB_PANEL_ABI_MIN 1 /* the oldest table still accepted (no compare_html) */

/* The panel needs the HTML body as the app built it (dtb_request_body), e.g. to check it. */
#define DTB_PANEL_WANTS_BODY 0x1u

struct dtb_panel_ops {
    unsigned abi;      /* DTB_PANEL_ABI; dtb_toolbar_add_panel() refuses one outside
                          DTB_PANEL_ABI_MIN..DTB_PANEL_ABI */
    const char *id;    /* "sql": stable; used in URLs, JSON keys, config */
    const char *title; /* shown as the panel's heading and in the sidebar */
    int default_on;    /* enabled when the config does not list panels */
    unsigned flags;    /* DTB_PANEL_* below */

    /* Every callback is optional (NULL = nothing to do) unless marked MANDATORY. */

    /* At dtb_toolbar_start. conf is the config's "panel_options.<id>" object or NULL.
     * Return 0, or -1 with err filled (the toolbar then refuses to start). */
    int (*init)(void **panel_state, struct dtb_toolbar *tb, const json_t *conf,
                struct dtb_error *err);
    void (*cleanup)(void *panel_state);
    /* Process-wide hooks; idempotent. Called after init, removed in reverse panel order. */
    int (*enable_instrumentation)(void *panel_state);
    void (*disable_instrumentation)(void *panel_state);

    /* Per-request state, allocated from the request's arena (dtb_request_alloc); may be NULL. */
    void *(*on_request_start)(void *panel_state, struct dtb_request *rq);
    /* At completion: the response is sent; compute what the panel shows. */
    void (*on_request_end)(void *panel_state, struct dtb_request *rq, void *req_state);
    /* MANDATORY. The panel's stats as a new JSON reference (NULL = nothing to store). */
    json_t *(*to_json)(void *panel_state, struct dtb_request *rq, void *req_state);
    /* A short line under the panel's name ("11 queries in 3.2 ms"), from the stored JSON.
     * Plain text, not HTML: the UI sets it with textContent. */
    int (*nav_subtitle)(const json_t *stats, struct dtb_buf *out);
    /* The panel's content as an HTML fragment, from the stored JSON only; every recorded
     * string goes through dtb_buf_append_html. Return 0, or -1 (the UI shows an error). */
    int (*render_html)(const json_t *stats, struct dtb_buf *out);
    /* Server-Timing metrics for the live request, at queue time ("sql;dur=2.1;desc=...").
     * Append comma-separated metrics, no leading comma. */
    int (*server_timing)(void *panel_state, struct dtb_request *rq, void *req_state,
                         struct dtb_buf *out);

    /* ---- since DTB_PANEL_ABI 2 (new members go below, never above) ---- */

    /* Two requests compared, for the toolbar's page: an HTML fragment from the two stored
     * stats of this panel, a from the earlier request and b from the later one ("added" means
     * added by b). Either may be NULL: the panel recorded nothing for that request. Same rules
     * as render_html: the stored JSON only, every recorded string through
     * dtb_buf_append_html. Return 0, or -1 (the page shows a plain text diff of the JSON
     * instead). Without it the page shows that text diff. Served at
     * <url_prefix>/api/compare/<a>/<b>/panels/<id>. */
    int (*compare_html)(const json_t *a, const json_t *b, struct dtb_buf *out);
    /* Marks for the request's line in History and on the toolbar's page, from the stored stats
     * when the record is built: append to marks (a JSON array) objects {"text": a short label,
     * "title": one sentence that explains it, "level": "info", "warn" or "error"}. The core
     * adds "panel" (the panel's id) to each and stores them in the request's summary as
     * "marks". Return 0, or -1 (what was appended is kept). */
    int (*summary_marks)(const json_t *stats, json_t *marks);

    /* ---- since DTB_PANEL_ABI 3 ---- */

    /* An action asked for by the panel's UI: a POST to <url_prefix>/panels/<id>/<action>. The
     * core has made every check before the call: the client is allowed (hosts, Host), the
     * request is a same-origin JSON POST (Content-Type, Origin, Sec-Fetch-Site), the body is at
     * most 64 KiB and is a JSON object (body, borrowed for the call), and action is 1 to 31 of
     * [a-z0-9_-]. Set *answer to a new JSON reference, the response's body ({"error": "..."}
     * for a refusal), and return the HTTP status (a NULL *answer is sent as a 500). Any
     * thread; the panel state is shared. Data an action acts on comes from a record, which a
     * shared store lets others write: sign it when recording (dtb_sign, in to_json) and have
     * the UI send the signature back (dtb_verify). Without it the URL answers 404. */
    unsigned (*handle_action)(void *panel_state, struct dtb_toolbar *tb, const char *action,
                              const json_t *body, json_t **answer);

    /* ---- since DTB_PANEL_ABI 4 ---- */

    /* Named fields for the request's line in History (GET <url_prefix>/api/requests), from the
     * stored stats when the record is built: set members of fields (a JSON object), such as
     * {"queries": 11}. The core copies them into the request's summary beside its own (id,
     * method, path, status, time_ms, ...), which a panel cannot replace; when two panels set
     * one name, the first in panel order keeps it. Every summary carries them: keep them few
     * and small (numbers, short strings). Return 0, or -1 (what was set is kept). */
    int (*summary)(const json_t *stats, json_t *fields);

    /* ---- since DTB_PANEL_ABI 5 ---- */

    /* The panel's own script: the name of one of the toolbar's embedded assets ("sql.js",
     * served at <url_prefix>/static/<name>; [a-z0-9-]+.js), or NULL. The UI loads it when the
     * panel first opens, with the page's CSP nonce, and after each fragment of the panel is
     * shown calls window.debugToolbarModules[<name>](node, host): node holds the fragment (and
     * may be kept across fragments), host.prefix is url_prefix, host.requestId() the shown
     * request's id, host.linkSources(node) makes file:line editor links. Listed in the
     * record's "nav" as "script". */
    const char *script;

    /* ---- since DTB_PANEL_ABI 6 ---- */

    /* The script of a panel outside the library (an app's own): its JavaScript text (borrowed,
     * must outlive the toolbar), served at <url_prefix>/static/panel-<id>.js and loaded as
     * `script` is (the id must then be [a-z0-9-]+). It registers
     * window.debugToolbarModules["panel-<id>.js"] = function (node, host) {...}. It runs in the
     * page under the toolbar's CSP nonce, so it is the app's code: nothing recorded goes in it.
     * Wins over script. */
    const char *script_source;

    /* ---- since DTB_PANEL_ABI 7 ---- */

    /* Around each call into the app's handler for a recorded request (MHD calls the handler
     * several times a request: at the headers, for each piece of an upload, ...), on the thread
     * that runs it: call_enter just before, call_leave just after, with what call_enter
     * returned; req_state is what on_request_start returned (may be NULL). Panels' call_enter run
     * in panel order and their call_leave in the reverse order, outside the Timer's CPU and counter
     * measures of the call. For what must follow the app's own code and nothing else (a profiler, a
     * heap ledger): they run on every call of every request, so keep them to a few loads and
     * branches when there is nothing to do. Either may be NULL. */
    void *(*call_enter)(void *panel_state, struct dtb_request *rq, void *req_state);
    void (*call_leave)(void *panel_state, struct dtb_request *rq, void *req_state, void *token);

    /* The panel's own stylesheet: the name of one of the toolbar's embedded assets ("sql.css",
     * [a-z0-9-]+.css), or NULL. The UI adds it inside the toolbar's Shadow DOM (never to the
     * page), with the page's CSP nonce, when the panel first opens. Listed in the record's
     * "nav" as "style". */
    const char *style;
    /* An app panel's stylesheet text (borrowed, must outlive the toolbar), served at
     * <url_prefix>/static/panel-<id>.css and added as style is (the id must then be
     * [a-z0-9-]+). Wins over style. */
    const char *style_source;
};

/*
 * Adds a panel (the table is borrowed and must outlive tb). Before dtb_toolbar_start only.
 * Returns DTB_OK, DTB_EINVAL (ABI mismatch, no id or to_json, duplicate id, a script_source
 * with an id not of [a-z0-9-]), DTB_ESTATE (already started) or DTB_ENOMEM.
 */
DTB_EXPORT dtb_rc dtb_toolbar_add_panel(struct dtb_toolbar *tb, const struct dtb_panel_ops *ops);

/* From a panel's init, about its settings: fills err as the toolbar's own config errors are
 * (DTB_ECONFIG; the config's file, and the line and column of panel_options.<panel_id>.<key>,
 * or of panel_options.<panel_id> when key is NULL; the key path; the message from fmt), so the
 * toolbar refuses to start with "file:3:14: key 'panel_options.hits.max': ...". Returns -1,
 * for `return dtb_panel_config_error(...);` from init. */
DTB_EXPORT int dtb_panel_config_error(const struct dtb_toolbar *tb, struct dtb_error *err,
                                      const char *panel_id, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* From a DTB_PANEL_WANTS_BODY panel's init: keep bodies up to max_bytes (the largest asked for
 * wins; without a call, 4 MiB). Larger pages are passed without a copy: dtb_request_body then
 * gives NULL, and dtb_request_response()->body_size the page's size. */
DTB_EXPORT void dtb_toolbar_want_body(struct dtb_toolbar *tb, size_t max_bytes);

/* The panel's per-request state for rq (what on_request_start returned), or NULL when the
 * panel is not enabled. Borrowed. */
DTB_EXPORT void *dtb_request_panel_state(struct dtb_request *rq, const char *panel_id);

/* ---- signatures ------------------------------------------------------------------------ */

/* One piece of the content a signature binds (data may be NULL when len is 0). */
struct dtb_sign_part {
    const void *data;
    size_t len;
};

/* Signs subject (what the signature authorizes, e.g. "sql:<request id>:<query index>") bound
 * to content: an HMAC-SHA256 (nettle) under the toolbar's secret_key of subject and a SHA-256
 * of the parts, each length-prefixed (so "ab","c" differs from "a","bc"), as 64 lower-case hex
 * digits and a NUL into out. Processes that share a store share the signatures when they share
 * secret_key. Can't fail. */
DTB_EXPORT void dtb_sign(const struct dtb_toolbar *tb, const char *subject,
                         const struct dtb_sign_part *parts, size_t nparts, char out[65]);

/* 1 when sig is dtb_sign's signature of subject over exactly these parts (compared in
 * constant time); else 0, as for content changed since it was signed or a sig that is not 64
 * characters (NULL included). */
DTB_EXPORT int dtb_verify(const struct dtb_toolbar *tb, const char *subject,
                          const struct dtb_sign_part *parts, size_t nparts, const char *sig);

/* ---- the request record, for panels --------------------------------------------------- */

/* Allocates n bytes (zeroed, 16-aligned) from the request's arena, freed at completion.
 * Returns NULL when out of memory. */
DTB_EXPORT void *dtb_request_alloc(struct dtb_request *rq, size_t n);
/* Copies s into the arena; NULL when out of memory or s is NULL. */
DTB_EXPORT char *dtb_request_strdup(struct dtb_request *rq, const char *s);

/* Hands one reference of value to the request, released when the request's record is freed
 * (whether or not to_json ran). Returns value, or NULL when value is NULL or out of memory
 * (value is then released). Not for values shared with other requests. */
DTB_EXPORT json_t *dtb_request_own_json(struct dtb_request *rq, json_t *value);

DTB_EXPORT struct dtb_toolbar *dtb_request_toolbar(const struct dtb_request *rq);
DTB_EXPORT const char *dtb_request_method(const struct dtb_request *rq);
DTB_EXPORT const char *dtb_request_path(const struct dtb_request *rq); /* URL without the query */
DTB_EXPORT const char *dtb_request_url(const struct dtb_request *rq);  /* as received, with query */
DTB_EXPORT const char *dtb_request_version(const struct dtb_request *rq); /* "HTTP/1.1" */
DTB_EXPORT const char *dtb_request_client(const struct dtb_request *rq);  /* "127.0.0.1" */
DTB_EXPORT unsigned dtb_request_status(const struct dtb_request *rq);     /* 0 before queueing */

/* Lists of [name, value] pairs, in the order received; borrowed until completion.
 * kind: "headers", "query", "cookies", "form" (url-encoded or multipart fields; a file field's
 * value is {"filename", "content_type", "size"}), "response_headers". Never NULL. */
DTB_EXPORT const json_t *dtb_request_pairs(const struct dtb_request *rq, const char *kind);
/* How many pairs of that kind were received but not recorded: past record_max_pairs, or past
 * the pairs' share of record_max_bytes. 0 for an unknown kind. */
DTB_EXPORT size_t dtb_request_pairs_omitted(const struct dtb_request *rq, const char *kind);

/* Timings in nanoseconds. */
struct dtb_request_times {
    int64_t started_unix_ns;  /* wall clock at the first hook */
    int64_t start_ns;         /* monotonic, first hook */
    int64_t first_handler_ns; /* monotonic, first call into the wrapper's handler */
    int64_t queued_ns;        /* monotonic, response queued (0 if not yet) */
    int64_t end_ns;           /* monotonic, completion (0 before) */
    int64_t handler_ns;       /* summed time inside the app's handler */
    int64_t cpu_user_ns;      /* RUSAGE_THREAD summed over the handler's calls (in ticks) */
    int64_t cpu_sys_ns;
    int64_t toolbar_ns;    /* the toolbar's own cost: recording, filtering, injecting */
    int64_t inject_ns;     /* of which: finding the body end and splicing */
    int64_t cpu_ns;        /* CLOCK_THREAD_CPUTIME_ID summed over the handler's calls */
    int64_t ctx_voluntary; /* RUSAGE_THREAD context switches over the handler's calls */
    int64_t ctx_involuntary;
    int64_t faults_minor; /* RUSAGE_THREAD page faults over the handler's calls */
    int64_t faults_major;
    int64_t toolbar_cpu_ns; /* of cpu_ns: the toolbar's own, queueing the response */
    /* hardware counters of the handler's thread (user space) over its calls; hw_calls counts
     * the calls they were read around (0: not available, see the Timer panel) */
    int64_t instructions;
    int64_t cycles;
    int64_t cache_misses;
    int64_t branch_misses;
    int64_t hw_calls;
    int64_t hw_scaled; /* calls in which the kernel multiplexed the counters (estimates) */
};
DTB_EXPORT const struct dtb_request_times *dtb_request_times(const struct dtb_request *rq);

/* The response as the filter saw it. */
struct dtb_request_response {
    unsigned status;
    const char *content_type;           /* may be NULL */
    size_t body_size;                   /* as the app built it; 0 for non-buffer responses */
    int injected;                       /* 1 when the toolbar was injected */
    const char *skip_reason;            /* why it was not injected, or NULL */
    const char *upstream_server_timing; /* app's own Server-Timing header, or NULL */
};
DTB_EXPORT const struct dtb_request_response *dtb_request_response(const struct dtb_request *rq);

/* The HTML body as the app built it (before injection), kept only when an enabled panel has
 * DTB_PANEL_WANTS_BODY and the response was an HTML document from a known buffer; else NULL.
 * Borrowed until completion (valid in on_request_end and to_json). */
DTB_EXPORT const char *dtb_request_body(const struct dtb_request *rq, size_t *len);

/* ---- the toolbar's own allocations ----------------------------------------------------- */

/* Toolbar code that runs inside the app's handler (a panel's capture hook, a function the app
 * calls, a call_enter) marks its work so that the heap ledger (libdebugtoolbar-malloc.so, the
 * Memory panel) counts its allocations as the toolbar's, not the app's: enter returns what
 * leave puts back. Without the ledger loaded both only load a pointer. DTB_TOOLBAR_SCOPE() at
 * the top of a function does it until the function returns. */
DTB_EXPORT void *dtb_toolbar_scope_enter(void);
DTB_EXPORT void dtb_toolbar_scope_leave(void *previous);
static inline void dtb_toolbar_scope_end_(void **previous)
{
    dtb_toolbar_scope_leave(*previous);
}
#define DTB_TOOLBAR_SCOPE()                                                                        \
    void *dtb_toolbar_scope_ __attribute__((cleanup(dtb_toolbar_scope_end_), unused)) =            \
        dtb_toolbar_scope_enter()

/* NULL while the hardware counters of the handler's thread work (dtb_request_times' hw_*), or
 * were not tried yet; else one line that says why they are off (perf_event_open refused,
 * naming /proc/sys/kernel/perf_event_paranoid's value). */
DTB_EXPORT const char *dtb_hw_counters_off_reason(void);

/* ---- spans: the Timer panel's waterfall ------------------------------------------------ */

/* From a panel's init: keep the requests' spans (the app's, <debugtoolbar/span.h>, and what
 * panels add with dtb_span_add); without a call from an enabled panel none are kept. */
DTB_EXPORT void dtb_toolbar_want_spans(struct dtb_toolbar *tb);

/* Adds a finished span of a panel's own (a query, a cache call, a template render: name
 * borrowed until the request completes; kind a static string such as "sql" or "cache"), as a
 * child of the span open on the thread. Spans recorded since start_ns under the same parent (a
 * render's queries) become its children. Nothing when rq keeps no spans. */
DTB_EXPORT void dtb_span_add(struct dtb_request *rq, const char *kind, const char *name,
                             int64_t start_ns, int64_t dur_ns);

/* One span of a request, as dtb_request_span gives it (the library's; fields may be added at
 * the end). */
struct dtb_span_info {
    const char *name; /* borrowed until the request completes */
    const char *kind; /* "span" (the app's own) or the kind a panel gave dtb_span_add */
    int64_t start_ns; /* monotonic */
    int64_t end_ns;   /* 0 while open */
    int parent;       /* index of the enclosing span, -1 at the top */
};

/* How many spans rq has, in the order they were recorded (an app's span when it begins, a
 * panel's when it ends), and in *dropped (may be NULL) how many were not kept (over 10,000, or
 * out of memory). 0 when it keeps none. */
DTB_EXPORT size_t dtb_request_span_count(const struct dtb_request *rq, unsigned *dropped);
/* Span i of rq, or NULL past the end. Borrowed until the next span is recorded on rq. */
DTB_EXPORT const struct dtb_span_info *dtb_request_span(const struct dtb_request *rq, size_t i);

/* The clock the app's spans read: "tsc", "tsc (rate not yet measured)" or "clock_gettime"
 * (DTB_SPANS_TSC=0 in the environment forces the last). */
DTB_EXPORT const char *dtb_span_clock(void);

/* ---- code addresses ------------------------------------------------------------------- */

/* What dtb_symbolize found for a code address. The strings belong to the library and stay
 * valid for the life of the process. */
struct dtb_symbol {
    const char *function; /* never NULL: "0x7f..." when unknown */
    const char *file;     /* the function's source file, or NULL when unknown */
    int line;             /* the function's first line, 0 when unknown */
    const char *module;   /* the ELF file's base name ("libc.so.6"), or NULL */
    const char *at_file;  /* the address's own source file (a call's line), or NULL */
    int at_line;          /* 0 when unknown */
    const void *reserved[4];
};

/* Names ip, a return address (the call before it is looked up) unless leaf: elfutils' libdw
 * over the process's modules (symbol tables and DWARF where present), dladdr when it knows
 * nothing. Each address is looked up once per process and cached. Any thread (one lock); not
 * in a signal handler. Can't fail: an unknown address gets its hex as the function. */
DTB_EXPORT void dtb_symbolize(uintptr_t ip, int leaf, struct dtb_symbol *out);

/* Monotonic clock in nanoseconds. Can't fail. */
DTB_EXPORT int64_t dtb_now_ns(void);

/* The app's settings (the config file's "app" object merged with dtb_config_set() values), secrets
 * redacted. New reference; never NULL unless out of memory. */
DTB_EXPORT json_t *dtb_toolbar_app_config(const struct dtb_toolbar *tb);

/* Redaction: 1 when name matches the toolbar's redaction patterns (password, token, ...). */
DTB_EXPORT int dtb_toolbar_is_secret_name(const struct dtb_toolbar *tb, const char *name);
/* The same for the n bytes of name (no NUL needed). */
DTB_EXPORT int dtb_toolbar_is_secret_namen(const struct dtb_toolbar *tb, const char *name,
                                           size_t n);
#define DTB_REDACTED "********"
/* A copy of text (malloc'd) in which, when it looks like a URL (it starts with '/' or holds
 * "://"), the values of secret-named parameters in its query and fragment are DTB_REDACTED.
 * NULL when out of memory. */
DTB_EXPORT char *dtb_toolbar_redact_url(const struct dtb_toolbar *tb, const char *text);
/* A deep copy of v with the values of secret-named object keys redacted, at any depth; an
 * object or array keeps its first record_max_pairs entries and says how many more it had.
 * New reference; NULL when v is NULL or out of memory. */
DTB_EXPORT json_t *dtb_toolbar_redact_json(const struct dtb_toolbar *tb, const json_t *v);
/* A copy of pairs ([[name, value], ...]) with the values of secret-named entries redacted,
 * and secret parameters hidden in URL-looking values (dtb_toolbar_redact_url). New reference;
 * NULL when out of memory. */
DTB_EXPORT json_t *dtb_toolbar_redact_pairs(const struct dtb_toolbar *tb, const json_t *pairs);

/* A stored record (any process's, when the store is shared) as JSON: {"id", "summary",
 * "panels": {id: stats}, ...}. New reference, or NULL when unknown or evicted. For a panel's
 * handle_action, which acts on what a record holds (check its signature: dtb_verify). */
DTB_EXPORT json_t *dtb_toolbar_load_record(struct dtb_toolbar *tb, const char *id);

/* The state of panel panel_id in tb (what its init set), or NULL when that panel is not
 * enabled or tb has not started. For a panel's own public functions, which the app calls with
 * its toolbar. */
DTB_EXPORT void *dtb_toolbar_panel_state(const struct dtb_toolbar *tb, const char *panel_id);

/* The first hexlen (at most 64) lower-case hex digits of SHA-256(data) (nettle) into
 * out[hexlen + 1]: a short, stable key for content. */
DTB_EXPORT void dtb_sha256_hex(const void *data, size_t len, char *out, size_t hexlen);

/* Renders helpers shared by panels: a two-column table of [name, value] pairs, escaped.
 * title may be NULL. Returns 0 or -1. */
DTB_EXPORT int dtb_render_pairs_table(struct dtb_buf *out, const char *title, const json_t *pairs);

/* Appends a JSON value as an escaped, collapsible tree (<details>/<ul>). Returns 0 or -1. */
DTB_EXPORT int dtb_render_json_tree(struct dtb_buf *out, const json_t *value);

#ifdef __cplusplus
}
#endif

#endif /* DEBUGTOOLBAR_PANEL_H */
