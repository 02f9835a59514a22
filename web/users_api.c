/* users_api.c — the signed-in user's tokens and, for admins, the users:
 *   GET/POST /api/settings/tokens, DELETE /api/settings/tokens/{id}
 *   GET/POST /api/admin/users, POST /api/admin/users/{name} {"disabled", "admin", "password"}
 * Every change republishes the token snapshot the proxy checks private hosts with. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "orchestrator/store/accounts.h"
#include "web/web.h"

static void
token_one(const token_row *t, void *arg)
{
	json_array_append_new(arg, json_pack("{s:I, s:s, s:s?, s:s, s:I}", "id", (json_int_t)t->id,
	    "prefix", t->prefix, "name", t->name, "role", t->write ? "write" : "read",
	    "created", (json_int_t)t->created));
}

static void
tokens_create(podium *p, http_exchange *x, json_t *body, const char *user, const char *ctx)
{
	const char *name = json_string_value(json_object_get(body, "name"));
	const char *role = json_string_value(json_object_get(body, "role"));
	char token[256];
	user_row u;

	if (name == NULL || name[0] == '\0' || strlen(name) > 64) {
		web_json_error(x, 400, "\"name\" must be a string of 1-64 characters");
		return;
	}
	if (role == NULL || (strcmp(role, "read") != 0 && strcmp(role, "write") != 0)) {
		web_json_error(x, 400, "\"role\" must be \"read\" or \"write\"");
		return;
	}
	if (store_user_get(p->store, user, &u) != 0 ||
	    accounts_token_create(p->store, u.id, role[0] == 'w', name, token, sizeof(token)) != 0) {
		web_json_error(x, 500, "cannot create the token");
		return;
	}
	/* the only time the token is shown */
	web_json(x, 200, json_pack("{s:s, s:s, s:s}", "token", token, "name", name, "role", role));
	sodium_memzero(token, sizeof(token));
}

void
web_tokens_api(podium *p, http_exchange *x, const char *user, const char *rest)
{
	const http_request *r = http_exchange_request(x);
	user_row u;

	if (user == NULL) {
		web_json_error(x, 401, "authentication required: sign in or send a token");
		return;
	}
	if (store_user_get(p->store, user, &u) != 0) {
		web_json_error(x, 404, "no such user");
		return;
	}
	if (rest[0] == '\0') {
		if (!web_allow(x, "GET, HEAD, POST", 1))
			return;
		if (strcmp(r->method, "POST") == 0) {
			web_with_body(p, x, user, tokens_create, "");
		} else {
			json_t *arr = json_array();

			store_tokens_list(p->store, u.id, token_one, arr);
			web_json(x, 200, arr);
		}
		return;
	}
	char *end;
	long long id = strtoll(rest + 1, &end, 10);

	if (rest[0] != '/' || *end != '\0' || end == rest + 1) {
		web_json_error(x, 404, "no such endpoint: %s", r->path);
	} else if (web_allow(x, "DELETE", 1)) {
		if (store_token_delete(p->store, u.id, id) != 0) {
			web_json_error(x, 404, "no token %lld", id);
		} else {
			accounts_tokens_publish(p->store);
			web_json(x, 200, json_object());
		}
	}
}

static void
user_one(const user_row *u, void *arg)
{
	json_array_append_new(arg, json_pack("{s:s, s:b, s:b, s:I}", "name", u->name, "admin",
	    u->admin, "disabled", u->disabled, "created", (json_int_t)u->created));
}

/* A user name is also the owner part of app hosts (OWNER-NAME.DOMAIN). */
static int
user_name_ok(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	if (n == 0 || n > 39 || s[0] == '-' || s[n - 1] == '-')
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

static int
password_hash(http_exchange *x, const char *pw, char hash[crypto_pwhash_STRBYTES])
{
	if (pw == NULL || strlen(pw) < 8 || strlen(pw) > 1024) {
		web_json_error(x, 400, "\"password\" must be 8-1024 characters");
		return -1;
	}
	/* interactive limits: a fraction of a second, once per admin action */
	if (crypto_pwhash_str(hash, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
		web_json_error(x, 500, "cannot hash the password");
		return -1;
	}
	return 0;
}

static void
users_create(podium *p, http_exchange *x, json_t *body, const char *user, const char *ctx)
{
	const char *name = json_string_value(json_object_get(body, "name"));
	char hash[crypto_pwhash_STRBYTES];
	int r;

	if (!user_name_ok(name)) {
		web_json_error(x, 400, "\"name\": use 1-39 of a-z 0-9 -, not starting or ending with -");
		return;
	}
	if (password_hash(x, json_string_value(json_object_get(body, "password")), hash) != 0)
		return;
	r = store_user_add(p->store, name, json_is_true(json_object_get(body, "admin")), hash, NULL);
	if (r == -EEXIST)
		web_json_error(x, 409, "user %s exists", name);
	else if (r != 0)
		web_json_error(x, 500, "cannot add the user");
	else
		web_json(x, 200, json_pack("{s:s}", "name", name));
}

static void
users_change(podium *p, http_exchange *x, json_t *body, const char *user, const char *name)
{
	json_t *dis = json_object_get(body, "disabled"), *adm = json_object_get(body, "admin");
	const char *pw = json_string_value(json_object_get(body, "password"));
	char hash[crypto_pwhash_STRBYTES];
	int r = 0;

	if ((dis != NULL && !json_is_boolean(dis)) || (adm != NULL && !json_is_boolean(adm))) {
		web_json_error(x, 400, "\"disabled\" and \"admin\" must be true or false");
		return;
	}
	if (strcmp(name, user) == 0 && (json_is_true(dis) || json_is_false(adm))) {
		web_json_error(x, 400, "an admin may not disable or demote themselves");
		return;
	}
	if (pw != NULL && password_hash(x, pw, hash) != 0)
		return;
	if (dis != NULL)
		r = store_user_set_disabled(p->store, name, json_is_true(dis));
	if (r == 0 && adm != NULL)
		r = store_user_set_admin(p->store, name, json_is_true(adm));
	if (r == 0 && pw != NULL)
		r = store_user_set_password(p->store, name, hash);
	if (r == -ENOENT) {
		web_json_error(x, 404, "no user %s", name);
		return;
	}
	if (r != 0) {
		web_json_error(x, 500, "cannot change user %s", name);
		return;
	}
	accounts_tokens_publish(p->store);
	web_json(x, 200, json_object());
}

void
web_users_api(podium *p, http_exchange *x, const char *user, const char *rest)
{
	const http_request *r = http_exchange_request(x);

	if (user == NULL) {
		web_json_error(x, 401, "authentication required: sign in or send a token");
		return;
	}
	if (!auth_is_admin(user)) {
		web_json_error(x, 403, "admin only");
		return;
	}
	if (rest[0] == '\0') {
		if (!web_allow(x, "GET, HEAD, POST", 1))
			return;
		if (strcmp(r->method, "POST") == 0) {
			web_with_body(p, x, user, users_create, "");
		} else {
			json_t *arr = json_array();

			store_users_list(p->store, user_one, arr);
			web_json(x, 200, arr);
		}
	} else if (rest[0] == '/' && user_name_ok(rest + 1)) {
		if (web_allow(x, "POST", 1))
			web_with_body(p, x, user, users_change, rest + 1);
	} else {
		web_json_error(x, 404, "no such endpoint: %s", r->path);
	}
}
