/* route.c — the "route" step of a request's lifecycle: its Host names the hub
 * (web UI, API, git) or a space; a space's route table entry says whether
 * podium serves its files, proxies to its app, or answers that the app is
 * starting or down. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/proxy_int.h"
#include "proxy/tls_int.h"
#include "proxy/ticket.h"
#include "common/util.h"

/* Host: lowercased, port stripped, only host characters. */
char *
proxy_host_normalize(const char *raw)
{
	size_t n = strlen(raw), end = n;
	char tmp[256];

	if (n == 0 || n >= sizeof(tmp))
		return NULL;
	if (raw[0] == '[') {
		const char *rb = strchr(raw, ']');

		if (rb == NULL)
			return NULL;
		end = (size_t)(rb - raw) + 1;
		if (raw[end] != '\0' && raw[end] != ':')
			return NULL;
	} else {
		const char *colon = strchr(raw, ':');

		if (colon != NULL)
			end = (size_t)(colon - raw);
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)raw[i];

		if (!(isalnum(ch) || ch == '.' || ch == '-' || ch == ':' || ch == '[' ||
		    ch == ']' || ch == '_'))
			return NULL;
	}
	for (size_t i = 0; i < end; i++)
		tmp[i] = (char)tolower((unsigned char)raw[i]);
	/* a trailing dot names the same host */
	if (end > 1 && tmp[end - 1] == '.')
		end--;
	tmp[end] = '\0';
	return xstrdup(tmp);
}

/* The hub's own names: DOMAIN and the loopback addresses. */
int
host_is_hub(const char *domain, const char *host)
{
	return strcmp(host, domain) == 0 || strcmp(host, "127.0.0.1") == 0 ||
	    strcmp(host, "[::1]") == 0;
}

int
proxy_host_is_hub(const proxy_server *s, const char *host)
{
	return host_is_hub(s->domain, host);
}

/* SUB of SUB.APP_DOMAIN, one label (no dot), into sub (len bytes): 0, or -1
 * when host names no space. */
int
host_subdomain(const char *app_domain, const char *host, char *sub, size_t len)
{
	size_t hl, dl = strlen(app_domain);

	if (host == NULL || (hl = strlen(host)) <= dl + 1 || host[hl - dl - 1] != '.' ||
	    strcmp(host + hl - dl, app_domain) != 0 || hl - dl - 1 >= len)
		return -1;
	memcpy(sub, host, hl - dl - 1);
	sub[hl - dl - 1] = '\0';
	return strchr(sub, '.') == NULL ? 0 : -1;
}

int
conn_subdomain(const proxy_conn *c, char *sub, size_t len)
{
	return host_subdomain(c->srv->app_domain, c->host, sub, len);
}

/* May this request reach its space? A private space's host lets through only a
 * token of its owner or an admin. A valid podium token is never passed on to an
 * app, private or public: the app is untrusted code, and with the token it could
 * act as that user on the hub (clients that send the token everywhere would hand
 * it to any public space). Other Authorization values are the app's own business
 * and go through. */
static int
conn_may_pass(proxy_conn *c, const char *sub)
{
	int pass = c->target->private_owner == NULL, ok;

	for (size_t i = 0; i < c->head.nhdrs; i++) {
		if (hdr_is(c->head.hdrs[i].name, "authorization")) {
			if (route_target_token(c->target, c->head.hdrs[i].value, &ok)) {
				c->strip_auth = 1;
				pass |= ok;
			}
		} else if (!pass && hdr_is(c->head.hdrs[i].name, "cookie")) {
			pass |= ticket_cookie_check(c->head.hdrs[i].value, sub, c->target);
		}
	}
	return pass;
}

/* A ticket's claims still hold for t: the space's epoch is the one it was minted
 * for, and its credential (a session, a token) is live and may pass t (issue 21.6). */
static int
claims_hold(const ticket_claims *cl, const route_target *t)
{
	return t != NULL && cl->epoch == t->access_epoch && route_target_cred(t, cl->cred);
}

/* A Cookie value that holds the app host's own cookie (podium_app or
 * podium_app_x), made from a ticket (ticket.h), valid for space sub and target t. */
