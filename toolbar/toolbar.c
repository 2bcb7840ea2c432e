/*
 * toolbar.c - the toolbar's lifecycle (create, start, destroy), its panel registry and the
 * app-config API.
 *
 * create: config file (jansson) + DTB_* environment overrides, validated (config.c).
 * start:  the panel list is resolved (config "panels" or every default-on panel), each
 *         panel's init and enable_instrumentation run, the history store is created. After
 *         start the registry and config never change, so the request path reads them
 *         without locks. destroy undoes start in reverse order.
 * Deliberately not here: anything per request (request.c, middleware.c, filter.c).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "../panels/builtin.h"
#include "config.h"
#include "store.h"

static char *read_file(const char *path, struct dtb_error *err)
{
    FILE *f = fopen(path, "rb");
    struct dtb_buf b;
    char chunk[8192];
    size_t n;
    if (f == NULL) {
        dtbi_error_set(err, DTB_ECONFIG, path, 0, 0, NULL, "cannot open config file: %s",
                       strerror(errno));
        return NULL;
    }
    dtb_buf_init(&b);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        dtb_buf_append(&b, chunk, n);
    if (ferror(f)) {
        dtbi_error_set(err, DTB_EIO, path, 0, 0, NULL, "cannot read config file");
        fclose(f);
        dtb_buf_free(&b);
        return NULL;
    }
    fclose(f);
    if (b.failed) {
        dtbi_error_set(err, DTB_ENOMEM, path, 0, 0, NULL, "out of memory");
        dtb_buf_free(&b);
        return NULL;
    }
    return dtb_buf_steal(&b);
}

struct dtb_toolbar *dtb_toolbar_create_from_string(const char *json_text, const char *source,
                                                   struct dtb_error *err)
{
    struct dtb_toolbar *tb = calloc(1, sizeof(*tb));
    if (tb == NULL) {
        dtbi_error_set(err, DTB_ENOMEM, source, 0, 0, NULL, "out of memory");
        return NULL;
    }
    if (dtbi_config_load(&tb->cfg, json_text, source ? source : "config", err) != DTB_OK) {
        free(tb);
        return NULL;
    }
    pthread_mutex_init(&tb->lock, NULL);
    pthread_mutex_init(&tb->pending_lock, NULL);
    tb->empty = json_array();
    tb->app_config = tb->cfg.app != NULL ? json_deep_copy(tb->cfg.app) : json_object();
    tb->prefix_len = strlen(tb->cfg.url_prefix);
    if (tb->empty == NULL || tb->app_config == NULL) {
        dtbi_error_set(err, DTB_ENOMEM, source, 0, 0, NULL, "out of memory");
        dtb_toolbar_destroy(tb);
        return NULL;
    }
    for (size_t i = 0; i < dtbi_builtin_panels_count; i++) {
        if (dtb_toolbar_add_panel(tb, dtbi_builtin_panels[i]) != DTB_OK) {
            dtbi_error_set(err, DTB_ENOMEM, source, 0, 0, NULL, "out of memory");
            dtb_toolbar_destroy(tb);
            return NULL;
        }
    }
    return tb;
}

struct dtb_toolbar *dtb_toolbar_create(const char *path, struct dtb_error *err)
{
    struct dtb_toolbar *tb;
    char *text = NULL;
    if (path == NULL || path[0] == '\0')
        path = getenv("DTB_CONFIG");
    if (path != NULL && path[0] != '\0') {
        text = read_file(path, err);
        if (text == NULL)
            return NULL;
    }
    tb = dtb_toolbar_create_from_string(text, path, err);
    free(text);
    return tb;
}

dtb_rc dtb_toolbar_add_panel(struct dtb_toolbar *tb, const struct dtb_panel_ops *ops)
{
    if (tb == NULL || ops == NULL || ops->abi < DTB_PANEL_ABI_MIN || ops->abi > DTB_PANEL_ABI ||
        ops->id == NULL || ops->id[0] == '\0' || ops->to_json == NULL || ops->title == NULL)
        return DTB_EINVAL;
    if (tb->started)
        return DTB_ESTATE;
    if (dtbi_panel_find(tb, ops->id) != NULL)
        return DTB_EINVAL;
    /* a script or stylesheet of its own is served as static/panel-<id>.js or .css, which the
     * UI loads only when the name is [a-z0-9-]+.js or .css */
    if ((dtbi_panel_script_source(ops) != NULL || dtbi_panel_style_source(ops) != NULL) &&
        (strlen(ops->id) > 48 ||
         strspn(ops->id, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(ops->id)))
        return DTB_EINVAL;
    if (tb->npanels == tb->panels_cap) {
        size_t cap = tb->panels_cap ? tb->panels_cap * 2 : 16;
        const struct dtb_panel_ops **p = realloc(tb->panels, cap * sizeof(*p));
        if (p == NULL)
            return DTB_ENOMEM;
        tb->panels = p;
        tb->panels_cap = cap;
    }
    tb->panels[tb->npanels++] = ops;
    return DTB_OK;
}

