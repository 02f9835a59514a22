/* box.h — the daemon's face of podium-sandbox: what a box is (a box_spec), turned
 * into the launcher's command line in one place, for apps
 * (orchestrator/host/instance.c) and build steps (builder/build.c).
 *
 * Compiled into the daemon, not into podium-sandbox (whose own flags are parsed in
 * sandbox/main.c; its contract is in sandbox/README.md). Below builder and
 * orchestrator; includes only common/. */
#ifndef PODIUM_SANDBOX_BOX_H
#define PODIUM_SANDBOX_BOX_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define BOX_MAX_BINDS 4

typedef struct box_bind {
	const char *src, *dst;
} box_bind;

/* Zero (box_spec_init) means the launcher's default; strings are borrowed. */
typedef struct box_spec {
	const char *sandbox_bin;       /* path of podium-sandbox */
	box_bind overlay;              /* --overlay: dst shows src, writes discarded */
	box_bind binds[BOX_MAX_BINDS]; /* --bind, in this order */
	size_t nbinds;                 /* how many */
	const char *tmpfs;             /* --tmpfs DST, or NULL */
	const char *chdir;             /* working directory inside, or NULL */
	unsigned host_uid;             /* inside ids map to it (--host-uid and --host-gid) */
	const char *hostname;          /* NULL: the launcher's */
	const char *net;               /* --net: "none", "veth:BRIDGE,GW/PREFIX"; NULL: none */
	uint64_t memory_bytes;         /* cgroup limits; 0: none */
	unsigned pids;                 /* 0: none */
	double cpus;                   /* 0: none */
	uint64_t tmpfs_bytes;          /* size of each writable tmpfs; 0: the launcher's */
	uint64_t fsize_bytes;          /* RLIMIT_FSIZE (--fsize); 0: none */
	unsigned timeout_s;            /* wall-clock limit; 0: none */
	const char *const *env;        /* NAME=VALUE, NULL-terminated, or NULL */
	const char *const *extra_env;  /* more, after env (a later name wins), or NULL */
	int status_fd, info_fd;        /* the child's --status-fd, --info-fd; -1: none */
	int env_fd;                    /* the child's --env-fd, which carries env and
	                                * extra_env (never arguments: /proc/PID/cmdline is
	                                * world-readable); box_spawn sets it */
	const char *const *argv;       /* the command, NULL-terminated */
	box_bind ro_binds[BOX_MAX_BINDS]; /* --ro-bind, after the binds */
	size_t nro_binds;
	const char *rootfs;            /* --rootfs: image layers, top first, ':'-separated */
	unsigned rootfs_ids;           /* --rootfs-ids: their on-disk id base */
	unsigned id_range;             /* --id-range: the box's other inside ids; 0: none */
	unsigned engine_userns;        /* --engine-userns: an engine, not a box; 0: a box.
	                                * Its --tmpfs comes first (binds go inside it). */
} box_spec;

/* Everything zero but the descriptors (-1). */
void box_spec_init(box_spec *spec);
/* podium-sandbox's argv for spec, NULL-terminated, argv[0] the launcher: each string
 * allocated, freed with box_argv_free. -E2BIG (and *out NULL) past BOX_MAX_BINDS,
 * -EINVAL for an environment without an env_fd. */
int box_argv(const box_spec *spec, char ***out);
void box_argv_free(char **argv);
/* The environment of spec (env, then extra_env) as --env-fd reads it, in a new
 * sealed-off memory file at offset 0: its descriptor (close-on-exec; the caller
 * closes it), or -errno. */
int box_env_memfd(const box_spec *spec);

/* How the daemon runs a box on its loop. */
typedef struct box_io {
	uv_exit_cb exit_cb;
	unsigned flags;                /* uv_process_flags (UV_PROCESS_DETACHED: own group) */
	uv_pipe_t *out;                /* the box's stdout and stderr, one pipe: in write order */
	uv_stdio_container_t extra[2]; /* the launcher's descriptors 3 and 4, as the spec's
	                                * status_fd and info_fd name them */
	int nextra;
} box_io;

/* Spawns the box of spec on loop; stdin is /dev/null; its environment goes through
 * the next descriptor after io's extra ones (--env-fd). 0: it runs, and io->out is
 * initialised and open on its output (the caller reads and closes it). Else a uv
 * error: nothing runs and io->out is not the caller's to close. Either way proc,
 * zeroed by the caller beforehand, must be closed once its loop field is set
 * (uv_spawn initialises it even when it fails). */
int box_spawn(uv_loop_t *loop, uv_process_t *proc, const box_spec *spec, const box_io *io);

/* Whether boxes can be limited here: cgroup_root (normally "/sys/fs/cgroup") is a
 * cgroup v2 mount, or holds the v1 hierarchies memory, pids and cpu. 0, or -ENOENT
 * with err naming what is missing and the fix (`ip netns exec` remounts /sys and
 * hides them; `nsenter --net=` does not). Checked once when the daemon starts. */
int box_host_check(const char *cgroup_root, char *err, size_t errlen);

#endif
