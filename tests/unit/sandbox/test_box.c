/* Unit tests for sandbox/box.c: a box_spec into podium-sandbox's argv, and a box
 * spawned on a loop (a stand-in launcher that prints its arguments) (cmocka). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/util.h"
#include "sandbox/box.h"

/* argv joined by spaces (caller frees). */
static char *
joined(char **argv)
{
	char *s = xstrdup(""), *t;

	for (size_t i = 0; argv[i] != NULL; i++) {
		t = xasprintf("%s%s%s", s, i > 0 ? " " : "", argv[i]);
		free(s);
		s = t;
	}
	return s;
}

static void
test_app_box(void **state)
{
	const char *env[] = { "PORT=7860", "HOME=/home/user", NULL };
	const char *cmd[] = { "python3", "app.py", NULL };
	box_spec b;
	char **argv, *s;

	(void)state;
	box_spec_init(&b);
	b.sandbox_bin = "/bin/podium-sandbox";
	b.info_fd = 3;
	b.status_fd = 4;
	b.overlay = (box_bind){ "/rel", "/home/user/app" };
	b.binds[b.nbinds++] = (box_bind){ "/data-dir", "/data" };
	b.chdir = "/home/user/app";
	b.host_uid = 200001;
	b.hostname = "space";
	b.tmpfs_bytes = 1ull << 30;
	b.net = "veth:podium0,198.18.0.1/16";
	b.memory_bytes = 2ull << 30;
	b.pids = 512;
	b.cpus = 1;
	b.env = env;
	b.argv = cmd;
	/* an environment goes through a descriptor, never the arguments */
	assert_int_equal(box_argv(&b, &argv), -EINVAL);
	b.env_fd = 5;
	assert_int_equal(box_argv(&b, &argv), 0);
	s = joined(argv);
	assert_string_equal(s, "/bin/podium-sandbox --info-fd 3 --status-fd 4 "
	    "--overlay /rel /home/user/app --bind /data-dir /data --chdir /home/user/app "
	    "--host-uid 200001 --host-gid 200001 --hostname space --tmpfs-size 1073741824 "
	    "--net veth:podium0,198.18.0.1/16 --memory 2147483648 --pids 512 --cpus 1.00 "
	    "--env-fd 5 -- python3 app.py");
	free(s);
	box_argv_free(argv);
}

static void
test_build_step_box(void **state)
{
	const char *env[] = { "HOME=/tmp", NULL }, *space_env[] = { "HOME=/x", NULL };
	const char *cmd[] = { "npm", "ci", NULL };
	box_spec b;
	char **argv, *s;

	(void)state;
	box_spec_init(&b);
	b.sandbox_bin = "sb";
	b.status_fd = 3;
	b.binds[b.nbinds++] = (box_bind){ "/rel", "/home/user/app" };
	b.binds[b.nbinds++] = (box_bind){ "/cache-dir", "/cache" };
	b.tmpfs = "/tmp";
	b.host_uid = 7;
	b.timeout_s = 600;
	b.env = env;
	b.extra_env = space_env;
	b.argv = cmd;
	b.env_fd = 4;
	assert_int_equal(box_argv(&b, &argv), 0);
	s = joined(argv);
	/* binds in order, no net means none, the space's variables after the build's */
	assert_string_equal(s, "sb --status-fd 3 --bind /rel /home/user/app --bind /cache-dir "
	    "/cache --tmpfs /tmp --host-uid 7 --host-gid 7 --net none --timeout 600 "
	    "--env-fd 4 -- npm ci");
	free(s);
	box_argv_free(argv);
	b.nbinds = BOX_MAX_BINDS + 1;
	argv = (char **)0x1;
	assert_int_equal(box_argv(&b, &argv), -E2BIG);
	assert_null(argv);
}

/* An app on an image: its layers and ids; an engine: its tmpfs before the binds
 * that go into it. */
static void
test_image_and_engine_boxes(void **state)
{
	const char *cmd[] = { "python", "app.py", NULL }, *bud[] = { "buildah", "bud", NULL };
	box_spec b;
	char **argv, *s;

	(void)state;
	box_spec_init(&b);
	b.sandbox_bin = "sb";
	b.rootfs = "/l/top:/l/base";
	b.rootfs_ids = 134217728;
	b.id_range = 268500000;
	b.binds[b.nbinds++] = (box_bind){ "/data-dir", "/data" };
	b.chdir = "/app";
	b.host_uid = 200001;
	b.argv = cmd;
	assert_int_equal(box_argv(&b, &argv), 0);
	s = joined(argv);
	assert_string_equal(s, "sb --rootfs /l/top:/l/base --rootfs-ids 134217728 --id-range "
	    "268500000 --bind /data-dir /data --chdir /app --host-uid 200001 --host-gid 200001 "
	    "--net none -- python app.py");
	free(s);
	box_argv_free(argv);

	box_spec_init(&b);
	b.sandbox_bin = "sb";
	b.engine_userns = 134217728;
	b.tmpfs = "/tmp";
	b.binds[b.nbinds++] = (box_bind){ "/data/images", "/tmp/images" };
	b.ro_binds[b.nro_binds++] = (box_bind){ "/b/seccomp.json", "/tmp/seccomp.json" };
	b.argv = bud;
	assert_int_equal(box_argv(&b, &argv), 0);
	s = joined(argv);
	assert_string_equal(s, "sb --engine-userns 134217728 --tmpfs /tmp --bind /data/images "
	    "/tmp/images --ro-bind /b/seccomp.json /tmp/seccomp.json --host-uid 0 --host-gid 0 "
	    "--net none -- buildah bud");
	free(s);
	box_argv_free(argv);
	b.nro_binds = BOX_MAX_BINDS + 1;
	assert_int_equal(box_argv(&b, &argv), -E2BIG);
}

