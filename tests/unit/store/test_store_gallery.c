/* store_gallery.c: likes, and a page of spaces by privacy, author, sdk, stage,
 * tag, search (owner/name, title, description, tags; the trigram index and the
 * short fallback), liked_by, every sort with pinned first, paging; rows follow
 * updates and deletes; odd front matter reads the same on both backends; a
 * database from before the index gets it at open; the lists' orders walk an
 * index (no sort of every row). Each case on sqlite and PostgreSQL
 * (backends.h). */
#include <errno.h>

#include "tests/unit/store/backends.h"

static int64_t
add_space(store *st, const char *owner, const char *name, int private, const char *stage,
    const char *card, int64_t created)
{
	space_row r = { 0 };
	int64_t id;

	r.owner = xstrdup(owner);
	r.name = xstrdup(name);
	r.subdomain = xasprintf("%s-%s", owner, name);
	r.sdk = xstrdup("static");
	r.private = private;
	r.stage = xstrdup(stage);
	r.card = card != NULL ? xstrdup(card) : NULL;
	r.created = created;
	assert_int_equal(store_space_insert(st, &r), 0);
	id = r.id;
	space_row_release(&r);
	return id;
}

/* The page's "owner/name"s, comma separated. */
static void
collect(const store_space_hit *h, void *arg)
{
	char *out = arg;
	size_t n = strlen(out);

	snprintf(out + n, 1024 - n, "%s%s/%s", n > 0 ? "," : "", h->owner, h->name);
}

static char got[1024];

static const char *
list(store *st, store_space_query q)
{
	got[0] = '\0';
	if (q.limit == 0)
		q.limit = 50;
	assert_true(store_spaces_query(st, &q, collect, got) >= 0);
	return got;
}

#pragma GCC diagnostic ignored "-Woverride-init"
#define Q(...) ((store_space_query){ .stage = STORE_STAGE_ANY, .pinned_first = 1, __VA_ARGS__ })

