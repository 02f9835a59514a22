/* hub.c — the http_exchange API (http.h): hub-host requests handed to the hub
 * handler (web/, builder/) on the main loop.
 *
 * An exchange is owned by its connection while the client is there. When the
 * client goes away early the exchange is detached: with body callbacks its
 * on_abort is called and it is freed; without them it stays (every call
 * returning -EPIPE) until the handler calls http_response_end().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proxy/proxy_int.h"
#include "common/util.h"

/* The responder's state (conn_ops: c->resp). */
struct http_exchange {
	proxy_conn *c;             /* NULL once the client is gone */
	msg_head head;             /* owned once the client is gone (moved from the conn) */
	char *host;                /* likewise */
	http_request req;
	http_body_cb cb;
	int has_cb;
	int paused;
	int body_done;
	int resp_ended;
	char client_addr[64];
};

static void
exchange_free(http_exchange *x)
{
	msg_head_release(&x->head);
	free(x->host);
	free((char *)x->req.path);
	free(x);
}

/* The response is over but nobody wants the rest of the request body: it is read
 * and dropped, unless it is big or of unknown size, then the connection closes. */
static void
exchange_drop_body(proxy_conn *c, const http_exchange *x)
{
	int64_t left;

	if (c->req_msg_done || x->has_cb)
		return;
	left = c->req_chunked ? -1 : c->req_clen > 0 ? c->req_clen - (int64_t)c->body_received : 0;
	if (left < 0 || left > 1024 * 1024) {
		c->close_after = 1;
		c->no_more = 1;
		c->req_msg_done = 1;
	}
}

static void
hub_on_body(proxy_conn *c, const char *p, size_t n)
{
	http_exchange *x = c->resp;

	if (x->has_cb && x->cb.on_data != NULL)
		x->cb.on_data(x->cb.arg, p, n);
}

static void
hub_on_body_end(proxy_conn *c)
{
	http_exchange *x = c->resp;

	x->body_done = 1;
	if (x->has_cb && x->cb.on_end != NULL)
		x->cb.on_end(x->cb.arg);
}

static void
hub_drained(proxy_conn *c, size_t queued)
{
	http_exchange *x = c->resp;

	if (queued == 0 && x->has_cb && !x->resp_ended && x->cb.on_drain != NULL)
		x->cb.on_drain(x->cb.arg);
}

/* The request is complete both ways: the handler is done with x. */
static void
hub_done(proxy_conn *c)
{
	http_exchange *x = c->resp;

	x->c = NULL;
	exchange_free(x);
}

/* The request is cut (client gone, parse error, timeout) before the
 * exchange ended. */
static void
hub_abort(proxy_conn *c)
{
	http_exchange *x = c->resp;

	x->c = NULL;
	if (x->has_cb && !(x->resp_ended && x->body_done)) {
		/* the request strings are still the connection's during on_abort */
		if (x->cb.on_abort != NULL)
			x->cb.on_abort(x->cb.arg);
		exchange_free(x);
		return;
	}
	if (x->resp_ended) {
		exchange_free(x);
		return;
	}
	/* Orphaned until http_response_end(): the request strings must outlive
	 * the connection, which keeps copies of what its access line prints. */
	x->head = c->head;
	memset(&c->head, 0, sizeof(c->head));
	x->host = c->host;
	c->host = c->host != NULL ? xstrdup(c->host) : NULL;
	if (c->url != NULL)
		c->url = c->url_own = xstrdup(c->url);
}

static const conn_ops hub_ops = {
	.on_body = hub_on_body,
	.on_body_end = hub_on_body_end,
	.drained = hub_drained,
	.done = hub_done,
	.abort = hub_abort,
};

void
hub_dispatch(proxy_conn *c)
{
	http_exchange *x = xcalloc(1, sizeof(*x));
	const char *q = strchr(c->url, '?');

	x->c = c;
	conn_responder_set(c, &hub_ops, x);
	conn_request_view(c, &x->req);
	x->req.path = q != NULL ? xstrndup(c->url, (size_t)(q - c->url)) : xstrdup(c->url);
	x->req.query = q != NULL ? q + 1 : "";
	snprintf(x->client_addr, sizeof(x->client_addr), "%s", conn_client_addr(c));
	x->req.client_addr = x->client_addr;
	c->srv->hub(x, c->srv->hub_arg);
}

const http_request *
http_exchange_request(const http_exchange *x)
{
	return &x->req;
}

const char *
http_request_header(const http_request *r, const char *name)
{
	for (size_t i = 0; i < r->nheaders; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

void
http_exchange_set_body_cb(http_exchange *x, const http_body_cb *cb)
{
	x->cb = *cb;
	x->has_cb = 1;
}

void
http_exchange_pause(http_exchange *x)
{
	x->paused = 1;
	if (x->c != NULL && !x->c->req_msg_done)
		x->c->body_paused = 1;
}

void
http_exchange_resume(http_exchange *x)
{
	x->paused = 0;
	if (x->c != NULL)
		conn_request_body_resume(x->c);
}

int
http_response_start(http_exchange *x, int status, const http_header *hdrs, size_t nhdrs,
    int64_t content_length)
{
	if (x->c == NULL)
		return -EPIPE;
	return conn_resp_start(x->c, status, NULL, hdrs, nhdrs, content_length);
}

int
http_response_write(http_exchange *x, const void *data, size_t len)
{
	if (x->c == NULL)
		return -EPIPE;
	return conn_resp_body(x->c, data, len);
}

size_t
http_response_queued(const http_exchange *x)
{
	return x->c != NULL ? conn_queued(x->c) : 0;
}

int
http_response_end(http_exchange *x)
{
	proxy_conn *c = x->c;

	if (x->resp_ended)
		return -EALREADY;
	x->resp_ended = 1;
	if (c == NULL) {
		exchange_free(x);
		return -EPIPE;
	}
	exchange_drop_body(c, x);
	/* may finish the request and free x: do not touch x after this */
	return conn_resp_end(c);
}

int
http_respond(http_exchange *x, int status, const char *content_type,
    const http_header *extra, size_t nextra, const void *body, size_t len)
{
	int r;

	if (x->c == NULL) {
		http_response_end(x);
		return -EPIPE;
	}
	r = conn_respond_head_body(x->c, status, content_type, extra, nextra, body, len);
	http_response_end(x);
	return r;
}

int
http_respond_error(http_exchange *x, int status, const char *message)
{
	return http_respond_error_with(x, status, message, NULL, 0);
}

int
http_respond_error_with(http_exchange *x, int status, const char *message,
    const http_header *extra, size_t nextra)
{
	proxy_conn *c = x->c;

	if (c == NULL) {
		http_response_end(x);
		return -EPIPE;
	}
	if (c->out.started)
		return -EALREADY;
	x->resp_ended = 1;
	exchange_drop_body(c, x);
	return conn_respond_error(c, status, message, extra, nextra);
}
