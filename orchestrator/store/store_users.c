/* store_users.c — users with roles and passwords, named tokens and browser
 * sessions in the store (schema v5). Same conventions as store.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "orchestrator/store/store_int.h"

int
store_user_add(store *st, const char *name, int admin, const char *pwhash, int64_t *id)
{
	store_stmt q;
	int64_t got;

	store_stmt_init(&q, st,
	    "INSERT INTO users (name, created, role, password)"
	    " VALUES ($1, $2, $3, $4) RETURNING id");
	store_bind_text(&q, name);
	store_bind_int(&q, (int64_t)time(NULL));
	store_bind_text(&q, admin ? "admin" : "user");
	store_bind_text(&q, pwhash);
	return store_run_insert(&q, id != NULL ? id : &got);
}

#define USER_COLUMNS "SELECT id, name, role, disabled, password, created FROM users"

static void
user_from_row(store_stmt *q, user_row *u)
{
	const char *name = store_col_text(q, 1), *role = store_col_text(q, 2);

	memset(u, 0, sizeof(*u));
	u->id = store_col_int(q, 0);
	snprintf(u->name, sizeof(u->name), "%s", name != NULL ? name : "");
	u->admin = role != NULL && strcmp(role, "admin") == 0;
	u->disabled = (int)store_col_int(q, 3);
	u->has_password = store_col_text(q, 4) != NULL;
	u->created = store_col_int(q, 5);
}

int
store_user_get(store *st, const char *name, user_row *out)
{
	store_stmt q;
	int r;

	store_stmt_init(&q, st, USER_COLUMNS " WHERE name = $1");
	store_bind_text(&q, name);
	if ((r = store_step(&q)) == 1)
		user_from_row(&q, out);
	store_stmt_finish(&q);
	return r == 1 ? 0 : r == 0 ? -ENOENT : r;
}

int
store_users_list(store *st, void (*cb)(const user_row *u, void *arg), void *arg)
{
	store_stmt q;
	user_row u;
	int rc;

	store_stmt_init(&q, st, USER_COLUMNS " ORDER BY name");
	while ((rc = store_step(&q)) == 1) {
		user_from_row(&q, &u);
		cb(&u, arg);
	}
	store_stmt_finish(&q);
	return rc;
}

int
store_user_password(store *st, const char *name, char **pwhash)
{
	store_stmt q;
	int r;

	store_stmt_init(&q, st, "SELECT password FROM users WHERE name = $1 AND disabled = 0");
	store_bind_text(&q, name);
	if ((r = store_step(&q)) == 1 && (*pwhash = store_col_dup(&q, 0)) != NULL)
		r = 0;
	else if (r >= 0)
		r = -ENOENT;
	store_stmt_finish(&q);
	return r;
}

/* One column of one user by name; -ENOENT without such a user. */
static int
user_set(store *st, const char *sql, const store_value *v, const char *name)
{
	store_stmt q;

	store_stmt_init(&q, st, sql);
	store_bind_value(&q, v);
	store_bind_text(&q, name);
	return store_run_changed(&q);
}

int
store_user_set_password(store *st, const char *name, const char *pwhash)
{
	store_value v = { .type = STORE_TEXT, .p = pwhash };

	return user_set(st, "UPDATE users SET password = $1 WHERE name = $2", &v, name);
}

int
store_user_set_admin(store *st, const char *name, int admin)
{
	store_value v = { .type = STORE_TEXT, .p = admin ? "admin" : "user" };

	return user_set(st, "UPDATE users SET role = $1 WHERE name = $2", &v, name);
}

int
store_user_set_disabled(store *st, const char *name, int disabled)
{
	store_value v = { .type = STORE_INT, .i = disabled != 0 };
	store_stmt q;
	int r;

	r = user_set(st, "UPDATE users SET disabled = $1 WHERE name = $2", &v, name);
	/* a disabled user's browser sessions end with it */
	if (r == 0 && disabled) {
		store_stmt_init(&q, st,
		    "DELETE FROM sessions WHERE user_id ="
		    " (SELECT id FROM users WHERE name = $1)");
		store_bind_text(&q, name);
		store_run(&q);
	}
	return r;
}

int
store_token_label_last(store *st, int write, const char *name)
{
	store_stmt q;

	store_stmt_init(&q, st, "UPDATE tokens SET role = $1, name = $2 WHERE id = $3");
	store_bind_text(&q, write ? "write" : "read");
	store_bind_text(&q, name);
	store_bind_int(&q, st->last_token);
	return store_run_changed(&q);
}

