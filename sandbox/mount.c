/*
 * The box's filesystem: a fresh tmpfs root with read-only /usr, a few /etc
 * files, a new /proc, a minimal /dev, /tmp and /home/user, plus the
 * caller's binds, then pivot_root with the old root detached.
 *
 * Everything is done through file descriptors with the new mount API
 * (open_tree/move_mount/mount_setattr/fsopen): sources are opened once with
 * symlinks resolved inside the host root (RESOLVE_IN_ROOT), destinations are
 * created and opened component by component with RESOLVE_NO_SYMLINKS, and
 * the mount lands on exactly the inode that was opened.  A destination
 * swapped for a symlink mid-setup is therefore refused (ELOOP), never
 * followed.
 *
 * The new root is first mounted on /tmp of our private mount namespace;
 * all caller-given sources are opened before that, so a source under the
 * host's /tmp is not hidden by it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/sandbox.h"

#define STAGE "/tmp" /* where the new root is assembled, in our mount ns */

#define ATTR_SAFE (MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)

/* Files copied from the host's /etc (contents, not binds: cheaper, and the
 * box does not see later host edits). */
static const char *const etc_files[] = { "ld.so.cache", "nsswitch.conf", "mime.types", "localtime",
	"protocols", "services", "host.conf", "gai.conf", "os-release", "debian_version",
	"ca-certificates.conf" };
/* Directories bound read-only from the host's /etc. */
static const char *const etc_dirs[] = { "ssl", "ca-certificates", "alternatives", "python3",
	"python3.11", "pki" };
/* Host device nodes bound into the minimal /dev. */
static const char *const dev_nodes[] = { "null", "zero", "full", "random", "urandom", "tty" };
static const char *const proc_readonly[] = { "sys", "sysrq-trigger", "irq", "bus" };
static const char *const proc_masked[] = { "kcore", "keys", "timer_list", "sched_debug",
	"latency_stats", "kallsyms" };

struct mount_ctx {
	const struct sandbox_config *cfg;
	int host;     /* O_PATH fd of the host's / */
	int nr;       /* O_PATH fd of the new root */
	int *src_fds; /* per cfg->mounts entry, pre-opened sources */
	const char **step;
};

int
sandbox_openat2(int dirfd, const char *path, int flags, mode_t mode, uint64_t resolve)
{
	struct open_how how = {
		.flags = (uint64_t)flags | O_CLOEXEC, .mode = mode, .resolve = resolve
	};
	int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));

	return fd < 0 ? -errno : fd;
}

