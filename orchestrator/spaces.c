/* spaces.c — the set of spaces: create, find, delete, their JSON (Hub shapes), and
 * bringing them back at startup / stopping them at shutdown. The lifecycle of one
 * space (builds, instances, stages) is space.c. */
#include <ctype.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "orchestrator/host/budget.h"
#include "builder/git.h"
#include "common/config.h"
#include "common/yaml.h"
#include "orchestrator/lifecycle.h"
#include "orchestrator/limits.h"
#include "orchestrator/store/accounts.h"
#include "orchestrator/hardware.h"
#include "common/log.h"
#include "orchestrator/host/net.h"
#include "proxy/routes.h"
#include "orchestrator/host/storage.h"
#include "orchestrator/space_int.h"
#include "orchestrator/resources.h"
#include "common/util.h"

/* ---- create / delete / find ---- */

/* Spaces by row id (the store's listings name them so): main loop only. */
#define ID_BUCKETS 4096
static space *by_id[ID_BUCKETS];

static space **
id_slot(int64_t id)
{
	space **pp = &by_id[(uint64_t)id % ID_BUCKETS];

	while (*pp != NULL && (*pp)->row.id != id)
		pp = &(*pp)->id_next;
	return pp;
}

space *
space_by_id(podium *p, int64_t id)
{
	(void)p;
	return *id_slot(id);
}

/* The spaces by lowercase owner/name: a page looks its space up in time that does
 * not grow with the number of spaces. Main loop only. */
#define FIND_BUCKETS 4096
static space *find_index[FIND_BUCKETS];

static unsigned
find_bucket(const char *owner, const char *name)
{
	char key[300];

	snprintf(key, sizeof(key), "%s/%s", owner, name);
	for (char *k = key; *k != '\0'; k++)
		*k = (char)tolower((unsigned char)*k);
	return str_hash(key) % FIND_BUCKETS;
}

static void
find_unlink(space *s)
{
	for (space **pp = &find_index[find_bucket(s->row.owner, s->row.name)]; *pp != NULL;
	    pp = &(*pp)->hnext) {
		if (*pp == s) {
			*pp = s->hnext;
			return;
		}
	}
}

