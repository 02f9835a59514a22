/* upstream_conn.c — connections to apps: made inside the app's network
 * namespace, kept per instance and loop in a keep-alive pool of idle ones,
 * watched by one timer (connect, response, read, idle, tunnel), written
 * through pio.c and closed; the exchange over one is upstream.c's.
 *
 * Back-pressure toward the client: while the app's write queue is above
 * PROXY_HWM the client's body (or tunnel) is not read; below PROXY_LWM it is
 * again (up_write_done).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "proxy/upstream_int.h"
#include "common/util.h"


/* ---- pools --------------------------------------------------------------- */

static upstream_pool *
pool_get(proxy_loop *s, uint64_t instance_id)
{
	upstream_pool *p;

	for (p = s->pools; p != NULL; p = p->next)
		if (p->instance_id == instance_id)
			return p;
	p = xcalloc(1, sizeof(*p));
	p->lp = s;
	p->instance_id = instance_id;
	p->next = s->pools;
	s->pools = p;
	return p;
}

static void
pool_unref(upstream_pool *p)
{
	upstream_pool **pp;

	if (--p->refs > 0)
		return;
	for (pp = &p->lp->pools; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	free(p);
}

static void
pool_unlink(upstream_conn *up)
{
	upstream_pool *p = up->pool;

	if (!up->idle)
		return;
	if (up->iprev != NULL)
		up->iprev->inext = up->inext;
	else
		p->idle = up->inext;
	if (up->inext != NULL)
		up->inext->iprev = up->iprev;
	up->inext = up->iprev = NULL;
	up->idle = 0;
	p->nidle--;
}

/* ---- timers -------------------------------------------------------------- */

static void
up_timer_cb(uv_timer_t *t)
{
	upstream_conn *up = t->data;
	proxy_conn *c = up->c;

	switch (up->timer_kind) {
	case UT_CONNECT:
		up_fail(up, 504, "the app did not accept the connection in time");
		break;
	case UT_RESPONSE:
		up_fail(up, 504, "the app did not respond in time");
		break;
	case UT_READ:
		if (up->read_paused) {
			/* we stopped reading: the client takes the response slowly,
			 * which the client's send timeout watches */
			up_timer_set(up, UT_READ, up->lp->srv->cfg.upstream_response_ms);
			break;
		}
		up_fail(up, 504, "the app stopped sending");
		break;
	case UT_FAIL:
		up_fail(up, 502, "connection to the app failed");
		break;
	case UT_TUNNEL:
		if (c != NULL)
			conn_abort(c); /* closes us through upstream_ops.abort */
		else
			up_close(up);
		break;
	case UT_IDLE:
	default:
		up_close(up);
		break;
	}
}

void
up_timer_set(upstream_conn *up, int kind, unsigned ms)
{
	if (up->timer_kind == UT_FAIL && kind != UT_NONE)
		return;
	up->timer_kind = kind;
	if (kind == UT_NONE)
		deadline_clear(&up->timer);
	else
		deadline_set(&up->timer, ms);
}

/* ---- lifecycle ----------------------------------------------------------- */

static void
up_handle_closed(uv_handle_t *h)
{
	upstream_conn *up = h->data;
	proxy_loop *s = up->lp;

	if (--up->handles > 0)
		return;
	msg_head_release(&up->head);
	free(up->req_head);
	free(up->space_id);
	route_exchanges_unref(up->exchanges);
	pool_unref(up->pool);
	free(up);
	s->nupstreams--;
	proxy_loop_maybe_done(s);
}

/* Detach from the client (request over for us); stats follow the client. */
void
up_detach(upstream_conn *up)
{
	proxy_conn *c = up->c;

	if (c == NULL)
		return;
	stats_space_active(up->stats, -1);
	if (up->exchanges != NULL)
		route_exchanges_add(up->exchanges, -1);
	conn_responder_set(c, NULL, NULL);
	up->c = NULL;
}

void
up_close(upstream_conn *up)
{
	if (up->closing)
		return;
	up->closing = 1;
	up_detach(up);
	pool_unlink(up);
	pio_closing(up->lp, &up->defer);
	deadline_close(&up->timer, up_handle_closed);
	uv_close((uv_handle_t *)&up->tcp, up_handle_closed);
}

static void
up_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	upstream_conn *up = h->data;

	*buf = uv_buf_init(up->lp->readbuf, sizeof(up->lp->readbuf));
}

void
up_reading(upstream_conn *up, int want)
{
	if (up->closing || up->connecting)
		return;
	if (want && !up->reading) {
		if (uv_read_start((uv_stream_t *)&up->tcp, up_alloc_cb, up_read_cb) == 0)
			up->reading = 1;
	} else if (!want && up->reading) {
		uv_read_stop((uv_stream_t *)&up->tcp);
		up->reading = 0;
	}
}

