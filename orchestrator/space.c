/* space.c — one space's lifecycle after its build: releases, app instances (the
 * start queue, readiness, crash-loop backoff, zero-downtime switch) and the route the
 * proxy reads. Builds are space_build.c; the set of spaces (create, delete, JSON,
 * startup and recovery) is spaces.c; shared private types are in space_int.h. */
#include "orchestrator/space_int.h"
#include "orchestrator/resources.h"

#include <dirent.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "orchestrator/host/budget.h"
#include "builder/build.h"
#include "orchestrator/hardware.h"
#include "orchestrator/host/usage.h"
#include "orchestrator/host/instance.h"
#include "builder/image.h"
#include "common/log.h"
#include "common/logfile.h"
#include "proxy/routes.h"
#include "orchestrator/host/storage.h"
#include "orchestrator/secrets.h"
#include "common/util.h"

/* Instances and builds still running; shutdown completes when both reach zero. */
int space_active_instances;
int space_active_builds;
void (*space_shutdown_cb)(void *arg);
void *space_shutdown_arg;
uint64_t space_backoff_base_ms = BACKOFF_BASE_MS;
unsigned space_drain_grace_ms = DRAIN_GRACE_MS;


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

const char *
space_pushed_sha(const space *s)
{
	return s->row.sha;
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

/* A cluster's shared filesystem (--shared) holds what must outlive a node:
 * the repository and the /data image (and its mount point). */
static char *
space_shared_path(const podium *p, const space *s, const char *area, const char *suffix)
{
	if (p->shared_dir == NULL)
		return space_path(p, s, area, suffix);
	return xasprintf("%s/%s/%s/%s%s", p->shared_dir, area, s->row.owner, s->row.name, suffix);
}

char *
space_repo_path(const podium *p, const space *s)
{
	return space_shared_path(p, s, "repos", ".git");
}

char *
space_releases_dir(const podium *p, const space *s)
{
	return space_path(p, s, "releases", "");
}

char *
space_data_dir(const podium *p, const space *s)
{
	return space_shared_path(p, s, "spacedata", "");
}

char *
space_logs_dir(const podium *p, const space *s)
{
	return space_path(p, s, "logs", "");
}

/* On the build disk, next to the releases (build_disk.c): it counts to the space. */
char *
space_cache_dir(const podium *p, const space *s)
{
	return space_path(p, s, "releases", "/.cache");
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
	if (s->p->stopping || !placement_may_write(s))
		return;
	store_space_update(s->p->store, &s->row);
}

int64_t
space_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* message == s->row.error keeps the current message (and what it is about). */
void
space_set_stage(space *s, const char *stage, const char *message)
{
	if (s->p->stopping || s->foreign)
		return;
	if (message != s->row.error)
		s->crash_error = 0;
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

const char *
space_progress_stage(const space *s)
{
	int serving = space_serving(s);

	if (s->build != NULL)
		return serving ? "RUNNING_BUILDING" : "BUILDING";
	if (s->pending != NULL)
		return serving ? "RUNNING_APP_STARTING" : "APP_STARTING";
	if (serving)
		return "RUNNING";
	if (s->live != NULL)
		return s->live->in == NULL && s->row.retry_at > 0 ? "RUNTIME_ERROR" : "APP_STARTING";
	return s->row.stage;
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
	route_target *t = placement_route(s, id);

	if (t == NULL)
		t = lifecycle_route(s, id);
	if (t != NULL) {
		/* another node's, held while it lands here or leaves; paused, asleep or waking */
	} else if (s->static_live) {
		t = route_target_static(id, s->static_root);
	} else if (s->live != NULL && s->live->ready) {
		int fd = instance_netns_dup(s->live->in);
		if (fd >= 0) {
			t = route_target_app(id, fd, instance_port(s->live->in), instance_id(s->live->in));
			route_target_set_exchanges(t, s->live->exchanges);
		}
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
	route_target_set_epoch(t, s->access_epoch);
	routes_set(s->row.subdomain, t);
	free(id);
}

uint64_t
space_access_epoch(const space *s)
{
	return s->access_epoch;
}

/* A new epoch: the app host's tickets of the old one stop (ticket.h). */
static void
space_new_epoch(space *s)
{
	randombytes_buf(&s->access_epoch, sizeof(s->access_epoch));
}

void
space_set_private(space *s, int private)
{
	s->row.private = private != 0;
	space_new_epoch(s);
	space_save(s);
	space_update_route(s);
	log_info("space %s/%s: now %s", s->row.owner, s->row.name, private ? "private" : "public");
}

/* ---- releases ---- */

/* A build's release image (docker spaces), for removal. */
static int
image_ref_one(build_row *b, void *arg)
{
	json_t *cfg = b->config != NULL ? json_loads(b->config, 0, NULL) : NULL;

	image_release_refs(json_object_get(cfg, "image"), arg);
	json_decref(cfg);
	return 0;
}

void
space_images_remove(space *s, int64_t build_id)
{
	json_t *refs = json_array();
	build_row b = { 0 };

	if (build_id == 0)
		store_builds_list(s->p->store, s->row.id, image_ref_one, refs);
	else if (store_build_get(s->p->store, build_id, &b) == 0)
		image_ref_one(&b, refs);
	build_row_release(&b);
	image_remove(s->p->loop, refs);
	json_decref(refs);
}

void
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

	/* the build disk's own lost+found stays */
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL) {
		int used = e->d_name[0] == '.' || strcmp(e->d_name, "lost+found") == 0;
		for (int i = 0; i < nkeep && !used; i++)
			used = strcmp(keep[i], e->d_name) == 0;
		if (used)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		fs_rm_rf(path);
		if (strtoll(e->d_name, NULL, 10) > 0)
			space_images_remove(s, strtoll(e->d_name, NULL, 10));
	}
	if (d != NULL)
		closedir(d);
	free(dir);
}

/* ---- instances ---- */

static inst_ref *
inst_ref_new(space *s, int64_t build_id, const char *sha, const char *release_dir, app_config *cfg)
{
	inst_ref *ref = xcalloc(1, sizeof(*ref));

	ref->s = s;
	ref->build_id = build_id;
	ref->sha = sha != NULL ? xstrdup(sha) : NULL;
	ref->cfg = *cfg;
	app_config_init(cfg);
	ref->release_dir = xstrdup(release_dir);
	ref->exchanges = route_exchanges_new();
	return ref;
}

void
inst_ref_free(inst_ref *ref)
{
	space_drain_end(ref);
	route_exchanges_unref(ref->exchanges);
	app_config_release(&ref->cfg);
	free(ref->release_dir);
	free(ref->sha);
	free(ref);
}

/* The switched-to release: what sha and sdk report while it serves. */
static void
space_set_release(space *s, int64_t build_id, const char *sha, const char *sdk)
{
	s->row.release_id = build_id;
	s->row.want_running = 1;
	if (s->row.deploy_id == build_id)
		s->row.deploy_id = 0;
	space_replace_str(&s->release_sha, sha);
	if (s->release_sdk == NULL || sdk == NULL || strcmp(s->release_sdk, sdk) != 0) {
		space_replace_str(&s->release_sdk, sdk);
		space_listing_save(s);   /* the sdk is one of its tags */
	}
}

/* errorMessage once a release serves: a crash's reason is over, and so is any error
 * about an older push once the newest push serves; an error about a newer push stays. */
static const char *
space_error_after_switch(const space *s, const char *sha)
{
	if (s->crash_error)
		return NULL;
	if (sha != NULL && s->row.sha != NULL && strcmp(sha, s->row.sha) == 0)
		return NULL;
	return s->row.error;
}

static void
space_go_live_static(space *s, int64_t build_id, const char *sha, const char *release_dir,
    const app_config *cfg)
{
	char err[512];

	/* the release is on the build disk (after a daemon start: mounted now) */
	if (space_builds_attach(s, err, sizeof(err)) != 0)
		log_warn("space %s/%s: build disk: %s", s->row.owner, s->row.name, err);
	free(s->static_root);
	s->static_root = cfg->static_dir[0] != '\0'
	    ? xasprintf("%s/%s", release_dir, cfg->static_dir) : xstrdup(release_dir);
	s->static_live = 1;
	uv_timer_stop(&s->restart_timer);
	if (s->pending != NULL) {
		space_detach_instance(s, s->pending, 0);
		s->pending = NULL;
		s->row.deploy_id = 0;
	}
	if (s->live != NULL) {
		space_detach_instance(s, s->live, space_drain_grace_ms);
		s->live = NULL;
	}
	space_set_release(s, build_id, sha, cfg->sdk);
	s->row.restarts = 0;
	s->row.retry_at = 0;
	space_set_stage(s, space_progress_stage(s), space_error_after_switch(s, sha));
	space_prune_releases(s);
}

void
space_instance_ready(instance *in, void *arg)
{
	inst_ref *ref = arg;
	space *s = ref->s;

	(void)in;
	ref->ready = 1;
	starts_slot_release(ref);
	if (s == NULL)
		return;
	space_cold_start(s, now_ms() - instance_started_ms(in));
	if (ref == s->pending) {
		inst_ref *old = s->live;
		s->pending = NULL;
		s->live = ref;
		s->pending_crashes = 0;
		if (s->static_live) {
			s->static_live = 0;
			free(s->static_root);
			s->static_root = NULL;
		}
		space_set_release(s, ref->build_id, ref->sha, ref->cfg.sdk);
		s->row.restarts = 0;
		s->row.retry_at = 0;
		/* The route switches before the old instance is told to stop. */
		lifecycle_ready(s);
		space_set_stage(s, space_progress_stage(s), space_error_after_switch(s, ref->sha));
		if (old != NULL)
			space_detach_instance(s, old, space_drain_grace_ms);
		space_prune_releases(s);
	} else if (ref == s->live) {
		s->row.retry_at = 0;
		space_set_stage(s, space_progress_stage(s), s->crash_error ? NULL : s->row.error);
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
	else if (ex->seccomp_syscall != NULL)
		snprintf(what, sizeof(what), "app was killed: blocked system call %.64s (seccomp)",
		    ex->seccomp_syscall);
	else if (ex->startup_timeout)
		snprintf(what, sizeof(what), "launch timed out: the app did not open its port within "
		    "startup_duration_timeout");
	else if (ex->not_responding)
		snprintf(what, sizeof(what), "app was not responding (no HTTP answer to its liveness "
		    "checks) and was restarted");
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

	if (ref == NULL || ref->in != NULL)
		return;
	if (ref == s->live)
		s->row.retry_at = 0;
	s->restarts++;
	starts_enqueue(s, ref);
	space_set_stage(s, space_progress_stage(s), s->row.error);
}

/* Capped exponential backoff: base, 2 base, 4 base, ... up to BACKOFF_CAP_MS. */
static uint64_t
backoff_ms(int crashes)
{
	int shift = crashes < 1 ? 0 : crashes - 1;
	uint64_t ms = space_backoff_base_ms << (shift > 20 ? 20 : shift);

	return ms > BACKOFF_CAP_MS ? BACKOFF_CAP_MS : ms;
}

/* The live release crashed (again): it is retried forever, each time a little later,
 * as Kubernetes' CrashLoopBackOff does; RUNTIME_ERROR with the reason while waiting.
 * The count and the retry time are stored, so a daemon restart resumes the wait
 * instead of replaying the loop. */
static void
space_crash_loop(space *s, const char *msg)
{
	uint64_t delay;

	s->row.restarts++;
	delay = backoff_ms(s->row.restarts);
	s->row.retry_at = space_wall_ms() + (int64_t)delay;
	s->restart_for_pending = 0;
	uv_timer_start(&s->restart_timer, restart_fire, delay, 0);
	log_warn("space %s/%s: app crashed (%d in a row); restart in %llu ms", s->row.owner,
	    s->row.name, s->row.restarts, (unsigned long long)delay);
	space_set_stage(s, space_progress_stage(s), msg);
	s->crash_error = 1;
}

/* Its start took longer than startup_duration_timeout allows: as on the Hub, not
 * retried (another try would take as long); a restart or a push tries again. */
static void
launch_timed_out(space *s, inst_ref *ref, const char *msg)
{
	if (ref == s->live)
		s->live = NULL;
	inst_ref_free(ref);
	s->row.retry_at = 0;
	space_set_stage(s, "RUNTIME_ERROR", msg);
}

/* A Python app whose build installed nothing died importing a module: what to add
 * (a BUILD_ERROR, as on the Hub, instead of a crash loop), or NULL. */
static char *
missing_module(const inst_ref *ref, const instance_exit *ex)
{
	static const char mark[] = "ModuleNotFoundError: No module named '";
	const char *sdk = ref->cfg.sdk, *m = strstr(ex->tail, mark);
	const char *app = json_string_value(json_object_get(ref->cfg.card, "app_file"));
	size_t n;

	if (m == NULL || ex->was_ready || ref->cfg.installed || ref->cfg.image != NULL ||
	    (strcmp(sdk, "python") != 0 && strcmp(sdk, "gradio") != 0 && strcmp(sdk, "streamlit") != 0))
		return NULL;
	m += strlen(mark);
	n = strcspn(m, ".'\n");
	return xasprintf("%s imports %.*s, which nothing installed: add %.*s to requirements.txt, "
	                 "or for a gradio or streamlit app set sdk and sdk_version in the README.md "
	                 "front matter (the build installed no packages). Last output:\n%s",
	    app != NULL ? app : "app.py", (int)n, m, (int)n, m, ex->tail);
}

static void
pending_exited(space *s, inst_ref *ref, const instance_exit *ex)
{
	int old_alive = space_serving(s) || (s->live != NULL && s->live->in != NULL);
	char *msg = missing_module(ref, ex);

	if (msg != NULL) {
		/* the release is not retried: it fails as its build would have */
		store_build_finish(s->p->store, ref->build_id, "failed", msg, NULL);
		s->pending = NULL;
		s->row.deploy_id = 0;
		inst_ref_free(ref);
		space_set_stage(s, old_alive ? space_progress_stage(s) : "BUILD_ERROR", msg);
		space_prune_releases(s);
		free(msg);
		return;
	}
	s->pending_crashes++;
	msg = exit_message(ex, s->pending_crashes);
	if (!old_alive && ex->startup_timeout) {
		s->pending = NULL;
		s->row.deploy_id = 0;
		launch_timed_out(s, ref, msg);
	} else if (!old_alive) {
		/* Nothing else can serve: the new release is the one to keep trying. */
		if (s->live != NULL)
			space_detach_instance(s, s->live, 0);
		s->live = ref;
		s->pending = NULL;
		space_set_release(s, ref->build_id, ref->sha, ref->cfg.sdk);
		s->row.restarts = s->pending_crashes - 1;
		space_crash_loop(s, msg);
		space_prune_releases(s);
	} else if (s->pending_crashes <= MAX_PENDING_RESTARTS && !ex->startup_timeout) {
		/* The old release serves meanwhile; the reason shows during the retries. */
		s->restart_for_pending = 1;
		uv_timer_start(&s->restart_timer, restart_fire, backoff_ms(s->pending_crashes), 0);
		space_set_stage(s, space_progress_stage(s), msg);
		s->crash_error = 1;
	} else {
		/* Given up: the old release keeps serving, the reason stays until the next push. */
		s->pending = NULL;
		s->row.deploy_id = 0;
		inst_ref_free(ref);
		space_set_stage(s, space_progress_stage(s), msg);
		space_prune_releases(s);
	}
	free(msg);
}

static void
live_exited(space *s, inst_ref *ref, instance *in, const instance_exit *ex)
{
	char *msg;

	if (ex->was_ready && now_ms() - instance_started_ms(in) > HEALTHY_RUN_MS)
		s->row.restarts = 0;
	msg = exit_message(ex, s->row.restarts + 1);
	if (ex->startup_timeout && s->pending == NULL) {
		launch_timed_out(s, ref, msg);
		free(msg);
		return;
	}
	if (s->pending != NULL) {
		/* A newer release is starting: it takes over, this one is not restarted. */
		s->live = NULL;
		inst_ref_free(ref);
		space_set_stage(s, space_progress_stage(s), msg);
		s->crash_error = 1;
	} else {
		space_crash_loop(s, msg);
	}
	free(msg);
}

void
space_instance_exited(instance *in, const instance_exit *ex, void *arg)
{
	inst_ref *ref = arg;
	space *s = ref->s;

	space_active_instances--;
	budget_release(ref);
	space_drain_end(ref);
	ref->in = NULL;
	ref->ready = 0;
	starts_slot_release(ref);
	if (s == NULL || s->p->stopping) {
		if (s == NULL)
			inst_ref_free(ref);
		space_maybe_shutdown_done();
		return;
	}
	if (placement_instance_exited(s, ref))
		return;
	if (ref == s->pending)
		pending_exited(s, ref, ex);
	else if (ref == s->live)
		live_exited(s, ref, in, ex);
}

/* Starts a release built by build_id: static ones switch at once, apps start a
 * pending instance that takes over once ready. Takes ownership of cfg's contents. */
void
space_deploy(space *s, int64_t build_id, const char *sha, const char *release_dir, app_config *cfg)
{
	if (strcmp(cfg->sdk, "static") == 0 || cfg->run_argv == NULL) {
		space_go_live_static(s, build_id, sha, release_dir, cfg);
		app_config_release(cfg);
		return;
	}
	if (s->pending != NULL) {
		space_detach_instance(s, s->pending, 0);
		s->pending = NULL;
	}
	if (s->restart_for_pending)
		uv_timer_stop(&s->restart_timer);
	s->pending = inst_ref_new(s, build_id, sha, release_dir, cfg);
	s->pending_crashes = 0;
	/* Stored: a daemon stop before the switch deploys it again at the next start. */
	s->row.deploy_id = build_id;
	space_set_stage(s, space_progress_stage(s), s->row.error);
	starts_enqueue(s, s->pending);
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
		space_deploy(s, b.id, b.sha, rel, &cfg);
		free(rel);
	}
	json_decref(j);
	app_config_release(&cfg);
	build_row_release(&b);
}

void
space_resume(space *s, int64_t build_id, const char *sha, const char *release_dir, app_config *cfg)
{
	int64_t wait;

	if (strcmp(cfg->sdk, "static") == 0 || cfg->run_argv == NULL) {
		space_go_live_static(s, build_id, sha, release_dir, cfg);
		app_config_release(cfg);
		return;
	}
	s->live = inst_ref_new(s, build_id, sha, release_dir, cfg);
	space_set_release(s, build_id, sha, s->live->cfg.sdk);
	wait = s->row.retry_at - space_wall_ms();
	if (s->row.restarts > 0 && s->row.retry_at > 0 && wait > 0) {
		/* In a crash loop: wait out the backoff it was in. */
		s->crash_error = s->row.error != NULL;
		s->restart_for_pending = 0;
		uv_timer_start(&s->restart_timer, restart_fire, (uint64_t)wait, 0);
		log_info("space %s/%s: crash loop (%d restarts); next start in %lld ms", s->row.owner,
		    s->row.name, s->row.restarts, (long long)wait);
	} else {
		s->crash_error = s->row.restarts > 0 && s->row.error != NULL;
		s->row.retry_at = 0;
		starts_enqueue(s, s->live);
	}
	space_set_stage(s, space_progress_stage(s), s->row.error);
}
