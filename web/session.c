/* session.c — browser sessions on the hub: the login form, the session cookie
 * and the checks that keep other origins (apps above all) from using it.
 *
 * The cookie is 32 random bytes, stored only as a BLAKE2b hash; HttpOnly,
 * SameSite=Lax, host-only (no Domain: it never goes to OWNER-NAME.DOMAIN app
 * hosts) and Path=/. A request that changes something counts its cookie only when
 * it comes from the hub's own origin: app hosts are same-site with the hub when
 * they share its registrable domain, so SameSite alone would let an app post as
 * its visitor. Forms carry a CSRF token as well. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "orchestrator/store/accounts.h"
#include "proxy/routes.h"
#include "common/util.h"
#include "web/web_int.h"

#define SESSION_COOKIE "podium_session"
#define LOGIN_COOKIE "podium_login"
#define SESSION_SECONDS (14 * 24 * 3600)
/* failed logins allowed per user and per address in a window, then 429 */
#define LOGIN_BURST 5
#define LOGIN_WINDOW 60
#define LOGIN_SLOTS 256
#define FORM_MAX 4096

/* Copies the value of cookie name from the request's Cookie header. */
static int
cookie_get(const http_request *r, const char *name, char *out, size_t len)
{
	size_t nl = strlen(name);

	for (size_t i = 0; i < r->nheaders; i++) {
		const char *c = r->headers[i].value;

		if (strcasecmp(r->headers[i].name, "cookie") != 0)
			continue;
		while (c != NULL && *c != '\0') {
			c += strspn(c, " ;");
			size_t n = strcspn(c, ";");
			if (n > nl && strncmp(c, name, nl) == 0 && c[nl] == '=' && n - nl - 1 < len) {
				memcpy(out, c + nl + 1, n - nl - 1);
				out[n - nl - 1] = '\0';
				return 0;
			}
			c += n;
		}
	}
	return -ENOENT;
}

static int
method_safe(const char *m)
{
	return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 || strcmp(m, "OPTIONS") == 0;
}

int
session_same_origin(const http_request *r)
{
	const char *origin = http_request_header(r, "origin");
	const char *site = http_request_header(r, "sec-fetch-site");
	const char *host = http_request_header(r, "host");
	const char *o;

	if (origin == NULL && site == NULL)
		return 0;
	if (site != NULL && strcmp(site, "same-origin") != 0)
		return 0;
	if (origin != NULL) {
		if (host == NULL)
			return 0;
		if (strncmp(origin, "http://", 7) == 0)
			o = origin + 7;
		else if (strncmp(origin, "https://", 8) == 0)
			o = origin + 8;
		else
			return 0;
		if (strcasecmp(o, host) != 0)
			return 0;
	}
	return 1;
}

char *
session_user(podium *p, const http_request *r, auth_info *ai)
{
	char cookie[128], csrf[80];
	unsigned char hash[32];
	char *user = NULL;

	if (cookie_get(r, SESSION_COOKIE, cookie, sizeof(cookie)) != 0)
		return NULL;
	route_token_hash(cookie, hash);
	sodium_memzero(cookie, sizeof(cookie));
	if (store_session_find(p->store, hash, &user, csrf, sizeof(csrf)) != 0)
		return NULL;
	if (!method_safe(r->method) && !session_same_origin(r)) {
		/* another origin's post: as if there were no cookie */
		free(user);
		return NULL;
	}
	ai->write = 1;
	ai->session = 1;
	return user;
}

int
session_csrf(podium *p, const http_request *r, char *csrf, size_t len)
{
	char cookie[128];
	unsigned char hash[32];
	char *user = NULL;
	int rc;

	if (cookie_get(r, SESSION_COOKIE, cookie, sizeof(cookie)) != 0)
		return -ENOENT;
	route_token_hash(cookie, hash);
	rc = store_session_find(p->store, hash, &user, csrf, len);
	free(user);
	return rc;
}

/* ---- failed-login throttle: per user name and per client address ---- */

static struct login_slot {
	char key[80];
	int64_t start;
	int fails;
} login_slots[LOGIN_SLOTS];

