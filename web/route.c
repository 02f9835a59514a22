/* route.c — the hub's routes: a table per face (web_api_router in api.c,
 * web_hub_router in hub.c) of {methods, pattern, handler, access}, one matcher and
 * one access check, so that every route answers the same way:
 *
 *   unknown path                          → 404
 *   the path's space missing, or private
 *   to the caller                         → the same 404 (git: 401 without credentials)
 *   known path, wrong method              → 405 with Allow (the methods of its routes)
 *   access: read/write/admin, no caller   → 401 (pages: the sign-in form)
 *           write, not the owner or admin → 403; admin, not an admin → 403
 *   else                                  → the handler
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "orchestrator/space.h"
#include "web/web_int.h"

/* ---- matching ---- */

void
web_match_release(web_match *m)
{
	for (int i = 0; i < m->n; i++)
		free(m->value[i]);
	memset(m, 0, sizeof(*m));
}

static int
capture(web_match *m, const char *name, size_t nlen, const char *v, size_t vlen, size_t end)
{
	if (m->n == WEB_MAX_PARAMS)
		return 0;
	m->name[m->n] = name;
	m->nlen[m->n] = nlen;
	m->value[m->n] = xstrndup(v, vlen);
	m->end[m->n] = end;
	m->n++;
	return 1;
}

int
web_match_route(const char *pattern, const char *path, web_match *m)
{
	const char *pp = pattern, *sp = path;

	memset(m, 0, sizeof(*m));
	while (*pp != '\0') {
		const char *pseg = pp + 1, *sseg = sp + 1;
		size_t plen = strcspn(pseg, "/"), slen;
		int param = plen >= 2 && pseg[0] == '{' && pseg[plen - 1] == '}';

		if (*pp != '/')
			goto fail;
		if (param && plen >= 3 && pseg[plen - 2] == '*') {
			/* the rest: "/a/b", or nothing at all */
			if (*sp != '\0' && *sp != '/')
				goto fail;
			if (!capture(m, pseg + 1, plen - 3, *sp != '\0' ? sp + 1 : sp,
			    *sp != '\0' ? strlen(sp + 1) : 0, strlen(path)))
				goto fail;
			return 1;
		}
		if (*sp != '/')
			goto fail;
		slen = strcspn(sseg, "/");
		if (param) {
			if (slen == 0 || !capture(m, pseg + 1, plen - 2, sseg, slen,
			    (size_t)(sseg + slen - path)))
				goto fail;
		} else if (plen != slen || memcmp(pseg, sseg, slen) != 0) {
			goto fail;
		}
		pp = pseg + plen;
		sp = sseg + slen;
	}
	if (*sp == '\0')
		return 1;
fail:
	web_match_release(m);
	return 0;
}

static int
match_index(const web_match *m, const char *name)
{
	size_t n = strlen(name);

	for (int i = 0; i < m->n; i++)
		if (m->nlen[i] == n && strncmp(m->name[i], name, n) == 0)
			return i;
	return -1;
}

int
web_method_in(const char *method, const char *list)
{
	size_t n = strlen(method);

	for (const char *p = list; *p != '\0'; p += strspn(p, ", ")) {
		size_t len = strcspn(p, ", ");

		if (len == n && strncmp(p, method, n) == 0)
			return 1;
		p += len;
	}
	return 0;
}

/* Adds the methods of list that allow does not have yet. */
static void
allow_add(char *allow, size_t len, const char *list)
{
	for (const char *p = list; *p != '\0'; p += strspn(p, ", ")) {
		size_t n = strcspn(p, ", "), used = strlen(allow);
		char word[16];

		snprintf(word, sizeof(word), "%.*s", (int)n, p);
		p += n;
		if (web_method_in(word, allow))
			continue;
		snprintf(allow + used, len - used, "%s%s", used > 0 ? ", " : "", word);
	}
}

const web_route *
web_route_find(const web_router *rt, const char *method, const char *path, web_match *m,
    const web_route **near, char *allow, size_t allowlen)
{
	const web_route *found = NULL;

	*near = NULL;
	allow[0] = '\0';
	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < rt->n && found == NULL; i++) {
		const web_route *r = &rt->routes[i];
		web_match one;
		int keep = 0;

		/* a path belongs to the first pattern that matches it, and its routes
		 * share that pattern: /logout is not the profile /{user} */
		if ((*near != NULL && strcmp(r->pattern, (*near)->pattern) != 0) ||
		    !web_match_route(r->pattern, path, &one))
			continue;
		if (*near == NULL) {
			*near = r;
			keep = 1;
		}
		if (web_method_in(method, r->methods)) {
			found = r;
			keep = 1;
		}
		allow_add(allow, allowlen, r->methods);
		if (keep) {
			web_match_release(m);
			*m = one;
		} else {
			web_match_release(&one);
		}
	}
	return found;
}

