/* hold.c — a request for a sleeping app waits here while the app wakes.
 *
 * conn_route finds a ROUTE_SLEEPING target: hold_start asks the orchestrator
 * to wake the space (once per target, route_target_wake) and parks the
 * request. Nothing of its body is read while it waits: the connection stops
 * reading (body_paused), so what a client uploads stays in its socket, and
 * the held request costs its head only. Every HOLD_POLL_MS the connection's
 * own timer looks the route up again (hold_poll):
 *   the app answers (ROUTE_APP)      → the request goes to it, as if it had
 *                                      just arrived;
 *   still waking (SLEEPING/STARTING) → wait, up to wake_timeout_ms, then 503
 *                                      with Retry-After;
 *   anything else (the wake failed, paused, deleted, now static) → routed
 *                                      again: a 502 page with the app's error,
 *                                      a 503, a 404 or the files.
 * Held requests are bounded per space (max_held_per_space, then 503 with
 * Retry-After). The ones held when the app comes up are released in the
 * order of their polls, which keeps arrival order within a poll interval.
 * A request held across going to sleep is not lost: the orchestrator switches
 * the route to SLEEPING before the app stops, and a request that already held
 * the app's route finishes during the drain (space.c). */
#include <stdlib.h>
#include <string.h>

#include "proxy/proxy_int.h"
#include "common/util.h"

#define HOLD_POLL_MS 10

/* The responder's state (conn_ops: c->resp). */
typedef struct hold {
	uint64_t since;
	struct space_stats *stats; /* the space whose held count includes us */
} hold;

/* The wait is over (done, abort, or released to be routed again). */
static void
hold_end(proxy_conn *c)
{
	hold *h = c->resp;

	stats_space_held(h->stats, -1);
	free(h);
	conn_responder_set(c, NULL, NULL);
}

static void hold_poll(proxy_conn *c);

static const conn_ops hold_ops = {
	.on_timer = hold_poll,
	.done = hold_end,
	.abort = hold_end,
};

int
hold_start(proxy_conn *c)
{
	struct space_stats *st = stats_space(c->target->space_id);
	unsigned max = c->srv->cfg.max_held_per_space;
	hold *h;

	if (stats_space_held(st, +1) > max) {
		http_header ra = { "Retry-After", "2" };

		stats_space_held(st, -1);
		conn_respond_error(c, 503, "the app is waking up and too many requests are "
		    "waiting for it; try again", &ra, 1);
		return -1;
	}
	h = xmalloc(sizeof(*h));
	h->stats = st;
	h->since = uv_now(c->lp->loop);
	conn_responder_set(c, &hold_ops, h);
	c->body_paused = 1;  /* nothing more is read or parsed until it is released */
	route_target_wake(c->target);
	conn_timer_set(c, CT_RESPONDER, HOLD_POLL_MS);
	return 0;
}

/* CT_RESPONDER fired: the route, looked up again. */
static void
hold_poll(proxy_conn *c)
{
	hold *h = c->resp;
	route_target *t;
	char sub[256];

	t = conn_subdomain(c, sub, sizeof(sub)) == 0 ? routes_lookup(sub) : NULL;
	if (t != NULL && (t->kind == ROUTE_SLEEPING || t->kind == ROUTE_STARTING)) {
		if (t->kind == ROUTE_SLEEPING)
			route_target_wake(t); /* it went back to sleep meanwhile */
		route_target_unref(t);
		if (uv_now(c->lp->loop) - h->since < c->srv->cfg.wake_timeout_ms) {
			conn_timer_set(c, CT_RESPONDER, HOLD_POLL_MS);
			return;
		}
		http_header ra = { "Retry-After", "5" };

		hold_end(c);
		conn_timer_set(c, CT_NONE, 0);
		conn_respond_error(c, 503, "the app is waking up and did not answer in time; "
		    "try again", &ra, 1);
	} else {
		route_target_unref(t);
		hold_end(c);
		conn_timer_set(c, CT_NONE, 0);
		route_target_unref(c->target);
		c->target = NULL;
		conn_route(c);       /* the app, its error, or whatever the space is now */
	}
	if (c->closing || c->ops == &hold_ops) /* held again: it went back to sleep */
		return;
	conn_body_expect(c);
	/* Parsing goes on where the head ended: the body to the app (or dropped
	 * after an error page), then the end of the request. */
	c->body_paused = 0;
	conn_process(c);
}
