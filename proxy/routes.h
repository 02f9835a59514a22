/* routes.h — the route table: which target serves each space subdomain.
 *
 * The orchestrator writes it (routes_set / routes_remove) as instances become ready,
 * switch and stop; the proxy only reads it (routes_lookup) and never reaches into
 * orchestrator or store internals. The table is guarded by a mutex, so proxy loops
 * on other threads may look up concurrently.
 *
 * Ownership: a route_target is reference counted. routes_lookup() returns a new
 * reference that the caller drops with route_target_unref(). The netns_fd of a
 * ROUTE_APP target stays open until the last reference is dropped, so a connection
 * that looked up a target can always still create its socket in that namespace.
 *
 * Private spaces: a target marked with route_target_set_private names its owner,
 * and its host lets through only requests carrying an API token of that owner or
 * of an admin (route_target_token), or a ticket (ticket.h) minted from one of their
 * tokens or sessions. The tokens and sessions come from a snapshot, hash →
 * (user, admin), that the main loop builds from the store and publishes
 * (routes_tokens_publish) whenever tokens change. A snapshot is immutable and
 * reference counted like a target: a proxy loop takes a reference under the lock
 * and searches it outside, so the proxy never touches sqlite and never waits for
 * more than a pointer copy.
 */
#ifndef PODIUM_ROUTES_H
#define PODIUM_ROUTES_H

#include <stddef.h>
#include <stdint.h>

typedef enum route_kind {
	ROUTE_STATIC = 1, /* files served by podium from static_root */
	ROUTE_APP,        /* an app listening on 127.0.0.1:port inside netns_fd */
	ROUTE_STARTING,   /* known space, app not ready yet: 503 + Retry-After */
	ROUTE_DOWN,       /* known space, no app serving: 502 with message */
	ROUTE_PAUSED,     /* paused by its owner: 503 page with message */
	ROUTE_SLEEPING,   /* asleep or waking: requests are held (proxy/hold.c) while
	                   * route_target_wake() has the orchestrator start the app */
	ROUTE_REMOTE,     /* another node of the cluster owns the space: its hub and app
	                   * requests go to that node's proxy (proxy/forward.c) */
} route_kind;

/* Open exchanges of one app instance: requests in flight, WebSocket tunnels, SSE
 * streams, long polls, counted by the proxy over all its loops. The orchestrator
 * makes one per instance, hangs it on every target it publishes for that instance,
 * and reads it to let an old instance drain after a switch. Reference counted like
 * a target (atomics: any thread). */
typedef struct route_exchanges route_exchanges;

route_exchanges *route_exchanges_new(void);                  /* holds one reference */
route_exchanges *route_exchanges_ref(route_exchanges *x);
void route_exchanges_unref(route_exchanges *x);              /* NULL: nothing */
uint64_t route_exchanges_open(const route_exchanges *x);
void route_exchanges_add(route_exchanges *x, int delta);     /* the proxy: +1 / -1 */

typedef struct route_target {
	int refs;            /* atomic; use route_target_ref/unref */
	route_kind kind;
	char *space_id;      /* "owner/name" */
	char *static_root;   /* ROUTE_STATIC: absolute path of the release directory */
	int netns_fd;        /* ROUTE_APP: fd of the instance's network namespace (owned) */
	int port;            /* ROUTE_APP: TCP port inside the namespace */
	uint64_t instance_id;/* ROUTE_APP: identifies the instance (keys upstream pools) */
	char *message;       /* ROUTE_DOWN / ROUTE_STARTING: human-readable reason, may be NULL */
	int wake_sent;       /* ROUTE_SLEEPING: the wake handler was called (atomic) */
	char *private_owner; /* a private space's owner; NULL: public */
	route_exchanges *exchanges; /* ROUTE_APP: the instance's counter, or NULL */
	uint64_t access_epoch; /* a private space's: its tickets name it (ticket.h) */
	char *node;          /* ROUTE_REMOTE: the node's name */
	uint32_t remote_ip;  /* ROUTE_REMOTE: its proxy's IPv4 address (network order) */
} route_target;

/* Constructors return a target holding one reference. route_target_app takes
 * ownership of netns_fd (closed on the last unref). */
route_target *route_target_static(const char *space_id, const char *root);
route_target *route_target_app(const char *space_id, int netns_fd, int port, uint64_t instance_id);
route_target *route_target_status(route_kind kind, const char *space_id, const char *message);
/* The space runs on node, whose proxy listens at address "IPV4:PORT" (port and
 * remote_ip set from it; instance_id keys the pool of connections to that node,
 * shared by all its spaces). NULL when address is not IPV4:PORT. */
route_target *route_target_remote(const char *space_id, const char *node, const char *address);
route_target *route_target_ref(route_target *t);
void route_target_unref(route_target *t);
/* Marks t as the target of a private space owned by owner; call it before
 * routes_set (a published target does not change). */
