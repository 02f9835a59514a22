/* flavors.h — hardware flavors (Hub: request_space_hardware): the CPU, memory and
 * process limits an app runs under, and the limits of builds.
 *
 * Built in: cpu-basic (1 CPU, 2 GiB, 512 tasks, the default) and cpu-upgrade
 * (2 CPU, 8 GiB, 1024 tasks); builds 2 CPU, 2 GiB, 512 tasks. The daemon's YAML
 * config file may replace them under its `hardware:` key (other keys belong to
 * other parts of the daemon and are not read here):
 *
 *   hardware:
 *     default: cpu-basic
 *     build: {cpu: 2, memory: 2Gi, pids: 512}
 *     flavors:
 *       cpu-basic:   {cpu: 1, memory: 2Gi, pids: 512}
 *       cpu-upgrade: {cpu: 2, memory: 8Gi, pids: 1024, admin_only: false}
 *
 * memory: bytes, or with a suffix K, M, G (powers of 1000) or Ki, Mi, Gi. */
#ifndef PODIUM_FLAVORS_H
#define PODIUM_FLAVORS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"

typedef struct flavor {
	char name[64];
	double cpus;
	uint64_t memory_bytes;
	unsigned pids;
	int admin_only;        /* only the admin may request it */
} flavor;

/* Reads `hardware:` and `storage:` of the daemon's configuration (common/config.h);
 * without them the built-in flavors and tiers stay. 0, or -EINVAL with err naming
 * the problem and its line (the flavors before stay). Call once at start, before
 * spaces run. */
int flavors_load(const config *config, char *err, size_t errlen);
/* NULL when unknown. */
const flavor *flavor_find(const char *name);
const flavor *flavor_default(void);
const flavor *flavor_build(void);
/* "cpu-basic, cpu-upgrade" (static buffer), for messages. */
const char *flavor_names(void);

/* Storage tiers (Hub: request_space_storage): the size of a space's /data.
 * Built in: basic 1 GiB (the default), small 20 GiB, medium 150 GiB, large 1 TiB;
 * the config's `storage:` key may replace them:
 *
 *   storage:
 *     default: basic
 *     tiers: {basic: 1Gi, small: 20Gi}
 */
typedef struct storage_tier {
	char name[64];
	uint64_t bytes;
} storage_tier;

const storage_tier *storage_tier_find(const char *name); /* NULL when unknown */
const storage_tier *storage_tier_default(void);
const char *storage_tier_names(void);

#endif
