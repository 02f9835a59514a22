/* pages_space.c — a space's head (its state in words, Like, the tabs) and its
 * pages: the app (or what it is doing instead), its README, how to use it (push
 * for its owners; clone, duplicate and embed for visitors), the embedded view
 * (?embed) and the logs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "builder/git.h"
#include "common/util.h"
#include "orchestrator/host/flavors.h"
#include "orchestrator/space.h"
#include "proxy/ticket.h"
#include "web/web_int.h"

#define README_MAX (1u << 20)

static int
stage_is(const char *stage, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(stage, *list) == 0)
			return 1;
	return 0;
}

static int
stage_serving(const char *stage)
{
	return stage_is(stage, (const char *const[]){ "RUNNING", "RUNNING_BUILDING",
	    "RUNNING_APP_STARTING", NULL });
}

/* "HH:MM UTC" of an ISO time, in a <time> the page script shows in local time. */
static void
page_time(page *pg, const char *iso)
{
	struct tm tm = { 0 };
	char hm[16] = "";

	if (iso != NULL && strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm) != NULL)
		strftime(hm, sizeof(hm), "%H:%M", &tm);
	page_raw(pg, "<time data-local datetime=\"");
	page_text(pg, iso);
	page_raw(pg, "\">");
	page_text(pg, hm);
	page_raw(pg, " UTC</time>");
}

/* A button that posts to the space's API (the page script: data-post), with
 * the place its answer is said. */
static void
post_button(page *pg, const char *id, const char *api, const char *label, const char *confirm)
{
	page_raw(pg, "<button type=\"button\" class=\"small\" data-post=\"/api/spaces/");
	page_text(pg, id);
	page_raw(pg, api);
	page_raw(pg, "\" data-refresh");
	if (confirm != NULL) {
		page_raw(pg, " data-confirm=\"");
		page_text(pg, confirm);
		page_raw(pg, "\"");
	}
	page_raw(pg, ">");
	page_raw(pg, label);
	page_raw(pg, "</button>");
}

/* The button that brings a stopped or failing space back, for its writers. */
static void
revive_button(page *pg, const char *id, const char *stage)
{
	if (strcmp(stage, "PAUSED") == 0)
		post_button(pg, id, "/restart", "Resume", NULL);
	else if (strcmp(stage, "BUILD_ERROR") == 0)
		post_button(pg, id, "/restart?factory=true", "Rebuild", NULL);
	else if (stage_is(stage, (const char *const[]){ "STOPPED", "RUNTIME_ERROR", NULL }))
		post_button(pg, id, "/restart", "Restart", NULL);
	else
		return;
	page_raw(pg, " <span class=\"result\" role=\"status\"></span>");
}

/* "Running on cpu-basic · storage basic", "Runtime error · retry 12 at 21:40 ·
 * cpu-basic · storage basic", ... */
static void
status_line(page *pg, web_call *c, json_t *rt, const char *id, int with_revive)
{
	const char *stage = json_string_value(json_object_get(rt, "stage"));
	const char *hw = json_string_value(json_object_get(json_object_get(rt, "hardware"), "current"));
	const char *tier = json_string_value(json_object_get(rt, "storage"));
	const char *retry = json_string_value(json_object_get(rt, "nextRetryAt"));
	const storage_tier *t = storage_tier_find(tier);

	page_raw(pg, "<p class=\"status\" id=\"status\" aria-live=\"polite\">");
	page_stage_badge(pg, stage, "stage");
	if (stage_serving(stage) || strcmp(stage, "APP_STARTING") == 0) {
		page_raw(pg, " on ");
		page_text(pg, hw);
	} else {
		if (strcmp(stage, "SLEEPING") == 0)
			page_raw(pg, " · wakes on the next visit");
		if (strcmp(stage, "RUNTIME_ERROR") == 0 && retry != NULL) {
			page_textf(pg, " · retry %lld at ", (long long)json_integer_value(json_object_get(rt,
			    "restarts")));
			page_time(pg, retry);
		}
		page_raw(pg, " · ");
		page_text(pg, hw);
	}
	page_raw(pg, " · storage ");
	page_text(pg, tier);
	if (t != NULL)
		page_textf(pg, " (%.0f GiB)", (double)t->bytes / (1024.0 * 1024 * 1024));
	if (json_is_true(json_object_get(rt, "storagePending")))
		page_raw(pg, ", grows at the next start");
	page_raw(pg, " ");
	/* (settings have the Run panel instead) */
	if (auth_may_write(c->user, space_owner(c->s)) && with_revive)
		revive_button(pg, id, stage);
	page_raw(pg, "</p>");
}

