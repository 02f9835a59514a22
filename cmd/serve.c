/* daemon.c — `podium serve`: one libuv loop, one listener, the store, the spaces.
 *
 * Start: open the data dir and the store → ensure the admin user and its token →
 * bring back the spaces → listen. Stop (SIGTERM/SIGINT): stop accepting, stop every
 * app (state kept), close the store. A second signal exits at once. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "orchestrator/host/budget.h"
#include "orchestrator/store/accounts.h"
#include "builder/image.h"
#include "cmd/serve.h"
#include "proxy/ticket.h"
#include "orchestrator/host/flavors.h"
#include "common/config.h"
#include "common/log.h"
#include "orchestrator/host/net.h"
#include "orchestrator/cluster/cluster.h"
#include "proxy/proxy.h"
#include "proxy/routes.h"
#include "proxy/tls.h"
#include "sandbox/box.h"
#include "orchestrator/secrets.h"
#include "orchestrator/space.h"
#include "orchestrator/resources.h"
#include "orchestrator/host/storage.h"
#include "orchestrator/limits.h"
#include "common/util.h"
#include "web/web.h"

static uv_signal_t sig_term, sig_int;
static int signals_seen;
static tls_store *tls_certs_store; /* freed once the proxy has stopped */
static cluster *node_cluster;

/* First start: create the admin user and write its token to DIR/admin.token (0600).
 * A missing token file on a later start gets a fresh token. */
static int
ensure_admin(podium *p)
{
	char *path = xasprintf("%s/admin.token", p->data_dir);
	char token[128], line[130];
	int64_t uid;
	int created = 0, r;

	r = store_user_ensure(p->store, "admin", &uid, &created);
	if (r != 0)
		goto done;
	if (!created && access(path, F_OK) == 0)
		goto done;
	r = accounts_token_create(p->store, uid, 1, "admin.token", token, sizeof(token));
	if (r != 0)
		goto done;
	snprintf(line, sizeof(line), "%s\n", token);
	r = fs_write_file(path, line, strlen(line), 0600);
	if (r == 0)
		log_info("admin token written to %s", path);
done:
	if (r != 0)
		error("cannot set up the admin user: %s", strerror(-r));
	free(path);
	return r;
}

static void
proxy_stopped(void *arg)
{
	podium *p = arg;

	p->proxy = NULL;
	tls_store_free(tls_certs_store);
	tls_certs_store = NULL;
	uv_close((uv_handle_t *)&sig_term, NULL);
	uv_close((uv_handle_t *)&sig_int, NULL);
}

static void
spaces_stopped(void *arg)
{
	podium *p = arg;

	log_info("all apps stopped");
	spaces_storage_detach(p);
	routes_clear();
	net_stop();
	tls_certs_stop(p->tls);
	if (p->proxy != NULL)
		proxy_server_stop(p->proxy, proxy_stopped, p);
	else
		proxy_stopped(p);
}

static void
on_signal(uv_signal_t *h, int signum)
{
	podium *p = h->data;

	if (++signals_seen > 1) {
		log_warn("second signal: exiting now");
		_exit(1);
	}
	log_info("signal %d: stopping", signum);
	/* a node stops renewing its lease first: its spaces move once it lapsed */
	cluster_stop(node_cluster);
	node_cluster = NULL;
	spaces_shutdown(p, spaces_stopped, p);
}

char *
cmd_exe_sibling(const char *name)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return xstrdup(name);
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash != NULL)
		*slash = '\0';
	return xasprintf("%s/%s", exe, name);
}

/* Descriptors bound how many apps and clients one daemon can hold: take all the
 * hard limit allows (the soft one is often 1024, i.e. about 200 apps) and say
 * what it comes to. Running out is still handled (budget.c, proxy/loops.c). */
static void
raise_fd_limit(void)
{
	struct rlimit rl;
	rlim_t was;
	uint64_t limit, reserve, open, apps;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	was = rl.rlim_cur;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
			log_warn("cannot raise the descriptor limit to %llu: %s",
			    (unsigned long long)rl.rlim_max, strerror(errno));
			rl.rlim_cur = was;
		}
	}
	limit = budget_fd_limit();
	reserve = budget_fd_reserve(limit);
	open = budget_fds_open();
	apps = limit > reserve + open ? (limit - reserve - open) / BUDGET_FDS_PER_INSTANCE : 0;
	log_info("file descriptors: limit %llu (was %llu, hard %llu): room for about %llu running apps "
	    "(%d each) with %llu kept for clients (2 per proxied request)", (unsigned long long)limit,
	    (unsigned long long)was, (unsigned long long)rl.rlim_max, (unsigned long long)apps,
	    BUDGET_FDS_PER_INSTANCE, (unsigned long long)reserve);
}

