/* orchestrator/store: spaces, schema upgrades, tokens and their publishing (cmocka). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "common/util.h"
#include "orchestrator/store/accounts.h"
#include "orchestrator/store/store.h"
#include "proxy/routes.h"

static char *
temp_db(void)
{
	char tmpl[] = "/tmp/podium-store-XXXXXX";
	char *dir = mkdtemp(tmpl);

	assert_non_null(dir);
	return xasprintf("%s/podium.db", dir);
}

/* The user of "Authorization: Bearer TOKEN", as the hub finds it. */
static char *
bearer_user(store *st, const char *token)
{
	char value[256], got[256], *user = NULL;
	int write;

	snprintf(value, sizeof(value), "Bearer %s", token);
	if (route_auth_token(value, got, sizeof(got)) != 0)
		return NULL;
	accounts_token_check(st, got, &user, &write);
	return user;
}

static void
test_store_spaces(void **state)
{
	char *path = temp_db();
	store *st;
	space_row r = { 0 }, dup = { 0 };

	(void)state;
	assert_int_equal(store_open(path, &st), 0);
	r.owner = xstrdup("admin");
	r.name = xstrdup("demo");
	r.subdomain = xstrdup("admin-demo");
	r.sdk = xstrdup("static");
	r.stage = xstrdup("NO_APP_FILE");
	assert_int_equal(store_space_insert(st, &r), 0);
	assert_true(r.id > 0);
	/* Same subdomain: refused by the unique constraint. */
	dup.owner = xstrdup("Admin");
	dup.name = xstrdup("Demo");
	dup.subdomain = xstrdup("admin-demo");
	dup.sdk = xstrdup("static");
	dup.stage = xstrdup("NO_APP_FILE");
	assert_int_equal(store_space_insert(st, &dup), -EEXIST);
	space_row_release(&dup);

	free(r.stage);
	r.stage = xstrdup("RUNNING");
	r.want_running = 1;
	r.release_id = 7;
	assert_int_equal(store_space_update(st, &r), 0);
	store_close(st);

	/* Reopen: the schema is versioned and the row survives. */
	assert_int_equal(store_open(path, &st), 0);
	build_row b = { .space_id = r.id, .sha = "abc", .release_dir = "/x", .log_path = "/y" };
	assert_int_equal(store_build_insert(st, &b), 0);
	assert_int_equal(store_builds_fail_interrupted(st), 1);
	build_row got = { 0 };
	assert_int_equal(store_build_get(st, b.id, &got), 0);
	assert_string_equal(got.status, "failed");
	assert_non_null(strstr(got.message, "interrupted"));
	build_row_release(&got);
	assert_int_equal(store_build_get(st, 9999, &got), -ENOENT);
	assert_int_equal(store_space_delete(st, r.id), 0);
	space_row_release(&r);
	store_close(st);
	unlink(path);
	free(path);
}

static int64_t
insert_space(store *st, const char *name)
{
	space_row r = { .owner = xstrdup("bob"), .name = xstrdup(name),
		.subdomain = xasprintf("bob-%s", name), .sdk = xstrdup("static"),
		.stage = xstrdup("NO_APP_FILE") };
	int64_t id;

	assert_int_equal(store_space_insert(st, &r), 0);
	id = r.id;
	space_row_release(&r);
	return id;
}

static void
check_upgraded_row(space_row *r, void *arg)
{
	(void)arg;
	assert_string_equal(r->name, "old");
	assert_string_equal(r->sha, "abc");
	assert_int_equal(r->deploy_id, 5);
	assert_int_equal(r->restarts, 3);
	assert_int_equal(r->retry_at, 1234567);
	space_row_release(r);
}

/* A database written by the first schema (before recovery state) opens, is upgraded
 * in place, and keeps its rows; the new columns start at their defaults. */
