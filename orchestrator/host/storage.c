/* storage.c — each space's persistent /data is a filesystem of its own, so its
 * size is enforced by the kernel: writing past it fails with ENOSPC inside the
 * app, and the host disk, the daemon and other spaces are untouched.
 *
 * Why an image file and not project quotas: quotas need the data directory's
 * filesystem mounted with prjquota (ext4, xfs), which podium cannot choose on a
 * host it is installed on. A sparse ext4 image per space works on any
 * filesystem that holds files, costs no disk until written, and is one loop
 * device and one mount per space while it is attached.
 *
 * DATA/spacedata/OWNER/NAME.img is made on the app's first start (mkfs.ext4,
 * its root owned by the app's uid) and loop-mounted (LOOP_CONFIGURE with
 * autoclear: the device goes with the mount) on DATA/spacedata/OWNER/NAME,
 * nosuid and nodev. A data directory from before images existed is copied in
 * once. Mounts stay while the daemon runs; it detaches them all when it stops,
 * finds them still mounted after a kill -9 (and uses them), and removes them
 * with the space. A bigger tier grows the image and the filesystem online
 * (resize2fs); a smaller one is refused (data would be lost). */
#include "orchestrator/host/storage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/child.h"
#include "common/log.h"
#include "common/util.h"

/* noinit_itable: the kernel does not zero the inode tables in the background
 * (megabytes per image, written into a sparse file whatever the app does). */
#define MOUNT_OPTS "errors=remount-ro,noinit_itable"

static int grow_offline(const char *img, uint64_t bytes, char *err, size_t errlen);
static void room_add(const char *dir, const char *label);
static void room_forget(const char *dir);

static const char *
tool(const char *name)
{
	static __thread char path[64]; /* attaches run on the loop and in the thread pool */

	snprintf(path, sizeof(path), "/usr/sbin/%s", name);
	if (access(path, X_OK) != 0)
		snprintf(path, sizeof(path), "/sbin/%s", name);
	return path;
}

int
storage_is_attached(const char *dir)
{
	char *parent = xasprintf("%s/..", dir);
	struct stat a, b;
	int r = stat(dir, &a) == 0 && stat(parent, &b) == 0 && a.st_dev != b.st_dev;

	free(parent);
	return r;
}

static int
loop_mount(const char *img, const char *dir, const char *opts, char *err, size_t errlen)
{
	struct loop_config cfg;
	char dev[64];
	int ctl, lfd = -1, ffd = -1, r = -EIO;

	if ((ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "no loop devices here (/dev/loop-control: %s)", strerror(errno));
		return -errno;
	}
	if ((ffd = open(img, O_RDWR | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "%s: %s", img, strerror(errno));
		goto done;
	}
	/* another process may take the free device first: try again */
	for (int tries = 0; tries < 8; tries++) {
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);

		if (n < 0) {
			snprintf(err, errlen, "no free loop device: %s", strerror(errno));
			goto done;
		}
		snprintf(dev, sizeof(dev), "/dev/loop%d", n);
		if ((lfd = open(dev, O_RDWR | O_CLOEXEC)) < 0)
			continue;
		memset(&cfg, 0, sizeof(cfg));
		cfg.fd = (unsigned)ffd;
		cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
		snprintf((char *)cfg.info.lo_file_name, sizeof(cfg.info.lo_file_name), "%s", img);
		if (ioctl(lfd, LOOP_CONFIGURE, &cfg) == 0)
			break;
		close(lfd);
		lfd = -1;
		if (errno != EBUSY) {
			snprintf(err, errlen, "%s: %s", dev, strerror(errno));
			goto done;
		}
	}
	if (lfd < 0) {
		snprintf(err, errlen, "no loop device could be configured");
		goto done;
	}
	if (mount(dev, dir, "ext4", MS_NOSUID | MS_NODEV | MS_NOATIME, opts) != 0) {
		snprintf(err, errlen, "mount %s on %s: %s", dev, dir, strerror(errno));
		goto done;
	}
	r = 0;
done:
	/* autoclear: once unmounted (or never mounted), closing frees the device */
	if (lfd >= 0)
		close(lfd);
	if (ffd >= 0)
		close(ffd);
	close(ctl);
	return r;
}

