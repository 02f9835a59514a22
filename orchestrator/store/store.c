#include "orchestrator/store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "orchestrator/store/store_int.h"
#include "common/util.h"

struct store {
	sqlite3 *db;
};

#define SCHEMA_VERSION 6

static const char *schema_v1 =
	"CREATE TABLE users ("
	"  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, created INTEGER NOT NULL);"
	"CREATE TABLE tokens ("
	"  id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  prefix TEXT NOT NULL UNIQUE, hash BLOB NOT NULL, created INTEGER NOT NULL);"
	"CREATE TABLE spaces ("
	"  id INTEGER PRIMARY KEY, owner TEXT NOT NULL, name TEXT NOT NULL,"
	"  subdomain TEXT NOT NULL UNIQUE, sdk TEXT NOT NULL, private INTEGER NOT NULL DEFAULT 0,"
	"  stage TEXT NOT NULL, error TEXT, want_running INTEGER NOT NULL DEFAULT 0,"
	"  release_id INTEGER NOT NULL DEFAULT 0, sha TEXT, card TEXT, created INTEGER NOT NULL,"
	"  UNIQUE (owner, name));"
	"CREATE TABLE builds ("
	"  id INTEGER PRIMARY KEY, space_id INTEGER NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,"
	"  sha TEXT NOT NULL, status TEXT NOT NULL, message TEXT, config TEXT,"
	"  release_dir TEXT NOT NULL, log_path TEXT NOT NULL,"
	"  created INTEGER NOT NULL, finished INTEGER);"
	"CREATE INDEX builds_space ON builds(space_id);";

/* Variables (secret = 0, value in clear) and secrets (secret = 1, value sealed by
 * orchestrator/secrets.c: never in clear here), one name per space across both;
 * the hardware flavor a space asked for (no row: the default). */
static const char *schema_v3 =
	"CREATE TABLE space_config ("
	"  space_id INTEGER NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,"
	"  key TEXT NOT NULL, secret INTEGER NOT NULL, value BLOB NOT NULL, description TEXT,"
	"  updated INTEGER NOT NULL, PRIMARY KEY (space_id, key));"
	"CREATE TABLE space_hardware ("
	"  space_id INTEGER PRIMARY KEY REFERENCES spaces(id) ON DELETE CASCADE,"
	"  flavor TEXT NOT NULL);";

static const char *schema_v5 =
	"ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'user';"
	"ALTER TABLE users ADD COLUMN password TEXT;"
	"ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;"
	"UPDATE users SET role = 'admin' WHERE name = 'admin';"
	"ALTER TABLE tokens ADD COLUMN role TEXT NOT NULL DEFAULT 'write';"
	"ALTER TABLE tokens ADD COLUMN name TEXT;"
	"CREATE TABLE sessions ("
	"  hash BLOB PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  csrf TEXT NOT NULL, created INTEGER NOT NULL, expires INTEGER NOT NULL);";

/* v6 (issue 21.8): a space id, and with it the host uid its boxes run as (200000 +
 * id), is never used again after a delete, so nothing kept by id (an admin's egress
 * ban, files owned by the uid) passes to another tenant's new space. sqlite takes
 * AUTOINCREMENT only at CREATE TABLE: the table is rebuilt, with foreign keys off
 * (store_open) so that dropping the old one takes no child row with it. Every
 * column of spaces is listed: a step that adds one must come after this one or be
 * added here. */
static const char *schema_v6 =
	"CREATE TABLE spaces_v6 ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT, owner TEXT NOT NULL, name TEXT NOT NULL,"
	"  subdomain TEXT NOT NULL UNIQUE, sdk TEXT NOT NULL, private INTEGER NOT NULL DEFAULT 0,"
	"  stage TEXT NOT NULL, error TEXT, want_running INTEGER NOT NULL DEFAULT 0,"
	"  release_id INTEGER NOT NULL DEFAULT 0, sha TEXT, card TEXT, created INTEGER NOT NULL,"
	"  deploy_id INTEGER NOT NULL DEFAULT 0, restarts INTEGER NOT NULL DEFAULT 0,"
	"  retry_at INTEGER NOT NULL DEFAULT 0, UNIQUE (owner, name));"
	"INSERT INTO spaces_v6 (id, owner, name, subdomain, sdk, private, stage, error,"
	"  want_running, release_id, sha, card, created, deploy_id, restarts, retry_at)"
	"  SELECT id, owner, name, subdomain, sdk, private, stage, error, want_running,"
	"  release_id, sha, card, created, deploy_id, restarts, retry_at FROM spaces;"
	"DROP TABLE spaces;"
	"ALTER TABLE spaces_v6 RENAME TO spaces;";

