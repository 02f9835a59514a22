/* instance.c — one app instance from birth to death: instance_start spawns the
 * box (sandbox/box.h), its output goes through the secrets' mask to the run log
 * and the tail, the sandbox's info line gives its init, cgroups and network
 * namespace (then instance_probe.c takes over: readiness, liveness), and the box
 * ends (exit, stop, kill by its cgroup) in on_exit. See instance.h. */
#include "orchestrator/host/instance.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "orchestrator/host/http_probe.h"
#include "orchestrator/host/instance_int.h"
#include "orchestrator/host/net.h"
#include "sandbox/box.h"

#define APP_DIR "/home/user/app"
#define LOG_MAX (16 << 20)   /* app.log rotates to app.log.1 past this */
#define KILL_ROUND_MS 200    /* the cgroup is swept again this often until the box is gone */
#define KILL_ROUNDS_BEFORE_LAUNCHER 10 /* then the launcher is killed too (its init dies with it) */

static uint64_t next_instance_id = 1;

static void
handle_closed(uv_handle_t *h)
{
	instance *in = h->data;

	if (--in->open_handles == 0 && in->closing) {
		if (in->netns_fd >= 0)
			close(in->netns_fd);
		logfile_close(&in->log);
		for (int i = 0; i < in->ncgroups; i++)
			free(in->cgroups[i]);
		free(in->stats_id);
		free(in->log_path);
		mask_free(&in->mask);
		free(in);
	}
}

static void
close_handle(instance *in, uv_handle_t *h)
{
	if (h->loop == NULL || uv_is_closing(h))
		return;
	h->data = in;
	in->open_handles++;
	uv_close(h, handle_closed);
}

static void
alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	static char slab[65536];

	(void)h;
	(void)suggested;
	/* Every read is consumed synchronously in its read callback on this thread. */
	*buf = uv_buf_init(slab, sizeof(slab));
}

static void
log_open(instance *in)
{
	int r = logfile_open(&in->log, in->log_path, 0640);

	if (r != 0)
		log_warn("instance %llu: %s: %s", (unsigned long long)in->id, in->log_path, strerror(-r));
}

/* Appends app output to its log, keeping one old generation: a chatty or
 * crash-looping app cannot fill the disk. */
static void
log_append(instance *in, const char *p, size_t n)
{
	int r;

	if (in->log.fd >= 0 && in->log.size + logfile_write_len(&in->log, p, n) > LOG_MAX) {
		char *old = xasprintf("%s.1", in->log_path);
		int midline = in->log.midline;

		logfile_close(&in->log);
		rename(in->log_path, old);
		free(old);
		log_open(in);
		in->log.midline = midline; /* a line cut by the rotation goes on unstamped */
	}
	if ((r = logfile_write(&in->log, p, n)) != 0)
		log_warn("instance %llu: log write: %s", (unsigned long long)in->id, strerror(-r));
}

/* Output, secrets masked, to the tail and the log; but the lines of the app's own
 * access log that answer podium's liveness probe (they name HTTP_PROBE_MARK): a
 * check every 10 s would flood the log a visitor reads. A line is judged when it
 * is whole in one read (an access log line is one write); the rest of a line a
 * read cut goes on as it is. */
static void
output_sink(void *arg, const char *p, size_t n)
{
	instance *in = arg;
	size_t i = 0;

	while (i < n) {
		const char *nl = memchr(p + i, '\n', n - i);
		size_t len = nl != NULL ? (size_t)(nl - (p + i)) + 1 : n - i;
		int whole = nl != NULL && !(i == 0 && in->out_midline);

		if (!whole || memmem(p + i, len, HTTP_PROBE_MARK, strlen(HTTP_PROBE_MARK)) == NULL) {
			child_tail_append(&in->tail, p + i, len);
			log_append(in, p + i, len);
		}
		i += len;
	}
	if (n > 0)
		in->out_midline = p[n - 1] != '\n';
}

void
instance_note(instance *in, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	log_append(in, line, (size_t)n);
}

