/* tls_demand.c — on demand: a handshake waits for its certificate.
 *
 * The store's client-hello callback (OpenSSL's earliest, before the name is
 * acted on) reads the name the client asks for.  A name no certificate
 * covers is reported to the miss callback (the issuer: ACME on demand, which
 * decides on its own loop whether the name may have one) and, when the store
 * holds handshakes (tls_store_hold), the handshake waits while the issuer
 * works on that name: the callback returns SSL_CLIENT_HELLO_RETRY, the
 * connection layer (tls_conn.c) parks the handshake and calls
 * SSL_do_handshake again once tls_store_waiting says no more (a certificate
 * covers the name, or the issuer refused it or gave up) or its deadline
 * passed; then the servername callback picks what covers the name, or the
 * default certificate.  Caddy's on-demand TLS works the same way.
 *
 * What the issuer said of each name is kept in a small table under its own
 * lock: at most DEMAND_MAX names (past that a handshake does not wait), a
 * name refused or failed is answered at once for DEMAND_NO_MS, a name asked
 * for and never answered is forgotten after two holds.
 */
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "proxy/tls_int.h"

#define DEMAND_MAX     1024
#define DEMAND_NO_MS   60000  /* a name refused or failed is not waited for again so long */

/* What became of a name a handshake asked for. */
enum { DEMAND_ASKED, DEMAND_ISSUING, DEMAND_NO };

typedef struct tls_demand_entry {
	struct tls_demand_entry *next;
	char *host;
	int state;
	uint64_t since;            /* now_ms() of the last change */
} tls_demand_entry;

struct tls_demands {
	uv_mutex_t lock;           /* guards all below but hold_ms (set before serving) */
	unsigned hold_ms;          /* 0: handshakes never wait */
	tls_demand_entry *list;
	unsigned n;
};

tls_demands *
tls_demands_new(void)
{
	tls_demands *ds = xcalloc(1, sizeof(*ds));

	uv_mutex_init(&ds->lock);
	return ds;
}

void
tls_demands_free(tls_demands *ds)
{
	if (ds == NULL)
		return;
	while (ds->list != NULL) {
		tls_demand_entry *d = ds->list;

		ds->list = d->next;
		free(d->host);
		free(d);
	}
	uv_mutex_destroy(&ds->lock);
	free(ds);
}

void
tls_store_hold(tls_store *ts, unsigned hold_ms)
{
	tls_store_demands(ts)->hold_ms = hold_ms;
}

unsigned
tls_store_hold_ms(tls_store *ts)
{
	return tls_store_demands(ts)->hold_ms;
}

/* Under the lock: host's entry, or NULL; stale ones go on the way. */
static tls_demand_entry *
demand_find(tls_demands *ds, const char *host, uint64_t now)
{
	tls_demand_entry **pp = &ds->list, *found = NULL;

	while (*pp != NULL) {
		tls_demand_entry *d = *pp;
		uint64_t ttl = d->state == DEMAND_NO ? DEMAND_NO_MS :
		    d->state == DEMAND_ASKED ? 2 * (uint64_t)ds->hold_ms : UINT64_MAX;

		if (now - d->since > ttl) {
			*pp = d->next;
			free(d->host);
			free(d);
			ds->n--;
			continue;
		}
		if (strcmp(d->host, host) == 0)
			found = d;
		pp = &d->next;
	}
	return found;
}

static tls_demand_entry *
demand_add(tls_demands *ds, const char *host, int state, uint64_t now)
{
	tls_demand_entry *d;

	if (ds->n >= DEMAND_MAX)
		return NULL;
	d = xcalloc(1, sizeof(*d));
	d->host = xstrdup(host);
	d->state = state;
	d->since = now;
	d->next = ds->list;
	ds->list = d;
	ds->n++;
	return d;
}

void
tls_store_demand(tls_store *ts, const char *host, enum tls_demand what)
{
	tls_demands *ds = tls_store_demands(ts);
	uint64_t now = now_ms();
	tls_demand_entry *d;

	uv_mutex_lock(&ds->lock);
	d = demand_find(ds, host, now);
	if (what == TLS_DEMAND_DONE) {
		if (d != NULL) {
			/* stale: gone at the next look (a certificate covers it now) */
			d->state = DEMAND_NO;
			d->since = 0;
		}
	} else if (d != NULL) {
		d->state = what == TLS_DEMAND_ISSUING ? DEMAND_ISSUING : DEMAND_NO;
		d->since = now;
	} else {
		demand_add(ds, host, what == TLS_DEMAND_ISSUING ? DEMAND_ISSUING : DEMAND_NO, now);
	}
	uv_mutex_unlock(&ds->lock);
}

/* Should a handshake for host (no certificate covers it) wait? */
static int
demand_hold(tls_demands *ds, const char *host)
{
	uint64_t now = now_ms();
	tls_demand_entry *d;
	int hold;

	if (ds->hold_ms == 0)
		return 0;
	uv_mutex_lock(&ds->lock);
	d = demand_find(ds, host, now);
	if (d == NULL)
		d = demand_add(ds, host, DEMAND_ASKED, now); /* full: no wait */
	hold = d != NULL && d->state != DEMAND_NO;
	uv_mutex_unlock(&ds->lock);
	return hold;
}

int
tls_store_waiting(tls_store *ts, const char *host)
{
	tls_demands *ds = tls_store_demands(ts);
	tls_demand_entry *d;
	int wait;

	if (tls_store_covers(ts, host))
		return 0;
	uv_mutex_lock(&ds->lock);
	d = demand_find(ds, host, now_ms());
	wait = d != NULL && d->state != DEMAND_NO;
	uv_mutex_unlock(&ds->lock);
	return wait;
}

/* The server_name extension's host_name (RFC 6066 3), lowercased: 1, or 0. */
static int
hello_sni(SSL *s, char *host, size_t len)
{
	const unsigned char *p;
	size_t n, list, name;

	if (SSL_client_hello_get0_ext(s, TLSEXT_TYPE_server_name, &p, &n) != 1 || n < 5)
		return 0;
	list = (size_t)p[0] << 8 | p[1];
	if (list + 2 != n || p[2] != TLSEXT_NAMETYPE_host_name)
		return 0;
	name = (size_t)p[3] << 8 | p[4];
	if (name == 0 || name + 5 > n || name >= len || memchr(p + 5, '\0', name) != NULL)
		return 0;
	memcpy(host, p + 5, name);
	host[name] = '\0';
	for (char *c = host; *c != '\0'; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c + 32);
	return 1;
}

int
tls_client_hello_cb(SSL *s, int *al, void *arg)
{
	tls_store *ts = arg;
	tls_hello *h = SSL_get_app_data(s);

	if (h == NULL || h->released)
		return SSL_CLIENT_HELLO_SUCCESS;
	if (!hello_sni(s, h->host, sizeof(h->host)) || tls_store_covers(ts, h->host) ||
	    tls_store_challenge(ts, h->host))
		return SSL_CLIENT_HELLO_SUCCESS;
	if (!h->asked) {
		h->asked = 1;
		tls_store_report_miss(ts, h->host);
	}
	if (!demand_hold(tls_store_demands(ts), h->host))
		return SSL_CLIENT_HELLO_SUCCESS;
	return SSL_CLIENT_HELLO_RETRY;
}
