/* The hub's routes: the matcher, the route lookup with its Allow, the access
 * decision, and the two tables' contract (who may call what); then the pure
 * helpers of the handlers: Range headers, URL unescaping, query strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "web/web_int.h"

static const char *
value(const web_match *m, const char *name)
{
	for (int i = 0; i < m->n; i++)
		if (m->nlen[i] == strlen(name) && strncmp(m->name[i], name, m->nlen[i]) == 0)
			return m->value[i];
	return NULL;
}

static void
test_match(void **state)
{
	web_match m;

	assert_true(web_match_route("/api/spaces/{owner}/{name}/restart",
	    "/api/spaces/alice/demo/restart", &m));
	assert_int_equal(m.n, 2);
	assert_string_equal(value(&m, "owner"), "alice");
	assert_string_equal(value(&m, "name"), "demo");
	assert_int_equal(m.end[1], strlen("/api/spaces/alice/demo"));
	web_match_release(&m);
	/* literals are whole segments; a part is one non-empty segment */
	assert_false(web_match_route("/api/spaces/{owner}/{name}/restart",
	    "/api/spaces/alice/demo/restarts", &m));
	assert_false(web_match_route("/api/spaces/{owner}/{name}", "/api/spaces/alice", &m));
	assert_false(web_match_route("/api/spaces/{owner}/{name}", "/api/spaces/alice/demo/", &m));
	assert_false(web_match_route("/api/spaces/{owner}/{name}", "/api/spaces//demo", &m));
	assert_false(web_match_route("/api/spaces/{owner}/{name}", "/api/spaces/a/b/c", &m));
	assert_false(web_match_route("/api/health", "/api/healthz", &m));
	assert_false(web_match_route("/api/health", "/api", &m));
	assert_true(web_match_route("/", "/", &m));
	assert_false(web_match_route("/", "/x", &m));
	assert_true(web_match_route("/spaces/{owner}/{name}/", "/spaces/a/b/", &m));
	web_match_release(&m);
	/* the rest: everything after, slashes and all, or nothing */
	assert_true(web_match_route("/x/{o}/tree/{rest*}", "/x/a/tree/main/src/app.py", &m));
	assert_string_equal(value(&m, "rest"), "main/src/app.py");
	web_match_release(&m);
	assert_true(web_match_route("/x/{o}/tree/{rest*}", "/x/a/tree", &m));
	assert_string_equal(value(&m, "rest"), "");
	web_match_release(&m);
	assert_true(web_match_route("/x/{o}/tree/{rest*}", "/x/a/tree/", &m));
	assert_string_equal(value(&m, "rest"), "");
	web_match_release(&m);
	assert_false(web_match_route("/x/{o}/tree/{rest*}", "/x/a/treehouse", &m));
	/* values stay as sent: decoding is the handler's */
	assert_true(web_match_route("/r/{rev}", "/r/refs%2Fpr%2F1", &m));
	assert_string_equal(value(&m, "rev"), "refs%2Fpr%2F1");
	web_match_release(&m);
}

static void
test_methods(void **state)
{
	assert_true(web_method_in("GET", "GET, HEAD"));
	assert_true(web_method_in("HEAD", "GET, HEAD"));
	assert_false(web_method_in("GE", "GET, HEAD"));
	assert_false(web_method_in("POST", "GET, HEAD"));
	assert_false(web_method_in("get", "GET"));
	assert_true(web_method_in("DELETE", "POST, DELETE"));
}

static void handler(web_call *c) { (void)c; }

static const web_route routes[] = {
	{ "GET, HEAD", "/s/{owner}/{name}/variables", handler, WEB_READ, 0 },
	{ "POST, DELETE", "/s/{owner}/{name}/variables", handler, WEB_WRITE, 0 },
	{ "GET, HEAD", "/s/{owner}/{name}/tree/{rest*}", handler, WEB_READ, 0 },
	{ "POST", "/s/{owner}/{name}/{what}", handler, WEB_WRITE, 0 },
};
static const web_router router = { routes, sizeof(routes) / sizeof(routes[0]), 1, 0 };