static void
like_control(page *pg, web_call *c, const char *id)
{
	long long n = (long long)space_likes(c->s);

	if (c->user == NULL) {
		page_raw(pg, "<a class=\"like button\" href=\"/login?next=/spaces/");
		page_text(pg, id);
		page_rawf(pg, "\">♥ %lld<span class=\"sr\"> likes: sign in to like</span></a>", n);
		return;
	}
	page_raw(pg, "<button type=\"button\" class=\"like\" id=\"like\" data-like=\"/api/spaces/");
	page_text(pg, id);
	page_raw(pg, space_liked(c->s, c->user) ? "/like\" aria-pressed=\"true\"" : "/like\" aria-pressed=\"false\"");
	page_rawf(pg, ">♥ Like <span class=\"count\">%lld</span></button>", n);
}

void
page_space_head(page *pg, web_call *c, json_t *j, const char *tab)
{
	const char *id = json_string_value(json_object_get(j, "id"));
	json_t *card = json_object_get(j, "cardData");
	const char *title = json_string_value(json_object_get(card, "title"));
	const char *emoji = json_string_value(json_object_get(card, "emoji"));
	static const char *const tabs[][3] = { { "app", "", "App" }, { "files", "/tree/main", "Files" },
		{ "logs", "/logs", "Logs" }, { "settings", "/settings", "Settings" } };

	page_raw(pg, "<div class=\"space-head\" data-space=\"");
	page_text(pg, id);
	page_raw(pg, "\"><p class=\"crumbs\"><a href=\"/");
	page_text(pg, space_owner(c->s));
	page_raw(pg, "\">");
	page_text(pg, space_owner(c->s));
	page_raw(pg, "</a> / <a href=\"/spaces/");
	page_text(pg, id);
	page_raw(pg, "\">");
	page_text(pg, space_name(c->s));
	page_raw(pg, "</a>");
	if (space_is_private(c->s))
		page_raw(pg, " <span class=\"lock\" title=\"private\">🔒 private</span>");
	page_raw(pg, "</p><div class=\"title-row\"><h1><span aria-hidden=\"true\">");
	page_text(pg, emoji != NULL ? emoji : "🚀");
	page_raw(pg, "</span> ");
	page_text(pg, title != NULL ? title : space_name(c->s));
	page_raw(pg, "</h1>");
	like_control(pg, c, id);
	page_raw(pg, "</div>");
	status_line(pg, c, json_object_get(j, "runtime"), id, strcmp(tab, "settings") != 0);
	page_raw(pg, "<nav class=\"tabs\" aria-label=\"space\">");
	for (size_t i = 0; i < 4; i++) {
		if (i == 3 && !auth_may_write(c->user, space_owner(c->s)))
			continue;
		page_raw(pg, "<a href=\"/spaces/");
		page_text(pg, id);
		page_raw(pg, tabs[i][1]);
		page_raw(pg, strcmp(tab, tabs[i][0]) == 0 ? "\" aria-current=\"page\">" : "\">");
		page_raw(pg, tabs[i][2]);
		page_raw(pg, "</a>");
	}
	page_raw(pg, "</nav></div>");
}