/* Open a host path with symlinks resolved as if the host root were "/". */
static int
host_open(int host, const char *path, int flags)
{
	while (*path == '/')
		path++;
	return sandbox_openat2(
	    host, *path != '\0' ? path : ".", flags, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

/* Create DST below nr (dirs 0755, or an empty file as the last component)
 * and return an O_PATH fd of it.  No symlink is followed anywhere. */
static int
dst_make(int nr, const char *dst, bool dir, uid_t uid)
{
	char buf[4096], *save = NULL, *comp, *next;
	int cur, fd;

	if (snprintf(buf, sizeof(buf), "%s", dst) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	cur = fcntl(nr, F_DUPFD_CLOEXEC, 3);
	if (cur < 0)
		return -errno;
	comp = strtok_r(buf, "/", &save);
	while (comp != NULL) {
		next = strtok_r(NULL, "/", &save);
		if (strcmp(comp, "..") == 0) {
			close(cur);
			return -EINVAL;
		}
		if (next != NULL || dir) {
			if (mkdirat(cur, comp, 0755) != 0 && errno != EEXIST) {
				fd = -errno;
				goto fail;
			}
			fd = sandbox_openat2(cur, comp, O_PATH | O_DIRECTORY, 0,
			    RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH);
		} else {
			if (mknodat(cur, comp, S_IFREG | 0644, 0) != 0 && errno != EEXIST) {
				fd = -errno;
				goto fail;
			}
			fd = sandbox_openat2(
			    cur, comp, O_PATH, 0, RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH);
		}
		if (fd < 0)
			goto fail;
		close(cur);
		cur = fd;
		comp = next;
	}
	(void)uid;
	return cur;

fail:
	close(cur);
	return fd;
}

/* Attach the detached mount tree_fd at DST below the directory base (the
 * new root or a directory in it). */
static int
tree_attach_at(int base, int tree_fd, const char *dst, bool dir)
{
	int fd, rc = 0;

	fd = dst_make(base, dst, dir, 0);
	if (fd < 0)
		return fd;
	if (move_mount(tree_fd, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
		rc = -errno;
	close(fd);
	return rc;
}

static int
tree_attach(struct mount_ctx *c, int tree_fd, const char *dst, bool dir)
{
	return tree_attach_at(c->nr, tree_fd, dst, dir);
}

static int
tree_setattr(int tree_fd, uint64_t attrs, bool recursive)
{
	struct mount_attr attr = { .attr_set = attrs };

	if (mount_setattr(tree_fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr,
	        sizeof(attr)) != 0)
		return -errno;
	return 0;
}

/* A recursive clone of the already-open src with attrs set (none if 0).
 * Recursive, so mounts below src come along (a non-recursive clone of a
 * tree with locked submounts fails). */
static int
tree_clone(int src, uint64_t attrs)
{
	int tree, rc;

	tree =
	    open_tree(src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
	if (tree < 0)
		return -errno;
	if (attrs != 0 && (rc = tree_setattr(tree, attrs, true)) != 0) {
		close(tree);
		return rc;
	}
	return tree;
}

/* Bind the already-open src at dst below base. */
static int
bind_at(int base, int src, const char *dst, uint64_t attrs)
{
	struct stat st;
	int tree, rc;

	if (fstat(src, &st) != 0)
		return -errno;
	tree = tree_clone(src, attrs);
	if (tree < 0)
		return tree;
	rc = tree_attach_at(base, tree, dst, S_ISDIR(st.st_mode));
	close(tree);
	return rc;
}

static int
bind_fd(struct mount_ctx *c, int src, const char *dst, uint64_t attrs)
{
	return bind_at(c->nr, src, dst, attrs);
}

/* Bind src onto the already-open target (an O_PATH fd in the new root). */
static int
bind_onto(int src, int target, uint64_t attrs)
{
	int tree, rc = 0;

	tree = tree_clone(src, attrs);
	if (tree < 0)
		return tree;
	if (move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) !=
	    0)
		rc = -errno;
	close(tree);
	return rc;
}

/* A new detached filesystem mount; opts are key=value pairs, NULL-ended. */
int
sandbox_fs_new(const char *type, const char *const *opts, uint64_t attrs)
{
	int fs, mnt = -1;

	fs = fsopen(type, FSOPEN_CLOEXEC);
	if (fs < 0)
		return -errno;
	for (; opts != NULL && opts[0] != NULL; opts += 2) {
		int cmd = opts[1] != NULL ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG;
		if (fsconfig(fs, (unsigned)cmd, opts[0], opts[1], 0) != 0)
			goto done;
	}
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) != 0)
		goto done;
	mnt = fsmount(fs, FSMOUNT_CLOEXEC, (unsigned)attrs);

done:
	if (mnt < 0)
		mnt = -errno;
	close(fs);
	return mnt;
}

static int
tmpfs_at(struct mount_ctx *c, const char *dst, const char *mode, uint64_t attrs)
{
	char uid[16], gid[16], size[24];
	const char *opts[] = { "mode", mode, "uid", uid, "gid", gid, NULL, NULL, NULL };
	int mnt, rc;

	snprintf(uid, sizeof(uid), "%u", c->cfg->uid);
	snprintf(gid, sizeof(gid), "%u", c->cfg->gid);
	if (c->cfg->tmpfs_size > 0) {
		/* a full /tmp is ENOSPC for the app, not memory taken from the host */
		snprintf(size, sizeof(size), "%llu", (unsigned long long)c->cfg->tmpfs_size);
		opts[6] = "size";
		opts[7] = size;
	}
	mnt = sandbox_fs_new("tmpfs", opts, attrs);
	if (mnt < 0)
		return mnt;
	rc = tree_attach(c, mnt, dst, true);
	close(mnt);
	return rc;
}

int
sandbox_write_at(int dirfd, const char *name, const char *data, size_t len, mode_t mode)
{
	int fd, rc = 0;

	fd = sandbox_openat2(
	    dirfd, name, O_WRONLY | O_CREAT | O_EXCL, mode, RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH);
	if (fd < 0)
		return fd;
	if (write(fd, data, len) != (ssize_t)len)
		rc = -errno;
	close(fd);
	return rc;
}

static int
copy_host_file(int host, int etc, const char *name)
{
	char path[256], link[256];
	struct stat st;
	ssize_t n;
	int src, dst, rc = 0;
	off_t off = 0;

	snprintf(path, sizeof(path), "etc/%s", name);
	/* Links into /usr (localtime, os-release) stay links: programs read the
	 * zone name from the link, and /usr is there anyway. */
	n = readlinkat(host, path, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		if (strncmp(link, "/usr/", 5) == 0 || strncmp(link, "../usr/", 7) == 0)
			return symlinkat(link, etc, name) == 0 ? 0 : -errno;
	}
	src = host_open(host, path, O_RDONLY | O_NOCTTY | O_NONBLOCK);
	if (src < 0)
		return src == -ENOENT ? 0 : src;
	if (fstat(src, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(src);
		return 0;
	}
	dst = sandbox_openat2(
	    etc, name, O_WRONLY | O_CREAT | O_EXCL, 0644, RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH);
	if (dst < 0) {
		close(src);
		return dst;
	}
	while (off < st.st_size) {
		n = sendfile(dst, src, &off, (size_t)(st.st_size - off));
		if (n <= 0) {
			rc = n < 0 ? -errno : 0;
			break;
		}
	}
	close(src);
	close(dst);
	return rc;
}

static int
setup_etc(struct mount_ctx *c)
{
	const struct sandbox_config *cfg = c->cfg;
	char buf[1024], path[64];
	size_t i;
	int etc, rc = 0, n;

	*c->step = "mkdir /etc";
	etc = dst_make(c->nr, "etc", true, cfg->uid);
	if (etc < 0)
		return etc;
	/* dst_make gives O_PATH; files are created relative to it, fine. */
	*c->step = "copy /etc files";
	for (i = 0; i < sizeof(etc_files) / sizeof(etc_files[0]); i++)
		if ((rc = copy_host_file(c->host, etc, etc_files[i])) != 0)
			goto done;
	if (cfg->net == SANDBOX_NET_HOST) {
		if ((rc = copy_host_file(c->host, etc, "resolv.conf")) != 0 ||
		    (rc = copy_host_file(c->host, etc, "hosts")) != 0)
			goto done;
	} else {
		if (cfg->net == SANDBOX_NET_VETH) {
			/* The daemon answers DNS on the gateway (the host's resolver may sit
			 * where the box may not go). */
			char gw[INET_ADDRSTRLEN];
			inet_ntop(AF_INET, &cfg->net_gateway, gw, sizeof(gw));
			n = snprintf(buf, sizeof(buf), "nameserver %s\n", gw);
			if ((rc = sandbox_write_at(etc, "resolv.conf", buf, (size_t)n, 0644)) != 0)
				goto done;
		}
		n = snprintf(buf, sizeof(buf),
		    "127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n",
		    cfg->hostname);
		if ((rc = sandbox_write_at(etc, "hosts", buf, (size_t)n, 0644)) != 0)
			goto done;
	}

	*c->step = "bind /etc directories";
	for (i = 0; i < sizeof(etc_dirs) / sizeof(etc_dirs[0]); i++) {
		int src;

		snprintf(path, sizeof(path), "etc/%s", etc_dirs[i]);
		src = host_open(c->host, path, O_PATH | O_DIRECTORY);
		if (src < 0)
			continue; /* not on this host */
		rc = bind_at(etc, src, etc_dirs[i], MOUNT_ATTR_RDONLY | ATTR_SAFE);
		close(src);
		if (rc != 0)
			goto done;
	}

	*c->step = "write /etc/passwd";
	n = snprintf(buf, sizeof(buf),
	    "%s%s:x:%u:%u:%s:/home/user:/bin/sh\n"
	    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
	    cfg->uid != 0 ? "root:x:0:0:root:/root:/bin/sh\n" : "", cfg->uid != 0 ? "user" : "root",
	    cfg->uid, cfg->gid, cfg->uid != 0 ? "user" : "root");
	if ((rc = sandbox_write_at(etc, "passwd", buf, (size_t)n, 0644)) != 0)
		goto done;
	*c->step = "write /etc/group";
	n = snprintf(buf, sizeof(buf), "%s%s:x:%u:\nnogroup:x:65534:\n",
	    cfg->gid != 0 ? "root:x:0:\n" : "", cfg->gid != 0 ? "user" : "root", cfg->gid);
	rc = sandbox_write_at(etc, "group", buf, (size_t)n, 0644);

done:
	close(etc);
	return rc;
}

/* /usr read-only, and /bin /lib /lib64 /sbin as on the host: symlinks into
 * usr on merged-usr systems, read-only binds otherwise. */
static int
setup_usr(struct mount_ctx *c)
{
	static const char *const tops[] = { "bin", "sbin", "lib", "lib64", "lib32", "libx32" };
	char link[256];
	size_t i;
	int src, rc;

	*c->step = "bind /usr";
	src = host_open(c->host, "usr", O_PATH | O_DIRECTORY);
	if (src < 0)
		return src;
	rc = bind_fd(c, src, "usr", MOUNT_ATTR_RDONLY | ATTR_SAFE);
	close(src);
	if (rc != 0)
		return rc;
	*c->step = "merged-usr links";
	for (i = 0; i < sizeof(tops) / sizeof(tops[0]); i++) {
		ssize_t n = readlinkat(c->host, tops[i], link, sizeof(link) - 1);

		if (n > 0) {
			link[n] = '\0';
			if (symlinkat(link, c->nr, tops[i]) != 0)
				return -errno;
			continue;
		}
		src = host_open(c->host, tops[i], O_PATH | O_DIRECTORY);
		if (src < 0)
			continue;
		rc = bind_fd(c, src, tops[i], MOUNT_ATTR_RDONLY | ATTR_SAFE);
		close(src);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
setup_dev(struct mount_ctx *c)
{
	static const char *const links[][2] = {
		{ "ptmx", "pts/ptmx" },
		{ "fd", "/proc/self/fd" },
		{ "stdin", "/proc/self/fd/0" },
		{ "stdout", "/proc/self/fd/1" },
		{ "stderr", "/proc/self/fd/2" },
	};
	static const char *const pts_opts[] = { "newinstance", NULL, "ptmxmode", "0666", "mode",
		"0620", NULL };
	char path[64];
	size_t i;
	int dev, mnt, src, rc;

	*c->step = "mount /dev";
	dev = sandbox_fs_new("tmpfs", (const char *const[]){ "mode", "0755", NULL },
	    MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
	if (dev < 0)
		return dev;
	if ((rc = tree_attach(c, dev, "dev", true)) != 0)
		goto done;
	/* Relative to dev (the mount's fd is its root directory).  nosuid and
	 * noexec are set on the whole /dev tree at the end. */
	for (i = 0; i < sizeof(dev_nodes) / sizeof(dev_nodes[0]); i++) {
		*c->step = "bind /dev node";
		snprintf(path, sizeof(path), "dev/%s", dev_nodes[i]);
		src = host_open(c->host, path, O_PATH);
		if (src < 0) {
			rc = src;
			goto done;
		}
		rc = bind_at(dev, src, dev_nodes[i], 0);
		close(src);
		if (rc != 0)
			goto done;
	}
	*c->step = "mount /dev/shm";
	if ((rc = tmpfs_at(c, "dev/shm", "1777", ATTR_SAFE | MOUNT_ATTR_NOEXEC)) != 0)
		goto done;
	*c->step = "mount /dev/pts";
	/* Not nodev: the pty nodes live on it. */
	mnt = sandbox_fs_new("devpts", pts_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
	if (mnt < 0) {
		rc = mnt;
		goto done;
	}
	rc = tree_attach(c, mnt, "dev/pts", true);
	close(mnt);
	if (rc != 0)
		goto done;
	*c->step = "/dev links";
	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		if (symlinkat(links[i][1], dev, links[i][0]) != 0) {
			rc = -errno;
			goto done;
		}
	}
	*c->step = "/dev nosuid,noexec";
	if ((rc = tree_setattr(dev, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, true)) != 0)
		goto done;
	/* Nothing may be added to /dev later (shm and pts are their own mounts). */
	*c->step = "remount /dev read-only";
	rc = tree_setattr(dev, MOUNT_ATTR_RDONLY, false);

done:
	close(dev);
	return rc;
}

static int
setup_proc(struct mount_ctx *c)
{
	size_t i;
	int proc, null = -1, t, rc;

	*c->step = "mount /proc";
	proc = sandbox_fs_new("proc", NULL, ATTR_SAFE | MOUNT_ATTR_NOEXEC);
	if (proc < 0)
		return proc;
	if ((rc = tree_attach(c, proc, "proc", true)) != 0)
		goto done;
	/* Each path is bound onto itself (read-only) or covered by /dev/null,
	 * through the fd it was opened as: no second lookup. */
	*c->step = "read-only /proc paths";
	for (i = 0; i < sizeof(proc_readonly) / sizeof(proc_readonly[0]); i++) {
		t = sandbox_openat2(
		    proc, proc_readonly[i], O_PATH, 0, RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH);
		if (t == -ENOENT)
			continue;
		if (t < 0) {
			rc = t;
			goto done;
		}
		rc = bind_onto(t, t, MOUNT_ATTR_RDONLY | ATTR_SAFE | MOUNT_ATTR_NOEXEC);
		close(t);
		if (rc != 0)
			goto done;
	}
	*c->step = "mask /proc files";
	null = sandbox_openat2(c->nr, "dev/null", O_PATH, 0, RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH);
	if (null < 0) {
		rc = null;
		goto done;
	}
	for (i = 0; i < sizeof(proc_masked) / sizeof(proc_masked[0]); i++) {
		struct stat st;

		t = sandbox_openat2(
		    proc, proc_masked[i], O_PATH, 0, RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH);
		if (t < 0)
			continue;
		if (fstat(t, &st) == 0 && S_ISREG(st.st_mode))
			rc = bind_onto(null, t, MOUNT_ATTR_RDONLY | ATTR_SAFE | MOUNT_ATTR_NOEXEC);
		close(t);
		if (rc != 0)
			goto done;
	}

done:
	if (null >= 0)
		close(null);
	close(proc);
	return rc;
}

/* overlayfs: lower = the caller's SRC, upper/work on a private tmpfs that
 * dies with the box.  The tmpfs is staged in the new root and detached
 * again once the overlay holds it (overlayfs keeps its own clone). */
static int
overlay_at(struct mount_ctx *c, int src, const char *dst)
{
	char lower[64];
	const char *opts[] = { "lowerdir", lower, "upperdir", STAGE "/.ovl/upper", "workdir",
		STAGE "/.ovl/work", "userxattr", NULL, NULL };
	int rc, mnt = -1, scratch;

	*c->step = "overlay scratch tmpfs";
	if ((rc = tmpfs_at(c, ".ovl", "0700", ATTR_SAFE)) != 0)
		return rc;
	scratch = sandbox_openat2(
	    c->nr, ".ovl", O_PATH | O_DIRECTORY, 0, RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH);
	if (scratch < 0)
		return scratch;
	if (mkdirat(scratch, "upper", 0755) != 0 || mkdirat(scratch, "work", 0755) != 0) {
		rc = -errno;
		goto done;
	}
	/* The magic link names exactly the directory we opened. */
	snprintf(lower, sizeof(lower), "/proc/self/fd/%d", src);
	*c->step = "mount overlay";
	mnt = sandbox_fs_new("overlay", opts, ATTR_SAFE);
	if (mnt < 0) {
		rc = mnt;
		goto done;
	}
	rc = tree_attach(c, mnt, dst, true);

done:
	close(scratch);
	if (mnt >= 0)
		close(mnt);
	if (umount2(STAGE "/.ovl", MNT_DETACH) != 0 && rc == 0)
		rc = -errno;
	unlinkat(c->nr, ".ovl", AT_REMOVEDIR);
	return rc;
}

static bool
covers_home(const char *dst)
{
	/* "/", "/home", "/home/user" (with or without trailing slash) */
	static const char *const prefixes[] = { "/", "/home", "/home/", "/home/user",
		"/home/user/" };
	size_t i;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strcmp(dst, prefixes[i]) == 0)
			return true;
	return false;
}

static int
setup_user_mounts(struct mount_ctx *c)
{
	const struct sandbox_config *cfg = c->cfg;
	size_t i;
	int rc = 0;

	for (i = 0; i < cfg->nmounts && rc == 0; i++) {
		const struct sandbox_mount *m = &cfg->mounts[i];

		switch (m->kind) {
		case SANDBOX_MOUNT_RO_BIND:
			*c->step = "--ro-bind";
			rc = bind_fd(c, c->src_fds[i], m->dst, MOUNT_ATTR_RDONLY | ATTR_SAFE);
			break;
		case SANDBOX_MOUNT_BIND:
			*c->step = "--bind";
			rc = bind_fd(c, c->src_fds[i], m->dst, ATTR_SAFE);
			break;
		case SANDBOX_MOUNT_TMPFS:
			*c->step = "--tmpfs";
			rc = tmpfs_at(c, m->dst, "0755", ATTR_SAFE);
			break;
		case SANDBOX_MOUNT_OVERLAY:
			rc = overlay_at(c, c->src_fds[i], m->dst);
			break;
		}
	}
	return rc;
}

static int
open_sources(struct mount_ctx *c)
{
	const struct sandbox_config *cfg = c->cfg;
	size_t i;

	for (i = 0; i < cfg->nmounts; i++) {
		const struct sandbox_mount *m = &cfg->mounts[i];

		c->src_fds[i] = -1;
		if (m->src == NULL)
			continue;
		*c->step = m->kind == SANDBOX_MOUNT_OVERLAY ? "--overlay source" : "bind source";
		c->src_fds[i] = host_open(
		    c->host, m->src, O_PATH | (m->kind == SANDBOX_MOUNT_OVERLAY ? O_DIRECTORY : 0));
		if (c->src_fds[i] < 0)
			return c->src_fds[i];
	}
	return 0;
}

/* Closes the pre-opened sources and directory fds of a context. */
static void
mount_ctx_release(struct mount_ctx *c)
{
	size_t i;

	for (i = 0; c->src_fds != NULL && i < c->cfg->nmounts; i++)
		if (c->src_fds[i] >= 0)
			close(c->src_fds[i]);
	free(c->src_fds);
	c->src_fds = NULL;
	if (c->host >= 0)
		close(c->host);
	if (c->nr >= 0)
		close(c->nr);
	c->host = c->nr = -1;
}

/* Sources opened by sandbox_mount_prepare(), used by sandbox_mount_setup(). */
static struct mount_ctx prepared = { NULL, -1, -1, NULL, NULL };

int
sandbox_mount_prepare(const struct sandbox_config *cfg, const char **step)
{
	struct mount_ctx c = { cfg, -1, -1, NULL, step };
	size_t i;
	int rc;

	c.src_fds = calloc(cfg->nmounts + 1, sizeof(int));
	if (c.src_fds == NULL)
		return -ENOMEM;
	for (i = 0; i < cfg->nmounts; i++)
		c.src_fds[i] = -1;
	*step = "make / private";
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
		rc = -errno;
		goto fail;
	}
	*step = "open /";
	c.host = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (c.host < 0) {
		rc = -errno;
		goto fail;
	}
	if ((rc = open_sources(&c)) != 0)
		goto fail;
	prepared = c;
	return 0;
fail:
	mount_ctx_release(&c);
	return rc;
}

int
sandbox_mount_setup(const struct sandbox_config *cfg, const char **step)
{
	struct mount_ctx c;
	bool own_home = false;
	size_t i;
	int rc, root;

	if (prepared.cfg != cfg && (rc = sandbox_mount_prepare(cfg, step)) != 0)
		return rc;
	c = prepared;
	c.step = step;
	for (i = 0; i < cfg->nmounts; i++)
		own_home = own_home || covers_home(cfg->mounts[i].dst);

	*step = "mount root tmpfs";
	root = sandbox_fs_new("tmpfs", (const char *const[]){ "mode", "0755", NULL }, ATTR_SAFE);
	if (root < 0) {
		rc = root;
		goto done;
	}
	rc = move_mount(root, "", AT_FDCWD, STAGE, MOVE_MOUNT_F_EMPTY_PATH) != 0 ? -errno : 0;
	close(root);
	if (rc != 0)
		goto done;
	c.nr = open(STAGE, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (c.nr < 0) {
		rc = -errno;
		goto done;
	}

	if (cfg->rootfs != NULL) {
		/* The image's tree instead of the host's /usr and /etc (rootfs.c). */
		if ((rc = sandbox_rootfs_mount(cfg, c.nr, step)) != 0)
			goto done;
		close(c.nr);
		c.nr = open(STAGE, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (c.nr < 0 || (rc = sandbox_rootfs_etc(cfg, c.nr, step)) != 0) {
			rc = c.nr < 0 ? -errno : rc;
			goto done;
		}
	} else if ((rc = setup_usr(&c)) != 0 || (rc = setup_etc(&c)) != 0)
		goto done;
	if ((rc = setup_dev(&c)) != 0 || (rc = setup_proc(&c)) != 0)
		goto done;
	*step = "mount /tmp";
	if ((rc = tmpfs_at(&c, "tmp", "1777", ATTR_SAFE)) != 0)
		goto done;
	if (!own_home && cfg->rootfs == NULL) {
		*step = "mount /home/user";
		if ((rc = tmpfs_at(&c, "home/user", "0755", ATTR_SAFE)) != 0)
			goto done;
	}
	if ((rc = setup_user_mounts(&c)) != 0)
		goto done;

	/* pivot_root(".", ".") stacks the old root on top of the new one; the
	 * detach then drops the whole host tree from our namespace. */
	*step = "pivot_root";
	if (fchdir(c.nr) != 0 || syscall(SYS_pivot_root, ".", ".") != 0) {
		rc = -errno;
		goto done;
	}
	*step = "detach old root";
	if (umount2(".", MNT_DETACH) != 0 || chdir("/") != 0) {
		rc = -errno;
		goto done;
	}
	/* An image's root stays writable, as in a container (its writes die with
	 * the box); the tmpfs root of a host-/usr box is not. */
	*step = "remount / read-only";
	if (cfg->rootfs == NULL &&
	    mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) !=
	        0)
		rc = -errno;

done:
	mount_ctx_release(&c);
	prepared = (struct mount_ctx){ NULL, -1, -1, NULL, NULL };
	return rc;
}
