/* orchestrator/store: spaces, schema upgrades, tokens and their publishing, the
 * errors both backends give (cmocka; each case on sqlite and PostgreSQL, see
 * backends.h). */
#include <errno.h>
#include <sodium.h>

#include "orchestrator/store/accounts.h"
#include "proxy/routes.h"
#include "tests/unit/store/backends.h"

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
	char *path = test_where(state);
	store *st;
	space_row r = { 0 }, dup = { 0 };

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
	test_done(path);
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

static void
check_text(space_row *r, void *arg)
{
	assert_string_equal(r->error, (const char *)arg);
	space_row_release(r);
}

static void
check_bytes(const config_row *r, void *arg)
{
	assert_int_equal(r->value_len, 5);
	assert_memory_equal(r->value, arg, 5);
}

/* A database written by the first schema (before recovery state) opens, is upgraded
 * in place, and keeps its rows; the new columns start at their defaults. */
static void
test_store_upgrades_v1(void **state)
{
	char *path = test_where(state);
	store *st;
	build_row b = { 0 };

	test_at_version(path, 1,
	    "INSERT INTO spaces (owner, name, subdomain, sdk, private, stage, error, want_running,"
	    " release_id, sha, card, created) VALUES ('admin', 'old', 'admin-old', 'python', 0,"
	    " 'RUNNING', NULL, 1, 1, 'abc', NULL, 1);"
	    "INSERT INTO builds (space_id, sha, status, message, config, release_dir, log_path,"
	    " created, finished) VALUES (1, 'abc', 'ok', NULL, '{}', '/r', '/l', 1, 2);");

	assert_int_equal(store_open(path, &st), 0);
	assert_int_equal(store_build_latest(st, 1, &b), 0);
	assert_int_equal(b.id, 1);
	assert_int_equal(b.attempt, 1);
	assert_string_equal(b.status, "ok");
	build_row_release(&b);
	assert_int_equal(store_build_latest(st, 99, &b), -ENOENT);
	/* the new columns are written and read back */
	space_row r = { .id = 1, .owner = xstrdup("admin"), .name = xstrdup("old"),
		.subdomain = xstrdup("admin-old"), .sdk = xstrdup("python"), .stage = xstrdup("RUNTIME_ERROR"),
		.sha = xstrdup("abc"), .want_running = 1, .release_id = 1, .deploy_id = 5, .restarts = 3, .retry_at = 1234567 };
	assert_int_equal(store_space_update(st, &r), 0);
	space_row_release(&r);
	b = (build_row){ .space_id = 1, .sha = "def", .release_dir = "/r", .log_path = "/l", .attempt = 2 };
	assert_int_equal(store_build_insert(st, &b), 0);
	assert_int_equal(b.id, 2);
	store_close(st);

	/* a second open leaves the upgraded database as it is */
	assert_int_equal(store_open(path, &st), 0);
	assert_int_equal(store_space_load_all(st, check_upgraded_row, NULL), 0);
	{
		/* v7 rebuilt spaces: its ids go on from the highest one kept */
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
	test_done(path);
}

/* Issue 21.8: the id of a deleted space (and the host uid made from it) is never
 * given to another, not even after a restart; its children still go with it. */
static void
test_store_ids_never_reused(void **state)
{
	char *path = test_where(state);
	build_row b = { .sha = "abc", .release_dir = "/r", .log_path = "/l" }, got = { 0 };
	store *st;
	int64_t a, c, d, e;

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
	test_done(path);
}

static void
test_store_tokens(void **state)
{
	char *path = test_where(state);
	char token[128], *user = NULL;
	unsigned char hash[32];
	store *st;
	int64_t uid, uid2;
	int created;

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
	/* The secret itself is never stored: the db holds no copy of the token (the
	 * rows are written by the same code on PostgreSQL: the file tells). */
	if (test_is_sqlite(state)) {
		char *db = NULL;
		size_t len = 0;
		assert_int_equal(fs_read_file(path + 7, &db, &len, 1 << 24), 0);
		assert_null(memmem(db, len, token + 12, 20));
		free(db);
	}
	store_close(st);
	test_done(path);
}

static void
test_auth_token_formats(void **state)
{
	char *path = test_where(state);
	char token[128], legacy[64], prefix[13], *user;
	unsigned char hash[32];
	struct { store *store; } p = { 0 };
	int64_t uid;
	int created;

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
	test_done(path);
}

/* auth_token_create publishes: the new token passes private hosts at once. */
static void
test_route_tokens_from_store(void **state)
{
	char *path = test_where(state);
	route_target *priv = route_target_static("alice/x", "/srv/rel/1");
	char token[128], header[160];
	store *st;
	int64_t uid;
	int created, pass = 0;

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
	test_done(path);
}

/* The same errors on both backends: a taken name or key -EEXIST, a reference to
 * a missing row and a missing row -ENOENT. */
static void
test_store_errors(void **state)
{
	char *path = test_where(state);
	unsigned char hash[32] = { 0 };
	build_row b;
	store *st;
	int64_t uid;

	assert_int_equal(store_open(path, &st), 0);
	assert_int_equal(store_user_add(st, "ann", 0, NULL, &uid), 0);
	assert_int_equal(store_user_add(st, "ann", 1, NULL, NULL), -EEXIST);
	assert_int_equal(store_token_add(st, uid, "hf_aaaaaaaaa", hash), 0);
	assert_int_equal(store_token_add(st, uid, "hf_aaaaaaaaa", hash), -EEXIST);
	assert_int_equal(store_token_add(st, uid + 100, "hf_bbbbbbbbb", hash), -ENOENT);
	assert_int_equal(store_session_add(st, hash, uid + 100, "c", 1), -ENOENT);
	assert_int_equal(store_config_set(st, 4242, 0, "K", "v", 1, NULL), -ENOENT);
	assert_int_equal(store_token_delete(st, uid, 999), -ENOENT);
	assert_int_equal(store_build_get(st, 7, &b), -ENOENT);
	store_close(st);
	test_done(path);
}

/* A database of a newer podium is refused at open and left as it was. */
static void
test_store_newer_schema_refused(void **state)
{
	char *path = test_where(state), set[200];
	store_stmt q;
	user_row u;
	store *st;

	assert_int_equal(store_open(path, &st), 0);
	assert_int_equal(store_user_add(st, "keep", 0, NULL, NULL), 0);
	snprintf(set, sizeof(set), st->be->version_set, STORE_SCHEMA_VERSION + 1);
	assert_int_equal(store_exec(st, set), 0);
	store_close(st);

	assert_int_equal(store_open(path, &st), -ENOTSUP);
	assert_null(st);
	assert_int_equal(store_connect(path, &st), 0);
	store_stmt_init(&q, st, st->be->version_get);
	assert_int_equal(store_step(&q), 1);
	assert_int_equal(store_col_int(&q, 0), STORE_SCHEMA_VERSION + 1);
	store_stmt_finish(&q);
	assert_int_equal(store_user_get(st, "keep", &u), 0);
	store_close(st);
	test_done(path);
}

/* Text is UTF-8 on both: what is not is stored with its bad bytes replaced, the
 * same way, and bytes of a blob come back as they went in. */
static void
test_store_text_and_bytes(void **state)
{
	char *path = test_where(state), *want = xstrdup("exit 1: \xff\xfe caf\xc3\xa9");
	space_row r = { .owner = xstrdup("admin"), .name = xstrdup("u"), .subdomain = xstrdup("admin-u"),
		.sdk = xstrdup("static"), .stage = xstrdup("RUNTIME_ERROR"),
		.error = xstrdup("exit 1: \xff\xfe caf\xc3\xa9") };
	const unsigned char sealed[5] = { 0, 0xff, 0x80, '\\', 'x' };
	unsigned char hash[32] = { 0 };
	store *st;
	int64_t uid;

	assert_true(utf8_scrub(want) > 0);
	assert_int_equal(store_open(path, &st), 0);
	assert_int_equal(store_space_insert(st, &r), 0);
	space_row_release(&r);
	assert_int_equal(store_space_load_all(st, check_text, want), 0);
	assert_int_equal(store_user_ensure(st, "admin", &uid, NULL), 0);
	assert_int_equal(store_config_set(st, 1, 1, "S", sealed, sizeof(sealed), NULL), 0);
	assert_int_equal(store_config_list(st, 1, 1, check_bytes, (void *)sealed), 0);
	/* a hash with a NUL byte first finds its token */
	hash[1] = 0xff;
	assert_int_equal(store_token_add(st, uid, "hf_000000000", hash), 0);
	unsigned char got[32];
	char *user = NULL;
	assert_int_equal(store_token_find(st, "hf_000000000", got, &user), 0);
	assert_memory_equal(got, hash, 32);
	free(user);
	store_close(st);
	free(want);
	test_done(path);
}

/* Addresses that name no store, or one that cannot be reached, fail at open
 * with the reason logged. */
static void
test_store_bad_addresses(void **state)
{
	store *st = NULL;

	assert_int_equal(store_open("mysql://podium:secret@127.0.0.1/podium", &st), -EINVAL);
	assert_null(st);
	assert_int_equal(store_open("sqlite:", &st), -EINVAL);
	assert_int_equal(store_open("", &st), -EINVAL);
	/* nobody listens on port 1 of the loopback: refused at once */
	assert_int_equal(store_open("postgres://podium@127.0.0.1:1/podium", &st), -EIO);
	assert_int_equal(store_open("postgresql://podium@127.0.0.1:1/podium?nosuchparameter=1", &st),
	    -EIO);
	assert_int_equal(store_open("sqlite:/nonexistent-podium-dir/podium.db", &st), -EIO);
	assert_null(st);
}

/* --store, then config.yaml's store:, then the data dir's podium.db. */
static void
test_store_locate(void **state)
{
	char tmpl[] = "/tmp/podium-locate-XXXXXX", *dir = mkdtemp(tmpl), *file, *where, err[256];
	config *cfg;

	assert_non_null(dir);
	file = xasprintf("%s/config.yaml", dir);
	assert_int_equal(config_load(file, &cfg, err, sizeof(err)), 0); /* none */
	assert_int_equal(store_locate(dir, NULL, cfg, &where, err, sizeof(err)), 0);
	assert_true(strncmp(where, "sqlite:", 7) == 0 && strstr(where, "/podium.db") != NULL);
	free(where);
	assert_int_equal(store_locate(dir, "postgres://a@b/c", cfg, &where, err, sizeof(err)), 0);
	assert_string_equal(where, "postgres://a@b/c");
	free(where);
	config_free(cfg);

	const char *yaml = "store: sqlite:other.db\n";
	assert_int_equal(fs_write_file(file, yaml, strlen(yaml), 0600), 0);
	assert_int_equal(config_load(file, &cfg, err, sizeof(err)), 0);
	assert_int_equal(store_locate(dir, NULL, cfg, &where, err, sizeof(err)), 0);
	char *want = xasprintf("sqlite:%s/other.db", dir);
	assert_string_equal(where, want);
	free(want);
	free(where);
	config_free(cfg);

	yaml = "egress: {}\nstore: [1]\n";
	assert_int_equal(fs_write_file(file, yaml, strlen(yaml), 0600), 0);
	assert_int_equal(config_load(file, &cfg, err, sizeof(err)), 0);
	assert_int_equal(store_locate(dir, NULL, cfg, &where, err, sizeof(err)), -EINVAL);
	assert_null(where);
	assert_non_null(strstr(err, "line 2"));
	config_free(cfg);
	unlink(file);
	rmdir(dir);
	free(file);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_store_spaces),
		BOTH(test_store_upgrades_v1),
		BOTH(test_store_ids_never_reused),
		BOTH(test_store_tokens),
		BOTH(test_auth_token_formats),
		BOTH(test_route_tokens_from_store),
		BOTH(test_store_errors),
		BOTH(test_store_newer_schema_refused),
		BOTH(test_store_text_and_bytes),
		cmocka_unit_test(test_store_bad_addresses),
		cmocka_unit_test(test_store_locate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
