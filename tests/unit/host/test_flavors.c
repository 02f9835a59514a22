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

#include "orchestrator/host/flavors.h"

static char path[] = "/tmp/podium-flavors-XXXXXX";

static int
load(const char *yaml, char *err, size_t errlen)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(yaml, f);
	fclose(f);
	return flavors_load(path, err, errlen);
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
	assert_int_equal(flavors_load("/nonexistent/config.yaml", err, sizeof(err)), 0);
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

	/* refused, and the flavors before stay */
	static const char *const bad[] = {
		"hardware:\n  flavors:\n    x: {cpu: 1, memory: lots, pids: 64}\n",
		"hardware:\n  flavors:\n    x: {cpu: 0, memory: 1Gi, pids: 64}\n",
		"hardware:\n  flavors:\n    x: {cpu: 1, memory: 1Gi, pids: 64, gpu: 1}\n",
		"hardware:\n  flavors:\n    X Y: {cpu: 1, memory: 1Gi, pids: 64}\n",
		"hardware:\n  default: nope\n  flavors:\n    x: {cpu: 1, memory: 1Gi, pids: 64}\n",
		"hardware:\n  flavors: {}\n",
		"hardware: [1, 2]\n",
		"hardware:\n  flavors:\n    x: {cpu: 1, memory: 1Gi, pids: 64, admin_only: maybe}\n",
		"hardware: {flavors: {x: {cpu: 1\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_not_equal(load(bad[i], err, sizeof(err)), 0);
		assert_true(strstr(err, "line") != NULL);
		assert_string_equal(flavor_default()->name, "big");
	}
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
