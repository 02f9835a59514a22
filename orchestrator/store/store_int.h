/* store_int.h — the store's inside, for orchestrator/store/ and its tests only.
 *
 * One store, two backends behind one table of operations (store_backend):
 * sqlite (store_sqlite.c, the default for one machine) and PostgreSQL
 * (store_pg.c, libpq, for machines that share one database). Everything above
 * them is written once: the rows (store.c, store_users.c, store_gallery.c),
 * the schema's steps (store_schema.c: each step's DDL for both backends side by
 * side, one version number), migrations and the statement layer (store_db.c),
 * the copy from one store to another (store_copy.c). Where a statement cannot
 * be one text (the gallery's JSON and search), the schema gives both dialects
 * one name for it (a view) or the row function holds the two texts side by
 * side, chosen by be->dialect.
 *
 * A statement (store_stmt) is SQL that both dialects read the same: parameters
 * are $1..$N, numbered in the order they are bound; INSERT ... RETURNING id
 * (not last_insert_rowid), INSERT ... ON CONFLICT (...) DO UPDATE (not INSERT
 * OR REPLACE), no PRAGMA, no LIKE (case rules differ). Porting a function
 * written with sqlite3_*: sqlite3_prepare_v2 → store_stmt_init, sqlite3_bind_*
 * → store_bind_* in $ order, sqlite3_step → store_step (1 a row, 0 done,
 * -errno), sqlite3_column_* → store_col_*, sqlite3_finalize →
 * store_stmt_finish, sqlite3_changes → q.changes (store_run_changed).
 *
 * Errors mean the same on both: a unique or primary key violation is -EEXIST,
 * a reference to a missing row (foreign key) -ENOENT, neither logged; anything
 * else is -EIO, logged once with the statement's start. Bound text is UTF-8 on
 * both: a string that is not is bound with its bad bytes replaced (utf8_scrub). */
#ifndef PODIUM_STORE_INT_H
#define PODIUM_STORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "orchestrator/store/store.h"

typedef enum store_type {
	STORE_NULL,
	STORE_INT,
	STORE_TEXT,
	STORE_BLOB
} store_type;

typedef struct store_value {
	store_type type;
	int64_t i;
	const void *p; /* text (NUL-terminated) or blob bytes; the caller's */
	size_t len;    /* a blob's length */
} store_value;

#define STORE_PARAMS_MAX 24

typedef struct store_stmt {
	store *st;
	const char *sql;
	int nparam;
	store_value param[STORE_PARAMS_MAX];
	char *owned[STORE_PARAMS_MAX]; /* scrubbed copies of bound text, freed by finish */
	void *impl;                    /* the backend's statement or result */
	int row;                       /* the backend's row cursor */
	int64_t changes;               /* rows a statement without rows changed, once done */
	int failed;                    /* a bind did not fit: step fails with -EIO */
} store_stmt;

/* The schema: steps[v] takes a database from version v to v+1, on either backend. */
typedef struct store_schema_step {
	const char *sqlite;
	const char *postgres;
} store_schema_step;

#define STORE_SCHEMA_VERSION 9
extern const store_schema_step store_schema_steps[STORE_SCHEMA_VERSION];
/* Every table of the schema whose rows store_copy copies, each after the tables
 * it refers to. */
extern const char *const store_tables[];
/* The tables derived from those (the gallery's index and tags): known to
 * store_copy, not copied; the target derives its own (store_gallery_index). */
extern const char *const store_tables_derived[];

enum store_dialect {
	STORE_DIALECT_SQLITE,
	STORE_DIALECT_POSTGRES
};

