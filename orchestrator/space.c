#include "space.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "builder.h"
#include "instance.h"
#include "log.h"
#include "routes.h"
#include "util.h"

#define MAX_RESTARTS 3          /* crashes in a row before RUNTIME_ERROR */
#define HEALTHY_RUN_MS 60000    /* a run this long resets the crash count */
#define DRAIN_MS 2000           /* old instance keeps running this long after a switch */
#define STOP_GRACE_MS 5000      /* SIGTERM → SIGKILL */
#define HOST_UID_BASE 200000    /* app of space N runs as host uid BASE+N */

/* One instance and the role it plays for its space. The space pointer is cleared
 * when the instance is detached (draining, space deleted), so late callbacks never
 * touch a freed space. */
typedef struct inst_ref {
	space *s;
	instance *in;
	int64_t build_id;
	app_config cfg;
	char *release_dir;
	int ready;
} inst_ref;

/* A build job in flight; s is cleared when the build was superseded or the space deleted. */
typedef struct build_ctx {
	space *s;
	podium *p;
	int64_t build_id;
	char *release_dir;
	char *sha;
} build_ctx;

struct space {
	space_row row;
	space *next;
	podium *p;
	build_ctx *build;
	build_job *job;
	inst_ref *live;        /* serving (NULL for static) */
	inst_ref *pending;     /* new release starting */
	int static_live;       /* a static release serves */
	char *static_root;
	int crashes;           /* consecutive crashes of the live release */
	int pending_crashes;
	uv_timer_t restart_timer;
	int restart_for_pending;
};

/* Instances and builds still running; shutdown completes when both reach zero. */
static int active_instances;
static int active_builds;
static void (*shutdown_cb)(void *arg);
static void *shutdown_arg;

static void space_start_instance(space *s, inst_ref *ref);
static void space_update_route(space *s);

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

char *
space_repo_path(const podium *p, const space *s)
{
	return xasprintf("%s/repos/%s/%s.git", p->data_dir, s->row.owner, s->row.name);
}

static char *
space_releases_dir(const podium *p, const space *s)
{
	return xasprintf("%s/releases/%s/%s", p->data_dir, s->row.owner, s->row.name);
}

static char *
space_data_dir(const podium *p, const space *s)
{
	return xasprintf("%s/spacedata/%s/%s", p->data_dir, s->row.owner, s->row.name);
}

static char *
space_logs_dir(const podium *p, const space *s)
{
	return xasprintf("%s/logs/%s/%s", p->data_dir, s->row.owner, s->row.name);
}

char *
space_app_log_path(const podium *p, const space *s)
{
	return xasprintf("%s/logs/%s/%s/app.log", p->data_dir, s->row.owner, s->row.name);
}

char *
space_build_log_path(const podium *p, const space *s)
{
	return xasprintf("%s/logs/%s/%s/build.log", p->data_dir, s->row.owner, s->row.name);
}

static unsigned
space_host_uid(const space *s)
{
	return HOST_UID_BASE + (unsigned)s->row.id;
}

static void
replace_str(char **dst, const char *src)
{
	free(*dst);
	*dst = src != NULL ? xstrdup(src) : NULL;
}

static void
space_save(space *s)
{
	if (s->p->stopping)
		return;
	store_space_update(s->p->store, &s->row);
}

static void
space_set_stage(space *s, const char *stage, const char *message)
{
	if (s->p->stopping)
		return;
	if (strcmp(s->row.stage, stage) != 0)
		log_info("space %s/%s: %s → %s", s->row.owner, s->row.name, s->row.stage, stage);
	replace_str(&s->row.stage, stage);
	replace_str(&s->row.error, message);
	space_save(s);
	space_update_route(s);
}

static int
space_serving(const space *s)
{
	return s->static_live || (s->live != NULL && s->live->ready);
}

static void
maybe_shutdown_done(void)
{
	if (shutdown_cb != NULL && active_instances == 0 && active_builds == 0) {
		void (*cb)(void *) = shutdown_cb;
		shutdown_cb = NULL;
		cb(shutdown_arg);
	}
}

/* ---- routes ---- */

