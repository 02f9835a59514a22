/* store_db.c — a store opened from its address (which backend), the schema's
 * migrations, and the statement layer every row function is written with
 * (store_int.h). */
#include "orchestrator/store/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "orchestrator/store/store_int.h"

/* The backend an address names, and what it is given (*rest); NULL: none. */
static const store_backend *
backend_for(const char *where, const char **rest)
{
	*rest = where;
	if (strncmp(where, "postgres://", 11) == 0 || strncmp(where, "postgresql://", 13) == 0)
		return &store_pg_backend;
	if (strncmp(where, "sqlite:", 7) == 0) {
		*rest = where + 7;
		return **rest != '\0' ? &store_sqlite_backend : NULL;
	}
	if (where[0] == '\0' || strstr(where, "://") != NULL)
		return NULL;
	return &store_sqlite_backend;
}

int
store_connect(const char *where, store **out)
{
	const char *rest;
	const store_backend *be = backend_for(where, &rest);
	store *st;
	int r;

	*out = NULL;
	if (be == NULL) {
		/* only the scheme: the rest may hold a password */
		const char *end = strstr(where, "://");

		error(
		    "store: \"%.*s\" is not a store address: use postgres://USER@HOST/DATABASE or "
		    "sqlite:PATH",
		    end != NULL ? (int)(end - where) + 3 : (int)strlen(where), where);
		return -EINVAL;
	}
	st = xcalloc(1, sizeof(*st));
	st->be = be;
	if ((r = be->connect(st, rest)) != 0) {
		free(st);
		return r;
	}
	*out = st;
	return 0;
}

int
store_exec(store *st, const char *sql)
{
	st->statements++;
	return st->be->exec(st, sql);
}

int
store_migrate(store *st, int target)
{
	const store_backend *be = st->be;
	int64_t version = 0, from;
	char set[160];
	store_stmt q;
	int r;

	if (target > STORE_SCHEMA_VERSION)
		target = STORE_SCHEMA_VERSION;
	if ((r = store_exec(st, be->migrate_begin)) != 0)
		return r;
	store_stmt_init(&q, st, be->version_get);
	if ((r = store_step(&q)) == 1)
		version = store_col_int(&q, 0);
	store_stmt_finish(&q);
	if (r < 0)
		goto fail;
	if (version > target) {
		r = -ENOTSUP;
		error(
		    "store: the database's schema is version %lld, newer than this podium's (%d): "
		    "run a podium at least as new (nothing was changed)",
		    (long long)version, target);
		goto fail;
	}
	for (from = version; version < target; version++) {
		const store_schema_step *s = &store_schema_steps[version];

		snprintf(set, sizeof(set), be->version_set, (int)version + 1);
		if ((r = store_exec(
		         st, be->dialect == STORE_DIALECT_SQLITE ? s->sqlite : s->postgres)) != 0 ||
		    (be->migrate_step_after != NULL &&
		        (r = store_exec(st, be->migrate_step_after)) != 0) ||
		    (r = store_exec(st, set)) != 0)
			goto fail;
	}
	if ((r = store_exec(st, "COMMIT")) != 0)
		goto fail;
	if (be->migrate_end != NULL && (r = store_exec(st, be->migrate_end)) != 0)
		return r;
	if (from > 0 && from < target)
		log_info("store: schema upgraded from version %lld to %d", (long long)from, target);
	return 0;
fail:
	store_exec(st, "ROLLBACK");
	if (be->migrate_end != NULL)
		store_exec(st, be->migrate_end);
	return r;
}

int
store_open(const char *where, store **out)
{
	int r = store_connect(where, out);

	if (r == 0 && ((r = store_migrate(*out, STORE_SCHEMA_VERSION)) != 0 ||
	                  (r = store_gallery_check(*out)) != 0)) {
		store_close(*out);
		*out = NULL;
	}
	return r;
}

void
store_close(store *st)
{
	if (st == NULL)
		return;
	st->be->disconnect(st);
	free(st);
}

int
store_locate(const char *data_dir, const char *url, const config *cfg, char **where, char *err,
    size_t errlen)
{
	const json_t *v = config_get(cfg, "store");
	const char *s;

	*where = NULL;
	if (url != NULL) {
		*where = xstrdup(url);
		return 0;
	}
	if (v == NULL) {
		*where = xasprintf("sqlite:%s/podium.db", data_dir);
		return 0;
	}
	if (!json_is_string(v) || (s = json_string_value(v))[0] == '\0') {
		snprintf(err, errlen,
		    "config.yaml line %zu: store: wants postgres://USER@HOST/DATABASE "
		    "or sqlite:PATH",
		    config_line(cfg, v));
		return -EINVAL;
	}
	/* a relative sqlite path is the data dir's */
	if (strncmp(s, "sqlite:", 7) == 0 && s[7] != '/' && s[7] != '\0')
		*where = xasprintf("sqlite:%s/%s", data_dir, s + 7);
	else
		*where = xstrdup(s);
	return 0;
}

