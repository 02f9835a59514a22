/* ticket.h — short-lived signed permits to a private space's app host, as the
 * Hub's __sign: the space page's iframe URL carries a ticket (?__sign=T), which
 * the app host trades for a cookie of its own (host-only, that space only) and
 * a redirect to the clean URL. The hub's session cookie never goes there.
 * Tickets are HMACs (libsodium crypto_auth) under a key made at daemon start:
 * a restart ends them all, which costs a page reload.
 *
 * A ticket names what it was minted from and for (issue 21.6), so that it ends
 * with them: the credential (the session, or the token, of the user who opened
 * the page: routes.h's route_cred_id) and the space's access epoch
 * (route_target.access_epoch, new when a space is made or changes visibility).
 * The proxy lets a ticket through only while that credential is in its snapshot
 * (a session not ended, a user not disabled), its user may still pass the host,
 * and the epoch is the target's. */
#ifndef PODIUM_TICKET_H
#define PODIUM_TICKET_H

#include <stddef.h>
#include <stdint.h>

#define TICKET_PARAM "__sign"
#define TICKET_COOKIE "podium_app"
#define TICKET_URL_SECONDS 120     /* the iframe's ticket */
#define TICKET_COOKIE_SECONDS 3600 /* the app host's cookie */
#define TICKET_CRED_BYTES 16
#define TICKET_MAX 192 /* a ticket's text and its NUL fit */

typedef struct ticket_claims {
	uint64_t epoch;                        /* the space's access epoch */
	unsigned char cred[TICKET_CRED_BYTES]; /* the credential's id */
} ticket_claims;

/* Makes the key; once, before the proxy starts. */
void ticket_init(void);
/* A ticket ("t") or cookie ("c") for subdomain sub valid ttl seconds, with its
 * claims: EXPIRES.EPOCH.CRED.MAC in out (>= TICKET_MAX bytes). 0 or -ENOSPC. */
int ticket_make(
    char kind, const char *sub, int ttl, const ticket_claims *cl, char *out, size_t len);
/* 1 when t is a valid, unexpired ticket of that kind for sub; its claims in *cl. */
int ticket_check(char kind, const char *sub, const char *t, size_t tlen, ticket_claims *cl);

#endif
