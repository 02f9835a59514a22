/* The clone policy of builder/clone.c: its configuration section, the URL and
 * host checks made before any lookup, and the address checks (CIDRs, the ranges
 * never cloned from, private ranges only where allowed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "builder/git_int.h"

static char err[512];

static builder_clone_policy *
policy(const char *json)
{
	json_t *section = json != NULL ? json_loads(json, 0, NULL) : NULL;
	builder_clone_policy *pol = NULL;

	assert_int_equal(builder_clone_policy_new(section, &pol, err, sizeof(err)), 0);
	json_decref(section);
	return pol;
}

/* 16 bytes, IPv4 mapped, of an address in text. */
static void
addr16(const char *text, unsigned char out[16])
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, text, out + 12) == 1)
		out[10] = out[11] = 0xff;
	else
		assert_int_equal(inet_pton(AF_INET6, text, out), 1);
}

static int
has(const char *cidr, const char *addr)
{
	unsigned char a[16];

	addr16(addr, a);
	return builder_cidr_has(cidr, a);
}

static void
test_cidr(void **state)
{
	assert_true(has("10.0.0.0/8", "10.255.1.2"));
	assert_false(has("10.0.0.0/8", "11.0.0.1"));
	assert_true(has("172.16.0.0/12", "172.31.255.255"));
	assert_false(has("172.16.0.0/12", "172.32.0.0"));
	assert_true(has("192.0.2.7", "192.0.2.7"));       /* one address */
	assert_false(has("192.0.2.7", "192.0.2.8"));
	assert_true(has("0.0.0.0/0", "203.0.113.9"));
	assert_true(has("fc00::/7", "fd12::1"));
	assert_false(has("fc00::/7", "fe80::1"));
	assert_true(has("::1/128", "::1"));
	/* an IPv4 range never holds an IPv6 address, and nonsense holds nothing */
	assert_false(has("0.0.0.0/0", "2001:db8::1"));
	assert_false(has("10.0.0.0/33", "10.0.0.1"));
	assert_false(has("not-a-cidr", "10.0.0.1"));
}

static void
test_hosts(void **state)
{
	builder_clone_policy *any = policy(NULL);
	builder_clone_policy *some = policy("{\"hosts\": [\"github.com\", \"*.example.org\"]}");

	assert_true(builder_clone_host_listed(any, "anything.test"));
	assert_true(builder_clone_host_listed(some, "github.com"));
	assert_true(builder_clone_host_listed(some, "GitHub.COM"));
	assert_true(builder_clone_host_listed(some, "git.example.org"));
	assert_true(builder_clone_host_listed(some, "a.b.example.org"));
	assert_false(builder_clone_host_listed(some, "example.org"));
	assert_false(builder_clone_host_listed(some, "evilexample.org"));
	assert_false(builder_clone_host_listed(some, "github.com.evil.test"));
	/* the checks made before a lookup */
	assert_int_equal(builder_clone_check(some, "https://github.com/a/b", err, sizeof(err)), 0);
	assert_int_equal(builder_clone_check(some, "git://gitlab.com/a/b", err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "not among clone: hosts"));
	assert_int_equal(builder_clone_check(any, "ftp://github.com/a", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "only http, https and git"));
	assert_int_equal(builder_clone_check(any, "https://u:p@github.com/a", err, sizeof(err)),
	    -EINVAL);
	assert_int_equal(builder_clone_check(any, "not a url", err, sizeof(err)), -EINVAL);
	builder_clone_policy_free(any);
	builder_clone_policy_free(some);
}

static const char *
refused(const builder_clone_policy *pol, const char *text)
{
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in s4 = { .sin_family = AF_INET };

	if (inet_pton(AF_INET, text, &s4.sin_addr) == 1)
		return builder_clone_addr_refused(pol, (struct sockaddr *)&s4);
	assert_int_equal(inet_pton(AF_INET6, text, &s6.sin6_addr), 1);
	return builder_clone_addr_refused(pol, (struct sockaddr *)&s6);
}

static void
test_addresses(void **state)
{
	builder_clone_policy *pol = policy(NULL);
	builder_clone_policy *lan = policy("{\"allow_networks\": [\"10.1.0.0/16\", \"127.0.0.0/8\"]}");

	assert_string_equal(refused(pol, "127.0.0.1"), "loopback");
	assert_string_equal(refused(pol, "::1"), "loopback");
	assert_string_equal(refused(pol, "0.0.0.0"), "unspecified");
	assert_string_equal(refused(pol, "169.254.169.254"), "link-local");
	assert_string_equal(refused(pol, "fe80::1"), "link-local");
	assert_string_equal(refused(pol, "224.0.0.1"), "multicast");
	assert_non_null(strstr(refused(pol, "10.1.2.3"), "private network"));
	assert_non_null(strstr(refused(pol, "192.168.1.1"), "private network"));
	assert_non_null(strstr(refused(pol, "fd00::1"), "private network"));
	assert_null(refused(pol, "203.0.113.10"));
	assert_null(refused(pol, "2001:db8::10"));
	/* allowed private ranges; loopback stays refused whatever the list says */
	assert_null(refused(lan, "10.1.2.3"));
	assert_non_null(strstr(refused(lan, "10.2.0.1"), "private network"));
	assert_string_equal(refused(lan, "127.0.0.1"), "loopback");
	builder_clone_policy_free(pol);
	builder_clone_policy_free(lan);
}

static void
test_policy_section(void **state)
{
	static const char *const bad[] = { "[]", "{\"hosts\": \"github.com\"}",
		"{\"hosts\": [1]}", "{\"allow_networks\": {}}", "{\"max_bytes\": \"0\"}",
		"{\"timeout\": \"-1\"}", "{\"retries\": \"3\"}", NULL };
	builder_clone_policy *pol = policy("{\"max_bytes\": \"1000\", \"timeout\": \"5\"}");

	builder_clone_policy_free(pol);
	for (int i = 0; bad[i] != NULL; i++) {
		json_t *section = json_loads(bad[i], JSON_DECODE_ANY, NULL);

		pol = (builder_clone_policy *)0x1;
		assert_int_equal(builder_clone_policy_new(section, &pol, err, sizeof(err)), -EINVAL);
		assert_null(pol);
		assert_non_null(strstr(err, "config.yaml"));
		json_decref(section);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cidr),
		cmocka_unit_test(test_hosts),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_policy_section),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
