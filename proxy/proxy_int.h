/* proxy_int.h — types shared by the proxy's files (not part of the public API).
 *
 * One client connection (proxy_conn, conn.c) carries one request at a time:
 *   accept → parse head (request.c, llhttp) → route (route.c) → a responder
 *     (conn_ops: hub exchange hub.c, app upstream*.c, static files static.c,
 *     a sleeping app's wait hold.c) or an answer on the spot (errors.c)
 *   → response written through http_out.c (sent by pio.c, a loop turn's small
 *     writes together) → reuse (keep-alive) or close.
 * Pipelined bytes wait in conn->inbuf until the current response is done, so
 * responses go out in request order.
 *
 * Memory: a handle's struct is freed only in its close callback. Request heads
 * live in a msg_head arena that is freed when the request is done (or handed
 * to the hub exchange, which then owns it).
 */
#ifndef PODIUM_PROXY_INT_H
#define PODIUM_PROXY_INT_H

#include <llhttp.h>
#include <stdatomic.h>
#include <stdint.h>
#include <strings.h>
#include <uv.h>

#include "proxy/http.h"
#include "common/log.h"
#include "proxy/proxy.h"
#include "proxy/routes.h"

#define PROXY_READ_BUF  (64 * 1024)
/* Back-pressure: stop reading one side when the other side's write queue is
 * above HWM, resume when it drained below LWM. */
#define PROXY_HWM       (256 * 1024)
#define PROXY_LWM       (64 * 1024)
/* Pipelined bytes buffered while a response is in progress. */
#define PROXY_INBUF_MAX (64 * 1024)

/* A timeout whose moves later cost nothing (deadline.c).  The timer is the
 * first member; its data is the owner. */
typedef struct deadline {
	uv_timer_t timer;
	uv_timer_cb expired;       /* called with &timer once due */
	uint64_t due;              /* loop time it passes; 0: none */
	uint64_t armed;            /* loop time the timer fires; 0: stopped */
} deadline;

void deadline_init(uv_loop_t *loop, deadline *d, uv_timer_cb expired, void *owner);
void deadline_set(deadline *d, uint64_t ms);
void deadline_clear(deadline *d);
void deadline_close(deadline *d, uv_close_cb cb);

/* Header name equality, ASCII case-insensitive, lit in lower case.  The
 * first-letter test spares most strcasecmp calls on the per-request path. */
static inline int
hdr_is(const char *name, const char *lit)
{
	return (name[0] | 0x20) == lit[0] && strcasecmp(name, lit) == 0;
}

/* The cluster's own fields (X-Podium-*): never taken from a client, never
 * passed to an app (routes.h). */
static inline int
header_is_cluster(const char *name)
{
	return (name[0] | 0x20) == 'x' && strncasecmp(name, "x-podium-", 9) == 0;
}

#define PROXY_MAX_LOOPS 8   /* loops (threads) of one server at the most */

/* A growing string that starts in the caller's buffer (http_out.c). */
typedef struct sbuf {
	char *p;
	size_t len, cap;
	char *stack;           /* the caller's buffer */
} sbuf;
#define SBUF_ON(buf) { (buf), 0, sizeof(buf), (buf) }

void sbuf_add(sbuf *b, const char *s, size_t n);
void sbuf_adds(sbuf *b, const char *s);
void sbuf_add_u64(sbuf *b, uint64_t v); /* decimal, without printf on the per-request path */
void sbuf_add_i64(sbuf *b, int64_t v);
char *sbuf_detach(sbuf *b); /* the string, on the heap: the caller frees it */
void sbuf_field(sbuf *b, const char *name, const char *value); /* "name: value\r\n" */
void sbuf_free(sbuf *b);

typedef struct proxy_conn proxy_conn;
typedef struct pio_defer pio_defer;
typedef struct pio_batch pio_batch;
typedef struct upstream_conn upstream_conn;
typedef struct upstream_pool upstream_pool;

/* An HTTP message head being collected from llhttp spans. Offsets, not
 * pointers, while the arena grows; pointers are built once complete. */
