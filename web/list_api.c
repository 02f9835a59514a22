/* list_api.c — GET /api/spaces, the Hub's list_spaces: the spaces the caller may
 * see (public ones, their own, every one for an admin), a page at a time.
 *
 *   ?author=OWNER  ?search=SUBSTRING (of "owner/name", any case)  ?filter=TAG (each
 *   one given: the sdk, a README tag, license:X)  ?sort=createdAt|lastModified|likes|
 *   trendingScore (always descending, as on the Hub; direction is accepted and
 *   ignored; without sort: oldest first)  ?limit=N (1-1000, default 1000)
 *   ?full=true (cardData)  ?expand=...  ?models= / ?datasets= (none here: [])
 *
 * A page of limit items links the next with Link: <http://HOST/api/spaces?...&
 * cursor=C>; rel="next" (huggingface_hub follows it as it is). The cursor is the
 * last item's sort value and id: the store's indexes find where the next page
 * starts (orchestrator spaces_page), and only the page's items are made. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "orchestrator/resources.h"
#include "orchestrator/space.h"
#include "web/web_int.h"

#define LIST_LIMIT_MAX 1000
#define LIST_FILTERS_MAX 16

/* The first value of key in the decoded query, or NULL. */
static const char *
param(json_t *query, const char *key)
{
	return json_string_value(json_array_get(json_object_get(query, key), 0));
}

static int
sort_of(const char *s)
{
	static const struct {
		const char *name;
		int sort;
	} sorts[] = {
		{ "createdAt", STORE_LIST_CREATED },
		{ "created_at", STORE_LIST_CREATED },
		{ "lastModified", STORE_LIST_MODIFIED },
		{ "last_modified", STORE_LIST_MODIFIED },
		{ "likes", STORE_LIST_LIKES },
		{ "trendingScore", STORE_LIST_LIKES },
		{ "trending_score", STORE_LIST_LIKES },
	};

	if (s == NULL)
		return STORE_LIST_ID;
	for (size_t i = 0; i < sizeof(sorts) / sizeof(sorts[0]); i++)
		if (strcmp(s, sorts[i].name) == 0)
			return sorts[i].sort;
	return -1;
}

