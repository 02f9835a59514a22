/* pages_space.c — a space's pages: the app (or its state), its logs, its settings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/host/flavors.h"
#include "web/web_int.h"
#include "orchestrator/space.h"
#include "proxy/routes.h"
#include "proxy/ticket.h"
#include "common/util.h"

static int
stage_serving(const char *stage)
{
	return strcmp(stage, "RUNNING") == 0 || strcmp(stage, "RUNNING_BUILDING") == 0 ||
	    strcmp(stage, "RUNNING_APP_STARTING") == 0;
}

/* The title, owner/name, stage badge and the space's tabs. */
static void
space_header(page *pg, json_t *j, space *s, const char *user, const char *tab)
{
	const char *id = json_string_value(json_object_get(j, "id"));
	const char *title = json_string_value(json_object_get(json_object_get(j, "cardData"), "title"));
	const char *emoji = json_string_value(json_object_get(json_object_get(j, "cardData"), "emoji"));
	const char *stage = json_string_value(json_object_get(json_object_get(j, "runtime"), "stage"));
	static const char *const tabs[][2] = { { "", "App" }, { "/logs", "Logs" },
		{ "/settings", "Settings" } };

	page_raw(pg, "<div class=\"space-head\" data-space=\"");
	page_text(pg, id);
	page_raw(pg, "\"><p class=\"crumbs\"><a href=\"/\">Spaces</a> / <a href=\"/spaces/");
	page_text(pg, id);
	page_raw(pg, "\">");
	page_text(pg, id);
	page_raw(pg, "</a>");
	if (space_is_private(s))
		page_raw(pg, " <span class=\"lock\" title=\"private\">🔒 private</span>");
	page_raw(pg, "</p><h1><span aria-hidden=\"true\">");
	page_text(pg, emoji != NULL ? emoji : "🚀");
	page_raw(pg, "</span> ");
	page_text(pg, title != NULL ? title : space_name(s));
	page_raw(pg, "</h1><p>Stage: <span id=\"stage\" class=\"badge stage-");
	page_text(pg, stage);
	page_raw(pg, "\" aria-live=\"polite\">");
	page_text(pg, stage);
	page_raw(pg, "</span></p><nav class=\"tabs\" aria-label=\"space\">");
	for (size_t i = 0; i < 3; i++) {
		if (i == 2 && !auth_may_write(user, space_owner(s)))
			continue;
		page_raw(pg, "<a href=\"/spaces/");
		page_text(pg, id);
		page_raw(pg, tabs[i][0]);
		page_raw(pg, strcmp(tab, tabs[i][0]) == 0 ? "\" aria-current=\"page\">" : "\">");
		page_raw(pg, tabs[i][1]);
		page_raw(pg, "</a>");
	}
	page_raw(pg, "</nav></div>");
}

/* The iframe's URL: a private app's carries a fresh ticket, minted from the
 * caller's session or token and for the space as it is now: it ends with either
 * (ticket.h). Caller frees. */
static char *
app_frame_url(const web_call *c, const char *host, space *s, const char *sub)
{
	ticket_claims cl = { .epoch = space_access_epoch(s) };
	char t[TICKET_MAX];

	route_cred_id(c->ai.cred, cl.cred);
	if (space_is_private(s) && c->ai.has_cred &&
	    ticket_make('t', sub, TICKET_URL_SECONDS, &cl, t, sizeof(t)) == 0)
		return xasprintf("%s/?" TICKET_PARAM "=%s", host, t);
	return xasprintf("%s/", host);
}

