/* lifecycle.c — restart, pause, sleep and wake, releases and rollback (see
 * lifecycle.h). The hooks space.c and spaces.c call are declared in space_int.h.
 *
 * Sleep: a 1 s timer reads each running app's proxy counters; a space whose
 * request count did not move, with no exchange open and no request held, for
 * sleep_after seconds goes to sleep: the route becomes SLEEPING first (new
 * requests are held and ask for a wake), then the instance drains like an old
 * release after a switch and stops. Wake: the proxy's handler (any thread)
 * queues the space id and signals the main loop, which starts the serving
 * release; requests stay held until it answers, and the time from the wake to
 * the switch is recorded as the cold start. */
#include "orchestrator/lifecycle.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "orchestrator/host/flavors.h"
#include "common/log.h"
#include "orchestrator/host/storage.h"
#include "orchestrator/space_int.h"
#include "orchestrator/resources.h"
#include "common/util.h"

#define IDLE_TICK_MS 1000

typedef struct wake_item {
	char *space_id;
	struct wake_item *next;
} wake_item;

static uv_async_t wake_async;
static uv_timer_t idle_timer;
static int handles_open;
static int wake_closed;      /* under wake_lock: the async handle is gone */
static pthread_mutex_t wake_lock = PTHREAD_MUTEX_INITIALIZER;
static wake_item *wake_queue;
static podium *lifecycle_podium;

/* ---- settings ---- */

static void
settings_save(space *s)
{
	if (!s->p->stopping)
		store_settings_put(s->p->store, s->row.id, s->paused, s->sleep_after_s,
		    s->storage_tier);
}

void
lifecycle_load(space *s)
{
	int paused = 0, sleep_after = s->p->sleep_after_default;

	s->storage_tier[0] = '\0';
	if (store_settings_get(s->p->store, s->row.id, &paused, &sleep_after, s->storage_tier,
	    sizeof(s->storage_tier)) == -ENOENT)
		store_settings_put(s->p->store, s->row.id, 0, sleep_after, "");
	s->paused = paused;
	s->sleep_after_s = sleep_after;
}

/* ---- deploying a stored release ---- */

/* The release directory of an ok build of s, or NULL with err set. */
static char *
release_dir_of(space *s, const build_row *b, char *err, size_t errlen)
{
	struct stat st;
	char *dir;

	if (b->space_id != s->row.id) {
		snprintf(err, errlen, "release %lld is not a release of %s/%s", (long long)b->id,
		    s->row.owner, s->row.name);
		return NULL;
	}
	if (b->status == NULL || strcmp(b->status, "ok") != 0 || b->config == NULL) {
		snprintf(err, errlen, "release %lld did not build (status %s): nothing to serve",
		    (long long)b->id, b->status != NULL ? b->status : "?");
		return NULL;
	}
	if (space_builds_attach(s, err, errlen) != 0)
		return NULL;
	dir = xasprintf("%s/%lld", b->release_dir, (long long)b->id);
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "release %lld is no longer kept on disk (only the newest "
		    "%d successful releases are)", (long long)b->id, s->p->keep_releases);
		free(dir);
		return NULL;
	}
	return dir;
}

/* Starts release id the way a push's build does (switch once it answers). */
static int
deploy_release(space *s, int64_t id, char *err, size_t errlen)
{
	build_row b = { 0 };
	app_config cfg;
	json_t *j = NULL;
	char *dir = NULL;
	int r = -EINVAL;

	if (store_build_get(s->p->store, id, &b) != 0) {
		snprintf(err, errlen, "release %lld not found", (long long)id);
		r = -ENOENT;
		goto done;
	}
	if ((dir = release_dir_of(s, &b, err, errlen)) == NULL)
		goto done;
	app_config_init(&cfg);
	j = json_loads(b.config, 0, NULL);
	if (j == NULL || app_config_from_json(&cfg, j) != 0) {
		app_config_release(&cfg);
		snprintf(err, errlen, "release %lld: its stored configuration is unreadable",
		    (long long)id);
		goto done;
	}
	log_info("space %s/%s: deploying release %lld", s->row.owner, s->row.name, (long long)id);
	space_deploy(s, id, b.sha, dir, &cfg);
	app_config_release(&cfg);
	r = 0;
done:
	json_decref(j);
	free(dir);
	build_row_release(&b);
	return r;
}

/* ---- sleep and wake ---- */

static void
space_sleep(space *s)
{
	log_info("space %s/%s: idle for %d s, going to sleep", s->row.owner, s->row.name,
	    s->sleep_after_s);
	s->sleeping = 1;
	s->waking = 0;
	/* The route holds new requests before the app stops; those already on
	 * their way to it finish while it drains. */
	space_set_stage(s, "SLEEPING", NULL);
	uv_timer_stop(&s->restart_timer);
	if (s->live != NULL) {
		space_detach_instance(s, s->live, DRAIN_MS);
		s->live = NULL;
	}
}