/* The iframe's URL: a private app's carries a fresh ticket. Caller frees. */
static char *
app_frame_url(const char *host, space *s)
{
	const char *h = strstr(host, "://");
	char t[128], *sub, *url;

	/* OWNER-NAME out of http://OWNER-NAME.DOMAIN:PORT */
	h = h != NULL ? h + 3 : host;
	sub = xstrndup(h, strcspn(h, "."));
	if (space_is_private(s) && ticket_make('t', sub, TICKET_URL_SECONDS, t, sizeof(t)) == 0)
		url = xasprintf("%s/?" TICKET_PARAM "=%s", host, t);
	else
		url = xasprintf("%s/", host);
	free(sub);
	return url;
}

static void
app_frame(page *pg, const char *frame, const char *host)
{
	page_raw(pg, "<iframe title=\"app\" src=\"");
	page_text(pg, frame);
	page_raw(pg, "\" class=\"app\"></iframe><p class=\"muted\">Open the app on its own: <a href=\"");
	page_text(pg, frame);
	page_raw(pg, "\" target=\"_blank\" rel=\"noopener\">");
	page_text(pg, host);
	page_raw(pg, "</a></p>");
}

static void
build_log(page *pg, const char *id)
{
	page_raw(pg, "<pre class=\"log\" id=\"buildlog\" tabindex=\"0\" aria-label=\"build log\" "
	    "data-log=\"/api/spaces/");
	page_text(pg, id);
	page_raw(pg, "/logs/build\"></pre>");
}

/* What the space does instead of serving: building, failing, paused, ... */
static void
state_panel(page *pg, web_call *c, const char *stage, const char *err, json_t *rt, const char *id)
{
	int writer = auth_may_write(c->user, space_owner(c->s));
	const char *retry = json_string_value(json_object_get(rt, "nextRetryAt"));

	page_raw(pg, "<div class=\"panel");
	page_raw(pg, err != NULL ? " failing\">" : "\">");
	if (strcmp(stage, "PAUSED") == 0 || strcmp(stage, "STOPPED") == 0) {
		page_raw(pg, stage[0] == 'P' ? "<h2>Paused</h2><p>Paused by its owner: visitors get a "
		    "503 until it is resumed.</p>" : "<h2>Stopped</h2><p>The app is not running.</p>");
	} else if (strcmp(stage, "BUILDING") == 0 || strcmp(stage, "APP_STARTING") == 0) {
		page_raw(pg, stage[0] == 'B' ? "<h2>Building</h2>" : "<h2>Starting</h2>");
		page_raw(pg, "<p>The build log, live:</p>");
		build_log(pg, id);
	} else if (strcmp(stage, "RUNTIME_ERROR") == 0) {
		page_raw(pg, "<h2>Runtime error</h2>");
		if (retry != NULL) {
			long long n = (long long)json_integer_value(json_object_get(rt, "restarts"));

			page_rawf(pg, "<p>It crashed %lld time%s in a row; podium starts it again at ", n,
			    n == 1 ? "" : "s");
			page_time(pg, retry);
			page_raw(pg, ".</p>");
		}
		page_raw(pg, "<p>Why, and the app's last lines:</p><pre class=\"log\" id=\"lastlines\" "
		    "tabindex=\"0\">");
		page_text(pg, err);
		page_raw(pg, "</pre><p><a href=\"/spaces/");
		page_text(pg, id);
		page_raw(pg, "/logs\">The app's whole log</a></p>");
	} else if (err != NULL) {
		/* a build or config error: its reason once, then the build's own log */
		page_raw(pg, "<h2>");
		page_text(pg, page_stage_words(stage));
		page_raw(pg, "</h2><p class=\"reason\">");
		page_text(pg, err);
		page_raw(pg, "</p><p>The build log:</p>");
		build_log(pg, id);
	} else {
		page_raw(pg, "<h2>Nothing deployed yet</h2><p>");
		page_raw(pg, writer ? "Push an app with git (below)." : "Its owner has not pushed an app yet.");
		page_raw(pg, "</p>");
	}
	page_raw(pg, "</div>");
}