void
web_page_space(web_call *c)
{
	json_t *j = space_json(c->p, c->s, 1);
	json_t *rt = json_object_get(j, "runtime");
	const char *id = json_string_value(json_object_get(j, "id"));
	const char *host = json_string_value(json_object_get(j, "host"));
	const char *err = json_string_value(json_object_get(rt, "errorMessage"));
	const char *stage = json_string_value(json_object_get(rt, "stage"));
	const char *title = json_string_value(json_object_get(json_object_get(j, "cardData"), "title"));
	const char *h = strstr(host, "://");
	char *hub = podium_hub_url(c->p), *sub, *frame;
	page pg = { 0 };

	/* OWNER-NAME out of http://OWNER-NAME.DOMAIN:PORT */
	h = h != NULL ? h + 3 : host;
	sub = xstrndup(h, strcspn(h, "."));
	frame = app_frame_url(c, host, c->s, sub);
	page_begin(&pg, c->p, c->r, c->user, title != NULL ? title : id, "space");
	space_header(&pg, j, c->s, c->user, "");
	page_raw(&pg, "<section id=\"state\">");
	if (strcmp(stage, "RUNNING_BUILDING") == 0 || strcmp(stage, "RUNNING_APP_STARTING") == 0) {
		/* the previous release serves until the new one is ready */
		page_raw(&pg, "<p class=\"redeploy\">A new version is ");
		page_raw(&pg, strcmp(stage, "RUNNING_BUILDING") == 0 ? "building" : "starting");
		page_raw(&pg, "; the current one keeps serving until it is ready.</p>");
	}
	if (stage_serving(stage)) {
		page_raw(&pg, "<iframe title=\"app\" src=\"");
		page_text(&pg, frame);
		page_raw(&pg, "\" class=\"app\"></iframe><p class=\"muted\">Open the app: <a href=\"");
		page_text(&pg, frame);
		page_raw(&pg, "\" target=\"_blank\" rel=\"noopener\">");
		page_text(&pg, host);
		page_raw(&pg, "</a></p>");
	} else if (strcmp(stage, "SLEEPING") == 0) {
		page_raw(&pg, "<div class=\"panel\"><h2>Sleeping</h2><p>No process runs; it wakes on visit. "
		    "<a href=\"");
		page_text(&pg, frame);
		page_raw(&pg, "\">Open the app</a> to wake it.</p></div>");
	} else if (strcmp(stage, "PAUSED") == 0) {
		page_raw(&pg, "<div class=\"panel\"><h2>Paused</h2><p>Paused by its owner; "
		    "a restart in Settings resumes it.</p></div>");
	} else if (strcmp(stage, "BUILDING") == 0 || strcmp(stage, "APP_STARTING") == 0) {
		page_raw(&pg, "<div class=\"panel\"><h2>");
		page_raw(&pg, stage[0] == 'B' ? "Building" : "Starting");
		page_raw(&pg, "</h2><p>The build log, live:</p><pre class=\"log\" id=\"buildlog\" "
		    "tabindex=\"0\" data-log=\"/api/spaces/");
		page_text(&pg, id);
		page_raw(&pg, "/logs/build\"></pre></div>");
	} else if (strcmp(stage, "NO_APP_FILE") == 0 && err == NULL) {
		page_raw(&pg, "<div class=\"panel\"><h2>Nothing deployed yet</h2>"
		    "<p>Push an app with git (below).</p></div>");
	}
	if (err != NULL) {
		page_raw(&pg, "<div class=\"panel error\"><h2>Error</h2><pre>");
		page_text(&pg, err);
		page_raw(&pg, "</pre><p>The build log:</p><pre class=\"log\" id=\"buildlog\" tabindex=\"0\" "
		    "data-log=\"/api/spaces/");
		page_text(&pg, id);
		page_raw(&pg, "/logs/build\"></pre></div>");
	}
	page_raw(&pg, "</section><section class=\"panel\"><h2>Deploy</h2><pre id=\"remote\">git push ");
	page_text(&pg, hub);
	page_raw(&pg, "/spaces/");
	page_text(&pg, id);
	page_raw(&pg, " main</pre>");
	if (auth_may_write(c->user, space_owner(c->s))) {
		page_raw(&pg, "<p>The git remote (your user name, a write token from "
		    "<a href=\"/settings/tokens\">Tokens</a> as the password):</p><pre id=\"giturl\">");
		page_text(&pg, hub);
		page_raw(&pg, "/spaces/");
		page_text(&pg, id);
		page_raw(&pg, "</pre><button type=\"button\" data-copy=\"giturl\">Copy git remote</button>");
	}
	page_raw(&pg, "</section>");
	page_finish(&pg, c->x, 200, NULL, 0);
	free(frame);
	free(sub);
	free(hub);
	json_decref(j);
}

