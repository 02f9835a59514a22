/* space_int.h — the space lifecycle's private types, shared by space.c (instances,
 * releases, routes), space_build.c (builds) and spaces.c (create, delete, JSON,
 * startup). */
#ifndef PODIUM_SPACE_INT_H
#define PODIUM_SPACE_INT_H

#include "builder/build.h"
#include "orchestrator/host/instance.h"
#include "proxy/routes.h"
#include "orchestrator/space.h"
#include "orchestrator/store/store.h"
#include "orchestrator/host/usage.h"

#define MAX_PENDING_RESTARTS 3  /* a new release's crashes before it is given up (old one serves) */
#define HEALTHY_RUN_MS 60000    /* a run this long resets the crash count */
#define BACKOFF_BASE_MS 1000    /* first restart delay of a crash loop, doubling ... */
#define BACKOFF_CAP_MS 300000   /* ... up to this (Kubernetes' CrashLoopBackOff cap) */
#define BUILD_ATTEMPTS 3        /* runs of a build interrupted by daemon stops before it fails */
#define START_SLOTS_PER_CPU 2   /* instances spawned and not yet ready at a time, per CPU */
#define START_SLOTS_MAX 64
#define START_SLOT_MS 10000     /* a slower starter gives its start slot to the next one */
#define DRAIN_MS 2000           /* sleep, pause: the old instance runs at most this long */
#define DRAIN_SETTLE_MS 1000    /* ... and at least this long (a request may hold its route) */
#define DRAIN_POLL_MS 250       /* how often a draining instance's open exchanges are read */
#define DRAIN_GRACE_MS 30000    /* a redeploy: the old instance's open exchanges (WebSockets,
                                 * SSE, long polls) may finish this long (deploy.drain_seconds) */
#define STOP_GRACE_MS 5000      /* SIGTERM → SIGKILL */
#define HOST_UID_BASE 200000    /* app of space N runs as host uid BASE+N */

/* One instance and the role it plays for its space. The space pointer is cleared
 * when the instance is detached (draining, space deleted), so late callbacks never
 * touch a freed space. */
typedef struct inst_ref {
	space *s;
	instance *in;
	int64_t build_id;
	char *sha;               /* commit of the release */
	app_config cfg;
	char *release_dir;
	int ready;
	char flavor[64];       /* hardware it was started with */
	int queued;              /* waiting in the start queue (in == NULL) */
	int starting;            /* spawned, holds a start slot until ready, exit or START_SLOT_MS */
	uint64_t start_ms;
	struct inst_ref *next_start;
	route_exchanges *exchanges; /* its open exchanges, counted by the proxy */
	uv_timer_t *drain;       /* detached, draining until it stops (NULL: not) */
	uint64_t drain_start, drain_until;
	struct inst_ref *next_drain;
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
	char *owner;             /* whose share of the build slots it takes */
	struct build_ctx *next;  /* build queue */
	int position;            /* its place in the queue, as its log last said */
	int placed, counted;     /* build_queue.c's */
} build_ctx;

struct space {
	space_row row;
	space *next;
	space *id_next;        /* in spaces.c's index by row id */
	space *hnext;          /* spaces.c's index by owner/name */
	podium *p;
	build_ctx *build;
	build_job *job;
	inst_ref *live;        /* serving (NULL for static) */
	inst_ref *pending;     /* new release starting */
	int static_live;       /* a static release serves */
	char *static_root;
	char *release_sha;     /* commit and sdk of row.release_id (the switched-to release) */
	char *release_sdk;
	int crash_error;       /* row.error is the crash loop's last reason: cleared once the app is up */
	int pending_crashes;
	uv_timer_t restart_timer;
	int restart_for_pending;
	unsigned restarts;     /* crash restarts since the daemon started (metrics) */
	char *hardware;        /* flavor asked for ("" default), loaded on first use */
	cold_starts cold;      /* start → port answering, since the daemon started */
	uint64_t access_epoch; /* random; new at each change of visibility: a ticket of
	                        * its app host names it (proxy/ticket.h) */
	/* lifecycle.c */
	int paused;            /* stored: stopped until restart */
	int sleep_after_s;     /* stored: seconds idle before sleeping, -1 never */
	char storage_tier[64]; /* stored: the size of /data (flavors.h); "" the default */
	int sleeping;          /* no process; the next request wakes it */
	int waking;            /* woken: requests held until it answers */
	uint64_t idle_since_ms, last_requests, wake_started_ms;
	uint64_t wakes, wake_ms;               /* wakes so far; the last: wake → switch */
	uint64_t wake_sandbox_ms, wake_app_ms; /* the last wake: spawn → box, box → port */
	/* placement.c (a cluster node only) */
	int foreign;           /* another node owns it: nothing of it runs or is written here */
	char *owner_node;      /* that node, and its proxy's address (ROUTE_REMOTE) */
	char *owner_addr;
	int64_t epoch;         /* the placement's epoch this node runs it under */
	int adopting;          /* taken over here: requests held until it serves */
	int moving;            /* a drain hands it to another node: held, stopping */
	void (*moved_cb)(space *s, void *arg);
	void *moved_arg;
};

