/* common/util.c: names, UTF-8 scrubbing, rm -rf (cmocka). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/util.h"

static void
test_names(void **state)
{
	char sub[160];

	(void)state;
	assert_true(name_valid("demo"));
	assert_true(name_valid("My_App.v2-x"));
	assert_true(name_valid("a"));
	assert_false(name_valid(""));
	assert_false(name_valid(".hidden"));
	assert_false(name_valid("-dash"));
	assert_false(name_valid("a..b"));
	assert_false(name_valid("sp ace"));
	assert_false(name_valid("a/b"));
	assert_false(name_valid("ünï"));
	char long_name[70];
	memset(long_name, 'a', 65);
	long_name[65] = '\0';
	assert_false(name_valid(long_name));
	long_name[64] = '\0';
	assert_true(name_valid(long_name));
	name_subdomain("Alice", "My_App.v2", sub, sizeof(sub));
	assert_string_equal(sub, "alice-my-app-v2");
}

static void
test_utf8_scrub(void **state)
{
	char ok[] = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 plain";
	char bad[] = "a\xff" "b\xc3" "c\xe2\x82" "d\xc0\xaf" "e\xed\xa0\x80" "f\xf4\x90\x80\x80" "g";
	char cut[] = "x\xc3";

	(void)state;
	assert_int_equal(utf8_scrub(ok), 0); /* control: valid text untouched */
	assert_string_equal(ok, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 plain");
	/* stray byte, cut 2- and 3-byte sequences, overlong '/', surrogate, past U+10FFFF */
	assert_int_equal(utf8_scrub(bad), 13);
	assert_string_equal(bad, "a?b?c??d??e???f????g");
	assert_int_equal(utf8_scrub(cut), 1);
	assert_string_equal(cut, "x?");
}

static void
test_rm_rf_keeps_symlink_targets(void **state)
{
	char tmpl[] = "/tmp/podium-rm-XXXXXX";
	char *base = mkdtemp(tmpl);
	char *victim, *keep, *tree, *link, *deep;

	(void)state;
	assert_non_null(base);
	keep = xasprintf("%s/keep", base);
	victim = xasprintf("%s/keep/precious", base);
	tree = xasprintf("%s/tree/a/b", base);
	link = xasprintf("%s/tree/a/link", base);
	deep = xasprintf("%s/tree/a/b/file", base);
	assert_int_equal(fs_mkdir_p(keep, 0755), 0);
	assert_int_equal(fs_write_file(victim, "x", 1, 0644), 0);
	assert_int_equal(fs_mkdir_p(tree, 0755), 0);
	assert_int_equal(fs_write_file(deep, "y", 1, 0644), 0);
	assert_int_equal(symlink(keep, link), 0);
	char *top = xasprintf("%s/tree", base);
	assert_int_equal(fs_rm_rf(top), 0);
	assert_int_equal(access(top, F_OK), -1);
	/* The symlink was removed, not followed. */
	assert_int_equal(access(victim, F_OK), 0);
	assert_int_equal(fs_rm_rf(top), 0); /* already gone: fine */
	fs_rm_rf(base);
	free(top);
	free(keep);
	free(victim);
	free(tree);
	free(link);
	free(deep);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_utf8_scrub),
		cmocka_unit_test(test_rm_rf_keeps_symlink_targets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
