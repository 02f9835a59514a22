/* store.h — podium's persistent state: users, tokens, sessions, spaces, builds,
 * settings, variables and secrets. One face, two backends chosen at open by the
 * store's address: sqlite (a file in the data dir, WAL; the default for one
 * machine) or PostgreSQL (libpq; one database several machines can share),
 * with the same schema versions and migrations (store_schema.c). All calls are
 * synchronous and run on the main loop; each returns 0 or a negative
 * errno-style code that means the same on both backends: -ENOENT not found (or
 * a reference to a missing row), -EEXIST a unique constraint, -EIO anything
 * else, logged once.
 *
 * Rows are plain structs; strings in them are owned by the struct and freed by the
 * matching *_release() function. */
#ifndef PODIUM_STORE_H
#define PODIUM_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "common/config.h"

typedef struct store store;

/* where: "postgres://USER:PASSWORD@HOST:PORT/DATABASE?..." (also postgresql://;
 * libpq's URI, its parameters included), "sqlite:PATH" or a plain PATH (sqlite).
 * The schema is brought to this podium's version (one transaction; a newer one
 * is refused untouched). 0, or -errno with the reason logged: -EINVAL a bad
 * address, -ENOTSUP a newer schema, -EIO the rest (unreachable server...). */
int store_open(const char *where, store **out);
/* A cluster node's PostgreSQL connections fail fast on a network that drops
 * packets (issue 27): the main loop must not wait on the store past the node's
 * fencing deadline. Connecting waits at most connect_s (libpq's minimum is 2),
 * a statement whose packets go unacknowledged io_ms (tcp_user_timeout, with TCP
 * keep-alives); for the connections opened after the call. The address's own
 * parameters win. Without a call: connect_timeout 10, the system's TCP timers. */
void store_pg_net_timeouts(unsigned connect_s, unsigned io_ms);
void store_close(store *st);
/* The store of a data dir: url when not NULL (--store), else config.yaml's
 * "store:" (a relative sqlite: path is the data dir's), else
 * sqlite:DATA_DIR/podium.db. *where: caller frees. -EINVAL with err for a
 * "store:" that is not an address. */
int store_locate(const char *data_dir, const char *url, const config *cfg, char **where, char *err,
    size_t errlen);
/* What the store is, for a log line, without a password: "sqlite PATH" or
 * "PostgreSQL database D on HOST:PORT as USER, schema S". */
void store_describe(store *st, char *buf, size_t len);

/* Copies every row of every table from one store to another of the same schema
 * (ids kept, secrets still sealed), in one transaction on the target: refused
 * when the target holds any row or the source a table this podium does not
 * know; the counts are compared before the commit. cb (may be NULL) hears each
 * table's rows. 0, or -errno with the reason in err (nothing written). */
int store_copy(store *from, store *to, void (*cb)(const char *table, int64_t rows, void *arg),
    void *arg, char *err, size_t errlen);

/* ---- users and tokens ---- */
int store_user_ensure(store *st, const char *name, int64_t *id, int *created);
/* Tokens are stored as (public prefix, BLAKE2b hash); the secret is never stored. */
int store_token_add(store *st, int64_t user_id, const char *prefix, const unsigned char hash[32]);
/* Finds the token with that prefix: its hash and its user's name (caller frees *user). */
int store_token_find(store *st, const char *prefix, unsigned char hash[32], char **user);
/* Calls cb with every token's hash and its user's name (valid during the call). */
int store_tokens_load_all(store *st, void (*cb)(const unsigned char hash[32], const char *user,
    void *arg), void *arg);

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
	int64_t modified;    /* unix seconds of main's tip (listings; 0: not known yet) */
} space_row;

void space_row_release(space_row *r);
/* Inserts and sets r->id; -EEXIST when owner/name or subdomain is taken. */
int store_space_insert(store *st, space_row *r);
int store_space_update(store *st, const space_row *r);
int store_space_delete(store *st, int64_t id);
/* Calls cb for every space, ordered by id; cb takes ownership of the row's strings
 * (it must space_row_release it or keep it). */