space *
space_new(podium *p, space_row *row)
{
	space *s = xcalloc(1, sizeof(*s));
	space **pp;
	unsigned h;

	s->row = *row;
	s->p = p;
	randombytes_buf(&s->access_epoch, sizeof(s->access_epoch));
	uv_timer_init(p->loop, &s->restart_timer);
	s->restart_timer.data = s;
	lifecycle_load(s);
	for (pp = &p->spaces; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = s;
	*id_slot(s->row.id) = s;
	h = find_bucket(s->row.owner, s->row.name);
	s->hnext = find_index[h];
	find_index[h] = s;
	return s;
}

space *
space_next(const space *s)
{
	return s->next;
}

space *
space_find(podium *p, const char *owner, const char *name)
{
	for (space *s = find_index[find_bucket(owner, name)]; s != NULL; s = s->hnext)
		if (s->p == p && strcasecmp(s->row.owner, owner) == 0 && strcasecmp(s->row.name, name) == 0)
			return s;
	return NULL;
}

static int
sdk_known(const char *sdk)
{
	static const char *known[] = { "static", "python", "gradio", "streamlit", "node", "docker", NULL };

	for (int i = 0; known[i] != NULL; i++)
		if (strcmp(known[i], sdk) == 0)
			return 1;
	return 0;
}

/* Tests set PODIUM_TEST_DELETE_STEP_MS to pause between the steps of a delete, so
 * that a kill -9 can land between any two of them. */
static void
delete_step_pause(void)
{
	const char *ms = getenv("PODIUM_TEST_DELETE_STEP_MS");

	if (ms != NULL && atoi(ms) > 0)
		usleep((useconds_t)atoi(ms) * 1000);
}

/* Everything a space keeps on disk but its rows: /data (unmounted, its image
 * deleted), repository, releases, logs, build cache, its egress switch. 0, or the
 * first error (err names the path). Removing what is not there is no error. */
static int
space_remove_files(podium *p, space *s, char *err, size_t errlen)
{
	/* the last one: where the build cache was before the build disk held it */
	char *paths[5] = { space_repo_path(p, s), space_releases_dir(p, s), space_data_dir(p, s),
		space_logs_dir(p, s), xasprintf("%s/cache/%s/%s", p->data_dir, s->row.owner,
		s->row.name) };
	int r = 0;

	space_storage_remove(s);
	space_builds_remove(s);
	delete_step_pause();
	for (int i = 0; i < 5; i++) {
		int ri = fs_rm_rf(paths[i]);

		if (ri != 0 && r == 0) {
			snprintf(err, errlen, "could not remove %s: %s", paths[i], strerror(-ri));
			r = ri;
		}
		free(paths[i]);
		delete_step_pause();
	}
	/* state kept by its id or uid goes with it (ids are never reused: schema v7) */
	space_set_egress(s, 1);
	return r;
}

/* 1 (err says so) when owner has as many spaces as one user may (limits.h); admins
 * have no cap. */
static int
space_quota_full(podium *p, const char *owner, char *err, size_t errlen)
{
	unsigned cap = limits_get()->spaces_per_user, n = 0;

	if (cap == 0 || accounts_is_admin(p->store, owner))
		return 0;
	for (space *o = p->spaces; o != NULL; o = o->next)
		n += strcasecmp(o->row.owner, owner) == 0;
	if (n < cap)
		return 0;
	snprintf(err, errlen, "%s has %u spaces, the most one user may have (limits.spaces_per_user: "
	    "%u): delete one first", owner, n, cap);
	return 1;
}

int
space_create(podium *p, const char *owner, const char *name, const char *sdk, int private,
    space **out, char *err, size_t errlen)
{
	char sub[160];
	space_row row = { 0 };
	char *repo, *data;
	space *s;
	int r;

	if (!name_valid(owner)) {
		snprintf(err, errlen, "invalid owner name \"%s\": use 1-64 of A-Z a-z 0-9 . _ -, "
		    "not starting with . or -, no ..", owner);
		return -EINVAL;
	}
	if (!name_valid(name)) {
		snprintf(err, errlen, "invalid space name \"%s\": use 1-64 of A-Z a-z 0-9 . _ -, "
		    "not starting with . or -, no ..", name);
		return -EINVAL;
	}
	if (strlen(name) > 4 && strcasecmp(name + strlen(name) - 4, ".git") == 0) {
		/* the git remote URL may end in .git (INTERFACES.md): "x.git" would
		 * be reached as "x" */
		snprintf(err, errlen, "invalid space name \"%s\": it must not end in .git", name);
		return -EINVAL;
	}
	if (sdk == NULL || !sdk_known(sdk)) {
		snprintf(err, errlen, "invalid sdk \"%s\": use static, python, gradio, streamlit, node "
		    "or docker", sdk != NULL ? sdk : "");
		return -EINVAL;
	}
	name_subdomain(owner, name, sub, sizeof(sub));
	if (space_quota_full(p, owner, err, errlen))
		return -EDQUOT;
	if (space_find(p, owner, name) != NULL) {
		snprintf(err, errlen, "space %s/%s already exists", owner, name);
		return -EEXIST;
	}
	for (space *o = p->spaces; o != NULL; o = o->next) {
		if (strcmp(o->row.subdomain, sub) == 0) {
			/* not naming the other space: it may be private (issue 21.7) */
			snprintf(err, errlen, "space %s/%s would use host %s, which another space "
			    "already uses: choose another name", owner, name, sub);
			return -EEXIST;
		}
	}
	row.owner = xstrdup(owner);
	row.name = xstrdup(name);
	row.subdomain = xstrdup(sub);
	row.sdk = xstrdup(sdk);
	row.private = private;
	row.stage = xstrdup("NO_APP_FILE");
	r = store_space_insert(p->store, &row);
	if (r != 0) {
		space_row_release(&row);
		snprintf(err, errlen, r == -EEXIST ? "space %s/%s already exists" : "could not store space %s/%s",
		    owner, name);
		return r;
	}
	s = space_new(p, &row);
	/* a cluster node that makes a space owns it first (issue 27) */
	if (p->node != NULL && store_placement_insert(p->store, s->row.id, p->node) != 0)
		log_warn("space %s/%s: its placement on node %s was not stored", owner, name, p->node);
	repo = space_repo_path(p, s);
	data = space_data_dir(p, s);
	/* Files of this name with no row are what a delete interrupted before deletes
	 * had tombstones left behind: the name is free, they go. */
	if (access(repo, F_OK) == 0) {
		log_warn("space %s/%s: removing files a delete left behind", owner, name);
		space_remove_files(p, s, NULL, 0);
	}
	r = builder_repo_init(repo);
	/* Parents are the daemon's only; the data dir itself belongs to the app's host
	 * uid (podium-sandbox opens it as root, then the box works as that uid). */
	if (r == 0)
		r = fs_mkdir_p(data, 0700);
	if (r == 0 && (chown(data, space_host_uid(s), space_host_uid(s)) != 0 || chmod(data, 0700) != 0))
		r = -errno;
	free(repo);
	free(data);
	if (r != 0) {
		snprintf(err, errlen, "could not create the repository: %s", strerror(-r));
		space_delete(p, s, NULL, 0);
		return r == -ENOSPC || r == -EDQUOT ? r : -EIO;
	}
	space_update_route(s);
	space_listing_save(s);
	log_info("space %s/%s: created (sdk %s, host %s)", owner, name, sdk, sub);
	*out = s;
	return 0;
}

static void
space_timer_closed(uv_handle_t *h)
{
	free(h->data);
}

static void
space_free(podium *p, space *s)
{
	space **pp;

	for (pp = &p->spaces; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	*id_slot(s->row.id) = s->id_next;
	find_unlink(s);
	space_row_release(&s->row);
	free(s->static_root);
	free(s->hardware);
	free(s->release_sha);
	free(s->release_sdk);
	free(s->owner_node);
	free(s->owner_addr);
	/* The struct holds the timer: it is freed in the timer's close callback. */
	uv_close((uv_handle_t *)&s->restart_timer, space_timer_closed);
}

int
space_delete(podium *p, space *s, char *err, size_t errlen)
{
	int r;

	log_info("space %s/%s: deleting", s->row.owner, s->row.name);
	/* The tombstone, before anything goes: a stop from here on is finished at the
	 * next start (spaces_init). */
	if (strcmp(s->row.stage, "DELETING") != 0) {
		char *was = xstrdup(s->row.stage);

		space_replace_str(&s->row.stage, "DELETING");
		if ((r = store_space_update(p->store, &s->row)) != 0) {
			space_replace_str(&s->row.stage, was);
			free(was);
			snprintf(err, errlen, "could not record the delete of %s/%s: %s", s->row.owner,
			    s->row.name, strerror(-r));
			return r;
		}
		free(was);
	}
	delete_step_pause();
	routes_remove(s->row.subdomain);
	space_build_abandon(s);
	if (s->live != NULL)
		space_detach_instance(s, s->live, 0);
	if (s->pending != NULL)
		space_detach_instance(s, s->pending, 0);
	s->live = s->pending = NULL;
	/* another node's space: that node removes what it holds when it sees the rows go */
	if (!s->foreign)
		space_images_remove(s, 0); /* its releases' images, while its builds name them */
	delete_step_pause();
	if (!s->foreign && (r = space_remove_files(p, s, err, errlen)) != 0) {
		error("space %s/%s: delete: %s (tried again at the next start)", s->row.owner,
		    s->row.name, err);
		return r;
	}
	/* The rows last (the space's builds, then its row, whose deletion cascades to
	 * its variables, secrets and settings): the name is free again. */
	if ((r = store_builds_delete_space(p->store, s->row.id)) != 0 ||
	    (r = store_space_delete(p->store, s->row.id)) != 0) {
		snprintf(err, errlen, "could not remove %s/%s from the database: %s", s->row.owner,
		    s->row.name, strerror(-r));
		return r;
	}
	log_info("space %s/%s: deleted", s->row.owner, s->row.name);
	space_free(p, s);
	return 0;
}

/* ---- JSON ---- */

/* The serving release's sdk; while nothing serves, the one the newest README names,
 * else the one given at create time. */
static const char *
space_sdk(const space *s, json_t *card)
{
	const char *sdk = json_string_value(json_object_get(card, "sdk"));

	if (space_serving(s) && s->release_sdk != NULL)
		return s->release_sdk;
	return sdk != NULL && sdk_known(sdk) ? sdk : s->row.sdk;
}

static json_t *
space_card(const space *s)
{
	json_t *card = s->row.card != NULL ? json_loads(s->row.card, 0, NULL) : NULL;

	return json_is_object(card) ? card : (json_decref(card), json_object());
}

json_t *
space_tags_json(const space *s)
{
	json_t *card = space_card(s), *tags = json_array(), *t;
	const char *license = json_string_value(json_object_get(card, "license"));
	size_t i;

	/* as the Hub tags a space: its sdk, its README's tags, its license */
	json_array_append_new(tags, json_string(space_sdk(s, card)));
	json_array_foreach(json_object_get(card, "tags"), i, t)
		if (json_is_string(t) && json_string_length(t) > 0)
			json_array_append(tags, t);
	if (license != NULL && license[0] != '\0')
		json_array_append_new(tags, json_pack("s+", "license:", license));
	json_decref(card);
	return tags;
}

static void
time_iso(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char sec[24];

	gmtime_r(&t, &tm);
	strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", sec, (int)(ms % 1000));
}

json_t *
space_runtime_json(const space *s)
{
	json_t *card = space_card(s);
	json_t *j = json_pack("{s:s, s:{s:s, s:s}}", "stage", s->row.stage,
	    "hardware", "current", space_hardware_current(s), "requested", space_flavor(s)->name);
	char when[40], note[256];

	if (space_data_note(s, note, sizeof(note)) != NULL && s->row.error != NULL) {
		char *both = xasprintf("%s; %s", s->row.error, note);

		json_object_set_new(j, "errorMessage", json_string(both));
		free(both);
	} else if (s->row.error != NULL || space_data_note(s, note, sizeof(note)) != NULL) {
		json_object_set_new(j, "errorMessage", json_string(s->row.error != NULL ?
		    s->row.error : note));
	}
	json_object_set_new(j, "storage", json_null());
	json_object_set_new(j, "sdk", json_string(space_sdk(s, card)));
	/* the commit that serves (the Hub's runtime.sha), null while none does */
	json_object_set_new(j, "sha", space_serving(s) && s->release_sha != NULL ?
	    json_string(s->release_sha) : json_null());
	json_object_set_new(j, "restarts", json_integer(s->row.restarts));
	if (s->row.retry_at > 0) {
		time_iso(s->row.retry_at, when, sizeof(when));
		json_object_set_new(j, "nextRetryAt", json_string(when));
	} else {
		json_object_set_new(j, "nextRetryAt", json_null());
	}
	json_decref(card);
	lifecycle_runtime(s, j);
	/* A static release runs no process: nothing committed. */
	json_object_set_new(j, "resources", budget_runtime_json(s->static_live ? 0 : space_flavor(s)->memory_bytes));
	json_object_set_new(j, "egress", space_egress_json(s, 0));  /* counters: web/api.c */
	/* the node that runs it (issue 27): null on one machine */
	json_object_set_new(j, "node", s->p->node == NULL ? json_null() :
	    json_string(s->foreign ? (s->owner_node != NULL ? s->owner_node : "") : s->p->node));
	return j;
}

json_t *
space_json(const podium *p, const space *s, int full)
{
	char *host = podium_space_url(p, s->row.subdomain);
	json_t *card = space_card(s);
	char created[40];
	json_t *j;

	time_iso(s->row.created * 1000, created, sizeof(created));
	j = json_pack("{s:s++, s:s, s:s, s:s, s:b, s:s, s:s, s:s, s:o}",
	    "id", s->row.owner, "/", s->row.name,
	    "author", s->row.owner,
	    "name", s->row.name,
	    "sdk", space_sdk(s, card),
	    "private", s->row.private,
	    "host", host,
	    "subdomain", s->row.subdomain,
	    "createdAt", created,
	    "runtime", space_runtime_json(s));
	free(host);
	if (full) {
		/* sha: main's tip, as on the Hub (huggingface_hub's resolve_revision reads
		 * it); lastPushedSha: the same, podium's older name. What serves is
		 * runtime.sha. */
		json_object_set_new(j, "sha", s->row.sha != NULL ? json_string(s->row.sha) :
		    json_null());
		json_object_set_new(j, "lastPushedSha", s->row.sha != NULL ? json_string(s->row.sha)
		    : json_null());
		json_object_set_new(j, "cardData", json_incref(card));
		json_object_set_new(j, "likes", json_integer(space_likes(s)));
		json_object_set_new(j, "tags", space_tags_json(s));
	}
	json_decref(card);
	return j;
}

int64_t
space_likes(const space *s)
{
	int64_t n = 0;

	store_likes_count(s->p->store, s->row.id, &n);
	return n;
}

int
space_like(space *s, const char *user, int like)
{
	return store_like_set(s->p->store, s->row.id, user, like);
}

int
space_liked(const space *s, const char *user)
{
	int liked = 0;

	if (user != NULL)
		store_like_get(s->p->store, s->row.id, user, &liked);
	return liked;
}

/* ---- startup and shutdown ---- */

static void
load_one(space_row *row, void *arg)
{
	space_new(arg, row);
}

static int
uid_used(unsigned host_uid, void *arg)
{
	for (space *s = ((podium *)arg)->spaces; s != NULL; s = s->next)
		if (space_host_uid(s) == host_uid)
			return 1;
	return 0;
}

/* Loads build id's release config; 0, or -errno when it is not an ok build. */
static int
release_load(space *s, int64_t id, build_row *b, app_config *cfg, char **dir)
{
	json_t *j;
	int r;

	if (id <= 0 || store_build_get(s->p->store, id, b) != 0 || b->config == NULL ||
	    strcmp(b->status, "ok") != 0)
		return -ENOENT;
	j = json_loads(b->config, 0, NULL);
	r = j != NULL && app_config_from_json(cfg, j) == 0 ? 0 : -EINVAL;
	json_decref(j);
	if (r == 0)
		*dir = xasprintf("%s/%lld", b->release_dir, (long long)b->id);
	return r;
}

/* The release that served (or crash-looped) comes back as the live one. */
static void
recover_release(space *s)
{
	build_row b = { 0 };
	app_config cfg;
	char *dir = NULL;
	int r;

	app_config_init(&cfg);
	r = release_load(s, s->row.release_id, &b, &cfg, &dir);
	if (r == 0) {
		log_info("space %s/%s: recovering release %lld", s->row.owner, s->row.name,
		    (long long)b.id);
		space_resume(s, b.id, b.sha, dir, &cfg);
	} else if (r == -EINVAL) {
		space_set_stage(s, "RUNTIME_ERROR", "stored release configuration is unreadable");
	}
	free(dir);
	app_config_release(&cfg);
	build_row_release(&b);
}

/* A good build whose switch the daemon stop interrupted is deployed again. */
static void
recover_deploy(space *s)
{
	build_row b = { 0 };
	app_config cfg;
	char *dir = NULL;

	app_config_init(&cfg);
	if (release_load(s, s->row.deploy_id, &b, &cfg, &dir) == 0) {
		log_info("space %s/%s: deploying release %lld (its switch was interrupted)",
		    s->row.owner, s->row.name, (long long)b.id);
		space_deploy(s, b.id, b.sha, dir, &cfg);
	} else {
		s->row.deploy_id = 0;
	}
	free(dir);
	app_config_release(&cfg);
	build_row_release(&b);
}

/* Brings a space back after a daemon stop (kill -9 included): its last good release,
 * a switch that was in flight, and a build of the newest push that was interrupted.
 * latest is the space's newest build as the stop left it. */
void
space_recover(space *s, const build_row *latest)
{
	int interrupted = latest->status != NULL && strcmp(latest->status, "building") == 0;
	int was_up = strstr(s->row.stage, "STARTING") != NULL || strcmp(s->row.stage, "RUNNING") == 0 ||
	    strstr(s->row.stage, "BUILDING") != NULL;

	if (strcmp(s->row.stage, "DELETING") == 0) {
		/* its delete could not finish (the log says why): nothing runs or serves */
		routes_remove(s->row.subdomain);
		return;
	}
	if (lifecycle_recover(s)) {
		/* paused, or asleep: nothing starts until restart or a request */
		space_prune_releases(s);
		return;
	}
	if (s->row.want_running && s->row.release_id > 0)
		recover_release(s);
	if (s->row.deploy_id > 0 && s->row.deploy_id != s->row.release_id)
		recover_deploy(s);
	else
		s->row.deploy_id = 0;
	if (interrupted && latest->attempt < BUILD_ATTEMPTS) {
		space_build_again(s, latest);
	} else if (interrupted) {
		/* Shown until the next push, whatever else happens meanwhile. */
		char *why = xasprintf("build interrupted: the daemon stopped during the build of %.12s "
		    "%d times; push a new commit to build again", latest->sha, latest->attempt);
		space_set_stage(s, s->live != NULL || s->static_live ? space_progress_stage(s)
		    : "BUILD_ERROR", why);
		free(why);
	}
	if (s->live != NULL || s->pending != NULL || s->build != NULL || s->static_live)
		space_set_stage(s, space_progress_stage(s), s->row.error);
	else if (was_up && !interrupted)
		space_set_stage(s, "STOPPED", NULL);
	else
		space_update_route(s);
	space_prune_releases(s);
}

/* DATA/config.yaml, key deploy: {drain_seconds: N}, from 0 to 3600. */
static int
deploy_config(const podium *p, char *err, size_t errlen)
{
	json_t *d = config_get(p->config, "deploy"), *v;
	const char *key;
	uint64_t n;

	if (d != NULL && !json_is_object(d)) {
		snprintf(err, errlen, "config: line %zu: deploy must be a mapping (drain_seconds)",
		    config_line(p->config, d));
		return -1;
	}
	json_object_foreach(d, key, v) {
		if (strcmp(key, "drain_seconds") != 0) {
			snprintf(err, errlen, "config: line %zu: unknown key deploy.%s (known: "
			    "drain_seconds)", config_line(p->config, v), key);
			return -1;
		}
		if (yaml_uint(v, &n) != 0 || n > 3600) {
			snprintf(err, errlen, "config: line %zu: deploy.drain_seconds must be a whole "
			    "number of seconds from 0 to 3600", config_line(p->config, v));
			return -1;
		}
		space_drain_grace_ms = (unsigned)n * 1000;
	}
	return 0;
}

int
spaces_configure(podium *p, char *err, size_t errlen)
{
	if (deploy_config(p, err, errlen) != 0 || spaces_disk_configure(p, err, errlen) != 0)
		return -1;
	return 0;
}

int
spaces_init(podium *p)
{
	const char *base = getenv("PODIUM_RESTART_BACKOFF_MS");
	build_row *latest;
	size_t n = 0, i;
	int r, failed;

	spaces_disk_start(p);
	lifecycle_init(p);
	/* Read once: tests shorten the crash-loop backoff with it. */
	if (base != NULL && atoll(base) > 0)
		space_backoff_base_ms = (uint64_t)atoll(base);
	r = store_space_load_all(p->store, load_one, p);
	if (r != 0)
		return r;
	if (p->node != NULL) {
		/* a cluster node runs what the placements give it (placement.c), once
		 * the cluster has read them; until then every space is held */
		for (space *s = p->spaces; s != NULL; s = s->next) {
			s->foreign = 1;
			space_update_route(s);
		}
		return 0;
	}
	/* Deletes a stop interrupted (their tombstones) are finished first. */
	for (space *s = p->spaces, *next; s != NULL; s = next) {
		char err[512];

		next = s->next;
		if (strcmp(s->row.stage, "DELETING") == 0 && space_delete(p, s, err, sizeof(err)) == 0)
			log_info("finished a delete the daemon's stop had interrupted");
	}
	net_spaces_prune(uid_used, p);
	for (space *s = p->spaces; s != NULL; s = s->next)
		n++;
	/* Each space's newest build, before interrupted builds are marked failed. */
	latest = xcalloc(n + 1, sizeof(*latest));
	i = 0;
	for (space *s = p->spaces; s != NULL; s = s->next)
		store_build_latest(p->store, s->row.id, &latest[i++]);
	failed = store_builds_fail_interrupted(p->store);
	if (failed > 0)
		log_warn("marked %d interrupted build%s as failed", failed, failed == 1 ? "" : "s");
	/* Apps start in the background (space.c's start queue): the listener serves and
	 * static spaces answer from the first loop turn. */
	i = 0;
	for (space *s = p->spaces; s != NULL; s = s->next) {
		space_recover(s, &latest[i]);
		build_row_release(&latest[i++]);
		/* the listings' tags (the rule may have changed), main's date when a
		 * database from before schema 6 does not know it */
		space_listing_save(s);
		if (s->row.modified == 0)
			space_modified_save(s);
	}
	free(latest);
	return 0;
}

void
spaces_shutdown(podium *p, void (*cb)(void *arg), void *arg)
{
	p->stopping = 1;
	lifecycle_shutdown(p);
	space_shutdown_cb = cb;
	space_shutdown_arg = arg;
	space_builds_drop_queued();
	space_starts_drop_queued();
	space_drains_stop();
	spaces_disk_stop();
	for (space *s = p->spaces; s != NULL; s = s->next) {
		uv_timer_stop(&s->restart_timer);
		if (s->job != NULL)
			builder_build_cancel(s->job);
		if (s->live != NULL && s->live->in != NULL)
			instance_stop(s->live->in, STOP_GRACE_MS);
		if (s->pending != NULL && s->pending->in != NULL)
			instance_stop(s->pending->in, STOP_GRACE_MS);
	}
	space_maybe_shutdown_done();
}
