/*
 * profile_int.h - what the Profile panel's files share (panels/profile/). Not installed.
 */
#ifndef DTB_PROFILE_INT_H
#define DTB_PROFILE_INT_H

#include "../panels.h"

/* render.c: the nav line, the fragment and the compare view, from the stored profile. */
int dtbi_profile_subtitle(const json_t *stats, struct dtb_buf *out);
int dtbi_profile_render(const json_t *stats, struct dtb_buf *out);
int dtbi_profile_compare(const json_t *a, const json_t *b, struct dtb_buf *out);

#endif
