/* pages_settings.c — a space's settings, for its owner and admins. Each control
 * says what came of it next to itself (its panel's result line), offers only
 * what fits the space's state (Resume only when paused), and asks before what
 * cannot be undone (pause, a bigger storage tier, delete). The page script sends
 * every form to the JSON API (data-api, data-method). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/host/flavors.h"
#include "orchestrator/space.h"
#include "web/web_int.h"

static void
result_line(page *pg)
{
	page_raw(pg, "<p class=\"result\" role=\"status\" aria-live=\"polite\"></p>");
}

/* A form the page script sends to the API as JSON. */
static void
form_open(page *pg, const char *id, const char *api, const char *title, const char *confirm)
{
	page_raw(pg, "<form class=\"panel api\" data-method=\"POST\" data-api=\"/api/spaces/");
	page_text(pg, id);
	page_text(pg, api);
	page_raw(pg, "\"");
	if (confirm != NULL) {
		page_raw(pg, " data-confirm=\"");
		page_text(pg, confirm);
		page_raw(pg, "\"");
	}
	page_raw(pg, "><h2>");
	page_raw(pg, title);
	page_raw(pg, "</h2>");
}

/* Restart, factory rebuild, pause, resume: data-when says in which state each
 * is offered ("paused", "unpaused", "any"); the script follows the answers. */
static void
run_panel(page *pg, const char *id, json_t *rt)
{
	static const char *const acts[][5] = {
		{ "/restart", "Restart", "restart", "unpaused", NULL },
		{ "/restart?factory=true", "Factory rebuild", "factory", "any", NULL },
		{ "/pause", "Pause", "pause", "unpaused",
		  "Pause the app? It stops, and visitors get a 503 until you resume it." },
		{ "/restart", "Resume", "resume", "paused", NULL },
	};
	int paused = json_is_true(json_object_get(rt, "paused"));

	page_raw(pg, "<div class=\"panel\" id=\"run\" data-paused=\"");
	page_raw(pg, paused ? "true" : "false");
	page_raw(pg, "\"><h2>Run</h2><div class=\"row\">");
	for (size_t i = 0; i < 4; i++) {
		const char *when = acts[i][3];
		int shown = strcmp(when, "any") == 0 || (strcmp(when, "paused") == 0) == paused;

		page_raw(pg, "<button type=\"button\" data-post=\"/api/spaces/");
		page_text(pg, id);
		page_raw(pg, acts[i][0]);
		page_raw(pg, "\" id=\"act-");
		page_raw(pg, acts[i][2]);
		page_raw(pg, "\" data-when=\"");
		page_raw(pg, when);
		page_raw(pg, "\"");
		if (acts[i][4] != NULL) {
			page_raw(pg, " data-confirm=\"");
			page_text(pg, acts[i][4]);
			page_raw(pg, "\"");
		}
		page_raw(pg, shown ? ">" : " hidden>");
		page_raw(pg, acts[i][1]);
		page_raw(pg, "</button>");
	}
	page_raw(pg, "</div>");
	result_line(pg);
	page_raw(pg, "</div>");
}

/* The options of a list of names ("a, b, c"), cur selected; with smaller, the
 * ones before cur are offered disabled (a storage tier only grows). */
static void
name_options(page *pg, const char *names, const char *cur, int only_bigger)
{
	char buf[1024];
	int before = only_bigger && cur != NULL && strstr(names, cur) != NULL;

	snprintf(buf, sizeof(buf), "%s", names);
	for (char *save = NULL, *f = strtok_r(buf, ", ", &save); f != NULL; f = strtok_r(NULL, ", ", &save)) {
		int is_cur = cur != NULL && strcmp(cur, f) == 0;

		page_raw(pg, "<option");
		if (is_cur) {
			page_raw(pg, " selected");
			before = 0;
		} else if (before) {
			page_raw(pg, " disabled");
		}
		page_raw(pg, ">");
		page_text(pg, f);
		page_raw(pg, "</option>");
	}
}

static void
config_panels(page *pg, const char *id, json_t *rt)
{
	const char *hw = json_string_value(json_object_get(json_object_get(rt, "hardware"), "requested"));
	const char *tier = json_string_value(json_object_get(rt, "storage"));
	json_t *gc = json_object_get(rt, "gcTimeout");

	form_open(pg, id, "/sleeptime", "Sleep time", NULL);
	page_raw(pg, "<label for=\"seconds\">Sleep after this many idle seconds (-1: never)</label>"
	    "<input id=\"seconds\" name=\"seconds\" type=\"number\" data-type=\"int\" min=\"-1\" value=\"");
	page_textf(pg, "%lld", json_is_integer(gc) ? (long long)json_integer_value(gc) : -1LL);
	page_raw(pg, "\"><button type=\"submit\">Save sleep time</button>");
	result_line(pg);
	page_raw(pg, "</form>");

	form_open(pg, id, "/hardware", "Hardware", NULL);
	page_raw(pg, "<label for=\"flavor\">Flavor</label><select id=\"flavor\" name=\"flavor\">");
	name_options(pg, flavor_names(), hw, 0);
	page_raw(pg, "</select><button type=\"submit\">Save hardware</button>");
	result_line(pg);
	page_raw(pg, "</form>");

	form_open(pg, id, "/storage", "Storage", "Grow /data to the new tier? A tier cannot be made "
	    "smaller again.");
	page_raw(pg, "<label for=\"tier\">Persistent /data tier</label><select id=\"tier\" name=\"tier\">");
	name_options(pg, storage_tier_names(), tier, 1);
	page_raw(pg, "</select>");
	if (json_is_true(json_object_get(rt, "storagePending"))) {
		page_raw(pg, "<p class=\"muted\" id=\"storage-pending\">");
		page_text(pg, tier);
		page_raw(pg, " is set; /data grows to it at the app's next start.</p>");
	}
	page_raw(pg, "<button type=\"submit\">Save storage</button>");
	result_line(pg);
	page_raw(pg, "</form>");
}

