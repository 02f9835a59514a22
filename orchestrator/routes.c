#include "routes.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

struct route_entry {
	char *subdomain;
	route_target *target;
	struct route_entry *next;
};

/* A small open hash table keyed by subdomain. Hundreds of spaces fit easily. */
#define ROUTE_BUCKETS 1024
static struct route_entry *buckets[ROUTE_BUCKETS];
static pthread_mutex_t routes_lock = PTHREAD_MUTEX_INITIALIZER;

static unsigned
route_hash(const char *s)
{
	return str_hash(s) % ROUTE_BUCKETS;
}

static route_target *
target_new(route_kind kind, const char *space_id)
{
	route_target *t = xcalloc(1, sizeof(*t));

	t->refs = 1;
	t->kind = kind;
	t->space_id = xstrdup(space_id);
	t->netns_fd = -1;
	return t;
}

route_target *
route_target_static(const char *space_id, const char *root)
{
	route_target *t = target_new(ROUTE_STATIC, space_id);

	t->static_root = xstrdup(root);
	return t;
}

route_target *
route_target_app(const char *space_id, int netns_fd, int port, uint64_t instance_id)
{
	route_target *t = target_new(ROUTE_APP, space_id);

	t->netns_fd = netns_fd;
	t->port = port;
	t->instance_id = instance_id;
	return t;
}

route_target *
route_target_status(route_kind kind, const char *space_id, const char *message)
{
	route_target *t = target_new(kind, space_id);

	if (message != NULL)
		t->message = xstrdup(message);
	return t;
}

static void (*wake_fn)(const char *space_id, void *arg);
static void *wake_arg;

void
routes_set_wake_handler(void (*fn)(const char *space_id, void *arg), void *arg)
{
	__atomic_store_n(&wake_arg, arg, __ATOMIC_RELAXED);
	__atomic_store_n(&wake_fn, fn, __ATOMIC_RELEASE);
}

void
route_target_wake(route_target *t)
{
	void (*fn)(const char *, void *) = __atomic_load_n(&wake_fn, __ATOMIC_ACQUIRE);
	int expected = 0;

	if (fn != NULL && t->kind == ROUTE_SLEEPING &&
	    __atomic_compare_exchange_n(&t->wake_sent, &expected, 1, 0, __ATOMIC_ACQ_REL,
	    __ATOMIC_RELAXED))
		fn(t->space_id, __atomic_load_n(&wake_arg, __ATOMIC_RELAXED));
}

route_target *
route_target_ref(route_target *t)
{
	__atomic_add_fetch(&t->refs, 1, __ATOMIC_RELAXED);
	return t;
}

void
route_target_unref(route_target *t)
{
	if (t == NULL || __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	if (t->netns_fd >= 0)
		close(t->netns_fd);
	free(t->space_id);
	free(t->static_root);
	free(t->message);
	free(t);
}

void
routes_set(const char *subdomain, route_target *t)
{
	unsigned h = route_hash(subdomain);
	route_target *old = NULL;
	struct route_entry *e;

	pthread_mutex_lock(&routes_lock);
	for (e = buckets[h]; e != NULL; e = e->next)
		if (strcmp(e->subdomain, subdomain) == 0)
			break;
	if (e == NULL) {
		e = xcalloc(1, sizeof(*e));
		e->subdomain = xstrdup(subdomain);
		e->next = buckets[h];
		buckets[h] = e;
	}
	old = e->target;
	e->target = t;
	pthread_mutex_unlock(&routes_lock);
	route_target_unref(old);
}

void
routes_remove(const char *subdomain)
{
	unsigned h = route_hash(subdomain);
	struct route_entry **pp, *e = NULL;

	pthread_mutex_lock(&routes_lock);
	for (pp = &buckets[h]; *pp != NULL; pp = &(*pp)->next) {
		if (strcmp((*pp)->subdomain, subdomain) == 0) {
			e = *pp;
			*pp = e->next;
			break;
		}
	}
	pthread_mutex_unlock(&routes_lock);
	if (e != NULL) {
		route_target_unref(e->target);
		free(e->subdomain);
		free(e);
	}
}

route_target *
routes_lookup(const char *subdomain)
{
	unsigned h = route_hash(subdomain);
	route_target *t = NULL;

	pthread_mutex_lock(&routes_lock);
	for (struct route_entry *e = buckets[h]; e != NULL; e = e->next) {
		if (strcmp(e->subdomain, subdomain) == 0) {
			t = route_target_ref(e->target);
			break;
		}
	}
	pthread_mutex_unlock(&routes_lock);
	return t;
}

void
routes_clear(void)
{
	for (unsigned h = 0; h < ROUTE_BUCKETS; h++) {
		pthread_mutex_lock(&routes_lock);
		struct route_entry *e = buckets[h];
		buckets[h] = NULL;
		pthread_mutex_unlock(&routes_lock);
		while (e != NULL) {
			struct route_entry *next = e->next;
			route_target_unref(e->target);
			free(e->subdomain);
			free(e);
			e = next;
		}
	}
}
