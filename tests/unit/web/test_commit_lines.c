/* The commit API's NDJSON reader (web/commit_lines.c): lines come out whole
 * whatever the chunks, short strings stay in the line's text, a long one goes to
 * a spool file (its exact JSON text, escapes and all) with a placeholder in the
 * text that only this reader knows, and too much is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "web/web_int.h"

/* Feeds text in chunks of step bytes; the complete lines, joined by '|'. */
static char *
feed_all(line_reader *r, const char *text, size_t step)
{
	char *out = xstrdup("");
	size_t len = strlen(text), off = 0;

	while (off < len) {
		size_t n = len - off < step ? len - off : step, used;
		int got = line_reader_feed(r, text + off, n, &used);

		assert_true(got >= 0);
		off += used;
		if (got == 1) {
			size_t tl;
			const char *t = line_reader_text(r, &tl);
			char *j = xasprintf("%s%s%.*s", out, out[0] != '\0' ? "|" : "", (int)tl, t);

			free(out);
			out = j;
			line_reader_next(r);
		}
	}
	return out;
}

static void
test_lines_whatever_the_chunks(void **state)
{
	const char *text = "{\"key\":\"header\",\"value\":{\"summary\":\"a \\\"q\\\" \\\\\"}}\n"
	    "{\"key\":\"file\",\"value\":{\"path\":\"x\\ny\",\"content\":\"QUJD\"}}\n";

	for (size_t step = 1; step <= strlen(text); step++) {
		line_reader *r = line_reader_new("/tmp", 4096, 1 << 20);
		char *got = feed_all(r, text, step);

		assert_string_equal(got, "{\"key\":\"header\",\"value\":{\"summary\":\"a \\\"q\\\" \\\\\"}}|"
		    "{\"key\":\"file\",\"value\":{\"path\":\"x\\ny\",\"content\":\"QUJD\"}}");
		free(got);
		assert_int_equal(line_reader_end(r), 0);
		line_reader_free(r);
	}
}

/* A line with a string of n bytes made of fill (an escape every 1000 bytes when
 * escaped), then a short one. */
static char *
long_line(size_t n, int escaped)
{
	char *s = xmalloc(n + 200), *p = s;

	p += sprintf(p, "{\"key\":\"file\",\"value\":{\"content\":\"");
	for (size_t i = 0; i < n; i++)
		*p++ = escaped && i % 1000 == 999 ? '\\' : (char)('A' + i % 26);
	if (escaped && n % 1000 == 0)
		p[-1] = 'x';
	p += sprintf(p, "\",\"path\":\"big.txt\"}}\n");
	*p = '\0';
	return s;
}

static void
test_a_long_string_is_spooled(void **state)
{
	size_t n = 3 * LINE_SPOOL_MIN + 17, step;

	for (int escaped = 0; escaped <= 1; escaped++)
		for (step = 4093; step <= 70000; step += 65907) {
			char *line = long_line(n, escaped), *got, buf[64];
			line_reader *r = line_reader_new("/tmp", 2 * LINE_SPOOL_MIN, 1 << 20);
			const line_spool *sp;
			json_t *j;

			/* the line's text holds a placeholder, not the 192 KiB string */
			got = feed_all(r, line, step);
			assert_true(strlen(got) < 200);
			assert_non_null(strstr(got, "\"path\":\"big.txt\""));
			free(got);
			line_reader_free(r);

			/* again, stopping at the line to look at it */
			r = line_reader_new("/tmp", 2 * LINE_SPOOL_MIN, 1 << 20);
			size_t off = 0, used = 0, tl;
			int res = 0;

			while (res == 0) {
				size_t k = strlen(line) - off < step ? strlen(line) - off : step;

				res = line_reader_feed(r, line + off, k, &used);
				off += used;
			}
			assert_int_equal(res, 1);
			assert_int_equal(off, strlen(line));
			assert_int_equal(line_reader_spools(r), 1);
			got = (char *)line_reader_text(r, &tl);
			j = json_loadb(got, tl, 0, NULL);
			assert_non_null(j);
			assert_true(tl < 200);
			sp = line_reader_spool(r, json_string_value(json_object_get(json_object_get(j,
			    "value"), "content")));
			assert_non_null(sp);
			assert_null(line_reader_spool(r, "big.txt"));
			assert_int_equal(sp->len, n);
			assert_int_equal(sp->escaped, escaped);
			assert_int_equal(pread(sp->fd, buf, 4, 0), 4);
			assert_memory_equal(buf, "ABCD", 4);
			assert_int_equal(pread(sp->fd, buf, 3, (off_t)n - 3), 3);
			assert_memory_equal(buf, strstr(line, "content\":\"") + 10 + n - 3, 3);
			json_decref(j);
			line_reader_free(r);
			free(line);
		}
}

static void
test_limits_and_the_last_line(void **state)
{
	line_reader *r = line_reader_new("/tmp", 64, 1 << 20);
	char big[200];
	const char *msg;
	size_t used, tl;

	/* the text without long strings is bounded */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(line_reader_feed(r, big, strlen(big), &used), -1);
	assert_int_equal(line_reader_error(r, &msg), 413);
	line_reader_free(r);
	/* so is the whole line, spooled strings included */
	r = line_reader_new("/tmp", 2 * LINE_SPOOL_MIN, 2 * LINE_SPOOL_MIN);
	{
		char *line = long_line(3 * LINE_SPOOL_MIN, 0);

		assert_int_equal(line_reader_feed(r, line, strlen(line), &used), -1);
		assert_int_equal(line_reader_error(r, &msg), 413);
		free(line);
	}
	line_reader_free(r);
	/* a last line without its newline */
	r = line_reader_new("/tmp", 4096, 1 << 20);
	assert_int_equal(line_reader_feed(r, "{\"a\":1}", 7, &used), 0);
	assert_int_equal(used, 7);
	assert_int_equal(line_reader_end(r), 1);
	assert_memory_equal(line_reader_text(r, &tl), "{\"a\":1}", 7);
	line_reader_next(r);
	assert_int_equal(line_reader_end(r), 0);
	line_reader_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_whatever_the_chunks),
		cmocka_unit_test(test_a_long_string_is_spooled),
		cmocka_unit_test(test_limits_and_the_last_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
