#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "proxy/routes.h"
#include "common/util.h"
#include "web/web.h"

/* Tokens look like "hf_" + 48 hex digits: the Hub's prefix, which its clients
 * (@huggingface/hub) insist on before they send a request. Tokens issued before
 * ("pdm_" + 48 hex digits) keep working. The first TOKEN_PREFIX characters are
 * stored in the clear as a lookup key; the whole token only as a BLAKE2b hash,
 * compared in constant time. */
#define TOKEN_PREFIX 12
#define TOKEN_RANDOM 24
#define TOKEN_TAG "hf_"
#define TOKEN_TAG_OLD "pdm_"

int
auth_token_create(store *st, int64_t user_id, char *token, size_t len)
{
	unsigned char rnd[TOKEN_RANDOM], hash[32];
	char prefix[TOKEN_PREFIX + 1];
	int r;

	size_t tag = strlen(TOKEN_TAG);

	if (len < tag + 2 * TOKEN_RANDOM + 1)
		return -ENOSPC;
	randombytes_buf(rnd, sizeof(rnd));
	memcpy(token, TOKEN_TAG, tag);
	sodium_bin2hex(token + tag, len - tag, rnd, sizeof(rnd));
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

static int
token_well_formed(const char *token, const char *tag)
{
	size_t t = strlen(tag);

	return strncmp(token, tag, t) == 0 && strlen(token) == t + 2 * TOKEN_RANDOM &&
	    strspn(token + t, "0123456789abcdef") == 2 * TOKEN_RANDOM;
}

static char *
token_user(podium *p, const char *token)
{
	unsigned char want[32], got[32];
	char prefix[TOKEN_PREFIX + 1];
	char *user = NULL;

	if (!token_well_formed(token, TOKEN_TAG) && !token_well_formed(token, TOKEN_TAG_OLD))
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
	/* the token's public prefix names its row */
	memcpy(prefix, token, strnlen(token, TOKEN_PREFIX));
	prefix[strnlen(token, TOKEN_PREFIX)] = '\0';
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