typedef struct msg_head {
	char *buf;
	size_t len, cap, limit;
	size_t url_off, url_len;
	struct { uint32_t name, value; } *fields;
	size_t nfields, maxfields, fields_cap;
	int in_value;          /* last span was a header value */
	int value_done;        /* on_header_value_complete seen since last field */
	http_header *hdrs;     /* built by msg_head_finish */
	size_t nhdrs, hdrs_cap;
	int complete;          /* head_complete done: fields now are trailers */
	size_t trailer_bytes;  /* counted against limit, never stored */
} msg_head;

int msg_head_init(msg_head *h, size_t limit, size_t maxfields);
void msg_head_release(msg_head *h);
void msg_head_cache_drain(void); /* frees this thread's kept arenas */
/* Appends a span; -E2BIG past the limit. */
int msg_head_append(msg_head *h, const char *p, size_t n);
int msg_head_nul(msg_head *h);  /* terminates the current string */
/* NUL-terminates and builds hdrs; 0 or -ENOMEM. */
int msg_head_finish(msg_head *h);
/* Span callbacks shared by the request and response parsers.  Fields after
 * head_complete are a chunked body's trailers: counted against the limit
 * (-E2BIG), checked like header lines, not stored (not passed on) -- the
 * head's strings stay where they are. */
int head_span_field(msg_head *h, const char *p, size_t n);
int head_span_value(msg_head *h, const char *p, size_t n); /* -EPROTO: obs-fold */
int head_value_complete(msg_head *h);
int head_complete(msg_head *h);

/* One event loop's share of the server: its listener (SO_REUSEPORT on the
 * shared address when there are several loops), its client connections and
 * its upstream keep-alive pools. Touched only from its own thread. Loop 0 is
 * the caller's loop: the only one that runs hub handlers. */
/* One listening socket of a loop: plain HTTP, or TLS (its clients get a
 * tls_conn, tls_int.h). */
typedef struct proxy_listener {
	uv_tcp_t tcp;
	struct proxy_loop *lp;
	int tls;
	int open;                  /* open, or its close is pending */
	int paused;                /* out of descriptors: closed for a moment */
	int spare;                 /* the listening socket again, to reopen after a pause */
	uv_timer_t *timer;         /* ends a pause; its own allocation */
} proxy_listener;

typedef struct proxy_loop {
	proxy_server *srv;
	uv_loop_t *loop;
	uv_loop_t own_loop;        /* worker loops */
	unsigned index;
	uv_thread_t thread;
	proxy_listener lis[2];     /* [0] HTTP, [1] HTTPS when configured */
	unsigned nlis;
	uv_async_t wake;           /* main: migrants, workers done; worker: stop */
	uint64_t emfile_logged_ms;
	struct tls_loop *tls;      /* the TLS layer's buffers (tls_conn.c); NULL: no HTTPS */
	int wake_open;
	int stopping;
	unsigned nconns;
	proxy_conn *conns;         /* all client connections of this loop */
	upstream_pool *pools;      /* upstream keep-alive pools, by instance */
	unsigned nupstreams;       /* live upstream handles */
	proxy_conn *cork_owner;    /* writes to it are gathered into corkbuf */
	char *corkbuf;
	size_t cork_len, cork_cap;
	struct log_batch access_log; /* this loop's access lines, written */
	uv_check_t *log_flush;     /* once per iteration; NULL once stopping */
	pio_batch *pio;            /* batched sends (pio.c); NULL: plain writes */
	/* called by pio.c before each batch goes out (TLS seals the turn's
	 * plaintext into records, tls_conn.c); NULL: none */
	void (*before_send)(struct proxy_loop *lp);
	_Atomic uint64_t send_batches, batched_sends; /* read by any thread */
	char readbuf[PROXY_READ_BUF];
	char filebuf[PROXY_READ_BUF];
} proxy_loop;

/* A client connection on its way from a worker loop to the main loop: the
 * socket and the bytes the worker read but did not answer (the request head,
 * re-serialized, then whatever followed it). */
