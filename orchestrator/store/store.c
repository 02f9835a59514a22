/* store.c — the store's rows: the bootstrap user and tokens, spaces (each
 * insert and update refreshes the space's row of the gallery's index,
 * store_gallery.c), builds, lifecycle settings, variables and secrets, hardware
 * flavors. Written once for both backends with the statement layer
 * (store_int.h). */
#include "orchestrator/store/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "orchestrator/store/store_int.h"

/* ---- users and tokens ---- */

int
store_user_ensure(store *st, const char *name, int64_t *id, int *created)
{
	store_stmt q;
	int r;

	store_stmt_init(&q, st, "SELECT id FROM users WHERE name = $1");
	store_bind_text(&q, name);
	if ((r = store_step(&q)) == 1)
		*id = store_col_int(&q, 0);
	store_stmt_finish(&q);
	if (r != 0) {
		if (r == 1 && created != NULL)
			*created = 0;
		return r == 1 ? 0 : r;
	}
	/* the bootstrap user "admin" is an admin (as v5 made it in older databases) */
	store_stmt_init(&q, st,
	    "INSERT INTO users (name, created, role) VALUES ($1, $2,"
	    " CASE WHEN $1 = 'admin' THEN 'admin' ELSE 'user' END) RETURNING id");
	store_bind_text(&q, name);
	store_bind_int(&q, (int64_t)time(NULL));
	r = store_run_insert(&q, id);
	if (r == 0 && created != NULL)
		*created = 1;
	return r;
}

int
store_token_add(store *st, int64_t user_id, const char *prefix, const unsigned char hash[32])
{
	store_stmt q;

	store_stmt_init(&q, st,
	    "INSERT INTO tokens (user_id, prefix, hash, created)"
	    " VALUES ($1, $2, $3, $4) RETURNING id");
	store_bind_int(&q, user_id);
	store_bind_text(&q, prefix);
	store_bind_blob(&q, hash, 32);
	store_bind_int(&q, (int64_t)time(NULL));
	return store_run_insert(&q, &st->last_token);
}

int
store_token_find(store *st, const char *prefix, unsigned char hash[32], char **user)
{
	store_stmt q;
	const void *h;
	size_t len;
	int r;

	store_stmt_init(&q, st,
	    "SELECT t.hash, u.name FROM tokens t JOIN users u"
	    " ON u.id = t.user_id WHERE t.prefix = $1 AND u.disabled = 0");
	store_bind_text(&q, prefix);
	if ((r = store_step(&q)) == 1 && (h = store_col_blob(&q, 0, &len)) != NULL && len == 32) {
		memcpy(hash, h, 32);
		*user = store_col_dup(&q, 1);
		r = 0;
	} else if (r >= 0) {
		r = -ENOENT;
	}
	store_stmt_finish(&q);
	return r;
}

int
store_tokens_load_all(
    store *st, void (*cb)(const unsigned char hash[32], const char *user, void *arg), void *arg)
{
	store_stmt q;
	const void *h;
	size_t len;
	int r;

	store_stmt_init(&q, st,
	    "SELECT t.hash, u.name FROM tokens t JOIN users u"
	    " ON u.id = t.user_id WHERE u.disabled = 0");
	while ((r = store_step(&q)) == 1)
		if ((h = store_col_blob(&q, 0, &len)) != NULL && len == 32 &&
		    store_col_text(&q, 1) != NULL)
			cb(h, store_col_text(&q, 1), arg);
	store_stmt_finish(&q);
	return r;
}

/* ---- spaces ---- */

void
space_row_release(space_row *r)
{
	free(r->owner);
	free(r->name);
	free(r->subdomain);
	free(r->sdk);
	free(r->stage);
	free(r->error);
	free(r->sha);
	free(r->card);
	memset(r, 0, sizeof(*r));
}

/* The columns both statements give, in this order (space_row_read). */
#define SPACE_FIELDS \
	"sdk, private, stage, error, want_running, release_id, sha, card, deploy_id," \
	" restarts, retry_at"

static void
space_row_bind(store_stmt *q, const space_row *r)
{
	store_bind_text(q, r->sdk);
	store_bind_int(q, r->private);
	store_bind_text(q, r->stage);
	store_bind_text(q, r->error);
	store_bind_int(q, r->want_running);
	store_bind_int(q, r->release_id);
	store_bind_text(q, r->sha);
	store_bind_text(q, r->card);
	store_bind_int(q, r->deploy_id);
	store_bind_int(q, r->restarts);
	store_bind_int(q, r->retry_at);
}