int
ticket_cookie_check(const char *cookies, const char *sub, const route_target *t)
{
	size_t nl = strlen(TICKET_COOKIE);
	ticket_claims cl;

	for (const char *p = cookies; *p != '\0';) {
		p += strspn(p, " ;");
		size_t n = strcspn(p, ";");
		size_t k = n > nl + 2 && strncmp(p + nl, "_x", 2) == 0 ? nl + 2 : nl;  /* podium_app_x */
		if (n > k && strncmp(p, TICKET_COOKIE, nl) == 0 && p[k] == '=' &&
		    ticket_check('c', sub, p + k + 1, n - k - 1, &cl) && claims_hold(&cl, t))
			return 1;
		p += n;
	}
	return 0;
}

/* url without its first query parameter NAME=VALUE, on the heap (the caller
 * frees it), and where VALUE is in url (*value, *vlen); NULL when url has no
 * such parameter. */
char *
url_without_param(const char *url, const char *name, const char **value, size_t *vlen)
{
	const char *q = strchr(url, '?');
	size_t pl = strlen(name);

	if (q == NULL)
		return NULL;
	for (const char *p = q + 1; *p != '\0';) {
		size_t n = strcspn(p, "&");

		if (n > pl && strncmp(p, name, pl) == 0 && p[pl] == '=') {
			const char *rest = p[n] == '&' ? p + n + 1 : p + n;
			size_t before = (size_t)(p - url);

			/* the separator before it goes when nothing follows it;
			 * otherwise what follows takes its place */
			if (*rest == '\0' && (url[before - 1] == '&' || url[before - 1] == '?'))
				before--;
			*value = p + pl + 1;
			*vlen = n - pl - 1;
			return xasprintf("%.*s%s", (int)before, url, rest);
		}
		p += n;
		if (*p == '&')
			p++;
	}
	return NULL;
}

/* A private space's URL with ?__sign=TICKET: answers with the host's cookie (the
 * ticket's claims in it) and a redirect to the URL without the ticket (the app never
 * sees it). 1 when it did. */
static int
conn_ticket_redirect(proxy_conn *c, const char *sub, const route_target *target)
{
	const char *t;
	size_t tn;
	char cookie[TICKET_MAX], *loc, *set, *set_x;
	ticket_claims cl;
	http_header h[4];

	loc = c->url != NULL ? url_without_param(c->url, TICKET_PARAM, &t, &tn) : NULL;
	if (loc == NULL)
		return 0;
	if (!ticket_check('t', sub, t, tn, &cl) || !claims_hold(&cl, target) ||
	    ticket_make('c', sub, TICKET_COOKIE_SECONDS, &cl, cookie, sizeof(cookie)) != 0) {
		free(loc);
		return 0;
	}
	/* Host-only (no Domain): this app host only; HttpOnly: the app's scripts
	 * cannot read it. Two of them: the hub's page embeds the app cross-site
	 * (OWNER-NAME.localhost, or another --app-domain), where only a
	 * SameSite=None cookie goes along, and browsers keep those only when
	 * Secure (TLS, or a localhost name); the Lax one serves the app opened
	 * on its own. */
	set = xasprintf(TICKET_COOKIE "=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Lax%s", cookie,
	    TICKET_COOKIE_SECONDS, c->tls != NULL ? "; Secure" : "");
	set_x = xasprintf(TICKET_COOKIE "_x=%s; Path=/; Max-Age=%d; HttpOnly; Secure; "
	    "SameSite=None; Partitioned", cookie, TICKET_COOKIE_SECONDS);
	h[0] = (http_header){ "Location", loc[0] != '\0' ? loc : "/" };
	h[1] = (http_header){ "Set-Cookie", set };
	h[2] = (http_header){ "Set-Cookie", set_x };
	h[3] = (http_header){ "Cache-Control", "no-store" };
	conn_respond_simple(c, 303, "text/plain; charset=utf-8", h, 4, "signed\n", 7);
	free(set);
	free(set_x);
	free(loc);
	return 1;
}

/* The space a hub path is about: /spaces/OWNER/NAME[.git][/...] (pages, git,
 * files) or /api/spaces/OWNER/NAME[/...]; its subdomain into sub. 0, or -1
 * for a path about no one space. */
