/* space.c — one space's lifecycle: builds of pushed commits, releases, app
 * instances (start, readiness, restart with backoff, zero-downtime switch) and the
 * route the proxy reads. The set of spaces (create, delete, JSON, startup) is
 * spaces.c; shared private types are in space_int.h. */
#include "space_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "budget.h"
#include "builder.h"
#include "hardware.h"
#include "usage.h"
#include "instance.h"
#include "log.h"
#include "logfile.h"
#include "routes.h"
#include "storage.h"
#include "secrets.h"
#include "util.h"

/* Instances and builds still running; shutdown completes when both reach zero. */
int space_active_instances;
int space_active_builds;
void (*space_shutdown_cb)(void *arg);
void *space_shutdown_arg;

static void space_start_instance(space *s, inst_ref *ref);

/* ---- small helpers ---- */

const char *
space_owner(const space *s)
{
	return s->row.owner;
}

const char *
space_name(const space *s)
{
	return s->row.name;
}

int
space_is_private(const space *s)
{
	return s->row.private;
}

/* Everything of a space lives at DATA/AREA/OWNER/NAME(SUFFIX). */
static char *
space_path(const podium *p, const space *s, const char *area, const char *suffix)
{
	return xasprintf("%s/%s/%s/%s%s", p->data_dir, area, s->row.owner, s->row.name, suffix);
}

char *
space_repo_path(const podium *p, const space *s)
{
	return space_path(p, s, "repos", ".git");
}

char *
space_releases_dir(const podium *p, const space *s)
{
	return space_path(p, s, "releases", "");
}

char *
space_data_dir(const podium *p, const space *s)
{
	return space_path(p, s, "spacedata", "");
}

char *
space_logs_dir(const podium *p, const space *s)
{
	return space_path(p, s, "logs", "");
}

char *
space_cache_dir(const podium *p, const space *s)
{
	return space_path(p, s, "cache", "");
}

char *
space_app_log_path(const podium *p, const space *s)
{
	return space_path(p, s, "logs", "/app.log");
}

char *
space_build_log_path(const podium *p, const space *s)
{
	return space_path(p, s, "logs", "/build.log");
}

unsigned
space_host_uid(const space *s)
{
	return HOST_UID_BASE + (unsigned)s->row.id;
}

void
space_replace_str(char **dst, const char *src)
{
	/* Copy first: src may be *dst itself (keep the current error message). */
	char *copy = src != NULL ? xstrdup(src) : NULL;

	free(*dst);
	*dst = copy;
}

void
space_save(space *s)
{
	if (s->p->stopping)
		return;
	store_space_update(s->p->store, &s->row);
}

void
space_set_stage(space *s, const char *stage, const char *message)
{
	if (s->p->stopping)
		return;
	if (strcmp(s->row.stage, stage) != 0)
		log_info("space %s/%s: %s → %s", s->row.owner, s->row.name, s->row.stage, stage);
	space_replace_str(&s->row.stage, stage);
	space_replace_str(&s->row.error, message);
	if (s->row.error != NULL) /* it may quote a pushed file: the API's JSON needs UTF-8 */
		utf8_scrub(s->row.error);
	space_save(s);
	space_update_route(s);
}

int
space_serving(const space *s)
{
	return s->static_live || (s->live != NULL && s->live->ready);
}

void
space_maybe_shutdown_done(void)
{
	if (space_shutdown_cb != NULL && space_active_instances == 0 && space_active_builds == 0) {
		void (*cb)(void *) = space_shutdown_cb;
		space_shutdown_cb = NULL;
		cb(space_shutdown_arg);
	}
}

/* ---- routes ---- */

