/* store_users.c — users with roles and passwords, named tokens and browser
 * sessions in the store (schema v5). Same conventions as store.c. */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "orchestrator/store/store_int.h"
#include "common/util.h"

static int
db_fail(store *st, const char *what)
{
	sqlite3 *db = store_sqlite(st);

	if ((sqlite3_extended_errcode(db) & 0xff) == SQLITE_CONSTRAINT)
		return -EEXIST;
	error("store: %s: %s", what, sqlite3_errmsg(db));
	return -EIO;
}

static sqlite3_stmt *
prep(store *st, const char *sql)
{
	sqlite3_stmt *q = NULL;

	if (sqlite3_prepare_v2(store_sqlite(st), sql, -1, &q, NULL) != SQLITE_OK) {
		db_fail(st, sql);
		return NULL;
	}
	return q;
}

/* Runs a statement without rows; -ENOENT when it changed none. */
static int
run_change(store *st, sqlite3_stmt *q, const char *what)
{
	int r = sqlite3_step(q) == SQLITE_DONE ? 0 : db_fail(st, what);

	if (r == 0 && sqlite3_changes(store_sqlite(st)) == 0)
		r = -ENOENT;
	sqlite3_finalize(q);
	return r;
}

int
store_user_add(store *st, const char *name, int admin, const char *pwhash, int64_t *id)
{
	sqlite3_stmt *q = prep(st, "INSERT INTO users (name, created, role, password)"
	    " VALUES (?, ?, ?, ?)");
	int r;

	if (q == NULL)
		return -EIO;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 2, (int64_t)time(NULL));
	sqlite3_bind_text(q, 3, admin ? "admin" : "user", -1, SQLITE_STATIC);
	if (pwhash != NULL)
		sqlite3_bind_text(q, 4, pwhash, -1, SQLITE_TRANSIENT);
	r = run_change(st, q, "add user");
	if (r == 0 && id != NULL)
		*id = sqlite3_last_insert_rowid(store_sqlite(st));
	return r;
}

static void
user_from_row(sqlite3_stmt *q, user_row *u)
{
	const unsigned char *name = sqlite3_column_text(q, 1);

	memset(u, 0, sizeof(*u));
	u->id = sqlite3_column_int64(q, 0);
	snprintf(u->name, sizeof(u->name), "%s", name != NULL ? (const char *)name : "");
	u->admin = sqlite3_column_text(q, 2) != NULL &&
	    strcmp((const char *)sqlite3_column_text(q, 2), "admin") == 0;
	u->disabled = sqlite3_column_int(q, 3);
	u->has_password = sqlite3_column_type(q, 4) != SQLITE_NULL;
	u->created = sqlite3_column_int64(q, 5);
}

#define USER_COLUMNS "SELECT id, name, role, disabled, password, created FROM users"

int
store_user_get(store *st, const char *name, user_row *out)
{
	sqlite3_stmt *q = prep(st, USER_COLUMNS " WHERE name = ?");
	int r = -ENOENT;

	if (q == NULL)
		return -EIO;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(q) == SQLITE_ROW) {
		user_from_row(q, out);
		r = 0;
	}
	sqlite3_finalize(q);
	return r;
}

int
store_users_list(store *st, void (*cb)(const user_row *u, void *arg), void *arg)
{
	sqlite3_stmt *q = prep(st, USER_COLUMNS " ORDER BY name");
	user_row u;
	int rc;

	if (q == NULL)
		return -EIO;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		user_from_row(q, &u);
		cb(&u, arg);
	}
	rc = rc == SQLITE_DONE ? 0 : db_fail(st, "list users");
	sqlite3_finalize(q);
	return rc;
}

int
store_user_password(store *st, const char *name, char **pwhash)
{
	sqlite3_stmt *q = prep(st, "SELECT password FROM users WHERE name = ? AND disabled = 0");
	int r = -ENOENT;

	if (q == NULL)
		return -EIO;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0) != NULL) {
		*pwhash = xstrdup((const char *)sqlite3_column_text(q, 0));
		r = 0;
	}
	sqlite3_finalize(q);
	return r;
}

int
store_user_set_password(store *st, const char *name, const char *pwhash)
{
	sqlite3_stmt *q = prep(st, "UPDATE users SET password = ? WHERE name = ?");

	if (q == NULL)
		return -EIO;
	sqlite3_bind_text(q, 1, pwhash, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 2, name, -1, SQLITE_TRANSIENT);
	return run_change(st, q, "set password");
}

int
store_user_set_admin(store *st, const char *name, int admin)
{
	sqlite3_stmt *q = prep(st, "UPDATE users SET role = ? WHERE name = ?");

	if (q == NULL)
		return -EIO;
	sqlite3_bind_text(q, 1, admin ? "admin" : "user", -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, name, -1, SQLITE_TRANSIENT);
	return run_change(st, q, "set role");
}

int
store_user_set_disabled(store *st, const char *name, int disabled)
{
	sqlite3_stmt *q = prep(st, "UPDATE users SET disabled = ? WHERE name = ?");
	int r;

	if (q == NULL)
		return -EIO;
	sqlite3_bind_int(q, 1, disabled != 0);
	sqlite3_bind_text(q, 2, name, -1, SQLITE_TRANSIENT);
	r = run_change(st, q, "disable user");
	/* a disabled user's browser sessions end with it */
	if (r == 0 && disabled && (q = prep(st, "DELETE FROM sessions WHERE user_id ="
	    " (SELECT id FROM users WHERE name = ?)")) != NULL) {
		sqlite3_bind_text(q, 1, name, -1, SQLITE_TRANSIENT);
		run_change(st, q, "end sessions");
	}
	return r;
}

