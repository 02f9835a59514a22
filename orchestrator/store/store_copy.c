/* store_copy.c — every row of one store into another (podium store migrate),
 * either way between the backends: both have this podium's schema (store_open
 * made it so), the tables go in store_tables' order (a table after those it
 * refers to), each row's columns by name with their values' own types, ids
 * kept; the tables derived from them (store_tables_derived: the gallery's
 * index) are not copied but made again on the target, in its own dialect. The
 * source is read in one snapshot and the target written in one transaction, so
 * a failure leaves the target as it was. */
#include "orchestrator/store/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "orchestrator/store/store_int.h"

static int
table_listed(const char *const *tables, const char *name)
{
	for (const char *const *t = tables; *t != NULL; t++)
		if (strcmp(*t, name) == 0)
			return 1;
	return 0;
}

static int
table_known(const char *name)
{
	return table_listed(store_tables, name) || table_listed(store_tables_derived, name);
}

/* Every table of the source is one this podium copies: a table it would skip
 * is a refusal, not a loss. */
static int
tables_check(store *st, char *err, size_t errlen)
{
	store_stmt q;
	const char *t;
	int r;

	store_stmt_init(&q, st, st->be->tables);
	while ((r = store_step(&q)) == 1) {
		if ((t = store_col_text(&q, 0)) != NULL && !table_known(t)) {
			snprintf(
			    err, errlen, "the source has a table this podium does not copy: %s", t);
			r = -EPROTO;
			break;
		}
	}
	store_stmt_finish(&q);
	if (r == -EIO)
		snprintf(err, errlen, "cannot list the source's tables");
	return r;
}

static int
table_count(store *st, const char *table, int64_t *n)
{
	char *sql = xasprintf("SELECT COUNT(*) FROM %s", table);
	store_stmt q;
	int r;

	store_stmt_init(&q, st, sql);
	if ((r = store_step(&q)) == 1)
		*n = store_col_int(&q, 0);
	store_stmt_finish(&q);
	free(sql);
	return r == 1 ? 0 : r == 0 ? -EIO : r;
}

/* INSERT INTO table ("c1", ...) VALUES ($1, ...) for the columns of q's rows. */
static char *
insert_sql(store_stmt *q, const char *table)
{
	int n = store_col_count(q);
	char *cols = xstrdup(""), *vals = xstrdup(""), *t, *sql;

	for (int i = 0; i < n; i++) {
		t = xasprintf("%s%s\"%s\"", cols, i > 0 ? ", " : "", store_col_name(q, i));
		free(cols);
		cols = t;
		t = xasprintf("%s%s$%d", vals, i > 0 ? ", " : "", i + 1);
		free(vals);
		vals = t;
	}
	sql = xasprintf("INSERT INTO %s (%s) VALUES (%s)", table, cols, vals);
	free(cols);
	free(vals);
	return sql;
}

static int
table_copy(store *from, store *to, const char *table, int64_t *rows)
{
	char *select = xasprintf("SELECT * FROM %s ORDER BY 1", table), *insert = NULL;
	store_stmt q, w;
	store_value v;
	int r;

	*rows = 0;
	store_stmt_init(&q, from, select);
	while ((r = store_step(&q)) == 1) {
		if (insert == NULL)
			insert = insert_sql(&q, table);
		store_stmt_init(&w, to, insert);
		for (int i = 0; i < store_col_count(&q); i++) {
			store_col_value(&q, i, &v);
			store_bind_value(&w, &v);
		}
		if ((r = store_run(&w)) != 0)
			break;
		(*rows)++;
	}
	store_stmt_finish(&q);
	free(select);
	free(insert);
	return r;
}

/* The target holds no row: a copy never mixes with what is there. */
static int
target_empty(store *to, char *err, size_t errlen)
{
	int64_t n = 0;
	int r;

	for (const char *const *t = store_tables; *t != NULL; t++) {
		if ((r = table_count(to, *t, &n)) != 0) {
			snprintf(err, errlen, "cannot count the target's %s", *t);
			return r;
		}
		if (n > 0) {
			snprintf(err, errlen, "the target is not empty: its table %s has %lld rows",
			    *t, (long long)n);
			return -EEXIST;
		}
	}
	return 0;
}

/* The source holds something: an empty one is a wrong address, not a store. */
static int
source_rows(store *from, char *err, size_t errlen)
{
	int64_t n = 0, all = 0;
	int r;

	for (const char *const *t = store_tables; *t != NULL; t++) {
		if ((r = table_count(from, *t, &n)) != 0)
			return r;
		all += n;
	}
	if (all == 0) {
		snprintf(err, errlen, "the source holds no row: is it the right store?");
		return -ENOENT;
	}
	return 0;
}

/* Copies the tables in order; each table's count read back from both sides. */
static int
tables_copy(store *from, store *to, void (*cb)(const char *table, int64_t rows, void *arg),
    void *arg, char *err, size_t errlen)
{
	int64_t rows, in_from = -1, in_to = -1;
	int r;

	for (const char *const *t = store_tables; *t != NULL; t++) {
		if ((r = table_copy(from, to, *t, &rows)) != 0) {
			snprintf(err, errlen, "copying table %s: %s", *t, strerror(-r));
			return r;
		}
		if ((r = table_count(from, *t, &in_from)) != 0 ||
		    (r = table_count(to, *t, &in_to)) != 0 || in_from != rows || in_to != rows) {
			snprintf(err, errlen,
			    "table %s: %lld rows in the source, %lld copied, %lld in the "
			    "target",
			    *t, (long long)in_from, (long long)rows, (long long)in_to);
			return r != 0 ? r : -EIO;
		}
		if (cb != NULL)
			cb(*t, rows, arg);
	}
	return 0;
}

int
store_copy(store *from, store *to, void (*cb)(const char *table, int64_t rows, void *arg),
    void *arg, char *err, size_t errlen)
{
	int r;

	snprintf(err, errlen, "store error (logged)");
	if ((r = tables_check(from, err, errlen)) != 0)
		return r;
	if ((r = store_exec(from, from->be->read_begin)) != 0)
		return r;
	if ((r = store_exec(to, to->be->write_begin)) != 0)
		goto fail;
	if ((r = source_rows(from, err, errlen)) != 0 || (r = target_empty(to, err, errlen)) != 0 ||
	    (r = tables_copy(from, to, cb, arg, err, errlen)) != 0)
		goto fail;
	/* the derived tables: the target's own, from the rows it now holds */
	if ((r = store_gallery_index(to, 0)) != 0) {
		snprintf(err, errlen, "indexing the spaces for the gallery: %s", strerror(-r));
		goto fail;
	}
	if (to->be->copy_after != NULL && (r = store_exec(to, to->be->copy_after)) != 0)
		goto fail;
	if ((r = store_exec(to, "COMMIT")) != 0)
		goto fail;
	store_exec(from, "COMMIT");
	return 0;
fail:
	store_exec(to, "ROLLBACK");
	store_exec(from, "ROLLBACK");
	return r;
}
