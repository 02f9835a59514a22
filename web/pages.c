/* pages.c — minimal hub pages: the index of spaces and a space's page. The full web
 * UI grows here later. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "space.h"
#include "util.h"
#include "web.h"

typedef struct page {
	char *buf;
	size_t len, cap;
} page;

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

static void
page_raw(page *pg, const char *s)
{
	page_add(pg, s, strlen(s));
}

/* Text from users (names, titles, errors) is always escaped. */
static void
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

static void
page_head(page *pg, const char *title)
{
	page_raw(pg, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>");
	page_text(pg, title);
	page_raw(pg, "</title><style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;"
	    "padding:0 1rem;color:#1f2937}a{color:#2563eb}table{border-collapse:collapse;width:100%}"
	    "td,th{padding:.4rem .6rem;border-bottom:1px solid #e5e7eb;text-align:left}"
	    ".stage{font-family:monospace;font-size:.85rem}pre{background:#f3f4f6;padding:1rem;"
	    "overflow:auto}</style></head><body>");
}

static void
page_send(http_exchange *x, page *pg)
{
	page_raw(pg, "</body></html>\n");
	http_respond(x, 200, "text/html; charset=utf-8", NULL, 0, pg->buf, pg->len);
	free(pg->buf);
}

void
web_page_index(podium *p, http_exchange *x, const char *user)
{
	page pg = { 0 };
	int any = 0;

	page_head(&pg, "podium — spaces");
	page_raw(&pg, "<h1>podium</h1><p>Self-hosted spaces: push a demo app with git, get a live URL.</p>"
	    "<table><tr><th>Space</th><th>SDK</th><th>Stage</th><th>App</th></tr>");
	for (space *s = p->spaces; s != NULL; s = space_next(s)) {
		if (space_is_private(s) && !auth_may_write(user, space_owner(s)))
			continue;
		json_t *j = space_json(p, s, 0);
		const char *id = json_string_value(json_object_get(j, "id"));
		const char *host = json_string_value(json_object_get(j, "host"));
		page_raw(&pg, "<tr><td><a href=\"/spaces/");
		page_text(&pg, id);
		page_raw(&pg, "\">");
		page_text(&pg, id);
		page_raw(&pg, "</a></td><td>");
		page_text(&pg, json_string_value(json_object_get(j, "sdk")));
		page_raw(&pg, "</td><td class=\"stage\">");
		page_text(&pg, json_string_value(json_object_get(json_object_get(j, "runtime"), "stage")));
		page_raw(&pg, "</td><td><a href=\"");
		page_text(&pg, host);
		page_raw(&pg, "/\">");
		page_text(&pg, host);
		page_raw(&pg, "</a></td></tr>");
		json_decref(j);
		any = 1;
	}
	page_raw(&pg, "</table>");
	if (!any)
		page_raw(&pg, "<p>No spaces yet. Create one with <code>POST /api/repos/create</code>.</p>");
	page_send(x, &pg);
}

void
web_page_space(podium *p, http_exchange *x, space *s)
{
	json_t *j = space_json(p, s, 1);
	json_t *rt = json_object_get(j, "runtime");
	const char *id = json_string_value(json_object_get(j, "id"));
	const char *host = json_string_value(json_object_get(j, "host"));
	const char *title = json_string_value(json_object_get(json_object_get(j, "cardData"), "title"));
	const char *err = json_string_value(json_object_get(rt, "errorMessage"));
	const char *stage = json_string_value(json_object_get(rt, "stage"));
	int redeploy = strcmp(stage, "RUNNING_BUILDING") == 0 ||
	    strcmp(stage, "RUNNING_APP_STARTING") == 0;
	char *hub = podium_hub_url(p);
	page pg = { 0 };

	page_head(&pg, title != NULL ? title : id);
	page_raw(&pg, "<p><a href=\"/\">podium</a> / ");
	page_text(&pg, id);
	page_raw(&pg, "</p><h1>");
	page_text(&pg, title != NULL ? title : id);
	page_raw(&pg, "</h1><p>Stage: <span class=\"stage\">");
	page_text(&pg, stage);
	page_raw(&pg, "</span> — app: <a href=\"");
	page_text(&pg, host);
	page_raw(&pg, "/\">");
	page_text(&pg, host);
	page_raw(&pg, "</a></p>");
	if (redeploy) {
		/* the previous release serves until the new one is ready */
		page_raw(&pg, "<p class=\"redeploy\">A new version is ");
		page_raw(&pg, strcmp(stage, "RUNNING_BUILDING") == 0 ? "building" : "starting");
		page_raw(&pg, "; the current one keeps serving until it is ready.</p>");
	}
	if (redeploy || strcmp(stage, "RUNNING") == 0) {
		/* The app itself, embedded as on a Hub space page. */
		page_raw(&pg, "<iframe title=\"app\" src=\"");
		page_text(&pg, host);
		page_raw(&pg, "/\" style=\"width:100%;height:70vh;border:1px solid #e5e7eb;"
		    "border-radius:8px\"></iframe>");
	}
	if (err != NULL) {
		page_raw(&pg, "<h2>Error</h2><pre>");
		page_text(&pg, err);
		page_raw(&pg, "</pre>");
	}
	page_raw(&pg, "<h2>Deploy</h2><pre>git push ");
	page_text(&pg, hub);
	page_raw(&pg, "/spaces/");
	page_text(&pg, id);
	page_raw(&pg, " main</pre>");
	page_send(x, &pg);
	free(hub);
	json_decref(j);
}

void
web_page_login(podium *p, http_exchange *x, int status, const char *error, const char *next,
    const char *csrf, const http_header *extra, size_t nextra)
{
	page pg = { 0 };

	page_head(&pg, "Sign in — podium");
	page_raw(&pg, "<main><h1>Sign in</h1>");
	if (error != NULL) {
		page_raw(&pg, "<p class=\"error\" role=\"alert\">");
		page_text(&pg, error);
		page_raw(&pg, "</p>");
	}
	page_raw(&pg, "<form method=\"post\" action=\"/login\"><input type=\"hidden\" name=\"csrf\" value=\"");
	page_text(&pg, csrf);
	page_raw(&pg, "\"><input type=\"hidden\" name=\"next\" value=\"");
	page_text(&pg, next);
	page_raw(&pg, "\"><p><label for=\"username\">User name</label><br><input id=\"username\" "
	    "name=\"username\" autocomplete=\"username\" required autofocus></p>"
	    "<p><label for=\"password\">Password</label><br><input id=\"password\" name=\"password\" "
	    "type=\"password\" autocomplete=\"current-password\" required></p>"
	    "<p><button type=\"submit\">Sign in</button></p></form></main></body></html>\n");
	http_respond(x, status, "text/html; charset=utf-8", extra, nextra, pg.buf, pg.len);
	free(pg.buf);
}
