/* net_dns.h — the boxes' DNS: a UDP forwarder on the bridge's gateway address that
 * relays each query to the host's resolvers (egress.resolvers, else the nameservers
 * of /etc/resolv.conf) from the daemon's side, so a box needs no route to the
 * resolver's own (often private or loopback) address. */
#ifndef PODIUM_NET_DNS_H
#define PODIUM_NET_DNS_H

#include <jansson.h>
#include <stdint.h>
#include <uv.h>

/* A JSON array of IPv4 address strings; 0 or -EINVAL. */
int net_dns_set_resolvers(const json_t *list);
/* gw in host byte order. */
int net_dns_start(uv_loop_t *loop, uint32_t gw);
void net_dns_stop(void);

#endif