/* When the host runs out of memory the kernel kills the process it scores
 * worst; that must be an app (podium-sandbox puts every box back to a normal
 * score, sandbox/launcher.c), never the daemon that serves all of them. */
static void
protect_from_oom(void)
{
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, "-900", 4) != 4)
		log_warn("cannot protect the daemon from the OOM killer (oom_score_adj): %s",
		    strerror(errno));
	if (fd >= 0)
		close(fd);
}

static void
set_memory_budget(uint64_t bytes)
{
	uint64_t b = budget_set_memory(bytes);

	log_info("memory budget for apps: %.1f GiB%s: room for %llu apps at %.1f GiB each",
	    (double)b / (1ull << 30), bytes == 0 ? " (auto: MemTotal minus a reserve)" : "",
	    (unsigned long long)(b / SPACE_MEMORY_LIMIT), (double)SPACE_MEMORY_LIMIT / (1ull << 30));
}

/* What a newcomer needs next, once the listener is up (make run ends here). */
static void
print_welcome(const podium *p)
{
	char *hub = podium_hub_url(p);
	char *app = podium_space_url(p, "admin-hello");

	fprintf(stderr,
	    "\n"
	    "  podium is up.\n"
	    "    hub:          %s/  (API: %s/api/health)\n"
	    "    admin token:  %s/admin.token\n"
	    "    quickstart:   README.md, \"Quickstart\": create a space, git push an example,\n"
	    "                  then open %s/\n"
	    "    stop:         Ctrl-C (apps stop, state is kept in %s)\n"
	    "\n", hub, hub, p->data_dir, app, p->data_dir);
	free(hub);
	free(app);
}

/* Nothing under the data dir is any other local user's to read (issue 21.4): the
 * database (password hashes, variables, token prefixes), the secrets key, tokens,
 * repositories, releases and logs. The data dir itself is 0700; the daemon works as
 * root, and a box reaches its own release and /data because podium-sandbox opens
 * them before it takes the box's uid. A data dir of an older podium (0711, with
 * 0755 repositories and 0644 logs) is fixed here at every start: the areas, their
 * owners' and spaces' directories and the files of the top and of the logs. */
static void
lock_entries(const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat st;

	while (d != NULL && (e = readdir(d)) != NULL) {
		char *path;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		path = xasprintf("%s/%s", dir, e->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == 0) {
			chmod(path, 0700);
			if (depth > 1)
				lock_entries(path, depth - 1);
		} else if (lstat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			chmod(path, 0600);
		}
		free(path);
	}
	if (d != NULL)
		closedir(d);
}

static void
data_dir_lock_down(const char *data)
{
	static const char *const files[] = { "podium.db", "podium.db-wal", "podium.db-shm",
		"secrets.key", "admin.token", "egress.json", "config.yaml" };

	chmod(data, 0700);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *f = xasprintf("%s/%s", data, files[i]);

		chmod(f, 0600);
		free(f);
	}
	for (const char *sub = "repos\0releases\0spacedata\0logs\0cache\0"; *sub != '\0';
	    sub += strlen(sub) + 1) {
		char *d = xasprintf("%s/%s", data, sub);

		fs_mkdir_p(d, 0700);
		chmod(d, 0700);
		/* OWNER, the repositories and the logs' files (a space's /data and build
		 * disk roots stay as storage.c made them) */
		lock_entries(d, strcmp(sub, "logs") == 0 ? 3 : strcmp(sub, "repos") == 0 ? 2 : 1);
		free(d);
	}
}

/* The data dir's store (--store, config.yaml's store: or DIR/podium.db) in
 * p->store. 0 or -1 (logged). */