static void
test_find(void **state)
{
	const web_route *near, *r;
	char allow[128];
	web_match m;

	r = web_route_find(&router, "DELETE", "/s/a/b/variables", &m, &near, allow, sizeof(allow));
	assert_ptr_equal(r, &routes[1]);
	assert_ptr_equal(near, &routes[0]);
	assert_string_equal(value(&m, "name"), "b");
	web_match_release(&m);
	/* a wrong method: the routes of that path say what is allowed, each method once */
	r = web_route_find(&router, "PUT", "/s/a/b/variables", &m, &near, allow, sizeof(allow));
	assert_null(r);
	assert_ptr_equal(near, &routes[0]);
	assert_string_equal(allow, "GET, HEAD, POST, DELETE");
	assert_string_equal(value(&m, "owner"), "a");
	web_match_release(&m);
	r = web_route_find(&router, "DELETE", "/s/a/b/tree/main/x", &m, &near, allow, sizeof(allow));
	assert_null(r);
	assert_string_equal(allow, "GET, HEAD");
	web_match_release(&m);
	/* an unknown path */
	r = web_route_find(&router, "GET", "/s/a/b/c/d", &m, &near, allow, sizeof(allow));
	assert_null(r);
	assert_null(near);
	assert_string_equal(allow, "");
	assert_int_equal(m.n, 0);
	/* the first route that matches wins */
	r = web_route_find(&router, "POST", "/s/a/b/pause", &m, &near, allow, sizeof(allow));
	assert_ptr_equal(r, &routes[3]);
	assert_string_equal(value(&m, "what"), "pause");
	web_match_release(&m);
}

static void
test_access(void **state)
{
	/* access, signed in, admin, a space in the path, may write it → status */
	assert_int_equal(web_access_status(WEB_PUBLIC, 0, 0, 0, 0), 0);
	assert_int_equal(web_access_status(WEB_READ, 0, 0, 1, 0), 0);
	assert_int_equal(web_access_status(WEB_READ, 0, 0, 0, 0), 401);
	assert_int_equal(web_access_status(WEB_READ, 1, 0, 0, 0), 0);
	assert_int_equal(web_access_status(WEB_WRITE, 0, 0, 1, 0), 401);
	assert_int_equal(web_access_status(WEB_WRITE, 1, 0, 1, 0), 403);
	assert_int_equal(web_access_status(WEB_WRITE, 1, 0, 1, 1), 0);
	assert_int_equal(web_access_status(WEB_WRITE, 1, 0, 0, 0), 0);
	assert_int_equal(web_access_status(WEB_ADMIN, 0, 0, 1, 1), 401);
	assert_int_equal(web_access_status(WEB_ADMIN, 1, 0, 1, 1), 403);
	assert_int_equal(web_access_status(WEB_ADMIN, 1, 1, 0, 0), 0);
}

typedef struct expect {
	const char *method, *path;
	int found;          /* 0: 405 (or 404 when allow is "") */
	web_access access;
	const char *allow;
} expect;

static void
check(const web_router *rt, const expect *e)
{
	const web_route *near, *r;
	char allow[128];
	web_match m;

	r = web_route_find(rt, e->method, e->path, &m, &near, allow, sizeof(allow));
	if (e->found) {
		assert_non_null(r);
		if (r->access != e->access)
			fail_msg("%s %s: access %d, not %d", e->method, e->path, r->access, e->access);
	} else {
		assert_null(r);
		if (strcmp(allow, e->allow) != 0)
			fail_msg("%s %s: Allow \"%s\", not \"%s\"", e->method, e->path, allow, e->allow);
	}
	web_match_release(&m);
}

