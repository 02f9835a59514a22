/* cluster.c — a node's cluster on its main loop (see cluster.h): the snapshots
 * the thread reads (node.c) become what the orchestrator runs and forwards
 * (placement.h); a timer fences the node when its lease runs out, hands the
 * thread the node's load, and finishes drains whose last write failed. */
#include "orchestrator/cluster/cluster.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "orchestrator/cluster/cluster_int.h"
#include "orchestrator/host/budget.h"
#include "orchestrator/placement.h"
#include "proxy/routes.h"

#define TICK_MS 250
#define FORGET_AFTER_S 10 /* a space this young may be missing from a snapshot */

static const placement_row *
place_of(const snapshot *s, int64_t id)
{
	for (size_t i = 0; s != NULL && i < s->nplaces; i++)
		if (s->places[i].space_id == id)
			return &s->places[i];
	return NULL;
}

static const node_row *
node_of(const snapshot *s, const char *name)
{
	for (size_t i = 0; s != NULL && i < s->nnodes; i++)
		if (strcmp(s->nodes[i].name, name) == 0)
			return &s->nodes[i];
	return NULL;
}

/* The spaces' rows as the store has them: new ones added, gone ones forgotten,
 * other nodes' refreshed. The rows' strings are taken. */
static void
rows_apply(cluster *c, snapshot *s)
{
	podium *p = c->p;
	int64_t max_id = 0, now = (int64_t)time(NULL);
	space *sp, *next;

	for (size_t i = 0; i < s->nrows; i++) {
		space_row *r = &s->rows[i];

		if (r->id > max_id)
			max_id = r->id;
		if ((sp = space_by_id(p, r->id)) != NULL) {
			space_row_refresh(sp, r);
		} else {
			space_add_foreign(p, r);
			memset(r, 0, sizeof(*r));
		}
	}
	for (sp = p->spaces; sp != NULL; sp = next) {
		int64_t id = space_row_id(sp);
		int found = 0;

		next = space_next(sp);
		for (size_t i = 0; i < s->nrows && !found; i++)
			found = s->rows[i].id == id;
		if (!found && id <= max_id && !space_is_local(sp) &&
		    space_created(sp) + FORGET_AFTER_S < now)
			space_forget(p, sp);
	}
}

/* A drain of this node handed sp on: the placement moves to its next node. */
static void
moved(space *sp, void *arg)
{
	cluster *c = arg;
	const placement_row *pl = place_of(c->cur, space_row_id(sp));
	int r;

	if (pl == NULL || pl->next_node[0] == '\0')
		return;
	r = store_placement_move(c->p->store, pl->space_id, space_epoch(sp), pl->next_node);
	if (r == 0)
		log_info("cluster: space %lld handed on to node %s", (long long)pl->space_id,
		    pl->next_node);
	else if (r != -ENOENT)
		log_warn("cluster: space %lld: the move to %s was not stored; trying again",
		    (long long)pl->space_id, pl->next_node);
}

static void
space_apply(cluster *c, snapshot *s, space *sp)
{
	const placement_row *pl = place_of(s, space_row_id(sp));
	const node_row *n;

	if (pl == NULL)
		return; /* the scheduler places it: held meanwhile */
	if (strcmp(pl->node, c->self.name) == 0) {
		space_place_local(sp, pl->epoch, NULL);
		if (pl->next_node[0] != '\0' && !space_moving(sp))
			space_move_away(sp, moved, c);
		return;
	}
	n = node_of(s, pl->node);
	/* a node whose lease lapsed: held until the scheduler moves it */
	space_place_remote(sp, pl->node, n != NULL && n->lease_until > s->db_now ? n->address
	    : NULL);
}

static void
snapshot_apply(cluster *c, snapshot *s)
{
	podium *p = c->p;

	if (s->rows != NULL)
		rows_apply(c, s);
	snapshot_free(c->cur);
	c->cur = s;
	if (!s->lease_ok || atomic_load(&c->lease_until_ms) <= now_ms())
		return;
	if (p->fenced) {
		log_info("cluster: node %s holds its lease", p->node);
		p->fenced = 0;
	}
	for (space *sp = p->spaces; sp != NULL; sp = space_next(sp))
		space_apply(c, s, sp);
}

static void
on_snapshot(uv_async_t *h)
{
	cluster *c = h->data;
	snapshot *s;

	uv_mutex_lock(&c->lock);
	s = c->pending;
	c->pending = NULL;
	uv_mutex_unlock(&c->lock);
	if (s != NULL && !c->p->stopping)
		snapshot_apply(c, s);
	else
		snapshot_free(s);
}