int store_space_load_all(store *st, void (*cb)(space_row *r, void *arg), void *arg);

/* ---- listings (store_list.c): GET /api/spaces by the store's indexes ---- */
enum { STORE_LIST_ID, STORE_LIST_CREATED, STORE_LIST_MODIFIED, STORE_LIST_LIKES };

/* Which spaces, in which order, from where. */
typedef struct store_list_query {
	const char *user;          /* the caller (NULL: anonymous): public spaces and theirs */
	int admin;                 /* every space */
	const char *author;        /* the owner (any case), or NULL */
	const char *search;        /* a case-insensitive substring of "owner/name", or NULL */
	const char *const *tags;   /* each a tag of the space; NULL-terminated, or NULL */
	int sort;                  /* STORE_LIST_ID: by id ascending; the others descending,
	                            * ties newest first */
	int after;                 /* a page after (after_key, after_id) (from the last one) */
	int64_t after_key, after_id;
	int limit;
} store_list_query;

/* cb(id, key) for the page's spaces in order, at most limit + 1 (one more: there is
 * a next page); key is the sort's value (created, modified, likes; id). */
int store_spaces_page(store *st, const store_list_query *q,
    void (*cb)(int64_t id, int64_t key, void *arg), void *arg);
/* The space's tags (NULL-terminated), replacing the ones before. */
int store_space_tags_set(store *st, int64_t id, const char *const *tags);
int store_space_modified_set(store *st, int64_t id, int64_t modified);

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
/* The space's builds, newest first; cb returns non-zero to stop. The row is
 * released after cb returns. */
int store_builds_list(store *st, int64_t space_id, int (*cb)(build_row *r, void *arg), void *arg);

/* ---- lifecycle settings (removed with the space) ---- */
/* -ENOENT when none were saved. sleep_after: seconds, -1 never; tier: the storage
 * tier, "" the default. */
int store_settings_get(store *st, int64_t space_id, int *paused, int *sleep_after, char *tier,
    size_t tierlen);
int store_settings_put(store *st, int64_t space_id, int paused, int sleep_after, const char *tier);

/* ---- space configuration: variables (secret 0) and sealed secrets (secret 1) ---- */
typedef struct config_row {
	const char *key;
	const void *value;       /* a variable's text, or a secret's sealed bytes */
	size_t value_len;
	const char *description; /* or NULL */
	int64_t updated;         /* unix seconds */
} config_row;

/* Creates or replaces; -EEXIST when the key is taken by the other kind. */
int store_config_set(store *st, int64_t space_id, int secret, const char *key, const void *value,
    size_t len, const char *description);
/* -ENOENT when there was no such key of that kind. */
int store_config_delete(store *st, int64_t space_id, int secret, const char *key);
/* Calls cb for each entry of that kind (secret -1: both) ordered by key; the row is
 * valid only during the call. */
int store_config_list(store *st, int64_t space_id, int secret,
    void (*cb)(const config_row *r, void *arg), void *arg);
/* Bytes of keys and stored values of a space, both kinds. */
int store_config_bytes(store *st, int64_t space_id, int64_t *bytes);
/* Every finished build: its space and how long it took (whole seconds). */
int store_build_durations(store *st, void (*cb)(int64_t space_id, int64_t seconds, void *arg),
    void *arg);

/* ---- hardware flavor a space asked for ---- */
/* *flavor: caller frees; -ENOENT when it never asked (the default applies). */
int store_hardware_get(store *st, int64_t space_id, char **flavor);
int store_hardware_set(store *st, int64_t space_id, const char *flavor);


/* ---- likes, and lists of spaces a page at a time (store_gallery.c) ---- */
/* A user likes a space once; -ENOENT when there is no such user. */
int store_like_set(store *st, int64_t space_id, const char *user, int like);
int store_like_get(store *st, int64_t space_id, const char *user, int *liked);
int store_likes_count(store *st, int64_t space_id, int64_t *likes);

