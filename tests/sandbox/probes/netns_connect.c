/*
 * netns_connect HOSTPID PORT: what the orchestrator does to reach an app
 * in a --net none box: setns() into /proc/HOSTPID/ns/net, connect to
 * 127.0.0.1:PORT, print what the server sends.  Exit 0 on success.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
  char path[64], buf[256];
  struct sockaddr_in sa = { .sin_family = AF_INET };
  ssize_t n;
  int ns, fd;

  if (argc != 3)
    return 2;
  snprintf(path, sizeof(path), "/proc/%s/ns/net", argv[1]);
  ns = open(path, O_RDONLY | O_CLOEXEC);
  if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) {
    perror("setns");
    return 1;
  }
  fd = socket(AF_INET, SOCK_STREAM, 0);
  sa.sin_port = htons((unsigned short)atoi(argv[2]));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
    perror("connect");
    return 1;
  }
  n = read(fd, buf, sizeof(buf) - 1);
  if (n < 0) {
    perror("read");
    return 1;
  }
  buf[n] = '\0';
  printf("%s", buf);
  return 0;
}