void
space_update_route(space *s)
{
	const char *id_fmt = "%s/%s";
	char *id = xasprintf(id_fmt, s->row.owner, s->row.name);
	route_target *t = lifecycle_route(s, id);

	if (t != NULL) {
		/* paused, asleep or waking */
	} else if (s->static_live) {
		t = route_target_static(id, s->static_root);
	} else if (s->live != NULL && s->live->ready) {
		int fd = instance_netns_dup(s->live->in);
		if (fd >= 0)
			t = route_target_app(id, fd, instance_port(s->live->in), instance_id(s->live->in));
	}
	if (t == NULL) {
		const char *st = s->row.stage;
		int starting = strstr(st, "BUILDING") != NULL || strstr(st, "STARTING") != NULL;
		char *msg = xasprintf("Space %s is %s%s%s", id, st, s->row.error ? ": " : "",
		    s->row.error ? s->row.error : "");
		t = route_target_status(starting ? ROUTE_STARTING : ROUTE_DOWN, id, msg);
		free(msg);
	}
	if (s->row.private)
		route_target_set_private(t, s->row.owner);
	routes_set(s->row.subdomain, t);
	free(id);
}

/* ---- releases ---- */

/* Removes release directories of this space other than the ones in use. */
static void
space_prune_releases(space *s)
{
	char *dir = space_releases_dir(s->p, s);
	char keep[4 + 64][32];
	int64_t kept[64];
	int nkeep = 0, nkept = lifecycle_kept_releases(s, kept, 64);
	char path[4096];

	for (int i = 0; i < nkept; i++)
		snprintf(keep[nkeep++], sizeof(keep[0]), "%lld", (long long)kept[i]);
	if (s->row.release_id > 0)
		snprintf(keep[nkeep++], sizeof(keep[0]), "%lld", (long long)s->row.release_id);
	if (s->live != NULL)
		snprintf(keep[nkeep++], sizeof(keep[0]), "%lld", (long long)s->live->build_id);
	if (s->pending != NULL)
		snprintf(keep[nkeep++], sizeof(keep[0]), "%lld", (long long)s->pending->build_id);
	if (s->build != NULL)
		snprintf(keep[nkeep++], sizeof(keep[0]), "%lld", (long long)s->build->build_id);

	DIR *d = opendir(dir);
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL) {
		int used = e->d_name[0] == '.';
		for (int i = 0; i < nkeep && !used; i++)
			used = strcmp(keep[i], e->d_name) == 0;
		if (used)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		fs_rm_rf(path);
	}
	if (d != NULL)
		closedir(d);
	free(dir);
}

/* ---- instances ---- */

static void
inst_ref_free(inst_ref *ref)
{
	app_config_release(&ref->cfg);
	free(ref->release_dir);
	free(ref);
}

/* The old instance keeps serving requests that already hold its route for a moment,
 * then stops. */
static void
drain_expired(uv_timer_t *t)
{
	inst_ref *ref = t->data;

	if (ref->in != NULL)
		instance_stop(ref->in, STOP_GRACE_MS);
	uv_close((uv_handle_t *)t, (uv_close_cb)free);
}

void
space_detach_instance(space *s, inst_ref *ref, unsigned drain_ms)
{
	(void)s;
	ref->s = NULL;
	if (ref->in == NULL) {
		inst_ref_free(ref);
		return;
	}
	if (drain_ms == 0) {
		instance_stop(ref->in, STOP_GRACE_MS);
		return;
	}
	uv_timer_t *t = xmalloc(sizeof(*t));
	uv_timer_init(s->p->loop, t);
	t->data = ref;
	uv_timer_start(t, drain_expired, drain_ms, 0);
}

static void
space_go_live_static(space *s, int64_t build_id, const char *release_dir, const app_config *cfg)
{
	free(s->static_root);
	s->static_root = cfg->static_dir[0] != '\0'
	    ? xasprintf("%s/%s", release_dir, cfg->static_dir) : xstrdup(release_dir);
	s->static_live = 1;
	uv_timer_stop(&s->restart_timer);
	if (s->pending != NULL) {
		space_detach_instance(s, s->pending, 0);
		s->pending = NULL;
	}
	if (s->live != NULL) {
		space_detach_instance(s, s->live, DRAIN_MS);
		s->live = NULL;
	}
	s->row.release_id = build_id;
	s->row.want_running = 1;
	s->crashes = 0;
	space_set_stage(s, "RUNNING", NULL);
	space_prune_releases(s);
}

