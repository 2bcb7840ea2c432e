/*
 * debugtoolbar/sql.h - SQL capture for the SQL panel.
 *
 * PLACEHOLDER: the SQL panel's implementation replaces this header with the real API
 * (dtb_sqlite_attach, dtb_sql_record, dtb_pq_*).
 */
#ifndef DEBUGTOOLBAR_SQL_H
#define DEBUGTOOLBAR_SQL_H

#include <debugtoolbar.h>

#endif
