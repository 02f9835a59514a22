/* http_probe.c — one HTTP request to an app inside its network namespace (see
 * http_probe.h). The response is framed by llhttp; only its head matters. */
#include "orchestrator/host/http_probe.h"

#include <errno.h>
#include <llhttp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"

struct http_probe {
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_connect_t connect;
	uv_write_t write;
	llhttp_t parser;
	http_probe_cb cb;
	void *arg;
	int head_done;
	int finished;
	int open_handles;
	char req[128];
	char buf[4096];
};

static llhttp_settings_t resp_settings;
static int resp_settings_ready;

static int
on_headers_complete(llhttp_t *parser)
{
	http_probe *p = parser->data;

	p->head_done = 1;
	return HPE_PAUSED; /* the body does not matter */
}

static void
handle_closed(uv_handle_t *h)
{
	http_probe *p = h->data;

	if (--p->open_handles == 0)
		free(p);
}

/* Reports once, then closes both handles; the probe is freed in the last close. */
static void
probe_finish(http_probe *p, int result)
{
	http_probe_cb cb = p->cb;

	if (p->finished)
		return;
	p->finished = 1;
	p->cb = NULL;
	uv_close((uv_handle_t *)&p->tcp, handle_closed);
	uv_close((uv_handle_t *)&p->timer, handle_closed);
	if (cb != NULL)
		cb(result, p->arg);
}

static void
timer_fired(uv_timer_t *t)
{
	probe_finish(t->data, -ETIMEDOUT);
}

static void
alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	http_probe *p = h->data;

	(void)suggested;
	*buf = uv_buf_init(p->buf, sizeof(p->buf));
}

static void
read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	http_probe *p = s->data;
	llhttp_errno_t err;

	if (p->finished)
		return;
	if (n < 0) {
		probe_finish(p, n == UV_EOF ? -ECONNRESET : (int)n);
		return;
	}
	err = llhttp_execute(&p->parser, buf->base, (size_t)n);
	if (p->head_done)
		probe_finish(p, 0);
	else if (err != HPE_OK)
		probe_finish(p, -EPROTO);
}

static void
write_cb(uv_write_t *w, int status)
{
	http_probe *p = w->data;

	/* A failed write shows as a failed read too; the server may also have
	 * answered before reading the request, which still counts. */
	(void)p;
	(void)status;
}

static void
connected(uv_connect_t *c, int status)
{
	http_probe *p = c->data;
	uv_buf_t b = uv_buf_init(p->req, (unsigned)strlen(p->req));

	if (p->finished)
		return;
	if (status != 0) {
		probe_finish(p, status);
		return;
	}
	p->write.data = p;
	if ((status = uv_write(&p->write, (uv_stream_t *)&p->tcp, &b, 1, write_cb)) != 0 ||
	    (status = uv_read_start((uv_stream_t *)&p->tcp, alloc_cb, read_cb)) != 0)
		probe_finish(p, status);
}

int
http_probe_start(uv_loop_t *loop, int netns_fd, int port, unsigned timeout_ms,
    http_probe_cb cb, void *arg, http_probe **out)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	http_probe *p;
	int fd, r;

	fd = netns_socket(netns_fd, AF_INET, SOCK_STREAM);
	if (fd < 0)
		return fd;
	if (!resp_settings_ready) {
		llhttp_settings_init(&resp_settings);
		resp_settings.on_headers_complete = on_headers_complete;
		resp_settings_ready = 1;
	}
	p = xcalloc(1, sizeof(*p));
	p->cb = cb;
	p->arg = arg;
	snprintf(p->req, sizeof(p->req), "GET " HTTP_PROBE_PATH " HTTP/1.1\r\nHost: localhost:%d\r\n"
	    "User-Agent: " HTTP_PROBE_MARK "\r\nConnection: close\r\n\r\n", port);
	llhttp_init(&p->parser, HTTP_RESPONSE, &resp_settings);
	p->parser.data = p;
	uv_tcp_init(loop, &p->tcp);
	uv_timer_init(loop, &p->timer);
	p->tcp.data = p->timer.data = p->connect.data = p;
	p->open_handles = 2;
	if ((r = uv_tcp_open(&p->tcp, fd)) != 0) {
		close(fd);
		goto fail;
	}
	if ((r = uv_tcp_connect(&p->connect, &p->tcp, (struct sockaddr *)&sa, connected)) != 0)
		goto fail;
	uv_timer_start(&p->timer, timer_fired, timeout_ms, 0);
	*out = p;
	return 0;
fail:
	/* No callback for a probe that never started. */
	p->cb = NULL;
	probe_finish(p, r);
	return r;
}

void
http_probe_cancel(http_probe *p)
{
	p->cb = NULL;
	probe_finish(p, -ECANCELED);
}
