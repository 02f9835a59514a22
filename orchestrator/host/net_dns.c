/* net_dns.c — the boxes' DNS forwarder (see net_dns.h). Each query gets its own
 * upstream socket (so the resolver's answer needs no id bookkeeping and a box cannot
 * spoof answers for another) and a timer; the answer goes back to the asking box
 * from the gateway's port 53. UDP only: a truncated answer makes the box's resolver
 * retry over TCP, which is refused. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "orchestrator/host/net_dns.h"
#include "common/util.h"

#define DNS_MAX_RESOLVERS 3
#define DNS_TIMEOUT_MS 5000
#define DNS_MAX_MSG 4096
#define DNS_SOURCE_BUCKETS 256

/* A box asking: its queries in flight (the entry goes with its last one). */
typedef struct source {
	uint32_t addr;               /* host byte order */
	unsigned pending;
	int warned;                  /* said once that it is over its share */
	struct source *next;
} source;

typedef struct query {
	uv_udp_t up;
	uv_timer_t timer;
	struct sockaddr_storage client;
	source *src;
	int ended;                   /* query_end ran: its handles are closing */
	int closing;                 /* handles closed so far */
	struct query *prev, *next;   /* pending list, so a stop ends them at once */
} query;

static struct {
	uv_udp_t listener;
	int open;
	struct sockaddr_storage resolvers[DNS_MAX_RESOLVERS];
	int nresolvers;
	int configured;      /* egress.resolvers given: no /etc/resolv.conf */
	unsigned pending, next;
	unsigned per_box;    /* 0: NET_DNS_PER_BOX */
	query *queries;
	source *sources[DNS_SOURCE_BUCKETS];
} dns;

void
net_dns_set_per_box(unsigned n)
{
	dns.per_box = n;
}

/* The source entry of a live box's address (made on its first query), or NULL:
 * not a box's (each veth's host end is named "pd" and its box's address in hex,
 * sandbox/veth.c), so a box cannot spread its queries over made-up sources. */
static source *
source_of(uint32_t addr)
{
	source **b = &dns.sources[addr % DNS_SOURCE_BUCKETS], *s;
	char ifname[IF_NAMESIZE];

	for (s = *b; s != NULL; s = s->next)
		if (s->addr == addr)
			return s;
	snprintf(ifname, sizeof(ifname), "pd%08x", addr);
	if (if_nametoindex(ifname) == 0)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->addr = addr;
	s->next = *b;
	*b = s;
	return s;
}

static void
source_done(source *s)
{
	source **pp;

	if (s == NULL || --s->pending > 0)
		return;
	for (pp = &dns.sources[s->addr % DNS_SOURCE_BUCKETS]; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	free(s);
}

static int
resolver_add(const char *text)
{
	struct sockaddr_in *in = (struct sockaddr_in *)&dns.resolvers[dns.nresolvers];
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&dns.resolvers[dns.nresolvers];

	if (dns.nresolvers >= DNS_MAX_RESOLVERS)
		return 0;
	memset(&dns.resolvers[dns.nresolvers], 0, sizeof(dns.resolvers[0]));
	if (uv_ip4_addr(text, 53, in) == 0 || uv_ip6_addr(text, 53, in6) == 0) {
		dns.nresolvers++;
		return 0;
	}
	return -EINVAL;
}

int
net_dns_set_resolvers(const json_t *list)
{
	size_t i;

	if (!json_is_array(list))
		return -EINVAL;
	dns.nresolvers = 0;
	dns.configured = 1;
	for (i = 0; i < json_array_size(list); i++) {
		const char *s = json_string_value(json_array_get(list, i));
		struct sockaddr_in a;

		if (s == NULL || uv_ip4_addr(s, 53, &a) != 0 || resolver_add(s) != 0)
			return -EINVAL;
	}
	return 0;
}

static void
resolvers_from_resolv_conf(void)
{
	char *text = NULL, *line, *save = NULL, *word;
	size_t len;

	if (fs_read_file("/etc/resolv.conf", &text, &len, 1 << 16) != 0)
		return;
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "nameserver", 10) != 0 || (line[10] != ' ' && line[10] != '\t'))
			continue;
		word = line + 11;
		word += strspn(word, " \t");
		word[strcspn(word, " \t%")] = '\0';
		resolver_add(word);
	}
	free(text);
}

static void
query_closed(uv_handle_t *h)
{
	query *q = h->data;

	if (++q->closing == 2) {
		if (q->prev != NULL)
			q->prev->next = q->next;
		else
			dns.queries = q->next;
		if (q->next != NULL)
			q->next->prev = q->prev;
		source_done(q->src);
		free(q);
		dns.pending--;
	}
}

