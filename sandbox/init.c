/*
 * Pid 1 of the box, from birth to death: wait for the launcher to map our
 * ids and put us in our cgroups, fork the command (which prepares itself
 * meanwhile), build the filesystem, let the command exec, then reap zombies, forward
 * signals and supervise seccomp notifications until the command is gone.
 * When init exits the kernel kills everything left in the pid namespace.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/sandbox.h"

extern char **environ;

static const int forwarded_signals[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

static void
report(int fd, int type, int err, int wstatus, const char *text)
{
	struct sandbox_msg m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.err = err;
	m.wstatus = wstatus;
	if (text != NULL)
		snprintf(m.text, sizeof(m.text), "%s", text);
	if (write(fd, &m, sizeof(m)) != (ssize_t)sizeof(m)) {
		/* The launcher is gone; PDEATHSIG (or the poll loop) finishes us. */
	}
}

void
sandbox_fail(int report_fd, const char *step, int err)
{
	report(report_fd, SANDBOX_MSG_ERROR, err, 0, step);
	_exit(SANDBOX_EXIT_SETUP);
}

/* The launcher holds the only read end of the report pipe: once it is gone,
 * the write end polls POLLERR. */
static bool
launcher_gone(int report_fd)
{
	struct pollfd pfd = { report_fd, 0, 0 };

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLERR) != 0;
}

/* Close every fd >= 3 but the two given and the image layers' (rootfs.c): fds we
 * did not create must not leak into the box (the caller's sockets, databases,
 * the status fd...). */
void
sandbox_close_fds_except(int keep_a, int keep_b)
{
	const int *layers;
	size_t n = sandbox_rootfs_fds(&layers), i, k;
	int keep[2 + 128], t;
	unsigned next = 3;

	keep[0] = keep_a;
	keep[1] = keep_b;
	for (i = 0; i < n && i < 128; i++)
		keep[2 + i] = layers[i];
	n = 2 + i;
	for (i = 1; i < n; i++) /* insertion sort: a handful of fds */
		for (k = i; k > 0 && keep[k - 1] > keep[k]; k--) {
			t = keep[k];
			keep[k] = keep[k - 1];
			keep[k - 1] = t;
		}
	for (i = 0; i < n; i++) {
		if (keep[i] < 3 || (unsigned)keep[i] < next)
			continue;
		if ((unsigned)keep[i] > next)
			close_range(next, (unsigned)keep[i] - 1, 0);
		next = (unsigned)keep[i] + 1;
	}
	close_range(next, ~0U, 0);
}

/* The command tells init it is prepared: one byte, plus the fds of the
 * box's network namespace and of the seccomp listener, each when there is
 * one (fd < 0: none).  The byte says which come, in that order. */
#define PREP_NETNS 0x1
#define PREP_LISTENER 0x2

static int
send_prepared(int sock, int netns_fd, int notify_fd)
{
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	unsigned char byte = 0;
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = { 0 };
	struct cmsghdr *c;
	int fds[2], n = 0;

	if (netns_fd >= 0) {
		byte |= PREP_NETNS;
		fds[n++] = netns_fd;
	}
	if (notify_fd >= 0) {
		byte |= PREP_LISTENER;
		fds[n++] = notify_fd;
	}
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (n > 0) {
		memset(&cbuf, 0, sizeof(cbuf));
		msg.msg_control = cbuf.buf;
		msg.msg_controllen = CMSG_SPACE((size_t)n * sizeof(int));
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN((size_t)n * sizeof(int));
		memcpy(CMSG_DATA(c), fds, (size_t)n * sizeof(int));
	}
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : -errno;
}

/* 0 once the command is prepared, with the fds it sent (or -1); -1 if it
 * died before that (its own report says why) or sent something else. */
