/* loops.c — the server's event loops: start, the worker threads, the hand-over
 * of hub connections to the main loop, and stop.
 *
 * Loop 0 is the caller's loop. With nloops > 1 each further loop runs on its
 * own thread with its own listening socket bound to the same address with
 * SO_REUSEPORT, so the kernel spreads new connections over the loops. A
 * connection stays on the loop that accepted it, with that loop's upstream
 * pools, for everything a space host needs (static, upstream, tunnels).
 *
 * Hub handlers are not thread-safe and run only on loop 0: a hub-host request
 * parsed on a worker moves its whole connection there (conn.c builds a
 * proxy_migrant: the socket and the unanswered bytes; proxy_migrant_push
 * queues it under s->lock and wakes loop 0, which adopts it).
 *
 * Stop: loop 0 marks itself stopping and wakes every worker; each worker stops
 * accepting, lets its in-flight requests finish, closes its handles and, with
 * its uv_run over, counts itself done under s->lock (waking loop 0). The
 * server is freed on loop 0 once it is idle, every worker is done and joined,
 * and no migrant is waiting.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "proxy/proxy_int.h"
#include "proxy/tls_int.h"
#include "common/util.h"


static void server_maybe_done(proxy_server *s);

void
proxy_config_init(proxy_config *cfg)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	memset(cfg, 0, sizeof(*cfg));
	cfg->listen_host = "127.0.0.1";
	cfg->listen_port = 8080;
	cfg->domain = "localhost";
	cfg->max_request_line = 8 * 1024;
	cfg->max_header_bytes = 32 * 1024;
	cfg->max_header_fields = 100;
	cfg->max_body_bytes = 100ull << 20;
	cfg->header_timeout_ms = 10000;
	cfg->upstream_connect_ms = 5000;
	cfg->upstream_response_ms = 60000;
	cfg->keepalive_idle_ms = 60000;
	cfg->max_connections = 16384;
	cfg->max_hub_body_bytes = 1ull << 30;
	cfg->upstream_idle_ms = 30000;
	cfg->upstream_pool_size = 64;
	cfg->tunnel_idle_ms = 600000;
	cfg->access_log = 1;
	cfg->batch_sends = 1;
	cfg->body_timeout_ms = 60000;
	cfg->send_timeout_ms = 60000;
	cfg->wake_timeout_ms = 60000;
	cfg->max_held_per_space = 256;
	cfg->nloops = ncpu < 1 ? 1 : ncpu > PROXY_MAX_LOOPS ? PROXY_MAX_LOOPS : (unsigned)ncpu;
}

/* ---- listening sockets --------------------------------------------------- */

static int
listen_socket(const struct sockaddr *sa, int reuseport)
{
	socklen_t len = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in);
	int fd, on = 1, err;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
	    (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0) ||
	    bind(fd, sa, len) != 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int
sockaddr_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static void
set_port(struct sockaddr_storage *ss, int port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
}

/* nloops sockets on one address. Several need SO_REUSEPORT, which would also
 * let another process of ours bind the same port unnoticed: a plain bind
 * first tells whether the address is free (and picks the port for port 0). */
static int
listen_sockets(struct sockaddr_storage *ss, unsigned n, int *fds)
{
	unsigned i;
	int fd, port;

	fd = listen_socket((struct sockaddr *)ss, 0);
	if (fd < 0)
		return fd;
	if (n == 1) {
		fds[0] = fd;
		return 0;
	}
	port = sockaddr_port(fd);
	close(fd);
	set_port(ss, port);
	for (i = 0; i < n; i++) {
		fds[i] = listen_socket((struct sockaddr *)ss, 1);
		if (fds[i] < 0) {
			int err = fds[i];

			while (i-- > 0)
				close(fds[i]);
			return err;
		}
	}
	return 0;
}

/* ---- one loop ------------------------------------------------------------ */

static void
listener_closed(uv_handle_t *h)
{
	proxy_listener *l = h->data;

	l->open = 0;
	proxy_loop_maybe_done(l->lp);
}

