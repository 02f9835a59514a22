/* api.c — the JSON API on the hub host, in Hugging Face Hub shapes. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/host/budget.h"
#include "common/log.h"
#include "orchestrator/host/net.h"
#include "web/repo.h"
#include "orchestrator/space.h"
#include "orchestrator/resources.h"
#include "orchestrator/host/usage.h"
#include "common/util.h"
#include "web/web.h"

#define API_MAX_BODY (1 << 20)

static int
json_answer(http_exchange *x, int status, json_t *body, const http_header *h, size_t nh)
{
	char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
	int r;

	json_decref(body);
	if (text == NULL) {
		/* json_pack refuses strings that are not UTF-8: never a crash */
		static const char fallback[] = "{\"error\":\"internal error: the answer could not be encoded\"}";

		log_msg(LOG_ERROR, "web: a JSON answer could not be encoded (status %d)", status);
		return http_respond(x, 500, "application/json", NULL, 0, fallback, sizeof(fallback) - 1);
	}
	r = http_respond(x, status, "application/json", h, nh, text, strlen(text));
	free(text);
	return r;
}

int
web_json(http_exchange *x, int status, json_t *body)
{
	return json_answer(x, status, body, NULL, 0);
}

int
web_json_error(http_exchange *x, int status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* messages quote what the client sent (paths, names): bytes that are not
	 * UTF-8, or a character cut at the end, become '?' */
	utf8_scrub(msg);
	return web_json(x, status, json_pack("{s:s}", "error", msg));
}

static int
method_in(const char *method, const char *allow)
{
	size_t n = strlen(method);

	for (const char *p = allow; *p != '\0'; p += strspn(p, ", ")) {
		size_t len = strcspn(p, ", ");

		if (len == n && strncmp(p, method, n) == 0)
			return 1;
		p += len;
	}
	return 0;
}

int
web_allow(http_exchange *x, const char *allow, int json)
{
	const http_request *r = http_exchange_request(x);
	http_header h = { "Allow", allow };
	char msg[128];

	if (method_in(r->method, allow))
		return 1;
	snprintf(msg, sizeof(msg), "method %.16s not allowed here: use %s", r->method, allow);
	utf8_scrub(msg);
	if (json)
		json_answer(x, 405, json_pack("{s:s}", "error", msg), &h, 1);
	else
		http_respond_error_with(x, 405, msg, &h, 1);
	return 0;
}

/* A request whose body is collected before it is handled (API bodies are small). */
typedef struct api_req {
	podium *p;
	http_exchange *x;
	char *body;
	size_t len;
	int too_big;
	void (*handle)(struct api_req *a, json_t *body, const char *user);
	char *user;
	web_body_handler handler;  /* web_with_body's */
	char *ctx;
} api_req;

static void
api_req_free(api_req *a)
{
	free(a->body);
	free(a->user);
	free(a->ctx);
	free(a);
}

static void
api_body_data(void *arg, const char *data, size_t len)
{
	api_req *a = arg;

	if (a->too_big || a->len + len > API_MAX_BODY) {
		a->too_big = 1;
		return;
	}
	a->body = xrealloc(a->body, a->len + len + 1);
	memcpy(a->body + a->len, data, len);
	a->len += len;
	a->body[a->len] = '\0';
}

static void
api_body_end(void *arg)
{
	api_req *a = arg;
	json_error_t jerr;
	json_t *j;

	if (a->too_big) {
		web_json_error(a->x, 413, "request body larger than %d bytes", API_MAX_BODY);
	} else if (a->len == 0) {
		web_json_error(a->x, 400, "request body must be a JSON object");
	} else if ((j = json_loadb(a->body, a->len, 0, &jerr)) == NULL) {
		web_json_error(a->x, 400, "invalid JSON at line %d column %d: %s", jerr.line,
		    jerr.column, jerr.text);
	} else if (!json_is_object(j)) {
		json_decref(j);
		web_json_error(a->x, 400, "request body must be a JSON object");
	} else {
		a->handle(a, j, a->user);
		json_decref(j);
	}
	api_req_free(a);
}

static void
api_body_abort(void *arg)
{
	api_req_free(arg);
}

/* A mutating call: 401 without a user (then NULL), else handle(body) once it is read. */
static api_req *
api_with_body(podium *p, http_exchange *x, const char *user,
    void (*handle)(api_req *a, json_t *body, const char *user))
{
	api_req *a;
	http_body_cb cb = { api_body_data, api_body_end, api_body_abort, NULL, NULL };

	if (user == NULL) {
		web_json_error(x, 401, "authentication required: send Authorization: Bearer TOKEN");
		return NULL;
	}
	a = xcalloc(1, sizeof(*a));
	cb.arg = a;
	a->p = p;
	a->x = x;
	a->handle = handle;
	a->user = xstrdup(user);
	http_exchange_set_body_cb(x, &cb);
	return a;
}

static void
api_body_to_handler(api_req *a, json_t *body, const char *user)
{
	a->handler(a->p, a->x, body, user, a->ctx);
}

