/* conn.c — one client connection's life, in the order it lives it:
 *   birth (accepted here, or handed over from a worker loop)
 *   → reading → the processing loop: request.c parses the request, route.c
 *     routes it to a responder (conn_ops, proxy_int.h), which answers through
 *     http_out.c
 *   → the request's end: keep-alive, or shutdown → close.
 * The connection's one timer and the move of a hub request to the main loop
 * are here too.
 *
 * Only one request per connection is in flight. When a request's message has
 * been parsed the parser is paused; pipelined bytes wait in c->inbuf until the
 * response is done, so responses leave in request order and nothing after a
 * parse error ever reaches an app (we stop parsing at the first error).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "proxy/proxy_int.h"
#include "proxy/tls_int.h"
#include "common/util.h"

static void conn_close(proxy_conn *c);
static void conn_read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);
static void conn_timer_cb(uv_timer_t *t);
static void conn_finish_request(proxy_conn *c);
static void conn_request_reset(proxy_conn *c);

/* ---- birth: accepted here, or handed over from a worker loop ------------- */

static proxy_conn *
conn_new(proxy_loop *lp)
{
	proxy_conn *c = xcalloc(1, sizeof(*c));

	c->srv = lp->srv;
	c->lp = lp;
	uv_tcp_init(lp->loop, &c->tcp);
	deadline_init(lp->loop, &c->timer, conn_timer_cb, c);
	c->tcp.data = c;
	c->handles = 2;
	c->next = lp->conns;
	if (lp->conns != NULL)
		lp->conns->prev = c;
	lp->conns = c;
	lp->nconns++;
	atomic_fetch_add_explicit(&lp->srv->nconns, 1, memory_order_relaxed);
	return c;
}

static void
conn_begin(proxy_conn *c)
{
	request_parser_init(c);
	conn_request_reset(c);
	conn_timer_set(c, CT_HEAD, c->srv->cfg.header_timeout_ms);
}

static void
conn_refuse_written(uv_write_t *w, int status)
{
	free(w);
}

/* A clean refusal instead of a silent reset: 503, then close (a TLS client
 * could not read it: closed at once). */
static void
conn_refuse(proxy_conn *c, int out_of_fds, int tls)
{
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Type: text/plain\r\nContent-Length: 20\r\nRetry-After: 1\r\n"
	    "Connection: close\r\n\r\ntoo many connections";
	static const char nofd[] = "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Type: text/plain\r\nContent-Length: 31\r\nRetry-After: 1\r\n"
	    "Connection: close\r\n\r\nserver out of file descriptors\n";
	uv_buf_t b = out_of_fds ? uv_buf_init((char *)nofd, sizeof(nofd) - 1) :
	    uv_buf_init((char *)busy, sizeof(busy) - 1);

	if (tls) {
		conn_close(c);
		return;
	}
	if (uv_try_write((uv_stream_t *)&c->tcp, &b, 1) < 0) {
		uv_write_t *w = xmalloc(sizeof(*w));

		if (uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, conn_refuse_written) != 0)
			free(w);
	}
	c->no_more = 1;
	conn_shutdown(c);
}

void
conn_accept(proxy_loop *lp, proxy_listener *l)
{
	proxy_server *s = lp->srv;
	proxy_conn *c = conn_new(lp);
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	uv_os_fd_t fd = -1;

	if (uv_accept((uv_stream_t *)&l->tcp, (uv_stream_t *)&c->tcp) != 0) {
		conn_close(c);
		return;
	}
	uv_fileno((uv_handle_t *)&c->tcp, &fd);
	/* The kernel hands out the lowest free descriptor, so a high one means few
	 * are left: refuse before the daemon runs out. */
	if (fd >= s->fd_limit - PROXY_FD_MARGIN) {
		conn_refuse(c, 1, l->tls);
		return;
	}
	if (atomic_load_explicit(&s->nconns, memory_order_relaxed) > s->cfg.max_connections) {
		conn_refuse(c, 0, l->tls);
		return;
	}
	if (l->tls && tls_conn_start(c) != 0) {
		conn_close(c);
		return;
	}
	uv_tcp_nodelay(&c->tcp, 1);
	if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET)
			uv_ip4_name((struct sockaddr_in *)&ss, c->client_addr, sizeof(c->client_addr));
		else
			uv_ip6_name((struct sockaddr_in6 *)&ss, c->client_addr, sizeof(c->client_addr));
	}
	conn_begin(c);
	conn_update_reading(c);
}

