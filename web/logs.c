/* logs.c — build and run logs of a space over HTTP.
 *
 * GET /api/spaces/OWNER/NAME/logs/{build,run}: a plain-text snapshot, or, when the
 * client accepts text/event-stream (as the Hub's log endpoints serve them), a
 * Server-Sent Events stream: every line as `data: {"data": LINE, "timestamp": T}`,
 * following the file as it grows. A build log stream ends once no build runs; a run
 * log stream follows until the client goes away (or STREAM_MAX_MS).
 *
 * T is when the line was written (its stamp in the file, logfile.h), not when the
 * stream read it: a late reader sees old lines at their own times. Both forms give
 * the lines without the stamps, as the build or the app printed them. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/logfile.h"
#include "orchestrator/space.h"
#include "common/util.h"
#include "web/web_int.h"

#define POLL_MS 200
#define STREAM_MAX_MS (60 * 60 * 1000)
#define QUEUE_HIGH (1 << 20)
#define LINE_MAX_BYTES 8192

typedef struct log_stream {
	podium *p;
	http_exchange *x;
	char *owner, *name, *path;
	int build;           /* a build log: ends when the build is over */
	int fd;
	char pending[LINE_MAX_BYTES];
	size_t npending;
	int cut;             /* pending continues a line cut at LINE_MAX_BYTES */
	char stamp[LOG_TIME_LEN + 1]; /* the time of the line being sent */
	uv_timer_t timer;
	uint64_t started_ms;
	int done;            /* response ended or client gone */
	int timer_closed;
	int body_over;       /* on_end or on_abort came: no callback will follow */
} log_stream;

/* Freed once the timer is closed and the exchange calls back no more: a
 * request body still being read after the stream ended (http.h) ends with
 * on_end or on_abort, which must find the stream. */
static void
stream_free(log_stream *ls)
{
	if (!ls->timer_closed || !ls->body_over)
		return;
	if (ls->fd >= 0)
		close(ls->fd);
	free(ls->owner);
	free(ls->name);
	free(ls->path);
	free(ls);
}

static void
stream_closed(uv_handle_t *h)
{
	log_stream *ls = h->data;

	ls->timer_closed = 1;
	stream_free(ls);
}

static void
stream_finish(log_stream *ls, int respond)
{
	if (ls->done)
		return;
	ls->done = 1;
	if (respond)
		http_response_end(ls->x);
	uv_timer_stop(&ls->timer);
	uv_close((uv_handle_t *)&ls->timer, stream_closed);
}

/* One event per line; a line longer than LINE_MAX_BYTES goes out in pieces that
 * all carry the time of its first byte. */
static void
send_line(log_stream *ls, const char *line, size_t len)
{
	json_t *j;
	char *text, *ev;

	if (!ls->cut && logfile_stamp_valid(line, len)) {
		memcpy(ls->stamp, line, LOG_TIME_LEN);
		line += LOGFILE_STAMP_LEN;
		len -= LOGFILE_STAMP_LEN;
	} else if (!ls->cut) {
		log_time(ls->stamp); /* a line nobody stamped: the best we know is now */
	}
	ls->stamp[LOG_TIME_LEN] = '\0';
	j = json_pack("{s:s%, s:s}", "data", line, len, "timestamp", ls->stamp);
	if (j == NULL) /* not UTF-8: say so rather than drop the line silently */
		j = json_pack("{s:s, s:s}", "data", "(line is not valid UTF-8)", "timestamp", ls->stamp);
	text = json_dumps(j, JSON_COMPACT);
	ev = xasprintf("data: %s\n\n", text);
	http_response_write(ls->x, ev, strlen(ev));
	free(ev);
	free(text);
	json_decref(j);
}

/* Whether the path now names another file than the one we read, and that file
 * has begun: instance.c rotated the app log (app.log → app.log.1, then a new
 * app.log), or a new build started a new build log. */
static int
log_replaced(log_stream *ls)
{
	struct stat now, ours;

	return stat(ls->path, &now) == 0 && fstat(ls->fd, &ours) == 0 && now.st_size > 0 &&
	    (now.st_ino != ours.st_ino || now.st_dev != ours.st_dev);
}

/* Sends every complete line that was appended since the last call; once the file
 * is read to its end and replaced, goes on with the new one. */