static int
db_error(store *st, const char *what)
{
	int code = sqlite3_extended_errcode(st->db);

	if ((code & 0xff) == SQLITE_CONSTRAINT)
		return -EEXIST;
	error("store: %s: %s", what, sqlite3_errmsg(st->db));
	return -EIO;
}

static int
exec_sql(store *st, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		error("store: %s", msg != NULL ? msg : "exec failed");
		sqlite3_free(msg);
		return -EIO;
	}
	return 0;
}

static int
migrate(store *st)
{
	/* steps[v] takes a database from version v to v+1; existing databases are
	 * upgraded in place, one transaction per step. */
	const char *const steps[SCHEMA_VERSION] = {
		schema_v1,
		/* v2: recovery after a restart (the switch in flight, the crash loop's
		 * backoff) and the attempts of a build interrupted by daemon stops. */
		"ALTER TABLE spaces ADD COLUMN deploy_id INTEGER NOT NULL DEFAULT 0;"
		"ALTER TABLE spaces ADD COLUMN restarts INTEGER NOT NULL DEFAULT 0;"
		"ALTER TABLE spaces ADD COLUMN retry_at INTEGER NOT NULL DEFAULT 0;"
		"ALTER TABLE builds ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;",
		/* v3: variables, secrets and hardware flavors */
		schema_v3,
		/* v4: lifecycle settings (lifecycle.c) and the storage tier */
		"CREATE TABLE space_settings ("
		"  space_id INTEGER PRIMARY KEY REFERENCES spaces(id) ON DELETE CASCADE,"
		"  paused INTEGER NOT NULL DEFAULT 0, sleep_after INTEGER NOT NULL DEFAULT -1,"
		"  storage_tier TEXT NOT NULL DEFAULT '');",
		/* v5: users with roles and argon2id passwords, named read/write tokens,
		 * browser sessions (usercmd.c, web/session.c) */
		schema_v5,
		/* v6 (issue 21.8): space ids are never reused (AUTOINCREMENT) */
		schema_v6,
	};
	sqlite3_stmt *q;
	int version = 0;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &q, NULL) != SQLITE_OK)
		return db_error(st, "user_version");
	if (sqlite3_step(q) == SQLITE_ROW)
		version = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	if (version > SCHEMA_VERSION)
		return error("store: database schema %d is newer than this podium (%d)", version,
		    SCHEMA_VERSION);
	for (; version < SCHEMA_VERSION; version++) {
		char set[64];

		snprintf(set, sizeof(set), "PRAGMA user_version = %d", version + 1);
		if (exec_sql(st, "BEGIN") != 0)
			return -EIO;
		if (exec_sql(st, steps[version]) != 0 || exec_sql(st, set) != 0) {
			exec_sql(st, "ROLLBACK");
			return -EIO;
		}
		if (exec_sql(st, "COMMIT") != 0)
			return -EIO;
	}
	return 0;
}

/* The database holds password hashes and variables: no other local user reads it
 * (issue 21.4). sqlite gives its -wal and -shm files the database file's mode, so
 * the file is made 0600 before sqlite opens it; older ones are fixed here too. */
static void
store_files_private(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd >= 0) {
		fchmod(fd, 0600);
		close(fd);
	}
	for (const char *ext = "-wal\0-shm\0-journal\0"; *ext != '\0'; ext += strlen(ext) + 1) {
		char *f = xasprintf("%s%s", path, ext);

		chmod(f, 0600);
		free(f);
	}
}

