/*
 * Resource limits through cgroups, v1 or v2, detected at runtime.
 *
 * A box gets its own cgroup below the launcher's own cgroup (per
 * controller on v1), named podium-sandbox.<launcher pid>, created while
 * init builds the box's filesystem and removed after the box is gone.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "sandbox/sandbox.h"

#define CG_ROOT "/sys/fs/cgroup"

enum {
	CG_MEMORY,
	CG_PIDS,
	CG_CPU,
	CG_COUNT
};
static const char *const v1_names[CG_COUNT] = { "memory", "pids", "cpu" };

static int
cg_write(const char *dir, const char *file, const char *val)
{
	char path[8192];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return fs_write_text(path, val);
}

static ssize_t
cg_read(const char *dir, const char *file, char *buf, size_t len)
{
	char path[8192];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return fs_read_text(path, buf, len);
}

/* /proc/self/cgroup, read once per launcher. */
static int
read_self_cgroups(char *buf, size_t len)
{
	ssize_t n = cg_read("/proc/self", "cgroup", buf, len);

	if (n < 0)
		return (int)n;
	return (size_t)n < len - 1 ? 0 : -E2BIG;
}

/* Our own cgroup path for a v1 controller ("" for v2's unified line), from
 * the text of /proc/self/cgroup. */
static int
self_cgroup(const char *text, const char *controller, char *out, size_t len)
{
	char line[4096];
	int rc = -ENOENT;

	while (*text != '\0') {
		size_t n = strcspn(text, "\n");
		char *ctrls, *path, *tok, *save = NULL;

		snprintf(line, sizeof(line), "%.*s", (int)n, text);
		text += n + (text[n] == '\n');
		ctrls = strchr(line, ':');
		if (ctrls == NULL || (path = strchr(++ctrls, ':')) == NULL)
			continue;
		*path++ = '\0';
		if (*controller == '\0') {
			if (*ctrls == '\0') {
				snprintf(out, len, "%s", path);
				rc = 0;
			}
			continue;
		}
		for (tok = strtok_r(ctrls, ",", &save); tok != NULL;
		     tok = strtok_r(NULL, ",", &save)) {
			if (strcmp(tok, controller) == 0) {
				snprintf(out, len, "%s", path);
				rc = 0;
			}
		}
	}
	return rc;
}

/* A launcher killed with SIGKILL cannot remove its cgroup; the next one
 * removes empty leftovers whose launcher pid is gone. */
static void
remove_stale(const char *parent)
{
	char path[8300];
	struct dirent *de;
	DIR *d = opendir(parent);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		long pid;
		char *end;

		if (strncmp(de->d_name, "podium-sandbox.", 15) != 0)
			continue;
		pid = strtol(de->d_name + 15, &end, 10);
		if (*end != '\0' || pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		if (snprintf(path, sizeof(path), "%s/%.64s", parent, de->d_name) <
		    (int)sizeof(path))
			rmdir(path); /* EBUSY if something still runs there: leave it */
	}
	closedir(d);
}

void
sandbox_cgroup_remove_stale(const struct sandbox_cgroup *cg)
{
	char parent[8192];
	int i;

	for (i = 0; i < CG_COUNT; i++) {
		char *slash;

		if (cg->paths[i] == NULL)
			continue;
		snprintf(parent, sizeof(parent), "%s", cg->paths[i]);
		slash = strrchr(parent, '/');
		if (slash != NULL && slash != parent) {
			*slash = '\0';
			remove_stale(parent);
		}
	}
}

static int
make_dir(struct sandbox_cgroup *cg, int slot, const char *base, const char *self)
{
	char path[8192];

	snprintf(path, sizeof(path), "%s%s/podium-sandbox.%d", base,
	    strcmp(self, "/") == 0 ? "" : self, (int)getpid());
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		return -errno;
	cg->paths[slot] = strdup(path);
	return cg->paths[slot] != NULL ? 0 : -ENOMEM;
}

