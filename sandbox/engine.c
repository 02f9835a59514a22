/*
 * --engine-userns BASE: a container engine (buildah) launched the way podium
 * confines its builds, for Dockerfile builds and image imports.
 *
 * An engine needs what a box forbids (mounts, new namespaces for its RUN
 * steps), so it gets no seccomp filter of ours and keeps its capabilities,
 * but only as root of a user namespace of its own: ids 0..65535 are host ids
 * BASE.., which own its image storage and nothing else.  Around it, as for a
 * box: the cgroups of the limits, the network namespace (--net none or veth:
 * podium's egress), its own pid, uts and ipc namespaces, the timeout and
 * the launcher's death.
 *
 *   launcher (host)          launcher.c: cgroups, veth, wait, status
 *     └─ init, pid 1         here, as host root in the new pid/mount/net ns:
 *          │                 the mounts (below), the command's id maps
 *          └─ command        unshares its user namespace, is mapped by init,
 *                            becomes its root, execs the engine
 *
 * The filesystem is the host's, with the mount namespace's own changes made
 * as root before the user namespace exists (from there, the engine could
 * neither reach a data dir under a 0700 parent nor undo them): a fresh /proc,
 * the cgroup v2 half of a hybrid cgroup host hidden (crun refuses hybrid
 * hosts), then --tmpfs and --bind/--ro-bind in the order given, sources
 * opened before any tmpfs covers them, destinations made when missing; before
 * those, the host's loop-device mounts (spaces' /data) are detached from its copy.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/magic.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "common/util.h"
#include "sandbox/sandbox.h"

#define ENGINE_IDS 65536

/* crun 1.8 refuses a host with cgroup v1 and a v2 "unified" half; its RUN
 * steps need neither (the launcher's cgroups hold them). */
static void
hide_hybrid_cgroup2(void)
{
	struct statfs top, unified;

	if (statfs("/sys/fs/cgroup", &top) == 0 && top.f_type == TMPFS_MAGIC &&
	    statfs("/sys/fs/cgroup/unified", &unified) == 0 &&
	    unified.f_type == CGROUP2_SUPER_MAGIC)
		umount2("/sys/fs/cgroup/unified", MNT_DETACH);
}

/* The mount point of a --bind: made when missing, a file for a file. */
static int
engine_mountpoint(const char *dst, int src)
{
	struct stat st;
	int fd;

	if (fstat(src, &st) != 0)
		return -errno;
	if (!S_ISDIR(st.st_mode)) {
		fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0)
			return -errno;
		close(fd);
		return 0;
	}
	return fs_mkdir_p(dst, 0755);
}

static int
engine_mount(const struct sandbox_mount *m, int src, const struct sandbox_config *cfg)
{
	char opts[64], path[64];
	unsigned long ro = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV;
	int rc;

	if (m->kind == SANDBOX_MOUNT_TMPFS) {
		if (cfg->tmpfs_size > 0)
			snprintf(opts, sizeof(opts), "mode=1777,size=%llu",
			    (unsigned long long)cfg->tmpfs_size);
		else
			snprintf(opts, sizeof(opts), "mode=1777");
		return mount("tmpfs", m->dst, "tmpfs", MS_NOSUID | MS_NODEV, opts) == 0 ? 0
		                                                                        : -errno;
	}
	if (m->kind == SANDBOX_MOUNT_OVERLAY)
		return -EINVAL;
	if ((rc = engine_mountpoint(m->dst, src)) != 0)
		return rc;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", src);
	if (mount(path, m->dst, NULL, MS_BIND | MS_REC, NULL) != 0)
		return -errno;
	if (m->kind == SANDBOX_MOUNT_RO_BIND && mount(NULL, m->dst, NULL, ro, NULL) != 0)
		return -errno;
	return 0;
}

/* 1 when path is dir or lies beneath it. */
static int
path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return 1;
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* mountinfo's octal escapes (\040 for a space) decoded in place. */
static void
unescape_mountpoint(char *s)
{
	char *o = s;

	for (; *s != '\0'; s++, o++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o = *s;
		}
	}
	*o = '\0';
}

/* The copy of the host's tree this namespace got holds every loop-device
 * filesystem mounted at the time: each space's /data (orchestrator/host/
 * storage.c). A private copy is not unmounted when the host unmounts the
 * original, so a build would hold another space's filesystem (its loop device
 * busy, a grow or a delete waiting) for as long as it runs. They go here,
 * detached, but for one the engine's own mounts sit on (a data dir on a loop
 * device): the binds made above are copies of their own and stay. */
static void
engine_drop_loop_mounts(const struct sandbox_config *cfg)
{
	char *text = NULL, *line, *save = NULL;
	size_t len = 0, i;

	if (fs_read_file("/proc/self/mountinfo", &text, &len, 1 << 22) != 0)
		return;
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char point[4096];
		unsigned major, minor;
		int keep = 0;

		if (sscanf(line, "%*u %*u %u:%u %*s %4095s", &major, &minor, point) != 3 ||
		    major != 7)
			continue;
		unescape_mountpoint(point);
		if (strcmp(point, "/") == 0)
			continue;
		for (i = 0; i < cfg->nmounts && !keep; i++)
			keep = path_within(cfg->mounts[i].dst, point) ||
			    (cfg->mounts[i].src != NULL && path_within(cfg->mounts[i].src, point));
		if (!keep)
			umount2(point, MNT_DETACH);
	}
	free(text);
}

