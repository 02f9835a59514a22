#include "proxy/routes.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"

struct route_entry {
	char *subdomain;
	route_target *target;
	struct route_entry *next;
};

struct route_exchanges {
	int refs;            /* atomic */
	uint64_t open;       /* atomic */
};

struct route_token {
	unsigned char hash[32];
	unsigned char cred[16];  /* route_cred_id(hash) */
	char *user;
	int admin;
	int session;             /* a browser session: only tickets name it */
	int64_t expires;         /* a session's end; 0: a token's, none */
};

/* Sorted by hash, and an index of it by cred; immutable once published. */
struct route_tokens {
	int refs;            /* atomic */
	struct route_token *v;
	struct route_token **by_cred;
	size_t n, cap;
};

/* A small open hash table keyed by subdomain. Hundreds of spaces fit easily. */
#define ROUTE_BUCKETS 1024
static struct route_entry *buckets[ROUTE_BUCKETS];
/* Guards buckets and the pointer to the published token snapshot. */
static pthread_mutex_t routes_lock = PTHREAD_MUTEX_INITIALIZER;
static route_tokens *tokens_live;

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

route_target *
route_target_remote(const char *space_id, const char *node, const char *address)
{
	const char *colon = strrchr(address, ':');
	char host[64];
	struct in_addr in;
	route_target *t;
	long port;
	char *end;

	if (colon == NULL || (size_t)(colon - address) >= sizeof(host))
		return NULL;
	memcpy(host, address, (size_t)(colon - address));
	host[colon - address] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (inet_pton(AF_INET, host, &in) != 1 || *end != '\0' || port <= 0 || port > 65535)
		return NULL;
	t = target_new(ROUTE_REMOTE, space_id);
	t->node = xstrdup(node);
	t->remote_ip = in.s_addr;
	t->port = (int)port;
	/* one pool per node (high bit: never an instance's id) */
	t->instance_id = 1ull << 63 | (uint64_t)ntohl(in.s_addr) << 16 | (uint64_t)port;
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
	free(t->private_owner);
	route_exchanges_unref(t->exchanges);
	free(t->node);
	free(t);
}

void
route_target_set_private(route_target *t, const char *owner)
{
	free(t->private_owner);
	t->private_owner = xstrdup(owner);
}

route_exchanges *
route_exchanges_new(void)
{
	route_exchanges *x = xcalloc(1, sizeof(*x));

	x->refs = 1;
	return x;
}

route_exchanges *
route_exchanges_ref(route_exchanges *x)
{
	__atomic_add_fetch(&x->refs, 1, __ATOMIC_RELAXED);
	return x;
}

