/* space_list.c — a space in the listings (GET /api/spaces): what the store's
 * indexes know of it (its tags, main's date), kept when they change (a create, a
 * push to main, a build reading the README, each start), and a page read through
 * them. */
#include <stdlib.h>

#include "builder/git.h"
#include "common/log.h"
#include "common/util.h"
#include "orchestrator/space_int.h"

void
space_listing_save(space *s)
{
	json_t *tags = space_tags_json(s), *t;
	const char **v = xcalloc(json_array_size(tags) + 1, sizeof(*v));
	size_t i;

	json_array_foreach(tags, i, t)
		v[i] = json_string_value(t);
	if (store_space_tags_set(s->p->store, s->row.id, v) != 0)
		log_warn("space %s/%s: its tags could not be stored for the listings", s->row.owner,
		    s->row.name);
	free(v);
	json_decref(tags);
}

void
space_modified_save(space *s)
{
	char *repo = space_repo_path(s->p, s);
	int64_t when;

	if (builder_repo_time(repo, &when) == 0 && when != s->row.modified &&
	    store_space_modified_set(s->p->store, s->row.id, when) == 0)
		s->row.modified = when;
	free(repo);
}

typedef struct page_ctx {
	podium *p;
	space **out;
	int64_t *keys;
	size_t n;
} page_ctx;

static void
page_one(int64_t id, int64_t key, void *arg)
{
	page_ctx *c = arg;
	space *s = space_by_id(c->p, id);

	/* the store and the daemon's list agree but for a space being deleted */
	if (s == NULL)
		return;
	c->out[c->n] = s;
	c->keys[c->n++] = key;
}

int
spaces_page(podium *p, const store_list_query *q, space **out, int64_t *keys, size_t *n)
{
	page_ctx c = { p, out, keys, 0 };
	int r = store_spaces_page(p->store, q, page_one, &c);

	*n = c.n;
	return r;
}
