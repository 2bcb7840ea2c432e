/*
 * config.c - the Config panel: the toolbar's effective config and the app's settings (the
 * config file's "app" object and dtb_config_set values), secrets redacted. The toolbar's config
 * does not change once it has started: it is copied once, at start, and every record shares
 * that copy (read-only; jansson's reference counts are atomic), as the Versions panel shares
 * its list. The app's settings may change while it runs, and are copied for each record.
 */
#include "panels.h"

static int config_init(void **state, struct dtb_toolbar *tb, const json_t *conf,
                       struct dtb_error *err)
{
    (void)conf, (void)err;
    *state = dtb_toolbar_config_json(tb);
    return *state != NULL ? 0 : -1;
}

static void config_cleanup(void *state)
{
    json_decref(state);
}

static json_t *config_to_json(void *state, struct dtb_request *rq, void *req_state)
{
    (void)req_state;
    return json_pack("{s:O,s:o}", "toolbar", (json_t *)state, "app",
                     dtb_toolbar_app_config(dtb_request_toolbar(rq)));
}

static int config_subtitle(const json_t *stats, struct dtb_buf *out)
{
    size_t n = json_object_size(json_object_get(stats, "app"));
    if (n == 0)
        return dtb_buf_append_str(out, "no app settings");
    return dtb_buf_appendf(out, "%zu app setting%s", n, n == 1 ? "" : "s");
}

static int config_render(const json_t *stats, struct dtb_buf *out)
{
    dtb_buf_append_str(out, "<h4 class=\"dtb-h\">Application</h4>");
    dtb_render_json_tree(out, json_object_get(stats, "app"));
    dtb_buf_append_str(out, "<h4 class=\"dtb-h\">Debug toolbar</h4>");
    return dtb_render_json_tree(out, json_object_get(stats, "toolbar"));
}

const struct dtb_panel_ops dtb_panel_config = {
    .abi = DTB_PANEL_ABI,
    .id = "config",
    .title = "Config",
    .default_on = 1,
    .init = config_init,
    .cleanup = config_cleanup,
    .to_json = config_to_json,
    .nav_subtitle = config_subtitle,
    .render_html = config_render,
};
