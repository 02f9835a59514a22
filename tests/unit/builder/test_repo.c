/* The repository face of builder/git.h on a temporary bare repository: commits
 * made of files (start, add, remove, write, the compare-and-swap on main), then
 * the reads (tree, files, history, one file, main's date), and path checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builder/git.h"
#include "common/util.h"

static char repo[256];
static char err[512];

static int
setup(void **state)
{
	char tmpl[] = "/tmp/podium-test-repo-XXXXXX";

	if (mkdtemp(tmpl) == NULL)
		return -1;
	snprintf(repo, sizeof(repo), "%s/r.git", tmpl);
	return builder_repo_init(repo);
}

static int
teardown(void **state)
{
	char *cmd = xasprintf("rm -rf '%.*s'", (int)(strrchr(repo, '/') - repo), repo);
	int r = system(cmd);

	free(cmd);
	return r == 0 ? 0 : -1;
}

/* One commit of files (path, content pairs, NULL-terminated) on main. */
static void
commit_files(const char *parent, const char *message, const char *const *files, char sha[41])
{
	builder_commit *c = NULL;

	assert_int_equal(builder_commit_start(repo, parent, &c, err, sizeof(err)), 0);
	for (; files[0] != NULL; files += 2)
		assert_int_equal(builder_commit_add(c, files[0], files[1], strlen(files[1]), err,
		    sizeof(err)), 0);
	assert_int_equal(builder_commit_write(c, "alice", "alice@example.org", message, sha, err,
	    sizeof(err)), 0);
	builder_commit_free(c);
	assert_int_equal(strlen(sha), 40);
}

/* The "path" members of a tree listing, joined by spaces. */
static char *
paths(json_t *arr)
{
	char *out = xstrdup("");
	json_t *e;
	size_t i;

	json_array_foreach(arr, i, e) {
		char *n = xasprintf("%s%s%s", out, i > 0 ? " " : "",
		    json_string_value(json_object_get(e, "path")));

		free(out);
		out = n;
	}
	return out;
}

static void
test_empty_repository(void **state)
{
	json_t *j = NULL;
	char sha[41], date[32];
	builder_blob b;
	long total;

	assert_int_equal(builder_repo_tree(repo, "main", "", 0, &j), 0);
	assert_true(json_is_array(j) && json_array_size(j) == 0);
	json_decref(j);
	assert_int_equal(builder_repo_tree(repo, "main", "src", 0, &j), -ESRCH);
	assert_int_equal(builder_repo_tree(repo, "other", "", 0, &j), -ESRCH);
	assert_int_equal(builder_repo_files(repo, "HEAD", sha, &j), 0);
	assert_string_equal(sha, "");
	assert_int_equal(json_array_size(j), 0);
	json_decref(j);
	assert_int_equal(builder_repo_log(repo, "main", 0, 10, &j, &total), -ESRCH);
	assert_int_equal(builder_repo_blob(repo, "main", "a.txt", &b), -ESRCH);
	assert_int_equal(builder_repo_date(repo, date), -ESRCH);
	assert_int_equal(builder_repo_tree("/nonexistent/repo.git", "main", "", 0, &j), -EIO);
}

