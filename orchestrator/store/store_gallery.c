/* store_gallery.c — likes, and the index lists of spaces are paged through
 * (schema v6, issue 25): the gallery, profiles and the admin page ask for one
 * page in one order, and the database walks an index for it instead of the
 * daemon sorting every space on the machine.
 *
 * space_index holds one row per space, derived from its spaces row (the view
 * space_cards reads the front matter) by store_gallery_index after every insert
 * and update (store.c); space_tags its front matter tags (space_card_tags);
 * likes count into space_index.likes by triggers; rows go with their space (ON
 * DELETE CASCADE). The schema (store_schema.c) holds what differs between the
 * backends: the JSON functions, the case rules, the trigram index. Here every
 * statement is one text for both, except the search's clause (search_sql). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/util.h"
#include "orchestrator/store/store_int.h"

/* The index row of one space ($1) or of every one: likes counted for a new
 * row (a database from before v6, a copied store), kept by the triggers after
 * that; a row whose values did not change is not written again. */
#define INDEX_SQL(where) \
	"INSERT INTO space_index (space_id, owner, private, sdk, stage_rank, title, pinned," \
	" created, likes, search) SELECT id, owner, private, sdk, stage_rank, title, pinned," \
	" created, (SELECT count(*) FROM space_likes l WHERE l.space_id = c.id), search" \
	" FROM space_cards c " where " ON CONFLICT (space_id) DO UPDATE SET" \
	" owner = excluded.owner, private = excluded.private, sdk = excluded.sdk," \
	" stage_rank = excluded.stage_rank, title = excluded.title, pinned = excluded.pinned," \
	" created = excluded.created, search = excluded.search" \
	" WHERE (space_index.owner, space_index.private, space_index.sdk, space_index.stage_rank," \
	" space_index.title, space_index.pinned, space_index.created, space_index.search) <>" \
	" (excluded.owner, excluded.private, excluded.sdk, excluded.stage_rank, excluded.title," \
	" excluded.pinned, excluded.created, excluded.search)"

#define TAGS_SQL(where) \
	"INSERT INTO space_tags (tag, space_id) SELECT tag, space_id FROM space_card_tags " where \
	" ON CONFLICT DO NOTHING"

static const char *const index_sql[][3] = {
	/* one space, every space */
	{ INDEX_SQL("WHERE id = $1"), "DELETE FROM space_tags WHERE space_id = $1",
	    TAGS_SQL("WHERE space_id = $1") },
	{ INDEX_SQL("WHERE true"), "DELETE FROM space_tags", TAGS_SQL("WHERE true") },
};

int
store_gallery_index(store *st, int64_t id)
{
	const char *const *sql = index_sql[id > 0 ? 0 : 1];
	store_stmt q;
	int r = 0;

	for (int i = 0; i < 3 && r == 0; i++) {
		store_stmt_init(&q, st, sql[i]);
		if (id > 0)
			store_bind_int(&q, id);
		r = store_run(&q);
	}
	return r;
}

int
store_gallery_check(store *st)
{
	int64_t spaces = 0, indexed = 0;
	store_stmt q;
	int r;

	store_stmt_init(&q, st,
	    "SELECT (SELECT count(*) FROM spaces), (SELECT count(*) FROM space_index)");
	if ((r = store_step(&q)) == 1) {
		spaces = store_col_int(&q, 0);
		indexed = store_col_int(&q, 1);
	}
	store_stmt_finish(&q);
	if (r < 0)
		return r;
	if (spaces == indexed)
		return 0;
	log_info("store: indexing %lld spaces for the gallery", (long long)spaces);
	return store_gallery_index(st, 0);
}

/* ---- likes ---- */

int
store_like_set(store *st, int64_t space_id, const char *user, int like)
{
	store_stmt q;
	user_row u;
	int r;

	if ((r = store_user_get(st, user, &u)) != 0)
		return r;
	store_stmt_init(&q, st,
	    like ? "INSERT INTO space_likes (space_id, user_id, created) VALUES ($1, $2, $3)"
	           " ON CONFLICT DO NOTHING"
	         : "DELETE FROM space_likes WHERE space_id = $1 AND user_id = $2");
	store_bind_int(&q, space_id);
	store_bind_int(&q, u.id);
	if (like)
		store_bind_int(&q, (int64_t)time(NULL));
	return store_run(&q);
}

int
store_like_get(store *st, int64_t space_id, const char *user, int *liked)
{
	store_stmt q;
	int r;

	store_stmt_init(&q, st,
	    "SELECT 1 FROM space_likes l JOIN users u ON u.id = l.user_id"
	    " WHERE l.space_id = $1 AND u.name = $2");
	store_bind_int(&q, space_id);
	store_bind_text(&q, user);
	r = store_step(&q);
	store_stmt_finish(&q);
	*liked = r == 1;
	return r < 0 ? r : 0;
}

int
store_likes_count(store *st, int64_t space_id, int64_t *likes)
{
	store_stmt q;
	int r;

	store_stmt_init(&q, st, "SELECT likes FROM space_index WHERE space_id = $1");
	store_bind_int(&q, space_id);
	*likes = (r = store_step(&q)) == 1 ? store_col_int(&q, 0) : 0;
	store_stmt_finish(&q);
	return r < 0 ? r : 0;
}

/* ---- lists ---- */

/* Each order names the columns of one of the schema's indexes, pinned first or
 * not: the database walks it and stops after the page. */
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

