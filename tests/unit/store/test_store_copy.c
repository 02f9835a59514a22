/* store_copy.c (podium store migrate): a populated sqlite store into an empty
 * store of each backend, read back through the store's own calls with the same
 * ids (likes too, and the gallery's index made again on the target, likes
 * counted); new rows after it get new ids; and the way back from PostgreSQL. A target
 * with rows, a source with a table podium does not know, an empty source and a
 * copy that fails half way are refused and leave the target as it was. */
#include <errno.h>
#include <time.h>

#include "tests/unit/store/backends.h"

static const unsigned char sealed[6] = { 0, 1, 0xff, 0x80, '\\', 'x' };

static void
add_space(store *st, const char *name, int64_t want_id)
{
	space_row r = { .owner = xstrdup("bob"), .name = xstrdup(name),
		.subdomain = xasprintf("bob-%s", name), .sdk = xstrdup("python"),
		.stage = xstrdup("RUNNING"), .card = xstrdup("{\"title\":\"caf\xc3\xa9\"}"),
		.want_running = 1, .release_id = 2, .retry_at = 1234567890123 };

	assert_int_equal(store_space_insert(st, &r), 0);
	assert_int_equal(r.id, want_id);
	space_row_release(&r);
}

/* Every kind of row, with a gap in the spaces' ids (a deleted one). */
static void
populate(store *st)
{
	unsigned char h1[32], h2[32];
	build_row b = { .space_id = 1, .sha = "aaa", .release_dir = "/r", .log_path = "/l" };
	int64_t admin, bob;

	memset(h1, 0xa1, sizeof(h1));
	memset(h2, 0, sizeof(h2));
	assert_int_equal(store_user_ensure(st, "admin", &admin, NULL), 0);
	assert_int_equal(store_user_add(st, "bob", 0, "$argon2id$bob", &bob), 0);
	assert_int_equal(store_token_add(st, admin, "hf_admin0000", h1), 0);
	assert_int_equal(store_token_add(st, bob, "hf_bob000000", h2), 0);
	assert_int_equal(store_token_label_last(st, 0, "ci"), 0);
	assert_int_equal(store_session_add(st, h1, bob, "csrf-1", (int64_t)time(NULL) + 3600), 0);
	add_space(st, "one", 1);
	add_space(st, "gone", 2);
	add_space(st, "three", 3);
	assert_int_equal(store_space_delete(st, 2), 0);
	assert_int_equal(store_build_insert(st, &b), 0);
	assert_int_equal(store_build_finish(st, b.id, "ok", NULL, "{\"sdk\":\"python\"}"), 0);
	b = (build_row){ .space_id = 1, .sha = "bbb", .release_dir = "/r", .log_path = "/l" };
	assert_int_equal(store_build_insert(st, &b), 0);
	assert_int_equal(store_config_set(st, 1, 0, "GREETING", "hello", 5, "a variable"), 0);
	assert_int_equal(store_config_set(st, 1, 1, "TOKEN", sealed, sizeof(sealed), NULL), 0);
	assert_int_equal(store_hardware_set(st, 3, "cpu-upgrade"), 0);
	assert_int_equal(store_settings_put(st, 3, 1, 600, "small"), 0);
	assert_int_equal(store_like_set(st, 3, "bob", 1), 0);
	assert_int_equal(store_like_set(st, 3, "admin", 1), 0);
	assert_int_equal(store_like_set(st, 1, "bob", 1), 0);
}

static void
hit_likes(const store_space_hit *h, void *arg)
{
	char *out = arg;
	size_t n = strlen(out);

	snprintf(out + n, 64 - n, "%s%s:%lld", n > 0 ? "," : "", h->name, (long long)h->likes);
}

static void
check_space(space_row *r, void *arg)
{
	int *n = arg;

	assert_int_equal(r->id, *n == 0 ? 1 : 3);
	assert_string_equal(r->name, *n == 0 ? "one" : "three");
	assert_string_equal(r->card, "{\"title\":\"caf\xc3\xa9\"}");
	assert_int_equal(r->retry_at, 1234567890123);
	assert_int_equal(r->release_id, 2);
	(*n)++;
	space_row_release(r);
}

static void
check_config(const config_row *r, void *arg)
{
	int *n = arg;

	if (strcmp(r->key, "TOKEN") == 0) {
		assert_int_equal(r->value_len, sizeof(sealed));
		assert_memory_equal(r->value, sealed, sizeof(sealed));
	} else {
		assert_string_equal(r->key, "GREETING");
		assert_string_equal(r->description, "a variable");
	}
	(*n)++;
}

