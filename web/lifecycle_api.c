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
 * token, 404 for a private space they cannot see (checked by the caller) and
 * 403 otherwise. Anyone who can read a space may duplicate it into an
 * owner they may write to (as on the Hub). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/duplicate.h"
#include "orchestrator/lifecycle.h"
#include "orchestrator/space.h"
#include "common/util.h"
#include "web/web.h"

/* The space named by arg ("owner/name"), found again once the body is in:
 * it may have been deleted meanwhile. */
static space *
space_of_arg(podium *p, http_exchange *x, const char *arg)
{
	const char *slash = strchr(arg, '/');
	char *owner = xstrndup(arg, (size_t)(slash - arg));
	space *s = space_find(p, owner, slash + 1);

	free(owner);
	if (s == NULL)
		web_json_error(x, 404, "space %s not found", arg);
	return s;
}

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
sleeptime_body(podium *p, http_exchange *x, json_t *body, const char *user, const char *arg)
{
	space *s = space_of_arg(p, x, arg);
	char err[256];
	long long n;

	(void)user;
	if (s == NULL || int_member(x, body, "seconds", &n) != 0)
		return;
	answer(x, s, space_set_sleep_time(s, n, err, sizeof(err)), err);
}

static void
storage_body(podium *p, http_exchange *x, json_t *body, const char *user, const char *arg)
{
	space *s = space_of_arg(p, x, arg);
	const char *tier = json_string_value(json_object_get(body, "tier"));
	char err[512];

	(void)user;
	if (s == NULL)
		return;
	if (tier == NULL) {
		web_json_error(x, 400, "\"tier\" must be a string (a storage tier)");
		return;
	}
	answer(x, s, space_set_storage(s, tier, err, sizeof(err)), err);
}

static void
rollback_body(podium *p, http_exchange *x, json_t *body, const char *user, const char *arg)
{
	space *s = space_of_arg(p, x, arg);
	char err[512];
	long long n;

	(void)user;
	if (s == NULL || int_member(x, body, "release", &n) != 0)
		return;
	answer(x, s, space_rollback(s, n, err, sizeof(err)), err);
}

static void
duplicate_body(podium *p, http_exchange *x, json_t *body, const char *user, const char *arg)
{
	space *src = space_of_arg(p, x, arg), *dst;
	const char *repo = json_string_value(json_object_get(body, "repository"));
	json_t *priv = json_object_get(body, "private");
	char owner[128], name[128], err[512];
	const char *slash;
	int r;

	if (src == NULL)
		return;
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
	if (!auth_may_write(user, owner)) {
		web_json_error(x, 403, "user %s may not create spaces under %s", user, owner);
		return;
	}
	/* the copy is as private as its source unless told otherwise */
	r = space_duplicate(p, src, owner, name, json_is_boolean(priv) ? json_is_true(priv) :
	    space_is_private(src), &dst, err, sizeof(err));
	if (r != 0) {
		web_json_error(x, r == -EEXIST ? 409 : r == -EINVAL ? 400 : 500, "%s", err);
		return;
	}
	web_json(x, 200, web_repo_created(p, dst));
}

/* "factory=true" (or 1) among the query's parameters. */
static int
query_factory(const char *q)
{
	while (q != NULL && *q != '\0') {
		size_t n = strcspn(q, "&");

		if ((n == 12 && strncmp(q, "factory=true", 12) == 0) ||
		    (n == 9 && strncmp(q, "factory=1", 9) == 0))
			return 1;
		q += n + (q[n] == '&');
	}
	return 0;
}

int
web_lifecycle_api(podium *p, http_exchange *x, space *s, const char *rest, const char *user)
{
	static const char *const posts[] = { "/restart", "/pause", "/sleeptime", "/rollback",
		"/duplicate", "/storage", NULL };
	const http_request *r = http_exchange_request(x);
	const char *allow = strcmp(rest, "/releases") == 0 ? "GET, HEAD" : NULL;
	char id[260], err[512];

	for (int i = 0; allow == NULL && posts[i] != NULL; i++)
		if (strcmp(rest, posts[i]) == 0)
			allow = "POST";
	if (allow == NULL)
		return 0;
	if (!web_allow(x, allow, 1))
		return 1;
	if (user == NULL) {
		web_json_error(x, 401, "authentication required: send Authorization: Bearer TOKEN");
		return 1;
	}
	snprintf(id, sizeof(id), "%s/%s", space_owner(s), space_name(s));
	if (strcmp(rest, "/duplicate") == 0) {
		web_with_body(p, x, user, duplicate_body, id);
		return 1;
	}
	if (!auth_may_write(user, space_owner(s))) {
		web_json_error(x, 403, "user %s may not manage %s/%s", user, space_owner(s),
		    space_name(s));
		return 1;
	}
	if (strcmp(rest, "/releases") == 0)
		web_json(x, 200, space_releases_json(s));
	else if (strcmp(rest, "/restart") == 0)
		answer(x, s, space_restart(s, query_factory(r->query), err, sizeof(err)), err);
	else if (strcmp(rest, "/pause") == 0)
		answer(x, s, space_pause(s, err, sizeof(err)), err);
	else if (strcmp(rest, "/storage") == 0)
		web_with_body(p, x, user, storage_body, id);
	else if (strcmp(rest, "/sleeptime") == 0)
		web_with_body(p, x, user, sleeptime_body, id);
	else
		web_with_body(p, x, user, rollback_body, id);
	return 1;
}
