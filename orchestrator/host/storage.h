/* storage.h — a persistent /data, or a space's build disk, as a filesystem of its own
 * (a sparse ext4 image, loop-mounted), so the kernel enforces its size; see storage.c.
 * storage_attach, _detach and _remove may run on the loop and in the thread pool at
 * once, for different directories. The caller says
 * where and how big (a storage_vol); nothing here knows what a space is. Calls
 * may block for the few milliseconds a mount or mkfs.ext4 of a sparse image takes. */
#ifndef PODIUM_STORAGE_H
#define PODIUM_STORAGE_H

#include <stddef.h>
#include <stdint.h>

typedef struct storage_vol {
	const char *dir;    /* the mount point; the image is DIR.img */
	const char *label;  /* for log lines ("owner/name") */
	uint64_t bytes;     /* the size its tier gives it */
	unsigned uid;       /* owner of the filesystem's root */
	const char *what;   /* for log lines; NULL: "/data" */
	int discard;        /* mounted with discard: deleted files free the host's disk */
	const char *template_dir; /* images are copies of an empty one kept there (made
	                           * once, without the concurrent attaches of another
	                           * thread); NULL: mkfs.ext4 each time */
} storage_vol;

/* Makes (first time) and mounts the filesystem. 0, or -errno with err set. */
int storage_attach(const storage_vol *v, char *err, size_t errlen);
/* Unmounts it (lazily: a box still holding it keeps it until it exits). */
void storage_detach(const char *dir);
/* Unmounts it and deletes the image (the space is deleted). */
void storage_remove(const char *dir);
/* The tier changed: grows the filesystem (online when mounted). 0 done, 1 when it
 * must wait for the next attach (growing a mounted ext4 needs CAP_SYS_RESOURCE),
 * -EINVAL (err says why) for a smaller size. */
int storage_resize(const storage_vol *v, char *err, size_t errlen);
/* 1 while a grow waits for that attach. */
int storage_pending(const char *dir);
/* 1 when dir is a mount point (its filesystem attached). */
int storage_is_attached(const char *dir);

/* The host disk's room shared out. An image is sparse: what its app writes takes
 * disk only then, so the images of a host may add up to more than its disk (500
 * spaces of 1 GiB on 80 GiB). What each attached /data may still take from the disk
 * is bounded by host_room (what the disk has above its reserve, disk.h), shared
 * fairly (an image that needs less leaves the rest to the others); past its share a
 * write fails with ENOSPC inside the app at once (ext4's reserved clusters of that
 * filesystem, set here), never later when the kernel writes it back (that write
 * would be acknowledged and then lost). Also reads each filesystem's error count
 * and read-only state. Call it about once a second. */
void storage_balance(uint64_t host_room);

typedef struct storage_health {
	uint64_t room;       /* bytes its app may still write */
	int limited;         /* room held back because the host disk is short */
	uint64_t errors;     /* errors the filesystem reported (ext4 errors_count) */
	int read_only;       /* remounted read-only after an error */
	unsigned loop;       /* its /dev/loopN */
} storage_health;
/* 0 and *out for an attached /data (as of the last balance), else -ENOENT. */
int storage_health_of(const char *dir, storage_health *out);

#endif
