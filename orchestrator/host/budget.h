/* budget.h — what the host can give apps: memory and the daemon's descriptors.
 *
 * Memory: every app instance runs under a memory limit (its cgroup). The sum of
 * those limits is the daemon's commitment; an instance whose limit would take it
 * past the host budget is not started (no overcommit, so the OOM killer never has
 * to choose between apps, or pick the daemon). The instances of one space (the
 * serving one and the one starting to replace it, for a moment) share one
 * commitment: the largest of their limits.
 *
 * Descriptors: an instance costs the daemon a few (instance.c); it is not started
 * when that would leave fewer than a reserve for clients, the hub and builds, so
 * the hub keeps answering when there are more apps than descriptors.
 *
 * One budget per process (the host has one memory), touched only on the main
 * loop, like the list of spaces.
 */
#ifndef PODIUM_BUDGET_H
#define PODIUM_BUDGET_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Descriptors one running instance holds in the daemon: its output and status
 * pipes, its log and its network namespace (instance.c), and the namespace again
 * in its route (routes.c). Idle upstream connections come on top (proxy). */
#define BUDGET_FDS_PER_INSTANCE 5

/* Sets the host memory budget in bytes; 0 means "auto": MemTotal minus a reserve
 * for the daemon, builds and the system (budget_auto_reserve). Returns the
 * budget in effect. */
uint64_t budget_set_memory(uint64_t bytes);
uint64_t budget_memory(void);
uint64_t budget_committed(void);
/* max(1 GiB, a tenth of total). */
uint64_t budget_auto_reserve(uint64_t total);
/* Parses "auto" (0) or a byte count with an optional K/M/G/T suffix (powers of
 * 1024). 0 or -EINVAL. */
int budget_parse(const char *s, uint64_t *out);

/* Commits bytes for member (an instance of space group). Calling it again for
 * the same member replaces its amount. 0, or -ENOMEM (memory budget) or -EMFILE
 * (descriptors) with why set to a message for the user that names the numbers. */
int budget_reserve(int64_t group, const void *member, uint64_t bytes, char *why, size_t whylen);
/* Gives member's commitment back; nothing if it has none. */
void budget_release(const void *member);

/* The daemon's descriptor limit (soft) and how many it has open now. */
uint64_t budget_fd_limit(void);
uint64_t budget_fds_open(void);
/* Descriptors kept free for clients, the hub and builds. */
uint64_t budget_fd_reserve(uint64_t limit);

/* {"memoryBudget", "memoryCommitted", "apps", "fdLimit", "fdOpen"} (new reference). */
json_t *budget_json(void);
/* For the runtime JSON of an app whose instances run under limit bytes. */
json_t *budget_runtime_json(uint64_t limit);

#endif