static int
open_store(podium *p, const char *url)
{
	char *where, err[512], what[512];
	int r;

	if (store_locate(p->data_dir, url, p->config, &where, err, sizeof(err)) != 0)
		return error("config: %s", err);
	if (p->node != NULL) {
		/* the main loop waits on the store: never past the fencing deadline
		 * (lease × 0.7 after the last renewal, cluster.h) */
		const char *lease = getenv("PODIUM_LEASE_MS");
		unsigned ms = lease != NULL && atoi(lease) >= 1000 ? (unsigned)atoi(lease) : 10000;

		store_pg_net_timeouts(2, ms / 4);
	}
	r = store_open(where, &p->store);
	free(where);
	if (r != 0)
		return error("cannot open the store%s", url != NULL ? " of --store" : "");
	store_describe(p->store, what, sizeof(what));
	log_info("store: %s", what);
	return 0;
}

/* The data dir (made if missing, absolute in p->data_dir), its layout, its
 * configuration in p->config and its store in p->store. 0 or -1 (logged). */
static int
open_data_dir(podium *p, const char *dir, const char *store_url)
{
	char real[PATH_MAX], *path, err[512];
	int r;

	if ((r = fs_mkdir_p(dir, 0700)) != 0)
		return error("cannot create data dir %s: %s", dir, strerror(-r));
	if (realpath(dir, real) == NULL)
		return error("data dir %s: %s", dir, strerror(errno));
	p->data_dir = xstrdup(real);
	data_dir_lock_down(p->data_dir);
	path = xasprintf("%s/config.yaml", p->data_dir);
	r = config_load(path, &p->config, err, sizeof(err));
	free(path);
	if (r != 0 || flavors_load(p->config, err, sizeof(err)) != 0 ||
	    image_settings_load(p->config, err, sizeof(err)) != 0 ||
	    limits_load(p->config, err, sizeof(err)) != 0)
		return error("config: %s", err);
	/* Dockerfile builds and system images: without them docker spaces are a
	 * CONFIG_ERROR that says why */
	path = cmd_exe_sibling("podium-seccomp.json");
	r = image_store_init(p->data_dir, p->sandbox_bin, path, err, sizeof(err));
	free(path);
	if (r != 0)
		log_warn("images: off: %s", err);
	else
		log_info("images: store %s/images (buildah as host ids %u..%u)", p->data_dir,
		    IMAGE_BUILD_IDS, IMAGE_BUILD_IDS + 65535);
	return open_store(p, store_url);
}

/* ---- HTTPS ------------------------------------------------------------------ */

/* A certificate is asked for only for the hub and the hosts of existing
 * spaces: never for a name someone merely sent in a handshake. */
static int
host_may_have_certificate(const char *host, void *arg)
{
	podium *p = arg;
	size_t hl = strlen(host), al = strlen(p->app_domain);
	char sub[256];

	if (strcmp(host, p->domain) == 0)
		return strcmp(host, "localhost") != 0 && strspn(host, "0123456789.:[]") != hl;
	if (hl <= al + 1 || host[hl - al - 1] != '.' || strcmp(host + hl - al, p->app_domain) != 0)
		return 0;
	for (space *s = p->spaces; s != NULL; s = space_next(s)) {
		name_subdomain(space_owner(s), space_name(s), sub, sizeof(sub));
		if (strlen(sub) == hl - al - 1 && strncmp(host, sub, hl - al - 1) == 0)
			return 1;
	}
	return 0;
}

/* config.yaml's tls: with --https: the certificates, before the listeners. */
static int
start_tls(podium *p, const podium_options *opt)
{
	tls_settings set;
	tls_certs_config cc;
	char err[512];
	int r;

	if (tls_settings_load(p->config, &set, err, sizeof(err)) != 0)
		return error("config: %s", err);
	r = 0;
	if (set.mode == TLS_OFF && opt->https_port >= 0)
		r = error("--https needs a certificate: config.yaml tls: {mode: files|acme, ...}");
	else if (set.mode != TLS_OFF && opt->https_port < 0)
		r = error("config.yaml tls: mode %s needs --https HOST:PORT (e.g. 0.0.0.0:443)",
		    set.mode == TLS_FILES ? "files" : "acme");
	if (r != 0 || set.mode == TLS_OFF)
		goto done;
	p->https_host = xstrdup(opt->https_host != NULL ? opt->https_host : p->listen_host);
	p->https_port = opt->https_port;
	if (tls_store_new(&tls_certs_store) != 0) {
		r = error("tls: cannot set up OpenSSL");
		goto done;
	}
	cc = (tls_certs_config){ &set, p->data_dir, p->domain, p->app_domain, host_may_have_certificate, p };
	r = tls_certs_start(p->loop, &cc, tls_certs_store, &p->tls);
done:
	tls_settings_release(&set);
	return r;
}