int
store_token_label_last(store *st, int write, const char *name)
{
	sqlite3_stmt *q = prep(st, "UPDATE tokens SET role = ?, name = ? WHERE id = ?");

	if (q == NULL)
		return -EIO;
	sqlite3_bind_text(q, 1, write ? "write" : "read", -1, SQLITE_STATIC);
	if (name != NULL)
		sqlite3_bind_text(q, 2, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 3, sqlite3_last_insert_rowid(store_sqlite(st)));
	return run_change(st, q, "label token");
}

int
store_token_role(store *st, const char *prefix, int *write)
{
	sqlite3_stmt *q = prep(st, "SELECT role FROM tokens WHERE prefix = ?");
	int r = -ENOENT;

	if (q == NULL)
		return -EIO;
	sqlite3_bind_text(q, 1, prefix, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(q) == SQLITE_ROW) {
		const unsigned char *role = sqlite3_column_text(q, 0);

		*write = role == NULL || strcmp((const char *)role, "read") != 0;
		r = 0;
	}
	sqlite3_finalize(q);
	return r;
}

int
store_tokens_list(store *st, int64_t user_id, void (*cb)(const token_row *t, void *arg), void *arg)
{
	sqlite3_stmt *q = prep(st, "SELECT id, prefix, name, role, created FROM tokens"
	    " WHERE user_id = ? ORDER BY id");
	token_row t;
	int rc;

	if (q == NULL)
		return -EIO;
	sqlite3_bind_int64(q, 1, user_id);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const unsigned char *role = sqlite3_column_text(q, 3);

		t.id = sqlite3_column_int64(q, 0);
		t.prefix = (const char *)sqlite3_column_text(q, 1);
		t.name = (const char *)sqlite3_column_text(q, 2);
		t.write = role == NULL || strcmp((const char *)role, "read") != 0;
		t.created = sqlite3_column_int64(q, 4);
		cb(&t, arg);
	}
	rc = rc == SQLITE_DONE ? 0 : db_fail(st, "list tokens");
	sqlite3_finalize(q);
	return rc;
}

int
store_token_delete(store *st, int64_t user_id, int64_t id)
{
	sqlite3_stmt *q = prep(st, "DELETE FROM tokens WHERE id = ? AND user_id = ?");

	if (q == NULL)
		return -EIO;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_int64(q, 2, user_id);
	return run_change(st, q, "delete token");
}

int
store_session_add(store *st, const unsigned char hash[32], int64_t user_id, const char *csrf,
    int64_t expires)
{
	sqlite3_stmt *q = prep(st, "INSERT INTO sessions (hash, user_id, csrf, created, expires)"
	    " VALUES (?, ?, ?, ?, ?)");

	if (q == NULL)
		return -EIO;
	sqlite3_bind_blob(q, 1, hash, 32, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 2, user_id);
	sqlite3_bind_text(q, 3, csrf, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 4, (int64_t)time(NULL));
	sqlite3_bind_int64(q, 5, expires);
	return run_change(st, q, "add session");
}

int
store_session_find(store *st, const unsigned char hash[32], char **user, char *csrf, size_t csrflen)
{
	sqlite3_stmt *q = prep(st, "SELECT u.name, s.csrf FROM sessions s JOIN users u"
	    " ON u.id = s.user_id WHERE s.hash = ? AND s.expires > ? AND u.disabled = 0");
	int r = -ENOENT;

	if (q == NULL)
		return -EIO;
	sqlite3_bind_blob(q, 1, hash, 32, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 2, (int64_t)time(NULL));
	if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0) != NULL) {
		*user = xstrdup((const char *)sqlite3_column_text(q, 0));
		snprintf(csrf, csrflen, "%s", (const char *)sqlite3_column_text(q, 1));
		r = 0;
	}
	sqlite3_finalize(q);
	return r;
}

int
store_session_delete(store *st, const unsigned char hash[32])
{
	sqlite3_stmt *q = prep(st, "DELETE FROM sessions WHERE hash = ? OR expires <= ?");

	if (q == NULL)
		return -EIO;
	sqlite3_bind_blob(q, 1, hash, 32, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 2, (int64_t)time(NULL));
	return run_change(st, q, "end session");
}

int
store_sessions_load_all(store *st, void (*cb)(const unsigned char hash[32], const char *user,
    int64_t expires, void *arg), void *arg)
{
	sqlite3_stmt *q = prep(st, "SELECT s.hash, u.name, s.expires FROM sessions s JOIN users u"
	    " ON u.id = s.user_id WHERE s.expires > ? AND u.disabled = 0");
	int rc;

	if (q == NULL)
		return -EIO;
	sqlite3_bind_int64(q, 1, (int64_t)time(NULL));
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		if (sqlite3_column_bytes(q, 0) == 32 && sqlite3_column_text(q, 1) != NULL)
			cb(sqlite3_column_blob(q, 0), (const char *)sqlite3_column_text(q, 1),
			    sqlite3_column_int64(q, 2), arg);
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int
store_data_version(store *st, int64_t *v)
{
	sqlite3_stmt *q = prep(st, "PRAGMA data_version");
	int r = -EIO;

	if (q == NULL)
		return -EIO;
	if (sqlite3_step(q) == SQLITE_ROW) {
		*v = sqlite3_column_int64(q, 0);
		r = 0;
	}
	sqlite3_finalize(q);
	return r;
}
