/*
 * panel.c - the Profile panel: where the handler's time went in the C code. Off for every
 * request unless asked: `?dtb-profile=1` on the URL, the `dtb_profile=1` cookie (the panel's
 * switch sets it for one browser), or panel_options.profile.always. A profiled request's
 * handler is sampled (sampler.c, armed around each handler call by the panel's call hooks) about
 * rate_hz times a second of its thread's CPU time (mode "cpu") or of real time (mode "wall", which
 * also shows where it waits). The kernel checks CPU-time timers at its scheduler tick, so at a rate
 * above HZ one signal stands for several intervals (its overrun): each stack carries that weight.
 * At completion, after the response has been sent, the addresses are symbolized (dtb_symbolize) and
 * stored aggregated: a frame table and the distinct stacks with their counts. render.c draws them.
 *
 * Config, panel_options.profile: rate_hz (1..10000, default 1000), mode ("cpu" or "wall"),
 * max_depth (frames per sample, 1..512, default 128), signal (a real-time signal number; 0 =
 * the highest free one), always (profile every request, default false).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile_int.h"
#include "sampler.h"

struct profile_state {
    int rate_hz;
    int wall;
    int max_depth;
    int signo;
    int always;
};

struct chunk {
    struct chunk *next;
    size_t words;
    uintptr_t data[];
};

struct profile_req {
    struct profile_state *st;
    int on;        /* asked for */
    char off[160]; /* asked for but not possible: why */
    struct chunk *first, *last;
    unsigned samples, signals, dropped, calls;
};

static int bad(struct dtb_toolbar *tb, struct dtb_error *err, const char *key, const char *what)
{
    return dtb_panel_config_error(tb, err, "profile", key, "%s", what);
}

static int int_option(struct dtb_toolbar *tb, const json_t *conf, const char *key, int lo, int hi,
                      int *out, struct dtb_error *err)
{
    const json_t *v = json_object_get(conf, key);
    char what[96];
    if (v == NULL)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        snprintf(what, sizeof(what), "expected an integer from %d to %d", lo, hi);
        return bad(tb, err, key, what);
    }
    *out = (int)json_integer_value(v);
    return 0;
}

static int read_options(struct profile_state *s, struct dtb_toolbar *tb, const json_t *conf,
                        struct dtb_error *err)
{
    const json_t *mode = json_object_get(conf, "mode"), *always = json_object_get(conf, "always");
    s->rate_hz = 1000;
    s->max_depth = 128;
    if (conf != NULL && !json_is_object(conf))
        return bad(tb, err, NULL, "expected an object");
    if (int_option(tb, conf, "rate_hz", 1, 10000, &s->rate_hz, err) != 0 ||
        int_option(tb, conf, "max_depth", 1, 512, &s->max_depth, err) != 0 ||
        int_option(tb, conf, "signal", 0, 128, &s->signo, err) != 0)
        return -1;
    if (mode != NULL) {
        if (json_is_string(mode) && strcmp(json_string_value(mode), "wall") == 0)
            s->wall = 1;
        else if (!json_is_string(mode) || strcmp(json_string_value(mode), "cpu") != 0)
            return bad(tb, err, "mode", "expected \"cpu\" or \"wall\"");
    }
    if (always != NULL) {
        if (!json_is_boolean(always))
            return bad(tb, err, "always", "expected true or false");
        s->always = json_is_true(always);
    }
    return 0;
}

static int profile_init(void **state, struct dtb_toolbar *tb, const json_t *conf,
                        struct dtb_error *err)
{
    struct profile_state *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return -1;
    if (read_options(s, tb, conf, err) != 0) {
        free(s); /* a panel that fails to start is not cleaned up */
        return -1;
    }
    *state = s;
    return 0;
}

static void profile_cleanup(void *state)
{
    free(state);
}

static int profile_enable(void *state)
{
    struct profile_state *s = state;
    return dtbi_sampler_install(s->signo);
}