/* Descriptors kept free when accepting: a client that would leave fewer gets a
 * 503 instead of the daemon running out (upstream connects, builds, apps). */
#define PROXY_FD_MARGIN 16

typedef struct proxy_migrant {
	struct proxy_migrant *next;
	int fd;
	struct tls_conn *tls;      /* its TLS state, which goes along */
	char *data;
	size_t len;
	char client_addr[64];
} proxy_migrant;

struct proxy_server {
	proxy_config cfg;
	char *domain;
	char *app_domain;
	http_hub_handler hub;
	void *hub_arg;
	unsigned nloops;
	proxy_loop **loops;        /* [0] is the main loop */
	atomic_uint nconns;        /* all loops, for max_connections */
	int fd_limit;              /* RLIMIT_NOFILE at start: a client past fd_limit -
	                            * PROXY_FD_MARGIN is refused (conn.c) */
	int port;
	int https_port;
	/* lock guards the fields below it; the main thread alone reads stopping */
	uv_mutex_t lock;
	/* descriptors kept to turn clients away when out of them, one per loop, shared:
	 * a loop whose own was taken by another thread uses one still kept (loops.c) */
	int reserves[PROXY_MAX_LOOPS];
	unsigned nreserves;
	proxy_migrant *migrants, **migrants_tail;
	unsigned workers_done;
	int stopping;              /* 1 stopping, 2 done */
	void (*stop_cb)(void *);
	void *stop_arg;
};

/* Response being written to the client. */
typedef struct resp_out {
	int started, ended;
	int status;
	int chunked;               /* chunk-encode body bytes */
	int no_body;               /* HEAD, 1xx, 204, 304 */
	int close_delimited;       /* HTTP/1.0 without length: close ends it */
	uint64_t bytes;            /* body bytes written */
	uint64_t head_bytes;
} resp_out;

/* ---- responders: what answers a request -----------------------------------
 *
 * The core (conn.c, request.c, http_out.c) drives a request through its
 * responder's conn_ops and never asks which responder it is, as h2o drives a
 * response through its generator's proceed/stop and nginx through
 * r->write_event_handler.  A new kind of responder (TLS, HTTP/2, a cluster
 * forwarder) is one file with one table, started from route.c.
 *
 * Who sets it: the responder, with conn_responder_set(c, &its_ops, state),
 * when route.c hands it the request (hub_dispatch, upstream_dispatch,
 * static_serve, hold_start); and with (NULL, NULL) when it lets go of the
 * request before the request's end (the app answered or failed; a held
 * request is routed anew).  A request answered on the spot (an error page, a
 * redirect) has none: its body, if any, is read and dropped.
 *
 * Ownership: c->resp, the responder's state, is the responder's: it frees it
 * in done or abort, or before it lets go.  After done or abort the core
 * clears c->ops and c->resp; an op never sets another responder.
 *
 * The calls, on the connection's loop; a NULL op is nothing to do:
 *   on_body(c, p, n)   request body bytes, de-chunked; p lives for the call.
 *                      Setting c->body_paused stops the flow until
 *                      conn_request_body_resume().
 *   on_body_end(c)     the request message is complete.
 *   drained(c, queued) a write to the client completed and left queued
 *                      (<= PROXY_LWM) bytes in its queue: time for more.
 *   on_timer(c)        the connection's timer, armed by the responder with
 *                      conn_timer_set(c, CT_RESPONDER, ms), fired.
 *   tunnel_data(c, p, n), tunnel_eof(c, reset)
 *                      after the responder set c->tunnel (a 101): what the
 *                      client sent, and its end (reset: an error, not a FIN).
 *                      Without them a tunnel's client bytes abort it.  The
 *                      responder stops the client's side with
 *                      c->tunnel_paused and conn_update_reading().
 *   done(c)            the request is complete both ways (response ended,
 *                      body read); keep-alive or shutdown follows.
 *   abort(c)           the request ends early: the client is gone, a parse
 *                      error or a timeout cut it, the connection closes.
 * Exactly one of done and abort is called for a responder still set when its
 * request ends.
 */
