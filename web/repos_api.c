/* repos_api.c — repositories made and removed the Hub's way:
 *
 *   POST   /api/repos/create {"name","organization"?,"type":"space","sdk", visibility,
 *                             hardware, storageTier, sleepTimeSeconds, secrets, variables,
 *                             "files"?, "from"?}        → {"url","name","id"}; 409 {"error","url"}
 *   DELETE /api/repos/delete {"name","organization"?,"type":"space"}
 *
 * and the space options repos/create and duplicate share (huggingface_hub's
 * create_repo(space_hardware=, space_storage=, ...) and duplicate_space(hardware=,
 * ...)): every one is checked before anything is made, then applied to the new
 * space as the per-space routes would, before its first build.
 *
 * Only spaces live here: a request without "type" means a model on the Hub, so
 * repos/create refuses it (400) and repos/delete finds no such repository (404
 * RepoNotFound), never the space of that name. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "orchestrator/hardware.h"
#include "orchestrator/lifecycle.h"
#include "orchestrator/secrets.h"
#include "orchestrator/space.h"
#include "web/web_int.h"

/* "space", or the Hub's name of what the body asks for: "model" when "type" is
 * absent (hf_api.py create_repo sends none for a model). */
static const char *
repo_type(json_t *body)
{
	const char *type = json_string_value(json_object_get(body, "type"));

	return type != NULL ? type : "model";
}

