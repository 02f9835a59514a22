/* store_gallery.c: likes, and a page of spaces by privacy, author, sdk, stage,
 * tag, search (owner/name, title, description, tags; the trigram index and the
 * short fallback), liked_by, every sort with pinned first, paging; rows follow
 * updates and deletes; the default orders walk an index (no sort of every row). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "orchestrator/store/store.h"
#include "orchestrator/store/store_int.h"

static char *
temp_db(void)
{
	char tmpl[] = "/tmp/podium-gallery-XXXXXX";
	char *dir = mkdtemp(tmpl);

	assert_non_null(dir);
	return xasprintf("%s/podium.db", dir);
}

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
	char *path = temp_db();
	store *st;
	int64_t id, a1, b1, likes;
	int64_t uid;
	int liked;

	(void)state;
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
	/* a delete takes its likes, tags and search text along */
	assert_int_equal(store_space_delete(st, a1), 0);
	assert_string_equal(list(st, Q(.search = "talker")), "");
	assert_string_equal(list(st, Q(.liked_by = "alice")), "bob/paint");
	id = add_space(st, "carol", "new", 0, "RUNNING", "{\"tags\":[\"voice\"]}", 400);
	assert_string_equal(list(st, Q(.tag = "voice")), "carol/new");
	(void)id;
	store_close(st);
	unlink(path);
	free(path);
}

/* Two characters of UTF-8 (three bytes) are too few for the trigram index: they
 * are looked for in each row. */
static void
test_gallery_short_search_counts_characters(void **state)
{
	char *path = temp_db();
	store *st;

	(void)state;
	assert_int_equal(store_open(path, &st), 0);
	add_space(st, "alice", "cafe", 0, "RUNNING", "{\"title\":\"Café\"}", 1);
	assert_string_equal(list(st, Q(.search = "fé")), "alice/cafe");
	assert_string_equal(list(st, Q(.search = "afé")), "alice/cafe");
	store_close(st);
	unlink(path);
	free(path);
}

/* The plan of a page in a default order: an index walk, no temporary sort. */
static void
test_gallery_pages_walk_an_index(void **state)
{
	static const char *const orders[] = {
		"i.pinned DESC, i.created DESC, i.space_id DESC",
		"i.pinned DESC, i.likes DESC, i.created DESC, i.space_id DESC",
		"i.pinned DESC, i.title, i.space_id",
	};
	char *path = temp_db();
	store *st;

	(void)state;
	assert_int_equal(store_open(path, &st), 0);
	for (int i = 0; i < 50; i++) {
		char name[32];

		snprintf(name, sizeof(name), "s%d", i);
		add_space(st, "alice", name, i % 3 == 0, "RUNNING", NULL, i);
	}
	for (size_t i = 0; i < sizeof(orders) / sizeof(orders[0]); i++) {
		char *sql = xasprintf("EXPLAIN QUERY PLAN SELECT i.space_id FROM space_index i"
		    " JOIN spaces s ON s.id = i.space_id WHERE i.private = 0 ORDER BY %s LIMIT 24",
		    orders[i]);
		sqlite3_stmt *q;
		char plan[2048] = "";

		assert_int_equal(sqlite3_prepare_v2(store_sqlite(st), sql, -1, &q, NULL), SQLITE_OK);
		while (sqlite3_step(q) == SQLITE_ROW) {
			size_t n = strlen(plan);

			snprintf(plan + n, sizeof(plan) - n, "%s;", sqlite3_column_text(q, 3));
		}
		sqlite3_finalize(q);
		assert_null(strstr(plan, "TEMP B-TREE"));
		assert_non_null(strstr(plan, "USING INDEX"));
		free(sql);
	}
	store_close(st);
	unlink(path);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gallery_queries),
		cmocka_unit_test(test_gallery_pages_walk_an_index),
		cmocka_unit_test(test_gallery_short_search_counts_characters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
