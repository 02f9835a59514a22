/* hub.c — everything on the hub host: /api → api.c, /spaces/OWNER/NAME/... → git
 * (builder_git_serve) or the space page, / → the index page. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/git.h"
#include "common/log.h"
#include "web/repo.h"
#include "web/page.h"
#include "orchestrator/space.h"
#include "common/util.h"
#include "web/web.h"

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

static int
is_git_path(const char *rest, const char *query, int *push)
{
	/* Anything on /info/refs but a fetch's own query counts as a push (git
	 * http-backend decodes "git%2dreceive-pack" too). */
	*push = strcmp(rest, "/git-receive-pack") == 0 ||
	    (strcmp(rest, "/info/refs") == 0 && query[0] != '\0' &&
	    strcmp(query, "service=git-upload-pack") != 0);
	return strcmp(rest, "/info/refs") == 0 || strcmp(rest, "/git-upload-pack") == 0 ||
	    strcmp(rest, "/git-receive-pack") == 0 || strcmp(rest, "/HEAD") == 0 ||
	    strncmp(rest, "/objects/", 9) == 0;
}

/* Smart HTTP posts to the two services; the rest (refs, dumb HTTP) is read. */
static const char *
git_methods(const char *rest)
{
	if (strcmp(rest, "/git-upload-pack") == 0 || strcmp(rest, "/git-receive-pack") == 0)
		return "POST";
	return "GET, HEAD";
}

static void
git_unauthorized(http_exchange *x, const char *msg)
{
	http_header h = { "WWW-Authenticate", "Basic realm=\"podium\"" };

	http_respond(x, 401, "text/plain; charset=utf-8", &h, 1, msg, strlen(msg));
}

/* A page for signed-in users only: to the login form, and back after it. */
static void
hub_to_login(http_exchange *x)
{
	const http_request *r = http_exchange_request(x);
	char *loc = xasprintf("/login?next=%s", r->path);
	http_header h = { "Location", loc };

	http_respond(x, 303, "text/plain; charset=utf-8", &h, 1, "sign in first\n", 14);
	free(loc);
}

/* /new, /settings/tokens, /admin */
static int
hub_user_page(podium *p, http_exchange *x)
{
	const http_request *r = http_exchange_request(x);
	int which = strcmp(r->path, "/new") == 0 ? 1 : strcmp(r->path, "/settings/tokens") == 0 ? 2 :
	    strcmp(r->path, "/admin") == 0 ? 3 : 0;
	auth_info ai;
	char *user;

	if (which == 0)
		return 0;
	if (!web_allow(x, "GET, HEAD", 0))
		return 1;
	user = auth_request_user(p, r, &ai);
	if (user == NULL)
		hub_to_login(x);
	else if (which == 1)
		web_page_new(p, x, user);
	else if (which == 2)
		web_page_tokens(p, x, user);
	else if (!auth_is_admin(user))
		http_respond_error(x, 403, "admins only");
	else
		web_page_admin(p, x, user);
	free(user);
	return 1;
}