/* Reads "name" (maybe "owner/name") and "organization" of a repos request body. */
static int
repo_target(http_exchange *x, json_t *body, const char *user, char *owner, char *name, size_t n)
{
	const char *nm = json_string_value(json_object_get(body, "name"));
	const char *org = json_string_value(json_object_get(body, "organization"));
	const char *slash;

	if (nm == NULL) {
		web_json_error(x, 400, "missing \"name\" (a string)");
		return -1;
	}
	if (json_object_get(body, "organization") != NULL &&
	    !json_is_null(json_object_get(body, "organization")) && org == NULL) {
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

/* ---- the space options ---- */

/* "private" (a boolean, huggingface_hub before 0.25) and "visibility" ("public",
 * "private"; both may be given when they agree). *private: -1 when neither is. */
static int
opts_private(http_exchange *x, json_t *body, int *private)
{
	json_t *priv = json_object_get(body, "private");
	json_t *vis = json_object_get(body, "visibility");
	const char *v = json_string_value(vis);

	*private = -1;
	if (priv != NULL && !json_is_boolean(priv) && !json_is_null(priv)) {
		web_json_error(x, 400, "\"private\" must be true or false");
		return -1;
	}
	if (v != NULL && strcmp(v, "protected") == 0) {
		web_json_error(x, 400,
		    "\"visibility\": \"protected\" is not supported here: use "
		    "\"public\" or \"private\"");
		return -1;
	}
	if (vis != NULL && !json_is_null(vis) &&
	    (v == NULL || (strcmp(v, "public") != 0 && strcmp(v, "private") != 0))) {
		web_json_error(x, 400, "\"visibility\" must be \"public\" or \"private\"");
		return -1;
	}
	if (v != NULL && json_is_boolean(priv) &&
	    json_is_true(priv) != (strcmp(v, "private") == 0)) {
		web_json_error(x, 400, "\"private\": %s contradicts \"visibility\": \"%s\"",
		    json_is_true(priv) ? "true" : "false", v);
		return -1;
	}
	if (v != NULL)
		*private = strcmp(v, "private") == 0;
	else if (json_is_boolean(priv))
		*private = json_is_true(priv);
	return 0;
}

/* One of "secrets" / "variables": [{"key","value","description"?}], each entry as
 * the per-space routes take it, no key twice (in both lists either). */
static int
opts_entries(
    http_exchange *x, json_t *body, const char *field, int secret, json_t *seen, size_t *bytes)
{
	json_t *list = json_object_get(body, field), *e;
	char err[512];
	size_t i;

	if (list == NULL || json_is_null(list))
		return 0;
	if (!json_is_array(list)) {
		web_json_error(x, 400,
		    "\"%s\" must be a list of {\"key\", \"value\", \"description\"?}", field);
		return -1;
	}
	json_array_foreach(list, i, e) {
		json_t *k = json_object_get(e, "key"), *v = json_object_get(e, "value");
		json_t *d = json_object_get(e, "description");
		const char *key = json_string_value(k);

		if (key == NULL || !json_is_string(v) ||
		    (d != NULL && !json_is_string(d) && !json_is_null(d)) ||
		    strlen(key) != json_string_length(k) ||
		    strlen(json_string_value(v)) != json_string_length(v)) {
			web_json_error(x, 400,
			    "%s[%zu] must be {\"key\": string, \"value\": string, "
			    "\"description\"?: string}, without NUL characters",
			    field, i);
			return -1;
		}
		if (space_config_check(secret, key, json_string_value(v), json_string_value(d), err,
		        sizeof(err)) != 0) {
			web_json_error(x, 400, "%s[%zu]: %s", field, i, err);
			return -1;
		}
		if (json_object_get(seen, key) != NULL) {
			web_json_error(x, 400,
			    "%s[%zu]: key %s is given twice (a key is either a "
			    "variable or a secret)",
			    field, i, key);
			return -1;
		}
		json_object_set_new(seen, key, json_true());
		*bytes += strlen(key) + json_string_length(v);
	}
	return 0;
}

static int
opts_unsupported(http_exchange *x, json_t *body)
{
	static const char *const keys[] = { "volumes", "template", "resourceGroupId", NULL };

	for (int i = 0; keys[i] != NULL; i++) {
		json_t *v = json_object_get(body, keys[i]);

		if (v != NULL && !json_is_null(v)) {
			web_json_error(x, 400, "\"%s\" is not supported on podium", keys[i]);
			return -1;
		}
	}
	return 0;
}

/* "hardware", "storageTier", "sleepTimeSeconds". */
static int
opts_runtime(web_call *c, json_t *body, web_space_opts *o)
{
	json_t *hw = json_object_get(body, "hardware"),
	       *tier = json_object_get(body, "storageTier");
	json_t *sleep = json_object_get(body, "sleepTimeSeconds");

	if (hw != NULL && !json_is_null(hw)) {
		o->flavor = json_is_string(hw) ? flavor_find(json_string_value(hw)) : NULL;
		if (o->flavor == NULL) {
			web_json_error(c->x, 400, "\"hardware\": unknown flavor: use one of %s",
			    flavor_names());
			return -1;
		}
		if (o->flavor->admin_only && !auth_is_admin(c->user)) {
			web_json_error(
			    c->x, 403, "flavor %s is reserved for the admin", o->flavor->name);
			return -1;
		}
	}
	if (tier != NULL && !json_is_null(tier)) {
		o->tier = json_is_string(tier) && storage_tier_find(json_string_value(tier)) != NULL
		    ? json_string_value(tier)
		    : NULL;
		if (o->tier == NULL) {
			web_json_error(c->x, 400,
			    "\"storageTier\": unknown storage tier: use one of %s",
			    storage_tier_names());
			return -1;
		}
	}
	if (sleep != NULL && !json_is_null(sleep))
		return web_sleep_seconds(c->x, sleep, "sleepTimeSeconds", &o->sleep);
	return 0;
}

int
web_sleep_seconds(http_exchange *x, json_t *v, const char *field, long long *out)
{
	long long n = json_integer_value(v);

	if (!json_is_integer(v) || (n != -1 && (n < 1 || n > LIFECYCLE_MAX_SLEEP))) {
		web_json_error(x, 400, "\"%s\" must be -1 (never) or an integer from 1 to %lld",
		    field, LIFECYCLE_MAX_SLEEP);
		return -1;
	}
	*out = n;
	return 0;
}

int
web_space_opts_read(web_call *c, json_t *body, web_space_opts *o)
{
	json_t *seen = json_object();
	size_t bytes = 0;
	int r;

	memset(o, 0, sizeof(*o));
	r = opts_private(c->x, body, &o->private) != 0 || opts_unsupported(c->x, body) != 0 ||
	        opts_runtime(c, body, o) != 0 ||
	        opts_entries(c->x, body, "variables", 0, seen, &bytes) != 0 ||
	        opts_entries(c->x, body, "secrets", 1, seen, &bytes) != 0
	    ? -1
	    : 0;
	json_decref(seen);
	if (r == 0 && bytes > CONFIG_SPACE_MAX) {
		web_json_error(c->x, 400, "variables and secrets would exceed %d bytes in total",
		    CONFIG_SPACE_MAX);
		r = -1;
	}
	if (r == 0) {
		o->variables = json_object_get(body, "variables");
		o->secrets = json_object_get(body, "secrets");
	}
	return r;
}

static int
opts_apply_entries(podium *p, space *s, json_t *list, int secret, char *err, size_t errlen)
{
	json_t *e;
	size_t i;
	int r;

	json_array_foreach(list, i, e) {
		r = space_config_set(p, s, secret, json_string_value(json_object_get(e, "key")),
		    json_string_value(json_object_get(e, "value")),
		    json_string_value(json_object_get(e, "description")), err, errlen);
		if (r != 0)
			return r;
	}
	return 0;
}

int
web_space_opts_apply(podium *p, space *s, const web_space_opts *o, char *err, size_t errlen)
{
	int r = 0;

	if (o->flavor != NULL && space_set_flavor(s, o->flavor) != 0) {
		snprintf(err, errlen, "could not record the flavor");
		return -EIO;
	}
	if (o->tier != NULL && (r = space_set_storage(s, o->tier, err, errlen)) < 0)
		return r;
	if (o->sleep != 0 && (r = space_set_sleep_time(s, o->sleep, err, errlen)) != 0)
		return r;
	if ((r = opts_apply_entries(p, s, o->variables, 0, err, errlen)) != 0)
		return r;
	return opts_apply_entries(p, s, o->secrets, 1, err, errlen);
}

char *
web_user_email(podium *p, const char *user)
{
	return xasprintf("%s@users.noreply.%s", user, p->domain);
}

int
web_status_of(int r)
{
	return r == -EINVAL ? 400
	    : r == -EEXIST  ? 409
	    : r == -ENOENT  ? 404
	    : r == -EPERM   ? 403
	    : r == -EDQUOT  ? 403 /* the owner's cap: limits.spaces_per_user */
	                    : 500;
}

/* ---- answers ---- */

json_t *
web_repo_created(podium *p, http_exchange *x, space *s)
{
	char *hub = web_hub_base(p, x);
	json_t *info = space_json(p, s, 0), *j;

	web_space_fields(p, s, info);
	j = json_pack("{s:s++++, s:s++, s:O}", "url", hub, "/spaces/", space_owner(s), "/",
	    space_name(s), "name", space_owner(s), "/", space_name(s), "id",
	    json_object_get(info, "_id"));
	json_decref(info);
	free(hub);
	return j;
}

void
web_repo_conflict(podium *p, http_exchange *x, const char *owner, const char *name, const char *msg)
{
	/* create_repo(exist_ok=True) and duplicate_space(exist_ok=True) read the url of
	 * the one that is there from the 409 (not when another space holds its host) */
	space *s = space_find(p, owner, name);
	char *hub = web_hub_base(p, x);
	json_t *j = json_pack("{s:s}", "error", msg);

	if (s != NULL)
		json_object_set_new(j, "url",
		    json_pack("s++++", hub, "/spaces/", space_owner(s), "/", space_name(s)));
	free(hub);
	web_json(x, 409, j);
}

/* ---- repos/create ---- */

static int
create_checks(web_call *c, json_t *body, char *owner, char *name, size_t n)
{
	const char *type = repo_type(body);

	for (const char *const *k = (const char *const[]){ "sdk", "space_sdk", "type", NULL };
	     *k != NULL; k++) {
		json_t *v = json_object_get(body, *k);

		if (v != NULL && !json_is_string(v) && !json_is_null(v)) {
			web_json_error(c->x, 400, "\"%s\" must be a string", *k);
			return -1;
		}
	}
	if (strcmp(type, "space") != 0) {
		web_json_error(c->x, 400,
		    "type \"%s\"%s is not supported: podium hosts spaces only "
		    "(repo_type=\"space\")",
		    type,
		    json_object_get(body, "type") == NULL ? " (what an absent \"type\" means)"
		                                          : "");
		return -1;
	}
	if (repo_target(c->x, body, c->user, owner, name, n) != 0)
		return -1;
	if (!auth_may_write(c->user, owner)) {
		web_json_error(c->x, 403, "user %s may not create spaces under %s", c->user, owner);
		return -1;
	}
	return 0;
}

static void
repos_create_body(web_call *c, json_t *body)
{
	char owner[256], name[256], err[512];
	const char *sdk = json_string_value(json_object_get(body, "sdk"));
	json_t *files = json_object_get(body, "files"), *from = json_object_get(body, "from");
	web_space_opts o;
	space *s;
	int r, status;

	if (sdk == NULL)
		sdk = json_string_value(json_object_get(body, "space_sdk"));
	if (create_checks(c, body, owner, name, sizeof(owner)) != 0 ||
	    web_space_opts_read(c, body, &o) != 0)
		return;
	if (files != NULL && !json_is_null(files) && !json_is_array(files)) {
		web_json_error(
		    c->x, 400, "\"files\" must be an array of {path, content, encoding}");
		return;
	}
	if (from != NULL && !json_is_null(from)) {
		/* a space cloned from a public git repository: clone.c answers */
		if (!json_is_string(from) || json_array_size(files) > 0)
			web_json_error(c->x, 400, "\"from\" must be a git URL, without \"files\"");
		else
			web_clone_start(c, owner, name, sdk != NULL ? sdk : "static", &o,
			    json_string_value(from));
		return;
	}
	r = space_create(
	    c->p, owner, name, sdk != NULL ? sdk : "static", o.private == 1, &s, err, sizeof(err));
	if (r == -EEXIST) {
		web_repo_conflict(c->p, c->x, owner, name, err);
		return;
	}
	if (r != 0) {
		web_json_error(c->x, web_status_of(r), "%s", err);
		return;
	}
	/* the options before the files: the first build sees them */
	r = web_space_opts_apply(c->p, s, &o, err, sizeof(err));
	status = r != 0 ? web_status_of(r) : 0;
	if (status == 0 && json_array_size(files) > 0)
		status = web_commit_files(c->p, s, c->user, files, err, sizeof(err));
	if (status != 0) {
		/* the Hub creates a repository with all it asked for or not at all */
		space_delete(c->p, s, NULL, 0);
		web_json_error(c->x, status, "%s", err);
		return;
	}
	web_json(c->x, 200, web_repo_created(c->p, c->x, s));
}

void
web_repos_create(web_call *c)
{
	web_with_body(c, repos_create_body);
}

/* ---- repos/delete ---- */

static void
repos_delete_body(web_call *c, json_t *body)
{
	const char *type = repo_type(body);
	char owner[256], name[256], err[768];
	space *s;
	int r;

	if (repo_target(c->x, body, c->user, owner, name, sizeof(owner)) != 0)
		return;
	if (strcmp(type, "space") != 0) {
		/* delete_repo("o/n") means the model o/n: there is none, whatever spaces exist */
		web_not_found(c->x, "RepoNotFound",
		    "%s %s/%s not found: podium hosts spaces only "
		    "(repo_type=\"space\")",
		    type, owner, name);
		return;
	}
	s = space_find(c->p, owner, name);
	if (s == NULL || !web_may_read(c->user, s)) {
		web_not_found(c->x, "RepoNotFound", "space %s/%s not found", owner, name);
		return;
	}
	if (!auth_may_write(c->user, space_owner(s))) {
		web_json_error(c->x, 403, "user %s may not delete %s/%s", c->user, owner, name);
		return;
	}
	if ((r = space_delete(c->p, s, err, sizeof(err))) != 0) {
		web_json_error(c->x, 500, "%s", err);
		return;
	}
	web_json(c->x, 200, json_object());
}

void
web_repos_delete(web_call *c)
{
	web_with_body(c, repos_delete_body);
}
