/* git_http.c — git smart HTTP, served by git's own `git http-backend` as a CGI.
 *
 * One request, from birth to death:
 *   builder_git_serve → (403 for a push that is not allowed) → spawn http-backend
 *   with the CGI environment → request body streamed into its stdin → its stdout
 *   parsed for the CGI header block, then streamed back as the response body →
 *   process exit → response end → for a receive-pack, on_pushed when main moved →
 *   free once every handle is closed and the exchange is done with us.
 *
 * A push also hears what it did: receive-pack runs the repository's post-receive
 * hook (repo.c, checked before every push), whose output git relays to the pusher
 * as "remote:" lines; the URLs it names come from here, in its environment.
 *
 * Back-pressure both ways: we pause reading the client while the CGI's stdin has
 * more than PIPE_HIGH bytes queued, and stop reading the CGI's stdout while the
 * client's queue holds more than RESP_HIGH bytes (resumed from on_drain). */
#include "builder/git.h"
#include "builder/builder_int.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "common/util.h"

#define PIPE_HIGH  (256 * 1024)
#define RESP_HIGH  (512 * 1024)
#define READ_CHUNK (64 * 1024)

typedef struct git_cgi {
	http_exchange *x;
	builder_git_req req;
	char *repo_path, *remote_user, *path_info;
	int receive_pack;            /* a push: compare main before and after */
	char head_before[41];

	uv_process_t proc;
	uv_pipe_t in, out, err;
	int handles;                 /* open libuv handles */
	size_t in_queued;            /* bytes written to stdin, not yet flushed */
	int in_open, in_shutdown;    /* stdin still accepting writes / EOF sent */
	int client_paused, out_paused;
	int proc_running, out_eof;
	int64_t exit_status;
	int term_signal;

	char *head;                  /* CGI header bytes until the block is complete */
	size_t head_len;
	int head_done;               /* response started */

	int body_done;               /* on_end or on_abort seen (or no body callbacks) */
	int aborted;                 /* client gone: touch neither x nor callbacks */
	int responded;               /* http_response_end / an error answer sent */
	char errbuf[512];            /* tail of stderr, for the log */
	size_t errlen;
} git_cgi;

typedef struct cgi_write {
	uv_write_t w;
	git_cgi *cgi;
	size_t len;
	char data[];
} cgi_write;

/* ---- CGI header block --------------------------------------------------------------- */

long
cgi_head_parse(const char *buf, size_t len, cgi_head *head)
{
	const char *end = NULL;
	char *s, *line, *save = NULL;
	size_t i, hlen;

	memset(head, 0, sizeof(*head));
	head->status = 200;
	head->content_length = -1;
	for (i = 0; i + 1 < len; i++) {
		if (buf[i] == '\n' && buf[i + 1] == '\n') {
			end = buf + i + 2;
			break;
		}
		if (buf[i] == '\n' && buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n') {
			end = buf + i + 3;
			break;
		}
	}
	if (end == NULL)
		return len > CGI_MAX_HEAD ? -1 : 0;
	hlen = (size_t)(end - buf);
	if (hlen > CGI_MAX_HEAD || memchr(buf, '\0', hlen) != NULL)
		return -1;
	head->storage = s = xstrndup(buf, hlen);
	for (line = strtok_r(s, "\r\n", &save); line != NULL; line = strtok_r(NULL, "\r\n", &save)) {
		char *colon = strchr(line, ':'), *value;

		if (colon == NULL || colon == line)
			goto fail;
		*colon = '\0';
		value = colon + 1 + strspn(colon + 1, " \t");
		if (strcasecmp(line, "Status") == 0) {
			char *e;
			long st = strtol(value, &e, 10);

			if (e == value || st < 100 || st > 599)
				goto fail;
			head->status = (int)st;
		} else if (strcasecmp(line, "Content-Length") == 0) {
			char *e;
			long long cl = strtoll(value, &e, 10);

			if (e == value || cl < 0)
				goto fail;
			head->content_length = cl;
		} else if (strcasecmp(line, "Transfer-Encoding") == 0 ||
		    strcasecmp(line, "Connection") == 0) {
			continue; /* framing belongs to our server */
		} else {
			if (head->nhdrs == CGI_MAX_HEADERS)
				goto fail;
			if (strcasecmp(line, "Location") == 0 && head->status == 200)
				head->status = 302;
			head->hdrs[head->nhdrs].name = line;
			head->hdrs[head->nhdrs].value = value;
			head->nhdrs++;
		}
	}
	return (long)hlen;
fail:
	cgi_head_release(head);
	return -1;
}

