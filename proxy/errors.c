/* errors.c — podium's own responses: error pages (HTML for browsers, JSON for
 * everything else) and small complete responses. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/proxy_int.h"
#include "common/util.h"

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
		char *m = html_escape(message), hub[300];
		int port = c->srv->port;

		/* the hub's look (web/static/style.css: its bar, colours and panel),
		 * inline: the page may be on an app's host, another origin */
		snprintf(hub, sizeof(hub), port == 80 ? "http://%s/" : "http://%s:%d/", c->srv->domain,
		    port);
		body = xasprintf("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
		    "<title>%d %s &middot; podium</title><style>"
		    "body{margin:0;font-family:system-ui,-apple-system,\"Segoe UI\",sans-serif;"
		    "color:#1f2937;background:#f9fafb;line-height:1.45}"
		    ".bar{padding:.6rem 1rem;background:#111827}"
		    ".bar a{color:#f9fafb;font-weight:700;font-size:1.1rem;text-decoration:none}"
		    "main{max-width:40rem;margin:3rem auto;padding:0 1rem}"
		    ".panel{background:#fff;border:1px solid #e5e7eb;border-radius:10px;padding:1rem 1.4rem}"
		    "h1{font-size:1.6rem;margin:.4rem 0;overflow-wrap:anywhere}"
		    "p{overflow-wrap:anywhere}.muted{color:#6b7280}</style></head>\n"
		    "<body><header class=\"bar\"><a href=\"%s\">podium</a></header>\n"
		    "<main><div class=\"panel\"><h1>%d %s</h1>\n<p>%s</p></div>\n"
		    "<p class=\"muted\">Back to <a href=\"%s\">all spaces</a>.</p></main></body></html>\n",
		    status, http_status_text(status), hub, status, http_status_text(status), m, hub);
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
