/* api.c — the JSON API on the hub host, in Hugging Face Hub shapes: its route
 * table (every path of the README's HTTP API, with who may call it), the checks
 * every API call passes first, and the small handlers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/host/budget.h"
#include "orchestrator/resources.h"
#include "orchestrator/space.h"
#include "common/util.h"
#include "web/web_int.h"

static void
api_health(web_call *c)
{
	json_t *h = json_pack("{s:s}", "status", "ok");

	/* host resources (budget.h) for signed-in callers only */
	if (c->user != NULL)
		json_object_set_new(h, "resources", budget_json());
	web_json(c->x, 200, h);
}

static void
api_session(web_call *c)
{
	web_json(c->x, 200, session_json(c->p, c->r, c->user));
}

static void
api_whoami(web_call *c)
{
	web_json(c->x, 200, json_pack("{s:s, s:s, s:s, s:[], s:{s:s, s:{s:s}}, s:b}",
	    "type", "user", "name", c->user, "fullname", c->user, "orgs",
	    "auth", "type", "access_token", "accessToken", "role", c->ai.write ? "write" : "read",
	    "isAdmin", auth_is_admin(c->user)));
}

/* Reads "name" (maybe "owner/name") and "organization" of a repos request body. */
static int
repo_target(http_exchange *x, json_t *body, const char *user, char *owner, char *name, size_t n)
{
	const char *type = json_string_value(json_object_get(body, "type"));
	const char *nm = json_string_value(json_object_get(body, "name"));
	const char *org = json_string_value(json_object_get(body, "organization"));
	const char *slash;

	if (type != NULL && strcmp(type, "space") != 0) {
		web_json_error(x, 400, "type \"%s\" is not supported: podium hosts spaces only", type);
		return -1;
	}
	if (nm == NULL) {
		web_json_error(x, 400, "missing \"name\" (a string)");
		return -1;
	}
	if (json_object_get(body, "organization") != NULL && !json_is_null(json_object_get(body,
	    "organization")) && org == NULL) {
		web_json_error(x, 400, "\"organization\" must be a string");
		return -1;
	}
	slash = strchr(nm, '/');
	if (slash != NULL && org == NULL) {
		snprintf(owner, n, "%.*s", (int)(slash - nm), nm);
		snprintf(name, n, "%s", slash + 1);
	} else {
		snprintf(owner, n, "%s", org != NULL ? org : user);
		snprintf(name, n, "%s", nm);
	}
	if (strlen(nm) >= n || (org != NULL && strlen(org) >= n)) {
		web_json_error(x, 400, "name too long: at most 64 characters");
		return -1;
	}
	return 0;
}

/* A repos/create body says "private" (a boolean, huggingface_hub) or
 * "visibility" ("public" or "private", @huggingface/hub); both may be given when
 * they agree. Absent or null: public. */
static int
repo_private(http_exchange *x, json_t *body, int *private)
{
	json_t *priv = json_object_get(body, "private");
	json_t *vis = json_object_get(body, "visibility");
	const char *v = json_string_value(vis);

	*private = 0;
	if (priv != NULL && !json_is_boolean(priv) && !json_is_null(priv)) {
		web_json_error(x, 400, "\"private\" must be true or false");
		return -1;
	}
	if (vis != NULL && !json_is_null(vis) && (v == NULL || (strcmp(v, "public") != 0 &&
	    strcmp(v, "private") != 0))) {
		web_json_error(x, 400, "\"visibility\" must be \"public\" or \"private\"");
		return -1;
	}
	if (v != NULL && json_is_boolean(priv) && json_is_true(priv) != (strcmp(v, "private") == 0)) {
		web_json_error(x, 400, "\"private\": %s contradicts \"visibility\": \"%s\"",
		    json_is_true(priv) ? "true" : "false", v);
		return -1;
	}
	*private = json_is_true(priv) || (v != NULL && strcmp(v, "private") == 0);
	return 0;
}

json_t *
web_repo_created(podium *p, space *s)
{
	char *hub = podium_hub_url(p);
	json_t *info = space_json(p, s, 0), *j;

	web_space_fields(p, s, info);
	j = json_pack("{s:s++++, s:s++, s:O}",
	    "url", hub, "/spaces/", space_owner(s), "/", space_name(s),
	    "name", space_owner(s), "/", space_name(s), "id", json_object_get(info, "_id"));
	json_decref(info);
	free(hub);
	return j;
}