/* The engine's view of the host (see the top of the file). */
static void
engine_mounts(const struct sandbox_config *cfg, int report_fd)
{
	int src[64];
	size_t i;
	int rc;

	if (cfg->nmounts > sizeof(src) / sizeof(src[0]))
		sandbox_fail(report_fd, "engine: too many mounts", E2BIG);
	for (i = 0; i < cfg->nmounts; i++) {
		src[i] = -1;
		if (cfg->mounts[i].src != NULL &&
		    (src[i] = open(cfg->mounts[i].src, O_PATH | O_CLOEXEC)) < 0)
			sandbox_fail(report_fd, "engine: bind source", errno);
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		sandbox_fail(report_fd, "engine: make / private", errno);
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
		sandbox_fail(report_fd, "engine: mount /proc", errno);
	hide_hybrid_cgroup2();
	engine_drop_loop_mounts(cfg);
	for (i = 0; i < cfg->nmounts; i++) {
		if ((rc = engine_mount(&cfg->mounts[i], src[i], cfg)) != 0)
			sandbox_fail(report_fd, cfg->mounts[i].dst, -rc);
		if (src[i] >= 0)
			close(src[i]);
	}
}

static int
set_limit(int resource, uint64_t value)
{
	struct rlimit rl = { value, value };

	return setrlimit(resource, &rl) == 0 ? 0 : -errno;
}

/* The command: a user namespace of its own, mapped by init ('u' → 'g' on
 * sock), whose root execs the engine. */
static void __attribute__((noreturn))
engine_command(const struct sandbox_config *cfg, int report_fd, int sock)
{
	sigset_t none;
	char byte = 'u';
	int i;

	for (i = 1; i < NSIG; i++)
		signal(i, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || setsid() < 0)
		sandbox_fail(report_fd, "engine: session", errno);
	if (set_limit(RLIMIT_CORE, 0) != 0 ||
	    (cfg->nofile != 0 && set_limit(RLIMIT_NOFILE, cfg->nofile) != 0))
		sandbox_fail(report_fd, "engine: setrlimit", errno);
	if (unshare(CLONE_NEWUSER) != 0)
		sandbox_fail(report_fd, "engine: unshare user namespace", errno);
	if (write(sock, &byte, 1) != 1 || read(sock, &byte, 1) != 1 || byte != 'g')
		_exit(SANDBOX_EXIT_SETUP);
	close(sock);
	if (setresgid(0, 0, 0) != 0 || setgroups(0, NULL) != 0 || setresuid(0, 0, 0) != 0)
		sandbox_fail(report_fd, "engine: become the namespace's root", errno);
	/* mounts of its own (the engine's), owned by its user namespace */
	if (unshare(CLONE_NEWNS) != 0)
		sandbox_fail(report_fd, "engine: unshare mount namespace", errno);
	sandbox_exec(cfg, report_fd, cfg->chdir != NULL ? cfg->chdir : "/");
}

/* The command's user namespace: 0..65535 are host ids base.. */
static int
engine_map(pid_t cmd, unsigned base)
{
	char path[64], map[64];
	int rc;

	snprintf(map, sizeof(map), "0 %u %u\n", base, ENGINE_IDS);
	snprintf(path, sizeof(path), "/proc/%d/uid_map", cmd);
	if ((rc = fs_write_text(path, map)) != 0)
		return rc;
	snprintf(path, sizeof(path), "/proc/%d/gid_map", cmd);
	return fs_write_text(path, map);
}

void
sandbox_engine_main(const struct sandbox_config *cfg, int sync_fd, int report_fd)
{
	struct sandbox_msg ready = { .type = SANDBOX_MSG_READY };
	int socks[2], sig_fd, netns, rc;
	char byte;
	pid_t cmd;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (read(sync_fd, &byte, 1) != 1 || byte != 'm')
		_exit(SANDBOX_EXIT_SETUP);
	sandbox_close_fds_except(report_fd, sync_fd);
	if (cfg->net == SANDBOX_NET_NONE) {
		if ((rc = sandbox_net_create(&netns)) != 0)
			sandbox_fail(report_fd, "network namespace", -rc);
		close(netns);
	}
	if (sethostname(cfg->hostname, strlen(cfg->hostname)) != 0)
		sandbox_fail(report_fd, "sethostname", errno);
	engine_mounts(cfg, report_fd);
	/* 'g': we sit in our cgroups (and a veth namespace has its pair) */
	if (read(sync_fd, &byte, 1) != 1 || byte != 'g')
		_exit(SANDBOX_EXIT_SETUP);
	close(sync_fd);
	sig_fd = sandbox_init_signals(report_fd);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, socks) != 0)
		sandbox_fail(report_fd, "socketpair", errno);
	if ((cmd = fork()) < 0)
		sandbox_fail(report_fd, "fork", errno);
	if (cmd == 0) {
		close(sig_fd);
		close(socks[0]);
		engine_command(cfg, report_fd, socks[1]);
	}
	close(socks[1]);
	/* Not unshared: the command failed and reported why. */
	if (read(socks[0], &byte, 1) == 1 && byte == 'u') {
		if ((rc = engine_map(cmd, cfg->engine_userns)) != 0)
			sandbox_fail(report_fd, "engine: write the id maps", -rc);
		if (send(socks[0], "g", 1, MSG_NOSIGNAL) == 1 &&
		    write(report_fd, &ready, sizeof(ready)) != (ssize_t)sizeof(ready)) {
			/* the launcher is gone; PDEATHSIG takes us */
		}
	}
	close(socks[0]);
	sandbox_init_supervise(cmd, sig_fd, report_fd, -1);
}
