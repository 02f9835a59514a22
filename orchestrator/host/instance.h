/* instance.h — one running copy of a space's app: a podium-sandbox process, its
 * output, its network namespace and its readiness.
 *
 * Life: instance_start → (sandbox reports its pid and cgroups on the info fd → the
 * netns is opened → $PORT is probed inside it every 100 ms) → on_ready → liveness
 * checks (an HTTP request every interval; failures in a row end it as "not
 * responding") → ... → the box ends (crash, instance_stop, startup timeout, not
 * responding) → on_exit → the instance frees itself after on_exit returns. on_exit
 * is called exactly once if instance_start succeeded; the owner must forget its
 * pointer there.
 *
 * Stopping and killing act on the box's cgroup: every process of the app gets the
 * signal, a detached or daemonized child included, never just one pid.
 */
#ifndef PODIUM_INSTANCE_H
#define PODIUM_INSTANCE_H

#include <jansson.h>
#include <stdint.h>
#include <uv.h>

typedef struct instance instance;

typedef struct instance_spec {
	const char *sandbox_bin;
	const char *release_dir;     /* overlaid (writable, discarded) at /home/user/app */
	const char *data_dir;        /* bound at /data (persistent) */
	const char *log_path;        /* app output appended here */
	const json_t *argv;          /* JSON array of strings */
	const char *const *env;      /* NULL-terminated "NAME=VALUE" list */
	const char *const *mask;     /* values shown as *** in the log and exit tail, or NULL */
	int port;
	unsigned host_uid;
	uint64_t memory_bytes;
	unsigned pids;
	double cpus;
	unsigned startup_timeout_s;
	const char *stats_id;        /* the proxy's counters for it (proxy_stats_get): a
	                              * liveness check is skipped while it serves; or NULL */
	const char *start_note;      /* a line of podium's in the log before the app's
	                              * output when the log has a run before (a restart,
	                              * say), or NULL */
} instance_spec;

typedef struct instance_exit {
	int exit_code;        /* launcher's exit status */
	int term_signal;
	int oom_killed;
	int was_ready;        /* had passed readiness before it exited */
	int startup_timeout;  /* killed because $PORT never opened in time */
	int stopped;          /* exited after instance_stop */
	int not_responding;   /* killed after failing its liveness checks */
	const char *seccomp_syscall; /* killed for a blocked system call: its name; or NULL */
	const char *reason;   /* the daemon ended it (e.g. out of descriptors), or NULL */
	const char *tail;     /* last lines of output */
} instance_exit;

typedef struct instance_cb {
	void (*on_ready)(instance *in, void *arg);
	void (*on_exit)(instance *in, const instance_exit *ex, void *arg);
	void *arg;
} instance_cb;

int instance_start(uv_loop_t *loop, const instance_spec *spec, const instance_cb *cb, instance **out);
/* SIGTERM to every process of the box now, SIGKILL to every process of its cgroup
 * after grace_ms. Idempotent. */
void instance_stop(instance *in, unsigned grace_ms);
/* A new fd for the instance's network namespace (caller owns it), or -errno before
 * the sandbox reported its pid or when in is NULL. */
int instance_netns_dup(const instance *in);
int instance_port(const instance *in);
uint64_t instance_id(const instance *in);
uint64_t instance_started_ms(const instance *in);
/* When the sandbox reported the box's pid (0: not yet): start-up split for cold starts. */
uint64_t instance_boxed_ms(const instance *in);
/* uv_strerror, but naming the daemon when it is out of descriptors. */
const char *instance_strerror(int err);
/* The box's init in the host's pid namespace, or 0 before the sandbox reported it. */
int instance_box_pid(const instance *in);

#endif
