/* build.c — one build job, from birth to death:
 *
 *   builder_build_start → export (libgit2, thread pool) → builder_config_load →
 *   install steps, each inside podium-sandbox, output appended to the build log →
 *   build_done → free.
 *
 * Everything but the export runs on the loop. A build with nothing to install
 * (static, stdlib python) spawns no process at all, so push-to-live stays fast. */
#include "builder/build.h"
#include "builder/builder_int.h"
#include "builder/build_int.h"

#include <errno.h>
#include <sodium.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "common/child.h"
#include "common/log.h"
#include "common/logfile.h"
#include "common/mask.h"
#include "common/util.h"
#include "builder/image.h"
#include "sandbox/box.h"

/* ---- the build log -------------------------------------------------------------- */

static void
log_write_raw(void *arg, const char *data, size_t len)
{
	static const char cut[] = "\n==> podium: the build log is cut here: a build log keeps "
	    "at most 16 MiB (the last lines still show in the error)\n";
	build_job *job = arg;

	/* A full disk must not fail the build itself; the tail is kept either way. A
	 * build printing without end fills no disk (issue 21.1). */
	if (!job->log_cut && !job->own_line && job->log.size +
	    logfile_write_len(&job->log, data, len) + sizeof(cut) > LOG_MAX) {
		job->log_cut = 1;
		logfile_write(&job->log, cut, sizeof(cut) - 1);
	}
	if (!job->log_cut || job->own_line)
		logfile_write(&job->log, data, len);
	child_tail_append(&job->tail, data, len);
}

/* Everything reaches the log through here: a secret's value never does. */
static void
log_write(build_job *job, const char *data, size_t len)
{
	mask_write(&job->mask, data, len, log_write_raw, job);
}