void
web_with_body(podium *p, http_exchange *x, const char *user, web_body_handler h, const char *ctx)
{
	api_req *a = api_with_body(p, x, user, api_body_to_handler);

	if (a == NULL)
		return;
	a->handler = h;
	a->ctx = xstrdup(ctx);
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

	repo_space_fields(p, s, info);
	j = json_pack("{s:s++++, s:s++, s:O}",
	    "url", hub, "/spaces/", space_owner(s), "/", space_name(s),
	    "name", space_owner(s), "/", space_name(s), "id", json_object_get(info, "_id"));
	json_decref(info);
	free(hub);
	return j;
}

static void
api_repos_create(api_req *a, json_t *body, const char *user)
{
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
			web_json_error(a->x, 400, "\"%s\" must be a string", *k);
			return;
		}
	}
	if (repo_target(a->x, body, user, owner, name, sizeof(owner)) != 0)
		return;
	if (repo_private(a->x, body, &private) != 0)
		return;
	if (files != NULL && !json_is_null(files) && !json_is_array(files)) {
		web_json_error(a->x, 400, "\"files\" must be an array of {path, content, encoding}");
		return;
	}
	if (!auth_may_write(user, owner)) {
		web_json_error(a->x, 403, "user %s may not create spaces under %s", user, owner);
		return;
	}
	if (from != NULL && !json_is_null(from)) {
		/* a space cloned from a public git repository: clone.c answers */
		if (!json_is_string(from) || json_array_size(files) > 0)
			web_json_error(a->x, 400, "\"from\" must be a git URL, without \"files\"");
		else
			repo_clone_start(a->p, a->x, owner, name, sdk != NULL ? sdk : "static", private,
			    json_string_value(from));
		return;
	}
	r = space_create(a->p, owner, name, sdk != NULL ? sdk : "static", private, &s,
	    err, sizeof(err));
	if (r == -EINVAL) {
		web_json_error(a->x, 400, "%s", err);
	} else if (r == -EEXIST) {
		web_json_error(a->x, 409, "%s", err);
	} else if (r != 0) {
		web_json_error(a->x, 500, "%s", err);
	} else if (json_array_size(files) > 0 &&
	    (r = repo_commit_files(a->p, s, user, files, err, sizeof(err))) != 0) {
		/* the Hub creates a repository with its files or not at all */
		space_delete(a->p, s);
		web_json_error(a->x, r, "%s", err);
	} else {
		web_json(a->x, 200, web_repo_created(a->p, s));
	}
}

static void
api_repos_delete(api_req *a, json_t *body, const char *user)
{
	char owner[256], name[256];
	space *s;

	if (repo_target(a->x, body, user, owner, name, sizeof(owner)) != 0)
		return;
	s = space_find(a->p, owner, name);
	if (s == NULL || (!auth_may_write(user, space_owner(s)) && space_is_private(s))) {
		web_json_error(a->x, 404, "space %s/%s not found", owner, name);
		return;
	}
	if (!auth_may_write(user, space_owner(s))) {
		web_json_error(a->x, 403, "user %s may not delete %s/%s", user, owner, name);
		return;
	}
	space_delete(a->p, s);
	web_json(a->x, 200, json_object());
}

/* May this (possibly anonymous) user read s? */
static int
may_read(const char *user, const space *s)
{
	return !space_is_private(s) || auth_may_write(user, space_owner(s));
}

static json_t *
web_spaces_array(podium *p, const char *user)
{
	json_t *arr = json_array();

	for (space *s = p->spaces; s != NULL; s = space_next(s))
		if (may_read(user, s)) {
			json_t *j = space_json(p, s, 0);

			repo_space_fields(p, s, j);
			json_array_append_new(arr, j);
		}
	return arr;
}

