/* stats.c — the access log (one line per request) and per-space counters kept
 * in memory for the admin views. Counters sit behind a mutex so that proxy
 * loops on other threads and the admin code may all touch them. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "proxy_int.h"
#include "util.h"

struct space_stats {
	char *space_id;
	proxy_space_stats st;
	struct space_stats *next;
};

#define STATS_BUCKETS 256
static struct space_stats *stats_buckets[STATS_BUCKETS];
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;

static unsigned
stats_hash(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % STATS_BUCKETS;
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

void
stats_space_active(const char *space_id, int delta)
{
	struct space_stats *e;

	pthread_mutex_lock(&stats_lock);
	e = stats_find(space_id, 1);
	if (delta < 0 && e->st.active_connections > 0)
		e->st.active_connections--;
	else if (delta > 0)
		e->st.active_connections++;
	pthread_mutex_unlock(&stats_lock);
}

void
stats_upstream_error(const char *space_id)
{
	pthread_mutex_lock(&stats_lock);
	stats_find(space_id, 1)->st.upstream_errors++;
	pthread_mutex_unlock(&stats_lock);
}

void
stats_request_done(proxy_conn *c)
{
	uint64_t now = uv_now(c->lp->loop);
	const char *space = c->target != NULL ? c->target->space_id : NULL;

	if (!c->req_active)
		return;
	if (space != NULL) {
		struct space_stats *e;

		pthread_mutex_lock(&stats_lock);
		e = stats_find(space, 1);
		e->st.requests++;
		e->st.bytes_in += c->body_received;
		e->st.bytes_out += c->out.bytes + c->out.head_bytes;
		pthread_mutex_unlock(&stats_lock);
	}
	if (!c->srv->cfg.access_log)
		return;
	log_info("access %s %s \"%s %s\" %d %" PRIu64 " %" PRIu64 "ms up=%" PRId64 "ms%s",
	    c->client_addr, c->host != NULL ? c->host : "-",
	    c->method != NULL ? c->method : "-", c->url != NULL ? c->url : "-",
	    c->out.started ? c->out.status : 0, c->out.bytes,
	    c->t_start != 0 ? now - c->t_start : 0, c->upstream_ms,
	    c->resp_done ? "" : " incomplete");
}

int
proxy_stats_get(const char *space_id, proxy_space_stats *out)
{
	struct space_stats *e;

	pthread_mutex_lock(&stats_lock);
	e = stats_find(space_id, 0);
	if (e != NULL)
		*out = e->st;
	pthread_mutex_unlock(&stats_lock);
	return e != NULL ? 0 : -ENOENT;
}
