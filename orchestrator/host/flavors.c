/* flavors.c — hardware flavors and storage tiers from the daemon's configuration
 * (DATA/config.yaml, read once at start); see flavors.h. */
#include "orchestrator/host/flavors.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "common/log.h"
#include "common/yaml.h"

#define MAX_FLAVORS 32
#define GIB (1024ull * 1024 * 1024)

static flavor flavors[MAX_FLAVORS] = {
	{ "cpu-basic", 1.0, 2 * GIB, 512, 0 },
	{ "cpu-upgrade", 2.0, 8 * GIB, 1024, 0 },
};
static size_t nflavors = 2;
static size_t default_flavor;
static flavor build_limits = { "build", 2.0, 2 * GIB, 512, 0 };

#define MAX_TIERS 16
static storage_tier tiers[MAX_TIERS] = {
	{ "basic", 1 * GIB }, { "small", 20 * GIB }, { "medium", 150 * GIB }, { "large", 1024 * GIB },
};
static size_t ntiers = 4;
static size_t default_tier;

const storage_tier *
storage_tier_find(const char *name)
{
	for (size_t i = 0; name != NULL && i < ntiers; i++)
		if (strcmp(tiers[i].name, name) == 0)
			return &tiers[i];
	return NULL;
}

const storage_tier *
storage_tier_default(void)
{
	return &tiers[default_tier];
}

const char *
storage_tier_names(void)
{
	static char buf[MAX_TIERS * 66];
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ntiers; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? ", " : "", tiers[i].name);
	return buf;
}

const flavor *
flavor_find(const char *name)
{
	for (size_t i = 0; name != NULL && i < nflavors; i++)
		if (strcmp(flavors[i].name, name) == 0)
			return &flavors[i];
	return NULL;
}

const flavor *
flavor_default(void)
{
	return &flavors[default_flavor];
}

const flavor *
flavor_build(void)
{
	return &build_limits;
}

const char *
flavor_names(void)
{
	static char buf[MAX_FLAVORS * 66];
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < nflavors; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? ", " : "", flavors[i].name);
	return buf;
}

/* ---- the configuration's hardware: and storage: keys ---- */

typedef struct parse {
	const config *c;
	char *err;
	size_t errlen;
} parse;

/* err = "hardware config, line N: ...", N where v is in DATA/config.yaml. */
static int __attribute__((format(printf, 3, 4)))
fail(parse *p, const json_t *v, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "hardware config, line %zu: %s", config_line(p->c, v), msg);
	return -EINVAL;
}

static int
name_ok(const char *name, size_t max)
{
	return name[0] != '\0' && strlen(name) < max &&
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-_.") == strlen(name);
}

/* {cpu, memory, pids, admin_only} into f (its name already set). */
static int
parse_limits(parse *p, const json_t *n, flavor *f)
{
	const json_t *admin, *v;
	const char *k;
	uint64_t pids;

	if (!json_is_object(n))
		return fail(p, n, "%s: expected a mapping with cpu, memory, pids", f->name);
	json_object_foreach((json_t *)n, k, v) {
		if (strcmp(k, "cpu") != 0 && strcmp(k, "memory") != 0 && strcmp(k, "pids") != 0 &&
		    strcmp(k, "admin_only") != 0)
			return fail(p, v, "%s: unknown key %s (cpu, memory, pids, admin_only)",
			    f->name, k);
	}
	if (yaml_number(json_object_get(n, "cpu"), &f->cpus) != 0 || f->cpus <= 0 ||
	    f->cpus > 1024)
		return fail(p, n, "%s: cpu must be a number above 0", f->name);
	/* below 4 MiB nothing starts */
	if (yaml_size(json_object_get(n, "memory"), &f->memory_bytes) != 0 ||
	    f->memory_bytes < (4u << 20))
		return fail(p, n, "%s: memory must be a size of at least 4Mi (e.g. 512Mi, 2Gi)",
		    f->name);
	if (yaml_uint(json_object_get(n, "pids"), &pids) != 0 || pids < 8 || pids > UINT_MAX)
		return fail(p, n, "%s: pids must be a whole number of at least 8", f->name);
	f->pids = (unsigned)pids;
	f->admin_only = 0;
	if ((admin = json_object_get(n, "admin_only")) != NULL && yaml_bool(admin, &f->admin_only) != 0)
		return fail(p, n, "%s: admin_only must be true or false", f->name);
	return 0;
}

/* The index of the entry named by a default: key in names (n of them, each stride
 * bytes apart), 0 without one, -1 when it names none. */
