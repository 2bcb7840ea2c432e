/*
 * config_table.c - prints the config schema (toolbar/config_keys.c) as the Markdown table of keys
 * that README.md's Configuration section holds; tests/unit/config-table.sh compares the two.
 */
#include <stdio.h>

#include "internal.h"

int main(void)
{
    dtbi_config_table_markdown(stdout);
    return fflush(stdout) == 0 ? 0 : 1;
}