void
cgi_head_release(cgi_head *head)
{
	free(head->storage);
	head->storage = NULL;
	head->nhdrs = 0;
}

/* ---- lifetime ------------------------------------------------------------------------ */

static void
cgi_maybe_free(git_cgi *cgi)
{
	if (cgi->handles > 0 || !cgi->body_done || (!cgi->responded && !cgi->aborted))
		return;
	if (cgi->req.on_done != NULL)
		cgi->req.on_done(cgi->req.arg);
	free(cgi->head);
	free(cgi->repo_path);
	free(cgi->remote_user);
	free(cgi->path_info);
	free(cgi);
}

static void
handle_closed(uv_handle_t *h)
{
	git_cgi *cgi = h->data;

	cgi->handles--;
	cgi_maybe_free(cgi);
}

static void
close_handle(git_cgi *cgi, uv_handle_t *h)
{
	if (!uv_is_closing(h))
		uv_close(h, handle_closed);
}

static void
cgi_kill(git_cgi *cgi)
{
	if (cgi->proc_running)
		uv_process_kill(&cgi->proc, SIGKILL);
}

static void
stdin_close(git_cgi *cgi)
{
	if (!cgi->in_open)
		return;
	cgi->in_open = 0;
	close_handle(cgi, (uv_handle_t *)&cgi->in);
}

/* The response is complete once the CGI exited and its stdout reached EOF. */
static void
cgi_finish(git_cgi *cgi)
{
	char after[41];

	if (cgi->proc_running || !cgi->out_eof || cgi->responded || cgi->aborted)
		return;
	cgi->responded = 1;
	if (cgi->errlen > 0)
		log_warn("builder: git http-backend %s%s: %.*s", cgi->repo_path, cgi->req.path_info,
		    (int)cgi->errlen, cgi->errbuf);
	if (!cgi->head_done) {
		log_warn("builder: git http-backend exited (status %lld, signal %d) without a "
		    "response", (long long)cgi->exit_status, cgi->term_signal);
		http_respond_error(cgi->x, 502, "git backend failed");
	} else {
		http_response_end(cgi->x);
	}
	if (cgi->receive_pack && cgi->exit_status == 0 && cgi->term_signal == 0 &&
	    cgi->req.on_pushed != NULL && builder_repo_head(cgi->repo_path, after) == 0 &&
	    strcmp(after, cgi->head_before) != 0) {
		log_info("builder: push to %s moved main to %s", cgi->repo_path, after);
		cgi->req.on_pushed(cgi->req.arg, after);
	}
	cgi_maybe_free(cgi);
}

/* ---- request body → CGI stdin ---------------------------------------------------------- */

static void
stdin_written(uv_write_t *w, int status)
{
	cgi_write *cw = (cgi_write *)w;
	git_cgi *cgi = cw->cgi;

	cgi->in_queued -= cw->len;
	free(cw);
	if (status != 0) {
		/* The CGI stopped reading (it exited or failed); the rest of the body has
		 * nowhere to go and the response will tell the client what happened. */
		stdin_close(cgi);
	}
	if (cgi->client_paused && cgi->in_queued < PIPE_HIGH / 2 && !cgi->aborted &&
	    !cgi->body_done) {
		cgi->client_paused = 0;
		http_exchange_resume(cgi->x);
	}
}

static void
body_data(void *arg, const char *data, size_t len)
{
	git_cgi *cgi = arg;
	cgi_write *cw;
	uv_buf_t buf;

	if (!cgi->in_open || cgi->in_shutdown || len == 0)
		return;
	cw = xmalloc(sizeof(*cw) + len);
	cw->cgi = cgi;
	cw->len = len;
	memcpy(cw->data, data, len);
	buf = uv_buf_init(cw->data, (unsigned)len);
	if (uv_write(&cw->w, (uv_stream_t *)&cgi->in, &buf, 1, stdin_written) != 0) {
		free(cw);
		stdin_close(cgi);
		return;
	}
	cgi->in_queued += len;
	if (cgi->in_queued > PIPE_HIGH && !cgi->client_paused) {
		cgi->client_paused = 1;
		http_exchange_pause(cgi->x);
	}
}

static void
stdin_shut(uv_shutdown_t *req, int status)
{
	git_cgi *cgi = req->data;

	free(req);
	stdin_close(cgi);
}

