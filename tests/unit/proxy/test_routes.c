/* proxy/routes.c: the route table and the token snapshot private hosts are checked against (cmocka). */
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
#include <sodium.h>

#include "common/util.h"
#include "proxy/routes.h"

static void
test_routes(void **state)
{
	route_target *t;

	(void)state;
	assert_null(routes_lookup("nobody-here"));
	routes_set("admin-demo", route_target_static("admin/demo", "/srv/rel/1"));
	t = routes_lookup("admin-demo");
	assert_non_null(t);
	assert_int_equal(t->kind, ROUTE_STATIC);
	assert_string_equal(t->static_root, "/srv/rel/1");
	/* Replacing the route keeps the old target alive for holders of a reference. */
	routes_set("admin-demo", route_target_status(ROUTE_STARTING, "admin/demo", "starting"));
	assert_string_equal(t->static_root, "/srv/rel/1");
	route_target_unref(t);
	t = routes_lookup("admin-demo");
	assert_int_equal(t->kind, ROUTE_STARTING);
	route_target_unref(t);
	routes_remove("admin-demo");
	assert_null(routes_lookup("admin-demo"));
	routes_clear();
}

static void
test_route_tokens(void **state)
{
	route_target *priv = route_target_static("Bob/diary", "/srv/rel/1");
	route_target *pub = route_target_static("bob/blog", "/srv/rel/2");
	unsigned char h[32];
	char token[64], basic[160], enc[128];
	route_tokens *k;
	int pass = -1;

	(void)state;
	assert_int_equal(sodium_init() >= 0, 1);
	route_target_set_private(priv, "Bob");
	/* Authorization values */
	assert_int_equal(route_auth_token("Bearer abc", token, sizeof(token)), 0);
	assert_string_equal(token, "abc");
	assert_int_equal(route_auth_token("bearer   abc", token, sizeof(token)), 0);
	assert_string_equal(token, "abc");
	sodium_bin2base64(enc, sizeof(enc), (const unsigned char *)"git:pdm_x", 9,
	    sodium_base64_VARIANT_ORIGINAL);
	snprintf(basic, sizeof(basic), "Basic %s", enc);
	assert_int_equal(route_auth_token(basic, token, sizeof(token)), 0);
	assert_string_equal(token, "pdm_x");
	assert_int_equal(route_auth_token("Basic !!!", token, sizeof(token)), -ENOENT);
	assert_int_equal(route_auth_token("Token abc", token, sizeof(token)), -ENOENT);
	assert_int_equal(route_auth_token("Bearer abcdefgh", token, 4), -ENOENT);

	/* nothing published: no token is valid */
	assert_int_equal(route_target_token(priv, "Bearer bob-token", &pass), 0);
	assert_int_equal(pass, 0);

	k = route_tokens_new();
	route_token_hash("carol-token", h);
	route_tokens_add(k, h, "carol", 0);
	route_token_hash("bob-token", h);
	route_tokens_add(k, h, "bob", 0);
	route_token_hash("admin-token", h);
	route_tokens_add(k, h, "admin", 1);
	routes_tokens_publish(k);
	assert_int_equal(route_target_token(priv, "Bearer bob-token", &pass), 1);
	assert_int_equal(pass, 1); /* the owner, whatever the case of the name */
	assert_int_equal(route_target_token(priv, "Bearer admin-token", &pass), 1);
	assert_int_equal(pass, 1);
	assert_int_equal(route_target_token(priv, "Bearer carol-token", &pass), 1);
	assert_int_equal(pass, 0); /* valid, but not hers */
	assert_int_equal(route_target_token(priv, "Bearer dave-token", &pass), 0);
	assert_int_equal(pass, 0);
	assert_int_equal(route_target_token(pub, "Bearer carol-token", &pass), 1);
	assert_int_equal(pass, 1); /* public: any valid token passes (and is stripped) */
	assert_int_equal(route_target_token(pub, "Bearer app-own", &pass), 0);

	/* a new snapshot replaces the old one whole */
	k = route_tokens_new();
	route_token_hash("bob-token-2", h);
	route_tokens_add(k, h, "bob", 0);
	routes_tokens_publish(k);
	assert_int_equal(route_target_token(priv, "Bearer bob-token", &pass), 0);
	assert_int_equal(route_target_token(priv, "Bearer bob-token-2", &pass), 1);
	assert_int_equal(pass, 1);
	routes_clear();
	assert_int_equal(route_target_token(priv, "Bearer bob-token-2", &pass), 0);
	route_target_unref(priv);
	route_target_unref(pub);
}

/* Where an Authorization value holds a podium token: Bearer, or git's Basic
 * with the token as the password (the user name does not matter). */
