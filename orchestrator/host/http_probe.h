/* http_probe.h — one HTTP request to an app inside its network namespace: is it
 * answering?  Used by the instance's liveness check.
 *
 * Alive means a complete response head came back (any status, 500 included)
 * within the timeout.  A TCP connect alone proves nothing: the kernel completes
 * handshakes on a listening socket's backlog even when the process behind it is
 * stopped or wedged.
 *
 * Life: http_probe_start → cb(result, arg) exactly once, unless http_probe_cancel
 * was called first → the probe frees itself once its handles have closed. */
#ifndef PODIUM_HTTP_PROBE_H
#define PODIUM_HTTP_PROBE_H

#include <uv.h>

typedef struct http_probe http_probe;

/* result: 0 alive; -ETIMEDOUT no answer in time; -EPROTO not HTTP; another -errno
 * when the connection failed or closed before a response head. */
typedef void (*http_probe_cb)(int result, void *arg);

/* What the probe asks for: the app's root, with a query that names podium, so the
 * line an app's access log writes for it can be told from its visitors' (the
 * instance keeps such lines out of the app's log). */
#define HTTP_PROBE_MARK "podium-liveness"
#define HTTP_PROBE_PATH "/?" HTTP_PROBE_MARK

/* GET HTTP_PROBE_PATH on 127.0.0.1:port inside netns_fd (borrowed), User-Agent
 * podium-liveness. 0 or -errno (then cb is never called). */
int http_probe_start(uv_loop_t *loop, int netns_fd, int port, unsigned timeout_ms,
    http_probe_cb cb, void *arg, http_probe **out);
/* cb will not be called; the probe closes and frees itself. */
void http_probe_cancel(http_probe *p);

#endif
