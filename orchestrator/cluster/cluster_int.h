/* cluster_int.h — the cluster's inside (orchestrator/cluster/ only): the thread
 * (node.c: lease, notifications, what it reads), the scheduler it runs while it
 * holds the lock (sched.c), and the main loop's side (cluster.c: what the
 * orchestrator is told, fencing, JSON).
 *
 * The thread hands the main loop a snapshot (nodes, placements and, when they
 * changed, the spaces' rows) under lock and wakes it (uv_async); the main loop
 * hands the thread its load through atomics. */
#ifndef PODIUM_CLUSTER_INT_H
#define PODIUM_CLUSTER_INT_H

#include <stdatomic.h>
#include <uv.h>

#include "orchestrator/cluster/cluster.h"
#include "orchestrator/store/store.h"

typedef struct snapshot {
	int64_t db_now;          /* the database's clock when read */
	uint64_t read_ms;        /* ours (monotonic) */
	int lease_ok;            /* this node held its lease when it was read */
	node_row *nodes;
	size_t nnodes;
	placement_row *places;
	size_t nplaces;
	space_row *rows;         /* NULL: the spaces did not change */
	size_t nrows;
} snapshot;

struct cluster {
	podium *p;
	char *where;             /* the store's address */
	node_row self;           /* name, address, shared, started */
	int64_t lease_ms, renew_ms, fence_ms, grace_ms;
	uv_thread_t thread;
	uv_async_t async;        /* the thread → the main loop: a snapshot */
	uv_timer_t tick;         /* the main loop: fencing, load, retries */
	uv_mutex_t lock;
	snapshot *pending;       /* under lock: the newest for the main loop */
	int wake[2];             /* a byte: the thread stops waiting */
	_Atomic uint64_t lease_until_ms; /* monotonic: the lease holds until (fence) */
	_Atomic int64_t mem_budget, mem_committed, fd_room, apps;
	_Atomic uint64_t statements;
	_Atomic int leader;
	_Atomic int stop;
	/* main loop */
	snapshot *cur;
};

/* node.c */
void cluster_thread(void *arg);
void snapshot_free(snapshot *s);
/* sched.c: one round of the scheduler on st (the thread's connection). */
void sched_round(cluster *c, store *st);

#endif
