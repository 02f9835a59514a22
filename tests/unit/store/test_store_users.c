/* store_users.c: schema v5 on an older database (the bootstrap admin stays admin),
 * users, token roles, sessions (expired and disabled ones are not found), and
 * store_data_version moving when another connection commits (each case on both
 * backends, backends.h). */
#include <errno.h>
#include <poll.h>
#include <time.h>

#include "tests/unit/store/backends.h"

static void
test_v4_database_gains_users(void **state)
{
	char *path = test_where(state);
	store *st;
	user_row u;
	int64_t id;

	/* v4: no roles, passwords, token roles or sessions; admin and bob exist */
	test_at_version(path, 4, "INSERT INTO users (name, created) VALUES ('admin', 1), ('bob', 1);");
	assert_int_equal(store_open(path, &st), 0);
	assert_int_equal(store_user_get(st, "admin", &u), 0);
	assert_true(u.admin && !u.disabled && !u.has_password);
	assert_int_equal(store_user_get(st, "bob", &u), 0);
	assert_false(u.admin);
	assert_int_equal(store_user_add(st, "bob", 0, NULL, &id), -EEXIST);
	assert_int_equal(store_user_get(st, "nobody", &u), -ENOENT);
	store_close(st);
	test_done(path);
}

static void
test_sessions_and_roles(void **state)
{
	char *path = test_where(state);
	unsigned char h1[32], h2[32], hash[32] = { 0 };
	char csrf[64], *user = NULL, *pw = NULL;
	store *st;
	int64_t id;
	int write = -1;

	memset(h1, 1, sizeof(h1));
	memset(h2, 2, sizeof(h2));
	assert_int_equal(store_open(path, &st), 0);
	assert_int_equal(store_user_add(st, "carol", 0, "$argon2id$fake", &id), 0);
	assert_int_equal(store_user_password(st, "carol", &pw), 0);
	assert_string_equal(pw, "$argon2id$fake");
	free(pw);
	/* tokens: a read one */
	assert_int_equal(store_token_add(st, id, "pdm_aaaaaaaa", hash), 0);
	assert_int_equal(store_token_label_last(st, 0, "ci"), 0);
	assert_int_equal(store_token_role(st, "pdm_aaaaaaaa", &write), 0);
	assert_int_equal(write, 0);
	assert_int_equal(store_token_role(st, "pdm_bbbbbbbb", &write), -ENOENT);
	/* sessions: live, expired */
	assert_int_equal(store_session_add(st, h1, id, "c1", (int64_t)time(NULL) + 60), 0);
	assert_int_equal(store_session_add(st, h2, id, "c2", (int64_t)time(NULL) - 1), 0);
	assert_int_equal(store_session_find(st, h1, &user, csrf, sizeof(csrf)), 0);
	assert_string_equal(user, "carol");
	assert_string_equal(csrf, "c1");
	free(user);
	assert_int_equal(store_session_find(st, h2, &user, csrf, sizeof(csrf)), -ENOENT);
	/* a disabled user: no password, no session, no token */
	assert_int_equal(store_user_set_disabled(st, "carol", 1), 0);
	assert_int_equal(store_session_find(st, h1, &user, csrf, sizeof(csrf)), -ENOENT);
	assert_int_equal(store_user_password(st, "carol", &pw), -ENOENT);
	assert_int_equal(store_token_find(st, "pdm_aaaaaaaa", hash, &user), -ENOENT);
	assert_int_equal(store_user_set_disabled(st, "carol", 0), 0);
	/* its sessions ended with the disabling */
	assert_int_equal(store_session_find(st, h1, &user, csrf, sizeof(csrf)), -ENOENT);
	assert_int_equal(store_token_find(st, "pdm_aaaaaaaa", hash, &user), 0);
	free(user);
	assert_int_equal(store_user_set_admin(st, "nobody", 1), -ENOENT);
	store_close(st);
	test_done(path);
}

/* Another connection's commit moves the version, one's own does not. On
 * PostgreSQL the notification comes a moment after the commit: the test waits
 * for the store's descriptor, not for a time. */
static int64_t
version_after_change(store *st, int64_t before)
{
	int64_t v = before;
	int fd = store_changes_fd(st);

	assert_int_equal(store_data_version(st, &v), 0);
	/* its own notifications wake it too; 30 s without any: none is coming */
	for (int i = 0; fd >= 0 && v == before && i < 100; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 30000) <= 0)
			break;
		assert_int_equal(store_data_version(st, &v), 0);
	}
	return v;
}

static void
test_data_version_sees_other_connections(void **state)
{
	char *path = test_where(state);
	store *a, *b;
	int64_t v1, v2, v3;

	assert_int_equal(store_open(path, &a), 0);
	assert_int_equal(store_open(path, &b), 0);
	assert_int_equal(store_data_version(a, &v1), 0);
	assert_int_equal(store_user_add(a, "own", 0, NULL, NULL), 0);
	/* another's change after one's own: only the other's counts */
	assert_int_equal(store_user_add(b, "other", 0, NULL, NULL), 0);
	v2 = version_after_change(a, v1);
	assert_true(v2 != v1);
	assert_int_equal(store_user_add(a, "own2", 0, NULL, NULL), 0);
	assert_int_equal(store_space_delete(a, 99), 0);
	assert_int_equal(store_data_version(a, &v3), 0);
	assert_true(v3 == v2);  /* its own commits do not count */
	store_close(a);
	store_close(b);
	test_done(path);
}

/* Names sort by their bytes on both (sqlite's BINARY, PostgreSQL's "C"). */
static void
collect_name(const user_row *u, void *arg)
{
	char *s = arg;

	strcat(s, u->name);
	strcat(s, " ");
}

static void
test_users_sorted_by_bytes(void **state)
{
	char *path = test_where(state), names[64] = "";
	store *st;

	assert_int_equal(store_open(path, &st), 0);
	assert_int_equal(store_user_add(st, "b", 0, NULL, NULL), 0);
	assert_int_equal(store_user_add(st, "a-z", 0, NULL, NULL), 0);
	assert_int_equal(store_user_add(st, "B", 0, NULL, NULL), 0);
	assert_int_equal(store_user_add(st, "a", 0, NULL, NULL), 0);
	assert_int_equal(store_users_list(st, collect_name, names), 0);
	assert_string_equal(names, "B a a-z b ");
	store_close(st);
	test_done(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_v4_database_gains_users),
		BOTH(test_sessions_and_roles),
		BOTH(test_data_version_sees_other_connections),
		BOTH(test_users_sorted_by_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
