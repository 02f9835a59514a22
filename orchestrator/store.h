/* store.h — podium's persistent state in sqlite3 (WAL, schema versioned with
 * PRAGMA user_version). All calls are synchronous and run on the main loop; each
 * returns 0 or a negative errno-style code (-ENOENT not found, -EEXIST unique
 * constraint, -EIO other sqlite errors, logged once).
 *
 * Rows are plain structs; strings in them are owned by the struct and freed by the
 * matching *_release() function. */
#ifndef PODIUM_STORE_H
#define PODIUM_STORE_H

#include <stdint.h>

typedef struct store store;

int store_open(const char *path, store **out);
void store_close(store *st);

/* ---- users and tokens ---- */
int store_user_ensure(store *st, const char *name, int64_t *id, int *created);
/* Tokens are stored as (public prefix, BLAKE2b hash); the secret is never stored. */
int store_token_add(store *st, int64_t user_id, const char *prefix, const unsigned char hash[32]);
/* Finds the token with that prefix: its hash and its user's name (caller frees *user). */
int store_token_find(store *st, const char *prefix, unsigned char hash[32], char **user);

/* ---- spaces ---- */
typedef struct space_row {
	int64_t id;
	char *owner, *name, *subdomain, *sdk;
	int private;
	char *stage;         /* HF stage name */
	char *error;         /* errorMessage or NULL */
	int want_running;    /* brought back on restart */
	int64_t release_id;  /* build id of the release serving (0: none) */
	char *sha;           /* sha of that release, or NULL */
	char *card;          /* front matter JSON text, or NULL */
	int64_t created;
	int64_t deploy_id;   /* ok build being switched to (0: none), redeployed after a restart */
	int restarts;        /* consecutive crashes of the app (crash-loop backoff) */
	int64_t retry_at;    /* unix ms of the next restart while in backoff (0: none) */
} space_row;

void space_row_release(space_row *r);
/* Inserts and sets r->id; -EEXIST when owner/name or subdomain is taken. */
int store_space_insert(store *st, space_row *r);
int store_space_update(store *st, const space_row *r);
int store_space_delete(store *st, int64_t id);
/* Calls cb for every space, ordered by id; cb takes ownership of the row's strings
 * (it must space_row_release it or keep it). */
int store_space_load_all(store *st, void (*cb)(space_row *r, void *arg), void *arg);

/* ---- builds (one per push; a successful build is a release) ---- */
typedef struct build_row {
	int64_t id, space_id;
	char *sha;
	char *status;        /* "building", "ok", "failed" */
	char *message;
	char *config;        /* app_config JSON when ok */
	char *release_dir;   /* the space's releases directory: this build's release is release_dir/id */
	char *log_path;
	int64_t created, finished;
	int attempt;         /* 1, or 1 + the attempts interrupted by a daemon stop */
} build_row;

void build_row_release(build_row *r);
/* Inserts a "building" row with r->attempt (0 counts as 1); sets r->id. */
int store_build_insert(store *st, build_row *r);
int store_build_finish(store *st, int64_t id, const char *status, const char *message,
    const char *config);
int store_build_get(store *st, int64_t id, build_row *out);
/* The space's newest build (-ENOENT: none). */
int store_build_latest(store *st, int64_t space_id, build_row *out);
/* Marks builds left "building" by a crash as failed; returns how many, or -errno. */
int store_builds_fail_interrupted(store *st);
int store_builds_delete_space(store *st, int64_t space_id);

#endif
