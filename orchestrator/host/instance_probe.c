/* instance_probe.c — is the app answering? Readiness: $PORT is tried inside the
 * box's network namespace until it accepts (then on_ready). Liveness: once ready,
 * an HTTP request every interval; failures in a row end the box as "not
 * responding", and a check is skipped while the proxy sees the app at work. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/log.h"
#include "common/util.h"
#include "orchestrator/host/instance_int.h"
#include "proxy/proxy.h"

/* Readiness: $PORT is tried every 5 ms for the first 2 s (most apps are up by
 * then, and a woken app's held requests wait on this), every 100 ms after. */
#define PROBE_FAST_MS 5
#define PROBE_FAST_FOR_MS 2000
#define PROBE_INTERVAL_MS 100
/* Requests in flight without a response completing excuse a missed liveness check
 * this long: the proxy's own response timeout (a request running longer gets a 504). */
#define LIVENESS_BUSY_MAX_MS 60000

/* Liveness checks once an app is ready: PODIUM_LIVENESS=INTERVAL_MS,TIMEOUT_MS,FAILURES
 * (read once; "0" turns them off). */
static struct {
	unsigned interval_ms, timeout_ms, failures;
	int loaded;
} liveness = { 10000, 5000, 3, 0 };

static void liveness_begin(instance *in);

/* ---- readiness: does $PORT accept? ---- */

static uint64_t
probe_interval(const instance *in)
{
	return now_ms() - in->started_ms < PROBE_FAST_FOR_MS ? PROBE_FAST_MS : PROBE_INTERVAL_MS;
}

static void
probe_timer_fired(uv_timer_t *t)
{
	instance_probe_start(t->data);
}

static void
probe_closed(uv_handle_t *h)
{
	instance *in = h->data;

	in->probe_active = 0;
	if (in->ready && !in->exited && !in->stopping && !in->killing)
		liveness_begin(in);
	if (in->ready && in->cb.on_ready != NULL && !in->exited && !in->stopping && !in->killing)
		in->cb.on_ready(in, in->cb.arg);
	else if (!in->ready && !in->exited && !in->stopping && !in->killing)
		uv_timer_start(&in->probe_timer, probe_timer_fired, probe_interval(in), 0);
	instance_maybe_finish(in);
}

static void
probe_connected(uv_connect_t *req, int status)
{
	instance *in = req->data;

	free(req);
	if (status == 0 && !in->ready) {
		in->ready = 1;
		uv_timer_stop(&in->startup_timer);
		log_info("instance %llu: ready on port %d after %llu ms", (unsigned long long)in->id,
		    in->port, (unsigned long long)(now_ms() - in->started_ms));
	}
	in->probe.data = in;
	uv_close((uv_handle_t *)&in->probe, probe_closed);
}

void
instance_probe_start(instance *in)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(in->port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	uv_connect_t *req;
	int fd;

	if (in->exited || in->stopping || in->killing || in->ready || in->probe_active ||
	    in->netns_fd < 0)
		return;
	fd = netns_socket(in->netns_fd, AF_INET, SOCK_STREAM);
	if (fd == -EMFILE || fd == -ENFILE) {
		instance_fail(in, -fd);
		return;
	}
	if (fd < 0) {
		log_warn("instance %llu: probe socket: %s", (unsigned long long)in->id, strerror(-fd));
		uv_timer_start(&in->probe_timer, probe_timer_fired, probe_interval(in), 0);
		return;
	}
	uv_tcp_init(in->loop, &in->probe);
	in->probe.data = in;
	in->probe_active = 1;
	if (uv_tcp_open(&in->probe, fd) != 0) {
		close(fd);
		uv_close((uv_handle_t *)&in->probe, probe_closed);
		return;
	}
	req = xmalloc(sizeof(*req));
	req->data = in;
	if (uv_tcp_connect(req, &in->probe, (struct sockaddr *)&sa, probe_connected) != 0) {
		free(req);
		uv_close((uv_handle_t *)&in->probe, probe_closed);
	}
}

/* ---- liveness: is a ready app still answering? ---- */

