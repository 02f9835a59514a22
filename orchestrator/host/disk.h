/* disk.h — the data disk: the filesystem --data lives on, looked at about once a
 * second (disk_check) and whenever a write fails.
 *
 * It is full when what may still be written there (statvfs f_bavail, the free
 * space a process without root's reserve sees) falls under its reserve
 * (DATA/config.yaml `disk: {reserve: SIZE}`, default 2 % of the disk, at least
 * 64 MiB, at most 2 GiB), or its inodes run out. While it is full the hub refuses
 * writes with 507 "the server's disk is full", every app's /data refuses to grow
 * (storage_balance: ENOSPC inside the app, at the write), reads and running apps go
 * on; it recovers by itself once space is freed (above the reserve and an eighth
 * more, so that it does not flap). The reserve is what the daemon's own small
 * writes (its database, logs) and the /data filesystems' metadata have left. All
 * on the main loop. */
#ifndef PODIUM_DISK_H
#define PODIUM_DISK_H

#include <stddef.h>
#include <stdint.h>

#include "common/config.h"

typedef struct disk_info {
	uint64_t size;       /* bytes of the filesystem */
	uint64_t avail;      /* bytes that may still be written (without root's reserve) */
	uint64_t reserve;    /* full under this */
	uint64_t files;      /* inodes that may still be made */
	int full;
	uint64_t refusals;   /* writes answered 507 since the start */
} disk_info;

/* Reads `disk:` of cfg and looks at the disk dir lives on. 0, or -1 with err set
 * (a bad value: the daemon does not start). */
int disk_init(const char *dir, const config *cfg, char *err, size_t errlen);
/* Looks again (statvfs); logs a change of state. Returns disk_full(). */
int disk_check(void);
/* The state of the last look. */
int disk_full(void);
void disk_get(disk_info *out);
/* What a refused write answers: "the server's disk is full: ...". Counts one refusal. */
const char *disk_refusal(char *buf, size_t len);
/* How much the /data filesystems may take from the disk in all now: what may be
 * written above the reserve. */
uint64_t disk_room(void);

#endif
