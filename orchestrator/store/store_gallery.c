/* store_gallery.c — likes, and the index lists of spaces are paged through
 * (schema v6, issue 25): the gallery, profiles and the admin page ask for one
 * page in one order, and sqlite walks an index for it instead of the daemon
 * sorting every space on the machine.
 *
 * space_index holds one row per space, rebuilt from its spaces row by
 * store_gallery_index after every insert and update (store.c); space_tags its
 * front matter tags; space_search a trigram full-text index of its searchable
 * text (owner/name, title, short_description, tags), kept by triggers; likes
 * count into space_index.likes by triggers. Rows go with their space (ON DELETE
 * CASCADE). Same conventions as store.c. */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/util.h"
#include "orchestrator/store/store_int.h"

/* Likes (one per user and space) and the gallery's index of spaces: one row per
 * space with what lists filter and sort by (owner, privacy, sdk, stage, title,
 * pinned, likes), indexed per sort order; tags; and a trigram full-text index
 * of the searchable text, so that a page of a list costs what it shows. */
const char *const store_schema_gallery =
	"CREATE TABLE space_likes ("
	"  space_id INTEGER NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  created INTEGER NOT NULL, PRIMARY KEY (space_id, user_id));"
	"CREATE INDEX space_likes_user ON space_likes(user_id, created);"
	"CREATE TABLE space_index ("
	"  space_id INTEGER PRIMARY KEY REFERENCES spaces(id) ON DELETE CASCADE,"
	"  owner TEXT NOT NULL COLLATE NOCASE, private INTEGER NOT NULL, sdk TEXT NOT NULL,"
	"  stage_rank INTEGER NOT NULL, title TEXT NOT NULL COLLATE NOCASE,"
	"  pinned INTEGER NOT NULL, created INTEGER NOT NULL, likes INTEGER NOT NULL DEFAULT 0,"
	"  search TEXT NOT NULL);"
	"CREATE INDEX space_index_new ON space_index(pinned, created);"
	"CREATE INDEX space_index_old ON space_index(pinned DESC, created);"
	"CREATE INDEX space_index_likes ON space_index(pinned, likes, created);"
	"CREATE INDEX space_index_title ON space_index(pinned DESC, title);"
	"CREATE INDEX space_index_stage ON space_index(pinned DESC, stage_rank, created DESC);"
	"CREATE INDEX space_index_owner ON space_index(owner, pinned, created);"
	"CREATE TABLE space_tags ("
	"  tag TEXT NOT NULL COLLATE NOCASE,"
	"  space_id INTEGER NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,"
	"  PRIMARY KEY (tag, space_id)) WITHOUT ROWID;"
	"CREATE INDEX space_tags_space ON space_tags(space_id);"
	"CREATE VIRTUAL TABLE space_search USING fts5(search, content='space_index',"
	"  content_rowid='space_id', tokenize='trigram');"
	"CREATE TRIGGER space_index_ai AFTER INSERT ON space_index BEGIN"
	"  INSERT INTO space_search(rowid, search) VALUES (new.space_id, new.search); END;"
	"CREATE TRIGGER space_index_ad AFTER DELETE ON space_index BEGIN"
	"  INSERT INTO space_search(space_search, rowid, search)"
	"  VALUES ('delete', old.space_id, old.search); END;"
	"CREATE TRIGGER space_index_au AFTER UPDATE OF search ON space_index"
	"  WHEN old.search IS NOT new.search BEGIN"
	"  INSERT INTO space_search(space_search, rowid, search)"
	"  VALUES ('delete', old.space_id, old.search);"
	"  INSERT INTO space_search(rowid, search) VALUES (new.space_id, new.search); END;"
	"CREATE TRIGGER space_likes_ai AFTER INSERT ON space_likes BEGIN"
	"  UPDATE space_index SET likes = likes + 1 WHERE space_id = new.space_id; END;"
	"CREATE TRIGGER space_likes_ad AFTER DELETE ON space_likes BEGIN"
	"  UPDATE space_index SET likes = likes - 1 WHERE space_id = old.space_id; END;";

