/* space_int.h — the space lifecycle's private types, shared by space.c (builds,
 * instances, releases, routes) and spaces.c (create, delete, JSON, startup). */
#ifndef PODIUM_SPACE_INT_H
#define PODIUM_SPACE_INT_H

#include "builder.h"
#include "instance.h"
#include "routes.h"
#include "space.h"
#include "store.h"
#include "usage.h"

#define MAX_RESTARTS 3          /* crashes in a row before RUNTIME_ERROR */
#define HEALTHY_RUN_MS 60000    /* a run this long resets the crash count */
#define DRAIN_MS 2000           /* old instance keeps running this long after a switch */
#define STOP_GRACE_MS 5000      /* SIGTERM → SIGKILL */
#define HOST_UID_BASE 200000    /* app of space N runs as host uid BASE+N */

/* One instance and the role it plays for its space. The space pointer is cleared
 * when the instance is detached (draining, space deleted), so late callbacks never
 * touch a freed space. */
typedef struct inst_ref {
	space *s;
	instance *in;
	int64_t build_id;
	app_config cfg;
	char *release_dir;
	int ready;
	char flavor[64];       /* hardware it was started with */
} inst_ref;

/* A build waiting for a slot or running; s is cleared when the build was superseded
 * or the space deleted (a queued one is then dropped, a running one cancelled). */
typedef struct build_ctx {
	space *s;
	podium *p;
	int64_t build_id;
	char *release_dir;
	char *sha;
	char *repo, *log_path, *space_id;
	char *cache_dir;         /* the space's build cache */
	int no_cache;            /* factory rebuild */
	unsigned host_uid;
	struct build_ctx *next;  /* build queue */
} build_ctx;

struct space {
	space_row row;
	space *next;
	podium *p;
	build_ctx *build;
	build_job *job;
	inst_ref *live;        /* serving (NULL for static) */
	inst_ref *pending;     /* new release starting */
	int static_live;       /* a static release serves */
	char *static_root;
	int crashes;           /* consecutive crashes of the live release */
	int pending_crashes;
	uv_timer_t restart_timer;
	int restart_for_pending;
	unsigned restarts;     /* crash restarts since the daemon started (metrics) */
	char *hardware;        /* flavor asked for ("" default), loaded on first use */
	cold_starts cold;      /* start → port answering, since the daemon started */
	/* lifecycle.c */
	int paused;            /* stored: stopped until restart */
	int sleep_after_s;     /* stored: seconds idle before sleeping, -1 never */
	char storage_tier[64]; /* stored: the size of /data (flavors.h); "" the default */
	int sleeping;          /* no process; the next request wakes it */
	int waking;            /* woken: requests held until it answers */
	uint64_t idle_since_ms, last_requests, wake_started_ms;
	uint64_t wakes, wake_ms;               /* wakes so far; the last: wake → switch */
	uint64_t wake_sandbox_ms, wake_app_ms; /* the last wake: spawn → box, box → port */
};

/* Instances and builds still running; shutdown completes when both reach zero. */
extern int space_active_instances;
extern int space_active_builds;
extern void (*space_shutdown_cb)(void *arg);
extern void *space_shutdown_arg;

char *space_releases_dir(const podium *p, const space *s);   /* caller frees */
char *space_data_dir(const podium *p, const space *s);       /* caller frees */
char *space_logs_dir(const podium *p, const space *s);       /* caller frees */
char *space_cache_dir(const podium *p, const space *s);      /* caller frees */
unsigned space_host_uid(const space *s);
void space_replace_str(char **dst, const char *src);
void space_save(space *s);
void space_set_stage(space *s, const char *stage, const char *message);
int space_serving(const space *s);
void space_maybe_shutdown_done(void);
void space_update_route(space *s);
void space_detach_instance(space *s, inst_ref *ref, unsigned drain_ms);
/* Drops the builds of s: a queued one is discarded, a running one cancelled. */
void space_build_abandon(space *s);
/* Shutdown: forgets queued builds (their rows stay "building" and are marked
 * interrupted at the next start). */
void space_builds_drop_queued(void);
/* Starts a release built by build_id; takes ownership of cfg's contents. */
void space_deploy(space *s, int64_t build_id, const char *release_dir, app_config *cfg);
/* Builds exactly sha (a push, or a factory rebuild with no_cache). */
void space_build_commit(podium *p, space *s, const char *sha, int no_cache);

/* lifecycle.c hooks */
void lifecycle_load(space *s);                          /* settings from the store */
route_target *lifecycle_route(space *s, const char *id); /* paused / sleeping, or NULL */
void lifecycle_ready(space *s);                         /* an instance took over */
int lifecycle_build_ok(space *s, int64_t build_id);     /* 1: paused, not started */
int lifecycle_recover(space *s);                        /* 1: paused or asleep: done */
void lifecycle_runtime(const space *s, json_t *rt);
/* The newest successful releases to keep on disk (at most max). */
int lifecycle_kept_releases(space *s, int64_t *ids, int max);
/* Starts the current release again (new environment), switching when it answers. */
void space_redeploy(space *s);

#endif
