/* net.h — outbound network (egress) for builds and apps.
 *
 * Each box gets its own network namespace with a veth pair to podium's bridge
 * ("podium0", NET_SUBNET_DEFAULT unless egress.subnet says otherwise); the host
 * masquerades its traffic. podium's own nftables tables ("inet podium",
 * "bridge podium") drop whatever a box sends to the host, another box, link-local,
 * private, shared, multicast or operator-denied ranges, and all IPv6. DNS is
 * answered on the gateway address by a forwarder in the daemon (net_dns.c).
 * Everything is removed at stop, and at the next start after a crash.
 *
 * DATA/config.yaml:  egress: {enabled: true, deny: [CIDR, ...], subnet: CIDR,
 *                             resolvers: [IPv4, ...]}
 * PODIUM_EGRESS=off in the environment turns egress off whatever the file says. */
#ifndef PODIUM_NET_H
#define PODIUM_NET_H

#include <jansson.h>
#include <uv.h>

#include "common/config.h"

#define NET_BRIDGE "podium0"
#define NET_SUBNET_DEFAULT "198.18.0.0/16"

/* Reads the egress settings and sets the host up. -1 (logged) on a bad
 * configuration; a host that cannot do it (not root, no nft) runs without egress. */
int net_start(uv_loop_t *loop, const char *data_dir, const config *config);
/* Removes podium's bridge, tables and the forwarding switch it turned on. */
void net_stop(void);
/* podium-sandbox's --net value for a box of the space whose apps run as host_uid:
 * "veth:podium0,GW/PREFIX", or "none" when egress is off (globally or for it). */
const char *net_box_arg(unsigned host_uid);
int net_enabled(void);
/* The per-space switch (admin only; kept in DATA/egress.json), by the uid its boxes
 * run as. */
int net_space_egress(unsigned host_uid);
int net_space_set_egress(unsigned host_uid, int enabled);
/* Forgets the switch of every uid used(uid, arg) says no space has (a space deleted
 * while the daemon was down, or by an older podium that kept it). */
void net_spaces_prune(int (*used)(unsigned host_uid, void *arg), void *arg);
/* Bytes the box behind netns_fd sent out and received ({"tx_bytes", "rx_bytes"}), or
 * NULL when it has no veth. */
json_t *net_box_counters(int netns_fd);

#endif