/* Open, or its close pending: any listener of the loop. */
static int
listeners_open(const proxy_loop *lp)
{
	for (unsigned i = 0; i < lp->nlis; i++)
		if (lp->lis[i].open)
			return 1;
	return 0;
}

/* ---- out of descriptors ------------------------------------------------------
 * accept(2) fails with EMFILE while the connection stays in the backlog, so the
 * listener stays readable: libuv then spends its spare descriptor to accept and
 * drop the pending connections, and once that spare is gone too (another thread
 * took the descriptor it freed) it reports EMFILE to us in a loop that never
 * returns -- 100% CPU, nothing served. As nginx and libuv do, a reserve of our
 * own is closed to answer the pending clients with a 503 and let them go; when
 * even that cannot be had back, the listener is closed for ACCEPT_PAUSE_MS (a
 * duplicate keeps the socket and its backlog) and reopened afterwards. */
#define ACCEPT_PAUSE_MS 100

static void on_connection(uv_stream_t *ls, int status);
static void free_handle(uv_handle_t *h);

static int
reserve_open(void)
{
	return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/* Keeps the server's reserves at one per loop (lock held). */
static void
reserves_fill(proxy_server *s)
{
	int fd;

	while (s->nreserves < s->nloops && (fd = reserve_open()) >= 0)
		s->reserves[s->nreserves++] = fd;
}

/* Answers and closes every pending connection (at most a batch), spending a
 * reserve for it. The reserves are the server's: between closing one and opening
 * it again another thread may take the descriptor (another loop's accept, a file
 * the daemon opens), and a loop that lost its own would leave its listener's
 * clients waiting while another loop still kept one. Returns -1 when no reserve
 * could be had (the caller pauses its listener and tries again). */
static int
listener_shed(proxy_loop *lp, int lfd)
{
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Type: text/plain\r\nContent-Length: 31\r\nRetry-After: 1\r\n"
	    "Connection: close\r\n\r\nserver out of file descriptors\n";
	proxy_server *s = lp->srv;
	char junk[4096];
	int r;

	uv_mutex_lock(&s->lock);
	reserves_fill(s);
	if (s->nreserves == 0) {
		uv_mutex_unlock(&s->lock);
		return -1;
	}
	close(s->reserves[--s->nreserves]);
	for (int n = 0; n < 1024; n++) {
		int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (c < 0 && errno == EINTR)
			continue;
		if (c < 0)
			break;
		/* what the client sent already: read, so closing does not reset */
		if (recv(c, junk, sizeof(junk), MSG_DONTWAIT) < 0) {
			/* nothing yet */
		}
		if (send(c, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			/* gone already */
		}
		close(c);
	}
	reserves_fill(s);
	r = s->nreserves > 0 ? 0 : -1;
	uv_mutex_unlock(&s->lock);
	return r;
}

static void
accept_resume(uv_timer_t *t)
{
	proxy_listener *l = t->data;
	proxy_loop *lp = l->lp;
	int spare, r;

	if (lp->stopping || !l->paused || l->open)
		return;
	/* clients waiting meanwhile get their 503 now */
	listener_shed(lp, l->spare);
	/* keep a duplicate for the next pause, or stay paused a while longer */
	spare = fcntl(l->spare, F_DUPFD_CLOEXEC, 3);
	if (spare < 0) {
		uv_timer_start(t, accept_resume, ACCEPT_PAUSE_MS, 0);
		return;
	}
	uv_tcp_init(lp->loop, &l->tcp);
	l->tcp.data = l;
	l->open = 1;
	r = uv_tcp_open(&l->tcp, l->spare);
	if (r == 0) {
		l->spare = spare; /* the handle owns the old one now */
		spare = -1;
		r = uv_listen((uv_stream_t *)&l->tcp, 4096, on_connection);
	}
	if (r != 0) {
		log_warn("proxy: cannot accept again: %s", uv_strerror(r));
		if (spare >= 0)
			close(spare);
		uv_close((uv_handle_t *)&l->tcp, listener_closed);
		uv_timer_start(t, accept_resume, ACCEPT_PAUSE_MS, 0);
		return;
	}
	l->paused = 0;
}

static void
accept_pause(proxy_listener *l)
{
	if (l->spare < 0 || l->paused)
		return;
	if (l->timer == NULL) {
		l->timer = xmalloc(sizeof(*l->timer));
		uv_timer_init(l->lp->loop, l->timer);
		l->timer->data = l;
	}
	l->paused = 1;
	/* closing the handle stops libuv's accept loop; the spare keeps the socket */
	uv_close((uv_handle_t *)&l->tcp, listener_closed);
	uv_timer_start(l->timer, accept_resume, ACCEPT_PAUSE_MS, 0);
}

static void
listener_out_of_fds(proxy_listener *l, int status)
{
	proxy_loop *lp = l->lp;
	uint64_t now = now_ms();
	uv_os_fd_t lfd;

	if (now - lp->emfile_logged_ms >= 10000) {
		lp->emfile_logged_ms = now;
		log_warn("proxy: too many open files in the daemon (%s): new clients get 503 "
		    "until descriptors are free again", uv_strerror(status));
	}
	if (uv_fileno((uv_handle_t *)&l->tcp, &lfd) == 0 && listener_shed(lp, lfd) == 0)
		return;
	accept_pause(l);
}

static void
on_connection(uv_stream_t *ls, int status)
{
	proxy_listener *l = ls->data;

	if (status == 0)
		conn_accept(l->lp, l);
	else if (status == UV_EMFILE || status == UV_ENFILE)
		listener_out_of_fds(l, status);
}

static void
accept_reserve_close(proxy_loop *lp)
{
	for (unsigned i = 0; i < lp->nlis; i++) {
		proxy_listener *l = &lp->lis[i];

		if (l->timer != NULL) {
			uv_close((uv_handle_t *)l->timer, free_handle);
			l->timer = NULL;
		}
		if (l->spare >= 0)
			close(l->spare);
		l->spare = -1;
	}
	uv_mutex_lock(&lp->srv->lock);
	if (lp->srv->nreserves > 0)
		close(lp->srv->reserves[--lp->srv->nreserves]);
	uv_mutex_unlock(&lp->srv->lock);
}

static void
wake_closed(uv_handle_t *h)
{
	proxy_loop *lp = h->data;
	proxy_server *s = lp->srv;

	lp->wake_open = 0;
	if (lp->index == 0 && s->stopping == 2) {
		void (*cb)(void *) = s->stop_cb;
		void *arg = s->stop_arg;

		for (unsigned i = 0; i < s->nloops; i++) {
			free(s->loops[i]->corkbuf);
			free(s->loops[i]);
		}
		free(s->loops);
		uv_mutex_destroy(&s->lock);
		free(s->domain);
		free(s->app_domain);
		free(s);
		msg_head_cache_drain(); /* the main loop's */
		if (cb != NULL)
			cb(arg);
	}
}

/* After each poll: the access lines of this iteration, in one write. */
static void
on_log_flush(uv_check_t *h)
{
	proxy_loop *lp = h->data;

	log_batch_flush(&lp->access_log);
}

static void
free_handle(uv_handle_t *h)
{
	free(h);
}

/* From now on access lines are written as they come.  The handle is its own
 * allocation: the loop's memory may be freed before its close callback. */
static void
log_flush_close(proxy_loop *lp)
{
	log_batch_flush(&lp->access_log);
	if (lp->log_flush != NULL) {
		uv_close((uv_handle_t *)lp->log_flush, free_handle);
		lp->log_flush = NULL;
	}
}

static void
loop_stop(proxy_loop *lp)
{
	if (lp->stopping)
		return;
	lp->stopping = 1;
	log_flush_close(lp);
	conn_close_idle(lp);
	upstream_pools_close(lp);
	accept_reserve_close(lp);
	for (unsigned i = 0; i < lp->nlis; i++)
		if (lp->lis[i].open && !lp->lis[i].paused)
			uv_close((uv_handle_t *)&lp->lis[i].tcp, listener_closed);
	proxy_loop_maybe_done(lp);
}

/* Called whenever a loop may have become idle. */
void
proxy_loop_maybe_done(proxy_loop *lp)
{
	if (!lp->stopping || listeners_open(lp) || lp->nconns > 0 || lp->nupstreams > 0)
		return;
	pio_batch_close(lp); /* no one left to write for */
	tls_loop_close(lp);
	if (lp->index == 0) {
		server_maybe_done(lp->srv);
		return;
	}
	/* a worker: closing its last handle ends its uv_run */
	if (lp->wake_open == 1) {
		lp->wake_open = 2;
		uv_close((uv_handle_t *)&lp->wake, wake_closed);
	}
}

/* Worker wake-up: the only message is "stop". */
static void
worker_wake(uv_async_t *a)
{
	loop_stop(a->data);
}

static void
worker_main(void *arg)
{
	proxy_loop *lp = arg;
	proxy_server *s = lp->srv;
	sigset_t all;

	/* process signals belong to the main thread (the daemon's uv_signal) */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	uv_run(lp->loop, UV_RUN_DEFAULT);
	msg_head_cache_drain();
	if (uv_loop_close(lp->loop) != 0)
		log_warn("proxy: loop %u closed with handles open", lp->index);
	uv_mutex_lock(&s->lock);
	s->workers_done++;
	/* under the lock: loop 0 closes its wake handle only after seeing us done */
	uv_async_send(&s->loops[0]->wake);
	uv_mutex_unlock(&s->lock);
}

/* Main wake-up: adopt migrated connections, notice finished workers. */
static void
main_wake(uv_async_t *a)
{
	proxy_loop *lp = a->data;
	proxy_server *s = lp->srv;
	proxy_migrant *m, *next;

	uv_mutex_lock(&s->lock);
	m = s->migrants;
	s->migrants = NULL;
	s->migrants_tail = &s->migrants;
	uv_mutex_unlock(&s->lock);
	for (; m != NULL; m = next) {
		next = m->next;
		conn_adopt(lp, m);
	}
	server_maybe_done(s);
}

void
proxy_migrant_push(proxy_server *s, proxy_migrant *m)
{
	m->next = NULL;
	uv_mutex_lock(&s->lock);
	*s->migrants_tail = m;
	s->migrants_tail = &m->next;
	uv_async_send(&s->loops[0]->wake);
	uv_mutex_unlock(&s->lock);
}

/* Listener i of lp on the bound socket fd (taken: closed on failure). */
static int
listener_init(proxy_loop *lp, unsigned i, int fd, int tls)
{
	proxy_listener *l = &lp->lis[i];
	int r;

	l->lp = lp;
	l->tls = tls;
	l->spare = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	uv_tcp_init(lp->loop, &l->tcp);
	l->tcp.data = l;
	l->open = 1;
	if ((r = uv_tcp_open(&l->tcp, fd)) != 0)
		close(fd);
	else
		r = uv_listen((uv_stream_t *)&l->tcp, 4096, on_connection);
	return r;
}

/* Loop index on fds[0] (HTTP) and, when not -1, fds[1] (HTTPS). */
static int
loop_init(proxy_server *s, unsigned index, uv_loop_t *loop, const int fds[2])
{
	proxy_loop *lp = xcalloc(1, sizeof(*lp));
	int r, fd;

	s->loops[index] = lp;
	lp->srv = s;
	lp->index = index;
	lp->lis[0].spare = lp->lis[1].spare = -1;
	if (loop == NULL) {
		if ((r = uv_loop_init(&lp->own_loop)) != 0) {
			close(fds[0]);
			if (fds[1] >= 0)
				close(fds[1]);
			return r;
		}
		loop = &lp->own_loop;
	}
	lp->loop = loop;
	uv_mutex_lock(&s->lock);
	if (s->nreserves < PROXY_MAX_LOOPS && (fd = reserve_open()) >= 0)
		s->reserves[s->nreserves++] = fd;
	uv_mutex_unlock(&s->lock);
	lp->nlis = fds[1] >= 0 ? 2 : 1;
	r = listener_init(lp, 0, fds[0], 0);
	if (fds[1] >= 0) {
		int e = listener_init(lp, 1, fds[1], 1);

		r = r != 0 ? r : e;
		if (r == 0 && tls_loop_open(lp) != 0)
			r = UV_ENOMEM;
	}
	uv_async_init(loop, &lp->wake, index == 0 ? main_wake : worker_wake);
	lp->wake.data = lp;
	lp->wake_open = 1;
	lp->log_flush = xmalloc(sizeof(*lp->log_flush));
	uv_check_init(loop, lp->log_flush);
	lp->log_flush->data = lp;
	uv_check_start(lp->log_flush, on_log_flush);
	uv_unref((uv_handle_t *)lp->log_flush);
	if (s->cfg.batch_sends) {
		int e = pio_batch_open(lp);

		if (e != 0 && index == 0)
			log_info("proxy: io_uring refused (%s): each write is its own syscall",
			    strerror(-e));
	}
	return r;
}

/* Undoes loop_init for loops whose threads never ran. */
static void
loops_discard(proxy_server *s, unsigned from, unsigned to)
{
	for (unsigned i = from; i < to; i++) {
		proxy_loop *lp = s->loops[i];

		if (lp == NULL)
			continue;
		if (lp->loop == NULL) {
			/* uv_loop_init failed: nothing was opened */
			free(lp);
			s->loops[i] = NULL;
			continue;
		}
		for (unsigned j = 0; j < lp->nlis; j++)
			if (lp->lis[j].open)
				uv_close((uv_handle_t *)&lp->lis[j].tcp, NULL);
		accept_reserve_close(lp);
		tls_loop_close(lp);
		if (lp->wake_open)
			uv_close((uv_handle_t *)&lp->wake, NULL);
		log_flush_close(lp);
		pio_batch_close(lp);
		/* the handles' memory is the loop's: wait for the closes */
		uv_run(lp->loop, UV_RUN_NOWAIT);
		if (i > 0)
			uv_loop_close(lp->loop);
		free(lp);
		s->loops[i] = NULL;
	}
}

static int
fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > INT_MAX)
		return INT_MAX;
	return (int)rl.rlim_cur;
}

