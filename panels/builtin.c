/*
 * builtin.c - the built-in panels, in sidebar order. Adding a panel is one line here.
 */
#include "builtin.h"

extern const struct dtb_panel_ops dtb_panel_timer;
extern const struct dtb_panel_ops dtb_panel_sql;
extern const struct dtb_panel_ops dtb_panel_request;
extern const struct dtb_panel_ops dtb_panel_headers;
extern const struct dtb_panel_ops dtb_panel_config;
extern const struct dtb_panel_ops dtb_panel_versions;
extern const struct dtb_panel_ops dtb_panel_session;
extern const struct dtb_panel_ops dtb_panel_cache;
extern const struct dtb_panel_ops dtb_panel_templates;
extern const struct dtb_panel_ops dtb_panel_logging;
extern const struct dtb_panel_ops dtb_panel_routes;
extern const struct dtb_panel_ops dtb_panel_htmlcheck;
extern const struct dtb_panel_ops dtb_panel_memory;
extern const struct dtb_panel_ops dtb_panel_profile;

const struct dtb_panel_ops *const dtbi_builtin_panels[] = {
    &dtb_panel_timer,    &dtb_panel_profile, &dtb_panel_sql,       &dtb_panel_request,
    &dtb_panel_session,  &dtb_panel_cache,   &dtb_panel_templates, &dtb_panel_logging,
    &dtb_panel_routes,   &dtb_panel_headers, &dtb_panel_htmlcheck, &dtb_panel_config,
    &dtb_panel_versions, &dtb_panel_memory,
};

const size_t dtbi_builtin_panels_count =
    sizeof(dtbi_builtin_panels) / sizeof(dtbi_builtin_panels[0]);