/* On the main loop: a connection a worker handed over. Its bytes are parsed
 * from the start, exactly as if they had been read here. */
void
conn_adopt(proxy_loop *lp, proxy_migrant *m)
{
	proxy_conn *c = conn_new(lp);

	memcpy(c->client_addr, m->client_addr, sizeof(c->client_addr));
	c->inbuf = m->data;
	c->inlen = c->incap = m->len;
	if (uv_tcp_open(&c->tcp, m->fd) != 0) {
		close(m->fd);
		tls_conn_free(m->tls);
		free(m);
		conn_close(c);
		return;
	}
	tls_conn_adopt(c, m->tls);
	free(m);
	conn_begin(c);
	conn_process(c);
}

/* ---- reading ------------------------------------------------------------- */

static void
conn_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	proxy_conn *c = h->data;

	*buf = uv_buf_init(c->lp->readbuf, sizeof(c->lp->readbuf));
}

static void
inbuf_append(proxy_conn *c, const char *p, size_t n)
{
	if (c->inoff > 0 && c->inoff == c->inlen)
		c->inoff = c->inlen = 0;
	if (c->inlen + n > c->incap) {
		if (c->inoff > 0) {
			memmove(c->inbuf, c->inbuf + c->inoff, c->inlen - c->inoff);
			c->inlen -= c->inoff;
			c->inoff = 0;
		}
		if (c->inlen + n > c->incap) {
			c->incap = c->inlen + n;
			c->inbuf = xrealloc(c->inbuf, c->incap);
		}
	}
	memcpy(c->inbuf + c->inlen, p, n);
	c->inlen += n;
}

static void
inbuf_release(proxy_conn *c)
{
	if (c->inoff == c->inlen) {
		free(c->inbuf);
		c->inbuf = NULL;
		c->inlen = c->inoff = c->incap = 0;
	}
}

static void
conn_reading(proxy_conn *c, int want)
{
	if (want && !c->reading) {
		if (uv_read_start((uv_stream_t *)&c->tcp, conn_alloc_cb, conn_read_cb) == 0)
			c->reading = 1;
	} else if (!want && c->reading) {
		uv_read_stop((uv_stream_t *)&c->tcp);
		c->reading = 0;
	}
}

int
conn_reading_wanted(const proxy_conn *c)
{
	if (c->closing)
		return 0;
	if (c->lingering)
		return 1;
	if (c->tunnel)
		return !c->tunnel_paused;
	return !c->body_paused && !c->no_more && !c->read_eof && !c->migrate &&
	    c->inlen - c->inoff < PROXY_INBUF_MAX;
}

void
conn_update_reading(proxy_conn *c)
{
	int want;

	if (c->closing)
		return;
	want = conn_reading_wanted(c);
	conn_reading(c, want);
	/* input the TLS layer holds gets no socket event of its own */
	if (want && c->tls != NULL && !c->lingering)
		tls_conn_resume(c);
}

static void
conn_read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	proxy_conn *c = st->data;

	if (c->closing)
		return;
	if (nread == 0)
		return;
	if (c->lingering) {
		if (nread < 0)
			conn_close(c);
		return;
	}
	if (c->tls != NULL && nread > 0)
		tls_conn_input(c, buf->base, (size_t)nread);
	else
		conn_input(c, nread, buf->base);
}