static void profile_disable(void *state)
{
    (void)state;
    dtbi_sampler_uninstall();
}

/* 1 when the pair list has name=1. */
static int pair_on(const json_t *pairs, const char *name)
{
    size_t i;
    json_t *p;
    json_array_foreach(pairs, i, p)
    {
        const char *k = json_string_value(json_array_get(p, 0));
        const char *v = json_string_value(json_array_get(p, 1));
        if (k != NULL && v != NULL && strcmp(k, name) == 0)
            return strcmp(v, "1") == 0;
    }
    return 0;
}

static void *profile_start(void *state, struct dtb_request *rq)
{
    struct profile_state *s = state;
    struct profile_req *pr = dtb_request_alloc(rq, sizeof(*pr));
    if (pr == NULL)
        return NULL;
    pr->st = s;
    pr->on = s->always || pair_on(dtb_request_pairs(rq, "query"), "dtb-profile") ||
             pair_on(dtb_request_pairs(rq, "cookies"), "dtb_profile");
    if (pr->on && dtbi_sampler_off_reason(pr->off, sizeof(pr->off)) == NULL)
        pr->off[0] = '\0';
    return pr;
}

/* Before each call into the app's handler: arms the sampler when the request asked to be
 * profiled. Returns the request's state when it did (for profile_call_leave), else NULL. */
static void *profile_call_enter(void *state, struct dtb_request *rq, void *req_state)
{
    struct profile_req *pr = req_state;
    (void)state, (void)rq;
    if (pr == NULL || !pr->on || pr->off[0] != '\0')
        return NULL;
    if (dtbi_sampler_start(pr->st->rate_hz, pr->st->wall, pr->st->max_depth) != 0) {
        snprintf(pr->off, sizeof(pr->off), "the sampling timer could not be started");
        return NULL;
    }
    return pr;
}

/* After it: disarms the sampler and keeps the call's samples in the request's arena. */
static void profile_call_leave(void *state, struct dtb_request *rq, void *req_state, void *armed)
{
    struct profile_req *pr = armed;
    size_t words;
    (void)state, (void)req_state;
    if (pr == NULL)
        return;
    unsigned samples, signals, dropped;
    const uintptr_t *buf = dtbi_sampler_stop(&words, &samples, &signals, &dropped);
    pr->calls++;
    pr->dropped += dropped;
    if (words == 0)
        return;
    struct chunk *c = dtb_request_alloc(rq, sizeof(*c) + words * sizeof(uintptr_t));
    if (c == NULL) {
        pr->dropped += samples;
        return;
    }
    memcpy(c->data, buf, words * sizeof(uintptr_t));
    c->words = words;
    if (pr->last != NULL)
        pr->last->next = c;
    else
        pr->first = c;
    pr->last = c;
    pr->samples += samples;
    pr->signals += signals;
}

/* ---- aggregation (at completion, off the request's time) ----------------------------------- */

/* The frame's index in frames (added when new), keyed by function and module. */
static json_int_t frame_index(json_t *frames, json_t *index, const struct dtb_symbol *sym)
{
    char key[512];
    snprintf(key, sizeof(key), "%s\t%s", sym->function, sym->module ? sym->module : "");
    json_t *i = json_object_get(index, key);
    if (i != NULL)
        return json_integer_value(i);
    json_int_t n = (json_int_t)json_array_size(frames);
    json_t *f = json_pack("{s:o}", "name", dtb_json_text(sym->function));
    if (f == NULL)
        return -1;
    if (sym->file != NULL)
        json_object_set_new(f, "file", dtb_json_text(sym->file));
    if (sym->line > 0)
        json_object_set_new(f, "line", json_integer(sym->line));
    if (sym->module != NULL)
        json_object_set_new(f, "module", dtb_json_text(sym->module));
    json_array_append_new(frames, f);
    json_object_set_new(index, key, json_integer(n));
    return n;
}

