/* Unit tests for the liveness check's HTTP probe (cmocka): any response head is
 * alive, a socket that accepts connections but never answers is not (the kernel
 * completes handshakes on a listen backlog by itself), nor one that answers in
 * something other than HTTP. Real sockets on 127.0.0.1, in our own netns. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include <uv.h>

#include "orchestrator/host/http_probe.h"
#include "common/util.h"

struct server {
	int lfd, port;
	const char *reply;  /* NULL: accept, then close without a word */
	int accept_it;      /* 0: never accept (the kernel's backlog still completes connects) */
	pthread_t thread;
};

static void *
server_main(void *arg)
{
	struct server *s = arg;
	char buf[1024];
	int c = accept(s->lfd, NULL, NULL);

	if (c < 0)
		return NULL;
	if (s->reply != NULL) {
		ssize_t n = read(c, buf, sizeof(buf));
		(void)n;
		n = write(c, s->reply, strlen(s->reply));
		(void)n;
	}
	close(c);
	return NULL;
}

static void
server_start(struct server *s, const char *reply, int accept_it)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);

	s->reply = reply;
	s->accept_it = accept_it;
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->lfd >= 0);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s->lfd, 8), 0);
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&sa, &len), 0);
	s->port = ntohs(sa.sin_port);
	if (accept_it)
		assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
}

static void
server_stop(struct server *s)
{
	if (s->accept_it)
		pthread_join(s->thread, NULL);
	close(s->lfd);
}

static void
probe_done(int result, void *arg)
{
	int *out = arg;

	*out = result;
}

static int self_netns = -1;

/* Runs one probe to port and returns its result (1 if the callback never ran). */
static int
probe_port(int port, unsigned timeout_ms)
{
	uv_loop_t loop;
	http_probe *p;
	int result = 1, r;

	uv_loop_init(&loop);
	r = http_probe_start(&loop, self_netns, port, timeout_ms, probe_done, &result, &p);
	assert_int_equal(r, 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0); /* every handle closed */
	return result;
}

static int
setup(void **state)
{
	int fd;

	(void)state;
	self_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self_netns < 0)
		return -1;
	/* setns() needs CAP_SYS_ADMIN, even into our own namespace. */
	fd = netns_socket(self_netns, AF_INET, SOCK_STREAM);
	if (fd < 0) {
		fprintf(stderr, "http_probe tests need CAP_SYS_ADMIN (setns): %s\n", strerror(-fd));
		close(self_netns);
		self_netns = -1;
		return 0;
	}
	close(fd);
	return 0;
}

#define NEED_NETNS() do { if (self_netns < 0) skip(); } while (0)

static void
test_any_status_is_alive(void **state)
{
	struct server s;

	(void)state;
	NEED_NETNS();
	server_start(&s, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", 1);
	assert_int_equal(probe_port(s.port, 5000), 0);
	server_stop(&s);
	server_start(&s, "HTTP/1.0 200 OK\r\n\r\nhello", 1);
	assert_int_equal(probe_port(s.port, 5000), 0);
	server_stop(&s);
}

static void
test_accepting_socket_that_never_answers_is_dead(void **state)
{
	struct server s;

	(void)state;
	NEED_NETNS();
	server_start(&s, NULL, 0); /* listening, never accepted: connects still succeed */
	assert_int_equal(probe_port(s.port, 300), -ETIMEDOUT);
	server_stop(&s);
}

static void
test_not_http_is_dead(void **state)
{
	struct server s;

	(void)state;
	NEED_NETNS();
	server_start(&s, "SSH-2.0-OpenSSH_9.2\r\n", 1);
	assert_int_equal(probe_port(s.port, 5000), -EPROTO);
	server_stop(&s);
}

static void
test_closed_or_refused_is_dead(void **state)
{
	struct server s;
	int port;

	(void)state;
	NEED_NETNS();
	server_start(&s, NULL, 1); /* accepts, closes without a word */
	assert_int_equal(probe_port(s.port, 5000), -ECONNRESET);
	server_stop(&s);
	port = s.port; /* nothing listens there any more */
	assert_int_equal(probe_port(port, 5000), -ECONNREFUSED);
}

static void
test_cancel_calls_nothing(void **state)
{
	struct server s;
	uv_loop_t loop;
	http_probe *p;
	int result = 1;

	(void)state;
	NEED_NETNS();
	server_start(&s, NULL, 0);
	uv_loop_init(&loop);
	assert_int_equal(http_probe_start(&loop, self_netns, s.port, 5000, probe_done, &result, &p), 0);
	http_probe_cancel(p);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	assert_int_equal(result, 1);
	server_stop(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_any_status_is_alive),
		cmocka_unit_test(test_accepting_socket_that_never_answers_is_dead),
		cmocka_unit_test(test_not_http_is_dead),
		cmocka_unit_test(test_closed_or_refused_is_dead),
		cmocka_unit_test(test_cancel_calls_nothing),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