static void
instance_ready(instance *in, void *arg)
{
	inst_ref *ref = arg;
	space *s = ref->s;

	ref->ready = 1;
	if (s == NULL)
		return;
	space_cold_start(s, now_ms() - instance_started_ms(in));
	if (ref == s->pending) {
		inst_ref *old = s->live;
		s->pending = NULL;
		s->live = ref;
		s->pending_crashes = 0;
		s->crashes = 0;
		if (s->static_live) {
			s->static_live = 0;
			free(s->static_root);
			s->static_root = NULL;
		}
		s->row.release_id = ref->build_id;
		s->row.want_running = 1;
		/* The route switches before the old instance is told to stop. */
		lifecycle_ready(s);
		space_set_stage(s, "RUNNING", NULL);
		if (old != NULL)
			space_detach_instance(s, old, DRAIN_MS);
		space_prune_releases(s);
	} else if (ref == s->live) {
		space_set_stage(s, "RUNNING", s->row.error);
	}
}

static char *
exit_message(const instance_exit *ex, int attempts)
{
	char what[256];

	if (ex->reason != NULL)
		snprintf(what, sizeof(what), "%s", ex->reason);
	else if (ex->oom_killed)
		snprintf(what, sizeof(what), "app was killed: out of memory");
	else if (ex->startup_timeout)
		snprintf(what, sizeof(what), "app did not open its port in time (startup_duration_timeout)");
	else if (ex->exit_code == 125)
		snprintf(what, sizeof(what), "sandbox setup failed");
	else if (ex->exit_code == 127)
		snprintf(what, sizeof(what), "app command not found");
	else if (ex->exit_code > 128)
		snprintf(what, sizeof(what), "app was killed by signal %d", ex->exit_code - 128);
	else
		snprintf(what, sizeof(what), "app exited with code %d", ex->exit_code);
	return xasprintf("%s (after %d start%s). Last output:\n%s", what, attempts,
	    attempts == 1 ? "" : "s", ex->tail[0] != '\0' ? ex->tail : "(none)");
}

static void
restart_fire(uv_timer_t *t)
{
	space *s = t->data;
	inst_ref *ref = s->restart_for_pending ? s->pending : s->live;

	if (ref != NULL && ref->in == NULL) {
		s->restarts++;
		space_start_instance(s, ref);
	}
}

static uint64_t
backoff_ms(int crashes)
{
	uint64_t ms = 1000ull << (crashes > 5 ? 5 : crashes - 1);

	return ms > 30000 ? 30000 : ms;
}

static void
instance_exited(instance *in, const instance_exit *ex, void *arg)
{
	inst_ref *ref = arg;
	space *s = ref->s;

	space_active_instances--;
	budget_release(ref);
	ref->in = NULL;
	ref->ready = 0;
	if (s == NULL || s->p->stopping) {
		if (s == NULL)
			inst_ref_free(ref);
		space_maybe_shutdown_done();
		return;
	}
	if (ref == s->pending) {
		s->pending_crashes++;
		if (s->pending_crashes <= MAX_RESTARTS && !ex->startup_timeout) {
			s->restart_for_pending = 1;
			uv_timer_start(&s->restart_timer, restart_fire, backoff_ms(s->pending_crashes), 0);
			return;
		}
		char *msg = exit_message(ex, s->pending_crashes);
		s->pending = NULL;
		inst_ref_free(ref);
		if (space_serving(s))
			space_set_stage(s, "RUNNING", msg);
		else
			space_set_stage(s, "RUNTIME_ERROR", msg);
		free(msg);
		return;
	}
	if (ref == s->live) {
		if (ex->was_ready && now_ms() - instance_started_ms(in) > HEALTHY_RUN_MS)
			s->crashes = 0;
		s->crashes++;
		if (s->crashes <= MAX_RESTARTS) {
			log_warn("space %s/%s: app exited (code %d); restart %d in %llu ms", s->row.owner,
			    s->row.name, ex->exit_code, s->crashes, (unsigned long long)backoff_ms(s->crashes));
			s->restart_for_pending = 0;
			space_set_stage(s, "APP_STARTING", NULL);
			uv_timer_start(&s->restart_timer, restart_fire, backoff_ms(s->crashes), 0);
			return;
		}
		char *msg = exit_message(ex, s->crashes);
		s->live = NULL;
		inst_ref_free(ref);
		space_set_stage(s, "RUNTIME_ERROR", msg);
		free(msg);
	}
}

