/*
 * config.c - the Config panel: the toolbar's effective config and the app's settings (the
 * config file's "app" object and dtb_config_set values), secrets redacted.
 */
#include "panels.h"

static json_t *config_to_json(void *state, struct dtb_request *rq, void *req_state)
{
    const struct dtb_toolbar *tb = dtb_request_toolbar(rq);
    return json_pack("{s:o,s:o}", "toolbar", dtb_toolbar_config_json(tb), "app",
                     dtb_toolbar_app_config(tb));
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
    .to_json = config_to_json,
    .nav_subtitle = config_subtitle,
    .render_html = config_render,
};
