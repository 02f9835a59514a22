/* budget.c — the host memory budget and the daemon's descriptor headroom
 * (budget.h). */
#include "orchestrator/host/budget.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

#include "common/util.h"

#define GIB (1ull << 30)
/* auto: the limits may add up to this many times what the host can give apps.
 * A limit is a ceiling, and demo apps idle far below theirs (a python app ~20 MiB
 * of its 2 GiB): an exact budget would stop a 24 GiB host at ten apps. An
 * operator who wants none sets --memory-budget to the bytes themselves. */
#define AUTO_OVERCOMMIT 10

typedef struct reservation {
	int64_t group;
	const void *member;
	uint64_t bytes;
} reservation;

static uint64_t memory_budget;
static reservation *res;
static size_t nres, capres;

static uint64_t
meminfo_total(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[256];
	unsigned long long kb = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return (uint64_t)kb * 1024;
}

uint64_t
budget_auto_reserve(uint64_t total)
{
	return total / 10 > GIB ? total / 10 : GIB;
}

uint64_t
budget_set_memory(uint64_t bytes)
{
	if (bytes == 0) {
		uint64_t total = meminfo_total(), reserve = budget_auto_reserve(total);
		/* A host smaller than the reserve still gets something to say no with. */
		bytes = (total > reserve ? total - reserve : total / 2) * AUTO_OVERCOMMIT;
	}
	memory_budget = bytes;
	return bytes;
}

uint64_t
budget_memory(void)
{
	if (memory_budget == 0)
		budget_set_memory(0);
	return memory_budget;
}

int
budget_parse(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;
	int shift = 0;

	if (strcmp(s, "auto") == 0) {
		*out = 0;
		return 0;
	}
	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -EINVAL;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: return -EINVAL;
	}
	if ((*end == 'i' || *end == 'B') && shift != 0)
		end += *end == 'i' && end[1] == 'B' ? 2 : 1;
	if (*end != '\0' || v == 0 || v > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

/* Each group counts once, at its largest member. */
static uint64_t
committed_without(const void *skip, size_t *groups)
{
	uint64_t sum = 0;
	size_t n = 0;

	for (size_t i = 0; i < nres; i++) {
		int top = res[i].member != skip;

		for (size_t j = 0; j < nres && top; j++) {
			if (j == i || res[j].group != res[i].group || res[j].member == skip)
				continue;
			if (res[j].bytes > res[i].bytes || (res[j].bytes == res[i].bytes && j < i))
				top = 0;
		}
		if (top) {
			sum += res[i].bytes;
			n++;
		}
	}
	if (groups != NULL)
		*groups = n;
	return sum;
}

uint64_t
budget_committed(void)
{
	return committed_without(NULL, NULL);
}

static reservation *
find(const void *member)
{
	for (size_t i = 0; i < nres; i++)
		if (res[i].member == member)
			return &res[i];
	return NULL;
}

static uint64_t
group_max(int64_t group, const void *skip)
{
	uint64_t m = 0;

	for (size_t i = 0; i < nres; i++)
		if (res[i].group == group && res[i].member != skip && res[i].bytes > m)
			m = res[i].bytes;
	return m;
}

uint64_t
budget_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return 1u << 20;
	return (uint64_t)rl.rlim_cur;
}

uint64_t
budget_fds_open(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	uint64_t n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n > 0 ? n - 1 : 0; /* not the directory's own */
}

uint64_t
budget_fd_reserve(uint64_t limit)
{
	return limit / 8 > 32 ? limit / 8 : 32;
}

static char *
gib(uint64_t bytes, char *buf, size_t len)
{
	snprintf(buf, len, "%.1f GiB", (double)bytes / GIB);
	return buf;
}

/* An instance also opens a few short-lived descriptors while it starts (the
 * pid pipe, libuv's exec pipe): count them too. */
#define FDS_WHILE_STARTING 3

static int
check_fds(char *why, size_t whylen)
{
	uint64_t limit = budget_fd_limit(), open = budget_fds_open();
	uint64_t reserve = budget_fd_reserve(limit);

	if (open + BUDGET_FDS_PER_INSTANCE + FDS_WHILE_STARTING + reserve <= limit)
		return 0;
	snprintf(why, whylen, "too many open files in the daemon: %llu of its %llu file descriptors "
	    "are in use and %llu stay free for clients (raise the daemon's limit, ulimit -n)",
	    (unsigned long long)open, (unsigned long long)limit, (unsigned long long)reserve);
	return -EMFILE;
}

int
budget_reserve(int64_t group, const void *member, uint64_t bytes, char *why, size_t whylen)
{
	reservation *r = find(member);
	uint64_t budget = budget_memory(), others, need;
	size_t apps;
	char a[32], b[32], c[32];

	if (check_fds(why, whylen) != 0)
		return -EMFILE;
	/* What the others commit, and what this group would add on top of them. */
	others = committed_without(member, &apps);
	need = bytes > group_max(group, member) ? bytes - group_max(group, member) : 0;
	if (others + need > budget) {
		snprintf(why, whylen, "not enough memory on this host: the app may use %s and %s of "
		    "the %s memory budget are committed to %zu other app%s (podium serve --memory-budget)",
		    gib(bytes, a, sizeof(a)), gib(others, b, sizeof(b)), gib(budget, c, sizeof(c)),
		    apps, apps == 1 ? "" : "s");
		return -ENOMEM;
	}
	if (r == NULL) {
		if (nres == capres) {
			capres = capres ? capres * 2 : 16;
			res = xrealloc(res, capres * sizeof(*res));
		}
		r = &res[nres++];
		r->member = member;
	}
	r->group = group;
	r->bytes = bytes;
	return 0;
}

void
budget_release(const void *member)
{
	reservation *r = find(member);

	if (r == NULL)
		return;
	*r = res[--nres];
}

json_t *
budget_json(void)
{
	size_t apps;
	uint64_t committed = committed_without(NULL, &apps);

	return json_pack("{s:I, s:I, s:I, s:I, s:I}",
	    "memoryBudget", (json_int_t)budget_memory(),
	    "memoryCommitted", (json_int_t)committed,
	    "apps", (json_int_t)apps,
	    "fdLimit", (json_int_t)budget_fd_limit(),
	    "fdOpen", (json_int_t)budget_fds_open());
}

json_t *
budget_runtime_json(uint64_t limit)
{
	return json_pack("{s:I, s:I, s:I}",
	    "memoryLimit", (json_int_t)limit,
	    "hostMemoryBudget", (json_int_t)budget_memory(),
	    "hostMemoryCommitted", (json_int_t)budget_committed());
}