static void
space_update_route(space *s)
{
	const char *id_fmt = "%s/%s";
	char *id = xasprintf(id_fmt, s->row.owner, s->row.name);
	route_target *t = NULL;

	if (s->static_live) {
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
	routes_set(s->row.subdomain, t);
	free(id);
}

/* ---- releases ---- */

/* Removes release directories of this space other than the ones in use. */
static void
space_prune_releases(space *s)
{
	char *dir = space_releases_dir(s->p, s);
	char keep[4][32];
	int nkeep = 0;
	char path[4096];

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

static void
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

	if (ex->oom_killed)
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

	if (ref != NULL && ref->in == NULL)
		space_start_instance(s, ref);
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

	active_instances--;
	ref->in = NULL;
	ref->ready = 0;
	if (s == NULL || s->p->stopping) {
		if (s == NULL)
			inst_ref_free(ref);
		maybe_shutdown_done();
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
	char **env = NULL;
	size_t nenv = 0;
	char *data_dir = space_data_dir(p, s), *log_path = space_app_log_path(p, s);
	char *host = podium_space_url(p, s->row.subdomain);
	const char *title = json_string_value(json_object_get(ref->cfg.card, "title"));
	int port = ref->cfg.app_port > 0 ? ref->cfg.app_port : 7860;
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

	spec.sandbox_bin = p->sandbox_bin;
	spec.release_dir = ref->release_dir;
	spec.data_dir = data_dir;
	spec.log_path = log_path;
	spec.argv = ref->cfg.run_argv;
	spec.env = (const char *const *)env;
	spec.port = port;
	spec.host_uid = space_host_uid(s);
	spec.memory_bytes = 2ull << 30;
	spec.pids = 512;
	spec.cpus = 1.0;
	spec.startup_timeout_s = ref->cfg.startup_timeout_s > 0 ? (unsigned)ref->cfg.startup_timeout_s : 1800;

	r = instance_start(p->loop, &spec, &cb, &ref->in);
	if (r == 0)
		active_instances++;
	for (size_t i = 0; i < nenv; i++)
		free(env[i]);
	free(env);
	free(data_dir);
	free(log_path);
	free(host);
	if (r != 0) {
		char *msg = xasprintf("could not start the app: %s", uv_strerror(r));
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
static void
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
	free(c);
}

static void
build_done(build_job *job, const build_result *res, void *arg)
{
	build_ctx *c = arg;
	space *s = c->s;
	podium *p = c->p;

	active_builds--;
	if (s == NULL || p->stopping) {
		/* Superseded, deleted or shutting down: the result is dropped. */
		if (!p->stopping)
			store_build_finish(p->store, c->build_id, "failed", "cancelled", NULL);
		if (s == NULL || res->status != BUILD_OK)
			fs_rm_rf(c->release_dir);
		build_ctx_free(c);
		maybe_shutdown_done();
		return;
	}
	s->build = NULL;
	s->job = NULL;
	if (res->config.card != NULL) {
		char *card = json_dumps(res->config.card, JSON_COMPACT);
		replace_str(&s->row.card, card);
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
			replace_str(&s->row.sdk, cfg.sdk);
		log_info("space %s/%s: build %lld of %.12s ok", s->row.owner, s->row.name,
		    (long long)c->build_id, c->sha);
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
}

void
space_on_push(podium *p, space *s, const char *sha)
{
	build_request req = { 0 };
	build_row b = { 0 };
	char *logs = space_logs_dir(p, s), *rel = space_releases_dir(p, s);
	build_ctx *c;
	int r;

	log_info("space %s/%s: push of %.12s", s->row.owner, s->row.name, sha);
	replace_str(&s->row.sha, sha);
	if (s->build != NULL) {
		/* A newer push supersedes the build in flight. */
		s->build->s = NULL;
		builder_build_cancel(s->job);
		s->build = NULL;
		s->job = NULL;
	}
	fs_mkdir_p(logs, 0750);
	fs_mkdir_p(rel, 0755);
	b.space_id = s->row.id;
	b.sha = (char *)sha;
	b.release_dir = xasprintf("%s/pending", rel);  /* fixed up once the id is known */
	b.log_path = space_build_log_path(p, s);
	r = store_build_insert(p->store, &b);
	free(b.release_dir);
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
	fs_rm_rf(c->release_dir);
	/* A fresh log per build: the latest build's log is what users read. */
	unlink(b.log_path);

	char *repo = space_repo_path(p, s);
	char *id = xasprintf("%s/%s", s->row.owner, s->row.name);
	req.repo_path = repo;
	req.sha = sha;
	req.release_dir = c->release_dir;
	req.log_path = b.log_path;
	req.sandbox_bin = p->sandbox_bin;
	req.space_id = id;
	req.host_uid = space_host_uid(s);
	s->build = c;
	space_set_stage(s, space_serving(s) ? "RUNNING_BUILDING" : "BUILDING", NULL);
	r = builder_build_start(p->loop, &req, build_done, c, &s->job);
	if (r != 0) {
		s->build = NULL;
		store_build_finish(p->store, c->build_id, "failed", "could not start the build", NULL);
		space_set_stage(s, space_serving(s) ? "RUNNING" : "BUILD_ERROR",
		    "internal error: could not start the build");
		build_ctx_free(c);
	} else {
		active_builds++;
	}
	free(repo);
	free(id);
	free(b.log_path);
	free(logs);
	free(rel);
}

/* ---- create / delete / find ---- */

static space *
space_new(podium *p, space_row *row)
{
	space *s = xcalloc(1, sizeof(*s));
	space **pp;

	s->row = *row;
	s->p = p;
	uv_timer_init(p->loop, &s->restart_timer);
	s->restart_timer.data = s;
	for (pp = &p->spaces; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = s;
	return s;
}

space *
space_next(const space *s)
{
	return s->next;
}

space *
space_find(podium *p, const char *owner, const char *name)
{
	for (space *s = p->spaces; s != NULL; s = s->next)
		if (strcasecmp(s->row.owner, owner) == 0 && strcasecmp(s->row.name, name) == 0)
			return s;
	return NULL;
}

static int
sdk_known(const char *sdk)
{
	static const char *known[] = { "static", "python", "gradio", "streamlit", "node", "docker", NULL };

	for (int i = 0; known[i] != NULL; i++)
		if (strcmp(known[i], sdk) == 0)
			return 1;
	return 0;
}

int
space_create(podium *p, const char *owner, const char *name, const char *sdk, int private,
    space **out, char *err, size_t errlen)
{
	char sub[160];
	space_row row = { 0 };
	char *repo, *data;
	space *s;
	int r;

	if (!name_valid(owner)) {
		snprintf(err, errlen, "invalid owner name \"%s\": use 1-64 of A-Z a-z 0-9 . _ -, "
		    "not starting with . or -, no ..", owner);
		return -EINVAL;
	}
	if (!name_valid(name)) {
		snprintf(err, errlen, "invalid space name \"%s\": use 1-64 of A-Z a-z 0-9 . _ -, "
		    "not starting with . or -, no ..", name);
		return -EINVAL;
	}
	if (sdk == NULL || !sdk_known(sdk)) {
		snprintf(err, errlen, "invalid sdk \"%s\": use static, python, gradio, streamlit, node "
		    "or docker", sdk != NULL ? sdk : "");
		return -EINVAL;
	}
	name_subdomain(owner, name, sub, sizeof(sub));
	if (space_find(p, owner, name) != NULL) {
		snprintf(err, errlen, "space %s/%s already exists", owner, name);
		return -EEXIST;
	}
	for (space *o = p->spaces; o != NULL; o = o->next) {
		if (strcmp(o->row.subdomain, sub) == 0) {
			snprintf(err, errlen, "space %s/%s would use host %s, already used by %s/%s",
			    owner, name, sub, o->row.owner, o->row.name);
			return -EEXIST;
		}
	}
	row.owner = xstrdup(owner);
	row.name = xstrdup(name);
	row.subdomain = xstrdup(sub);
	row.sdk = xstrdup(sdk);
	row.private = private;
	row.stage = xstrdup("NO_APP_FILE");
	r = store_space_insert(p->store, &row);
	if (r != 0) {
		space_row_release(&row);
		snprintf(err, errlen, r == -EEXIST ? "space %s/%s already exists" : "could not store space %s/%s",
		    owner, name);
		return r;
	}
	s = space_new(p, &row);
	repo = space_repo_path(p, s);
	data = space_data_dir(p, s);
	r = builder_repo_init(repo);
	/* Parents stay traversable; the data dir itself belongs to the app's host uid. */
	if (r == 0)
		r = fs_mkdir_p(data, 0711);
	if (r == 0 && (chown(data, space_host_uid(s), space_host_uid(s)) != 0 || chmod(data, 0750) != 0))
		r = -errno;
	free(repo);
	free(data);
	if (r != 0) {
		snprintf(err, errlen, "could not create the repository: %s", strerror(-r));
		space_delete(p, s);
		return -EIO;
	}
	space_update_route(s);
	log_info("space %s/%s: created (sdk %s, host %s)", owner, name, sdk, sub);
	*out = s;
	return 0;
}

static void
space_timer_closed(uv_handle_t *h)
{
	free(h->data);
}

int
space_delete(podium *p, space *s)
{
	char *paths[4] = { space_repo_path(p, s), space_releases_dir(p, s), space_data_dir(p, s),
		space_logs_dir(p, s) };
	space **pp;

	log_info("space %s/%s: deleting", s->row.owner, s->row.name);
	routes_remove(s->row.subdomain);
	if (s->build != NULL) {
		s->build->s = NULL;
		builder_build_cancel(s->job);
	}
	if (s->live != NULL)
		space_detach_instance(s, s->live, 0);
	if (s->pending != NULL)
		space_detach_instance(s, s->pending, 0);
	store_builds_delete_space(p->store, s->row.id);
	store_space_delete(p->store, s->row.id);
	for (int i = 0; i < 4; i++) {
		fs_rm_rf(paths[i]);
		free(paths[i]);
	}
	for (pp = &p->spaces; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	space_row_release(&s->row);
	free(s->static_root);
	/* The struct holds the timer: it is freed in the timer's close callback. */
	uv_close((uv_handle_t *)&s->restart_timer, space_timer_closed);
	return 0;
}

/* ---- JSON ---- */

json_t *
space_runtime_json(const space *s)
{
	json_t *j = json_pack("{s:s, s:{s:s, s:s}}", "stage", s->row.stage,
	    "hardware", "current", "cpu-basic", "requested", "cpu-basic");

	if (s->row.error != NULL)
		json_object_set_new(j, "errorMessage", json_string(s->row.error));
	json_object_set_new(j, "storage", json_null());
	json_object_set_new(j, "sdk", json_string(s->row.sdk));
	return j;
}

json_t *
space_json(const podium *p, const space *s, int full)
{
	char *host = podium_space_url(p, s->row.subdomain);
	char created[32];
	time_t t = (time_t)s->row.created;
	struct tm tm;
	json_t *j;

	gmtime_r(&t, &tm);
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
	j = json_pack("{s:s++, s:s, s:s, s:s, s:b, s:s, s:s, s:s, s:o}",
	    "id", s->row.owner, "/", s->row.name,
	    "author", s->row.owner,
	    "name", s->row.name,
	    "sdk", s->row.sdk,
	    "private", s->row.private,
	    "host", host,
	    "subdomain", s->row.subdomain,
	    "createdAt", created,
	    "runtime", space_runtime_json(s));
	free(host);
	if (full) {
		json_t *card = s->row.card != NULL ? json_loads(s->row.card, 0, NULL) : NULL;
		json_object_set_new(j, "sha", s->row.sha != NULL ? json_string(s->row.sha) : json_null());
		json_object_set_new(j, "cardData", card != NULL ? card : json_object());
		json_object_set_new(j, "likes", json_integer(0));
		json_object_set_new(j, "tags", json_array());
	}
	return j;
}

/* ---- startup and shutdown ---- */

static void
load_one(space_row *row, void *arg)
{
	space_new(arg, row);
}

/* Brings a space back after a daemon restart from its last good release. */
static void
space_recover(space *s)
{
	podium *p = s->p;
	build_row b = { 0 };
	app_config cfg;
	json_t *j;
	int interrupted = strstr(s->row.stage, "BUILDING") != NULL;
	const char *why = interrupted ? "build interrupted: the daemon stopped while it was running" : NULL;

	if (!s->row.want_running || s->row.release_id <= 0 ||
	    store_build_get(p->store, s->row.release_id, &b) != 0 || b.config == NULL) {
		if (interrupted)
			space_set_stage(s, "BUILD_ERROR", why);
		else if (strstr(s->row.stage, "STARTING") != NULL || strcmp(s->row.stage, "RUNNING") == 0)
			space_set_stage(s, "STOPPED", NULL);
		else
			space_update_route(s);
		build_row_release(&b);
		return;
	}
	app_config_init(&cfg);
	j = json_loads(b.config, 0, NULL);
	if (j == NULL || app_config_from_json(&cfg, j) != 0) {
		space_set_stage(s, "RUNTIME_ERROR", "stored release configuration is unreadable");
	} else {
		char *rel = xasprintf("%s/releases/%s/%s/%lld", p->data_dir, s->row.owner, s->row.name,
		    (long long)b.id);
		log_info("space %s/%s: recovering release %lld", s->row.owner, s->row.name, (long long)b.id);
		space_deploy(s, b.id, rel, &cfg);
		if (why != NULL && !p->stopping) {
			replace_str(&s->row.error, why);
			space_save(s);
		}
		free(rel);
	}
	json_decref(j);
	app_config_release(&cfg);
	build_row_release(&b);
}

int
spaces_init(podium *p)
{
	int r, n;

	r = store_space_load_all(p->store, load_one, p);
	if (r != 0)
		return r;
	n = store_builds_fail_interrupted(p->store);
	if (n > 0)
		log_warn("marked %d interrupted build%s as failed", n, n == 1 ? "" : "s");
	for (space *s = p->spaces; s != NULL; s = s->next)
		space_recover(s);
	return 0;
}

void
spaces_shutdown(podium *p, void (*cb)(void *arg), void *arg)
{
	p->stopping = 1;
	shutdown_cb = cb;
	shutdown_arg = arg;
	for (space *s = p->spaces; s != NULL; s = s->next) {
		uv_timer_stop(&s->restart_timer);
		if (s->job != NULL)
			builder_build_cancel(s->job);
		if (s->live != NULL && s->live->in != NULL)
			instance_stop(s->live->in, STOP_GRACE_MS);
		if (s->pending != NULL && s->pending->in != NULL)
			instance_stop(s->pending->in, STOP_GRACE_MS);
	}
	maybe_shutdown_done();
}