/* What populate wrote, read through the store's calls. */
static void
check(store *st)
{
	unsigned char h[32];
	char csrf[32], tier[16], *user = NULL, *flavor = NULL;
	int n = 0, write = 1, paused, sleep;
	build_row b;
	user_row u;

	assert_int_equal(store_user_get(st, "bob", &u), 0);
	assert_true(u.has_password && !u.admin);
	assert_int_equal(store_user_get(st, "admin", &u), 0);
	assert_true(u.admin);
	assert_int_equal(store_token_find(st, "hf_admin0000", h, &user), 0);
	assert_string_equal(user, "admin");
	assert_int_equal(h[31], 0xa1);
	free(user);
	assert_int_equal(store_token_role(st, "hf_bob000000", &write), 0);
	assert_int_equal(write, 0);
	memset(h, 0xa1, sizeof(h));
	assert_int_equal(store_session_find(st, h, &user, csrf, sizeof(csrf)), 0);
	assert_string_equal(user, "bob");
	assert_string_equal(csrf, "csrf-1");
	free(user);
	assert_int_equal(store_space_load_all(st, check_space, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_build_latest(st, 1, &b), 0);
	assert_int_equal(b.id, 2);
	assert_string_equal(b.sha, "bbb");
	build_row_release(&b);
	assert_int_equal(store_build_get(st, 1, &b), 0);
	assert_string_equal(b.config, "{\"sdk\":\"python\"}");
	build_row_release(&b);
	n = 0;
	assert_int_equal(store_config_list(st, 1, -1, check_config, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_hardware_get(st, 3, &flavor), 0);
	assert_string_equal(flavor, "cpu-upgrade");
	free(flavor);
	assert_int_equal(store_settings_get(st, 3, &paused, &sleep, tier, sizeof(tier)), 0);
	assert_true(paused == 1 && sleep == 600 && strcmp(tier, "small") == 0);
	/* the likes, and the gallery's index made again from the rows */
	assert_int_equal(store_like_get(st, 3, "admin", &write), 0);
	assert_true(write);
	store_space_query q = { .stage = STORE_STAGE_ANY, .sort = STORE_SORT_LIKES, .limit = 10 };
	char hits[64] = "";
	assert_int_equal(store_spaces_query(st, &q, hit_likes, hits), 2);
	assert_string_equal(hits, "three:2,one:1");
	q = (store_space_query){ .stage = STORE_STAGE_ANY, .search = "CAFÉ", .limit = 10 };
	hits[0] = '\0';
	assert_int_equal(store_spaces_query(st, &q, hit_likes, hits), 2);
}

static void
count_rows(const char *table, int64_t rows, void *arg)
{
	int64_t *all = arg;

	assert_non_null(table);
	*all += rows;
}

static char *
sqlite_where(void)
{
	static void *sqlite_state = (void *)test_sqlite;

	return test_where(&sqlite_state);
}

static void
test_copy_from_sqlite(void **state)
{
	char *dst_at = test_where(state), *src_at = sqlite_where(), err[256];
	store *src, *dst, *back;
	int64_t rows = 0, n = 0;
	char *back_at;

	assert_int_equal(store_open(src_at, &src), 0);
	populate(src);
	assert_int_equal(store_open(dst_at, &dst), 0);
	assert_int_equal(store_copy(src, dst, count_rows, &rows, err, sizeof(err)), 0);
	assert_int_equal(rows, 2 + 2 + 1 + 2 + 2 + 2 + 1 + 1 + 3);
	check(dst);
	/* new rows go on after the copied ids */
	add_space(dst, "four", 4);
	/* a second copy into it is refused: nothing mixes */
	assert_int_equal(store_copy(src, dst, NULL, NULL, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "not empty"));
	assert_int_equal(store_space_load_all(src, check_space, &n), 0);

	/* and back again, into a new sqlite store */
	back_at = sqlite_where();
	assert_int_equal(store_open(back_at, &back), 0);
	assert_int_equal(store_space_delete(dst, 4), 0);
	assert_int_equal(store_copy(dst, back, NULL, NULL, err, sizeof(err)), 0);
	check(back);
	store_close(back);
	store_close(dst);
	store_close(src);
	test_done(back_at);
	test_done(dst_at);
	test_done(src_at);
}

/* Refusals leave the target empty. */
static void
test_copy_refusals(void **state)
{
	char *dst_at = test_where(state), *src_at = sqlite_where(), err[256];
	store *src, *dst;
	user_row u;

	assert_int_equal(store_open(src_at, &src), 0);
	assert_int_equal(store_open(dst_at, &dst), 0);
	/* an empty source: a wrong address, most likely */
	assert_int_equal(store_copy(src, dst, NULL, NULL, err, sizeof(err)), -ENOENT);
	populate(src);
	/* a copy that fails half way (the target refuses two builds of a space with
	 * one status,
	 * after users, tokens, sessions and spaces went in) */
	assert_int_equal(store_exec(dst, "CREATE UNIQUE INDEX one_sha ON builds (space_id, status)"),
	    0);
	assert_int_equal(store_exec(src, "UPDATE builds SET status = 'ok'"), 0);
	assert_int_equal(store_copy(src, dst, NULL, NULL, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "builds"));
	assert_int_equal(store_user_get(dst, "bob", &u), -ENOENT);
	/* a table this podium does not know */
	assert_int_equal(store_exec(src, "CREATE TABLE stars (space_id INTEGER)"), 0);
	assert_int_equal(store_copy(src, dst, NULL, NULL, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "stars"));
	assert_int_equal(store_user_get(dst, "bob", &u), -ENOENT);
	store_close(dst);
	store_close(src);
	test_done(dst_at);
	test_done(src_at);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_copy_from_sqlite),
		BOTH(test_copy_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