static void
start_failed_stopped(void *arg)
{
	*(int *)arg = 1;
}

/* n sockets on host:port into fds. */
static int
address_sockets(const char *host, int port, unsigned n, int *fds)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (uv_ip4_addr(host, port, (struct sockaddr_in *)&ss) != 0 &&
	    uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss) != 0)
		return -EINVAL;
	return listen_sockets(&ss, n, fds);
}

/* The HTTP sockets in fds[i][0], the HTTPS ones (or -1) in fds[i][1]. */
static int
server_sockets(const proxy_config *cfg, unsigned n, int fds[][2])
{
	int plain[PROXY_MAX_LOOPS], tls[PROXY_MAX_LOOPS];
	int r, https = cfg->tls != NULL;

	if ((r = address_sockets(cfg->listen_host, cfg->listen_port, n, plain)) != 0)
		return r;
	if (https && (r = address_sockets(cfg->https_host != NULL ? cfg->https_host :
	    cfg->listen_host, cfg->https_port, n, tls)) != 0) {
		for (unsigned i = 0; i < n; i++)
			close(plain[i]);
		return r;
	}
	for (unsigned i = 0; i < n; i++) {
		fds[i][0] = plain[i];
		fds[i][1] = https ? tls[i] : -1;
	}
	return 0;
}