void
conn_input(proxy_conn *c, ssize_t nread, const char *p)
{
	if (nread < 0) {
		c->read_eof = 1;
		if (c->tunnel) {
			if (c->ops != NULL && c->ops->tunnel_eof != NULL)
				c->ops->tunnel_eof(c, nread != UV_EOF);
			else
				conn_abort(c);
			return;
		}
		/* EOF between requests is a normal close; during a request the
		 * client gave up, so its responder is dropped too (abort). */
		conn_close(c);
		return;
	}
	if (c->tunnel) {
		if (c->ops != NULL && c->ops->tunnel_data != NULL)
			c->ops->tunnel_data(c, p, (size_t)nread);
		else
			conn_abort(c);
		return;
	}
	if (c->no_more)
		return; /* after an error nothing more is parsed */
	if (c->inlen == c->inoff) {
		c->ext = p;
		c->extlen = (size_t)nread;
		conn_process(c);
		if (!c->closing && c->extlen > 0)
			inbuf_append(c, c->ext, c->extlen);
		c->ext = NULL;
		c->extlen = 0;
	} else {
		inbuf_append(c, p, (size_t)nread);
		conn_process(c);
	}
	if (c->closing)
		return;
	/* A request body is still to come: don't let a Nagle-bound client
	 * wait for our delayed ACK (tcp_quickack). */
	if (c->req_active && !c->req_msg_done && !c->tunnel && !c->no_more)
		tcp_quickack(&c->tcp);
	conn_update_reading(c);
}

/* ---- the processing loop ------------------------------------------------- */

void
conn_process(proxy_conn *c)
{
	if (c->in_process) {
		c->reprocess = 1;
		return;
	}
	c->in_process = 1;
	do {
		c->reprocess = 0;
		for (;;) {
			const char *p;
			size_t n, used;

			if (c->closing || c->lingering || c->tunnel || c->migrate)
				break;
			if (c->req_active && c->req_msg_done) {
				if (!c->resp_done)
					break;
				conn_finish_request(c);
				continue;
			}
			if (c->no_more || (c->req_active && c->body_paused))
				break;
			if (!c->req_active && conn_queued(c) > PROXY_HWM) {
				/* pipelined requests wait until the client takes
				 * the answers already queued (conn_write_done) */
				c->out_full = 1;
				break;
			}
			if (c->ext != NULL && c->extlen > 0) {
				p = c->ext;
				n = c->extlen;
			} else if (c->inlen > c->inoff) {
				p = c->inbuf + c->inoff;
				n = c->inlen - c->inoff;
			} else if (c->parse_paused) {
				/* Paused on the last bytes we had (a body handler's
				 * back-pressure on the final chunk): what llhttp left
				 * due, such as on_message_complete, runs now, not when
				 * the client sends more, which it may never do. */
				p = "";
				n = 0;
			} else {
				break;
			}
			used = conn_parse(c, p, n);
			if (c->ext != NULL && p == c->ext) {
				c->ext += used;
				c->extlen -= used;
			} else if (!c->closing) {
				c->inoff += used;
				inbuf_release(c);
			}
		}
	} while (c->reprocess && !c->closing);
	c->in_process = 0;
	if (c->migrate && !c->closing) {
		/* what follows the head in the read buffer goes along */
		if (c->ext != NULL && c->extlen > 0) {
			inbuf_append(c, c->ext, c->extlen);
			c->extlen = 0;
		}
		conn_migrate_ready(c);
		return;
	}
	if (!c->closing)
		conn_update_reading(c);
}

void
conn_request_body_resume(proxy_conn *c)
{
	if (!c->body_paused)
		return;
	c->body_paused = 0;
	conn_process(c);
}

/* ---- the responder (conn_ops, proxy_int.h) ------------------------------- */

void
conn_responder_set(proxy_conn *c, const conn_ops *ops, void *resp)
{
	c->ops = ops;
	c->resp = resp;
}

/* The request ends (done: complete both ways; else cut): its responder, if
 * one is still set, hears which and frees its state. */
