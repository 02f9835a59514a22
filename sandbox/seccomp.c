/*
 * The seccomp policy, modelled on Docker's default profile: an allowlist
 * with EPERM for everything else (see below for why nothing is killed but a
 * foreign ABI).  A kill is carried out by init (the supervisor) through a
 * user notification, because only then do we learn the syscall's name; the
 * kernel's own SECCOMP_RET_KILL leaves no trace of which call it was.
 *
 * libseccomp compiles the policy at build time (sandbox/gen/seccomp_gen.c
 * runs sandbox_seccomp_export() and emits the program as a C array):
 * compiling took about half of a box's startup.  The command loads that
 * program just before exec.
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/sandbox.h"

#define ACT_VIOLATION SCMP_ACT_NOTIFY

/* Docker's default allowlist (moby profiles/seccomp/default.json), minus
 * ptrace, process_vm_*, and io_uring, which the brief wants blocked.
 * Names unknown to this libseccomp or this arch are skipped. */
static const char *const allowed[] = { "accept", "accept4", "access", "adjtimex", "alarm",
	"arch_prctl", "bind", "brk", "cachestat", "capget", "capset", "chdir", "chmod", "chown",
	"clock_adjtime", "clock_getres", "clock_gettime", "clock_nanosleep", "close", "close_range",
	"connect", "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create",
	"epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait",
	"epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat", "exit", "exit_group",
	"faccessat", "faccessat2", "fadvise64", "fallocate", "fanotify_mark", "fchdir", "fchmod",
	"fchmodat", "fchmodat2", "fchown", "fchownat", "fcntl", "fdatasync", "fgetxattr",
	"flistxattr", "flock", "fork", "fremovexattr", "fsetxattr", "fstat", "fstatfs", "fsync",
	"ftruncate", "futex", "futex_requeue", "futex_wait", "futex_waitv", "futex_wake",
	"futimesat", "getcpu", "getcwd", "getdents", "getdents64", "getegid", "geteuid", "getgid",
	"getgroups", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid", "getppid",
	"getpriority", "getrandom", "getresgid", "getresuid", "getrlimit", "get_robust_list",
	"getrusage", "getsid", "getsockname", "getsockopt", "get_thread_area", "gettid",
	"gettimeofday", "getuid", "getxattr", "inotify_add_watch", "inotify_init", "inotify_init1",
	"inotify_rm_watch", "io_cancel", "io_destroy", "io_getevents", "io_pgetevents",
	"ioprio_get", "ioprio_set", "io_setup", "io_submit", "kill", "landlock_add_rule",
	"landlock_create_ruleset", "landlock_restrict_self", "lchown", "lgetxattr", "link",
	"linkat", "listen", "listxattr", "llistxattr", "lremovexattr", "lseek", "lsetxattr",
	"lstat", "madvise", "map_shadow_stack", "membarrier", "memfd_create", "memfd_secret",
	"mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap",
	"modify_ldt", "mprotect", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive",
	"mq_timedsend", "mq_unlink", "mremap", "msgctl", "msgget", "msgrcv", "msgsnd", "msync",
	"munlock", "munlockall", "munmap", "name_to_handle_at", "nanosleep", "newfstatat", "open",
	"openat", "openat2", "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2",
	"pkey_alloc", "pkey_free", "pkey_mprotect", "poll", "ppoll", "prctl", "pread64", "preadv",
	"preadv2", "prlimit64", "process_mrelease", "pselect6", "pwrite64", "pwritev", "pwritev2",
	"read", "readahead", "readlink", "readlinkat", "readv", "recvfrom", "recvmmsg", "recvmsg",
	"remap_file_pages", "removexattr", "rename", "renameat", "renameat2", "restart_syscall",
	"rmdir", "rseq", "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo",
	"rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait", "rt_tgsigqueueinfo",
	"sched_getaffinity", "sched_getattr", "sched_getparam", "sched_get_priority_max",
	"sched_get_priority_min", "sched_getscheduler", "sched_rr_get_interval",
	"sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield",
	"seccomp", "select", "semctl", "semget", "semop", "semtimedop", "sendfile", "sendmmsg",
	"sendmsg", "sendto", "setfsgid", "setfsuid", "setgid", "setgroups", "setitimer", "setpgid",
	"setpriority", "setregid", "setresgid", "setresuid", "setreuid", "setrlimit",
	"set_robust_list", "setsid", "setsockopt", "set_thread_area", "set_tid_address", "setuid",
	"setxattr", "shmat", "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd",
	"signalfd4", "socketpair", "splice", "stat", "statfs", "statx", "symlink", "symlinkat",
	"sync", "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create",
	"timer_delete", "timer_getoverrun", "timer_gettime", "timer_settime", "timerfd_create",
	"timerfd_gettime", "timerfd_settime", "times", "tkill", "truncate", "umask", "uname",
	"unlink", "unlinkat", "utime", "utimensat", "utimes", "vfork", "vmsplice", "wait4",
	"waitid", "write", "writev" };

