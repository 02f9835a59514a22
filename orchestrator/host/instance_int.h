/* instance_int.h — what the files of one app instance share (not instance.h):
 * instance.c (birth, output, the box's end) and instance_probe.c (is the app
 * answering: readiness, then liveness checks). */
#ifndef PODIUM_INSTANCE_INT_H
#define PODIUM_INSTANCE_INT_H

#include "common/child.h"
#include "common/logfile.h"
#include "common/mask.h"
#include "orchestrator/host/http_probe.h"
#include "orchestrator/host/instance.h"

#define MAX_CGROUPS 3

struct instance {
	uv_loop_t *loop;
	uint64_t id;
	int port;
	instance_cb cb;
	uv_process_t proc;
	uv_pipe_t out, info, status;  /* out: stdout and stderr, one pipe */
	uv_timer_t probe_timer, kill_timer, startup_timer;
	uv_tcp_t probe;
	int probe_active;
	uv_timer_t live_timer;    /* liveness: next check, after ready */
	http_probe *live_probe;   /* the check in flight */
	unsigned live_failures;
	uint64_t seen_bytes_out, seen_errors;  /* the proxy's counters at the last check */
	uint64_t busy_since;      /* requests in flight, no response completed, since then */
	char *stats_id;
	logfile log;              /* every line stamped with when it was written */
	char *log_path;
	int netns_fd;
	int box_pid;              /* the box's init, as the host sees it */
	char *cgroups[MAX_CGROUPS];  /* the box's cgroup directories (v1: one per controller) */
	int ncgroups, cgroup_version;
	unsigned kill_rounds;
	mask mask;                /* secret values hidden from log and tail */
	char info_buf[4096];
	size_t info_len;
	char status_buf[1024];
	size_t status_len;
	child_tail tail;          /* the last output bytes */
	int out_midline;          /* the last read ended inside a line */
	int open_handles;         /* freed when this reaches zero after instance_close */
	int closing;              /* instance_close ran */
	int open_streams;         /* out, status not yet at EOF */
	const char *reason;       /* why the daemon ended it (instance_exit.reason) */
	int exited, exit_code, term_signal;
	int ready, stopping, killing, startup_timeout, not_responding, finished;
	uint64_t started_ms;
	uint64_t boxed_ms;        /* the sandbox reported the box's pid (namespaces made) */
};

/* instance.c */
/* Kills the box now, and again every little while until its launcher has exited. */
void instance_kill(instance *in);
/* The daemon cannot look after the app (err: out of descriptors, say): ends it with
 * a reason rather than leave it starting until the timeout. */
void instance_fail(instance *in, int err);
/* on_exit, once the process has exited, its output is drained and no probe runs. */
void instance_maybe_finish(instance *in);
/* A line of podium's own in the run log, saying what happened to the app. */
void instance_note(instance *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* instance_probe.c */
/* Reads PODIUM_LIVENESS, once. */
void instance_live_config(void);
/* Tries $PORT inside the box's network namespace until it opens (then on_ready and
 * the liveness checks); once the box's netns is known. */
void instance_probe_start(instance *in);
/* No more liveness checks (the one in flight is cancelled). */
void instance_live_stop(instance *in);

#endif