void
conn_responder_end(proxy_conn *c, int done)
{
	const conn_ops *ops = c->ops;

	if (ops == NULL)
		return;
	if (done && ops->done != NULL)
		ops->done(c);
	else if (!done && ops->abort != NULL)
		ops->abort(c);
	conn_responder_set(c, NULL, NULL);
}

/* ---- the request's end: keep-alive or shutdown --------------------------- */

static void
conn_request_reset(proxy_conn *c)
{
	msg_head_release(&c->head);
	free(c->host);
	free(c->url_own);
	c->url_own = NULL;
	c->url = NULL;
	msg_head_init(&c->head, c->srv->cfg.max_request_line + c->srv->cfg.max_header_bytes,
	    c->srv->cfg.max_header_fields);
	c->head_started = 0;
	c->req_active = c->req_msg_done = c->resp_done = 0;
	c->body_paused = c->is_head_req = c->strip_auth = c->forwarded = 0;
	c->req_chunked = 0;
	c->req_clen = -1;
	c->body_received = 0;
	c->method = c->host = NULL;
	c->raw_host = c->url = NULL;
	c->upstream_ms = -1;
	memset(&c->out, 0, sizeof(c->out));
}

static void
conn_finish_request(proxy_conn *c)
{
	int keep = c->keep_alive && !c->close_after && !c->upgrade_pending &&
	    !c->out.close_delimited && !c->lp->stopping;

	stats_request_done(c);
	conn_responder_end(c, 1);
	if (c->target != NULL) {
		route_target_unref(c->target);
		c->target = NULL;
	}
	conn_request_reset(c);
	if (!keep) {
		c->no_more = 1;
		conn_shutdown(c);
		return;
	}
	conn_timer_set(c, CT_IDLE, c->srv->cfg.keepalive_idle_ms);
}

/* ---- the connection's timer ---------------------------------------------- */

/* The request was handed on and its body is still to come: the client has
 * body_timeout_ms for each piece of it. */
void
conn_body_expect(proxy_conn *c)
{
	if ((c->req_clen > 0 || c->req_chunked) && !c->req_msg_done && !c->no_more) {
		c->body_seen = uv_now(c->lp->loop);
		conn_timer_set(c, CT_BODY, c->srv->cfg.body_timeout_ms);
	}
}

/* A client that stops sending the body it declared is cut, unless we are the
 * ones not reading (back-pressure from the app or the hub handler). */
static void
conn_body_timer(proxy_conn *c)
{
	unsigned ms = c->srv->cfg.body_timeout_ms;
	uint64_t idle = uv_now(c->lp->loop) - c->body_seen;

	if (!c->req_active || c->req_msg_done)
		return;
	if (c->body_paused) {
		c->body_seen = uv_now(c->lp->loop);
		conn_timer_set(c, CT_BODY, ms);
	} else if (idle < ms) {
		conn_timer_set(c, CT_BODY, (unsigned)(ms - idle));
	} else {
		log_debug("proxy: %s: request body stalled", c->client_addr);
		conn_parse_error(c, 408, "request body not received in time");
		conn_process(c);
	}
}

static void conn_timer_arm(proxy_conn *c, uint64_t now);

