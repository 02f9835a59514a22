#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
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

static void
token_hash(const char *token, unsigned char out[32])
{
	crypto_generichash(out, 32, (const unsigned char *)token, strlen(token), NULL, 0);
}

int
auth_token_create(store *st, int64_t user_id, char *token, size_t len)
{
	unsigned char rnd[TOKEN_RANDOM], hash[32];
	char prefix[TOKEN_PREFIX + 1];

	size_t tag = strlen(TOKEN_TAG);

	if (len < tag + 2 * TOKEN_RANDOM + 1)
		return -ENOSPC;
	randombytes_buf(rnd, sizeof(rnd));
	memcpy(token, TOKEN_TAG, tag);
	sodium_bin2hex(token + tag, len - tag, rnd, sizeof(rnd));
	sodium_memzero(rnd, sizeof(rnd));
	memcpy(prefix, token, TOKEN_PREFIX);
	prefix[TOKEN_PREFIX] = '\0';
	token_hash(token, hash);
	return store_token_add(st, user_id, prefix, hash);
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
	token_hash(token, got);
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
	char decoded[512];
	size_t n = 0;
	char *colon;

	*presented = 0;
	if (h == NULL)
		return NULL;
	*presented = 1;
	if (strncasecmp(h, "Bearer ", 7) == 0)
		return token_user(p, h + 7 + strspn(h + 7, " "));
	if (strncasecmp(h, "Basic ", 6) != 0)
		return NULL;
	h += 6 + strspn(h + 6, " ");
	if (sodium_base642bin((unsigned char *)decoded, sizeof(decoded) - 1, h, strlen(h), NULL, &n,
	    NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
		return NULL;
	decoded[n] = '\0';
	/* git sends USER:TOKEN; the user name is ignored, as on Hugging Face. */
	colon = strchr(decoded, ':');
	char *user = token_user(p, colon != NULL ? colon + 1 : decoded);
	sodium_memzero(decoded, sizeof(decoded));
	return user;
}

int
auth_may_write(const char *user, const char *owner)
{
	return user != NULL && (strcmp(user, "admin") == 0 || strcasecmp(user, owner) == 0);
}