void
route_exchanges_unref(route_exchanges *x)
{
	if (x != NULL && __atomic_sub_fetch(&x->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(x);
}

uint64_t
route_exchanges_open(const route_exchanges *x)
{
	return __atomic_load_n(&x->open, __ATOMIC_RELAXED);
}

void
route_exchanges_add(route_exchanges *x, int delta)
{
	if (delta > 0)
		__atomic_add_fetch(&x->open, 1, __ATOMIC_RELAXED);
	else
		__atomic_sub_fetch(&x->open, 1, __ATOMIC_RELAXED);
}

void
route_target_set_exchanges(route_target *t, route_exchanges *x)
{
	route_exchanges_unref(t->exchanges);
	t->exchanges = x != NULL ? route_exchanges_ref(x) : NULL;
}

void
route_target_set_epoch(route_target *t, uint64_t epoch)
{
	t->access_epoch = epoch;
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
	routes_tokens_publish(NULL);
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

/* ---- the cluster ---- */

static char cluster_node[64];
static unsigned char cluster_key[crypto_auth_KEYBYTES];
static int cluster_on;

void
routes_set_cluster(const char *node, const unsigned char key[ROUTE_CLUSTER_KEY_BYTES])
{
	snprintf(cluster_node, sizeof(cluster_node), "%s", node);
	memcpy(cluster_key, key, sizeof(cluster_key));
	cluster_on = 1;
}

int
routes_cluster(void)
{
	return cluster_on;
}

static void
cluster_mac(const char *node, long long ts, int hops, const char *method, const char *host,
    const char *url, char hex[2 * crypto_auth_BYTES + 1])
{
	unsigned char mac[crypto_auth_BYTES];
	crypto_auth_hmacsha512256_state st;
	char head[160];
	int n = snprintf(head, sizeof(head), "%s\n%lld\n%d\n", node, ts, hops);

	crypto_auth_hmacsha512256_init(&st, cluster_key, sizeof(cluster_key));
	crypto_auth_hmacsha512256_update(&st, (const unsigned char *)head, (size_t)n);
	/* each with its NUL: "ab" + "c" never signs as "a" + "bc" */
	crypto_auth_hmacsha512256_update(&st, (const unsigned char *)method, strlen(method) + 1);
	crypto_auth_hmacsha512256_update(&st, (const unsigned char *)host, strlen(host) + 1);
	crypto_auth_hmacsha512256_update(&st, (const unsigned char *)url, strlen(url) + 1);
	crypto_auth_hmacsha512256_final(&st, mac);
	sodium_bin2hex(hex, 2 * crypto_auth_BYTES + 1, mac, sizeof(mac));
}

int
routes_cluster_sign(const char *method, const char *host, const char *url, int hops, char *out,
    size_t len)
{
	char hex[2 * crypto_auth_BYTES + 1];
	long long ts = (long long)time(NULL);

	if (!cluster_on)
		return -1;
	cluster_mac(cluster_node, ts, hops, method, host, url, hex);
	snprintf(out, len, "%s %lld %d %s", cluster_node, ts, hops, hex);
	return 0;
}

int
routes_cluster_check(const char *value, const char *method, const char *host, const char *url)
{
	char node[64], mac[2 * crypto_auth_BYTES + 1], want[2 * crypto_auth_BYTES + 1];
	long long ts, now = (long long)time(NULL);
	int hops;

	if (!cluster_on || sscanf(value, "%63s %lld %d %64s", node, &ts, &hops, mac) != 4 ||
	    hops < 1 || ts < now - 300 || ts > now + 300)
		return -1;
	cluster_mac(node, ts, hops, method, host, url, want);
	return sodium_memcmp(want, mac, sizeof(want)) == 0 ? hops : -1;
}

/* ---- API tokens, for private spaces ---- */

route_tokens *
route_tokens_new(void)
{
	route_tokens *k = xcalloc(1, sizeof(*k));

	k->refs = 1;
	return k;
}

void
route_cred_id(const unsigned char hash[32], unsigned char id[16])
{
	static const unsigned char key[] = "podium ticket credential";

	crypto_generichash(id, 16, hash, 32, key, sizeof(key) - 1);
}

static void
entry_add(route_tokens *k, const unsigned char hash[32], const char *user, int admin,
    int session, int64_t expires)
{
	struct route_token *e;

	if (k->n == k->cap) {
		k->cap = k->cap != 0 ? 2 * k->cap : 16;
		k->v = xrealloc(k->v, k->cap * sizeof(*k->v));
	}
	e = &k->v[k->n++];
	memcpy(e->hash, hash, 32);
	route_cred_id(hash, e->cred);
	e->user = xstrdup(user);
	e->admin = admin;
	e->session = session;
	e->expires = expires;
}

void
route_tokens_add(route_tokens *k, const unsigned char hash[32], const char *user, int admin)
{
	entry_add(k, hash, user, admin, 0, 0);
}

void
route_tokens_add_session(route_tokens *k, const unsigned char hash[32], const char *user,
    int admin, int64_t expires)
{
	entry_add(k, hash, user, admin, 1, expires);
}

static void
tokens_unref(route_tokens *k)
{
	if (k == NULL || __atomic_sub_fetch(&k->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (size_t i = 0; i < k->n; i++)
		free(k->v[i].user);
	free(k->v);
	free(k->by_cred);
	free(k);
}

void
route_tokens_free(route_tokens *k)
{
	tokens_unref(k);
}

static int
token_cmp(const void *a, const void *b)
{
	return memcmp(((const struct route_token *)a)->hash, ((const struct route_token *)b)->hash, 32);
}

static int
cred_cmp(const void *a, const void *b)
{
	return memcmp((*(struct route_token *const *)a)->cred,
	    (*(struct route_token *const *)b)->cred, 16);
}

void
routes_tokens_publish(route_tokens *k)
{
	route_tokens *old;

	if (k != NULL && k->n > 1)
		qsort(k->v, k->n, sizeof(*k->v), token_cmp);
	if (k != NULL && k->n > 0) {
		k->by_cred = xcalloc(k->n, sizeof(*k->by_cred));
		for (size_t i = 0; i < k->n; i++)
			k->by_cred[i] = &k->v[i];
		qsort(k->by_cred, k->n, sizeof(*k->by_cred), cred_cmp);
	}
	pthread_mutex_lock(&routes_lock);
	old = tokens_live;
	tokens_live = k;
	pthread_mutex_unlock(&routes_lock);
	tokens_unref(old);
}

void
route_token_hash(const char *token, unsigned char hash[32])
{
	crypto_generichash(hash, 32, (const unsigned char *)token, strlen(token), NULL, 0);
}

int
route_auth_token(const char *authorization, char *token, size_t len)
{
	const char *h = authorization;
	char decoded[512];
	size_t n = 0;
	const char *colon, *tok;
	int r = -ENOENT;

	if (strncasecmp(h, "Bearer ", 7) == 0) {
		tok = h + 7 + strspn(h + 7, " ");
		if (strlen(tok) >= len)
			return -ENOENT;
		strcpy(token, tok);
		return 0;
	}
	if (strncasecmp(h, "Basic ", 6) != 0)
		return -ENOENT;
	h += 6 + strspn(h + 6, " ");
	if (sodium_base642bin((unsigned char *)decoded, sizeof(decoded) - 1, h, strlen(h), NULL, &n,
	    NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
		return -ENOENT;
	decoded[n] = '\0';
	colon = strchr(decoded, ':');
	tok = colon != NULL ? colon + 1 : decoded;
	if (strlen(tok) < len) {
		strcpy(token, tok);
		r = 0;
	}
	sodium_memzero(decoded, sizeof(decoded));
	return r;
}

/* The published snapshot, referenced (tokens_unref), or NULL. */
static route_tokens *
snapshot_ref(void)
{
	route_tokens *k;

	pthread_mutex_lock(&routes_lock);
	k = tokens_live;
	if (k != NULL)
		__atomic_add_fetch(&k->refs, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&routes_lock);
	return k;
}

static int
may_pass_entry(const route_target *t, const struct route_token *e)
{
	return t->private_owner == NULL || e->admin || strcasecmp(e->user, t->private_owner) == 0;
}

/* The lookup compares hashes with memcmp: its timing can tell an attacker about
 * the hash of what they sent, never about a stored token (finding a token from
 * its hash is a preimage search). */
int
route_target_token(const route_target *t, const char *authorization, int *may_pass)
{
	struct route_token key, *e = NULL;
	route_tokens *k;
	char token[256];

	*may_pass = 0;
	if (route_auth_token(authorization, token, sizeof(token)) != 0)
		return 0;
	route_token_hash(token, key.hash);
	sodium_memzero(token, sizeof(token));
	if ((k = snapshot_ref()) == NULL)
		return 0;
	if (k->n > 0)
		e = bsearch(&key, k->v, k->n, sizeof(*k->v), token_cmp);
	if (e != NULL && e->session)
		e = NULL; /* a session cookie's hash is no bearer token */
	if (e != NULL)
		*may_pass = may_pass_entry(t, e);
	tokens_unref(k);
	return e != NULL;
}

int
route_target_cred(const route_target *t, const unsigned char id[16])
{
	struct route_token key, *kp = &key, **e = NULL;
	route_tokens *k = snapshot_ref();
	int ok = 0;

	if (k == NULL)
		return 0;
	memcpy(key.cred, id, 16);
	if (k->n > 0)
		e = bsearch(&kp, k->by_cred, k->n, sizeof(*k->by_cred), cred_cmp);
	ok = e != NULL && ((*e)->expires == 0 || (*e)->expires > (int64_t)time(NULL)) &&
	    may_pass_entry(t, *e);
	tokens_unref(k);
	return ok;
}
