/* metrics.c — GET /metrics on the hub: Prometheus text exposition format
 * (version 0.0.4), for the admin token only.
 *
 * Per space (label space="owner/name"): its stage, the proxy's counters (requests
 * by status class, a request duration histogram, bytes, open upstream
 * connections, upstream errors), crash restarts, cold starts and build durations
 * (histograms; builds from the store), and the app's CPU and memory from its box's cgroups. Then the
 * daemon's own process_* metrics. Each family is written whole (HELP, TYPE, every
 * series), as the format wants. A space's histogram appears with its first
 * observation, as a labelled one does in the client libraries: 500 idle spaces
 * would otherwise be mostly rows of zeros. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "orchestrator/host/disk.h"
#include "orchestrator/host/net.h"
#include "orchestrator/space.h"
#include "orchestrator/resources.h"
#include "orchestrator/store/store.h"
#include "orchestrator/host/usage.h"
#include "common/util.h"
#include "proxy/tls.h"
#include "orchestrator/cluster/cluster.h"
#include "web/web_int.h"

static const double build_bounds_s[] = { 1, 5, 10, 30, 60, 120, 300, 600, 1200 };
#define BUILD_BUCKETS (sizeof(build_bounds_s) / sizeof(build_bounds_s[0]) + 1)

typedef struct space_metrics {
	const space *s;
	char id[260];
	proxy_space_stats px;
	usage_info use;
	int running;
	json_int_t egress_tx, egress_rx;  /* -1: no running app on the network */
	uint64_t builds[BUILD_BUCKETS];  /* per bucket, not cumulative */
	uint64_t nbuilds;
	double build_sum;
} space_metrics;

typedef struct out {
	char *p;
	size_t len, cap;
} out;

static void __attribute__((format(printf, 2, 3)))
put(out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < o->cap - o->len)
			break;
		o->cap = o->cap * 2 + (size_t)(n > 0 ? n : 0) + 256;
		o->p = xrealloc(o->p, o->cap);
	}
	o->len += (size_t)n;
}