static void
stdin_eof(git_cgi *cgi)
{
	uv_shutdown_t *req;

	if (!cgi->in_open || cgi->in_shutdown)
		return;
	cgi->in_shutdown = 1;
	req = xmalloc(sizeof(*req));
	req->data = cgi;
	/* Shutdown waits for the queued writes, then the CGI sees EOF. */
	if (uv_shutdown(req, (uv_stream_t *)&cgi->in, stdin_shut) != 0) {
		free(req);
		stdin_close(cgi);
	}
}

static void
body_end(void *arg)
{
	git_cgi *cgi = arg;

	cgi->body_done = 1;
	stdin_eof(cgi);
	cgi_maybe_free(cgi);
}

static void
body_abort(void *arg)
{
	git_cgi *cgi = arg;

	/* From here on the exchange is gone: no response, no on_pushed (the push may
	 * be half-applied; git's receive-pack only moves refs after a complete pack). */
	cgi->aborted = 1;
	cgi->body_done = 1;
	log_info("builder: client went away during git %s of %s", cgi->req.path_info,
	    cgi->repo_path);
	cgi_kill(cgi);
	stdin_close(cgi);
	if (!cgi->out_eof) {
		cgi->out_eof = 1;
		close_handle(cgi, (uv_handle_t *)&cgi->out);
	}
	cgi_maybe_free(cgi);
}

/* ---- CGI stdout → response ---------------------------------------------------------------- */

static void
read_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	buf->base = xmalloc(READ_CHUNK);
	buf->len = READ_CHUNK;
}

static void out_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

static void
body_drain(void *arg)
{
	git_cgi *cgi = arg;

	if (cgi->out_paused && !cgi->out_eof && !cgi->aborted) {
		cgi->out_paused = 0;
		uv_read_start((uv_stream_t *)&cgi->out, read_alloc, out_read);
	}
}

static void
response_write(git_cgi *cgi, const char *data, size_t len)
{
	if (len == 0)
		return;
	if (http_response_write(cgi->x, data, len) != 0) {
		/* The client is gone; on_abort follows and cleans up. Stop feeding. */
		cgi_kill(cgi);
		return;
	}
	if (http_response_queued(cgi->x) > RESP_HIGH && !cgi->out_paused) {
		cgi->out_paused = 1;
		uv_read_stop((uv_stream_t *)&cgi->out);
	}
}

static void
head_feed(git_cgi *cgi, const char *data, size_t len)
{
	cgi_head head;
	long used;

	cgi->head = xrealloc(cgi->head, cgi->head_len + len);
	memcpy(cgi->head + cgi->head_len, data, len);
	cgi->head_len += len;
	used = cgi_head_parse(cgi->head, cgi->head_len, &head);
	if (used == 0)
		return;
	if (used < 0) {
		log_warn("builder: git http-backend: malformed CGI header");
		cgi_kill(cgi);
		cgi->head_len = 0;
		return; /* answered with 502 in cgi_finish */
	}
	cgi->head_done = 1;
	if (http_response_start(cgi->x, head.status, head.hdrs, head.nhdrs,
	    head.content_length) != 0) {
		cgi_head_release(&head);
		cgi_kill(cgi);
		return;
	}
	cgi_head_release(&head);
	response_write(cgi, cgi->head + used, cgi->head_len - (size_t)used);
	free(cgi->head);
	cgi->head = NULL;
	cgi->head_len = 0;
}

static void
out_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	git_cgi *cgi = s->data;

	if (n > 0 && !cgi->aborted) {
		if (cgi->head_done)
			response_write(cgi, buf->base, (size_t)n);
		else
			head_feed(cgi, buf->base, (size_t)n);
	}
	free(buf->base);
	if (n >= 0)
		return;
	if (!cgi->out_eof) {
		cgi->out_eof = 1;
		close_handle(cgi, (uv_handle_t *)s);
	}
	cgi_finish(cgi);
}

static void
err_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	git_cgi *cgi = s->data;

	if (n > 0) {
		/* Keep the last bytes: git's complaint is at the end. */
		size_t take = (size_t)n > sizeof(cgi->errbuf) ? sizeof(cgi->errbuf) : (size_t)n;
		const char *src = buf->base + n - take;

		if (cgi->errlen + take > sizeof(cgi->errbuf)) {
			size_t drop = cgi->errlen + take - sizeof(cgi->errbuf);

			memmove(cgi->errbuf, cgi->errbuf + drop, cgi->errlen - drop);
			cgi->errlen -= drop;
		}
		memcpy(cgi->errbuf + cgi->errlen, src, take);
		cgi->errlen += take;
	}
	free(buf->base);
	if (n < 0)
		close_handle(cgi, (uv_handle_t *)s);
}