typedef struct conn_ops {
	void (*on_body)(proxy_conn *c, const char *p, size_t n);
	void (*on_body_end)(proxy_conn *c);
	void (*drained)(proxy_conn *c, size_t queued);
	void (*on_timer)(proxy_conn *c);
	void (*tunnel_data)(proxy_conn *c, const char *p, size_t n);
	void (*tunnel_eof)(proxy_conn *c, int reset);
	void (*done)(proxy_conn *c);
	void (*abort)(proxy_conn *c);
} conn_ops;

/* CT_RESPONDER: the responder's own wait (conn_ops.on_timer). */
enum conn_timer { CT_NONE, CT_HEAD, CT_BODY, CT_IDLE, CT_LINGER, CT_ABORT, CT_RESPONDER };

struct proxy_conn {
	uv_tcp_t tcp;
	pio_defer *defer;          /* a write held for this loop turn's batch */
	struct tls_conn *tls;      /* TLS under this connection (tls_int.h); NULL: plain */
	deadline timer;
	proxy_server *srv;
	proxy_loop *lp;            /* the loop this connection lives on */
	proxy_conn *prev, *next;
	llhttp_t parser;
	int handles;               /* open handles; freed when 0 after close */
	int closing;
	int lingering;             /* shut down, draining input before close */
	int close_after;           /* close once the response is flushed */
	int no_more;               /* parse nothing more on this connection */
	int reading;
	int in_process, reprocess;
	int parse_paused;          /* llhttp paused with callbacks still due */
	int timer_kind;
	uint64_t timer_due;        /* when timer_kind is due (0: none) */
	uint64_t send_since;       /* response bytes queued and none taken since (0: none) */
	int out_full;              /* pipelined requests wait: the write queue is full */
	int tunnel;                /* raw byte tunnel through the responder */
	int tunnel_paused;         /* client reading stopped for tunnel back-pressure */
	int upgrade_pending;       /* llhttp returned HPE_PAUSED_UPGRADE */
	int read_eof;
	int write_error;           /* a write failed: closed on the next loop turn */
	int migrate;               /* hub request on a worker: moves to the main loop */
	int migrated;              /* socket handed over; this copy only closes */
	/* unparsed input */
	char *inbuf;
	size_t inlen, inoff, incap;
	const char *ext;           /* read buffer being parsed in place */
	const char *parse_begin, *parse_end; /* the buffer llhttp is executing */
	int value_at_end;          /* last header value span ended the buffer */
	size_t extlen;
	/* current request */
	msg_head head;
	int head_started;
	int req_active;
	int req_msg_done;
	int resp_done;
	int body_paused;
	int is_head_req;
	int strip_auth;            /* Authorization held a podium token: not for the app */
	int forwarded;             /* hops of a request another node forwarded (signed), 0: none */
	int keep_alive;
	int req_chunked;
	int64_t req_clen;
	uint64_t body_received, body_limit;
	uint64_t body_seen;        /* loop time of the last body bytes */
	const char *method;
	char *host;                /* lowercased, port stripped (in head arena) */
	const char *raw_host;
	const char *url;
	char *url_own;         /* url copied when the head went to an orphaned hub exchange */
	uint64_t t_start;
	int64_t upstream_ms;
	route_target *target;
	struct space_stats *stats;  /* counters of the last space served here */
	const conn_ops *ops;        /* the request's responder; NULL: none (see above) */
	void *resp;                 /* its state, which it frees */
	resp_out out;
	char client_addr[64];
};

/* conn.c: a connection's life */
void conn_accept(proxy_loop *lp, proxy_listener *listener);
/* What the socket read (n bytes at p; n < 0 a libuv error or EOF), or for a
 * TLS connection the plaintext its layer decrypted. */
