/*
 * --rootfs: an image's root filesystem as the box's root, so an app built
 * from a Dockerfile (or on a Python the host lacks) runs in the same box as
 * any other: namespaces, seccomp, cgroups, its netns, /data.
 *
 * The layers are directories on the host's disk (containers/storage's
 * overlay "diff" dirs, top first) whose files belong to the build id range:
 * on-disk id rootfs_ids + k is id k of the image.  Before the box exists the
 * launcher clones each layer as a detached, read-only mount idmapped through
 * a throwaway user namespace whose map sends rootfs_ids + k where the box's
 * own map sends k (k = the app's uid → the box's host uid, the others → the
 * --id-range), so in the box the files show their image owners while on the
 * host nothing gets a new owner and nothing is copied.
 *
 * Init then stacks the layers under a tmpfs upper (--tmpfs-size) into an
 * overlay mounted over its staging root: the image's root is writable as in
 * a container, and its writes die with the box.  Needs idmapped mounts as
 * overlay lowers (Linux 5.19).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "sandbox/sandbox.h"

#define MAX_LAYERS 128
#define INSIDE_IDS 65536
#define NO_LINKS (RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH)

static int layer_fds[MAX_LAYERS];
static size_t nlayers;

size_t
sandbox_rootfs_fds(const int **fds)
{
	*fds = layer_fds;
	return nlayers;
}

/* The map of one kind of id of the idmapping: on-disk base + k → where the box
 * maps its id k (inside: the app's id → host; the others → the --id-range). */
static void
idmap_text(char *buf, size_t len, unsigned base, unsigned inside, unsigned host, unsigned range)
{
	snprintf(buf, len, "%u %u %u\n%u %u 1\n%u %u %u\n", base, range, inside, base + inside,
	    host, base + inside + 1, range + inside + 1, INSIDE_IDS - inside - 1);
}

/* A user namespace (held by a child that only waits) with the idmapping; its fd. */
static int
idmap_userns(const struct sandbox_config *cfg, const char **step)
{
	char map[256], path[64], byte = 0;
	int ready[2], rc, fd = -1;
	pid_t holder;

	*step = "rootfs: id map holder";
	if (pipe2(ready, O_CLOEXEC) != 0)
		return -errno;
	holder = fork();
	if (holder == 0) {
		close(ready[0]);
		byte = unshare(CLONE_NEWUSER) == 0 ? 'u' : 'x';
		if (write(ready[1], &byte, 1) == 1)
			pause(); /* killed once its namespace is open */
		_exit(0);
	}
	close(ready[1]);
	rc = holder < 0 ? -errno : 0;
	if (rc == 0 && (read(ready[0], &byte, 1) != 1 || byte != 'u'))
		rc = -EPERM;
	close(ready[0]);
	if (rc == 0) {
		*step = "rootfs: write the layers' uid map";
		idmap_text(
		    map, sizeof(map), cfg->rootfs_ids, cfg->uid, cfg->host_uid, cfg->id_range);
		snprintf(path, sizeof(path), "/proc/%d/uid_map", holder);
		rc = fs_write_text(path, map);
	}
	if (rc == 0) {
		*step = "rootfs: write the layers' gid map";
		idmap_text(
		    map, sizeof(map), cfg->rootfs_ids, cfg->gid, cfg->host_gid, cfg->id_range);
		snprintf(path, sizeof(path), "/proc/%d/gid_map", holder);
		rc = fs_write_text(path, map);
	}
	if (rc == 0) {
		snprintf(path, sizeof(path), "/proc/%d/ns/user", holder);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			rc = -errno;
	}
	if (holder > 0) {
		kill(holder, SIGKILL);
		waitpid(holder, NULL, 0);
	}
	return rc != 0 ? rc : fd;
}

/* A read-only, idmapped, detached clone of the layer directory path. */
static int
layer_clone(const char *path, int userns)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_RDONLY |
		    MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
		.userns_fd = (uint64_t)userns };
	int fd = (int)syscall(SYS_open_tree, AT_FDCWD, path,
	    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT);

	if (fd < 0)
		return -errno;
	if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) != 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

