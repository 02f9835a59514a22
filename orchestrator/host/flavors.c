/* flavors.c — hardware flavors from the daemon's YAML config; see flavors.h. */
#include "orchestrator/host/flavors.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "common/log.h"
#include "common/util.h"

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

/* ---- YAML ---- */

typedef struct parse {
	yaml_document_t *doc;
	char *err;
	size_t errlen;
} parse;

static int __attribute__((format(printf, 3, 4)))
fail(parse *p, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "hardware config, line %lu: %s",
	    n != NULL ? (unsigned long)n->start_mark.line + 1 : 0ul, msg);
	return -EINVAL;
}

static const char *
scalar(const yaml_node_t *n)
{
	return n != NULL && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* The value of key in a mapping node, or NULL. */
static yaml_node_t *
map_get(parse *p, const yaml_node_t *map, const char *key)
{
	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top; pr++) {
		const char *k = scalar(yaml_document_get_node(p->doc, pr->key));

		if (k != NULL && strcmp(k, key) == 0)
			return yaml_document_get_node(p->doc, pr->value);
	}
	return NULL;
}

static int
parse_memory(const char *s, uint64_t *out)
{
	static const struct { const char *suffix; uint64_t mul; } units[] = {
		{ "", 1 }, { "K", 1000 }, { "M", 1000000 }, { "G", 1000000000 },
		{ "Ki", 1024 }, { "Mi", 1024 * 1024 }, { "Gi", GIB },
		{ "T", 1000000000000ull }, { "Ti", 1024 * GIB },
	};
	char *end;
	double v;

	if (s == NULL)
		return -1;
	v = strtod(s, &end);
	if (end == s || v <= 0)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) == 0) {
			*out = (uint64_t)(v * (double)units[i].mul);
			return *out >= (4u << 20) ? 0 : -1; /* below 4 MiB nothing starts */
		}
	}
	return -1;
}

/* {cpu, memory, pids, admin_only} into f (its name already set). */
static int
parse_limits(parse *p, const yaml_node_t *n, flavor *f)
{
	const char *cpu, *mem, *pids, *admin;
	char *end;

	if (n == NULL || n->type != YAML_MAPPING_NODE)
		return fail(p, n, "%s: expected a mapping with cpu, memory, pids", f->name);
	for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
		const char *k = scalar(yaml_document_get_node(p->doc, pr->key));

		if (k == NULL || (strcmp(k, "cpu") != 0 && strcmp(k, "memory") != 0 &&
		    strcmp(k, "pids") != 0 && strcmp(k, "admin_only") != 0))
			return fail(p, yaml_document_get_node(p->doc, pr->key),
			    "%s: unknown key %s (cpu, memory, pids, admin_only)", f->name, k ? k : "?");
	}
	cpu = scalar(map_get(p, n, "cpu"));
	mem = scalar(map_get(p, n, "memory"));
	pids = scalar(map_get(p, n, "pids"));
	admin = scalar(map_get(p, n, "admin_only"));
	if (cpu == NULL || (f->cpus = strtod(cpu, &end)) <= 0 || *end != '\0' || f->cpus > 1024)
		return fail(p, n, "%s: cpu must be a number above 0", f->name);
	if (parse_memory(mem, &f->memory_bytes) != 0)
		return fail(p, n, "%s: memory must be a size of at least 4Mi (e.g. 512Mi, 2Gi)", f->name);
	if (pids == NULL || (f->pids = (unsigned)strtoul(pids, &end, 10)) < 8 || *end != '\0')
		return fail(p, n, "%s: pids must be a whole number of at least 8", f->name);
	f->admin_only = admin != NULL && (strcasecmp(admin, "true") == 0 || strcasecmp(admin, "yes") == 0);
	if (admin != NULL && !f->admin_only && strcasecmp(admin, "false") != 0 && strcasecmp(admin, "no") != 0)
		return fail(p, n, "%s: admin_only must be true or false", f->name);
	return 0;
}