typedef struct run {
	uv_pipe_t out;
	char text[1024];
	size_t len;
	int64_t status;
	int exited, closed;
} run;

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	run *r = h->data;

	*buf = uv_buf_init(r->text + r->len, (unsigned)(sizeof(r->text) - 1 - r->len));
}

static void
on_closed(uv_handle_t *h)
{
	((run *)h->data)->closed++;
}

static void
on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	run *r = s->data;

	if (n > 0)
		r->len += (size_t)n;
	else if (n < 0)
		uv_close((uv_handle_t *)s, on_closed);
}

static void
on_exit_cb(uv_process_t *p, int64_t status, int sig)
{
	run *r = p->data;

	r->status = status;
	r->exited = 1;
	uv_close((uv_handle_t *)p, on_closed);
}

/* The launcher gets the argv and its environment on the descriptor after the
 * extra ones (NAME=VALUE entries ended by NUL bytes, the box's first, then the
 * space's); stdout and stderr come on one pipe. */
static void
test_spawn(void **state)
{
	char script[] = "/tmp/podium-box-XXXXXX";
	const char *cmd[] = { "echo", "hi", NULL };
	const char *env[] = { "A=1", NULL }, *secret[] = { "TOKEN=s3cret value", NULL };
	uv_loop_t loop;
	uv_process_t proc;
	run r = { .len = 0 };
	box_io io = { .exit_cb = on_exit_cb, .out = &r.out };
	box_spec b;
	FILE *f;
	int fd;

	(void)state;
	fd = mkstemp(script);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("#!/bin/sh\necho \"$*\"\ntr '\\0' '|' <&3\necho\necho err >&2\nexit 3\n", f);
	fclose(f);
	assert_int_equal(chmod(script, 0700), 0);
	box_spec_init(&b);
	b.sandbox_bin = script;
	b.argv = cmd;
	b.env = env;
	b.extra_env = secret;
	uv_loop_init(&loop);
	memset(&proc, 0, sizeof(proc));
	proc.data = &r;
	assert_int_equal(box_spawn(&loop, &proc, &b, &io), 0);
	r.out.data = &r;
	uv_read_start((uv_stream_t *)&r.out, on_alloc, on_read);
	uv_run(&loop, UV_RUN_DEFAULT);
	r.text[r.len] = '\0';
	assert_true(r.exited);
	assert_int_equal(r.status, 3);
	assert_int_equal(r.closed, 2);
	assert_string_equal(r.text, "--host-uid 0 --host-gid 0 --net none --env-fd 3 -- echo hi\n"
	    "A=1|TOKEN=s3cret value|\nerr\n");

	/* a launcher that is not there: an error, and the process handle to close */
	memset(&proc, 0, sizeof(proc));
	proc.data = &r;
	b.sandbox_bin = "/nonexistent/podium-sandbox";
	r.closed = 0;
	assert_int_not_equal(box_spawn(&loop, &proc, &b, &io), 0);
	assert_non_null(proc.loop);
	uv_close((uv_handle_t *)&proc, on_closed);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(r.closed, 1);
	assert_int_equal(uv_loop_close(&loop), 0);
	unlink(script);
}

/* A directory without cgroup mounts (what `ip netns exec` leaves of
 * /sys/fs/cgroup) is refused with the fix named; the host's own is the control. */
static void
test_host_check(void **state)
{
	char dir[] = "/tmp/podium-cg-XXXXXX", err[768];

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(box_host_check(dir, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, dir));
	assert_non_null(strstr(err, "nsenter --net="));
	rmdir(dir);
	assert_int_equal(box_host_check("/nonexistent/cgroup", err, sizeof(err)), -ENOENT);
	if (box_host_check("/sys/fs/cgroup", err, sizeof(err)) != 0)
		skip(); /* this host's own cgroups are not there: nothing to compare with */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_app_box),
		cmocka_unit_test(test_image_and_engine_boxes),
		cmocka_unit_test(test_build_step_box),
		cmocka_unit_test(test_spawn),
		cmocka_unit_test(test_host_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
