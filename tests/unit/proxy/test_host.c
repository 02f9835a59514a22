/* proxy: what a request's Host names (the hub, a space's app host, nothing)
 * and the tickets that open a private space's app host (cmocka). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <sodium.h>

#include "proxy/proxy_int.h"
#include "proxy/ticket.h"

static void
assert_host(const char *raw, const char *want)
{
	char *h = proxy_host_normalize(raw);

	if (want == NULL) {
		assert_null(h);
		return;
	}
	assert_non_null(h);
	assert_string_equal(h, want);
	free(h);
}

static void
test_host_normalize(void **state)
{
	char longname[300];

	(void)state;
	assert_host("Alice-Demo.LocalHost:8080", "alice-demo.localhost");
	assert_host("localhost", "localhost");
	assert_host("localhost.", "localhost");       /* the same host */
	assert_host("127.0.0.1:80", "127.0.0.1");
	assert_host("[::1]:8080", "[::1]");
	assert_host("[::1]", "[::1]");
	assert_host("my_app.localhost", "my_app.localhost");
	assert_host("", NULL);
	assert_host("[::1", NULL);
	assert_host("[::1]x", NULL);
	assert_host("a b.localhost", NULL);
	assert_host("a/b", NULL);
	assert_host("evil.localhost\r\nX: y", NULL);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_host(longname, NULL);
}

static void
test_host_hub(void **state)
{
	(void)state;
	assert_true(host_is_hub("localhost", "localhost"));
	assert_true(host_is_hub("example.com", "example.com"));
	assert_true(host_is_hub("example.com", "127.0.0.1"));
	assert_true(host_is_hub("example.com", "[::1]"));
	assert_false(host_is_hub("example.com", "localhost"));
	assert_false(host_is_hub("example.com", "alice-demo.example.com"));
	assert_false(host_is_hub("example.com", "example.com.evil"));
}

static void
test_host_subdomain(void **state)
{
	char sub[64], tiny[4];

	(void)state;
	assert_int_equal(host_subdomain("localhost", "alice-demo.localhost", sub, sizeof(sub)), 0);
	assert_string_equal(sub, "alice-demo");
	assert_int_equal(host_subdomain("apps.example", "bob-x.apps.example", sub, sizeof(sub)), 0);
	assert_string_equal(sub, "bob-x");
	/* one label only, and the whole app domain */
	assert_int_equal(host_subdomain("localhost", "a.b.localhost", sub, sizeof(sub)), -1);
	assert_int_equal(host_subdomain("localhost", "localhost", sub, sizeof(sub)), -1);
	assert_int_equal(host_subdomain("localhost", ".localhost", sub, sizeof(sub)), -1);
	assert_int_equal(host_subdomain("localhost", "alicelocalhost", sub, sizeof(sub)), -1);
	assert_int_equal(host_subdomain("localhost", "alice.localhost.evil", sub, sizeof(sub)), -1);
	assert_int_equal(host_subdomain("apps.example", "bob.example", sub, sizeof(sub)), -1);
	assert_int_equal(host_subdomain("localhost", NULL, sub, sizeof(sub)), -1);
	/* a name that does not fit is no name */
	assert_int_equal(host_subdomain("localhost", "abcd.localhost", tiny, sizeof(tiny)), -1);
	assert_int_equal(host_subdomain("localhost", "abc.localhost", tiny, sizeof(tiny)), 0);
	assert_string_equal(tiny, "abc");
}

static const ticket_claims claims = { .epoch = 0x1234abcd5678ef00ull,
	.cred = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 } };