static int
recv_prepared(int sock, int *netns_fd, int *notify_fd)
{
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	unsigned char byte;
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = { 0 };
	struct cmsghdr *c;
	int fds[2] = { -1, -1 }, want, n = 0;

	*netns_fd = *notify_fd = -1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf.buf;
	msg.msg_controllen = sizeof(cbuf.buf);
	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	c = CMSG_FIRSTHDR(&msg);
	if (c != NULL && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
		n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		if (n > 2)
			n = 2;
		memcpy(fds, CMSG_DATA(c), (size_t)n * sizeof(int));
	}
	want = ((byte & PREP_NETNS) != 0) + ((byte & PREP_LISTENER) != 0);
	if ((byte & ~(PREP_NETNS | PREP_LISTENER)) != 0 || n != want ||
	    (msg.msg_flags & MSG_CTRUNC)) {
		for (n = 0; n < 2; n++)
			if (fds[n] >= 0)
				close(fds[n]);
		return -1;
	}
	n = 0;
	if (byte & PREP_NETNS)
		*netns_fd = fds[n++];
	if (byte & PREP_LISTENER)
		*notify_fd = fds[n++];
	return 0;
}

static int
set_limit(int resource, uint64_t value)
{
	struct rlimit rl = { value, value };

	return setrlimit(resource, &rl) == 0 ? 0 : -errno;
}

/* The command's side of the fork.  It is forked before init builds the
 * filesystem and prepares itself meanwhile, on the other CPU: network
 * namespace, session, limits, capabilities, seccomp.  Then it waits for
 * init's go-ahead (filesystem done, init in the new netns) and execs. */
static void command_main(const struct sandbox_config *cfg, int report_fd, int sock)
    __attribute__((noreturn));