/* The wrapper around the app's handler: frames from the thread's start down to it are the
 * toolbar's and MHD's, not the app's, and are left out. */
static int is_wrapper(const struct dtb_symbol *sym)
{
    return strcmp(sym->function, "mw_handler") == 0;
}

static json_t *profile_to_json(void *state, struct dtb_request *rq, void *req_state)
{
    struct profile_state *s = state;
    struct profile_req *pr = req_state;
    (void)rq;
    if (pr == NULL || !pr->on)
        return json_pack("{s:b}", "on", 0);
    if (pr->off[0] != '\0')
        return json_pack("{s:b,s:s}", "on", 0, "reason", pr->off);
    json_t *frames = json_array(), *index = json_object(), *counts = json_object();
    json_t *stacks = json_array();
    struct dtb_buf key;
    json_int_t ids[520];
    dtb_buf_init(&key);
    for (struct chunk *c = pr->first; c != NULL; c = c->next) {
        for (size_t w = 0; w < c->words;) {
            size_t depth = c->data[w], n = 0, keep;
            json_int_t weight = (json_int_t)c->data[w + 1];
            const uintptr_t *ips = c->data + w + 2;
            w += 2 + depth;
            if (depth > 512)
                continue;
            /* root first; cut at the toolbar's wrapper when it is on the stack */
            keep = depth;
            for (size_t k = 0; k < depth; k++) {
                struct dtb_symbol sym;
                dtb_symbolize(ips[k], k == 0, &sym);
                if (is_wrapper(&sym)) {
                    keep = k;
                    break;
                }
            }
            for (size_t k = keep; k-- > 0;) {
                struct dtb_symbol sym;
                dtb_symbolize(ips[k], k == 0, &sym);
                ids[n++] = frame_index(frames, index, &sym);
            }
            if (n == 0)
                continue;
            dtb_buf_reset(&key);
            for (size_t k = 0; k < n; k++)
                dtb_buf_appendf(&key, k ? ",%lld" : "%lld", (long long)ids[k]);
            if (key.failed)
                break;
            json_t *cnt = json_object_get(counts, key.data);
            if (cnt != NULL) {
                json_t *entry = json_array_get(stacks, (size_t)json_integer_value(cnt));
                json_object_set_new(
                    entry, "n",
                    json_integer(json_integer_value(json_object_get(entry, "n")) + weight));
            } else {
                json_t *f = json_array();
                for (size_t k = 0; k < n; k++)
                    json_array_append_new(f, json_integer(ids[k]));
                json_object_set_new(counts, key.data,
                                    json_integer((json_int_t)json_array_size(stacks)));
                json_array_append_new(stacks, json_pack("{s:o,s:I}", "f", f, "n", weight));
            }
        }
    }
    dtb_buf_free(&key);
    json_decref(index);
    json_decref(counts);
    return json_pack("{s:b,s:s,s:i,s:I,s:i,s:i,s:i,s:i,s:o,s:o}", "on", 1, "mode",
                     s->wall ? "wall" : "cpu", "rate_hz", s->rate_hz, "interval_ns",
                     (json_int_t)(1000000000 / s->rate_hz), "samples", (int)pr->samples, "signals",
                     (int)pr->signals, "dropped", (int)pr->dropped, "signal", dtbi_sampler_signal(),
                     "frames", frames, "stacks", stacks);
}

const struct dtb_panel_ops dtb_panel_profile = {
    .abi = DTB_PANEL_ABI,
    .id = "profile",
    .title = "Profile",
    .default_on = 1,
    .init = profile_init,
    .cleanup = profile_cleanup,
    .enable_instrumentation = profile_enable,
    .disable_instrumentation = profile_disable,
    .on_request_start = profile_start,
    .to_json = profile_to_json,
    .nav_subtitle = dtbi_profile_subtitle,
    .render_html = dtbi_profile_render,
    .compare_html = dtbi_profile_compare,
    .call_enter = profile_call_enter,
    .call_leave = profile_call_leave,
};
