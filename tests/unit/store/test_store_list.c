/* store_list.c: the listings' pages: who sees what, owner, substring and tag
 * filters, the sorts (descending, ties newest first) and keyset pages that
 * together give every space once; a v6 database gains the listing columns (each
 * case on both backends, backends.h). */
#include "tests/unit/store/backends.h"

static char *path;
static store *st;

typedef struct got {
	int64_t ids[16], keys[16];
	int n;
} got;

static void
collect(int64_t id, int64_t key, void *arg)
{
	got *g = arg;

	assert_true(g->n < 16);
	g->ids[g->n] = id;
	g->keys[g->n++] = key;
}

static int64_t
add(const char *owner, const char *name, int private, int64_t created, int64_t modified,
    const char *const *tags)
{
	space_row r = { 0 };
	int64_t id;

	r.owner = xstrdup(owner);
	r.name = xstrdup(name);
	r.subdomain = xasprintf("%s-%s", owner, name);
	r.sdk = xstrdup("static");
	r.stage = xstrdup("NO_APP_FILE");
	r.private = private;
	r.created = created;
	assert_int_equal(store_space_insert(st, &r), 0);
	id = r.id;
	space_row_release(&r);
	assert_int_equal(store_space_modified_set(st, id, modified), 0);
	assert_int_equal(store_space_tags_set(st, id, tags), 0);
	return id;
}

static void
open_store(void **state)
{
	path = test_where(state);
	assert_int_equal(store_open(path, &st), 0);
}

static void
close_store(void)
{
	store_close(st);
	test_done(path);
}

static got
page(store_list_query q)
{
	got g = { 0 };

	if (q.limit == 0)
		q.limit = 10;
	assert_int_equal(store_spaces_page(st, &q, collect, &g), 0);
	return g;
}

static void
test_filters_and_sorts(void **state)
{
	static const char *const ab[] = { "static", "a-tag", "b-tag", NULL };
	static const char *const b[] = { "static", "b-tag", NULL };
	int64_t one, two, hid, bob;
	const char *const tb[] = { "b-tag", NULL }, *const tab[] = { "b-tag", "a-tag", NULL };
	got g;

	open_store(state);
	one = add("alice", "One-Q7", 0, 100, 500, ab);
	two = add("alice", "two-q7", 0, 200, 300, b);
	hid = add("alice", "hidden", 1, 300, 400, b);
	bob = add("bob", "zeta", 0, 200, 600, NULL);

	/* anonymous: public ones, by id; the owner sees theirs (any case); admins all */
	g = page((store_list_query){ .sort = STORE_LIST_ID });
	assert_int_equal(g.n, 3);
	assert_true(g.ids[0] == one && g.ids[1] == two && g.ids[2] == bob);
	assert_int_equal(page((store_list_query){ .user = "ALICE" }).n, 4);
	assert_int_equal(page((store_list_query){ .user = "bob" }).n, 3);
	assert_int_equal(page((store_list_query){ .user = "bob", .admin = 1 }).n, 4);
	/* owner, substring of "owner/name" in any case, every tag given */
	assert_int_equal(page((store_list_query){ .author = "Alice" }).n, 2);
	g = page((store_list_query){ .search = "E/TW" });
	assert_true(g.n == 1 && g.ids[0] == two);
	assert_int_equal(page((store_list_query){ .search = "q7" }).n, 2);
	assert_int_equal(page((store_list_query){ .tags = tb }).n, 2);
	g = page((store_list_query){ .tags = tab });
	assert_true(g.n == 1 && g.ids[0] == one);
	assert_int_equal(page((store_list_query){ .user = "alice", .tags = tb }).n, 3);
	/* descending; created ties: the newer (higher id) first */
	g = page((store_list_query){ .sort = STORE_LIST_CREATED });
	assert_true(g.n == 3 && g.ids[0] == bob && g.ids[1] == two && g.ids[2] == one);
	assert_int_equal(g.keys[0], 200);
	g = page((store_list_query){ .sort = STORE_LIST_MODIFIED, .user = "alice" });
	assert_true(
	    g.n == 4 && g.ids[0] == bob && g.ids[1] == one && g.ids[2] == hid && g.ids[3] == two);
	assert_int_equal(page((store_list_query){ .sort = STORE_LIST_LIKES }).n, 3);
	close_store();
}

static void
test_pages_give_each_space_once(void **state)
{
	static const int sorts[] = { STORE_LIST_ID, STORE_LIST_CREATED, STORE_LIST_MODIFIED,
		STORE_LIST_LIKES };
	char name[32];
	int seen[16];

	open_store(state);
	for (int i = 0; i < 11; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		/* created in threes (ties), modified all over */
		add("carol", name, 0, 1000 + i / 3, 5000 - (i * 7) % 11, NULL);
	}
	for (size_t s = 0; s < sizeof(sorts) / sizeof(sorts[0]); s++) {
		store_list_query q = { .sort = sorts[s], .limit = 4 };
		int total = 0;
		got g;

		memset(seen, 0, sizeof(seen));
		do {
			g = page(q);
			/* limit + 1 when more remain */
			for (int i = 0; i < g.n && i < q.limit; i++) {
				assert_true(g.ids[i] >= 1 && g.ids[i] <= 11);
				assert_int_equal(seen[g.ids[i]]++, 0);
				total++;
			}
			q.after = 1;
			q.after_key = g.keys[q.limit - 1];
			q.after_id = g.ids[q.limit - 1];
		} while (g.n > q.limit);
		assert_int_equal(total, 11);
	}
	close_store();
}

static void
test_a_v6_database_gains_the_listings(void **state)
{
	path = test_where(state);
	test_at_version(path, 6, NULL);
	assert_int_equal(store_open(path, &st), 0);
	add("dave", "after", 0, 10, 20, NULL);
	assert_int_equal(page((store_list_query){ .sort = STORE_LIST_MODIFIED }).n, 1);
	close_store();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_filters_and_sorts),
		BOTH(test_pages_give_each_space_once),
		BOTH(test_a_v6_database_gains_the_listings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