/* "KEY:ID" in URL-safe base64: opaque to clients, who only follow the Link. */
static void
cursor_make(int64_t key, int64_t id, char *out, size_t len)
{
	char raw[64];

	snprintf(raw, sizeof(raw), "%lld:%lld", (long long)key, (long long)id);
	sodium_bin2base64(out, len, (const unsigned char *)raw, strlen(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static int
cursor_read(const char *s, store_list_query *q)
{
	unsigned char raw[64];
	size_t n = 0;
	long long key, id;
	int used = 0;

	if (sodium_base642bin(raw, sizeof(raw) - 1, s, strlen(s), NULL, &n, NULL,
	        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return -1;
	raw[n] = '\0';
	if (sscanf((const char *)raw, "%lld:%lld%n", &key, &id, &used) != 2 || used != (int)n)
		return -1;
	q->after = 1;
	q->after_key = key;
	q->after_id = id;
	return 0;
}

/* The query's parameters: 0, or -1 with a 400 answered. */
static int
list_query(web_call *c, json_t *query, store_list_query *q, const char **tags)
{
	const char *limit = param(query, "limit"), *cursor = param(query, "cursor");
	json_t *filters = json_object_get(query, "filter"), *f;
	char *end = NULL;
	size_t i;

	memset(q, 0, sizeof(*q));
	q->user = c->user;
	q->admin = c->user != NULL && auth_is_admin(c->user);
	q->author = param(query, "author");
	q->search = param(query, "search");
	q->tags = tags;
	q->limit = limit != NULL ? (int)strtol(limit, &end, 10) : LIST_LIMIT_MAX;
	if (limit != NULL &&
	    (end == limit || *end != '\0' || q->limit < 1 || q->limit > LIST_LIMIT_MAX)) {
		web_json_error(
		    c->x, 400, "\"limit\" must be an integer from 1 to %d", LIST_LIMIT_MAX);
		return -1;
	}
	if ((q->sort = sort_of(param(query, "sort"))) < 0) {
		web_json_error(c->x, 400,
		    "unknown sort \"%.64s\": use createdAt, lastModified, likes "
		    "or trendingScore",
		    param(query, "sort"));
		return -1;
	}
	if (json_array_size(filters) > LIST_FILTERS_MAX) {
		web_json_error(c->x, 400, "at most %d filters", LIST_FILTERS_MAX);
		return -1;
	}
	json_array_foreach(filters, i, f)
		tags[i] = json_string_value(f);
	tags[i] = NULL;
	if (cursor != NULL && cursor_read(cursor, q) != 0) {
		web_json_error(c->x, 400,
		    "\"cursor\" is not one of this server's: follow the Link "
		    "header");
		return -1;
	}
	return 0;
}

/* The Link to the page after the one ending at (key, id): the request's own
 * parameters, its cursor replaced. Caller frees. */
static char *
next_link(web_call *c, int64_t key, int64_t id)
{
	char *hub = web_hub_base(c->p, c->x), *q = xstrdup(""), cur[96], *link;
	const char *p = c->r->query;

	while (*p != '\0') {
		size_t n = strcspn(p, "&");

		if (n > 0 && strncmp(p, "cursor=", 7) != 0) {
			char *more = xasprintf("%s%.*s&", q, (int)n, p);

			free(q);
			q = more;
		}
		p += n + (p[n] == '&');
	}
	cursor_make(key, id, cur, sizeof(cur));
	link = xasprintf("<%s/api/spaces?%scursor=%s>; rel=\"next\"", hub, q, cur);
	free(q);
	free(hub);
	return link;
}

static json_t *
list_item(web_call *c, space *s, int full)
{
	json_t *j = space_json(c->p, s, full);

	web_space_fields(c->p, s, j);
	json_object_set_new(j, "tags", space_tags_json(s));
	if (full) {
		/* the list's "full": the card, not the single space's release details */
		json_object_del(j, "sha");
		json_object_del(j, "lastPushedSha");
	}
	return j;
}

void
web_spaces_list(web_call *c)
{
	json_t *query = web_form_decode(c->r->query, strlen(c->r->query)), *arr = json_array();
	const char *tags[LIST_FILTERS_MAX + 1];
	store_list_query q;
	space **page = NULL;
	int64_t *keys = NULL;
	char *link = NULL;
	size_t n = 0;

	if (query == NULL) {
		web_json_error(c->x, 400, "the query string does not decode");
		goto done;
	}
	if (list_query(c, query, &q, tags) != 0)
		goto done;
	/* no space here uses a model or a dataset */
	if (json_object_get(query, "models") != NULL ||
	    json_object_get(query, "datasets") != NULL) {
		web_json(c->x, 200, json_incref(arr));
		goto done;
	}
	page = xcalloc((size_t)q.limit + 1, sizeof(*page));
	keys = xcalloc((size_t)q.limit + 1, sizeof(*keys));
	if (spaces_page(c->p, &q, page, keys, &n) != 0) {
		web_json_error(c->x, 500, "internal error: the spaces could not be listed");
		goto done;
	}
	for (size_t i = 0; i < n && i < (size_t)q.limit; i++)
		json_array_append_new(
		    arr, list_item(c, page[i], web_query_true(c->r->query, "full")));
	if (n > (size_t)q.limit) {
		size_t last = (size_t)q.limit - 1;
		http_header h = { "Link", NULL };

		link = next_link(c, keys[last], space_id(page[last]));
		h.value = link;
		web_json_with(c->x, 200, json_incref(arr), &h, 1);
	} else {
		web_json(c->x, 200, json_incref(arr));
	}
done:
	free(link);
	free(page);
	free(keys);
	json_decref(arr);
	json_decref(query);
}
