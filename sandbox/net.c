/*
 * Network namespace setup: a fresh namespace only has a down "lo".
 *
 * Creating a network namespace is the most expensive namespace by far
 * (~0.4 ms of pernet init work), so init does not get one from clone():
 * a helper thread unshares it and brings lo up while the main thread builds
 * the filesystem, and init joins it with setns() before anything of the
 * box runs.  The namespace is owned by the box's user namespace either way.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sandbox.h"

int sandbox_net_loopback_up(void)
{
  struct ifreq ifr;
  int fd, rc = 0;

  fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -errno;
  memset(&ifr, 0, sizeof(ifr));
  strcpy(ifr.ifr_name, "lo");
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0) {
    rc = -errno;
    goto cleanup;
  }
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0)
    rc = -errno;

cleanup:
  close(fd);
  return rc;
}

static void *net_thread(void *arg)
{
  struct sandbox_net_job *job = arg;
  int rc;

  /* Only this thread moves: the namespace is per task. */
  if (unshare(CLONE_NEWNET) != 0) {
    job->err = errno;
    job->step = "unshare CLONE_NEWNET";
    return NULL;
  }
  if ((rc = sandbox_net_loopback_up()) != 0) {
    job->err = -rc;
    job->step = "loopback up";
    return NULL;
  }
  /* Through an fd of /proc taken before the filesystem is rebuilt. */
  job->ns_fd = openat(job->proc_fd, "thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (job->ns_fd < 0) {
    job->err = errno;
    job->step = "open new netns";
  }
  return NULL;
}

int sandbox_net_start(struct sandbox_net_job *job)
{
  int rc;

  memset(job, 0, sizeof(*job));
  job->ns_fd = -1;
  job->proc_fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (job->proc_fd < 0)
    return -errno;
  if ((rc = pthread_create(&job->thread, NULL, net_thread, job)) != 0) {
    close(job->proc_fd);
    job->proc_fd = -1;
    return -rc;
  }
  job->started = true;
  return 0;
}

int sandbox_net_finish(struct sandbox_net_job *job, const char **step)
{
  int rc = 0;

  if (job->started) {
    pthread_join(job->thread, NULL);
    job->started = false;
  }
  if (job->proc_fd >= 0)
    close(job->proc_fd);
  job->proc_fd = -1;
  if (job->err != 0) {
    *step = job->step;
    rc = -job->err;
  } else if (setns(job->ns_fd, CLONE_NEWNET) != 0) {
    *step = "setns netns";
    rc = -errno;
  }
  if (job->ns_fd >= 0)
    close(job->ns_fd);
  job->ns_fd = -1;
  return rc;
}