static void
family(out *o, const char *name, const char *type, const char *help)
{
	put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value as the format wants it: backslash, quote and newline escaped. */
static void
label_value(char *dst, size_t len, const char *src)
{
	size_t j = 0;

	for (; *src != '\0' && j + 3 < len; src++) {
		if (*src == '\\' || *src == '"' || *src == '\n') {
			dst[j++] = '\\';
			dst[j++] = *src == '\n' ? 'n' : *src;
		} else {
			dst[j++] = *src;
		}
	}
	dst[j] = '\0';
}

typedef struct build_ctx {
	space_metrics *m;
	size_t n, cur;
} build_ctx;

/* Builds arrive ordered by space id, the order of the spaces list: one pass. */
static void
build_one(int64_t sid, int64_t seconds, void *arg)
{
	build_ctx *c = arg;
	space_metrics *m;
	size_t b = 0;

	while (c->cur < c->n && space_id(c->m[c->cur].s) < sid)
		c->cur++;
	if (c->cur >= c->n || space_id(c->m[c->cur].s) != sid)
		return;
	m = &c->m[c->cur];
	if (seconds < 0)
		seconds = 0;
	while (b < BUILD_BUCKETS - 1 && (double)seconds > build_bounds_s[b])
		b++;
	m->builds[b]++;
	m->nbuilds++;
	m->build_sum += (double)seconds;
}

/* The running app's outward bytes (net.c's counters of its eth0), or -1. */
static void
egress_of(const space *s, space_metrics *m)
{
	json_t *e = space_egress_json(s, 1);
	json_t *tx = json_object_get(e, "tx_bytes"), *rx = json_object_get(e, "rx_bytes");

	m->egress_tx = json_is_integer(tx) ? json_integer_value(tx) : -1;
	m->egress_rx = json_is_integer(rx) ? json_integer_value(rx) : -1;
	json_decref(e);
}

static void
spaces_collect(podium *p, space_metrics **out_m, size_t *out_n)
{
	size_t n = 0, i = 0;
	space_metrics *m;
	build_ctx bc;

	for (space *s = p->spaces; s != NULL; s = space_next(s))
		n++;
	m = xcalloc(n > 0 ? n : 1, sizeof(*m));
	for (space *s = p->spaces; s != NULL; s = space_next(s), i++) {
		char raw[260];

		m[i].s = s;
		snprintf(raw, sizeof(raw), "%s/%s", space_owner(s), space_name(s));
		label_value(m[i].id, sizeof(m[i].id), raw);
		proxy_stats_get(raw, &m[i].px);
		m[i].running = space_usage(s, &m[i].use) == 0;
		egress_of(s, &m[i]);
	}
	/* builds come ordered by space id, as the spaces list is */
	bc.m = m;
	bc.n = n;
	bc.cur = 0;
	store_build_durations(p->store, build_one, &bc);
	*out_m = m;
	*out_n = n;
}

/* One space's series of a histogram: count[k] observations in bucket k, whose
 * upper bound is bound_s[k] (the last bucket has none), and their sum. */
static void
histogram(out *o, const char *name, const char *id, const uint64_t *count, const double *bound_s,
    size_t nb, const char *sum)
{
	unsigned long long cum = 0;

	for (size_t k = 0; k + 1 < nb; k++) {
		cum += count[k];
		put(o, "%s_bucket{space=\"%s\",le=\"%g\"} %llu\n", name, id, bound_s[k], cum);
	}
	cum += count[nb - 1];
	put(o, "%s_bucket{space=\"%s\",le=\"+Inf\"} %llu\n%s_sum{space=\"%s\"} %s\n"
	    "%s_count{space=\"%s\"} %llu\n", name, id, cum, name, id, sum, name, id, cum);
}

/* What the proxy counted for each space, and its app's restarts. */
static void
write_traffic(out *o, space_metrics *m, size_t n)
{
	static const char *const classes[6] = { "none", "1xx", "2xx", "3xx", "4xx", "5xx" };
	double bounds[PROXY_DURATION_BUCKETS - 1];
	char sum[32];
	size_t i;
	int k;

	family(o, "podium_space_stage", "gauge", "The space's stage (Hub names); 1 for the current one.");
	for (i = 0; i < n; i++)
		put(o, "podium_space_stage{space=\"%s\",stage=\"%s\"} 1\n", m[i].id, space_stage(m[i].s));

	family(o, "podium_space_http_requests_total", "counter",
	    "Requests answered for the space by the proxy, by status class.");
	for (i = 0; i < n; i++)
		for (k = 0; k < 6; k++)
			if (k > 0 || m[i].px.status_class[0] > 0)
				put(o, "podium_space_http_requests_total{space=\"%s\",code=\"%s\"} %llu\n",
				    m[i].id, classes[k], (unsigned long long)m[i].px.status_class[k]);

	family(o, "podium_space_http_request_duration_seconds", "histogram",
	    "Time from request start to the end of its response, through the proxy.");
	for (k = 0; k < PROXY_DURATION_BUCKETS - 1; k++)
		bounds[k] = proxy_duration_bounds_ms[k] / 1000.0;
	for (i = 0; i < n; i++) {
		if (m[i].px.requests == 0)
			continue; /* a labelled histogram appears with its first observation */
		snprintf(sum, sizeof(sum), "%.3f", (double)m[i].px.duration_sum_ms / 1000.0);
		histogram(o, "podium_space_http_request_duration_seconds", m[i].id, m[i].px.duration,
		    bounds, PROXY_DURATION_BUCKETS, sum);
	}

	family(o, "podium_space_received_bytes_total", "counter", "Request body bytes received for the space.");
	for (i = 0; i < n; i++)
		put(o, "podium_space_received_bytes_total{space=\"%s\"} %llu\n", m[i].id,
		    (unsigned long long)m[i].px.bytes_in);
	family(o, "podium_space_sent_bytes_total", "counter", "Response bytes (head and body) sent for the space.");
	for (i = 0; i < n; i++)
		put(o, "podium_space_sent_bytes_total{space=\"%s\"} %llu\n", m[i].id,
		    (unsigned long long)m[i].px.bytes_out);
	family(o, "podium_space_open_connections", "gauge", "Connections to the space's app open now.");
	for (i = 0; i < n; i++)
		put(o, "podium_space_open_connections{space=\"%s\"} %llu\n", m[i].id,
		    (unsigned long long)m[i].px.active_connections);
	family(o, "podium_space_upstream_errors_total", "counter",
	    "Requests the app could not answer (connect failed, reset, timeout).");
	for (i = 0; i < n; i++)
		put(o, "podium_space_upstream_errors_total{space=\"%s\"} %llu\n", m[i].id,
		    (unsigned long long)m[i].px.upstream_errors);
	family(o, "podium_space_restarts_total", "counter",
	    "Restarts of the space's app after it exited, since the daemon started.");
	for (i = 0; i < n; i++)
		put(o, "podium_space_restarts_total{space=\"%s\"} %u\n", m[i].id, space_restarts(m[i].s));
}

/* How long the space's apps took to start and its builds to finish. */
static void
write_timings(out *o, space_metrics *m, size_t n)
{
	char sum[32];

	family(o, "podium_space_cold_start_seconds", "histogram",
	    "Time from starting the space's app to its port answering, since the daemon started.");
	for (size_t i = 0; i < n; i++) {
		const cold_starts *cs = space_cold_starts(m[i].s);

		if (cs->n == 0)
			continue;
		snprintf(sum, sizeof(sum), "%.3f", cs->sum_s);
		histogram(o, "podium_space_cold_start_seconds", m[i].id, cs->count, cold_start_bounds_s,
		    COLD_START_BUCKETS, sum);
	}
	family(o, "podium_space_build_duration_seconds", "histogram",
	    "Duration of the space's finished builds (whole seconds).");
	for (size_t i = 0; i < n; i++) {
		if (m[i].nbuilds == 0)
			continue;
		snprintf(sum, sizeof(sum), "%g", m[i].build_sum);
		histogram(o, "podium_space_build_duration_seconds", m[i].id, m[i].builds, build_bounds_s,
		    BUILD_BUCKETS, sum);
	}
}

/* What the space's running app uses now. */
static void
write_usage(out *o, space_metrics *m, size_t n)
{
	size_t i;

	family(o, "podium_space_cpu_seconds_total", "counter",
	    "CPU time used by the space's running app (restarts from 0 with a new instance).");
	for (i = 0; i < n; i++)
		if (m[i].running && m[i].use.cpu_seconds >= 0)
			put(o, "podium_space_cpu_seconds_total{space=\"%s\"} %.3f\n", m[i].id,
			    m[i].use.cpu_seconds);
	family(o, "podium_space_egress_sent_bytes_total", "counter",
	    "Bytes the space's running app sent out through its network (restarts from 0 with a new instance).");
	for (i = 0; i < n; i++)
		if (m[i].egress_tx >= 0)
			put(o, "podium_space_egress_sent_bytes_total{space=\"%s\"} %lld\n", m[i].id,
			    (long long)m[i].egress_tx);
	family(o, "podium_space_egress_received_bytes_total", "counter",
	    "Bytes the space's running app received through its network (restarts from 0 with a new instance).");
	for (i = 0; i < n; i++)
		if (m[i].egress_rx >= 0)
			put(o, "podium_space_egress_received_bytes_total{space=\"%s\"} %lld\n", m[i].id,
			    (long long)m[i].egress_rx);
	family(o, "podium_space_memory_bytes", "gauge", "Memory charged to the space's running app.");
	for (i = 0; i < n; i++)
		if (m[i].running && m[i].use.memory_bytes >= 0)
			put(o, "podium_space_memory_bytes{space=\"%s\"} %lld\n", m[i].id,
			    (long long)m[i].use.memory_bytes);
	family(o, "podium_space_processes", "gauge", "Tasks in the space's running app's box.");
	for (i = 0; i < n; i++)
		if (m[i].running && m[i].use.processes >= 0)
			put(o, "podium_space_processes{space=\"%s\"} %lld\n", m[i].id,
			    (long long)m[i].use.processes);
}

enum { DATA_ROOM, DATA_LIMITED, DATA_ERRORS, DATA_READ_ONLY };

/* One family with a series per space whose /data is attached. */
static void
data_family(out *o, const char *name, const char *type, const char *help,
    const space_metrics *m, size_t n, const int *have, const storage_health *h, int which)
{
	family(o, name, type, help);
	for (size_t i = 0; i < n; i++) {
		uint64_t v = which == DATA_ROOM ? h[i].room : which == DATA_LIMITED ?
		    (uint64_t)h[i].limited : which == DATA_ERRORS ? h[i].errors :
		    (uint64_t)h[i].read_only;

		if (have[i])
			put(o, "%s{space=\"%s\"} %llu\n", name, m[i].id, (unsigned long long)v);
	}
}

/* The data disk, and each attached /data's share of it (host/disk.h, storage.h). */
static void
write_disk(out *o, space_metrics *m, size_t n)
{
	storage_health *h = xcalloc(n + 1, sizeof(*h));
	int *have = xcalloc(n + 1, sizeof(*have));
	disk_info d;

	disk_get(&d);
	family(o, "podium_disk_size_bytes", "gauge", "Size of the filesystem the data dir is on.");
	put(o, "podium_disk_size_bytes %llu\n", (unsigned long long)d.size);
	family(o, "podium_disk_available_bytes", "gauge",
	    "Bytes that may still be written to the data disk (without root's reserve).");
	put(o, "podium_disk_available_bytes %llu\n", (unsigned long long)d.avail);
	family(o, "podium_disk_reserve_bytes", "gauge",
	    "The data disk is full under this many bytes available (disk.reserve).");
	put(o, "podium_disk_reserve_bytes %llu\n", (unsigned long long)d.reserve);
	family(o, "podium_disk_full", "gauge",
	    "1 while the data disk is full: writes answer 507, apps' /data refuse to grow.");
	put(o, "podium_disk_full %d\n", d.full);
	family(o, "podium_disk_write_refusals_total", "counter",
	    "Writes answered 507 because the data disk was full.");
	put(o, "podium_disk_write_refusals_total %llu\n", (unsigned long long)d.refusals);
	for (size_t i = 0; i < n; i++)
		have[i] = space_data_health(m[i].s, &h[i]) == 0;
	data_family(o, "podium_space_data_room_bytes", "gauge",
	    "Bytes the space's app may still write to its /data (its size and the disk's room).",
	    m, n, have, h, DATA_ROOM);
	data_family(o, "podium_space_data_limited", "gauge",
	    "1 while the space's /data may not grow as far as its size because the disk is short.",
	    m, n, have, h, DATA_LIMITED);
	data_family(o, "podium_space_data_errors_total", "counter",
	    "Errors the space's /data filesystem reported (ext4 errors_count).", m, n, have, h,
	    DATA_ERRORS);
	data_family(o, "podium_space_data_read_only", "gauge",
	    "1 while the space's /data is read-only after an error.", m, n, have, h, DATA_READ_ONLY);
	free(h);
	free(have);
}

/* The daemon itself, with the names client libraries use. */
static void
write_process(out *o)
{
	char buf[2048], *rp;
	unsigned long long ut = 0, st = 0, start = 0, vsize = 0;
	long long rss = 0, btime = 0;
	double hz = (double)sysconf(_SC_CLK_TCK);
	struct rlimit rl;
	struct dirent *e;
	int fds = 0;
	FILE *f = fopen("/proc/self/stat", "r");
	DIR *d;

	if (f != NULL) {
		if (fgets(buf, sizeof(buf), f) != NULL && (rp = strrchr(buf, ')')) != NULL)
			sscanf(rp + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d"
			    " %*d %*d %llu %llu %lld", &ut, &st, &start, &vsize, &rss);
		fclose(f);
	}
	if ((f = fopen("/proc/stat", "r")) != NULL) {
		while (fgets(buf, sizeof(buf), f) != NULL)
			if (sscanf(buf, "btime %lld", &btime) == 1)
				break;
		fclose(f);
	}
	if ((d = opendir("/proc/self/fd")) != NULL) {
		while ((e = readdir(d)) != NULL)
			fds += e->d_name[0] != '.';
		closedir(d);
		fds--; /* the directory's own descriptor */
	}
	family(o, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
	put(o, "process_cpu_seconds_total %.2f\n", (double)(ut + st) / hz);
	family(o, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
	put(o, "process_resident_memory_bytes %lld\n", rss * (long long)sysconf(_SC_PAGESIZE));
	family(o, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
	put(o, "process_virtual_memory_bytes %llu\n", vsize);
	family(o, "process_open_fds", "gauge", "Number of open file descriptors.");
	put(o, "process_open_fds %d\n", fds);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		family(o, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
		put(o, "process_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
	}
	family(o, "process_start_time_seconds", "gauge",
	    "Start time of the process since unix epoch in seconds.");
	put(o, "process_start_time_seconds %.2f\n", (double)btime + (double)start / hz);
}

/* HTTPS: each certificate's expiry (the hub, each space host, the files). */
static void
write_tls(out *o, podium *p)
{
	json_t *st, *e;
	size_t i;

	if (p->tls == NULL)
		return;
	st = tls_certs_status(p->tls);
	family(o, "podium_tls_certificate_expiry_seconds", "gauge",
	    "When the certificate served for host expires (Unix time; 0: none yet).");
	json_array_foreach(json_object_get(st, "certificates"), i, e) {
		json_t *na = json_object_get(e, "notAfter");

		put(o, "podium_tls_certificate_expiry_seconds{host=\"%s\",source=\"%s\",state=\"%s\"} %lld\n",
		    json_string_value(json_object_get(e, "host")),
		    json_string_value(json_object_get(e, "source")),
		    json_string_value(json_object_get(e, "state")),
		    json_is_integer(na) ? (long long)json_integer_value(na) : 0LL);
	}
	family(o, "podium_tls_certificate_failures", "gauge",
	    "Failed issuances or renewals in a row, per host.");
	json_array_foreach(json_object_get(st, "certificates"), i, e)
		put(o, "podium_tls_certificate_failures{host=\"%s\"} %lld\n",
		    json_string_value(json_object_get(e, "host")),
		    (long long)json_integer_value(json_object_get(e, "failures")));
	family(o, "podium_tls_refused_names_total", "counter",
	    "Handshakes naming a host that is neither the hub nor a space (no certificate asked).");
	put(o, "podium_tls_refused_names_total %lld\n",
	    (long long)json_integer_value(json_object_get(st, "refused")));
	json_decref(st);
}

/* The store's round trips, and on a cluster node its nodes, their load and
 * who schedules (issue 27). */
static void
write_cluster(out *o, podium *p)
{
	json_t *cj, *nodes, *n;
	size_t i;

	family(o, "podium_store_statements_total", "counter",
	    "Statements the daemon sent to its store (its main connection).");
	put(o, "podium_store_statements_total %llu\n",
	    (unsigned long long)store_statements(p->store));
	if (p->cluster == NULL)
		return;
	cj = cluster_json(p->cluster);
	nodes = json_object_get(cj, "nodes");
	family(o, "podium_cluster_statements_total", "counter",
	    "Statements this node's cluster thread sent (lease, lock, reads).");
	put(o, "podium_cluster_statements_total %llu\n",
	    (unsigned long long)cluster_statements(p->cluster));
	family(o, "podium_cluster_leader", "gauge", "1 while this node schedules.");
	put(o, "podium_cluster_leader{node=\"%s\"} %d\n", p->node,
	    json_is_true(json_object_get(cj, "leader")));
	family(o, "podium_node_up", "gauge", "1 while the node holds its lease.");
	json_array_foreach(nodes, i, n)
		put(o, "podium_node_up{node=\"%s\",state=\"%s\"} %d\n",
		    json_string_value(json_object_get(n, "name")),
		    json_string_value(json_object_get(n, "state")),
		    json_is_true(json_object_get(n, "alive")));
	family(o, "podium_node_spaces", "gauge", "Spaces placed on the node.");
	json_array_foreach(nodes, i, n)
		put(o, "podium_node_spaces{node=\"%s\"} %lld\n",
		    json_string_value(json_object_get(n, "name")),
		    (long long)json_integer_value(json_object_get(n, "spaces")));
	family(o, "podium_node_memory_committed_bytes", "gauge",
	    "Memory the node's running apps' limits commit.");
	json_array_foreach(nodes, i, n)
		put(o, "podium_node_memory_committed_bytes{node=\"%s\"} %lld\n",
		    json_string_value(json_object_get(n, "name")),
		    (long long)json_integer_value(json_object_get(n, "memoryCommitted")));
	family(o, "podium_node_memory_budget_bytes", "gauge", "The node's memory budget for apps.");
	json_array_foreach(nodes, i, n)
		put(o, "podium_node_memory_budget_bytes{node=\"%s\"} %lld\n",
		    json_string_value(json_object_get(n, "name")),
		    (long long)json_integer_value(json_object_get(n, "memoryBudget")));
	json_decref(cj);
}

void
web_metrics(web_call *c)
{
	space_metrics *m;
	size_t n;
	out o = { 0 };

	o.cap = 64 * 1024;
	o.p = xmalloc(o.cap);
	spaces_collect(c->p, &m, &n);
	write_traffic(&o, m, n);
	write_timings(&o, m, n);
	write_usage(&o, m, n);
	write_disk(&o, m, n);
	write_process(&o);
	write_tls(&o, c->p);
	write_cluster(&o, c->p);
	free(m);
	http_respond(c->x, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, 0, o.p, o.len);
	free(o.p);
}
