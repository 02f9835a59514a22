/* Unit tests for common/logfile.c: each line is stamped once, with the time of
 * its first byte, whatever pieces it arrives in; stripping gives back exactly the
 * bytes written (cmocka). */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/logfile.h"
#include "common/util.h"

static char path[256];

static int
setup(void **state)
{
	char dir[] = "/tmp/podium-logfile-XXXXXX";

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/app.log", dir);
	return 0;
}

static int
teardown(void **state)
{
	char *dir = xstrdup(path);

	(void)state;
	*strrchr(dir, '/') = '\0';
	fs_rm_rf(dir);
	free(dir);
	return 0;
}

static char *
slurp(size_t *len)
{
	char *text = NULL;

	assert_int_equal(fs_read_file(path, &text, len, 1 << 20), 0);
	return text;
}

/* The number of stamps in the file: one per line start, none in mid-line. */
static int
count_stamps(const char *text, size_t len)
{
	int n = 0;

	for (size_t i = 0; i < len; i++)
		if ((i == 0 || text[i - 1] == '\n') && logfile_stamp_valid(text + i, len - i))
			n++;
	return n;
}

static void
w(logfile *lf, const char *s)
{
	size_t before = lf->size, want = logfile_write_len(lf, s, strlen(s));

	assert_int_equal(logfile_write(lf, s, strlen(s)), 0);
	assert_int_equal(lf->size - before, want); /* the size limit's arithmetic is exact */
}

static void
test_lines_in_pieces(void **state)
{
	const char *want = "one\npart-a part-b\n\nthree\nlast without newline";
	logfile lf;
	size_t len;
	char *text;

	(void)state;
	assert_int_equal(logfile_open(&lf, path, 0640), 0);
	w(&lf, "one\npart-a");
	w(&lf, " part-");
	w(&lf, "b\n\nthree\nlast");
	w(&lf, " without newline");
	logfile_close(&lf);
	text = slurp(&len);
	assert_int_equal(count_stamps(text, len), 5);
	/* the file's first line: "2026-...Z one" */
	assert_true(logfile_stamp_valid(text, len));
	assert_memory_equal(text + LOGFILE_STAMP_LEN, "one\n", 4);
	len = logfile_strip(text, len);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(text, want, len);
	free(text);
}

/* A line left open by the last writer continues without a stamp in mid-line;
 * a file that ends with a newline starts the next line with one. */
static void
test_reopen_continues_open_line(void **state)
{
	const char *want = "first half, second half\nnext\n";
	logfile lf;
	size_t len;
	char *text;

	(void)state;
	assert_int_equal(logfile_open(&lf, path, 0640), 0);
	w(&lf, "first half, ");
	logfile_close(&lf);
	assert_int_equal(logfile_open(&lf, path, 0640), 0);
	assert_true(lf.midline);
	w(&lf, "second half\n");
	logfile_close(&lf);
	assert_int_equal(logfile_open(&lf, path, 0640), 0);
	assert_false(lf.midline);
	w(&lf, "next\n");
	logfile_close(&lf);
	text = slurp(&len);
	assert_int_equal(count_stamps(text, len), 2);
	len = logfile_strip(text, len);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(text, want, len);
	free(text);
}

/* The stamp is the time the line's first byte was written, to the millisecond. */
static void
test_stamp_is_first_byte_time(void **state)
{
	struct timespec t0, t1, t2;
	struct tm tm = { 0 };
	logfile lf;
	size_t len;
	char *text;
	double stamp;
	int ms;

	(void)state;
	assert_int_equal(logfile_open(&lf, path, 0640), 0);
	clock_gettime(CLOCK_REALTIME, &t0);
	w(&lf, "slow line: ");
	clock_gettime(CLOCK_REALTIME, &t1);
	usleep(300 * 1000);
	clock_gettime(CLOCK_REALTIME, &t2);
	w(&lf, "done\n");
	logfile_close(&lf);
	text = slurp(&len);
	assert_non_null(strptime(text, "%Y-%m-%dT%H:%M:%S", &tm));
	assert_int_equal(sscanf(text + 20, "%3d", &ms), 1);
	stamp = (double)timegm(&tm) + ms / 1000.0;
	assert_true(stamp >= (double)t0.tv_sec + (t0.tv_nsec / 1000000) / 1000.0);
	assert_true(stamp <= (double)t1.tv_sec + t1.tv_nsec / 1e9);
	assert_true(stamp < (double)t2.tv_sec + t2.tv_nsec / 1e9);
	free(text);
}

/* A chunk bigger than the write buffer, of many short lines, loses nothing. */
static void
test_big_chunk(void **state)
{
	size_t n = 100000, len;
	char *big = malloc(n + 1), *text;
	logfile lf;

	(void)state;
	for (size_t i = 0; i < n; i++)
		big[i] = i % 3 == 2 ? '\n' : (char)('a' + i % 26);
	big[n] = '\0';
	assert_int_equal(logfile_open(&lf, path, 0640), 0);
	w(&lf, big);
	logfile_close(&lf);
	text = slurp(&len);
	assert_int_equal(count_stamps(text, len), (int)(n / 3) + (n % 3 != 0));
	len = logfile_strip(text, len);
	assert_int_equal(len, n);
	assert_memory_equal(text, big, n);
	free(text);
	free(big);
}

static void
test_stamp_form(void **state)
{
	char text[] = "2026-11-26T05:40:00.123Z x";

	(void)state;
	assert_true(logfile_stamp_valid(text, strlen(text)));
	assert_false(logfile_stamp_valid(text, LOGFILE_STAMP_LEN - 1));
	assert_false(logfile_stamp_valid("2026-11-26T05:40:00Z x", 22));
	assert_false(logfile_stamp_valid("[2026-11-26T05:40:00.123Z] x", 28));
	text[13] = 'x';
	assert_false(logfile_stamp_valid(text, strlen(text)));
	/* an unstamped line (another writer's) is left as it is */
	char mixed[] = "==> waiting\n2026-11-26T05:40:00.123Z line\n";
	assert_int_equal(logfile_strip(mixed, strlen(mixed)), strlen("==> waiting\nline\n"));
	assert_memory_equal(mixed, "==> waiting\nline\n", strlen("==> waiting\nline\n"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lines_in_pieces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_continues_open_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stamp_is_first_byte_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_chunk, setup, teardown),
		cmocka_unit_test(test_stamp_form),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
