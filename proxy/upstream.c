/* upstream.c — the app side of a proxied request.
 *
 * Life of an exchange with an app: a connection taken from the instance's
 * keep-alive pool or connected fresh (upstream_conn.c) → request head + body
 * streamed to it → response parsed with llhttp and re-framed to the client as
 * it arrives → back to the pool when the exchange was complete both ways, else
 * closed. After a 101 it becomes a byte tunnel until either side closes or the
 * tunnel idles out.
 *
 * The client's side of it is upstream_ops (conn_ops, proxy_int.h): c->resp is
 * the upstream_conn while it serves c, and NULL again once the app's part is
 * over (up_detach), which may be before the client's request is.
 *
 * Back-pressure: each direction stops reading its source while the other
 * socket's write queue is above PROXY_HWM and resumes below PROXY_LWM.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "proxy/upstream_int.h"
#include "common/util.h"

static const llhttp_settings_t resp_settings;
static const conn_ops upstream_ops;

/* ---- the request to the app ---------------------------------------------- */

/* The head the app gets for request r: the client's fields but the hop-by-hop
 * ones, Expect (answered here), the X-Forwarded-* ones the client may not set,
 * Proxy-Authorization (the proxy's, never the app's), any field whose value holds
 * a podium token in any spelling (routes.h) and, when a valid token let the
 * request through (strip_auth), Authorization; then
 * X-Forwarded-For/-Proto/-Host and the body's framing; Upgrade when the
 * request asks for one.  On the heap: the caller frees it. */
char *
upstream_request_head(const http_request *r, int strip_auth, int upgrade, size_t *len)
{
	const char *conn_hdr = http_request_header(r, "connection");
	const char *up_hdr = http_request_header(r, "upgrade");
	const char *host = http_request_header(r, "host");
	char stack[2048], xff_stack[256];
	sbuf b = SBUF_ON(stack), xff = SBUF_ON(xff_stack);

	sbuf_adds(&b, r->method);
	sbuf_add(&b, " ", 1);
	sbuf_adds(&b, r->url);
	sbuf_adds(&b, " HTTP/1.1\r\n");
	for (size_t i = 0; i < r->nheaders; i++) {
		const http_header *h = &r->headers[i];

		/* Host is kept even when Connection names it: the app is
		 * owed its Host (HTTP/1.1), and Host is never hop-by-hop. */
		if ((header_is_hop_by_hop(h->name, conn_hdr) && !hdr_is(h->name, "host")) ||
		    hdr_is(h->name, "x-forwarded-proto") || hdr_is(h->name, "x-forwarded-host") ||
		    hdr_is(h->name, "expect") || hdr_is(h->name, "proxy-authorization") ||
		    header_is_cluster(h->name) || (strip_auth && hdr_is(h->name, "authorization")) ||
		    route_value_has_token(h->value, strlen(h->value)))
			continue;
		if (hdr_is(h->name, "x-forwarded-for")) {
			if (xff.len > 0)
				sbuf_add(&xff, ", ", 2);
			sbuf_adds(&xff, h->value);
			continue;
		}
		sbuf_field(&b, h->name, h->value);
	}
	if (xff.len > 0)
		sbuf_add(&xff, ", ", 2);
	sbuf_adds(&xff, r->client_addr);
	sbuf_field(&b, "X-Forwarded-For", xff.p);
	sbuf_free(&xff);
	sbuf_field(&b, "X-Forwarded-Proto", r->secure ? "https" : "http");
	if (host != NULL)
		sbuf_field(&b, "X-Forwarded-Host", host);
	return request_head_end(&b, r, upgrade ? up_hdr : NULL, len);
}

static void
up_attach(upstream_conn *up, proxy_conn *c)
{
	up->c = c;
	conn_responder_set(c, &upstream_ops, up);
	up->is_head = c->is_head_req;
	up->upgrade_req = llhttp_get_upgrade(&c->parser);
	up->t_start = uv_now(c->lp->loop);
	/* a node that forwards waits for the owner's own wait (a held wake) too */
	up->response_ms = c->lp->srv->cfg.upstream_response_ms +
	    (c->target->kind == ROUTE_REMOTE ? c->lp->srv->cfg.wake_timeout_ms : 0);
	up->got_bytes = up->resp_started = up->resp_complete = 0;
	up->req_sent = 0;
	up->tunnel_pending = up->tunnel = up->skip_1xx = up->parse_fail = 0;
	msg_head_release(&up->head);
	msg_head_init(&up->head, 64 * 1024, 200);
	llhttp_init(&up->parser, HTTP_RESPONSE, &resp_settings);
	up->parser.data = up;
	stats_space_active(up->stats, +1);
	if (up->exchanges != NULL)
		route_exchanges_add(up->exchanges, +1);
}

