/* users_api.c — the signed-in user's tokens and, for admins, the users:
 *   GET/POST /api/settings/tokens, DELETE /api/settings/tokens/{id}
 *   GET/POST /api/admin/users, POST /api/admin/users/{name} {"disabled", "admin", "password"}
 * Who may call which is the route table's (api.c): tokens need a signed-in
 * caller, users an admin. Every change republishes the token snapshot the proxy
 * checks private hosts with. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "orchestrator/store/accounts.h"
#include "web/web_int.h"

static void
token_one(const token_row *t, void *arg)
{
	json_array_append_new(arg, json_pack("{s:I, s:s, s:s?, s:s, s:I}", "id", (json_int_t)t->id,
	    "prefix", t->prefix, "name", t->name, "role", t->write ? "write" : "read",
	    "created", (json_int_t)t->created));
}

static void
tokens_create_body(web_call *c, json_t *body)
{
	http_exchange *x = c->x;
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
	if (store_user_get(c->p->store, c->user, &u) != 0 ||
	    accounts_token_create(c->p->store, u.id, role[0] == 'w', name, token, sizeof(token)) != 0) {
		web_json_error(x, 500, "cannot create the token");
		return;
	}
	/* the only time the token is shown */
	web_json(x, 200, json_pack("{s:s, s:s, s:s}", "token", token, "name", name, "role", role));
	sodium_memzero(token, sizeof(token));
}

/* The caller's row: 0, or -1 with 404 answered (a session of a user since removed). */
static int
caller_row(web_call *c, user_row *u)
{
	if (store_user_get(c->p->store, c->user, u) == 0)
		return 0;
	web_json_error(c->x, 404, "no such user");
	return -1;
}

void
web_tokens_list(web_call *c)
{
	json_t *arr;
	user_row u;

	if (caller_row(c, &u) != 0)
		return;
	arr = json_array();
	store_tokens_list(c->p->store, u.id, token_one, arr);
	web_json(c->x, 200, arr);
}

void
web_tokens_create(web_call *c)
{
	user_row u;

	if (caller_row(c, &u) == 0)
		web_with_body(c, tokens_create_body);
}

void
web_tokens_delete(web_call *c)
{
	const char *id = web_param(c, "id");
	char *end;
	long long n = strtoll(id, &end, 10);
	user_row u;

	if (*end != '\0' || end == id) {
		web_json_error(c->x, 404, "no such endpoint: %s", c->r->path);
	} else if (caller_row(c, &u) != 0) {
		; /* answered */
	} else if (store_token_delete(c->p->store, u.id, n) != 0) {
		web_json_error(c->x, 404, "no token %lld", n);
	} else {
		accounts_tokens_publish(c->p->store);
		web_json(c->x, 200, json_object());
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
users_create_body(web_call *c, json_t *body)
{
	http_exchange *x = c->x;
	const char *name = json_string_value(json_object_get(body, "name"));
	char hash[crypto_pwhash_STRBYTES];
	int r;

	if (!user_name_ok(name)) {
		web_json_error(x, 400, "\"name\": use 1-39 of a-z 0-9 -, not starting or ending with -");
		return;
	}
	if (password_hash(x, json_string_value(json_object_get(body, "password")), hash) != 0)
		return;
	r = store_user_add(c->p->store, name, json_is_true(json_object_get(body, "admin")), hash, NULL);
	if (r == -EEXIST)
		web_json_error(x, 409, "user %s exists", name);
	else if (r != 0)
		web_json_error(x, 500, "cannot add the user");
	else
		web_json(x, 200, json_pack("{s:s}", "name", name));
}

static void
users_change_body(web_call *c, json_t *body)
{
	http_exchange *x = c->x;
	const char *name = web_param(c, "user");
	json_t *dis = json_object_get(body, "disabled"), *adm = json_object_get(body, "admin");
	const char *pw = json_string_value(json_object_get(body, "password"));
	char hash[crypto_pwhash_STRBYTES];
	int r = 0;

	if ((dis != NULL && !json_is_boolean(dis)) || (adm != NULL && !json_is_boolean(adm))) {
		web_json_error(x, 400, "\"disabled\" and \"admin\" must be true or false");
		return;
	}
	if (strcmp(name, c->user) == 0 && (json_is_true(dis) || json_is_false(adm))) {
		web_json_error(x, 400, "an admin may not disable or demote themselves");
		return;
	}
	if (pw != NULL && password_hash(x, pw, hash) != 0)
		return;
	if (dis != NULL)
		r = store_user_set_disabled(c->p->store, name, json_is_true(dis));
	if (r == 0 && adm != NULL)
		r = store_user_set_admin(c->p->store, name, json_is_true(adm));
	if (r == 0 && pw != NULL)
		r = store_user_set_password(c->p->store, name, hash);
	if (r == -ENOENT) {
		web_json_error(x, 404, "no user %s", name);
		return;
	}
	if (r != 0) {
		web_json_error(x, 500, "cannot change user %s", name);
		return;
	}
	accounts_tokens_publish(c->p->store);
	web_json(x, 200, json_object());
}

void
web_users_list(web_call *c)
{
	json_t *arr = json_array();

	store_users_list(c->p->store, user_one, arr);
	web_json(c->x, 200, arr);
}

void
web_users_create(web_call *c)
{
	web_with_body(c, users_create_body);
}

void
web_users_change(web_call *c)
{
	if (!user_name_ok(web_param(c, "user")))
		web_json_error(c->x, 404, "no such endpoint: %s", c->r->path);
	else
		web_with_body(c, users_change_body);
}
