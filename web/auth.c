#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "routes.h"
#include "util.h"
#include "web.h"

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
auth_tokens_publish(store *st)
{
	route_tokens *k = route_tokens_new();
	int r = store_tokens_load_all(st, tokens_add, k);

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
auth_user(podium *p, const http_request *r, int *presented)
{
	const char *h = http_request_header(r, "authorization");
	char token[256];
	char *user;

	*presented = h != NULL;
	if (h == NULL || route_auth_token(h, token, sizeof(token)) != 0)
		return NULL;
	user = token_user(p, token);
	sodium_memzero(token, sizeof(token));
	return user;
}

int
auth_is_admin(const char *user)
{
	return user != NULL && strcmp(user, "admin") == 0;
}

int
auth_may_write(const char *user, const char *owner)
{
	return user != NULL && (auth_is_admin(user) || strcasecmp(user, owner) == 0);
}
