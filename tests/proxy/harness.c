/* harness.c — runs the proxy alone for tests and benchmarks.
 *
 *   proxy-harness [--listen HOST:PORT] [--domain D] [--route SUB=SPEC]... [limits]
 *   SPEC: static:DIR | app:NETNS_PATH:PORT | app:-:PORT | starting[:MSG] | down[:MSG]
 *   SUB@OWNER=SPEC: a private space of OWNER; --token TOKEN=USER[:admin] adds a
 *   token to the snapshot that lets requests through to private spaces.
 *
 * Prints "PORT n" on stdout once listening. Its hub handler exercises the
 * http_exchange API: /hello, /echo (streamed echo with pause/resume),
 * /count (body counted, paused on a timer), /stream?n=&ms=, /big?n=, /error,
 * /stats?space=ID, /calls (handler calls so far). Every hub call checks that
 * it runs on the main thread (500 otherwise). --loops N sets the proxy's loop
 * count. SIGTERM/SIGINT stop the server gracefully.
 *
 * HTTPS: --tls ID=CERT,KEY (repeatable) loads a certificate, --https PORT
 * opens the TLS listener (0: any port; "HTTPS n" follows "PORT n"),
 * --acme-dir DIR answers HTTP-01 tokens from DIR; SIGHUP loads the
 * certificates again; /misses lists the SNI names no certificate covered.
 * --hold MS: such a name's handshake waits up to MS (on demand), as if it
 * were being issued, unless the name starts with "no-" (refused); a hub
 * request /load?id=ID&cert=FILE&key=FILE loads a certificate then (its
 * waiting handshakes go on with it).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "common/log.h"
#include "proxy/proxy.h"
#include "proxy/routes.h"
#include "proxy/tls.h"
#include "common/util.h"

static uv_loop_t *loop;
static proxy_server *server;
static pthread_t main_thread;
static unsigned long hub_calls;

/* ---- HTTPS ----------------------------------------------------------------- */

static tls_store *store;
static char *tls_args[16];
static int ntls;
static uv_mutex_t miss_lock;
static char misses[4096];
static int hold;

static int
tls_load(const char *arg)
{
	char id[128], cert[1024], key[1024], err[512];
	const char *eq = strchr(arg, '='), *comma = eq != NULL ? strchr(eq, ',') : NULL;

	if (eq == NULL || comma == NULL)
		return -1;
	snprintf(id, sizeof(id), "%.*s", (int)(eq - arg), arg);
	snprintf(cert, sizeof(cert), "%.*s", (int)(comma - eq - 1), eq + 1);
	snprintf(key, sizeof(key), "%s", comma + 1);
	if (tls_store_load(store, id, cert, key, err, sizeof(err)) != 0) {
		fprintf(stderr, "harness: %s\n", err);
		return -1;
	}
	return 0;
}

static void
on_miss(const char *host, void *arg)
{
	uv_mutex_lock(&miss_lock);
	if (strlen(misses) + strlen(host) + 2 < sizeof(misses)) {
		strcat(misses, host);
		strcat(misses, "\n");
	}
	uv_mutex_unlock(&miss_lock);
	if (hold)
		tls_store_demand(store, host, strncmp(host, "no-", 3) == 0 ? TLS_DEMAND_NO :
		    TLS_DEMAND_ISSUING);
}

static void
on_hup(uv_signal_t *s, int sig)
{
	for (int i = 0; i < ntls; i++)
		tls_load(tls_args[i]);
	fprintf(stderr, "harness: certificates loaded again\n");
}

/* The value of key in query q, into out (no unescaping): 0, or -1. */
static int
query_str(const char *q, const char *key, char *out, size_t len)
{
	size_t kl = strlen(key);

	for (const char *p = q; p != NULL && *p != '\0';) {
		if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
			snprintf(out, len, "%.*s", (int)strcspn(p + kl + 1, "&"), p + kl + 1);
			return 0;
		}
		p = strchr(p, '&');
		if (p != NULL)
			p++;
	}
	return -1;
}

