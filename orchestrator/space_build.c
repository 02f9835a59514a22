/* space_build.c — a space's builds: each push to main is recorded and queued (at most
 * build_slots() run at a time, the rest wait, fairly between owners: build_queue.c),
 * each build has one deadline (limits.build_timeout), a newer push supersedes
 * the build in flight, a good build is handed to space_deploy(), a failed one leaves
 * its stage and message. After a daemon stop the interrupted build of the newest push
 * is built again (space_build_again). Shared private types are in space_int.h. */
#include "orchestrator/space_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builder/build.h"
#include "builder/image.h"
#include "orchestrator/host/flavors.h"
#include "orchestrator/host/net.h"
#include "common/log.h"
#include "common/logfile.h"
#include "orchestrator/limits.h"
#include "orchestrator/secrets.h"
#include "common/util.h"

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
	free(c->owner);
	free(c);
}

/* Builds run at most build_slots() at a time; the rest wait (build_queue.c), so a
 * burst of pushes cannot bury the machine in pip and npm. */
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
	build_queue_finished(c);
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
		space_listing_save(s);
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
		log_info("space %s/%s: build %lld of %.12s ok", s->row.owner, s->row.name,
		    (long long)c->build_id, c->sha);
		if (!lifecycle_build_ok(s, c->build_id))
			space_deploy(s, c->build_id, c->sha, c->release_dir, &cfg);
		app_config_release(&cfg);
	} else {
		store_build_finish(p->store, c->build_id, "failed", res->message, NULL);
		fs_rm_rf(c->release_dir);
		log_info("space %s/%s: build %lld failed: %s", s->row.owner, s->row.name,
		    (long long)c->build_id, res->message);
		if (space_serving(s) || s->pending != NULL)
			space_set_stage(s, space_progress_stage(s), res->message);
		else
			space_set_stage(s, build_stage_name(res->status), res->message);
	}
	build_ctx_free(c);
	builds_pump(p);
}

/* A build whose job never ran: its slot goes back, its row and stage say why. */
static void
build_unstarted(build_ctx *c, const char *why)
{
	space *s = c->s;
	podium *p = c->p;

	space_active_builds--;
	build_queue_finished(c);
	if (s != NULL && !p->stopping) {
		s->build = NULL;
		store_build_finish(p->store, c->build_id, "failed", why, NULL);
		space_set_stage(s, space_serving(s) || s->pending != NULL ? space_progress_stage(s)
		    : "BUILD_ERROR", why);
	} else if (!p->stopping) {
		store_build_finish(p->store, c->build_id, "failed", "cancelled", NULL);
	}
	build_ctx_free(c);
	builds_pump(p);
	space_maybe_shutdown_done();
}

static void
build_spawn(build_ctx *c)
{
	build_request req = { 0 };
	space *s = c->s;
	podium *p = c->p;
	char **env, **mask, **vars, **secrets, *image;
	int r;

	req.repo_path = c->repo;
	req.sha = c->sha;
	req.release_dir = c->release_dir;
	req.log_path = c->log_path;
	req.sandbox_bin = p->sandbox_bin;
	req.space_id = c->space_id;
	req.host_uid = c->host_uid;
	req.net = net_box_arg(c->host_uid);
	req.cache_dir = c->cache_dir;
	req.no_cache = c->no_cache;
	req.memory_bytes = flavor_build()->memory_bytes;
	req.pids = flavor_build()->pids;
	req.cpus = flavor_build()->cpus;
	req.timeout_s = limits_get()->build_timeout_s;
	req.disk_bytes = limits_get()->build_disk_bytes;
	req.fsize_bytes = limits_get()->build_file_bytes;
	space_config_env(p, s, &env, &mask);
	req.env = (const char *const *)env;
	req.mask = (const char *const *)mask;
	/* an image space: its release's image, ids, build args and secrets */
	space_config_env_split(p, s, &vars, &secrets);
	req.build_args = (const char *const *)vars;
	req.secrets = (const char *const *)secrets;
	image = xasprintf("localhost/podium/%s:r%lld", s->row.subdomain, (long long)c->build_id);
	req.image_name = image;
	req.id_range = IMAGE_SPACE_IDS(s->row.id);
	r = builder_build_start(p->loop, &req, build_done, c, &s->job);
	config_strv_free(env);
	config_strv_free(mask);
	config_strv_free(vars);
	config_strv_free(secrets);
	free(image);
	if (r != 0)
		build_unstarted(c, "internal error: could not start the build");
}

static void
build_disk_ready(void *arg, int r, const char *err)
{
	build_ctx *c = arg;
	char *why;

	if (c->s == NULL || c->p->stopping) {
		build_unstarted(c, "cancelled");
		return;
	}
	if (r == 0) {
		build_spawn(c);
		return;
	}
	why = xasprintf("the space's build disk cannot be used: %s", err);
	space_build_log_note(c->log_path, why);
	space_build_log_note(c->log_path, "\n");
	build_unstarted(c, why);
	free(why);
}