static void
test_gallery_queries(void **state)
{
	char *path = test_where(state);
	store *st;
	int64_t a1, b1, likes, uid;
	int liked;

	assert_int_equal(store_open(path, &st), 0);
	assert_int_equal(store_user_add(st, "alice", 0, NULL, &uid), 0);
	assert_int_equal(store_user_add(st, "bob", 0, NULL, &uid), 0);
	a1 = add_space(st, "alice", "chat", 0, "RUNNING",
	    "{\"title\":\"Chat Bot\",\"short_description\":\"talks to you\",\"sdk\":\"gradio\","
	    "\"tags\":[\"NLP\",\"demo\"]}", 100);
	add_space(st, "alice", "secret", 1, "SLEEPING", "{\"title\":\"Hidden\"}", 200);
	b1 = add_space(st, "bob", "paint", 0, "RUNTIME_ERROR",
	    "{\"title\":\"Paint\",\"tags\":[\"art\"],\"pinned\":true}", 50);
	add_space(st, "bob", "empty", 0, "NO_APP_FILE", NULL, 300);
	add_space(st, "bob", "broken", 0, "BUILDING", "not json", 250);

	/* visibility: the private space for its owner and admins only */
	assert_string_equal(list(st, Q()), "bob/paint,bob/empty,bob/broken,alice/chat");
	assert_string_equal(list(st, Q(.viewer = "alice")),
	    "bob/paint,bob/empty,bob/broken,alice/secret,alice/chat");
	assert_string_equal(list(st, Q(.viewer = "bob", .viewer_admin = 1, .author = "ALICE")),
	    "alice/secret,alice/chat");
	/* orders, pinned first or not */
	assert_string_equal(list(st, Q(.pinned_first = 0)), "bob/empty,bob/broken,alice/chat,bob/paint");
	assert_string_equal(list(st, Q(.sort = STORE_SORT_OLD)), "bob/paint,alice/chat,bob/broken,bob/empty");
	assert_string_equal(list(st, Q(.sort = STORE_SORT_TITLE, .pinned_first = 0)),
	    "bob/broken,alice/chat,bob/empty,bob/paint");
	assert_string_equal(list(st, Q(.sort = STORE_SORT_STAGE, .pinned_first = 0)),
	    "alice/chat,bob/broken,bob/paint,bob/empty");
	/* filters */
	assert_string_equal(list(st, Q(.sdk = "Gradio")), "alice/chat");
	assert_string_equal(list(st, Q(.stage = STORE_STAGE_ERROR)), "bob/paint");
	assert_string_equal(list(st, Q(.stage = STORE_STAGE_SLEEPING, .viewer = "alice")), "alice/secret");
	assert_string_equal(list(st, Q(.tag = "nlp")), "alice/chat");
	assert_string_equal(list(st, Q(.search = "TALKS")), "alice/chat");      /* description */
	assert_string_equal(list(st, Q(.search = "art")), "bob/paint");         /* a tag */
	assert_string_equal(list(st, Q(.search = "b/pa")), "bob/paint");        /* owner/name */
	assert_string_equal(list(st, Q(.search = "ch")), "alice/chat");         /* short: no index */
	assert_string_equal(list(st, Q(.search = "say \"hi\"")), "");
	assert_string_equal(list(st, Q(.search = "hidden")), "");                /* private */
	/* pages */
	assert_string_equal(list(st, Q(.limit = 2)), "bob/paint,bob/empty");
	assert_string_equal(list(st, Q(.limit = 2, .offset = 2)), "bob/broken,alice/chat");

	/* likes: once per user, counted, sorted by, listed per user */
	assert_int_equal(store_like_set(st, a1, "bob", 1), 0);
	assert_int_equal(store_like_set(st, a1, "bob", 1), 0);
	assert_int_equal(store_like_set(st, a1, "alice", 1), 0);
	assert_int_equal(store_like_set(st, b1, "alice", 1), 0);
	assert_int_equal(store_like_set(st, a1, "nobody", 1), -ENOENT);
	assert_int_equal(store_likes_count(st, a1, &likes), 0);
	assert_int_equal(likes, 2);
	assert_int_equal(store_like_get(st, a1, "bob", &liked), 0);
	assert_true(liked);
	assert_string_equal(list(st, Q(.sort = STORE_SORT_LIKES, .pinned_first = 0)),
	    "alice/chat,bob/paint,bob/empty,bob/broken");
	assert_string_equal(list(st, Q(.liked_by = "alice")), "bob/paint,alice/chat");
	assert_int_equal(store_like_set(st, a1, "bob", 0), 0);
	assert_int_equal(store_likes_count(st, a1, &likes), 0);
	assert_int_equal(likes, 1);
	assert_int_equal(store_like_get(st, a1, "bob", &liked), 0);
	assert_false(liked);

	/* an update reindexes: the new card's title and tags, the new stage */
	space_row r = { .id = a1, .sdk = "static", .stage = "PAUSED", .card = "{\"title\":\"Talker\","
		"\"tags\":[\"voice\"]}" };
	assert_int_equal(store_space_update(st, &r), 0);
	assert_string_equal(list(st, Q(.tag = "nlp")), "");
	assert_string_equal(list(st, Q(.tag = "voice")), "alice/chat");
	assert_string_equal(list(st, Q(.search = "talker")), "alice/chat");
	assert_string_equal(list(st, Q(.search = "talks")), "");
	assert_string_equal(list(st, Q(.stage = STORE_STAGE_PAUSED)), "alice/chat");
	assert_int_equal(store_likes_count(st, a1, &likes), 0);
	assert_int_equal(likes, 1);
	/* a delete takes its likes, tags and search text along */
	assert_int_equal(store_space_delete(st, a1), 0);
	assert_string_equal(list(st, Q(.search = "talker")), "");
	assert_string_equal(list(st, Q(.liked_by = "alice")), "bob/paint");
	add_space(st, "carol", "new", 0, "RUNNING", "{\"tags\":[\"voice\"]}", 400);
	assert_string_equal(list(st, Q(.tag = "voice")), "carol/new");
	store_close(st);
	test_done(path);
}

/* Two characters of UTF-8 (three bytes) are too few for the trigram index: they
 * are looked for in each row. */
static void
test_gallery_short_search_counts_characters(void **state)
{
	char *path = test_where(state);
	store *st;

	assert_int_equal(store_open(path, &st), 0);
	add_space(st, "alice", "cafe", 0, "RUNNING", "{\"title\":\"Café\"}", 1);
	assert_string_equal(list(st, Q(.search = "fé")), "alice/cafe");
	assert_string_equal(list(st, Q(.search = "afé")), "alice/cafe");
	assert_string_equal(list(st, Q(.search = "AFÉ")), "alice/cafe");
	store_close(st);
	test_done(path);
}