static long
query_long(const char *q, const char *key, long def)
{
	size_t kl = strlen(key);

	for (const char *p = q; p != NULL && *p != '\0';) {
		if (strncmp(p, key, kl) == 0 && p[kl] == '=')
			return strtol(p + kl + 1, NULL, 10);
		p = strchr(p, '&');
		if (p != NULL)
			p++;
	}
	return def;
}

/* ---- /echo: every body byte goes straight back, with back-pressure ------- */

struct echo {
	http_exchange *x;
};

static void
echo_data(void *arg, const char *data, size_t len)
{
	struct echo *e = arg;

	http_response_write(e->x, data, len);
	if (http_response_queued(e->x) > 256 * 1024)
		http_exchange_pause(e->x);
}

static void
echo_drain(void *arg)
{
	struct echo *e = arg;

	http_exchange_resume(e->x);
}

static void
echo_end(void *arg)
{
	struct echo *e = arg;
	http_exchange *x = e->x;

	free(e);
	http_response_end(x);
}

static void
echo_abort(void *arg)
{
	free(arg);
}

/* ---- /count: counts the body; pauses 20 ms every 4 MiB ------------------- */

struct count {
	http_exchange *x;
	uint64_t bytes, next_pause;
	uv_timer_t timer;
	int done, aborted;
};

static void
count_closed(uv_handle_t *h)
{
	free(h->data);
}

static void
count_timer(uv_timer_t *t)
{
	struct count *k = t->data;

	if (!k->aborted)
		http_exchange_resume(k->x);
}

static void
count_data(void *arg, const char *data, size_t len)
{
	struct count *k = arg;

	k->bytes += len;
	if (k->bytes >= k->next_pause) {
		k->next_pause += 4 << 20;
		http_exchange_pause(k->x);
		uv_timer_start(&k->timer, count_timer, 20, 0);
	}
}

static void
count_end(void *arg)
{
	struct count *k = arg;
	char body[64];

	snprintf(body, sizeof(body), "{\"bytes\":%llu}\n", (unsigned long long)k->bytes);
	uv_timer_stop(&k->timer);
	uv_close((uv_handle_t *)&k->timer, count_closed);
	http_respond(k->x, 200, "application/json", NULL, 0, body, strlen(body));
}

static void
count_abort(void *arg)
{
	struct count *k = arg;

	k->aborted = 1;
	uv_timer_stop(&k->timer);
	uv_close((uv_handle_t *)&k->timer, count_closed);
}

/* ---- /stream: n events, one every ms milliseconds ------------------------ */

struct stream {
	http_exchange *x;
	uv_timer_t timer;
	long n, i;
	int aborted, ended;
	int closed, body_over; /* freed when both: on_end/on_abort may follow the end */
};

static void
stream_maybe_free(struct stream *s)
{
	if (s->closed && s->body_over)
		free(s);
}

static void
stream_closed(uv_handle_t *h)
{
	struct stream *s = h->data;

	s->closed = 1;
	stream_maybe_free(s);
}

static void
stream_tick(uv_timer_t *t)
{
	struct stream *s = t->data;
	char buf[64];

	if (s->i >= s->n) {
		uv_timer_stop(t);
		s->ended = 1;
		http_response_end(s->x);
		uv_close((uv_handle_t *)t, stream_closed);
		return;
	}
	snprintf(buf, sizeof(buf), "data: %ld\n\n", s->i++);
	http_response_write(s->x, buf, strlen(buf));
}

static void
stream_abort(void *arg)
{
	struct stream *s = arg;

	s->aborted = 1;
	s->body_over = 1;
	if (!s->ended) {
		s->ended = 1;
		uv_timer_stop(&s->timer);
		uv_close((uv_handle_t *)&s->timer, stream_closed);
		return;
	}
	stream_maybe_free(s);
}

static void
stream_end(void *arg)
{
	struct stream *s = arg;

	s->body_over = 1;
	stream_maybe_free(s);
}