/* ---- the box: every process of it, by its cgroup ---- */

/* Sends sig to every process in the box's cgroup but skip; returns how many, or
 * -errno when the cgroup cannot be read. The cgroups of one box hold the same
 * processes (v1: one per controller), so one is read: a process gets the signal
 * once. */
static int
box_signal(instance *in, int sig, int skip)
{
	char *path, *text = NULL, *p, *end;
	size_t len;
	int n = 0, r;

	if (in->ncgroups == 0)
		return 0;
	path = xasprintf("%s/cgroup.procs", in->cgroups[0]);
	if ((r = fs_read_file(path, &text, &len, 1 << 20)) != 0) {
		n = r;
	} else {
		for (p = text; *p != '\0'; p = end) {
			long pid = strtol(p, &end, 10);
			if (end == p)
				break;
			if (pid > 0 && pid != skip && kill((pid_t)pid, sig) == 0)
				n++;
		}
	}
	free(text);
	free(path);
	return n;
}

/* One sweep of the kill: cgroup v2's cgroup.kill where the kernel has it (5.14+),
 * else SIGKILL to every process listed. The box's init is among them, and when it
 * dies the kernel kills what is left in its pid namespace; the sweep repeats
 * (kill_expired) until the launcher reports the box gone. Without cgroups (the
 * launcher has not reported them yet) the launcher is killed: its init has it as
 * parent-death signal. */
static void
box_kill(instance *in)
{
	char *path;
	int r;

	if (in->ncgroups == 0 || in->kill_rounds++ >= KILL_ROUNDS_BEFORE_LAUNCHER) {
		uv_process_kill(&in->proc, SIGKILL);
		return;
	}
	if (in->cgroup_version == 2) {
		path = xasprintf("%s/cgroup.kill", in->cgroups[0]);
		r = fs_write_text(path, "1");
		free(path);
		/* an older kernel has no cgroup.kill: the sweep below does it */
		if (r != 0 && r != -ENOENT)
			log_warn("instance %llu: cgroup.kill: %s", (unsigned long long)in->id,
			    strerror(-r));
	}
	/* Unreadable (out of descriptors, say): the launcher takes its box along. */
	if (box_signal(in, SIGKILL, 0) < 0)
		uv_process_kill(&in->proc, SIGKILL);
}

static void kill_expired(uv_timer_t *t);

/* every KILL_ROUND_MS */
void
instance_kill(instance *in)
{
	if (in->exited)
		return;
	in->killing = 1;
	uv_timer_stop(&in->probe_timer);
	instance_live_stop(in);
	box_kill(in);
	uv_timer_start(&in->kill_timer, kill_expired, KILL_ROUND_MS, KILL_ROUND_MS);
}

static void
stream_eof(instance *in, uv_stream_t *s)
{
	uv_read_stop(s);
	in->open_streams--;
	instance_maybe_finish(in);
}

static void
output_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	instance *in = s->data;

	if (n > 0) {
		mask_write(&in->mask, buf->base, (size_t)n, output_sink, in);
	} else if (n < 0) {
		stream_eof(in, s);
	}
}

static void
status_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	instance *in = s->data;

	if (n > 0) {
		size_t room = sizeof(in->status_buf) - 1 - in->status_len;
		size_t take = (size_t)n < room ? (size_t)n : room;
		memcpy(in->status_buf + in->status_len, buf->base, take);
		in->status_len += take;
		in->status_buf[in->status_len] = '\0';
	} else if (n < 0) {
		stream_eof(in, s);
	}
}

void
instance_fail(instance *in, int err)
{
	if (in->exited || in->stopping || in->killing)
		return;
	in->reason = instance_strerror(-err);
	log_warn("instance %llu: %s: stopping it", (unsigned long long)in->id, in->reason);
	instance_kill(in);
}