static int
up_send_head(upstream_conn *up)
{
	uv_buf_t b = uv_buf_init(up->req_head, (unsigned)up->req_head_len);

	return up_write(up, &b, 1) < 0 ? -EPIPE : 0;
}

/* The exchange with a connection to c's target (its keep-alive pool's, or a
 * fresh one) for a request whose head is ready: head is the upstream's to free. */
void
upstream_start(proxy_conn *c, char *head, size_t len)
{
	proxy_loop *s = c->lp;
	upstream_conn *up;
	int err = 0;

	up = upstream_pool_take(s, c->target->instance_id);
	if (up == NULL)
		up = up_new(s, c->target, &err);
	if (up == NULL) {
		free(head);
		stats_upstream_error(stats_space(c->target->space_id));
		log_debug("proxy: socket for app %s: %s", c->target->space_id, uv_strerror(err));
		conn_respond_error(c, 502, c->target->kind == ROUTE_REMOTE ?
		    "the node that runs the app is not reachable" : "the app is not reachable", NULL, 0);
		return;
	}
	up_attach(up, c);
	up->req_head = head;
	up->req_head_len = len;
	if (up_send_head(up) != 0)
		return;
	if (!up->connecting)
		up_timer_set(up, UT_RESPONSE, up->response_ms);
}

void
upstream_dispatch(proxy_conn *c)
{
	http_request r;
	size_t len;
	char *head;

	conn_request_view(c, &r);
	head = upstream_request_head(&r, c->strip_auth, llhttp_get_upgrade(&c->parser), &len);
	upstream_start(c, head, len);
}

static void
up_on_body(proxy_conn *c, const char *p, size_t n)
{
	upstream_conn *up = c->resp;
	char hdr[HTTP_CHUNK_HDR];
	uv_buf_t b[3];

	up_write(up, b, body_bufs(b, hdr, p, n, c->req_chunked));
	/* a body can no longer be replayed on another connection */
	up->retried = 1;
	if (up_queued(up) > PROXY_HWM) {
		up->client_paused = 1;
		c->body_paused = 1;
	}
}

static void
up_on_body_end(proxy_conn *c)
{
	upstream_conn *up = c->resp;

	if (c->req_chunked) {
		uv_buf_t b = uv_buf_init("0\r\n\r\n", 5);

		up_write(up, &b, 1);
	}
	up->req_sent = 1;
}

/* ---- the response -------------------------------------------------------- */

static void up_response_done(upstream_conn *up, int clean);
static void up_tunnel_start(upstream_conn *up, const char *rest, size_t nrest);
static void up_tunnel_read(upstream_conn *up, const char *p, size_t n);

/* A pooled connection the app closed while we reused it: the request never
 * reached the app, so it goes again on a fresh one.  0 when it did. */
static int
up_retry_fresh(upstream_conn *up)
{
	proxy_conn *c = up->c;
	upstream_conn *fresh;
	int e = 0;

	if (up->resp_started || !up->reused || up->got_bytes || up->retried ||
	    c->req_clen > 0 || c->req_chunked)
		return -1;
	fresh = up_new(up->lp, c->target, &e);
	if (fresh == NULL)
		return -1;
	up_detach(up);
	up_attach(fresh, c);
	fresh->retried = 1;
	fresh->req_head = up->req_head;
	fresh->req_head_len = up->req_head_len;
	fresh->req_sent = c->req_msg_done;
	up->req_head = NULL;
	up_close(up);
	up_send_head(fresh);
	return 0;
}