static void
query_end(query *q)
{
	/* once: a stop may come while an answer's close is under way */
	if (q->ended)
		return;
	q->ended = 1;
	uv_close((uv_handle_t *)&q->up, query_closed);
	uv_close((uv_handle_t *)&q->timer, query_closed);
}

static void
query_timeout(uv_timer_t *t)
{
	query_end(t->data);
}

static void
alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	buf->base = xmalloc(DNS_MAX_MSG);
	buf->len = DNS_MAX_MSG;
}

static void
answer_cb(uv_udp_t *u, ssize_t n, const uv_buf_t *buf, const struct sockaddr *from, unsigned flags)
{
	query *q = u->data;
	uv_buf_t out = uv_buf_init(buf->base, (unsigned)n);

	if (n > 0 && from != NULL && dns.open)
		uv_udp_try_send(&dns.listener, &out, 1, (const struct sockaddr *)&q->client);
	free(buf->base);
	if (n > 0 || n < 0)
		query_end(q);
}

/* The box's share: a query over it is dropped (its resolver retries), said once. */
static int
over_share(source *s)
{
	unsigned share = dns.per_box > 0 ? dns.per_box : NET_DNS_PER_BOX;
	char a[INET_ADDRSTRLEN];
	struct in_addr in = { htonl(s->addr) };

	if (s->pending < share)
		return 0;
	if (!s->warned)
		log_warn("egress: the box at %s has %u DNS queries in flight, its share "
		    "(egress.dns_per_box): more are dropped", inet_ntop(AF_INET, &in, a, sizeof(a)),
		    share);
	s->warned = 1;
	return 1;
}

static void
query_cb(uv_udp_t *u, ssize_t n, const uv_buf_t *buf, const struct sockaddr *from, unsigned flags)
{
	uv_buf_t out = uv_buf_init(buf->base, (unsigned)n);
	source *src;
	query *q;

	if (n < 12 || from == NULL || from->sa_family != AF_INET || dns.nresolvers == 0 ||
	    dns.pending >= NET_DNS_PENDING_MAX || (flags & UV_UDP_PARTIAL))
		goto done;
	src = source_of(ntohl(((const struct sockaddr_in *)from)->sin_addr.s_addr));
	if (src == NULL || over_share(src))
		goto done;
	src->pending++;
	q = xcalloc(1, sizeof(*q));
	q->src = src;
	memcpy(&q->client, from, from->sa_family == AF_INET ? sizeof(struct sockaddr_in)
	    : sizeof(struct sockaddr_in6));
	uv_udp_init(u->loop, &q->up);
	uv_timer_init(u->loop, &q->timer);
	q->up.data = q->timer.data = q;
	q->next = dns.queries;
	if (q->next != NULL)
		q->next->prev = q;
	dns.queries = q;
	dns.pending++;
	/* Round robin over the resolvers; the box's own retry reaches the next. */
	if (uv_udp_try_send(&q->up, &out, 1,
	    (const struct sockaddr *)&dns.resolvers[dns.next++ % dns.nresolvers]) < 0 ||
	    uv_udp_recv_start(&q->up, alloc_cb, answer_cb) != 0) {
		query_end(q);
		goto done;
	}
	uv_timer_start(&q->timer, query_timeout, DNS_TIMEOUT_MS, 0);
done:
	free(buf->base);
}

int
net_dns_start(uv_loop_t *loop, uint32_t gw)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(53),
	    .sin_addr = { htonl(gw) } };
	int r;

	if (!dns.configured)
		resolvers_from_resolv_conf();
	if (dns.nresolvers == 0)
		log_warn("egress: no resolver (egress.resolvers, /etc/resolv.conf): DNS in the boxes fails");
	uv_udp_init(loop, &dns.listener);
	dns.open = 1;
	if ((r = uv_udp_bind(&dns.listener, (const struct sockaddr *)&addr, 0)) != 0 ||
	    (r = uv_udp_recv_start(&dns.listener, alloc_cb, query_cb)) != 0) {
		error("egress: DNS forwarder on port 53: %s", uv_strerror(r));
		return r;
	}
	return 0;
}

void
net_dns_stop(void)
{
	if (!dns.open)
		return;
	dns.open = 0;
	uv_close((uv_handle_t *)&dns.listener, NULL);
	for (query *q = dns.queries; q != NULL; q = q->next)
		query_end(q);
}
