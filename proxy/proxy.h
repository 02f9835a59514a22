/* proxy.h — podium's front door: the HTTP listener and reverse proxy.
 *
 * One connection's life: accept → parse (llhttp, strict) → route by Host →
 *   hub host (DOMAIN, 127.0.0.1, [::1])  → the hub handler (web/)
 *   {sub}.DOMAIN with a route_target     → static files / upstream app / 503 / 502
 *   anything else                        → 404
 * → stream both ways → reuse (keep-alive) or close.
 */
#ifndef PODIUM_PROXY_H
#define PODIUM_PROXY_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "proxy/http.h"

typedef struct proxy_config {
	const char *listen_host;        /* "127.0.0.1" */
	int listen_port;                /* 8080 */
	const char *domain;             /* "localhost" */
	const char *app_domain;         /* apps at SUB.APP_DOMAIN; NULL: domain */
	size_t max_request_line;        /* 8 KiB → 414 */
	size_t max_header_bytes;        /* 32 KiB → 431 */
	size_t max_header_fields;       /* 100 → 431 */
	uint64_t max_body_bytes;        /* 100 MiB → 413 (hub git pushes use their own limit) */
	unsigned header_timeout_ms;     /* 10 s → 408 */
	unsigned upstream_connect_ms;   /* 5 s → 504 */
	unsigned upstream_response_ms;  /* response-start timeout → 504 */
	unsigned keepalive_idle_ms;     /* 60 s */
	unsigned max_connections;       /* refusal past it */
	/* Extensions (defaults from proxy_config_init). */
	uint64_t max_hub_body_bytes;    /* 1 GiB: hub requests (git push) → 413 */
	unsigned upstream_idle_ms;      /* 30 s: idle pooled upstream connections closed */
	unsigned upstream_pool_size;    /* 64 idle connections kept per app instance */
	unsigned tunnel_idle_ms;        /* 10 min: WebSocket/Upgrade tunnel idle timeout */
	int access_log;                 /* 1: one log_info line per request */
	int batch_sends;                /* 1: a loop turn's small writes in one io_uring_enter
	                                 * (pio.c); plain writes where io_uring is refused */
	unsigned body_timeout_ms;       /* 60 s: request body stalls → 408 and close */
	unsigned send_timeout_ms;       /* 60 s: a client that takes none of a pending
	                                 * response that long is closed (nginx send_timeout) */
	unsigned wake_timeout_ms;       /* 60 s: a request held for a waking app → 503 */
	unsigned max_held_per_space;    /* 256: held requests per space, then 503 */
	unsigned nloops;                /* event loops (threads): online CPUs, at most 8;
	                                 * hub handlers always run on the caller's loop */
	/* HTTPS (tls.h): with tls, a second listener (https_host, default
	 * listen_host; https_port 0: any free port) whose clients speak TLS,
	 * with the certificates of tls.  With it the plain listener
	 * redirects hosts that HTTPS serves, and answers ACME HTTP-01 tokens
	 * from acme_dir (NULL: none) on any host. */
	const char *https_host;
	int https_port;
	struct tls_store *tls;
	const char *acme_dir;
} proxy_config;

/* Fills the defaults above. */
void proxy_config_init(proxy_config *cfg);

typedef struct proxy_server proxy_server;

/* Binds and starts accepting on loop, plus cfg->nloops - 1 worker threads with
 * loops of their own (SO_REUSEPORT listeners on the same address). hub(x,
 * hub_arg) handles hub-host requests, always on loop (the connection moves
 * there when a worker parsed the request). Returns 0 or -errno (e.g.
 * -EADDRINUSE); *out is set on success. */
int proxy_server_start(uv_loop_t *loop, const proxy_config *cfg, http_hub_handler hub,
    void *hub_arg, proxy_server **out);
/* Stops accepting, closes idle connections, lets in-flight ones finish; cb(arg) runs
 * on loop once everything is closed and the worker threads are joined (then the
 * server's memory is freed). Call it on loop. */
void proxy_server_stop(proxy_server *s, void (*cb)(void *arg), void *arg);
/* The bound port (useful with listen_port 0). */
int proxy_server_port(const proxy_server *s);
/* The bound HTTPS port, 0 without one. */
int proxy_server_https_port(const proxy_server *s);
/* Batched sends over all loops so far: io_uring_enter calls and the writes
 * they carried (both 0 when batch_sends is off or io_uring refused). */
void proxy_server_send_stats(const proxy_server *s, uint64_t *batches, uint64_t *sends);

/* Per-space counters, kept in memory for the admin views. */
#define PROXY_DURATION_BUCKETS 12
/* Upper bounds of the request duration buckets but the last (which has none). */
extern const unsigned proxy_duration_bounds_ms[PROXY_DURATION_BUCKETS - 1];
typedef struct proxy_space_stats {
	uint64_t requests;
	uint64_t bytes_in, bytes_out;
	uint64_t active_connections;
	uint64_t held_requests;      /* waiting for the app to wake */
	uint64_t upstream_errors;
	uint64_t status_class[6];      /* [0] no status sent, [1]..[5] 1xx..5xx */
	uint64_t duration[PROXY_DURATION_BUCKETS]; /* requests per bucket, not cumulative */
	uint64_t duration_sum_ms;
} proxy_space_stats;
/* Safe from any thread. */
int proxy_stats_get(const char *space_id, proxy_space_stats *out);

#endif