int
store_token_name(store *st, const char *prefix, char *name, size_t len)
{
	store_stmt q;
	const char *n;
	int r;

	store_stmt_init(&q, st, "SELECT name FROM tokens WHERE prefix = $1");
	store_bind_text(&q, prefix);
	if ((r = store_step(&q)) == 1) {
		n = store_col_text(&q, 0);
		snprintf(name, len, "%s", n != NULL ? n : "");
	}
	store_stmt_finish(&q);
	return r == 1 ? 0 : r == 0 ? -ENOENT : r;
}

int
store_token_role(store *st, const char *prefix, int *write)
{
	store_stmt q;
	const char *role;
	int r;

	store_stmt_init(&q, st, "SELECT role FROM tokens WHERE prefix = $1");
	store_bind_text(&q, prefix);
	if ((r = store_step(&q)) == 1) {
		role = store_col_text(&q, 0);
		*write = role == NULL || strcmp(role, "read") != 0;
	}
	store_stmt_finish(&q);
	return r == 1 ? 0 : r == 0 ? -ENOENT : r;
}

int
store_tokens_list(store *st, int64_t user_id, void (*cb)(const token_row *t, void *arg), void *arg)
{
	store_stmt q;
	token_row t;
	const char *role;
	int rc;

	store_stmt_init(&q, st,
	    "SELECT id, prefix, name, role, created FROM tokens"
	    " WHERE user_id = $1 ORDER BY id");
	store_bind_int(&q, user_id);
	while ((rc = store_step(&q)) == 1) {
		role = store_col_text(&q, 3);
		t.id = store_col_int(&q, 0);
		t.prefix = store_col_text(&q, 1);
		t.name = store_col_text(&q, 2);
		t.write = role == NULL || strcmp(role, "read") != 0;
		t.created = store_col_int(&q, 4);
		cb(&t, arg);
	}
	store_stmt_finish(&q);
	return rc;
}

int
store_token_delete(store *st, int64_t user_id, int64_t id)
{
	store_stmt q;

	store_stmt_init(&q, st, "DELETE FROM tokens WHERE id = $1 AND user_id = $2");
	store_bind_int(&q, id);
	store_bind_int(&q, user_id);
	return store_run_changed(&q);
}

int
store_session_add(
    store *st, const unsigned char hash[32], int64_t user_id, const char *csrf, int64_t expires)
{
	store_stmt q;

	store_stmt_init(&q, st,
	    "INSERT INTO sessions (hash, user_id, csrf, created, expires)"
	    " VALUES ($1, $2, $3, $4, $5)");
	store_bind_blob(&q, hash, 32);
	store_bind_int(&q, user_id);
	store_bind_text(&q, csrf);
	store_bind_int(&q, (int64_t)time(NULL));
	store_bind_int(&q, expires);
	return store_run_changed(&q);
}

int
store_session_find(store *st, const unsigned char hash[32], char **user, char *csrf, size_t csrflen)
{
	store_stmt q;
	const char *c;
	int r;

	store_stmt_init(&q, st,
	    "SELECT u.name, s.csrf FROM sessions s JOIN users u"
	    " ON u.id = s.user_id WHERE s.hash = $1 AND s.expires > $2 AND u.disabled = 0");
	store_bind_blob(&q, hash, 32);
	store_bind_int(&q, (int64_t)time(NULL));
	if ((r = store_step(&q)) == 1 && (*user = store_col_dup(&q, 0)) != NULL) {
		c = store_col_text(&q, 1);
		snprintf(csrf, csrflen, "%s", c != NULL ? c : "");
		r = 0;
	} else if (r >= 0) {
		r = -ENOENT;
	}
	store_stmt_finish(&q);
	return r;
}

int
store_session_delete(store *st, const unsigned char hash[32])
{
	store_stmt q;

	store_stmt_init(&q, st, "DELETE FROM sessions WHERE hash = $1 OR expires <= $2");
	store_bind_blob(&q, hash, 32);
	store_bind_int(&q, (int64_t)time(NULL));
	return store_run_changed(&q);
}

int
store_sessions_load_all(store *st,
    void (*cb)(const unsigned char hash[32], const char *user, int64_t expires, void *arg),
    void *arg)
{
	store_stmt q;
	const void *hash;
	size_t len;
	int r;

	store_stmt_init(&q, st,
	    "SELECT s.hash, u.name, s.expires FROM sessions s JOIN users u"
	    " ON u.id = s.user_id WHERE s.expires > $1 AND u.disabled = 0");
	store_bind_int(&q, (int64_t)time(NULL));
	while ((r = store_step(&q)) == 1) {
		hash = store_col_blob(&q, 0, &len);
		if (hash != NULL && len == 32 && store_col_text(&q, 1) != NULL)
			cb(hash, store_col_text(&q, 1), store_col_int(&q, 2), arg);
	}
	store_stmt_finish(&q);
	return r;
}