static void
hub_spaces(podium *p, http_exchange *x)
{
	const http_request *r = http_exchange_request(x);
	char owner[128] = "", name[128] = "";
	const char *rest;
	int n = 0, push = 0, presented = 0;
	auth_info ai;
	char *user;
	space *s;

	if (sscanf(r->path, "/spaces/%127[^/]/%127[^/]%n", owner, name, &n) != 2 || n == 0) {
		http_respond_error(x, 404, "not found");
		return;
	}
	rest = r->path + n;
	size_t nl = strlen(name);
	if (nl > 4 && strcmp(name + nl - 4, ".git") == 0)
		name[nl - 4] = '\0';
	user = auth_request_user(p, r, &ai);
	presented = ai.presented;
	s = space_find(p, owner, name);
	if (s == NULL || (space_is_private(s) && !auth_may_write(user, space_owner(s)) && !presented)) {
		/* A private space asks for credentials, like a private repository on a forge. */
		if (s != NULL && is_git_path(rest, r->query, &push))
			git_unauthorized(x, "authentication required\n");
		else
			http_respond_error(x, 404, "space not found");
		goto done;
	}
	if (space_is_private(s) && !auth_may_write(user, space_owner(s))) {
		http_respond_error(x, 404, "space not found");
		goto done;
	}
	if (rest[0] == '\0' || strcmp(rest, "/") == 0) {
		if (web_allow(x, "GET, HEAD", 0))
			web_page_space(p, x, s, user);
		goto done;
	}
	if (strcmp(rest, "/logs") == 0) {
		if (web_allow(x, "GET, HEAD", 0))
			web_page_logs(p, x, s, user);
		goto done;
	}
	if (strcmp(rest, "/settings") == 0) {
		if (!web_allow(x, "GET, HEAD", 0))
			goto done;
		if (user == NULL)
			hub_to_login(x);
		else if (!auth_may_write(user, space_owner(s)))
			http_respond_error(x, 403, "only the owner or an admin may change this space");
		else
			web_page_settings(p, x, s, user);
		goto done;
	}
	if (repo_file_route(p, x, s, rest))
		goto done; /* /resolve/REV/PATH, /raw/REV/PATH: repo_read.c */
	if (!is_git_path(rest, r->query, &push)) {
		http_respond_error(x, 404, "not found");
		goto done;
	}
	if (!web_allow(x, git_methods(rest), 0))
		goto done;
	if (push && user == NULL) {
		git_unauthorized(x, presented ? "invalid credentials: use your podium token as the password\n"
		    : "authentication required: push with your podium token as the password\n");
		goto done;
	}
	if (push && (!auth_may_write(user, space_owner(s)) || !ai.write)) {
		http_respond_error(x, 403, "you may not push to this space");
		goto done;
	}
	{
		push_ctx *c = NULL;
		char *repo = space_repo_path(p, s), *app_url = NULL, *log_url = NULL, *hub = NULL;
		builder_git_req req = { 0 };

		req.repo_path = repo;
		req.path_info = rest;
		req.allow_push = push;
		req.remote_user = user;
		if (push) {
			/* Named to the pusher by the repository's hook (builder/repo.c). */
			hub = podium_hub_url(p);
			req.app_url = app_url = space_app_url(p, s);
			req.build_log_url = log_url = xasprintf("%s/api/spaces/%s/%s/logs/build", hub,
			    space_owner(s), space_name(s));
			c = xcalloc(1, sizeof(*c));
			c->p = p;
			c->owner = xstrdup(space_owner(s));
			c->name = xstrdup(space_name(s));
			req.on_pushed = git_pushed;
			req.on_done = git_done;
			req.arg = c;
		}
		builder_git_serve(x, &req);
		free(repo);
		free(app_url);
		free(log_url);
		free(hub);
	}
done:
	free(user);
}

void
web_hub_handle(http_exchange *x, void *arg)
{
	podium *p = arg;
	const http_request *r = http_exchange_request(x);

	if (strncmp(r->path, "/api/", 5) == 0 || strcmp(r->path, "/api") == 0) {
		web_api_handle(p, x);
	} else if (strncmp(r->path, "/spaces/", 8) == 0) {
		hub_spaces(p, x);
	} else if (strncmp(r->path, "/static/", 8) == 0) {
		web_static_handle(x);
	} else if (hub_user_page(p, x)) {
		; /* answered */
	} else if (strcmp(r->path, "/login") == 0) {
		web_login_handle(p, x);
	} else if (strcmp(r->path, "/logout") == 0) {
		web_logout_handle(p, x);
	} else if (strcmp(r->path, "/metrics") == 0) {
		web_metrics_handle(p, x);
	} else if (strcmp(r->path, "/") == 0 || strcmp(r->path, "/spaces") == 0) {
		int presented;
		char *user;

		if (!web_allow(x, "GET, HEAD", 0))
			return;
		user = auth_user(p, r, &presented);
		web_page_index(p, x, user);
		free(user);
	} else {
		http_respond_error(x, 404, "not found");
	}
}

void
web_start(podium *p)
{
	auth_set_store(p->store);
	auth_watch_start(p);
	repo_clone_init(p);
}