static long
default_index(const json_t *dflt, const char *names, size_t n, size_t stride)
{
	const char *want = json_string_value(dflt);
	size_t i;

	if (want == NULL)
		return 0;
	for (i = 0; i < n; i++)
		if (strcmp(names + i * stride, want) == 0)
			return (long)i;
	return -1;
}

static int
parse_hardware(parse *p, const json_t *hw, flavor *fl, size_t *nfl, size_t *def, flavor *build)
{
	const json_t *list, *b, *dflt, *v;
	const char *name;
	long i;
	int r;

	if (!json_is_object(hw))
		return fail(p, hw, "hardware: expected a mapping (default, build, flavors)");
	list = json_object_get(hw, "flavors");
	b = json_object_get(hw, "build");
	dflt = json_object_get(hw, "default");
	if (list != NULL) {
		if (!json_is_object(list))
			return fail(p, list, "flavors: expected a mapping of name to limits");
		*nfl = 0;
		json_object_foreach((json_t *)list, name, v) {
			if (*nfl >= MAX_FLAVORS)
				return fail(p, v, "more than %d flavors", MAX_FLAVORS);
			if (!name_ok(name, sizeof(fl[0].name)))
				return fail(p, v, "flavor names are 1-63 of a-z 0-9 - _ .");
			memset(&fl[*nfl], 0, sizeof(fl[0]));
			snprintf(fl[*nfl].name, sizeof(fl[0].name), "%s", name);
			if ((r = parse_limits(p, v, &fl[*nfl])) != 0)
				return r;
			(*nfl)++;
		}
		if (*nfl == 0)
			return fail(p, list, "flavors: at least one is needed");
	}
	if ((i = default_index(dflt, fl[0].name, *nfl, sizeof(fl[0]))) < 0)
		return fail(p, dflt, "default: no flavor named %s", json_string_value(dflt));
	*def = (size_t)i;
	if (b != NULL && (r = parse_limits(p, b, build)) != 0)
		return r;
	return 0;
}

/* storage: {default, tiers: {name: size}} */
static int
parse_storage(parse *p, const json_t *st, storage_tier *tl, size_t *ntl, size_t *def)
{
	const json_t *list, *dflt, *v;
	const char *name;
	long i;

	if (!json_is_object(st))
		return fail(p, st, "storage: expected a mapping (default, tiers)");
	list = json_object_get(st, "tiers");
	dflt = json_object_get(st, "default");
	if (list != NULL) {
		if (!json_is_object(list))
			return fail(p, list, "tiers: expected a mapping of name to size");
		*ntl = 0;
		json_object_foreach((json_t *)list, name, v) {
			if (*ntl >= MAX_TIERS)
				return fail(p, v, "more than %d storage tiers", MAX_TIERS);
			if (!name_ok(name, sizeof(tl[0].name)))
				return fail(p, v, "tier names are 1-63 of a-z 0-9 - _ .");
			snprintf(tl[*ntl].name, sizeof(tl[0].name), "%s", name);
			/* ext4 needs a few MiB for itself */
			if (yaml_size(v, &tl[*ntl].bytes) != 0 || tl[*ntl].bytes < (16u << 20))
				return fail(p, v, "%s: size must be at least 16Mi (e.g. 1Gi)", name);
			(*ntl)++;
		}
		if (*ntl == 0)
			return fail(p, list, "tiers: at least one is needed");
	}
	if ((i = default_index(dflt, tl[0].name, *ntl, sizeof(tl[0]))) < 0)
		return fail(p, dflt, "default: no storage tier named %s", json_string_value(dflt));
	*def = (size_t)i;
	return 0;
}

int
flavors_load(const config *config, char *err, size_t errlen)
{
	flavor fl[MAX_FLAVORS], build = build_limits;
	storage_tier tl[MAX_TIERS];
	size_t nfl = nflavors, def = default_flavor, ntl = ntiers, tdef = default_tier;
	const json_t *hw = config_get(config, "hardware"), *st = config_get(config, "storage");
	parse p = { config, err, errlen };
	int r = 0;

	memcpy(fl, flavors, sizeof(fl));
	memcpy(tl, tiers, sizeof(tl));
	if (hw != NULL)
		r = parse_hardware(&p, hw, fl, &nfl, &def, &build);
	if (r == 0 && st != NULL)
		r = parse_storage(&p, st, tl, &ntl, &tdef);
	if (r != 0)
		return r;
	memcpy(tiers, tl, sizeof(tl));
	ntiers = ntl;
	default_tier = tdef;
	memcpy(flavors, fl, sizeof(fl));
	nflavors = nfl;
	default_flavor = def;
	build_limits = build;
	log_info("hardware flavors: %s (default %s)", flavor_names(), flavors[def].name);
	return 0;
}
