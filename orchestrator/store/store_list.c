/* store_list.c — GET /api/spaces answered by sqlite's indexes (schema v6): one
 * page of spaces in the asked order, from a keyset cursor (the sort's value and
 * the id of the last one listed), filtered by visibility, owner, a substring of
 * the name and tags. The work is the page's, not every space's: the order comes
 * from spaces_created / spaces_modified (or the primary key), a tag from
 * space_list_tags_tag; only a search reads the names it passes. */
#include <errno.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "orchestrator/store/store_int.h"

#define QUERY_TAGS_MAX 16

/* The sort's value. Likes are kept by issue 25's table; until it lands, none: 0
 * for every space (an expression: a bare 0 in ORDER BY would name a column). */
static const char *
sort_key(int sort)
{
	switch (sort) {
	case STORE_SORT_CREATED:
		return "created";
	case STORE_SORT_MODIFIED:
		return "modified";
	case STORE_SORT_LIKES:
		return "(0 * id)";
	default:
		return "id";
	}
}

#define QUERY_SQL_MAX 2048

static void sql_add(char *sql, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
sql_add(char *sql, const char *fmt, ...)
{
	size_t used = strlen(sql);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql + used, QUERY_SQL_MAX - used, fmt, ap);
	va_end(ap);
}

/* The statement's text for q (its parameters bound by bind_query, in order). */
static void
query_sql(const store_space_query *q, char sql[QUERY_SQL_MAX])
{
	const char *key = sort_key(q->sort);

	snprintf(sql, QUERY_SQL_MAX, "SELECT id, %s FROM spaces WHERE 1", key);
	if (!q->admin)
		sql_add(sql, " AND (private = 0%s)",
		    q->user != NULL ? " OR owner = ? COLLATE NOCASE" : "");
	if (q->author != NULL)
		sql_add(sql, " AND owner = ? COLLATE NOCASE");
	if (q->search != NULL)
		sql_add(sql, " AND instr(lower(owner || '/' || name), lower(?)) > 0");
	for (size_t t = 0; q->tags != NULL && q->tags[t] != NULL && t < QUERY_TAGS_MAX; t++)
		sql_add(sql, " AND id IN (SELECT space_id FROM space_list_tags WHERE tag = ?)");
	if (q->sort == STORE_SORT_ID) {
		sql_add(sql, "%s ORDER BY id LIMIT ?", q->after ? " AND id > ?" : "");
	} else {
		if (q->after)
			sql_add(sql, " AND (%s, id) < (?, ?)", key);
		sql_add(sql, " ORDER BY %s DESC, id DESC LIMIT ?", key);
	}
}

static void
bind_query(sqlite3_stmt *s, const store_space_query *q)
{
	int i = 1;

	if (!q->admin && q->user != NULL)
		sqlite3_bind_text(s, i++, q->user, -1, SQLITE_TRANSIENT);
	if (q->author != NULL)
		sqlite3_bind_text(s, i++, q->author, -1, SQLITE_TRANSIENT);
	if (q->search != NULL)
		sqlite3_bind_text(s, i++, q->search, -1, SQLITE_TRANSIENT);
	for (size_t t = 0; q->tags != NULL && q->tags[t] != NULL && t < QUERY_TAGS_MAX; t++)
		sqlite3_bind_text(s, i++, q->tags[t], -1, SQLITE_TRANSIENT);
	if (q->after && q->sort != STORE_SORT_ID)
		sqlite3_bind_int64(s, i++, q->after_key);
	if (q->after)
		sqlite3_bind_int64(s, i++, q->after_id);
	sqlite3_bind_int(s, i, q->limit + 1);
}

int
store_spaces_page(store *st, const store_space_query *q,
    void (*cb)(int64_t id, int64_t key, void *arg), void *arg)
{
	char sql[QUERY_SQL_MAX];
	sqlite3_stmt *s;
	int rc;

	query_sql(q, sql);
	if ((s = store_prepare(st, sql)) == NULL)
		return -EIO;
	bind_query(s, q);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		cb(sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1), arg);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : store_db_fail(st, "list spaces");
}

static int
exec_one(store *st, const char *sql, int64_t id, const char *text)
{
	sqlite3_stmt *s = store_prepare(st, sql);
	int rc;

	if (s == NULL)
		return -EIO;
	sqlite3_bind_int64(s, 1, id);
	if (text != NULL)
		sqlite3_bind_text(s, 2, text, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : store_db_fail(st, sql);
}

int
store_space_tags_set(store *st, int64_t id, const char *const *tags)
{
	sqlite3 *db = store_sqlite(st);
	int r;

	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return store_db_fail(st, "tags");
	r = exec_one(st, "DELETE FROM space_list_tags WHERE space_id = ?", id, NULL);
	for (size_t i = 0; r == 0 && tags != NULL && tags[i] != NULL; i++)
		r = exec_one(st, "INSERT OR IGNORE INTO space_list_tags (space_id, tag) VALUES (?, ?)",
		    id, tags[i]);
	if (sqlite3_exec(db, r == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK &&
	    r == 0)
		r = store_db_fail(st, "tags");
	return r;
}

int
store_space_modified_set(store *st, int64_t id, int64_t modified)
{
	sqlite3_stmt *s = store_prepare(st, "UPDATE spaces SET modified = ? WHERE id = ?");
	int rc;

	if (s == NULL)
		return -EIO;
	sqlite3_bind_int64(s, 1, modified);
	sqlite3_bind_int64(s, 2, id);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : store_db_fail(st, "modified");
}
