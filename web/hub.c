/* hub.c — everything on the hub host: /api/... and /metrics go to the API's
 * routes (api.c); the pages, the sign-in form, the pages' files, a space's files
 * (/resolve, /raw) and git's smart HTTP (builder_git_serve) are the routes here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/git.h"
#include "common/util.h"
#include "orchestrator/host/disk.h"
#include "orchestrator/space.h"
#include "web/web_int.h"

typedef struct push_ctx {
	podium *p;
	char *owner, *name;
} push_ctx;

static void
git_pushed(void *arg, const char *sha)
{
	push_ctx *c = arg;
	/* Look the space up again: it may have been deleted while the push ran. */
	space *s = space_find(c->p, c->owner, c->name);

	if (s != NULL)
		space_on_push(c->p, s, sha);
}

static void
git_done(void *arg)
{
	push_ctx *c = arg;

	free(c->owner);
	free(c->name);
	free(c);
}

/* The space's app URL, as its API JSON says it ("host"). Caller frees. */
static char *
space_app_url(podium *p, space *s)
{
	json_t *j = space_json(p, s, 0);
	const char *host = json_string_value(json_object_get(j, "host"));
	char *url = host != NULL ? xstrdup(host) : NULL;

	json_decref(j);
	return url;
}

/* Anything on /info/refs but a fetch's own query counts as a push (git
 * http-backend decodes "git%2dreceive-pack" too). */
static int
git_is_push(const char *rest, const char *query)
{
	return strcmp(rest, "/git-receive-pack") == 0 || (strcmp(rest, "/info/refs") == 0 &&
	    query[0] != '\0' && strcmp(query, "service=git-upload-pack") != 0);
}

void
web_git_unauthorized(http_exchange *x, const char *msg)
{
	http_header h = { "WWW-Authenticate", "Basic realm=\"podium\"" };

	http_respond(x, 401, "text/plain; charset=utf-8", &h, 1, msg, strlen(msg));
}

/* A push needs a write token (or a session) of the owner or an admin; git
 * asks for credentials with Basic. */
static int
git_may_push(web_call *c)
{
	if (c->user == NULL) {
		web_git_unauthorized(c->x, c->ai.presented ?
		    "invalid credentials: use your podium token as the password\n" :
		    "authentication required: push with your podium token as the password\n");
		return 0;
	}
	if (!auth_may_write(c->user, space_owner(c->s)) || !c->ai.write) {
		http_respond_error(c->x, 403, "you may not push to this space");
		return 0;
	}
	return 1;
}

/* /spaces/OWNER/NAME[.git]/{info/refs,HEAD,objects/...,git-upload-pack,git-receive-pack} */
static void
hub_git(web_call *c)
{
	const char *rest = web_path_after(c, "name");
	int push = git_is_push(rest, c->r->query);
	char *repo, *app_url = NULL, *log_url = NULL, *hub = NULL;
	builder_git_req req = { 0 };
	push_ctx *pc;

	if (push && !git_may_push(c))
		return;
	if (push && disk_check()) {
		/* git shows a text/plain body of a refused info/refs as "remote:" lines */
		char msg[320];
		size_t n;

		disk_refusal(msg, sizeof(msg) - 1);
		n = strlen(msg);
		msg[n++] = '\n';
		http_respond(c->x, 507, "text/plain; charset=utf-8", NULL, 0, msg, n);
		return;
	}
	if (push) /* its build disk gets ready while the pack comes in */
		space_builds_prepare(c->s);
	repo = space_repo_path(c->p, c->s);
	req.repo_path = repo;
	req.path_info = rest;
	req.allow_push = push;
	req.remote_user = c->user;
	if (push) {
		/* Named to the pusher by the repository's hook (builder/repo.c). */
		hub = podium_hub_url(c->p);
		req.app_url = app_url = space_app_url(c->p, c->s);
		req.build_log_url = log_url = xasprintf("%s/api/spaces/%s/%s/logs/build", hub,
		    space_owner(c->s), space_name(c->s));
		pc = xcalloc(1, sizeof(*pc));
		pc->p = c->p;
		pc->owner = xstrdup(space_owner(c->s));
		pc->name = xstrdup(space_name(c->s));
		req.on_pushed = git_pushed;
		req.on_done = git_done;
		req.arg = pc;
	}
	builder_git_serve(c->x, &req);
	free(repo);
	free(app_url);
	free(log_url);
	free(hub);
}

#define SPACE "/spaces/{owner}/{name}"

