/* pages.c — the hub's pages are rendered here, on the server, through page.h's
 * one escaping helper; /static/app.js then makes them live (stage, logs) and
 * wires the settings' buttons to the JSON API, which stays the single source of
 * truth: a page can do nothing the API does not allow. Every page sends the same
 * Content-Security-Policy: scripts, styles and fetches from the hub only, no
 * inline script or style, frames from app hosts only.
 * This file: the helpers, the top bar, stages in words, error pages and the
 * login form. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/web_int.h"
#include "orchestrator/space.h"
#include "common/util.h"

#define PAGE_GZIP_MIN 8192

static void
page_add(page *pg, const char *s, size_t n)
{
	if (pg->len + n + 1 > pg->cap) {
		pg->cap = (pg->len + n + 1) * 2;
		pg->buf = xrealloc(pg->buf, pg->cap);
	}
	memcpy(pg->buf + pg->len, s, n);
	pg->len += n;
	pg->buf[pg->len] = '\0';
}

void
page_raw(page *pg, const char *s)
{
	page_add(pg, s, strlen(s));
}

void
page_text(page *pg, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '<': page_raw(pg, "&lt;"); break;
		case '>': page_raw(pg, "&gt;"); break;
		case '&': page_raw(pg, "&amp;"); break;
		case '"': page_raw(pg, "&quot;"); break;
		case '\'': page_raw(pg, "&#39;"); break;
		default: page_add(pg, s, 1);
		}
	}
}

void
page_textf(page *pg, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	page_text(pg, buf);
}

void
page_rawf(page *pg, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	page_raw(pg, buf);
}

void
page_begin(page *pg, podium *p, const http_request *r, const char *user, const char *title,
    const char *name)
{
	char csrf[80];

	pg->p = p;
	page_raw(pg, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>");
	page_text(pg, title);
	page_raw(pg, " — podium</title><link rel=\"icon\" type=\"image/svg+xml\" href=\"");
	page_raw(pg, web_asset_path("favicon.svg"));
	page_raw(pg, "\"><link rel=\"stylesheet\" href=\"");
	page_raw(pg, web_asset_path("style.css"));
	page_raw(pg, "\"><script type=\"module\" src=\"");
	page_raw(pg, web_asset_path("app.js"));
	page_raw(pg, "\"></script></head><body data-page=\"");
	page_text(pg, name);
	if (user != NULL) {
		page_raw(pg, "\" data-user=\"");
		page_text(pg, user);
	}
	if (pg->embed) {
		page_raw(pg, "\" class=\"embed\"><main id=\"main\">");
		return;
	}
	page_raw(pg, "\"><header class=\"bar\"><a class=\"brand\" href=\"/\">podium</a><nav>"
	    "<a href=\"/\">Spaces</a>");
	if (user != NULL) {
		page_raw(pg, "<a href=\"/new\">New space</a><a href=\"/settings/tokens\">Tokens</a>");
		if (auth_is_admin(user))
			page_raw(pg, "<a href=\"/admin\">Admin</a>");
	}
	page_raw(pg, "</nav><div class=\"who\">");
	if (user != NULL) {
		page_raw(pg, "<span id=\"whoami\">Signed in as <b>");
		page_text(pg, user);
		page_raw(pg, "</b></span>");
		if (session_csrf(p, r, csrf, sizeof(csrf)) == 0) {
			page_raw(pg, "<form method=\"post\" action=\"/logout\" class=\"inline\">"
			    "<input type=\"hidden\" name=\"csrf\" value=\"");
			page_text(pg, csrf);
			page_raw(pg, "\"><button type=\"submit\" class=\"link\">Log out</button></form>");
		}
	} else if (strcmp(r->path, "/login") != 0) {
		page_raw(pg, "<a class=\"button\" href=\"/login?next=");
		page_text(pg, r->path);
		page_raw(pg, "\">Sign in</a>");
	}
	page_raw(pg, "</div></header><main id=\"main\">");
}

void
page_finish(page *pg, http_exchange *x, int status, const http_header *extra, size_t nextra)
{
	char *app = podium_space_url(pg->p, "*");
	char *csp = xasprintf("default-src 'none'; script-src 'self'; style-src 'self'; "
	    "img-src 'self' data:; connect-src 'self'; frame-src %s; form-action 'self'; "
	    "base-uri 'none'; frame-ancestors %s", app, pg->embed ? "*" : "'none'");
	http_header h[10];
	unsigned char *gz;
	size_t n = 0, gzlen;

	page_raw(pg, "</main></body></html>\n");
	h[n++] = (http_header){ "Content-Security-Policy", csp };
	h[n++] = (http_header){ "X-Content-Type-Options", "nosniff" };
	h[n++] = (http_header){ "Referrer-Policy", "same-origin" };
	h[n++] = (http_header){ "Cache-Control", "no-store" };
	for (size_t i = 0; i < nextra && n < 8; i++)
		h[n++] = extra[i];
	/* a long page (a big README, a folder of many files) goes compressed: the
	 * fastest level already sends a tenth of the bytes, for a millisecond or two */
	if (pg->len > PAGE_GZIP_MIN && n + 2 <= 10 &&
	    web_header_has(http_exchange_request(x), "accept-encoding", "gzip") &&
	    (gz = web_gzip(pg->buf, pg->len, 1, &gzlen)) != NULL) {
		h[n++] = (http_header){ "Content-Encoding", "gzip" };
		h[n++] = (http_header){ "Vary", "Accept-Encoding" };
		http_respond(x, status, "text/html; charset=utf-8", h, n, gz, gzlen);
		free(gz);
	} else {
		http_respond(x, status, "text/html; charset=utf-8", h, n, pg->buf, pg->len);
	}
	free(pg->buf);
	free(csp);
	free(app);
}

