/* accounts.c — API tokens; see accounts.h. */
#include "orchestrator/store/accounts.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/routes.h"

#define TOKEN_RANDOM (ROUTE_TOKEN_HEX / 2)
#define TOKEN_TAG ROUTE_TOKEN_TAG
#define TOKEN_TAG_OLD ROUTE_TOKEN_TAG_OLD

int
accounts_token_create(store *st, int64_t user_id, int write, const char *name, char *token,
    size_t len)
{
	unsigned char rnd[TOKEN_RANDOM], hash[32];
	char prefix[ACCOUNTS_TOKEN_PREFIX + 1];
	size_t tag = strlen(TOKEN_TAG);
	int r;

	if (len < tag + 2 * TOKEN_RANDOM + 1)
		return -ENOSPC;
	randombytes_buf(rnd, sizeof(rnd));
	memcpy(token, TOKEN_TAG, tag);
	sodium_bin2hex(token + tag, len - tag, rnd, sizeof(rnd));
	sodium_memzero(rnd, sizeof(rnd));
	memcpy(prefix, token, ACCOUNTS_TOKEN_PREFIX);
	prefix[ACCOUNTS_TOKEN_PREFIX] = '\0';
	route_token_hash(token, hash);
	if ((r = store_token_add(st, user_id, prefix, hash)) != 0 ||
	    (r = store_token_label_last(st, write, name)) != 0)
		return r;
	return accounts_tokens_publish(st);
}

static int
token_well_formed(const char *token, const char *tag)
{
	size_t t = strlen(tag);

	return strncmp(token, tag, t) == 0 && strlen(token) == t + 2 * TOKEN_RANDOM &&
	    strspn(token + t, "0123456789abcdef") == 2 * TOKEN_RANDOM;
}

int
accounts_token_check(store *st, const char *token, char **user, int *write)
{
	unsigned char want[32], got[32];
	char prefix[ACCOUNTS_TOKEN_PREFIX + 1];
	int r;

	*user = NULL;
	*write = 0;
	if (!token_well_formed(token, TOKEN_TAG) && !token_well_formed(token, TOKEN_TAG_OLD))
		return -ENOENT;
	memcpy(prefix, token, ACCOUNTS_TOKEN_PREFIX);
	prefix[ACCOUNTS_TOKEN_PREFIX] = '\0';
	if ((r = store_token_find(st, prefix, want, user)) != 0)
		return r == -ENOENT ? -ENOENT : -EIO;
	route_token_hash(token, got);
	if (sodium_memcmp(want, got, 32) != 0) {
		free(*user);
		*user = NULL;
		return -ENOENT;
	}
	if (store_token_role(st, prefix, write) != 0)
		*write = 0;
	return 0;
}

int
accounts_token_name(store *st, const char *token, char *name, size_t len)
{
	char prefix[ACCOUNTS_TOKEN_PREFIX + 1];

	if (strlen(token) < ACCOUNTS_TOKEN_PREFIX)
		return -ENOENT;
	memcpy(prefix, token, ACCOUNTS_TOKEN_PREFIX);
	prefix[ACCOUNTS_TOKEN_PREFIX] = '\0';
	return store_token_name(st, prefix, name, len);
}

int
accounts_is_admin(store *st, const char *user)
{
	user_row u;

	return user != NULL && st != NULL && store_user_get(st, user, &u) == 0 && u.admin &&
	    !u.disabled;
}

struct publish {
	store *st;
	route_tokens *k;
};

static void
tokens_add(const unsigned char hash[32], const char *user, void *arg)
{
	struct publish *pb = arg;

	route_tokens_add(pb->k, hash, user, accounts_is_admin(pb->st, user));
}

static void
sessions_add(const unsigned char hash[32], const char *user, int64_t expires, void *arg)
{
	struct publish *pb = arg;

	route_tokens_add_session(pb->k, hash, user, accounts_is_admin(pb->st, user), expires);
}

int
accounts_tokens_publish(store *st)
{
	struct publish pb = { st, route_tokens_new() };
	int r = store_tokens_load_all(st, tokens_add, &pb);

	/* and the sessions, which the app hosts' tickets are minted from (ticket.h) */
	if (r == 0)
		r = store_sessions_load_all(st, sessions_add, &pb);

	if (r != 0) {
		route_tokens_free(pb.k);
		return r;
	}
	routes_tokens_publish(pb.k);
	return 0;
}