/* Stage groups, in the order the stage sort shows them. */
typedef enum store_stage {
	STORE_STAGE_ANY = -1,
	STORE_STAGE_RUNNING,     /* RUNNING, RUNNING_BUILDING, RUNNING_APP_STARTING */
	STORE_STAGE_BUILDING,    /* BUILDING, APP_STARTING */
	STORE_STAGE_SLEEPING,
	STORE_STAGE_PAUSED,      /* PAUSED, STOPPED */
	STORE_STAGE_ERROR,       /* BUILD_ERROR, CONFIG_ERROR, RUNTIME_ERROR */
	STORE_STAGE_EMPTY,       /* NO_APP_FILE, DELETING */
} store_stage;

typedef enum store_sort {
	STORE_SORT_NEW,          /* created, newest first (the default) */
	STORE_SORT_OLD,
	STORE_SORT_LIKES,        /* most liked first, then newest */
	STORE_SORT_TITLE,        /* the front matter's title (else the name), A to Z */
	STORE_SORT_STAGE,        /* by store_stage, then newest */
} store_sort;

/* Which spaces, in which order, which page. Strings may be NULL (no filter). */
typedef struct store_space_query {
	const char *viewer;      /* sees its own private spaces; NULL anonymous */
	int viewer_admin;        /* sees every private space */
	const char *author;      /* the owner (case-insensitive) */
	const char *search;      /* a substring of owner/name, title, description or a tag */
	const char *sdk;
	const char *tag;         /* one of the front matter's tags */
	const char *liked_by;    /* spaces this user likes */
	store_stage stage;
	store_sort sort;
	int pinned_first;        /* front matter pinned: true before the rest */
	long offset, limit;
} store_space_query;

typedef struct store_space_hit {
	int64_t id;
	const char *owner, *name; /* valid during the callback */
	int64_t likes;
} store_space_hit;

/* Calls cb for each space of the page, in order. The work is the page's (an
 * index walk), not the number of spaces. The number of hits, or -EIO. */
int store_spaces_query(store *st, const store_space_query *q,
    void (*cb)(const store_space_hit *h, void *arg), void *arg);

/* ---- users, named tokens and browser sessions (store_users.c) ---- */
typedef struct user_row {
	int64_t id;
	char name[64];
	int admin, disabled;
	int has_password;
	int64_t created;
} user_row;

/* -EEXIST when the name is taken. pwhash: a crypto_pwhash_str string, or NULL. */
int store_user_add(store *st, const char *name, int admin, const char *pwhash, int64_t *id);
/* -ENOENT when there is no such user. */
int store_user_get(store *st, const char *name, user_row *out);
/* The user's password hash (caller frees); -ENOENT without user or password. */
int store_user_password(store *st, const char *name, char **pwhash);
int store_user_set_password(store *st, const char *name, const char *pwhash);
int store_user_set_admin(store *st, const char *name, int admin);
int store_user_set_disabled(store *st, const char *name, int disabled);
int store_users_list(store *st, void (*cb)(const user_row *u, void *arg), void *arg);

typedef struct token_row {
	int64_t id;
	const char *prefix, *name; /* name may be NULL */
	int write;
	int64_t created;
} token_row;

/* Names the token store_token_add inserted last through st and gives it its role. */
int store_token_label_last(store *st, int write, const char *name);
/* The label of the token with that prefix ("" without one); -ENOENT. */
int store_token_name(store *st, const char *prefix, char *name, size_t len);
/* Whether the token with that prefix may write (1) or only read (0); -ENOENT. */
int store_token_role(store *st, const char *prefix, int *write);
int store_tokens_list(store *st, int64_t user_id, void (*cb)(const token_row *t, void *arg),
    void *arg);
/* -ENOENT when the user has no such token. */
int store_token_delete(store *st, int64_t user_id, int64_t id);

/* Sessions are stored by the hash of their cookie; expires in unix seconds. */
int store_session_add(store *st, const unsigned char hash[32], int64_t user_id, const char *csrf,
    int64_t expires);
/* The session's user (caller frees) and its CSRF token; -ENOENT when unknown,
 * expired or its user is disabled. */
int store_session_find(store *st, const unsigned char hash[32], char **user, char *csrf,
    size_t csrflen);