void conn_input(proxy_conn *c, ssize_t n, const char *p);
/* Whether the connection takes input now (else the socket is not read). */
int conn_reading_wanted(const proxy_conn *c);
void conn_adopt(proxy_loop *lp, proxy_migrant *m);
void conn_close_idle(proxy_loop *lp);
void conn_migrate_ready(proxy_conn *c);
void conn_process(proxy_conn *c);
void conn_abort(proxy_conn *c);
/* The write queue changed: bytes queued (or taken: progress) start the send
 * timeout again; an empty queue stops it.  Whatever else the connection
 * waits for, a client that takes none of what is queued for the send
 * timeout is cut. */
void conn_send_progress(proxy_conn *c);
void conn_fail_later(proxy_conn *c);
/* The connection's one timer: kind (enum conn_timer) is due in ms. */
void conn_timer_set(proxy_conn *c, int kind, unsigned ms);
void conn_shutdown(proxy_conn *c);     /* flush, FIN, linger, close */
void conn_update_reading(proxy_conn *c);
void conn_request_body_resume(proxy_conn *c);
void conn_body_expect(proxy_conn *c); /* its body is to come: the body timer runs */
/* The request's responder (conn_ops above): ops NULL lets go of it. */
void conn_responder_set(proxy_conn *c, const conn_ops *ops, void *resp);
/* The request ends (done 1: complete; 0: cut): done or abort, then cleared. */
void conn_responder_end(proxy_conn *c, int done);

/* request.c: parsing and checking a request */
void request_parser_init(proxy_conn *c);
/* Runs llhttp over p; returns the bytes it used. */
size_t conn_parse(proxy_conn *c, const char *p, size_t n);
/* An error found while parsing: answered (status, msg), then the connection ends. */
void conn_parse_error(proxy_conn *c, int status, const char *msg);
const char *conn_header(const proxy_conn *c, const char *name); /* name in lower case */
void conn_request_view(const proxy_conn *c, http_request *r);
const char *conn_client_addr(const proxy_conn *c);
/* Pure, unit tested: the framing and Host rules a head must pass; 0 and *host,
 * or the status to answer and *msg. */
int request_head_check(const http_request *r, const char **host, const char **msg);
void tcp_quickack(uv_tcp_t *t); /* http_out.c: ACK now, a message is incomplete */

/* route.c */
char *proxy_host_normalize(const char *raw); /* lowercased, port stripped; NULL: invalid */
int proxy_host_is_hub(const proxy_server *s, const char *host);
/* Hands the request to its responder (below), or answers it (404, 503, ...). */
void conn_route(proxy_conn *c);
/* The space subdomain the request's Host names: 0, or -1 when it names none. */
int conn_subdomain(const proxy_conn *c, char *sub, size_t len);
/* Pure, unit tested: the subdomain of the space a hub path is about. */
int hub_path_subdomain(const char *url, char *sub, size_t len);
/* Pure, unit tested (described where defined): Host matching, the app
 * host's ticket cookie, a URL without its ticket. */
int host_is_hub(const char *domain, const char *host);
int host_subdomain(const char *app_domain, const char *host, char *sub, size_t len);
int ticket_cookie_check(const char *cookies, const char *sub, const route_target *t);
char *url_without_param(const char *url, const char *name, const char **value, size_t *vlen);

/* The responders: route.c starts one, which sets its conn_ops on c. */
void hub_dispatch(proxy_conn *c);      /* hub.c: the hub handler (http.h) */
/* forward.c: to the node that owns the space (c->target is ROUTE_REMOTE), hub
 * or app request alike; a request that went round too often is a 503. */
void forward_dispatch(proxy_conn *c);
void upstream_dispatch(proxy_conn *c); /* upstream.c: the app */
void static_serve(proxy_conn *c);      /* static.c: a static release's files */
int hold_start(proxy_conn *c);         /* hold.c: wait for a sleeping app; 0 held,
                                        * -1 answered (too many held) */

/* pio.c: writes with a copy only of what the socket did not take, small ones
 * held to the end of the loop turn and sent together.  *slot is the
 * stream's held write (NULL when none), owned by pio.c; slot NULL: write
 * plainly (a stream still connecting).  done(owner, status) follows any
 * write not taken whole at once. */
