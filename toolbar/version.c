/*
 * version.c - the library's run-time version. Compile-time: DTB_VERSION_HEX in debugtoolbar.h.
 */
#include "internal.h"

const char *dtb_version(void)
{
    return DTB_VERSION;
}