void
instance_live_config(void)
{
	const char *v = getenv("PODIUM_LIVENESS");
	unsigned a, b, c;
	char end;

	if (liveness.loaded)
		return;
	liveness.loaded = 1;
	if (v == NULL)
		return;
	if (strcmp(v, "0") == 0) {
		liveness.interval_ms = 0;
		log_info("liveness checks off (PODIUM_LIVENESS=0)");
	} else if (sscanf(v, "%u,%u,%u%c", &a, &b, &c, &end) == 3 && a > 0 && b > 0 && c > 0) {
		liveness.interval_ms = a;
		liveness.timeout_ms = b;
		liveness.failures = c;
		log_info("liveness checks every %u ms, %u ms timeout, %u failures restart an app",
		    a, b, c);
	} else {
		log_warn("PODIUM_LIVENESS=%s ignored: want INTERVAL_MS,TIMEOUT_MS,FAILURES "
		    "(e.g. 10000,5000,3) or 0; using %u,%u,%u", v, liveness.interval_ms,
		    liveness.timeout_ms, liveness.failures);
	}
}

static void liveness_fire(uv_timer_t *t);

static void
liveness_schedule(instance *in)
{
	if (liveness.interval_ms == 0 || in->exited || in->stopping || in->killing)
		return;
	uv_timer_start(&in->live_timer, liveness_fire, liveness.interval_ms, 0);
}

/* The app answers: checks start from the proxy's counters as they are now (they
 * count for the space, earlier instances included). */
static void
liveness_begin(instance *in)
{
	proxy_space_stats st = { 0 };

	if (in->stats_id != NULL && proxy_stats_get(in->stats_id, &st) == 0) {
		in->seen_bytes_out = st.bytes_out;
		in->seen_errors = st.upstream_errors;
	}
	liveness_schedule(in);
}

void
instance_live_stop(instance *in)
{
	uv_timer_stop(&in->live_timer);
	if (in->live_probe != NULL) {
		http_probe_cancel(in->live_probe);
		in->live_probe = NULL;
	}
}

/* Whether the proxy saw the app at work since the last check, which makes a check
 * needless: responses went out (bytes to clients; requests a client gave up on send
 * none) and no upstream error happened; or requests are in flight and none failed,
 * for at most LIVENESS_BUSY_MAX_MS: a long request keeps a single-threaded app from
 * answering a check and is no sign of a hang, but a hung app's requests never end
 * (or end as 504s) and its checks come back. */
static int
liveness_app_busy(instance *in)
{
	proxy_space_stats st = { 0 };
	uint64_t now = now_ms();
	int clean, progress, busy;

	if (in->stats_id == NULL || proxy_stats_get(in->stats_id, &st) != 0)
		return 0;
	clean = st.upstream_errors == in->seen_errors;
	progress = clean && st.bytes_out > in->seen_bytes_out;
	busy = clean && st.active_connections > 0;
	in->seen_bytes_out = st.bytes_out;
	in->seen_errors = st.upstream_errors;
	if (progress) {
		in->live_failures = 0;
		in->busy_since = 0;
		return 1;
	}
	if (!busy) {
		in->busy_since = 0;
		return 0;
	}
	if (in->busy_since == 0)
		in->busy_since = now;
	return now - in->busy_since < LIVENESS_BUSY_MAX_MS;
}

static void
liveness_done(int result, void *arg)
{
	instance *in = arg;

	in->live_probe = NULL;
	if (in->exited || in->stopping || in->killing)
		return;
	if (result == 0) {
		in->live_failures = 0;
		liveness_schedule(in);
		return;
	}
	in->live_failures++;
	log_warn("instance %llu: liveness check %u of %u failed: %s", (unsigned long long)in->id,
	    in->live_failures, liveness.failures,
	    result == -ETIMEDOUT ? "no HTTP answer in time" : strerror(-result));
	if (in->live_failures < liveness.failures) {
		liveness_schedule(in);
		return;
	}
	in->not_responding = 1;
	instance_note(in, "==> podium: the app is not responding: no HTTP answer on port %d to %u "
	    "checks in a row (%u ms apart, %u ms each); restarting it", in->port,
	    liveness.failures, liveness.interval_ms, liveness.timeout_ms);
	instance_kill(in);
}

static void
liveness_fire(uv_timer_t *t)
{
	instance *in = t->data;
	int r;

	if (in->exited || in->stopping || in->killing || in->live_probe != NULL)
		return;
	if (liveness_app_busy(in)) {
		liveness_schedule(in);
		return;
	}
	r = http_probe_start(in->loop, in->netns_fd, in->port, liveness.timeout_ms, liveness_done,
	    in, &in->live_probe);
	if (r != 0) {
		in->live_probe = NULL;
		liveness_done(r, in);
	}
}