int
store_open(const char *path, store **out)
{
	store *st = xcalloc(1, sizeof(*st));

	if (strcmp(path, ":memory:") != 0)
		store_files_private(path);
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		error("store: open %s: %s", path, st->db ? sqlite3_errmsg(st->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(st->db, 5000);
	/* foreign keys on only after the migrations: a step that rebuilds a table
	 * (v6) must not cascade the old table's drop to its children */
	if (exec_sql(st, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
	    " PRAGMA foreign_keys = OFF;") != 0)
		goto fail;
	if (migrate(st) != 0 || exec_sql(st, "PRAGMA foreign_keys = ON;") != 0)
		goto fail;
	*out = st;
	return 0;
fail:
	sqlite3_close(st->db);
	free(st);
	return -EIO;
}

sqlite3 *
store_sqlite(store *st)
{
	return st->db;
}

void
store_close(store *st)
{
	if (st == NULL)
		return;
	sqlite3_close(st->db);
	free(st);
}

/* ---- statement helpers ---- */

static sqlite3_stmt *
prepare(store *st, const char *sql)
{
	sqlite3_stmt *q = NULL;

	if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK) {
		db_error(st, sql);
		return NULL;
	}
	return q;
}

static void
bind_text(sqlite3_stmt *q, int i, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(q, i);
	else
		sqlite3_bind_text(q, i, s, -1, SQLITE_TRANSIENT);
}

static char *
column_text(sqlite3_stmt *q, int i)
{
	const unsigned char *s = sqlite3_column_text(q, i);

	return s != NULL ? xstrdup((const char *)s) : NULL;
}

/* Runs a statement that returns no rows; finalizes it. */
static int
step_done(store *st, sqlite3_stmt *q, const char *what)
{
	int r = sqlite3_step(q) == SQLITE_DONE ? 0 : db_error(st, what);

	sqlite3_finalize(q);
	return r;
}

/* ---- users and tokens ---- */

int
store_user_ensure(store *st, const char *name, int64_t *id, int *created)
{
	sqlite3_stmt *q = prepare(st, "SELECT id FROM users WHERE name = ?");
	int r;

	if (q == NULL)
		return -EIO;
	bind_text(q, 1, name);
	if (sqlite3_step(q) == SQLITE_ROW) {
		*id = sqlite3_column_int64(q, 0);
		sqlite3_finalize(q);
		if (created != NULL)
			*created = 0;
		return 0;
	}
	sqlite3_finalize(q);
	/* the bootstrap user "admin" is an admin (as v5 made it in older databases) */
	q = prepare(st, "INSERT INTO users (name, created, role) VALUES (?, ?,"
	    " CASE WHEN ?1 = 'admin' THEN 'admin' ELSE 'user' END)");
	if (q == NULL)
		return -EIO;
	bind_text(q, 1, name);
	sqlite3_bind_int64(q, 2, (int64_t)time(NULL));
	r = step_done(st, q, "insert user");
	if (r == 0) {
		*id = sqlite3_last_insert_rowid(st->db);
		if (created != NULL)
			*created = 1;
	}
	return r;
}

int
store_token_add(store *st, int64_t user_id, const char *prefix, const unsigned char hash[32])
{
	sqlite3_stmt *q = prepare(st,
	    "INSERT INTO tokens (user_id, prefix, hash, created) VALUES (?, ?, ?, ?)");

	if (q == NULL)
		return -EIO;
	sqlite3_bind_int64(q, 1, user_id);
	bind_text(q, 2, prefix);
	sqlite3_bind_blob(q, 3, hash, 32, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 4, (int64_t)time(NULL));
	return step_done(st, q, "insert token");
}

int
store_token_find(store *st, const char *prefix, unsigned char hash[32], char **user)
{
	sqlite3_stmt *q = prepare(st, "SELECT t.hash, u.name FROM tokens t JOIN users u"
	    " ON u.id = t.user_id WHERE t.prefix = ? AND u.disabled = 0");
	int r = -ENOENT;

	if (q == NULL)
		return -EIO;
	bind_text(q, 1, prefix);
	if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_bytes(q, 0) == 32) {
		memcpy(hash, sqlite3_column_blob(q, 0), 32);
		*user = column_text(q, 1);
		r = 0;
	}
	sqlite3_finalize(q);
	return r;
}