static void
proc_exited(uv_process_t *proc, int64_t exit_status, int term_signal)
{
	git_cgi *cgi = proc->data;

	cgi->proc_running = 0;
	cgi->exit_status = exit_status;
	cgi->term_signal = term_signal;
	close_handle(cgi, (uv_handle_t *)proc);
	/* Whatever the CGI left unread of the body is dropped from now on. */
	stdin_close(cgi);
	cgi_finish(cgi);
}

/* ---- spawning ---------------------------------------------------------------------------- */

static int
is_receive_pack(const char *path_info, const char *query)
{
	const char *q;

	if (strcmp(path_info, "/git-receive-pack") == 0)
		return 1;
	if (strcmp(path_info, "/info/refs") != 0)
		return 0;
	for (q = query; q != NULL && *q != '\0'; q = strchr(q, '&'), q = q != NULL ? q + 1 : NULL)
		if (strncmp(q, "service=git-receive-pack", 24) == 0 && (q[24] == '\0' || q[24] == '&'))
			return 1;
	return 0;
}

static char *
env_pair(const char *name, const char *value)
{
	return xasprintf("%s=%s", name, value != NULL ? value : "");
}

static int
cgi_spawn(git_cgi *cgi, const http_request *r)
{
	char *env[28], *base, *root, *slash;
	const char *v;
	char *args[] = { "git", "http-backend", NULL };
	uv_process_options_t opts;
	uv_stdio_container_t stdio[3];
	int n = 0, i, rc;

	root = xstrdup(cgi->repo_path);
	slash = strrchr(root, '/');
	if (slash == NULL || slash[1] == '\0') {
		free(root);
		return -EINVAL;
	}
	base = slash + 1;
	*slash = '\0';
	env[n++] = env_pair("GIT_PROJECT_ROOT", root[0] != '\0' ? root : "/");
	env[n++] = xasprintf("PATH_INFO=/%s%s", base, cgi->req.path_info);
	free(root);
	env[n++] = env_pair("REQUEST_METHOD", r->method);
	env[n++] = env_pair("QUERY_STRING", r->query);
	env[n++] = env_pair("GIT_HTTP_EXPORT_ALL", "1");
	env[n++] = env_pair("PATH", getenv("PATH") != NULL ? getenv("PATH") : "/usr/bin:/bin");
	env[n++] = env_pair("SERVER_PROTOCOL", "HTTP/1.1");
	env[n++] = env_pair("GATEWAY_INTERFACE", "CGI/1.1");
	env[n++] = env_pair("REMOTE_ADDR", r->client_addr);
	/* Our own repositories, owned by the daemon's user: no safe.directory check
	 * surprises if the data directory changes hands. */
	env[n++] = env_pair("GIT_CONFIG_COUNT", "1");
	env[n++] = env_pair("GIT_CONFIG_KEY_0", "safe.directory");
	env[n++] = env_pair("GIT_CONFIG_VALUE_0", "*");
	env[n++] = env_pair("GIT_CONFIG_NOSYSTEM", "1");
	env[n++] = env_pair("HOME", "/nonexistent");
	/* For the post-receive hook, which git runs with the backend's environment. */
	if (cgi->receive_pack && cgi->req.app_url != NULL)
		env[n++] = env_pair("PODIUM_APP_URL", cgi->req.app_url);
	if (cgi->receive_pack && cgi->req.build_log_url != NULL)
		env[n++] = env_pair("PODIUM_BUILD_LOG_URL", cgi->req.build_log_url);
	if (cgi->remote_user != NULL && cgi->remote_user[0] != '\0')
		env[n++] = env_pair("REMOTE_USER", cgi->remote_user);
	if ((v = http_request_header(r, "Content-Type")) != NULL)
		env[n++] = env_pair("CONTENT_TYPE", v);
	/* Without CONTENT_LENGTH http-backend reads the body to EOF, which is what a
	 * chunked push (large packs) needs. */
	if (r->content_length >= 0 && !r->chunked)
		env[n++] = xasprintf("CONTENT_LENGTH=%lld", (long long)r->content_length);
	if ((v = http_request_header(r, "Content-Encoding")) != NULL)
		env[n++] = env_pair("HTTP_CONTENT_ENCODING", v);
	if ((v = http_request_header(r, "Git-Protocol")) != NULL)
		env[n++] = env_pair("HTTP_GIT_PROTOCOL", v);
	env[n] = NULL;

	uv_pipe_init(uv_default_loop(), &cgi->in, 0);
	uv_pipe_init(uv_default_loop(), &cgi->out, 0);
	uv_pipe_init(uv_default_loop(), &cgi->err, 0);
	cgi->in.data = cgi->out.data = cgi->err.data = cgi->proc.data = cgi;
	cgi->handles = 3;
	stdio[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE;
	stdio[0].data.stream = (uv_stream_t *)&cgi->in;
	stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[1].data.stream = (uv_stream_t *)&cgi->out;
	stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[2].data.stream = (uv_stream_t *)&cgi->err;
	memset(&opts, 0, sizeof(opts));
	opts.file = "git";
	opts.args = args;
	opts.env = env;
	opts.stdio = stdio;
	opts.stdio_count = 3;
	opts.exit_cb = proc_exited;
	rc = uv_spawn(uv_default_loop(), &cgi->proc, &opts);
	for (i = 0; i < n; i++)
		free(env[i]);
	cgi->handles++; /* the process handle must be closed even when spawn failed */
	if (rc != 0) {
		cgi->out_eof = 1;
		close_handle(cgi, (uv_handle_t *)&cgi->proc);
		close_handle(cgi, (uv_handle_t *)&cgi->in);
		close_handle(cgi, (uv_handle_t *)&cgi->out);
		close_handle(cgi, (uv_handle_t *)&cgi->err);
		return rc;
	}
	cgi->proc_running = 1;
	cgi->in_open = 1;
	uv_read_start((uv_stream_t *)&cgi->out, read_alloc, out_read);
	uv_read_start((uv_stream_t *)&cgi->err, read_alloc, err_read);
	return 0;
}

void
builder_git_serve(http_exchange *x, const builder_git_req *req)
{
	const http_request *r = http_exchange_request(x);
	http_body_cb cb;
	git_cgi *cgi;
	int rc;

	if (!req->allow_push && is_receive_pack(req->path_info, r->query)) {
		http_respond_error(x, 403, "push not allowed");
		if (req->on_done != NULL)
			req->on_done(req->arg);
		return;
	}
	if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "POST") != 0 &&
	    strcmp(r->method, "HEAD") != 0) {
		http_respond_error(x, 405, "method not allowed");
		if (req->on_done != NULL)
			req->on_done(req->arg);
		return;
	}
	/* A CGI that dies while we still write its stdin must not kill the daemon. */
	signal(SIGPIPE, SIG_IGN);

	cgi = xcalloc(1, sizeof(*cgi));
	cgi->x = x;
	cgi->req = *req;
	cgi->repo_path = xstrdup(req->repo_path);
	cgi->remote_user = req->remote_user != NULL ? xstrdup(req->remote_user) : NULL;
	cgi->req.repo_path = cgi->repo_path;
	cgi->req.remote_user = cgi->remote_user;
	cgi->path_info = xstrdup(req->path_info);
	cgi->req.path_info = cgi->path_info;
	cgi->receive_pack = is_receive_pack(req->path_info, r->query) &&
	    strcmp(r->method, "POST") == 0;
	if (cgi->receive_pack && builder_repo_head(cgi->repo_path, cgi->head_before) != 0)
		cgi->head_before[0] = '\0'; /* first push: any main is new */
	/* A repository from an older podium gets its hook now; without one the push
	 * still works, only silently. */
	if (cgi->receive_pack)
		builder_repo_hooks(cgi->repo_path);

	rc = cgi_spawn(cgi, r);
	/* The caller's strings: used by cgi_spawn only. */
	cgi->req.app_url = cgi->req.build_log_url = NULL;
	if (rc != 0) {
		error("builder: cannot run git http-backend: %s", uv_strerror(rc));
		cgi->body_done = 1;
		cgi->responded = 1;
		http_respond_error(x, 500, "cannot run git");
		return; /* freed when the handles have closed */
	}
	memset(&cb, 0, sizeof(cb));
	cb.on_data = body_data;
	cb.on_end = body_end;
	cb.on_abort = body_abort;
	cb.on_drain = body_drain;
	cb.arg = cgi;
	http_exchange_set_body_cb(x, &cb);
	/* No body expected (GET): http-backend gets EOF at once. */
	if (strcmp(r->method, "POST") != 0)
		stdin_eof(cgi);
}