/* A new, empty ext4 image of bytes, its root owned by uid. */
#define MKFS_TIMEOUT "120"

static int
image_mkfs(const char *img, uint64_t bytes, unsigned uid, const char *label, char *err,
    size_t errlen)
{
	char opts[128], jsize[32];
	int r, fd = open(img, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", img, strerror(errno));
		return -errno;
	}
	if (ftruncate(fd, (off_t)bytes) != 0) {
		snprintf(err, errlen, "%s: %s", img, strerror(errno));
		close(fd);
		unlink(img);
		return -EIO;
	}
	close(fd);
	/* The journal is written out now (not lazily): the kernel writes it behind the
	 * app's back, and a journal write the host disk cannot take aborts the
	 * filesystem. Small (1/256 of the size, 4 to 64 MiB): it is disk every image
	 * holds from the start. */
	snprintf(opts, sizeof(opts), "root_owner=%u:%u,lazy_itable_init=1,lazy_journal_init=0",
	    uid, uid);
	snprintf(jsize, sizeof(jsize), "size=%llu", (unsigned long long)(bytes >> 28 < 4 ? 4 :
	    bytes >> 28 > 64 ? 64 : bytes >> 28));
	/* bounded: mkfs asks every loop device whether it backs img, and one backed by a
	 * hung network filesystem would hold it (and the build or app waiting) for good */
	char *const argv[] = { "/usr/bin/timeout", "-k", "10", MKFS_TIMEOUT, (char *)tool("mkfs.ext4"),
		"-q", "-F", "-m", "0", "-E", opts, "-J", jsize, "-L", (char *)label, (char *)img, NULL };
	if ((r = child_run_argv(argv, CHILD_INHERIT)) != 0) {
		snprintf(err, errlen, "mkfs.ext4 %s failed%s", img, r == 124 || r == 128 + 9 ?
		    " (it took longer than " MKFS_TIMEOUT " s: is a loop device's file unreachable?)" :
		    "");
		unlink(img);
		return -EIO;
	}
	return 0;
}

/* dst, a new file: src's data extents at their offsets, holes as holes (an empty
 * filesystem's image is a few MiB of metadata in a sparse file). */
static int
sparse_copy(const char *src, const char *dst, char *err, size_t errlen)
{
	int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, r = -EIO;
	off_t data = 0, hole, size;
	struct stat st;

	if (in < 0 || fstat(in, &st) != 0 ||
	    (out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		goto done;
	size = st.st_size;
	while (data < size && (data = lseek(in, data, SEEK_DATA)) >= 0) {
		if ((hole = lseek(in, data, SEEK_HOLE)) < 0)
			goto done;
		for (off_t o = data; o < hole;) {
			loff_t a = o, b = o;
			ssize_t n = copy_file_range(in, &a, out, &b, (size_t)(hole - o), 0);

			if (n <= 0)
				goto done;
			o += n;
		}
		data = hole;
	}
	if (ftruncate(out, size) == 0)
		r = 0;
done:
	if (r != 0) {
		snprintf(err, errlen, "copying %s to %s: %s", src, dst, strerror(errno));
		if (out >= 0)
			unlink(dst);
	}
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return r;
}

/* A new image: mkfs'd, or with a template directory a copy of the one empty image
 * of that size kept there (made the first time): no mkfs.ext4 to run on the push
 * that needs it. Copies share their UUID, which nothing here uses. */
static int
image_create(const storage_vol *v, const char *img, const char *label, char *err,
    size_t errlen)
{
	char *tpl, *tmp;
	struct stat st;
	int r = 0;

	if (v->template_dir == NULL)
		return image_mkfs(img, v->bytes, v->uid, label, err, errlen);
	tpl = xasprintf("%s/%s-%u-%llu.img", v->template_dir, label, v->uid,
	    (unsigned long long)v->bytes);
	if (lstat(tpl, &st) != 0) {
		tmp = xasprintf("%s.%d", tpl, (int)getpid());
		fs_mkdir_p(v->template_dir, 0700);
		unlink(tmp);
		if ((r = image_mkfs(tmp, v->bytes, v->uid, label, err, errlen)) == 0 &&
		    rename(tmp, tpl) != 0) {
			snprintf(err, errlen, "%s: %s", tpl, strerror(errno));
			r = -errno;
			unlink(tmp);
		}
		free(tmp);
	}
	if (r == 0)
		r = sparse_copy(tpl, img, err, errlen);
	free(tpl);
	return r;
}

/* Calls fn(path) for every entry of dir but . and ..; returns how many. */
static int
dir_entries(const char *dir, void (*fn)(const char *path))
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d != NULL && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		n++;
		if (fn != NULL) {
			char *path = xasprintf("%s/%s", dir, e->d_name);

			fn(path);
			free(path);
		}
	}
	if (d != NULL)
		closedir(d);
	return n;
}

