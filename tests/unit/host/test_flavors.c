/* orchestrator/host/flavors.c: the hardware: key of the daemon's YAML config. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "orchestrator/host/flavors.h"

static char path[] = "/tmp/podium-flavors-XXXXXX";

/* DATA/config.yaml read as the daemon does (config_load), then its keys. */
static int
load_file(const char *file, char *err, size_t errlen)
{
	config *cfg;
	int r = config_load(file, &cfg, err, errlen);

	if (r != 0)
		return r;
	r = flavors_load(cfg, err, errlen);
	config_free(cfg);
	return r;
}

static int
load(const char *yaml, char *err, size_t errlen)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(yaml, f);
	fclose(f);
	return load_file(path, err, errlen);
}

static void
test_flavors(void **state)
{
	char err[512] = "";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	/* built in */
	assert_int_equal(load_file("/nonexistent/config.yaml", err, sizeof(err)), 0);
	assert_string_equal(flavor_default()->name, "cpu-basic");
	assert_int_equal(flavor_find("cpu-upgrade")->memory_bytes, 8ull << 30);
	assert_null(flavor_find("gpu"));

	/* configured; other keys are someone else's */
	assert_int_equal(load("egress: {allow: [example.org]}\n"
	    "hardware:\n  default: big\n  build: {cpu: 1.5, memory: 3G, pids: 100}\n"
	    "  flavors:\n    small: {cpu: 0.5, memory: 256Mi, pids: 32}\n"
	    "    big: {cpu: 4, memory: 16Gi, pids: 2048, admin_only: true}\n", err, sizeof(err)), 0);
	assert_string_equal(flavor_default()->name, "big");
	assert_true(flavor_default()->admin_only);
	assert_int_equal(flavor_find("small")->memory_bytes, 256ull << 20);
	assert_int_equal(flavor_find("small")->pids, 32);
	assert_true(flavor_find("small")->cpus == 0.5);
	assert_null(flavor_find("cpu-basic"));
	assert_int_equal(flavor_build()->memory_bytes, 3000000000ull);
	assert_string_equal(flavor_names(), "small, big");

	/* refused, naming the line, and the flavors before stay */
	static const struct {
		const char *yaml, *line;
	} bad[] = {
		{ "hardware:\n  flavors:\n    x: {cpu: 1, memory: lots, pids: 64}\n", "line 3:" },
		{ "hardware:\n  flavors:\n    x: {cpu: 0, memory: 1Gi, pids: 64}\n", "line 3:" },
		{ "hardware:\n  flavors:\n    x: {cpu: 1, memory: 1Gi, pids: 64, gpu: 1}\n", "line 3:" },
		{ "hardware:\n  flavors:\n    X Y: {cpu: 1, memory: 1Gi, pids: 64}\n", "line 3:" },
		{ "hardware:\n  default: nope\n  flavors:\n    x: {cpu: 1, memory: 1Gi, pids: 64}\n",
		    "line 2:" },
		{ "hardware:\n  flavors: {}\n", "line 2:" },
		{ "hardware: [1, 2]\n", "line 1:" },
		{ "hardware:\n  flavors:\n    x:\n      cpu: 1\n      memory: 1Gi\n"
		  "      pids: 64\n      admin_only: maybe\n", "line 3:" },
		{ "hardware: {flavors: {x: {cpu: 1\n", "line 2:" },
		{ "storage:\n  tiers:\n    tiny: 1Mi\n", "line 3:" },
		{ "storage:\n  default: huge\n", "line 2:" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_not_equal(load(bad[i].yaml, err, sizeof(err)), 0);
		if (strstr(err, bad[i].line) == NULL)
			fail_msg("%s: \"%s\" does not name %s", bad[i].yaml, err, bad[i].line);
		assert_string_equal(flavor_default()->name, "big");
	}
	/* storage tiers */
	assert_int_equal(load("storage:\n  default: b\n  tiers: {a: 16Mi, b: 1.5Gi}\n", err,
	    sizeof(err)), 0);
	assert_string_equal(storage_tier_default()->name, "b");
	assert_int_equal(storage_tier_find("a")->bytes, 16ull << 20);
	assert_int_equal(storage_tier_find("b")->bytes, 3ull << 29);
	assert_string_equal(storage_tier_names(), "a, b");
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flavors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
