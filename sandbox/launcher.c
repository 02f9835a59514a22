/*
 * The launcher: the host-side process the caller sees.  It creates the box
 * (clone into new namespaces), maps ids, applies cgroup limits, waits for
 * the box while forwarding signals and enforcing the timeout, and reports
 * the outcome as an exit status and optional JSON on --status-fd.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "sandbox/sandbox.h"

/* The launcher's own parent-death signal.  Not one of the forwarded
 * signals: parent death means "kill the box now", not "stop gracefully". */
#define PARENT_DIED_SIG (SIGRTMIN + 3)

static const int forwarded_signals[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

struct launcher_result {
	bool have_exit, have_error, timed_out, parent_died;
	int wstatus;      /* command's wait status (from init) */
	int init_wstatus; /* init's own wait status */
	int err;
	char step[96];
	char syscall_name[96];
	struct rusage ru;
};

/* One id of the box (inside → host), or with --id-range all of 0..65535: the
 * others map to the range, so an image's root-owned files are someone's. */
static void
id_map_text(char *buf, size_t len, unsigned inside, unsigned host, const struct sandbox_config *cfg)
{
	unsigned r = cfg->id_range;

	if (!cfg->id_range_set || geteuid() != 0)
		snprintf(buf, len, "%u %u 1\n", inside, host);
	else
		snprintf(buf, len, "0 %u %u\n%u %u 1\n%u %u %u\n", r, inside, inside, host,
		    inside + 1, r + inside + 1, 65535 - inside);
}

static int
write_id_maps(pid_t pid, const struct sandbox_config *cfg, const char **step)
{
	char path[64], buf[160];
	unsigned host_uid = cfg->host_uid, host_gid = cfg->host_gid;
	int rc;

	/* Unprivileged, only our own ids can be mapped. */
	if (geteuid() != 0) {
		host_uid = geteuid();
		host_gid = getegid();
	}
	snprintf(path, sizeof(path), "/proc/%d/setgroups", pid);
	*step = "write setgroups";
	if ((rc = fs_write_text(path, "deny")) != 0 && rc != -ENOENT)
		return rc;
	snprintf(path, sizeof(path), "/proc/%d/gid_map", pid);
	id_map_text(buf, sizeof(buf), cfg->gid, host_gid, cfg);
	*step = "write gid_map";
	if ((rc = fs_write_text(path, buf)) != 0)
		return rc;
	snprintf(path, sizeof(path), "/proc/%d/uid_map", pid);
	id_map_text(buf, sizeof(buf), cfg->uid, host_uid, cfg);
	*step = "write uid_map";
	return fs_write_text(path, buf);
}

/* Raising a hard limit needs CAP_SYS_RESOURCE in the initial user
 * namespace, which nothing in the box has: lift our own hard limit here so
 * the command (which sets soft = hard = N itself, inside) can reach N. */
static int
raise_hard_limits(const struct sandbox_config *cfg, const char **step)
{
	struct rlimit rl;

	*step = "setrlimit NOFILE";
	if (cfg->nofile != 0 && getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max < cfg->nofile) {
		rl.rlim_max = cfg->nofile;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			return -errno;
	}
	*step = "setrlimit FSIZE";
	if (cfg->fsize_set && getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_max < cfg->fsize) {
		rl.rlim_max = cfg->fsize;
		if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
			return -errno;
	}
	return 0;
}

/* Write obj as one line (jansson's "key": value spacing, fields in the
 * order given) and close fd.  One write, so a reader sees the whole line
 * or nothing. */
static void
write_json_line(int fd, json_t *obj)
{
	char *text = obj != NULL ? json_dumps(obj, JSON_PRESERVE_ORDER) : NULL;
	size_t len;

	if (text != NULL) {
		len = strlen(text);
		text[len] = '\n'; /* json_dumps' terminator becomes the newline */
		if (write(fd, text, len + 1) != (ssize_t)(len + 1)) {
			/* The caller stopped listening; nobody to tell. */
		}
	}
	free(text);
	json_decref(obj);
	close(fd);
}

/* The box's init and its cgroup directories: what a supervisor needs to
 * signal or kill every process of the box (a detached child included). */
static void
write_info(int fd, pid_t pid, const struct sandbox_cgroup *cg)
{
	json_t *obj, *dirs;
	int i;

	if (fd < 0)
		return;
	obj = json_pack("{s:i}", "pid", (int)pid);
	if (obj != NULL && cg->version != 0 && (dirs = json_array()) != NULL) {
		for (i = 0; i < 3; i++)
			if (cg->paths[i] != NULL)
				json_array_append_new(dirs, json_string(cg->paths[i]));
		json_object_set_new(obj, "cgroup_version", json_integer(cg->version));
		json_object_set_new(obj, "cgroups", dirs);
	}
	write_json_line(fd, obj);
}

static void
write_status(int fd, int exit_code, int sig, bool oom, const struct launcher_result *r)
{
	json_int_t cpu_ms = (json_int_t)r->ru.ru_utime.tv_sec * 1000 +
	    r->ru.ru_utime.tv_usec / 1000 + (json_int_t)r->ru.ru_stime.tv_sec * 1000 +
	    r->ru.ru_stime.tv_usec / 1000;
	json_t *obj;

	if (fd < 0)
		return;
	obj = json_pack("{s:i, s:i, s:b, s:b, s:I, s:I}", "exit_code", exit_code, "signal", sig,
	    "oom_killed", (int)oom, "timed_out", (int)r->timed_out, "cpu_ms", cpu_ms, "max_rss_kb",
	    (json_int_t)r->ru.ru_maxrss);
	if (obj != NULL && r->syscall_name[0] != '\0')
		json_object_set_new(obj, "seccomp_syscall", json_string(r->syscall_name));
	if (obj != NULL && r->have_error)
		json_object_set_new(
		    obj, "error", json_sprintf("%s: %s", r->step, strerror(r->err)));
	write_json_line(fd, obj);
}

static void
handle_msg(struct launcher_result *r, const struct sandbox_msg *m, const struct sandbox_cgroup *cg,
    pid_t pid, int *info_fd)
{
	switch (m->type) {
	case SANDBOX_MSG_READY:
		write_info(*info_fd, pid, cg);
		*info_fd = -1;
		break;
	case SANDBOX_MSG_ERROR:
		if (!r->have_error) {
			r->have_error = true;
			r->err = m->err;
			snprintf(
			    r->step, sizeof(r->step), "%.*s", (int)sizeof(m->text) - 1, m->text);
		}
		break;
	case SANDBOX_MSG_EXIT:
		r->have_exit = true;
		r->wstatus = m->wstatus;
		snprintf(r->syscall_name, sizeof(r->syscall_name), "%.*s", (int)sizeof(m->text) - 1,
		    m->text);
		break;
	}
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wait for init, forwarding signals, until it has been reaped. */
static void
launcher_wait(pid_t pid, int report_fd, int sig_fd, const struct sandbox_config *cfg,
    const struct sandbox_cgroup *cg, struct launcher_result *r)
{
	double deadline = cfg->timeout > 0 ? now_s() + cfg->timeout : 0;
	int info_fd = cfg->info_fd;
	bool report_open = true, init_done = false;

	while (!init_done || report_open) {
		struct pollfd pfd[2] = { { sig_fd, POLLIN, 0 }, { report_fd, POLLIN, 0 } };
		int timeout_ms = -1;

		if (init_done) {
			timeout_ms = 0; /* drain what init wrote before dying, then stop */
		} else if (deadline > 0) {
			double left = deadline - now_s();
			timeout_ms = left <= 0 ? 0 : (int)(left * 1000) + 1;
		}
		if (poll(pfd, report_open ? 2 : 1, timeout_ms) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (report_open && (pfd[1].revents & (POLLIN | POLLHUP))) {
			struct sandbox_msg m;
			ssize_t n = read(report_fd, &m, sizeof(m));

			if (n == (ssize_t)sizeof(m)) {
				handle_msg(r, &m, cg, pid, &info_fd);
				if (m.type == SANDBOX_MSG_EXIT) {
					/* Init exits right after this message: reap it directly
					 * instead of waking up for the pipe's EOF and SIGCHLD in
					 * turn. */
					while (wait4(pid, &r->init_wstatus, 0, &r->ru) < 0 &&
					    errno == EINTR)
						;
					break;
				}
			} else if (n <= 0 && !(n < 0 && errno == EINTR))
				report_open = false;
			continue;
		}
		if (init_done)
			break;
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sig_fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
				continue;
			if ((int)si.ssi_signo == SIGCHLD) {
				if (wait4(pid, &r->init_wstatus, WNOHANG, &r->ru) == pid)
					init_done = true;
			} else if ((int)si.ssi_signo == PARENT_DIED_SIG) {
				r->parent_died = true;
				kill(pid, SIGKILL);
			} else {
				kill(pid, (int)si.ssi_signo);
			}
			continue;
		}
		if (deadline > 0 && now_s() >= deadline && !r->timed_out) {
			r->timed_out = true;
			kill(pid, SIGKILL);
			deadline = 0;
		}
	}
	if (info_fd >= 0)
		close(info_fd);
}

/* A box runs untrusted code: under memory pressure the OOM killer should take
 * it before the host's processes (Chrome does the same for its renderers), and
 * never inherit the protection podium's daemon gives itself (-900). */
#define BOX_OOM_SCORE_ADJ 300

static void
raise_oom_score(void)
{
	char buf[16] = "";
	int fd = open("/proc/self/oom_score_adj", O_RDWR | O_CLOEXEC), n;

	if (fd >= 0 && read(fd, buf, sizeof(buf) - 1) > 0 && atoi(buf) < BOX_OOM_SCORE_ADJ &&
	    (n = snprintf(buf, sizeof(buf), "%d", BOX_OOM_SCORE_ADJ)) > 0 &&
	    pwrite(fd, buf, (size_t)n, 0) != n)
		fprintf(
		    stderr, "podium-sandbox: cannot raise oom_score_adj: %s\n", strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* Blocks what the wait loop takes from a signalfd (returned; init inherits the
 * mask and sets up its own), first, so no signal is lost between here and the
 * wait loop; and dies with ppid, the caller. -errno with *step when it cannot. */
static int
launcher_signals(pid_t ppid, sigset_t *oldmask, const char **step)
{
	sigset_t mask;
	size_t i;
	int fd;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, PARENT_DIED_SIG);
	for (i = 0; i < sizeof(forwarded_signals) / sizeof(forwarded_signals[0]); i++)
		sigaddset(&mask, forwarded_signals[i]);
	sigprocmask(SIG_BLOCK, &mask, oldmask);

	*step = "prctl PDEATHSIG";
	if (prctl(PR_SET_PDEATHSIG, PARENT_DIED_SIG) != 0 || getppid() != ppid)
		return errno != 0 ? -errno : -ESRCH;
	*step = "signalfd";
	fd = signalfd(-1, &mask, SFD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Init (sandbox_init_main) in its new namespaces: its pid, or -errno. */
static pid_t
launcher_clone(const struct sandbox_config *cfg, int sync_fds[2], int report_fds[2], int sig_fd)
{
	/* No CLONE_NEWNET: the command creates the network namespace while init
	 * builds the filesystem, and init joins it (init.c). An engine's init stays
	 * in the host's user namespace (engine.c). */
	int flags = CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC;
	pid_t pid;

	if (cfg->engine)
		flags &= ~CLONE_NEWUSER;

	/* A veth box's namespace is made here: its pair is set up from outside. */
	if (cfg->net == SANDBOX_NET_VETH)
		flags |= CLONE_NEWNET;
	/* The cgroup namespace is unshared by init once it sits in its cgroup
	 * (just before it forks the command), so the box sees its own cgroup as
	 * "/". */
	fflush(NULL);
	pid = (pid_t)syscall(SYS_clone, (unsigned long)flags | SIGCHLD, NULL, NULL, NULL, 0UL);
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		close(sync_fds[1]);
		close(report_fds[0]);
		close(sig_fd);
		if (cfg->engine)
			sandbox_engine_main(cfg, sync_fds[0], report_fds[1]);
		sandbox_init_main(cfg, sync_fds[0], report_fds[1]);
	}
	return pid;
}

/* Two go-aheads on the sync pipe: 'm' once the id maps are written (init then
 * builds the filesystem), 'g' once init sits in its cgroups (init forks the
 * command only after that).  Creating the cgroups takes about as long as the
 * mount setup, so the two run side by side.  Init's own setup is thereby charged
 * to our cgroup, the command's work never is. 0, or -errno with *step. */
static int
launcher_go(const struct sandbox_config *cfg, pid_t pid, int sync_fd, struct sandbox_cgroup *cg,
    const char **step)
{
	int rc;

	if (!cfg->engine && (rc = write_id_maps(pid, cfg, step)) != 0)
		return rc;
	*step = "sync";
	if (write(sync_fd, "m", 1) != 1)
		return -errno;
	if (cfg->memory != 0 || cfg->pids != 0 || cfg->cpus > 0) {
		/* The pipe wakeup is a "sync" one: init is queued on our CPU, expecting
		 * us to sleep, and would wait out the whole cgroup setup.  Let it run
		 * (the idle CPU takes one of us). */
		sched_yield();
		*step = "cgroup";
		if ((rc = sandbox_cgroup_create(cg, cfg)) != 0)
			return rc;
		*step = "cgroup attach";
		if ((rc = sandbox_cgroup_attach(cg, pid)) != 0)
			return rc;
	}
	/* Before 'g': the command must never run without its network. */
	if (cfg->net == SANDBOX_NET_VETH && (rc = sandbox_net_veth_setup(cfg, pid, step)) != 0)
		return rc;
	/* Fails (EPIPE) only if init already gave up; its report says why. */
	if (write(sync_fd, "g", 1) != 1) {
		/* nothing to add */
	}
	return 0;
}

/* Our exit status for how the box ended; *sig: the signal that ended it, or 0. */
static int
launcher_exit_code(const struct launcher_result *r, int *sig)
{
	*sig = 0;
	if (r->have_error) {
		fprintf(stderr, "podium-sandbox: %s: %s\n", r->step, strerror(r->err));
		return SANDBOX_EXIT_SETUP;
	}
	if (r->timed_out || r->parent_died) {
		*sig = SIGKILL;
		return 128 + *sig;
	}
	if (r->have_exit) {
		if (WIFEXITED(r->wstatus))
			return WEXITSTATUS(r->wstatus);
		*sig = WTERMSIG(r->wstatus);
		/* Init kills a seccomp offender with SIGKILL (SIGSYS could be
		 * caught); report the cause, as the kernel's own kill would. */
		if (*sig == SIGKILL && r->syscall_name[0] != '\0')
			*sig = SIGSYS;
		return 128 + *sig;
	}
	if (WIFSIGNALED(r->init_wstatus)) {
		/* Init itself died, e.g. the whole cgroup was OOM-killed. */
		*sig = WTERMSIG(r->init_wstatus);
		return 128 + *sig;
	}
	return WIFEXITED(r->init_wstatus) ? WEXITSTATUS(r->init_wstatus) : SANDBOX_EXIT_SETUP;
}

int
sandbox_run(const struct sandbox_config *cfg)
{
	struct sandbox_cgroup cg = { 0 };
	struct launcher_result r;
	sigset_t oldmask;
	int sync_fds[2] = { -1, -1 }, report_fds[2] = { -1, -1 }, sig_fd = -1;
	int rc, exit_code = SANDBOX_EXIT_SETUP, sig = 0;
	const char *step = "";
	pid_t ppid = getppid(), pid = -1;
	bool oom = false;
	size_t i;

	memset(&r, 0, sizeof(r));
	raise_oom_score();
	if ((rc = sig_fd = launcher_signals(ppid, &oldmask, &step)) < 0)
		goto fail;
	if ((rc = raise_hard_limits(cfg, &step)) != 0)
		goto fail;
	/* A box that dies early must not take us down through the sync pipe. */
	signal(SIGPIPE, SIG_IGN);

	step = "pipe";
	if (pipe2(sync_fds, O_CLOEXEC) != 0 || pipe2(report_fds, O_CLOEXEC) != 0) {
		rc = -errno;
		goto fail;
	}
	/* An image's layers are idmapped here, as root, before the box exists. */
	if ((rc = sandbox_rootfs_open(cfg, &step)) != 0)
		goto fail;
	step = "clone";
	if ((rc = pid = launcher_clone(cfg, sync_fds, report_fds, sig_fd)) < 0)
		goto fail;
	close(sync_fds[0]);
	close(report_fds[1]);
	sync_fds[0] = report_fds[1] = -1;
	if ((rc = launcher_go(cfg, pid, sync_fds[1], &cg, &step)) != 0)
		goto fail;
	close(sync_fds[1]);
	sync_fds[1] = -1;
	if (cg.version != 0)
		sandbox_cgroup_remove_stale(&cg);

	launcher_wait(pid, report_fds[0], sig_fd, cfg, &cg, &r);
	pid = -1;
	if (cg.version != 0)
		oom = sandbox_cgroup_oom_killed(&cg);
	exit_code = launcher_exit_code(&r, &sig);
	write_status(cfg->status_fd, exit_code, sig, oom, &r);
	goto done;

fail:
	fprintf(stderr, "podium-sandbox: %s: %s\n", step, strerror(-rc));
	r.have_error = true;
	r.err = -rc;
	snprintf(r.step, sizeof(r.step), "%s", step);
	exit_code = SANDBOX_EXIT_SETUP;
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	write_status(cfg->status_fd, exit_code, 0, false, &r);

done:
	if (cg.version != 0)
		sandbox_cgroup_destroy(&cg);
	for (i = 0; i < 2; i++) {
		if (sync_fds[i] >= 0)
			close(sync_fds[i]);
		if (report_fds[i] >= 0)
			close(report_fds[i]);
	}
	if (sig_fd >= 0)
		close(sig_fd);
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	return exit_code;
}