static void
conn_timer_cb(uv_timer_t *t)
{
	proxy_conn *c = t->data;
	uint64_t now = uv_now(c->lp->loop);

	if (c->send_since != 0 && now - c->send_since >= c->srv->cfg.send_timeout_ms &&
	    c->timer_kind != CT_ABORT) {
		log_debug("proxy: %s: the client took no response bytes in time", c->client_addr);
		conn_abort(c);
		return;
	}
	if (c->timer_kind == CT_NONE || now < c->timer_due) {
		conn_timer_arm(c, now); /* woken for the send timeout, not due */
		return;
	}
	c->timer_due = 0;
	switch (c->timer_kind) {
	case CT_HEAD:
		/* A slowloris client is cut here, whatever it keeps trickling. */
		if (c->head_started && !c->req_active) {
			c->req_active = 1;
			c->req_msg_done = 1;
			c->no_more = 1;
			c->close_after = 1;
			c->keep_alive = 0;
			conn_respond_error(c, 408, "request head not received in time", NULL, 0);
			conn_process(c);
		} else {
			conn_close(c);
		}
		break;
	case CT_BODY:
		conn_body_timer(c);
		break;
	case CT_RESPONDER:
		if (c->ops != NULL && c->ops->on_timer != NULL)
			c->ops->on_timer(c);
		break;
	case CT_IDLE:
		if (conn_queued(c) > 0) {
			/* the last response is still being taken: keep-alive idle
			 * starts after it (a stalled client meets the send timeout) */
			conn_timer_set(c, CT_IDLE, c->srv->cfg.keepalive_idle_ms);
			break;
		}
		conn_close(c);
		break;
	case CT_LINGER:
	default:
		conn_close(c);
		break;
	}
}

/* One timer: the earlier of what timer_kind waits for and the send timeout. */
static void
conn_timer_arm(proxy_conn *c, uint64_t now)
{
	uint64_t due = c->timer_kind != CT_NONE ? c->timer_due : 0;

	if (c->send_since != 0) {
		uint64_t send_due = c->send_since + c->srv->cfg.send_timeout_ms;

		due = due != 0 && due < send_due ? due : send_due;
	}
	if (due == 0)
		deadline_clear(&c->timer);
	else
		deadline_set(&c->timer, due > now ? due - now : 0);
}

void
conn_timer_set(proxy_conn *c, int kind, unsigned ms)
{
	uint64_t now;

	if (c->write_error && kind != CT_ABORT)
		return;
	now = uv_now(c->lp->loop);
	c->timer_kind = kind;
	c->timer_due = kind != CT_NONE ? now + ms : 0;
	conn_timer_arm(c, now);
}

void
conn_send_progress(proxy_conn *c)
{
	uint64_t now = uv_now(c->lp->loop);
	int queued = conn_queued(c) > 0;

	if (c->closing || (!queued && c->send_since == 0))
		return;
	c->send_since = queued ? now : 0;
	conn_timer_arm(c, now);
}

/* ---- a hub request on a worker loop moves to the main loop --------------- */

/* The head as parsed, written out again: the fields llhttp accepted, in
 * order, so the main loop's parser sees the same request. */
static void
head_serialize(proxy_conn *c, char **out, size_t *outlen)
{
	size_t n = strlen(c->method) + strlen(c->url) + 16;
	char *p;

	for (size_t i = 0; i < c->head.nhdrs; i++)
		n += strlen(c->head.hdrs[i].name) + strlen(c->head.hdrs[i].value) + 4;
	n += c->inlen - c->inoff;
	*out = p = xmalloc(n);
	p += sprintf(p, "%s %s HTTP/%d.%d\r\n", c->method, c->url, c->parser.http_major,
	    c->parser.http_minor);
	for (size_t i = 0; i < c->head.nhdrs; i++)
		p += sprintf(p, "%s: %s\r\n", c->head.hdrs[i].name, c->head.hdrs[i].value);
	memcpy(p, "\r\n", 2);
	p += 2;
	if (c->inlen > c->inoff) {
		memcpy(p, c->inbuf + c->inoff, c->inlen - c->inoff);
		p += c->inlen - c->inoff;
	}
	*outlen = (size_t)(p - *out);
}

/* A worker found a hub request on c: once the previous responses are out of
 * our write queue, the socket goes to the main loop with the unanswered bytes.
 * Called again from the write callback while the queue drains. */
