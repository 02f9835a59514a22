/* limits.h — what one tenant may take of the machine, so that it cannot hurt another
 * (issue 21): the `limits:` section of DATA/config.yaml, read once at start.
 *
 *   limits:
 *     spaces_per_user: 100   # spaces a user (not an admin) may own; 0: no cap
 *     builds_per_user: 0     # builds of one owner's spaces running at once
 *                            # (0: half the build slots, at least 1)
 *     build_timeout: 1200    # seconds for a whole build, every step of it
 *     build_disk: 8Gi        # a space's releases and build cache, a filesystem of
 *                            # its own (host/storage.h): ENOSPC past it
 *     build_file: 4Gi        # the largest file a build step may write (RLIMIT_FSIZE)
 *
 * The README's "Security" section says what each one means for a tenant. */
#ifndef PODIUM_LIMITS_H
#define PODIUM_LIMITS_H

#include <stddef.h>
#include <stdint.h>

#include "common/config.h"

typedef struct tenant_limits {
	unsigned spaces_per_user;
	unsigned builds_per_user;
	unsigned build_timeout_s;
	uint64_t build_disk_bytes;
	uint64_t build_file_bytes;
} tenant_limits;

/* Reads config's limits: section (the defaults above without one). 0, or -EINVAL
 * with err naming the line and the key. */
int limits_load(const config *c, char *err, size_t errlen);
/* The limits in force; the defaults before limits_load. */
const tenant_limits *limits_get(void);

#endif