/* First crash-loop delay (BACKOFF_BASE_MS, or PODIUM_RESTART_BACKOFF_MS read at start). */
extern uint64_t space_backoff_base_ms;
/* How long a redeploy lets the old instance drain (deploy.drain_seconds). */
extern unsigned space_drain_grace_ms;

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
/* Daemon stop: every draining instance stops now. */
void space_drains_stop(void);
/* Ends ref's drain, if it has one (its timer closed; space_drain.c). */
void space_drain_end(inst_ref *ref);
/* Drops the builds of s: a queued one is discarded, a running one cancelled. */
void space_build_abandon(space *s);
/* Shutdown: forgets queued builds (their rows stay "building" and are built again
 * at the next start) and queued instance starts. */
void space_builds_drop_queued(void);
void space_starts_drop_queued(void);
/* build_disk.c: the space's build disk (its releases and build cache, limits.build_disk)
 * made and mounted if it is not: on the loop (a mount's time; mkfs's the first time),
 * or in the thread pool, done(arg, 0 or -errno, err) on the loop after (at once when it
 * is mounted); removed with the space; every one detached at daemon stop. */
typedef void (*space_builds_cb)(void *arg, int r, const char *err);
int space_builds_attach(space *s, char *err, size_t errlen);
void space_builds_attach_async(space *s, space_builds_cb done, void *arg);
int space_builds_attached(const space *s);
void space_builds_remove(space *s);
void spaces_builds_detach(podium *p);
/* build_queue.c: the builds waiting for a slot, fairly between owners (round robin,
 * at most build_queue_per_user running each). next takes the build to start out of
 * the queue (an abandoned one, s NULL, first: the caller drops it), or NULL; started
 * and finished count it to its owner; take_all empties the queue (shutdown). */
unsigned build_queue_per_user(int slots);
void build_queue_add(build_ctx *c);
build_ctx *build_queue_next(int slots);
void build_queue_started(build_ctx *c);
void build_queue_finished(build_ctx *c);
build_ctx *build_queue_take_all(void);
/* A line in the log of each waiting build whose place in the queue changed. */
void build_queue_note_positions(int running, int slots);
/* A line of the daemon's own in a build log. */
void space_build_log_note(const char *path, const char *line);
/* Starts a release built by build_id; takes ownership of cfg's contents. */
void space_deploy(space *s, int64_t build_id, const char *sha, const char *release_dir,
    app_config *cfg);
/* After a restart: brings back the release that served (or crash-looped) as the live
 * one, resuming a crash loop's backoff; takes ownership of cfg's contents. */
void space_resume(space *s, int64_t build_id, const char *sha, const char *release_dir,
    app_config *cfg);
/* After a restart: builds the interrupted build b's commit again (attempt + 1). */
void space_build_again(space *s, const build_row *b);
/* The stage saying what the space does now (building, starting, serving, waiting to
 * restart), for a change that keeps errorMessage. */
const char *space_progress_stage(const space *s);
/* Removes release directories of this space other than the ones in use. */
void space_prune_releases(space *s);
/* Removes the release image of build_id (0: of every build of s) from the image
 * store, in the background. */
void space_images_remove(space *s, int64_t build_id);
/* Milliseconds since the epoch (crash-loop retry times survive restarts). */
int64_t space_wall_ms(void);
/* Builds exactly sha (a push, or a factory rebuild with no_cache). */
void space_build_commit(podium *p, space *s, const char *sha, int no_cache);

/* space_list.c: the listings' view of a space in the store (tags; main's date) */
void space_listing_save(space *s);
void space_modified_save(space *s);

/* space.c: an instance's callbacks, and freeing a detached or failed one */
void space_instance_ready(instance *in, void *arg);
void space_instance_exited(instance *in, const instance_exit *ex, void *arg);
void inst_ref_free(inst_ref *ref);
/* space_start.c: the start queue. At most a few instances are spawned and not yet
 * ready at a time (START_SLOTS_PER_CPU); enqueue is a no-op while ref runs or waits. */
void starts_enqueue(space *s, inst_ref *ref);
void starts_slot_take(inst_ref *ref);
void starts_slot_release(inst_ref *ref);
void starts_remove(inst_ref *ref);

/* spaces.c: a space of the list from its row (takes its strings). */
space *space_new(podium *p, space_row *row);
/* spaces.c: brings a space back as a restart does (latest: its newest build). */
void space_recover(space *s, const build_row *latest);
/* space_build.c: builds sha again where the space landed (a node took it over
 * and does not hold its release), note at the top of the build log. */
void space_build_release(space *s, const char *sha, const char *note);

/* placement.c hooks (a cluster node; each a no-op on one machine) */
route_target *placement_route(space *s, const char *id); /* remote, held, fenced, or NULL */
int placement_may_write(const space *s);                 /* 0: another node owns its row */
int placement_instance_exited(space *s, inst_ref *ref);  /* 1: a drain stopped it */

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
