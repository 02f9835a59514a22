/* pages_gallery.c — lists of spaces: the gallery (/ and /spaces) and a user's
 * profile (/OWNER and /spaces/OWNER: their spaces, the spaces they like).
 *
 * A list is a GET form (search, sdk, stage, tag, sort) and a page of cards, so
 * what is shown is in the URL and works without the script. The page comes from
 * the store's index (store_spaces_query): one page in one order, pinned spaces
 * first, never a walk of every space on the machine; then each card's space is
 * found by name (a hash lookup). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "orchestrator/space.h"
#include "orchestrator/store/store.h"
#include "web/web_int.h"

#define PAGE_SIZE 24

/* The list's parameters, from the query string (owned strings, NULL absent). */
typedef struct list_params {
	char *search, *sdk, *stage, *tag, *sort;
	long page;
} list_params;

static const char *const SDKS[] = { "static", "python", "gradio", "streamlit", "node", "docker", NULL };

/* The stage groups' names, in store_stage order, and what the form says. */
static const char *const STAGES[][2] = {
	{ "running", "Running" }, { "building", "Building" }, { "sleeping", "Sleeping" },
	{ "paused", "Paused or stopped" }, { "error", "Failing" }, { "empty", "No app yet" },
};

static const char *const SORTS[][2] = {
	{ "created", "Newest" }, { "oldest", "Oldest" }, { "likes", "Most liked" },
	{ "title", "Title" }, { "stage", "Stage" },
};

/* A value of the query, or NULL when absent or empty. */
static char *
param(const char *query, const char *key)
{
	char *v = web_form_get(query, key);

	if (v != NULL && v[strspn(v, " ")] == '\0') {
		free(v);
		v = NULL;
	}
	return v;
}

static void
params_read(const char *query, list_params *lp)
{
	char *p = param(query, "p");

	lp->search = param(query, "search");
	lp->sdk = param(query, "sdk");
	lp->stage = param(query, "stage");
	lp->tag = param(query, "tag");
	lp->sort = param(query, "sort");
	lp->page = p != NULL ? strtol(p, NULL, 10) : 0;
	if (lp->page < 0 || lp->page > 100000)
		lp->page = 0;
	free(p);
}

static void
params_release(list_params *lp)
{
	free(lp->search);
	free(lp->sdk);
	free(lp->stage);
	free(lp->tag);
	free(lp->sort);
}

static int
name_index(const char *const (*names)[2], size_t n, const char *v)
{
	for (size_t i = 0; v != NULL && i < n; i++)
		if (strcmp(names[i][0], v) == 0)
			return (int)i;
	return -1;
}

/* The store's query for these parameters and this caller. */
static store_space_query
params_query(const list_params *lp, const char *user)
{
	int sort = name_index(SORTS, sizeof(SORTS) / sizeof(SORTS[0]), lp->sort);
	static const store_sort sorts[] = { STORE_SORT_NEW, STORE_SORT_OLD, STORE_SORT_LIKES,
		STORE_SORT_TITLE, STORE_SORT_STAGE };
	store_space_query q = {
		.viewer = user,
		.viewer_admin = user != NULL && auth_is_admin(user),
		.search = lp->search,
		.sdk = lp->sdk,
		.tag = lp->tag,
		.stage = (store_stage)name_index(STAGES, sizeof(STAGES) / sizeof(STAGES[0]), lp->stage),
		.sort = sort >= 0 ? sorts[sort] : STORE_SORT_NEW,
		.pinned_first = 1,
		.offset = lp->page * PAGE_SIZE,
		.limit = PAGE_SIZE + 1,   /* one more: is there a next page? */
	};

	return q;
}

/* ---- the form ---- */

static void
form_select(page *pg, const char *id, const char *label, const char *const (*opts)[2], size_t n,
    const char *cur, const char *any)
{
	page_raw(pg, "<div class=\"field\"><label for=\"");
	page_raw(pg, id);
	page_raw(pg, "\">");
	page_raw(pg, label);
	page_raw(pg, "</label><select id=\"");
	page_raw(pg, id);
	page_raw(pg, "\" name=\"");
	page_raw(pg, id);
	page_raw(pg, "\" data-autosubmit>");
	if (any != NULL) {
		page_raw(pg, "<option value=\"\">");
		page_raw(pg, any);
		page_raw(pg, "</option>");
	}
	for (size_t i = 0; i < n; i++) {
		page_raw(pg, "<option value=\"");
		page_raw(pg, opts[i][0]);
		page_raw(pg, cur != NULL && strcmp(cur, opts[i][0]) == 0 ? "\" selected>" : "\">");
		page_raw(pg, opts[i][1]);
		page_raw(pg, "</option>");
	}
	page_raw(pg, "</select></div>");
}

