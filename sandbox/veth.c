/*
 * --net veth:BRIDGE,GATEWAY/PREFIX — the box's network namespace gets one
 * veth pair: "eth0" inside with an address of the bridge's subnet and a
 * default route via the gateway, the host end enslaved to BRIDGE.  The
 * launcher (host side, root) does this over rtnetlink while init builds the
 * filesystem; the command is let go only afterwards, so it never sees a
 * namespace without its network.
 *
 * Addresses need no bookkeeping by the caller: the host end's name carries
 * the address ("pd" + 8 hex digits), so creating the pair claims it
 * atomically and EEXIST means "taken, try the next".  The pair dies with
 * the namespace, i.e. with the box (or the last fd on its namespace), so a
 * killed launcher or daemon leaves no interface behind.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"
#include "sandbox/sandbox.h"

#define NL_BUF 1024
#define ADDR_TRIES 4096

struct nl_msg {
	struct nlmsghdr *h;
	char buf[NL_BUF] __attribute__((aligned(NLMSG_ALIGNTO)));
};

static void
nl_init(struct nl_msg *m, int type, int flags, const void *hdr, size_t hdrlen)
{
	memset(m->buf, 0, sizeof(m->buf));
	m->h = (struct nlmsghdr *)m->buf;
	m->h->nlmsg_type = (unsigned short)type;
	m->h->nlmsg_flags = (unsigned short)(NLM_F_REQUEST | NLM_F_ACK | flags);
	m->h->nlmsg_len = (unsigned)NLMSG_LENGTH(hdrlen);
	memcpy(NLMSG_DATA(m->h), hdr, hdrlen);
}

/* Append an attribute; returns it (for nesting).  The buffer is sized for
 * the fixed messages below, so running out is a programming error. */
static struct rtattr *
nl_attr(struct nl_msg *m, int type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)(m->buf + NLMSG_ALIGN(m->h->nlmsg_len));

	if (NLMSG_ALIGN(m->h->nlmsg_len) + RTA_SPACE(len) > sizeof(m->buf))
		abort();
	a->rta_type = (unsigned short)type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len > 0)
		memcpy(RTA_DATA(a), data, len);
	m->h->nlmsg_len = (unsigned)(NLMSG_ALIGN(m->h->nlmsg_len) + RTA_SPACE(len));
	return a;
}

static void
nl_nest_end(struct nl_msg *m, struct rtattr *nest)
{
	nest->rta_len = (unsigned short)(m->buf + m->h->nlmsg_len - (char *)nest);
}

/* Send one request and wait for its ack. */
static int
nl_talk(int fd, struct nl_msg *m)
{
	char reply[NL_BUF] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *h;
	ssize_t n;

	if (send(fd, m->buf, m->h->nlmsg_len, 0) != (ssize_t)m->h->nlmsg_len)
		return -errno;
	for (;;) {
		n = recv(fd, reply, sizeof(reply), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (h = (struct nlmsghdr *)reply; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n))
			if (h->nlmsg_type == NLMSG_ERROR)
				return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
	}
}

static int
nl_socket(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	return fd >= 0 ? fd : -errno;
}

static int
veth_create(int fd, const char *host_name, int box_ns)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC }, peer = { .ifi_family = AF_UNSPEC };
	struct rtattr *linkinfo, *data, *peer_attr;
	struct nl_msg m;

	nl_init(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof(ifi));
	nl_attr(&m, IFLA_IFNAME, host_name, strlen(host_name) + 1);
	linkinfo = nl_attr(&m, IFLA_LINKINFO, NULL, 0);
	nl_attr(&m, IFLA_INFO_KIND, "veth", 4);
	data = nl_attr(&m, IFLA_INFO_DATA, NULL, 0);
	peer_attr = nl_attr(&m, VETH_INFO_PEER, &peer, sizeof(peer));
	nl_attr(&m, IFLA_IFNAME, "eth0", 5);
	nl_attr(&m, IFLA_NET_NS_FD, &box_ns, sizeof(box_ns));
	nl_nest_end(&m, peer_attr);
	nl_nest_end(&m, data);
	nl_nest_end(&m, linkinfo);
	return nl_talk(fd, &m);
}

static int
link_up(int fd, int index, int master)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC,
		.ifi_index = index,
		.ifi_flags = IFF_UP,
		.ifi_change = IFF_UP };
	struct nl_msg m;

	nl_init(&m, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
	if (master > 0)
		nl_attr(&m, IFLA_MASTER, &master, sizeof(master));
	return nl_talk(fd, &m);
}

static int
addr_add(int fd, int index, struct in_addr addr, int prefix)
{
	struct ifaddrmsg ifa = { .ifa_family = AF_INET,
		.ifa_prefixlen = (unsigned char)prefix,
		.ifa_index = (unsigned)index };
	struct nl_msg m;

	nl_init(&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof(ifa));
	nl_attr(&m, IFA_LOCAL, &addr, sizeof(addr));
	nl_attr(&m, IFA_ADDRESS, &addr, sizeof(addr));
	return nl_talk(fd, &m);
}

static int
route_default(int fd, int index, struct in_addr gw)
{
	struct rtmsg rt = { .rtm_family = AF_INET,
		.rtm_table = RT_TABLE_MAIN,
		.rtm_protocol = RTPROT_BOOT,
		.rtm_scope = RT_SCOPE_UNIVERSE,
		.rtm_type = RTN_UNICAST };
	struct nl_msg m;

	nl_init(&m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &rt, sizeof(rt));
	nl_attr(&m, RTA_GATEWAY, &gw, sizeof(gw));
	nl_attr(&m, RTA_OIF, &index, sizeof(index));
	return nl_talk(fd, &m);
}

