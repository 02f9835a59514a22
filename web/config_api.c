/* config_api.c — a space's variables and secrets over the API (Hub shapes:
 * add_space_secret, delete_space_secret, add_space_variable,
 * get_space_variables, delete_space_variable):
 *
 *   GET    /api/spaces/O/N/variables   {KEY: {value, description, updatedAt}}  (readers)
 *   GET    /api/spaces/O/N/secrets     {KEY: {description, updatedAt}}         (writers)
 *   POST   .../{variables,secrets}     {"key","value","description"?}  create or replace
 *   DELETE .../{variables,secrets}     {"key"}
 *
 *   POST   /api/spaces/O/N/hardware    {"flavor"}  → the runtime JSON   (writers)
 *
 * A change restarts the app with the new environment or limits (the new instance
 * takes over once it answers). No answer carries a secret's value. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/hardware.h"
#include "orchestrator/secrets.h"
#include "orchestrator/space.h"
#include "web/web.h"

/* Optional string member: 0 (absent or null → *out NULL), -1 answered 400. */
static int
opt_string(http_exchange *x, json_t *body, const char *name, const char **out)
{
	json_t *v = json_object_get(body, name);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		web_json_error(x, 400, "\"%s\" must be a string", name);
		return -1;
	}
	/* the environment cannot carry NUL: "a\u0000b" would be cut */
	if (strlen(json_string_value(v)) != json_string_length(v)) {
		web_json_error(x, 400, "\"%s\" must not contain NUL characters", name);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

static int
error_status(int r)
{
	return r == -EINVAL ? 400 : r == -EEXIST ? 409 : r == -ENOENT ? 404 : 500;
}

/* POST and DELETE, once the body is in. ctx is the request path. */
static void
config_change(podium *p, http_exchange *x, json_t *body, const char *user, const char *ctx)
{
	const http_request *r = http_exchange_request(x);
	char owner[128], name[128], kind[16], err[512];
	const char *key, *value, *desc;
	int secret, del = strcmp(r->method, "DELETE") == 0, rc;
	space *s;

	if (sscanf(ctx, "/api/spaces/%127[^/]/%127[^/]/%15s", owner, name, kind) != 3 ||
	    (s = space_find(p, owner, name)) == NULL) {
		web_json_error(x, 404, "space %s/%s not found", owner, name);
		return;
	}
	secret = strcmp(kind, "secrets") == 0;
	if (opt_string(x, body, "key", &key) != 0 || opt_string(x, body, "value", &value) != 0 ||
	    opt_string(x, body, "description", &desc) != 0)
		return;
	if (key == NULL) {
		web_json_error(x, 400, "missing \"key\" (a string)");
		return;
	}
	if (del) {
		rc = space_config_delete(p, s, secret, key, err, sizeof(err));
	} else if (value == NULL) {
		web_json_error(x, 400, "missing \"value\" (a string)");
		return;
	} else {
		rc = space_config_set(p, s, secret, key, value, desc, err, sizeof(err));
	}
	if (rc != 0)
		web_json_error(x, error_status(rc), "%s", err);
	else
		web_json(x, 200, space_config_json(p, s, secret));
}

void
web_config_handle(podium *p, http_exchange *x, space *s, const char *user, const char *kind)
{
	const http_request *r = http_exchange_request(x);
	int secret = strcmp(kind, "secrets") == 0;
	int get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
	int change = strcmp(r->method, "POST") == 0 || strcmp(r->method, "DELETE") == 0;

	if (!get && !change) {
		web_json_error(x, 405, "use GET, POST or DELETE");
		return;
	}
	if (get && !secret) {
		web_json(x, 200, space_config_json(p, s, 0));
		return;
	}
	if (user == NULL) {
		web_json_error(x, 401, "authentication required: send Authorization: Bearer TOKEN");
		return;
	}
	if (!auth_may_write(user, space_owner(s))) {
		web_json_error(x, 403, "user %s may not %s the %s of %s/%s", user, get ? "list" : "change",
		    kind, space_owner(s), space_name(s));
		return;
	}
	if (get)
		web_json(x, 200, space_config_json(p, s, 1));
	else
		web_with_body(p, x, user, config_change, r->path);
}

static void
hardware_change(podium *p, http_exchange *x, json_t *body, const char *user, const char *ctx)
{
	char owner[128], name[128];
	const char *want;
	const flavor *f;
	space *s;

	if (sscanf(ctx, "/api/spaces/%127[^/]/%127[^/]/", owner, name) != 2 ||
	    (s = space_find(p, owner, name)) == NULL) {
		web_json_error(x, 404, "space %s/%s not found", owner, name);
		return;
	}
	if (opt_string(x, body, "flavor", &want) != 0)
		return;
	if (want == NULL) {
		web_json_error(x, 400, "missing \"flavor\" (a string): one of %s", flavor_names());
	} else if ((f = flavor_find(want)) == NULL) {
		web_json_error(x, 400, "unknown flavor \"%.64s\": use one of %s", want, flavor_names());
	} else if (f->admin_only && !auth_is_admin(user)) {
		web_json_error(x, 403, "flavor %s is reserved for the admin", f->name);
	} else if (space_set_flavor(s, f) != 0) {
		web_json_error(x, 500, "could not record the flavor");
	} else {
		web_json(x, 200, space_runtime_json(s));
	}
}

void
web_hardware_handle(podium *p, http_exchange *x, space *s, const char *user)
{
	const http_request *r = http_exchange_request(x);

	if (strcmp(r->method, "POST") != 0)
		web_json_error(x, 405, "use POST");
	else if (user == NULL)
		web_json_error(x, 401, "authentication required: send Authorization: Bearer TOKEN");
	else if (!auth_may_write(user, space_owner(s)))
		web_json_error(x, 403, "user %s may not change the hardware of %s/%s", user,
		    space_owner(s), space_name(s));
	else
		web_with_body(p, x, user, hardware_change, r->path);
}
