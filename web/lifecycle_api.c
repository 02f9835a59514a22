/* lifecycle_api.c — the owner's controls of a space (orchestrator/lifecycle.h),
 * in the Hub's shapes (huggingface_hub HfApi.restart_space, pause_space,
 * set_space_sleep_time), plus the release list and rollback:
 *
 *   POST /api/spaces/{o}/{n}/restart[?factory=true]   → the runtime JSON
 *   POST /api/spaces/{o}/{n}/pause                    → the runtime JSON
 *   POST /api/spaces/{o}/{n}/sleeptime {"seconds": N} → the runtime JSON
 *   GET  /api/spaces/{o}/{n}/releases                 → [release...], newest first
 *   POST /api/spaces/{o}/{n}/rollback {"release": ID} → the runtime JSON
 *   POST /api/spaces/{o}/{n}/storage {"tier": NAME}   → the runtime JSON
 *   POST /api/spaces/{o}/{n}/duplicate {"repository": "owner/new", "private"?}
 *                                                     → {"url","name","id"}
 *
 * Only the owner or an admin may change a space: others get 401 without a
 * token, 404 for a private space they cannot see and 403 otherwise (the route
 * table's access, api.c). Anyone who can read a space may duplicate it into an
 * owner they may write to (as on the Hub). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/git.h"
#include "orchestrator/duplicate.h"
#include "orchestrator/lifecycle.h"
#include "orchestrator/space.h"
#include "common/util.h"
#include "web/web_int.h"

static void
answer(http_exchange *x, space *s, int r, const char *err)
{
	if (r == 0)
		web_json(x, 200, space_runtime_json(s));
	else
		web_json_error(x, r == -ENOENT ? 404 : 400, "%s", err);
}

/* A JSON integer member, or an answered 400. */
static int
int_member(http_exchange *x, json_t *body, const char *key, long long *out)
{
	json_t *v = json_object_get(body, key);

	if (!json_is_integer(v)) {
		web_json_error(x, 400, "\"%s\" must be an integer", key);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

static void
sleeptime_body(web_call *c, json_t *body)
{
	char err[256];
	long long n;

	if (int_member(c->x, body, "seconds", &n) == 0)
		answer(c->x, c->s, space_set_sleep_time(c->s, n, err, sizeof(err)), err);
}

static void
storage_body(web_call *c, json_t *body)
{
	const char *tier = json_string_value(json_object_get(body, "tier"));
	char err[512];

	if (tier == NULL)
		web_json_error(c->x, 400, "\"tier\" must be a string (a storage tier)");
	else
		answer(c->x, c->s, space_set_storage(c->s, tier, err, sizeof(err)), err);
}

static void
rollback_body(web_call *c, json_t *body)
{
	char err[512];
	long long n;

	if (int_member(c->x, body, "release", &n) == 0)
		answer(c->x, c->s, space_rollback(c->s, n, err, sizeof(err)), err);
}

static void
duplicate_body(web_call *c, json_t *body)
{
	space *src = c->s, *dst;
	http_exchange *x = c->x;
	const char *repo = json_string_value(json_object_get(body, "repository"));
	json_t *priv = json_object_get(body, "private");
	char owner[128], name[128], err[512];
	const char *slash;
	int r;

	if (repo == NULL || (slash = strchr(repo, '/')) == NULL || slash == repo ||
	    (size_t)(slash - repo) >= sizeof(owner) || strlen(slash + 1) >= sizeof(name)) {
		web_json_error(x, 400, "\"repository\" must be \"owner/name\" (a string)");
		return;
	}
	if (priv != NULL && !json_is_boolean(priv) && !json_is_null(priv)) {
		web_json_error(x, 400, "\"private\" must be true or false");
		return;
	}
	snprintf(owner, sizeof(owner), "%.*s", (int)(slash - repo), repo);
	snprintf(name, sizeof(name), "%s", slash + 1);
	if (!auth_may_write(c->user, owner)) {
		web_json_error(x, 403, "user %s may not create spaces under %s", c->user, owner);
		return;
	}
	/* the copy is as private as its source unless told otherwise */
	r = space_duplicate(c->p, src, owner, name, json_is_boolean(priv) ? json_is_true(priv) :
	    space_is_private(src), &dst, err, sizeof(err));
	if (r != 0) {
		web_json_error(x, r == -EEXIST ? 409 : r == -EINVAL ? 400 : 500, "%s", err);
		return;
	}
	web_json(x, 200, web_repo_created(c->p, dst));
}

/* "factory=true" (or 1) in the query. */
static int
query_factory(const char *q)
{
	char *v = web_query_get(q, "factory");
	int yes = v != NULL && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);

	free(v);
	return yes;
}

void
web_restart(web_call *c)
{
	char err[512];

	answer(c->x, c->s, space_restart(c->s, query_factory(c->r->query), err, sizeof(err)), err);
}

void
web_pause(web_call *c)
{
	char err[512];

	answer(c->x, c->s, space_pause(c->s, err, sizeof(err)), err);
}

/* Each release with its commit's title, so that releases can be told apart. */
void
web_releases(web_call *c)
{
	json_t *arr = space_releases_json(c->s), *r;
	char *repo = space_repo_path(c->p, c->s);
	size_t i;

	json_array_foreach(arr, i, r) {
		const char *sha = json_string_value(json_object_get(r, "sha"));
		json_t *log = NULL;

		if (sha != NULL && builder_repo_log(repo, sha, 0, 1, &log, NULL) == 0 &&
		    json_array_size(log) == 1)
			json_object_set(r, "title", json_object_get(json_array_get(log, 0), "title"));
		json_decref(log);
	}
	free(repo);
	web_json(c->x, 200, arr);
}

void
web_sleeptime(web_call *c)
{
	web_with_body(c, sleeptime_body);
}

void
web_storage(web_call *c)
{
	web_with_body(c, storage_body);
}

void
web_rollback(web_call *c)
{
	web_with_body(c, rollback_body);
}

void
web_duplicate(web_call *c)
{
	web_with_body(c, duplicate_body);
}
