/*
 * podium-sandbox — shared types of the sandbox launcher.
 *
 * Process layout (one box):
 *
 *   launcher (host)            main.c, launcher.c, cgroup.c
 *     └─ init, pid 1 inside    init.c, mount.c           (all namespaces)
 *          └─ command          init.c, net.c, privs.c, seccomp.c (exec'd)
 *
 * The launcher clones init into fresh namespaces, writes its uid/gid maps,
 * puts it into the limit cgroups and waits.  Init builds the filesystem,
 * forks the command, reaps zombies, forwards signals and acts as the seccomp
 * notification supervisor so a violation can be reported by name.  Init
 * tells the launcher about setup failures and the command's end over a pipe
 * of fixed-size messages (struct sandbox_msg).
 *
 * Conventions: functions return 0 or -errno; a failing setup step is
 * recorded with sandbox_fail() so the launcher can name it on stderr.
 */
#ifndef PODIUM_SANDBOX_H
#define PODIUM_SANDBOX_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SANDBOX_EXIT_SETUP 125
#define SANDBOX_EXIT_NOEXEC 126
#define SANDBOX_EXIT_NOTFOUND 127
#define SANDBOX_ENV_MAX (16u << 20) /* bytes read from --env-fd */

enum sandbox_mount_kind {
	SANDBOX_MOUNT_RO_BIND,
	SANDBOX_MOUNT_BIND,
	SANDBOX_MOUNT_TMPFS,
	SANDBOX_MOUNT_OVERLAY,
};

struct sandbox_mount {
	enum sandbox_mount_kind kind;
	const char *src; /* NULL for tmpfs; borrowed from argv */
	const char *dst; /* absolute path inside the sandbox */
};

#include <net/if.h>
#include <netinet/in.h>

enum sandbox_net {
	SANDBOX_NET_NONE,
	SANDBOX_NET_HOST,
	SANDBOX_NET_VETH
};

/* Everything parsed from the command line.  Strings are borrowed from argv;
 * the arrays are owned and freed by sandbox_config_release(). */
struct sandbox_config {
	struct sandbox_mount *mounts;
	size_t nmounts;
	char **env; /* NAME=VALUE, NULL-terminated, built by main.c */
	size_t nenv;
	char *env_buf; /* --env-fd's entries, which env points into */
	char *const *argv; /* command, NULL-terminated */

	const char *chdir;
	const char *hostname;
	uid_t uid, host_uid;
	gid_t gid, host_gid;
	bool host_uid_set, host_gid_set;
	enum sandbox_net net;
	char net_bridge[IFNAMSIZ]; /* SANDBOX_NET_VETH: see veth.c */
	struct in_addr net_gateway;
	int net_prefix;

	uint64_t memory;     /* bytes, 0 = unlimited */
	uint64_t pids;       /* 0 = unlimited */
	double cpus;         /* 0 = unlimited */
	uint64_t nofile;     /* 0 = inherit */
	uint64_t fsize;      /* 0 = inherit */
	uint64_t tmpfs_size; /* 0 = the kernel's default (half of RAM) for each tmpfs */
	bool fsize_set;
	double timeout; /* seconds, 0 = none */
	bool seccomp;

	int status_fd; /* -1 = none */
	int info_fd;   /* -1 = none */

	/* --rootfs: an image's layers (top first, ':'-separated) as the root instead
	 * of a tmpfs with the host's /usr; their files' on-disk ids start at
	 * rootfs_ids (rootfs.c). */
	const char *rootfs;
	unsigned rootfs_ids;
	/* --id-range: the inside ids 0..65535 but uid/gid map to id_range + id. */
	unsigned id_range;
	bool id_range_set;
	/* --engine-userns: not a box but a container engine's launcher (engine.c). */
	unsigned engine_userns;
	bool engine;
};

void sandbox_config_init(struct sandbox_config *cfg);
void sandbox_config_release(struct sandbox_config *cfg);

/* Messages from inside the box to the launcher. */
enum sandbox_msg_type {
	SANDBOX_MSG_READY = 1, /* filesystem and namespaces done, command forked */
	SANDBOX_MSG_ERROR,     /* setup failed: step + errno */
	SANDBOX_MSG_EXIT,      /* the command ended: wait status + seccomp name */
};

struct sandbox_msg {
	int type;
	int err;       /* errno for SANDBOX_MSG_ERROR */
	int wstatus;   /* for SANDBOX_MSG_EXIT */
	char text[96]; /* failing step, or the offending syscall's name */
};

/* Launcher side. */
int sandbox_run(const struct sandbox_config *cfg);

/* Inside: pid 1 of the box.  Never returns. */
void sandbox_init_main(const struct sandbox_config *cfg, int sync_fd, int report_fd)
    __attribute__((noreturn));

/* Record a failed step (inside the box) and exit the current process. */
void sandbox_fail(int report_fd, const char *step, int err) __attribute__((noreturn));