/* IPv6 is off on both ends: the boxes get IPv4 egress only, and an
 * interface without IPv6 has no link-local address to reach the host by.
 * Written before the link goes up, so no fe80:: address is ever assigned.
 * Runs in the caller's current netns (/proc/sys/net is per opener). */
static void
ipv6_off(const char *ifname)
{
	char path[96];

	/* Failing is fine: without IPv6 in this kernel there is nothing to turn off,
	 * and the drop rules in podium's table still stop IPv6. */
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	fs_write_text(path, "1");
}

int
sandbox_net_veth_parse(const char *spec, struct sandbox_config *cfg)
{
	char buf[64], *comma, *slash, *end;
	long prefix;

	if (strlen(spec) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, spec);
	comma = strchr(buf, ',');
	if (comma == NULL || comma == buf || (size_t)(comma - buf) >= IFNAMSIZ)
		return -EINVAL;
	*comma++ = '\0';
	slash = strchr(comma, '/');
	if (slash == NULL)
		return -EINVAL;
	*slash++ = '\0';
	if (inet_pton(AF_INET, comma, &cfg->net_gateway) != 1)
		return -EINVAL;
	errno = 0;
	prefix = strtol(slash, &end, 10);
	/* at least 2 host bits beside the gateway, so there is room for a box */
	if (errno != 0 || *end != '\0' || end == slash || prefix < 8 || prefix > 29)
		return -EINVAL;
	cfg->net_prefix = (int)prefix;
	snprintf(cfg->net_bridge, sizeof(cfg->net_bridge), "%s", buf);
	cfg->net = SANDBOX_NET_VETH;
	return 0;
}

/* Create the host end with the first free address, starting from one picked
 * by our pid so parallel starts rarely collide. */
static int
claim_address(
    int hsock, const struct sandbox_config *cfg, int box_ns, char *name, struct in_addr *addr)
{
	uint32_t mask = cfg->net_prefix == 0 ? 0 : 0xffffffffu << (32 - cfg->net_prefix);
	uint32_t gw = ntohl(cfg->net_gateway.s_addr), net = gw & mask, hosts = ~mask;
	uint32_t start = ((uint32_t)getpid() * 2654435761u) % hosts, i, host;
	int rc = -EADDRNOTAVAIL;

	for (i = 0; i < hosts && i < ADDR_TRIES; i++) {
		host = (start + i) % hosts;
		if (host == 0 || host == hosts || (net | host) == gw)
			continue;
		addr->s_addr = htonl(net | host);
		snprintf(name, IFNAMSIZ, "pd%08x", net | host);
		rc = veth_create(hsock, name, box_ns);
		if (rc != -EEXIST)
			return rc;
	}
	return rc;
}

int
sandbox_net_veth_setup(const struct sandbox_config *cfg, pid_t pid, const char **step)
{
	char path[64], name[IFNAMSIZ];
	struct in_addr addr;
	int host_ns = -1, box_ns = -1, hsock = -1, bsock = -1, bridge, host_if, box_if = 0, rc;

	*step = "veth: open namespaces";
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	host_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	box_ns = open(path, O_RDONLY | O_CLOEXEC);
	if (host_ns < 0 || box_ns < 0) {
		rc = -errno;
		goto done;
	}
	*step = "veth: bridge";
	bridge = (int)if_nametoindex(cfg->net_bridge);
	if (bridge == 0) {
		rc = -errno;
		goto done;
	}
	*step = "veth: netlink";
	if ((rc = hsock = nl_socket()) < 0)
		goto done;
	*step = "veth: create";
	if ((rc = claim_address(hsock, cfg, box_ns, name, &addr)) != 0)
		goto done;
	*step = "veth: host end";
	host_if = (int)if_nametoindex(name);
	if (host_if == 0) {
		rc = -errno;
		goto done;
	}
	ipv6_off(name);
	if ((rc = link_up(hsock, host_if, bridge)) != 0)
		goto done;

	/* A netlink socket lives in the namespace it was made in: make one in
	 * the box's and come straight back. */
	*step = "veth: enter box namespace";
	if (setns(box_ns, CLONE_NEWNET) != 0) {
		rc = -errno;
		goto done;
	}
	bsock = nl_socket();
	box_if = (int)if_nametoindex("eth0");
	ipv6_off("eth0");
	ipv6_off("lo");
	if (setns(host_ns, CLONE_NEWNET) != 0) {
		/* Half in the box's namespace: nothing sane is left to do (init
		 * dies with us, PDEATHSIG). */
		fprintf(stderr, "podium-sandbox: veth: leave box namespace: %s\n", strerror(errno));
		_exit(SANDBOX_EXIT_SETUP);
	}
	if ((rc = bsock) < 0)
		goto done;
	*step = "veth: box end";
	if (box_if == 0) {
		rc = -ENODEV;
		goto done;
	}
	if ((rc = link_up(bsock, 1, 0)) != 0 ||
	    (rc = addr_add(bsock, box_if, addr, cfg->net_prefix)) != 0 ||
	    (rc = link_up(bsock, box_if, 0)) != 0)
		goto done;
	*step = "veth: default route";
	rc = route_default(bsock, box_if, cfg->net_gateway);

done:
	if (bsock >= 0)
		close(bsock);
	if (hsock >= 0)
		close(hsock);
	if (box_ns >= 0)
		close(box_ns);
	if (host_ns >= 0)
		close(host_ns);
	return rc;
}