/* Everything not allowed above is refused with EPERM, never killed: it is what
 * an unprivileged process gets from the kernel itself for the privileged calls
 * (fanotify_init, perf_event_open, bpf, userfaultfd, keyctl, ptrace,
 * process_vm_*, the mount family, chroot, pivot_root, setns, kcmp, syslog,
 * settimeofday, sethostname, swapon, reboot, kexec, modules, iopl, ...), and
 * what Docker's default profile answers.  Programs probe such calls and fall
 * back: TypeScript 7's file watcher tries fanotify_init before inotify, crash
 * reporters try ptrace, node io_uring, sandboxes inside apps unshare.  A
 * refusal is safe for each of them (the call does nothing), so a kill would
 * only break those programs.  The one place a refusal is not safe is a foreign
 * ABI (i386 int 0x80, x32 numbers): the policy is written for x86-64 numbers,
 * and a process refused every call of its ABI, exit included, would spin; it
 * is killed (ACT_VIOLATION below) and the call named in the status. */

#define NS_FLAGS \
	(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | \
	    CLONE_NEWCGROUP | CLONE_NEWTIME)

static int
add_named(scmp_filter_ctx ctx, uint32_t action, const char *name)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr == __NR_SCMP_ERROR || nr < 0)
		return 0; /* not a syscall on this arch / libseccomp */
	return seccomp_rule_add(ctx, action, nr, 0);
}

/* Allow syscall nr unless (arg & 0xffffffff) is one of den[]: one
 * MASKED_EQ rule per maximal bit prefix that no denied value shares. */
static int
allow_all_but(scmp_filter_ctx ctx, int nr, unsigned arg, const uint32_t *den, size_t nden,
    uint32_t prefix, unsigned depth)
{
	uint32_t mask = depth == 0 ? 0 : ~0U << (32 - depth);
	bool hit = false;
	size_t i;
	int rc;

	for (i = 0; i < nden; i++)
		hit = hit || (den[i] & mask) == prefix;
	if (!hit)
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
		    (struct scmp_arg_cmp){ arg, SCMP_CMP_MASKED_EQ, mask, prefix });
	if (depth == 32)
		return 0; /* exactly a denied value */
	if ((rc = allow_all_but(ctx, nr, arg, den, nden, prefix, depth + 1)) != 0)
		return rc;
	return allow_all_but(ctx, nr, arg, den, nden, prefix | (1U << (31 - depth)), depth + 1);
}

