/*
 * debugtoolbar/record.h - PLACEHOLDER, replaced by the state panels' recording API.
 */
#ifndef DEBUGTOOLBAR_RECORD_H
#define DEBUGTOOLBAR_RECORD_H
#include <debugtoolbar.h>
#endif
