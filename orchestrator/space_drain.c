/* space_drain.c — a detached instance keeps serving what it has open (requests in
 * flight, WebSockets, SSE, long polls: the proxy counts them per instance) until
 * nothing is, or its grace period is over; then it stops. */
#include <stdint.h>
#include <stdlib.h>

#include "common/log.h"
#include "common/util.h"
#include "orchestrator/host/instance.h"
#include "orchestrator/space_int.h"
#include "proxy/routes.h"

static inst_ref *drains; /* detached instances still draining */

void
space_drain_end(inst_ref *ref)
{
	inst_ref **pp;

	if (ref->drain == NULL)
		return;
	for (pp = &drains; *pp != NULL; pp = &(*pp)->next_drain)
		if (*pp == ref) {
			*pp = ref->next_drain;
			break;
		}
	uv_close((uv_handle_t *)ref->drain, (uv_close_cb)free);
	ref->drain = NULL;
}

/* Stops the instance once nothing is open on it any more (after a settle: a
 * request may have looked its route up and not reached it yet), or when its time
 * is up, whatever is still open. */
static void
drain_check(uv_timer_t *t)
{
	inst_ref *ref = t->data;
	uint64_t now = now_ms(), open = route_exchanges_open(ref->exchanges);

	if (now < ref->drain_until && (open > 0 || now - ref->drain_start < DRAIN_SETTLE_MS))
		return;
	if (open > 0)
		log_info("instance %llu: %llu exchange%s still open after %.1f s of draining: stopping",
		    (unsigned long long)instance_id(ref->in), (unsigned long long)open,
		    open == 1 ? "" : "s", (double)(now - ref->drain_start) / 1000.0);
	space_drain_end(ref);
	instance_stop(ref->in, STOP_GRACE_MS);
}

void
space_detach_instance(space *s, inst_ref *ref, unsigned drain_ms)
{
	uint64_t open;

	if (ref->queued)
		starts_remove(ref);
	ref->s = NULL;
	if (ref->in == NULL) {
		inst_ref_free(ref);
		return;
	}
	if (drain_ms == 0 || s->p->stopping) {
		instance_stop(ref->in, STOP_GRACE_MS);
		return;
	}
	open = route_exchanges_open(ref->exchanges);
	if (open > 0)
		log_info("space %s/%s: the old instance drains %llu open exchange%s for up to %u s",
		    s->row.owner, s->row.name, (unsigned long long)open, open == 1 ? "" : "s",
		    drain_ms / 1000);
	ref->drain = xmalloc(sizeof(*ref->drain));
	uv_timer_init(s->p->loop, ref->drain);
	ref->drain->data = ref;
	ref->drain_start = now_ms();
	ref->drain_until = ref->drain_start + (drain_ms > DRAIN_SETTLE_MS ? drain_ms : DRAIN_SETTLE_MS);
	ref->next_drain = drains;
	drains = ref;
	uv_timer_start(ref->drain, drain_check, DRAIN_POLL_MS, DRAIN_POLL_MS);
}

void
space_drains_stop(void)
{
	while (drains != NULL) {
		inst_ref *ref = drains;

		space_drain_end(ref);
		instance_stop(ref->in, STOP_GRACE_MS);
	}
}