static void
remove_entry(const char *path)
{
	fs_rm_rf(path);
}

/* What an old plain data directory held goes into the new image. */
static int
migrate(const char *img, const char *dir, char *err, size_t errlen)
{
	char *tmp = xasprintf("%s.migrating", dir), *from = xasprintf("%s/.", dir);
	int r;

	fs_mkdir_p(tmp, 0700);
	if ((r = loop_mount(img, tmp, MOUNT_OPTS, err, errlen)) == 0) {
		char *const cp[] = { "/bin/cp", "-a", from, tmp, NULL };

		r = child_run_argv(cp, CHILD_INHERIT) == 0 ? 0 : -EIO;
		umount2(tmp, MNT_DETACH);
		if (r != 0)
			snprintf(err, errlen, "copying %s into its image failed", dir);
	}
	rmdir(tmp);
	if (r == 0)
		dir_entries(dir, remove_entry); /* the copy is in the image */
	free(tmp);
	free(from);
	return r;
}

/* 1 while /dev/loopN still serves img (some mount of it is left somewhere). */
static int
loop_serves(unsigned n, const char *img)
{
	char path[96], *text = NULL;
	size_t len = 0;
	int r;

	snprintf(path, sizeof(path), "/sys/block/loop%u/loop/backing_file", n);
	if (fs_read_file(path, &text, &len, 4096) != 0)
		return 0;
	while (len > 0 && text[len - 1] == '\n')
		text[--len] = '\0';
	r = strcmp(text, img) == 0;
	free(text);
	return r;
}

/* A grow is pending and the filesystem is mounted: it can be grown offline only
 * once no box holds it any more. Unmounts it here; 0 when the loop device let
 * go (the caller grows and mounts afresh), else it is mounted back as it was
 * (a box still has it: the grow waits for another start). */
static int
reattach(const char *img, const char *dir)
{
	struct stat st;
	unsigned n;
	char dev[64];

	if (stat(dir, &st) != 0 || major(st.st_dev) != 7)
		return -1;
	n = minor(st.st_dev);
	if (umount2(dir, MNT_DETACH) != 0)
		return -1;
	for (int i = 0; i < 50 && loop_serves(n, img); i++)
		usleep(2000);
	if (!loop_serves(n, img))
		return 0;
	snprintf(dev, sizeof(dev), "/dev/loop%u", n);
	if (mount(dev, dir, "ext4", MS_NOSUID | MS_NODEV | MS_NOATIME, MOUNT_OPTS) != 0)
		log_warn("storage: mounting %s back on %s: %s", dev, dir, strerror(errno));
	return -1;
}

/* The loop device still serving img, or -1. A box that just exited may hold
 * the filesystem for a moment (its mounts go when its namespace is torn down). */
static int
loop_of(const char *img)
{
	DIR *d = opendir("/sys/block");
	struct dirent *e;
	unsigned n;
	int found = -1;

	while (d != NULL && found < 0 && (e = readdir(d)) != NULL)
		if (sscanf(e->d_name, "loop%u", &n) == 1 && loop_serves(n, img))
			found = (int)n;
	if (d != NULL)
		closedir(d);
	return found;
}

/* Mounts img on dir. Never through a second loop device while one still serves
 * it (two block devices on one ext4 would read stale data and corrupt it): wait
 * for the old one to let go, else mount that same device (the same superblock). */