static void
nop_data(void *arg, const char *d, size_t n)
{
}

/* ---- /big: n bytes, written as the client drains ------------------------- */

struct big {
	http_exchange *x;
	uint64_t left;
	int ended;
	int done, body_over; /* freed when both */
};

static void
big_pump(void *arg)
{
	struct big *b = arg;
	static char chunk[64 * 1024];

	if (chunk[0] == 0)
		memset(chunk, 'b', sizeof(chunk));
	while (!b->ended && http_response_queued(b->x) < 128 * 1024) {
		size_t n = b->left < sizeof(chunk) ? b->left : sizeof(chunk);

		if (n == 0) {
			http_exchange *x = b->x;

			b->done = 1;
			if (b->body_over)
				free(b);
			http_response_end(x);
			return;
		}
		b->left -= n;
		if (http_response_write(b->x, chunk, n) != 0)
			return;
	}
}

static void
big_end(void *arg)
{
	struct big *b = arg;

	b->body_over = 1;
	if (b->done) {
		free(b);
		return;
	}
	/* GET has no body: on_end comes first; start pumping then */
	big_pump(b);
}

static void
big_abort(void *arg)
{
	free(arg);
}

static void
hub(http_exchange *x, void *arg)
{
	const http_request *r = http_exchange_request(x);

	/* hub handlers are not thread-safe: they must only run on the main loop */
	if (!pthread_equal(pthread_self(), main_thread)) {
		http_respond_error(x, 500, "hub handler called off the main thread");
		return;
	}
	hub_calls++;
	if (strcmp(r->path, "/hello") == 0) {
		const char *body = "hello from hub\n";

		http_respond(x, 200, "text/plain", NULL, 0, body, strlen(body));
	} else if (strcmp(r->path, "/echo") == 0) {
		struct echo *e = xcalloc(1, sizeof(*e));
		http_body_cb cb = { echo_data, echo_end, echo_abort, echo_drain, e };
		http_header h = { "Content-Type", "application/octet-stream" };

		e->x = x;
		http_exchange_set_body_cb(x, &cb);
		http_response_start(x, 200, &h, 1, r->content_length);
	} else if (strcmp(r->path, "/count") == 0) {
		struct count *k = xcalloc(1, sizeof(*k));
		http_body_cb cb = { count_data, count_end, count_abort, NULL, k };

		k->x = x;
		k->next_pause = 4 << 20;
		uv_timer_init(loop, &k->timer);
		k->timer.data = k;
		http_exchange_set_body_cb(x, &cb);
	} else if (strcmp(r->path, "/stream") == 0) {
		struct stream *s = xcalloc(1, sizeof(*s));
		http_body_cb cb = { nop_data, stream_end, stream_abort, NULL, s };
		http_header h = { "Content-Type", "text/event-stream" };
		long ms = query_long(r->query, "ms", 100);

		s->x = x;
		s->n = query_long(r->query, "n", 5);
		uv_timer_init(loop, &s->timer);
		s->timer.data = s;
		http_exchange_set_body_cb(x, &cb);
		http_response_start(x, 200, &h, 1, -1);
		ms = ms > 0 ? ms : 1; /* a repeat of 0 would never repeat */
		uv_timer_start(&s->timer, stream_tick, (uint64_t)ms, (uint64_t)ms);
	} else if (strcmp(r->path, "/big") == 0) {
		struct big *b = xcalloc(1, sizeof(*b));
		http_body_cb cb = { nop_data, big_end, big_abort, big_pump, b };
		http_header h = { "Content-Type", "application/octet-stream" };

		b->x = x;
		b->left = (uint64_t)query_long(r->query, "n", 1 << 20);
		http_exchange_set_body_cb(x, &cb);
		http_response_start(x, 200, &h, 1, (int64_t)b->left);
	} else if (strcmp(r->path, "/error") == 0) {
		http_respond_error(x, 500, "something <broke>");
	} else if (strcmp(r->path, "/headers") == 0) {
		char *body = xstrdup("");

		for (size_t i = 0; i < r->nheaders; i++) {
			char *n = xasprintf("%s%s: %s\n", body, r->headers[i].name,
			    r->headers[i].value);
			free(body);
			body = n;
		}
		char *n = xasprintf("%shost=%s client=%s\n", body, r->host, r->client_addr);
		free(body);
		http_respond(x, 200, "text/plain", NULL, 0, n, strlen(n));
		free(n);
	} else if (strcmp(r->path, "/sends") == 0) {
		uint64_t batches, sends;
		char body[96];

		proxy_server_send_stats(server, &batches, &sends);
		snprintf(body, sizeof(body), "{\"batches\":%llu,\"sends\":%llu}\n",
		    (unsigned long long)batches, (unsigned long long)sends);
		http_respond(x, 200, "application/json", NULL, 0, body, strlen(body));
	} else if (strcmp(r->path, "/load") == 0 && store != NULL) {
		char id[128], cert[1024], key[1024], err[512] = "loaded\n";

		if (query_str(r->query, "id", id, sizeof(id)) != 0 ||
		    query_str(r->query, "cert", cert, sizeof(cert)) != 0 ||
		    query_str(r->query, "key", key, sizeof(key)) != 0 ||
		    tls_store_load(store, id, cert, key, err, sizeof(err)) != 0)
			http_respond_error(x, 400, err);
		else
			http_respond(x, 200, "text/plain", NULL, 0, err, strlen(err));
	} else if (strcmp(r->path, "/misses") == 0) {
		uv_mutex_lock(&miss_lock);
		http_respond(x, 200, "text/plain", NULL, 0, misses, strlen(misses));
		uv_mutex_unlock(&miss_lock);
	} else if (strcmp(r->path, "/secure") == 0) {
		http_respond(x, 200, "text/plain", NULL, 0, r->secure ? "https\n" : "http\n", r->secure ? 6 : 5);
	} else if (strcmp(r->path, "/calls") == 0) {
		char body[64];

		snprintf(body, sizeof(body), "%lu\n", hub_calls);
		http_respond(x, 200, "text/plain", NULL, 0, body, strlen(body));
	} else if (strcmp(r->path, "/stats") == 0) {
		proxy_space_stats st;
		char space[200] = "";
		const char *p = strstr(r->query, "space=");
		char body[512];

		if (p != NULL)
			snprintf(space, sizeof(space), "%s", p + 6);
		for (char *s = space; *s != '\0'; s++)
			if (*s == '%' && s[1] == '2' && (s[2] == 'F' || s[2] == 'f')) {
				*s = '/';
				memmove(s + 1, s + 3, strlen(s + 3) + 1);
			}
		if (proxy_stats_get(space, &st) != 0) {
			http_respond_error(x, 404, "no stats");
			return;
		}
		snprintf(body, sizeof(body), "{\"requests\":%llu,\"bytes_in\":%llu,"
		    "\"bytes_out\":%llu,\"active\":%llu,\"upstream_errors\":%llu}\n",
		    (unsigned long long)st.requests, (unsigned long long)st.bytes_in,
		    (unsigned long long)st.bytes_out, (unsigned long long)st.active_connections,
		    (unsigned long long)st.upstream_errors);
		http_respond(x, 200, "application/json", NULL, 0, body, strlen(body));
	} else {
		http_respond_error(x, 404, "no such hub page");
	}
}