void route_target_set_private(route_target *t, const char *owner);
/* t's exchanges are counted in x (t takes a reference); before routes_set. */
void route_target_set_exchanges(route_target *t, route_exchanges *x);
/* The space's access epoch, which its tickets must name (ticket.h): a new one when
 * the space is made or changes visibility ends every ticket of the old one. */
void route_target_set_epoch(route_target *t, uint64_t epoch);

/* Installs t for subdomain (the table takes the caller's reference), replacing and
 * unreferencing any previous target. */
void routes_set(const char *subdomain, route_target *t);
void routes_remove(const char *subdomain);
/* New reference or NULL when no space has that subdomain (unknown host: 404). */
route_target *routes_lookup(const char *subdomain);
/* Drops every entry and the token snapshot (daemon shutdown, tests). */
void routes_clear(void);

/* Waking sleeping apps. The orchestrator installs the handler once, before the
 * proxy runs; route_target_wake() (any thread, a ROUTE_SLEEPING target) calls it
 * at most once per target, with the target's space id, on the caller's thread:
 * the handler must be thread-safe and quick (queue and signal its loop). */
void routes_set_wake_handler(void (*fn)(const char *space_id, void *arg), void *arg);
void route_target_wake(route_target *t);
/* ---- the cluster (issue 27): this node's name and the key nodes share ----
 * A request one node forwards to another carries X-Podium-Forwarded: NODE TIME
 * HOPS MAC, an HMAC (crypto_auth) with the shared key over those and the
 * request's method, Host and target; the node that gets it trusts what the
 * sender checked (a private host's token) and the client address it names.
 * Set once before the proxy runs; without it no request is forwarded or
 * trusted. */
#define ROUTE_CLUSTER_KEY_BYTES 32
void routes_set_cluster(const char *node, const unsigned char key[ROUTE_CLUSTER_KEY_BYTES]);
/* 1 in a cluster. */
int routes_cluster(void);
/* The header's value for a request (hops: forwards so far, this one included),
 * into out (len >= 192); 0, or -1 outside a cluster. */
int routes_cluster_sign(const char *method, const char *host, const char *url, int hops,
    char *out, size_t len);
/* Checks a header's value against the same request: the hops it counts (>= 1), or -1
 * for a value that is not this cluster's, too old (5 min) or from the future. */
int routes_cluster_check(const char *value, const char *method, const char *host,
    const char *url);

/* ---- API tokens, for private spaces ---- */
/* A podium API token: its tag (the older one still works) and 48 hex digits. */
#define ROUTE_TOKEN_TAG "hf_"
#define ROUTE_TOKEN_TAG_OLD "pdm_"
#define ROUTE_TOKEN_HEX 48

/* 1 when the header value (len bytes) holds something shaped like a podium token
 * in a spelling an app could turn back into one (as it is, any case, percent- or
 * base64-encoded): such a value never reaches an app (token_scan.c). */
int route_value_has_token(const char *value, size_t len);

typedef struct route_tokens route_tokens;

route_tokens *route_tokens_new(void);
void route_tokens_free(route_tokens *k); /* one never published */
/* Adds the BLAKE2b-256 hash of a token of user; admin: the user may pass every
 * private host. */
void route_tokens_add(route_tokens *k, const unsigned char hash[32], const char *user, int admin);
/* Adds a browser session (the hash of its cookie) of user, live until expires (a
 * time()): never a bearer credential, only what a ticket may name (issue 21.6). */
void route_tokens_add_session(route_tokens *k, const unsigned char hash[32], const char *user,
    int admin, int64_t expires);
/* Makes k the snapshot the proxy checks (the call takes k; do not touch it
 * afterwards); the previous snapshot is freed once no loop uses it. */
void routes_tokens_publish(route_tokens *k);
/* The hash the snapshot (and the store) keeps of a token. */
void route_token_hash(const char *token, unsigned char hash[32]);
/* The API token in an Authorization value, "Bearer TOKEN" or "Basic" with
 * base64 "USER:TOKEN" (git's way; the user is ignored), copied into token
 * (len bytes). 0, or -ENOENT when the value holds none (or one too long). */
int route_auth_token(const char *authorization, char *token, size_t len);
/* Checks one Authorization value against the published snapshot: 1 when it holds
 * a valid token, then *may_pass is 1 if that token's user may pass t (t is
 * public, or the user is its owner or an admin); 0 when it holds none. */
int route_target_token(const route_target *t, const char *authorization, int *may_pass);
/* The id a ticket names a credential by (a token's or a session cookie's hash):
 * one-way, so the app host's cookie shows nothing of it. */
void route_cred_id(const unsigned char hash[32], unsigned char id[16]);
/* 1 when the snapshot holds a live credential of that id (a token, a session not
 * expired) whose user may pass t. */
int route_target_cred(const route_target *t, const unsigned char id[16]);

#endif
