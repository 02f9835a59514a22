/* pages.c — the hub's pages are rendered here, on the server, through page.h's
 * one escaping helper; /static/app.js then makes them live (stage, logs) and
 * wires the settings' buttons to the JSON API, which stays the single source of
 * truth: a page can do nothing the API does not allow. Every page sends the same
 * Content-Security-Policy: scripts, styles and fetches from the hub only, no
 * inline script or style, frames from app hosts only.
 * This file: the helpers, the top bar, the gallery and the login form. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/web_int.h"
#include "orchestrator/space.h"
#include "common/util.h"

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
page_begin(page *pg, podium *p, const http_request *r, const char *user, const char *title,
    const char *name)
{
	char csrf[80];

	pg->p = p;
	page_raw(pg, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>");
	page_text(pg, title);
	page_raw(pg, " — podium</title><link rel=\"stylesheet\" href=\"/static/style.css\">"
	    "<script type=\"module\" src=\"/static/app.js\"></script></head><body data-page=\"");
	page_text(pg, name);
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
	} else {
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
	    "base-uri 'none'; frame-ancestors 'none'", app);
	http_header h[8];
	size_t n = 0;

	page_raw(pg, "</main></body></html>\n");
	h[n++] = (http_header){ "Content-Security-Policy", csp };
	h[n++] = (http_header){ "X-Content-Type-Options", "nosniff" };
	h[n++] = (http_header){ "Referrer-Policy", "same-origin" };
	h[n++] = (http_header){ "Cache-Control", "no-store" };
	for (size_t i = 0; i < nextra && n < 8; i++)
		h[n++] = extra[i];
	http_respond(x, status, "text/html; charset=utf-8", h, n, pg->buf, pg->len);
	free(pg->buf);
	free(csp);
	free(app);
}

/* The Hub's front matter colors; anything else is gray. */
static const char *
card_color(const char *c)
{
	static const char *const known[] = { "red", "yellow", "green", "blue", "indigo", "purple",
		"pink", "gray", NULL };

	for (const char *const *k = known; c != NULL && *k != NULL; k++)
		if (strcmp(c, *k) == 0)
			return c;
	return "gray";
}

static void
gallery_card(page *pg, podium *p, space *s, int order)
{
	json_t *j = space_json(p, s, 1);
	json_t *card = json_object_get(j, "cardData");
	const char *id = json_string_value(json_object_get(j, "id"));
	const char *title = json_string_value(json_object_get(card, "title"));
	const char *emoji = json_string_value(json_object_get(card, "emoji"));
	const char *desc = json_string_value(json_object_get(card, "short_description"));
	const char *stage = json_string_value(json_object_get(json_object_get(j, "runtime"), "stage"));
	char num[32];

	page_raw(pg, "<li class=\"card from-");
	page_text(pg, card_color(json_string_value(json_object_get(card, "colorFrom"))));
	page_raw(pg, " to-");
	page_text(pg, card_color(json_string_value(json_object_get(card, "colorTo"))));
	page_raw(pg, "\" data-id=\"");
	page_text(pg, id);
	page_raw(pg, "\" data-title=\"");
	page_text(pg, title != NULL ? title : space_name(s));
	page_raw(pg, "\" data-stage=\"");
	page_text(pg, stage);
	snprintf(num, sizeof(num), "%d", order);
	page_raw(pg, "\" data-order=\"");
	page_raw(pg, num);
	page_raw(pg, "\"><a href=\"/spaces/");
	page_text(pg, id);
	page_raw(pg, "\"><span class=\"emoji\" aria-hidden=\"true\">");
	page_text(pg, emoji != NULL ? emoji : "🚀");
	page_raw(pg, "</span><span class=\"title\">");
	page_text(pg, title != NULL ? title : space_name(s));
	page_raw(pg, "</span>");
	if (desc != NULL) {
		page_raw(pg, "<span class=\"desc\">");
		page_text(pg, desc);
		page_raw(pg, "</span>");
	}
	page_raw(pg, "<span class=\"meta\"><span class=\"id\">");
	page_text(pg, id);
	page_raw(pg, "</span> <span class=\"sdk\">");
	page_text(pg, json_string_value(json_object_get(j, "sdk")));
	page_raw(pg, "</span> <span class=\"badge stage-");
	page_text(pg, stage);
	page_raw(pg, "\">");
	page_text(pg, stage);
	page_raw(pg, "</span>");
	if (space_is_private(s))
		page_raw(pg, " <span class=\"lock\" title=\"private\">🔒<span class=\"sr\">private</span></span>");
	page_raw(pg, "</span></a></li>");
	json_decref(j);
}

void
web_page_index(web_call *c)
{
	page pg = { 0 };
	int n = 0;

	page_begin(&pg, c->p, c->r, c->user, "Spaces", "gallery");
	page_raw(&pg, "<h1>Spaces</h1><div class=\"tools\"><label for=\"search\">Search</label>"
	    "<input id=\"search\" type=\"search\" placeholder=\"title, owner or name\">"
	    "<label for=\"sort\">Sort</label><select id=\"sort\"><option value=\"new\">Newest</option>"
	    "<option value=\"old\">Oldest</option><option value=\"title\">Title</option>"
	    "<option value=\"stage\">Stage</option></select></div><ul class=\"cards\" id=\"cards\">");
	for (space *s = c->p->spaces; s != NULL; s = space_next(s)) {
		if (!web_may_read(c->user, s))
			continue;
		gallery_card(&pg, c->p, s, n++);
	}
	page_raw(&pg, "</ul>");
	if (n == 0)
		page_raw(&pg, "<p class=\"muted\">No spaces yet. <a href=\"/new\">Create one</a>, or "
		    "<code>POST /api/repos/create</code>.</p>");
	page_finish(&pg, c->x, 200, NULL, 0);
}

void
web_page_login(podium *p, http_exchange *x, int status, const char *error, const char *next,
    const char *csrf, const http_header *extra, size_t nextra)
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
	    "name=\"username\" autocomplete=\"username\" required autofocus>"
	    "<label for=\"password\">Password</label><input id=\"password\" name=\"password\" "
	    "type=\"password\" autocomplete=\"current-password\" required>"
	    "<button type=\"submit\">Sign in</button></form>"
	    "<p class=\"muted\">Accounts are made by an admin: <code>podium user add</code> or /admin.</p>"
	    "</div>");
	page_finish(&pg, x, status, extra, nextra);
}