static int
create_v1(struct sandbox_cgroup *cg, const struct sandbox_config *cfg)
{
	char text[8192], self[4096], base[256], val[64];
	bool want[CG_COUNT] = { cfg->memory != 0, cfg->pids != 0, cfg->cpus > 0 };
	int i, rc;

	if ((rc = read_self_cgroups(text, sizeof(text))) != 0)
		return rc;
	for (i = 0; i < CG_COUNT; i++) {
		if (!want[i])
			continue;
		if ((rc = self_cgroup(text, v1_names[i], self, sizeof(self))) != 0)
			return rc;
		snprintf(base, sizeof(base), CG_ROOT "/%s", v1_names[i]);
		if ((rc = make_dir(cg, i, base, self)) != 0)
			return rc;
	}
	if (want[CG_MEMORY]) {
		snprintf(val, sizeof(val), "%llu", (unsigned long long)cfg->memory);
		if ((rc = cg_write(cg->paths[CG_MEMORY], "memory.limit_in_bytes", val)) != 0)
			return rc;
		/* No escape into swap; absent when swap accounting is off. */
		rc = cg_write(cg->paths[CG_MEMORY], "memory.memsw.limit_in_bytes", val);
		if (rc != 0 && rc != -ENOENT)
			return rc;
	}
	if (want[CG_PIDS]) {
		snprintf(val, sizeof(val), "%llu", (unsigned long long)cfg->pids);
		if ((rc = cg_write(cg->paths[CG_PIDS], "pids.max", val)) != 0)
			return rc;
	}
	if (want[CG_CPU]) {
		snprintf(val, sizeof(val), "%lld", (long long)(cfg->cpus * 100000 + 0.5));
		if ((rc = cg_write(cg->paths[CG_CPU], "cpu.cfs_period_us", "100000")) != 0 ||
		    (rc = cg_write(cg->paths[CG_CPU], "cpu.cfs_quota_us", val)) != 0)
			return rc;
	}
	return 0;
}

