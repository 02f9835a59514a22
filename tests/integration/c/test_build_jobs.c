/* Repositories and build jobs: a real commit made with the git CLI, pushed into a
 * bare repo made by builder_repo_init, then built on a uv loop.
 *
 * Build steps run in build/podium-sandbox when it works on this host, else in a
 * stand-in script that runs the step in the release directory (same argv, same
 * --status-fd protocol), so the job logic is tested either way. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builder/build.h"
#include "builder/git.h"
#include "common/util.h"

static const char fake_sandbox[] =
    "#!/bin/sh\n"
    "src=; sfd=\n"
    "while [ $# -gt 0 ]; do\n"
    "  case \"$1\" in\n"
    "    --bind|--ro-bind) src=$2; shift 3;;\n"
    "    --env) export \"$2\"; shift 2;;\n"
    "    --status-fd) sfd=$2; shift 2;;\n"
    "    --) shift; break;;\n"
    "    --*) shift 2;;\n"
    "    *) echo \"fake-sandbox: bad argument $1\" >&2; exit 125;;\n"
    "  esac\n"
    "done\n"
    "cd \"$src\" || exit 125\n"
    "\"$@\"; rc=$?\n"
    "[ -n \"$sfd\" ] && eval \"echo '{\\\"exit_code\\\": '$rc'}' >&$sfd\"\n"
    "exit $rc\n";

typedef struct fixture {
	char *root, *repo, *work, *sandbox;
	int nrelease;
} fixture;

typedef struct outcome {
	int called;
	build_stage_result status;
	char message[1024];
	json_t *config;
} outcome;

static void
sh(const char *fmt, ...)
{
	char *cmd;
	va_list ap;
	int r;

	va_start(ap, fmt);
	assert_true(vasprintf(&cmd, fmt, ap) >= 0);
	va_end(ap);
	r = system(cmd);
	if (r != 0)
		fail_msg("command failed (%d): %s", r, cmd);
	free(cmd);
}

static void
write_file(const char *dir, const char *name, const char *text, mode_t mode)
{
	char *p = xasprintf("%s/%s", dir, name);
	char *slash = strrchr(p, '/');

	*slash = '\0';
	fs_mkdir_p(p, 0755);
	*slash = '/';
	assert_int_equal(fs_write_file(p, text, strlen(text), mode), 0);
	free(p);
}

static const char *
pick_sandbox(fixture *f)
{
	const char *env = getenv("PODIUM_SANDBOX");
	static const char *real = "build/podium-sandbox";

	if (env != NULL && env[0] != '\0' && strcmp(env, "fake") != 0)
		return xstrdup(env);
	if ((env == NULL || strcmp(env, "fake") != 0) && access(real, X_OK) == 0 && system("build/podium-sandbox --net host --bind /tmp "
	    "/home/user/app --chdir /home/user/app -- /bin/true >/dev/null 2>&1") == 0) {
		char *abs = realpath(real, NULL);

		fprintf(stderr, "# using %s\n", abs);
		return abs;
	}
	fprintf(stderr, "# build/podium-sandbox not usable here: using a stand-in script\n");
	write_file(f->root, "fake-sandbox", fake_sandbox, 0755);
	return xasprintf("%s/fake-sandbox", f->root);
}

static int
setup(void **state)
{
	char tmpl[] = "/tmp/podium-test-build-XXXXXX";
	fixture *f = xcalloc(1, sizeof(*f));

	assert_non_null(mkdtemp(tmpl));
	f->root = xstrdup(tmpl);
	f->repo = xasprintf("%s/repos/alice/demo.git", f->root);
	f->work = xasprintf("%s/work", f->root);
	f->sandbox = (char *)pick_sandbox(f);
	assert_int_equal(builder_repo_init(f->repo), 0);
	sh("git init -q -b main %s && cd %s && git config user.email t@example.com && "
	    "git config user.name Test", f->work, f->work);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fixture *f = *state;

	if (getenv("KEEP") == NULL) fs_rm_rf(f->root);
	free(f->root);
	free(f->repo);
	free(f->work);
	free(f->sandbox);
	free(f);
	return 0;
}

/* Commits the work tree as it is and pushes it by path; returns the new head. */
static void
commit_push(fixture *f, char sha[41])
{
	sh("cd %s && git add -A && git commit -q -m change && git push -q -f %s main 2>/dev/null",
	    f->work, f->repo);
	assert_int_equal(builder_repo_head(f->repo, sha), 0);
}

