/* usage.c — a box's cgroup numbers and a data dir's size; see usage.h. */
#include "orchestrator/host/usage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "common/util.h"

#define CG_ROOT "/sys/fs/cgroup"
#define DU_MAX_AGE_MS 5000       /* a measurement is reused this long */
#define DU_MAX_ENTRIES 1000000   /* a walk stops here: a bound, not an answer */

/* ---- small file readers ---- */

/* The first number in dir/file, or -1. */
static int64_t
read_num(const char *dir, const char *file)
{
	char path[4200], buf[64];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (fs_read_text(path, buf, sizeof(buf)) <= 0)
		return -1;
	return strtoll(buf, NULL, 10);
}

/* ---- finding a process's cgroups ---- */

static int
cgroup_v2(void)
{
	static int v = -1;
	struct statfs sf;

	if (v < 0)
		v = statfs(CG_ROOT, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
	return v;
}

/* The directory of pid's cgroup for a v1 controller ("" for v2's unified line),
 * from the text of /proc/PID/cgroup. */
static int
cgroup_dir(const char *text, const char *controller, char *out, size_t len)
{
	const char *line = text;

	while (*line != '\0') {
		size_t n = strcspn(line, "\n");
		const char *c1 = memchr(line, ':', n), *c2;

		if (c1 != NULL && (c2 = memchr(c1 + 1, ':', n - (size_t)(c1 + 1 - line))) != NULL) {
			size_t clen = (size_t)(c2 - c1 - 1);
			const char *path = c2 + 1;
			int plen = (int)(line + n - path);
			char ctrls[256];
			int hit = 0;

			snprintf(ctrls, sizeof(ctrls), "%.*s", (int)clen, c1 + 1);
			if (controller[0] == '\0') {
				hit = clen == 0;
			} else {
				for (char *save, *t = strtok_r(ctrls, ",", &save); t != NULL;
				    t = strtok_r(NULL, ",", &save))
					hit |= strcmp(t, controller) == 0;
				snprintf(ctrls, sizeof(ctrls), "%.*s", (int)clen, c1 + 1);
			}
			if (hit) {
				struct stat st;

				if (controller[0] == '\0') {
					snprintf(out, len, CG_ROOT "%.*s", plen, path);
					return 0;
				}
				/* "cpu,cpuacct" is mounted under that name, or per controller */
				snprintf(out, len, CG_ROOT "/%s%.*s", ctrls, plen, path);
				if (stat(out, &st) == 0)
					return 0;
				snprintf(out, len, CG_ROOT "/%s%.*s", controller, plen, path);
				return stat(out, &st) == 0 ? 0 : -ENOENT;
			}
		}
		line += n + (line[n] == '\n');
	}
	return -ENOENT;
}

/* CPU time of the processes in a cgroup from /proc: their own and their reaped
 * children's (init reaps everything in a box). For v1 hosts where the box has no
 * cpuacct group of its own. */
static double
cpu_from_procs(const char *dir)
{
	char path[4200], stat_buf[1024], *procs = NULL, *line, *save;
	size_t len;
	double ticks = 0, hz = (double)sysconf(_SC_CLK_TCK);

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	if (fs_read_file(path, &procs, &len, 1 << 20) != 0)
		return -1;
	for (line = strtok_r(procs, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long ut, st, cut, cst;
		char *rp;

		snprintf(path, sizeof(path), "/proc/%s/stat", line);
		if (fs_read_text(path, stat_buf, sizeof(stat_buf)) <= 0 ||
		    (rp = strrchr(stat_buf, ')')) == NULL)
			continue;
		/* after "pid (comm)": state is field 3; utime..cstime are 14..17 */
		if (sscanf(rp + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu",
		    &ut, &st, &cut, &cst) == 4)
			ticks += (double)(ut + st + cut + cst);
	}
	free(procs);
	return hz > 0 ? ticks / hz : -1;
}

int
usage_box(int pid, usage_info *out)
{
	char path[64], text[4096], self[4096], dir[4096], own[4200];

	out->cpu_seconds = -1;
	out->memory_bytes = out->memory_peak_bytes = out->processes = -1;
	if (pid <= 0)
		return -ENOENT;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	if (fs_read_text(path, text, sizeof(text)) <= 0)
		return -ENOENT;
	if (cgroup_v2()) {
		char stat_buf[1024], *u;

		if (cgroup_dir(text, "", dir, sizeof(dir)) != 0)
			return -ENOENT;
		out->memory_bytes = read_num(dir, "memory.current");
		out->memory_peak_bytes = read_num(dir, "memory.peak");
		out->processes = read_num(dir, "pids.current");
		snprintf(own, sizeof(own), "%s/cpu.stat", dir);
		if (fs_read_text(own, stat_buf, sizeof(stat_buf)) > 0 &&
		    (u = strstr(stat_buf, "usage_usec ")) != NULL)
			out->cpu_seconds = (double)strtoll(u + 11, NULL, 10) / 1e6;
		return 0;
	}
	if (cgroup_dir(text, "memory", dir, sizeof(dir)) == 0) {
		out->memory_bytes = read_num(dir, "memory.usage_in_bytes");
		out->memory_peak_bytes = read_num(dir, "memory.max_usage_in_bytes");
	}
	if (cgroup_dir(text, "pids", dir, sizeof(dir)) == 0)
		out->processes = read_num(dir, "pids.current");
	/* cpuacct only counts the box when the box has a group of its own there */
	if (cgroup_dir(text, "cpuacct", dir, sizeof(dir)) == 0 &&
	    fs_read_text("/proc/self/cgroup", self, sizeof(self)) > 0 &&
	    cgroup_dir(self, "cpuacct", own, sizeof(own)) == 0 && strcmp(dir, own) != 0) {
		int64_t ns = read_num(dir, "cpuacct.usage");
		out->cpu_seconds = ns >= 0 ? (double)ns / 1e9 : -1;
	} else if (cgroup_dir(text, "pids", dir, sizeof(dir)) == 0 ||
	    cgroup_dir(text, "memory", dir, sizeof(dir)) == 0) {
		out->cpu_seconds = cpu_from_procs(dir);
	}
	return out->memory_bytes >= 0 || out->processes >= 0 ? 0 : -ENOENT;
}

/* ---- data dir sizes ---- */

/* One per directory ever measured; never freed, so a walk in flight can always
 * write its result. */
typedef struct du_entry {
	char *dir;
	int64_t bytes, result;
	uint64_t measured_ms;
	int busy;
	uv_work_t work;
	struct du_entry *next;
} du_entry;

static du_entry *du_entries;

static int64_t
du_walk(int dirfd, long *budget)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *e;
	int64_t sum = 0;

	if (d == NULL) {
		close(dirfd);
		return 0;
	}
	while ((e = readdir(d)) != NULL && --*budget > 0) {
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		sum += (int64_t)st.st_blocks * 512;
		if (S_ISDIR(st.st_mode)) {
			int fd = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (fd >= 0)
				sum += du_walk(fd, budget);
		}
	}
	closedir(d);
	return sum;
}

static void
du_work(uv_work_t *w)
{
	du_entry *e = w->data;
	long budget = DU_MAX_ENTRIES;
	int fd = open(e->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	e->result = fd >= 0 ? du_walk(fd, &budget) : -1;
}

static void
du_done(uv_work_t *w, int status)
{
	du_entry *e = w->data;

	e->busy = 0;
	e->measured_ms = now_ms();
	if (status == 0)
		e->bytes = e->result;
}

int64_t
usage_dir_bytes(uv_loop_t *loop, const char *dir)
{
	du_entry *e;

	for (e = du_entries; e != NULL && strcmp(e->dir, dir) != 0; e = e->next)
		;
	if (e == NULL) {
		e = xcalloc(1, sizeof(*e));
		e->dir = xstrdup(dir);
		e->bytes = -1;
		e->next = du_entries;
		du_entries = e;
	}
	if (!e->busy && (e->measured_ms == 0 || now_ms() - e->measured_ms > DU_MAX_AGE_MS)) {
		e->work.data = e;
		if (uv_queue_work(loop, &e->work, du_work, du_done) == 0)
			e->busy = 1;
	}
	return e->bytes;
}

const double cold_start_bounds_s[COLD_START_BUCKETS - 1] = {
	0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120,
};