static struct login_slot *
login_slot(const char *kind, const char *v, int create)
{
	char key[80];
	int64_t now = (int64_t)time(NULL);
	struct login_slot *free_slot = NULL;

	snprintf(key, sizeof(key), "%s:%s", kind, v);
	for (int i = 0; i < LOGIN_SLOTS; i++) {
		struct login_slot *s = &login_slots[i];

		if (s->key[0] != '\0' && now - s->start >= LOGIN_WINDOW)
			s->key[0] = '\0';
		if (s->key[0] != '\0' && strcmp(s->key, key) == 0)
			return s;
		if (s->key[0] == '\0' && free_slot == NULL)
			free_slot = s;
	}
	if (!create)
		return NULL;
	if (free_slot == NULL)
		free_slot = &login_slots[now % LOGIN_SLOTS];  /* full: forget one */
	snprintf(free_slot->key, sizeof(free_slot->key), "%s", key);
	free_slot->start = now;
	free_slot->fails = 0;
	return free_slot;
}

/* Seconds until user (or addr) may try again: 0 when they may now. */
static int64_t
login_blocked(const char *user, const char *addr)
{
	struct login_slot *u = login_slot("u", user, 0), *a = login_slot("a", addr, 0);
	int64_t now = (int64_t)time(NULL), wait = 0;

	if (u != NULL && u->fails >= LOGIN_BURST)
		wait = u->start + LOGIN_WINDOW - now;
	if (a != NULL && a->fails >= LOGIN_BURST && a->start + LOGIN_WINDOW - now > wait)
		wait = a->start + LOGIN_WINDOW - now;
	return wait > 0 ? wait : 0;
}

static void
login_failed(const char *user, const char *addr)
{
	login_slot("u", user, 1)->fails++;
	login_slot("a", addr, 1)->fails++;
}

/* ---- the login form ---- */

/* The form, again with the user name that was typed (user may be NULL), and
 * Retry-After when retry is not 0. */
static void
login_form(podium *p, http_exchange *x, int status, const char *error, const char *next,
    const char *user, int64_t retry)
{
	unsigned char rnd[16];
	char csrf[33], cookie[128], after[24];
	http_header h[2];

	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(csrf, sizeof(csrf), rnd, sizeof(rnd));
	snprintf(cookie, sizeof(cookie), LOGIN_COOKIE "=%s; Path=/login; HttpOnly; SameSite=Strict",
	    csrf);
	h[0].name = "Set-Cookie";
	h[0].value = cookie;
	snprintf(after, sizeof(after), "%lld", (long long)retry);
	h[1].name = "Retry-After";
	h[1].value = after;
	web_page_login(p, x, status, error, next, user, csrf, h, retry > 0 ? 2 : 1);
}

/* "next" must be a path on the hub: never another host. */
static const char *
safe_next(const char *next)
{
	if (next == NULL || next[0] != '/' || next[1] == '/' || next[1] == '\\' ||
	    strpbrk(next, "\r\n") != NULL)
		return "/";
	return next;
}

typedef struct login_req {
	podium *p;
	http_exchange *x;
	char *body;
	size_t len;
	int too_big;
	uv_work_t work;
	char *user, *password, *pwhash, *next, *addr;
	int ok;
	int queued, aborted;  /* the client may leave while the password is checked */
} login_req;

static void
login_req_free(login_req *l)
{
	if (l->password != NULL)
		sodium_memzero(l->password, strlen(l->password));
	free(l->body);
	free(l->user);
	free(l->password);
	free(l->pwhash);
	free(l->next);
	free(l->addr);
	free(l);
}

/* argon2id takes a fraction of a second and 64 MiB: off the loop */
static void
login_verify(uv_work_t *w)
{
	login_req *l = w->data;

	l->ok = l->pwhash != NULL && crypto_pwhash_str_verify(l->pwhash, l->password,
	    strlen(l->password)) == 0;
}

