/* Unit tests for common/log.c: batched lines reach stderr as whole lines,
 * never more than one PIPE_BUF per write (cmocka). */
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/log.h"

static int saved_stderr = -1;
static int pipe_r = -1;

/* stderr into a pipe for the test. */
static int
capture(void **state)
{
	int p[2];

	(void)state;
	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
	saved_stderr = dup(STDERR_FILENO);
	dup2(p[1], STDERR_FILENO);
	close(p[1]);
	pipe_r = p[0];
	return 0;
}

static int
release(void **state)
{
	(void)state;
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	close(pipe_r);
	return 0;
}

/* Every read returns what one write(2) wrote, as long as the reader drains the
 * pipe between writes; returns the bytes read (0: nothing there). */
static size_t
drain(char *buf, size_t cap)
{
	ssize_t n = read(pipe_r, buf, cap - 1);

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return (size_t)n;
}

static void
test_batch_holds_until_flush(void **state)
{
	struct log_batch b = { 0 };
	char buf[2 * LOG_LINE_MAX];

	(void)state;
	log_batch_add(&b, LOG_INFO, "access %s %d", "alpha", 200);
	log_batch_add(&b, LOG_INFO, "access %s %d", "beta", 404);
	assert_int_equal(drain(buf, sizeof(buf)), 0); /* nothing written yet */
	log_batch_flush(&b);
	assert_true(drain(buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, " INFO access alpha 200\n"));
	assert_non_null(strstr(buf, " INFO access beta 404\n"));
	assert_ptr_equal(strchr(strchr(buf, '\n') + 1, '\n'), buf + strlen(buf) - 1); /* two lines */
	assert_int_equal(b.len, 0);
	log_batch_flush(&b); /* empty: no write */
	assert_int_equal(drain(buf, sizeof(buf)), 0);
}

/* A batch that would grow past one PIPE_BUF is written first: each write is
 * whole lines and atomic on a pipe shared by several loops. */
static void
test_batch_writes_whole_lines_within_pipe_buf(void **state)
{
	struct log_batch b = { 0 };
	char buf[2 * LOG_LINE_MAX], path[200];
	size_t n, lines = 0;
	int i;

	(void)state;
	assert_true(sizeof(b.buf) <= PIPE_BUF);
	memset(path, 'p', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	for (i = 0; i < 100; i++) {
		log_batch_add(&b, LOG_INFO, "access GET /%s %d", path, i);
		while ((n = drain(buf, sizeof(buf))) > 0) {
			assert_true(n <= PIPE_BUF);
			assert_int_equal(buf[n - 1], '\n');
			for (char *p = buf; (p = strchr(p, '\n')) != NULL; p++)
				lines++;
		}
	}
	assert_true(lines > 0 && lines < 100); /* some went out on the way */
	log_batch_flush(&b);
	while ((n = drain(buf, sizeof(buf))) > 0)
		for (char *p = buf; (p = strchr(p, '\n')) != NULL; p++)
			lines++;
	assert_int_equal(lines, 100);
}

/* What b holds went out as one line of LOG_LINE_MAX bytes: cut, still one line. */
static void
assert_one_cut_line(struct log_batch *b)
{
	char buf[2 * LOG_LINE_MAX];
	size_t n;

	log_batch_flush(b);
	n = drain(buf, sizeof(buf));
	assert_int_equal(n, LOG_LINE_MAX);
	assert_int_equal(buf[n - 1], '\n');
	assert_ptr_equal(strchr(buf, '\n'), buf + n - 1);
}

/* A message longer than a line is cut, still one line. */
static void
test_long_line_cut(void **state)
{
	struct log_batch b = { 0 };
	char *big = malloc(3 * LOG_LINE_MAX);

	(void)state;
	memset(big, 'x', 3 * LOG_LINE_MAX - 1);
	big[3 * LOG_LINE_MAX - 1] = '\0';
	log_batch_add(&b, LOG_INFO, "%s", big);
	assert_one_cut_line(&b);
	free(big);
}

/* A preformatted message gets the same prefix and is cut the same way. */
static void
test_text_line(void **state)
{
	struct log_batch b = { 0 };
	char buf[2 * LOG_LINE_MAX], *big = malloc(3 * LOG_LINE_MAX);
	const char *text = "access 127.0.0.1 a-b.localhost \"GET /\" 200 12 0ms up=-1ms";
	size_t n;

	(void)state;
	log_batch_add_text(&b, LOG_WARN, text, strlen(text));
	log_batch_add(&b, LOG_WARN, "%s", text);
	log_batch_flush(&b);
	n = drain(buf, sizeof(buf));
	assert_true(n > 0);
	/* "2026-11-26T05:40:00.123Z WARN access ...\n", twice, the same way */
	for (char *line = buf; line < buf + n; line = strchr(line, '\n') + 1) {
		assert_int_equal(line[4], '-');
		assert_int_equal(line[10], 'T');
		assert_int_equal(line[19], '.');
		assert_true(line[20] >= '0' && line[20] <= '9' && line[22] >= '0' && line[22] <= '9');
		assert_memory_equal(line + 23, "Z WARN ", 7);
		assert_memory_equal(line + 30, text, strlen(text));
		assert_int_equal(line[30 + strlen(text)], '\n');
	}
	memset(big, 'x', 3 * LOG_LINE_MAX);
	log_batch_add_text(&b, LOG_INFO, big, 3 * LOG_LINE_MAX);
	assert_one_cut_line(&b);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_batch_holds_until_flush, capture, release),
		cmocka_unit_test_setup_teardown(test_batch_writes_whole_lines_within_pipe_buf, capture, release),
		cmocka_unit_test_setup_teardown(test_long_line_cut, capture, release),
		cmocka_unit_test_setup_teardown(test_text_line, capture, release),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
