/* store_int.h — the store's connection, for the store's own other files. */
#ifndef PODIUM_STORE_INT_H
#define PODIUM_STORE_INT_H

#include <sqlite3.h>

#include "orchestrator/store/store.h"

sqlite3 *store_sqlite(store *st);
/* A prepared statement (NULL: logged), and an error as -EEXIST / -EIO (logged). */
sqlite3_stmt *store_prep(store *st, const char *sql);
int store_fail(store *st, const char *what);

#endif
