/* usage.h — what an app's box uses right now: CPU, memory and processes from its
 * box's cgroups (v1 or v2, detected at runtime), bytes on its /data from the
 * filesystem (measured in the thread pool, cached). Runs on the main loop. */
#ifndef PODIUM_USAGE_H
#define PODIUM_USAGE_H

#include <jansson.h>
#include <stdint.h>
#include <uv.h>


/* Cold starts of a space's app: instance start to its port answering. */
#define COLD_START_BUCKETS 11
extern const double cold_start_bounds_s[COLD_START_BUCKETS - 1];
typedef struct cold_starts {
	uint64_t count[COLD_START_BUCKETS];  /* per bucket, not cumulative; last: above all */
	uint64_t n;
	double sum_s;
} cold_starts;

typedef struct usage_info {
	double cpu_seconds;          /* < 0: unknown */
	int64_t memory_bytes;        /* -1: unknown (also for the fields below) */
	int64_t memory_peak_bytes;
	int64_t processes;           /* tasks in the box (pids.current) */
} usage_info;

/* The box whose init has host pid `pid`, found through /proc/PID/cgroup.
 * 0, or -errno when the process or its cgroups are gone. */
int usage_box(int pid, usage_info *out);

/* Bytes used under dir (st_blocks, like du), from the last measurement; one in
 * the thread pool is started when that is older than a few seconds. -1 before
 * the first has finished. */
int64_t usage_dir_bytes(uv_loop_t *loop, const char *dir);

#endif