static void
build_done(build_job *job, const build_result *res, void *arg)
{
	outcome *o = arg;

	o->called++;
	o->status = res->status;
	snprintf(o->message, sizeof(o->message), "%s", res->message);
	if (res->status == BUILD_OK)
		o->config = app_config_to_json(&res->config);
}

static uint64_t
run_build(fixture *f, const char *sha, outcome *o, char **release)
{
	uv_loop_t *loop = uv_default_loop();
	build_request req = { 0 };
	build_job *job = NULL;
	uint64_t t0;

	memset(o, 0, sizeof(*o));
	*release = xasprintf("%s/releases/r%d", f->root, ++f->nrelease);
	req.repo_path = f->repo;
	req.sha = sha;
	req.release_dir = *release;
	req.log_path = xasprintf("%s/logs/build.log", f->root);
	req.sandbox_bin = f->sandbox;
	req.space_id = "alice/demo";
	req.host_uid = getuid();
	t0 = now_ms();
	assert_int_equal(builder_build_start(loop, &req, build_done, o, &job), 0);
	free((char *)req.log_path);
	uv_run(loop, UV_RUN_DEFAULT);
	assert_int_equal(o->called, 1);
	return now_ms() - t0;
}

static void
test_repo_init_head(void **state)
{
	fixture *f = *state;
	char sha[41], *cfg, *text;
	size_t len;

	assert_int_equal(builder_repo_head(f->repo, sha), -ENOENT);
	assert_int_equal(builder_repo_init(f->repo), -EEXIST);
	cfg = xasprintf("%s/config", f->repo);
	assert_int_equal(fs_read_file(cfg, &text, &len, 65536), 0);
	assert_non_null(strstr(text, "receivepack = true"));
	free(text);
	free(cfg);
	write_file(f->work, "README.md", "hello\n", 0644);
	commit_push(f, sha);
	assert_int_equal(strlen(sha), 40);
	sh("cd %s && test \"$(git rev-parse HEAD)\" = %s", f->work, sha);
}

static void
test_build_static(void **state)
{
	fixture *f = *state;
	char sha[41], *rel, *p, target[256];
	outcome o;
	uint64_t ms;
	struct stat st;
	ssize_t n;

	write_file(f->work, "README.md", "---\ntitle: Static\nsdk: static\n---\n", 0644);
	write_file(f->work, "index.html", "<h1>hello</h1>\n", 0644);
	write_file(f->work, "run.sh", "#!/bin/sh\necho hi\n", 0755);
	sh("cd %s && ln -s /etc/passwd escape && ln -s index.html alias.html", f->work);
	commit_push(f, sha);
	ms = run_build(f, sha, &o, &rel);
	fprintf(stderr, "# static build: %llu ms\n", (unsigned long long)ms);
	if (o.status != BUILD_OK)
		fail_msg("static build: %d %s", o.status, o.message);
	assert_true(ms < 2000);
	assert_string_equal(json_string_value(json_object_get(o.config, "sdk")), "static");

	p = xasprintf("%s/index.html", rel);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	free(p);
	p = xasprintf("%s/run.sh", rel);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(st.st_mode & S_IXUSR);
	free(p);
	/* Symlinks stay symlinks, pointing where the commit says. */
	p = xasprintf("%s/escape", rel);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	n = readlink(p, target, sizeof(target) - 1);
	assert_true(n > 0);
	target[n] = '\0';
	assert_string_equal(target, "/etc/passwd");
	free(p);
	p = xasprintf("%s/.git", rel);
	assert_int_not_equal(lstat(p, &st), 0);
	free(p);
	json_decref(o.config);

	/* A release directory that exists is refused synchronously. */
	{
		build_request req = { .repo_path = f->repo, .sha = sha, .release_dir = rel,
			.log_path = "/tmp/x.log", .sandbox_bin = f->sandbox };
		build_job *job;

		assert_int_equal(builder_build_start(uv_default_loop(), &req, build_done, &o, &job),
		    -EEXIST);
	}
	free(rel);
}