static void
list_form(page *pg, const char *action, const list_params *lp)
{
	const char *sdks[8][2];
	size_t n = 0;

	for (; SDKS[n] != NULL; n++) {
		sdks[n][0] = SDKS[n];
		sdks[n][1] = SDKS[n];
	}
	page_raw(pg, "<form class=\"tools\" method=\"get\" role=\"search\" action=\"");
	page_text(pg, action);
	page_raw(pg, "\"><div class=\"field grow\"><label for=\"search\">Search</label>"
	    "<input id=\"search\" name=\"search\" type=\"search\" "
	    "placeholder=\"name, title, description or tag\" value=\"");
	page_text(pg, lp->search);
	page_raw(pg, "\"></div>");
	form_select(pg, "sdk", "SDK", (const char *const (*)[2])sdks, n, lp->sdk, "Any");
	form_select(pg, "stage", "Stage", STAGES, sizeof(STAGES) / sizeof(STAGES[0]), lp->stage, "Any");
	page_raw(pg, "<div class=\"field\"><label for=\"tag\">Tag</label><input id=\"tag\" name=\"tag\" "
	    "value=\"");
	page_text(pg, lp->tag);
	page_raw(pg, "\"></div>");
	form_select(pg, "sort", "Sort", SORTS, sizeof(SORTS) / sizeof(SORTS[0]), lp->sort, NULL);
	page_raw(pg, "<div class=\"field\"><button type=\"submit\">Show</button></div></form>");
}

/* The list's URL with another page (p), the other parameters kept. */
static void
page_link(page *pg, const char *path, const list_params *lp, long p, const char *rel,
    const char *text)
{
	const char *keys[] = { "search", "sdk", "stage", "tag", "sort" };
	const char *vals[] = { lp->search, lp->sdk, lp->stage, lp->tag, lp->sort };
	char sep = '?';

	page_raw(pg, "<a rel=\"");
	page_raw(pg, rel);
	page_raw(pg, "\" href=\"");
	page_text(pg, path);
	for (size_t i = 0; i < 5; i++) {
		char *e;

		if (vals[i] == NULL)
			continue;
		e = web_escape(vals[i]);
		page_textf(pg, "%c%s=%s", sep, keys[i], e);
		free(e);
		sep = '&';
	}
	if (p > 0)
		page_textf(pg, "%cp=%ld", sep, p);
	page_raw(pg, "\">");
	page_raw(pg, text);
	page_raw(pg, "</a>");
}

/* ---- cards ---- */

/* The Hub's front matter colors; anything else is gray. */
static const char *
card_color(const char *c)
{
	static const char *const known[] = { "red", "yellow", "green", "blue", "indigo", "purple",
		"pink", "gray", NULL };

	for (const char *const *k = known; c != NULL && *k != NULL; k++)
		if (strcmp(c, *k) == 0)
			return c;
	return "gray";
}

static void
card_meta(page *pg, json_t *j, space *s, int64_t likes)
{
	const char *stage = json_string_value(json_object_get(json_object_get(j, "runtime"), "stage"));
	json_t *pinned = json_object_get(json_object_get(j, "cardData"), "pinned");

	page_raw(pg, "<span class=\"meta\"><span class=\"id\">");
	page_text(pg, json_string_value(json_object_get(j, "id")));
	page_raw(pg, "</span> <span class=\"sdk\">");
	page_text(pg, json_string_value(json_object_get(j, "sdk")));
	page_raw(pg, "</span> ");
	page_stage_badge(pg, stage, NULL);
	page_rawf(pg, " <span class=\"likes\" title=\"likes\">♥ %lld<span class=\"sr\"> likes</span></span>",
	    (long long)likes);
	if (json_is_true(pinned))
		page_raw(pg, " <span class=\"pin\">📌<span class=\"sr\">pinned</span></span>");
	if (space_is_private(s))
		page_raw(pg, " <span class=\"lock\" title=\"private\">🔒<span class=\"sr\">private</span></span>");
	page_raw(pg, "</span>");
}

static void
page_card(page *pg, podium *p, space *s, int64_t likes)
{
	json_t *j = space_json(p, s, 1);
	json_t *card = json_object_get(j, "cardData");
	const char *id = json_string_value(json_object_get(j, "id"));
	const char *title = json_string_value(json_object_get(card, "title"));
	const char *emoji = json_string_value(json_object_get(card, "emoji"));
	const char *desc = json_string_value(json_object_get(card, "short_description"));

	page_raw(pg, "<li class=\"card from-");
	page_text(pg, card_color(json_string_value(json_object_get(card, "colorFrom"))));
	page_raw(pg, " to-");
	page_text(pg, card_color(json_string_value(json_object_get(card, "colorTo"))));
	page_raw(pg, "\" data-id=\"");
	page_text(pg, id);
	page_raw(pg, "\"><a href=\"/spaces/");
	page_text(pg, id);
	page_raw(pg, "\"><span class=\"emoji\" aria-hidden=\"true\">");
	page_text(pg, emoji != NULL ? emoji : "🚀");
	page_raw(pg, "</span><span class=\"title\">");
	page_text(pg, title != NULL ? title : space_name(s));
	page_raw(pg, "</span>");
	if (desc != NULL) {
		page_raw(pg, "<span class=\"desc\">");
		page_text(pg, desc);
		page_raw(pg, "</span>");
	}
	card_meta(pg, j, s, likes);
	page_raw(pg, "</a></li>");
	json_decref(j);
}