void
build_log_line(build_job *job, const char *fmt, ...)
{
	char buf[2048], stamp[32];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n, m;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = snprintf(buf, sizeof(buf), "[%s] ", stamp);
	va_start(ap, fmt);
	m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	n = m < 0 ? n : n + m;
	if ((size_t)n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	job->own_line = 1;
	log_write(job, buf, (size_t)n);
	mask_flush(&job->mask, log_write_raw, job);
	job->own_line = 0;
}

/* ---- finishing -------------------------------------------------------------------- */

static void
job_free(build_job *job)
{
	int i, k;

	for (i = 0; i < job->nsteps; i++)
		for (k = 0; job->steps[i].argv[k] != NULL; k++)
			free(job->steps[i].argv[k]);
	app_config_release(&job->result.config);
	for (size_t e = 0; e < job->nenv; e++) {
		sodium_memzero(job->env[e], strlen(job->env[e]));
		free(job->env[e]);
	}
	free(job->env);
	for (size_t e = 0; job->step_env != NULL && job->step_env[e] != NULL; e++)
		free(job->step_env[e]);
	free(job->step_env);
	image_job_free(job->img);
	mask_free(&job->mask);
	logfile_close(&job->log);
	if (job->status_fd >= 0)
		close(job->status_fd);
	free(job->repo_path);
	free(job->sha);
	free(job->release_dir);
	free(job->log_path);
	free(job->sandbox_bin);
	free(job->net);
	free(job->space_id);
	free(job->cache_dir);
	free(job);
}

/* Called when the result is set and no handle is open any more. */
static void
job_complete(build_job *job)
{
	static const char *const names[] = { "OK", "NO_APP_FILE", "CONFIG_ERROR", "BUILD_FAILED" };

	build_log_line(job, "==> %s in %.1f s", names[job->result.status],
	    (double)(now_ms() - job->started_ms) / 1000.0);
	log_info("builder: %s %.12s: %s (%llu ms)", job->space_id, job->sha,
	    names[job->result.status], (unsigned long long)(now_ms() - job->started_ms));
	job->cb(job, &job->result, job->arg);
	job_free(job);
}

static void
job_finish(build_job *job, build_stage_result status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
job_finish(build_job *job, build_stage_result status, const char *fmt, ...)
{
	va_list ap;

	if (job->finished)
		return;
	job->finished = 1;
	job->result.status = status;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(job->result.message, sizeof(job->result.message), fmt, ap);
		va_end(ap);
	}
	if (status != BUILD_OK)
		build_log_line(job, "error: %s", job->result.message);
	if (job->handles == 0)
		job_complete(job);
}

/* ---- sandboxed steps ---------------------------------------------------------------- */

static void step_run(build_job *job);

static void
handle_closed(uv_handle_t *h)
{
	build_job *job = h->data;

	if (--job->handles > 0)
		return;
	if (job->finished) {
		job_complete(job);
	} else if (job->advance) {
		/* The next step reuses the process and pipe handles, so it starts only
		 * once the previous ones are fully closed. */
		job->advance = 0;
		step_run(job);
	}
}

static void
job_timeout_text(build_job *job, char *out, size_t outlen)
{
	snprintf(out, outlen, "out of time: a whole build may take %u s (limits.build_timeout)",
	    job->timeout_s);
}

/* Milliseconds left of the build's time (0: none). */
static uint64_t
job_time_left(build_job *job)
{
	uint64_t end = job->started_ms + (uint64_t)job->timeout_s * 1000, now = now_ms();

	return now < end ? end - now : 0;
}

/* 1 when the build disk (where the release and the cache are) has no room left. */
static int
disk_full(build_job *job)
{
	struct statvfs v;

	return statvfs(job->release_dir, &v) == 0 &&
	    (uint64_t)v.f_bavail * v.f_frsize < (1u << 20);
}

static void
disk_full_text(build_job *job, char *out, size_t outlen)
{
	snprintf(out, outlen, "the space's build disk is full: limits.build_disk is %llu MiB for its "
	    "releases (the ones kept for rollback too) and its build cache",
	    (unsigned long long)(job->disk_bytes >> 20));
}

/* What the sandbox said about how the step ended, for the failure message. */
static void
step_status_reason(build_job *job, char *out, size_t outlen)
{
	char buf[4096];
	json_t *st;
	ssize_t n;

	if (job->term_signal != 0)
		snprintf(out, outlen, "killed by signal %d", job->term_signal);
	else if (job->exit_status == 125)
		snprintf(out, outlen, "sandbox setup failed (exit 125)");
	else if (job->exit_status == 128 + SIGXFSZ && job->fsize_bytes > 0)
		snprintf(out, outlen, "exit status %lld: a file grew past limits.build_file, %llu MiB",
		    (long long)job->exit_status, (unsigned long long)(job->fsize_bytes >> 20));
	else if (disk_full(job))
		disk_full_text(job, out, outlen);
	else
		snprintf(out, outlen, "exit status %lld", (long long)job->exit_status);
	if (job->status_fd < 0)
		return;
	n = read(job->status_fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return;
	buf[n] = '\0';
	st = json_loads(buf, JSON_DISABLE_EOF_CHECK, NULL);
	if (json_is_string(json_object_get(st, "seccomp_syscall")))
		snprintf(out, outlen, "killed: blocked system call %.64s (seccomp)",
		    json_string_value(json_object_get(st, "seccomp_syscall")));
	else if (json_is_true(json_object_get(st, "timed_out")))
		job_timeout_text(job, out, outlen);
	else if (json_is_true(json_object_get(st, "oom_killed")))
		snprintf(out, outlen, "out of memory (limit %llu MiB)",
		    (unsigned long long)job->memory_bytes >> 20);
	json_decref(st);
}

/* The step went well (or may be passed): the next one runs once the handles of
 * this one are closed (handle_closed). */
static void
step_next(build_job *job)
{
	if (job->status_fd >= 0)
		close(job->status_fd);
	job->status_fd = -1;
	job->cur++;
	job->advance = 1;
}

/* A registry check that did not pass (registry.c). Unreachable (exit 2): its
 * installer runs offline (npm --offline, pip --no-index), which installs what it
 * can without the registry (a package.json without dependencies, requirements the
 * system's site packages satisfy) and fails at once otherwise, the check's line
 * leading the error. A check that broke itself is passed over. */
static void
registry_unreachable(build_job *job, build_step *step)
{
	char line[sizeof(job->registry_note)];

	if (job->term_signal != 0 || job->exit_status != 2) {
		build_log_line(job, "--> %s: the check itself failed (exit status %lld); going on",
		    step->name, (long long)job->exit_status);
		step_next(job);
		return;
	}
	child_tail_lines(&job->tail, 1, line, sizeof(line));
	line[strcspn(line, "\n")] = '\0';
	job->offline[step->check] = 1;
	snprintf(job->registry_note, sizeof(job->registry_note), "%s", line);
	build_log_line(job, "--> %s without it (%s): only what needs no download can be installed",
	    step->check == BUILDER_REGISTRY_NPM ? "npm runs" : "pip runs",
	    step->check == BUILDER_REGISTRY_NPM ? "--offline" : "--no-index");
	step_next(job);
}

static void
step_done(build_job *job)
{
	build_step *step = &job->steps[job->cur];
	char reason[256], why[256], tail[sizeof(job->result.message)];

	if (job->proc_running || job->out_open)
		return;
	if (job->cancelled) {
		job_finish(job, BUILD_FAILED, "cancelled");
		return;
	}
	if (job->exit_status == 0 && job->term_signal == 0 && step->engine &&
	    image_job_done(job->img, job->loop, &job->result.config, tail, sizeof(tail)) != 0) {
		job_finish(job, BUILD_FAILED, "%s", tail);
		return;
	}
	if (job->exit_status == 0 && job->term_signal == 0) {
		build_log_line(job, "--> %s: done in %.1f s", step->name,
		    (double)(now_ms() - job->step_ms) / 1000.0);
		step_next(job);
		return; /* handle_closed runs the next step */
	}
	if (step->check != BUILDER_REGISTRY_NONE) {
		registry_unreachable(job, step);
		return;
	}
	step_status_reason(job, reason, sizeof(reason));
	build_log_line(job, "--> %s: failed: %s", step->name, reason);
	/* from memory: the log file is append-only to us, and may be on a full disk */
	child_tail_lines(&job->tail, TAIL_LINES, tail, sizeof(tail) - 200);
	image_job_failure(step->engine ? tail : "", why, sizeof(why));
	if (why[0] != '\0')
		job_finish(job, BUILD_FAILED, "%s; last lines of the build log:\n%s", why, tail);
	else
		job_finish(job, BUILD_FAILED, "%s failed (%s)%s%s; last lines of the build log:\n%s",
		    step->name, reason, job->offline[step->needs] ? ": " : "",
		    job->offline[step->needs] ? job->registry_note : "", tail);
}

static void
proc_exited(uv_process_t *proc, int64_t exit_status, int term_signal)
{
	build_job *job = proc->data;

	job->exit_status = exit_status;
	job->term_signal = term_signal;
	job->proc_running = 0;
	uv_close((uv_handle_t *)proc, handle_closed);
	/* After a cancel, a straggler that inherited the pipe must not hold the job. */
	if (job->cancelled && job->out_open) {
		job->out_open = 0;
		uv_close((uv_handle_t *)&job->out, handle_closed);
	}
	step_done(job);
}

static void
out_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	static char slab[64 * 1024]; /* consumed synchronously by out_read */

	buf->base = slab;
	buf->len = sizeof(slab);
}

static void
out_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	build_job *job = s->data;

	if (n > 0) {
		log_write(job, buf->base, (size_t)n);
		return;
	}
	if (n == 0)
		return;
	mask_flush(&job->mask, log_write_raw, job);
	job->out_open = 0;
	uv_close((uv_handle_t *)s, handle_closed);
	step_done(job);
}