/* mount.c: sandbox_mount_prepare opens the --bind/--ro-bind/--overlay sources
 * while init still has the launcher's host ids (before switching to the inside
 * uid), so a source below a directory only root may enter (a data dir under
 * /root, mode 0700) still works; sources owned by the box's own host uid are
 * reached through its capabilities in the new user namespace.
 * sandbox_mount_setup builds the new root and pivots into it (preparing first
 * if that was not done).  On failure *step names the failing operation. */
int sandbox_mount_prepare(const struct sandbox_config *cfg, const char **step);
int sandbox_mount_setup(const struct sandbox_config *cfg, const char **step);
/* mount.c's helpers rootfs.c and engine.c build with: openat2 (-errno), a new
 * detached mount of type with key=value opts (NULL-ended), a new file of data
 * (O_EXCL, no symlink followed). */
int sandbox_openat2(int dirfd, const char *path, int flags, mode_t mode, uint64_t resolve);
int sandbox_fs_new(const char *type, const char *const *opts, uint64_t attrs);
int sandbox_write_at(int dirfd, const char *name, const char *data, size_t len, mode_t mode);

/* rootfs.c: sandbox_rootfs_open runs in the launcher before the box exists and
 * keeps an idmapped, read-only, detached clone of each layer; init keeps their
 * descriptors (sandbox_rootfs_fds) and sandbox_rootfs_mount stacks them with a
 * tmpfs upper as an overlay on the directory stage (the box's root to be);
 * sandbox_rootfs_etc gives it the box's /etc files and /home/user. */
int sandbox_rootfs_open(const struct sandbox_config *cfg, const char **step);
size_t sandbox_rootfs_fds(const int **fds);
int sandbox_rootfs_mount(const struct sandbox_config *cfg, int stage, const char **step);
int sandbox_rootfs_etc(const struct sandbox_config *cfg, int root, const char **step);

/* engine.c: pid 1 of an engine launch (--engine-userns; see the file).  Never
 * returns. */
void sandbox_engine_main(const struct sandbox_config *cfg, int sync_fd, int report_fd)
    __attribute__((noreturn));
/* init.c, shared with engine.c: the signals init takes from a signalfd
 * (returned), closing every fd but two (and the layers'), and its loop until
 * the command ends (notify_fd -1: no seccomp listener). */
int sandbox_init_signals(int report_fd);
void sandbox_close_fds_except(int keep_a, int keep_b);
/* The command's last step: chdir to dir, its environment, exec (127/126 when it
 * cannot). */
void sandbox_exec(const struct sandbox_config *cfg, int report_fd, const char *dir)
    __attribute__((noreturn));
void sandbox_init_supervise(pid_t cmd, int sig_fd, int report_fd, int notify_fd)
    __attribute__((noreturn));

/* net.c: move the caller into a new network namespace with lo up and
 * return an fd of the namespace in *ns_fd (for init's setns). */
int sandbox_net_create(int *ns_fd);

/* veth.c: parse "BRIDGE,GATEWAY/PREFIX" of --net veth:...; from the
 * launcher, give the namespace of pid (init, cloned with CLONE_NEWNET) its
 * veth pair, address and default route. */
int sandbox_net_veth_parse(const char *spec, struct sandbox_config *cfg);
int sandbox_net_veth_setup(const struct sandbox_config *cfg, pid_t pid, const char **step);

/* privs.c */
int sandbox_privs_drop(void);
int sandbox_privs_switch_ids(uid_t uid, gid_t gid);

/* seccomp.c: compile the policy with libseccomp and write the BPF program
 * to fd (used at build time only, by sandbox/gen/seccomp_gen.c); install
 * a program (len instructions) in the calling process, which must have
 * no_new_privs, and return the user-notification listener the supervisor
 * polls in *notify_fd. */
int sandbox_seccomp_export(int fd);
int sandbox_seccomp_install(const struct sock_filter *bpf, size_t len, int *notify_fd);

/* The policy as BPF, generated at build time (seccomp_bpf.c in the build
 * directory) by running sandbox_seccomp_export(). */
extern const struct sock_filter sandbox_seccomp_bpf[];
extern const size_t sandbox_seccomp_bpf_len;
/* Handle one pending notification on fd: the offender is killed and its
 * syscall's name copied to name (first violation only). */
int sandbox_seccomp_notify_handle(int fd, char *name, size_t namelen);

/* cgroup.c */
struct sandbox_cgroup {
	int version;    /* 0 = none, 1, 2 */
	char *paths[3]; /* v1: memory, pids, cpu dirs; v2: paths[0] only */
};
int sandbox_cgroup_create(struct sandbox_cgroup *cg, const struct sandbox_config *cfg);
int sandbox_cgroup_attach(const struct sandbox_cgroup *cg, pid_t pid);
bool sandbox_cgroup_oom_killed(const struct sandbox_cgroup *cg);
void sandbox_cgroup_destroy(struct sandbox_cgroup *cg);
/* Remove empty cgroups of SIGKILLed launchers next to ours (off the
 * startup path: called once the box runs). */
void sandbox_cgroup_remove_stale(const struct sandbox_cgroup *cg);

#endif
