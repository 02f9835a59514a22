/* request.c — a client's request, parsed (llhttp, strict) and checked: the
 * limits of its line, head and body, the framing and Host rules; a request
 * that passes is routed (conn_route) from on_headers_complete.  An error
 * found here is answered and ends the connection (conn_parse_error).
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "proxy/proxy_int.h"
#include "proxy/tls_int.h"

const char *
conn_header(const proxy_conn *c, const char *name)
{
	for (size_t i = 0; i < c->head.nhdrs; i++)
		if (hdr_is(c->head.hdrs[i].name, name))
			return c->head.hdrs[i].value;
	return NULL;
}

/* The request as http.h shows it, over c's head arena (path and query
 * unset). */
void
conn_request_view(const proxy_conn *c, http_request *r)
{
	memset(r, 0, sizeof(*r));
	r->method = c->method;
	r->url = c->url;
	r->host = c->host;
	r->headers = c->head.hdrs;
	r->nheaders = c->head.nhdrs;
	r->http_major = c->parser.http_major;
	r->http_minor = c->parser.http_minor;
	r->content_length = c->req_clen;
	r->chunked = c->req_chunked;
	r->client_addr = conn_client_addr(c);
	r->secure = c->tls != NULL;
}

/* The client's address: the peer's, or for a request another node forwarded
 * (signed, route.c) the one that node names. */
const char *
conn_client_addr(const proxy_conn *c)
{
	const char *v = c->forwarded > 0 ? conn_header(c, "x-podium-client") : NULL;

	return v != NULL && v[0] != '\0' ? v : c->client_addr;
}

static int
reject(const char **msg, int status, const char *why)
{
	*msg = why;
	return status;
}

/* The rules a request head must pass beyond llhttp's (RFC 9112), in the order
 * they are checked: 0 with *host, its Host value (NULL: none), or the status
 * to answer with and *msg, why. */
int
request_head_check(const http_request *r, const char **host, const char **msg)
{
	const char *te = NULL;
	size_t nhost = 0;

	*host = NULL;
	for (size_t i = 0; i < r->nheaders; i++) {
		const http_header *h = &r->headers[i];

		if (h->name[0] == '\0') /* ": value", which llhttp 8.1 takes */
			return reject(msg, 400, "empty header field name");
		if (hdr_is(h->name, "host")) {
			*host = h->value;
			nhost++;
		} else if (te == NULL && hdr_is(h->name, "transfer-encoding")) {
			te = h->value;
		}
	}
	if (r->http_major != 1)
		return reject(msg, 505, "HTTP version not supported");
	if (r->http_minor == 1 && *host == NULL)
		return reject(msg, 400, "missing Host header");
	if (nhost > 1)
		return reject(msg, 400, "duplicate Host header");
	if (r->http_minor == 0 && te != NULL)
		return reject(msg, 400, "Transfer-Encoding on HTTP/1.0");
	/* llhttp refuses this only after on_headers_complete, once the request
	 * went to the app: a request's last coding must be chunked (RFC 9112 6.3) */
	if (te != NULL && !r->chunked)
		return reject(msg, 400, "Transfer-Encoding without chunked as the last coding");
	/* other codings before it ("gzip, chunked") would be lost on the way: the
	 * body is passed on de-chunked and re-chunked (nginx: 501 too) */
	if (te != NULL && !te_is_chunked(te))
		return reject(msg, 501, "unsupported Transfer-Encoding: only chunked");
	if (strcmp(r->method, "CONNECT") == 0)
		return reject(msg, 405, "CONNECT is not supported");
	if (r->url[0] != '/' && strcmp(r->url, "*") != 0)
		return reject(msg, 400, "absolute-form request target not supported");
	return 0;
}

/* An error found while parsing: answer it, then close; nothing after it is
 * parsed, so nothing after it can reach an app. */
void
conn_parse_error(proxy_conn *c, int status, const char *msg)
{
	c->no_more = 1;
	c->close_after = 1;
	c->keep_alive = 0;
	if (c->req_active && c->out.started) {
		/* the response already started: no clean way to tell the client */
		conn_abort(c);
		return;
	}
	if (c->req_active) {
		/* mid-body error: drop the in-flight request before answering */
		conn_responder_end(c, 0);
	}
	c->req_active = 1;
	c->req_msg_done = 1;
	conn_timer_set(c, CT_NONE, 0);
	conn_respond_error(c, status, msg, NULL, 0);
}