typedef struct card_list {
	page *pg;
	podium *p;
	const char *user;
	int n;            /* cards of this page shown */
	int more;         /* a next page exists */
} card_list;

static void
card_hit(const store_space_hit *h, void *arg)
{
	card_list *cl = arg;
	space *s;

	if (cl->n == PAGE_SIZE) {
		cl->more = 1;
		return;
	}
	s = space_find(cl->p, h->owner, h->name);
	if (s == NULL || !web_may_read(cl->user, s))
		return;
	page_card(cl->pg, cl->p, s, h->likes);
	cl->n++;
}

/* One page of q's spaces as cards, with what to say when none match and the
 * pager. 0, or -1 when the store failed (said on the page). */
static int
list_cards(page *pg, web_call *c, const char *id, store_space_query *q, const list_params *lp,
    const char *none)
{
	card_list cl = { pg, c->p, c->user, 0, 0 };

	page_raw(pg, "<ul class=\"cards\" id=\"");
	page_raw(pg, id);
	page_raw(pg, "\">");
	if (store_spaces_query(c->p->store, q, card_hit, &cl) < 0) {
		page_raw(pg, "</ul><p class=\"error\" role=\"alert\">The list cannot be read now.</p>");
		return -1;
	}
	page_raw(pg, "</ul>");
	if (cl.n == 0)
		page_raw(pg, none);
	if (lp->page > 0 || cl.more) {
		page_raw(pg, "<nav class=\"pager\" aria-label=\"pages\">");
		if (lp->page > 0)
			page_link(pg, c->r->path, lp, lp->page - 1, "prev", "← Previous");
		page_textf(pg, " Page %ld ", lp->page + 1);
		if (cl.more)
			page_link(pg, c->r->path, lp, lp->page + 1, "next", "Next →");
		page_raw(pg, "</nav>");
	}
	return 0;
}

static int
filtered(const list_params *lp)
{
	return lp->search != NULL || lp->sdk != NULL || lp->stage != NULL || lp->tag != NULL;
}

void
web_page_index(web_call *c)
{
	list_params lp = { 0 };
	store_space_query q;
	page pg = { 0 };

	params_read(c->r->query, &lp);
	q = params_query(&lp, c->user);
	page_begin(&pg, c->p, c->r, c->user, "Spaces", "gallery");
	page_raw(&pg, "<h1>Spaces</h1>");
	list_form(&pg, c->r->path, &lp);
	list_cards(&pg, c, "cards", &q, &lp, filtered(&lp) || lp.page > 0 ?
	    "<p class=\"muted\" role=\"status\">No spaces match. <a href=\"/spaces\">Show all spaces</a>.</p>" :
	    "<p class=\"muted\">No spaces yet. <a href=\"/new\">Create one</a>, or "
	    "<code>POST /api/repos/create</code>.</p>");
	page_finish(&pg, c->x, 200, NULL, 0);
	params_release(&lp);
}

/* ---- profiles ---- */

static void
count_hit(const store_space_hit *h, void *arg)
{
	(void)h;
	(*(int *)arg)++;
}

/* Does the profile exist for this caller: a user, or an owner of a space they see? */
static int
profile_exists(web_call *c, const char *who)
{
	store_space_query q = { .viewer = c->user, .viewer_admin = c->user != NULL &&
		auth_is_admin(c->user), .author = who, .stage = STORE_STAGE_ANY, .limit = 1 };
	user_row u;
	int n = 0;

	if (store_user_get(c->p->store, who, &u) == 0)
		return 1;
	return store_spaces_query(c->p->store, &q, count_hit, &n) > 0;
}

void
web_page_profile(web_call *c)
{
	const char *who = web_param(c, "user");
	list_params lp = { 0 }, liked = { 0 };
	store_space_query q, lq;
	page pg = { 0 };

	if (!name_valid(who) || !profile_exists(c, who)) {
		web_page_error(c, 404, "No user or owner by that name.");
		return;
	}
	params_read(c->r->query, &lp);
	q = params_query(&lp, c->user);
	q.author = who;
	lq = params_query(&liked, c->user);
	lq.liked_by = who;
	lq.limit = PAGE_SIZE;
	page_begin(&pg, c->p, c->r, c->user, who, "profile");
	page_raw(&pg, "<div class=\"profile-head\"><span class=\"avatar\" aria-hidden=\"true\">");
	page_textf(&pg, "%c", who[0]);
	page_raw(&pg, "</span><h1>");
	page_text(&pg, who);
	page_raw(&pg, "</h1></div><section aria-labelledby=\"own-h\"><h2 id=\"own-h\">Spaces</h2>");
	list_form(&pg, c->r->path, &lp);
	list_cards(&pg, c, "cards", &q, &lp, "<p class=\"muted\" role=\"status\">No spaces match.</p>");
	page_raw(&pg, "</section><section aria-labelledby=\"liked-h\"><h2 id=\"liked-h\">Liked spaces</h2>");
	list_cards(&pg, c, "liked", &lq, &liked, "<p class=\"muted\">No liked spaces yet.</p>");
	page_raw(&pg, "</section>");
	page_finish(&pg, c->x, 200, NULL, 0);
	params_release(&lp);
}