int
store_space_insert(store *st, space_row *r)
{
	store_stmt q;
	int rc;

	store_stmt_init(&q, st,
	    "INSERT INTO spaces (" SPACE_FIELDS ", owner, name, subdomain,"
	    " created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
	    " RETURNING id");
	if (r->created == 0)
		r->created = (int64_t)time(NULL);
	space_row_bind(&q, r);
	store_bind_text(&q, r->owner);
	store_bind_text(&q, r->name);
	store_bind_text(&q, r->subdomain);
	store_bind_int(&q, r->created);
	if ((rc = store_run_insert(&q, &r->id)) != 0)
		return rc;
	return store_gallery_index(st, r->id);
}

int
store_space_update(store *st, const space_row *r)
{
	store_stmt q;
	int rc;

	store_stmt_init(&q, st,
	    "UPDATE spaces SET sdk = $1, private = $2, stage = $3, error = $4,"
	    " want_running = $5, release_id = $6, sha = $7, card = $8, deploy_id = $9, restarts = $10,"
	    " retry_at = $11 WHERE id = $12");
	space_row_bind(&q, r);
	store_bind_int(&q, r->id);
	if ((rc = store_run(&q)) != 0)
		return rc;
	return store_gallery_index(st, r->id);
}

int
store_space_delete(store *st, int64_t id)
{
	store_stmt q;

	store_stmt_init(&q, st, "DELETE FROM spaces WHERE id = $1");
	store_bind_int(&q, id);
	return store_run(&q);
}

static void
space_row_read(store_stmt *q, space_row *r)
{
	*r = (space_row){
		.sdk = store_col_dup(q, 0),
		.private = (int)store_col_int(q, 1),
		.stage = store_col_dup(q, 2),
		.error = store_col_dup(q, 3),
		.want_running = (int)store_col_int(q, 4),
		.release_id = store_col_int(q, 5),
		.sha = store_col_dup(q, 6),
		.card = store_col_dup(q, 7),
		.deploy_id = store_col_int(q, 8),
		.restarts = (int)store_col_int(q, 9),
		.retry_at = store_col_int(q, 10),
		.id = store_col_int(q, 11),
		.owner = store_col_dup(q, 12),
		.name = store_col_dup(q, 13),
		.subdomain = store_col_dup(q, 14),
		.created = store_col_int(q, 15),
	};
}

int
store_space_load_all(store *st, void (*cb)(space_row *r, void *arg), void *arg)
{
	store_stmt q;
	space_row r;
	int rc;

	store_stmt_init(&q, st,
	    "SELECT " SPACE_FIELDS ", id, owner, name, subdomain, created"
	    " FROM spaces ORDER BY id");
	while ((rc = store_step(&q)) == 1) {
		space_row_read(&q, &r);
		cb(&r, arg);
	}
	store_stmt_finish(&q);
	return rc;
}

/* ---- builds ---- */

void
build_row_release(build_row *r)
{
	free(r->sha);
	free(r->status);
	free(r->message);
	free(r->config);
	free(r->release_dir);
	free(r->log_path);
	memset(r, 0, sizeof(*r));
}

int
store_build_insert(store *st, build_row *r)
{
	store_stmt q;

	store_stmt_init(&q, st,
	    "INSERT INTO builds (space_id, sha, status, release_dir,"
	    " log_path, created, attempt) VALUES ($1, $2, 'building', $3, $4, $5, $6) RETURNING id");
	r->created = (int64_t)time(NULL);
	if (r->attempt < 1)
		r->attempt = 1;
	store_bind_int(&q, r->space_id);
	store_bind_text(&q, r->sha);
	store_bind_text(&q, r->release_dir);
	store_bind_text(&q, r->log_path);
	store_bind_int(&q, r->created);
	store_bind_int(&q, r->attempt);
	return store_run_insert(&q, &r->id);
}

int
store_build_finish(
    store *st, int64_t id, const char *status, const char *message, const char *config)
{
	store_stmt q;

	store_stmt_init(&q, st,
	    "UPDATE builds SET status = $1, message = $2, config = $3,"
	    " finished = $4 WHERE id = $5");
	store_bind_text(&q, status);
	store_bind_text(&q, message);
	store_bind_text(&q, config);
	store_bind_int(&q, (int64_t)time(NULL));
	store_bind_int(&q, id);
	return store_run(&q);
}