static void
space_wake(space *s)
{
	char err[512];

	if (!s->sleeping || s->paused)
		return;
	log_info("space %s/%s: waking up", s->row.owner, s->row.name);
	s->sleeping = 0;
	s->waking = 1;
	s->wake_started_ms = now_ms();
	if (deploy_release(s, s->row.release_id, err, sizeof(err)) != 0) {
		s->waking = 0;
		space_set_stage(s, "RUNTIME_ERROR", err);
	}
}

/* Runs on the main loop: the spaces the proxy asked to wake. */
static void
wake_async_cb(uv_async_t *h)
{
	podium *p = h->data;
	wake_item *q;

	pthread_mutex_lock(&wake_lock);
	q = wake_queue;
	wake_queue = NULL;
	pthread_mutex_unlock(&wake_lock);
	while (q != NULL) {
		wake_item *next = q->next;
		const char *slash = strchr(q->space_id, '/');

		if (slash != NULL && !p->stopping) {
			char *owner = xstrndup(q->space_id, (size_t)(slash - q->space_id));
			space *s = space_find(p, owner, slash + 1);

			if (s != NULL)
				space_wake(s);
			free(owner);
		}
		free(q->space_id);
		free(q);
		q = next;
	}
}

/* Any thread (proxy loops): queue and signal. */
static void
wake_request(const char *space_id, void *arg)
{
	wake_item *w = xcalloc(1, sizeof(*w));

	(void)arg;
	w->space_id = xstrdup(space_id);
	pthread_mutex_lock(&wake_lock);
	if (wake_closed) {
		pthread_mutex_unlock(&wake_lock);
		free(w->space_id);
		free(w);
		return;
	}
	w->next = wake_queue;
	wake_queue = w;
	uv_async_send(&wake_async);
	pthread_mutex_unlock(&wake_lock);
}

static void
idle_tick(uv_timer_t *t)
{
	podium *p = t->data;
	uint64_t now = now_ms();

	for (space *s = p->spaces; s != NULL; s = s->next) {
		proxy_space_stats st = { 0 };
		char id[260];

		/* Static spaces cost nothing awake; an app mid-deploy is not idle. */
		if (s->sleep_after_s <= 0 || s->paused || s->sleeping || s->waking ||
		    s->live == NULL || !s->live->ready || s->pending != NULL || s->build != NULL) {
			s->idle_since_ms = 0;
			continue;
		}
		snprintf(id, sizeof(id), "%s/%s", s->row.owner, s->row.name);
		proxy_stats_get(id, &st);
		if (s->idle_since_ms == 0 || st.requests != s->last_requests ||
		    st.active_connections > 0 || st.held_requests > 0) {
			s->last_requests = st.requests;
			s->idle_since_ms = now;
		} else if (now - s->idle_since_ms >= (uint64_t)s->sleep_after_s * 1000) {
			s->idle_since_ms = 0;
			space_sleep(s);
		}
	}
}

/* ---- hooks for space.c and spaces.c ---- */

route_target *
lifecycle_route(space *s, const char *id)
{
	if (s->paused)
		return route_target_status(ROUTE_PAUSED, id, "This space is paused by its owner.");
	if (s->waking && strstr(s->row.stage, "STARTING") == NULL)
		s->waking = 0; /* the wake failed: the stage's error answers from now on */
	if (s->sleeping || (s->waking && !space_serving(s)))
		return route_target_status(ROUTE_SLEEPING, id, NULL);
	return NULL;
}

void
lifecycle_ready(space *s)
{
	if (s->waking) {
		instance *in = s->live != NULL ? s->live->in : NULL;
		uint64_t now = now_ms();

		s->waking = 0;
		s->wake_ms = now - s->wake_started_ms;
		if (in != NULL && instance_boxed_ms(in) != 0) {
			s->wake_sandbox_ms = instance_boxed_ms(in) - instance_started_ms(in);
			s->wake_app_ms = now - instance_boxed_ms(in);
		}
		s->wakes++;
		log_info("space %s/%s: awake after %llu ms", s->row.owner, s->row.name,
		    (unsigned long long)s->wake_ms);
	}
	s->idle_since_ms = 0;
}

int
lifecycle_build_ok(space *s, int64_t build_id)
{
	if (s->paused) {
		/* Built, kept, not started: restart runs it. */
		s->row.release_id = build_id;
		s->row.want_running = 1;
		space_set_stage(s, "PAUSED", NULL);
		return 1;
	}
	if (s->sleeping) {
		/* The new release wakes it; requests wait for it rather than the old one. */
		s->sleeping = 0;
		s->waking = 1;
		s->wake_started_ms = now_ms();
	}
	return 0;
}

