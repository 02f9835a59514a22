/* common/mask.c: secret values hidden in output that arrives in pieces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/mask.h"

typedef struct sink {
	char buf[4096];
	size_t len;
} sink;

static void
sink_out(void *arg, const char *data, size_t len)
{
	sink *s = arg;

	assert_true(s->len + len < sizeof(s->buf));
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	s->buf[s->len] = '\0';
}

/* Feeds text cut into pieces of `step` bytes, then flushes. */
static void
feed(const char *const *values, const char *text, size_t step, sink *s)
{
	mask m;
	size_t n = strlen(text);

	memset(s, 0, sizeof(*s));
	mask_init(&m, values);
	for (size_t i = 0; i < n; i += step)
		mask_write(&m, text + i, n - i < step ? n - i : step, sink_out, s);
	mask_flush(&m, sink_out, s);
	mask_free(&m);
}

static void
test_whole_and_split(void **state)
{
	const char *values[] = { "hunter2", "s3cr3t-value", NULL };
	const char *text = "pw=hunter2 and s3cr3t-value, hunte, s3cr3t, end hunter2";
	const char *want = "pw=*** and ***, hunte, s3cr3t, end ***";
	sink s;

	/* every cut position: one byte at a time up to the whole text */
	for (size_t step = 1; step <= strlen(text); step++) {
		feed(values, text, step, &s);
		assert_string_equal(s.buf, want);
	}
}

static void
test_no_values_passthrough(void **state)
{
	sink s;

	feed(NULL, "nothing to hide", 3, &s);
	assert_string_equal(s.buf, "nothing to hide");
}

static void
test_prefix_at_end_is_flushed(void **state)
{
	const char *values[] = { "abcdef", NULL };
	sink s;

	feed(values, "xx abc", 2, &s);
	assert_string_equal(s.buf, "xx abc");
}

static void
test_overlapping_values(void **state)
{
	/* a value inside a longer one: the longer is hidden whole */
	const char *values[] = { "key", "monkey-key", NULL };
	sink s;

	for (size_t step = 1; step < 20; step++) {
		feed(values, "a monkey-key b key c monkey", step, &s);
		assert_string_equal(s.buf, "a *** b *** c mon***");
	}
}

static void
test_nothing_held_without_prefix(void **state)
{
	const char *values[] = { "zzz", NULL };
	mask m;
	sink s = { 0 };

	mask_init(&m, values);
	mask_write(&m, "ready\n", 6, sink_out, &s);
	/* no value starts here: nothing waits for the next read */
	assert_string_equal(s.buf, "ready\n");
	mask_write(&m, "z", 1, sink_out, &s);
	assert_string_equal(s.buf, "ready\n");
	mask_write(&m, "zz\n", 3, sink_out, &s);
	assert_string_equal(s.buf, "ready\n***\n");
	mask_free(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_and_split),
		cmocka_unit_test(test_no_values_passthrough),
		cmocka_unit_test(test_prefix_at_end_is_flushed),
		cmocka_unit_test(test_overlapping_values),
		cmocka_unit_test(test_nothing_held_without_prefix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
