/* http.h — one HTTP request/response exchange on a client connection, as seen by the
 * hub handlers (web/, builder/). The proxy owns client connections: it parses requests
 * with llhttp, routes space hosts itself, and hands every hub-host request to the hub
 * handler given to proxy_server_start(). The handler answers through this API.
 *
 * Lifetime: an http_exchange is valid from the hub handler call until either
 *   - http_response_end() has been called AND the request body has ended (on_end) or
 *     no body callbacks were set, or
 *   - on_abort was called (client gone, parse error, timeout). After on_abort returns
 *     the exchange must not be touched.
 * Callbacks are never called after http_response_end() except on_end/on_abort of a
 * body that is still being read.
 *
 * Request body: if the handler sets body callbacks (synchronously, inside the hub
 * handler call) the body is streamed to on_data as it arrives (already de-chunked),
 * then on_end. Without body callbacks the body is read and discarded. If the
 * response ends before the body was read, the rest is discarded, or the connection
 * closed when too much is left.
 *
 * Back-pressure: http_exchange_pause()/resume() stop/restart reading the request body.
 * http_response_queued() tells how many response bytes wait in the write queue;
 * on_drain fires when that queue has been fully written to the socket.
 */
#ifndef PODIUM_HTTP_H
#define PODIUM_HTTP_H

#include <stddef.h>
#include <stdint.h>

typedef struct http_header {
	const char *name;
	const char *value;
} http_header;

typedef struct http_request {
	const char *method;        /* "GET", "POST", ... */
	const char *url;           /* raw request target, e.g. "/api/spaces?x=1" */
	const char *path;          /* url up to '?', not decoded */
	const char *query;         /* after '?', or "" */
	const char *host;          /* Host header, lowercased, port stripped */
	const http_header *headers;
	size_t nheaders;
	int http_major, http_minor;
	int64_t content_length;    /* -1 when absent */
	int chunked;               /* Transfer-Encoding: chunked */
	const char *client_addr;   /* peer IP as text */
	int secure;                /* it came over TLS (https://) */
} http_request;

typedef struct http_exchange http_exchange;

typedef struct http_body_cb {
	void (*on_data)(void *arg, const char *data, size_t len);
	void (*on_end)(void *arg);
	void (*on_abort)(void *arg);
	void (*on_drain)(void *arg); /* optional */
	void *arg;
} http_body_cb;

/* Hub handler: called once per hub-host request after its head is parsed. */
typedef void (*http_hub_handler)(http_exchange *x, void *arg);

const http_request *http_exchange_request(const http_exchange *x);
/* First header with that name (case-insensitive), or NULL. */
const char *http_request_header(const http_request *r, const char *name);

void http_exchange_set_body_cb(http_exchange *x, const http_body_cb *cb);
void http_exchange_pause(http_exchange *x);
void http_exchange_resume(http_exchange *x);

/* Streaming response. content_length -1: chunked (HTTP/1.1) or close-delimited (1.0).
 * Framing headers (Content-Length, Transfer-Encoding, Connection) are added by the
 * server; do not pass them. Returns 0 or -errno (e.g. -EPIPE when the client is gone). */
int http_response_start(http_exchange *x, int status, const http_header *hdrs, size_t nhdrs,
    int64_t content_length);
int http_response_write(http_exchange *x, const void *data, size_t len);
size_t http_response_queued(const http_exchange *x);
int http_response_end(http_exchange *x);

/* Whole response in one call (start + write + end). */
int http_respond(http_exchange *x, int status, const char *content_type,
    const http_header *extra, size_t nextra, const void *body, size_t len);
/* Error page: HTML when the client accepts text/html, else JSON {"error": message}. */
int http_respond_error(http_exchange *x, int status, const char *message);
/* The same with extra headers (Allow on a 405). */
int http_respond_error_with(http_exchange *x, int status, const char *message,
    const http_header *extra, size_t nextra);

const char *http_status_text(int status);

#endif
