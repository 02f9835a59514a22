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
 */
#ifndef PODIUM_ROUTES_H
#define PODIUM_ROUTES_H

#include <stdint.h>

typedef enum route_kind {
	ROUTE_STATIC = 1, /* files served by podium from static_root */
	ROUTE_APP,        /* an app listening on 127.0.0.1:port inside netns_fd */
	ROUTE_STARTING,   /* known space, app not ready yet: 503 + Retry-After */
	ROUTE_DOWN,       /* known space, no app serving: 502 with message */
	ROUTE_PAUSED,     /* paused by its owner: 503 page with message */
	ROUTE_SLEEPING,   /* asleep or waking: requests are held (proxy/hold.c) while
	                   * route_target_wake() has the orchestrator start the app */
} route_kind;

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
} route_target;

/* Constructors return a target holding one reference. route_target_app takes
 * ownership of netns_fd (closed on the last unref). */
route_target *route_target_static(const char *space_id, const char *root);
route_target *route_target_app(const char *space_id, int netns_fd, int port, uint64_t instance_id);
route_target *route_target_status(route_kind kind, const char *space_id, const char *message);
route_target *route_target_ref(route_target *t);
void route_target_unref(route_target *t);

/* Installs t for subdomain (the table takes the caller's reference), replacing and
 * unreferencing any previous target. */
void routes_set(const char *subdomain, route_target *t);
void routes_remove(const char *subdomain);
/* New reference or NULL when no space has that subdomain (unknown host: 404). */
route_target *routes_lookup(const char *subdomain);
/* Drops every entry (daemon shutdown, tests). */
void routes_clear(void);

/* Waking sleeping apps. The orchestrator installs the handler once, before the
 * proxy runs; route_target_wake() (any thread, a ROUTE_SLEEPING target) calls it
 * at most once per target, with the target's space id, on the caller's thread:
 * the handler must be thread-safe and quick (queue and signal its loop). */
void routes_set_wake_handler(void (*fn)(const char *space_id, void *arg), void *arg);
void route_target_wake(route_target *t);

#endif