static void
env_add(char ***env, size_t *n, char *kv)
{
	*env = xrealloc(*env, (*n + 2) * sizeof(char *));
	(*env)[(*n)++] = kv;
	(*env)[*n] = NULL;
}

static void
space_start_instance(space *s, inst_ref *ref)
{
	podium *p = s->p;
	instance_spec spec = { 0 };
	instance_cb cb = { instance_ready, instance_exited, ref };
	char **env = NULL, **cenv, **mask;
	size_t nenv = 0;
	char *data_dir = space_data_dir(p, s), *log_path = space_app_log_path(p, s);
	char *host = podium_space_url(p, s->row.subdomain);
	const char *title = json_string_value(json_object_get(ref->cfg.card, "title"));
	int port = ref->cfg.app_port > 0 ? ref->cfg.app_port : 7860;
	char why[512];
	int r;

	env_add(&env, &nenv, xasprintf("PORT=%d", port));
	env_add(&env, &nenv, xasprintf("SPACE_ID=%s/%s", s->row.owner, s->row.name));
	env_add(&env, &nenv, xasprintf("SPACE_HOST=%s", host + strlen("http://")));
	env_add(&env, &nenv, xasprintf("SPACE_AUTHOR_NAME=%s", s->row.owner));
	env_add(&env, &nenv, xasprintf("SPACE_REPO_NAME=%s", s->row.name));
	env_add(&env, &nenv, xasprintf("SPACE_TITLE=%s", title != NULL ? title : s->row.name));
	env_add(&env, &nenv, xstrdup("SYSTEM=spaces"));
	env_add(&env, &nenv, xstrdup("HOME=/home/user"));
	env_add(&env, &nenv, xstrdup("PATH=/home/user/app/.venv/bin:/home/user/app/node_modules/.bin:"
	    "/usr/local/bin:/usr/bin:/bin"));
	env_add(&env, &nenv, xstrdup("PYTHONUNBUFFERED=1"));
	env_add(&env, &nenv, xstrdup("GRADIO_SERVER_NAME=0.0.0.0"));
	env_add(&env, &nenv, xasprintf("GRADIO_SERVER_PORT=%d", port));
	env_add(&env, &nenv, xstrdup("LANG=C.UTF-8"));
	space_config_env(p, s, &cenv, &mask); /* variables and secrets, read at each start */
	for (size_t i = 0; cenv != NULL && cenv[i] != NULL; i++)
		env_add(&env, &nenv, cenv[i]);
	free(cenv);

	spec.sandbox_bin = p->sandbox_bin;
	spec.release_dir = ref->release_dir;
	spec.data_dir = data_dir;
	spec.log_path = log_path;
	spec.argv = ref->cfg.run_argv;
	spec.env = (const char *const *)env;
	spec.mask = (const char *const *)mask;
	spec.port = port;
	spec.host_uid = space_host_uid(s);
	const flavor *hw = space_flavor(s);
	snprintf(ref->flavor, sizeof(ref->flavor), "%s", hw->name);
	spec.memory_bytes = hw->memory_bytes;
	spec.pids = hw->pids;
	spec.cpus = hw->cpus;
	spec.startup_timeout_s = ref->cfg.startup_timeout_s > 0 ? (unsigned)ref->cfg.startup_timeout_s : 1800;

	why[0] = '\0';
	/* /data is a filesystem of its own, made on the first start (storage.c) */
	if ((r = storage_attach(p, s, why + 9, sizeof(why) - 9)) != 0)
		memcpy(why, "storage: ", 9);
	else
		r = budget_reserve(s->row.id, ref, spec.memory_bytes, why, sizeof(why));
	if (r == 0 && (r = instance_start(p->loop, &spec, &cb, &ref->in)) != 0)
		budget_release(ref);
	if (r == 0)
		space_active_instances++;
	config_strv_free(env);
	config_strv_free(mask);
	free(data_dir);
	free(log_path);
	free(host);
	if (r != 0) {
		char *msg = why[0] != '\0' ? xstrdup(why)
		    : xasprintf("could not start the app: %s", instance_strerror(r));
		log_warn("space %s/%s: %s", s->row.owner, s->row.name, msg);
		if (ref == s->pending)
			s->pending = NULL;
		if (ref == s->live)
			s->live = NULL;
		inst_ref_free(ref);
		space_set_stage(s, space_serving(s) ? "RUNNING" : "RUNTIME_ERROR", msg);
		free(msg);
	}
}