int
sandbox_rootfs_open(const struct sandbox_config *cfg, const char **step)
{
	char *list, *save = NULL, *dir;
	int userns, fd, rc = 0;

	if (cfg->rootfs == NULL)
		return 0;
	if ((userns = idmap_userns(cfg, step)) < 0)
		return userns;
	list = strdup(cfg->rootfs);
	if (list == NULL)
		rc = -ENOMEM;
	for (dir = list != NULL ? strtok_r(list, ":", &save) : NULL; dir != NULL && rc == 0;
	     dir = strtok_r(NULL, ":", &save)) {
		*step = "rootfs: idmapped layer (needs Linux 5.19)";
		if (nlayers == MAX_LAYERS)
			rc = -E2BIG;
		else if ((fd = layer_clone(dir, userns)) < 0)
			rc = fd;
		else
			layer_fds[nlayers++] = fd;
	}
	if (rc == 0 && nlayers == 0)
		rc = -EINVAL;
	free(list);
	close(userns);
	return rc;
}

/* An empty directory name below dir, owned by inside root. */
static int
mkdir_root(int dir, const char *name, mode_t mode)
{
	if (mkdirat(dir, name, mode) != 0 && errno != EEXIST)
		return -errno;
	return fchownat(dir, name, 0, 0, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : -errno;
}

/* The scratch tmpfs (upper and work dirs) in stage/w, the layers at stage/0..N. */
static int
rootfs_stage(const struct sandbox_config *cfg, int stage, const char **step)
{
	char size[24], name[24];
	const char *opts[] = { "mode", "0755", "uid", "0", "gid", "0", NULL, NULL, NULL };
	int mnt, rc;
	size_t i;

	if (cfg->tmpfs_size > 0) {
		snprintf(size, sizeof(size), "%llu", (unsigned long long)cfg->tmpfs_size);
		opts[6] = "size";
		opts[7] = size;
	}
	*step = "rootfs: scratch tmpfs";
	if ((mnt = sandbox_fs_new("tmpfs", opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)) < 0)
		return mnt;
	rc = mkdirat(stage, "w", 0700) != 0 ? -errno : 0;
	if (rc == 0 && move_mount(mnt, "", stage, "w", MOVE_MOUNT_F_EMPTY_PATH) != 0)
		rc = -errno;
	close(mnt);
	/* The upper's root is the image's "/": root's, as in a container. */
	if (rc == 0 &&
	    ((rc = mkdir_root(stage, "w/upper", 0755)) != 0 ||
	        (rc = mkdir_root(stage, "w/work", 0700)) != 0))
		return rc;
	*step = "rootfs: attach a layer";
	for (i = 0; i < nlayers && rc == 0; i++) {
		snprintf(name, sizeof(name), "%zu", i);
		if (mkdirat(stage, name, 0755) != 0 ||
		    move_mount(layer_fds[i], "", stage, name, MOVE_MOUNT_F_EMPTY_PATH) != 0)
			rc = -errno;
	}
	return rc;
}

int
sandbox_rootfs_mount(const struct sandbox_config *cfg, int stage, const char **step)
{
	/* Relative to the stage (our cwd while mounting): "0:1:...:N" keeps the
	 * option short (fsconfig takes 256 bytes) for up to a hundred layers. */
	char lower[256];
	const char *opts[] = { "lowerdir", lower, "upperdir", "w/upper", "workdir", "w/work",
		"userxattr", NULL, NULL };
	size_t i, n = 0;
	int rc, mnt;

	if ((rc = rootfs_stage(cfg, stage, step)) != 0)
		return rc;
	for (i = 0; i < nlayers; i++) {
		n += (size_t)snprintf(lower + n, sizeof(lower) - n, "%s%zu", i ? ":" : "", i);
		if (n >= sizeof(lower))
			return -E2BIG;
	}
	*step = "rootfs: mount the overlay";
	if (fchdir(stage) != 0)
		return -errno;
	mnt = sandbox_fs_new("overlay", opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	if (mnt < 0)
		return mnt;
	/* Over the staging tmpfs: the overlay is the root to be. */
	rc = move_mount(mnt, "", stage, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0
	    ? -errno
	    : 0;
	close(mnt);
	for (i = 0; i < nlayers; i++)
		close(layer_fds[i]);
	nlayers = 0;
	return rc;
}

/* Replaces the image's etc/name (a file or a link) with data, root's. */
static int
etc_replace(int etc, const char *name, const char *data, size_t len)
{
	int rc;

	if (unlinkat(etc, name, 0) != 0 && errno != ENOENT)
		return -errno;
	if ((rc = sandbox_write_at(etc, name, data, len, 0644)) != 0)
		return rc;
	return fchownat(etc, name, 0, 0, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : -errno;
}

/* 1 when etc/file (passwd, group) has an entry of id (its third field). */
static int
etc_has_id(int etc, const char *file, unsigned id)
{
	char buf[65536], want[24], *line, *save = NULL;
	int fd = sandbox_openat2(etc, file, O_RDONLY, 0, NO_LINKS), found = 0;
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	snprintf(want, sizeof(want), ":%u:", id);
	for (line = strtok_r(buf, "\n", &save); line != NULL && !found;
	     line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':');

		colon = colon != NULL ? strchr(colon + 1, ':') : NULL;
		found = colon != NULL && strncmp(colon, want, strlen(want)) == 0;
	}
	return found;
}

/* Appends line to etc/file (created, root's, when missing). */
static int
etc_append(int etc, const char *file, const char *line)
{
	int fd = sandbox_openat2(etc, file, O_WRONLY | O_APPEND | O_CREAT, 0644, NO_LINKS);
	ssize_t len = (ssize_t)strlen(line);
	int rc = 0;

	if (fd < 0)
		return fd;
	if (write(fd, line, (size_t)len) != len)
		rc = -errno;
	close(fd);
	return rc;
}

/* The app's user in passwd and group (the Hub runs every app as uid 1000; an
 * image that names it keeps its own entry), and its home. */
static int
rootfs_user(const struct sandbox_config *cfg, int root, int etc)
{
	char line[128];
	int rc = 0;

	if (!etc_has_id(etc, "passwd", cfg->uid)) {
		snprintf(
		    line, sizeof(line), "user:x:%u:%u::/home/user:/bin/sh\n", cfg->uid, cfg->gid);
		rc = etc_append(etc, "passwd", line);
	}
	if (rc == 0 && !etc_has_id(etc, "group", cfg->gid)) {
		snprintf(line, sizeof(line), "user:x:%u:\n", cfg->gid);
		rc = etc_append(etc, "group", line);
	}
	if (rc != 0 || faccessat(root, "home/user", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return rc;
	if ((rc = mkdir_root(root, "home", 0755)) != 0)
		return rc;
	if (mkdirat(root, "home/user", 0755) != 0 ||
	    fchownat(root, "home/user", cfg->uid, cfg->gid, AT_SYMLINK_NOFOLLOW) != 0)
		return -errno;
	return 0;
}

int
sandbox_rootfs_etc(const struct sandbox_config *cfg, int root, const char **step)
{
	char buf[512], gw[INET_ADDRSTRLEN];
	int etc, n, rc = 0;

	*step = "rootfs: /etc";
	if ((rc = mkdir_root(root, "etc", 0755)) != 0)
		return rc;
	if ((etc = sandbox_openat2(root, "etc", O_PATH | O_DIRECTORY, 0, NO_LINKS)) < 0)
		return etc;
	*step = "rootfs: /etc/hosts";
	n = snprintf(buf, sizeof(buf),
	    "127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n",
	    cfg->hostname);
	rc = etc_replace(etc, "hosts", buf, (size_t)n);
	n = snprintf(buf, sizeof(buf), "%s\n", cfg->hostname);
	if (rc == 0)
		rc = etc_replace(etc, "hostname", buf, (size_t)n);
	/* veth: the daemon answers DNS on the gateway; none: there is no DNS */
	*step = "rootfs: /etc/resolv.conf";
	inet_ntop(AF_INET, &cfg->net_gateway, gw, sizeof(gw));
	n = cfg->net == SANDBOX_NET_VETH ? snprintf(buf, sizeof(buf), "nameserver %s\n", gw) : 0;
	if (rc == 0 && cfg->net != SANDBOX_NET_HOST)
		rc = etc_replace(etc, "resolv.conf", buf, (size_t)n);
	*step = "rootfs: the app's user";
	if (rc == 0)
		rc = rootfs_user(cfg, root, etc);
	close(etc);
	return rc;
}