const struct dtb_panel_ops *dtbi_panel_find(const struct dtb_toolbar *tb, const char *id)
{
    for (size_t i = 0; i < tb->npanels; i++)
        if (strcmp(tb->panels[i]->id, id) == 0)
            return tb->panels[i];
    return NULL;
}

/* Resolves the enabled panel list: the config's "panels" (validated) or the defaults. */
static dtb_rc resolve_panels(struct dtb_toolbar *tb, struct dtb_error *err)
{
    size_t n = tb->cfg.panels != NULL ? json_array_size(tb->cfg.panels) : tb->npanels;
    tb->enabled_panels = calloc(n ? n : 1, sizeof(*tb->enabled_panels));
    tb->panel_states = calloc(n ? n : 1, sizeof(*tb->panel_states));
    if (tb->enabled_panels == NULL || tb->panel_states == NULL)
        return dtbi_error_set(err, DTB_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    if (tb->cfg.panels == NULL) {
        for (size_t i = 0; i < tb->npanels; i++)
            if (tb->panels[i]->default_on)
                tb->enabled_panels[tb->nenabled++] = tb->panels[i];
        return DTB_OK;
    }
    for (size_t i = 0; i < n; i++) {
        const char *id = json_string_value(json_array_get(tb->cfg.panels, i));
        const struct dtb_panel_ops *p = id ? dtbi_panel_find(tb, id) : NULL;
        char key[32];
        snprintf(key, sizeof(key), "panels[%zu]", i);
        if (p == NULL) {
            int line = 0, col = 0;
            if (dtbi_config_locate(&tb->cfg, "panels", &line, &col) != 0)
                line = col = 0;
            return dtbi_error_set(err, DTB_ECONFIG, tb->cfg.source, line, col, key,
                                  "unknown panel \"%s\"", id ? id : "");
        }
        int dup = 0;
        for (size_t j = 0; j < tb->nenabled; j++)
            dup |= tb->enabled_panels[j] == p;
        if (!dup)
            tb->enabled_panels[tb->nenabled++] = p;
    }
    return DTB_OK;
}

/* The enabled panels that hook every call into the app's handler, in panel order. */
static dtb_rc collect_call_hooks(struct dtb_toolbar *tb, struct dtb_error *err)
{
    tb->ncall_hooks = 0;
    for (size_t i = 0; i < tb->nenabled; i++) {
        if (!dtbi_panel_has_call_hooks(tb->enabled_panels[i]))
            continue;
        if (tb->ncall_hooks == DTBI_CALL_HOOKS_MAX)
            return dtbi_error_set(err, DTB_EINVAL, NULL, 0, 0, tb->enabled_panels[i]->id,
                                  "panel '%s': at most %d enabled panels may hook the app's "
                                  "handler calls",
                                  tb->enabled_panels[i]->id, DTBI_CALL_HOOKS_MAX);
        tb->call_hooks[tb->ncall_hooks++] = (unsigned char)i;
    }
    return DTB_OK;
}

static void stop_panels(struct dtb_toolbar *tb)
{
    for (size_t i = tb->ninstrumented; i-- > 0;) {
        const struct dtb_panel_ops *p = tb->enabled_panels[i];
        if (p->disable_instrumentation != NULL)
            p->disable_instrumentation(tb->panel_states[i]);
    }
    tb->ninstrumented = 0;
    for (size_t i = tb->nenabled; i-- > 0;) {
        const struct dtb_panel_ops *p = tb->enabled_panels[i];
        if (p->cleanup != NULL && tb->panel_states[i] != NULL)
            p->cleanup(tb->panel_states[i]);
        tb->panel_states[i] = NULL;
    }
}

dtb_rc dtb_toolbar_start(struct dtb_toolbar *tb, struct dtb_error *err)
{
    dtb_rc rc;
    const struct dtbi_asset *js;
    if (tb == NULL)
        return dtbi_error_set(err, DTB_EINVAL, NULL, 0, 0, NULL, "no toolbar");
    if (tb->started)
        return dtbi_error_set(err, DTB_ESTATE, NULL, 0, 0, NULL, "toolbar already started");
    rc = resolve_panels(tb, err);
    if (rc == DTB_OK)
        rc = collect_call_hooks(tb, err);
    if (rc != DTB_OK)
        return rc;
    tb->started = true;
    if (!tb->cfg.enabled)
        return DTB_OK; /* a disabled toolbar does nothing at all */
    xmlInitParser();
    dtbi_memscope_init();
    for (size_t i = 0; i < tb->nenabled; i++) {
        const struct dtb_panel_ops *p = tb->enabled_panels[i];
        json_t *conf = json_object_get(tb->cfg.panel_options, p->id);
        if (p->init != NULL && p->init(&tb->panel_states[i], tb, conf, err) != 0) {
            dtbi_error_set(err, DTB_ECONFIG, tb->cfg.source, 0, 0, p->id,
                           "panel '%s' failed to start", p->id);
            tb->nenabled = i; /* clean up only the ones that started */
            stop_panels(tb);
            return DTB_ECONFIG;
        }
    }
    for (size_t i = 0; i < tb->nenabled; i++) {
        const struct dtb_panel_ops *p = tb->enabled_panels[i];
        if (p->enable_instrumentation != NULL &&
            p->enable_instrumentation(tb->panel_states[i]) != 0) {
            stop_panels(tb);
            return dtbi_error_set(err, DTB_ECONFIG, tb->cfg.source, 0, 0, p->id,
                                  "panel '%s' could not install its instrumentation", p->id);
        }
        tb->ninstrumented = i + 1;
    }
    if (strcmp(tb->cfg.store, "memory") == 0) {
        tb->store = dtbi_store_mem_create(tb->cfg.history_size, tb->cfg.history_max_bytes);
    } else if (!tb->cfg.secret_key_set) {
        /* Processes sharing a store must share the key that signs SQL actions. */
        int line = 0, col = 0;
        dtbi_config_locate(&tb->cfg, "store", &line, &col);
        stop_panels(tb);
        return dtbi_error_set(err, DTB_ECONFIG, tb->cfg.source, line, col, "secret_key",
                              "a shared store (\"%s\") needs secret_key set, the same in every "
                              "process",
                              tb->cfg.store);
    } else {
#ifdef HAVE_HIREDIS /* without it, the config refuses any store but "memory" */
        tb->store = dtbi_store_redis_create(tb->cfg.store, tb->cfg.store_prefix, tb->cfg.store_ttl,
                                            tb->cfg.store_timeout_ms, tb->cfg.history_size,
                                            tb->cfg.history_max_bytes);
#endif
    }
    js = dtbi_asset_find("toolbar.js", 10);
    if (tb->store == NULL || js == NULL ||
        asprintf(&tb->script_url, "%s/static/toolbar.js?v=%.*s", tb->cfg.url_prefix,
                 (int)(strlen(js->etag) - 2), js->etag + 1) < 0) {
        tb->script_url = NULL;
        stop_panels(tb);
        return dtbi_error_set(err, DTB_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    }
    for (size_t i = 0; i < tb->nenabled; i++)
        if (tb->enabled_panels[i]->flags & DTB_PANEL_WANTS_BODY)
            tb->wants_body = true;
    tb->enabled = true;
    atomic_fetch_add(&dtbi_active_toolbars, 1);
    return DTB_OK;
}

void *dtb_toolbar_panel_state(const struct dtb_toolbar *tb, const char *panel_id)
{
    for (size_t i = 0; tb != NULL && panel_id != NULL && i < tb->nenabled; i++)
        if (tb->panel_states != NULL && strcmp(tb->enabled_panels[i]->id, panel_id) == 0)
            return tb->panel_states[i];
    return NULL;
}

void dtb_toolbar_want_body(struct dtb_toolbar *tb, size_t max_bytes)
{
    if (tb != NULL && max_bytes > tb->body_max)
        tb->body_max = max_bytes;
}

void dtb_toolbar_destroy(struct dtb_toolbar *tb)
{
    if (tb == NULL)
        return;
    if (tb->enabled)
        atomic_fetch_sub(&dtbi_active_toolbars, 1);
    tb->enabled = false;
    /* the store first: a store may still be building records, which needs the panels */
    if (tb->store != NULL)
        tb->store->ops->destroy(tb->store);
    stop_panels(tb);
    while (tb->daemons != NULL) {
        struct dtbi_daemon_ctx *d = tb->daemons;
        tb->daemons = d->next;
        free(d->options);
        free(d);
    }
    json_decref(tb->app_config);
    json_decref(tb->empty);
    free(tb->script_url);
    free(tb->panels);
    free(tb->enabled_panels);
    free(tb->panel_states);
    dtbi_config_free(&tb->cfg);
    pthread_mutex_destroy(&tb->lock);
    pthread_mutex_destroy(&tb->pending_lock);
    free(tb);
}

int dtb_toolbar_enabled(const struct dtb_toolbar *tb)
{
    return tb != NULL && tb->enabled;
}

const char *dtb_toolbar_url_prefix(const struct dtb_toolbar *tb)
{
    return tb->cfg.url_prefix;
}

json_t *dtb_toolbar_config_json(const struct dtb_toolbar *tb)
{
    return json_deep_copy(tb->cfg.effective);
}

/* A deep copy of v with values under secret-named keys replaced by DTB_REDACTED. */
static json_t *redacted_copy(const struct dtb_toolbar *tb, json_t *v, int depth)
{
    const char *key;
    json_t *item, *out;
    size_t i;
    if (depth > 32)
        return json_string("(too deep)");
    if (json_is_object(v)) {
        out = json_object();
        json_object_foreach(v, key, item)
        {
            json_t *c = dtb_toolbar_is_secret_name(tb, key) ? json_string(DTB_REDACTED)
                                                            : redacted_copy(tb, item, depth + 1);
            json_object_set_new(out, key, c);
        }
        return out;
    }
    if (json_is_array(v)) {
        out = json_array();
        json_array_foreach(v, i, item)
            json_array_append_new(out, redacted_copy(tb, item, depth + 1));
        return out;
    }
    return json_deep_copy(v);
}

json_t *dtb_toolbar_app_config(const struct dtb_toolbar *tb)
{
    json_t *out;
    pthread_mutex_lock((pthread_mutex_t *)&tb->lock);
    out = redacted_copy(tb, tb->app_config, 0);
    pthread_mutex_unlock((pthread_mutex_t *)&tb->lock);
    return out;
}

void dtbi_pending_add(struct dtb_toolbar *tb, const char *id)
{
    pthread_mutex_lock(&tb->pending_lock);
    for (size_t i = 0; i < sizeof(tb->pending) / sizeof(tb->pending[0]); i++) {
        if (tb->pending[i][0] == '\0') {
            memcpy(tb->pending[i], id, 17);
            break;
        }
    }
    pthread_mutex_unlock(&tb->pending_lock);
}

void dtbi_pending_remove(struct dtb_toolbar *tb, const char *id)
{
    pthread_mutex_lock(&tb->pending_lock);
    for (size_t i = 0; i < sizeof(tb->pending) / sizeof(tb->pending[0]); i++)
        if (strcmp(tb->pending[i], id) == 0)
            tb->pending[i][0] = '\0';
    pthread_mutex_unlock(&tb->pending_lock);
}

int dtbi_pending_has(struct dtb_toolbar *tb, const char *id)
{
    int found = 0;
    pthread_mutex_lock(&tb->pending_lock);
    for (size_t i = 0; i < sizeof(tb->pending) / sizeof(tb->pending[0]) && !found; i++)
        found = strcmp(tb->pending[i], id) == 0;
    pthread_mutex_unlock(&tb->pending_lock);
    return found;
}

dtb_rc dtb_config_set(struct dtb_toolbar *tb, const char *key, const json_t *value)
{
    json_t *copy;
    int rc;
    if (tb == NULL || key == NULL || key[0] == '\0' || value == NULL)
        return DTB_EINVAL;
    copy = json_deep_copy(value);
    if (copy == NULL)
        return DTB_ENOMEM;
    pthread_mutex_lock(&tb->lock);
    rc = json_object_set_new(tb->app_config, key, copy);
    pthread_mutex_unlock(&tb->lock);
    return rc == 0 ? DTB_OK : DTB_ENOMEM;
}
