/* placement.h — which node of a cluster runs each space (issue 27), as the
 * orchestrator of one node sees it. The cluster (orchestrator/cluster/) reads
 * the placements from the store and tells the orchestrator here; nothing in
 * this face runs on one machine (podium->node NULL).
 *
 * A space placed on another node is foreign here: its row is refreshed from
 * the store, its route forwards to that node (ROUTE_REMOTE), nothing of it
 * runs and nothing of it is written. A space placed here is run as after a
 * restart (space_recover), from its release when this node built it, else from
 * a build of that release's commit (adopting: requests are held until it
 * serves). A drain hands a space on: its requests are held, its build and
 * instances stop (in-flight requests finish first), its /data is detached,
 * then the cluster moves the placement and the other node takes it. A node
 * that lost its lease stops everything it runs at once (spaces_fence).
 *
 * All on the main loop. */
#ifndef PODIUM_PLACEMENT_H
#define PODIUM_PLACEMENT_H

#include "orchestrator/space.h"
#include "orchestrator/store/store.h"

/* s runs on node (its proxy at address; NULL while that node's lease lapsed:
 * held until the scheduler moves it): whatever of it ran here stops now. */
void space_place_remote(space *s, const char *node, const char *address);
/* s runs here under epoch; row is the space as the store has it (borrowed;
 * NULL: as it was last refreshed). */
void space_place_local(space *s, int64_t epoch, const space_row *row);
/* 1 while s is this node's (placed here, not fenced). */
int space_is_local(const space *s);
int64_t space_epoch(const space *s);
int64_t space_row_id(const space *s);
int64_t space_created(const space *s); /* unix seconds */
/* A foreign space's row as the store has it now (borrowed). */
void space_row_refresh(space *s, const space_row *row);
/* A space another node made (takes the row's strings); foreign until placed. */
space *space_add_foreign(podium *p, space_row *row);
/* Its rows are gone (deleted through another node): forgotten, and what this
 * node held of it removed. */
void space_forget(podium *p, space *s);
/* A drain: hold, stop, detach, then done(s, arg) (the placement may move). 1
 * while one is under way. */
void space_move_away(space *s, void (*done)(space *s, void *arg), void *arg);
int space_moving(const space *s);
/* 1 when a drain of s has stopped everything and waits for its placement to move. */
int space_move_finished(const space *s);
/* The node lost its lease: every app it runs is killed, every build cancelled,
 * every /data detached, every route answers 503 until it has one again and
 * the placements are read anew. */
void spaces_fence(podium *p);

#endif
