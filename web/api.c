/* api.c — the JSON API on the hub host, in Hugging Face Hub shapes: its route
 * table (every path of the README's HTTP API, with who may call it), the checks
 * every API call passes first, and the small handlers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "builder/git.h"
#include "orchestrator/host/budget.h"
#include "orchestrator/store/accounts.h"
#include "proxy/routes.h"
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

/* GET /api/whoami-v2: the caller, and the token's label (huggingface_hub's login
 * stores the token under auth.accessToken.displayName). */
static void
api_whoami(web_call *c)
{
	const char *h = http_request_header(c->r, "authorization");
	char token[256], label[128] = "";

	if (h != NULL && route_auth_token(h, token, sizeof(token)) == 0) {
		accounts_token_name(c->p->store, token, label, sizeof(label));
		sodium_memzero(token, sizeof(token));
	}
	if (label[0] == '\0')
		snprintf(label, sizeof(label), "%s", c->ai.session ? "browser session" : "token");
	web_json(c->x, 200, json_pack("{s:s, s:s, s:s, s:[], s:{s:s, s:{s:s, s:s}}, s:b}",
	    "type", "user", "name", c->user, "fullname", c->user, "orgs",
	    "auth", "type", "access_token", "accessToken", "role", c->ai.write ? "write" : "read",
	    "displayName", label, "isAdmin", auth_is_admin(c->user)));
}

/* GET /api/spaces/{o}/{n}/auth-check[/write] (huggingface_hub's auth_check reads
 * the status only): the route's access has said who may; a read-only token may
 * not write. */
static void
api_auth_check(web_call *c)
{
	if (c->route->access == WEB_WRITE && !c->ai.write)
		web_json_error(c->x, 403, "this token is read-only: it may not change %s/%s",
		    space_owner(c->s), space_name(c->s));
	else
		web_json(c->x, 200, json_object());
}

/* GET /api/models, /api/datasets: none here. */
static void
api_no_repos(web_call *c)
{
	web_json(c->x, 200, json_array());
}