/* A copy without ASCII case, as the index keeps owner, sdk, tags and search
 * (sqlite's lower() and NOCASE, podium_fold on PostgreSQL). */
static char *
fold(const char *s)
{
	char *out = xstrdup(s);

	for (char *p = out; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return out;
}

/* A phrase for sqlite's trigram index: the text in double quotes, quotes doubled. */
static char *
fts_phrase(const char *s)
{
	char *out = xmalloc(strlen(s) * 2 + 3), *o = out;

	*o++ = '"';
	for (; *s != '\0'; s++) {
		if (*s == '"')
			*o++ = '"';
		*o++ = *s;
	}
	*o++ = '"';
	*o = '\0';
	return out;
}

/* A substring for ILIKE: %text%, its %, _ and \ escaped. */
static char *
like_pattern(const char *s)
{
	char *out = xmalloc(strlen(s) * 2 + 3), *o = out;

	*o++ = '%';
	for (; *s != '\0'; s++) {
		if (*s == '%' || *s == '_' || *s == '\\')
			*o++ = '\\';
		*o++ = *s;
	}
	*o++ = '%';
	*o = '\0';
	return out;
}

/* Characters (not bytes) of UTF-8 text: a trigram index needs three. */
static size_t
chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* The search, in each dialect: three characters or more through the trigram
 * index (sqlite: the FTS5 table; PostgreSQL: ILIKE, which pg_trgm's GIN index
 * answers), case-insensitive; fewer, a look at each row's folded text. */
static const struct search_sql {
	const char *indexed, *scan;
	char *(*term)(const char *s);
} search_sql[] = {
	[STORE_DIALECT_SQLITE] = { "i.space_id IN (SELECT rowid FROM space_search"
	                           " WHERE space_search MATCH $%d)",
	    "instr(i.search, $%d) > 0", fts_phrase },
	[STORE_DIALECT_POSTGRES] = { "i.search ILIKE $%d", "strpos(i.search, $%d) > 0",
	    like_pattern },
};

/* A list's statement as it is built: its conditions and their values. */
typedef struct query_text {
	char where[1024];
	size_t len;
	int n;                  /* values so far */
	char *value[8];         /* text values, in $ order (owned) */
} query_text;

/* Appends " AND " cond, whose %d (if any) is the next value's $ number. */
static void
query_add(query_text *t, const char *cond, char *value)
{
	char buf[256];

	if (value != NULL)
		t->value[t->n++] = value;
	snprintf(buf, sizeof(buf), cond, t->n);
	t->len += (size_t)snprintf(t->where + t->len, sizeof(t->where) - t->len, " AND %s", buf);
}

static void
query_where(query_text *t, store *st, const store_space_query *q)
{
	const struct search_sql *search = &search_sql[st->be->dialect];

	if (!q->viewer_admin)
		query_add(t, q->viewer != NULL ? "(i.private = 0 OR i.owner = $%d)" : "i.private = 0",
		    q->viewer != NULL ? fold(q->viewer) : NULL);
	if (q->author != NULL)
		query_add(t, "i.owner = $%d", fold(q->author));
	if (q->sdk != NULL)
		query_add(t, "i.sdk = $%d", fold(q->sdk));
	if (q->tag != NULL)
		query_add(t, "i.space_id IN (SELECT space_id FROM space_tags WHERE tag = $%d)",
		    fold(q->tag));
	if (q->liked_by != NULL)
		query_add(t,
		    "i.space_id IN (SELECT l.space_id FROM space_likes l"
		    " JOIN users u ON u.id = l.user_id WHERE u.name = $%d)",
		    xstrdup(q->liked_by));
	if (q->search != NULL && chars(q->search) >= 3)
		query_add(t, search->indexed, search->term(q->search));
	else if (q->search != NULL)
		query_add(t, search->scan, fold(q->search));
}

int
store_spaces_query(store *st, const store_space_query *q,
    void (*cb)(const store_space_hit *h, void *arg), void *arg)
{
	query_text t = { .len = 0 };
	store_space_hit h;
	store_stmt s;
	char *sql;
	int rc, n = 0;

	query_where(&t, st, q);
	if (q->stage != STORE_STAGE_ANY)
		snprintf(t.where + t.len, sizeof(t.where) - t.len, " AND i.stage_rank = %d",
		    (int)q->stage);
	sql = xasprintf("SELECT i.space_id, s.owner, s.name, i.likes FROM space_index i"
	                " JOIN spaces s ON s.id = i.space_id WHERE true%s ORDER BY %s"
	                " LIMIT $%d OFFSET $%d",
	    t.where, order_by(q->sort, q->pinned_first), t.n + 1, t.n + 2);
	store_stmt_init(&s, st, sql);
	for (int i = 0; i < t.n; i++)
		store_bind_text(&s, t.value[i]);
	store_bind_int(&s, q->limit > 0 ? q->limit : 1);
	store_bind_int(&s, q->offset > 0 ? q->offset : 0);
	while ((rc = store_step(&s)) == 1) {
		h = (store_space_hit){
			.id = store_col_int(&s, 0),
			.owner = store_col_text(&s, 1),
			.name = store_col_text(&s, 2),
			.likes = store_col_int(&s, 3),
		};
		if (h.owner != NULL && h.name != NULL) {
			cb(&h, arg);
			n++;
		}
	}
	store_stmt_finish(&s);
	for (int i = 0; i < t.n; i++)
		free(t.value[i]);
	free(sql);
	return rc < 0 ? rc : n;
}
