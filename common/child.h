/* child.h — child processes: one run to its end (child_run: posix_spawn, its
 * descriptors, wait), and the bounded tail of what a child printed (child_tail),
 * which the loop's own children (apps, build steps; spawned with uv_spawn) keep
 * too.
 *
 * child_run blocks: call it from a worker thread or at start and stop, never
 * from the loop while it serves. */
#ifndef PODIUM_CHILD_H
#define PODIUM_CHILD_H

#include <stddef.h>

/* ---- the last bytes of a child's output ---- */

#define CHILD_TAIL_BYTES 4096

typedef struct child_tail {
	char buf[CHILD_TAIL_BYTES];
	size_t len;
} child_tail;

void child_tail_append(child_tail *t, const char *p, size_t n);
/* The last max_lines lines (trailing newlines left out), at most outlen - 1 bytes
 * of them keeping the end, NUL-terminated and made valid UTF-8 (a line cut at the
 * start, or a program that printed bytes: JSON needs UTF-8). */
void child_tail_lines(const child_tail *t, int max_lines, char *out, size_t outlen);

/* ---- one program, run to its end ---- */

/* What a standard descriptor of the child is, besides a descriptor of ours. */
#define CHILD_NULL (-1)    /* /dev/null */
#define CHILD_INHERIT (-2) /* the daemon's own */
#define CHILD_CAPTURE (-3) /* into the tail (stdout and stderr: one pipe) */

typedef struct child_spec {
	char *const *argv;  /* argv[0] with a '/' runs as it is, else is looked up in PATH */
	char *const *envp;  /* NULL: the daemon's environment */
	int out, err;       /* a descriptor, CHILD_NULL, CHILD_INHERIT or CHILD_CAPTURE */
	int oom_score_adj;  /* 0: the daemon's (inherited); else the child's, set once spawned */
} child_spec;

/* out and err CHILD_NULL, the daemon's environment, stdin /dev/null. */
void child_spec_init(child_spec *spec);
/* Runs spec's program to its end. Its exit status (128 + N when signal N killed it),
 * or -errno when it could not be started. What it wrote to a CHILD_CAPTURE
 * descriptor goes to tail (which may be NULL: read and dropped). */
int child_run(const child_spec *spec, child_tail *tail);
/* child_run of argv with stdout and stderr both out (CHILD_NULL or CHILD_INHERIT). */
int child_run_argv(char *const argv[], int out);

#endif