static void
repos_create_body(web_call *c, json_t *body)
{
	const char *user = c->user;
	char owner[256], name[256], err[512];
	const char *sdk = json_string_value(json_object_get(body, "sdk"));
	json_t *files = json_object_get(body, "files");
	json_t *from = json_object_get(body, "from");
	space *s;
	int r, private;

	if (sdk == NULL)
		sdk = json_string_value(json_object_get(body, "space_sdk"));
	for (const char *const *k = (const char *const[]){ "sdk", "space_sdk", "type", NULL };
	    *k != NULL; k++) {
		json_t *v = json_object_get(body, *k);

		if (v != NULL && !json_is_string(v) && !json_is_null(v)) {
			web_json_error(c->x, 400, "\"%s\" must be a string", *k);
			return;
		}
	}
	if (repo_target(c->x, body, user, owner, name, sizeof(owner)) != 0)
		return;
	if (repo_private(c->x, body, &private) != 0)
		return;
	if (files != NULL && !json_is_null(files) && !json_is_array(files)) {
		web_json_error(c->x, 400, "\"files\" must be an array of {path, content, encoding}");
		return;
	}
	if (!auth_may_write(user, owner)) {
		web_json_error(c->x, 403, "user %s may not create spaces under %s", user, owner);
		return;
	}
	if (from != NULL && !json_is_null(from)) {
		/* a space cloned from a public git repository: clone.c answers */
		if (!json_is_string(from) || json_array_size(files) > 0)
			web_json_error(c->x, 400, "\"from\" must be a git URL, without \"files\"");
		else
			web_clone_start(c, owner, name, sdk != NULL ? sdk : "static", private,
			    json_string_value(from));
		return;
	}
	r = space_create(c->p, owner, name, sdk != NULL ? sdk : "static", private, &s,
	    err, sizeof(err));
	if (r == -EINVAL) {
		web_json_error(c->x, 400, "%s", err);
	} else if (r == -EEXIST) {
		web_json_error(c->x, 409, "%s", err);
	} else if (r != 0) {
		web_json_error(c->x, 500, "%s", err);
	} else if (json_array_size(files) > 0 &&
	    (r = web_commit_files(c->p, s, user, files, err, sizeof(err))) != 0) {
		/* the Hub creates a repository with its files or not at all */
		space_delete(c->p, s);
		web_json_error(c->x, r, "%s", err);
	} else {
		web_json(c->x, 200, web_repo_created(c->p, s));
	}
}

static void
repos_delete_body(web_call *c, json_t *body)
{
	const char *user = c->user;
	char owner[256], name[256];
	space *s;

	if (repo_target(c->x, body, user, owner, name, sizeof(owner)) != 0)
		return;
	s = space_find(c->p, owner, name);
	if (s == NULL || !web_may_read(user, s)) {
		web_json_error(c->x, 404, "space %s/%s not found", owner, name);
		return;
	}
	if (!auth_may_write(user, space_owner(s))) {
		web_json_error(c->x, 403, "user %s may not delete %s/%s", user, owner, name);
		return;
	}
	space_delete(c->p, s);
	web_json(c->x, 200, json_object());
}

static void
api_repos_create(web_call *c)
{
	web_with_body(c, repos_create_body);
}

static void
api_repos_delete(web_call *c)
{
	web_with_body(c, repos_delete_body);
}

static void
api_spaces(web_call *c)
{
	json_t *arr = json_array();

	for (space *s = c->p->spaces; s != NULL; s = space_next(s))
		if (web_may_read(c->user, s)) {
			json_t *j = space_json(c->p, s, 0);

			web_space_fields(c->p, s, j);
			json_array_append_new(arr, j);
		}
	web_json(c->x, 200, arr);
}

/* One space's runtime, with what its app uses now (not in lists: that would
 * read every box's cgroups). */
static json_t *
runtime_usage(const space *s, json_t *runtime)
{
	json_t *res, *use;

	if (runtime == NULL)
		return NULL;
	json_object_set_new(runtime, "egress", space_egress_json(s, 1));
	/* next to the memory budget's numbers already there */
	res = json_object_get(runtime, "resources");
	use = space_usage_json(s);
	if (json_is_object(res) && json_is_object(use))
		json_object_update(res, use);
	else if (!json_is_object(res))
		json_object_set(runtime, "resources", use);
	json_decref(use);
	return runtime;
}

static void
api_space(web_call *c)
{
	json_t *j = space_json(c->p, c->s, 1);

	runtime_usage(c->s, json_object_get(j, "runtime"));
	web_json(c->x, 200, j);
}

static void
api_runtime(web_call *c)
{
	web_json(c->x, 200, runtime_usage(c->s, space_runtime_json(c->s)));
}

static void
api_egress(web_call *c)
{
	web_json(c->x, 200, space_egress_json(c->s, 1));
}

/* POST /api/spaces/{o}/{n}/egress {"enabled": bool}: the per-space egress switch;
 * it applies from the space's next build or app start. */
static void
egress_body(web_call *c, json_t *body)
{
	json_t *en = json_object_get(body, "enabled");

	if (!json_is_boolean(en))
		web_json_error(c->x, 400, "body must be {\"enabled\": true|false}");
	else if (space_set_egress(c->s, json_is_true(en)) != 0)
		web_json_error(c->x, 500, "cannot save the egress setting");
	else
		web_json(c->x, 200, space_egress_json(c->s, 1));
}

static void
api_egress_set(web_call *c)
{
	web_with_body(c, egress_body);
}

#define SPACE "/api/spaces/{owner}/{name}"

