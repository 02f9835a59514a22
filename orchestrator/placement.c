/* placement.c — a cluster node's side of the placements (see placement.h): the
 * spaces it runs, the ones it forwards, the ones it takes over, hands on or
 * gives up when it loses its lease. The hooks the lifecycle calls are declared
 * in space_int.h; each is a no-op on one machine. */
#include "orchestrator/placement.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "common/util.h"
#include "orchestrator/host/instance.h"
#include "orchestrator/host/storage.h"
#include "orchestrator/resources.h"
#include "orchestrator/space_int.h"
#include "proxy/routes.h"

/* ---- hooks ---- */

route_target *
placement_route(space *s, const char *id)
{
	podium *p = s->p;
	route_target *t;

	if (p->node == NULL)
		return NULL;
	if (p->fenced == 1)
		return route_target_status(ROUTE_STARTING, id, "this node lost contact with the "
		    "cluster's database; another node takes its spaces over");
	if (s->foreign && s->owner_addr != NULL &&
	    (t = route_target_remote(id, s->owner_node, s->owner_addr)) != NULL)
		return t;
	/* not placed yet, or on its way here or away: held, as for a wake */
	if (s->foreign || s->moving)
		return route_target_status(ROUTE_SLEEPING, id, NULL);
	if (s->adopting && !space_serving(s) && (strstr(s->row.stage, "BUILDING") != NULL ||
	    strstr(s->row.stage, "STARTING") != NULL))
		return route_target_status(ROUTE_SLEEPING, id, NULL);
	s->adopting = 0;
	return NULL;
}

int
placement_may_write(const space *s)
{
	return s->p->node == NULL || (!s->foreign && !s->p->fenced);
}

static void
move_finish(space *s)
{
	void (*cb)(space *, void *) = s->moved_cb;
	char *dir = space_data_dir(s->p, s);

	/* the app is gone: /data goes before the other node may attach it */
	storage_detach(dir);
	free(dir);
	s->moved_cb = NULL;
	if (cb != NULL)
		cb(s, s->moved_arg);
}

int
placement_instance_exited(space *s, inst_ref *ref)
{
	if (!s->moving && !s->foreign)
		return 0;
	if (ref == s->live)
		s->live = NULL;
	if (ref == s->pending)
		s->pending = NULL;
	inst_ref_free(ref);
	if (s->moving && s->live == NULL && s->pending == NULL)
		move_finish(s);
	return 1;
}

/* ---- what this node runs ---- */

int
space_is_local(const space *s)
{
	return s->p->node == NULL || (!s->foreign && !s->p->fenced);
}

int64_t
space_epoch(const space *s)
{
	return s->epoch;
}

int64_t
space_row_id(const space *s)
{
	return s->row.id;
}

int64_t
space_created(const space *s)
{
	return s->row.created;
}

int
space_moving(const space *s)
{
	return s->moving;
}

int
space_move_finished(const space *s)
{
	return s->moving && s->moved_cb == NULL;
}

/* Everything of s stops here now (kill: grace 0) and its /data is detached. */
static void
space_stop_here(space *s, unsigned grace_ms)
{
	char *dir;

	space_build_abandon(s);
	uv_timer_stop(&s->restart_timer);
	if (s->pending != NULL) {
		space_detach_instance(s, s->pending, 0);
		s->pending = NULL;
	}
	if (s->live != NULL) {
		inst_ref *ref = s->live;

		s->live = NULL;
		if (ref->in != NULL) {
			ref->s = NULL;
			instance_stop(ref->in, grace_ms);
		} else {
			space_detach_instance(s, ref, 0);
		}
	}
	s->static_live = 0;
	s->sleeping = s->waking = s->adopting = 0;
	dir = space_data_dir(s->p, s);
	storage_detach(dir);
	free(dir);
}

static void
row_take(space *s, const space_row *row)
{
	space_replace_str(&s->row.stage, row->stage);
	space_replace_str(&s->row.error, row->error);
	space_replace_str(&s->row.sha, row->sha);
	space_replace_str(&s->row.card, row->card);
	space_replace_str(&s->row.sdk, row->sdk);
	s->row.private = row->private;
	s->row.want_running = row->want_running;
	s->row.release_id = row->release_id;
	s->row.deploy_id = row->deploy_id;
	s->row.restarts = row->restarts;
	s->row.retry_at = row->retry_at;
}

void
space_row_refresh(space *s, const space_row *row)
{
	int was_private = s->row.private;

	if (!s->foreign)
		return;
	row_take(s, row);
	if (was_private != s->row.private)
		space_update_route(s);
}

