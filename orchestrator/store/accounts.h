/* accounts.h — API tokens: minting, checking and publishing (accounts.c).
 *
 * Tokens look like "hf_" + 48 hex digits: the Hub's prefix, which its clients
 * (@huggingface/hub) insist on before they send a request. Tokens issued before
 * ("pdm_" + 48 hex digits) keep working. The first ACCOUNTS_TOKEN_PREFIX characters
 * are stored in the clear as a lookup key; the whole token only as a BLAKE2b hash
 * (route_token_hash), compared in constant time.
 *
 * The proxy checks private app hosts against a snapshot of every token and live
 * browser session (proxy/routes.h: the tickets of app hosts are minted from them);
 * whatever adds, removes or changes tokens, sessions or users must republish it
 * (accounts_tokens_publish). A change made by another process (a
 * `podium user` command on the same database) is not seen until then. */
#ifndef PODIUM_ACCOUNTS_H
#define PODIUM_ACCOUNTS_H

#include <stddef.h>
#include <stdint.h>

#include "orchestrator/store/store.h"

#define ACCOUNTS_TOKEN_PREFIX 12

/* Mints a token for user_id with a role (write 1, else read-only) and a label
 * (may be NULL), stores its hash and republishes. token receives the secret
 * (NUL-terminated, len >= 52). 0 or -errno. */
int accounts_token_create(store *st, int64_t user_id, int write, const char *name, char *token,
    size_t len);
/* The user of a well-formed, known token (caller frees *user) and whether it may
 * write; -ENOENT otherwise, -EIO when the store cannot tell (its server away). */
int accounts_token_check(store *st, const char *token, char **user, int *write);
/* The label a known token was given ("" without one); -ENOENT. */
int accounts_token_name(store *st, const char *token, char *name, size_t len);
/* Is user an enabled admin? */
int accounts_is_admin(store *st, const char *user);
/* Publishes every stored token and live session to the proxy. 0 or -errno (then the
 * previous snapshot stays: no token is lost, none added). */
int accounts_tokens_publish(store *st);

#endif