/* The first line of a message (a build error's reason; its tail is in the log). */
static char *
first_line(const char *s)
{
	return s != NULL ? xstrndup(s, strcspn(s, "\n")) : NULL;
}

static void
state_section(page *pg, web_call *c, json_t *j)
{
	json_t *rt = json_object_get(j, "runtime");
	const char *id = json_string_value(json_object_get(j, "id"));
	const char *host = json_string_value(json_object_get(j, "host"));
	const char *stage = json_string_value(json_object_get(rt, "stage"));
	const char *err = json_string_value(json_object_get(rt, "errorMessage"));
	char *frame = app_frame_url(host, c->s);
	char *reason = first_line(err);

	page_raw(pg, "<section id=\"state\">");
	if (stage_serving(stage) || strcmp(stage, "SLEEPING") == 0) {
		if (strcmp(stage, "SLEEPING") == 0)
			page_raw(pg, "<p class=\"redeploy\">It was asleep: opening this page wakes it, "
			    "and the app shows once it answers.</p>");
		else if (strcmp(stage, "RUNNING") != 0)
			page_raw(pg, strcmp(stage, "RUNNING_BUILDING") == 0 ?
			    "<p class=\"redeploy\">A new version is building; this one serves until it is ready.</p>" :
			    "<p class=\"redeploy\">A new version is starting; this one serves until it is ready.</p>");
		if (reason != NULL) {
			page_raw(pg, "<p class=\"error\">The newest version failed: ");
			page_text(pg, reason);
			page_raw(pg, " (this one keeps serving; <a href=\"/spaces/");
			page_text(pg, id);
			page_raw(pg, "/logs\">logs</a>)</p>");
		}
		app_frame(pg, frame, host);
	} else {
		state_panel(pg, c, stage, strcmp(stage, "RUNTIME_ERROR") == 0 ? err : reason, rt, id);
	}
	page_raw(pg, "</section>");
	free(reason);
	free(frame);
}

/* The README at main, rendered, when there is one with more than front matter. */
static void
readme_section(page *pg, web_call *c, const char *id)
{
	char *repo = space_repo_path(c->p, c->s), *blob, *raw, *html;
	builder_blob b;

	if (builder_repo_blob(repo, "main", "README.md", &b) != 0) {
		free(repo);
		return;
	}
	blob = xasprintf("/spaces/%s/blob/main", id);
	raw = xasprintf("/spaces/%s/resolve/main", id);
	html = web_markdown(b.data, b.size > README_MAX ? README_MAX : (size_t)b.size, "README.md",
	    blob, raw);
	if (html[strspn(html, " \n")] != '\0') {
		page_raw(pg, "<section class=\"panel readme markdown\" aria-label=\"README\">");
		page_raw(pg, html);
		page_raw(pg, "</section>");
	}
	free(html);
	free(blob);
	free(raw);
	builder_blob_release(&b);
	free(repo);
}

/* A line to copy, with its button. */
static void
copy_block(page *pg, const char *pre_id, const char *label, const char *text)
{
	page_raw(pg, "<pre id=\"");
	page_raw(pg, pre_id);
	page_raw(pg, "\">");
	page_text(pg, text);
	page_raw(pg, "</pre><button type=\"button\" class=\"small\" data-copy=\"");
	page_raw(pg, pre_id);
	page_raw(pg, "\">");
	page_raw(pg, label);
	page_raw(pg, "</button>");
}

