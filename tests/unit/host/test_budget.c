/* Unit tests for the host memory budget (orchestrator/host/budget.c, cmocka). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "orchestrator/host/budget.h"

#define GIB (1ull << 30)

static void
test_parse(void **state)
{
	uint64_t v = 1;

	assert_int_equal(budget_parse("auto", &v), 0);
	assert_true(v == 0);
	assert_int_equal(budget_parse("1048576", &v), 0);
	assert_true(v == 1048576);
	assert_int_equal(budget_parse("3G", &v), 0);
	assert_true(v == 3 * GIB);
	assert_int_equal(budget_parse("512MiB", &v), 0);
	assert_true(v == 512ull << 20);
	assert_int_equal(budget_parse("2T", &v), 0);
	assert_true(v == 2ull << 40);
	assert_int_equal(budget_parse("", &v), -EINVAL);
	assert_int_equal(budget_parse("0", &v), -EINVAL);
	assert_int_equal(budget_parse("-1G", &v), -EINVAL);
	assert_int_equal(budget_parse("3X", &v), -EINVAL);
	assert_int_equal(budget_parse("3Gx", &v), -EINVAL);
	assert_int_equal(budget_parse("99999999999T", &v), -EINVAL);
}

static void
test_reserve_release(void **state)
{
	int a1, a2, b1, c1;
	char why[512];

	assert_true(budget_set_memory(5 * GIB) == 5 * GIB);
	assert_int_equal(budget_reserve(1, &a1, 2 * GIB, why, sizeof(why)), 0);
	/* a second instance of the same space (a deploy) shares its commitment */
	assert_int_equal(budget_reserve(1, &a2, 2 * GIB, why, sizeof(why)), 0);
	assert_true(budget_committed() == 2 * GIB);
	assert_int_equal(budget_reserve(2, &b1, 2 * GIB, why, sizeof(why)), 0);
	assert_true(budget_committed() == 4 * GIB);
	/* 4 + 2 > 5: refused, with the numbers */
	why[0] = '\0';
	assert_int_equal(budget_reserve(3, &c1, 2 * GIB, why, sizeof(why)), -ENOMEM);
	assert_non_null(strstr(why, "2.0 GiB"));
	assert_non_null(strstr(why, "4.0 GiB"));
	assert_non_null(strstr(why, "5.0 GiB"));
	assert_true(budget_committed() == 4 * GIB);
	/* the old instance goes: the space still holds its 2 GiB */
	budget_release(&a1);
	assert_true(budget_committed() == 4 * GIB);
	budget_release(&a2);
	assert_true(budget_committed() == 2 * GIB);
	assert_int_equal(budget_reserve(3, &c1, 2 * GIB, why, sizeof(why)), 0);
	/* again for the same member: replaced, not added */
	assert_int_equal(budget_reserve(3, &c1, 1 * GIB, why, sizeof(why)), 0);
	assert_true(budget_committed() == 3 * GIB);
	budget_release(&c1);
	budget_release(&c1); /* nothing left: no-op */
	budget_release(&b1);
	assert_true(budget_committed() == 0);
}

static void
test_auto(void **state)
{
	uint64_t b = budget_set_memory(0);

	assert_true(b > 0);
	assert_true(budget_auto_reserve(4 * GIB) == GIB);
	assert_true(budget_auto_reserve(40 * GIB) == 4 * GIB);
	assert_true(budget_fd_reserve(96) == 32);
	assert_true(budget_fd_reserve(8192) == 1024);
	assert_true(budget_fds_open() >= 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_reserve_release),
		cmocka_unit_test(test_auto),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