/* The app closed its side (EOF) or the connection failed (nread). */
static void
up_read_end(upstream_conn *up, ssize_t nread)
{
	proxy_conn *c = up->c;

	if (up->tunnel) {
		/* flush what we have to the client, then close */
		up_detach(up);
		up_close(up);
		c->no_more = 1;
		c->close_after = 1;
		c->resp_done = 1;
		c->tunnel = 0;
		conn_shutdown(c);
		return;
	}
	if (up_retry_fresh(up) == 0)
		return;
	if (nread == UV_EOF && up->resp_started && llhttp_message_needs_eof(&up->parser)) {
		/* close-delimited body: EOF is its end (a reset is not: the
		 * client must see the body cut, below) */
		llhttp_finish(&up->parser);
		up->req_sent = 0; /* never reuse */
		up_response_done(up, 0);
		return;
	}
	up_fail(up, 502, up->resp_started ? "the app closed the connection mid-response"
	    : "the app closed the connection without a response");
}

void
up_read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	upstream_conn *up = st->data;
	proxy_conn *c = up->c;
	llhttp_errno_t err;

	if (nread == 0 || up->closing)
		return;
	if (c == NULL) {
		/* idle in the pool: the app closed it or sent garbage */
		up_close(up);
		return;
	}
	if (nread < 0) {
		up_read_end(up, nread);
		return;
	}
	up->got_bytes = 1;
	if (up->tunnel) {
		up_tunnel_read(up, buf->base, (size_t)nread);
		return;
	}
	if (up->resp_started)
		up_timer_set(up, UT_READ, up->lp->srv->cfg.upstream_response_ms);
	conn_cork(c);
	err = llhttp_execute(&up->parser, buf->base, (size_t)nread);
	conn_uncork(c);
	if (up->closing || up->c == NULL)
		return;
	if (conn_queued(c) > PROXY_HWM)
		up->read_paused = 1;
	if (err == HPE_PAUSED && up->resp_complete) {
		const char *pos = llhttp_get_error_pos(&up->parser);
		int extra = pos != NULL && pos < buf->base + nread;

		up_response_done(up, !extra);
		return;
	}
	if (err == HPE_PAUSED_UPGRADE && up->tunnel_pending) {
		const char *pos = llhttp_get_error_pos(&up->parser);
		size_t used = pos != NULL ? (size_t)(pos - buf->base) : (size_t)nread;

		up_tunnel_start(up, buf->base + used, (size_t)nread - used);
		return;
	}
	if (err != HPE_OK) {
		log_debug("proxy: bad response from app %s: %s", up->space_id,
		    llhttp_errno_name(err));
		up_fail(up, 502, "the app sent an invalid response");
		return;
	}
	if (up->read_paused) {
		up_reading(up, 0);
		return;
	}
	/* More of the response is to come: acknowledge what we have now
	 * (tcp_quickack).  A complete response in one read never gets here. */
	tcp_quickack(&up->tcp);
}

static int
r_on_header_field(llhttp_t *p, const char *at, size_t n)
{
	upstream_conn *up = p->data;

	return head_span_field(&up->head, at, n) == 0 ? 0 : HPE_USER;
}

static int
r_on_header_field_complete(llhttp_t *p)
{
	upstream_conn *up = p->data;

	up->head.value_done = 0;
	return 0;
}

static int
r_on_header_value(llhttp_t *p, const char *at, size_t n)
{
	upstream_conn *up = p->data;

	return head_span_value(&up->head, at, n) == 0 ? 0 : HPE_USER;
}

static int
r_on_header_value_complete(llhttp_t *p)
{
	upstream_conn *up = p->data;

	head_value_complete(&up->head);
	return 0;
}

/* The app's response fields as the client gets them: hop-by-hop ones (with
 * what the app's Connection names), X-Accel-Buffering and empty names
 * dropped; a 101 keeps its Upgrade.  out has room for n.  The count, or -1
 * for a head not to pass on: a Transfer-Encoding other than chunked alone
 * ("gzip, chunked": our re-chunking would lose the gzip), a 101 that names
 * no protocol (RFC 9110 15.2.2). */
int
upstream_response_fields(int status, const http_header *in, size_t n, http_header *out)
{
	const char *conn_hdr = NULL;
	int upgrade_hdr = 0;
	size_t nout = 0;

	for (size_t i = 0; i < n; i++) {
		if (hdr_is(in[i].name, "connection"))
			conn_hdr = in[i].value;
		else if (hdr_is(in[i].name, "upgrade"))
			upgrade_hdr = 1;
		else if (hdr_is(in[i].name, "transfer-encoding") && !te_is_chunked(in[i].value))
			return -1;
	}
	if (status == 101 && !upgrade_hdr)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (status == 101 && hdr_is(in[i].name, "upgrade")) {
			out[nout++] = in[i];
			continue;
		}
		if (header_is_hop_by_hop(in[i].name, status == 101 ? NULL : conn_hdr) ||
		    hdr_is(in[i].name, "x-accel-buffering") || in[i].name[0] == '\0')
			continue;
		out[nout++] = in[i];
	}
	return (int)nout;
}