static uint64_t next_instance = 1;


static route_tokens *tokens;

static int
add_token(const char *arg)
{
	const char *eq = strchr(arg, '=');
	char token[256], user[256];
	unsigned char hash[32];
	char *admin;

	if (eq == NULL || (size_t)(eq - arg) >= sizeof(token) || strlen(eq + 1) >= sizeof(user))
		return -1;
	memcpy(token, arg, (size_t)(eq - arg));
	token[eq - arg] = '\0';
	strcpy(user, eq + 1);
	admin = strstr(user, ":admin");
	if (admin != NULL)
		*admin = '\0';
	if (tokens == NULL)
		tokens = route_tokens_new();
	route_token_hash(token, hash);
	route_tokens_add(tokens, hash, user, admin != NULL);
	return 0;
}

static void
set_route(const char *sub, const char *owner, route_target *t)
{
	if (owner != NULL)
		route_target_set_private(t, owner);
	routes_set(sub, t);
}

static int
add_route(const char *arg)
{
	const char *eq = strchr(arg, '=');
	char sub[256], id[300];
	const char *spec, *owner = NULL;
	char *at;

	if (eq == NULL || (size_t)(eq - arg) >= sizeof(sub))
		return -1;
	memcpy(sub, arg, (size_t)(eq - arg));
	sub[eq - arg] = '\0';
	if ((at = strchr(sub, '@')) != NULL) {
		*at = '\0';
		owner = at + 1;
	}
	spec = eq + 1;
	snprintf(id, sizeof(id), "test/%s", sub);
	if (strncmp(spec, "static:", 7) == 0) {
		set_route(sub, owner, route_target_static(id, spec + 7));
	} else if (strncmp(spec, "app:", 4) == 0) {
		const char *colon = strrchr(spec + 4, ':');
		char path[512];
		int fd = -1;

		if (colon == NULL || (size_t)(colon - spec - 4) >= sizeof(path))
			return -1;
		memcpy(path, spec + 4, (size_t)(colon - spec - 4));
		path[colon - spec - 4] = '\0';
		if (strcmp(path, "-") != 0) {
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0) {
				fprintf(stderr, "harness: %s: %s\n", path, strerror(errno));
				return -1;
			}
		}
		set_route(sub, owner, route_target_app(id, fd, atoi(colon + 1), next_instance++));
	} else if (strncmp(spec, "starting", 8) == 0) {
		set_route(sub, owner, route_target_status(ROUTE_STARTING, id,
		    spec[8] == ':' ? spec + 9 : NULL));
	} else if (strncmp(spec, "down", 4) == 0) {
		set_route(sub, owner, route_target_status(ROUTE_DOWN, id,
		    spec[4] == ':' ? spec + 5 : NULL));
	} else {
		return -1;
	}
	return 0;
}