static void
on_tick(uv_timer_t *t)
{
	cluster *c = t->data;
	podium *p = c->p;
	uint64_t limit = budget_fd_limit(), used = budget_fds_open() + budget_fd_reserve(limit);
	int64_t apps = 0;

	for (space *sp = p->spaces; sp != NULL; sp = space_next(sp)) {
		apps += space_is_local(sp);
		if (space_move_finished(sp))
			moved(sp, c);
	}
	atomic_store(&c->mem_budget, (int64_t)budget_memory());
	atomic_store(&c->mem_committed, (int64_t)budget_committed());
	atomic_store(&c->fd_room, limit > used ? (int64_t)(limit - used) : 0);
	atomic_store(&c->apps, apps);
	if (p->fenced != 1 && !p->stopping && atomic_load(&c->lease_until_ms) != 0 &&
	    now_ms() >= atomic_load(&c->lease_until_ms))
		spaces_fence(p);
}

int
cluster_start(podium *p, const cluster_options *opt, cluster **out)
{
	route_target *probe = route_target_remote("-", opt->node, opt->advertise);
	cluster *c;

	if (strncmp(opt->store, "postgres://", 11) != 0 &&
	    strncmp(opt->store, "postgresql://", 13) != 0)
		return error("--node: a cluster's nodes share a PostgreSQL database (--store "
		    "postgres://...), not %s", opt->store);
	if (probe == NULL)
		return error("--advertise wants IPV4:PORT where the other nodes reach this one, "
		    "got \"%s\"", opt->advertise);
	route_target_unref(probe);
	c = xcalloc(1, sizeof(*c));
	c->p = p;
	c->where = xstrdup(opt->store);
	snprintf(c->self.name, sizeof(c->self.name), "%s", opt->node);
	snprintf(c->self.address, sizeof(c->self.address), "%s", opt->advertise);
	c->self.shared = opt->shared;
	c->self.started = (int64_t)time(NULL) * 1000;
	c->lease_ms = opt->lease_ms > 0 ? opt->lease_ms : 10000;
	c->renew_ms = c->lease_ms / 5;
	c->fence_ms = c->lease_ms * 7 / 10;
	c->grace_ms = c->lease_ms / 5;
	if (pipe2(c->wake, O_CLOEXEC) != 0) {
		free(c->where);
		free(c);
		return error("cluster: pipe: %s", strerror(errno));
	}
	uv_mutex_init(&c->lock);
	uv_async_init(p->loop, &c->async, on_snapshot);
	c->async.data = c;
	uv_timer_init(p->loop, &c->tick);
	c->tick.data = c;
	uv_timer_start(&c->tick, on_tick, TICK_MS, TICK_MS);
	p->fenced = 2; /* joining: spaces are held until the placements are read */
	on_tick(&c->tick);
	if (uv_thread_create(&c->thread, cluster_thread, c) != 0) {
		cluster_stop(c);
		return error("cluster: cannot start its thread");
	}
	log_info("cluster: node %s (%s), lease %lld ms%s", c->self.name, c->self.address,
	    (long long)c->lease_ms, opt->shared ? ", shared filesystem" : "");
	*out = c;
	return 0;
}

static void
closed_free(uv_handle_t *h)
{
	cluster *c = h->data;

	if (uv_is_closing((uv_handle_t *)&c->tick) && uv_is_closing((uv_handle_t *)&c->async) &&
	    h == (uv_handle_t *)&c->async) {
		uv_mutex_destroy(&c->lock);
		snapshot_free(c->pending);
		snapshot_free(c->cur);
		free(c->where);
		free(c);
	}
}

void
cluster_stop(cluster *c)
{
	if (c == NULL)
		return;
	atomic_store(&c->stop, 1);
	if (write(c->wake[1], "x", 1) < 0)
		log_warn("cluster: cannot wake its thread: %s", strerror(errno));
	uv_thread_join(&c->thread);
	close(c->wake[0]);
	close(c->wake[1]);
	uv_close((uv_handle_t *)&c->tick, NULL);
	uv_close((uv_handle_t *)&c->async, closed_free);
}

uint64_t
cluster_statements(cluster *c)
{
	return atomic_load(&c->statements);
}

json_t *
cluster_json(cluster *c)
{
	const snapshot *s = c->cur;
	json_t *nodes = json_array();

	for (size_t i = 0; s != NULL && i < s->nnodes; i++) {
		const node_row *n = &s->nodes[i];
		int64_t spaces = 0;

		for (size_t j = 0; j < s->nplaces; j++)
			spaces += strcmp(s->places[j].node, n->name) == 0;
		json_array_append_new(nodes, json_pack("{s:s, s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:I, "
		    "s:I}", "name", n->name, "address", n->address, "state", n->state,
		    "alive", n->lease_until > s->db_now, "leaseMs", (json_int_t)(n->lease_until -
		    s->db_now), "memoryBudget", (json_int_t)n->memory_budget, "memoryCommitted",
		    (json_int_t)n->memory_committed, "fdRoom", (json_int_t)n->fd_room, "apps",
		    (json_int_t)n->apps, "spaces", (json_int_t)spaces));
	}
	return json_pack("{s:s, s:b, s:b, s:o}", "node", c->self.name, "leader",
	    atomic_load(&c->leader), "fenced", c->p->fenced == 1, "nodes", nodes);
}