int
store_tokens_load_all(store *st, void (*cb)(const unsigned char hash[32], const char *user,
    void *arg), void *arg)
{
	sqlite3_stmt *q = prepare(st, "SELECT t.hash, u.name FROM tokens t JOIN users u"
	    " ON u.id = t.user_id WHERE u.disabled = 0");
	int rc;

	if (q == NULL)
		return -EIO;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		if (sqlite3_column_bytes(q, 0) == 32 && sqlite3_column_text(q, 1) != NULL)
			cb(sqlite3_column_blob(q, 0), (const char *)sqlite3_column_text(q, 1), arg);
	rc = rc == SQLITE_DONE ? 0 : db_error(st, "load tokens");
	sqlite3_finalize(q);
	return rc;
}

/* ---- spaces ---- */

void
space_row_release(space_row *r)
{
	free(r->owner);
	free(r->name);
	free(r->subdomain);
	free(r->sdk);
	free(r->stage);
	free(r->error);
	free(r->sha);
	free(r->card);
	memset(r, 0, sizeof(*r));
}

int
store_space_insert(store *st, space_row *r)
{
	sqlite3_stmt *q = prepare(st, "INSERT INTO spaces (owner, name, subdomain, sdk, private,"
	    " stage, error, want_running, release_id, sha, card, created, deploy_id, restarts, retry_at)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
	int rc;

	if (q == NULL)
		return -EIO;
	if (r->created == 0)
		r->created = (int64_t)time(NULL);
	bind_text(q, 1, r->owner);
	bind_text(q, 2, r->name);
	bind_text(q, 3, r->subdomain);
	bind_text(q, 4, r->sdk);
	sqlite3_bind_int(q, 5, r->private);
	bind_text(q, 6, r->stage);
	bind_text(q, 7, r->error);
	sqlite3_bind_int(q, 8, r->want_running);
	sqlite3_bind_int64(q, 9, r->release_id);
	bind_text(q, 10, r->sha);
	bind_text(q, 11, r->card);
	sqlite3_bind_int64(q, 12, r->created);
	sqlite3_bind_int64(q, 13, r->deploy_id);
	sqlite3_bind_int(q, 14, r->restarts);
	sqlite3_bind_int64(q, 15, r->retry_at);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return db_error(st, "insert space");
	r->id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int
store_space_update(store *st, const space_row *r)
{
	sqlite3_stmt *q = prepare(st, "UPDATE spaces SET sdk = ?, private = ?, stage = ?, error = ?,"
	    " want_running = ?, release_id = ?, sha = ?, card = ?, deploy_id = ?, restarts = ?,"
	    " retry_at = ? WHERE id = ?");

	if (q == NULL)
		return -EIO;
	bind_text(q, 1, r->sdk);
	sqlite3_bind_int(q, 2, r->private);
	bind_text(q, 3, r->stage);
	bind_text(q, 4, r->error);
	sqlite3_bind_int(q, 5, r->want_running);
	sqlite3_bind_int64(q, 6, r->release_id);
	bind_text(q, 7, r->sha);
	bind_text(q, 8, r->card);
	sqlite3_bind_int64(q, 9, r->deploy_id);
	sqlite3_bind_int(q, 10, r->restarts);
	sqlite3_bind_int64(q, 11, r->retry_at);
	sqlite3_bind_int64(q, 12, r->id);
	return step_done(st, q, "update space");
}

int
store_space_delete(store *st, int64_t id)
{
	sqlite3_stmt *q = prepare(st, "DELETE FROM spaces WHERE id = ?");

	if (q == NULL)
		return -EIO;
	sqlite3_bind_int64(q, 1, id);
	return step_done(st, q, "delete space");
}

int
store_space_load_all(store *st, void (*cb)(space_row *r, void *arg), void *arg)
{
	sqlite3_stmt *q = prepare(st, "SELECT id, owner, name, subdomain, sdk, private, stage, error,"
	    " want_running, release_id, sha, card, created, deploy_id, restarts, retry_at"
	    " FROM spaces ORDER BY id");
	int rc;

	if (q == NULL)
		return -EIO;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		space_row r = {
			.id = sqlite3_column_int64(q, 0),
			.owner = column_text(q, 1),
			.name = column_text(q, 2),
			.subdomain = column_text(q, 3),
			.sdk = column_text(q, 4),
			.private = sqlite3_column_int(q, 5),
			.stage = column_text(q, 6),
			.error = column_text(q, 7),
			.want_running = sqlite3_column_int(q, 8),
			.release_id = sqlite3_column_int64(q, 9),
			.sha = column_text(q, 10),
			.card = column_text(q, 11),
			.created = sqlite3_column_int64(q, 12),
			.deploy_id = sqlite3_column_int64(q, 13),
			.restarts = sqlite3_column_int(q, 14),
			.retry_at = sqlite3_column_int64(q, 15),
		};
		cb(&r, arg);
	}
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? 0 : db_error(st, "load spaces");
}

/* ---- builds ---- */

void
build_row_release(build_row *r)
{
	free(r->sha);
	free(r->status);
	free(r->message);
	free(r->config);
	free(r->release_dir);
	free(r->log_path);
	memset(r, 0, sizeof(*r));
}

int
store_build_insert(store *st, build_row *r)
{
	sqlite3_stmt *q = prepare(st, "INSERT INTO builds (space_id, sha, status, release_dir,"
	    " log_path, created, attempt) VALUES (?, ?, 'building', ?, ?, ?, ?)");
	int rc;

	if (q == NULL)
		return -EIO;
	r->created = (int64_t)time(NULL);
	sqlite3_bind_int64(q, 1, r->space_id);
	bind_text(q, 2, r->sha);
	bind_text(q, 3, r->release_dir);
	bind_text(q, 4, r->log_path);
	sqlite3_bind_int64(q, 5, r->created);
	if (r->attempt < 1)
		r->attempt = 1;
	sqlite3_bind_int(q, 6, r->attempt);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return db_error(st, "insert build");
	r->id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int
store_build_finish(store *st, int64_t id, const char *status, const char *message,
    const char *config)
{
	sqlite3_stmt *q = prepare(st, "UPDATE builds SET status = ?, message = ?, config = ?,"
	    " finished = ? WHERE id = ?");

	if (q == NULL)
		return -EIO;
	bind_text(q, 1, status);
	bind_text(q, 2, message);
	bind_text(q, 3, config);
	sqlite3_bind_int64(q, 4, (int64_t)time(NULL));
	sqlite3_bind_int64(q, 5, id);
	return step_done(st, q, "finish build");
}

#define BUILD_COLUMNS "id, space_id, sha, status, message, config, release_dir, log_path," \
	" created, finished, attempt"

static void
build_row_read(sqlite3_stmt *q, build_row *out)
{
	out->id = sqlite3_column_int64(q, 0);
	out->space_id = sqlite3_column_int64(q, 1);
	out->sha = column_text(q, 2);
	out->status = column_text(q, 3);
	out->message = column_text(q, 4);
	out->config = column_text(q, 5);
	out->release_dir = column_text(q, 6);
	out->log_path = column_text(q, 7);
	out->created = sqlite3_column_int64(q, 8);
	out->finished = sqlite3_column_int64(q, 9);
	out->attempt = sqlite3_column_int(q, 10);
}

/* Runs a query for at most one build row, bound to one integer; finalizes it. */
static int
build_query_one(store *st, const char *sql, int64_t arg, build_row *out)
{
	sqlite3_stmt *q = prepare(st, sql);
	int r = -ENOENT;

	if (q == NULL)
		return -EIO;
	sqlite3_bind_int64(q, 1, arg);
	if (sqlite3_step(q) == SQLITE_ROW) {
		build_row_read(q, out);
		r = 0;
	}
	sqlite3_finalize(q);
	return r;
}

int
store_build_get(store *st, int64_t id, build_row *out)
{
	return build_query_one(st, "SELECT " BUILD_COLUMNS " FROM builds WHERE id = ?", id, out);
}

int
store_build_latest(store *st, int64_t space_id, build_row *out)
{
	return build_query_one(st, "SELECT " BUILD_COLUMNS " FROM builds WHERE space_id = ?"
	    " ORDER BY id DESC LIMIT 1", space_id, out);
}

int
store_builds_fail_interrupted(store *st)
{
	sqlite3_stmt *q = prepare(st, "UPDATE builds SET status = 'failed',"
	    " message = 'build interrupted: the daemon stopped while it was running',"
	    " finished = ? WHERE status = 'building'");
	int r;

	if (q == NULL)
		return -EIO;
	sqlite3_bind_int64(q, 1, (int64_t)time(NULL));
	r = step_done(st, q, "fail interrupted builds");
	return r == 0 ? sqlite3_changes(st->db) : r;
}

int
store_builds_delete_space(store *st, int64_t space_id)
{
	sqlite3_stmt *q = prepare(st, "DELETE FROM builds WHERE space_id = ?");

	if (q == NULL)
		return -EIO;
	sqlite3_bind_int64(q, 1, space_id);
	return step_done(st, q, "delete builds");
}

/* ---- lifecycle settings and the release list ---- */

int
store_settings_get(store *st, int64_t space_id, int *paused, int *sleep_after, char *tier,
    size_t tierlen)
{
	sqlite3_stmt *q = prepare(st, "SELECT paused, sleep_after, storage_tier FROM space_settings"
	    " WHERE space_id = ?");
	int r = -ENOENT;

	if (q == NULL)
		return -EIO;
	sqlite3_bind_int64(q, 1, space_id);
	if (sqlite3_step(q) == SQLITE_ROW) {
		*paused = sqlite3_column_int(q, 0);
		*sleep_after = sqlite3_column_int(q, 1);
		snprintf(tier, tierlen, "%s", sqlite3_column_text(q, 2) != NULL ?
		    (const char *)sqlite3_column_text(q, 2) : "");
		r = 0;
	}
	sqlite3_finalize(q);
	return r;
}

int
store_settings_put(store *st, int64_t space_id, int paused, int sleep_after, const char *tier)
{
	sqlite3_stmt *q = prepare(st, "INSERT INTO space_settings (space_id, paused, sleep_after,"
	    " storage_tier) VALUES (?, ?, ?, ?) ON CONFLICT (space_id) DO UPDATE SET"
	    " paused = excluded.paused, sleep_after = excluded.sleep_after,"
	    " storage_tier = excluded.storage_tier");

	if (q == NULL)
		return -EIO;
	sqlite3_bind_int64(q, 1, space_id);
	sqlite3_bind_int(q, 2, paused);
	sqlite3_bind_int(q, 3, sleep_after);
	bind_text(q, 4, tier);
	return step_done(st, q, "save space settings");
}

int
store_builds_list(store *st, int64_t space_id, int (*cb)(build_row *r, void *arg), void *arg)
{
	sqlite3_stmt *q = prepare(st, "SELECT id, space_id, sha, status, message, config,"
	    " release_dir, log_path, created, finished FROM builds WHERE space_id = ?"
	    " ORDER BY id DESC");
	int rc;

	if (q == NULL)
		return -EIO;
	sqlite3_bind_int64(q, 1, space_id);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		build_row r = {
			.id = sqlite3_column_int64(q, 0),
			.space_id = sqlite3_column_int64(q, 1),
			.sha = column_text(q, 2),
			.status = column_text(q, 3),
			.message = column_text(q, 4),
			.config = column_text(q, 5),
			.release_dir = column_text(q, 6),
			.log_path = column_text(q, 7),
			.created = sqlite3_column_int64(q, 8),
			.finished = sqlite3_column_int64(q, 9),
		};
		int stop = cb(&r, arg);

		build_row_release(&r);
		if (stop)
			break;
	}
	sqlite3_finalize(q);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : db_error(st, "list builds");
}

/* ---- space configuration ---- */

int
store_config_set(store *st, int64_t space_id, int secret, const char *key, const void *value,
    size_t len, const char *description)
{
	sqlite3_stmt *q = prepare(st, "SELECT secret FROM space_config WHERE space_id = ? AND key = ?");
	int other = 0;

	if (q == NULL)
		return -EIO;
	sqlite3_bind_int64(q, 1, space_id);
	bind_text(q, 2, key);
	if (sqlite3_step(q) == SQLITE_ROW)
		other = sqlite3_column_int(q, 0) != secret;
	sqlite3_finalize(q);
	if (other)
		return -EEXIST;
	q = prepare(st, "INSERT OR REPLACE INTO space_config (space_id, key, secret, value, description,"
	    " updated) VALUES (?, ?, ?, ?, ?, ?)");
	if (q == NULL)
		return -EIO;
	sqlite3_bind_int64(q, 1, space_id);
	bind_text(q, 2, key);
	sqlite3_bind_int(q, 3, secret);
	sqlite3_bind_blob(q, 4, len > 0 ? value : "", (int)len, SQLITE_TRANSIENT);
	bind_text(q, 5, description);
	sqlite3_bind_int64(q, 6, (int64_t)time(NULL));
	return step_done(st, q, "set space config");
}

int
store_config_delete(store *st, int64_t space_id, int secret, const char *key)
{
	sqlite3_stmt *q = prepare(st, "DELETE FROM space_config WHERE space_id = ? AND secret = ?"
	    " AND key = ?");
	int r;

	if (q == NULL)
		return -EIO;
	sqlite3_bind_int64(q, 1, space_id);
	sqlite3_bind_int(q, 2, secret);
	bind_text(q, 3, key);
	r = step_done(st, q, "delete space config");
	if (r == 0 && sqlite3_changes(st->db) == 0)
		r = -ENOENT;
	return r;
}

int
store_config_list(store *st, int64_t space_id, int secret,
    void (*cb)(const config_row *r, void *arg), void *arg)
{
	sqlite3_stmt *q = prepare(st, "SELECT key, value, description, updated FROM space_config"
	    " WHERE space_id = ? AND (? < 0 OR secret = ?) ORDER BY key");
	int rc;

	if (q == NULL)
		return -EIO;
	sqlite3_bind_int64(q, 1, space_id);
	sqlite3_bind_int(q, 2, secret);
	sqlite3_bind_int(q, 3, secret);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		config_row r = {
			.key = (const char *)sqlite3_column_text(q, 0),
			.value = sqlite3_column_blob(q, 1),
			.value_len = (size_t)sqlite3_column_bytes(q, 1),
			.description = (const char *)sqlite3_column_text(q, 2),
			.updated = sqlite3_column_int64(q, 3),
		};
		cb(&r, arg);
	}
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? 0 : db_error(st, "list space config");
}