/* The box of one step: the release at APP_DIR (and the build cache at /cache), the
 * job's limits and net, the build's environment and then the space's. */
static void
step_box(build_job *job, build_step *step, box_spec *box)
{
	const char *rootfs = image_job_rootfs(job->img);
	char *const *engine_argv;

	if (step->engine && image_job_step(job->img, &engine_argv)) {
		/* the image's engine, in the limits and network of any step */
		image_job_box(job->img, box, (const char *const *)engine_argv);
		goto limits;
	}
	box_spec_init(box);
	box->sandbox_bin = job->sandbox_bin;
	box->binds[box->nbinds++] = (box_bind){ job->release_dir, APP_DIR };
	if (job->cache_dir != NULL)
		box->binds[box->nbinds++] = (box_bind){ job->cache_dir, "/cache" };
	box->tmpfs = "/tmp";
	box->chdir = APP_DIR;
	box->env = (const char *const *)job->step_env;
	box->extra_env = (const char *const *)job->env;
	box->argv = (const char *const *)step->argv;
	/* a system image's steps run on its layers, as its app will */
	if (rootfs != NULL) {
		box->rootfs = rootfs;
		box->rootfs_ids = IMAGE_BUILD_IDS;
		box->id_range = image_job_id_range(job->img);
	}
limits:
	box->host_uid = job->host_uid;
	box->net = job->net;
	box->memory_bytes = job->memory_bytes;
	box->pids = job->pids;
	box->cpus = job->cpus;
	/* what is left of the build's one deadline (step_run checked there is some) */
	box->timeout_s = (unsigned)((job_time_left(job) + 999) / 1000);
	box->status_fd = STATUS_FD;
	box->fsize_bytes = job->fsize_bytes;
}

