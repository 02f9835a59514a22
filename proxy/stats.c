/* stats.c — the access log (one line per request) and per-space counters kept
 * in memory for the admin views. Every loop thread adds to the same counters:
 * the table of spaces sits behind a mutex, the counters themselves are
 * atomics, and an entry is never freed, so callers may keep its pointer
 * (upstream connections do). */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "proxy/proxy_int.h"
#include "common/util.h"

struct space_stats {
	char *space_id;
	_Atomic uint64_t requests, bytes_in, bytes_out, active, upstream_errors;
	_Atomic uint64_t held;      /* requests waiting for the app to wake */
	_Atomic uint64_t status_class[6], duration[PROXY_DURATION_BUCKETS], duration_sum_ms;
	struct space_stats *next;
};

const unsigned proxy_duration_bounds_ms[PROXY_DURATION_BUCKETS - 1] = {
	5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
};

/* The bucket of a duration: a few compares, no search structure. */
static unsigned
duration_bucket(uint64_t ms)
{
	unsigned i = 0;

	while (i < PROXY_DURATION_BUCKETS - 1 && ms > proxy_duration_bounds_ms[i])
		i++;
	return i;
}

#define STATS_BUCKETS 256
static struct space_stats *stats_buckets[STATS_BUCKETS];
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;

static unsigned
stats_hash(const char *s)
{
	return str_hash(s) % STATS_BUCKETS;
}

/* Called with stats_lock held. */
static struct space_stats *
stats_find(const char *space_id, int create)
{
	unsigned h = stats_hash(space_id);
	struct space_stats *e;

	for (e = stats_buckets[h]; e != NULL; e = e->next)
		if (strcmp(e->space_id, space_id) == 0)
			return e;
	if (!create)
		return NULL;
	e = xcalloc(1, sizeof(*e));
	e->space_id = xstrdup(space_id);
	e->next = stats_buckets[h];
	stats_buckets[h] = e;
	return e;
}

struct space_stats *
stats_space(const char *space_id)
{
	struct space_stats *e;

	pthread_mutex_lock(&stats_lock);
	e = stats_find(space_id, 1);
	pthread_mutex_unlock(&stats_lock);
	return e;
}

/* Increments and decrements pair up (upstream attach/detach). */
uint64_t
stats_space_held(struct space_stats *e, int delta)
{
	if (delta > 0)
		return atomic_fetch_add_explicit(&e->held, 1, memory_order_relaxed) + 1;
	return atomic_fetch_sub_explicit(&e->held, 1, memory_order_relaxed) - 1;
}

void
stats_space_active(struct space_stats *e, int delta)
{
	if (delta > 0)
		atomic_fetch_add_explicit(&e->active, 1, memory_order_relaxed);
	else
		atomic_fetch_sub_explicit(&e->active, 1, memory_order_relaxed);
}

void
stats_upstream_error(struct space_stats *e)
{
	atomic_fetch_add_explicit(&e->upstream_errors, 1, memory_order_relaxed);
}

/* access CLIENT HOST "METHOD URL" STATUS BYTES DURATIONms up=UPSTREAMms[ incomplete]
 * -- built without printf: it runs once per request. */
static void
access_line(const proxy_conn *c, uint64_t now)
{
	char stack[512];
	sbuf b = SBUF_ON(stack);

	sbuf_add(&b, "access ", 7);
	sbuf_adds(&b, c->client_addr);
	sbuf_add(&b, " ", 1);
	sbuf_adds(&b, c->host != NULL ? c->host : "-");
	sbuf_add(&b, " \"", 2);
	sbuf_adds(&b, c->method != NULL ? c->method : "-");
	sbuf_add(&b, " ", 1);
	sbuf_adds(&b, c->url != NULL ? c->url : "-");
	sbuf_add(&b, "\" ", 2);
	sbuf_add_u64(&b, c->out.started ? (uint64_t)c->out.status : 0);
	sbuf_add(&b, " ", 1);
	sbuf_add_u64(&b, c->out.bytes);
	sbuf_add(&b, " ", 1);
	sbuf_add_u64(&b, c->t_start != 0 ? now - c->t_start : 0);
	sbuf_add(&b, "ms up=", 6);
	sbuf_add_i64(&b, c->upstream_ms);
	sbuf_add(&b, "ms", 2);
	if (!c->resp_done)
		sbuf_add(&b, " incomplete", 11);
	log_batch_add_text(&c->lp->access_log, LOG_INFO, b.p, b.len);
	sbuf_free(&b);
}

/* Status class and duration histogram: relaxed atomics, as the counters above. */
static void
stats_request_timing(struct space_stats *e, const proxy_conn *c, uint64_t now)
{
	int status = c->out.started ? c->out.status : 0;
	uint64_t ms = c->t_start != 0 && now > c->t_start ? now - c->t_start : 0;

	atomic_fetch_add_explicit(&e->status_class[status >= 100 && status < 600 ? status / 100 : 0],
	    1, memory_order_relaxed);
	atomic_fetch_add_explicit(&e->duration[duration_bucket(ms)], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&e->duration_sum_ms, ms, memory_order_relaxed);
}

void
stats_request_done(proxy_conn *c)
{
	uint64_t now = uv_now(c->lp->loop);
	const char *space = c->target != NULL ? c->target->space_id : NULL;

	if (!c->req_active)
		return;
	if (space != NULL) {
		struct space_stats *e = c->stats;

		/* Entries live forever: the pointer is kept per connection, and
		 * the table (behind its mutex) is only searched on a change. */
		if (e == NULL || strcmp(e->space_id, space) != 0)
			e = c->stats = stats_space(space);

		atomic_fetch_add_explicit(&e->requests, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&e->bytes_in, c->body_received, memory_order_relaxed);
		atomic_fetch_add_explicit(&e->bytes_out, c->out.bytes + c->out.head_bytes,
		    memory_order_relaxed);
		stats_request_timing(e, c, now);
	}
	if (!c->srv->cfg.access_log)
		return;
	access_line(c, now);
	if (c->lp->log_flush == NULL)
		log_batch_flush(&c->lp->access_log); /* stopping: no flush per iteration */
}

int
proxy_stats_get(const char *space_id, proxy_space_stats *out)
{
	struct space_stats *e;

	pthread_mutex_lock(&stats_lock);
	e = stats_find(space_id, 0);
	pthread_mutex_unlock(&stats_lock);
	if (e != NULL) {
		out->requests = atomic_load_explicit(&e->requests, memory_order_relaxed);
		out->bytes_in = atomic_load_explicit(&e->bytes_in, memory_order_relaxed);
		out->bytes_out = atomic_load_explicit(&e->bytes_out, memory_order_relaxed);
		out->active_connections = atomic_load_explicit(&e->active, memory_order_relaxed);
		out->held_requests = atomic_load_explicit(&e->held, memory_order_relaxed);
		out->upstream_errors = atomic_load_explicit(&e->upstream_errors,
		    memory_order_relaxed);
		for (int i = 0; i < 6; i++)
			out->status_class[i] = atomic_load_explicit(&e->status_class[i],
			    memory_order_relaxed);
		for (int i = 0; i < PROXY_DURATION_BUCKETS; i++)
			out->duration[i] = atomic_load_explicit(&e->duration[i], memory_order_relaxed);
		out->duration_sum_ms = atomic_load_explicit(&e->duration_sum_ms, memory_order_relaxed);
	}
	return e != NULL ? 0 : -ENOENT;
}
