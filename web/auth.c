#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "routes.h"
#include "util.h"
#include "web.h"

/* Tokens look like "pdm_" + 48 hex digits. The first TOKEN_PREFIX characters are
 * stored in the clear as a lookup key; the whole token only as a BLAKE2b hash,
 * compared in constant time. */
#define TOKEN_PREFIX 12
#define TOKEN_RANDOM 24

int
auth_token_create(store *st, int64_t user_id, char *token, size_t len)
{
	unsigned char rnd[TOKEN_RANDOM], hash[32];
	char prefix[TOKEN_PREFIX + 1];
	int r;

	if (len < 4 + 2 * TOKEN_RANDOM + 1)
		return -ENOSPC;
	randombytes_buf(rnd, sizeof(rnd));
	memcpy(token, "pdm_", 4);
	sodium_bin2hex(token + 4, len - 4, rnd, sizeof(rnd));
	sodium_memzero(rnd, sizeof(rnd));
	memcpy(prefix, token, TOKEN_PREFIX);
	prefix[TOKEN_PREFIX] = '\0';
	route_token_hash(token, hash);
	r = store_token_add(st, user_id, prefix, hash);
	return r != 0 ? r : auth_tokens_publish(st);
}

static void
tokens_add(const unsigned char hash[32], const char *user, void *arg)
{
	route_tokens_add(arg, hash, user, auth_is_admin(user));
}

int
auth_token_create_named(store *st, int64_t user_id, int write, const char *name, char *token,
    size_t len)
{
	int r = auth_token_create(st, user_id, token, len);

	if (r == 0)
		r = store_token_label_last(st, write, name);
	return r != 0 ? r : auth_tokens_publish(st);
}

/* The store roles are read from: the daemon's (or the CLI's) one store. */
static store *auth_store;

int
auth_tokens_publish(store *st)
{
	route_tokens *k;
	int r;

	auth_store = st;
	k = route_tokens_new();
	r = store_tokens_load_all(st, tokens_add, k);

	/* on a read error the previous snapshot stays: no token is lost, none added */
	if (r != 0) {
		route_tokens_free(k);
		return r;
	}
	routes_tokens_publish(k);
	return 0;
}

static char *
token_user(podium *p, const char *token)
{
	unsigned char want[32], got[32];
	char prefix[TOKEN_PREFIX + 1];
	char *user = NULL;

	if (strlen(token) != 4 + 2 * TOKEN_RANDOM || strncmp(token, "pdm_", 4) != 0)
		return NULL;
	memcpy(prefix, token, TOKEN_PREFIX);
	prefix[TOKEN_PREFIX] = '\0';
	if (store_token_find(p->store, prefix, want, &user) != 0)
		return NULL;
	route_token_hash(token, got);
	if (sodium_memcmp(want, got, 32) != 0) {
		free(user);
		return NULL;
	}
	return user;
}

char *
auth_request_user(podium *p, const http_request *r, auth_info *ai)
{
	const char *h = http_request_header(r, "authorization");
	char token[256], prefix[TOKEN_PREFIX + 1];
	char *user;

	memset(ai, 0, sizeof(*ai));
	if (h == NULL)
		return session_user(p, r, ai);
	ai->presented = 1;
	if (route_auth_token(h, token, sizeof(token)) != 0)
		return NULL;
	user = token_user(p, token);
	snprintf(prefix, sizeof(prefix), "%s", token);
	sodium_memzero(token, sizeof(token));
	if (user != NULL && store_token_role(p->store, prefix, &ai->write) != 0)
		ai->write = 0;
	return user;
}

char *
auth_user(podium *p, const http_request *r, int *presented)
{
	auth_info ai;
	char *user = auth_request_user(p, r, &ai);

	*presented = ai.presented;
	return user;
}

int
auth_is_admin(const char *user)
{
	user_row u;

	if (user == NULL || auth_store == NULL)
		return 0;
	return store_user_get(auth_store, user, &u) == 0 && u.admin && !u.disabled;
}

int
auth_may_write(const char *user, const char *owner)
{
	return user != NULL && (auth_is_admin(user) || strcasecmp(user, owner) == 0);
}