int
hub_path_subdomain(const char *url, char *sub, size_t len)
{
	const char *p = url, *owner, *name;
	size_t on, nn;
	char o[65], n[65];

	if (strncmp(p, "/api/", 5) == 0)
		p += 4;
	if (strncmp(p, "/spaces/", 8) != 0)
		return -1;
	owner = p + 8;
	on = strcspn(owner, "/?");
	if (owner[on] != '/' || on == 0 || on >= sizeof(o))
		return -1;
	name = owner + on + 1;
	nn = strcspn(name, "/?");
	if (nn > 4 && strncmp(name + nn - 4, ".git", 4) == 0)
		nn -= 4;
	if (nn == 0 || nn >= sizeof(n))
		return -1;
	memcpy(o, owner, on);
	o[on] = '\0';
	memcpy(n, name, nn);
	n[nn] = '\0';
	name_subdomain(o, n, sub, len);
	return 0;
}

/* A hub request about a space another node owns goes to that node, which
 * holds its state (the API, its repository, its logs). */
static int
conn_hub_remote(proxy_conn *c)
{
	char sub[256];

	if (!routes_cluster() || c->url == NULL ||
	    hub_path_subdomain(c->url, sub, sizeof(sub)) != 0 ||
	    (c->target = routes_lookup(sub)) == NULL)
		return 0;
	if (c->target->kind == ROUTE_REMOTE)
		return 1;
	route_target_unref(c->target);
	c->target = NULL;
	return 0;
}

/* A request another node forwarded carries its signature (routes.h): the hops
 * so far, 0 when it carries none, -1 for one that is not this cluster's. */
static int
conn_cluster_hops(proxy_conn *c)
{
	const char *v = conn_header(c, "x-podium-forwarded");

	if (v == NULL)
		return 0;
	return routes_cluster_check(v, c->method, c->host != NULL ? c->host : "",
	    c->url != NULL ? c->url : "");
}

void
conn_route(proxy_conn *c)
{
	proxy_server *s = c->srv;
	char sub[256];
	int hops = conn_cluster_hops(c);

	if (hops < 0) {
		conn_respond_error(c, 403, "a forwarded request this cluster did not sign", NULL, 0);
		return;
	}
	c->forwarded = hops;
	/* ACME tokens and the redirect to HTTPS are for browsers, not for a request
	 * another node forwarded here */
	if (hops == 0 && tls_http_route(c))
		return;
	if (c->host != NULL && proxy_host_is_hub(s, c->host)) {
		if (conn_hub_remote(c))
			forward_dispatch(c);
		else
			hub_dispatch(c);
		return;
	}
	c->target = conn_subdomain(c, sub, sizeof(sub)) == 0 ? routes_lookup(sub) : NULL;
	/* forwarded: the node that took the request checked who may pass */
	if (c->target != NULL && c->forwarded == 0 && !conn_may_pass(c, sub)) {
		/* the answer of an unknown host: a private space's existence does not show */
		route_target *t = c->target;

		c->target = NULL;
		if (conn_ticket_redirect(c, sub, t)) {
			route_target_unref(t);
			return;
		}
		route_target_unref(t);
	}
	if (c->target == NULL) {
		conn_respond_error(c, 404, "unknown host", NULL, 0);
		return;
	}
	switch (c->target->kind) {
	case ROUTE_STATIC:
		static_serve(c);
		break;
	case ROUTE_APP:
		upstream_dispatch(c);
		break;
	case ROUTE_STARTING: {
		http_header ra = { "Retry-After", "5" };

		conn_respond_error(c, 503, c->target->message != NULL ? c->target->message :
		    "the app is starting", &ra, 1);
		break;
	}
	case ROUTE_SLEEPING:
		hold_start(c);
		break;
	case ROUTE_REMOTE:
		forward_dispatch(c);
		break;
	case ROUTE_PAUSED:
		conn_respond_error(c, 503, c->target->message != NULL ? c->target->message :
		    "this space is paused by its owner", NULL, 0);
		break;
	case ROUTE_DOWN:
	default:
		conn_respond_error(c, 502, c->target->message != NULL ? c->target->message :
		    "the app is not running", NULL, 0);
		break;
	}
}