/* The hub's pages and git. A page for signed-in callers sends others to the
 * sign-in form; git asks for credentials. */
static const web_route hub_routes[] = {
	{ "GET, HEAD", "/", web_page_index, WEB_PUBLIC, 0 },
	{ "GET, HEAD", "/spaces", web_page_index, WEB_PUBLIC, 0 },
	{ "GET, HEAD", "/new", web_page_new, WEB_READ, 0 },
	{ "GET, HEAD", "/settings/tokens", web_page_tokens, WEB_READ, 0 },
	{ "GET, HEAD", "/admin", web_page_admin, WEB_ADMIN, 0 },
	{ "GET, HEAD, POST", "/login", web_login, WEB_PUBLIC, 0 },
	{ "POST", "/logout", web_logout, WEB_PUBLIC, 0 },
	{ "GET, HEAD", "/static/{file*}", web_static, WEB_PUBLIC, 0 },
	{ "GET, HEAD", "/favicon.ico", web_static, WEB_PUBLIC, 0 },
	{ "GET, HEAD", SPACE, web_page_space, WEB_READ, 0 },
	{ "GET, HEAD", SPACE "/", web_page_space, WEB_READ, 0 },
	{ "GET, HEAD", SPACE "/logs", web_page_logs, WEB_READ, 0 },
	{ "GET, HEAD", SPACE "/settings", web_page_settings, WEB_WRITE, 0 },
	{ "GET, HEAD", SPACE "/resolve/{rest*}", web_repo_resolve, WEB_READ, WEB_APIERR },
	{ "GET, HEAD", SPACE "/raw/{rest*}", web_repo_raw, WEB_READ, WEB_APIERR },
	/* the Files tab, at the Hub's URLs (pages_files.c) */
	{ "GET, HEAD", SPACE "/tree/{rest*}", web_page_tree, WEB_READ, 0 },
	{ "GET, HEAD", SPACE "/blob/{rest*}", web_page_blob, WEB_READ, 0 },
	{ "GET, HEAD", SPACE "/commits/{rest*}", web_page_commits, WEB_READ, 0 },
	{ "GET, HEAD", SPACE "/commit/{rest*}", web_page_commit, WEB_READ, 0 },
	/* smart HTTP posts to the two services; the rest (refs, dumb HTTP) is read */
	{ "GET, HEAD", SPACE "/info/refs", hub_git, WEB_READ, WEB_GIT },
	{ "GET, HEAD", SPACE "/HEAD", hub_git, WEB_READ, WEB_GIT },
	{ "GET, HEAD", SPACE "/objects/{path*}", hub_git, WEB_READ, WEB_GIT },
	{ "POST", SPACE "/git-upload-pack", hub_git, WEB_READ, WEB_GIT },
	{ "POST", SPACE "/git-receive-pack", hub_git, WEB_READ, WEB_GIT },
	/* a model's or dataset's files (hf_hub_url without repo_type="space"): none here */
	{ "GET, HEAD", "/{o}/{n}/resolve/{rest*}", web_not_a_space, WEB_PUBLIC, WEB_APIERR },
	{ "GET, HEAD", "/datasets/{o}/{n}/resolve/{rest*}", web_not_a_space, WEB_PUBLIC, WEB_APIERR },
	/* profiles last: a literal path above owns its name (/new, /admin, /login) */
	{ "GET, HEAD", "/spaces/{user}", web_page_profile, WEB_PUBLIC, 0 },
	{ "GET, HEAD", "/{user}", web_page_profile, WEB_PUBLIC, 0 },
};

const web_router web_hub_router = {
	hub_routes, sizeof(hub_routes) / sizeof(hub_routes[0]), 0, 1,
};

void
web_hub_handle(http_exchange *x, void *arg)
{
	podium *p = arg;
	const http_request *r = http_exchange_request(x);
	auth_info ai;
	char *user;

	if (strncmp(r->path, "/api/", 5) == 0 || strcmp(r->path, "/api") == 0 ||
	    strcmp(r->path, "/metrics") == 0) {
		web_api_handle(p, x);
		return;
	}
	user = auth_request_user(p, r, &ai);
	if (ai.store_down) {
		http_respond_error(x, 503, "the token cannot be checked now: the database is "
		    "unreachable, try again");
		return;
	}
	web_route_serve(&web_hub_router, p, x, user, &ai);
}

void
web_start(podium *p)
{
	auth_set_store(p->store);
	auth_watch_start(p);
	web_clone_init(p);
}