static void
stopped(void *arg)
{
	uv_stop(loop);
}

static void
on_signal(uv_signal_t *s, int sig)
{
	uv_signal_stop(s);
	uv_close((uv_handle_t *)s, NULL);
	if (server != NULL)
		proxy_server_stop(server, stopped, NULL);
	server = NULL;
}

int
main(int argc, char **argv)
{
	proxy_config cfg;
	uv_signal_t sigterm, sigint, sighup;
	char host[128] = "127.0.0.1";
	int r;

	/* as the daemon runs: a client gone mid-write is an EPIPE, not a death */
	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0)
		return 1;
	proxy_config_init(&cfg);
	cfg.listen_port = 0;
	uv_mutex_init(&miss_lock);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--no-access-log") == 0) {
			cfg.access_log = 0;
			continue;
		}
		if (strcmp(a, "--no-batch-sends") == 0) {
			cfg.batch_sends = 0;
			continue;
		}
		if (v == NULL) {
			fprintf(stderr, "harness: %s needs a value\n", a);
			return 2;
		}
		i++;
		if (strcmp(a, "--listen") == 0) {
			const char *colon = strrchr(v, ':');

			snprintf(host, sizeof(host), "%.*s", (int)(colon - v), v);
			cfg.listen_port = atoi(colon + 1);
		} else if (strcmp(a, "--domain") == 0) {
			cfg.domain = v;
		} else if (strcmp(a, "--route") == 0) {
			if (add_route(v) != 0) {
				fprintf(stderr, "harness: bad route %s\n", v);
				return 2;
			}
		} else if (strcmp(a, "--token") == 0) {
			if (add_token(v) != 0) {
				fprintf(stderr, "harness: bad token %s\n", v);
				return 2;
			}
		} else if (strcmp(a, "--max-body") == 0) {
			cfg.max_body_bytes = strtoull(v, NULL, 10);
		} else if (strcmp(a, "--max-hub-body") == 0) {
			cfg.max_hub_body_bytes = strtoull(v, NULL, 10);
		} else if (strcmp(a, "--header-timeout") == 0) {
			cfg.header_timeout_ms = (unsigned)atoi(v);
		} else if (strcmp(a, "--keepalive") == 0) {
			cfg.keepalive_idle_ms = (unsigned)atoi(v);
		} else if (strcmp(a, "--max-conn") == 0) {
			cfg.max_connections = (unsigned)atoi(v);
		} else if (strcmp(a, "--upstream-response") == 0) {
			cfg.upstream_response_ms = (unsigned)atoi(v);
		} else if (strcmp(a, "--connect-timeout") == 0) {
			cfg.upstream_connect_ms = (unsigned)atoi(v);
		} else if (strcmp(a, "--loops") == 0) {
			cfg.nloops = (unsigned)atoi(v);
		} else if (strcmp(a, "--body-timeout") == 0) {
			cfg.body_timeout_ms = (unsigned)atoi(v);
		} else if (strcmp(a, "--send-timeout") == 0) {
			cfg.send_timeout_ms = (unsigned)atoi(v);
		} else if (strcmp(a, "--tunnel-idle") == 0) {
			cfg.tunnel_idle_ms = (unsigned)atoi(v);
		} else if (strcmp(a, "--tls") == 0) {
			if (store == NULL && tls_store_new(&store) != 0)
				return 1;
			if (ntls == 16 || tls_load(v) != 0)
				return 2;
			tls_args[ntls++] = (char *)v;
			cfg.tls = store;
		} else if (strcmp(a, "--https") == 0) {
			cfg.https_port = atoi(v);
			if (store == NULL && tls_store_new(&store) != 0)
				return 1;
			cfg.tls = store;
		} else if (strcmp(a, "--acme-dir") == 0) {
			cfg.acme_dir = v;
		} else if (strcmp(a, "--hold") == 0) {
			if (store == NULL && tls_store_new(&store) != 0)
				return 1;
			hold = 1;
			tls_store_hold(store, (unsigned)atoi(v));
		} else {
			fprintf(stderr, "harness: unknown option %s\n", a);
			return 2;
		}
	}
	if (tokens != NULL)
		routes_tokens_publish(tokens);
	cfg.listen_host = host;
	if (store != NULL)
		tls_store_on_miss(store, on_miss, NULL);
	main_thread = pthread_self();
	loop = uv_default_loop();
	r = proxy_server_start(loop, &cfg, hub, NULL, &server);
	if (r != 0) {
		fprintf(stderr, "harness: listen: %s\n", uv_strerror(r));
		return 1;
	}
	printf("PORT %d\n", proxy_server_port(server));
	if (proxy_server_https_port(server) > 0)
		printf("HTTPS %d\n", proxy_server_https_port(server));
	fflush(stdout);
	uv_signal_init(loop, &sighup);
	uv_signal_start(&sighup, on_hup, SIGHUP);
	uv_unref((uv_handle_t *)&sighup);
	uv_signal_init(loop, &sigterm);
	uv_signal_init(loop, &sigint);
	uv_signal_start(&sigterm, on_signal, SIGTERM);
	uv_signal_start(&sigint, on_signal, SIGINT);
	uv_run(loop, UV_RUN_DEFAULT);
	if (uv_is_active((uv_handle_t *)&sigint)) {
		uv_signal_stop(&sigint);
		uv_close((uv_handle_t *)&sigint, NULL);
	}
	if (uv_is_active((uv_handle_t *)&sigterm)) {
		uv_signal_stop(&sigterm);
		uv_close((uv_handle_t *)&sigterm, NULL);
	}
	uv_signal_stop(&sighup);
	uv_close((uv_handle_t *)&sighup, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
	routes_clear();
	tls_store_free(store);
	return 0;
}
