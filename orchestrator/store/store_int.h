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
/* store_gallery.c: the schema step of likes and the gallery's index (store.c's
 * migrate runs it); the gallery's index row and tags of space id, from its spaces row
 * (after every insert and update); at open, every space again when the index does
 * not hold them all (a database from before it). 0 or -EIO. */
extern const char *const store_schema_gallery;
int store_gallery_index(store *st, int64_t id);
int store_gallery_check(store *st);

#endif
