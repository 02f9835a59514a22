/*
 * relay PORT UPSTREAM_PORT THREADS: the floor for make bench-proxy.
 *
 * The least work a proxy writing each message with its own write(2) can do
 * per request on this kernel (podium batches its writes, see proxy/pio.c,
 * and can do less): bytes read from the client are written to its own
 * upstream connection and back, verbatim.  No HTTP parsing, no header rewriting, no routing, no limits,
 * no logging; one upstream connection per client connection; one epoll loop
 * per thread on a SO_REUSEPORT listener.  It is not a usable proxy (it
 * knows nothing of HTTP), it only shows what the kernel's side of
 * proxying costs here, so podium's and nginx's numbers can be read against
 * it.  Listens on 127.0.0.1:PORT, connects to 127.0.0.1:UPSTREAM_PORT in its
 * own network namespace (the bench runs it inside the app's).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF 65536

struct side {
  int fd;
  struct side *peer;
  char *pending; /* bytes read from this side not yet written to the peer */
  size_t off, len;
  struct side *next_dead; /* closed pairs are freed after the epoll batch */
};

static __thread struct side *dead; /* this loop's closed pairs */

static int listen_port, upstream_port;

static int tcp_socket(void)
{
  int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd >= 0)
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

static struct sockaddr_in loopback(int port)
{
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

/* Both sides go; the pair (one allocation) is freed once the current epoll
 * batch, which may still name the other side, is done. */
static void side_close(int ep, struct side *s)
{
  struct side *p = s->peer, *pair = s < p ? s : p;

  if (s->fd < 0)
    return;
  epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
  epoll_ctl(ep, EPOLL_CTL_DEL, p->fd, NULL);
  close(s->fd);
  close(p->fd);
  s->fd = p->fd = -1;
  pair->next_dead = dead;
  dead = pair;
}

/* Write what s holds to its peer; 1 when all is out, 0 when the peer's
 * buffer is full (wait for EPOLLOUT on it), -1 on error. */
static int flush(int ep, struct side *s)
{
  struct side *p = s->peer;
  struct epoll_event ev;

  while (s->off < s->len) {
    ssize_t n = write(p->fd, s->pending + s->off, s->len - s->off);
    if (n < 0 && errno == EAGAIN) {
      ev = (struct epoll_event){ .events = EPOLLOUT, .data.ptr = p };
      epoll_ctl(ep, EPOLL_CTL_MOD, p->fd, &ev);
      ev = (struct epoll_event){ .events = 0, .data.ptr = s };
      epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev);
      return 0;
    }
    if (n <= 0)
      return -1;
    s->off += (size_t)n;
  }
  s->off = s->len = 0;
  return 1;
}

static void on_readable(int ep, struct side *s, char *buf)
{
  ssize_t n = read(s->fd, buf, BUF), w;

  if (n <= 0) {
    if (n < 0 && errno == EAGAIN)
      return;
    side_close(ep, s);
    return;
  }
  w = write(s->peer->fd, buf, (size_t)n);
  if (w == n)
    return;
  if (w < 0 && errno != EAGAIN) {
    side_close(ep, s);
    return;
  }
  if (w < 0)
    w = 0;
  s->pending = realloc(s->pending, (size_t)(n - w));
  memcpy(s->pending, buf + w, (size_t)(n - w));
  s->off = 0;
  s->len = (size_t)(n - w);
  if (flush(ep, s) < 0)
    side_close(ep, s);
}

/* p became writable: finish the peer's pending bytes, resume reading it. */
static void on_writable(int ep, struct side *p)
{
  struct side *s = p->peer;
  struct epoll_event ev;
  int r = flush(ep, s);

  if (r < 0) {
    side_close(ep, s);
    return;
  }
  if (r == 1) {
    ev = (struct epoll_event){ .events = EPOLLIN, .data.ptr = p };
    epoll_ctl(ep, EPOLL_CTL_MOD, p->fd, &ev);
    ev = (struct epoll_event){ .events = EPOLLIN, .data.ptr = s };
    epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev);
  }
}

static void on_accept(int ep, int lfd)
{
  struct sockaddr_in up = loopback(upstream_port);
  struct epoll_event ev;
  struct side *pair;
  int c, u;

  while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
    int one = 1;

    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    /* A blocking connect on loopback: the bench's clients connect once
     * and keep their connections. */
    u = tcp_socket();
    if (u < 0 || connect(u, (struct sockaddr *)&up, sizeof(up)) != 0) {
      close(c);
      if (u >= 0)
        close(u);
      continue;
    }
    fcntl(u, F_SETFL, O_NONBLOCK);
    pair = calloc(2, sizeof(*pair));
    pair[0] = (struct side){ .fd = c, .peer = &pair[1] };
    pair[1] = (struct side){ .fd = u, .peer = &pair[0] };
    ev = (struct epoll_event){ .events = EPOLLIN, .data.ptr = &pair[0] };
    epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
    ev = (struct epoll_event){ .events = EPOLLIN, .data.ptr = &pair[1] };
    epoll_ctl(ep, EPOLL_CTL_ADD, u, &ev);
  }
}

static void *loop(void *arg)
{
  struct sockaddr_in a = loopback(listen_port);
  struct epoll_event ev, evs[256];
  char *buf = malloc(BUF);
  int one = 1, ep, lfd, i, n;
  struct side lmark;

  (void)arg;
  lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  setsockopt(lfd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(lfd, 4096) != 0) {
    perror("relay: listen");
    exit(1);
  }
  ep = epoll_create1(EPOLL_CLOEXEC);
  ev = (struct epoll_event){ .events = EPOLLIN, .data.ptr = &lmark };
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  for (;;) {
    n = epoll_wait(ep, evs, 256, -1);
    for (i = 0; i < n; i++) {
      struct side *s = evs[i].data.ptr;

      if (s == &lmark)
        on_accept(ep, lfd);
      else if (s->fd < 0)
        continue;
      else if (evs[i].events & EPOLLOUT)
        on_writable(ep, s);
      else
        on_readable(ep, s, buf);
    }
    while (dead != NULL) {
      struct side *pair = dead;

      dead = pair->next_dead;
      free(pair[0].pending);
      free(pair[1].pending);
      free(pair);
    }
  }
  return NULL;
}

int main(int argc, char **argv)
{
  pthread_t t;
  int i, threads;

  if (argc != 4) {
    fprintf(stderr, "usage: relay PORT UPSTREAM_PORT THREADS\n");
    return 2;
  }
  listen_port = atoi(argv[1]);
  upstream_port = atoi(argv[2]);
  threads = atoi(argv[3]);
  signal(SIGPIPE, SIG_IGN);
  for (i = 1; i < threads; i++)
    pthread_create(&t, NULL, loop, NULL);
  loop(NULL);
  return 0;
}