static void
duplicate_form(page *pg, web_call *c, const char *id)
{
	page_raw(pg, "<h3>Duplicate this space</h3>");
	if (c->user == NULL) {
		page_raw(pg, "<p><a href=\"/login?next=/spaces/");
		page_text(pg, id);
		page_raw(pg, "\">Sign in</a> to make a copy of your own: its code, history and variables "
		    "(never its secrets).</p>");
		return;
	}
	page_raw(pg, "<form id=\"duplicate\" class=\"api\" data-api=\"/api/spaces/");
	page_text(pg, id);
	page_raw(pg, "/duplicate\" data-method=\"POST\" data-owner-name=\"dup-owner,dup-name\">"
	    "<p class=\"muted\">A copy under your name: code, history and variables, never the secrets. "
	    "It is built and started.</p><label for=\"dup-owner\">Owner</label><input id=\"dup-owner\" "
	    "required value=\"");
	page_text(pg, c->user);
	page_raw(pg, auth_is_admin(c->user) ? "\">" : "\" readonly>");
	page_raw(pg, "<label for=\"dup-name\">Name</label><input id=\"dup-name\" required "
	    "pattern=\"[A-Za-z0-9._\\-]{1,64}\" value=\"");
	page_text(pg, space_name(c->s));
	page_raw(pg, "\"><fieldset><legend>Visibility</legend><label><input type=\"radio\" "
	    "name=\"private\" value=\"false\" data-type=\"bool-value\"");
	page_raw(pg, space_is_private(c->s) ? "" : " checked");
	page_raw(pg, "> Public</label><label><input type=\"radio\" name=\"private\" value=\"true\" "
	    "data-type=\"bool-value\"");
	page_raw(pg, space_is_private(c->s) ? " checked" : "");
	page_raw(pg, "> Private</label></fieldset><button type=\"submit\">Duplicate</button> "
	    "<span class=\"result\" role=\"status\"></span></form>");
}

/* How to use the space: owners push to it; visitors clone, duplicate or embed it. */
static void
use_section(page *pg, web_call *c, json_t *j)
{
	const char *id = json_string_value(json_object_get(j, "id"));
	const char *host = json_string_value(json_object_get(j, "host"));
	char *hub = podium_hub_url(c->p), *line;

	page_raw(pg, "<section class=\"panel use\" aria-labelledby=\"use-h\">");
	if (auth_may_write(c->user, space_owner(c->s))) {
		page_raw(pg, "<h2 id=\"use-h\">Deploy</h2><p>Push to <code>main</code> with your user name "
		    "and a write token from <a href=\"/settings/tokens\">Tokens</a> as the password:</p>");
		line = xasprintf("git push %s/spaces/%s main", hub, id);
		copy_block(pg, "remote", "Copy push command", line);
		free(line);
		line = xasprintf("%s/spaces/%s", hub, id);
		page_raw(pg, "<p>The git remote:</p>");
		copy_block(pg, "giturl", "Copy git remote", line);
		free(line);
	} else {
		page_raw(pg, "<h2 id=\"use-h\">Use this space</h2><h3>Clone it</h3>");
		line = xasprintf("git clone %s/spaces/%s", hub, id);
		copy_block(pg, "clone", "Copy clone command", line);
		free(line);
		duplicate_form(pg, c, id);
	}
	if (!space_is_private(c->s)) {
		page_raw(pg, "<h3>Embed this space</h3><p>In a page of your own (or <a href=\"/spaces/");
		page_text(pg, id);
		page_raw(pg, "?embed\">this page without podium's bar</a>):</p>");
		line = xasprintf("<iframe src=\"%s/\" frameborder=\"0\" width=\"850\" height=\"450\"></iframe>",
		    host);
		copy_block(pg, "embed", "Copy embed code", line);
		free(line);
	}
	page_raw(pg, "</section>");
	free(hub);
}