/* The info line: {"pid": INIT, "cgroup_version": N, "cgroups": [DIR...]}. */
static void
info_parse(instance *in, const json_t *j)
{
	const json_t *dirs = json_object_get(j, "cgroups");
	size_t i;

	in->box_pid = (int)json_integer_value(json_object_get(j, "pid"));
	in->cgroup_version = (int)json_integer_value(json_object_get(j, "cgroup_version"));
	for (i = 0; i < json_array_size(dirs) && in->ncgroups < MAX_CGROUPS; i++) {
		const char *d = json_string_value(json_array_get(dirs, i));
		if (d != NULL && d[0] == '/')
			in->cgroups[in->ncgroups++] = xstrdup(d);
	}
}

static void
info_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	instance *in = s->data;
	char path[64];
	json_t *j;
	json_int_t pid;

	if (n < 0) {
		close_handle(in, (uv_handle_t *)s);
		return;
	}
	if (n == 0 || in->netns_fd >= 0)
		return;
	size_t room = sizeof(in->info_buf) - 1 - in->info_len;
	size_t take = (size_t)n < room ? (size_t)n : room;
	memcpy(in->info_buf + in->info_len, buf->base, take);
	in->info_len += take;
	in->info_buf[in->info_len] = '\0';
	if (strchr(in->info_buf, '\n') == NULL)
		return;
	j = json_loads(in->info_buf, JSON_DISABLE_EOF_CHECK, NULL);
	pid = j != NULL ? json_integer_value(json_object_get(j, "pid")) : 0;
	if (pid > 0 && in->box_pid == 0)
		info_parse(in, j);
	json_decref(j);
	if (pid <= 0) {
		log_warn("instance %llu: bad info line from sandbox: %s", (unsigned long long)in->id,
		    in->info_buf);
		return;
	}
	/* One line is all the sandbox says here: its pipe is not worth a descriptor
	 * for the rest of the app's life. */
	close_handle(in, (uv_handle_t *)s);
	snprintf(path, sizeof(path), "/proc/%lld/ns/net", (long long)pid);
	in->boxed_ms = now_ms();
	in->box_pid = (int)pid;
	in->netns_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (in->netns_fd < 0) {
		int e = errno;

		log_warn("instance %llu: open %s: %s", (unsigned long long)in->id, path, strerror(e));
		if (e == EMFILE || e == ENFILE)
			instance_fail(in, e);
		return;
	}
	instance_probe_start(in);
}

static void
proc_exited(uv_process_t *p, int64_t exit_status, int term_signal)
{
	instance *in = p->data;

	in->exited = 1;
	in->exit_code = (int)exit_status;
	in->term_signal = term_signal;
	uv_timer_stop(&in->probe_timer);
	uv_timer_stop(&in->startup_timer);
	uv_timer_stop(&in->kill_timer);
	instance_live_stop(in);
	instance_maybe_finish(in);
}

static void
startup_expired(uv_timer_t *t)
{
	instance *in = t->data;

	if (in->ready || in->exited || in->killing)
		return;
	log_warn("instance %llu: port %d not open after startup timeout", (unsigned long long)in->id,
	    in->port);
	in->startup_timeout = 1;
	instance_note(in, "==> podium: launch timed out: port %d not open after %llu s "
	    "(startup_duration_timeout); stopping the app", in->port,
	    (unsigned long long)((now_ms() - in->started_ms + 500) / 1000));
	instance_kill(in);
}

/* The grace time of a stop is over, or a kill sweep is due again. */
static void
kill_expired(uv_timer_t *t)
{
	instance *in = t->data;

	if (in->exited)
		return;
	if (!in->killing)
		instance_kill(in);
	else
		box_kill(in);
}

/* Closes every handle; the struct is freed when the last one has closed. The extra
 * count keeps it alive until all closes are queued. */
static void
instance_close(instance *in)
{
	in->closing = 1;
	in->open_handles++;
	close_handle(in, (uv_handle_t *)&in->proc);
	close_handle(in, (uv_handle_t *)&in->out);
	close_handle(in, (uv_handle_t *)&in->info);
	close_handle(in, (uv_handle_t *)&in->status);
	close_handle(in, (uv_handle_t *)&in->probe_timer);
	close_handle(in, (uv_handle_t *)&in->kill_timer);
	close_handle(in, (uv_handle_t *)&in->startup_timer);
	close_handle(in, (uv_handle_t *)&in->live_timer);
	in->proc.data = in;
	handle_closed((uv_handle_t *)&in->proc);
}