static int
step_spawn(build_job *job, build_step *step)
{
	/* own process group, so a cancel reaches whatever the step left behind */
	box_io io = { .exit_cb = proc_exited, .flags = UV_PROCESS_DETACHED, .out = &job->out,
		.nextra = 1 };
	int status_fds[2];
	box_spec box;
	int r;

	step_box(job, step, &box);
	if (pipe2(status_fds, O_CLOEXEC | O_NONBLOCK) != 0)
		return -errno;
	io.extra[0].flags = UV_INHERIT_FD;
	io.extra[0].data.fd = status_fds[1];
	/* the previous step's handles are closed: they are fresh again */
	memset(&job->proc, 0, sizeof(job->proc));
	memset(&job->out, 0, sizeof(job->out));
	job->proc.data = job;
	r = box_spawn(job->loop, &job->proc, &box, &io);
	close(status_fds[1]);
	if (r != 0) {
		close(status_fds[0]);
		if (job->proc.loop != NULL) {
			job->handles++;
			uv_close((uv_handle_t *)&job->proc, handle_closed);
		}
		return r;
	}
	job->handles += 2;
	job->proc_running = 1;
	job->out_open = 1;
	job->status_fd = status_fds[0];
	job->out.data = job;
	uv_read_start((uv_stream_t *)&job->out, out_alloc, out_read);
	return 0;
}

static void
step_run(build_job *job)
{
	build_step *step;
	int r;

	if (job->cancelled) {
		job_finish(job, BUILD_FAILED, "cancelled");
		return;
	}
	if (job->cur >= job->nsteps) {
		const json_t *app_file = json_object_get(job->result.config.card, "app_file");
		const char *index = json_is_string(app_file) ? json_string_value(app_file) :
		    "index.html";

		/* With an app_build_command the page may only exist now (e.g. dist/). */
		if (strcmp(job->result.config.sdk, "static") == 0 && !build_release_file(job, index))
			job_finish(job, BUILD_NO_APP_FILE, "app file %s not found in the release%s",
			    index, json_is_string(app_file) ? " (key: app_file)" : "");
		else
			job_finish(job, BUILD_OK, NULL);
		return;
	}
	step = &job->steps[job->cur];
	if (job_time_left(job) == 0) {
		char why[128];

		job_timeout_text(job, why, sizeof(why));
		job_finish(job, BUILD_FAILED, "%s: not started: the build is %s", step->name, why);
		return;
	}
	if (job->offline[step->needs]) {
		int n = 0;

		while (step->argv[n] != NULL)
			n++;
		step->argv[n] = xstrdup(step->needs == BUILDER_REGISTRY_NPM ? "--offline" : "--no-index");
		step->argv[n + 1] = NULL;
	}
	build_log_line(job, "--> %s", step->name);
	job->step_ms = now_ms();
	r = step_spawn(job, step);
	if (r != 0)
		job_finish(job, BUILD_FAILED, "%s: cannot start %s: %s", step->name,
		    job->sandbox_bin, uv_strerror(r));
}


