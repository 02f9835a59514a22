/* sched.c — the scheduler: one node at a time (the session-level advisory lock
 * of its cluster connection) places the spaces. A round reads the nodes, the
 * placements and what each space needs, then:
 *   - a space without a placement goes to the best node;
 *   - a space whose node's lease lapsed more than grace ago (or whose node was
 *     removed) moves to the best live node (epoch + 1: its old node, if it
 *     comes back, finds it gone and runs nothing of it);
 *   - a draining node's spaces are marked to move (next_node), at most
 *     MOVES_AT_ONCE at a time; the draining node hands each on (cluster.c).
 * The best node is an active, live one that may hold the space (any with the
 * shared filesystem, else only its home) with the most memory budget left after
 * what it committed and what this round gave it, and room for the descriptors
 * of one more app; spaces that run no process cost no memory.
 *
 * Not the holder: a holder whose node's lease lapsed (a node cut off keeps its
 * session until the server notices) is ended, and the lock taken next round. */
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "orchestrator/cluster/cluster_int.h"
#include "orchestrator/host/budget.h"
#include "orchestrator/host/flavors.h"

#define MOVES_AT_ONCE 2

typedef struct sched {
	cluster *c;
	int64_t now;
	node_row *nodes;
	size_t nnodes;
	int64_t *planned_mem, *planned_fds, *nspaces;
	placement_row *places;
	size_t nplaces;
	sched_space_row *spaces;
	size_t nspaces_rows;
} sched;

static void
s_node(const node_row *n, void *arg)
{
	sched *s = arg;

	s->nodes = xrealloc(s->nodes, (s->nnodes + 1) * sizeof(*s->nodes));
	s->nodes[s->nnodes++] = *n;
}

static void
s_place(const placement_row *pl, void *arg)
{
	sched *s = arg;

	s->places = xrealloc(s->places, (s->nplaces + 1) * sizeof(*s->places));
	s->places[s->nplaces++] = *pl;
}

static void
s_space(const sched_space_row *r, void *arg)
{
	sched *s = arg;

	s->spaces = xrealloc(s->spaces, (s->nspaces_rows + 1) * sizeof(*s->spaces));
	s->spaces[s->nspaces_rows++] = *r;
}

static int
node_live(const sched *s, const node_row *n)
{
	return n->lease_until > s->now;
}

static node_row *
node_find(sched *s, const char *name)
{
	for (size_t i = 0; i < s->nnodes; i++)
		if (strcmp(s->nodes[i].name, name) == 0)
			return &s->nodes[i];
	return NULL;
}

static placement_row *
place_find(sched *s, int64_t id)
{
	for (size_t i = 0; i < s->nplaces; i++)
		if (s->places[i].space_id == id)
			return &s->places[i];
	return NULL;
}

static uint64_t
space_cost(const sched_space_row *r)
{
	const flavor *f = r->flavor[0] != '\0' ? flavor_find(r->flavor) : NULL;

	if (!r->runs)
		return 0;
	return (f != NULL ? f : flavor_default())->memory_bytes;
}

/* The best node for a space of cost bytes (home: its node without shared
 * storage), other than not; NULL when none may take it. */
static node_row *
best_node(sched *s, uint64_t cost, const char *home, const char *not)
{
	node_row *best = NULL;
	int64_t best_free = 0;
	size_t bi = 0;

	for (size_t i = 0; i < s->nnodes; i++) {
		node_row *n = &s->nodes[i];
		int64_t free_mem = n->memory_budget - n->memory_committed - s->planned_mem[i];

		if (!node_live(s, n) || strcmp(n->state, "active") != 0 ||
		    (not != NULL && strcmp(n->name, not) == 0) ||
		    (!n->shared && (home == NULL || strcmp(n->name, home) != 0)))
			continue;
		if (cost > 0 && (free_mem < (int64_t)cost ||
		    n->fd_room - s->planned_fds[i] < BUDGET_FDS_PER_INSTANCE))
			continue;
		if (best == NULL || free_mem > best_free ||
		    (free_mem == best_free && s->nspaces[i] < s->nspaces[bi])) {
			best = n;
			best_free = free_mem;
			bi = i;
		}
	}
	if (best != NULL) {
		s->planned_mem[bi] += (int64_t)cost;
		s->planned_fds[bi] += cost > 0 ? BUDGET_FDS_PER_INSTANCE : 0;
		s->nspaces[bi]++;
	}
	return best;
}