size_t
conn_parse(proxy_conn *c, const char *p, size_t n)
{
	llhttp_errno_t err;
	size_t used;
	const char *pos;

	c->parse_begin = p;
	c->parse_end = p + n;
	err = llhttp_execute(&c->parser, p, n);
	c->parse_paused = err == HPE_PAUSED;
	if (err == HPE_OK)
		return n;
	pos = llhttp_get_error_pos(&c->parser);
	used = pos != NULL && pos >= p && pos <= p + n ? (size_t)(pos - p) : n;
	if (err == HPE_PAUSED) {
		llhttp_resume(&c->parser);
		return used;
	}
	if (err == HPE_PAUSED_UPGRADE) {
		/* Bytes after the head belong to the tunnel (or are dropped when the
		 * app refuses the upgrade: the connection closes after that reply). */
		c->upgrade_pending = 1;
		c->no_more = 1;
		return used;
	}
	if (c->closing || c->no_more)
		return n;
	if (err == HPE_USER) {
		/* a callback already answered or chose the status */
		return n;
	}
	log_debug("proxy: %s: parse error %s (%s)", c->client_addr, llhttp_errno_name(err),
	    llhttp_get_error_reason(&c->parser));
	conn_parse_error(c, 400, "bad request");
	return n;
}

/* ---- llhttp callbacks (requests) ----------------------------------------- */

static int
on_message_begin(llhttp_t *p)
{
	proxy_conn *c = p->data;

	if (!c->head_started) {
		c->head_started = 1;
		c->t_start = uv_now(c->lp->loop);
		if (c->timer_kind != CT_HEAD)
			conn_timer_set(c, CT_HEAD, c->srv->cfg.header_timeout_ms);
	}
	return 0;
}

static int
fail(proxy_conn *c, int status, const char *msg)
{
	conn_parse_error(c, status, msg);
	return HPE_USER;
}

static int
on_url(llhttp_t *p, const char *at, size_t n)
{
	proxy_conn *c = p->data;

	if (c->head.url_len + n > c->srv->cfg.max_request_line)
		return fail(c, 414, "request line too long");
	if (c->head.url_len == 0)
		c->head.url_off = c->head.len;
	c->head.url_len += n;
	if (msg_head_append(&c->head, at, n) != 0)
		return fail(c, 414, "request line too long");
	return 0;
}

static int
on_url_complete(llhttp_t *p)
{
	proxy_conn *c = p->data;

	msg_head_nul(&c->head);
	return 0;
}

static size_t
head_header_bytes(const proxy_conn *c)
{
	return c->head.len - c->head.url_len;
}

static int
on_header_field(llhttp_t *p, const char *at, size_t n)
{
	proxy_conn *c = p->data;

	if (head_header_bytes(c) + n > c->srv->cfg.max_header_bytes)
		return fail(c, 431, "request headers too large");
	if (c->head.in_value || c->head.nfields == 0) {
		if (c->head.nfields >= c->head.maxfields)
			return fail(c, 431, "too many request header fields");
	}
	/* llhttp 8.1 lets "Name : value" through; RFC 9112 5.1 and nginx refuse
	 * whitespace between a field name and its colon. */
	if (memchr(at, ' ', n) != NULL || memchr(at, '\t', n) != NULL)
		return fail(c, 400, "whitespace in a header field name");
	if (head_span_field(&c->head, at, n) != 0)
		return fail(c, 431, "request headers too large");
	return 0;
}

static int
on_header_value(llhttp_t *p, const char *at, size_t n)
{
	proxy_conn *c = p->data;
	int r;

	if (head_header_bytes(c) + n > c->srv->cfg.max_header_bytes)
		return fail(c, 431, "request headers too large");
	/* llhttp 8.1 delivers an obs-fold continuation as a second value span in
	 * the same buffer; a span that merely continues across reads starts right
	 * where the previous buffer ended. */
	if (c->head.in_value && !c->value_at_end)
		return fail(c, 400, "obsolete header line folding");
	if (!c->head.in_value && n > 0) {
		/* a first span after a line break and blanks: the folded
		 * continuation of an empty value ("X-A:\r\n b"; an empty value
		 * comes as an empty span after its line break) */
		const char *q = at;

		while (q > c->parse_begin && (q[-1] == ' ' || q[-1] == '\t'))
			q--;
		if (q > c->parse_begin && q[-1] == '\n')
			return fail(c, 400, "obsolete header line folding");
	}
	c->value_at_end = at + n == c->parse_end;
	r = head_span_value(&c->head, at, n);
	if (r == -EPROTO)
		return fail(c, 400, "obsolete header line folding");
	if (r != 0)
		return fail(c, 431, "request headers too large");
	return 0;
}

static int
on_header_value_complete(llhttp_t *p)
{
	proxy_conn *c = p->data;

	head_value_complete(&c->head);
	return 0;
}

static int
on_header_field_complete(llhttp_t *p)
{
	proxy_conn *c = p->data;

	/* a new field resets the fold detector */
	c->head.value_done = 0;
	return 0;
}