static void
test_build_exact_sha(void **state)
{
	fixture *f = *state;
	char first[41], second[41], *rel, *p, *text;
	size_t len;
	outcome o;

	write_file(f->work, "index.html", "first\n", 0644);
	commit_push(f, first);
	write_file(f->work, "index.html", "second\n", 0644);
	commit_push(f, second);
	run_build(f, first, &o, &rel);
	assert_int_equal(o.status, BUILD_OK);
	p = xasprintf("%s/index.html", rel);
	assert_int_equal(fs_read_file(p, &text, &len, 100), 0);
	assert_string_equal(text, "first\n");
	free(text);
	free(p);
	free(rel);
	json_decref(o.config);
}

static void
test_build_python_stdlib(void **state)
{
	fixture *f = *state;
	char sha[41], *rel;
	outcome o;
	uint64_t ms;

	write_file(f->work, "README.md", "---\nsdk: python\napp_port: 8000\n---\n", 0644);
	write_file(f->work, "app.py", "import http.server\n", 0644);
	commit_push(f, sha);
	ms = run_build(f, sha, &o, &rel);
	fprintf(stderr, "# python stdlib build: %llu ms\n", (unsigned long long)ms);
	if (o.status != BUILD_OK)
		fail_msg("python build: %d %s", o.status, o.message);
	assert_true(ms < 2000);
	assert_int_equal(json_integer_value(json_object_get(o.config, "app_port")), 8000);
	assert_string_equal(json_string_value(json_array_get(json_object_get(o.config, "run_argv"),
	    0)), "python3");
	json_decref(o.config);
	free(rel);
}

static void
test_build_requirements_offline(void **state)
{
	fixture *f = *state;
	char sha[41], *rel, *p;
	outcome o;
	uint64_t ms;

	write_file(f->work, "app.py", "import flask\n", 0644);
	write_file(f->work, "requirements.txt", "flask\n", 0644);
	commit_push(f, sha);
	ms = run_build(f, sha, &o, &rel);
	fprintf(stderr, "# python + requirements.txt build: %llu ms\n", (unsigned long long)ms);
	if (o.status != BUILD_OK)
		fail_msg("requirements build: %d %s", o.status, o.message);
	p = xasprintf("%s/.venv/bin/python", rel);
	assert_int_equal(access(p, X_OK), 0);
	free(p);
	assert_string_equal(json_string_value(json_array_get(json_object_get(o.config, "run_argv"),
	    0)), "/home/user/app/.venv/bin/python");
	json_decref(o.config);
	free(rel);
}

static void
test_build_node(void **state)
{
	fixture *f = *state;
	char sha[41], *rel, *p;
	outcome o;
	uint64_t ms;

	write_file(f->work, "package.json", "{\"name\": \"demo\", \"version\": \"1.0.0\", "
	    "\"scripts\": {\"start\": \"node index.js\"}}\n", 0644);
	write_file(f->work, "index.js", "console.log('hi')\n", 0644);
	commit_push(f, sha);
	ms = run_build(f, sha, &o, &rel);
	fprintf(stderr, "# node (npm install, no dependencies) build: %llu ms\n",
	    (unsigned long long)ms);
	if (o.status != BUILD_OK)
		fail_msg("node build: %d %s", o.status, o.message);
	assert_string_equal(json_string_value(json_object_get(o.config, "sdk")), "node");
	assert_string_equal(json_string_value(json_array_get(json_object_get(o.config, "run_argv"),
	    0)), "npm");
	p = xasprintf("%s/package-lock.json", rel);
	assert_int_equal(access(p, F_OK), 0); /* written by npm install inside the build */
	free(p);
	json_decref(o.config);
	free(rel);
}

