/* deadline.c — connection timeouts that cost no timer-heap work per request.
 *
 * Every request on a keep-alive connection moves its deadlines (head, idle,
 * upstream response): restarting a libuv timer each time is a heap removal
 * and insertion.  A deadline only re-arms its timer when it must fire
 * sooner than it is armed for; moved later, the timer fires at the old time,
 * sees the deadline is not due and re-arms for the rest. */
#include "proxy/proxy_int.h"

static void
deadline_fire(uv_timer_t *t)
{
	deadline *d = (deadline *)t; /* the timer is the first member */
	uint64_t now = uv_now(t->loop);

	d->armed = 0;
	if (d->due == 0)
		return;
	if (now < d->due) {
		d->armed = d->due;
		uv_timer_start(t, deadline_fire, d->due - now, 0);
		return;
	}
	d->due = 0;
	d->expired(t);
}

void
deadline_init(uv_loop_t *loop, deadline *d, uv_timer_cb expired, void *owner)
{
	uv_timer_init(loop, &d->timer);
	d->timer.data = owner;
	d->expired = expired;
	d->due = d->armed = 0;
}

void
deadline_set(deadline *d, uint64_t ms)
{
	uint64_t due = uv_now(d->timer.loop) + ms;

	d->due = due;
	if (d->armed != 0 && d->armed <= due)
		return; /* fires in time, re-arms then */
	d->armed = due;
	uv_timer_start(&d->timer, deadline_fire, ms, 0);
}

void
deadline_clear(deadline *d)
{
	d->due = 0; /* an armed timer fires once more and finds nothing due */
}

void
deadline_close(deadline *d, uv_close_cb cb)
{
	d->due = d->armed = 0;
	uv_timer_stop(&d->timer);
	uv_close((uv_handle_t *)&d->timer, cb);
}
