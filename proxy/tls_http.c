/* tls_http.c — what plain HTTP does once HTTPS is there.
 *
 * The plain listener stays for two things: ACME HTTP-01 tokens, answered
 * on any host from the challenge directory (the CA asks over port 80 before a
 * certificate exists), and a redirect to https:// for every host a loaded
 * certificate covers ("once HTTPS works": a host without one, such as
 * localhost or a space whose certificate is still being issued, is served
 * over HTTP as before).  Responses over TLS carry HSTS.
 */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "proxy/tls_int.h"

#define ACME_PREFIX "/.well-known/acme-challenge/"
#define HSTS_VALUE "max-age=31536000"

/* The token of an HTTP-01 request, or NULL. */
static const char *
acme_token(const proxy_conn *c)
{
	const char *t;
	size_t n;

	if (c->srv->cfg.acme_dir == NULL || c->url == NULL ||
	    strncmp(c->url, ACME_PREFIX, sizeof(ACME_PREFIX) - 1) != 0)
		return NULL;
	t = c->url + sizeof(ACME_PREFIX) - 1;
	n = strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_");
	return n > 0 && n <= 128 && t[n] == '\0' ? t : NULL;
}

static int
redirect_due(const proxy_conn *c)
{
	const proxy_server *s = c->srv;

	return c->tls == NULL && s->https_port > 0 && s->cfg.tls != NULL && c->host != NULL &&
	    tls_store_covers(s->cfg.tls, c->host);
}

int
tls_http_intercepts(proxy_conn *c)
{
	return c->tls == NULL && (acme_token(c) != NULL || redirect_due(c));
}

static void
acme_answer(proxy_conn *c, const char *token)
{
	char *auth = NULL;
	size_t len = 0;

	if (fs_read_file_beneath(c->srv->cfg.acme_dir, token, &auth, &len, 4096) != 0) {
		conn_respond_error(c, 404, "no such challenge", NULL, 0);
		return;
	}
	conn_respond_simple(c, 200, "application/octet-stream", NULL, 0, auth, len);
	free(auth);
}

static void
https_redirect(proxy_conn *c)
{
	int port = c->srv->https_port;
	char portbuf[16] = "";
	char *loc;
	http_header h;
	/* a form's POST stays a POST (308); GET and HEAD take the usual 301 */
	int get = strcmp(c->method, "GET") == 0 || strcmp(c->method, "HEAD") == 0;

	if (port != 443)
		snprintf(portbuf, sizeof(portbuf), ":%d", port);
	loc = xasprintf("https://%s%s%s", c->host, portbuf, c->url);
	h = (http_header){ "Location", loc };
	conn_respond_simple(c, get ? 301 : 308, "text/plain; charset=utf-8", &h, 1, "https\n", 6);
	free(loc);
}

int
tls_http_route(proxy_conn *c)
{
	const char *token;

	if (c->tls != NULL)
		return 0;
	if ((token = acme_token(c)) != NULL) {
		acme_answer(c, token);
		return 1;
	}
	if (redirect_due(c)) {
		https_redirect(c);
		return 1;
	}
	return 0;
}

const char *
tls_http_hsts(const proxy_conn *c)
{
	return c->tls != NULL ? HSTS_VALUE : NULL;
}