static void
command_main(const struct sandbox_config *cfg, int report_fd, int sock)
{
	const char *dir = cfg->chdir != NULL ? cfg->chdir : "/home/user";
	sigset_t all;
	char byte;
	int rc, netns_fd = -1, notify_fd = -1;

	/* exec keeps ignored signals ignored: reset the launcher's SIGPIPE. */
	for (rc = 1; rc < NSIG; rc++)
		signal(rc, SIG_DFL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
		sandbox_fail(report_fd, "prctl PDEATHSIG", errno);
	/* A new session: no controlling terminal, so no TIOCSTI-style tricks on
	 * the caller's tty and no job-control signals from it. */
	if (setsid() < 0)
		sandbox_fail(report_fd, "setsid", errno);
	/* The box's network namespace is created here, in parallel with init's
	 * mount work (it is the costliest namespace); init joins it later. */
	if (cfg->net == SANDBOX_NET_NONE && (rc = sandbox_net_create(&netns_fd)) != 0)
		sandbox_fail(report_fd, "network namespace", -rc);
	if (cfg->nofile != 0 && (rc = set_limit(RLIMIT_NOFILE, cfg->nofile)) != 0)
		sandbox_fail(report_fd, "setrlimit NOFILE", -rc);
	if (cfg->fsize_set && (rc = set_limit(RLIMIT_FSIZE, cfg->fsize)) != 0)
		sandbox_fail(report_fd, "setrlimit FSIZE", -rc);
	if ((rc = set_limit(RLIMIT_CORE, 0)) != 0)
		sandbox_fail(report_fd, "setrlimit CORE", -rc);
	if ((rc = sandbox_privs_drop()) != 0)
		sandbox_fail(report_fd, "drop capabilities", -rc);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		sandbox_fail(report_fd, "prctl NO_NEW_PRIVS", errno);
	if (cfg->seccomp &&
	    (rc = sandbox_seccomp_install(
	         sandbox_seccomp_bpf, sandbox_seccomp_bpf_len, &notify_fd)) != 0)
		sandbox_fail(report_fd, "seccomp install", -rc);
	if ((rc = send_prepared(sock, netns_fd, notify_fd)) != 0)
		sandbox_fail(report_fd, "send netns and seccomp listener", -rc);
	if (netns_fd >= 0)
		close(netns_fd);
	if (notify_fd >= 0)
		close(notify_fd);
	/* EOF: init failed (and PDEATHSIG is on its way). */
	if (read(sock, &byte, 1) != 1 || byte != 'g')
		_exit(SANDBOX_EXIT_SETUP);
	close(sock);
	/* Our cwd was init's, in the host tree; the root moved with pivot_root. */
	sandbox_exec(cfg, report_fd, dir);
}

void
sandbox_exec(const struct sandbox_config *cfg, int report_fd, const char *dir)
{
	int rc;

	if (chdir(dir) != 0)
		sandbox_fail(report_fd, "chdir", errno);
	environ = cfg->env;
	execvp(cfg->argv[0], cfg->argv);
	rc = errno;
	fprintf(stderr, "podium-sandbox: %s: %s\n", cfg->argv[0], strerror(rc));
	_exit(rc == ENOENT || rc == ENOTDIR ? SANDBOX_EXIT_NOTFOUND : SANDBOX_EXIT_NOEXEC);
}

/* Up to the id switch: the launcher wrote our id maps ('m'), the filesystem's
 * sources are open, we are the inside ids. If the launcher died before this, the
 * read sees EOF. The box must never outlive the launcher: when init dies, the
 * kernel kills everything in its pid namespace. */
static void
init_enter(const struct sandbox_config *cfg, int sync_fd, int report_fd)
{
	const char *step = "";
	char byte;
	int rc;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (read(sync_fd, &byte, 1) != 1 || byte != 'm')
		_exit(SANDBOX_EXIT_SETUP);
	sandbox_close_fds_except(report_fd, sync_fd);
	if ((rc = sandbox_mount_prepare(cfg, &step)) != 0)
		sandbox_fail(report_fd, step, -rc);
	if ((rc = sandbox_privs_switch_ids(cfg->uid, cfg->gid)) != 0)
		sandbox_fail(report_fd, "setresuid", -rc);
	/* Changing the effective uid or gid clears the parent-death signal
	 * (prctl(2)): arm it again, then make sure the launcher did not die
	 * before that, which no signal would tell us any more. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (launcher_gone(report_fd))
		_exit(SANDBOX_EXIT_SETUP);
}

/* SIGCHLD and the signals we forward, taken from a signalfd (returned). */
int
sandbox_init_signals(int report_fd)
{
	sigset_t mask;
	size_t i;
	int fd;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	for (i = 0; i < sizeof(forwarded_signals) / sizeof(forwarded_signals[0]); i++)
		sigaddset(&mask, forwarded_signals[i]);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	if ((fd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0)
		sandbox_fail(report_fd, "signalfd", errno);
	return fd;
}

/* Forks the command once the launcher put us in our cgroups ('g'): it inherits
 * our cgroups and cgroup namespace (the launcher usually has them ready long
 * before we get here). It talks to us on socks[1]; its pid. */
static pid_t
init_fork_command(
    const struct sandbox_config *cfg, int sync_fd, int report_fd, int sig_fd, int socks[2])
{
	pid_t cmd;
	char byte;

	if (read(sync_fd, &byte, 1) != 1 || byte != 'g')
		_exit(SANDBOX_EXIT_SETUP);
	close(sync_fd);
	/* Make our cgroup our "/". */
	if (unshare(CLONE_NEWCGROUP) != 0 && errno != EINVAL)
		sandbox_fail(report_fd, "unshare CLONE_NEWCGROUP", errno);
	cmd = fork();
	if (cmd < 0)
		sandbox_fail(report_fd, "fork", errno);
	if (cmd == 0) {
		close(sig_fd);
		close(socks[0]);
		command_main(cfg, report_fd, socks[1]);
	}
	close(socks[1]);
	return cmd;
}

/* The command shares our mount namespace, so it sees the filesystem we build and
 * pivot_root moves its root too; once it is prepared (its netns and seccomp
 * listener sent on sock), we join its network namespace and let it exec, then
 * tell the launcher READY. *notify_fd: the seccomp listener, or -1. */
static void
init_build_box(const struct sandbox_config *cfg, int report_fd, int sock, int *notify_fd)
{
	const char *step = "";
	int rc, netns_fd = -1;
	bool prepared;

	if (sethostname(cfg->hostname, strlen(cfg->hostname)) != 0)
		sandbox_fail(report_fd, "sethostname", errno);
	if ((rc = sandbox_mount_setup(cfg, &step)) != 0)
		sandbox_fail(report_fd, step, -rc);
	/* Non-dumpable: the box's processes (same uid) cannot ptrace us or open
	 * /proc/1/mem; they lack CAP_SYS_PTRACE in our user namespace. */
	if (prctl(PR_SET_DUMPABLE, 0) != 0)
		sandbox_fail(report_fd, "prctl DUMPABLE", errno);

	/* Not prepared: the command failed and reported why; reap it later. */
	prepared = recv_prepared(sock, &netns_fd, notify_fd) == 0;
	if (prepared && (cfg->net == SANDBOX_NET_NONE) != (netns_fd >= 0))
		sandbox_fail(report_fd, "receive netns", EPROTO);
	if (prepared) {
		/* Join the box's network namespace (the launcher's --info-fd names our
		 * pid), then let the command exec. */
		if (netns_fd >= 0 && setns(netns_fd, CLONE_NEWNET) != 0)
			sandbox_fail(report_fd, "setns netns", errno);
		if (send(sock, "g", 1, MSG_NOSIGNAL) != 1)
			prepared = false;
	}
	if (netns_fd >= 0)
		close(netns_fd);
	close(sock);
	if (prepared)
		report(report_fd, SANDBOX_MSG_READY, 0, 0, NULL);
}

/* A signal: SIGCHLD reaps (the command's end is reported, with a seccomp
 * violation still queued when it died, and init exits); others go to the
 * command. */
static void
init_signal(int sig_fd, pid_t cmd, int report_fd, int notify_fd, char *syscall_name, size_t namelen)
{
	struct signalfd_siginfo si;
	struct pollfd np = { notify_fd, POLLIN, 0 };
	int status;
	pid_t p;

	if (read(sig_fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return;
	if ((int)si.ssi_signo != SIGCHLD) {
		kill(cmd, (int)si.ssi_signo);
		return;
	}
	while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
		if (p != cmd)
			continue;
		if (notify_fd >= 0 && syscall_name[0] == '\0' && poll(&np, 1, 0) == 1 &&
		    (np.revents & POLLIN))
			sandbox_seccomp_notify_handle(notify_fd, syscall_name, namelen);
		report(report_fd, SANDBOX_MSG_EXIT, 0, status, syscall_name);
		_exit(0);
	}
}

/* Until the command ends: reap, forward signals, answer the seccomp listener. */
void
sandbox_init_supervise(pid_t cmd, int sig_fd, int report_fd, int notify_fd)
{
	char syscall_name[96] = "";

	for (;;) {
		/* The report pipe is watched too (events 0: only its POLLERR): a second
		 * line of defence next to PDEATHSIG should the launcher die unnoticed. */
		struct pollfd pfd[3] = { { sig_fd, POLLIN, 0 }, { report_fd, 0, 0 },
			{ notify_fd, POLLIN, 0 } };

		if (poll(pfd, notify_fd >= 0 ? 3 : 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			sandbox_fail(report_fd, "poll", errno);
		}
		if (pfd[1].revents & POLLERR)
			_exit(SANDBOX_EXIT_SETUP); /* the kernel kills the rest of the box */
		if (notify_fd >= 0 && (pfd[2].revents & POLLIN))
			sandbox_seccomp_notify_handle(
			    notify_fd, syscall_name, sizeof(syscall_name));
		if (notify_fd >= 0 && (pfd[2].revents & (POLLHUP | POLLERR))) {
			/* Every filtered process is gone. */
			close(notify_fd);
			notify_fd = -1;
		}
		if (pfd[0].revents & POLLIN)
			init_signal(
			    sig_fd, cmd, report_fd, notify_fd, syscall_name, sizeof(syscall_name));
	}
}

/* 'm' on the sync pipe: our id maps are written; 'g': we sit in our cgroups (see
 * launcher.c). */
void
sandbox_init_main(const struct sandbox_config *cfg, int sync_fd, int report_fd)
{
	int sig_fd, notify_fd = -1, socks[2] = { -1, -1 };
	pid_t cmd;

	init_enter(cfg, sync_fd, report_fd);
	sig_fd = sandbox_init_signals(report_fd);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, socks) != 0)
		sandbox_fail(report_fd, "socketpair", errno);
	cmd = init_fork_command(cfg, sync_fd, report_fd, sig_fd, socks);
	init_build_box(cfg, report_fd, socks[0], &notify_fd);
	sandbox_init_supervise(cmd, sig_fd, report_fd, notify_fd);
}