/* The README's HTTP API, path by path. A path's routes together give its Allow. */
static const web_route api_routes[] = {
	{ "GET, HEAD", "/api/health", api_health, WEB_PUBLIC, 0 },
	{ "GET, HEAD", "/api/session", api_session, WEB_PUBLIC, 0 },
	{ "GET, HEAD", "/api/whoami-v2", api_whoami, WEB_READ, 0 },
	{ "GET, HEAD", "/api/settings/tokens", web_tokens_list, WEB_READ, 0 },
	{ "POST", "/api/settings/tokens", web_tokens_create, WEB_WRITE, 0 },
	{ "DELETE", "/api/settings/tokens/{id}", web_tokens_delete, WEB_WRITE, 0 },
	{ "GET, HEAD", "/api/admin/users", web_users_list, WEB_ADMIN, 0 },
	{ "POST", "/api/admin/users", web_users_create, WEB_ADMIN, 0 },
	{ "POST", "/api/admin/users/{user}", web_users_change, WEB_ADMIN, 0 },
	{ "POST", "/api/repos/create", api_repos_create, WEB_WRITE, 0 },
	{ "DELETE", "/api/repos/delete", api_repos_delete, WEB_WRITE, 0 },
	{ "GET, HEAD", "/api/spaces", api_spaces, WEB_PUBLIC, 0 },
	{ "GET, HEAD", SPACE, api_space, WEB_READ, 0 },
	{ "GET, HEAD", SPACE "/runtime", api_runtime, WEB_READ, 0 },
	{ "GET, HEAD", SPACE "/logs/build", web_logs_build, WEB_READ, 0 },
	{ "GET, HEAD", SPACE "/logs/run", web_logs_run, WEB_READ, 0 },
	{ "GET, HEAD", SPACE "/egress", api_egress, WEB_READ, 0 },
	{ "POST", SPACE "/egress", api_egress_set, WEB_ADMIN, 0 },
	{ "GET, HEAD", SPACE "/variables", web_variables_list, WEB_READ, 0 },
	{ "POST, DELETE", SPACE "/variables", web_variables_change, WEB_WRITE, 0 },
	{ "GET, HEAD", SPACE "/secrets", web_secrets_list, WEB_WRITE, 0 },
	{ "POST, DELETE", SPACE "/secrets", web_secrets_change, WEB_WRITE, 0 },
	{ "POST", SPACE "/hardware", web_hardware_set, WEB_WRITE, 0 },
	{ "POST", SPACE "/restart", web_restart, WEB_WRITE, 0 },
	{ "POST", SPACE "/pause", web_pause, WEB_WRITE, 0 },
	{ "POST", SPACE "/sleeptime", web_sleeptime, WEB_WRITE, 0 },
	{ "GET, HEAD", SPACE "/releases", web_releases, WEB_WRITE, 0 },
	{ "POST", SPACE "/rollback", web_rollback, WEB_WRITE, 0 },
	{ "POST", SPACE "/storage", web_storage, WEB_WRITE, 0 },
	/* anyone who can see a space may copy it, into an owner they may write to */
	{ "POST", SPACE "/duplicate", web_duplicate, WEB_READ, 0 },
	/* any signed-in user who can see a space may like it (likes_api.c: 401) */
	{ "POST, DELETE", SPACE "/like", web_like, WEB_READ, 0 },
	{ "POST", SPACE "/preupload/{rest*}", web_repo_preupload, WEB_WRITE, 0 },
	{ "POST", SPACE "/commit/{rest*}", web_repo_commit, WEB_WRITE, 0 },
	{ "GET, HEAD", SPACE "/tree/{rest*}", web_repo_tree, WEB_READ, 0 },
	{ "GET, HEAD", SPACE "/revision/{rest*}", web_repo_revision, WEB_READ, 0 },
	{ "GET, HEAD", SPACE "/commits/{rest*}", web_repo_commits, WEB_READ, 0 },
	{ "GET, HEAD", "/metrics", web_metrics, WEB_ADMIN, 0 },
};

const web_router web_api_router = {
	api_routes, sizeof(api_routes) / sizeof(api_routes[0]), 1, 0,
};

/* /api/... and /metrics. Before any route: credentials that are wrong are a 401
 * (the health check answers anyway), and a read-only token changes nothing. */
void
web_api_handle(podium *p, http_exchange *x)
{
	const http_request *r = http_exchange_request(x);
	auth_info ai;
	char *user = auth_request_user(p, r, &ai);

	if (ai.presented && user == NULL && strcmp(r->path, "/api/health") != 0) {
		web_json_unauthorized(x, "invalid credentials: the token is not valid");
	} else if (user != NULL && !ai.write && strcmp(r->method, "GET") != 0 &&
	    strcmp(r->method, "HEAD") != 0) {
		web_json_error(x, 403, "this token is read-only: it may not change anything");
	} else {
		web_route_serve(&web_api_router, p, x, user, &ai);
		return;
	}
	free(user);
}