/* A slot is the build's from here: its build disk is made ready (off the loop), then
 * its job runs. */
static void
build_start(build_ctx *c)
{
	space_active_builds++;
	build_queue_started(c);
	space_builds_attach_async(c->s, build_disk_ready, c);
}

static void
builds_pump(podium *p)
{
	build_ctx *c;

	while (!p->stopping && space_active_builds < build_slots() &&
	    (c = build_queue_next(build_slots())) != NULL) {
		if (c->s == NULL) {
			store_build_finish(p->store, c->build_id, "failed", "cancelled", NULL);
			build_ctx_free(c);
			continue;
		}
		build_start(c);
	}
	if (!p->stopping)
		build_queue_note_positions(space_active_builds, build_slots());
}

/* A line of the daemon's own in a build log, stamped like the build's output. */
void
space_build_log_note(const char *path, const char *line)
{
	logfile lf;

	if (logfile_open(&lf, path, 0600) == 0) {
		logfile_write(&lf, line, strlen(line));
		logfile_close(&lf);
	}
}

static void
builds_enqueue(build_ctx *c)
{
	build_queue_add(c);
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
	/* a waiting one leaves the queue now: the others' places change */
	builds_pump(s->p);
}

void
space_builds_drop_queued(void)
{
	build_ctx *c = build_queue_take_all(), *next;

	for (; c != NULL; c = next) {
		next = c->next;
		if (c->s != NULL)
			c->s->build = NULL;
		build_ctx_free(c);
	}
}

/* Records and queues a build of sha (attempt: see build_row), its log starting with
 * note if any; 0 or -errno. */
static int
space_build_queue(space *s, const char *sha, int attempt, const char *note, int no_cache)
{
	podium *p = s->p;
	build_row b = { 0 };
	char *logs = space_logs_dir(p, s), *rel = space_releases_dir(p, s);
	build_ctx *c;
	int r;

	fs_mkdir_p(logs, 0700);
	fs_mkdir_p(rel, 0700);
	b.space_id = s->row.id;
	b.sha = (char *)sha;
	b.release_dir = rel;
	b.log_path = space_build_log_path(p, s);
	b.attempt = attempt;
	r = store_build_insert(p->store, &b);
	if (r != 0) {
		free(b.log_path);
		free(logs);
		free(rel);
		return r;
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
	c->owner = xstrdup(s->row.owner);
	c->host_uid = space_host_uid(s);
	c->cache_dir = space_cache_dir(p, s);
	c->no_cache = no_cache;
	fs_rm_rf(c->release_dir);
	/* A fresh log per build: the latest build's log is what users read. */
	unlink(c->log_path);
	if (note != NULL)
		space_build_log_note(c->log_path, note);
	s->build = c;
	builds_enqueue(c);
	free(logs);
	free(rel);
	return 0;
}

void
space_on_push(podium *p, space *s, const char *sha)
{
	space_build_commit(p, s, sha, 0);
	space_modified_save(s);
}

void
space_build_commit(podium *p, space *s, const char *sha, int no_cache)
{
	(void)p;
	log_info("space %s/%s: push of %.12s", s->row.owner, s->row.name, sha);
	space_replace_str(&s->row.sha, sha);
	/* A newer push supersedes the build waiting or in flight. */
	space_build_abandon(s);
	if (space_build_queue(s, sha, 1, NULL, no_cache) != 0) {
		space_set_stage(s, "BUILD_ERROR", "internal error: could not record the build");
		return;
	}
	space_set_stage(s, space_progress_stage(s), NULL);
}

void
space_build_again(space *s, const build_row *b)
{
	char *note = xasprintf("==> the daemon stopped during build %lld of %.12s: building it again "
	    "(attempt %d of %d)\n", (long long)b->id, b->sha, b->attempt + 1, BUILD_ATTEMPTS);

	log_warn("space %s/%s: build %lld of %.12s was interrupted by a daemon stop; building it "
	    "again (attempt %d)", s->row.owner, s->row.name, (long long)b->id, b->sha, b->attempt + 1);
	if (space_build_queue(s, b->sha, b->attempt + 1, note, 0) != 0)
		space_set_stage(s, space_serving(s) ? "RUNNING" : "BUILD_ERROR",
		    "internal error: could not record the build");
	free(note);
}

void
space_build_release(space *s, const char *sha, const char *note)
{
	if (space_build_queue(s, sha, 1, note, 0) != 0)
		space_set_stage(s, "BUILD_ERROR", "internal error: could not record the build");
	else
		space_set_stage(s, space_progress_stage(s), s->row.error);
}