void
web_page_logs(web_call *c)
{
	json_t *j = space_json(c->p, c->s, 1);
	const char *id = json_string_value(json_object_get(j, "id"));
	page pg = { 0 };

	page_begin(&pg, c->p, c->r, c->user, id, "logs");
	space_header(&pg, j, c->s, c->user, "/logs");
	page_raw(&pg, "<p><label><input type=\"checkbox\" id=\"follow\" checked> Follow</label></p>");
	for (int i = 0; i < 2; i++) {
		page_raw(&pg, i == 0 ? "<h2 id=\"build-h\">Build log</h2>" : "<h2 id=\"run-h\">App log</h2>");
		page_raw(&pg, "<pre class=\"log\" tabindex=\"0\" aria-labelledby=\"");
		page_raw(&pg, i == 0 ? "build-h\" id=\"buildlog\"" : "run-h\" id=\"runlog\"");
		page_raw(&pg, " data-log=\"/api/spaces/");
		page_text(&pg, id);
		page_raw(&pg, i == 0 ? "/logs/build\"></pre>" : "/logs/run\"></pre>");
	}
	page_finish(&pg, c->x, 200, NULL, 0);
	json_decref(j);
}

/* A form the page script sends to the API as JSON: data-api, data-method. */
static void
form_open(page *pg, const char *id, const char *api, const char *method, const char *title)
{
	page_raw(pg, "<form class=\"panel api\" data-api=\"/api/spaces/");
	page_text(pg, id);
	page_text(pg, api);
	page_raw(pg, "\" data-method=\"");
	page_raw(pg, method);
	page_raw(pg, "\"><h2>");
	page_raw(pg, title);
	page_raw(pg, "</h2>");
}

/* Settings: restart, pause, sleep time, hardware, storage. */
static void
settings_controls(page *pg, const char *id, json_t *rt)
{
	static const char *const acts[][3] = {
		{ "/restart", "Restart", "restart" }, { "/restart?factory=true", "Factory rebuild", "factory" },
		{ "/pause", "Pause", "pause" }, { "/restart", "Resume", "resume" } };
	const char *cur = json_string_value(json_object_get(json_object_get(rt, "hardware"), "requested"));
	json_t *gc = json_object_get(rt, "gcTimeout");
	char names[1024];

	page_raw(pg, "<div class=\"panel\"><h2>Run</h2><div class=\"row\">");
	for (size_t i = 0; i < 4; i++) {
		page_raw(pg, "<button type=\"button\" data-post=\"/api/spaces/");
		page_text(pg, id);
		page_raw(pg, acts[i][0]);
		page_raw(pg, "\" id=\"act-");
		page_raw(pg, acts[i][2]);
		page_raw(pg, "\">");
		page_raw(pg, acts[i][1]);
		page_raw(pg, "</button>");
	}
	page_raw(pg, "</div></div>");

	form_open(pg, id, "/sleeptime", "POST", "Sleep time");
	page_raw(pg, "<label for=\"seconds\">Sleep after this many idle seconds (-1: never)</label>"
	    "<input id=\"seconds\" name=\"seconds\" type=\"number\" data-type=\"int\" min=\"-1\" value=\"");
	page_textf(pg, "%lld", json_is_integer(gc) ? (long long)json_integer_value(gc) : -1LL);
	page_raw(pg, "\"><button type=\"submit\">Save sleep time</button></form>");

	form_open(pg, id, "/hardware", "POST", "Hardware");
	page_raw(pg, "<label for=\"flavor\">Flavor</label><select id=\"flavor\" name=\"flavor\">");
	snprintf(names, sizeof(names), "%s", flavor_names());
	for (char *save = NULL, *f = strtok_r(names, ", ", &save); f != NULL; f = strtok_r(NULL, ", ", &save)) {
		page_raw(pg, "<option");
		if (cur != NULL && strcmp(cur, f) == 0)
			page_raw(pg, " selected");
		page_raw(pg, ">");
		page_text(pg, f);
		page_raw(pg, "</option>");
	}
	page_raw(pg, "</select><button type=\"submit\">Save hardware</button></form>");

	form_open(pg, id, "/storage", "POST", "Storage");
	page_raw(pg, "<label for=\"tier\">Persistent /data tier (now: ");
	page_text(pg, json_string_value(json_object_get(rt, "storage")));
	page_raw(pg, ")</label><select id=\"tier\" name=\"tier\"><option>basic</option><option>small</option>"
	    "<option>medium</option><option>large</option></select>"
	    "<button type=\"submit\">Save storage</button></form>");
}

