/* build_int.h — one build job's state, shared by build.c (its life: export,
 * steps in boxes, the log, the end) and build_plan.c (which steps a release
 * needs, and their environment). Private to builder/. */
#ifndef PODIUM_BUILDER_BUILD_INT_H
#define PODIUM_BUILDER_BUILD_INT_H

#include <stdint.h>
#include <uv.h>

#include "builder/build.h"
#include "builder/builder_int.h"
#include "common/child.h"
#include "common/logfile.h"
#include "common/mask.h"

#define APP_DIR        "/home/user/app"
#define BUILD_MEMORY   2147483648ull  /* 2 GiB, unless the request says */
#define BUILD_PIDS     512
#define BUILD_TIMEOUT  1200          /* seconds for the whole build, unless the request says */
#define STATUS_FD      3
#define MAX_STEPS      10
#define TAIL_LINES     20
#define LOG_MAX        (16u << 20)   /* bytes of build log kept on the host's disk */
/* PATH for build steps: tools installed by an earlier step come first. */
#define BUILD_PATH     APP_DIR "/node_modules/.bin:" APP_DIR "/.venv/bin:" \
                       "/usr/local/bin:/usr/bin:/bin"

typedef struct build_step {
	char name[128];             /* shown in the log and in the failure message */
	char *argv[13];             /* command inside the sandbox, NULL-terminated */
	builder_registry check;     /* a registry check (registry.c), or NONE */
	builder_registry needs;     /* the installer that needs that registry, or NONE */
	int engine;                 /* the image job's engine step (its argv is the job's) */
} build_step;

struct build_job {
	uv_loop_t *loop;
	char *repo_path, *sha, *release_dir, *log_path, *sandbox_bin, *space_id;
	char *cache_dir;            /* NULL: no build cache */
	int no_cache;
	unsigned host_uid;
	char *net;                  /* --net of every step */
	uint64_t memory_bytes;      /* limits of each step (cpus 0: no CPU limit) */
	unsigned pids;
	double cpus;
	unsigned timeout_s;         /* the whole build's, from started_ms */
	uint64_t disk_bytes;        /* the build disk's size, for the message when it is full */
	uint64_t fsize_bytes;       /* RLIMIT_FSIZE of each step; 0: none */
	int log_cut;                /* the log reached LOG_MAX: the steps' output goes to the
	                             * tail only, the daemon's own lines still to the log */
	int own_line;               /* log_line is writing */
	char **env;                 /* the space's variables and secrets, NULL-terminated */
	size_t nenv;
	mask mask;                  /* secret values hidden from the log */
	build_done_cb cb;
	void *arg;

	logfile log;
	child_tail tail;            /* the log's last bytes, for the failure message */
	uint64_t started_ms, step_ms;
	uv_work_t work;
	int export_rc;
	char export_err[512];

	build_step steps[MAX_STEPS];
	int nsteps, cur;
	uv_process_t proc;
	uv_pipe_t out;
	int status_fd;              /* read end of the sandbox's --status-fd pipe */
	int handles;                /* open handles; the job is done when 0 */
	int proc_running, out_open;
	int64_t exit_status;
	int term_signal;

	int cancelled, finished;
	int advance;                /* run step cur once the handles are closed */
	int offline[3];             /* by builder_registry: it cannot be reached, its
	                             * installer runs offline (npm --offline, pip --no-index) */
	char registry_note[512];    /* what the registry check said when it failed */
	build_result result;
	image_job *img;             /* the image part (image_build.c) */
	char **step_env;            /* every step's environment (then the space's) */
};


/* A line of the daemon's own in the build log (and its tail). */
void build_log_line(build_job *job, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* 1 when the release holds a regular file NAME. */
int build_release_file(build_job *job, const char *name);
/* Appends a step: its name, then its argv (at most 11 words), NULL-ended. */
void build_step_add(build_job *job, const char *name, ...);
/* The install steps the release needs, in the order they must run (build_plan.c). */
void build_steps_plan(build_job *job);
/* Every step's environment: the build's, and where packages come from. */
char **build_steps_env(void);

#endif