/* The index row of every space (?1 NULL) or of one, from its spaces row. A card
 * that is not JSON counts as empty; a stage's rank is its store_stage. */
#define INDEX_SQL \
	"INSERT INTO space_index (space_id, owner, private, sdk, stage_rank, title, pinned," \
	" created, search)" \
	" SELECT id, owner, private, lower(coalesce(json_extract(c, '$.sdk'), sdk))," \
	" CASE WHEN stage LIKE 'RUNNING%' THEN 0 WHEN stage IN ('BUILDING', 'APP_STARTING') THEN 1" \
	"  WHEN stage = 'SLEEPING' THEN 2 WHEN stage IN ('PAUSED', 'STOPPED') THEN 3" \
	"  WHEN stage LIKE '%ERROR' THEN 4 ELSE 5 END," \
	" coalesce(CAST(json_extract(c, '$.title') AS TEXT), name)," \
	" json_extract(c, '$.pinned') IS 1, created," \
	" lower(owner || '/' || name || ' ' || coalesce(json_extract(c, '$.title'), '') || ' ' ||" \
	"  coalesce(json_extract(c, '$.short_description'), '') || ' ' ||" \
	"  coalesce((SELECT group_concat(value, ' ') FROM json_each(c, '$.tags')" \
	"   WHERE type = 'text'), ''))" \
	" FROM (SELECT *, CASE WHEN json_valid(card) THEN card ELSE '{}' END AS c FROM spaces" \
	"  WHERE ?1 IS NULL OR id = ?1) WHERE true" \
	" ON CONFLICT (space_id) DO UPDATE SET owner = excluded.owner, private = excluded.private," \
	" sdk = excluded.sdk, stage_rank = excluded.stage_rank, title = excluded.title," \
	" pinned = excluded.pinned, created = excluded.created, search = excluded.search"

#define TAGS_DELETE_SQL "DELETE FROM space_tags WHERE ?1 IS NULL OR space_id = ?1"
#define TAGS_SQL \
	"INSERT OR IGNORE INTO space_tags (tag, space_id) SELECT lower(j.value), s.id" \
	" FROM spaces s, json_each(CASE WHEN json_valid(s.card) THEN s.card ELSE '{}' END," \
	" '$.tags') j WHERE (?1 IS NULL OR s.id = ?1) AND j.type = 'text'"

/* Runs sql bound to id (or NULL: every space); no rows. */
static int
run_for(store *st, const char *sql, int64_t id)
{
	sqlite3_stmt *q = store_prepare(st, sql);
	int r;

	if (q == NULL)
		return -EIO;
	if (id > 0)
		sqlite3_bind_int64(q, 1, id);
	r = sqlite3_step(q) == SQLITE_DONE ? 0 : store_db_fail(st, "gallery index");
	sqlite3_finalize(q);
	return r;
}

int
store_gallery_index(store *st, int64_t id)
{
	if (run_for(st, INDEX_SQL, id) != 0 || run_for(st, TAGS_DELETE_SQL, id) != 0 ||
	    run_for(st, TAGS_SQL, id) != 0)
		return -EIO;
	return 0;
}

int
store_gallery_check(store *st)
{
	sqlite3_stmt *q = store_prepare(st, "SELECT (SELECT count(*) FROM spaces),"
	    " (SELECT count(*) FROM space_index)");
	int64_t spaces = 0, indexed = 0;

	if (q == NULL)
		return -EIO;
	if (sqlite3_step(q) == SQLITE_ROW) {
		spaces = sqlite3_column_int64(q, 0);
		indexed = sqlite3_column_int64(q, 1);
	}
	sqlite3_finalize(q);
	if (spaces == indexed)
		return 0;
	log_info("store: indexing %lld spaces for the gallery", (long long)spaces);
	return store_gallery_index(st, 0);
}

/* ---- likes ---- */