int
lifecycle_recover(space *s)
{
	if (s->paused) {
		space_set_stage(s, "PAUSED", NULL);
		return 1;
	}
	if (strcmp(s->row.stage, "SLEEPING") == 0 && s->row.want_running && s->row.release_id > 0) {
		s->sleeping = 1;
		space_update_route(s);
		return 1;
	}
	return 0;
}

void
lifecycle_runtime(const space *s, json_t *rt)
{
	json_object_set_new(rt, "gcTimeout", s->sleep_after_s > 0 ?
	    json_integer(s->sleep_after_s) : json_null());
	json_object_set_new(rt, "paused", json_boolean(s->paused));
	json_object_set_new(rt, "storage", json_string(storage_tier_find(s->storage_tier) != NULL ?
	    s->storage_tier : storage_tier_default()->name));
	json_object_set_new(rt, "storagePending", json_boolean(space_storage_pending(s)));
	json_object_set_new(rt, "coldStarts", s->wakes == 0 ?
	    json_pack("{s:i, s:n}", "count", 0, "lastMs") :
	    json_pack("{s:I, s:I, s:I, s:I}", "count", (json_int_t)s->wakes,
	    "lastMs", (json_int_t)s->wake_ms, "sandboxMs", (json_int_t)s->wake_sandbox_ms,
	    "appMs", (json_int_t)s->wake_app_ms));
}

typedef struct keep_ctx {
	int64_t *ids;
	int n, max;
} keep_ctx;

static int
keep_one(build_row *b, void *arg)
{
	keep_ctx *k = arg;

	if (b->status != NULL && strcmp(b->status, "ok") == 0)
		k->ids[k->n++] = b->id;
	return k->n >= k->max;
}

int
lifecycle_kept_releases(space *s, int64_t *ids, int max)
{
	keep_ctx k = { ids, 0, max < s->p->keep_releases ? max : s->p->keep_releases };

	if (k.max > 0)
		store_builds_list(s->p->store, s->row.id, keep_one, &k);
	return k.n;
}

/* ---- the owner's controls ---- */

int
space_restart(space *s, int factory, char *err, size_t errlen)
{
	if (factory) {
		build_row b = { 0 };
		char *sha = NULL;

		if (s->row.release_id > 0 && store_build_get(s->p->store, s->row.release_id, &b) == 0)
			sha = xstrdup(b.sha);
		else if (s->row.sha != NULL)
			sha = xstrdup(s->row.sha);
		build_row_release(&b);
		if (sha == NULL) {
			snprintf(err, errlen, "nothing to rebuild: no commit was pushed yet");
			return -EINVAL;
		}
		if (s->paused) {
			s->paused = 0;
			settings_save(s);
		}
		s->sleeping = 0;
		log_info("space %s/%s: factory rebuild of %.12s", s->row.owner, s->row.name, sha);
		space_build_commit(s->p, s, sha, 1);
		free(sha);
		return 0;
	}
	if (s->row.release_id <= 0) {
		snprintf(err, errlen, "nothing to restart: no release was built yet");
		return -EINVAL;
	}
	if (s->paused) {
		s->paused = 0;
		settings_save(s);
		log_info("space %s/%s: resumed", s->row.owner, s->row.name);
	}
	if (s->sleeping) {
		space_wake(s);
		return 0;
	}
	return deploy_release(s, s->row.release_id, err, errlen);
}

int
space_pause(space *s, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	log_info("space %s/%s: paused", s->row.owner, s->row.name);
	s->paused = 1;
	s->sleeping = s->waking = 0;
	settings_save(s);
	uv_timer_stop(&s->restart_timer);
	if (s->pending != NULL) {
		space_detach_instance(s, s->pending, 0);
		s->pending = NULL;
	}
	if (s->live != NULL) {
		space_detach_instance(s, s->live, DRAIN_MS);
		s->live = NULL;
	}
	s->static_live = 0;
	space_set_stage(s, "PAUSED", NULL);
	return 0;
}

int
space_set_sleep_time(space *s, long long seconds, char *err, size_t errlen)
{
	if (seconds != -1 && (seconds < 1 || seconds > LIFECYCLE_MAX_SLEEP)) {
		snprintf(err, errlen, "\"seconds\" must be -1 (never) or 1 to %lld, got %lld",
		    LIFECYCLE_MAX_SLEEP, seconds);
		return -EINVAL;
	}
	s->sleep_after_s = (int)seconds;
	s->idle_since_ms = 0;
	settings_save(s);
	return 0;
}