static void
test_commit_and_read(void **state)
{
	static const char *const first[] = { "README.md", "# hi\n", "src/app.py", "print(1)\n",
		"src/lib/util.py", "x = 1\n", NULL };
	static const char *const second[] = { "README.md", "# hello\n", NULL };
	char sha1[41], sha2[41], sha[41], date[32], *p;
	json_t *j = NULL;
	builder_blob b;
	long total;

	commit_files(NULL, "first\n\nthe body\n", first, sha1);
	commit_files(sha1, "second\n", second, sha2);

	/* the root, one level; a directory; recursive */
	assert_int_equal(builder_repo_tree(repo, "main", "", 0, &j), 0);
	p = paths(j);
	assert_string_equal(p, "README.md src");
	free(p);
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 1), "type")),
	    "directory");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(j, 0), "size")), 8);
	json_decref(j);
	assert_int_equal(builder_repo_tree(repo, sha1, "src", 1, &j), 0);
	p = paths(j);
	assert_string_equal(p, "src/app.py src/lib src/lib/util.py");
	free(p);
	json_decref(j);
	assert_int_equal(builder_repo_tree(repo, "main", "nope", 0, &j), -ENOENT);
	assert_int_equal(builder_repo_tree(repo, "main", "README.md", 0, &j), -ENOENT);
	assert_int_equal(builder_repo_tree(repo, "main", "../etc", 0, &j), -ENOENT);

	/* revisions: names, HEAD, shas and their prefixes; no revision syntax */
	assert_int_equal(builder_repo_files(repo, "HEAD", sha, &j), 0);
	assert_string_equal(sha, sha2);
	assert_int_equal(json_array_size(j), 3);
	json_decref(j);
	p = xstrndup(sha1, 7);
	assert_int_equal(builder_repo_files(repo, p, sha, &j), 0);
	assert_string_equal(sha, sha1);
	json_decref(j);
	free(p);
	assert_int_equal(builder_repo_files(repo, "main~1", sha, &j), -ESRCH);
	assert_int_equal(builder_repo_files(repo, "-main", sha, &j), -ESRCH);

	/* history, newest first, paged */
	assert_int_equal(builder_repo_log(repo, "main", 0, 10, &j, &total), 0);
	assert_int_equal(total, 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "id")), sha2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 1), "title")), "first");
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 1), "message")),
	    "first\n\nthe body\n");
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(
	    json_array_get(j, 0), "authors"), 0), "user")), "alice");
	json_decref(j);
	assert_int_equal(builder_repo_log(repo, "main", 1, 10, &j, &total), 0);
	assert_int_equal(json_array_size(j), 1);
	assert_int_equal(total, 2);
	json_decref(j);

	/* one file's bytes, at main and at the first commit */
	assert_int_equal(builder_repo_blob(repo, "main", "README.md", &b), 0);
	assert_int_equal(b.size, 8);
	assert_memory_equal(b.data, "# hello\n", 8);
	assert_string_equal(b.commit, sha2);
	assert_int_equal(strlen(b.oid), 40);
	builder_blob_release(&b);
	assert_int_equal(builder_repo_blob(repo, sha1, "README.md", &b), 0);
	assert_memory_equal(b.data, "# hi\n", 5);
	builder_blob_release(&b);
	assert_int_equal(builder_repo_blob(repo, "main", "src", &b), -ENOENT);
	assert_int_equal(builder_repo_blob(repo, "main", "missing", &b), -ENOENT);
	assert_int_equal(builder_repo_blob(repo, "v9", "README.md", &b), -ESRCH);
	assert_int_equal(builder_repo_date(repo, date), 0);
	assert_int_equal(strlen(date), 24);
	assert_int_equal(date[10], 'T');
}

/* A file's history skips the commits that leave it alone; a commit's diff has
 * each file's status, counts and lines, renames found, binaries without lines,
 * and a cap on lines. */
static void
test_file_history_and_diff(void **state)
{
	static const char *const one[] = { "a.txt", "1\n2\n3\n", "b.txt", "b\n", NULL };
	static const char *const two[] = { "a.txt", "1\nTWO\n3\n", NULL };
	static const char *const three[] = { "b.txt", "b\nmore\n", NULL };
	char sha1[41], sha2[41], sha3[41];
	builder_commit *c = NULL;
	json_t *j = NULL, *f;
	long total;

	commit_files(NULL, "one\n", one, sha1);
	commit_files(sha1, "two\n", two, sha2);
	commit_files(sha2, "three\n", three, sha3);
	assert_int_equal(builder_repo_path_log(repo, "main", "a.txt", 0, 10, &j, &total), 0);
	assert_int_equal(total, 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "id")), sha2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 1), "id")), sha1);
	json_decref(j);
	assert_int_equal(builder_repo_path_log(repo, "main", "a.txt", 1, 10, &j, &total), 0);
	assert_int_equal(json_array_size(j), 1);
	assert_int_equal(total, 2);
	json_decref(j);
	assert_int_equal(builder_repo_path_log(repo, "main", "../x", 0, 10, &j, &total), -ENOENT);

	assert_int_equal(builder_repo_commit_diff(repo, sha2, 1000, &j), 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "commit"), "id")), sha2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "parents"), 0)), sha1);
	f = json_array_get(json_object_get(j, "files"), 0);
	assert_string_equal(json_string_value(json_object_get(f, "path")), "a.txt");
	assert_string_equal(json_string_value(json_object_get(f, "status")), "modified");
	assert_int_equal(json_integer_value(json_object_get(f, "additions")), 1);
	assert_int_equal(json_integer_value(json_object_get(f, "deletions")), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(f, "lines"), 0)),
	    "@@ -1,3 +1,3 @@");
	assert_string_equal(json_string_value(json_array_get(json_object_get(f, "lines"), 2)), "-2");
	assert_string_equal(json_string_value(json_array_get(json_object_get(f, "lines"), 3)), "+TWO");
	json_decref(j);
	/* the first commit: everything added; a cap of 2 lines truncates */
	assert_int_equal(builder_repo_commit_diff(repo, sha1, 2, &j), 0);
	assert_int_equal(json_array_size(json_object_get(j, "files")), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(j, "files"),
	    0), "status")), "added");
	assert_true(json_is_true(json_object_get(j, "truncated")));
	json_decref(j);
	/* a rename and a binary file */
	assert_int_equal(builder_commit_start(repo, sha3, &c, err, sizeof(err)), 0);
	assert_int_equal(builder_commit_remove(c, "a.txt", 0, err, sizeof(err)), 0);
	assert_int_equal(builder_commit_add(c, "renamed.txt", "1\nTWO\n3\n", 8, err, sizeof(err)), 0);
	assert_int_equal(builder_commit_add(c, "bin.dat", "\0\1\2\0", 4, err, sizeof(err)), 0);
	assert_int_equal(builder_commit_write(c, "alice", "a@example.org", "mv", sha1, err,
	    sizeof(err)), 0);
	builder_commit_free(c);
	assert_int_equal(builder_repo_commit_diff(repo, "main", 1000, &j), 0);
	json_array_foreach(json_object_get(j, "files"), total, f) {
		const char *path = json_string_value(json_object_get(f, "path"));

		if (strcmp(path, "renamed.txt") == 0) {
			assert_string_equal(json_string_value(json_object_get(f, "status")), "renamed");
			assert_string_equal(json_string_value(json_object_get(f, "oldPath")), "a.txt");
		} else {
			assert_string_equal(path, "bin.dat");
			assert_true(json_is_true(json_object_get(f, "binary")));
			assert_null(json_object_get(f, "lines"));
		}
	}
	assert_int_equal(json_array_size(json_object_get(j, "files")), 2);
	json_decref(j);
	assert_int_equal(builder_repo_commit_diff(repo, "nope", 10, &j), -ESRCH);
}