static int
r_on_headers_complete(llhttp_t *p)
{
	upstream_conn *up = p->data;
	proxy_conn *c = up->c;
	int status = llhttp_get_status_code(p);
	http_header h_stack[64], *h;
	int n;
	int64_t clen = -1;

	head_complete(&up->head);
	if (status >= 100 && status < 200 && status != 101) {
		/* interim responses: we answered 100-continue ourselves */
		up->skip_1xx = 1;
		msg_head_release(&up->head);
		msg_head_init(&up->head, 64 * 1024, 200);
		/* the final response follows whatever an interim one says about
		 * the connection ("Connection: close" would make llhttp drop it) */
		p->flags &= ~F_CONNECTION_CLOSE;
		p->flags |= F_CONNECTION_KEEP_ALIVE;
		return 0;
	}
	if (status == 101 && !up->upgrade_req)
		return HPE_USER;
	if (status < 100 || status > 999) /* llhttp takes "000" */
		return HPE_USER;
	h = up->head.nhdrs < sizeof(h_stack) / sizeof(h_stack[0]) ? h_stack :
	    xcalloc(up->head.nhdrs + 1, sizeof(*h));
	n = upstream_response_fields(status, up->head.hdrs, up->head.nhdrs, h);
	if (n < 0) {
		if (h != h_stack)
			free(h);
		return HPE_USER;
	}
	if ((p->flags & F_CONTENT_LENGTH) && !(p->flags & F_CHUNKED))
		clen = (int64_t)p->content_length;
	up->resp_started = 1;
	free(up->req_head);
	up->req_head = NULL;
	c->upstream_ms = (int64_t)(uv_now(c->lp->loop) - up->t_start);
	up_timer_set(up, UT_READ, up->lp->srv->cfg.upstream_response_ms);
	if (status == 101)
		up->tunnel_pending = 1;
	conn_resp_start(c, status, NULL, h, (size_t)n, clen);
	if (h != h_stack)
		free(h);
	if (up->is_head)
		return 1; /* no body follows a response to HEAD */
	return 0;
}

static int
r_on_body(llhttp_t *p, const char *at, size_t n)
{
	upstream_conn *up = p->data;
	proxy_conn *c = up->c;

	if (c == NULL || c->closing)
		return HPE_USER;
	conn_resp_body(c, at, n);
	if (conn_queued(c) > PROXY_HWM)
		up->read_paused = 1;
	return 0;
}

static int
r_on_message_complete(llhttp_t *p)
{
	upstream_conn *up = p->data;

	if (up->skip_1xx) {
		up->skip_1xx = 0;
		return 0;
	}
	if (up->tunnel_pending)
		return 0;
	up->resp_complete = 1;
	return HPE_PAUSED;
}

/* The app's response is complete: the connection goes back to the pool when
 * both directions ended cleanly. */
static void
up_response_done(upstream_conn *up, int clean)
{
	proxy_conn *c = up->c;
	int keep = clean && up->req_sent && llhttp_should_keep_alive(&up->parser) &&
	    !up->lp->stopping;

	up_detach(up);
	up_timer_set(up, UT_NONE, 0);
	if (!c->req_msg_done) {
		/* the app answered without reading the whole body */
		c->close_after = 1;
		c->no_more = 1;
		c->req_msg_done = 1;
		keep = 0;
	}
	if (keep)
		upstream_pool_put(up);
	else
		up_close(up);
	conn_resp_end(c);
}

/* An error before the client got a response head becomes an error page;
 * after it, the client's connection is cut so it sees the truncation. */
