/* space_build.c — a space's builds: each push to main is recorded and queued (at most
 * build_slots() run at a time, the rest wait in push order), a newer push supersedes
 * the build in flight, a good build is handed to space_deploy(), a failed one leaves
 * its stage and message. After a daemon stop the interrupted build of the newest push
 * is built again (space_build_again). Shared private types are in space_int.h. */
#include "orchestrator/space_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builder/build.h"
#include "orchestrator/host/flavors.h"
#include "orchestrator/host/net.h"
#include "common/log.h"
#include "common/logfile.h"
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
	req.net = net_box_arg(c->host_uid);
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

/* A line of the daemon's own in a build log, stamped like the build's output. */
static void
build_log_note(const char *path, const char *line)
{
	logfile lf;

	if (logfile_open(&lf, path, 0644) == 0) {
		logfile_write(&lf, line, strlen(line));
		logfile_close(&lf);
	}
}

static void
builds_enqueue(build_ctx *c)
{
	int ahead = space_active_builds;
	char line[128];

	for (build_ctx *q = queue_head; q != NULL; q = q->next)
		ahead += q->s != NULL;
	if (ahead >= build_slots()) {
		snprintf(line, sizeof(line), "==> waiting for a build slot (%d builds ahead, %d at a "
		    "time)\n", ahead, build_slots());
		build_log_note(c->log_path, line);
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

	fs_mkdir_p(logs, 0750);
	fs_mkdir_p(rel, 0755);
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
	c->host_uid = space_host_uid(s);
	c->cache_dir = space_cache_dir(p, s);
	c->no_cache = no_cache;
	fs_rm_rf(c->release_dir);
	/* A fresh log per build: the latest build's log is what users read. */
	unlink(c->log_path);
	if (note != NULL)
		build_log_note(c->log_path, note);
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