static void
test_tickets(void **state)
{
	char t[TICKET_MAX], c[TICKET_MAX], bad[TICKET_MAX + 8];
	ticket_claims got;

	(void)state;
	assert_int_equal(ticket_make('t', "alice-diary", 120, &claims, t, sizeof(t)), 0);
	assert_true(ticket_check('t', "alice-diary", t, strlen(t), &got));
	/* the claims come back as they were signed */
	assert_true(got.epoch == claims.epoch);
	assert_memory_equal(got.cred, claims.cred, TICKET_CRED_BYTES);
	/* another host, another kind */
	assert_false(ticket_check('t', "alice-diarx", t, strlen(t), &got));
	assert_false(ticket_check('t', "bob-diary", t, strlen(t), &got));
	assert_false(ticket_check('c', "alice-diary", t, strlen(t), &got));
	/* the length given is the ticket's */
	assert_false(ticket_check('t', "alice-diary", t, strlen(t) - 1, &got));
	/* expired */
	assert_int_equal(ticket_make('c', "alice-diary", -1, &claims, c, sizeof(c)), 0);
	assert_false(ticket_check('c', "alice-diary", c, strlen(c), &got));
	/* a later expiry under the old MAC, a changed MAC, changed claims */
	snprintf(bad, sizeof(bad), "9%s", t);
	assert_false(ticket_check('t', "alice-diary", bad, strlen(bad), &got));
	snprintf(bad, sizeof(bad), "%s", t);
	bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == '0' ? '1' : '0';
	assert_false(ticket_check('t', "alice-diary", bad, strlen(bad), &got));
	snprintf(bad, sizeof(bad), "%s", t);
	bad[strchr(bad, '.') - bad + 1] ^= 1; /* the epoch's first digit */
	assert_false(ticket_check('t', "alice-diary", bad, strlen(bad), &got));
	/* not tickets */
	assert_false(ticket_check('t', "alice-diary", "", 0, &got));
	assert_false(ticket_check('t', "alice-diary", "123", 3, &got));
	assert_false(ticket_check('t', "alice-diary", "99999999999.", 12, &got));
	assert_false(ticket_check('t', "alice-diary", ".abcd", 5, &got));
	/* too small a buffer */
	assert_int_equal(ticket_make('t', "alice-diary", 120, &claims, bad, 40), -ENOSPC);
}

/* A cookie passes only while its claims hold (issue 21.6): the credential it was
 * minted from is in the snapshot (a session not expired) and may pass the target,
 * and the target's epoch is the ticket's. */