/* The variables' or the secrets' table and form. */
static void
kv_panel(page *pg, const char *id, int sec)
{
	const char *kind = sec ? "secrets" : "variables";

	page_raw(pg, "<div class=\"panel\"><h2>");
	page_raw(pg, sec ? "Secrets" : "Variables");
	page_raw(pg, "</h2>");
	if (sec)
		page_raw(pg, "<p class=\"muted\">Secret values are write-only: never shown again.</p>");
	page_raw(pg, "<div class=\"scroll\"><table class=\"kv\" data-list=\"/api/spaces/");
	page_text(pg, id);
	page_rawf(pg, "/%s\" id=\"%s\"><thead><tr><th scope=\"col\">Key</th><th scope=\"col\">", kind, kind);
	page_raw(pg, sec ? "Updated" : "Value");
	page_raw(pg, "</th><th scope=\"col\"><span class=\"sr\">Delete</span></th></tr></thead>"
	    "<tbody></tbody></table></div><form class=\"api inline-form\" data-api=\"/api/spaces/");
	page_text(pg, id);
	page_rawf(pg, "/%s\" data-method=\"POST\" data-reload=\"%s\"><label for=\"%s-key\">Key</label>"
	    "<input id=\"%s-key\" name=\"key\" required pattern=\"[A-Za-z_][A-Za-z0-9_]*\">"
	    "<label for=\"%s-value\">Value</label><input id=\"%s-value\" name=\"value\"",
	    kind, kind, kind, kind, kind, kind);
	page_raw(pg, sec ? " type=\"password\" autocomplete=\"off\" data-clear>" : ">");
	page_raw(pg, sec ? "<button type=\"submit\">Save secret</button>" :
	    "<button type=\"submit\">Save variable</button>");
	result_line(pg);
	page_raw(pg, "</form></div>");
}

static void
releases_panel(page *pg, const char *id)
{
	page_raw(pg, "<div class=\"panel\"><h2>Releases</h2><div class=\"scroll\"><table id=\"releases\" "
	    "data-list=\"/api/spaces/");
	page_text(pg, id);
	page_raw(pg, "/releases\" data-space=\"");
	page_text(pg, id);
	page_raw(pg, "\"><thead><tr><th scope=\"col\">Release</th><th scope=\"col\">Built</th>"
	    "<th scope=\"col\">Commit</th><th scope=\"col\">Status</th><th scope=\"col\">"
	    "<span class=\"sr\">Rollback</span></th></tr></thead><tbody></tbody></table></div>");
	result_line(pg);
	page_raw(pg, "</div>");
}

void
web_page_settings(web_call *c)
{
	json_t *j = space_json(c->p, c->s, 1);
	json_t *rt = json_object_get(j, "runtime");
	const char *id = json_string_value(json_object_get(j, "id"));
	page pg = { 0 };

	page_begin(&pg, c->p, c->r, c->user, id, "settings");
	page_space_head(&pg, c, j, "settings");
	run_panel(&pg, id, rt);
	config_panels(&pg, id, rt);
	kv_panel(&pg, id, 0);
	kv_panel(&pg, id, 1);
	releases_panel(&pg, id);

	form_open(&pg, id, "/duplicate", "Duplicate", NULL);
	page_raw(&pg, "<label for=\"repository\">New space (owner/name)</label>"
	    "<input id=\"repository\" name=\"repository\" required>"
	    "<label><input type=\"checkbox\" name=\"private\" data-type=\"bool\"> Private</label>"
	    "<button type=\"submit\">Duplicate</button>");
	result_line(&pg);
	page_raw(&pg, "</form>");

	page_raw(&pg, "<form class=\"panel danger\" id=\"delete\" data-owner=\"");
	page_text(&pg, space_owner(c->s));
	page_raw(&pg, "\" data-name=\"");
	page_text(&pg, space_name(c->s));
	page_raw(&pg, "\"><h2>Delete this space</h2><p>Its repository, releases, /data and logs are "
	    "removed for good.</p><label for=\"confirm\">Type <b>");
	page_text(&pg, space_name(c->s));
	page_raw(&pg, "</b> to confirm</label><input id=\"confirm\" name=\"confirm\" autocomplete=\"off\">"
	    "<button type=\"submit\" class=\"danger\">Delete space</button>");
	result_line(&pg);
	page_raw(&pg, "</form>");
	page_finish(&pg, c->x, 200, NULL, 0);
	json_decref(j);
}