static void
stream_pump(log_stream *ls)
{
	char buf[65536];
	ssize_t n;

	for (;;) {
		if (ls->fd < 0 && (ls->fd = open(ls->path, O_RDONLY | O_CLOEXEC)) < 0)
			return;
		n = -1;
		while (http_response_queued(ls->x) < QUEUE_HIGH &&
		    (n = read(ls->fd, buf, sizeof(buf))) > 0) {
			for (ssize_t i = 0; i < n; i++) {
				char c = buf[i];
				if (c == '\n' || ls->npending == sizeof(ls->pending)) {
					send_line(ls, ls->pending, ls->npending);
					ls->npending = 0;
					ls->cut = c != '\n';
					if (c == '\n')
						continue;
				}
				if (c != '\r')
					ls->pending[ls->npending++] = c;
			}
		}
		if (n != 0 || !log_replaced(ls))
			return;
		close(ls->fd);
		if ((ls->fd = open(ls->path, O_RDONLY | O_CLOEXEC)) < 0)
			return;
		/* A line the old file left open either goes on in the new one (a rotation
		 * carries it over, unstamped) or ended with it (the new file starts with a
		 * stamp, written together with its line's first bytes). */
		if (ls->npending > 0 && (n = pread(ls->fd, buf, LOGFILE_STAMP_LEN, 0)) > 0 &&
		    logfile_stamp_valid(buf, (size_t)n)) {
			send_line(ls, ls->pending, ls->npending);
			ls->npending = 0;
			ls->cut = 0;
		}
	}
}

static int
space_building(log_stream *ls)
{
	space *s = space_find(ls->p, ls->owner, ls->name);

	if (s == NULL)
		return 0;
	json_t *rt = space_runtime_json(s);
	const char *stage = json_string_value(json_object_get(rt, "stage"));
	int building = stage != NULL && strstr(stage, "BUILDING") != NULL;
	json_decref(rt);
	return building;
}

static void
stream_tick(uv_timer_t *t)
{
	log_stream *ls = t->data;
	int building = ls->build ? space_building(ls) : 1;

	stream_pump(ls);
	if (ls->build && !building && http_response_queued(ls->x) < QUEUE_HIGH) {
		/* The build is over: flush what it wrote last, then end. */
		stream_pump(ls);
		if (ls->npending > 0)
			send_line(ls, ls->pending, ls->npending);
		stream_finish(ls, 1);
		return;
	}
	if (space_find(ls->p, ls->owner, ls->name) == NULL ||
	    now_ms() - ls->started_ms > STREAM_MAX_MS)
		stream_finish(ls, 1);
}

static void
stream_abort(void *arg)
{
	log_stream *ls = arg;

	stream_finish(ls, 0);
	ls->body_over = 1;
	stream_free(ls);
}

static void
stream_body_end(void *arg)
{
	log_stream *ls = arg;

	ls->body_over = 1;
	stream_free(ls);
}

static void
logs_stream(web_call *c, int build)
{
	podium *p = c->p;
	http_exchange *x = c->x;
	space *s = c->s;
	const http_request *r = c->r;
	const char *accept = http_request_header(r, "accept");
	char *path = build ? space_build_log_path(p, s) : space_app_log_path(p, s);
	http_header h[] = { { "Content-Type", "text/event-stream" }, { "Cache-Control", "no-cache" },
		{ "X-Accel-Buffering", "no" } };
	http_body_cb cb = { NULL, stream_body_end, stream_abort, NULL, NULL };
	log_stream *ls;

	if (accept == NULL || strstr(accept, "text/event-stream") == NULL) {
		char *text = NULL;
		size_t len = 0;
		int rc = fs_read_file(path, &text, &len, 64 << 20);
		if (rc == 0)
			len = logfile_strip(text, len);
		if (rc == 0 || rc == -ENOENT)
			http_respond(x, 200, "text/plain; charset=utf-8", NULL, 0, rc == 0 ? text : "",
			    rc == 0 ? len : 0);
		else
			web_json_error(x, 500, "cannot read the log: %s", strerror(-rc));
		free(text);
		free(path);
		return;
	}
	ls = xcalloc(1, sizeof(*ls));
	ls->p = p;
	ls->x = x;
	ls->owner = xstrdup(space_owner(s));
	ls->name = xstrdup(space_name(s));
	ls->path = path;
	ls->build = build;
	ls->fd = -1;
	ls->started_ms = now_ms();
	uv_timer_init(p->loop, &ls->timer);
	ls->timer.data = ls;
	cb.arg = ls;
	http_exchange_set_body_cb(x, &cb);
	http_response_start(x, 200, h, 3, -1);
	stream_pump(ls);
	uv_timer_start(&ls->timer, stream_tick, POLL_MS, POLL_MS);
}

void
web_logs_build(web_call *c)
{
	logs_stream(c, 1);
}

void
web_logs_run(web_call *c)
{
	logs_stream(c, 0);
}
