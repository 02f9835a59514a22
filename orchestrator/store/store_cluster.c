/* store_cluster.c — the rows of a cluster (issue 27): nodes and their leases,
 * the placement of each space, and the scheduler's lock. Written once for both
 * backends like the rest of the store; only the clock and the lock differ
 * (a cluster runs on PostgreSQL, sqlite keeps the tables empty and answers the
 * lock for tests). Times are the database's clock in unix ms, so nodes whose
 * clocks disagree still agree on who holds a lease. */
#include "orchestrator/store/store.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "orchestrator/store/store_int.h"

#define PG_NOW "(extract(epoch from clock_timestamp()) * 1000)::bigint"
#define SQLITE_NOW "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"

static int
is_pg(const store *st)
{
	return st->be->dialect == STORE_DIALECT_POSTGRES;
}

static void
copy_col(store_stmt *q, int i, char *dst, size_t len)
{
	const char *s = store_col_text(q, i);

	snprintf(dst, len, "%s", s != NULL ? s : "");
}

int
store_now_ms(store *st, int64_t *now)
{
	store_stmt q;
	int r;

	store_stmt_init(&q, st, is_pg(st) ? "SELECT " PG_NOW : "SELECT " SQLITE_NOW);
	if ((r = store_step(&q)) == 1)
		*now = store_col_int(&q, 0);
	store_stmt_finish(&q);
	return r == 1 ? 0 : r < 0 ? r : -EIO;
}

#define NODE_UPSERT(NOW, PID)                                                                     \
	"INSERT INTO nodes (name, address, lease_until, started, shared, memory_budget,"          \
	" memory_committed, fd_room, apps, sched_pid)"                                            \
	" VALUES ($1, $2, " NOW " + $3, $4, $5, $6, $7, $8, $9, " PID ")"                         \
	" ON CONFLICT (name) DO UPDATE SET address = excluded.address,"                           \
	" lease_until = excluded.lease_until, started = excluded.started, shared = excluded.shared," \
	" memory_budget = excluded.memory_budget, memory_committed = excluded.memory_committed,"  \
	" fd_room = excluded.fd_room, apps = excluded.apps, sched_pid = excluded.sched_pid"       \
	" RETURNING lease_until, state"

int
store_node_renew(store *st, const node_row *n, int64_t lease_ms, int64_t *lease_until,
    char *state)
{
	store_stmt q;
	int r;

	store_stmt_init(&q, st, is_pg(st) ? NODE_UPSERT(PG_NOW, "pg_backend_pid()")
	                                  : NODE_UPSERT(SQLITE_NOW, "0"));
	store_bind_text(&q, n->name);
	store_bind_text(&q, n->address);
	store_bind_int(&q, lease_ms);
	store_bind_int(&q, n->started);
	store_bind_int(&q, n->shared);
	store_bind_int(&q, n->memory_budget);
	store_bind_int(&q, n->memory_committed);
	store_bind_int(&q, n->fd_room);
	store_bind_int(&q, n->apps);
	if ((r = store_step(&q)) == 1) {
		*lease_until = store_col_int(&q, 0);
		copy_col(&q, 1, state, 16);
	}
	store_stmt_finish(&q);
	return r == 1 ? 0 : r < 0 ? r : -EIO;
}

int
store_node_set_state(store *st, const char *name, const char *state)
{
	store_stmt q;

	store_stmt_init(&q, st, "UPDATE nodes SET state = $1 WHERE name = $2");
	store_bind_text(&q, state);
	store_bind_text(&q, name);
	return store_run_changed(&q);
}

int
store_node_remove(store *st, const char *name)
{
	store_stmt q;

	store_stmt_init(&q, st, "DELETE FROM nodes WHERE name = $1");
	store_bind_text(&q, name);
	return store_run_changed(&q);
}

int
store_nodes_list(store *st, void (*cb)(const node_row *n, void *arg), void *arg)
{
	store_stmt q;
	node_row n;
	int r;

	store_stmt_init(&q, st,
	    "SELECT name, address, state, lease_until, started, shared, memory_budget,"
	    " memory_committed, fd_room, apps, sched_pid FROM nodes ORDER BY name");
	while ((r = store_step(&q)) == 1) {
		memset(&n, 0, sizeof(n));
		copy_col(&q, 0, n.name, sizeof(n.name));
		copy_col(&q, 1, n.address, sizeof(n.address));
		copy_col(&q, 2, n.state, sizeof(n.state));
		n.lease_until = store_col_int(&q, 3);
		n.started = store_col_int(&q, 4);
		n.shared = (int)store_col_int(&q, 5);
		n.memory_budget = store_col_int(&q, 6);
		n.memory_committed = store_col_int(&q, 7);
		n.fd_room = store_col_int(&q, 8);
		n.apps = store_col_int(&q, 9);
		n.sched_pid = store_col_int(&q, 10);
		cb(&n, arg);
	}
	store_stmt_finish(&q);
	return r;
}