#define BUILD_COLUMNS \
	"id, space_id, sha, status, message, config, release_dir, log_path," \
	" created, finished, attempt"

static void
build_row_read(store_stmt *q, build_row *out)
{
	*out = (build_row){
		.id = store_col_int(q, 0),
		.space_id = store_col_int(q, 1),
		.sha = store_col_dup(q, 2),
		.status = store_col_dup(q, 3),
		.message = store_col_dup(q, 4),
		.config = store_col_dup(q, 5),
		.release_dir = store_col_dup(q, 6),
		.log_path = store_col_dup(q, 7),
		.created = store_col_int(q, 8),
		.finished = store_col_int(q, 9),
		.attempt = (int)store_col_int(q, 10),
	};
}

/* Runs a query for at most one build row, bound to one integer. */
static int
build_query_one(store *st, const char *sql, int64_t arg, build_row *out)
{
	store_stmt q;
	int r;

	store_stmt_init(&q, st, sql);
	store_bind_int(&q, arg);
	if ((r = store_step(&q)) == 1)
		build_row_read(&q, out);
	store_stmt_finish(&q);
	return r == 1 ? 0 : r == 0 ? -ENOENT : r;
}

int
store_build_get(store *st, int64_t id, build_row *out)
{
	return build_query_one(st, "SELECT " BUILD_COLUMNS " FROM builds WHERE id = $1", id, out);
}

int
store_build_latest(store *st, int64_t space_id, build_row *out)
{
	return build_query_one(st,
	    "SELECT " BUILD_COLUMNS " FROM builds WHERE space_id = $1"
	    " ORDER BY id DESC LIMIT 1",
	    space_id, out);
}

int
store_builds_fail_interrupted(store *st)
{
	store_stmt q;
	int r;

	store_stmt_init(&q, st,
	    "UPDATE builds SET status = 'failed',"
	    " message = 'build interrupted: the daemon stopped while it was running',"
	    " finished = $1 WHERE status = 'building'");
	store_bind_int(&q, (int64_t)time(NULL));
	r = store_run(&q);
	return r == 0 ? (int)q.changes : r;
}

int
store_builds_delete_space(store *st, int64_t space_id)
{
	store_stmt q;

	store_stmt_init(&q, st, "DELETE FROM builds WHERE space_id = $1");
	store_bind_int(&q, space_id);
	return store_run(&q);
}

/* ---- lifecycle settings and the release list ---- */

int
store_settings_get(
    store *st, int64_t space_id, int *paused, int *sleep_after, char *tier, size_t tierlen)
{
	store_stmt q;
	const char *t;
	int r;

	store_stmt_init(&q, st,
	    "SELECT paused, sleep_after, storage_tier FROM space_settings"
	    " WHERE space_id = $1");
	store_bind_int(&q, space_id);
	if ((r = store_step(&q)) == 1) {
		*paused = (int)store_col_int(&q, 0);
		*sleep_after = (int)store_col_int(&q, 1);
		t = store_col_text(&q, 2);
		snprintf(tier, tierlen, "%s", t != NULL ? t : "");
	}
	store_stmt_finish(&q);
	return r == 1 ? 0 : r == 0 ? -ENOENT : r;
}

int
store_settings_put(store *st, int64_t space_id, int paused, int sleep_after, const char *tier)
{
	store_stmt q;

	store_stmt_init(&q, st,
	    "INSERT INTO space_settings (space_id, paused, sleep_after,"
	    " storage_tier) VALUES ($1, $2, $3, $4) ON CONFLICT (space_id) DO UPDATE SET"
	    " paused = excluded.paused, sleep_after = excluded.sleep_after,"
	    " storage_tier = excluded.storage_tier");
	store_bind_int(&q, space_id);
	store_bind_int(&q, paused);
	store_bind_int(&q, sleep_after);
	store_bind_text(&q, tier);
	return store_run(&q);
}

int
store_builds_list(store *st, int64_t space_id, int (*cb)(build_row *r, void *arg), void *arg)
{
	store_stmt q;
	build_row r;
	int rc = 0, stop = 0;

	store_stmt_init(&q, st,
	    "SELECT " BUILD_COLUMNS " FROM builds WHERE space_id = $1"
	    " ORDER BY id DESC");
	store_bind_int(&q, space_id);
	while (!stop && (rc = store_step(&q)) == 1) {
		build_row_read(&q, &r);
		stop = cb(&r, arg);
		build_row_release(&r);
	}
	store_stmt_finish(&q);
	return stop ? 0 : rc;
}