int
web_access_status(web_access a, int signed_in, int admin, int has_space, int may_write)
{
	switch (a) {
	case WEB_PUBLIC:
		return 0;
	case WEB_READ:
		return has_space || signed_in ? 0 : 401;
	case WEB_WRITE:
		return !signed_in ? 401 : has_space && !may_write ? 403 : 0;
	case WEB_ADMIN:
		return !signed_in ? 401 : admin ? 0 : 403;
	}
	return 403;
}

/* ---- calls ---- */

const char *
web_param(const web_call *c, const char *name)
{
	int i = match_index(&c->m, name);

	return i >= 0 ? c->m.value[i] : "";
}

const char *
web_path_after(const web_call *c, const char *name)
{
	int i = match_index(&c->m, name);

	return i >= 0 ? c->r->path + c->m.end[i] : "";
}

void
web_call_free(web_call *c)
{
	web_match_release(&c->m);
	free(c->user);
	free(c->body);
	free(c);
}

space *
web_path_space(const web_call *c)
{
	char name[256];
	size_t n;

	if (match_index(&c->m, "owner") < 0 || match_index(&c->m, "name") < 0)
		return NULL;
	snprintf(name, sizeof(name), "%s", web_param(c, "name"));
	n = strlen(name);
	if (c->router->git_suffix && n > 4 && strcmp(name + n - 4, ".git") == 0)
		name[n - 4] = '\0';
	return space_find(c->p, web_param(c, "owner"), name);
}

/* The space the path names, one the caller may see, in c->s (NULL when the path
 * names none): 0. -1: answered (404, or git's 401). */
static int
call_space(web_call *c, const web_route *rt)
{
	if (match_index(&c->m, "owner") < 0)
		return 0;
	c->s = web_path_space(c);
	if (c->s != NULL && web_may_read(c->user, c->s))
		return 0;
	/* a private space asks git for credentials, like a private repository on a forge */
	if (c->s != NULL && (rt->flags & WEB_GIT) && !c->ai.presented)
		web_git_unauthorized(c->x, "authentication required\n");
	else if (c->router->json)
		web_not_found(c->x, "RepoNotFound", "space %s/%s not found", web_param(c, "owner"),
		    web_param(c, "name"));
	else
		web_page_error(c, 404, "No such space, or it is private.");
	c->s = NULL;
	return -1;
}

static void
method_not_allowed(web_call *c, const char *allow)
{
	http_header h = { "Allow", allow };
	char msg[256];

	snprintf(msg, sizeof(msg), "method %.16s not allowed here: use %s", c->r->method, allow);
	utf8_scrub(msg);
	if (c->router->json)
		web_json_with(c->x, 405, json_pack("{s:s}", "error", msg), &h, 1);
	else
		web_page_error_with(c, 405, msg, &h, 1);
}

/* A page for signed-in users only: to the login form, and back after it. */
static void
to_login(web_call *c)
{
	char *loc = xasprintf("/login?next=%s", c->r->path);
	http_header h = { "Location", loc };

	http_respond(c->x, 303, "text/plain; charset=utf-8", &h, 1, "sign in first\n", 14);
	free(loc);
}

/* 0: the call may go on; else answered. */
static int
access_check(web_call *c)
{
	int admin = c->user != NULL && auth_is_admin(c->user);
	int may_write = c->s != NULL && auth_may_write(c->user, space_owner(c->s));
	int st = web_access_status(c->route->access, c->user != NULL, admin, c->s != NULL, may_write);
	char msg[300];

	if (st == 0)
		return 0;
	if (st == 401) {
		if (c->router->json)
			web_json_unauthorized(c->x, "authentication required: send Authorization: Bearer TOKEN");
		else
			to_login(c);
		return -1;
	}
	if (c->s != NULL && c->route->access == WEB_WRITE)
		snprintf(msg, sizeof(msg), "user %s may not change %s/%s: only its owner or an admin",
		    c->user, space_owner(c->s), space_name(c->s));
	else
		snprintf(msg, sizeof(msg), "admins only");
	if (c->router->json)
		web_json_error(c->x, 403, "%s", msg);
	else
		web_page_error(c, 403, msg);
	return -1;
}

void
web_route_serve(const web_router *rt, podium *p, http_exchange *x, char *user,
    const auth_info *ai)
{
	web_call *c = xcalloc(1, sizeof(*c));
	const web_route *near;
	char allow[128];

	c->p = p;
	c->x = x;
	c->r = http_exchange_request(x);
	c->router = rt;
	c->user = user;
	c->ai = *ai;
	c->route = web_route_find(rt, c->r->method, c->r->path, &c->m, &near, allow, sizeof(allow));
	if (near == NULL) {
		if (rt->json)
			web_json_error(x, 404, "no such endpoint: %s", c->r->path);
		else
			web_page_error(c, 404, "There is no page here.");
	} else if (call_space(c, c->route != NULL ? c->route : near) != 0) {
		; /* answered: the space is not one the caller may see */
	} else if (c->route == NULL) {
		method_not_allowed(c, allow);
	} else if (access_check(c) == 0) {
		c->route->handler(c);
	}
	/* a kept call is freed by its body's end or abort, which come only after the
	 * hub handler has returned (http.h) */
	if (!c->kept)
		web_call_free(c);
}
