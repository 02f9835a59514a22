/* Unit tests for common/config.c: DATA/config.yaml into a jansson tree,
 * dotted lookups, YAML booleans, the lines of values, and refusals with a
 * message (cmocka). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/config.h"
#include "common/yaml.h"

static char path[64];

static int
load(const char *text, config **out, char *err, size_t errlen)
{
	FILE *f;

	strcpy(path, "/tmp/podium-config-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	int r = config_load(path, out, err, errlen);
	unlink(path);
	return r;
}

static void
test_egress_keys(void **state)
{
	char err[256] = "";
	config *c;
	int b = -1;

	(void)state;
	assert_int_equal(load("egress:\n  enabled: yes\n  deny: [203.0.113.0/24, 192.0.2.0/24]\n", &c, err,
	    sizeof(err)), 0);
	assert_int_equal(yaml_bool(config_get(c, "egress.enabled"), &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(json_array_size(config_get(c, "egress.deny")), 2);
	assert_string_equal(json_string_value(json_array_get(config_get(c, "egress.deny"), 1)), "192.0.2.0/24");
	assert_null(config_get(c, "egress.nothing"));
	assert_null(config_get(c, "egress.enabled.deeper"));
	/* every value knows its line: a mapping's value its key's */
	assert_int_equal(config_line(c, config_get(c, "egress")), 1);
	assert_int_equal(config_line(c, config_get(c, "egress.enabled")), 2);
	assert_int_equal(config_line(c, config_get(c, "egress.deny")), 3);
	assert_int_equal(config_line(c, json_array_get(config_get(c, "egress.deny"), 1)), 3);
	config_free(c);
}

/* Each configuration knows its own lines, whatever is loaded after it. */
static void
test_lines_of_each_config(void **state)
{
	char err[256] = "";
	config *a, *b;
	json_t *v;

	(void)state;
	assert_int_equal(load("x: 1\n\n\ny: {z: [1, 2]}\n", &a, err, sizeof(err)), 0);
	for (int i = 0; i < 50; i++) {
		assert_int_equal(load("\nw: 2\n", &b, err, sizeof(err)), 0);
		assert_int_equal(config_line(b, config_get(b, "w")), 2);
		assert_int_equal(config_line(a, config_get(b, "w")), 0);
		config_free(b);
	}
	v = config_get(a, "y.z");
	assert_int_equal(config_line(a, v), 4);
	assert_int_equal(config_line(a, json_array_get(v, 0)), 4);
	v = json_string("not from a file");
	assert_int_equal(config_line(a, v), 0);
	json_decref(v);
	config_free(a);
}

static void
test_missing_and_empty(void **state)
{
	char err[256] = "";
	config *c;

	(void)state;
	assert_int_equal(config_load("/nonexistent/podium/config.yaml", &c, err, sizeof(err)), 0);
	assert_true(json_is_object(config_get(c, "")) && json_object_size(config_get(c, "")) == 0);
	config_free(c);
	assert_int_equal(load("", &c, err, sizeof(err)), 0);
	assert_true(json_is_object(config_get(c, "")));
	config_free(c);
}

static void
test_refusals(void **state)
{
	char err[256] = "";
	config *c;
	int b;

	(void)state;
	assert_int_not_equal(load("egress: [1\n", &c, err, sizeof(err)), 0);
	assert_null(c);
	assert_non_null(strstr(err, "line"));
	assert_int_not_equal(load("- a list\n", &c, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "mapping"));
	/* alias expansion is bounded: a "billion laughs" file is refused */
	assert_int_not_equal(load("a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
	    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
	    "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n", &c, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "too"));
	assert_null(c);
	json_t *maybe = json_string("maybe");
	assert_int_equal(yaml_bool(maybe, &b), -EINVAL);
	json_decref(maybe);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_egress_keys),
		cmocka_unit_test(test_lines_of_each_config),
		cmocka_unit_test(test_missing_and_empty),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
