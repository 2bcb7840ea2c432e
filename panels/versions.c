/*
 * versions.c - the Versions panel: the library and what it runs on (MHD, libxml2, jansson,
 * SQLite, nettle, compiler, OS). Computed once at start; every request stores a copy.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <libxml/xmlversion.h>
#include <nettle/version.h>
#include <sqlite3.h>

#include "panels.h"

static int versions_init(void **state, struct dtb_toolbar *tb, const json_t *conf,
                         struct dtb_error *err)
{
    struct utsname u;
    char os[256] = "unknown", nettle[32];
    if (uname(&u) == 0)
        snprintf(os, sizeof(os), "%s %s %s", u.sysname, u.release, u.machine);
    snprintf(nettle, sizeof(nettle), "%d.%d", nettle_version_major(), nettle_version_minor());
    json_t *v = json_pack("[[ss][ss][ss][ss][ss][ss][ss][ss][ss]]", "debugtoolbar", dtb_version(),
                          "libmicrohttpd", MHD_get_version(), "libxml2", LIBXML_DOTTED_VERSION,
                          "jansson", jansson_version_str(), "SQLite", sqlite3_libversion(), "libpq",
#ifdef HAVE_LIBPQ
                          "linked",
#else
                          "not built in",
#endif
                          "nettle", nettle, "compiler",
#ifdef __VERSION__
                          __VERSION__,
#else
                          "unknown",
#endif
                          "OS", os);
    if (v == NULL)
        return -1;
    *state = v;
    return 0;
}

static void versions_cleanup(void *state)
{
    json_decref(state);
}

static json_t *versions_to_json(void *state, struct dtb_request *rq, void *req_state)
{
    return json_pack("{s:O}", "versions", (json_t *)state);
}

static int versions_subtitle(const json_t *stats, struct dtb_buf *out)
{
    return dtb_buf_appendf(
        out, "debugtoolbar %s",
        json_string_value(json_array_get(json_array_get(json_object_get(stats, "versions"), 0), 1))
            ?: "?");
}

static int versions_render(const json_t *stats, struct dtb_buf *out)
{
    return dtb_render_pairs_table(out, NULL, json_object_get(stats, "versions"));
}

const struct dtb_panel_ops dtb_panel_versions = {
    .abi = DTB_PANEL_ABI,
    .id = "versions",
    .title = "Versions",
    .default_on = 1,
    .init = versions_init,
    .cleanup = versions_cleanup,
    .to_json = versions_to_json,
    .nav_subtitle = versions_subtitle,
    .render_html = versions_render,
};
