/* net.c — egress for builds and apps: the bridge, podium's nftables tables, IPv4
 * forwarding, the per-space switch and the boxes' byte counters (see net.h).
 *
 * The boxes' veth pairs are made by podium-sandbox (sandbox/veth.c) and die with the
 * boxes; this file owns only the host-wide objects. They are set up and removed with
 * `ip` and `nft` (iproute2, nftables) at start and stop only, never per box, so a
 * box start costs no process spawn here.
 *
 * One daemon per network namespace owns them: a lock on /run/podium/net-<netns>.lock
 * (a second daemon in the same namespace runs without egress and says so). After a
 * crash the next start finds the lock free, removes what is left and starts over;
 * the forwarding switch's original value is kept in a state file next to the lock,
 * because the crashed daemon's "1" is not the host's own. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/child.h"
#include "common/config.h"
#include "common/yaml.h"
#include "common/log.h"
#include "orchestrator/host/net.h"
#include "orchestrator/host/net_dns.h"
#include "common/util.h"

#define RUN_DIR "/run/podium"
#define FORWARD_PATH "/proc/sys/net/ipv4/ip_forward"
#define MAX_DENY 256

/* Never reachable from a box whatever the operator adds: the host's loopback,
 * "this network", link-local (cloud metadata at 169.254.169.254), the private and
 * shared (CGNAT) ranges, IETF protocol assignments, benchmarking (podium's own
 * default subnet), multicast and reserved. */
static const char *const builtin_deny4[] = {
	"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
	"172.16.0.0/12", "192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4",
	"240.0.0.0/4",
};
static const char *const builtin_deny6[] = {
	"::1/128", "fe80::/10", "fc00::/7", "ff00::/8",
};

static struct {
	int enabled;
	int lock_fd;
	int forward_orig;          /* what we found in ip_forward, -1 = untouched */
	uint32_t net, gw;          /* host order */
	int prefix;
	char arg[64];              /* "veth:podium0,GW/PREFIX" */
	char *lock_path, *state_path, *rules_path, *spaces_path;
	char *deny4[MAX_DENY], *deny6[MAX_DENY];
	size_t ndeny4, ndeny6;
	unsigned *off;             /* host uids of spaces with egress off */
	size_t noff;
} net = { .lock_fd = -1, .forward_orig = -1 };

/* ---- helpers ------------------------------------------------------------------ */

static int
read_int_file(const char *path, int *out)
{
	char buf[32];
	ssize_t n = fs_read_text(path, buf, sizeof(buf));

	if (n <= 0)
		return n == 0 ? -EIO : (int)n;
	*out = atoi(buf);
	return 0;
}

/* "a.b.c.d/n" → network (host order, host bits cleared) and prefix. */
static int
parse_cidr4(const char *s, uint32_t *netp, int *prefixp)
{
	char buf[INET_ADDRSTRLEN + 4], *slash, *end;
	struct in_addr a;
	long p;

	if (s == NULL || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash == NULL)
		return -EINVAL;
	*slash++ = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -EINVAL;
	errno = 0;
	p = strtol(slash, &end, 10);
	if (errno != 0 || end == slash || *end != '\0' || p < 0 || p > 32)
		return -EINVAL;
	*prefixp = (int)p;
	*netp = ntohl(a.s_addr) & (p == 0 ? 0 : 0xffffffffu << (32 - p));
	return 0;
}

static int
valid_cidr6(const char *s)
{
	char buf[INET6_ADDRSTRLEN + 5], *slash, *end;
	struct in6_addr a;
	long p;

	if (s == NULL || strlen(s) >= sizeof(buf))
		return 0;
	strcpy(buf, s);
	if ((slash = strchr(buf, '/')) == NULL)
		return 0;
	*slash++ = '\0';
	p = strtol(slash, &end, 10);
	return inet_pton(AF_INET6, buf, &a) == 1 && end != slash && *end == '\0' && p >= 0 && p <= 128;
}

static char *
cidr_text(uint32_t n, int prefix)
{
	struct in_addr a = { htonl(n) };
	char buf[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a, buf, sizeof(buf));
	return xasprintf("%s/%d", buf, prefix);
}