void
up_fail(upstream_conn *up, int status, const char *msg)
{
	proxy_conn *c = up->c;

	stats_upstream_error(up->stats);
	up_detach(up);
	up_close(up);
	if (c == NULL || c->closing)
		return;
	if (c->tunnel || c->out.started) {
		conn_abort(c);
		return;
	}
	if (!c->req_msg_done) {
		/* the rest of the request body has nowhere to go */
		c->close_after = 1;
		c->no_more = 1;
		c->req_msg_done = 1;
	}
	c->upstream_ms = (int64_t)(uv_now(c->lp->loop) - c->t_start);
	conn_respond_error(c, status, msg, NULL, 0);
}

/* ---- the tunnel ---------------------------------------------------------- */

static void
up_tunnel_start(upstream_conn *up, const char *rest, size_t nrest)
{
	proxy_conn *c = up->c;

	up->tunnel = 1;
	c->tunnel = 1;
	free(up->req_head);
	up->req_head = NULL;
	up_timer_set(up, UT_TUNNEL, up->lp->srv->cfg.tunnel_idle_ms);
	if (nrest > 0)
		conn_write_str(c, rest, nrest);
	/* bytes the client sent after its request head belong to the app */
	if (c->inlen > c->inoff) {
		uv_buf_t b = uv_buf_init(c->inbuf + c->inoff, (unsigned)(c->inlen - c->inoff));

		up_write(up, &b, 1);
		c->inoff = c->inlen = 0;
	}
	conn_update_reading(c);
}

/* Tunnel bytes from the app, to the client. */
static void
up_tunnel_read(upstream_conn *up, const char *p, size_t n)
{
	proxy_conn *c = up->c;

	up_timer_set(up, UT_TUNNEL, up->lp->srv->cfg.tunnel_idle_ms);
	conn_write_str(c, p, n);
	if (conn_queued(c) > PROXY_HWM) {
		up->read_paused = 1;
		up_reading(up, 0);
	}
}

/* Tunnel bytes from the client, to the app. */
static void
up_tunnel_data(proxy_conn *c, const char *p, size_t n)
{
	upstream_conn *up = c->resp;
	uv_buf_t b = uv_buf_init((char *)p, (unsigned)n);

	up_timer_set(up, UT_TUNNEL, up->lp->srv->cfg.tunnel_idle_ms);
	up_write(up, &b, 1);
	if (up_queued(up) > PROXY_HWM) {
		c->tunnel_paused = 1;
		conn_update_reading(c);
	}
}

static void
up_shutdown_cb(uv_shutdown_t *req, int status)
{
	free(req);
}

/* The client ended its side of the tunnel: the app is told so (its side
 * stays open: a WebSocket close reply, the rest of a stream) and the tunnel
 * ends when the app ends too, or at its idle timeout. A reset ends both. */
static void
up_tunnel_eof(proxy_conn *c, int reset)
{
	upstream_conn *up = c->resp;
	uv_shutdown_t *req;

	if (reset || up->closing) {
		conn_abort(c);
		return;
	}
	req = xmalloc(sizeof(*req));
	pio_send_now(up->lp); /* the FIN after what is held */
	if (uv_shutdown(req, (uv_stream_t *)&up->tcp, up_shutdown_cb) != 0) {
		free(req);
		conn_abort(c);
	}
}

/* ---- the client's side: upstream_ops ------------------------------------- */

/* The client took what we wrote: the app is read again. */
static void
up_client_drained(proxy_conn *c, size_t queued)
{
	upstream_conn *up = c->resp;

	if (up->read_paused) {
		up->read_paused = 0;
		up_reading(up, 1);
	}
}

/* The request ends while the app still serves it: the app's connection goes
 * (a half-told exchange is never reused). */
static void
up_client_abort(proxy_conn *c)
{
	upstream_conn *up = c->resp;

	up_detach(up);
	up_close(up);
}

static const llhttp_settings_t resp_settings = {
	.on_header_field = r_on_header_field,
	.on_header_field_complete = r_on_header_field_complete,
	.on_header_value = r_on_header_value,
	.on_header_value_complete = r_on_header_value_complete,
	.on_headers_complete = r_on_headers_complete,
	.on_body = r_on_body,
	.on_message_complete = r_on_message_complete,
};

static const conn_ops upstream_ops = {
	.on_body = up_on_body,
	.on_body_end = up_on_body_end,
	.drained = up_client_drained,
	.tunnel_data = up_tunnel_data,
	.tunnel_eof = up_tunnel_eof,
	.done = up_client_abort,
	.abort = up_client_abort,
};