static void
test_commit_changes(void **state)
{
	static const char *const base[] = { "a.txt", "a", "dir/b.txt", "b", "dir/c.txt", "c", NULL };
	char sha1[41], sha2[41], other[41], *p;
	builder_commit *c = NULL, *late = NULL;
	json_t *j = NULL;

	commit_files(NULL, "base\n", base, sha1);
	/* a parent that is not main's tip, or too short a prefix: refused */
	assert_int_equal(builder_commit_start(repo, "0000000", &c, err, sizeof(err)), -ESTALE);
	assert_non_null(strstr(err, "not the tip of main"));
	builder_commit_free(c);
	assert_int_equal(builder_commit_start(repo, "abc", &c, err, sizeof(err)), -ESTALE);
	builder_commit_free(c);

	/* deletions: a file, a folder; what is not there; bad paths */
	assert_int_equal(builder_commit_start(repo, sha1, &c, err, sizeof(err)), 0);
	assert_int_equal(builder_commit_start(repo, NULL, &late, err, sizeof(err)), 0);
	assert_int_equal(builder_commit_remove(c, "a.txt", 0, err, sizeof(err)), 0);
	assert_int_equal(builder_commit_remove(c, "a.txt", 0, err, sizeof(err)), -ENOENT);
	assert_int_equal(builder_commit_remove(c, "dir", 1, err, sizeof(err)), 0);
	assert_int_equal(builder_commit_remove(c, "../x", 0, err, sizeof(err)), -EINVAL);
	assert_int_equal(builder_commit_add(c, ".git/config", "x", 1, err, sizeof(err)), -EINVAL);
	/* a file where a directory was */
	assert_int_equal(builder_commit_add(c, "dir", "now a file", 10, err, sizeof(err)), 0);
	assert_int_equal(builder_commit_write(c, "bob", "bob@example.org", "change\n", sha2, err,
	    sizeof(err)), 0);
	builder_commit_free(c);
	assert_int_equal(builder_repo_tree(repo, "main", "", 1, &j), 0);
	p = paths(j);
	assert_string_equal(p, "dir");
	free(p);
	json_decref(j);

	/* a commit begun before main moved does not move it back */
	assert_int_equal(builder_commit_add(late, "late.txt", "l", 1, err, sizeof(err)), 0);
	assert_int_equal(builder_commit_write(late, "bob", "bob@example.org", "late\n", other, err,
	    sizeof(err)), -EAGAIN);
	assert_non_null(strstr(err, "main moved"));
	builder_commit_free(late);
	assert_int_equal(builder_repo_files(repo, "main", other, &j), 0);
	assert_string_equal(other, sha2);
	json_decref(j);
}

static void
test_path_valid(void **state)
{
	static const char *const good[] = { "a", "README.md", "src/app.py", ".gitignore",
		"a/.github/x", "dir/..x", NULL };
	static const char *const bad[] = { "", "/abs", "a//b", "a/", ".", "..", "a/../b", "./a",
		".git", "a/.GIT/config", "a\\b", "tab\there", "del\x7f", NULL };

	for (int i = 0; good[i] != NULL; i++)
		assert_true(builder_repo_path_valid(good[i]));
	for (int i = 0; bad[i] != NULL; i++)
		assert_false(builder_repo_path_valid(bad[i]));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty_repository, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_and_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_history_and_diff, setup, teardown),
		cmocka_unit_test(test_path_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