/* ---- export and configuration --------------------------------------------------------- */

static void
export_work(uv_work_t *w)
{
	build_job *job = w->data;

	job->export_rc = builder_export_commit(job->repo_path, job->sha, job->release_dir,
	    job->export_err, sizeof(job->export_err));
}

static void
export_done(uv_work_t *w, int status)
{
	build_job *job = w->data;
	build_stage_result r;
	char err[sizeof(job->result.message)];
	char *const *engine_argv;

	job->handles--; /* the work request counted as one */
	if (job->cancelled || status == UV_ECANCELED) {
		job_finish(job, BUILD_FAILED, "cancelled");
		return;
	}
	if (job->export_rc != 0) {
		char full[256] = "";

		if (disk_full(job))
			disk_full_text(job, full, sizeof(full));
		job_finish(job, BUILD_FAILED, "export of %.12s failed: %s%s%s", job->sha,
		    job->export_err, full[0] != '\0' ? ": " : "", full);
		return;
	}
	build_log_line(job, "--> exported %.12s in %.2f s", job->sha,
	    (double)(now_ms() - job->started_ms) / 1000.0);

	r = builder_config_load(job->release_dir, &job->result.config, err, sizeof(err));
	if (r != BUILD_OK) {
		job_finish(job, r, "%s", err);
		return;
	}
	build_log_line(job, "--> sdk %s", job->result.config.sdk);
	if (job->result.config.run_argv != NULL) {
		char *s = json_dumps(job->result.config.run_argv, JSON_COMPACT);

		build_log_line(job, "    command %s, port %d", s != NULL ? s : "?", job->result.config.app_port);
		free(s);
	}
	/* an image first: a Dockerfile's (the whole build), or the system image the
	 * install steps run on */
	if ((r = image_job_plan(job->img, job->release_dir, &job->result.config, job->no_cache, err,
	         sizeof(err))) != BUILD_OK) {
		job_finish(job, r, "%s", err);
		return;
	}
	if (image_job_skipped(job->img) != NULL)
		build_log_line(job, "--> warning: %s; building on the host's /usr", image_job_skipped(job->img));
	if (image_job_step(job->img, &engine_argv)) {
		build_step_add(job, strcmp(job->result.config.sdk, "docker") == 0 ?
		    "docker build (buildah bud)" : "system image (packages.txt, python_version)", NULL);
		job->steps[job->nsteps - 1].engine = 1;
	}
	if (strcmp(job->result.config.sdk, "docker") != 0)
		build_steps_plan(job);
	if (job->nsteps > 0 && fs_chown_r(job->release_dir, job->host_uid, job->host_uid) != 0) {
		job_finish(job, BUILD_FAILED, "cannot hand the release to uid %u: %s", job->host_uid,
		    strerror(errno));
		return;
	}
	job->cur = 0;
	step_run(job);
}

/* ---- public API ----------------------------------------------------------------------- */