/* ?embed: the app alone, for an iframe on another site (no bar, framing allowed). */
static void
embed_page(web_call *c, json_t *j)
{
	const char *id = json_string_value(json_object_get(j, "id"));
	const char *host = json_string_value(json_object_get(j, "host"));
	const char *stage = json_string_value(json_object_get(json_object_get(j, "runtime"), "stage"));
	char *frame = app_frame_url(host, c->s);
	page pg = { .embed = 1 };

	page_begin(&pg, c->p, c->r, c->user, id, "embed");
	if (stage_serving(stage) || strcmp(stage, "SLEEPING") == 0) {
		page_raw(&pg, "<iframe title=\"app\" class=\"app embedded\" src=\"");
		page_text(&pg, frame);
		page_raw(&pg, "\"></iframe>");
	} else {
		page_raw(&pg, "<p class=\"panel\">");
		page_stage_badge(&pg, stage, "stage");
		page_raw(&pg, "</p>");
	}
	page_raw(&pg, "<p class=\"embed-foot\"><a target=\"_blank\" rel=\"noopener\" href=\"/spaces/");
	page_text(&pg, id);
	page_raw(&pg, "\">");
	page_text(&pg, id);
	page_raw(&pg, "</a> on podium</p>");
	page_finish(&pg, c->x, 200, NULL, 0);
	free(frame);
}

/* Is key one of the query's names ("embed", "a=1&embed")? */
static int
query_has(const char *q, const char *key)
{
	size_t k = strlen(key);

	for (; q != NULL && *q != '\0'; q += strcspn(q, "&"), q += *q == '&') {
		if (strncmp(q, key, k) == 0 && (q[k] == '\0' || q[k] == '&' || q[k] == '='))
			return 1;
	}
	return 0;
}

void
web_page_space(web_call *c)
{
	json_t *j = space_json(c->p, c->s, 1);
	const char *id = json_string_value(json_object_get(j, "id"));
	const char *title = json_string_value(json_object_get(json_object_get(j, "cardData"), "title"));
	page pg = { 0 };

	if (query_has(c->r->query, "embed")) {
		embed_page(c, j);
		json_decref(j);
		return;
	}
	page_begin(&pg, c->p, c->r, c->user, title != NULL ? title : id, "space");
	page_space_head(&pg, c, j, "app");
	state_section(&pg, c, j);
	readme_section(&pg, c, id);
	use_section(&pg, c, j);
	page_finish(&pg, c->x, 200, NULL, 0);
	json_decref(j);
}

void
web_page_logs(web_call *c)
{
	json_t *j = space_json(c->p, c->s, 1);
	const char *id = json_string_value(json_object_get(j, "id"));
	page pg = { 0 };

	page_begin(&pg, c->p, c->r, c->user, id, "logs");
	page_space_head(&pg, c, j, "logs");
	page_raw(&pg, "<p><label><input type=\"checkbox\" id=\"follow\" checked> Follow</label></p>");
	for (int i = 0; i < 2; i++) {
		const char *kind = i == 0 ? "build" : "run";

		page_raw(&pg, i == 0 ? "<h2 id=\"build-h\">Build log</h2>" : "<h2 id=\"run-h\">App log</h2>");
		page_raw(&pg, "<p><a download=\"");
		page_textf(&pg, "%s-%s-%s.log", space_owner(c->s), space_name(c->s), kind);
		page_raw(&pg, "\" href=\"/api/spaces/");
		page_text(&pg, id);
		page_rawf(&pg, "/logs/%s\">Download the %s log</a></p>", kind, i == 0 ? "build" : "app");
		page_raw(&pg, "<pre class=\"log\" tabindex=\"0\" aria-labelledby=\"");
		page_raw(&pg, i == 0 ? "build-h\" id=\"buildlog\"" : "run-h\" id=\"runlog\"");
		page_raw(&pg, " data-log=\"/api/spaces/");
		page_text(&pg, id);
		page_raw(&pg, i == 0 ? "/logs/build\"></pre>" : "/logs/run\"></pre>");
	}
	page_finish(&pg, c->x, 200, NULL, 0);
	json_decref(j);
}