int
space_set_storage(space *s, const char *tier, char *err, size_t errlen)
{
	const storage_tier *t = storage_tier_find(tier);
	char old[sizeof(s->storage_tier)];
	int r;

	if (t == NULL) {
		snprintf(err, errlen, "unknown storage tier \"%s\": use %s", tier, storage_tier_names());
		return -EINVAL;
	}
	memcpy(old, s->storage_tier, sizeof(old));
	snprintf(s->storage_tier, sizeof(s->storage_tier), "%s", t->name);
	if ((r = space_storage_resize(s, err, errlen)) < 0) {
		memcpy(s->storage_tier, old, sizeof(old));
		return r;
	}
	settings_save(s);
	return 0;
}

int
space_delete_storage(space *s, char *err, size_t errlen)
{
	int running = s->live != NULL || s->pending != NULL;

	/* the app lets go of /data first: it starts again on a fresh, empty one */
	if (s->pending != NULL) {
		space_detach_instance(s, s->pending, 0);
		s->pending = NULL;
	}
	if (s->live != NULL) {
		space_detach_instance(s, s->live, 0);
		s->live = NULL;
	}
	space_storage_remove(s);
	s->storage_tier[0] = '\0';
	settings_save(s);
	log_info("space %s/%s: /data deleted, storage tier back to %s", s->row.owner, s->row.name,
	    storage_tier_default()->name);
	if (!running || s->paused || s->row.release_id <= 0)
		return 0;
	return deploy_release(s, s->row.release_id, err, errlen);
}

int
space_rollback(space *s, long long release, char *err, size_t errlen)
{
	if (release <= 0) {
		snprintf(err, errlen, "\"release\" must be a release id (see GET .../releases)");
		return -EINVAL;
	}
	if (s->paused) {
		snprintf(err, errlen, "the space is paused: restart it first");
		return -EINVAL;
	}
	s->sleeping = 0;
	return deploy_release(s, release, err, errlen);
}

typedef struct list_ctx {
	space *s;
	json_t *arr;
} list_ctx;

static int
list_one(build_row *b, void *arg)
{
	list_ctx *l = arg;
	space *s = l->s;
	time_t t = (time_t)b->created;
	char created[32];
	struct tm tm;
	int serving = b->id == s->row.release_id && space_serving(s);
	int kept = 0;
	json_t *j;

	gmtime_r(&t, &tm);
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
	if (b->status != NULL && strcmp(b->status, "ok") == 0) {
		char *dir = xasprintf("%s/%lld", b->release_dir, (long long)b->id);
		struct stat st;

		kept = lstat(dir, &st) == 0;
		free(dir);
	}
	j = json_pack("{s:I, s:s, s:s, s:s, s:b, s:b}", "id", (json_int_t)b->id,
	    "sha", b->sha, "createdAt", created, "status", b->status != NULL ? b->status : "?",
	    "serving", serving, "available", kept);
	if (b->message != NULL) {
		char *m = xstrdup(b->message);

		utf8_scrub(m);
		json_object_set_new(j, "message", json_string(m));
		free(m);
	}
	json_array_append_new(l->arr, j);
	return 0;
}

json_t *
space_releases_json(space *s)
{
	list_ctx l = { s, json_array() };
	char err[512];

	/* which releases are kept: on the build disk (mounted if it is not yet) */
	if (space_builds_attach(s, err, sizeof(err)) != 0)
		log_warn("space %s/%s: build disk: %s", s->row.owner, s->row.name, err);
	store_builds_list(s->p->store, s->row.id, list_one, &l);
	return l.arr;
}

/* ---- daemon ---- */

int
lifecycle_init(podium *p)
{
	lifecycle_podium = p;
	wake_closed = 0;
	uv_async_init(p->loop, &wake_async, wake_async_cb);
	wake_async.data = p;
	uv_timer_init(p->loop, &idle_timer);
	idle_timer.data = p;
	uv_timer_start(&idle_timer, idle_tick, IDLE_TICK_MS, IDLE_TICK_MS);
	handles_open = 1;
	routes_set_wake_handler(wake_request, p);
	return 0;
}

void
lifecycle_shutdown(podium *p)
{
	(void)p;
	if (!handles_open)
		return;
	handles_open = 0;
	pthread_mutex_lock(&wake_lock);
	wake_closed = 1;   /* the proxy still runs: later wakes are dropped */
	while (wake_queue != NULL) {
		wake_item *next = wake_queue->next;

		free(wake_queue->space_id);
		free(wake_queue);
		wake_queue = next;
	}
	pthread_mutex_unlock(&wake_lock);
	uv_close((uv_handle_t *)&wake_async, NULL);
	uv_close((uv_handle_t *)&idle_timer, NULL);
}