/* on_exit runs once the process has exited and its output is drained, so the error
 * message has the app's last words. */
void
instance_maybe_finish(instance *in)
{
	instance_exit ex = { 0 };
	char tail[CHILD_TAIL_BYTES + 1];
	json_t *st;

	if (in->finished || !in->exited || in->open_streams > 0 || in->probe_active)
		return;
	in->finished = 1;
	mask_flush(&in->mask, output_sink, in);
	st = json_loads(in->status_buf, JSON_DISABLE_EOF_CHECK, NULL);
	ex.exit_code = in->exit_code;
	ex.term_signal = in->term_signal;
	ex.oom_killed = st != NULL && json_is_true(json_object_get(st, "oom_killed"));
	ex.was_ready = in->ready;
	ex.startup_timeout = in->startup_timeout;
	ex.stopped = in->stopping;
	ex.not_responding = in->not_responding;
	ex.seccomp_syscall = json_string_value(json_object_get(st, "seccomp_syscall"));
	if (ex.seccomp_syscall != NULL && ex.seccomp_syscall[0] == '\0')
		ex.seccomp_syscall = NULL;
	ex.reason = in->reason;
	child_tail_lines(&in->tail, 20, tail, sizeof(tail));
	ex.tail = tail;
	log_info("instance %llu: exited (status %d, signal %d%s%s%s)", (unsigned long long)in->id,
	    in->exit_code, in->term_signal, ex.oom_killed ? ", out of memory" : "",
	    ex.seccomp_syscall != NULL ? ", blocked system call " : "",
	    ex.seccomp_syscall != NULL ? ex.seccomp_syscall : "");
	if (ex.oom_killed)
		instance_note(in, "==> podium: the app was killed: out of memory");
	else if (ex.seccomp_syscall != NULL)
		instance_note(in, "==> podium: the app was killed: blocked system call %s (seccomp)",
		    ex.seccomp_syscall);
	if (in->cb.on_exit != NULL)
		in->cb.on_exit(in, &ex, in->cb.arg);
	json_decref(st);
	instance_close(in);
}

/* The box of an app: its release overlaid at APP_DIR (writes discarded with the
 * box), its persistent /data, its limits, its egress. */
static void
app_box(const instance_spec *spec, const char *const *argv, box_spec *box)
{
	box_spec_init(box);
	box->sandbox_bin = spec->sandbox_bin;
	box->info_fd = 3;
	box->status_fd = 4;
	box->overlay = (box_bind){ spec->release_dir, APP_DIR };
	box->binds[box->nbinds++] = (box_bind){ spec->data_dir, "/data" };
	box->chdir = APP_DIR;
	box->host_uid = spec->host_uid;
	box->hostname = "space";
	/* /tmp and the app directory's writes: ENOSPC past 1 GiB each */
	box->tmpfs_bytes = 1ull << 30;
	box->net = net_box_arg(spec->host_uid);
	box->memory_bytes = spec->memory_bytes;
	box->pids = spec->pids;
	box->cpus = spec->cpus;
	box->env = spec->env;
	box->argv = argv;
}

/* An instance with its log open and its handles initialised, nothing running. */
static instance *
instance_new(uv_loop_t *loop, const instance_spec *spec, const instance_cb *cb)
{
	instance *in = xcalloc(1, sizeof(*in));

	in->loop = loop;
	in->id = next_instance_id++;
	in->port = spec->port;
	in->cb = *cb;
	in->netns_fd = -1;
	in->started_ms = now_ms();
	in->log_path = xstrdup(spec->log_path);
	in->stats_id = spec->stats_id != NULL ? xstrdup(spec->stats_id) : NULL;
	mask_init(&in->mask, spec->mask);
	log_open(in);
	/* where one run of the app ends and the next begins (a first start needs none) */
	if (spec->start_note != NULL && in->log.fd >= 0 && in->log.size > 0)
		instance_note(in, "%s", spec->start_note);
	uv_pipe_init(loop, &in->info, 0);
	uv_pipe_init(loop, &in->status, 0);
	uv_timer_init(loop, &in->probe_timer);
	uv_timer_init(loop, &in->kill_timer);
	uv_timer_init(loop, &in->startup_timer);
	uv_timer_init(loop, &in->live_timer);
	in->info.data = in->status.data = in->proc.data = in;
	in->probe_timer.data = in->kill_timer.data = in->startup_timer.data = in;
	in->live_timer.data = in;
	return in;
}

