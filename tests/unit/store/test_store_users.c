/* store_users.c: schema v5 on an older database (the bootstrap admin stays admin),
 * users, token roles, sessions (expired and disabled ones are not found), and
 * PRAGMA data_version moving when another connection commits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "orchestrator/store/store.h"
#include "common/util.h"

static char *
temp_db(void)
{
	char tmpl[] = "/tmp/podium-users-XXXXXX";
	char *dir = mkdtemp(tmpl);

	assert_non_null(dir);
	return xasprintf("%s/podium.db", dir);
}

static void
test_v4_database_gains_users(void **state)
{
	char *path = temp_db();
	sqlite3 *db;
	store *st;
	user_row u;
	int64_t id;

	(void)state;
	assert_int_equal(store_open(path, &st), 0);
	store_close(st);
	/* back to v4: no roles, passwords, token roles or sessions; admin and bob exist */
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP TABLE sessions; ALTER TABLE users DROP COLUMN role;"
	    " ALTER TABLE users DROP COLUMN password; ALTER TABLE users DROP COLUMN disabled;"
	    " ALTER TABLE tokens DROP COLUMN role; ALTER TABLE tokens DROP COLUMN name;"
	    " INSERT INTO users (name, created) VALUES ('admin', 1), ('bob', 1);"
	    " DROP TABLE space_list_tags; DROP INDEX spaces_created; DROP INDEX spaces_modified;"
	    " ALTER TABLE spaces DROP COLUMN modified;"
	    " PRAGMA user_version = 4", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(path, &st), 0);
	assert_int_equal(store_user_get(st, "admin", &u), 0);
	assert_true(u.admin && !u.disabled && !u.has_password);
	assert_int_equal(store_user_get(st, "bob", &u), 0);
	assert_false(u.admin);
	assert_int_equal(store_user_add(st, "bob", 0, NULL, &id), -EEXIST);
	assert_int_equal(store_user_get(st, "nobody", &u), -ENOENT);
	store_close(st);
	unlink(path);
	free(path);
}

static void
test_sessions_and_roles(void **state)
{
	char *path = temp_db();
	unsigned char h1[32], h2[32], hash[32] = { 0 };
	char csrf[64], *user = NULL, *pw = NULL;
	store *st;
	int64_t id;
	int write = -1;

	(void)state;
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
	unlink(path);
	free(path);
}

static void
test_data_version_sees_other_connections(void **state)
{
	char *path = temp_db();
	store *a, *b;
	int64_t v1, v2, v3;

	(void)state;
	assert_int_equal(store_open(path, &a), 0);
	assert_int_equal(store_open(path, &b), 0);
	assert_int_equal(store_data_version(a, &v1), 0);
	assert_int_equal(store_user_add(a, "own", 0, NULL, NULL), 0);
	assert_int_equal(store_data_version(a, &v2), 0);
	assert_true(v1 == v2);  /* its own commits do not count */
	assert_int_equal(store_user_add(b, "other", 0, NULL, NULL), 0);
	assert_int_equal(store_data_version(a, &v3), 0);
	assert_true(v3 != v2);
	store_close(a);
	store_close(b);
	unlink(path);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4_database_gains_users),
		cmocka_unit_test(test_sessions_and_roles),
		cmocka_unit_test(test_data_version_sees_other_connections),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
