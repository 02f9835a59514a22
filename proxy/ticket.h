/* ticket.h — short-lived signed permits to a private space's app host, as the
 * Hub's __sign: the space page's iframe URL carries a ticket (?__sign=T), which
 * the app host trades for a cookie of its own (host-only, that space only) and
 * a redirect to the clean URL. The hub's session cookie never goes there.
 * Tickets are HMACs (libsodium crypto_auth) under a key made at daemon start:
 * a restart ends them all, which costs a page reload. */
#ifndef PODIUM_TICKET_H
#define PODIUM_TICKET_H

#include <stddef.h>

#define TICKET_PARAM "__sign"
#define TICKET_COOKIE "podium_app"
#define TICKET_URL_SECONDS 120        /* the iframe's ticket */
#define TICKET_COOKIE_SECONDS 3600    /* the app host's cookie */

/* Makes the key; once, before the proxy starts. */
void ticket_init(void);
/* A ticket ("t") or cookie ("c") for subdomain sub valid ttl seconds: EXPIRES.MAC
 * in out (>= 96 bytes). 0 or -ENOSPC. */
int ticket_make(char kind, const char *sub, int ttl, char *out, size_t len);
/* 1 when t is a valid, unexpired ticket of that kind for sub. */
int ticket_check(char kind, const char *sub, const char *t, size_t tlen);

#endif