int
store_like_set(store *st, int64_t space_id, const char *user, int like)
{
	sqlite3_stmt *q = store_prepare(st, like ?
	    "INSERT OR IGNORE INTO space_likes (space_id, user_id, created)"
	    " SELECT ?1, id, ?3 FROM users WHERE name = ?2" :
	    "DELETE FROM space_likes WHERE space_id = ?1"
	    " AND user_id = (SELECT id FROM users WHERE name = ?2)");
	sqlite3_stmt *u;
	int r, known = 0;

	if (q == NULL)
		return -EIO;
	sqlite3_bind_int64(q, 1, space_id);
	sqlite3_bind_text(q, 2, user, -1, SQLITE_TRANSIENT);
	if (like)
		sqlite3_bind_int64(q, 3, (int64_t)time(NULL));
	r = sqlite3_step(q) == SQLITE_DONE ? 0 : store_db_fail(st, "like");
	sqlite3_finalize(q);
	if (r != 0)
		return r;
	u = store_prepare(st, "SELECT 1 FROM users WHERE name = ?");
	if (u == NULL)
		return -EIO;
	sqlite3_bind_text(u, 1, user, -1, SQLITE_TRANSIENT);
	known = sqlite3_step(u) == SQLITE_ROW;
	sqlite3_finalize(u);
	return known ? 0 : -ENOENT;
}

int
store_like_get(store *st, int64_t space_id, const char *user, int *liked)
{
	sqlite3_stmt *q = store_prepare(st, "SELECT 1 FROM space_likes l JOIN users u ON u.id = l.user_id"
	    " WHERE l.space_id = ? AND u.name = ?");

	*liked = 0;
	if (q == NULL)
		return -EIO;
	sqlite3_bind_int64(q, 1, space_id);
	sqlite3_bind_text(q, 2, user, -1, SQLITE_TRANSIENT);
	*liked = sqlite3_step(q) == SQLITE_ROW;
	sqlite3_finalize(q);
	return 0;
}

int
store_likes_count(store *st, int64_t space_id, int64_t *likes)
{
	sqlite3_stmt *q = store_prepare(st, "SELECT likes FROM space_index WHERE space_id = ?");

	*likes = 0;
	if (q == NULL)
		return -EIO;
	sqlite3_bind_int64(q, 1, space_id);
	if (sqlite3_step(q) == SQLITE_ROW)
		*likes = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return 0;
}

/* ---- lists ---- */

/* Each order names the columns of one of the schema's indexes, pinned first or
 * not: sqlite walks it and stops after the page. */
static const char *
order_by(store_sort sort, int pinned)
{
	static const char *const orders[][2] = {
		[STORE_SORT_NEW] = { "i.created DESC, i.space_id DESC",
			"i.pinned DESC, i.created DESC, i.space_id DESC" },
		[STORE_SORT_OLD] = { "i.created, i.space_id", "i.pinned DESC, i.created, i.space_id" },
		[STORE_SORT_LIKES] = { "i.likes DESC, i.created DESC, i.space_id DESC",
			"i.pinned DESC, i.likes DESC, i.created DESC, i.space_id DESC" },
		[STORE_SORT_TITLE] = { "i.title, i.space_id", "i.pinned DESC, i.title, i.space_id" },
		[STORE_SORT_STAGE] = { "i.stage_rank, i.created DESC, i.space_id DESC",
			"i.pinned DESC, i.stage_rank, i.created DESC, i.space_id DESC" },
	};

	if ((unsigned)sort >= sizeof(orders) / sizeof(orders[0]))
		sort = STORE_SORT_NEW;
	return orders[sort][pinned ? 1 : 0];
}

/* A phrase for the trigram index: the text in double quotes, quotes doubled. */
static char *
fts_phrase(const char *s)
{
	size_t n = 0;
	char *out = xmalloc(strlen(s) * 2 + 3), *o = out;

	*o++ = '"';
	for (; s[n] != '\0'; n++) {
		if (s[n] == '"')
			*o++ = '"';
		*o++ = s[n];
	}
	*o++ = '"';
	*o = '\0';
	return out;
}

