/* store_int.h — the store's connection, for the store's own other files. */
#ifndef PODIUM_STORE_INT_H
#define PODIUM_STORE_INT_H

#include <sqlite3.h>

#include "orchestrator/store/store.h"

sqlite3 *store_sqlite(store *st);

#endif
