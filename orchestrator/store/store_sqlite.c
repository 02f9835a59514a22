/* store_sqlite.c — the sqlite backend, the default for one machine: one file in
 * the data dir, in WAL mode, so that `podium user ...` writes while the daemon
 * reads; a writer waits up to 5 s for another (busy timeout). Another
 * process's commits show in PRAGMA data_version (store_data_version). */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "orchestrator/store/store_int.h"

static int
sqlite_fail(store *st, const char *sql)
{
	sqlite3 *db = st->conn;
	int code = sqlite3_extended_errcode(db);

	if (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY ||
	    code == SQLITE_CONSTRAINT_ROWID)
		return -EEXIST;
	if (code == SQLITE_CONSTRAINT_FOREIGNKEY)
		return -ENOENT;
	error("store: sqlite: %s (in: %.60s)", sqlite3_errmsg(db), sql);
	return -EIO;
}

static int
sqlite_exec(store *st, const char *sql)
{
	char *msg = NULL;
	int r = 0;

	if (sqlite3_exec(st->conn, sql, NULL, NULL, &msg) != SQLITE_OK) {
		r = sqlite_fail(st, sql);
		sqlite3_free(msg);
	}
	return r;
}

static int
sqlite_connect(store *st, const char *path)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		error(
		    "store: open %s: %s", path, db != NULL ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return -EIO;
	}
	sqlite3_busy_timeout(db, 5000);
	st->conn = db;
	if (sqlite_exec(st,
	        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
	        " PRAGMA foreign_keys = ON;") != 0) {
		sqlite3_close(db);
		st->conn = NULL;
		return -EIO;
	}
	return 0;
}

static void
sqlite_disconnect(store *st)
{
	sqlite3_close(st->conn);
	st->conn = NULL;
}

/* Parameters are named $1..$N in the text: each bound value goes to its name. */
static int
bind_all(store_stmt *q, sqlite3_stmt *s)
{
	int rc = SQLITE_OK;

	for (int i = 0; i < q->nparam && rc == SQLITE_OK; i++) {
		const store_value *v = &q->param[i];
		char name[16];
		int at;

		snprintf(name, sizeof(name), "$%d", i + 1);
		if ((at = sqlite3_bind_parameter_index(s, name)) == 0)
			continue;
		if (v->type == STORE_INT)
			rc = sqlite3_bind_int64(s, at, v->i);
		else if (v->type == STORE_TEXT)
			rc = sqlite3_bind_text(s, at, v->p, -1, SQLITE_TRANSIENT);
		else if (v->type == STORE_BLOB)
			rc = sqlite3_bind_blob64(s, at, v->p, v->len, SQLITE_TRANSIENT);
		else
			rc = sqlite3_bind_null(s, at);
	}
	return rc;
}

static int
sqlite_step(store_stmt *q)
{
	sqlite3 *db = q->st->conn;
	sqlite3_stmt *s = q->impl;
	int rc;

	if (s == NULL) {
		if (sqlite3_prepare_v2(db, q->sql, -1, &s, NULL) != SQLITE_OK)
			return sqlite_fail(q->st, q->sql);
		q->impl = s;
		if (bind_all(q, s) != SQLITE_OK)
			return sqlite_fail(q->st, q->sql);
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc != SQLITE_DONE)
		return sqlite_fail(q->st, q->sql);
	q->changes = sqlite3_changes64(db);
	return 0;
}

static void
sqlite_finish(store_stmt *q)
{
	sqlite3_finalize(q->impl);
	q->impl = NULL;
}

static int
sqlite_columns(store_stmt *q)
{
	return sqlite3_column_count(q->impl);
}

static const char *
sqlite_column_name(store_stmt *q, int i)
{
	return sqlite3_column_name(q->impl, i);
}

static store_type
sqlite_column_type(store_stmt *q, int i)
{
	switch (sqlite3_column_type(q->impl, i)) {
	case SQLITE_INTEGER:
		return STORE_INT;
	case SQLITE_BLOB:
		return STORE_BLOB;
	case SQLITE_NULL:
		return STORE_NULL;
	default:
		return STORE_TEXT;
	}
}

static int64_t
sqlite_column_int(store_stmt *q, int i)
{
	return sqlite3_column_int64(q->impl, i);
}

static const char *
sqlite_column_text(store_stmt *q, int i)
{
	return (const char *)sqlite3_column_text(q->impl, i);
}

static const void *
sqlite_column_blob(store_stmt *q, int i, size_t *len)
{
	const void *p = sqlite3_column_blob(q->impl, i);

	*len = (size_t)sqlite3_column_bytes(q->impl, i);
	return p;
}

static int
sqlite_data_version(store *st, int64_t *v)
{
	store_stmt q;
	int r;

	store_stmt_init(&q, st, "PRAGMA data_version");
	if ((r = store_step(&q)) == 1)
		*v = store_col_int(&q, 0);
	store_stmt_finish(&q);
	return r == 1 ? 0 : r < 0 ? r : -EIO;
}

static int
sqlite_changes_fd(store *st)
{
	(void)st;
	return -1;
}

static void
sqlite_describe(store *st, char *buf, size_t len)
{
	snprintf(buf, len, "sqlite %s", sqlite3_db_filename(st->conn, "main"));
}

const store_backend store_sqlite_backend = {
	.name = "sqlite",
	.dialect = STORE_DIALECT_SQLITE,
	.version_get = "PRAGMA user_version",
	.version_set = "PRAGMA user_version = %d",
	/* the write lock at once: two processes never upgrade together */
	.migrate_begin = "BEGIN IMMEDIATE",
	.migrate_step_after = NULL,
	/* tables of rows: not a virtual table (the gallery's FTS5 index) or its
	 * shadow tables, which the target's triggers fill */
	.tables = "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table'"
	          " AND name NOT LIKE 'sqlite!_%' ESCAPE '!' ORDER BY name",
	.read_begin = "BEGIN",
	.write_begin = "BEGIN IMMEDIATE",
	.copy_after = NULL,
	.connect = sqlite_connect,
	.disconnect = sqlite_disconnect,
	.exec = sqlite_exec,
	.step = sqlite_step,
	.finish = sqlite_finish,
	.columns = sqlite_columns,
	.column_name = sqlite_column_name,
	.column_type = sqlite_column_type,
	.column_int = sqlite_column_int,
	.column_text = sqlite_column_text,
	.column_blob = sqlite_column_blob,
	.data_version = sqlite_data_version,
	.changes_fd = sqlite_changes_fd,
	.describe = sqlite_describe,
};