/* Front matter of other shapes reads alike on both backends (sqlite's json1,
 * PostgreSQL's jsonb): a number as title, tags as one string or an object,
 * pinned as 1, JSON that is not an object; ASCII case folded for owner, title,
 * tags and search; LIKE's wildcards in a search are text. */
static void
test_gallery_cards_read_alike(void **state)
{
	char *path = test_where(state);
	store *st;

	assert_int_equal(store_open(path, &st), 0);
	add_space(st, "Zed", "num", 0, "RUNNING",
	    "{\"title\":42,\"tags\":\"Solo\",\"pinned\":1,\"sdk\":\"Docker\"}", 1);
	add_space(st, "amy", "obj", 0, "STOPPED", "{\"title\":\"apple\",\"tags\":{\"a\":\"Obj\",\"b\":3}}", 2);
	add_space(st, "amy", "arr", 0, "CONFIG_ERROR", "[1, 2]", 3);
	add_space(st, "amy", "pct", 0, "APP_STARTING",
	    "{\"title\":\"Banana 50% off_now\",\"short_description\":\"a\\\\b\"}", 4);
	add_space(st, "amy", "uni", 0, "RUNNING", "{\"title\":\"Émile\",\"tags\":[\"Ünï\", 7]}", 5);

	assert_string_equal(list(st, Q(.sort = STORE_SORT_TITLE)),
	    "Zed/num,amy/obj,amy/arr,amy/pct,amy/uni");
	assert_string_equal(list(st, Q(.sort = STORE_SORT_STAGE, .pinned_first = 0)),
	    "amy/uni,Zed/num,amy/pct,amy/obj,amy/arr");
	assert_string_equal(list(st, Q(.author = "zed")), "Zed/num");
	assert_string_equal(list(st, Q(.sdk = "docker")), "Zed/num");
	assert_string_equal(list(st, Q(.tag = "SOLO")), "Zed/num");
	assert_string_equal(list(st, Q(.tag = "obj")), "amy/obj");
	assert_string_equal(list(st, Q(.tag = "ünï")), "");  /* tags fold ASCII only */
	assert_string_equal(list(st, Q(.tag = "Ünï")), "amy/uni");
	assert_string_equal(list(st, Q(.search = "zed/n")), "Zed/num");
	assert_string_equal(list(st, Q(.search = "42")), "Zed/num");
	assert_string_equal(list(st, Q(.search = "0% off")), "amy/pct");
	assert_string_equal(list(st, Q(.search = "0%_o")), "");
	assert_string_equal(list(st, Q(.search = "f_now")), "amy/pct");
	assert_string_equal(list(st, Q(.search = "ff_")), "amy/pct");
	assert_string_equal(list(st, Q(.search = "n_")), "");
	assert_string_equal(list(st, Q(.search = "a\\b")), "amy/pct");
	assert_string_equal(list(st, Q(.search = "\\")), "amy/pct");
	assert_string_equal(list(st, Q(.search = "%")), "amy/pct");
	assert_string_equal(list(st, Q(.search = "émile")), "amy/uni");
	assert_string_equal(list(st, Q(.search = "ün")), "");  /* short: ASCII case only */
	assert_string_equal(list(st, Q(.search = "Ün")), "amy/uni");
	store_close(st);
	test_done(path);
}

/* A database of v5 (before likes and the index) gets its spaces indexed at open. */
static void
test_gallery_v5_database_is_indexed(void **state)
{
	char *path = test_where(state);
	store *st;

	test_at_version(path, 5,
	    "INSERT INTO spaces (owner, name, subdomain, sdk, private, stage, card, created)"
	    " VALUES ('admin', 'old', 'admin-old', 'static', 0, 'RUNNING',"
	    " '{\"title\":\"Old one\",\"tags\":[\"x\"]}', 1);");
	assert_int_equal(store_open(path, &st), 0);
	assert_string_equal(list(st, Q(.search = "old one")), "admin/old");
	assert_string_equal(list(st, Q(.tag = "x")), "admin/old");
	store_close(st);
	test_done(path);
}