/* The README's API: who may call what, and the 405s. */
static void
test_api_table(void **state)
{
	static const expect api[] = {
		{ "GET", "/api/health", 1, WEB_PUBLIC, NULL },
		{ "POST", "/api/health", 0, 0, "GET, HEAD" },
		{ "GET", "/api/whoami-v2", 1, WEB_READ, NULL },
		{ "GET", "/api/settings/tokens", 1, WEB_READ, NULL },
		{ "POST", "/api/settings/tokens", 1, WEB_WRITE, NULL },
		{ "DELETE", "/api/settings/tokens/12", 1, WEB_WRITE, NULL },
		{ "GET", "/api/admin/users", 1, WEB_ADMIN, NULL },
		{ "POST", "/api/admin/users/bob", 1, WEB_ADMIN, NULL },
		{ "GET", "/api/repos/create", 0, 0, "POST" },
		{ "POST", "/api/repos/delete", 0, 0, "DELETE" },
		{ "POST", "/api/spaces", 0, 0, "GET, HEAD" },
		{ "GET", "/api/spaces/a/b", 1, WEB_READ, NULL },
		{ "POST", "/api/spaces/a/b", 0, 0, "GET, HEAD" },
		{ "DELETE", "/api/spaces/a/b/runtime", 0, 0, "GET, HEAD" },
		{ "GET", "/api/spaces/a/b/variables", 1, WEB_READ, NULL },
		{ "DELETE", "/api/spaces/a/b/variables", 1, WEB_WRITE, NULL },
		{ "GET", "/api/spaces/a/b/secrets", 1, WEB_WRITE, NULL },
		{ "PUT", "/api/spaces/a/b/secrets", 0, 0, "GET, HEAD, POST, DELETE" },
		{ "GET", "/api/spaces/a/b/egress", 1, WEB_READ, NULL },
		{ "POST", "/api/spaces/a/b/egress", 1, WEB_ADMIN, NULL },
		{ "GET", "/api/spaces/a/b/hardware", 0, 0, "POST" },
		{ "POST", "/api/spaces/a/b/restart", 1, WEB_WRITE, NULL },
		{ "GET", "/api/spaces/a/b/releases", 1, WEB_WRITE, NULL },
		{ "POST", "/api/spaces/a/b/duplicate", 1, WEB_READ, NULL },
		{ "DELETE", "/api/spaces/a/b/like", 1, WEB_READ, NULL },
		{ "GET", "/api/spaces/a/b/like", 0, 0, "POST, DELETE" },
		{ "POST", "/api/spaces/a/b/commit/main", 1, WEB_WRITE, NULL },
		{ "GET", "/api/spaces/a/b/commit/main", 0, 0, "POST" },
		{ "GET", "/api/spaces/a/b/tree/main/src", 1, WEB_READ, NULL },
		{ "HEAD", "/api/spaces/a/b/commits/main", 1, WEB_READ, NULL },
		{ "GET", "/metrics", 1, WEB_ADMIN, NULL },
		{ "GET", "/api/spaces/a/b/nope", 0, 0, "" },
		{ "POST", "/api/spaces/a/b/runtime/extra", 0, 0, "" },
		{ "GET", "/api", 0, 0, "" },
	};

	for (size_t i = 0; i < sizeof(api) / sizeof(api[0]); i++)
		check(&web_api_router, &api[i]);
}

/* Every route that changes a space (not GET/HEAD) needs its writer or an admin,
 * but duplicate and like, which anyone who can see the space may call. */
static void
test_api_changes_need_a_writer(void **state)
{
	for (size_t i = 0; i < web_api_router.n; i++) {
		const web_route *r = &web_api_router.routes[i];

		if (strstr(r->pattern, "{owner}") == NULL || web_method_in("GET", r->methods) ||
		    strstr(r->pattern, "/duplicate") != NULL || strstr(r->pattern, "/like") != NULL)
			continue;
		if (r->access != WEB_WRITE && r->access != WEB_ADMIN)
			fail_msg("%s %s may change a space without writing to it", r->methods, r->pattern);
	}
}