/* A backend: what differs, as statements (data) and as calls. */
typedef struct store_backend {
	const char *name;
	enum store_dialect dialect; /* which text of a schema step it runs */
	/* one row, one integer: the schema version (0 for a new database) */
	const char *version_get;
	/* a printf format with one %d: records the version, inside the migration */
	const char *version_set;
	/* a write transaction one process at a time gets, before version_get */
	const char *migrate_begin;
	/* run after each step in the same transaction, or NULL */
	const char *migrate_step_after;
	/* run after the migration's COMMIT or ROLLBACK, or NULL */
	const char *migrate_end;
	/* one row per table of the schema, its name in column 0 */
	const char *tables;
	/* a read transaction that sees one snapshot (store_copy's source) */
	const char *read_begin;
	/* a write transaction (store_copy's target) */
	const char *write_begin;
	/* run in the target's transaction after store_copy's rows, or NULL */
	const char *copy_after;

	/* 0, or -errno with the reason logged; sets st->conn */
	int (*connect)(store *st, const char *where);
	void (*disconnect)(store *st);
	/* statements without parameters or rows, one or several; 0 or -errno */
	int (*exec)(store *st, const char *sql);
	/* runs q at its first call: 1 a row, 0 done (q->changes set), -errno */
	int (*step)(store_stmt *q);
	void (*finish)(store_stmt *q);
	int (*columns)(store_stmt *q);
	const char *(*column_name)(store_stmt *q, int i);
	store_type (*column_type)(store_stmt *q, int i);
	int64_t (*column_int)(store_stmt *q, int i);
	const char *(*column_text)(store_stmt *q, int i);
	const void *(*column_blob)(store_stmt *q, int i, size_t *len);
	int (*data_version)(store *st, int64_t *v);
	int (*changes_fd)(store *st);
	/* other connections' notifications on podium_changes, each payload to cb
	 * ("schema.table"), without waiting (issue 27's cluster); NULL: none */
	int (*notifications)(store *st, void (*cb)(const char *payload, void *arg), void *arg);
	void (*describe)(store *st, char *buf, size_t len);
} store_backend;

extern const store_backend store_sqlite_backend;
extern const store_backend store_pg_backend;

struct store {
	const store_backend *be;
	void *conn;         /* the backend's connection */
	int64_t last_token; /* id of the token store_token_add inserted last */
	uint64_t statements; /* sent to the database (store_statements) */
};

/* A connection without migrations (store_open's first half; tests use it to
 * build old schemas); where as for store_open. */
int store_connect(const char *where, store **out);
/* Brings the schema to version target (store_open: STORE_SCHEMA_VERSION) in one
 * transaction that one process at a time gets; a database newer than target is
 * refused untouched (-ENOTSUP). */
int store_migrate(store *st, int target);
int store_exec(store *st, const char *sql);

void store_stmt_init(store_stmt *q, store *st, const char *sql);
void store_bind_int(store_stmt *q, int64_t v);
/* NULL binds NULL. The string must live until the statement runs. */
void store_bind_text(store_stmt *q, const char *s);
void store_bind_blob(store_stmt *q, const void *p, size_t len);
void store_bind_value(store_stmt *q, const store_value *v);
int store_step(store_stmt *q);
void store_stmt_finish(store_stmt *q);
/* A statement without rows run to its end and finished: 0 or -errno. */
int store_run(store_stmt *q);
/* The same; -ENOENT when it changed no row. */
int store_run_changed(store_stmt *q);
/* An INSERT ... RETURNING id run and finished: the new row's id. */
int store_run_insert(store_stmt *q, int64_t *id);

/* Columns of the current row, from 0. Text and blobs are valid until the next
 * step; NULL reads as 0, NULL, or (NULL, 0). */
int store_col_count(store_stmt *q);
const char *store_col_name(store_stmt *q, int i);
store_type store_col_type(store_stmt *q, int i);
int64_t store_col_int(store_stmt *q, int i);
const char *store_col_text(store_stmt *q, int i);
/* A copy of the text (caller frees), or NULL. */
char *store_col_dup(store_stmt *q, int i);
const void *store_col_blob(store_stmt *q, int i, size_t *len);
/* The whole value (text and blobs valid until the next step). */
void store_col_value(store_stmt *q, int i, store_value *v);

/* store_gallery.c: the gallery's index row and tags of space id (0: of every
 * space) from its spaces row, after every insert and update (store.c) and after
 * store_copy; at open, every space again when the index does not hold them all
 * (a database from before it). 0 or -errno. */
int store_gallery_index(store *st, int64_t id);
int store_gallery_check(store *st);

#endif
