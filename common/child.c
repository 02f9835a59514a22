/* child.c — a child process run to its end, and the tail of a child's output
 * (see child.h). */
#include "common/child.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"

extern char **environ;

/* ---- the tail ---- */

void
child_tail_append(child_tail *t, const char *p, size_t n)
{
	size_t keep;

	if (n >= CHILD_TAIL_BYTES) {
		memcpy(t->buf, p + n - CHILD_TAIL_BYTES, CHILD_TAIL_BYTES);
		t->len = CHILD_TAIL_BYTES;
		return;
	}
	keep = t->len + n > CHILD_TAIL_BYTES ? CHILD_TAIL_BYTES - n : t->len;
	memmove(t->buf, t->buf + t->len - keep, keep);
	memcpy(t->buf + keep, p, n);
	t->len = keep + n;
}

void
child_tail_lines(const child_tail *t, int max_lines, char *out, size_t outlen)
{
	const char *start = t->buf, *end = t->buf + t->len, *p;
	int lines = 0;
	size_t n;

	if (outlen == 0)
		return;
	while (end > start && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	for (p = end; p > start; p--)
		if (p[-1] == '\n' && ++lines >= max_lines)
			break;
	n = (size_t)(end - p);
	if (n >= outlen) {
		p += n - (outlen - 1);
		n = outlen - 1;
	}
	memcpy(out, p, n);
	out[n] = '\0';
	utf8_scrub(out);
}

/* ---- a run ---- */

void
child_spec_init(child_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	spec->out = spec->err = CHILD_NULL;
}

/* The child's descriptor target becomes what (capture: the pipe's write end). */
static void
io_action(posix_spawn_file_actions_t *fa, int target, int what, int capture)
{
	if (what == CHILD_NULL)
		posix_spawn_file_actions_addopen(fa, target, "/dev/null",
		    target == 0 ? O_RDONLY : O_WRONLY, 0);
	else if (what == CHILD_CAPTURE)
		posix_spawn_file_actions_adddup2(fa, capture, target);
	else if (what >= 0)
		posix_spawn_file_actions_adddup2(fa, what, target);
}

/* Best effort: the child may be gone already. */
static void
oom_adjust(pid_t pid, int adj)
{
	char path[64], value[16];
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)pid);
	n = snprintf(value, sizeof(value), "%d", adj);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		return;
	if (write(fd, value, (size_t)n) != n) {
		/* exited already */
	}
	close(fd);
}

/* To its end, so the child never blocks on a full pipe. */
static void
drain(int fd, child_tail *tail)
{
	char buf[4096];
	ssize_t n;

	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (tail != NULL)
			child_tail_append(tail, buf, (size_t)n);
	}
}

int
child_run(const child_spec *spec, child_tail *tail)
{
	posix_spawn_file_actions_t fa;
	int cap[2] = { -1, -1 }, status, r;
	pid_t pid;

	if ((spec->out == CHILD_CAPTURE || spec->err == CHILD_CAPTURE) &&
	    pipe2(cap, O_CLOEXEC) != 0)
		return -errno;
	posix_spawn_file_actions_init(&fa);
	io_action(&fa, 0, CHILD_NULL, -1);
	io_action(&fa, 1, spec->out, cap[1]);
	io_action(&fa, 2, spec->err, cap[1]);
	r = posix_spawnp(&pid, spec->argv[0], &fa, NULL, spec->argv,
	    spec->envp != NULL ? spec->envp : environ);
	posix_spawn_file_actions_destroy(&fa);
	if (cap[1] >= 0)
		close(cap[1]);
	if (r == 0 && spec->oom_score_adj != 0)
		oom_adjust(pid, spec->oom_score_adj);
	if (cap[0] >= 0) {
		if (r == 0)
			drain(cap[0], tail);
		close(cap[0]);
	}
	if (r != 0)
		return -r;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int
child_run_argv(char *const argv[], int out)
{
	child_spec spec;

	child_spec_init(&spec);
	spec.argv = argv;
	spec.out = spec.err = out;
	return child_run(&spec, NULL);
}
