/* forward.c — a request for a space another node of the cluster owns goes to
 * that node's proxy (issue 27): an app host's request, or a hub request about
 * the space (its API, pages, git; route.c picks them).
 *
 * The exchange is the upstream one (upstream.c): one keep-alive pool per node,
 * bodies streamed both ways with back-pressure, WebSockets and other upgrades
 * as byte tunnels, SSE flushed as it comes; the owner holds a request for a
 * sleeping app as it would its own, and the wait for the response head here is
 * the owner's wake deadline more. What differs is the head: the client's
 * fields as they came (Host kept; hop-by-hop ones, Expect and any X-Podium-*
 * dropped; a podium token too when this node already checked it for a private
 * host), and two fields of the cluster's own: X-Podium-Forwarded, signed with
 * the key the nodes share (routes_cluster_sign), and X-Podium-Client, the
 * client's address. The owner checks the signature and then serves the
 * request as if it had come to it, without checking the token again.
 *
 * A placement that changes while a request is on its way may send it on once
 * more (the node it reached no longer owns the space). One that came back
 * around (two hops: the nodes' views of the move differ for the moment it
 * takes the change to reach them all) waits here, held as for a wake, until
 * this node's view changes or FORWARD_SETTLE_MS pass; past FORWARD_MAX_HOPS
 * it is a 503 with Retry-After, never a loop. */
#include <stdlib.h>

#include "proxy/upstream_int.h"

#define FORWARD_MAX_HOPS 3
#define FORWARD_SETTLE_MS 2000

/* The head the owner gets (see above); on the heap, the caller frees it. */
static char *
forward_request_head(const http_request *r, int strip_auth, int upgrade, const char *signature,
    size_t *len)
{
	const char *conn_hdr = http_request_header(r, "connection");
	const char *up_hdr = http_request_header(r, "upgrade");
	char stack[2048];
	sbuf b = SBUF_ON(stack);

	sbuf_adds(&b, r->method);
	sbuf_add(&b, " ", 1);
	sbuf_adds(&b, r->url);
	sbuf_adds(&b, " HTTP/1.1\r\n");
	for (size_t i = 0; i < r->nheaders; i++) {
		const http_header *h = &r->headers[i];

		if ((header_is_hop_by_hop(h->name, conn_hdr) && !hdr_is(h->name, "host")) ||
		    hdr_is(h->name, "expect") || header_is_cluster(h->name) ||
		    (strip_auth && hdr_is(h->name, "authorization")))
			continue;
		sbuf_field(&b, h->name, h->value);
	}
	sbuf_field(&b, "X-Podium-Forwarded", signature);
	sbuf_field(&b, "X-Podium-Client", r->client_addr);
	return request_head_end(&b, r, upgrade ? up_hdr : NULL, len);
}

void
forward_dispatch(proxy_conn *c)
{
	int hops = c->forwarded + 1;
	char signature[256];
	http_request r;
	size_t len;
	char *head;

	if (c->forwarded >= 2 && uv_now(c->lp->loop) - c->t_start < FORWARD_SETTLE_MS &&
	    hold_start(c) == 0)
		return;
	if (hops > FORWARD_MAX_HOPS ||
	    routes_cluster_sign(c->method, c->host, c->url, hops, signature, sizeof(signature)) != 0) {
		http_header ra = { "Retry-After", "1" };

		conn_respond_error(c, 503, "the space is moving between nodes; try again", &ra, 1);
		return;
	}
	conn_request_view(c, &r);
	head = forward_request_head(&r, c->strip_auth, llhttp_get_upgrade(&c->parser), signature,
	    &len);
	upstream_start(c, head, len);
}
