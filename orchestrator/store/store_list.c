/* store_list.c — GET /api/spaces answered by the store's indexes (schema v7),
 * on either backend (store_db.c): one page of spaces in the asked order, from a
 * keyset cursor (the sort's value and the id of the last one listed), filtered
 * by visibility, owner, a substring of the name and tags. The work is the
 * page's, not every space's: the order comes from spaces_created /
 * spaces_modified (or the primary key), a tag from space_list_tags_tag; only a
 * search reads the names it passes. Names compare without ASCII case on both
 * backends (lower() on each side; LIKE with the search's % _ \\ escaped). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "orchestrator/store/store_int.h"

#define QUERY_TAGS_MAX 16

/* The sort's value: likes are the gallery's count (space_index, issue 25). */
static const char *
sort_key(int sort)
{
	switch (sort) {
	case STORE_LIST_CREATED:
		return "created";
	case STORE_LIST_MODIFIED:
		return "modified";
	case STORE_LIST_LIKES:
		return "COALESCE((SELECT likes FROM space_index WHERE space_id = spaces.id), 0)";
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

/* The statement's text for q, its parameters $1... in the order bind_query binds. */
static void
query_sql(const store_list_query *q, char sql[QUERY_SQL_MAX])
{
	const char *key = sort_key(q->sort);
	int n = 1;

	snprintf(sql, QUERY_SQL_MAX, "SELECT id, %s FROM spaces WHERE TRUE", key);
	if (!q->admin && q->user != NULL)
		sql_add(sql, " AND (private = 0 OR lower(owner) = lower($%d))", n++);
	else if (!q->admin)
		sql_add(sql, " AND private = 0");
	if (q->author != NULL)
		sql_add(sql, " AND lower(owner) = lower($%d)", n++);
	if (q->search != NULL)
		sql_add(sql, " AND lower(owner || '/' || name) LIKE $%d ESCAPE '\\'", n++);
	for (size_t t = 0; q->tags != NULL && q->tags[t] != NULL && t < QUERY_TAGS_MAX; t++)
		sql_add(
		    sql, " AND id IN (SELECT space_id FROM space_list_tags WHERE tag = $%d)", n++);
	if (q->sort == STORE_LIST_ID) {
		if (q->after)
			sql_add(sql, " AND id > $%d", n++);
		sql_add(sql, " ORDER BY id LIMIT $%d", n);
	} else {
		if (q->after) {
			sql_add(sql, " AND (%s, id) < ($%d, $%d)", key, n, n + 1);
			n += 2;
		}
		sql_add(sql, " ORDER BY %s DESC, id DESC LIMIT $%d", key, n);
	}
}

/* "%s%" of the search, lowercased (ASCII, as lower() on both backends), with
 * LIKE's own characters escaped; the caller frees it. */
static char *
search_pattern(const char *search)
{
	size_t len = strlen(search);
	char *p = xmalloc(2 * len + 3), *o = p;

	*o++ = '%';
	for (const char *c = search; *c != '\0'; c++) {
		if (*c == '%' || *c == '_' || *c == '\\')
			*o++ = '\\';
		*o++ = (*c >= 'A' && *c <= 'Z') ? (char)(*c - 'A' + 'a') : *c;
	}
	*o++ = '%';
	*o = '\0';
	return p;
}

static void
bind_query(store_stmt *s, const store_list_query *q, const char *pattern)
{
	if (!q->admin && q->user != NULL)
		store_bind_text(s, q->user);
	if (q->author != NULL)
		store_bind_text(s, q->author);
	if (q->search != NULL)
		store_bind_text(s, pattern);
	for (size_t t = 0; q->tags != NULL && q->tags[t] != NULL && t < QUERY_TAGS_MAX; t++)
		store_bind_text(s, q->tags[t]);
	if (q->after && q->sort != STORE_LIST_ID)
		store_bind_int(s, q->after_key);
	if (q->after)
		store_bind_int(s, q->after_id);
	store_bind_int(s, (int64_t)q->limit + 1);
}

int
store_spaces_page(
    store *st, const store_list_query *q, void (*cb)(int64_t id, int64_t key, void *arg), void *arg)
{
	char sql[QUERY_SQL_MAX];
	char *pattern = q->search != NULL ? search_pattern(q->search) : NULL;
	store_stmt s;
	int rc;

	query_sql(q, sql);
	store_stmt_init(&s, st, sql);
	bind_query(&s, q, pattern);
	while ((rc = store_step(&s)) == 1)
		cb(store_col_int(&s, 0), store_col_int(&s, 1), arg);
	store_stmt_finish(&s);
	free(pattern);
	return rc;
}

int
store_space_tags_set(store *st, int64_t id, const char *const *tags)
{
	store_stmt q;
	int r;

	if ((r = store_exec(st, "BEGIN")) != 0)
		return r;
	store_stmt_init(&q, st, "DELETE FROM space_list_tags WHERE space_id = $1");
	store_bind_int(&q, id);
	r = store_run(&q);
	for (size_t i = 0; r == 0 && tags != NULL && tags[i] != NULL; i++) {
		store_stmt_init(&q, st,
		    "INSERT INTO space_list_tags (space_id, tag) VALUES ($1, $2)"
		    " ON CONFLICT DO NOTHING");
		store_bind_int(&q, id);
		store_bind_text(&q, tags[i]);
		r = store_run(&q);
	}
	if (r != 0) {
		store_exec(st, "ROLLBACK");
		return r;
	}
	return store_exec(st, "COMMIT");
}

int
store_space_modified_set(store *st, int64_t id, int64_t modified)
{
	store_stmt q;

	store_stmt_init(&q, st, "UPDATE spaces SET modified = $1 WHERE id = $2");
	store_bind_int(&q, modified);
	store_bind_int(&q, id);
	return store_run(&q);
}