static void
login_verified(uv_work_t *w, int status)
{
	login_req *l = w->data;
	podium *p = l->p;
	unsigned char rnd[32], hash[32], crnd[16];
	char cookie[65], csrf[33], set[256];
	user_row u;
	http_header h[2];

	if (l->aborted)
		goto done;
	if (!l->ok || status != 0 || store_user_get(p->store, l->user, &u) != 0 || u.disabled) {
		login_failed(l->user, l->addr);
		log_info("web: failed login for \"%.64s\" from %s", l->user, l->addr);
		login_form(p, l->x, 401, "Wrong user name or password.", l->next, l->user, 0);
		goto done;
	}
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(cookie, sizeof(cookie), rnd, sizeof(rnd));
	sodium_memzero(rnd, sizeof(rnd));
	randombytes_buf(crnd, sizeof(crnd));
	sodium_bin2hex(csrf, sizeof(csrf), crnd, sizeof(crnd));
	route_token_hash(cookie, hash);
	if (store_session_add(p->store, hash, u.id, csrf, (int64_t)time(NULL) + SESSION_SECONDS) != 0) {
		http_respond_error(l->x, 500, "cannot store the session");
		goto done;
	}
	/* no Domain: host-only, so app hosts never receive it; Secure only behind TLS,
	 * which podium does not terminate */
	snprintf(set, sizeof(set), SESSION_COOKIE "=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Lax",
	    cookie, SESSION_SECONDS);
	sodium_memzero(cookie, sizeof(cookie));
	h[0].name = "Set-Cookie";
	h[0].value = set;
	h[1].name = "Location";
	h[1].value = l->next;
	http_respond(l->x, 303, "text/plain; charset=utf-8", h, 2, "signed in\n", 10);
done:
	login_req_free(l);
}

static void
login_data(void *arg, const char *data, size_t len)
{
	login_req *l = arg;

	if (l->too_big || l->len + len > FORM_MAX) {
		l->too_big = 1;
		return;
	}
	l->body = xrealloc(l->body, l->len + len + 1);
	memcpy(l->body + l->len, data, len);
	l->len += len;
	l->body[l->len] = '\0';
}

/* Decodes application/x-www-form-urlencoded field name of body (caller frees). */
static char *
form_field(const char *body, const char *name)
{
	size_t nl = strlen(name);

	for (const char *c = body; c != NULL && *c != '\0';) {
		size_t n = strcspn(c, "&");

		if (n > nl && strncmp(c, name, nl) == 0 && c[nl] == '=') {
			char *out = xcalloc(1, n);
			size_t o = 0;

			for (size_t i = nl + 1; i < n; i++) {
				if (c[i] == '+') {
					out[o++] = ' ';
				} else if (c[i] == '%' && i + 2 < n && sodium_hex2bin((unsigned char *)out + o,
				    1, c + i + 1, 2, NULL, NULL, NULL) == 0) {
					o++;
					i += 2;
				} else {
					out[o++] = c[i];
				}
			}
			out[o] = '\0';
			return out;
		}
		c += n;
		if (*c == '&')
			c++;
	}
	return NULL;
}