static int
mount_image(const char *img, const char *dir, const char *opts, char *err, size_t errlen)
{
	int n = loop_of(img);
	char dev[64];

	for (int i = 0; i < 200 && n >= 0; i++) {
		usleep(10000);
		n = loop_of(img);
	}
	if (n < 0)
		return loop_mount(img, dir, opts, err, errlen);
	snprintf(dev, sizeof(dev), "/dev/loop%d", n);
	if (mount(dev, dir, "ext4", MS_NOSUID | MS_NODEV | MS_NOATIME, opts) != 0) {
		snprintf(err, errlen, "mount %s on %s: %s", dev, dir, strerror(errno));
		return -errno;
	}
	return 0;
}

int
storage_attach(const storage_vol *v, char *err, size_t errlen)
{
	char *img = xasprintf("%s.img", v->dir);
	struct stat st;
	int r = 0;

	if (storage_is_attached(v->dir) && (!storage_pending(v->dir) || reattach(img, v->dir) != 0))
		goto done;
	fs_mkdir_p(v->dir, 0700);
	if (lstat(img, &st) != 0) {
		r = image_create(v, img, v->discard ? "podium-build" : "podium-data", err, errlen);
		if (r == 0 && dir_entries(v->dir, NULL) > 0)
			r = migrate(img, v->dir, err, errlen);
		if (r != 0) {
			unlink(img);
			goto done;
		}
		log_info("space %s: %s is a %llu MiB filesystem (%s)", v->label,
		    v->what != NULL ? v->what : "/data", (unsigned long long)(v->bytes >> 20), img);
	}
	if (storage_pending(v->dir)) {
		/* a bigger tier that could not be applied online */
		char *mark = xasprintf("%s.grow", img);

		if ((r = grow_offline(img, v->bytes, err, errlen)) != 0) {
			free(mark);
			goto done;
		}
		unlink(mark);
		free(mark);
		log_info("space %s: /data grown to %llu MiB", v->label,
		    (unsigned long long)(v->bytes >> 20));
	}
	/* discard: what is deleted in it (old releases) goes back to the host's disk */
	r = mount_image(img, v->dir, v->discard ? MOUNT_OPTS ",discard" : MOUNT_OPTS,
	    err, errlen);
done:
	if (r == 0)
		room_add(v->dir, v->label);
	free(img);
	return r;
}

void
storage_detach(const char *dir)
{
	room_forget(dir);
	if (storage_is_attached(dir) && umount2(dir, MNT_DETACH) != 0)
		log_warn("unmount %s: %s", dir, strerror(errno));
}

void
storage_remove(const char *dir)
{
	char *img = xasprintf("%s.img", dir);
	char *mark = xasprintf("%s.grow", img);

	storage_detach(dir);
	unlink(img);
	unlink(mark);
	free(mark);
	free(img);
}

/* Grows the image file and its filesystem while nothing has it mounted. */
static int
grow_offline(const char *img, uint64_t bytes, char *err, size_t errlen)
{
	char *const check[] = { (char *)tool("e2fsck"), "-f", "-p", (char *)img, NULL };
	char *const grow[] = { (char *)tool("resize2fs"), "-f", (char *)img, NULL };

	if (truncate(img, (off_t)bytes) != 0) {
		snprintf(err, errlen, "growing %s: %s", img, strerror(errno));
		return -EIO;
	}
	/* e2fsck -p exits 1 when it fixed something: resize2fs decides */
	child_run_argv(check, CHILD_INHERIT);
	if (child_run_argv(grow, CHILD_INHERIT) != 0) {
		snprintf(err, errlen, "growing the filesystem in %s failed", img);
		return -EIO;
	}
	return 0;
}

int
storage_pending(const char *dir)
{
	char *mark = xasprintf("%s.img.grow", dir);
	int r = access(mark, F_OK) == 0;

	free(mark);
	return r;
}