void
conn_migrate_ready(proxy_conn *c)
{
	proxy_migrant *m;
	uv_os_fd_t fd;
	int dupfd;

	if (!c->migrate || c->closing || conn_queued(c) > 0)
		return;
	conn_reading(c, 0);
	if (uv_fileno((uv_handle_t *)&c->tcp, &fd) != 0 ||
	    (dupfd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0) {
		log_warn("proxy: %s: cannot hand the connection over: %s", c->client_addr,
		    strerror(errno));
		conn_close(c);
		return;
	}
	m = xcalloc(1, sizeof(*m));
	m->fd = dupfd;
	m->tls = tls_conn_detach(c);
	memcpy(m->client_addr, c->client_addr, sizeof(m->client_addr));
	head_serialize(c, &m->data, &m->len);
	/* closing our descriptor (and its epoll registration) leaves the socket
	 * open through the duplicate */
	c->migrated = 1;
	conn_close(c);
	proxy_migrant_push(c->srv, m);
}

/* ---- closing ------------------------------------------------------------- */

static void
conn_handle_closed(uv_handle_t *h)
{
	proxy_conn *c = h->data;
	proxy_loop *lp = c->lp;

	if (--c->handles > 0)
		return;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		lp->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	lp->nconns--;
	atomic_fetch_sub_explicit(&c->srv->nconns, 1, memory_order_relaxed);
	msg_head_release(&c->head);
	free(c->host);
	free(c->url_own);
	free(c->inbuf);
	tls_conn_free(c->tls);
	free(c);
	proxy_loop_maybe_done(lp);
}

static void
conn_release_request(proxy_conn *c)
{
	conn_responder_end(c, 0);
	c->tunnel = 0;
	if (c->target != NULL) {
		route_target_unref(c->target);
		c->target = NULL;
	}
}

static void
conn_close(proxy_conn *c)
{
	if (c->closing)
		return;
	tls_conn_flush(c); /* what the connection wrote goes before the close, as plain bytes do */
	c->closing = 1;
	if (c->req_active && !c->resp_done && !c->migrated)
		stats_request_done(c);
	conn_release_request(c);
	pio_closing(c->lp, &c->defer);
	deadline_close(&c->timer, conn_handle_closed);
	uv_close((uv_handle_t *)&c->tcp, conn_handle_closed);
}

/* A write failed somewhere deep in a call chain: close on the next loop turn,
 * when no caller holds pointers into this request any more. */
void
conn_fail_later(proxy_conn *c)
{
	if (c->closing || c->write_error)
		return;
	c->write_error = 1;
	c->no_more = 1;
	conn_timer_set(c, CT_ABORT, 0);
}

/* Client gone or an unrecoverable error: drop everything now. */
void
conn_abort(proxy_conn *c)
{
	conn_close(c);
}

static void
conn_shutdown_cb(uv_shutdown_t *req, int status)
{
	proxy_conn *c = req->data;

	free(req);
	if (c->closing)
		return;
	if (status < 0) {
		conn_close(c);
		return;
	}
	/* Lingering close: read and drop what the client still sends so that
	 * our response is not destroyed by a RST, then close. */
	conn_timer_set(c, CT_LINGER, 2000);
	conn_update_reading(c);
}

/* Close once queued writes are out: FIN first, then linger. */
void
conn_shutdown(proxy_conn *c)
{
	uv_shutdown_t *req;

	if (c->closing || c->lingering)
		return;
	tls_conn_close_notify(c);
	c->lingering = 1;
	conn_release_request(c);
	req = xmalloc(sizeof(*req));
	req->data = c;
	pio_send_now(c->lp); /* the FIN after what is held */
	if (uv_shutdown(req, (uv_stream_t *)&c->tcp, conn_shutdown_cb) != 0) {
		free(req);
		conn_close(c);
	}
}

/* Stop: idle connections go now, busy ones when their request is done. */
void
conn_close_idle(proxy_loop *lp)
{
	proxy_conn *c, *next;

	for (c = lp->conns; c != NULL; c = next) {
		next = c->next;
		if (!c->req_active && !c->tunnel && !c->migrate)
			conn_close(c);
	}
}
