/* store_int.h — the store's connection, for the store's own other files. */
#ifndef PODIUM_STORE_INT_H
#define PODIUM_STORE_INT_H

#include <sqlite3.h>

#include "orchestrator/store/store.h"

sqlite3 *store_sqlite(store *st);
/* The last error as -EEXIST (a constraint) or -EIO (logged once, with what). */
int store_db_fail(store *st, const char *what);
/* A prepared statement, or NULL with the error logged. */
sqlite3_stmt *store_prepare(store *st, const char *sql);

#endif
