/* http_out.c — writing to sockets and framing responses to the client.
 *
 * The writes themselves are pio.c's.
 */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proxy/proxy_int.h"
#include "proxy/tls_int.h"
#include "common/util.h"

static void
conn_write_done(void *owner, int status)
{
	proxy_conn *c = owner;
	size_t q;

	if (c->closing)
		return;
	if (status < 0) {
		conn_fail_later(c);
		return;
	}
	conn_send_progress(c); /* bytes taken: the send timeout starts again */
	if (c->migrate) {
		conn_migrate_ready(c);
		return;
	}
	q = conn_queued(c);
	if (q > PROXY_LWM)
		return;
	if (c->out_full) {
		c->out_full = 0;
		conn_process(c);
		if (c->closing)
			return;
	}
	if (c->ops != NULL && c->ops->drained != NULL)
		c->ops->drained(c, q);
}

void
conn_write_finished(proxy_conn *c)
{
	conn_write_done(c, 0);
}

/* Acknowledge what was read now.  A peer that writes a message's head and
 * body in two sends without TCP_NODELAY (Python's http.server answering,
 * http.client-style clients posting) has Nagle hold the body until the head
 * is acknowledged, and Linux delays that ACK by 40 ms: each such message
 * would wait 40 ms.  Called only while a message is incomplete. */
void
tcp_quickack(uv_tcp_t *t)
{
	uv_os_fd_t fd;
	int one = 1;

	if (uv_fileno((uv_handle_t *)t, &fd) == 0)
		setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
}

int
conn_write(proxy_conn *c, const uv_buf_t *bufs, unsigned n)
{
	if (c->closing || c->lingering)
		return -EPIPE;
	if (c->write_error)
		return -EPIPE;
	if (c->lp->cork_owner == c) {
		proxy_loop *s = c->lp;

		for (unsigned i = 0; i < n; i++) {
			if (s->cork_len + bufs[i].len > s->cork_cap) {
				s->cork_cap = (s->cork_len + bufs[i].len) * 2;
				s->corkbuf = xrealloc(s->corkbuf, s->cork_cap);
			}
			memcpy(s->corkbuf + s->cork_len, bufs[i].base, bufs[i].len);
			s->cork_len += bufs[i].len;
		}
		return 0;
	}
	if (c->tls != NULL) {
		if (tls_conn_write(c, bufs, n) != 0) {
			conn_fail_later(c);
			return -EPIPE;
		}
		return 0;
	}
	return conn_write_raw(c, bufs, n);
}

int
conn_write_raw(proxy_conn *c, const uv_buf_t *bufs, unsigned n)
{
	int r;

	if (c->closing || c->lingering || c->write_error)
		return -EPIPE;
	r = pio_write(c->lp, (uv_stream_t *)&c->tcp, &c->defer, bufs, n, conn_write_done, c);
	if (r < 0) {
		/* Not closed here: the caller (maybe a hub handler) still holds
		 * pointers; the connection is aborted from the loop instead. */
		conn_fail_later(c);
		return -EPIPE;
	}
	/* held bytes go out this loop turn: only a uv queue starts the clock
	 * (the flush's done callback reports one) */
	if (c->send_since == 0 && uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) > 0)
		conn_send_progress(c);
	return 0;
}

int
conn_write_str(proxy_conn *c, const char *s, size_t n)
{
	uv_buf_t b = uv_buf_init((char *)s, (unsigned)n);

	return conn_write(c, &b, 1);
}

void
conn_cork(proxy_conn *c)
{
	/* TLS gathers a turn's writes by itself (tls_conn.c) */
	if (c->tls != NULL && pio_batching(c->lp))
		return;
	if (c->lp->cork_owner == NULL) {
		c->lp->cork_owner = c;
		c->lp->cork_len = 0;
	}
}

void
conn_uncork(proxy_conn *c)
{
	proxy_loop *s = c->lp;

	if (s->cork_owner != c)
		return;
	s->cork_owner = NULL;
	if (s->cork_len > 0 && !c->closing)
		conn_write_str(c, s->corkbuf, s->cork_len);
	s->cork_len = 0;
}

size_t
conn_queued(const proxy_conn *c)
{
	return pio_queued((const uv_stream_t *)&c->tcp, &c->defer) + tls_conn_pending(c);
}

