/* pages_user.c — /new, /settings/tokens and /admin. Their lists come from the
 * API (page script); this renders the forms and what only the daemon knows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/web_int.h"
#include "orchestrator/space.h"
#include "orchestrator/store/store.h"
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
	page_raw(&pg, "<div class=\"narrow\"><h1>Create a space</h1><form id=\"create\" class=\"panel\" "
	    "data-hub=\"");
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
	    "<button type=\"submit\">Create space</button><p class=\"result\" role=\"status\" "
	    "aria-live=\"polite\"></p></form>"
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
	    "<form id=\"newtoken\" class=\"panel\"><h2>New token</h2><label for=\"tname\">Name</label>"
	    "<input id=\"tname\" name=\"name\" required maxlength=\"64\"><label for=\"trole\">Role</label>"
	    "<select id=\"trole\" name=\"role\"><option>read</option><option>write</option></select>"
	    "<button type=\"submit\">Create token</button><p class=\"result\" role=\"status\" "
	    "aria-live=\"polite\"></p></form>"
	    "<div id=\"shown\" class=\"panel\" hidden><h2>Your new token</h2><p>Copy it now: it is not "
	    "shown again.</p><pre id=\"newvalue\"></pre><button type=\"button\" data-copy=\"newvalue\">"
	    "Copy token</button></div>"
	    "<div class=\"panel\"><h2>Your tokens</h2><div class=\"scroll\"><table id=\"tokens\" "
	    "data-list=\"/api/settings/tokens\"><thead><tr><th scope=\"col\">Name</th>"
	    "<th scope=\"col\">Role</th><th scope=\"col\">Starts with</th><th scope=\"col\">Created</th>"
	    "<th scope=\"col\"><span class=\"sr\">Revoke</span></th></tr></thead><tbody></tbody></table></div>"
	    "<p class=\"result\" role=\"status\" aria-live=\"polite\"></p></div>");
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

#define ADMIN_PAGE 50

typedef struct admin_rows {
	page *pg;
	podium *p;
	int n, more;
} admin_rows;

static void
admin_row(const store_space_hit *h, void *arg)
{
	admin_rows *a = arg;
	space *s = space_find(a->p, h->owner, h->name);
	json_t *j, *res;
	const char *id;

	if (a->n == ADMIN_PAGE) {
		a->more = 1;
		return;
	}
	if (s == NULL)
		return;
	a->n++;
	j = space_json(a->p, s, 0);
	res = space_usage_json(s);
	id = json_string_value(json_object_get(j, "id"));
	page_raw(a->pg, "<tr><td><a href=\"/spaces/");
	page_text(a->pg, id);
	page_raw(a->pg, "\">");
	page_text(a->pg, id);
	page_raw(a->pg, "</a></td><td>");
	page_stage_badge(a->pg, json_string_value(json_object_get(json_object_get(j, "runtime"), "stage")),
	    NULL);
	page_raw(a->pg, "</td><td>");
	if (json_is_string(json_object_get(json_object_get(j, "runtime"), "node")))
		page_text(a->pg, json_string_value(json_object_get(json_object_get(j, "runtime"), "node")));
	page_raw(a->pg, "</td><td>");
	page_raw(a->pg, space_is_private(s) ? "yes" : "no");
	page_raw(a->pg, "</td><td class=\"num mem\">");
	if (json_is_integer(json_object_get(res, "memoryBytes")))
		page_textf(a->pg, "%.1f MiB", (double)json_integer_value(json_object_get(res,
		    "memoryBytes")) / 1048576.0);
	page_raw(a->pg, "</td><td class=\"num cpu\">");
	if (json_is_number(json_object_get(res, "cpuSeconds")))
		page_textf(a->pg, "%.1f", json_number_value(json_object_get(res, "cpuSeconds")));
	page_raw(a->pg, "</td></tr>");
	json_decref(res);
	json_decref(j);
}

/* Every space with its stage and usage, a page at a time (the store's index). */
static void
admin_spaces(page *pg, web_call *c)
{
	char *ps = web_query_get(c->r->query, "p");
	long p = ps != NULL ? strtol(ps, NULL, 10) : 0;
	store_space_query q = { .viewer_admin = 1, .stage = STORE_STAGE_ANY, .sort = STORE_SORT_NEW };
	admin_rows a = { pg, c->p, 0, 0 };

	free(ps);
	if (p < 0)
		p = 0;
	q.offset = p * ADMIN_PAGE;
	q.limit = ADMIN_PAGE + 1;
	page_raw(pg, "<section class=\"panel\"><h2>Spaces</h2><div class=\"scroll\"><table class=\"nowrap\">"
	    "<thead><tr><th scope=\"col\">Space</th><th scope=\"col\">Stage</th><th scope=\"col\">Node</th>"
	    "<th scope=\"col\">Private</th>"
	    "<th scope=\"col\" class=\"num\">Memory</th><th scope=\"col\" class=\"num\">CPU seconds</th>"
	    "</tr></thead><tbody>");
	store_spaces_query(c->p->store, &q, admin_row, &a);
	page_raw(pg, "</tbody></table></div>");
	if (p > 0 || a.more) {
		page_raw(pg, "<nav class=\"pager\" aria-label=\"pages of spaces\">");
		if (p > 0)
			page_rawf(pg, "<a rel=\"prev\" href=\"/admin?p=%ld\">← Previous</a>", p - 1);
		page_textf(pg, " Page %ld ", p + 1);
		if (a.more)
			page_rawf(pg, "<a rel=\"next\" href=\"/admin?p=%ld\">Next →</a>", p + 1);
		page_raw(pg, "</nav>");
	}
	page_raw(pg, "</section>");
}

void
web_page_admin(web_call *c)
{
	page pg = { 0 };

	page_begin(&pg, c->p, c->r, c->user, "Admin", "admin");
	page_raw(&pg, "<h1>Admin</h1><section class=\"panel\"><h2>Daemon</h2><dl id=\"health\"></dl>"
	    "</section>");
	if (c->p->cluster != NULL)
		admin_nodes(&pg, c->p);
	admin_spaces(&pg, c);
	page_raw(&pg, "<section class=\"panel\"><h2>Users</h2><div class=\"scroll\"><table id=\"users\" "
	    "class=\"nowrap\" data-list=\"/api/admin/users\"><thead><tr><th scope=\"col\">Name</th>"
	    "<th scope=\"col\">Role</th><th scope=\"col\">State</th><th scope=\"col\">"
	    "<span class=\"sr\">Actions</span></th></tr></thead><tbody></tbody></table></div>"
	    "<p class=\"result\" role=\"status\" aria-live=\"polite\"></p>"
	    "<form id=\"adduser\" class=\"inline-form\"><h3>Add a user</h3><label for=\"uname\">Name</label>"
	    "<input id=\"uname\" name=\"name\" required pattern=\"[a-z0-9\\-]{1,39}\">"
	    "<label for=\"upass\">Password</label><input id=\"upass\" name=\"password\" type=\"password\" "
	    "minlength=\"8\" required autocomplete=\"new-password\"><label><input type=\"checkbox\" "
	    "name=\"admin\"> Admin</label><button type=\"submit\">Add user</button>"
	    "<p class=\"result\" role=\"status\" aria-live=\"polite\"></p></form></section>");
	web_tls_section(&pg, c->p);
	page_finish(&pg, c->x, 200, NULL, 0);
}
