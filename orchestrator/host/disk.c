/* disk.c — the data disk's state (see disk.h). */
#include "orchestrator/host/disk.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "common/log.h"
#include "common/util.h"
#include "common/yaml.h"

#define RESERVE_MIN   (64ull << 20)
#define RESERVE_MAX   (2ull << 30)
#define FILES_MIN     1024        /* inodes: fewer, and it is full */

static struct {
	char *dir;
	uint64_t reserve_set;      /* from the configuration; 0: the default */
	disk_info now;
} disk;

static int
config_reserve(const config *cfg, char *err, size_t errlen)
{
	json_t *d = config_get(cfg, "disk"), *v;
	const char *key;

	if (d != NULL && !json_is_object(d)) {
		snprintf(err, errlen, "config: line %zu: disk must be a mapping (reserve)",
		    config_line(cfg, d));
		return -1;
	}
	json_object_foreach(d, key, v) {
		if (strcmp(key, "reserve") != 0) {
			snprintf(err, errlen, "config: line %zu: unknown key disk.%s (known: reserve)",
			    config_line(cfg, v), key);
			return -1;
		}
		if (yaml_size(v, &disk.reserve_set) != 0) {
			snprintf(err, errlen, "config: line %zu: disk.reserve must be a size (e.g. 1Gi, "
			    "512Mi)", config_line(cfg, v));
			return -1;
		}
	}
	return 0;
}

int
disk_init(const char *dir, const config *cfg, char *err, size_t errlen)
{
	free(disk.dir);
	disk.dir = xstrdup(dir);
	disk.reserve_set = 0;
	memset(&disk.now, 0, sizeof(disk.now));
	if (config_reserve(cfg, err, errlen) != 0)
		return -1;
	disk_check();
	log_info("disk: %s has %llu MiB free of %llu MiB; writes stop %llu MiB before it is full",
	    dir, (unsigned long long)(disk.now.avail >> 20), (unsigned long long)(disk.now.size >> 20),
	    (unsigned long long)(disk.now.reserve >> 20));
	return 0;
}

static uint64_t
reserve_for(uint64_t size)
{
	uint64_t r = size / 50;

	if (disk.reserve_set > 0)
		return disk.reserve_set;
	return r < RESERVE_MIN ? RESERVE_MIN : r > RESERVE_MAX ? RESERVE_MAX : r;
}

int
disk_check(void)
{
	struct statvfs st;
	disk_info *n = &disk.now;
	int was = n->full, full;

	if (disk.dir == NULL || statvfs(disk.dir, &st) != 0)
		return n->full;
	n->size = (uint64_t)st.f_blocks * st.f_frsize;
	n->avail = (uint64_t)st.f_bavail * st.f_frsize;
	n->files = st.f_favail;
	n->reserve = reserve_for(n->size);
	/* back from full only with an eighth of the reserve to spare: no flapping */
	full = n->avail < n->reserve + (was ? n->reserve / 8 : 0) ||
	    (st.f_files > 0 && n->files < FILES_MIN);
	if (full && !was)
		log_warn("disk: the data disk is full: %llu MiB (%llu inodes) free on %s, under its "
		    "reserve of %llu MiB: writes are refused (507), apps' /data refuse to grow "
		    "(ENOSPC), until space is freed", (unsigned long long)(n->avail >> 20),
		    (unsigned long long)n->files, disk.dir, (unsigned long long)(n->reserve >> 20));
	else if (!full && was)
		log_info("disk: space was freed (%llu MiB free on %s): writes are accepted again",
		    (unsigned long long)(n->avail >> 20), disk.dir);
	n->full = full;
	return full;
}

int
disk_full(void)
{
	return disk.now.full;
}

void
disk_get(disk_info *out)
{
	*out = disk.now;
}

uint64_t
disk_room(void)
{
	return disk.now.avail > disk.now.reserve ? disk.now.avail - disk.now.reserve : 0;
}

const char *
disk_refusal(char *buf, size_t len)
{
	disk.now.refusals++;
	snprintf(buf, len, "the server's disk is full (%llu MiB free, under its reserve of %llu "
	    "MiB): nothing new can be stored until space is freed; reads and running apps go on",
	    (unsigned long long)(disk.now.avail >> 20), (unsigned long long)(disk.now.reserve >> 20));
	return buf;
}
