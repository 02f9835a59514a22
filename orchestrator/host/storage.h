/* storage.h — a space's /data as a filesystem of its own, sized by its storage
 * tier (flavors.h); see storage.c. All on the main loop; calls may block for
 * the few milliseconds a mount or mkfs.ext4 of a sparse image takes. */
#ifndef PODIUM_STORAGE_H
#define PODIUM_STORAGE_H

#include <stddef.h>
#include <stdint.h>

#include "orchestrator/podium.h"

/* Makes (first time) and mounts the space's /data filesystem. 0, or -errno with
 * err set. */
int storage_attach(podium *p, space *s, char *err, size_t errlen);
/* Unmounts it (lazily: a box still holding it keeps it until it exits). */
void storage_detach(podium *p, space *s);
/* Unmounts it and deletes the image (the space is deleted). */
void storage_remove(podium *p, space *s);
void storage_detach_all(podium *p);
/* The space's tier changed: grows the filesystem (online when mounted). 0 done,
 * 1 when it must wait for the app's next start from stopped (growing a mounted
 * ext4 needs CAP_SYS_RESOURCE), -EINVAL (err says why) for a smaller tier. */
int storage_resize(podium *p, space *s, char *err, size_t errlen);
/* 1 while a grow waits for that start. */
int storage_pending(podium *p, const space *s);
/* The size its tier gives it. */
uint64_t storage_bytes(const space *s);
/* 1 when dir is a mount point (its filesystem attached). */
int storage_is_attached(const char *dir);

#endif