/* The listener and its loops, with the hub's handler. */
static int
start_proxy(podium *p)
{
	proxy_config cfg;
	const char *env;
	int r;

	proxy_config_init(&cfg);
	cfg.listen_host = p->listen_host;
	cfg.listen_port = p->listen_port;
	cfg.domain = p->domain;
	cfg.app_domain = p->app_domain;
	if (p->tls != NULL) {
		cfg.tls = tls_certs_store;
		cfg.https_host = p->https_host;
		cfg.https_port = p->https_port;
		cfg.acme_dir = tls_certs_challenge_dir(p->tls);
	}
	/* an escape hatch, and the bench's A/B: PODIUM_PROXY_BATCH_SENDS=0 */
	env = getenv("PODIUM_PROXY_BATCH_SENDS");
	if (env != NULL && strcmp(env, "0") == 0)
		cfg.batch_sends = 0;
	/* requests held per sleeping space while it wakes (tests use a small one) */
	env = getenv("PODIUM_PROXY_MAX_HELD");
	if (env != NULL && atoi(env) > 0)
		cfg.max_held_per_space = (unsigned)atoi(env);
	r = proxy_server_start(p->loop, &cfg, web_hub_handle, p, &p->proxy);
	if (r != 0)
		return error("cannot listen on %s:%d%s%s: %s", p->listen_host, p->listen_port,
		    p->tls != NULL ? " and HTTPS on " : "", p->tls != NULL ? p->https_host : "",
		    uv_strerror(r));
	return 0;
}

/* The key the nodes of a cluster sign forwarded requests with: DATA/cluster.key
 * (32 bytes, 0600), made by the first node; every node needs the same one, as
 * it needs the same secrets.key. 0 or -1 (logged). */
static int
cluster_key_load(const podium *p, unsigned char key[ROUTE_CLUSTER_KEY_BYTES])
{
	char *path = xasprintf("%s/cluster.key", p->data_dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0 && errno == ENOENT) {
		randombytes_buf(key, ROUTE_CLUSTER_KEY_BYTES);
		if (fs_write_file(path, (const char *)key, ROUTE_CLUSTER_KEY_BYTES, 0600) != 0)
			r = error("cannot write %s", path);
		else
			log_warn("cluster: made a new key in %s: copy it to every other node "
			         "(with secrets.key) before they start", path);
	} else if (fd < 0 || read(fd, key, ROUTE_CLUSTER_KEY_BYTES) != ROUTE_CLUSTER_KEY_BYTES) {
		r = error("cannot read the cluster's key from %s (32 bytes)", path);
	}
	if (fd >= 0)
		close(fd);
	free(path);
	return r;
}

/* --node: this daemon is one node of a cluster (orchestrator/cluster). */
static int
start_node(podium *p, const podium_options *opt)
{
	unsigned char key[ROUTE_CLUSTER_KEY_BYTES];
	cluster_options co = { 0 };
	const char *lease = getenv("PODIUM_LEASE_MS");
	char *where = NULL, err[256];
	int r;

	if (opt->advertise == NULL)
		return error("--node needs --advertise IPV4:PORT (where the other nodes reach it)");
	if (store_locate(p->data_dir, opt->store, p->config, &where, err, sizeof(err)) != 0)
		return error("config: %s", err);
	if (cluster_key_load(p, key) != 0) {
		free(where);
		return -1;
	}
	routes_set_cluster(p->node, key);
	sodium_memzero(key, sizeof(key));
	co.node = p->node;
	co.advertise = opt->advertise;
	co.store = where;
	co.shared = p->shared_dir != NULL;
	co.lease_ms = lease != NULL && atoi(lease) >= 1000 ? (unsigned)atoi(lease) : 0;
	r = cluster_start(p, &co, &node_cluster);
	free(where);
	if (r == 0)
		p->cluster = node_cluster;
	return r;
}

