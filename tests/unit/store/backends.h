/* backends.h — the store's unit tests run every case on both backends: sqlite
 * (a fresh file) and PostgreSQL (a fresh schema of the database that
 * PODIUM_TEST_PG names). tests/integration/test_store_postgres.py starts a
 * server and runs these binaries with it; `make test-unit` has none, and the
 * PostgreSQL cases are skipped there, saying why.
 *
 * Included by each tests/unit/store/test_*.c (one binary each): static inline only. */
#ifndef PODIUM_TEST_STORE_BACKENDS_H
#define PODIUM_TEST_STORE_BACKENDS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "orchestrator/store/store.h"
#include "orchestrator/store/store_int.h"

static const char test_sqlite[] = "sqlite", test_postgres[] = "postgres";

/* Two cases of one test function, one per backend. */
#define BOTH(f) \
	{ #f " (sqlite)", f, NULL, NULL, (void *)test_sqlite }, \
	{ #f " (postgres)", f, NULL, NULL, (void *)test_postgres }

static inline int
test_is_sqlite(void **state)
{
	return *state == (void *)test_sqlite;
}

/* A new, empty store's address on the case's backend (test_done frees it). */
static inline char *
test_where(void **state)
{
	static int schemas;
	const char *url = getenv("PODIUM_TEST_PG");
	char tmpl[] = "/tmp/podium-store-XXXXXX", *sql, *dir;
	store *st;

	if (test_is_sqlite(state)) {
		assert_non_null(dir = mkdtemp(tmpl));
		return xasprintf("sqlite:%s/podium.db", dir);
	}
	if (url == NULL || url[0] == '\0') {
		print_message("skipped: no PostgreSQL server (PODIUM_TEST_PG unset; "
		    "tests/integration/test_store_postgres.py runs this case on one)\n");
		skip();
	}
	/* a schema of its own: the tables, the change trigger, the notifications */
	sql = xasprintf("CREATE SCHEMA t%d_%d", (int)getpid(), ++schemas);
	assert_int_equal(store_connect(url, &st), 0);
	assert_int_equal(store_exec(st, sql), 0);
	store_close(st);
	free(sql);
	return xasprintf("%s%coptions=-csearch_path%%3Dt%d_%d", url, strchr(url, '?') != NULL ? '&' : '?',
	    (int)getpid(), schemas);
}

static inline void
test_done(char *where)
{
	static const char *const files[] = { "", "-wal", "-shm", NULL };
	char *path;

	if (strncmp(where, "sqlite:", 7) == 0) {
		for (const char *const *f = files; *f != NULL; f++) {
			path = xasprintf("%s%s", where + 7, *f);
			unlink(path);
			free(path);
		}
		path = xstrdup(where + 7);
		*strrchr(path, '/') = '\0';
		rmdir(path);
		free(path);
	}
	free(where);
}

/* A store of that address at an older schema version, then statements on it. */
static inline void
test_at_version(const char *where, int version, const char *sql)
{
	store *st;

	assert_int_equal(store_connect(where, &st), 0);
	assert_int_equal(store_migrate(st, version), 0);
	if (sql != NULL)
		assert_int_equal(store_exec(st, sql), 0);
	store_close(st);
}

#endif