/* Starts a release built by build_id: static ones switch at once, apps start a
 * pending instance that takes over once ready. Takes ownership of cfg's contents. */
void
space_deploy(space *s, int64_t build_id, const char *release_dir, app_config *cfg)
{
	if (strcmp(cfg->sdk, "static") == 0 || cfg->run_argv == NULL) {
		space_go_live_static(s, build_id, release_dir, cfg);
		app_config_release(cfg);
		return;
	}
	if (s->pending != NULL) {
		space_detach_instance(s, s->pending, 0);
		s->pending = NULL;
	}
	uv_timer_stop(&s->restart_timer);
	inst_ref *ref = xcalloc(1, sizeof(*ref));
	ref->s = s;
	ref->build_id = build_id;
	ref->cfg = *cfg;
	app_config_init(cfg);
	ref->release_dir = xstrdup(release_dir);
	s->pending = ref;
	s->pending_crashes = 0;
	space_set_stage(s, space_serving(s) ? "RUNNING_APP_STARTING" : "APP_STARTING", NULL);
	space_start_instance(s, ref);
}

/* Variables or secrets changed: the release serving (or the one starting) starts
 * again as a new instance with the new environment, and takes over once it
 * answers, as a deploy does. A static release has no environment to change. */
void
space_redeploy(space *s)
{
	int64_t id = s->pending != NULL ? s->pending->build_id : s->row.release_id;
	build_row b = { 0 };
	app_config cfg;
	json_t *j;

	if (s->p->stopping || id <= 0 || (s->pending == NULL && (s->static_live ||
	    !s->row.want_running)))
		return;
	if (store_build_get(s->p->store, id, &b) != 0 || b.config == NULL) {
		build_row_release(&b);
		return;
	}
	app_config_init(&cfg);
	j = json_loads(b.config, 0, NULL);
	if (j != NULL && app_config_from_json(&cfg, j) == 0) {
		char *rel = xasprintf("%s/%lld", b.release_dir, (long long)b.id);

		log_info("space %s/%s: configuration changed, restarting release %lld",
		    s->row.owner, s->row.name, (long long)b.id);
		space_deploy(s, b.id, rel, &cfg);
		free(rel);
	}
	json_decref(j);
	app_config_release(&cfg);
	build_row_release(&b);
}

/* ---- builds ---- */

static const char *
build_stage_name(build_stage_result st)
{
	switch (st) {
	case BUILD_NO_APP_FILE: return "NO_APP_FILE";
	case BUILD_CONFIG_ERROR: return "CONFIG_ERROR";
	default: return "BUILD_ERROR";
	}
}