static int
overlaps(uint32_t a, int pa, uint32_t b, int pb)
{
	int p = pa < pb ? pa : pb;
	uint32_t m = p == 0 ? 0 : 0xffffffffu << (32 - p);

	return (a & m) == (b & m);
}

static void
deny4_add(char *cidr)
{
	if (net.ndeny4 < MAX_DENY)
		net.deny4[net.ndeny4++] = cidr;
	else
		free(cidr);
}

/* ---- configuration ---------------------------------------------------------- */

static int
read_config(const config *config)
{
	json_t *eg = config_get(config, "egress"), *v;
	const char *key, *env = getenv("PODIUM_EGRESS");
	size_t i;
	int b;

	net.enabled = 1;
	if (parse_cidr4(NET_SUBNET_DEFAULT, &net.net, &net.prefix) != 0)
		return -1;
	if (eg != NULL && !json_is_object(eg))
		return error("config: egress must be a mapping");
	json_object_foreach(eg, key, v) {
		if (strcmp(key, "enabled") == 0) {
			if (yaml_bool(v, &b) != 0)
				return error("config: egress.enabled must be true or false");
			net.enabled = b;
		} else if (strcmp(key, "subnet") == 0) {
			if (parse_cidr4(json_string_value(v), &net.net, &net.prefix) != 0 ||
			    net.prefix < 8 || net.prefix > 29)
				return error("config: egress.subnet must be an IPv4 CIDR from /8 to /29, e.g. %s",
				    NET_SUBNET_DEFAULT);
		} else if (strcmp(key, "deny") == 0) {
			if (!json_is_array(v))
				return error("config: egress.deny must be a list of CIDRs");
			for (i = 0; i < json_array_size(v); i++) {
				const char *s = json_string_value(json_array_get(v, i));
				uint32_t n;
				int p;

				if (parse_cidr4(s, &n, &p) == 0)
					deny4_add(cidr_text(n, p));
				else if (valid_cidr6(s) && net.ndeny6 < MAX_DENY)
					net.deny6[net.ndeny6++] = xstrdup(s);
				else
					return error("config: egress.deny: %s is not a CIDR (e.g. 203.0.113.0/24)",
					    s != NULL ? s : "(not a string)");
			}
		} else if (strcmp(key, "resolvers") == 0) {
			if (net_dns_set_resolvers(v) != 0)
				return error("config: egress.resolvers must be a list of IPv4 addresses");
		} else if (strcmp(key, "dns_per_box") == 0) {
			uint64_t n;

			if (yaml_uint(v, &n) != 0 || n < 1 || n > NET_DNS_PENDING_MAX)
				return error("config: egress.dns_per_box must be a whole number from 1 to %d",
				    NET_DNS_PENDING_MAX);
			net_dns_set_per_box((unsigned)n);
		} else {
			return error("config: unknown key egress.%s (known: enabled, deny, subnet, "
			    "resolvers, dns_per_box)", key);
		}
	}
	if (env != NULL && (strcmp(env, "off") == 0 || strcmp(env, "0") == 0))
		net.enabled = 0;
	net.gw = net.net + 1;
	return 0;
}

/* The per-space switch: DATA/egress.json, {"off": [host uid, ...]}. */
static void
spaces_load(void)
{
	json_t *root = json_load_file(net.spaces_path, 0, NULL), *off = json_object_get(root, "off"), *v;
	size_t i;

	json_array_foreach(off, i, v) {
		if (!json_is_integer(v))
			continue;
		net.off = xrealloc(net.off, (net.noff + 1) * sizeof(*net.off));
		net.off[net.noff++] = (unsigned)json_integer_value(v);
	}
	json_decref(root);
}

static int
spaces_save(void)
{
	json_t *off = json_array(), *root;
	char *text;
	size_t i;
	int r;

	for (i = 0; i < net.noff; i++)
		json_array_append_new(off, json_integer(net.off[i]));
	root = json_pack("{s:o}", "off", off);
	text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (text == NULL)
		return -ENOMEM;
	r = fs_write_file(net.spaces_path, text, strlen(text), 0600);
	free(text);
	return r;
}

/* ---- host objects ------------------------------------------------------------ */