int
instance_start(uv_loop_t *loop, const instance_spec *spec, const instance_cb *cb, instance **out)
{
	instance *in = instance_new(loop, spec, cb);
	box_io io = { .exit_cb = proc_exited, .out = &in->out, .nextra = 2 };
	size_t i, n = json_array_size(spec->argv);
	const char **argv = xcalloc(n + 1, sizeof(char *));
	box_spec box;
	int r;

	instance_live_config();
	for (i = 0; i < n; i++)
		argv[i] = json_string_value(json_array_get(spec->argv, i));
	app_box(spec, argv, &box);
	/* descriptors 3 and 4: the sandbox's info line and its status at the end */
	io.extra[0].flags = io.extra[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	io.extra[0].data.stream = (uv_stream_t *)&in->info;
	io.extra[1].data.stream = (uv_stream_t *)&in->status;
	r = box_spawn(loop, &in->proc, &box, &io);
	free(argv);
	if (r != 0) {
		error("instance: spawn %s: %s", spec->sandbox_bin, instance_strerror(r));
		/* Nothing runs: close what was opened and free without callbacks. */
		in->finished = 1;
		instance_close(in);
		return r;
	}
	in->out.data = in;
	in->open_streams = 2;
	uv_read_start((uv_stream_t *)&in->out, alloc_cb, output_read);
	uv_read_start((uv_stream_t *)&in->status, alloc_cb, status_read);
	uv_read_start((uv_stream_t *)&in->info, alloc_cb, info_read);
	if (spec->startup_timeout_s > 0)
		uv_timer_start(&in->startup_timer, startup_expired,
		    (uint64_t)spec->startup_timeout_s * 1000, 0);
	log_info("instance %llu: started pid %d for %s", (unsigned long long)in->id, in->proc.pid,
	    spec->release_dir);
	*out = in;
	return 0;
}
void
instance_stop(instance *in, unsigned grace_ms)
{
	if (in->exited || in->stopping || in->killing)
		return;
	in->stopping = 1;
	uv_timer_stop(&in->probe_timer);
	instance_live_stop(in);
	/* Every process but init, which would only forward it to the command again;
	 * before the launcher named the cgroups, it forwards the signal itself. */
	if (box_signal(in, SIGTERM, in->box_pid) <= 0)
		uv_process_kill(&in->proc, SIGTERM);
	uv_timer_start(&in->kill_timer, kill_expired, grace_ms, 0);
}

int
instance_netns_dup(const instance *in)
{
	int fd;

	/* NULL: no instance runs (a live release waiting for its restart). */
	if (in == NULL || in->netns_fd < 0)
		return -ENOENT;
	fd = fcntl(in->netns_fd, F_DUPFD_CLOEXEC, 3);
	return fd < 0 ? -errno : fd;
}

int
instance_port(const instance *in)
{
	return in->port;
}

uint64_t
instance_id(const instance *in)
{
	return in->id;
}

uint64_t
instance_started_ms(const instance *in)
{
	return in->started_ms;
}

uint64_t
instance_boxed_ms(const instance *in)
{
	return in->boxed_ms;
}

const char *
instance_strerror(int err)
{
	if (err == UV_EMFILE || err == UV_ENFILE)
		return "too many open files in the daemon";
	return uv_strerror(err);
}

int
instance_box_pid(const instance *in)
{
	return in->box_pid;
}
