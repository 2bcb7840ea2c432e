/*
 * builtin.h - the table of built-in panels (builtin.c), which the core registers in every
 * toolbar it creates: the one place the core reaches into panels/. Not installed.
 */
#ifndef DTB_BUILTIN_H
#define DTB_BUILTIN_H

#include <stddef.h>

#include "debugtoolbar/panel.h"

extern const struct dtb_panel_ops *const dtbi_builtin_panels[];
extern const size_t dtbi_builtin_panels_count;

#endif