static void
sched_free(sched *s)
{
	free(s->nodes);
	free(s->planned_mem);
	free(s->planned_fds);
	free(s->nspaces);
	free(s->places);
	free(s->spaces);
}

/* One space: placed, moved off a lost node, or marked to leave a draining one;
 * *moving counts the drains under way. */
static void
sched_space(sched *s, store *st, const sched_space_row *r, int *moving)
{
	placement_row *pl = place_find(s, r->id);
	node_row *n = pl != NULL ? node_find(s, pl->node) : NULL;
	uint64_t cost = space_cost(r);
	node_row *to;

	if (pl == NULL) {
		if ((to = best_node(s, cost, NULL, NULL)) != NULL &&
		    store_placement_insert(st, r->id, to->name) == 0)
			log_info("cluster: space %lld placed on node %s", (long long)r->id, to->name);
		return;
	}
	if (n == NULL || n->lease_until + s->c->grace_ms < s->now) {
		if ((to = best_node(s, cost, pl->home, NULL)) != NULL &&
		    store_placement_move(st, r->id, pl->epoch, to->name) == 0)
			log_warn("cluster: space %lld moved from node %s (its lease lapsed) to %s",
			    (long long)r->id, pl->node, to->name);
		return;
	}
	if (pl->next_node[0] != '\0') {
		node_row *next = node_find(s, pl->next_node);

		/* a move under way (counted already) that can no longer happen ends */
		if (next == NULL || !node_live(s, next) || strcmp(n->state, "draining") != 0)
			store_placement_next(st, r->id, pl->epoch, NULL);
		return;
	}
	if (strcmp(n->state, "draining") == 0 && *moving < MOVES_AT_ONCE &&
	    (to = best_node(s, cost, pl->home, n->name)) != NULL &&
	    store_placement_next(st, r->id, pl->epoch, to->name) == 0) {
		log_info("cluster: space %lld leaves draining node %s for %s", (long long)r->id,
		    n->name, to->name);
		(*moving)++;
	}
}

/* Counts what each node holds already (placements that stay). */
static void
sched_count(sched *s)
{
	for (size_t i = 0; i < s->nplaces; i++)
		for (size_t j = 0; j < s->nnodes; j++)
			if (strcmp(s->places[i].node, s->nodes[j].name) == 0)
				s->nspaces[j]++;
}

static int
sched_lead(cluster *c, store *st)
{
	int got = 0;
	int64_t holder = 0;
	sched s = { .c = c };
	int ended = 0;

	if (store_sched_lock(st, &got, &holder) != 0)
		return 0;
	if (!got && holder != 0 && store_now_ms(st, &s.now) == 0 &&
	    store_nodes_list(st, s_node, &s) == 0) {
		node_row *h = NULL;

		for (size_t i = 0; i < s.nnodes; i++)
			if (s.nodes[i].sched_pid == holder)
				h = &s.nodes[i];
		/* a holder no live node claims: a session of a node that is gone */
		if (h == NULL || h->lease_until + c->grace_ms < s.now) {
			log_warn("cluster: the scheduler's holder (backend %lld, node %s) lost its "
			    "lease: ending it", (long long)holder, h != NULL ? h->name : "?");
			ended = store_backend_end(st, holder) == 0;
		}
	}
	free(s.nodes);
	if (!got && ended)
		store_sched_lock(st, &got, &holder);
	if (got && !atomic_load(&c->leader))
		log_info("cluster: node %s schedules", c->self.name);
	atomic_store(&c->leader, got);
	return got;
}

void
sched_round(cluster *c, store *st)
{
	sched s = { .c = c };
	int moving = 0;

	if (!sched_lead(c, st))
		return;
	if (store_now_ms(st, &s.now) != 0 || store_nodes_list(st, s_node, &s) != 0 ||
	    store_placements_list(st, s_place, &s) != 0 || store_sched_spaces(st, s_space, &s) != 0)
		goto done;
	s.planned_mem = xcalloc(s.nnodes + 1, sizeof(int64_t));
	s.planned_fds = xcalloc(s.nnodes + 1, sizeof(int64_t));
	s.nspaces = xcalloc(s.nnodes + 1, sizeof(int64_t));
	sched_count(&s);
	for (size_t i = 0; i < s.nplaces; i++)
		moving += s.places[i].next_node[0] != '\0';
	for (size_t i = 0; i < s.nspaces_rows; i++)
		sched_space(&s, st, &s.spaces[i], &moving);
done:
	sched_free(&s);
}
