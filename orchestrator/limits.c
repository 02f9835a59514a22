/* limits.c — the limits: section of the configuration (see limits.h). */
#include "orchestrator/limits.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/yaml.h"

#define GIB (1024ull * 1024 * 1024)

static tenant_limits limits = {
	.spaces_per_user = 100,
	.builds_per_user = 0,
	.build_timeout_s = 20 * 60,
	.build_disk_bytes = 8 * GIB,
	.build_file_bytes = 4 * GIB,
};

const tenant_limits *
limits_get(void)
{
	return &limits;
}

/* A whole number in [min, max] at key k of sec, into *out (absent: unchanged). */
static int
number(const config *c, const json_t *sec, const char *k, uint64_t min, uint64_t max, unsigned *out,
    char *err, size_t errlen)
{
	const json_t *v = json_object_get(sec, k);
	uint64_t n;

	if (v == NULL)
		return 0;
	if (yaml_uint(v, &n) != 0 || n < min || n > max) {
		snprintf(err, errlen,
		    "limits config, line %zu: %s must be a whole number from %llu "
		    "to %llu",
		    config_line(c, v), k, (unsigned long long)min, (unsigned long long)max);
		return -EINVAL;
	}
	*out = (unsigned)n;
	return 0;
}

static int
size(const config *c, const json_t *sec, const char *k, uint64_t min, uint64_t *out, char *err,
    size_t errlen)
{
	const json_t *v = json_object_get(sec, k);

	if (v == NULL)
		return 0;
	if (yaml_size(v, out) != 0 || *out < min) {
		snprintf(err, errlen,
		    "limits config, line %zu: %s must be a size of at least %lluMi "
		    "(e.g. 8Gi)",
		    config_line(c, v), k, (unsigned long long)(min >> 20));
		return -EINVAL;
	}
	return 0;
}

int
limits_load(const config *c, char *err, size_t errlen)
{
	static const char *const keys[] = { "spaces_per_user", "builds_per_user", "build_timeout",
		"build_disk", "build_file" };
	const json_t *sec = config_get(c, "limits"), *v;
	tenant_limits l = limits;
	const char *k;
	size_t i;

	if (sec == NULL)
		goto done;
	if (!json_is_object(sec)) {
		snprintf(err, errlen, "limits config, line %zu: expected a mapping (%s, ...)",
		    config_line(c, sec), keys[0]);
		return -EINVAL;
	}
	json_object_foreach((json_t *)sec, k, v) {
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]) && strcmp(k, keys[i]) != 0; i++)
			;
		if (i == sizeof(keys) / sizeof(keys[0])) {
			snprintf(err, errlen,
			    "limits config, line %zu: unknown key %s (spaces_per_user, "
			    "builds_per_user, build_timeout, build_disk, build_file)",
			    config_line(c, v), k);
			return -EINVAL;
		}
	}
	/* ext4 needs a few MiB for itself; a build needs a minute or so */
	if (number(c, sec, "spaces_per_user", 0, 1000000, &l.spaces_per_user, err, errlen) != 0 ||
	    number(c, sec, "builds_per_user", 0, 1024, &l.builds_per_user, err, errlen) != 0 ||
	    number(c, sec, "build_timeout", 10, 7 * 86400, &l.build_timeout_s, err, errlen) != 0 ||
	    size(c, sec, "build_disk", 32u << 20, &l.build_disk_bytes, err, errlen) != 0 ||
	    size(c, sec, "build_file", 1u << 20, &l.build_file_bytes, err, errlen) != 0)
		return -EINVAL;
done:
	limits = l;
	log_info("tenant limits: %u spaces per user%s, builds per user at a time: %u%s, %u s a "
	         "build, %llu MiB of build disk per space, files up to %llu MiB",
	    l.spaces_per_user, l.spaces_per_user == 0 ? " (no cap)" : "", l.builds_per_user,
	    l.builds_per_user == 0 ? " (half the build slots)" : "", l.build_timeout_s,
	    (unsigned long long)(l.build_disk_bytes >> 20),
	    (unsigned long long)(l.build_file_bytes >> 20));
	return 0;
}