void
web_not_a_space(web_call *c)
{
	const char *path = c->r->path, *rest = web_param(c, "rest");
	const char *kind = strncmp(path, "/datasets/", 10) == 0 ||
	    strncmp(path, "/api/datasets/", 14) == 0 ? "dataset" : "model";
	char repo[300];
	size_t n = strcspn(rest, "/");

	/* /O/N/resolve/...: the parts {o}, {n}; /api/models/O/N/...: the rest's first two */
	if (web_param(c, "o")[0] != '\0') {
		snprintf(repo, sizeof(repo), "%.128s/%.128s", web_param(c, "o"), web_param(c, "n"));
	} else {
		if (rest[n] == '/')
			n += 1 + strcspn(rest + n + 1, "/");
		snprintf(repo, sizeof(repo), "%.*s", (int)(n < 256 ? n : 256), rest);
	}
	web_not_found(c->x, "RepoNotFound", "podium hosts spaces only: no %s %s (repo_type=\"space\")",
	    kind, repo);
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

/* GET /api/spaces/{o}/{n}: the space, its runtime with what its app uses now, and
 * main's files (siblings), as the Hub's space_info has them. */
static void
api_space(web_call *c)
{
	json_t *j = space_json(c->p, c->s, 1), *files;
	char *repo = space_repo_path(c->p, c->s), sha[41];

	runtime_usage(c->s, json_object_get(j, "runtime"));
	web_space_fields(c->p, c->s, j);
	if (builder_repo_files(repo, "main", web_query_true(c->r->query, "blobs"), sha, &files) == 0)
		json_object_set_new(j, "siblings", files);
	free(repo);
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

/* PUT /api/spaces/{o}/{n}/settings {"private": bool}: the Hub's repository settings
 * (huggingface_hub's update_repo_settings); visibility is the one podium keeps. */
static void
settings_body(web_call *c, json_t *body)
{
	json_t *priv = json_object_get(body, "private");

	if (!json_is_boolean(priv)) {
		web_json_error(c->x, 400, "body must be {\"private\": true|false}");
		return;
	}
	if (json_is_true(priv) != space_is_private(c->s))
		space_set_private(c->s, json_is_true(priv));
	web_json(c->x, 200, json_pack("{s:b}", "private", space_is_private(c->s)));
}

static void
api_settings(web_call *c)
{
	web_with_body(c, settings_body);
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
	{ "GET, HEAD", "/api/admin/tls", web_tls_status, WEB_ADMIN, 0 },
	{ "POST", "/api/admin/users", web_users_create, WEB_ADMIN, 0 },
	{ "POST", "/api/admin/users/{user}", web_users_change, WEB_ADMIN, 0 },
	{ "POST", "/api/repos/create", web_repos_create, WEB_WRITE, 0 },
	{ "POST", "/api/validate-yaml", web_validate_yaml, WEB_PUBLIC, WEB_READS },
	{ "DELETE", "/api/repos/delete", web_repos_delete, WEB_WRITE, 0 },
	{ "GET, HEAD", "/api/spaces", web_spaces_list, WEB_PUBLIC, 0 },
	{ "GET, HEAD", SPACE, api_space, WEB_READ, 0 },
	{ "GET, HEAD", SPACE "/runtime", api_runtime, WEB_READ, 0 },
	{ "GET, HEAD", SPACE "/logs/build", web_logs_build, WEB_READ, 0 },
	{ "GET, HEAD", SPACE "/logs/run", web_logs_run, WEB_READ, 0 },
	{ "GET, HEAD", SPACE "/auth-check", api_auth_check, WEB_READ, 0 },
	{ "GET, HEAD", SPACE "/auth-check/write", api_auth_check, WEB_WRITE, 0 },
	{ "GET, HEAD", SPACE "/egress", api_egress, WEB_READ, 0 },
	{ "POST", SPACE "/egress", api_egress_set, WEB_ADMIN, 0 },
	{ "PUT", SPACE "/settings", api_settings, WEB_WRITE, 0 },
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
	{ "DELETE", SPACE "/storage", web_storage_delete, WEB_WRITE, 0 },
	/* anyone who can see a space may copy it, into an owner they may write to */
	{ "POST", SPACE "/duplicate", web_duplicate, WEB_READ, 0 },
	/* any signed-in user who can see a space may like it (likes_api.c: 401) */
	{ "POST, DELETE", SPACE "/like", web_like, WEB_READ, 0 },
	{ "POST", SPACE "/preupload/{rest*}", web_repo_preupload, WEB_WRITE, 0 },
	{ "POST", SPACE "/commit/{rest*}", web_repo_commit, WEB_WRITE, 0 },
	{ "GET, HEAD", SPACE "/tree/{rest*}", web_repo_tree, WEB_READ, 0 },
	{ "GET, HEAD", SPACE "/revision/{rest*}", web_repo_revision, WEB_READ, 0 },
	{ "GET, HEAD", SPACE "/commits/{rest*}", web_repo_commits, WEB_READ, 0 },
	{ "POST", SPACE "/paths-info/{rest*}", web_repo_paths_info, WEB_READ, WEB_READS },
	{ "GET, HEAD", SPACE "/refs", web_refs, WEB_READ, 0 },
	{ "POST", SPACE "/branch/{rest*}", web_branch_create, WEB_WRITE, 0 },
	{ "DELETE", SPACE "/branch/{rest*}", web_branch_delete, WEB_WRITE, 0 },
	{ "POST", SPACE "/tag/{rest*}", web_tag_create, WEB_WRITE, 0 },
	{ "DELETE", SPACE "/tag/{rest*}", web_tag_delete, WEB_WRITE, 0 },
	{ "GET, HEAD", "/metrics", web_metrics, WEB_ADMIN, 0 },
	/* no models or datasets: the Hub's answer for a repository that is not there */
	{ "GET, HEAD", "/api/models", api_no_repos, WEB_PUBLIC, 0 },
	{ "GET, HEAD", "/api/datasets", api_no_repos, WEB_PUBLIC, 0 },
	{ "GET, HEAD, POST, PUT, DELETE", "/api/models/{rest*}", web_not_a_space, WEB_PUBLIC, 0 },
	{ "GET, HEAD, POST, PUT, DELETE", "/api/datasets/{rest*}", web_not_a_space, WEB_PUBLIC, 0 },
};

const web_router web_api_router = {
	api_routes, sizeof(api_routes) / sizeof(api_routes[0]), 1, 0,
};

/* /api/... and /metrics. Before any route: credentials that are wrong are a 401
 * (the health check answers anyway). A read-only token changes nothing: the
 * route table's check (route.c). */
void
web_api_handle(podium *p, http_exchange *x)
{
	const http_request *r = http_exchange_request(x);
	auth_info ai;
	char *user = auth_request_user(p, r, &ai);

	if (ai.store_down && strcmp(r->path, "/api/health") != 0) {
		/* not the token's fault: a cluster node cut off from its database */
		http_header h = { "Retry-After", "2" };

		web_json_error_with(x, 503, NULL, &h, 1,
		    "the token cannot be checked now: the database is unreachable, try again");
		return;
	}
	if (ai.presented && user == NULL && strcmp(r->path, "/api/health") != 0) {
		web_json_unauthorized(x, "invalid credentials: the token is not valid");
		free(user);
		return;
	}
	web_route_serve(&web_api_router, p, x, user, &ai);
}
