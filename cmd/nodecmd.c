/* nodecmd.c — `podium node list|drain|activate|remove`: a cluster's nodes in its
 * store (issue 27), also while they run: the scheduler and every node hear the
 * change at once (LISTEN/NOTIFY). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/nodecmd.h"
#include "cmd/usercmd.h"
#include "orchestrator/store/store.h"

typedef struct node_list {
	json_t *nodes;
	int64_t now;
	store *st;
} node_list;

static void
node_usage(FILE *f)
{
	fputs("usage: podium node list [--json] [--data DIR] [--store ADDRESS]\n"
	    "       podium node drain NAME [--data DIR] [--store ADDRESS]\n"
	    "       podium node activate NAME [--data DIR] [--store ADDRESS]\n"
	    "       podium node remove NAME [--data DIR] [--store ADDRESS]\n"
	    "\n"
	    "list: every node of the cluster, its lease, its load and its spaces.\n"
	    "drain: the scheduler moves its spaces to other nodes, a few at a time, each\n"
	    "  without a failed request; it takes no new ones. activate: it takes spaces again.\n"
	    "remove: forgets a node that is gone (its lease lapsed); its spaces move.\n", f);
}

static void
count_place(const placement_row *pl, void *arg)
{
	node_list *l = arg;
	size_t i;
	json_t *n;

	json_array_foreach(l->nodes, i, n) {
		if (strcmp(json_string_value(json_object_get(n, "name")), pl->node) == 0)
			json_object_set_new(n, "spaces",
			    json_integer(json_integer_value(json_object_get(n, "spaces")) + 1));
	}
}

static void
add_node(const node_row *r, void *arg)
{
	node_list *l = arg;

	json_array_append_new(l->nodes, json_pack("{s:s, s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:I, "
	    "s:b, s:i}", "name", r->name, "address", r->address, "state", r->state, "alive",
	    r->lease_until > l->now, "leaseMs", (json_int_t)(r->lease_until - l->now),
	    "memoryBudget", (json_int_t)r->memory_budget, "memoryCommitted",
	    (json_int_t)r->memory_committed, "fdRoom", (json_int_t)r->fd_room, "apps",
	    (json_int_t)r->apps, "shared", r->shared, "spaces", 0));
}

static int
node_list_print(store *st, int as_json)
{
	node_list l = { json_array(), 0, st };
	size_t i;
	json_t *n;
	int r;

	if ((r = store_now_ms(st, &l.now)) != 0 || (r = store_nodes_list(st, add_node, &l)) != 0 ||
	    (r = store_placements_list(st, count_place, &l)) != 0) {
		json_decref(l.nodes);
		fprintf(stderr, "podium: cannot read the nodes\n");
		return r;
	}
	if (as_json) {
		char *text = json_dumps(l.nodes, JSON_INDENT(2));

		printf("%s\n", text);
		free(text);
	} else {
		printf("%-16s %-22s %-9s %-6s %7s %9s %6s\n", "NODE", "ADDRESS", "STATE", "ALIVE",
		    "SPACES", "MEM GiB", "APPS");
		json_array_foreach(l.nodes, i, n) {
			printf("%-16s %-22s %-9s %-6s %7lld %4.1f/%-4.0f %6lld\n",
			    json_string_value(json_object_get(n, "name")),
			    json_string_value(json_object_get(n, "address")),
			    json_string_value(json_object_get(n, "state")),
			    json_is_true(json_object_get(n, "alive")) ? "yes" : "no",
			    (long long)json_integer_value(json_object_get(n, "spaces")),
			    (double)json_integer_value(json_object_get(n, "memoryCommitted")) / (1 << 30),
			    (double)json_integer_value(json_object_get(n, "memoryBudget")) / (1 << 30),
			    (long long)json_integer_value(json_object_get(n, "apps")));
		}
	}
	json_decref(l.nodes);
	return 0;
}

static void
find_node(const node_row *r, void *arg)
{
	node_row *want = arg;

	if (strcmp(r->name, want->name) == 0)
		*want = *r;
}

/* remove: only a node whose lease lapsed (a live one would register again). */
static int
node_remove(store *st, const char *name)
{
	node_row n = { 0 };
	int64_t now = 0;
	int r;

	snprintf(n.name, sizeof(n.name), "%s", name);
	if ((r = store_now_ms(st, &now)) != 0 || (r = store_nodes_list(st, find_node, &n)) != 0)
		return r;
	if (n.address[0] == '\0') {
		fprintf(stderr, "podium: no node %s\n", name);
		return -ENOENT;
	}
	if (n.lease_until > now) {
		fprintf(stderr, "podium: node %s is alive (its lease runs %lld ms more): drain it, "
		    "stop it, then remove it\n", name, (long long)(n.lease_until - now));
		return -EBUSY;
	}
	return store_node_remove(st, name);
}

static int
node_run(store *st, const char *cmd, const char *name, int as_json)
{
	int r;

	if (strcmp(cmd, "list") == 0)
		return node_list_print(st, as_json);
	if (name == NULL) {
		node_usage(stderr);
		return -EINVAL;
	}
	if (strcmp(cmd, "drain") == 0 || strcmp(cmd, "activate") == 0) {
		r = store_node_set_state(st, name, cmd[0] == 'd' ? "draining" : "active");
		if (r == 0)
			printf("node %s: %s\n", name, cmd[0] == 'd' ? "draining" : "active");
	} else if (strcmp(cmd, "remove") == 0) {
		if ((r = node_remove(st, name)) == 0)
			printf("node %s: removed\n", name);
	} else {
		node_usage(stderr);
		return -EINVAL;
	}
	if (r == -ENOENT)
		fprintf(stderr, "podium: no node %s\n", name);
	return r;
}

int
nodecmd_main(int argc, char **argv)
{
	const char *data = "./var", *url = NULL, *name = NULL;
	int as_json = 0, r;
	store *st;

	if (argc < 3 || strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0) {
		node_usage(argc < 3 ? stderr : stdout);
		return argc < 3 ? 2 : 0;
	}
	for (int i = 3; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--json") == 0) {
			as_json = 1;
		} else if (strcmp(a, "--data") == 0 || strcmp(a, "--store") == 0) {
			if (v == NULL) {
				fprintf(stderr, "podium: %s needs a value\n", a);
				return 2;
			}
			if (a[2] == 'd')
				data = v;
			else
				url = v;
			i++;
		} else if (a[0] != '-' && name == NULL) {
			name = a;
		} else {
			fprintf(stderr, "podium: unexpected argument \"%s\"\n", a);
			node_usage(stderr);
			return 2;
		}
	}
	if (cmd_store_of(data, url, &st) != 0)
		return 1;
	r = node_run(st, argv[2], name, as_json);
	store_close(st);
	return r == 0 ? 0 : r == -EINVAL ? 2 : 1;
}