static void
up_write_done(void *owner, int status)
{
	upstream_conn *up = owner;
	proxy_conn *c = up->c;

	if (up->closing)
		return;
	if (status < 0) {
		if (!up->got_bytes)
			up_timer_set(up, UT_FAIL, 0);
		return;
	}
	if (c == NULL ||
	    uv_stream_get_write_queue_size((uv_stream_t *)&up->tcp) > PROXY_LWM)
		return;
	if (up->tunnel && c->tunnel_paused) {
		c->tunnel_paused = 0;
		conn_update_reading(c);
	} else if (up->client_paused) {
		up->client_paused = 0;
		conn_request_body_resume(c);
	}
}

int
up_write(upstream_conn *up, const uv_buf_t *b, unsigned n)
{
	/* connecting: the head waits in the uv queue for the connection */
	int r = pio_write(up->lp, (uv_stream_t *)&up->tcp, up->connecting ? NULL : &up->defer,
	    b, n, up_write_done, up);

	if (r < 0)
		up_timer_set(up, UT_FAIL, 0); /* reported from the loop, not from here */
	return r;
}

size_t
up_queued(upstream_conn *up)
{
	return pio_queued((uv_stream_t *)&up->tcp, &up->defer);
}

static void
up_connect_cb(uv_connect_t *req, int status)
{
	upstream_conn *up = req->data;

	up->connecting = 0;
	if (up->closing)
		return;
	if (status < 0) {
		log_debug("proxy: connect to app %s failed: %s", up->space_id, uv_strerror(status));
		up_fail(up, 502, "the app is not accepting connections");
		return;
	}
	up_timer_set(up, UT_RESPONSE, up->response_ms);
	up_reading(up, 1);
}

upstream_conn *
up_new(proxy_loop *s, const route_target *t, int *err)
{
	upstream_conn *up;
	struct sockaddr_in sa;
	int fd;

	/* an app: in its network namespace; another node (ROUTE_REMOTE): from ours */
	fd = t->netns_fd >= 0 ? netns_socket(t->netns_fd, AF_INET, SOCK_STREAM)
	    : socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*err = t->netns_fd >= 0 ? fd : -errno;
		return NULL;
	}
	up = xcalloc(1, sizeof(*up));
	up->lp = s;
	up->pool = pool_get(s, t->instance_id);
	up->pool->refs++;
	up->space_id = xstrdup(t->space_id);
	up->stats = stats_space(t->space_id);
	up->exchanges = t->exchanges != NULL ? route_exchanges_ref(t->exchanges) : NULL;
	uv_tcp_init(s->loop, &up->tcp);
	deadline_init(s->loop, &up->timer, up_timer_cb, up);
	up->tcp.data = up->creq.data = up;
	up->handles = 2;
	s->nupstreams++;
	if ((*err = uv_tcp_open(&up->tcp, fd)) != 0) {
		close(fd);
		up_close(up);
		return NULL;
	}
	uv_tcp_nodelay(&up->tcp, 1);
	uv_ip4_addr("127.0.0.1", t->port, &sa);
	if (t->kind == ROUTE_REMOTE)
		sa.sin_addr.s_addr = t->remote_ip;
	if ((*err = uv_tcp_connect(&up->creq, &up->tcp, (struct sockaddr *)&sa,
	    up_connect_cb)) != 0) {
		up_close(up);
		return NULL;
	}
	up->connecting = 1;
	up_timer_set(up, UT_CONNECT, s->srv->cfg.upstream_connect_ms);
	return up;
}

upstream_conn *
upstream_pool_take(proxy_loop *s, uint64_t instance_id)
{
	upstream_pool *p;
	upstream_conn *up;

	for (p = s->pools; p != NULL; p = p->next)
		if (p->instance_id == instance_id)
			break;
	if (p == NULL || p->idle == NULL)
		return NULL;
	up = p->idle;
	pool_unlink(up);
	up->reused = 1;
	return up;
}

void
upstream_pool_put(upstream_conn *up)
{
	upstream_pool *p = up->pool;

	if (p->nidle >= up->lp->srv->cfg.upstream_pool_size || up->lp->stopping) {
		up_close(up);
		return;
	}
	up->idle = 1;
	up->iprev = NULL;
	up->inext = p->idle;
	if (p->idle != NULL)
		p->idle->iprev = up;
	p->idle = up;
	p->nidle++;
	msg_head_release(&up->head);
	free(up->req_head);
	up->req_head = NULL;
	up->read_paused = up->client_paused = 0;
	/* keep reading: an idle connection that speaks or closes is dropped */
	up_reading(up, 1);
	up_timer_set(up, UT_IDLE, up->lp->srv->cfg.upstream_idle_ms);
}

void
upstream_pools_close(proxy_loop *s)
{
	for (upstream_pool *p = s->pools; p != NULL; p = p->next)
		while (p->idle != NULL)
			up_close(p->idle);
}