int store_session_delete(store *st, const unsigned char hash[32]);
/* cb for every live session (not expired, its user enabled): its hash, user, end. */
int store_sessions_load_all(store *st, void (*cb)(const unsigned char hash[32], const char *user,
    int64_t expires, void *arg), void *arg);
/* Changes when another connection commits a change (its own commits do not
 * count): sqlite's PRAGMA data_version; on PostgreSQL the count of other
 * connections' change notifications heard on this one (LISTEN podium_changes,
 * which the first call starts), plus one after a reconnect. Never blocks. */
int store_data_version(store *st, int64_t *v);
/* A descriptor that becomes readable when store_data_version may have moved
 * (PostgreSQL: the connection's socket, LISTENing), or -1 (sqlite: poll). */
int store_changes_fd(store *st);

/* Statements sent to the database through st so far (round trips, for the
 * cluster's benchmark and /metrics). */
uint64_t store_statements(const store *st);
/* Other connections' changes heard since the last call, each table's name to cb
 * (PostgreSQL; LISTEN starts at the first call). -ENOTSUP on sqlite. */
int store_notifications(store *st, void (*cb)(const char *table, void *arg), void *arg);

/* ---- a cluster of nodes on one PostgreSQL database (issue 27; store_cluster.c) ----
 * Times are unix ms of the database's clock, so nodes with skewed clocks agree
 * on leases. One machine (no --node) calls none of these. */
typedef struct node_row {
	char name[64];
	char address[128];       /* HOST:PORT the other nodes' proxies forward to */
	char state[16];          /* "active", "draining" */
	int64_t lease_until;     /* its lease runs until (0: never had one) */
	int64_t started;
	int shared;              /* has the shared filesystem (--shared) */
	int64_t memory_budget, memory_committed, fd_room, apps;
	int64_t sched_pid;       /* backend of its scheduler connection */
} node_row;

typedef struct placement_row {
	int64_t space_id;
	char node[64];           /* owns it: runs its app, takes its writes */
	char home[64];           /* where it was made (its files without shared storage) */
	char next_node[64];      /* a drain moves it there ("" none) */
	int64_t epoch;           /* raised at every change of node */
} placement_row;

/* What the scheduler weighs of a space. */
typedef struct sched_space_row {
	int64_t id;
	int runs;                /* meant to run a process now (not paused, asleep or stopped) */
	char flavor[64];         /* "" the default */
} sched_space_row;

int store_now_ms(store *st, int64_t *now);
/* Inserts or refreshes the node (its state is kept: a draining node stays so)
 * with a lease of lease_ms from now and this connection as its scheduler's;
 * *lease_until and *state (16 bytes) say what holds now. */
int store_node_renew(store *st, const node_row *n, int64_t lease_ms, int64_t *lease_until,
    char *state);
/* -ENOENT: no such node. */
int store_node_set_state(store *st, const char *name, const char *state);
int store_node_remove(store *st, const char *name);
int store_nodes_list(store *st, void (*cb)(const node_row *n, void *arg), void *arg);
int store_placements_list(store *st, void (*cb)(const placement_row *p, void *arg), void *arg);
/* A new space's placement on node (its home); nothing when it has one. */
int store_placement_insert(store *st, int64_t space_id, const char *node);
/* Moves the space to node with epoch + 1, if its epoch is still epoch
 * (-ENOENT otherwise: someone moved it first). */
int store_placement_move(store *st, int64_t space_id, int64_t epoch, const char *node);
/* Marks (node) or clears (NULL) the node a drain moves it to, at epoch. */
int store_placement_next(store *st, int64_t space_id, int64_t epoch, const char *node);
int store_sched_spaces(store *st, void (*cb)(const sched_space_row *r, void *arg), void *arg);
/* The scheduler's lock (a session-level advisory lock of this connection):
 * *got 1 when this connection holds it; *holder the backend that does (0 none). */
int store_sched_lock(store *st, int *got, int64_t *holder);
/* Ends another backend of the database (a scheduler whose node's lease lapsed). */
int store_backend_end(store *st, int64_t pid);

#endif
