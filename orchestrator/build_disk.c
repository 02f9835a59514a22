/* build_disk.c — a space's build disk (issue 21.1): its releases and its build cache
 * live on a filesystem of its own (host/storage.h), mounted on DATA/releases/OWNER/NAME
 * from NAME.img next to it, limits.build_disk in size. Whatever a build writes there
 * (dependencies, app_build_command's output, the cache) and whatever the kept releases
 * hold is bounded by the kernel: past it a write fails with ENOSPC, and the host's disk,
 * the daemon and other tenants are untouched. Mounted with discard, so a pruned release
 * gives its blocks back to the host.
 *
 * Made (mkfs, ~50 ms) and mounted when first needed, off the loop when a push starts
 * (space_builds_prepare: the receive-pack overlaps it) and before each build; on the
 * loop (a mount, ~15 ms) where a release must be there at once: a static release
 * switched to, an app started, a rollback. Detached at daemon stop with /data, removed
 * with the space. A host without loop devices keeps plain directories (said once). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "orchestrator/host/storage.h"
#include "orchestrator/limits.h"
#include "orchestrator/space_int.h"

/* Attaches and removes of build disks, on the loop and in the pool, one at a time;
 * closed once the daemon stops (an attach still queued then mounts nothing). */
static uv_mutex_t lock;
static uv_once_t lock_once = UV_ONCE_INIT;
static int closed;

static void
lock_init(void)
{
	uv_mutex_init(&lock);
}

static int
loops_here(void)
{
	static int said;

	if (access("/dev/loop-control", F_OK) == 0)
		return 1;
	if (!said)
		log_warn("no loop devices (/dev/loop-control): build disks are plain directories, "
		         "not bounded by limits.build_disk");
	said = 1;
	return 0;
}

/* Any thread. dir and label are the caller's. New disks are copies of one empty
 * image (storage.h) in DATA/releases/.templates: no mkfs.ext4 on a push. */
static int
attach(const char *dir, const char *label, uint64_t bytes, char *err, size_t errlen)
{
	storage_vol v = { .dir = dir,
		.label = label,
		.bytes = bytes,
		.uid = 0,
		.what = "its build disk",
		.discard = 1 };
	char *tpl = xasprintf("%s/../../.templates", dir);
	uint64_t t0 = now_ms();
	int r = 0;

	v.template_dir = tpl;
	uv_once(&lock_once, lock_init);
	uv_mutex_lock(&lock);
	if (closed) {
		snprintf(err, errlen, "the daemon is stopping");
		r = -ECANCELED;
	} else if (!loops_here())
		fs_mkdir_p(dir, 0700);
	else if ((r = storage_attach(&v, err, errlen)) == 0)
		chmod(dir, 0700); /* the filesystem's root: the daemon's only */
	uv_mutex_unlock(&lock);
	log_info(
	    "space %s: build disk attached in %llu ms", label, (unsigned long long)(now_ms() - t0));
	free(tpl);
	return r;
}

static char *
label_of(const space *s)
{
	return xasprintf("%s/%s", s->row.owner, s->row.name);
}

/* The build cache lived in DATA/cache/OWNER/NAME before it counted: gone once the
 * disk is there (its next build fills the new one). */
static void
old_cache_drop(const space *s)
{
	char *old = xasprintf("%s/cache/%s/%s", s->p->data_dir, s->row.owner, s->row.name);
	struct stat st;

	if (lstat(old, &st) == 0)
		fs_rm_rf(old);
	free(old);
}

int
space_builds_attach(space *s, char *err, size_t errlen)
{
	char *dir = space_releases_dir(s->p, s), *label = NULL;
	int r = 0;

	if (!storage_is_attached(dir)) {
		label = label_of(s);
		r = attach(dir, label, limits_get()->build_disk_bytes, err, errlen);
		if (r == 0)
			old_cache_drop(s);
	}
	free(dir);
	free(label);
	return r;
}

int
space_builds_attached(const space *s)
{
	char *dir = space_releases_dir(s->p, s);
	int r = storage_is_attached(dir) || !loops_here();

	free(dir);
	return r;
}

typedef struct disk_work {
	uv_work_t work;
	char *dir, *label;
	uint64_t bytes;
	int r;
	char err[512];
	space_builds_cb done;
	void *arg;
} disk_work;

static void
disk_work_run(uv_work_t *w)
{
	disk_work *d = w->data;

	d->r = attach(d->dir, d->label, d->bytes, d->err, sizeof(d->err));
}

static void
disk_work_done(uv_work_t *w, int status)
{
	disk_work *d = w->data;

	if (status != 0 && d->r == 0) {
		d->r = status;
		snprintf(d->err, sizeof(d->err), "%s", uv_strerror(status));
	}
	if (d->r != 0 && d->done == NULL)
		log_warn("space %s: build disk: %s", d->label, d->err);
	if (d->done != NULL)
		d->done(d->arg, d->r, d->err);
	free(d->dir);
	free(d->label);
	free(d);
}

void
space_builds_attach_async(space *s, space_builds_cb done, void *arg)
{
	disk_work *d;
	int r;

	if (space_builds_attached(s)) {
		if (done != NULL)
			done(arg, 0, "");
		return;
	}
	d = xcalloc(1, sizeof(*d));
	d->dir = space_releases_dir(s->p, s);
	d->label = label_of(s);
	d->bytes = limits_get()->build_disk_bytes;
	d->done = done;
	d->arg = arg;
	d->work.data = d;
	old_cache_drop(s);
	if ((r = uv_queue_work(s->p->loop, &d->work, disk_work_run, disk_work_done)) != 0) {
		d->r = 0;
		disk_work_done(&d->work, r);
	}
}

void
space_builds_prepare(space *s)
{
	space_builds_attach_async(s, NULL, NULL);
}

void
space_builds_remove(space *s)
{
	char *dir = space_releases_dir(s->p, s);

	uv_once(&lock_once, lock_init);
	uv_mutex_lock(&lock); /* an attach in the pool finishes first */
	storage_remove(dir);
	uv_mutex_unlock(&lock);
	free(dir);
}

void
spaces_builds_detach(podium *p)
{
	uv_once(&lock_once, lock_init);
	uv_mutex_lock(&lock);
	closed = 1;
	for (space *s = p->spaces; s != NULL; s = space_next(s)) {
		char *dir = space_releases_dir(p, s);

		storage_detach(dir);
		free(dir);
	}
	uv_mutex_unlock(&lock);
}