/* Is word one of the space-separated words of text? */
static bool
has_word(const char *text, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = text; (p = strstr(p, word)) != NULL; p += n)
		if ((p == text || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

/*
 * v2 forbids "internal processes": a cgroup that holds processes cannot
 * enable controllers for its children (the root excepted).  The launcher
 * sits in its caller's cgroup (the daemon's service, a login session), which
 * holds processes, so the box goes next to it: into the parent, with the
 * controllers it needs enabled there.  A launcher in the root cgroup (or at
 * the root of a cgroup namespace) puts the box below the root.
 */
static int
create_v2(struct sandbox_cgroup *cg, const struct sandbox_config *cfg)
{
	static const char *const names[CG_COUNT] = { "memory", "pids", "cpu" };
	bool want[CG_COUNT] = { cfg->memory != 0, cfg->pids != 0, cfg->cpus > 0 };
	char text[8192], self[4096], parent[4200], have[1024], val[64];
	char *slash;
	int i, rc;

	if ((rc = read_self_cgroups(text, sizeof(text))) != 0 ||
	    (rc = self_cgroup(text, "", self, sizeof(self))) != 0)
		return rc;
	/* The parent of our cgroup: "/a/b" -> "/a"; "/a" and "/" -> the root. */
	slash = strrchr(self, '/');
	if (slash != NULL)
		*slash = '\0';
	else
		self[0] = '\0';
	snprintf(parent, sizeof(parent), CG_ROOT "%s", self);
	if (cg_read(parent, "cgroup.subtree_control", have, sizeof(have)) < 0)
		have[0] = '\0';
	for (i = 0; i < CG_COUNT; i++) {
		char ctl[16];

		if (!want[i] || has_word(have, names[i]))
			continue;
		snprintf(ctl, sizeof(ctl), "+%s", names[i]);
		if ((rc = cg_write(parent, "cgroup.subtree_control", ctl)) != 0) {
			char avail[1024];

			if (cg_read(parent, "cgroup.controllers", avail, sizeof(avail)) < 0)
				avail[0] = '\0';
			avail[strcspn(avail, "\n")] = '\0';
			fprintf(stderr,
			    "podium-sandbox: cgroup v2: cannot enable the %s controller in %s: %s "
			    "(available there: %s)%s\n",
			    names[i], parent, strerror(-rc), avail[0] != '\0' ? avail : "none",
			    rc == -EBUSY
			        ? "; that cgroup holds processes: start the launcher from a "
			          "leaf cgroup whose parent it may manage"
			        : "");
			return rc;
		}
	}
	if ((rc = make_dir(cg, 0, parent, "/")) != 0)
		return rc;
	if (cfg->memory != 0) {
		snprintf(val, sizeof(val), "%llu", (unsigned long long)cfg->memory);
		if ((rc = cg_write(cg->paths[0], "memory.max", val)) != 0)
			return rc;
		cg_write(cg->paths[0], "memory.swap.max", "0"); /* absent without swap accounting */
	}
	if (cfg->pids != 0) {
		snprintf(val, sizeof(val), "%llu", (unsigned long long)cfg->pids);
		if ((rc = cg_write(cg->paths[0], "pids.max", val)) != 0)
			return rc;
	}
	if (cfg->cpus > 0) {
		snprintf(val, sizeof(val), "%lld 100000", (long long)(cfg->cpus * 100000 + 0.5));
		if ((rc = cg_write(cg->paths[0], "cpu.max", val)) != 0)
			return rc;
	}
	return 0;
}

int
sandbox_cgroup_create(struct sandbox_cgroup *cg, const struct sandbox_config *cfg)
{
	struct statfs sfs;
	int rc;

	memset(cg, 0, sizeof(*cg));
	if (statfs(CG_ROOT, &sfs) != 0)
		return -errno;
	cg->version = sfs.f_type == CGROUP2_SUPER_MAGIC ? 2 : 1;
	rc = cg->version == 2 ? create_v2(cg, cfg) : create_v1(cg, cfg);
	if (rc != 0)
		sandbox_cgroup_destroy(cg);
	return rc;
}

int
sandbox_cgroup_attach(const struct sandbox_cgroup *cg, pid_t pid)
{
	char val[32];
	int i, rc;

	snprintf(val, sizeof(val), "%d", (int)pid);
	for (i = 0; i < CG_COUNT; i++) {
		if (cg->paths[i] != NULL && (rc = cg_write(cg->paths[i], "cgroup.procs", val)) != 0)
			return rc;
	}
	return 0;
}

static long long
find_counter(const char *text, const char *key)
{
	size_t klen = strlen(key);
	const char *p = text;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, key, klen) == 0 && p[klen] == ' ')
			return atoll(p + klen + 1);
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return 0;
}

bool
sandbox_cgroup_oom_killed(const struct sandbox_cgroup *cg)
{
	char buf[1024];
	const char *dir = cg->version == 2 ? cg->paths[0] : cg->paths[CG_MEMORY];
	const char *file = cg->version == 2 ? "memory.events" : "memory.oom_control";

	if (dir == NULL || cg_read(dir, file, buf, sizeof(buf)) <= 0)
		return false;
	return find_counter(buf, "oom_kill") > 0;
}

/* Processes of a dead pid namespace take a moment to leave the cgroup;
 * kill whatever is left and retry for up to ~1s. */
static void
remove_dir(const char *dir)
{
	struct timespec ts = { 0, 2 * 1000 * 1000 };
	char buf[4096];
	int tries;

	for (tries = 0; tries < 500; tries++) {
		if (rmdir(dir) == 0 || errno == ENOENT)
			return;
		if (errno != EBUSY)
			return;
		if (cg_read(dir, "cgroup.procs", buf, sizeof(buf)) > 0) {
			char *p = buf;
			while (*p != '\0') {
				pid_t pid = (pid_t)strtol(p, &p, 10);
				if (pid > 0)
					kill(pid, SIGKILL);
				while (*p == '\n')
					p++;
			}
		}
		nanosleep(&ts, NULL);
	}
}

void
sandbox_cgroup_destroy(struct sandbox_cgroup *cg)
{
	int i;

	for (i = 0; i < CG_COUNT; i++) {
		if (cg->paths[i] == NULL)
			continue;
		remove_dir(cg->paths[i]);
		free(cg->paths[i]);
		cg->paths[i] = NULL;
	}
	cg->version = 0;
}
