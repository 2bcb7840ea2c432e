/*
 * debugtoolbar/export.h - DTB_EXPORT, which marks the functions the library exports.
 *
 * The library is built with -fvisibility=hidden: only what the public headers declare with
 * DTB_EXPORT leaves it (tests/unit/check-exports.sh checks both directions: every exported
 * symbol is declared here, every declared function is exported).
 */
#ifndef DEBUGTOOLBAR_EXPORT_H
#define DEBUGTOOLBAR_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define DTB_EXPORT __attribute__((visibility("default")))
#else
#define DTB_EXPORT
#endif

#endif
