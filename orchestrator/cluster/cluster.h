/* cluster.h — `podium serve --node NAME --advertise ADDR`: one node of a cluster
 * of daemons that share one PostgreSQL database (issue 27).
 *
 * Each node keeps a lease in the table nodes (renewed every lease/5 from a
 * thread of its own with a connection of its own; its load goes along). One
 * node at a time schedules: the one whose scheduler connection holds a
 * session-level advisory lock; a node ends a holder whose lease lapsed and
 * takes the lock. The scheduler places every space on a node (by free memory
 * budget and descriptor room), moves the spaces of a node whose lease lapsed,
 * and moves a draining node's spaces a few at a time. Every node hears each
 * change at once (LISTEN podium_changes on the thread's connection) and tells
 * its orchestrator (placement.h): run it, forward to its node, hand it on.
 *
 * Fencing: a node whose lease it could not renew stops every app it runs
 * before anyone may take them (at lease - 30 % of its last renewal, by its own
 * clock, checked on the main loop every 250 ms; the scheduler waits lease + 20 %
 * by the database's); a placement names its epoch, raised at every move.
 *
 * Everything but the thread runs on the main loop. */
#ifndef PODIUM_CLUSTER_H
#define PODIUM_CLUSTER_H

#include <jansson.h>

#include "orchestrator/podium.h"

typedef struct cluster cluster;

typedef struct cluster_options {
	const char *node;        /* --node NAME */
	const char *advertise;   /* --advertise IPV4:PORT: where the other nodes reach its proxy */
	const char *store;       /* the store's address (PostgreSQL) */
	int shared;              /* --shared given: spaces may move to this node */
	unsigned lease_ms;       /* 10 s; PODIUM_LEASE_MS in the environment */
} cluster_options;

/* Starts the node: its thread, its lease, its view of the placements. 0, or -1
 * with the reason logged (not PostgreSQL, a bad address...). */
int cluster_start(podium *p, const cluster_options *opt, cluster **out);
/* Stops the thread (its lease is left to lapse: a stopping node's spaces stop
 * with it and move once it lapsed). */
void cluster_stop(cluster *c);
/* {"node", "leader", "nodes": [{"name", "address", "state", "alive", "leaseMs",
 * "memoryBudget", "memoryCommitted", "fdRoom", "apps", "spaces"}]} (new ref). */
json_t *cluster_json(cluster *c);
/* Statements the node's cluster thread sent (lease, lock, reads). */
uint64_t cluster_statements(cluster *c);

#endif
