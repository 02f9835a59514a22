/* auth.c — who is calling: a token, else a session cookie (session.c), and what
 * they may do. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "orchestrator/store/accounts.h"
#include "proxy/routes.h"
#include "common/util.h"
#include "orchestrator/space.h"
#include "web/web_int.h"

/* The store roles are read from: the daemon's one store (web_start). */
static store *auth_store;

void
auth_set_store(store *st)
{
	auth_store = st;
}

char *
auth_request_user(podium *p, const http_request *r, auth_info *ai)
{
	const char *h = http_request_header(r, "authorization");
	char token[256];
	char *user;

	memset(ai, 0, sizeof(*ai));
	if (h == NULL)
		return session_user(p, r, ai);
	ai->presented = 1;
	if (route_auth_token(h, token, sizeof(token)) != 0)
		return NULL;
	ai->store_down = accounts_token_check(p->store, token, &user, &ai->write) == -EIO;
	if (user != NULL) {
		route_token_hash(token, ai->cred);
		ai->has_cred = 1;
	}
	sodium_memzero(token, sizeof(token));
	return user;
}

int
auth_is_admin(const char *user)
{
	return accounts_is_admin(auth_store, user);
}

int
auth_may_write(const char *user, const char *owner)
{
	return user != NULL && (auth_is_admin(user) || strcasecmp(user, owner) == 0);
}

int
web_may_read(const char *user, const space *s)
{
	return !space_is_private(s) || auth_may_write(user, space_owner(s));
}