static void
test_build_command_fails(void **state)
{
	fixture *f = *state;
	char sha[41], *rel, *logp, *log, *tail;
	size_t len;
	outcome o;

	write_file(f->work, "README.md", "---\nsdk: static\napp_build_command: echo building; "
	    "echo the-last-words >&2; exit 3\n---\n", 0644);
	write_file(f->work, "index.html", "x\n", 0644);
	commit_push(f, sha);
	run_build(f, sha, &o, &rel);
	assert_int_equal(o.status, BUILD_FAILED);
	tail = strstr(o.message, "last lines of the build log:\n");
	/* The words themselves, not the command that printed them (it is in the message). */
	if (strstr(o.message, "app_build_command") == NULL || strstr(o.message, "exit status 3") ==
	    NULL || tail == NULL || strstr(tail, "\nthe-last-words\n") == NULL ||
	    strstr(tail, "\nbuilding\n") == NULL)
		fail_msg("message: %s", o.message);
	logp = xasprintf("%s/logs/build.log", f->root);
	assert_int_equal(fs_read_file(logp, &log, &len, 1 << 20), 0);
	assert_non_null(strstr(log, "building"));
	assert_non_null(strstr(log, "BUILD_FAILED"));
	free(log);
	free(logp);
	free(rel);
}

static void
test_build_config_errors(void **state)
{
	fixture *f = *state;
	char sha[41], *rel;
	outcome o;

	write_file(f->work, "README.md", "---\nsdk: docker\n---\n", 0644);
	commit_push(f, sha);
	run_build(f, sha, &o, &rel);
	assert_int_equal(o.status, BUILD_CONFIG_ERROR);
	assert_non_null(strstr(o.message, "docker"));
	free(rel);

	write_file(f->work, "README.md", "# nothing to run\n", 0644);
	commit_push(f, sha);
	run_build(f, sha, &o, &rel);
	assert_int_equal(o.status, BUILD_NO_APP_FILE);
	free(rel);
}

static void
test_build_cancel(void **state)
{
	fixture *f = *state;
	char sha[41], *rel;
	build_request req = { 0 };
	build_job *job = NULL;
	outcome o = { 0 };
	uint64_t t0;

	write_file(f->work, "README.md", "---\nsdk: static\napp_build_command: sleep 30\n---\n", 0644);
	write_file(f->work, "index.html", "x\n", 0644);
	commit_push(f, sha);
	rel = xasprintf("%s/releases/cancel", f->root);
	req.repo_path = f->repo;
	req.sha = sha;
	req.release_dir = rel;
	req.log_path = "/dev/null";
	req.sandbox_bin = f->sandbox;
	req.host_uid = getuid();
	t0 = now_ms();
	assert_int_equal(builder_build_start(uv_default_loop(), &req, build_done, &o, &job), 0);
	/* Let the step start, then cancel. */
	while (o.called == 0 && now_ms() - t0 < 500)
		uv_run(uv_default_loop(), UV_RUN_NOWAIT);
	assert_int_equal(o.called, 0);
	builder_build_cancel(job);
	uv_run(uv_default_loop(), UV_RUN_DEFAULT);
	assert_int_equal(o.called, 1);
	assert_int_equal(o.status, BUILD_FAILED);
	assert_non_null(strstr(o.message, "cancelled"));
	assert_true(now_ms() - t0 < 10000);
	free(rel);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_repo_init_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_build_static, setup, teardown),
		cmocka_unit_test_setup_teardown(test_build_exact_sha, setup, teardown),
		cmocka_unit_test_setup_teardown(test_build_python_stdlib, setup, teardown),
		cmocka_unit_test_setup_teardown(test_build_requirements_offline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_build_node, setup, teardown),
		cmocka_unit_test_setup_teardown(test_build_command_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_build_config_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_build_cancel, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