/* What podium_serve made, freed when it ends (a failed start included). */
static void
podium_release(podium *p)
{
	if (p->store != NULL)
		store_close(p->store);
	config_free(p->config);
	free(p->domain);
	free(p->app_domain);
	free(p->listen_host);
	free(p->sandbox_bin);
	free(p->https_host);
	free(p->data_dir);
	free(p->node);
	free(p->shared_dir);
}

int
podium_serve(const podium_options *opt)
{
	podium p = { 0 };
	char err[768];
	int r = -1;

	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	protect_from_oom();
	set_memory_budget(opt->memory_budget);
	p.loop = uv_default_loop();
	p.domain = xstrdup(opt->domain);
	p.app_domain = xstrdup(opt->app_domain != NULL ? opt->app_domain : opt->domain);
	p.listen_host = xstrdup(opt->listen_host);
	p.listen_port = opt->listen_port;
	p.sleep_after_default = opt->sleep_after;
	p.keep_releases = opt->keep_releases;
	p.sandbox_bin = cmd_exe_sibling("podium-sandbox");
	if (access(p.sandbox_bin, X_OK) != 0) {
		error("podium-sandbox not found at %s (build it with make)", p.sandbox_bin);
		goto done;
	}
	/* Before anything is started: without its cgroups every box would fail later,
	 * one by one, with exit 125. */
	if (box_host_check("/sys/fs/cgroup", err, sizeof(err)) != 0) {
		error("%s", err);
		goto done;
	}
	p.node = opt->node != NULL ? xstrdup(opt->node) : NULL;
	if (opt->shared != NULL) {
		char real[PATH_MAX];

		if (opt->node == NULL) {
			error("--shared is for a cluster's nodes (--node)");
			goto done;
		}
		if (realpath(opt->shared, real) == NULL) {
			error("--shared %s: %s", opt->shared, strerror(errno));
			goto done;
		}
		p.shared_dir = xstrdup(real);
		for (const char *sub = "repos\0spacedata\0"; *sub != '\0'; sub += strlen(sub) + 1) {
			char *d = xasprintf("%s/%s", p.shared_dir, sub);

			fs_mkdir_p(d, 0711);
			free(d);
		}
	}
	if (open_data_dir(&p, opt->data_dir, opt->store) != 0)
		goto done;
	if (spaces_configure(&p, err, sizeof(err)) != 0) {
		error("%s", err);
		goto done;
	}
	/* once, before the proxy's threads hash tokens: libsodium picks its fastest
	 * implementations here */
	if (sodium_init() < 0) {
		error("cannot initialize libsodium");
		goto done;
	}
	if (ensure_admin(&p) != 0 || accounts_tokens_publish(p.store) != 0)
		goto done;
	web_start(&p);
	ticket_init();
	if (secrets_init(p.data_dir) != 0 || start_tls(&p, opt) != 0 || start_proxy(&p) != 0)
		goto done;
	/* From here on a failed start exits with the proxy's threads running. */
	if (net_start(p.loop, p.data_dir, p.config) != 0)
		goto done;
	if (spaces_init(&p) != 0) {
		net_stop();
		error("cannot load spaces");
		goto done;
	}
	if (p.node != NULL && start_node(&p, opt) != 0) {
		net_stop();
		goto done;
	}

	uv_signal_init(p.loop, &sig_term);
	uv_signal_init(p.loop, &sig_int);
	sig_term.data = sig_int.data = &p;
	uv_signal_start(&sig_term, on_signal, SIGTERM);
	uv_signal_start(&sig_int, on_signal, SIGINT);
	{
		char *hub = podium_hub_url(&p), *app = podium_space_url(&p, "OWNER-NAME");

		log_info("podium serving http://%s:%d%s%s%s (hub: %s, apps: %s), data %s",
		    p.listen_host, proxy_server_port(p.proxy), p.tls != NULL ? " and https://" : "",
		    p.tls != NULL ? p.https_host : "", p.tls != NULL ? "" : "", hub, app, p.data_dir);
		free(hub);
		free(app);
	}
	print_welcome(&p);

	uv_run(p.loop, UV_RUN_DEFAULT);
	log_info("stopped");
	r = 0;
done:
	podium_release(&p);
	return r;
}