static int
parse_hardware(parse *p, const yaml_node_t *hw, flavor *fl, size_t *nfl, size_t *def, flavor *build)
{
	yaml_node_t *list = map_get(p, hw, "flavors"), *b = map_get(p, hw, "build");
	const char *dname = scalar(map_get(p, hw, "default"));
	int r;

	if (hw->type != YAML_MAPPING_NODE)
		return fail(p, hw, "hardware: expected a mapping (default, build, flavors)");
	if (list != NULL) {
		if (list->type != YAML_MAPPING_NODE)
			return fail(p, list, "flavors: expected a mapping of name to limits");
		*nfl = 0;
		for (yaml_node_pair_t *pr = list->data.mapping.pairs.start; pr < list->data.mapping.pairs.top;
		    pr++) {
			yaml_node_t *kn = yaml_document_get_node(p->doc, pr->key);
			const char *name = scalar(kn);

			if (*nfl >= MAX_FLAVORS)
				return fail(p, kn, "more than %d flavors", MAX_FLAVORS);
			if (name == NULL || name[0] == '\0' || strlen(name) >= sizeof(fl[0].name) ||
			    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-_.") != strlen(name))
				return fail(p, kn, "flavor names are 1-63 of a-z 0-9 - _ .");
			memset(&fl[*nfl], 0, sizeof(fl[0]));
			snprintf(fl[*nfl].name, sizeof(fl[0].name), "%s", name);
			if ((r = parse_limits(p, yaml_document_get_node(p->doc, pr->value), &fl[*nfl])) != 0)
				return r;
			(*nfl)++;
		}
		if (*nfl == 0)
			return fail(p, list, "flavors: at least one is needed");
	}
	*def = 0;
	if (dname != NULL) {
		size_t i;

		for (i = 0; i < *nfl && strcmp(fl[i].name, dname) != 0; i++)
			;
		if (i == *nfl)
			return fail(p, map_get(p, hw, "default"), "default: no flavor named %s", dname);
		*def = i;
	}
	if (b != NULL && (r = parse_limits(p, b, build)) != 0)
		return r;
	return 0;
}

/* storage: {default, tiers: {name: size}} */
static int
parse_storage(parse *p, const yaml_node_t *st, storage_tier *tl, size_t *ntl, size_t *def)
{
	yaml_node_t *list = map_get(p, st, "tiers");
	const char *dname = scalar(map_get(p, st, "default"));

	if (st->type != YAML_MAPPING_NODE)
		return fail(p, st, "storage: expected a mapping (default, tiers)");
	if (list != NULL) {
		if (list->type != YAML_MAPPING_NODE)
			return fail(p, list, "tiers: expected a mapping of name to size");
		*ntl = 0;
		for (yaml_node_pair_t *pr = list->data.mapping.pairs.start; pr < list->data.mapping.pairs.top;
		    pr++) {
			yaml_node_t *kn = yaml_document_get_node(p->doc, pr->key);
			const char *name = scalar(kn);

			if (*ntl >= MAX_TIERS)
				return fail(p, kn, "more than %d storage tiers", MAX_TIERS);
			if (name == NULL || name[0] == '\0' || strlen(name) >= sizeof(tl[0].name) ||
			    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-_.") != strlen(name))
				return fail(p, kn, "tier names are 1-63 of a-z 0-9 - _ .");
			snprintf(tl[*ntl].name, sizeof(tl[0].name), "%s", name);
			/* ext4 needs a few MiB for itself */
			if (parse_memory(scalar(yaml_document_get_node(p->doc, pr->value)),
			    &tl[*ntl].bytes) != 0 || tl[*ntl].bytes < (16u << 20))
				return fail(p, kn, "%s: size must be at least 16Mi (e.g. 1Gi)", name);
			(*ntl)++;
		}
		if (*ntl == 0)
			return fail(p, list, "tiers: at least one is needed");
	}
	*def = 0;
	if (dname != NULL) {
		size_t i;

		for (i = 0; i < *ntl && strcmp(tl[i].name, dname) != 0; i++)
			;
		if (i == *ntl)
			return fail(p, map_get(p, st, "default"), "default: no storage tier named %s", dname);
		*def = i;
	}
	return 0;
}

int
flavors_load(const char *path, char *err, size_t errlen)
{
	flavor fl[MAX_FLAVORS], build = build_limits;
	storage_tier tl[MAX_TIERS];
	size_t nfl = nflavors, def = default_flavor, ntl = ntiers, tdef = default_tier;
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root, *hw, *st;
	parse p = { &doc, err, errlen };
	FILE *f = fopen(path, "rb");
	int r = 0;

	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	memcpy(fl, flavors, sizeof(fl));
	memcpy(tl, tiers, sizeof(tl));
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errlen, "%s, line %lu: %s", path, (unsigned long)parser.problem_mark.line + 1,
		    parser.problem != NULL ? parser.problem : "invalid YAML");
		yaml_parser_delete(&parser);
		fclose(f);
		return -EINVAL;
	}
	root = yaml_document_get_root_node(&doc);
	if (root != NULL && root->type != YAML_MAPPING_NODE)
		r = fail(&p, root, "the config file must be a mapping");
	else if ((hw = map_get(&p, root, "hardware")) != NULL)
		r = parse_hardware(&p, hw, fl, &nfl, &def, &build);
	if (r == 0 && root != NULL && (st = map_get(&p, root, "storage")) != NULL)
		r = parse_storage(&p, st, tl, &ntl, &tdef);
	if (r == 0) {
		memcpy(tiers, tl, sizeof(tl));
		ntiers = ntl;
		default_tier = tdef;
		memcpy(flavors, fl, sizeof(fl));
		nflavors = nfl;
		default_flavor = def;
		build_limits = build;
		log_info("hardware flavors: %s (default %s)", flavor_names(), flavors[def].name);
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	return r;
}
