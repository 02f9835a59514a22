/* errors.c — podium's own responses: error pages (HTML for browsers, JSON for
 * everything else) and small complete responses. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy_int.h"
#include "util.h"

int
conn_respond_head_body(proxy_conn *c, int status, const char *ctype,
    const http_header *extra, size_t nextra, const void *body, size_t len)
{
	http_header h[32];
	size_t n = 0;
	int r;

	if (ctype != NULL)
		h[n++] = (http_header){ "Content-Type", ctype };
	for (size_t i = 0; i < nextra && n < 32; i++)
		h[n++] = extra[i];
	r = conn_resp_start(c, status, NULL, h, n, (int64_t)len);
	if (r == 0 && len > 0)
		r = conn_resp_body(c, body, len);
	return r;
}

int
conn_respond_simple(proxy_conn *c, int status, const char *ctype,
    const http_header *extra, size_t nextra, const void *body, size_t len)
{
	int r = conn_respond_head_body(c, status, ctype, extra, nextra, body, len);

	if (r == 0)
		r = conn_resp_end(c);
	return r;
}

static int
wants_html(const char *accept)
{
	return accept != NULL && strstr(accept, "text/html") != NULL;
}

static char *
html_escape(const char *s)
{
	size_t n = 0;
	char *out, *o;

	for (const char *p = s; *p != '\0'; p++)
		n += (*p == '<' || *p == '>' || *p == '&' || *p == '"') ? 6 : 1;
	out = o = xmalloc(n + 1);
	for (const char *p = s; *p != '\0'; p++) {
		switch (*p) {
		case '<': o = stpcpy(o, "&lt;"); break;
		case '>': o = stpcpy(o, "&gt;"); break;
		case '&': o = stpcpy(o, "&amp;"); break;
		case '"': o = stpcpy(o, "&quot;"); break;
		default: *o++ = *p;
		}
	}
	*o = '\0';
	return out;
}

int
conn_respond_error(proxy_conn *c, int status, const char *message,
    const http_header *extra, size_t nextra)
{
	const char *accept = c->head.hdrs != NULL ? conn_header(c, "accept") : NULL;
	char *body;
	int r;

	if (c->out.started) {
		/* Too late for a status: cut the response so the client sees an error. */
		conn_abort(c);
		return -EALREADY;
	}
	if (wants_html(accept)) {
		char *m = html_escape(message);

		body = xasprintf("<!doctype html>\n<html><head><meta charset=\"utf-8\">"
		    "<title>%d %s</title></head>\n<body style=\"font-family:sans-serif;"
		    "max-width:40em;margin:4em auto\"><h1>%d %s</h1>\n<p>%s</p>\n"
		    "<hr><p><small>podium</small></p></body></html>\n",
		    status, http_status_text(status), status, http_status_text(status), m);
		free(m);
		r = conn_respond_simple(c, status, "text/html; charset=utf-8", extra, nextra,
		    body, strlen(body));
	} else {
		json_t *j = json_pack("{s:s}", "error", message);

		body = json_dumps(j, JSON_COMPACT);
		json_decref(j);
		if (body == NULL)
			body = xstrdup("{\"error\":\"error\"}");
		/* keep the newline out of json: append for terminals */
		char *nl = xasprintf("%s\n", body);

		free(body);
		body = nl;
		r = conn_respond_simple(c, status, "application/json", extra, nextra,
		    body, strlen(body));
	}
	free(body);
	return r;
}