static void
test_hub_table(void **state)
{
	static const expect hub[] = {
		{ "GET", "/", 1, WEB_PUBLIC, NULL },
		{ "POST", "/", 0, 0, "GET, HEAD" },
		{ "DELETE", "/spaces", 0, 0, "GET, HEAD" },
		{ "GET", "/new", 1, WEB_READ, NULL },
		{ "GET", "/admin", 1, WEB_ADMIN, NULL },
		{ "POST", "/login", 1, WEB_PUBLIC, NULL },
		{ "GET", "/logout", 0, 0, "POST" },
		{ "GET", "/static/app.js", 1, WEB_PUBLIC, NULL },
		{ "GET", "/spaces/a/b", 1, WEB_READ, NULL },
		{ "GET", "/spaces/a/b/settings", 1, WEB_WRITE, NULL },
		{ "GET", "/spaces/a/b/resolve/main/README.md", 1, WEB_READ, NULL },
		{ "PUT", "/spaces/a/b/info/refs", 0, 0, "GET, HEAD" },
		{ "GET", "/spaces/a/b/git-upload-pack", 0, 0, "POST" },
		{ "POST", "/spaces/a/b.git/git-receive-pack", 1, WEB_READ, NULL },
		{ "POST", "/spaces/a/b/nope", 0, 0, "" },
		{ "GET", "/nope/deeper", 0, 0, "" },
		/* profiles: a name no literal path owns */
		{ "GET", "/alice", 1, WEB_PUBLIC, NULL },
		{ "GET", "/spaces/alice", 1, WEB_PUBLIC, NULL },
		{ "POST", "/alice", 0, 0, "GET, HEAD" },
	};

	for (size_t i = 0; i < sizeof(hub) / sizeof(hub[0]); i++)
		check(&web_hub_router, &hub[i]);
}

static void
test_range(void **state)
{
	uint64_t from = 99, to = 99;

	assert_int_equal(web_range_parse(NULL, 10, &from, &to), 0);
	assert_int_equal(web_range_parse("bytes=0-3", 10, &from, &to), 1);
	assert_true(from == 0 && to == 3);
	assert_int_equal(web_range_parse("bytes=5-", 10, &from, &to), 1);
	assert_true(from == 5 && to == 9);
	assert_int_equal(web_range_parse("bytes=-4", 10, &from, &to), 1);
	assert_true(from == 6 && to == 9);
	assert_int_equal(web_range_parse("bytes=-40", 10, &from, &to), 1);
	assert_true(from == 0 && to == 9);
	assert_int_equal(web_range_parse("BYTES=2-100", 10, &from, &to), 1);
	assert_true(from == 2 && to == 9);
	assert_int_equal(web_range_parse("bytes=10-", 10, &from, &to), -1);
	assert_int_equal(web_range_parse("bytes=-0", 10, &from, &to), -1);
	assert_int_equal(web_range_parse("bytes=0-0", 0, &from, &to), -1);
	/* not one range we understand: the whole file */
	assert_int_equal(web_range_parse("bytes=0-1,4-5", 10, &from, &to), 0);
	assert_int_equal(web_range_parse("bytes=5-2", 10, &from, &to), 0);
	assert_int_equal(web_range_parse("items=0-1", 10, &from, &to), 0);
	assert_int_equal(web_range_parse("bytes=x-1", 10, &from, &to), 0);
	assert_int_equal(web_range_parse("bytes=1-2junk", 10, &from, &to), 0);
}

static void
test_unescape_and_query(void **state)
{
	char *s;

	s = web_unescape("refs%2Fpr%2F1");
	assert_string_equal(s, "refs/pr/1");
	free(s);
	s = web_unescape("a+b%20c");
	assert_string_equal(s, "a+b c");
	free(s);
	assert_null(web_unescape("nul%00here"));
	s = web_query_get("limit=5&p=2&recursive=true", "p");
	assert_string_equal(s, "2");
	free(s);
	s = web_query_get("a=1&path=a%2Fb", "path");
	assert_string_equal(s, "a/b");
	free(s);
	assert_null(web_query_get("pp=1&xp=2", "p"));
	assert_null(web_query_get("", "p"));
	assert_null(web_query_get(NULL, "p"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_methods),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_access),
		cmocka_unit_test(test_api_table),
		cmocka_unit_test(test_api_changes_need_a_writer),
		cmocka_unit_test(test_hub_table),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_unescape_and_query),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