/* podium's objects only: its two tables and its bridge (the boxes' veths go with
 * their boxes). Missing ones are fine. */
static void
remove_objects(void)
{
	char *del_inet[] = { "nft", "delete", "table", "inet", "podium", NULL };
	char *del_bridge[] = { "nft", "delete", "table", "bridge", "podium", NULL };
	char *del_link[] = { "ip", "link", "delete", NET_BRIDGE, "type", "bridge", NULL };

	child_run_argv(del_inet, CHILD_NULL);
	child_run_argv(del_bridge, CHILD_NULL);
	child_run_argv(del_link, CHILD_NULL);
}

/* The subnets of the host's other interfaces are its LAN: denied too (a public
 * LAN is no private range, but still the host's neighbourhood). Refuses a podium
 * subnet that overlaps one of them. */
static int
add_host_lans(void)
{
	struct ifaddrs *ifa, *i;
	uint32_t a, m;
	int p;

	if (getifaddrs(&ifa) != 0)
		return -errno;
	for (i = ifa; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_netmask == NULL || i->ifa_addr->sa_family != AF_INET ||
		    strcmp(i->ifa_name, NET_BRIDGE) == 0 || (i->ifa_flags & IFF_LOOPBACK))
			continue;
		a = ntohl(((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr);
		m = ntohl(((struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr);
		p = __builtin_popcount(m);
		if (overlaps(a & m, p, net.net, net.prefix)) {
			char *c = cidr_text(a & m, p);
			error("egress: subnet overlaps %s on %s; set egress.subnet in config.yaml", c, i->ifa_name);
			free(c);
			freeifaddrs(ifa);
			return -EADDRINUSE;
		}
		deny4_add(cidr_text(a & m, p));
	}
	freeifaddrs(ifa);
	return 0;
}

static void
put_set(FILE *f, const char *name, const char *type, const char *const *a, size_t na, char *const *b,
    size_t nb)
{
	size_t i;

	fprintf(f, "  set %s {\n    type %s; flags interval; auto-merge;\n    elements = { ", name, type);
	for (i = 0; i < na + nb; i++)
		fprintf(f, "%s%s", i ? ", " : "", i < na ? a[i] : b[i - na]);
	fprintf(f, " }\n  }\n");
}

static int
write_ruleset(void)
{
	char *subnet = cidr_text(net.net, net.prefix), *gw = cidr_text(net.gw, 32);
	FILE *f = fopen(net.rules_path, "we");

	if (f == NULL) {
		free(subnet);
		free(gw);
		return -errno;
	}
	gw[strlen(gw) - 3] = '\0'; /* no "/32" */
	fprintf(f,
	    "# podium's egress rules (orchestrator/net.c); removed when podium stops.\n"
	    "table inet podium {\n");
	put_set(f, "deny4", "ipv4_addr", builtin_deny4, sizeof(builtin_deny4) / sizeof(*builtin_deny4),
	    net.deny4, net.ndeny4);
	put_set(f, "deny6", "ipv6_addr", builtin_deny6, sizeof(builtin_deny6) / sizeof(*builtin_deny6),
	    net.deny6, net.ndeny6);
	fprintf(f,
	    /* The host, on any address: only the DNS forwarder on the gateway. */
	    "  chain input {\n"
	    "    type filter hook input priority filter - 10; policy accept;\n"
	    "    iifname \"%s\" ip daddr %s udp dport 53 accept\n"
	    /* DNS over TCP is not forwarded: say so at once, not after a timeout */
	    "    iifname \"%s\" ip daddr %s tcp dport 53 reject with tcp reset\n"
	    "    iifname \"%s\" counter drop\n"
	    "  }\n"
	    /* Boxes are reached only through the proxy (inside their namespace). */
	    "  chain output {\n"
	    "    type filter hook output priority filter - 10; policy accept;\n"
	    "    oifname \"%s\" ct state established,related accept\n"
	    "    oifname \"%s\" counter drop\n"
	    "  }\n"
	    "  chain box_out {\n"
	    "    ip6 daddr @deny6 counter drop\n"
	    "    meta nfproto ipv6 counter drop\n"
	    "    ip daddr @deny4 counter drop\n"
	    "    oifname \"%s\" counter drop\n"
	    "    ip saddr %s counter accept\n"
	    "    counter drop\n"
	    "  }\n"
	    "  chain forward {\n"
	    "    type filter hook forward priority filter - 10; policy accept;\n"
	    "    iifname \"%s\" jump box_out\n"
	    "    oifname \"%s\" ct state established,related accept\n"
	    "    oifname \"%s\" counter drop\n",
	    NET_BRIDGE, gw, NET_BRIDGE, gw, NET_BRIDGE, NET_BRIDGE, NET_BRIDGE, NET_BRIDGE, subnet,
	    NET_BRIDGE, NET_BRIDGE, NET_BRIDGE);
	/* Forwarding was off: we turned it on for the boxes only, so nothing else
	 * may be forwarded. */
	if (net.forward_orig == 0)
		fprintf(f, "    counter drop\n");
	fprintf(f,
	    "  }\n"
	    "  chain postrouting {\n"
	    "    type nat hook postrouting priority srcnat; policy accept;\n"
	    "    ip saddr %s oifname != \"%s\" masquerade\n"
	    "  }\n"
	    "}\n"
	    /* Box to box: frames switched between two boxes' ports (podium-sandbox
	     * names them pd + the address in hex; meta ibrname is not in every kernel). */
	    "table bridge podium {\n"
	    "  chain forward {\n"
	    "    type filter hook forward priority filter; policy accept;\n"
	    "    iifname \"pd*\" oifname \"pd*\" counter drop\n"
	    "  }\n"
	    "}\n", subnet, NET_BRIDGE);
	free(subnet);
	free(gw);
	return fclose(f) == 0 ? 0 : -EIO;
}

/* The host's ip_forward, kept in the state file so a crash does not lose it
 * (the crashed daemon's "1" is not the host's own). */
static int
forward_save(void)
{
	char buf[16];
	int cur = 0, r;

	if (read_int_file(net.state_path, &net.forward_orig) == 0)
		return 0;
	if ((r = read_int_file(FORWARD_PATH, &cur)) != 0)
		return r;
	net.forward_orig = cur;
	snprintf(buf, sizeof(buf), "%d\n", cur);
	return fs_write_file(net.state_path, buf, strlen(buf), 0600);
}

static void
forward_restore(void)
{
	char buf[16];

	if (net.forward_orig < 0)
		return;
	snprintf(buf, sizeof(buf), "%d", net.forward_orig);
	fs_write_text(FORWARD_PATH, buf);
	unlink(net.state_path);
	net.forward_orig = -1;
}

static int
bridge_up(void)
{
	char *subnet = cidr_text(net.gw, net.prefix), *v6 = xasprintf("/proc/sys/net/ipv6/conf/%s/disable_ipv6",
	    NET_BRIDGE);
	unsigned char m[6];
	char mac[18];
	/* A fixed address: a bridge without one takes the lowest of its ports',
	 * which changes as boxes come and go, and the boxes' ARP entry for the
	 * gateway then points nowhere for seconds (a box's fetch timed out right
	 * after a build's box left). Locally administered, unicast, random. */
	char *add[] = { "ip", "link", "add", NET_BRIDGE, "address", mac, "type", "bridge", NULL };
	char *addr[] = { "ip", "addr", "add", subnet, "dev", NET_BRIDGE, NULL };
	char *up[] = { "ip", "link", "set", NET_BRIDGE, "up", NULL };
	int r;

	randombytes_buf(m, sizeof(m));
	m[0] = (unsigned char)((m[0] & 0xfe) | 0x02);
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	if ((r = child_run_argv(add, CHILD_INHERIT)) == 0) {
		fs_write_text(v6, "1"); /* no link-local address for boxes to find */
		if ((r = child_run_argv(addr, CHILD_INHERIT)) == 0)
			r = child_run_argv(up, CHILD_INHERIT);
	}
	free(subnet);
	free(v6);
	return r;
}

static int
setup(void)
{
	char *nft[] = { "nft", "-f", net.rules_path, NULL };
	int r;

	remove_objects();
	if ((r = add_host_lans()) != 0)
		return r;
	if ((r = forward_save()) != 0) {
		error("egress: cannot read %s: %s", FORWARD_PATH, strerror(-r));
		return r;
	}
	if ((r = bridge_up()) != 0) {
		error("egress: cannot create bridge %s (ip exited %d)", NET_BRIDGE, r);
		return -EIO;
	}
	if ((r = write_ruleset()) != 0 || (r = child_run_argv(nft, CHILD_INHERIT)) != 0) {
		error("egress: cannot load %s (nft: %d)", net.rules_path, r);
		return -EIO;
	}
	/* Only now, with the rules in place (they drop what the host did not
	 * forward before), is forwarding turned on. */
	if ((r = fs_write_text(FORWARD_PATH, "1")) != 0) {
		error("egress: cannot turn on %s: %s", FORWARD_PATH, strerror(-r));
		return r;
	}
	return 0;
}

/* The lock, state and ruleset files of our network namespace. */
static int
netns_paths(void)
{
	struct stat st;

	if (net.lock_path != NULL)
		return 0;
	if (stat("/proc/self/ns/net", &st) != 0)
		return -errno;
	net.lock_path = xasprintf("%s/net-%llu.lock", RUN_DIR, (unsigned long long)st.st_ino);
	net.state_path = xasprintf("%s/net-%llu.forward", RUN_DIR, (unsigned long long)st.st_ino);
	net.rules_path = xasprintf("%s/net-%llu.nft", RUN_DIR, (unsigned long long)st.st_ino);
	return 0;
}

static int
lock_netns(void)
{
	int r;

	if ((r = netns_paths()) != 0)
		return r;
	fs_mkdir_p(RUN_DIR, 0700);
	net.lock_fd = open(net.lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (net.lock_fd < 0)
		return -errno;
	if (flock(net.lock_fd, LOCK_EX | LOCK_NB) != 0) {
		close(net.lock_fd);
		net.lock_fd = -1;
		return -EBUSY;
	}
	return 0;
}

/* Egress off: still remove what a crashed daemon with egress on left in this
 * namespace (only when no live daemon holds the lock, and only if there is
 * something: no process spawned on a clean host). */
static void
clean_after_crash(void)
{
	struct stat st;

	if (geteuid() != 0 || netns_paths() != 0 ||
	    (if_nametoindex(NET_BRIDGE) == 0 && stat(net.state_path, &st) != 0))
		return; /* nothing left (the usual case): not even the lock file is made */
	if (lock_netns() != 0)
		return;
	remove_objects();
	if (read_int_file(net.state_path, &net.forward_orig) == 0)
		forward_restore();
	log_info("egress: removed what a previous podium left (bridge %s, tables 'podium')", NET_BRIDGE);
	close(net.lock_fd);
	net.lock_fd = -1;
}

int
net_start(uv_loop_t *loop, const char *data_dir, const config *config)
{
	char *subnet;
	int r;

	net.spaces_path = xasprintf("%s/egress.json", data_dir);
	if (read_config(config) != 0)
		return -1;
	spaces_load();
	if (!net.enabled) {
		log_info("egress: off (apps and builds get a network namespace with loopback only)");
		clean_after_crash();
		return 0;
	}
	net.enabled = 0;
	if (geteuid() != 0) {
		log_warn("egress: off: needs root (bridge, nftables)");
		return 0;
	}
	if ((r = lock_netns()) != 0) {
		log_warn("egress: off: %s", r == -EBUSY ? "another podium daemon manages egress in this network "
		    "namespace" : strerror(-r));
		return 0;
	}
	if (setup() != 0 || net_dns_start(loop, net.gw) != 0) {
		log_warn("egress: off: host setup failed; podium's objects removed again");
		net_stop();
		return 0;
	}
	net.enabled = 1;
	subnet = cidr_text(net.gw, net.prefix);
	snprintf(net.arg, sizeof(net.arg), "veth:%s,%s", NET_BRIDGE, subnet);
	log_info("egress: on. podium changed this host: bridge %s (%s, IPv6 off), nftables tables "
	    "'inet podium' and 'bridge podium' (%s; NAT for the boxes, denied ranges, box isolation), "
	    "net.ipv4.ip_forward=1 (was %d; put back at stop), DNS forwarder on %.*s:53. "
	    "All removed when podium stops.", NET_BRIDGE, subnet, net.rules_path, net.forward_orig,
	    (int)(strchr(subnet, '/') - subnet), subnet);
	free(subnet);
	return 0;
}

void
net_stop(void)
{
	size_t i;

	net_dns_stop();
	if (net.lock_fd >= 0) {
		remove_objects();
		forward_restore();
		if (net.enabled)
			log_info("egress: removed bridge %s and tables 'podium'; ip_forward put back", NET_BRIDGE);
		unlink(net.rules_path);
		close(net.lock_fd); /* the lock file stays: unlinking it would race a new daemon */
		net.lock_fd = -1;
	}
	net.enabled = 0;
	for (i = 0; i < net.ndeny4; i++)
		free(net.deny4[i]);
	for (i = 0; i < net.ndeny6; i++)
		free(net.deny6[i]);
	net.ndeny4 = net.ndeny6 = 0;
}

int
net_enabled(void)
{
	return net.enabled;
}

int
net_space_egress(unsigned host_uid)
{
	size_t i;

	for (i = 0; i < net.noff; i++)
		if (net.off[i] == host_uid)
			return 0;
	return 1;
}

int
net_space_set_egress(unsigned host_uid, int enabled)
{
	size_t i;

	if (enabled == net_space_egress(host_uid))
		return 0;
	if (enabled) {
		for (i = 0; i < net.noff; i++)
			if (net.off[i] == host_uid)
				net.off[i--] = net.off[--net.noff];
	} else {
		net.off = xrealloc(net.off, (net.noff + 1) * sizeof(*net.off));
		net.off[net.noff++] = host_uid;
	}
	return spaces_save();
}

void
net_spaces_prune(int (*used)(unsigned host_uid, void *arg), void *arg)
{
	size_t i, n = net.noff;

	for (i = 0; i < net.noff; i++)
		if (!used(net.off[i], arg))
			net.off[i--] = net.off[--net.noff];
	if (net.noff != n)
		spaces_save();
}

const char *
net_box_arg(unsigned host_uid)
{
	return net.enabled && net_space_egress(host_uid) ? net.arg : "none";
}

/* ---- counters --------------------------------------------------------------- */

json_t *
net_box_counters(int netns_fd)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
		char attrs[64];
	} req;
	char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct rtattr *a;
	struct nlmsghdr *h;
	json_t *out = NULL;
	ssize_t n;
	int fd, len;

	fd = netns_socket(netns_fd, AF_NETLINK, SOCK_RAW);
	if (fd < 0)
		return NULL;
	memset(&req, 0, sizeof(req));
	req.h.nlmsg_type = RTM_GETLINK;
	req.h.nlmsg_flags = NLM_F_REQUEST;
	req.i.ifi_family = AF_UNSPEC;
	a = (struct rtattr *)req.attrs;
	a->rta_type = IFLA_IFNAME;
	a->rta_len = RTA_LENGTH(5);
	memcpy(RTA_DATA(a), "eth0", 5);
	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(req.i)) + RTA_SPACE(5);
	if (send(fd, &req, req.h.nlmsg_len, 0) != (ssize_t)req.h.nlmsg_len)
		goto done;
	/* the socket is non-blocking: wait (briefly) for the kernel's answer */
	{
		struct pollfd pfd = { fd, POLLIN, 0 };

		if (poll(&pfd, 1, 200) != 1)
			goto done;
	}
	n = recv(fd, buf, sizeof(buf), 0);
	for (h = (struct nlmsghdr *)buf; n > 0 && NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
		if (h->nlmsg_type != RTM_NEWLINK)
			continue;
		len = (int)IFLA_PAYLOAD(h);
		for (a = IFLA_RTA(NLMSG_DATA(h)); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
			struct rtnl_link_stats64 st;

			if (a->rta_type != IFLA_STATS64 || RTA_PAYLOAD(a) < sizeof(st))
				continue;
			memcpy(&st, RTA_DATA(a), sizeof(st));
			out = json_pack("{s:I, s:I}", "tx_bytes", (json_int_t)st.tx_bytes,
			    "rx_bytes", (json_int_t)st.rx_bytes);
		}
	}
done:
	close(fd);
	return out;
}
