/* upstream_int.h — what the files of the upstream responder share (upstream.c:
 * the proxied request and its response; upstream_conn.c: the connections to
 * apps and their keep-alive pools).  Only upstream*.c include it.
 */
#ifndef PODIUM_UPSTREAM_INT_H
#define PODIUM_UPSTREAM_INT_H

#include "proxy/proxy_int.h"


enum up_timer { UT_NONE, UT_CONNECT, UT_RESPONSE, UT_READ, UT_IDLE, UT_TUNNEL, UT_FAIL };

struct upstream_pool {
	upstream_pool *next;
	proxy_loop *lp;
	uint64_t instance_id;
	upstream_conn *idle;
	unsigned nidle;
	unsigned refs;
};

struct upstream_conn {
	uv_tcp_t tcp;
	pio_defer *defer;          /* a write held for this loop turn's batch */
	deadline timer;
	uv_connect_t creq;
	proxy_loop *lp;
	upstream_pool *pool;
	proxy_conn *c;             /* NULL while idle in the pool or orphaned */
	upstream_conn *inext, *iprev;
	llhttp_t parser;
	msg_head head;
	char *space_id;
	struct space_stats *stats;  /* the space's counters */
	route_exchanges *exchanges; /* the instance's open exchanges, or NULL */
	char *req_head;            /* kept for one retry until the response starts */
	size_t req_head_len;
	int handles;
	int closing;
	int connecting;
	int idle;
	int reused;
	int retried;
	int reading;
	int read_paused;           /* stopped for the client's write queue */
	int client_paused;         /* we paused the client's body for our queue */
	int got_bytes;
	int resp_started;
	int resp_complete;
	int req_sent;              /* request fully written (body ended) */
	int upgrade_req;
	int tunnel_pending;
	int tunnel;
	int skip_1xx;
	int is_head;
	int parse_fail;
	int timer_kind;
	uint64_t t_start;
	unsigned response_ms;      /* the wait for a response head */
};

/* upstream_conn.c: one connection to an app */
/* A connection to t's app: from nothing (socket in its network namespace,
 * connect started); NULL and *err on failure. */
upstream_conn *up_new(proxy_loop *lp, const route_target *t, int *err);
upstream_conn *upstream_pool_take(proxy_loop *lp, uint64_t instance_id); /* NULL: none idle */
void upstream_pool_put(upstream_conn *up); /* kept idle, or closed when the pool is full */
void up_close(upstream_conn *up);          /* freed in its close callback */
void up_detach(upstream_conn *up);         /* from its client: the request is over for us */
void up_reading(upstream_conn *up, int want);
/* Writes to the app; a failure is reported from the loop (UT_FAIL), not here. */
int up_write(upstream_conn *up, const uv_buf_t *b, unsigned n);
size_t up_queued(upstream_conn *up);
void up_timer_set(upstream_conn *up, int kind, unsigned ms);

/* upstream.c: the exchange over it */
/* Pure helpers, unit tested: the request head the app gets, the response
 * fields the client gets (both described where they are defined). */
char *upstream_request_head(const http_request *r, int strip_auth, int upgrade, size_t *len);
int upstream_response_fields(int status, const http_header *in, size_t n, http_header *out);
void up_read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);
/* Starts the exchange of c's request with its target (a pooled connection or a
 * fresh one); head (the request's head as the target gets it) is the
 * exchange's to free. A failure to connect answers c (502). */
void upstream_start(proxy_conn *c, char *head, size_t len);
/* An error before the client got a response head becomes an error page;
 * after it, the client's connection is cut. */
void up_fail(upstream_conn *up, int status, const char *msg);

#endif