static void
login_end(void *arg)
{
	login_req *l = arg;
	const http_request *r = http_exchange_request(l->x);
	char *csrf = NULL, *nx, want[64];
	int64_t wait;
	int r2;

	if (l->too_big) {
		http_respond_error(l->x, 413, "form too large");
		goto fail;
	}
	l->user = form_field(l->body != NULL ? l->body : "", "username");
	l->password = form_field(l->body != NULL ? l->body : "", "password");
	csrf = form_field(l->body != NULL ? l->body : "", "csrf");
	nx = form_field(l->body != NULL ? l->body : "", "next");
	l->next = xstrdup(safe_next(nx));
	free(nx);
	if (!session_same_origin(r) || csrf == NULL ||
	    cookie_get(r, LOGIN_COOKIE, want, sizeof(want)) != 0 || strlen(csrf) != strlen(want) ||
	    sodium_memcmp(csrf, want, strlen(want)) != 0) {
		free(csrf);
		login_form(l->p, l->x, 403, "The form expired or came from another site; try again.",
		    l->next, l->user, 0);
		goto fail;
	}
	free(csrf);
	if (l->user == NULL || l->password == NULL || l->user[0] == '\0') {
		login_form(l->p, l->x, 400, "Enter a user name and a password.", l->next, l->user, 0);
		goto fail;
	}
	if ((wait = login_blocked(l->user, l->addr)) > 0) {
		char msg[128];

		snprintf(msg, sizeof(msg), "Too many failed sign-ins: try again in %lld seconds.",
		    (long long)wait);
		login_form(l->p, l->x, 429, msg, l->next, l->user, wait);
		goto fail;
	}
	if (store_user_password(l->p->store, l->user, &l->pwhash) != 0)
		l->pwhash = NULL;  /* still verified against nothing: no fast "no such user" */
	l->work.data = l;
	if (l->pwhash == NULL)
		l->pwhash = xstrdup("$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	r2 = uv_queue_work(l->p->loop, &l->work, login_verify, login_verified);
	if (r2 == 0) {
		l->queued = 1;
		return;
	}
	http_respond_error(l->x, 500, "cannot check the password");
fail:
	login_req_free(l);
}

static void
login_abort(void *arg)
{
	login_req *l = arg;

	if (l->queued)
		l->aborted = 1;   /* freed when the check returns */
	else
		login_req_free(l);
}

void
web_login(web_call *c)
{
	podium *p = c->p;
	http_exchange *x = c->x;
	const http_request *r = c->r;

	if (strcmp(r->method, "POST") != 0) {
		char *next = form_field(r->query, "next");

		login_form(p, x, 200, NULL, safe_next(next), NULL, 0);
		free(next);
		return;
	}
	login_req *l = xcalloc(1, sizeof(*l));
	http_body_cb cb = { login_data, login_end, login_abort, NULL, l };

	l->p = p;
	l->x = x;
	l->addr = xstrdup(r->client_addr != NULL ? r->client_addr : "");
	http_exchange_set_body_cb(x, &cb);
}

static void
logout_end(void *arg)
{
	login_req *l = arg;
	const http_request *r = http_exchange_request(l->x);
	char want[80], cookie[128];
	char *csrf = form_field(l->body != NULL ? l->body : "", "csrf");
	unsigned char hash[32];
	http_header h[2] = {
		{ "Set-Cookie", SESSION_COOKIE "=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax" },
		{ "Location", "/" },
	};

	if (!session_same_origin(r) || csrf == NULL ||
	    session_csrf(l->p, r, want, sizeof(want)) != 0 || strlen(csrf) != strlen(want) ||
	    sodium_memcmp(csrf, want, strlen(want)) != 0) {
		http_respond_error(l->x, 403, "the form came from another site or the session ended");
	} else {
		if (cookie_get(r, SESSION_COOKIE, cookie, sizeof(cookie)) == 0) {
			route_token_hash(cookie, hash);
			store_session_delete(l->p->store, hash);
		}
		http_respond(l->x, 303, "text/plain; charset=utf-8", h, 2, "signed out\n", 11);
	}
	free(csrf);
	login_req_free(l);
}

void
web_logout(web_call *c)
{
	login_req *l = xcalloc(1, sizeof(*l));
	http_body_cb cb = { login_data, logout_end, login_abort, NULL, l };

	l->p = c->p;
	l->x = c->x;
	http_exchange_set_body_cb(c->x, &cb);
}

json_t *
session_json(podium *p, const http_request *r, const char *user)
{
	char csrf[80];
	json_t *j = json_object();

	json_object_set_new(j, "name", user != NULL ? json_string(user) : json_null());
	json_object_set_new(j, "admin", json_boolean(auth_is_admin(user)));
	/* only the session's own pages need it, and only they can read this answer */
	if (user != NULL && session_csrf(p, r, csrf, sizeof(csrf)) == 0)
		json_object_set_new(j, "csrf", json_string(csrf));
	return j;
}

/* ---- users and tokens changed by another process ---- */

static uv_timer_t watch_timer;
static int64_t watch_version = -1;

static void
watch_tick(uv_timer_t *t)
{
	podium *p = t->data;
	int64_t v;

	if (store_data_version(p->store, &v) != 0 || v == watch_version)
		return;
	/* another connection committed: users, tokens or anything else; the snapshot
	 * is cheap to rebuild */
	if (watch_version != -1)
		accounts_tokens_publish(p->store);
	watch_version = v;
}

void
auth_watch_start(podium *p)
{
	uv_timer_init(p->loop, &watch_timer);
	watch_timer.data = p;
	uv_timer_start(&watch_timer, watch_tick, 0, 1000);
	/* never what keeps the loop running at shutdown */
	uv_unref((uv_handle_t *)&watch_timer);
}
