/*
 * Network namespace setup: a fresh namespace only has a down "lo".
 *
 * The namespace is created by the command while init builds the
 * filesystem (it is by far the costliest namespace to create); init joins
 * it through the fd this returns, so /proc/<init>/ns/net is the box's.
 */
#include <errno.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sandbox/sandbox.h"

int
sandbox_net_create(int *ns_fd)
{
	struct ifreq ifr;
	int fd, rc = 0;

	*ns_fd = -1;
	if (unshare(CLONE_NEWNET) != 0)
		return -errno;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0) {
		rc = -errno;
		goto done;
	}
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0) {
		rc = -errno;
		goto done;
	}
	/* The socket's namespace, i.e. the new one (O_CLOEXEC is implied). */
	*ns_fd = ioctl(fd, SIOCGSKNS);
	if (*ns_fd < 0)
		rc = -errno;

done:
	close(fd);
	return rc;
}
