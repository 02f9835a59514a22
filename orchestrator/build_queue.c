/* build_queue.c — builds waiting for a slot, shared fairly between the spaces' owners
 * (issue 21.5): at most limits.builds_per_user of one owner's builds run at a time,
 * and a free slot goes to the owner served longest ago (round robin), each owner's
 * builds in push order. A waiting build's log says its place in the queue whenever
 * it changes. The slots themselves (one per CPU, at least two) are space_build.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "orchestrator/limits.h"
#include "orchestrator/space_int.h"

typedef struct owner {
	char *name;
	int running;
	uint64_t last;  /* the start sequence of its last build; 0 never */
	uint64_t vlast; /* the same in a simulation of the queue */
	struct owner *next;
} owner;

static build_ctx *head; /* in push order */
static owner *owners;
static uint64_t seq;

static owner *
owner_of(const char *name)
{
	owner *o;

	for (o = owners; o != NULL; o = o->next)
		if (strcasecmp(o->name, name) == 0)
			return o;
	o = xcalloc(1, sizeof(*o));
	o->name = xstrdup(name);
	o->next = owners;
	owners = o;
	return o;
}

unsigned
build_queue_per_user(int slots)
{
	unsigned n = limits_get()->builds_per_user;

	/* 0: half the slots, so that one owner never has them all */
	return n > 0 ? n : slots / 2 > 1 ? (unsigned)slots / 2 : 1;
}

/* The link that points at c, or at the end (NULL) when c is not queued: the queue is
 * short (a push per space at most), a walk costs nothing. */
static build_ctx **
link_of(const build_ctx *c)
{
	build_ctx **pp = &head;

	while (*pp != NULL && *pp != c)
		pp = &(*pp)->next;
	return pp;
}

void
build_queue_add(build_ctx *c)
{
	c->next = NULL;
	c->position = 0;
	*link_of(NULL) = c;
}

static void
unlink_ctx(build_ctx *c)
{
	build_ctx **pp = link_of(c);

	if (*pp != NULL)
		*pp = c->next;
	c->next = NULL;
}

build_ctx *
build_queue_next(int slots)
{
	unsigned cap = build_queue_per_user(slots);
	build_ctx *best = NULL;
	owner *bo = NULL;

	for (build_ctx *q = head; q != NULL; q = q->next) {
		owner *o;

		if (q->s == NULL) { /* abandoned: the caller drops it */
			best = q;
			break;
		}
		o = owner_of(q->owner);
		if ((unsigned)o->running >= cap || (bo != NULL && o->last >= bo->last))
			continue;
		best = q;
		bo = o;
	}
	if (best != NULL)
		unlink_ctx(best);
	return best;
}

void
build_queue_started(build_ctx *c)
{
	owner *o = owner_of(c->owner);

	o->running++;
	o->last = ++seq;
	c->counted = 1;
}

void
build_queue_finished(build_ctx *c)
{
	if (c->counted) {
		owner_of(c->owner)->running--;
		c->counted = 0;
	}
}

build_ctx *
build_queue_take_all(void)
{
	build_ctx *all = head;

	head = NULL;
	return all;
}

/* The order the waiting builds would start in, slots and caps aside: round robin
 * from each owner's last start. A line in each build log whose place changed. */
void
build_queue_note_positions(int running, int slots)
{
	uint64_t vseq = seq;
	int n = 0, placed;
	char line[256];

	for (owner *o = owners; o != NULL; o = o->next)
		o->vlast = o->last;
	for (build_ctx *q = head; q != NULL; q = q->next)
		q->placed = q->s == NULL;
	do {
		build_ctx *best = NULL;
		owner *bo = NULL;

		placed = 0;
		for (build_ctx *q = head; q != NULL; q = q->next) {
			owner *o = q->placed ? NULL : owner_of(q->owner);

			if (o != NULL && (bo == NULL || o->vlast < bo->vlast)) {
				best = q;
				bo = o;
			}
		}
		if (best == NULL)
			break;
		best->placed = placed = 1;
		bo->vlast = ++vseq;
		if (best->position == ++n)
			continue;
		best->position = n;
		snprintf(line, sizeof(line),
		    "==> waiting for a build slot: number %d in the queue "
		    "(%d running, %d at a time, at most %u per user; %s has %d running)\n",
		    n, running, slots, build_queue_per_user(slots), bo->name, bo->running);
		space_build_log_note(best->log_path, line);
	} while (placed);
}