/* ---- space configuration ---- */

int
store_config_set(store *st, int64_t space_id, int secret, const char *key, const void *value,
    size_t len, const char *description)
{
	store_stmt q;
	int r;

	store_stmt_init(&q, st, "SELECT secret FROM space_config WHERE space_id = $1 AND key = $2");
	store_bind_int(&q, space_id);
	store_bind_text(&q, key);
	if ((r = store_step(&q)) == 1 && store_col_int(&q, 0) != secret)
		r = -EEXIST;
	store_stmt_finish(&q);
	if (r < 0)
		return r;
	store_stmt_init(&q, st,
	    "INSERT INTO space_config (space_id, key, secret, value, description,"
	    " updated) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (space_id, key) DO UPDATE SET"
	    " secret = excluded.secret, value = excluded.value, description = excluded.description,"
	    " updated = excluded.updated");
	store_bind_int(&q, space_id);
	store_bind_text(&q, key);
	store_bind_int(&q, secret);
	store_bind_blob(&q, value, len);
	store_bind_text(&q, description);
	store_bind_int(&q, (int64_t)time(NULL));
	return store_run(&q);
}

int
store_config_delete(store *st, int64_t space_id, int secret, const char *key)
{
	store_stmt q;

	store_stmt_init(&q, st,
	    "DELETE FROM space_config WHERE space_id = $1 AND secret = $2"
	    " AND key = $3");
	store_bind_int(&q, space_id);
	store_bind_int(&q, secret);
	store_bind_text(&q, key);
	return store_run_changed(&q);
}

int
store_config_list(
    store *st, int64_t space_id, int secret, void (*cb)(const config_row *r, void *arg), void *arg)
{
	store_stmt q;
	config_row r;
	int rc;

	store_stmt_init(&q, st,
	    "SELECT key, value, description, updated FROM space_config"
	    " WHERE space_id = $1 AND ($2 < 0 OR secret = $2) ORDER BY key");
	store_bind_int(&q, space_id);
	store_bind_int(&q, secret);
	while ((rc = store_step(&q)) == 1) {
		r.key = store_col_text(&q, 0);
		r.value = store_col_blob(&q, 1, &r.value_len);
		r.description = store_col_text(&q, 2);
		r.updated = store_col_int(&q, 3);
		cb(&r, arg);
	}
	store_stmt_finish(&q);
	return rc;
}

int
store_config_bytes(store *st, int64_t space_id, int64_t *bytes)
{
	store_stmt q;
	int r;

	store_stmt_init(&q, st,
	    "SELECT COALESCE(SUM(LENGTH(key) + LENGTH(value)), 0)"
	    " FROM space_config WHERE space_id = $1");
	store_bind_int(&q, space_id);
	*bytes = (r = store_step(&q)) == 1 ? store_col_int(&q, 0) : 0;
	store_stmt_finish(&q);
	return r < 0 ? r : 0;
}

int
store_build_durations(
    store *st, void (*cb)(int64_t space_id, int64_t seconds, void *arg), void *arg)
{
	store_stmt q;
	int rc;

	store_stmt_init(&q, st,
	    "SELECT space_id, finished - created FROM builds"
	    " WHERE finished IS NOT NULL AND status IN ('ok', 'failed')"
	    " AND COALESCE(message, '') <> 'cancelled' ORDER BY space_id");
	while ((rc = store_step(&q)) == 1)
		cb(store_col_int(&q, 0), store_col_int(&q, 1), arg);
	store_stmt_finish(&q);
	return rc;
}

int
store_hardware_get(store *st, int64_t space_id, char **flavor)
{
	store_stmt q;
	int r;

	store_stmt_init(&q, st, "SELECT flavor FROM space_hardware WHERE space_id = $1");
	store_bind_int(&q, space_id);
	if ((r = store_step(&q)) == 1)
		*flavor = store_col_dup(&q, 0);
	store_stmt_finish(&q);
	return r == 1 ? 0 : r == 0 ? -ENOENT : r;
}

int
store_hardware_set(store *st, int64_t space_id, const char *flavor)
{
	store_stmt q;

	store_stmt_init(&q, st,
	    "INSERT INTO space_hardware (space_id, flavor) VALUES ($1, $2)"
	    " ON CONFLICT (space_id) DO UPDATE SET flavor = excluded.flavor");
	store_bind_int(&q, space_id);
	store_bind_text(&q, flavor);
	return store_run(&q);
}