int
storage_resize(const storage_vol *v, char *err, size_t errlen)
{
	const char *dir = v->dir;
	char *img = xasprintf("%s.img", dir);
	char *mark = xasprintf("%s.grow", img);
	uint64_t bytes = v->bytes;
	struct stat st, dst;
	char dev[64];
	int r = 0, fd;

	if (lstat(img, &st) != 0)
		goto done;   /* made at the next start, at the new size */
	if ((uint64_t)st.st_size > bytes) {
		snprintf(err, errlen, "/data holds a %llu MiB filesystem: shrinking it to %llu MiB "
		    "could lose data", (unsigned long long)(st.st_size >> 20),
		    (unsigned long long)(bytes >> 20));
		r = -EINVAL;
		goto done;
	}
	if ((uint64_t)st.st_size == bytes && access(mark, F_OK) != 0)
		goto done;
	if (!storage_is_attached(dir)) {
		if ((r = grow_offline(img, bytes, err, errlen)) == 0)
			unlink(mark);
		goto done;
	}
	/* Mounted: grow the file, the loop device, then ext4 online. Online
	 * growing takes CAP_SYS_RESOURCE, which a daemon in a container may lack:
	 * then it waits for the app's next start from stopped (storage_attach). */
	if (stat(dir, &dst) != 0 || major(dst.st_dev) != 7) {
		snprintf(err, errlen, "%s is not on a loop device", dir);
		r = -EIO;
		goto done;
	}
	snprintf(dev, sizeof(dev), "/dev/loop%u", minor(dst.st_dev));
	fs_write_file(mark, "", 0, 0600);
	if (truncate(img, (off_t)bytes) == 0 && (fd = open(dev, O_RDONLY | O_CLOEXEC)) >= 0) {
		int ok = ioctl(fd, LOOP_SET_CAPACITY, 0) == 0;
		char *const grow[] = { (char *)tool("resize2fs"), dev, NULL };

		close(fd);
		if (ok && child_run_argv(grow, CHILD_INHERIT) == 0) {
			unlink(mark);
			log_info("space %s: /data grown to %llu MiB", v->label,
			    (unsigned long long)(bytes >> 20));
			goto done;
		}
	}
	log_info("space %s: /data grows to %llu MiB at the app's next start from stopped "
	    "(growing it online was refused)", v->label,
	    (unsigned long long)(bytes >> 20));
	r = 1;
done:
	free(mark);
	free(img);
	return r;
}

/* ---- the host disk's room, shared out (storage_balance) ---- */

typedef struct vol_room {
	char *dir, *label;
	unsigned loop;          /* /dev/loopN: /sys/fs/ext4/loopN */
	uint64_t resv;          /* reserved clusters last set (0: not yet) */
	uint64_t demand;        /* bytes it may still take from the host disk */
	storage_health h;
	int ro_said;            /* its read-only state was logged */
} vol_room;

static vol_room *vols;
static size_t nvols, capvols;

static vol_room *
room_find(const char *dir)
{
	for (size_t i = 0; i < nvols; i++)
		if (strcmp(vols[i].dir, dir) == 0)
			return &vols[i];
	return NULL;
}

static void
room_add(const char *dir, const char *label)
{
	struct stat st;
	vol_room *v = room_find(dir);

	if (stat(dir, &st) != 0 || major(st.st_dev) != 7)
		return;
	if (v == NULL) {
		if (nvols == capvols) {
			capvols = capvols != 0 ? 2 * capvols : 64;
			vols = xrealloc(vols, capvols * sizeof(*vols));
		}
		v = &vols[nvols++];
		memset(v, 0, sizeof(*v));
		v->dir = xstrdup(dir);
		v->label = xstrdup(label);
	}
	v->loop = minor(st.st_dev);
	v->h.loop = v->loop;
	v->resv = 0;
}

static void
room_forget(const char *dir)
{
	vol_room *v = room_find(dir);

	if (v == NULL)
		return;
	free(v->dir);
	free(v->label);
	*v = vols[--nvols];
}

static uint64_t
sysfs_u64(unsigned loop, const char *file)
{
	char path[96], buf[32];

	snprintf(path, sizeof(path), "/sys/fs/ext4/loop%u/%s", loop, file);
	return fs_read_text(path, buf, sizeof(buf)) > 0 ? strtoull(buf, NULL, 10) : 0;
}

/* Its free space and how much of it the host disk does not hold yet (the image is
 * sparse there): what its app could still take from the disk. -1 when it is not
 * (or no longer) the filesystem it was. */
