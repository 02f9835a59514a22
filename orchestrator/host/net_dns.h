/* net_dns.h — the boxes' DNS: a UDP forwarder on the bridge's gateway address that
 * relays each query to the host's resolvers (egress.resolvers, else the nameservers
 * of /etc/resolv.conf) from the daemon's side, so a box needs no route to the
 * resolver's own (often private or loopback) address. Each box (by its address, one
 * of a live box's: podium-sandbox names the veth after it) has a share of the
 * queries in flight. */
#ifndef PODIUM_NET_DNS_H
#define PODIUM_NET_DNS_H

#include <jansson.h>
#include <stdint.h>
#include <uv.h>

/* Queries in flight at once, for all boxes, and for one box by default
 * (egress.dns_per_box): a noisy box cannot take every slot (issue 21.10). */
#define NET_DNS_PENDING_MAX 512
#define NET_DNS_PER_BOX 32

/* A JSON array of IPv4 address strings; 0 or -EINVAL. */
int net_dns_set_resolvers(const json_t *list);
/* The share of one box: its queries in flight at once (1..NET_DNS_PENDING_MAX). */
void net_dns_set_per_box(unsigned n);
/* gw in host byte order. */
int net_dns_start(uv_loop_t *loop, uint32_t gw);
void net_dns_stop(void);

#endif