int
builder_build_start(uv_loop_t *loop, const build_request *req, build_done_cb cb, void *arg,
    build_job **out)
{
	build_job *job;
	struct stat st;
	char *parent, *slash;
	int r;

	if (req->repo_path == NULL || req->sha == NULL || strlen(req->sha) != 40 ||
	    req->release_dir == NULL || req->log_path == NULL || req->sandbox_bin == NULL ||
	    cb == NULL)
		return -EINVAL;
	if (lstat(req->release_dir, &st) == 0)
		return -EEXIST;

	job = xcalloc(1, sizeof(*job));
	job->loop = loop;
	job->repo_path = xstrdup(req->repo_path);
	job->sha = xstrdup(req->sha);
	job->release_dir = xstrdup(req->release_dir);
	job->log_path = xstrdup(req->log_path);
	job->sandbox_bin = xstrdup(req->sandbox_bin);
	job->space_id = xstrdup(req->space_id != NULL ? req->space_id : "?");
	job->host_uid = req->host_uid;
	job->net = xstrdup(req->net != NULL ? req->net : "none");
	job->no_cache = req->no_cache;
	if (req->cache_dir != NULL) {
		/* Only the space's builds write there (as its uid); apps never see it. */
		if (fs_mkdir_p(req->cache_dir, 0700) == 0 &&
		    chown(req->cache_dir, req->host_uid, req->host_uid) == 0)
			job->cache_dir = xstrdup(req->cache_dir);
		else
			log_warn("builder: %s: build cache %s unusable: %s", job->space_id,
			    req->cache_dir, strerror(errno));
	}
	for (size_t e = 0; req->env != NULL && req->env[e] != NULL; e++) {
		job->env = xrealloc(job->env, (job->nenv + 2) * sizeof(char *));
		job->env[job->nenv++] = xstrdup(req->env[e]);
		job->env[job->nenv] = NULL;
	}
	mask_init(&job->mask, req->mask);
	job->img = image_job_new(req);
	job->step_env = build_steps_env();
	job->memory_bytes = req->memory_bytes > 0 ? req->memory_bytes : BUILD_MEMORY;
	job->pids = req->pids > 0 ? req->pids : BUILD_PIDS;
	job->cpus = req->cpus > 0 ? req->cpus : 0;
	job->timeout_s = req->timeout_s > 0 ? req->timeout_s : BUILD_TIMEOUT;
	job->disk_bytes = req->disk_bytes;
	job->fsize_bytes = req->fsize_bytes;
	job->cb = cb;
	job->arg = arg;
	job->status_fd = -1;
	job->log.fd = -1;
	job->started_ms = now_ms();
	app_config_init(&job->result.config);

	parent = xstrdup(job->log_path);
	if ((slash = strrchr(parent, '/')) != NULL && slash != parent) {
		*slash = '\0';
		fs_mkdir_p(parent, 0700);
	}
	free(parent);
	if ((r = logfile_open(&job->log, job->log_path, 0600)) != 0)
		goto fail;
	parent = xstrdup(job->release_dir);
	if ((slash = strrchr(parent, '/')) != NULL && slash != parent) {
		*slash = '\0';
		fs_mkdir_p(parent, 0700);
	}
	free(parent);
	/* its parents are the daemon's only; the box sees it (podium-sandbox opens it) */
	if (mkdir(job->release_dir, 0755) != 0) {
		r = -errno;
		goto fail;
	}
	build_log_line(job, "==> build of %s at %s", job->space_id, job->sha);

	job->work.data = job;
	if ((r = uv_queue_work(loop, &job->work, export_work, export_done)) != 0) {
		rmdir(job->release_dir);
		goto fail;
	}
	job->handles++;
	if (out != NULL)
		*out = job;
	return 0;
fail:
	job->nsteps = 0;
	job_free(job);
	return r;
}

void
builder_build_cancel(build_job *job)
{
	if (job == NULL || job->finished || job->cancelled)
		return;
	job->cancelled = 1;
	build_log_line(job, "--> cancel requested");
	/* The sandbox runs the step as pid 1 of its own pid namespace, so killing the
	 * launcher takes the whole step down with it. */
	if (job->proc_running) {
		uv_kill(-job->proc.pid, SIGKILL);
		uv_process_kill(&job->proc, SIGKILL);
	}
}