int
store_placements_list(store *st, void (*cb)(const placement_row *p, void *arg), void *arg)
{
	store_stmt q;
	placement_row p;
	int r;

	store_stmt_init(&q, st,
	    "SELECT space_id, node, home, epoch, next_node FROM placements ORDER BY space_id");
	while ((r = store_step(&q)) == 1) {
		memset(&p, 0, sizeof(p));
		p.space_id = store_col_int(&q, 0);
		copy_col(&q, 1, p.node, sizeof(p.node));
		copy_col(&q, 2, p.home, sizeof(p.home));
		p.epoch = store_col_int(&q, 3);
		copy_col(&q, 4, p.next_node, sizeof(p.next_node));
		cb(&p, arg);
	}
	store_stmt_finish(&q);
	return r;
}

int
store_placement_insert(store *st, int64_t space_id, const char *node)
{
	store_stmt q;

	store_stmt_init(&q, st,
	    "INSERT INTO placements (space_id, node, home, epoch, updated) VALUES ($1, $2, $2, 1, $3)"
	    " ON CONFLICT (space_id) DO NOTHING");
	store_bind_int(&q, space_id);
	store_bind_text(&q, node);
	store_bind_int(&q, (int64_t)time(NULL));
	return store_run(&q);
}

int
store_placement_move(store *st, int64_t space_id, int64_t epoch, const char *node)
{
	store_stmt q;

	store_stmt_init(&q, st,
	    "UPDATE placements SET node = $1, epoch = epoch + 1, next_node = NULL, updated = $2"
	    " WHERE space_id = $3 AND epoch = $4");
	store_bind_text(&q, node);
	store_bind_int(&q, (int64_t)time(NULL));
	store_bind_int(&q, space_id);
	store_bind_int(&q, epoch);
	return store_run_changed(&q);
}

int
store_placement_next(store *st, int64_t space_id, int64_t epoch, const char *node)
{
	store_stmt q;

	store_stmt_init(&q, st,
	    "UPDATE placements SET next_node = $1, updated = $2 WHERE space_id = $3 AND epoch = $4");
	store_bind_text(&q, node);
	store_bind_int(&q, (int64_t)time(NULL));
	store_bind_int(&q, space_id);
	store_bind_int(&q, epoch);
	return store_run_changed(&q);
}

int
store_sched_spaces(store *st, void (*cb)(const sched_space_row *r, void *arg), void *arg)
{
	store_stmt q;
	sched_space_row s;
	int r;

	store_stmt_init(&q, st,
	    "SELECT s.id, CASE WHEN s.want_running <> 0 AND COALESCE(t.paused, 0) = 0"
	    "  AND s.stage NOT IN ('SLEEPING', 'PAUSED', 'STOPPED') THEN 1 ELSE 0 END,"
	    " COALESCE(h.flavor, '') FROM spaces s"
	    " LEFT JOIN space_settings t ON t.space_id = s.id"
	    " LEFT JOIN space_hardware h ON h.space_id = s.id ORDER BY s.id");
	while ((r = store_step(&q)) == 1) {
		memset(&s, 0, sizeof(s));
		s.id = store_col_int(&q, 0);
		s.runs = (int)store_col_int(&q, 1);
		copy_col(&q, 2, s.flavor, sizeof(s.flavor));
		cb(&s, arg);
	}
	store_stmt_finish(&q);
	return r;
}

int
store_sched_lock(store *st, int *got, int64_t *holder)
{
	store_stmt q;
	int r;

	*got = 0;
	*holder = 0;
	if (!is_pg(st)) {
		*got = 1; /* one process: nobody to share the role with */
		return 0;
	}
	/* the key is ("podi", 27): pg_locks' classid and objid. Session-level:
	 * held until this connection ends; taking it again while
	 * held only counts, so every tick may ask */
	store_stmt_init(&q, st,
	    "SELECT CASE WHEN pg_try_advisory_lock(1886348393, 27) THEN 1 ELSE 0 END,"
	    " COALESCE((SELECT pid FROM pg_locks WHERE locktype = 'advisory'"
	    "  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
	    "  AND classid = 1886348393 AND objid = 27 AND objsubid = 2 AND granted LIMIT 1), 0)");
	if ((r = store_step(&q)) == 1) {
		*got = (int)store_col_int(&q, 0);
		*holder = store_col_int(&q, 1);
	}
	store_stmt_finish(&q);
	return r == 1 ? 0 : r < 0 ? r : -EIO;
}

int
store_backend_end(store *st, int64_t pid)
{
	store_stmt q;

	if (!is_pg(st))
		return -ENOTSUP;
	store_stmt_init(&q, st, "SELECT pg_terminate_backend(CAST($1 AS INTEGER))");
	store_bind_int(&q, pid);
	return store_run(&q);
}
