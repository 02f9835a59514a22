/* pages_user.c — /new, /settings/tokens and /admin. Their lists come from the
 * API (page script); this renders the forms and what only the daemon knows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/web_int.h"
#include "orchestrator/space.h"
#include "orchestrator/resources.h"
#include "orchestrator/host/usage.h"
#include "orchestrator/cluster/cluster.h"
#include "common/util.h"

void
web_page_new(web_call *c)
{
	char *hub = podium_hub_url(c->p);
	page pg = { 0 };

	page_begin(&pg, c->p, c->r, c->user, "New space", "new");
	page_raw(&pg, "<div class=\"narrow\"><h1>Create a space</h1><p id=\"result\" role=\"status\" "
	    "aria-live=\"polite\"></p><form id=\"create\" class=\"panel\" data-hub=\"");
	page_text(&pg, hub);
	page_raw(&pg, "\"><label for=\"owner\">Owner</label><input id=\"owner\" name=\"organization\" "
	    "required value=\"");
	page_text(&pg, c->user);
	page_raw(&pg, "\"");
	if (!auth_is_admin(c->user))
		page_raw(&pg, " readonly");
	page_raw(&pg, "><label for=\"name\">Space name</label><input id=\"name\" name=\"name\" required "
	    "pattern=\"[A-Za-z0-9._\\-]{1,64}\"><label for=\"sdk\">SDK</label><select id=\"sdk\" name=\"sdk\">"
	    "<option>static</option><option>python</option><option>gradio</option>"
	    "<option>streamlit</option><option>node</option></select>"
	    "<fieldset><legend>Visibility</legend><label><input type=\"radio\" name=\"visibility\" "
	    "value=\"public\" checked> Public</label><label><input type=\"radio\" name=\"visibility\" "
	    "value=\"private\"> Private: only you and admins</label></fieldset>"
	    "<button type=\"submit\">Create space</button></form>"
	    "<section id=\"next\" class=\"panel\" hidden><h2>Push to it</h2>"
	    "<p>Use your user name and a write token from <a href=\"/settings/tokens\">Tokens</a> as "
	    "the password:</p><pre id=\"commands\"></pre><p><a id=\"open\" href=\"/\">Open the space</a>"
	    "</p></section></div>");
	page_finish(&pg, c->x, 200, NULL, 0);
	free(hub);
}

void
web_page_tokens(web_call *c)
{
	page pg = { 0 };

	page_begin(&pg, c->p, c->r, c->user, "Tokens", "tokens");
	page_raw(&pg, "<h1>Access tokens</h1><p>Tokens stand for you in git and the API: "
	    "<b>read</b> tokens clone and read, <b>write</b> tokens also push and change.</p>"
	    "<p id=\"result\" role=\"status\" aria-live=\"polite\"></p>"
	    "<form id=\"newtoken\" class=\"panel\"><h2>New token</h2><label for=\"tname\">Name</label>"
	    "<input id=\"tname\" name=\"name\" required maxlength=\"64\"><label for=\"trole\">Role</label>"
	    "<select id=\"trole\" name=\"role\"><option>read</option><option>write</option></select>"
	    "<button type=\"submit\">Create token</button></form>"
	    "<div id=\"shown\" class=\"panel\" hidden><h2>Your new token</h2><p>Copy it now: it is not "
	    "shown again.</p><pre id=\"newvalue\"></pre></div>"
	    "<table id=\"tokens\" data-list=\"/api/settings/tokens\"><thead><tr><th scope=\"col\">Name</th>"
	    "<th scope=\"col\">Role</th><th scope=\"col\">Starts with</th><th scope=\"col\">"
	    "<span class=\"sr\">Revoke</span></th></tr></thead><tbody></tbody></table>");
	page_finish(&pg, c->x, 200, NULL, 0);
}

/* A cluster's nodes: state, lease, load, spaces (issue 27). */
static void
admin_nodes(page *pg, podium *p)
{
	json_t *cj = cluster_json(p->cluster), *n;
	size_t i;

	page_raw(pg, "<section class=\"panel\"><h2>Nodes</h2><div class=\"scroll\"><table id=\"nodes\">"
	    "<thead><tr><th scope=\"col\">Node</th><th scope=\"col\">Address</th>"
	    "<th scope=\"col\">State</th><th scope=\"col\">Alive</th><th scope=\"col\">Spaces</th>"
	    "<th scope=\"col\">Apps</th><th scope=\"col\">Memory</th></tr></thead><tbody>");
	json_array_foreach(json_object_get(cj, "nodes"), i, n) {
		page_raw(pg, "<tr><td>");
		page_text(pg, json_string_value(json_object_get(n, "name")));
		if (strcmp(json_string_value(json_object_get(n, "name")), p->node) == 0)
			page_raw(pg, json_is_true(json_object_get(cj, "leader")) ? " (this node, schedules)"
			    : " (this node)");
		page_raw(pg, "</td><td>");
		page_text(pg, json_string_value(json_object_get(n, "address")));
		page_raw(pg, "</td><td>");
		page_text(pg, json_string_value(json_object_get(n, "state")));
		page_raw(pg, "</td><td>");
		page_raw(pg, json_is_true(json_object_get(n, "alive")) ? "yes" : "no");
		page_raw(pg, "</td><td>");
		page_textf(pg, "%lld", (long long)json_integer_value(json_object_get(n, "spaces")));
		page_raw(pg, "</td><td>");
		page_textf(pg, "%lld", (long long)json_integer_value(json_object_get(n, "apps")));
		page_raw(pg, "</td><td>");
		page_textf(pg, "%.1f / %.1f GiB",
		    (double)json_integer_value(json_object_get(n, "memoryCommitted")) / (1 << 30),
		    (double)json_integer_value(json_object_get(n, "memoryBudget")) / (1 << 30));
		page_raw(pg, "</td></tr>");
	}
	page_raw(pg, "</tbody></table></div></section>");
	json_decref(cj);
}