typedef void (*pio_done_cb)(void *owner, int status);
/* The largest write held for the batch; larger ones go to the socket at once. */
#define PROXY_DEFER_MAX (16 * 1024)
int pio_write(proxy_loop *lp, uv_stream_t *s, pio_defer **slot, const uv_buf_t *bufs,
    unsigned n, pio_done_cb done, void *owner);
size_t pio_queued(const uv_stream_t *s, pio_defer *const *slot); /* held + uv queue */
void pio_send_now(proxy_loop *lp);   /* before a shutdown: what is held, out now */
void pio_closing(proxy_loop *lp, pio_defer **slot); /* before uv_close: held bytes out, no done */
int pio_batch_open(proxy_loop *lp);  /* 0, or the io_uring error: plain writes */
int pio_batching(const proxy_loop *lp); /* 1: small writes wait for the turn's batch */
void pio_batch_close(proxy_loop *lp);

/* http_out.c */
int conn_write(proxy_conn *c, const uv_buf_t *bufs, unsigned n);
/* Bytes as they go on the wire (for TLS: records), past cork and TLS. */
int conn_write_raw(proxy_conn *c, const uv_buf_t *bufs, unsigned n);
/* What a write done callback does (the queue drained: time for more), for
 * bytes a layer held and then saw taken whole (TLS, tls_conn.c). */
void conn_write_finished(proxy_conn *c);
int conn_write_str(proxy_conn *c, const char *s, size_t n);
/* Gathers what one upstream read produces for c (head + body) into one write. */
void conn_cork(proxy_conn *c);
void conn_uncork(proxy_conn *c);
size_t conn_queued(const proxy_conn *c);
/* Starts the response: framing chosen from content_length, request method and
 * client version. reason may be NULL. */
int conn_resp_start(proxy_conn *c, int status, const char *reason, const http_header *h,
    size_t n, int64_t content_length);
int conn_resp_body(proxy_conn *c, const void *data, size_t len);
int conn_resp_end(proxy_conn *c);
/* Pure, unit tested: how a response is delimited (defined in http_out.c). */
int resp_framing(resp_out *out, int status, int head_req, int http_minor, int64_t content_length);
/* A body's n bytes at data as they go on the wire, chunked or not: the
 * buffers in b (hdr holds a chunk's size line), their count. */
#define HTTP_CHUNK_HDR 24
unsigned body_bufs(uv_buf_t b[3], char hdr[HTTP_CHUNK_HDR], const void *data, size_t len,
    int chunked);
int header_is_hop_by_hop(const char *name, const char *connection_value);
/* A request head's end, after its fields: the body's framing (chunked, or
 * Content-Length), Connection: upgrade with Upgrade when upgrade is not NULL, the
 * blank line. The head on the heap (the caller frees it), its length in len. */
char *request_head_end(sbuf *b, const http_request *r, const char *upgrade, size_t *len);
/* A Transfer-Encoding value that is "chunked" alone (case, spaces aside). */
int te_is_chunked(const char *value);

/* errors.c */
int conn_respond_error(proxy_conn *c, int status, const char *message,
    const http_header *extra, size_t nextra);
/* Head (Content-Type, extra headers, Content-Length) and body, not ended. */
int conn_respond_head_body(proxy_conn *c, int status, const char *ctype,
    const http_header *extra, size_t nextra, const void *body, size_t len);
int conn_respond_simple(proxy_conn *c, int status, const char *ctype,
    const http_header *extra, size_t nextra, const void *body, size_t len);

/* upstream*.c, for the loops */
void upstream_pools_close(proxy_loop *lp);

/* stats.c */
void stats_request_done(proxy_conn *c);
struct space_stats;
/* The counters of a space (created on first use, never freed). */
struct space_stats *stats_space(const char *space_id);
void stats_space_active(struct space_stats *e, int delta);
void stats_upstream_error(struct space_stats *e);
/* Adds delta to the space's held requests; returns the new count. */
uint64_t stats_space_held(struct space_stats *e, int delta);

/* loops.c */
void proxy_loop_maybe_done(proxy_loop *lp);
void proxy_migrant_push(proxy_server *s, proxy_migrant *m);

#endif