static void
build_ctx_free(build_ctx *c)
{
	free(c->release_dir);
	free(c->sha);
	free(c->repo);
	free(c->log_path);
	free(c->space_id);
	free(c->cache_dir);
	free(c);
}

/* Builds run at most build_slots() at a time; the rest wait here in push order, so a
 * burst of pushes cannot bury the machine in pip and npm. */
static build_ctx *queue_head, *queue_tail;

static int
build_slots(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 2 ? 2 : (int)n;
}

static void builds_pump(podium *p);

static void
build_done(build_job *job, const build_result *res, void *arg)
{
	build_ctx *c = arg;
	space *s = c->s;
	podium *p = c->p;

	space_active_builds--;
	if (s == NULL || p->stopping) {
		/* Superseded, deleted or shutting down: the result is dropped. */
		if (!p->stopping)
			store_build_finish(p->store, c->build_id, "failed", "cancelled", NULL);
		if (s == NULL || res->status != BUILD_OK)
			fs_rm_rf(c->release_dir);
		build_ctx_free(c);
		builds_pump(p);
		space_maybe_shutdown_done();
		return;
	}
	s->build = NULL;
	s->job = NULL;
	if (res->config.card != NULL) {
		char *card = json_dumps(res->config.card, JSON_COMPACT);
		space_replace_str(&s->row.card, card);
		free(card);
	}
	if (res->status == BUILD_OK) {
		json_t *j = app_config_to_json(&res->config);
		char *cfg_text = json_dumps(j, JSON_COMPACT);
		app_config cfg;
		app_config_init(&cfg);
		app_config_from_json(&cfg, j);
		store_build_finish(p->store, c->build_id, "ok", NULL, cfg_text);
		free(cfg_text);
		json_decref(j);
		if (strcmp(s->row.sdk, cfg.sdk) != 0)
			space_replace_str(&s->row.sdk, cfg.sdk);
		log_info("space %s/%s: build %lld of %.12s ok", s->row.owner, s->row.name,
		    (long long)c->build_id, c->sha);
		if (!lifecycle_build_ok(s, c->build_id))
			space_deploy(s, c->build_id, c->release_dir, &cfg);
		app_config_release(&cfg);
	} else {
		store_build_finish(p->store, c->build_id, "failed", res->message, NULL);
		fs_rm_rf(c->release_dir);
		log_info("space %s/%s: build %lld failed: %s", s->row.owner, s->row.name,
		    (long long)c->build_id, res->message);
		if (space_serving(s) || s->pending != NULL)
			space_set_stage(s, s->pending != NULL ? "RUNNING_APP_STARTING" : "RUNNING", res->message);
		else
			space_set_stage(s, build_stage_name(res->status), res->message);
	}
	build_ctx_free(c);
	builds_pump(p);
}

static void
build_start(build_ctx *c)
{
	build_request req = { 0 };
	space *s = c->s;
	podium *p = c->p;
	char **env, **mask;
	int r;

	req.repo_path = c->repo;
	req.sha = c->sha;
	req.release_dir = c->release_dir;
	req.log_path = c->log_path;
	req.sandbox_bin = p->sandbox_bin;
	req.space_id = c->space_id;
	req.host_uid = c->host_uid;
	req.cache_dir = c->cache_dir;
	req.no_cache = c->no_cache;
	req.memory_bytes = flavor_build()->memory_bytes;
	req.pids = flavor_build()->pids;
	req.cpus = flavor_build()->cpus;
	space_config_env(p, s, &env, &mask);
	req.env = (const char *const *)env;
	req.mask = (const char *const *)mask;
	r = builder_build_start(p->loop, &req, build_done, c, &s->job);
	config_strv_free(env);
	config_strv_free(mask);
	if (r != 0) {
		s->build = NULL;
		store_build_finish(p->store, c->build_id, "failed", "could not start the build", NULL);
		space_set_stage(s, space_serving(s) ? "RUNNING" : "BUILD_ERROR",
		    "internal error: could not start the build");
		build_ctx_free(c);
		return;
	}
	space_active_builds++;
}

