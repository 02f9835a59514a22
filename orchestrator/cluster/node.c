/* node.c — a node's cluster thread: a connection of its own to the database, the
 * lease renewed every renew_ms with the node's load, the scheduler's lock tried
 * (sched.c runs a round while it is held), every change heard (LISTEN) and the
 * nodes, placements and spaces read again and handed to the main loop.
 *
 * Blocking calls are fine here: nothing else runs on this thread. A database
 * that is away fails each call at once (or after its connect timeout); the
 * lease is then not renewed, and the main loop fences the node once what it
 * last renewed runs out (cluster.c). */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "orchestrator/cluster/cluster_int.h"

#define DEBOUNCE_MS 20   /* changes that come together are read once */
#define REREAD_MS 5000   /* read everything this often anyway */

void
snapshot_free(snapshot *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->nrows; i++)
		space_row_release(&s->rows[i]);
	free(s->rows);
	free(s->nodes);
	free(s->places);
	free(s);
}

static void
node_add(const node_row *n, void *arg)
{
	snapshot *s = arg;

	s->nodes = xrealloc(s->nodes, (s->nnodes + 1) * sizeof(*s->nodes));
	s->nodes[s->nnodes++] = *n;
}

static void
place_add(const placement_row *pl, void *arg)
{
	snapshot *s = arg;

	s->places = xrealloc(s->places, (s->nplaces + 1) * sizeof(*s->places));
	s->places[s->nplaces++] = *pl;
}

static void
row_add(space_row *r, void *arg)
{
	snapshot *s = arg;

	s->rows = xrealloc(s->rows, (s->nrows + 1) * sizeof(*s->rows));
	s->rows[s->nrows++] = *r;
}

/* Reads what the main loop needs (rows: the spaces too); NULL on an error. */
static snapshot *
snapshot_read(store *st, int rows, int lease_ok)
{
	snapshot *s = xcalloc(1, sizeof(*s));

	s->lease_ok = lease_ok;
	s->read_ms = now_ms();
	if (store_now_ms(st, &s->db_now) != 0 || store_nodes_list(st, node_add, s) != 0 ||
	    store_placements_list(st, place_add, s) != 0)
		goto fail;
	if (rows) {
		s->rows = xcalloc(1, sizeof(*s->rows));
		if (store_space_load_all(st, row_add, s) != 0)
			goto fail;
	}
	return s;
fail:
	snapshot_free(s);
	return NULL;
}

static void
publish(cluster *c, snapshot *s)
{
	snapshot *old;

	uv_mutex_lock(&c->lock);
	old = c->pending;
	/* rows not read again keep what an unread snapshot had */
	if (old != NULL && s->rows == NULL && old->rows != NULL) {
		s->rows = old->rows;
		s->nrows = old->nrows;
		old->rows = NULL;
		old->nrows = 0;
	}
	c->pending = s;
	uv_mutex_unlock(&c->lock);
	snapshot_free(old);
	uv_async_send(&c->async);
}

/* Renews the lease with the load the main loop published; 0 or -errno. The
 * lease runs, by our clock, from when we asked: never later than the
 * database's. */
static int
lease_renew(cluster *c, store *st)
{
	uint64_t sent = now_ms();
	int64_t until;
	char state[16];
	int r;

	c->self.memory_budget = atomic_load(&c->mem_budget);
	c->self.memory_committed = atomic_load(&c->mem_committed);
	c->self.fd_room = atomic_load(&c->fd_room);
	c->self.apps = atomic_load(&c->apps);
	if ((r = store_node_renew(st, &c->self, c->lease_ms, &until, state)) != 0)
		return r;
	atomic_store(&c->lease_until_ms, sent + (uint64_t)c->fence_ms);
	return 0;
}

static void
heard(const char *table, void *arg)
{
	int *what = arg;

	if (strcmp(table, "spaces") == 0)
		*what |= 2;
	else if (strcmp(table, "placements") == 0 || strcmp(table, "nodes") == 0)
		*what |= 1;
}

/* Waits for a change, the stop byte or ms; what heard: 1 placements or nodes,
 * 2 spaces. */
static int
wait_changes(cluster *c, store *st, int64_t ms)
{
	struct pollfd fds[2] = { { c->wake[0], POLLIN, 0 }, { -1, POLLIN, 0 } };
	int what = 0;

	if (store_notifications(st, heard, &what) == 0)
		fds[1].fd = store_changes_fd(st);
	if (what != 0 || ms <= 0)
		return what;
	if (poll(fds, 2, (int)ms) > 0 && (fds[0].revents & POLLIN)) {
		char b;

		if (read(c->wake[0], &b, 1) < 0)
			return 0;
	}
	if (atomic_load(&c->stop))
		return 0;
	/* what came together is read once */
	usleep(DEBOUNCE_MS * 1000);
	store_notifications(st, heard, &what);
	return what;
}

static store *
thread_store(cluster *c)
{
	store *st = NULL;

	while (!atomic_load(&c->stop) && store_open(c->where, &st) != 0)
		sleep(1);
	return st;
}

void
cluster_thread(void *arg)
{
	cluster *c = arg;
	store *st = thread_store(c);
	uint64_t next_renew = 0, last_read = 0;
	int what = 3, had_lease = 0;

	if (st == NULL)
		return;
	while (!atomic_load(&c->stop)) {
		uint64_t now = now_ms();
		int lease_ok = had_lease;
		snapshot *s;

		if (now >= next_renew) {
			lease_ok = lease_renew(c, st) == 0;
			next_renew = now + (uint64_t)c->renew_ms;
			if (lease_ok && !had_lease)
				what = 3; /* back: everything is read again */
			if (!lease_ok)
				atomic_store(&c->leader, 0);
			else
				sched_round(c, st);
			had_lease = lease_ok;
		}
		if (what != 0 || now - last_read >= REREAD_MS) {
			s = snapshot_read(st, (what & 2) != 0 || last_read == 0, lease_ok);
			if (s != NULL) {
				publish(c, s);
				last_read = now;
				what = 0;
			}
		}
		atomic_store(&c->statements, store_statements(st));
		now = now_ms();
		what |= wait_changes(c, st, next_renew > now ? (int64_t)(next_renew - now) : 0);
		if ((what & 1) != 0 && atomic_load(&c->leader))
			sched_round(c, st);
	}
	store_close(st);
}