/* Characters (not bytes) of UTF-8 text: the trigram index needs three. */
static size_t
chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* The query's SQL; the parameters are bound by name (bind_query). */
static char *
query_sql(const store_space_query *q)
{
	char where[1024] = "", *sql;
	size_t n = 0;

#define CLAUSE(cond, text) \
	do { if (cond) n += (size_t)snprintf(where + n, sizeof(where) - n, " AND %s", text); } while (0)
	CLAUSE(!q->viewer_admin, q->viewer != NULL ? "(i.private = 0 OR i.owner = :viewer)" :
	    "i.private = 0");
	CLAUSE(q->author != NULL, "i.owner = :author");
	CLAUSE(q->sdk != NULL, "i.sdk = lower(:sdk)");
	CLAUSE(q->stage != STORE_STAGE_ANY, "i.stage_rank = :stage");
	CLAUSE(q->tag != NULL, "i.space_id IN (SELECT space_id FROM space_tags WHERE tag = :tag)");
	CLAUSE(q->liked_by != NULL, "i.space_id IN (SELECT l.space_id FROM space_likes l"
	    " JOIN users u ON u.id = l.user_id WHERE u.name = :liker)");
	/* three characters or more: the trigram index; fewer: a look at each row */
	CLAUSE(q->search != NULL && chars(q->search) >= 3,
	    "i.space_id IN (SELECT rowid FROM space_search WHERE space_search MATCH :phrase)");
	CLAUSE(q->search != NULL && chars(q->search) < 3, "instr(i.search, lower(:search)) > 0");
#undef CLAUSE
	sql = xasprintf("SELECT i.space_id, s.owner, s.name, i.likes FROM space_index i"
	    " JOIN spaces s ON s.id = i.space_id WHERE true%s ORDER BY %s LIMIT :limit OFFSET :offset",
	    where, order_by(q->sort, q->pinned_first));
	return sql;
}

static void
bind_name(sqlite3_stmt *s, const char *name, const char *v)
{
	int i = sqlite3_bind_parameter_index(s, name);

	if (i > 0)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
}

static void
bind_query(sqlite3_stmt *s, const store_space_query *q)
{
	char *phrase = q->search != NULL ? fts_phrase(q->search) : NULL;

	bind_name(s, ":viewer", q->viewer);
	bind_name(s, ":author", q->author);
	bind_name(s, ":sdk", q->sdk);
	bind_name(s, ":tag", q->tag);
	bind_name(s, ":liker", q->liked_by);
	bind_name(s, ":phrase", phrase);
	bind_name(s, ":search", q->search);
	if (sqlite3_bind_parameter_index(s, ":stage") > 0)
		sqlite3_bind_int(s, sqlite3_bind_parameter_index(s, ":stage"), (int)q->stage);
	sqlite3_bind_int64(s, sqlite3_bind_parameter_index(s, ":limit"), q->limit > 0 ? q->limit : 1);
	sqlite3_bind_int64(s, sqlite3_bind_parameter_index(s, ":offset"), q->offset > 0 ? q->offset : 0);
	free(phrase);
}

int
store_spaces_query(store *st, const store_space_query *q,
    void (*cb)(const store_space_hit *h, void *arg), void *arg)
{
	char *sql = query_sql(q);
	sqlite3_stmt *s = store_prepare(st, sql);
	int rc, n = 0;

	free(sql);
	if (s == NULL)
		return -EIO;
	bind_query(s, q);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		store_space_hit h = {
			.id = sqlite3_column_int64(s, 0),
			.owner = (const char *)sqlite3_column_text(s, 1),
			.name = (const char *)sqlite3_column_text(s, 2),
			.likes = sqlite3_column_int64(s, 3),
		};

		if (h.owner != NULL && h.name != NULL) {
			cb(&h, arg);
			n++;
		}
	}
	rc = rc == SQLITE_DONE ? n : store_db_fail(st, "list spaces");
	sqlite3_finalize(s);
	return rc;
}