int
proxy_server_start(uv_loop_t *loop, const proxy_config *cfg, http_hub_handler hub,
    void *hub_arg, proxy_server **out)
{
	proxy_server *s;
	int fds[PROXY_MAX_LOOPS][2];
	unsigned n = cfg->nloops == 0 ? 1 : cfg->nloops;
	int r = 0;

	if (n > PROXY_MAX_LOOPS)
		n = PROXY_MAX_LOOPS;
	if ((r = server_sockets(cfg, n, fds)) != 0)
		return r;
	s = xcalloc(1, sizeof(*s));
	s->cfg = *cfg;
	s->cfg.nloops = n;
	s->domain = xstrdup(cfg->domain);
	for (char *p = s->domain; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	s->cfg.domain = s->domain;
	s->app_domain = xstrdup(cfg->app_domain != NULL ? cfg->app_domain : cfg->domain);
	for (char *p = s->app_domain; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	s->cfg.app_domain = s->app_domain;
	s->hub = hub;
	s->hub_arg = hub_arg;
	s->nloops = n;
	s->loops = xcalloc(n, sizeof(*s->loops));
	s->port = sockaddr_port(fds[0][0]);
	s->https_port = fds[0][1] >= 0 ? sockaddr_port(fds[0][1]) : 0;
	s->migrants_tail = &s->migrants;
	s->fd_limit = fd_limit();
	atomic_init(&s->nconns, 0);
	uv_mutex_init(&s->lock);
	for (unsigned i = 0; i < n; i++) {
		int e = loop_init(s, i, i == 0 ? loop : NULL, fds[i]);

		if (e != 0 && r == 0)
			r = e;
		if (e != 0) {
			for (unsigned j = i + 1; j < n; j++) {
				close(fds[j][0]);
				if (fds[j][1] >= 0)
					close(fds[j][1]);
			}
			n = i + 1;
			break;
		}
	}
	for (unsigned i = 1; r == 0 && i < n; i++) {
		if ((r = uv_thread_create(&s->loops[i]->thread, worker_main, s->loops[i])) != 0) {
			/* stop the workers already running, then fail */
			int stopped = 0;

			log_warn("proxy: worker thread: %s", uv_strerror(r));
			loops_discard(s, i, n);
			s->nloops = i;
			proxy_server_stop(s, start_failed_stopped, &stopped);
			while (!stopped)
				uv_run(loop, UV_RUN_ONCE);
			return r;
		}
	}
	if (r != 0) {
		loops_discard(s, 0, n);
		uv_mutex_destroy(&s->lock);
		free(s->loops);
		free(s->domain);
		free(s->app_domain);
		free(s);
		return r;
	}
	*out = s;
	return 0;
}

int
proxy_server_port(const proxy_server *s)
{
	return s->port;
}

int
proxy_server_https_port(const proxy_server *s)
{
	return s->https_port;
}

void
proxy_server_send_stats(const proxy_server *s, uint64_t *batches, uint64_t *sends)
{
	*batches = *sends = 0;
	for (unsigned i = 0; i < s->nloops; i++) {
		*batches += atomic_load_explicit(&s->loops[i]->send_batches, memory_order_relaxed);
		*sends += atomic_load_explicit(&s->loops[i]->batched_sends, memory_order_relaxed);
	}
}

/* On loop 0: frees the server once every loop is done. */
static void
server_maybe_done(proxy_server *s)
{
	proxy_loop *lp = s->loops[0];
	int done;

	if (s->stopping != 1 || listeners_open(lp) || lp->nconns > 0 || lp->nupstreams > 0)
		return;
	uv_mutex_lock(&s->lock);
	done = s->workers_done == s->nloops - 1 && s->migrants == NULL;
	uv_mutex_unlock(&s->lock);
	if (!done)
		return;
	s->stopping = 2;
	for (unsigned i = 1; i < s->nloops; i++)
		uv_thread_join(&s->loops[i]->thread);
	uv_close((uv_handle_t *)&lp->wake, wake_closed);
}

void
proxy_server_stop(proxy_server *s, void (*cb)(void *arg), void *arg)
{
	s->stopping = 1;
	s->stop_cb = cb;
	s->stop_arg = arg;
	for (unsigned i = 1; i < s->nloops; i++)
		uv_async_send(&s->loops[i]->wake);
	loop_stop(s->loops[0]);
}