void
store_describe(store *st, char *buf, size_t len)
{
	st->be->describe(st, buf, len);
}

int
store_data_version(store *st, int64_t *v)
{
	return st->be->data_version(st, v);
}

int
store_changes_fd(store *st)
{
	return st->be->changes_fd(st);
}

uint64_t
store_statements(const store *st)
{
	return st->statements;
}

int
store_notifications(store *st, void (*cb)(const char *payload, void *arg), void *arg)
{
	return st->be->notifications != NULL ? st->be->notifications(st, cb, arg) : -ENOTSUP;
}

/* ---- statements ---- */

void
store_stmt_init(store_stmt *q, store *st, const char *sql)
{
	memset(q, 0, sizeof(*q));
	q->st = st;
	q->sql = sql;
	q->row = -1;
}

static store_value *
param_next(store_stmt *q)
{
	if (q->nparam == STORE_PARAMS_MAX) {
		q->failed = 1;
		return NULL;
	}
	return &q->param[q->nparam++];
}

void
store_bind_int(store_stmt *q, int64_t v)
{
	store_value *p = param_next(q);

	if (p != NULL)
		*p = (store_value){ .type = STORE_INT, .i = v };
}

void
store_bind_text(store_stmt *q, const char *s)
{
	store_value *p = param_next(q);
	char *copy;

	if (p == NULL)
		return;
	if (s == NULL) {
		*p = (store_value){ .type = STORE_NULL };
		return;
	}
	copy = xstrdup(s);
	if (utf8_scrub(copy) > 0)
		s = q->owned[q->nparam - 1] = copy;
	else
		free(copy);
	*p = (store_value){ .type = STORE_TEXT, .p = s, .len = strlen(s) };
}

void
store_bind_blob(store_stmt *q, const void *b, size_t len)
{
	store_value *p = param_next(q);

	if (p != NULL)
		*p = (store_value){ .type = STORE_BLOB, .p = b != NULL ? b : "", .len = len };
}

void
store_bind_value(store_stmt *q, const store_value *v)
{
	switch (v->type) {
	case STORE_INT:
		store_bind_int(q, v->i);
		break;
	case STORE_TEXT:
		store_bind_text(q, v->p);
		break;
	case STORE_BLOB:
		store_bind_blob(q, v->p, v->len);
		break;
	default:
		store_bind_text(q, NULL);
	}
}

int
store_step(store_stmt *q)
{
	if (q->failed) {
		error("store: more than %d parameters (in: %.60s)", STORE_PARAMS_MAX, q->sql);
		return -EIO;
	}
	if (q->row == -1 && q->impl == NULL)
		q->st->statements++; /* the statement goes to the database now */
	return q->st->be->step(q);
}

void
store_stmt_finish(store_stmt *q)
{
	q->st->be->finish(q);
	for (int i = 0; i < q->nparam; i++) {
		free(q->owned[i]);
		q->owned[i] = NULL;
	}
}

int
store_run(store_stmt *q)
{
	int r = store_step(q);

	store_stmt_finish(q);
	return r > 0 ? 0 : r;
}

int
store_run_changed(store_stmt *q)
{
	int r = store_run(q);

	return r == 0 && q->changes == 0 ? -ENOENT : r;
}

int
store_run_insert(store_stmt *q, int64_t *id)
{
	int r = store_step(q);

	if (r == 1) {
		*id = store_col_int(q, 0);
		r = 0;
	} else if (r == 0) {
		error("store: no id returned (in: %.60s)", q->sql);
		r = -EIO;
	}
	store_stmt_finish(q);
	return r;
}

int
store_col_count(store_stmt *q)
{
	return q->st->be->columns(q);
}

const char *
store_col_name(store_stmt *q, int i)
{
	return q->st->be->column_name(q, i);
}

store_type
store_col_type(store_stmt *q, int i)
{
	return q->st->be->column_type(q, i);
}

int64_t
store_col_int(store_stmt *q, int i)
{
	return q->st->be->column_int(q, i);
}

const char *
store_col_text(store_stmt *q, int i)
{
	return q->st->be->column_text(q, i);
}

char *
store_col_dup(store_stmt *q, int i)
{
	const char *s = store_col_text(q, i);

	return s != NULL ? xstrdup(s) : NULL;
}

const void *
store_col_blob(store_stmt *q, int i, size_t *len)
{
	return q->st->be->column_blob(q, i, len);
}

void
store_col_value(store_stmt *q, int i, store_value *v)
{
	memset(v, 0, sizeof(*v));
	switch ((v->type = store_col_type(q, i))) {
	case STORE_INT:
		v->i = store_col_int(q, i);
		break;
	case STORE_TEXT:
		v->p = store_col_text(q, i);
		v->len = strlen(v->p);
		break;
	case STORE_BLOB:
		v->p = store_col_blob(q, i, &v->len);
		break;
	default:
		break;
	}
}