/* Hop-by-hop: meaningful for one connection only, so never forwarded. */
int
header_is_hop_by_hop(const char *name, const char *connection_value)
{
	static const char *const hop[] = {
		"connection", "keep-alive", "proxy-connection", "te", "trailer",
		"transfer-encoding", "upgrade", "content-length", NULL,
	};
	size_t nl = strlen(name);

	for (int i = 0; hop[i] != NULL; i++)
		if (hdr_is(name, hop[i]))
			return 1;
	if (connection_value != NULL) {
		const char *p = connection_value;

		while (*p != '\0') {
			const char *e;

			while (*p == ' ' || *p == '\t' || *p == ',')
				p++;
			e = p;
			while (*e != '\0' && *e != ',' && *e != ' ' && *e != '\t')
				e++;
			if ((size_t)(e - p) == nl && strncasecmp(p, name, nl) == 0)
				return 1;
			p = e;
		}
	}
	return 0;
}

int
te_is_chunked(const char *v)
{
	size_t n;

	v += strspn(v, " \t");
	n = strlen(v);
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	return n == 7 && strncasecmp(v, "chunked", 7) == 0;
}

void
sbuf_add(sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		if (b->p == b->stack) {
			b->p = xmalloc(b->cap);
			memcpy(b->p, b->stack, b->len);
		} else {
			b->p = xrealloc(b->p, b->cap);
		}
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
sbuf_adds(sbuf *b, const char *s)
{
	sbuf_add(b, s, strlen(s));
}

void
sbuf_add_u64(sbuf *b, uint64_t v)
{
	char d[20];
	size_t i = sizeof(d);

	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	sbuf_add(b, d + i, sizeof(d) - i);
}

void
sbuf_field(sbuf *b, const char *name, const char *value)
{
	sbuf_adds(b, name);
	sbuf_add(b, ": ", 2);
	sbuf_adds(b, value);
	sbuf_add(b, "\r\n", 2);
}

char *
request_head_end(sbuf *b, const http_request *r, const char *upgrade, size_t *len)
{
	if (r->chunked) {
		sbuf_adds(b, "Transfer-Encoding: chunked\r\n");
	} else if (r->content_length >= 0) {
		sbuf_add(b, "Content-Length: ", 16);
		sbuf_add_i64(b, r->content_length);
		sbuf_add(b, "\r\n", 2);
	}
	if (upgrade != NULL) {
		sbuf_adds(b, "Connection: upgrade\r\n");
		sbuf_field(b, "Upgrade", upgrade);
	}
	sbuf_add(b, "\r\n", 2);
	*len = b->len;
	return sbuf_detach(b);
}

void
sbuf_add_i64(sbuf *b, int64_t v)
{
	if (v < 0) {
		sbuf_add(b, "-", 1);
		sbuf_add_u64(b, (uint64_t)0 - (uint64_t)v);
		return;
	}
	sbuf_add_u64(b, (uint64_t)v);
}

char *
sbuf_detach(sbuf *b)
{
	char *p = b->p;

	if (p == b->stack) {
		p = xmalloc(b->len + 1);
		memcpy(p, b->stack, b->len + 1);
	}
	b->p = b->stack;
	b->len = 0;
	return p;
}

void
sbuf_free(sbuf *b)
{
	if (b->p != b->stack)
		free(b->p);
	b->p = b->stack;
	b->len = 0;
}

/* How a response is delimited (RFC 9112 6.3): no body (a response to HEAD,
 * 1xx, 204, 304), Content-Length, chunked (HTTP/1.1), or the connection's
 * close (HTTP/1.0 without a length).  Sets out's no_body, chunked and
 * close_delimited; 1 when a Content-Length field goes out. */
int
resp_framing(resp_out *out, int status, int head_req, int http_minor, int64_t content_length)
{
	int interim = status >= 100 && status < 200;

	out->no_body = head_req || status == 204 || status == 304 || interim;
	out->chunked = out->close_delimited = 0;
	if (content_length >= 0)
		return status != 204 && status != 304 && !interim;
	if (!out->no_body) {
		if (http_minor >= 1)
			out->chunked = 1;
		else
			out->close_delimited = 1;
	}
	return 0;
}

int
conn_resp_start(proxy_conn *c, int status, const char *reason, const http_header *h,
    size_t n, int64_t content_length)
{
	char stack[1024];
	sbuf b = SBUF_ON(stack);
	int minor = c->parser.http_minor;
	const char *hsts = tls_http_hsts(c);
	int r, length;

	if (c->out.started)
		return -EALREADY;
	if (c->closing || c->lingering)
		return -EPIPE;
	c->out.started = 1;
	c->out.status = status;
	length = resp_framing(&c->out, status, c->is_head_req, minor, content_length);
	if (reason == NULL)
		reason = http_status_text(status);
	sbuf_add(&b, "HTTP/1.1 ", 9);
	sbuf_add_u64(&b, (uint64_t)status);
	sbuf_add(&b, " ", 1);
	sbuf_adds(&b, reason);
	sbuf_add(&b, "\r\n", 2);
	for (size_t i = 0; i < n; i++) {
		if (hdr_is(h[i].name, "content-length") || hdr_is(h[i].name, "transfer-encoding") ||
		    hdr_is(h[i].name, "connection"))
			continue;
		if (hsts != NULL && hdr_is(h[i].name, "strict-transport-security"))
			hsts = NULL; /* the app's own */
		sbuf_adds(&b, h[i].name);
		sbuf_add(&b, ": ", 2);
		sbuf_adds(&b, h[i].value);
		sbuf_add(&b, "\r\n", 2);
	}
	if (hsts != NULL) {
		sbuf_adds(&b, "Strict-Transport-Security: ");
		sbuf_adds(&b, hsts);
		sbuf_add(&b, "\r\n", 2);
	}
	if (status == 101) {
		/* the tunnel: the responder passes Upgrade among h */
		sbuf_adds(&b, "Connection: upgrade\r\n");
	} else {
		if (c->close_after || (c->no_more && !c->req_msg_done) || c->out.close_delimited)
			c->keep_alive = 0;
		if (length) {
			sbuf_add(&b, "Content-Length: ", 16);
			sbuf_add_i64(&b, content_length);
			sbuf_add(&b, "\r\n", 2);
		} else if (c->out.chunked) {
			sbuf_adds(&b, "Transfer-Encoding: chunked\r\n");
		}
		if (!c->keep_alive || c->lp->stopping)
			sbuf_adds(&b, "Connection: close\r\n");
		else if (minor == 0)
			sbuf_adds(&b, "Connection: keep-alive\r\n");
	}
	sbuf_add(&b, "\r\n", 2);
	c->out.head_bytes = b.len;
	r = conn_write_str(c, b.p, b.len);
	sbuf_free(&b);
	return r;
}

unsigned
body_bufs(uv_buf_t b[3], char hdr[HTTP_CHUNK_HDR], const void *data, size_t len, int chunked)
{
	if (!chunked) {
		b[0] = uv_buf_init((char *)data, (unsigned)len);
		return 1;
	}
	snprintf(hdr, HTTP_CHUNK_HDR, "%zx\r\n", len);
	b[0] = uv_buf_init(hdr, (unsigned)strlen(hdr));
	b[1] = uv_buf_init((char *)data, (unsigned)len);
	b[2] = uv_buf_init("\r\n", 2);
	return 3;
}

int
conn_resp_body(proxy_conn *c, const void *data, size_t len)
{
	char hdr[HTTP_CHUNK_HDR];
	uv_buf_t bufs[3];

	if (!c->out.started || c->out.ended)
		return -EINVAL;
	if (len == 0)
		return 0;
	if (c->out.no_body)
		return 0;
	c->out.bytes += len;
	return conn_write(c, bufs, body_bufs(bufs, hdr, data, len, c->out.chunked));
}

int
conn_resp_end(proxy_conn *c)
{
	int r = 0;

	if (!c->out.started || c->out.ended)
		return -EINVAL;
	c->out.ended = 1;
	if (c->out.chunked && !c->out.no_body)
		r = conn_write_str(c, "0\r\n\r\n", 5);
	if (c->out.close_delimited)
		c->close_after = 1;
	c->resp_done = 1;
	if (!c->closing)
		conn_process(c);
	return r;
}

const char *
http_status_text(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 416: return "Range Not Satisfiable";
	case 417: return "Expectation Failed";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	case 507: return "Insufficient Storage";
	default: return "Unknown";
	}
}
