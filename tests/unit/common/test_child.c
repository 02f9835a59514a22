/* Unit tests for common/child.c: a program run to its end (status, signal, a
 * program that is not there, output to a file or captured) and the tail of
 * output (cmocka). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/child.h"

static int
sh(const char *script, int out, int err, child_tail *tail)
{
	char *argv[] = { "sh", "-c", (char *)script, NULL };
	child_spec spec;

	child_spec_init(&spec);
	spec.argv = argv;
	spec.out = out;
	spec.err = err;
	return child_run(&spec, tail);
}

static void
test_status(void **state)
{
	char *missing[] = { "/nonexistent/tool", NULL };

	(void)state;
	assert_int_equal(sh("exit 0", CHILD_NULL, CHILD_NULL, NULL), 0);
	assert_int_equal(sh("exit 7", CHILD_NULL, CHILD_NULL, NULL), 7);
	assert_int_equal(sh("kill -TERM $$", CHILD_NULL, CHILD_NULL, NULL), 128 + 15);
	/* stdin is /dev/null: nothing to wait for */
	assert_int_equal(sh("read x", CHILD_NULL, CHILD_NULL, NULL), 1);
	assert_int_equal(child_run_argv(missing, CHILD_NULL), -ENOENT);
}

static void
test_capture_and_fd(void **state)
{
	char path[] = "/tmp/podium-child-XXXXXX", buf[64], line[256];
	child_tail tail = { .len = 0 };
	ssize_t n;
	int fd;

	(void)state;
	/* stdout and stderr into one tail, in the order written */
	assert_int_equal(sh("echo one; echo two >&2; echo three", CHILD_CAPTURE, CHILD_CAPTURE,
	    &tail), 0);
	child_tail_lines(&tail, 10, line, sizeof(line));
	assert_string_equal(line, "one\ntwo\nthree");
	/* stdout to a file, stderr captured */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	tail.len = 0;
	assert_int_equal(sh("echo to-file; echo complaint >&2; exit 2", fd, CHILD_CAPTURE, &tail), 2);
	child_tail_lines(&tail, 10, line, sizeof(line));
	assert_string_equal(line, "complaint");
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	assert_int_equal(n, 8);
	buf[n] = '\0';
	assert_string_equal(buf, "to-file\n");
	close(fd);
	unlink(path);
	/* more than a pipe holds is read to the end (the child never blocks), kept: the end */
	tail.len = 0;
	assert_int_equal(sh("seq 1 30000", CHILD_CAPTURE, CHILD_NULL, &tail), 0);
	child_tail_lines(&tail, 2, line, sizeof(line));
	assert_string_equal(line, "29999\n30000");
}

static void
test_tail_lines(void **state)
{
	child_tail t = { .len = 0 };
	char big[CHILD_TAIL_BYTES + 100], out[16];

	(void)state;
	child_tail_append(&t, "a\nb\n", 4);
	child_tail_append(&t, "c\n\n\r\n", 5);
	child_tail_lines(&t, 2, out, sizeof(out));
	assert_string_equal(out, "b\nc");
	child_tail_lines(&t, 20, out, sizeof(out));
	assert_string_equal(out, "a\nb\nc");
	/* longer than out: the end is kept */
	child_tail_append(&t, "0123456789abcdefghij\n", 21);
	child_tail_lines(&t, 1, out, sizeof(out));
	assert_string_equal(out, "56789abcdefghij");
	/* a cut UTF-8 character becomes '?' */
	t.len = 0;
	child_tail_append(&t, "\xc3\xa9t\xc3\xa9", 5);
	child_tail_lines(&t, 1, out, 5);
	assert_string_equal(out, "?t\xc3\xa9");
	/* more than the tail holds: the last bytes */
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = 'y';
	child_tail_append(&t, big, sizeof(big));
	assert_int_equal(t.len, CHILD_TAIL_BYTES);
	assert_int_equal(t.buf[CHILD_TAIL_BYTES - 1], 'y');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_capture_and_fd),
		cmocka_unit_test(test_tail_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