/* The plan of a statement, its lines joined by ";": sqlite's EXPLAIN QUERY
 * PLAN details, PostgreSQL's EXPLAIN. */
static void
plan_of(store *st, int sqlite, const char *select, char *plan, size_t len)
{
	char *sql = xasprintf("%s %s", sqlite ? "EXPLAIN QUERY PLAN" : "EXPLAIN", select);
	store_stmt q;

	plan[0] = '\0';
	store_stmt_init(&q, st, sql);
	while (store_step(&q) == 1)
		snprintf(plan + strlen(plan), len - strlen(plan), "%s;",
		    store_col_text(&q, sqlite ? 3 : 0));
	store_stmt_finish(&q);
	free(sql);
}

/* The plan of a page as a list asks for it: the gallery's orders (pinned
 * first), a profile's, /admin's. sqlite: an index walk, no temporary b-tree;
 * PostgreSQL (its statistics made, as autovacuum does): an index scan, no Sort
 * node. The spaces are many enough for PostgreSQL's planner to prefer the
 * index. A search of three characters or more asks the trigram index. */
static void
test_gallery_pages_walk_an_index(void **state)
{
	static const char *const lists[] = {
		"i.private = 0 ORDER BY i.pinned DESC, i.created DESC, i.space_id DESC",
		"i.private = 0 ORDER BY i.pinned DESC, i.created, i.space_id",
		"i.private = 0 ORDER BY i.pinned DESC, i.likes DESC, i.created DESC, i.space_id DESC",
		"i.private = 0 ORDER BY i.pinned DESC, i.title, i.space_id",
		"i.private = 0 ORDER BY i.pinned DESC, i.stage_rank, i.created DESC, i.space_id DESC",
		"(i.private = 0 OR i.owner = 'bob') AND i.owner = 'bob'"
		" ORDER BY i.pinned DESC, i.created DESC, i.space_id DESC",
		"true ORDER BY i.created DESC, i.space_id DESC",
	};
	int sqlite = test_is_sqlite(state);
	char *path = test_where(state), plan[4096];
	store *st;

	assert_int_equal(store_open(path, &st), 0);
	assert_int_equal(store_exec(st,
	    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)"
	    " INSERT INTO spaces (owner, name, subdomain, sdk, private, stage, created, card)"
	    " SELECT CASE WHEN i % 7 = 0 THEN 'bob' ELSE 'alice' END, 's' || i, 'sub-' || i,"
	    " 'static', CASE WHEN i % 3 = 0 THEN 1 ELSE 0 END,"
	    " CASE WHEN i % 2 = 0 THEN 'RUNNING' ELSE 'SLEEPING' END, i,"
	    " '{\"title\":\"t' || i || '\",\"pinned\":' || CASE WHEN i % 50 = 0 THEN 'true' ELSE"
	    " 'false' END || '}' FROM n"), 0);
	assert_int_equal(store_gallery_index(st, 0), 0);
	if (!sqlite)
		assert_int_equal(store_exec(st, "ANALYZE spaces; ANALYZE space_index"), 0);
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		char *sql = xasprintf("SELECT i.space_id, s.owner, s.name, i.likes FROM space_index i"
		    " JOIN spaces s ON s.id = i.space_id WHERE %s LIMIT 25", lists[i]);

		plan_of(st, sqlite, sql, plan, sizeof(plan));
		if (sqlite)
			assert_true(strstr(plan, "TEMP B-TREE") == NULL && strstr(plan, "USING INDEX"));
		else
			assert_true(strstr(plan, "Sort") == NULL && strstr(plan, "Index Scan"));
		free(sql);
	}
	plan_of(st, sqlite,
	    sqlite ? "SELECT rowid FROM space_search WHERE space_search MATCH '\"s417\"'"
	           : "SELECT space_id FROM space_index WHERE search ILIKE '%s417%'",
	    plan, sizeof(plan));
	assert_non_null(strstr(plan, sqlite ? "VIRTUAL TABLE INDEX" :
	    "Bitmap Index Scan on space_index_search"));
	store_close(st);
	test_done(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_gallery_queries),
		BOTH(test_gallery_short_search_counts_characters),
		BOTH(test_gallery_cards_read_alike),
		BOTH(test_gallery_v5_database_is_indexed),
		BOTH(test_gallery_pages_walk_an_index),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
