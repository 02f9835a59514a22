/* box.c — a box_spec into podium-sandbox's command line (see box.h). */
#include "sandbox/box.h"

#include <errno.h>
#include <linux/magic.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/util.h"

typedef struct args {
	char **v;
	size_t n, cap;
} args;

static void
add(args *a, char *s)
{
	if (a->n + 2 > a->cap) {
		a->cap = a->cap != 0 ? 2 * a->cap : 64;
		a->v = xrealloc(a->v, a->cap * sizeof(char *));
	}
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

static void
add2(args *a, const char *flag, char *value)
{
	add(a, xstrdup(flag));
	add(a, value);
}

static void
add_mount(args *a, const char *flag, const box_bind *b)
{
	add2(a, flag, xstrdup(b->src));
	add(a, xstrdup(b->dst));
}

static int
has_env(const box_spec *spec)
{
	return (spec->env != NULL && spec->env[0] != NULL) ||
	    (spec->extra_env != NULL && spec->extra_env[0] != NULL);
}

void
box_spec_init(box_spec *spec)
{
	*spec = (box_spec){ .status_fd = -1, .info_fd = -1, .env_fd = -1 };
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
box_env_memfd(const box_spec *spec)
{
	const char *const *lists[2] = { spec->env, spec->extra_env };
	int fd = memfd_create("podium-env", MFD_CLOEXEC | MFD_ALLOW_SEALING), r = 0;

	if (fd < 0)
		return -errno;
	for (int l = 0; l < 2 && r == 0; l++)
		for (size_t i = 0; lists[l] != NULL && lists[l][i] != NULL && r == 0; i++)
			r = write_all(fd, lists[l][i], strlen(lists[l][i]) + 1);
	/* what the launcher reads is what was written here */
	if (r == 0 && (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK |
	    F_SEAL_SEAL) != 0 || lseek(fd, 0, SEEK_SET) != 0))
		r = -errno;
	if (r != 0) {
		close(fd);
		return r;
	}
	return fd;
}

int
box_argv(const box_spec *spec, char ***out)
{
	args a = { NULL, 0, 0 };
	size_t i;

	*out = NULL;
	if (spec->nbinds > BOX_MAX_BINDS || spec->nro_binds > BOX_MAX_BINDS)
		return -E2BIG;
	if (has_env(spec) && spec->env_fd < 0)
		return -EINVAL;
	add(&a, xstrdup(spec->sandbox_bin));
	if (spec->info_fd >= 0)
		add2(&a, "--info-fd", xasprintf("%d", spec->info_fd));
	if (spec->status_fd >= 0)
		add2(&a, "--status-fd", xasprintf("%d", spec->status_fd));
	if (spec->engine_userns > 0)
		add2(&a, "--engine-userns", xasprintf("%u", spec->engine_userns));
	/* an engine's binds go inside its tmpfs */
	if (spec->engine_userns > 0 && spec->tmpfs != NULL)
		add2(&a, "--tmpfs", xstrdup(spec->tmpfs));
	if (spec->rootfs != NULL) {
		add2(&a, "--rootfs", xstrdup(spec->rootfs));
		add2(&a, "--rootfs-ids", xasprintf("%u", spec->rootfs_ids));
	}
	if (spec->id_range > 0)
		add2(&a, "--id-range", xasprintf("%u", spec->id_range));
	/* mounts in this order: a bind may go inside the overlay */
	if (spec->overlay.src != NULL)
		add_mount(&a, "--overlay", &spec->overlay);
	for (i = 0; i < spec->nbinds; i++)
		add_mount(&a, "--bind", &spec->binds[i]);
	for (i = 0; i < spec->nro_binds; i++)
		add_mount(&a, "--ro-bind", &spec->ro_binds[i]);
	if (spec->engine_userns == 0 && spec->tmpfs != NULL)
		add2(&a, "--tmpfs", xstrdup(spec->tmpfs));
	if (spec->chdir != NULL)
		add2(&a, "--chdir", xstrdup(spec->chdir));
	add2(&a, "--host-uid", xasprintf("%u", spec->host_uid));
	add2(&a, "--host-gid", xasprintf("%u", spec->host_uid));
	if (spec->hostname != NULL)
		add2(&a, "--hostname", xstrdup(spec->hostname));
	if (spec->tmpfs_bytes > 0)
		add2(&a, "--tmpfs-size", xasprintf("%llu", (unsigned long long)spec->tmpfs_bytes));
	add2(&a, "--net", xstrdup(spec->net != NULL ? spec->net : "none"));
	if (spec->memory_bytes > 0)
		add2(&a, "--memory", xasprintf("%llu", (unsigned long long)spec->memory_bytes));
	if (spec->pids > 0)
		add2(&a, "--pids", xasprintf("%u", spec->pids));
	if (spec->cpus > 0)
		add2(&a, "--cpus", xasprintf("%.2f", spec->cpus));
	if (spec->fsize_bytes > 0)
		add2(&a, "--fsize", xasprintf("%llu", (unsigned long long)spec->fsize_bytes));
	if (spec->timeout_s > 0)
		add2(&a, "--timeout", xasprintf("%u", spec->timeout_s));
	if (has_env(spec))
		add2(&a, "--env-fd", xasprintf("%d", spec->env_fd));
	add(&a, xstrdup("--"));
	for (i = 0; spec->argv != NULL && spec->argv[i] != NULL; i++)
		add(&a, xstrdup(spec->argv[i]));
	*out = a.v;
	return 0;
}

void
box_argv_free(char **argv)
{
	for (size_t i = 0; argv != NULL && argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

/* out initialised and open on fd: 0, or an error (out then closing). */
static int
out_open(uv_loop_t *loop, uv_pipe_t *out, int fd)
{
	int r = uv_pipe_init(loop, out, 0);

	if (r == 0 && (r = uv_pipe_open(out, fd)) != 0)
		uv_close((uv_handle_t *)out, NULL);
	return r;
}

int
box_spawn(uv_loop_t *loop, uv_process_t *proc, const box_spec *spec, const box_io *io)
{
	uv_process_options_t opts = { 0 };
	uv_stdio_container_t stdio[6];
	uv_file outp[2];
	box_spec sp = *spec;
	char **argv;
	int i, r, envfd = -1;

	if (io->nextra < 0 || io->nextra > 2)
		return UV_EINVAL;
	if (has_env(spec)) {
		if ((envfd = box_env_memfd(spec)) < 0)
			return envfd;
		sp.env_fd = 3 + io->nextra;
	}
	if ((r = box_argv(&sp, &argv)) != 0)
		goto done;
	/* stdout and stderr share one pipe: one descriptor less per box, and the
	 * reader sees the order in which the box wrote */
	if ((r = uv_pipe(outp, UV_NONBLOCK_PIPE, 0)) != 0) {
		box_argv_free(argv);
		goto done;
	}
	stdio[0].flags = UV_IGNORE;
	for (i = 1; i <= 2; i++) {
		stdio[i].flags = UV_INHERIT_FD;
		stdio[i].data.fd = outp[1];
	}
	for (i = 0; i < io->nextra; i++)
		stdio[3 + i] = io->extra[i];
	if (envfd >= 0) {
		stdio[sp.env_fd].flags = UV_INHERIT_FD;
		stdio[sp.env_fd].data.fd = envfd;
	}
	opts.file = argv[0];
	opts.args = argv;
	opts.exit_cb = io->exit_cb;
	opts.flags = io->flags;
	opts.stdio = stdio;
	opts.stdio_count = 3 + io->nextra + (envfd >= 0);
	r = uv_spawn(loop, proc, &opts);
	box_argv_free(argv);
	close(outp[1]);
	/* the launcher runs: without its output it goes (its box with it) before the
	 * caller hears */
	if (r == 0 && (r = out_open(loop, io->out, outp[0])) != 0)
		uv_process_kill(proc, SIGKILL);
	if (r != 0)
		close(outp[0]);
done:
	if (envfd >= 0)
		close(envfd);
	return r;
}

/* The filesystem type of path, or 0 when it cannot be read. */
static long
fs_type(const char *path)
{
	struct statfs sfs;

	return statfs(path, &sfs) == 0 ? (long)sfs.f_type : 0;
}

int
box_host_check(const char *cgroup_root, char *err, size_t errlen)
{
	static const char *const v1[] = { "memory", "pids", "cpu" };
	static const char fix[] =
	    "every app and build runs in a cgroup of its own, so podium "
	    "cannot start without them. `ip netns exec` remounts /sys and hides the cgroup "
	    "mounts: start the daemon in a network namespace with `nsenter --net=/run/netns/NAME "
	    "podium serve ...` instead";
	long root = fs_type(cgroup_root);
	const char *missing = NULL;
	char path[512];
	size_t found = 0;

	if (root == CGROUP2_SUPER_MAGIC)
		return 0;
	for (size_t i = 0; root == TMPFS_MAGIC && i < sizeof(v1) / sizeof(v1[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", cgroup_root, v1[i]);
		if (fs_type(path) == CGROUP_SUPER_MAGIC)
			found++;
		else if (missing == NULL)
			missing = v1[i];
	}
	if (found == 0) {
		snprintf(err, errlen, "cgroups: no cgroup filesystem is mounted on %s (%s): %s",
		    cgroup_root,
		    root == SYSFS_MAGIC       ? "it is a plain directory of sysfs"
		        : root == TMPFS_MAGIC ? "a tmpfs without the v1 hierarchies"
		        : root == 0           ? "it cannot be read"
		                              : "it is neither cgroup2 nor a tmpfs of v1 "
		                                "hierarchies",
		    fix);
		return -ENOENT;
	}
	if (missing != NULL) {
		snprintf(err, errlen,
		    "cgroups: the v1 %s hierarchy is not mounted on %s/%s: every "
		    "app and build is limited through it (mount it there, or boot with cgroup v2)",
		    missing, cgroup_root, missing);
		return -ENOENT;
	}
	return 0;
}