void
space_place_remote(space *s, const char *node, const char *address)
{
	if (!s->foreign) {
		log_info("space %s/%s: now runs on node %s", s->row.owner, s->row.name, node);
		space_stop_here(s, s->moving ? STOP_GRACE_MS : 0);
		s->foreign = 1;
		s->moving = 0;
	}
	if (s->owner_node != NULL && strcmp(s->owner_node, node) == 0 &&
	    (s->owner_addr == NULL ? address == NULL
	                           : address != NULL && strcmp(s->owner_addr, address) == 0))
		return;
	space_replace_str(&s->owner_node, node);
	space_replace_str(&s->owner_addr, address);
	space_update_route(s);
}

/* The release at release_id was built on this node and is still on disk. */
static int
release_here(space *s, build_row *b)
{
	size_t n = strlen(s->p->data_dir);
	struct stat st;
	char *dir;
	int here;

	if (s->row.release_id <= 0 || store_build_get(s->p->store, s->row.release_id, b) != 0)
		return 0;
	dir = xasprintf("%s/%lld", b->release_dir, (long long)b->id);
	here = strncmp(dir, s->p->data_dir, n) == 0 && dir[n] == '/' && stat(dir, &st) == 0;
	free(dir);
	return here;
}

void
space_place_local(space *s, int64_t epoch, const space_row *row)
{
	build_row latest = { 0 }, rel = { 0 };

	s->epoch = epoch;
	if (!s->foreign)
		return;
	log_info("space %s/%s: placed on this node (epoch %lld)", s->row.owner, s->row.name,
	    (long long)epoch);
	if (row != NULL)
		row_take(s, row);
	s->foreign = 0;
	s->moving = 0;
	free(s->owner_node);
	free(s->owner_addr);
	s->owner_node = s->owner_addr = NULL;
	lifecycle_load(s);
	s->adopting = 1;
	store_build_latest(s->p->store, s->row.id, &latest);
	if (s->row.release_id > 0 && !release_here(s, &rel) && rel.sha != NULL) {
		/* built on another node: its commit is built again here (the
		 * repository is on the shared filesystem) */
		char *note = xasprintf("==> node %s took this space over: building release %lld's "
		    "commit %.12s here\n", s->p->node, (long long)rel.id, rel.sha);

		space_build_release(s, rel.sha, note);
		free(note);
	} else {
		space_recover(s, &latest);
	}
	space_update_route(s);
	build_row_release(&latest);
	build_row_release(&rel);
}

space *
space_add_foreign(podium *p, space_row *row)
{
	space *s = space_new(p, row);

	s->foreign = 1;
	space_update_route(s);
	return s;
}

void
space_forget(podium *p, space *s)
{
	char err[512];

	log_info("space %s/%s: deleted through another node", s->row.owner, s->row.name);
	/* its rows are gone already: no tombstone to write, only what this node holds */
	space_replace_str(&s->row.stage, "DELETING");
	if (space_delete(p, s, err, sizeof(err)) != 0)
		log_warn("space %s/%s: %s", s->row.owner, s->row.name, err);
}

/* ---- a drain, a lost lease ---- */

static void
move_drained(uv_timer_t *t)
{
	space *s = t->data;

	uv_close((uv_handle_t *)t, (uv_close_cb)free);
	if (!s->moving)
		return;
	if (s->live != NULL && s->live->in != NULL) {
		instance_stop(s->live->in, STOP_GRACE_MS);
		return; /* placement_instance_exited finishes */
	}
	if (s->live != NULL) {
		inst_ref_free(s->live);
		s->live = NULL;
	}
	move_finish(s);
}

void
space_move_away(space *s, void (*done)(space *s, void *arg), void *arg)
{
	uv_timer_t *t;

	if (s->moving || s->foreign)
		return;
	log_info("space %s/%s: moving to another node", s->row.owner, s->row.name);
	s->moving = 1;
	s->moved_cb = done;
	s->moved_arg = arg;
	space_build_abandon(s);
	uv_timer_stop(&s->restart_timer);
	if (s->pending != NULL) {
		space_detach_instance(s, s->pending, 0);
		s->pending = NULL;
	}
	s->static_live = 0;
	s->sleeping = s->waking = 0;
	/* new requests are held from now; those under way finish before it stops */
	space_update_route(s);
	t = xmalloc(sizeof(*t));
	uv_timer_init(s->p->loop, t);
	t->data = s;
	uv_timer_start(t, move_drained, s->live != NULL ? DRAIN_MS : 0, 0);
}

void
spaces_fence(podium *p)
{
	if (p->fenced)
		return;
	log_warn("node %s: its lease lapsed: stopping every app it runs (another node takes "
	    "them over)", p->node);
	p->fenced = 1;
	for (space *s = p->spaces; s != NULL; s = s->next) {
		if (!s->foreign) {
			space_stop_here(s, 0);
			s->foreign = 1;
			s->moving = 0;
			s->moved_cb = NULL;
		}
		space_update_route(s);
	}
}