/* Settings: the variables' or the secrets' table and form. */
static void
settings_config(page *pg, const char *id, int sec)
{
	const char *kind = sec ? "secrets" : "variables";

	page_raw(pg, "<div class=\"panel\"><h2>");
	page_raw(pg, sec ? "Secrets" : "Variables");
	page_raw(pg, "</h2>");
	if (sec)
		page_raw(pg, "<p class=\"muted\">Secret values are write-only: never shown again.</p>");
	page_raw(pg, "<table class=\"kv\" data-list=\"/api/spaces/");
	page_text(pg, id);
	page_raw(pg, "/");
	page_raw(pg, kind);
	page_raw(pg, "\" id=\"");
	page_raw(pg, kind);
	page_raw(pg, "\"><thead><tr><th scope=\"col\">Key</th><th scope=\"col\">");
	page_raw(pg, sec ? "Updated" : "Value");
	page_raw(pg, "</th><th scope=\"col\"><span class=\"sr\">Delete</span></th></tr></thead>"
	    "<tbody></tbody></table>");
	page_raw(pg, "<form class=\"api inline-form\" data-api=\"/api/spaces/");
	page_text(pg, id);
	page_raw(pg, "/");
	page_raw(pg, kind);
	page_raw(pg, "\" data-method=\"POST\" data-reload=\"");
	page_raw(pg, kind);
	page_raw(pg, "\"><label for=\"");
	page_raw(pg, kind);
	page_raw(pg, "-key\">Key</label><input id=\"");
	page_raw(pg, kind);
	page_raw(pg, "-key\" name=\"key\" required pattern=\"[A-Za-z_][A-Za-z0-9_]*\"><label for=\"");
	page_raw(pg, kind);
	page_raw(pg, "-value\">Value</label><input id=\"");
	page_raw(pg, kind);
	page_raw(pg, sec ? "-value\" name=\"value\" type=\"password\" autocomplete=\"off\" data-clear>"
	    : "-value\" name=\"value\">");
	page_raw(pg, "<button type=\"submit\">");
	page_raw(pg, sec ? "Save secret" : "Save variable");
	page_raw(pg, "</button></form></div>");
}

void
web_page_settings(web_call *c)
{
	json_t *j = space_json(c->p, c->s, 1);
	json_t *rt = json_object_get(j, "runtime");
	const char *id = json_string_value(json_object_get(j, "id"));
	page pg = { 0 };

	page_begin(&pg, c->p, c->r, c->user, id, "settings");
	space_header(&pg, j, c->s, c->user, "/settings");
	page_raw(&pg, "<p id=\"result\" role=\"status\" aria-live=\"polite\"></p>");
	settings_controls(&pg, id, rt);
	settings_config(&pg, id, 0);
	settings_config(&pg, id, 1);
	page_raw(&pg, "<div class=\"panel\"><h2>Releases</h2><table id=\"releases\" data-list=\"/api/spaces/");
	page_text(&pg, id);
	page_raw(&pg, "/releases\"><thead><tr><th scope=\"col\">Release</th><th scope=\"col\">Commit</th>"
	    "<th scope=\"col\">Status</th><th scope=\"col\"><span class=\"sr\">Rollback</span></th></tr>"
	    "</thead><tbody></tbody></table></div>");

	form_open(&pg, id, "/duplicate", "POST", "Duplicate");
	page_raw(&pg, "<label for=\"repository\">New space (owner/name)</label>"
	    "<input id=\"repository\" name=\"repository\" required>"
	    "<label><input type=\"checkbox\" name=\"private\" data-type=\"bool\"> Private</label>"
	    "<button type=\"submit\">Duplicate</button></form>");

	page_raw(&pg, "<form class=\"panel danger\" id=\"delete\" data-owner=\"");
	page_text(&pg, space_owner(c->s));
	page_raw(&pg, "\" data-name=\"");
	page_text(&pg, space_name(c->s));
	page_raw(&pg, "\"><h2>Delete this space</h2><label for=\"confirm\">Type <b>");
	page_text(&pg, space_name(c->s));
	page_raw(&pg, "</b> to confirm</label><input id=\"confirm\" name=\"confirm\" autocomplete=\"off\">"
	    "<button type=\"submit\" class=\"danger\">Delete space</button></form>");
	page_finish(&pg, c->x, 200, NULL, 0);
	json_decref(j);
}