int
store_config_bytes(store *st, int64_t space_id, int64_t *bytes)
{
	sqlite3_stmt *q = prepare(st, "SELECT COALESCE(SUM(LENGTH(key) + LENGTH(value)), 0)"
	    " FROM space_config WHERE space_id = ?");

	if (q == NULL)
		return -EIO;
	sqlite3_bind_int64(q, 1, space_id);
	*bytes = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
	sqlite3_finalize(q);
	return 0;
}

int
store_build_durations(store *st, void (*cb)(int64_t space_id, int64_t seconds, void *arg), void *arg)
{
	sqlite3_stmt *q = prepare(st, "SELECT space_id, finished - created FROM builds"
	    " WHERE finished IS NOT NULL AND status IN ('ok', 'failed')"
	    " AND COALESCE(message, '') <> 'cancelled' ORDER BY space_id");
	int rc;

	if (q == NULL)
		return -EIO;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		cb(sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1), arg);
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? 0 : db_error(st, "build durations");
}

int
store_hardware_get(store *st, int64_t space_id, char **flavor)
{
	sqlite3_stmt *q = prepare(st, "SELECT flavor FROM space_hardware WHERE space_id = ?");
	int r = -ENOENT;

	if (q == NULL)
		return -EIO;
	sqlite3_bind_int64(q, 1, space_id);
	if (sqlite3_step(q) == SQLITE_ROW) {
		*flavor = column_text(q, 0);
		r = 0;
	}
	sqlite3_finalize(q);
	return r;
}

int
store_hardware_set(store *st, int64_t space_id, const char *flavor)
{
	sqlite3_stmt *q = prepare(st, "INSERT OR REPLACE INTO space_hardware (space_id, flavor)"
	    " VALUES (?, ?)");

	if (q == NULL)
		return -EIO;
	sqlite3_bind_int64(q, 1, space_id);
	bind_text(q, 2, flavor);
	return step_done(st, q, "set space hardware");
}
