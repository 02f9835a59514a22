/* Unit tests for common/yaml.c: strings or YAML 1.1 types, the line of each value,
 * errors that name the line, and the checks of scalars (cmocka). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "common/yaml.h"

static char err[512];

static json_t *
load(const char *text, int typed, yaml_lines **lines)
{
	const yaml_opts o = { .what = "test.yaml", .first_line = 10, .typed = typed,
		.not_mapping = "want a mapping" };
	json_t *out = (json_t *)0x1;

	if (yaml_load(text, strlen(text), &o, &out, lines, err, sizeof(err)) != 0) {
		assert_null(out);
		return NULL;
	}
	return out;
}

static void
test_strings_or_typed(void **state)
{
	const char *doc = "a: 1\nb: yes\nc: ~\nd: \"2\"\ne: 1.5\n";
	json_t *t;

	(void)state;
	t = load(doc, 0, NULL);
	assert_non_null(t);
	assert_string_equal(json_string_value(json_object_get(t, "a")), "1");
	assert_string_equal(json_string_value(json_object_get(t, "b")), "yes");
	assert_string_equal(json_string_value(json_object_get(t, "c")), "~");
	json_decref(t);
	t = load(doc, 1, NULL);
	assert_int_equal(json_integer_value(json_object_get(t, "a")), 1);
	assert_true(json_is_true(json_object_get(t, "b")));
	assert_true(json_is_null(json_object_get(t, "c")));
	assert_string_equal(json_string_value(json_object_get(t, "d")), "2");
	assert_true(json_is_real(json_object_get(t, "e")));
	json_decref(t);
	t = load("", 0, NULL);
	assert_true(json_is_object(t) && json_object_size(t) == 0);
	json_decref(t);
}

static void
test_lines(void **state)
{
	yaml_lines *l;
	json_t *t, *m;

	(void)state;
	t = load("a: x\n\nm:\n  k: [p, q]\n  n:\n    - r\n", 1, &l);
	assert_non_null(t);
	m = json_object_get(t, "m");
	/* the first line is line 10; a mapping's value has its key's line */
	assert_int_equal(yaml_line(l, json_object_get(t, "a")), 10);
	assert_int_equal(yaml_line(l, m), 12);
	assert_int_equal(yaml_line(l, json_object_get(m, "k")), 13);
	assert_int_equal(yaml_line(l, json_array_get(json_object_get(m, "k"), 1)), 13);
	assert_int_equal(yaml_line(l, json_array_get(json_object_get(m, "n"), 0)), 15);
	assert_int_equal(yaml_line(l, t), 10);
	assert_int_equal(yaml_line(NULL, t), 0);
	yaml_lines_free(l);
	json_decref(t);
}

static void
test_errors_name_the_line(void **state)
{
	yaml_lines *l = (yaml_lines *)0x1;

	(void)state;
	assert_null(load("a: 1\nb: [x\n", 0, &l));
	assert_null(l);
	assert_string_equal(err, "test.yaml: line 12: did not find expected ',' or ']' while parsing a "
	    "flow sequence");
	assert_null(load("\n- a\n- b\n", 0, NULL));
	assert_string_equal(err, "test.yaml: line 11: want a mapping");
	assert_null(load("a: 1\n? [k]\n: v\n", 0, NULL));
	assert_string_equal(err, "test.yaml: line 11: keys must be plain text");
}

static void
test_scalar_checks(void **state)
{
	json_t *t = load("b1: On\nb2: no\nb3: maybe\nn: 2.5\nnan: nan\nu: 42\nneg: -1\n"
	    "s1: 512Mi\ns2: 3G\ns3: 1.5Gi\ns4: 0\ns5: 2Q\n", 0, NULL);
	json_t *num = json_integer(7), *yes = json_true();
	uint64_t u;
	double d;
	int b;

	(void)state;
	assert_int_equal(yaml_bool(json_object_get(t, "b1"), &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(yaml_bool(json_object_get(t, "b2"), &b), 0);
	assert_int_equal(b, 0);
	assert_int_equal(yaml_bool(json_object_get(t, "b3"), &b), -EINVAL);
	assert_int_equal(yaml_bool(yes, &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(yaml_number(json_object_get(t, "n"), &d), 0);
	assert_true(d == 2.5);
	assert_int_equal(yaml_number(json_object_get(t, "nan"), &d), -EINVAL);
	assert_int_equal(yaml_number(num, &d), 0);
	assert_true(d == 7);
	assert_int_equal(yaml_uint(json_object_get(t, "u"), &u), 0);
	assert_int_equal(u, 42);
	assert_int_equal(yaml_uint(json_object_get(t, "neg"), &u), -EINVAL);
	assert_int_equal(yaml_uint(json_object_get(t, "n"), &u), -EINVAL);
	assert_int_equal(yaml_size(json_object_get(t, "s1"), &u), 0);
	assert_int_equal(u, 512ull << 20);
	assert_int_equal(yaml_size(json_object_get(t, "s2"), &u), 0);
	assert_int_equal(u, 3000000000ull);
	assert_int_equal(yaml_size(json_object_get(t, "s3"), &u), 0);
	assert_int_equal(u, 3ull << 29);
	assert_int_equal(yaml_size(json_object_get(t, "s4"), &u), -EINVAL);
	assert_int_equal(yaml_size(json_object_get(t, "s5"), &u), -EINVAL);
	assert_int_equal(yaml_size(NULL, &u), -EINVAL);
	json_decref(num);
	json_decref(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings_or_typed),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_errors_name_the_line),
		cmocka_unit_test(test_scalar_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