static int
on_headers_complete(llhttp_t *p)
{
	proxy_conn *c = p->data;
	proxy_server *s = c->srv;
	const char *host, *expect, *msg;
	http_request r;
	int status, hub;

	head_complete(&c->head);
	conn_timer_set(c, CT_NONE, 0);
	c->req_active = 1;
	c->url = c->head.buf + c->head.url_off;
	c->method = llhttp_method_name((llhttp_method_t)llhttp_get_method(p));
	c->is_head_req = llhttp_get_method(p) == HTTP_HEAD;
	c->keep_alive = llhttp_should_keep_alive(p);
	c->req_chunked = (p->flags & F_CHUNKED) != 0;
	/* llhttp takes lengths up to 2^64-1: one past INT64_MAX would read as "no
	 * length" here while llhttp still counts body bytes (request smuggling) */
	if ((p->flags & F_CONTENT_LENGTH) && p->content_length > (uint64_t)INT64_MAX)
		return fail(c, 400, "invalid Content-Length");
	c->req_clen = (p->flags & F_CONTENT_LENGTH) ? (int64_t)p->content_length : -1;

	conn_request_view(c, &r);
	if ((status = request_head_check(&r, &host, &msg)) != 0)
		return fail(c, status, msg);
	c->raw_host = host;
	if (host != NULL) {
		char *h = proxy_host_normalize(host);

		if (h == NULL)
			return fail(c, 400, "invalid Host header");
		c->host = h; /* heap, freed by conn_request_reset */
	}
	hub = c->host != NULL && proxy_host_is_hub(s, c->host);
	if (hub && c->lp->index != 0 && !tls_http_intercepts(c)) {
		/* hub handlers run on the main loop only: the connection moves
		 * there and the request is parsed again */
		c->migrate = 1;
		return HPE_PAUSED;
	}
	c->body_limit = hub ? s->cfg.max_hub_body_bytes : s->cfg.max_body_bytes;
	if (c->req_clen > 0 && (uint64_t)c->req_clen > c->body_limit)
		return fail(c, 413, "request body too large");
	expect = conn_header(c, "expect");
	if (expect != NULL) {
		if (strcasecmp(expect, "100-continue") != 0)
			return fail(c, 417, "unsupported Expect");
		/* We read the body ourselves, so the client may send it now. */
		if (p->http_minor == 1 && (c->req_clen > 0 || c->req_chunked))
			conn_write_str(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	}
	c->t_start = c->t_start != 0 ? c->t_start : uv_now(c->lp->loop);
	conn_route(c);
	if (c->closing)
		return HPE_USER;
	conn_body_expect(c);
	if (c->no_more)
		return HPE_PAUSED;
	if (c->body_paused)
		return HPE_PAUSED;
	return 0;
}

static int
on_body(llhttp_t *p, const char *at, size_t n)
{
	proxy_conn *c = p->data;

	if (n == 0) /* the empty span of a zero-length resume: nothing to pass on */
		return c->body_paused || c->no_more ? HPE_PAUSED : 0;

	if (c->no_more)
		return HPE_PAUSED;
	c->body_received += n;
	c->body_seen = uv_now(c->lp->loop);
	if (c->body_received > c->body_limit)
		return fail(c, 413, "request body too large");
	if (c->ops != NULL && c->ops->on_body != NULL)
		c->ops->on_body(c, at, n);
	/* else: answered on the spot; the body is dropped */
	if (c->closing)
		return HPE_USER;
	return c->body_paused || c->no_more ? HPE_PAUSED : 0;
}

static int
on_message_complete(llhttp_t *p)
{
	proxy_conn *c = p->data;

	if (c->no_more && c->req_msg_done)
		return HPE_PAUSED;
	c->req_msg_done = 1;
	if (c->timer_kind == CT_BODY)
		conn_timer_set(c, CT_NONE, 0);
	if (c->ops != NULL && c->ops->on_body_end != NULL)
		c->ops->on_body_end(c);
	if (c->closing)
		return HPE_USER;
	/* Stop right after this message: a pipelined request waits until the
	 * response is done. An upgrade stops by itself (HPE_PAUSED_UPGRADE). */
	if (llhttp_get_upgrade(p))
		return 0;
	return HPE_PAUSED;
}

static const llhttp_settings_t req_settings = {
	.on_message_begin = on_message_begin,
	.on_url = on_url,
	.on_url_complete = on_url_complete,
	.on_header_field = on_header_field,
	.on_header_field_complete = on_header_field_complete,
	.on_header_value = on_header_value,
	.on_header_value_complete = on_header_value_complete,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

void
request_parser_init(proxy_conn *c)
{
	llhttp_init(&c->parser, HTTP_REQUEST, &req_settings);
	c->parser.data = c;
}
