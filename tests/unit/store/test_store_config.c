/* store.c's space_config table: a v2 database gains it, variables and secrets share
 * one name space, rows go with their space (each case on both backends,
 * backends.h). */
#include <errno.h>

#include "tests/unit/store/backends.h"

typedef struct seen {
	char keys[8][32];
	char values[8][32];
	int n;
} seen;

static void
collect(const config_row *r, void *arg)
{
	seen *s = arg;

	assert_true(s->n < 8);
	snprintf(s->keys[s->n], sizeof(s->keys[0]), "%s", r->key);
	snprintf(s->values[s->n], sizeof(s->values[0]), "%.*s", (int)r->value_len,
	    (const char *)r->value);
	assert_true(r->updated > 0);
	s->n++;
}

static int64_t
add_space(store *st, const char *name)
{
	space_row r = { 0 };

	r.owner = xstrdup("admin");
	r.name = xstrdup(name);
	r.subdomain = xasprintf("admin-%s", name);
	r.sdk = xstrdup("static");
	r.stage = xstrdup("NO_APP_FILE");
	assert_int_equal(store_space_insert(st, &r), 0);
	int64_t id = r.id;
	space_row_release(&r);
	return id;
}

static void
test_migrate_from_v2(void **state)
{
	char *path = test_where(state);
	store *st;
	seen s = { 0 };

	/* a database from before variables and secrets: version 2 (recovery columns),
	 * no space_config, space_hardware or space_settings, nor v5's users columns,
	 * nor v6's likes and gallery index */
	test_at_version(path, 2, NULL);
	assert_int_equal(store_open(path, &st), 0);
	int64_t id = add_space(st, "demo");
	assert_int_equal(store_config_set(st, id, 0, "A", "1", 1, NULL), 0);
	assert_int_equal(store_config_list(st, id, 0, collect, &s), 0);
	assert_int_equal(s.n, 1);
	char *flavor = NULL;
	assert_int_equal(store_hardware_get(st, id, &flavor), -ENOENT);
	assert_int_equal(store_hardware_set(st, id, "cpu-upgrade"), 0);
	assert_int_equal(store_hardware_get(st, id, &flavor), 0);
	assert_string_equal(flavor, "cpu-upgrade");
	free(flavor);
	store_close(st);
	test_done(path);
}

static void
test_kinds_and_cascade(void **state)
{
	char *path = test_where(state);
	store *st;
	seen s = { 0 };
	int64_t bytes = 0;

	assert_int_equal(store_open(path, &st), 0);
	int64_t id = add_space(st, "one"), other = add_space(st, "two");
	assert_int_equal(store_config_set(st, id, 0, "B_VAR", "bee", 3, "d"), 0);
	assert_int_equal(store_config_set(st, id, 0, "A_VAR", "x", 1, NULL), 0);
	assert_int_equal(store_config_set(st, id, 0, "A_VAR", "ay", 2, NULL), 0); /* replace */
	assert_int_equal(store_config_set(st, id, 1, "SEC", "\x01\x02sealed", 8, NULL), 0);
	/* one name, one kind */
	assert_int_equal(store_config_set(st, id, 1, "A_VAR", "z", 1, NULL), -EEXIST);
	assert_int_equal(store_config_set(st, id, 0, "SEC", "z", 1, NULL), -EEXIST);
	/* another space may use the name */
	assert_int_equal(store_config_set(st, other, 1, "A_VAR", "z", 1, NULL), 0);

	assert_int_equal(store_config_list(st, id, 0, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.keys[0], "A_VAR");
	assert_string_equal(s.values[0], "ay");
	assert_string_equal(s.keys[1], "B_VAR");
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_config_list(st, id, 1, collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(store_config_bytes(st, id, &bytes), 0);
	assert_int_equal(bytes, 5 + 2 + 5 + 3 + 3 + 8);

	assert_int_equal(store_config_delete(st, id, 1, "A_VAR"), -ENOENT); /* wrong kind */
	assert_int_equal(store_config_delete(st, id, 0, "A_VAR"), 0);
	assert_int_equal(store_config_delete(st, id, 0, "A_VAR"), -ENOENT);

	/* a deleted space takes its rows along */
	assert_int_equal(store_space_delete(st, id), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_config_list(st, id, -1, collect, &s), 0);
	assert_int_equal(s.n, 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_config_list(st, other, -1, collect, &s), 0);
	assert_int_equal(s.n, 1);
	store_close(st);
	test_done(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_migrate_from_v2),
		BOTH(test_kinds_and_cascade),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