static void
builds_pump(podium *p)
{
	while (!p->stopping && queue_head != NULL && space_active_builds < build_slots()) {
		build_ctx *c = queue_head;

		queue_head = c->next;
		if (queue_head == NULL)
			queue_tail = NULL;
		c->next = NULL;
		if (c->s == NULL) {
			store_build_finish(p->store, c->build_id, "failed", "cancelled", NULL);
			build_ctx_free(c);
			continue;
		}
		build_start(c);
	}
}

static void
builds_enqueue(build_ctx *c)
{
	int ahead = space_active_builds;
	logfile lf;

	for (build_ctx *q = queue_head; q != NULL; q = q->next)
		ahead += q->s != NULL;
	if (ahead >= build_slots() && logfile_open(&lf, c->log_path, 0644) == 0) {
		char line[128];
		int n = snprintf(line, sizeof(line), "==> waiting for a build slot (%d builds ahead, "
		    "%d at a time)\n", ahead, build_slots());

		logfile_write(&lf, line, (size_t)n);
		logfile_close(&lf);
	}
	if (queue_tail != NULL)
		queue_tail->next = c;
	else
		queue_head = c;
	queue_tail = c;
	builds_pump(c->p);
}

void
space_build_abandon(space *s)
{
	if (s->build == NULL)
		return;
	s->build->s = NULL;
	if (s->job != NULL)
		builder_build_cancel(s->job);
	s->build = NULL;
	s->job = NULL;
}

void
space_builds_drop_queued(void)
{
	while (queue_head != NULL) {
		build_ctx *c = queue_head;
		queue_head = c->next;
		if (c->s != NULL)
			c->s->build = NULL;
		build_ctx_free(c);
	}
	queue_tail = NULL;
}

void
space_on_push(podium *p, space *s, const char *sha)
{
	space_build_commit(p, s, sha, 0);
}

void
space_build_commit(podium *p, space *s, const char *sha, int no_cache)
{
	build_row b = { 0 };
	char *logs = space_logs_dir(p, s), *rel = space_releases_dir(p, s);
	build_ctx *c;
	int r;

	log_info("space %s/%s: push of %.12s", s->row.owner, s->row.name, sha);
	space_replace_str(&s->row.sha, sha);
	/* A newer push supersedes the build waiting or in flight. */
	space_build_abandon(s);
	fs_mkdir_p(logs, 0750);
	fs_mkdir_p(rel, 0755);
	b.space_id = s->row.id;
	b.sha = (char *)sha;
	b.release_dir = rel;
	b.log_path = space_build_log_path(p, s);
	r = store_build_insert(p->store, &b);
	if (r != 0) {
		free(b.log_path);
		free(logs);
		free(rel);
		space_set_stage(s, "BUILD_ERROR", "internal error: could not record the build");
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->s = s;
	c->p = p;
	c->build_id = b.id;
	c->sha = xstrdup(sha);
	c->release_dir = xasprintf("%s/%lld", rel, (long long)b.id);
	c->repo = space_repo_path(p, s);
	c->log_path = b.log_path;
	c->space_id = xasprintf("%s/%s", s->row.owner, s->row.name);
	c->host_uid = space_host_uid(s);
	c->cache_dir = space_cache_dir(p, s);
	c->no_cache = no_cache;
	fs_rm_rf(c->release_dir);
	/* A fresh log per build: the latest build's log is what users read. */
	unlink(c->log_path);
	s->build = c;
	space_set_stage(s, space_serving(s) ? "RUNNING_BUILDING" : "BUILDING", NULL);
	builds_enqueue(c);
	free(logs);
	free(rel);
}