static void
test_store_upgrades_v1(void **state)
{
	static const char *v1 =
		"CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
		" created INTEGER NOT NULL);"
		"CREATE TABLE tokens (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES"
		" users(id) ON DELETE CASCADE, prefix TEXT NOT NULL UNIQUE, hash BLOB NOT NULL,"
		" created INTEGER NOT NULL);"
		"CREATE TABLE spaces (id INTEGER PRIMARY KEY, owner TEXT NOT NULL, name TEXT NOT NULL,"
		" subdomain TEXT NOT NULL UNIQUE, sdk TEXT NOT NULL, private INTEGER NOT NULL DEFAULT 0,"
		" stage TEXT NOT NULL, error TEXT, want_running INTEGER NOT NULL DEFAULT 0,"
		" release_id INTEGER NOT NULL DEFAULT 0, sha TEXT, card TEXT, created INTEGER NOT NULL,"
		" UNIQUE (owner, name));"
		"CREATE TABLE builds (id INTEGER PRIMARY KEY, space_id INTEGER NOT NULL REFERENCES"
		" spaces(id) ON DELETE CASCADE, sha TEXT NOT NULL, status TEXT NOT NULL, message TEXT,"
		" config TEXT, release_dir TEXT NOT NULL, log_path TEXT NOT NULL,"
		" created INTEGER NOT NULL, finished INTEGER);"
		"CREATE INDEX builds_space ON builds(space_id);"
		"INSERT INTO spaces VALUES (1, 'admin', 'old', 'admin-old', 'python', 0, 'RUNNING',"
		" NULL, 1, 2, 'abc', NULL, 1);"
		"INSERT INTO builds VALUES (2, 1, 'abc', 'ok', NULL, '{}', '/r', '/l', 1, 2);"
		"PRAGMA user_version = 1;";
	char *path = temp_db();
	sqlite3 *db;
	store *st;
	build_row b = { 0 };

	(void)state;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, v1, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	assert_int_equal(store_open(path, &st), 0);
	assert_int_equal(store_build_latest(st, 1, &b), 0);
	assert_int_equal(b.id, 2);
	assert_int_equal(b.attempt, 1);
	assert_string_equal(b.status, "ok");
	build_row_release(&b);
	assert_int_equal(store_build_latest(st, 99, &b), -ENOENT);
	/* the new columns are written and read back */
	space_row r = { .id = 1, .owner = xstrdup("admin"), .name = xstrdup("old"),
		.subdomain = xstrdup("admin-old"), .sdk = xstrdup("python"), .stage = xstrdup("RUNTIME_ERROR"),
		.sha = xstrdup("abc"), .want_running = 1, .release_id = 2, .deploy_id = 5, .restarts = 3, .retry_at = 1234567 };
	assert_int_equal(store_space_update(st, &r), 0);
	space_row_release(&r);
	b = (build_row){ .space_id = 1, .sha = "def", .release_dir = "/r", .log_path = "/l", .attempt = 2 };
	assert_int_equal(store_build_insert(st, &b), 0);
	store_close(st);

	/* a second open leaves the upgraded database as it is */
	assert_int_equal(store_open(path, &st), 0);
	assert_int_equal(store_space_load_all(st, check_upgraded_row, NULL), 0);
	{
		/* v6 rebuilt spaces: its ids go on from the highest one kept */
		int64_t next = insert_space(st, "next");

		assert_int_equal(next, 2);
		assert_int_equal(store_space_delete(st, next), 0);
		assert_int_equal(insert_space(st, "again"), 3);
	}
	build_row got = { 0 };
	assert_int_equal(store_build_latest(st, 1, &got), 0);
	assert_int_equal(got.attempt, 2);
	assert_string_equal(got.status, "building");
	build_row_release(&got);
	store_close(st);
	unlink(path);
	free(path);
}

/* Issue 21.8: the id of a deleted space (and the host uid made from it) is never
 * given to another, not even after a restart; its children still go with it. */
static void
test_store_ids_never_reused(void **state)
{
	char *path = temp_db();
	build_row b = { .sha = "abc", .release_dir = "/r", .log_path = "/l" }, got = { 0 };
	store *st;
	int64_t a, c, d, e;

	(void)state;
	assert_int_equal(store_open(path, &st), 0);
	a = insert_space(st, "a");
	c = insert_space(st, "c");
	b.space_id = c;
	assert_int_equal(store_build_insert(st, &b), 0);
	assert_int_equal(store_space_delete(st, c), 0);
	/* the foreign keys still cascade */
	assert_int_equal(store_build_get(st, b.id, &got), -ENOENT);
	d = insert_space(st, "c");
	assert_true(d > c && c > a);
	assert_int_equal(store_space_delete(st, d), 0);
	store_close(st);
	assert_int_equal(store_open(path, &st), 0);
	e = insert_space(st, "d");
	assert_true(e > d);
	store_close(st);
	unlink(path);
	free(path);
}