/* What each stage is called on the pages; the badge's class says its group. */
static const char *const stage_words[][2] = {
	{ "RUNNING", "Running" }, { "RUNNING_BUILDING", "Running, building a new version" },
	{ "RUNNING_APP_STARTING", "Running, starting a new version" }, { "BUILDING", "Building" },
	{ "APP_STARTING", "Starting" }, { "SLEEPING", "Sleeping" }, { "PAUSED", "Paused" },
	{ "STOPPED", "Stopped" }, { "BUILD_ERROR", "Build error" }, { "CONFIG_ERROR", "Config error" },
	{ "RUNTIME_ERROR", "Runtime error" }, { "NO_APP_FILE", "No app yet" },
	{ "DELETING", "Deleting" },
};

const char *
page_stage_words(const char *stage)
{
	for (size_t i = 0; stage != NULL && i < sizeof(stage_words) / sizeof(stage_words[0]); i++)
		if (strcmp(stage_words[i][0], stage) == 0)
			return stage_words[i][1];
	return stage != NULL ? stage : "";
}

void
page_stage_badge(page *pg, const char *stage, const char *id)
{
	page_raw(pg, "<span");
	if (id != NULL) {
		page_raw(pg, " id=\"");
		page_raw(pg, id);
		page_raw(pg, "\"");
	}
	page_raw(pg, " class=\"badge stage-");
	page_text(pg, stage);
	page_raw(pg, "\" data-stage=\"");
	page_text(pg, stage);
	page_raw(pg, "\">");
	page_text(pg, page_stage_words(stage));
	page_raw(pg, "</span>");
}

/* Does the client read HTML (a browser), rather than JSON or text? */
static int
wants_html(const http_request *r)
{
	const char *a = http_request_header(r, "accept");

	return a != NULL && strstr(a, "text/html") != NULL;
}

void
web_page_error_with(web_call *c, int status, const char *msg, const http_header *extra,
    size_t nextra)
{
	page pg = { 0 };
	char title[64];

	if (!wants_html(c->r)) {
		http_respond_error_with(c->x, status, msg, extra, nextra);
		return;
	}
	snprintf(title, sizeof(title), "%d %s", status, http_status_text(status));
	page_begin(&pg, c->p, c->r, c->user, title, "error");
	page_raw(&pg, "<div class=\"narrow panel\"><h1>");
	page_text(&pg, title);
	page_raw(&pg, "</h1><p>");
	page_text(&pg, msg);
	page_raw(&pg, "</p>");
	if (c->user == NULL && (status == 404 || status == 403)) {
		/* a private space is the same 404 as a missing one: its owner signs in */
		page_raw(&pg, "<p>A private space shows only to its owner: <a href=\"/login?next=");
		page_text(&pg, c->r->path);
		page_raw(&pg, "\">sign in</a> to see yours.</p>");
	}
	page_raw(&pg, "<p><a href=\"/\">All spaces</a></p></div>");
	page_finish(&pg, c->x, status, extra, nextra);
}

void
web_page_error(web_call *c, int status, const char *msg)
{
	web_page_error_with(c, status, msg, NULL, 0);
}

void
web_page_login(podium *p, http_exchange *x, int status, const char *error, const char *next,
    const char *user, const char *csrf, const http_header *extra, size_t nextra)
{
	const http_request *r = http_exchange_request(x);
	page pg = { 0 };

	page_begin(&pg, p, r, NULL, "Sign in", "login");
	page_raw(&pg, "<div class=\"narrow\"><h1>Sign in</h1>");
	if (error != NULL) {
		page_raw(&pg, "<p class=\"error\" role=\"alert\">");
		page_text(&pg, error);
		page_raw(&pg, "</p>");
	}
	page_raw(&pg, "<form method=\"post\" action=\"/login\" class=\"panel\">"
	    "<input type=\"hidden\" name=\"csrf\" value=\"");
	page_text(&pg, csrf);
	page_raw(&pg, "\"><input type=\"hidden\" name=\"next\" value=\"");
	page_text(&pg, next);
	page_raw(&pg, "\"><label for=\"username\">User name</label><input id=\"username\" "
	    "name=\"username\" autocomplete=\"username\" required");
	if (user != NULL && user[0] != '\0') {
		/* kept after a wrong password: the password field takes the focus */
		page_raw(&pg, " value=\"");
		page_text(&pg, user);
		page_raw(&pg, "\"><label for=\"password\">Password</label><input id=\"password\" "
		    "name=\"password\" type=\"password\" autocomplete=\"current-password\" required "
		    "autofocus>");
	} else {
		page_raw(&pg, " autofocus><label for=\"password\">Password</label><input id=\"password\" "
		    "name=\"password\" type=\"password\" autocomplete=\"current-password\" required>");
	}
	page_raw(&pg, "<button type=\"submit\">Sign in</button></form>"
	    "<p class=\"muted\">Accounts are made by an admin: <code>podium user add</code> or /admin.</p>"
	    "</div>");
	page_finish(&pg, x, status, extra, nextra);
}