void
web_page_admin(web_call *c)
{
	page pg = { 0 };

	page_begin(&pg, c->p, c->r, c->user, "Admin", "admin");
	page_raw(&pg, "<h1>Admin</h1><p id=\"result\" role=\"status\" aria-live=\"polite\"></p>"
	    "<section class=\"panel\"><h2>Daemon</h2><dl id=\"health\"></dl></section>");
	if (c->p->cluster != NULL)
		admin_nodes(&pg, c->p);
	page_raw(&pg, "<section class=\"panel\"><h2>Spaces</h2><div class=\"scroll\"><table><thead><tr>"
	    "<th scope=\"col\">Space</th><th scope=\"col\">Stage</th><th scope=\"col\">Node</th>"
	    "<th scope=\"col\">Private</th>"
	    "<th scope=\"col\">Memory</th><th scope=\"col\">CPU s</th></tr></thead><tbody>");
	for (space *s = c->p->spaces; s != NULL; s = space_next(s)) {
		json_t *j = space_json(c->p, s, 0);
		json_t *res = space_usage_json(s);
		const char *id = json_string_value(json_object_get(j, "id"));

		page_raw(&pg, "<tr><td><a href=\"/spaces/");
		page_text(&pg, id);
		page_raw(&pg, "\">");
		page_text(&pg, id);
		page_raw(&pg, "</a></td><td><span class=\"badge stage-");
		page_text(&pg, json_string_value(json_object_get(json_object_get(j, "runtime"), "stage")));
		page_raw(&pg, "\" data-usage=\"");
		page_text(&pg, id);
		page_raw(&pg, "\">");
		page_text(&pg, json_string_value(json_object_get(json_object_get(j, "runtime"), "stage")));
		page_raw(&pg, "</span></td><td>");
		if (json_is_string(json_object_get(json_object_get(j, "runtime"), "node")))
			page_text(&pg, json_string_value(json_object_get(json_object_get(j, "runtime"),
			    "node")));
		page_raw(&pg, "</td><td>");
		page_raw(&pg, space_is_private(s) ? "yes" : "no");
		page_raw(&pg, "</td><td class=\"mem\">");
		if (json_is_integer(json_object_get(res, "memoryBytes")))
			page_textf(&pg, "%.1f MiB", (double)json_integer_value(json_object_get(res,
			    "memoryBytes")) / 1048576.0);
		page_raw(&pg, "</td><td class=\"cpu\">");
		if (json_is_number(json_object_get(res, "cpuSeconds")))
			page_textf(&pg, "%.1f", json_number_value(json_object_get(res, "cpuSeconds")));
		page_raw(&pg, "</td></tr>");
		json_decref(res);
		json_decref(j);
	}
	page_raw(&pg, "</tbody></table></div></section>"
	    "<section class=\"panel\"><h2>Users</h2><table id=\"users\" data-list=\"/api/admin/users\">"
	    "<thead><tr><th scope=\"col\">Name</th><th scope=\"col\">Role</th><th scope=\"col\">State</th>"
	    "<th scope=\"col\"><span class=\"sr\">Actions</span></th></tr></thead><tbody></tbody></table>"
	    "<form id=\"adduser\" class=\"inline-form\"><h3>Add a user</h3><label for=\"uname\">Name</label>"
	    "<input id=\"uname\" name=\"name\" required pattern=\"[a-z0-9\\-]{1,39}\">"
	    "<label for=\"upass\">Password</label><input id=\"upass\" name=\"password\" type=\"password\" "
	    "minlength=\"8\" required autocomplete=\"new-password\"><label><input type=\"checkbox\" "
	    "name=\"admin\"> Admin</label><button type=\"submit\">Add user</button></form></section>");
	page_finish(&pg, c->x, 200, NULL, 0);
}