static int
add_rules(scmp_filter_ctx ctx)
{
	static const uint32_t ioctl_denied[] = { TIOCSTI, TIOCLINUX };
	static const unsigned long personas[] = { 0, 0x8 /* UNAME26 */,
		0x20000 /* ADDR_NO_RANDOMIZE */, 0x20008, 0xffffffffUL /* query */ };
	static const int families[] = { AF_UNIX, AF_INET, AF_INET6, AF_NETLINK };
	size_t i;
	int rc;

	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if ((rc = add_named(ctx, SCMP_ACT_ALLOW, allowed[i])) != 0)
			return rc;

	/* clone3 passes flags in memory seccomp cannot read: ENOSYS makes libc
	 * fall back to clone, whose flags we can check. */
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0)) != 0)
		return rc;
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
	         SCMP_A0(SCMP_CMP_MASKED_EQ, NS_FLAGS, 0))) != 0)
		return rc;

	/* ioctl: everything but terminal injection (TIOCSTI, TIOCLINUX: EPERM,
	 * the default).  The kernel uses only the low 32 bits of the request, so
	 * compare only those.  libseccomp lets an unconditional rule shadow
	 * conditional ones, so "allow the rest" is spelled out as a prefix cover of
	 * the 32-bit space. */
	if ((rc = allow_all_but(ctx, SCMP_SYS(ioctl), 1, ioctl_denied, 2, 0, 0)) != 0)
		return rc;

	for (i = 0; i < sizeof(personas) / sizeof(personas[0]); i++)
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(personality), 1,
		         SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffULL, personas[i]))) != 0)
			return rc;

	/* Sockets: unix, inet, inet6, netlink (getaddrinfo needs it).  No vsock
	 * (host services), AF_ALG (kernel crypto bugs), AF_PACKET (raw frames). */
	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
		         SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)families[i]))) != 0)
			return rc;
	return 0;
}

int
sandbox_seccomp_export(int fd)
{
	scmp_filter_ctx ctx;
	int rc;

	ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	if (ctx == NULL)
		return -ENOMEM;
	/* Binary search over syscall numbers: ~350 rules must not mean ~350
	 * comparisons on every syscall the app makes. */
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)) != 0 ||
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, ACT_VIOLATION)) != 0 ||
	    (rc = add_rules(ctx)) != 0)
		goto done;
	rc = seccomp_export_bpf(ctx, fd);

done:
	seccomp_release(ctx);
	return rc;
}

int
sandbox_seccomp_install(const struct sock_filter *bpf, size_t len, int *notify_fd)
{
	struct sock_fprog prog = { (unsigned short)len, (struct sock_filter *)bpf };
	int fd;

	if (len == 0 || len > 0xffff)
		return -EINVAL;
	fd = (int)syscall(
	    SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	if (fd < 0)
		return -errno;
	*notify_fd = fd;
	return 0;
}

int
sandbox_seccomp_notify_handle(int fd, char *name, size_t namelen)
{
	struct seccomp_notif *req = NULL;
	struct seccomp_notif_resp *resp = NULL;
	int rc;

	if ((rc = seccomp_notify_alloc(&req, &resp)) != 0)
		return rc;
	if ((rc = seccomp_notify_receive(fd, req)) != 0)
		goto done;
	if (name[0] == '\0') {
		uint32_t arch = req->data.arch;
		int nr = req->data.nr;
		const char *prefix = "";
		char *s;

		/* x32 calls arrive as x86_64 with bit 30 set in the number. */
		if (arch == SCMP_ARCH_X86_64 && (nr & 0x40000000) != 0) {
			arch = SCMP_ARCH_X32;
			prefix = "x32:";
		} else if (arch == SCMP_ARCH_X86) {
			prefix = "i386:";
		} else if (arch != seccomp_arch_native()) {
			prefix = "arch:";
		}
		s = seccomp_syscall_resolve_num_arch(arch, nr);
		if (s != NULL)
			snprintf(name, namelen, "%s%s", prefix, s);
		else
			snprintf(name, namelen, "%s%d", prefix, nr);
		free(s);
	}
	/* Kill first: the offender must never see the call return. */
	kill(req->pid, SIGKILL);
	resp->id = req->id;
	resp->error = -EPERM;
	resp->val = 0;
	resp->flags = 0;
	seccomp_notify_respond(fd, resp); /* fails with ENOENT once it is dead */

done:
	seccomp_notify_free(req, resp);
	return rc;
}