static int
room_measure(vol_room *v, struct statvfs *fs)
{
	char *img = xasprintf("%s.img", v->dir);
	struct stat st, im;
	uint64_t free_b, unbacked;
	int r = -1;

	if (stat(v->dir, &st) == 0 && major(st.st_dev) == 7 && minor(st.st_dev) == v->loop &&
	    statvfs(v->dir, fs) == 0 && stat(img, &im) == 0) {
		free_b = (uint64_t)fs->f_bfree * fs->f_frsize;
		unbacked = (uint64_t)im.st_size > (uint64_t)im.st_blocks * 512 ?
		    (uint64_t)im.st_size - (uint64_t)im.st_blocks * 512 : 0;
		v->demand = free_b < unbacked ? free_b : unbacked;
		r = 0;
	}
	free(img);
	return r;
}

/* The reserved clusters that leave the app cap bytes of the demand, on top of
 * ext4's own reserve (2 % of the clusters, at most 4096, kept for its metadata). */
static void
room_apply(vol_room *v, const struct statvfs *fs, uint64_t cap)
{
	uint64_t bs = fs->f_frsize, own = fs->f_blocks / 50 < 4096 ? fs->f_blocks / 50 : 4096;
	uint64_t held = v->demand > cap ? v->demand - cap : 0;
	uint64_t resv = own + (held + bs - 1) / bs, free_b = (uint64_t)fs->f_bfree * bs;
	char path[96], val[32];

	if (resv >= fs->f_blocks)
		resv = fs->f_blocks - 1;
	if (resv != v->resv) {
		snprintf(path, sizeof(path), "/sys/fs/ext4/loop%u/reserved_clusters", v->loop);
		snprintf(val, sizeof(val), "%llu", (unsigned long long)resv);
		if (fs_write_text(path, val) == 0)
			v->resv = resv;
		else
			log_warn("storage: %s: cannot set %s: %s", v->label, path, strerror(errno));
	}
	v->h.limited = held > 0;
	v->h.room = free_b > resv * bs ? free_b - resv * bs : 0;
}

/* Errors the filesystem reported, and whether it went read-only: logged once. */
static void
room_errors(vol_room *v, const struct statvfs *fs)
{
	uint64_t n = sysfs_u64(v->loop, "errors_count");

	if (n > v->h.errors)
		error("space %s: its /data (loop%u) reported %llu filesystem error%s: see the "
		    "kernel log (dmesg)", v->label, v->loop, (unsigned long long)n, n == 1 ? "" : "s");
	v->h.errors = n;
	v->h.read_only = (fs->f_flag & ST_RDONLY) != 0;
	if (v->h.read_only && !v->ro_said)
		error("space %s: its /data (loop%u) is read-only after an error: the app's writes "
		    "fail until it is repaired", v->label, v->loop);
	v->ro_said = v->h.read_only;
}

static int
demand_cmp(const void *a, const void *b)
{
	const vol_room *x = *(vol_room *const *)a, *y = *(vol_room *const *)b;

	return x->demand < y->demand ? -1 : x->demand > y->demand;
}

void
storage_balance(uint64_t host_room)
{
	vol_room **order = xcalloc(nvols + 1, sizeof(*order));
	struct statvfs *fs = xcalloc(nvols + 1, sizeof(*fs));
	size_t n = 0, left;

	for (size_t i = 0; i < nvols; i++) {
		vols[i].demand = 0;
		if (room_measure(&vols[i], &fs[i]) == 0)
			order[n++] = &vols[i];
	}
	/* Water-filling: the smallest demands are met whole, the rest share equally
	 * what is left. */
	qsort(order, n, sizeof(*order), demand_cmp);
	left = n;
	for (size_t k = 0; k < n; k++, left--) {
		vol_room *v = order[k];
		uint64_t share = host_room / left, cap = v->demand < share ? v->demand : share;

		host_room -= cap;
		room_apply(v, &fs[v - vols], cap);
		room_errors(v, &fs[v - vols]);
	}
	free(order);
	free(fs);
}

int
storage_health_of(const char *dir, storage_health *out)
{
	vol_room *v = room_find(dir);

	if (v == NULL)
		return -ENOENT;
	*out = v->h;
	return 0;
}