static void
test_store_tokens(void **state)
{
	char *path = temp_db();
	char token[128], *user = NULL;
	unsigned char hash[32];
	store *st;
	int64_t uid, uid2;
	int created;

	(void)state;
	assert_int_equal(sodium_init() >= 0, 1);
	assert_int_equal(store_open(path, &st), 0);
	assert_int_equal(store_user_ensure(st, "admin", &uid, &created), 0);
	assert_int_equal(created, 1);
	assert_int_equal(store_user_ensure(st, "admin", &uid2, &created), 0);
	assert_int_equal(created, 0);
	assert_int_equal(uid, uid2);
	assert_int_equal(accounts_token_create(st, uid, 1, NULL, token, sizeof(token)), 0);
	/* The Hub's format: @huggingface/hub refuses tokens not starting with hf_. */
	assert_int_equal(strlen(token), 51);
	assert_int_equal(strncmp(token, "hf_", 3), 0);
	char prefix[13];
	memcpy(prefix, token, 12);
	prefix[12] = '\0';
	assert_int_equal(store_token_find(st, prefix, hash, &user), 0);
	assert_string_equal(user, "admin");
	free(user);
	/* The secret itself is never stored: the db holds no copy of the token. */
	char *db = NULL;
	size_t len = 0;
	assert_int_equal(fs_read_file(path, &db, &len, 1 << 24), 0);
	assert_null(memmem(db, len, token + 12, 20));
	free(db);
	store_close(st);
	free(path);
}

static void
test_auth_token_formats(void **state)
{
	char *path = temp_db();
	char token[128], legacy[64], prefix[13], *user;
	unsigned char hash[32];
	struct { store *store; } p = { 0 };
	int64_t uid;
	int created;

	(void)state;
	assert_int_equal(sodium_init() >= 0, 1);
	assert_int_equal(store_open(path, &p.store), 0);
	assert_int_equal(store_user_ensure(p.store, "admin", &uid, &created), 0);
	assert_int_equal(accounts_token_create(p.store, uid, 1, NULL, token, sizeof(token)), 0);
	user = bearer_user(p.store, token);
	assert_non_null(user);
	assert_string_equal(user, "admin");
	free(user);
	/* A token issued before the Hub format (pdm_ + 48 hex) still works. */
	snprintf(legacy, sizeof(legacy), "pdm_%s", "0123456789abcdef0123456789abcdef0123456789abcdef");
	memcpy(prefix, legacy, 12);
	prefix[12] = '\0';
	crypto_generichash(hash, 32, (const unsigned char *)legacy, strlen(legacy), NULL, 0);
	assert_int_equal(store_token_add(p.store, uid, prefix, hash), 0);
	user = bearer_user(p.store, legacy);
	assert_non_null(user);
	assert_string_equal(user, "admin");
	free(user);
	/* One changed digit, a cut token, the old tag on a new secret: refused. */
	token[20] = token[20] == '0' ? '1' : '0';
	assert_null(bearer_user(p.store, token));
	token[20] = '\0';
	assert_null(bearer_user(p.store, token));
	legacy[0] = 'h';
	legacy[1] = 'f';
	assert_null(bearer_user(p.store, legacy));
	store_close(p.store);
	unlink(path);
	free(path);
}

/* auth_token_create publishes: the new token passes private hosts at once. */
static void
test_route_tokens_from_store(void **state)
{
	char *path = temp_db();
	route_target *priv = route_target_static("alice/x", "/srv/rel/1");
	char token[128], header[160];
	store *st;
	int64_t uid;
	int created, pass = 0;

	(void)state;
	assert_int_equal(sodium_init() >= 0, 1);
	route_target_set_private(priv, "alice");
	assert_int_equal(store_open(path, &st), 0);
	assert_int_equal(store_user_ensure(st, "admin", &uid, &created), 0);
	assert_int_equal(accounts_token_create(st, uid, 1, NULL, token, sizeof(token)), 0);
	snprintf(header, sizeof(header), "Bearer %s", token);
	assert_int_equal(route_target_token(priv, header, &pass), 1);
	assert_int_equal(pass, 1); /* admin */
	routes_clear();
	assert_int_equal(accounts_tokens_publish(st), 0); /* e.g. at start: from the store */
	assert_int_equal(route_target_token(priv, header, &pass), 1);
	routes_clear();
	route_target_unref(priv);
	store_close(st);
	unlink(path);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_spaces),
		cmocka_unit_test(test_store_upgrades_v1),
		cmocka_unit_test(test_store_ids_never_reused),
		cmocka_unit_test(test_store_tokens),
		cmocka_unit_test(test_auth_token_formats),
		cmocka_unit_test(test_route_tokens_from_store),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
