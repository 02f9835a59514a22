/* config_api.c — a space's variables and secrets over the API (Hub shapes:
 * add_space_secret, delete_space_secret, add_space_variable,
 * get_space_variables, delete_space_variable):
 *
 *   GET    /api/spaces/O/N/variables   {KEY: {value, description, updatedAt}}  (readers)
 *   GET    /api/spaces/O/N/secrets     {KEY: {description, updatedAt}}         (writers)
 *   POST   .../{variables,secrets}     {"key","value","description"?}  create or replace
 *   DELETE .../{variables,secrets}     {"key"}
 *
 *   POST   /api/spaces/O/N/hardware    {"flavor", "sleepTimeSeconds"?}  → the runtime JSON
 *                                                                      (writers)
 *
 * Who may call which is the route table's (api.c). A change restarts the app
 * with the new environment or limits (the new instance takes over once it
 * answers). No answer carries a secret's value. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/hardware.h"
#include "orchestrator/lifecycle.h"
#include "orchestrator/secrets.h"
#include "orchestrator/space.h"
#include "web/web_int.h"

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

/* POST and DELETE of a secret (secret) or a variable, once the body is in. */
static void
config_change(web_call *c, json_t *body, int secret)
{
	const char *key, *value, *desc;
	char err[512];
	int rc;

	if (opt_string(c->x, body, "key", &key) != 0 || opt_string(c->x, body, "value", &value) != 0 ||
	    opt_string(c->x, body, "description", &desc) != 0)
		return;
	if (key == NULL) {
		web_json_error(c->x, 400, "missing \"key\" (a string)");
		return;
	}
	if (strcmp(c->r->method, "DELETE") == 0) {
		rc = space_config_delete(c->p, c->s, secret, key, err, sizeof(err));
	} else if (value == NULL) {
		web_json_error(c->x, 400, "missing \"value\" (a string)");
		return;
	} else {
		rc = space_config_set(c->p, c->s, secret, key, value, desc, err, sizeof(err));
	}
	if (rc != 0)
		web_json_error(c->x, error_status(rc), "%s", err);
	else
		web_json(c->x, 200, space_config_json(c->p, c->s, secret));
}

static void
variables_body(web_call *c, json_t *body)
{
	config_change(c, body, 0);
}

static void
secrets_body(web_call *c, json_t *body)
{
	config_change(c, body, 1);
}

void
web_variables_list(web_call *c)
{
	web_json(c->x, 200, space_config_json(c->p, c->s, 0));
}

void
web_variables_change(web_call *c)
{
	web_with_body(c, variables_body);
}

void
web_secrets_list(web_call *c)
{
	web_json(c->x, 200, space_config_json(c->p, c->s, 1));
}

void
web_secrets_change(web_call *c)
{
	web_with_body(c, secrets_body);
}

static void
hardware_body(web_call *c, json_t *body)
{
	json_t *sleep = json_object_get(body, "sleepTimeSeconds");
	long long seconds = 0;
	const char *want;
	const flavor *f;
	char err[256];

	/* request_space_hardware(..., sleep_time=) sends both: both checked, then both set */
	if (opt_string(c->x, body, "flavor", &want) != 0 || (sleep != NULL && !json_is_null(sleep) &&
	    web_sleep_seconds(c->x, sleep, "sleepTimeSeconds", &seconds) != 0))
		return;
	if (want == NULL) {
		web_json_error(c->x, 400, "missing \"flavor\" (a string): one of %s", flavor_names());
	} else if ((f = flavor_find(want)) == NULL) {
		web_json_error(c->x, 400, "unknown flavor \"%.64s\": use one of %s", want, flavor_names());
	} else if (f->admin_only && !auth_is_admin(c->user)) {
		web_json_error(c->x, 403, "flavor %s is reserved for the admin", f->name);
	} else if (space_set_flavor(c->s, f) != 0) {
		web_json_error(c->x, 500, "could not record the flavor");
	} else if (seconds != 0 && space_set_sleep_time(c->s, seconds, err, sizeof(err)) != 0) {
		web_json_error(c->x, 400, "%s", err);
	} else {
		web_json(c->x, 200, space_runtime_json(c->s));
	}
}

void
web_hardware_set(web_call *c)
{
	web_with_body(c, hardware_body);
}