static void
test_auth_token_spellings(void **state)
{
	static const struct {
		const char *plain;      /* Basic: base64 of this */
		const char *want;
	} basic[] = {
		{ "git:pdm_x", "pdm_x" },
		{ ":pdm_x", "pdm_x" },
		{ "pdm_x", "pdm_x" },       /* no user at all */
		{ "u:pdm:x", "pdm:x" },     /* the first colon ends the user */
	};
	char token[64], enc[128], value[160];

	(void)state;
	assert_int_equal(sodium_init() >= 0, 1);
	assert_int_equal(route_auth_token("BEARER abc", token, sizeof(token)), 0);
	assert_string_equal(token, "abc");
	for (size_t i = 0; i < sizeof(basic) / sizeof(basic[0]); i++) {
		sodium_bin2base64(enc, sizeof(enc), (const unsigned char *)basic[i].plain,
		    strlen(basic[i].plain), sodium_base64_VARIANT_ORIGINAL);
		snprintf(value, sizeof(value), "basic  %s", enc);
		assert_int_equal(route_auth_token(value, token, sizeof(token)), 0);
		assert_string_equal(token, basic[i].want);
		/* too long for the caller's buffer: no token, not a cut one */
		assert_int_equal(route_auth_token(value, token, strlen(basic[i].want)), -ENOENT);
	}
	assert_int_equal(route_auth_token("Bearer", token, sizeof(token)), -ENOENT);
	assert_int_equal(route_auth_token("BearerX abc", token, sizeof(token)), -ENOENT);
	assert_int_equal(route_auth_token("Digest abc", token, sizeof(token)), -ENOENT);
	assert_int_equal(route_auth_token("", token, sizeof(token)), -ENOENT);
	assert_int_equal(route_auth_token("Basic", token, sizeof(token)), -ENOENT);
}

struct reader {
	const route_target *t;
	int misses;
	volatile int *stop;
};

static void *
token_reader(void *arg)
{
	struct reader *r = arg;
	int pass;

	while (!*r->stop)
		if (route_target_token(r->t, "Bearer stable", &pass) != 1 || pass != 1)
			r->misses++;
	return NULL;
}

/* Loops look tokens up while the main loop republishes: every lookup sees a whole
 * snapshot (the token in all of them is always found), none a freed one (ASan). */
static void
test_route_tokens_republish_under_readers(void **state)
{
	route_target *priv = route_target_static("bob/x", "/srv/rel/1");
	volatile int stop = 0;
	struct reader r[2] = { { priv, 0, &stop }, { priv, 0, &stop } };
	pthread_t th[2];
	unsigned char h[32];
	char other[32];

	(void)state;
	route_target_set_private(priv, "bob");
	route_token_hash("stable", h);
	for (int round = 0; round < 2000; round++) {
		route_tokens *k = route_tokens_new();

		for (int i = 0; i < round % 20; i++) {
			unsigned char oh[32];

			snprintf(other, sizeof(other), "other-%d-%d", round, i);
			route_token_hash(other, oh);
			route_tokens_add(k, oh, "carol", 0);
		}
		route_tokens_add(k, h, "bob", 0);
		routes_tokens_publish(k);
		if (round == 0)
			for (int i = 0; i < 2; i++)
				assert_int_equal(pthread_create(&th[i], NULL, token_reader, &r[i]), 0);
	}
	stop = 1;
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(r[0].misses + r[1].misses, 0);
	routes_clear();
	route_target_unref(priv);
}

/* One counter per instance, shared by every target published for it, outliving
 * the targets and the orchestrator's own reference while the proxy holds one. */
static void
test_route_exchanges(void **state)
{
	route_exchanges *x = route_exchanges_new();
	route_target *a = route_target_app("o/n", -1, 7860, 1);
	route_target *b = route_target_app("o/n", -1, 7860, 1);

	(void)state;
	route_target_set_exchanges(a, x);
	route_target_set_exchanges(b, x);
	route_exchanges_add(a->exchanges, +1);
	route_exchanges_add(b->exchanges, +1);
	assert_int_equal(route_exchanges_open(x), 2);
	route_target_unref(a);
	route_target_unref(b);
	route_exchanges *held = route_exchanges_ref(x); /* an upstream connection's */
	route_exchanges_unref(x);
	route_exchanges_add(held, -1);
	assert_int_equal(route_exchanges_open(held), 1);
	route_exchanges_unref(held);
	route_exchanges_unref(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_route_tokens),
		cmocka_unit_test(test_auth_token_spellings),
		cmocka_unit_test(test_route_tokens_republish_under_readers),
		cmocka_unit_test(test_route_exchanges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