static void
test_ticket_cookie(void **state)
{
	unsigned char session[32], token[32];
	char c[TICKET_MAX], t[TICKET_MAX], old[TICKET_MAX], hdr[1024];
	route_target *priv = route_target_status(ROUTE_DOWN, "alice/diary", NULL);
	route_tokens *k = route_tokens_new();
	ticket_claims cl;

	(void)state;
	route_token_hash("the session cookie", session);
	route_token_hash("hf_token", token);
	route_target_set_private(priv, "alice");
	route_target_set_epoch(priv, 77);
	cl.epoch = 77;
	route_cred_id(session, cl.cred);
	assert_int_equal(ticket_make('c', "alice-diary", 3600, &cl, c, sizeof(c)), 0);
	assert_int_equal(ticket_make('t', "alice-diary", 120, &cl, t, sizeof(t)), 0);
	snprintf(hdr, sizeof(hdr), "theme=dark; podium_app=%s", c);
	/* no snapshot yet: the session is unknown */
	assert_false(ticket_cookie_check(hdr, "alice-diary", priv));
	route_tokens_add_session(k, session, "alice", 0, (int64_t)time(NULL) + 60);
	routes_tokens_publish(k);
	assert_true(ticket_cookie_check(hdr, "alice-diary", priv));
	assert_false(ticket_cookie_check(hdr, "bob-diary", priv));
	snprintf(hdr, sizeof(hdr), "podium_app_x=%s;theme=dark", c);
	assert_true(ticket_cookie_check(hdr, "alice-diary", priv));
	/* a session cookie's hash is no bearer token */
	{
		int ok;

		assert_false(route_target_token(priv, "Bearer the session cookie", &ok));
	}
	/* the space's epoch changed (made public and private again, deleted and made
	 * again): the cookie stops */
	route_target_set_epoch(priv, 78);
	assert_false(ticket_cookie_check(hdr, "alice-diary", priv));
	route_target_set_epoch(priv, 77);
	/* the session ended (a new snapshot without it), or expired */
	k = route_tokens_new();
	routes_tokens_publish(k);
	assert_false(ticket_cookie_check(hdr, "alice-diary", priv));
	k = route_tokens_new();
	route_tokens_add_session(k, session, "alice", 0, (int64_t)time(NULL) - 1);
	routes_tokens_publish(k);
	assert_false(ticket_cookie_check(hdr, "alice-diary", priv));
	/* its user may no longer pass: another user's session, an admin no more */
	k = route_tokens_new();
	route_tokens_add_session(k, session, "bob", 1, (int64_t)time(NULL) + 60);
	routes_tokens_publish(k);
	assert_true(ticket_cookie_check(hdr, "alice-diary", priv));
	k = route_tokens_new();
	route_tokens_add_session(k, session, "bob", 0, (int64_t)time(NULL) + 60);
	routes_tokens_publish(k);
	assert_false(ticket_cookie_check(hdr, "alice-diary", priv));
	/* minted from a token: as long as the token lives */
	route_cred_id(token, cl.cred);
	assert_int_equal(ticket_make('c', "alice-diary", 3600, &cl, old, sizeof(old)), 0);
	snprintf(hdr, sizeof(hdr), "podium_app=%s", old);
	k = route_tokens_new();
	route_tokens_add(k, token, "alice", 0);
	routes_tokens_publish(k);
	assert_true(ticket_cookie_check(hdr, "alice-diary", priv));
	routes_tokens_publish(route_tokens_new());
	assert_false(ticket_cookie_check(hdr, "alice-diary", priv));
	/* a URL ticket is no cookie, and only these two names count */
	snprintf(hdr, sizeof(hdr), "podium_app=%s", t);
	assert_false(ticket_cookie_check(hdr, "alice-diary", priv));
	snprintf(hdr, sizeof(hdr), "podium_apple=%s; xpodium_app=%s", c, c);
	assert_false(ticket_cookie_check(hdr, "alice-diary", priv));
	assert_false(ticket_cookie_check("", "alice-diary", priv));
	assert_false(ticket_cookie_check("podium_app=", "alice-diary", priv));
	routes_clear();
	route_target_unref(priv);
}

static void
assert_unsigned(const char *url, const char *want, const char *value)
{
	const char *v = NULL;
	size_t vn = 0;
	char *got = url_without_param(url, TICKET_PARAM, &v, &vn);

	if (want == NULL) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, want);
	assert_int_equal(vn, strlen(value));
	assert_memory_equal(v, value, vn);
	free(got);
}

static void
test_url_without_ticket(void **state)
{
	(void)state;
	assert_unsigned("/?__sign=T1", "/", "T1");
	assert_unsigned("/app?__sign=T1", "/app", "T1");
	assert_unsigned("/app?__sign=T1&x=1", "/app?x=1", "T1");
	assert_unsigned("/app?x=1&__sign=T1", "/app?x=1", "T1");
	assert_unsigned("/app?x=1&__sign=T1&y=2", "/app?x=1&y=2", "T1");
	assert_unsigned("/app?__sign=T1&__sign=T2", "/app?__sign=T2", "T1");
	assert_unsigned("/app", NULL, NULL);
	assert_unsigned("/app?x=__sign=T", NULL, NULL);
	assert_unsigned("/app?__sign=", "/app", "");  /* an empty ticket, which ticket_check refuses */
	assert_unsigned("/app?__signx=T", NULL, NULL);
}

static int
setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	ticket_init();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_normalize),
		cmocka_unit_test(test_host_hub),
		cmocka_unit_test(test_host_subdomain),
		cmocka_unit_test(test_tickets),
		cmocka_unit_test(test_ticket_cookie),
		cmocka_unit_test(test_url_without_ticket),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
