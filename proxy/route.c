/* route.c — the "route" step of a request's lifecycle: its Host names the hub
 * (web UI, API, git) or a space; a space's route table entry says whether
 * podium serves its files, proxies to its app, or answers that the app is
 * starting or down. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "proxy_int.h"
#include "util.h"

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

int
proxy_host_is_hub(const proxy_server *s, const char *host)
{
	return strcmp(host, s->domain) == 0 || strcmp(host, "127.0.0.1") == 0 ||
	    strcmp(host, "[::1]") == 0;
}

int
conn_subdomain(const proxy_conn *c, char *sub, size_t len)
{
	size_t hl, dl = strlen(c->srv->domain);

	if (c->host == NULL || (hl = strlen(c->host)) <= dl + 1 || c->host[hl - dl - 1] != '.' ||
	    strcmp(c->host + hl - dl, c->srv->domain) != 0 || hl - dl - 1 >= len)
		return -1;
	memcpy(sub, c->host, hl - dl - 1);
	sub[hl - dl - 1] = '\0';
	return strchr(sub, '.') == NULL ? 0 : -1;
}

/* May this request reach its space? A private space's host lets through only a
 * token of its owner or an admin. A valid podium token is never passed on to an
 * app, private or public: the app is untrusted code, and with the token it could
 * act as that user on the hub (clients that send the token everywhere would hand
 * it to any public space). Other Authorization values are the app's own business
 * and go through. */
static int
conn_may_pass(proxy_conn *c)
{
	int pass = c->target->private_owner == NULL, ok;

	for (size_t i = 0; i < c->head.nhdrs; i++) {
		if (!hdr_is(c->head.hdrs[i].name, "authorization"))
			continue;
		if (route_target_token(c->target, c->head.hdrs[i].value, &ok)) {
			c->strip_auth = 1;
			pass |= ok;
		}
	}
	return pass;
}

void
conn_route(proxy_conn *c)
{
	proxy_server *s = c->srv;
	char sub[256];

	if (c->host != NULL && proxy_host_is_hub(s, c->host)) {
		c->is_hub = 1;
		hub_dispatch(c);
		return;
	}
	c->target = conn_subdomain(c, sub, sizeof(sub)) == 0 ? routes_lookup(sub) : NULL;
	if (c->target != NULL && !conn_may_pass(c)) {
		/* the answer of an unknown host: a private space's existence does not show */
		route_target_unref(c->target);
		c->target = NULL;
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