static void
api_whoami(http_exchange *x, const char *user, int write)
{
	if (user == NULL)
		web_json_error(x, 401, "authentication required: send Authorization: Bearer TOKEN");
	else
		web_json(x, 200, json_pack("{s:s, s:s, s:s, s:[], s:{s:s, s:{s:s}}, s:b}",
		    "type", "user", "name", user, "fullname", user, "orgs",
		    "auth", "type", "access_token", "accessToken", "role", write ? "write" : "read",
		    "isAdmin", auth_is_admin(user)));
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

static json_t *
space_json_usage(podium *p, const space *s)
{
	json_t *j = space_json(p, s, 1);

	runtime_usage(s, json_object_get(j, "runtime"));
	return j;
}

/* POST /api/spaces/{o}/{n}/egress {"enabled": bool}: the per-space egress switch,
 * admin only; it applies from the space's next build or app start. */
static void
api_egress_set(api_req *a, json_t *body, const char *user)
{
	const char *path = http_exchange_request(a->x)->path;
	char owner[128], name[128];
	json_t *en = json_object_get(body, "enabled");
	space *s;

	if (sscanf(path, "/api/spaces/%127[^/]/%127[^/]/egress", owner, name) != 2 ||
	    (s = space_find(a->p, owner, name)) == NULL)
		web_json_error(a->x, 404, "space not found");
	else if (!json_is_boolean(en))
		web_json_error(a->x, 400, "body must be {\"enabled\": true|false}");
	else if (space_set_egress(s, json_is_true(en)) != 0)
		web_json_error(a->x, 500, "cannot save the egress setting");
	else
		web_json(a->x, 200, space_egress_json(s, 1));
}

static void
api_egress_route(podium *p, http_exchange *x, const char *user, space *s, int is_get)
{
	if (is_get)
		web_json(x, 200, space_egress_json(s, 1));
	else if (user != NULL && !auth_is_admin(user))
		web_json_error(x, 403, "only an admin may change a space's egress");
	else
		api_with_body(p, x, user, api_egress_set);   /* 401 without a user */
}

void
web_api_handle(podium *p, http_exchange *x)
{
	const http_request *r = http_exchange_request(x);
	const char *path = r->path;
	auth_info ai;
	char *user = auth_request_user(p, r, &ai);
	char owner[128], name[128], rest[128];

	if (ai.presented && user == NULL && strcmp(path, "/api/health") != 0) {
		web_json_error(x, 401, "invalid credentials: the token is not valid");
		goto done;
	}
	if (user != NULL && !ai.write && strcmp(r->method, "GET") != 0 &&
	    strcmp(r->method, "HEAD") != 0) {
		web_json_error(x, 403, "this token is read-only: it may not change anything");
		goto done;
	}
	/* Each known path checks its methods (405 with Allow); any other path is 404. */
	if (strcmp(path, "/api/health") == 0) {
		if (web_allow(x, "GET, HEAD", 1)) {
			json_t *h = json_pack("{s:s}", "status", "ok");
			/* host resources (budget.h) for signed-in callers only */
			if (user != NULL)
				json_object_set_new(h, "resources", budget_json());
			web_json(x, 200, h);
		}
	} else if (strcmp(path, "/api/session") == 0) {
		if (web_allow(x, "GET, HEAD", 1))
			web_json(x, 200, session_json(p, r, user));
	} else if (strncmp(path, "/api/settings/tokens", 20) == 0 && (path[20] == '\0' ||
	    path[20] == '/')) {
		web_tokens_api(p, x, user, path + 20);
	} else if (strncmp(path, "/api/admin/users", 16) == 0 && (path[16] == '\0' ||
	    path[16] == '/')) {
		web_users_api(p, x, user, path + 16);
	} else if (strcmp(path, "/api/whoami-v2") == 0) {
		if (web_allow(x, "GET, HEAD", 1))
			api_whoami(x, user, ai.write);
	} else if (strcmp(path, "/api/repos/create") == 0) {
		if (web_allow(x, "POST", 1))
			api_with_body(p, x, user, api_repos_create);
	} else if (strcmp(path, "/api/repos/delete") == 0) {
		if (web_allow(x, "DELETE", 1))
			api_with_body(p, x, user, api_repos_delete);
	} else if (strcmp(path, "/api/spaces") == 0) {
		if (web_allow(x, "GET, HEAD", 1))
			web_json(x, 200, web_spaces_array(p, user));
	} else if (repo_api_route(p, x, user)) {
		/* the Hub's commit API and repository reads: commit.c, repo_read.c */
	} else if (sscanf(path, "/api/spaces/%127[^/]/%127[^/]%127s", owner, name, rest) >= 2) {
		space *s = space_find(p, owner, name);
		int n = sscanf(path, "/api/spaces/%127[^/]/%127[^/]%127s", owner, name, rest);
		if (n == 2)
			rest[0] = '\0';
		if (s == NULL || !may_read(user, s))
			web_json_error(x, 404, "space %s/%s not found", owner, name);
		else if (web_lifecycle_api(p, x, s, rest, user))
			; /* answered */
		else if (strcmp(rest, "/secrets") == 0 || strcmp(rest, "/variables") == 0)
			web_config_handle(p, x, s, user, rest + 1);
		else if (strcmp(rest, "/hardware") == 0)
			web_hardware_handle(p, x, s, user);
		else if (strcmp(rest, "/egress") == 0) {
			if (web_allow(x, "GET, HEAD, POST", 1))
				api_egress_route(p, x, user, s, strcmp(r->method, "POST") != 0);
		} else if (rest[0] == '\0') {
			if (web_allow(x, "GET, HEAD", 1))
				web_json(x, 200, space_json_usage(p, s));
		} else if (strcmp(rest, "/runtime") == 0) {
			if (web_allow(x, "GET, HEAD", 1))
				web_json(x, 200, runtime_usage(s, space_runtime_json(s)));
		} else if (strcmp(rest, "/logs/build") == 0) {
			if (web_allow(x, "GET, HEAD", 1))
				web_logs_stream(p, x, s, 1);
		} else if (strcmp(rest, "/logs/run") == 0) {
			if (web_allow(x, "GET, HEAD", 1))
				web_logs_stream(p, x, s, 0);
		} else
			web_json_error(x, 404, "no such endpoint: %s", path);
	} else {
		web_json_error(x, 404, "no such endpoint: %s", path);
	}
done:
	free(user);
}
