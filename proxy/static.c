/* static.c — files of a ROUTE_STATIC release, served by podium itself.
 *
 * Paths are resolved with fs_open_beneath (openat2 RESOLVE_BENEATH)
 * under the release directory, so neither ".." nor a symlink can leave it.
 * Files are streamed in 64 KiB pieces as the client's write queue drains;
 * reads are plain pread(2) on the loop (release files are small and hot in the
 * page cache; a slow disk would be the place for the uv_fs thread pool).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "proxy/proxy_int.h"
#include "common/util.h"

static const struct { const char *ext, *type; } mime_types[] = {
	{ "html", "text/html; charset=utf-8" }, { "htm", "text/html; charset=utf-8" },
	{ "css", "text/css; charset=utf-8" }, { "js", "text/javascript; charset=utf-8" },
	{ "mjs", "text/javascript; charset=utf-8" }, { "json", "application/json" },
	{ "map", "application/json" }, { "txt", "text/plain; charset=utf-8" },
	{ "md", "text/markdown; charset=utf-8" }, { "csv", "text/csv; charset=utf-8" },
	{ "xml", "application/xml" }, { "svg", "image/svg+xml" }, { "png", "image/png" },
	{ "jpg", "image/jpeg" }, { "jpeg", "image/jpeg" }, { "gif", "image/gif" },
	{ "webp", "image/webp" }, { "avif", "image/avif" }, { "ico", "image/x-icon" },
	{ "wasm", "application/wasm" }, { "woff", "font/woff" }, { "woff2", "font/woff2" },
	{ "ttf", "font/ttf" }, { "otf", "font/otf" }, { "pdf", "application/pdf" },
	{ "mp4", "video/mp4" }, { "webm", "video/webm" }, { "mp3", "audio/mpeg" },
	{ "wav", "audio/wav" }, { "ogg", "audio/ogg" }, { "zip", "application/zip" },
	{ "gz", "application/gzip" }, { "glb", "model/gltf-binary" },
	{ "gltf", "model/gltf+json" }, { "webmanifest", "application/manifest+json" },
	{ NULL, NULL },
};

static const char *
mime_type(const char *path)
{
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');

	if (dot == NULL || (slash != NULL && dot < slash))
		return "application/octet-stream";
	for (int i = 0; mime_types[i].ext != NULL; i++)
		if (strcasecmp(dot + 1, mime_types[i].ext) == 0)
			return mime_types[i].type;
	return "application/octet-stream";
}

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Percent-decodes path into out; -EINVAL on NUL bytes, bad escapes or ".."
 * segments (openat2 would refuse them too; this keeps the answer a 404). */
static int
path_decode(const char *path, size_t n, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int ch = (unsigned char)path[i];

		if (ch == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return -EINVAL;
			hi = hexval(path[i + 1]);
			lo = hexval(path[i + 2]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			ch = hi * 16 + lo;
			i += 2;
		}
		if (ch == '\0' || o + 1 >= outlen)
			return -EINVAL;
		out[o++] = (char)ch;
	}
	out[o] = '\0';
	for (char *p = out; (p = strstr(p, "..")) != NULL; p += 2)
		if ((p == out || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
			return -EINVAL;
	return 0;
}

/* The responder's state (conn_ops: c->resp): the file being sent. */
typedef struct static_file {
	int fd;
	uint64_t remaining;
} static_file;

/* done, abort, or the last byte sent: the file is closed. */
static void
static_release(proxy_conn *c)
{
	static_file *sf = c->resp;

	close(sf->fd);
	free(sf);
	conn_responder_set(c, NULL, NULL);
}

/* The next pieces, while the client takes them as fast as they come. */
static void
static_pump(proxy_conn *c, size_t queued)
{
	static_file *sf = c->resp;
	char *buf = c->lp->filebuf;

	while (!c->closing && conn_queued(c) == 0) {
		size_t want = sf->remaining < PROXY_READ_BUF ? sf->remaining : PROXY_READ_BUF;
		ssize_t n;

		if (want == 0) {
			static_release(c);
			conn_resp_end(c);
			return;
		}
		n = read(sf->fd, buf, want);
		if (n <= 0) {
			/* the file shrank under us: the length we promised is a lie */
			static_release(c);
			conn_abort(c);
			return;
		}
		sf->remaining -= (uint64_t)n;
		if (conn_resp_body(c, buf, (size_t)n) != 0)
			return;
	}
}

static const conn_ops static_ops = {
	.drained = static_pump,
	.done = static_release,
	.abort = static_release,
};

static void
http_date(time_t t, char *out, size_t n)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, n, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* The open file fd (st) as the response: 304 when the client has it, the
 * head alone for HEAD, else its bytes as the client takes them (static_ops). */
static void
static_send(proxy_conn *c, int fd, const struct stat *st, const char *ctype)
{
	char lm[64];
	const char *ims = conn_header(c, "if-modified-since");
	http_header h[2];
	static_file *sf;

	http_date(st->st_mtime, lm, sizeof(lm));
	h[0] = (http_header){ "Content-Type", ctype };
	h[1] = (http_header){ "Last-Modified", lm };
	if (ims != NULL && strcmp(ims, lm) == 0) {
		close(fd);
		conn_resp_start(c, 304, NULL, &h[1], 1, -1);
		conn_resp_end(c);
		return;
	}
	if (conn_resp_start(c, 200, NULL, h, 2, (int64_t)st->st_size) != 0 || c->is_head_req ||
	    st->st_size == 0) {
		close(fd);
		if (!c->closing)
			conn_resp_end(c);
		return;
	}
	sf = xmalloc(sizeof(*sf));
	sf->fd = fd;
	sf->remaining = (uint64_t)st->st_size;
	conn_responder_set(c, &static_ops, sf);
	static_pump(c, 0);
}

/* GET or HEAD of a file of the release (a directory's index.html). */
void
static_serve(proxy_conn *c)
{
	const char *url = c->url, *q = strchr(url, '?');
	size_t plen = q != NULL ? (size_t)(q - url) : strlen(url);
	char path[4096];
	const char *rel, *ctype;
	struct stat st;
	int root, fd = -1;

	if (strcmp(c->method, "GET") != 0 && strcmp(c->method, "HEAD") != 0) {
		http_header allow = { "Allow", "GET, HEAD" };

		conn_respond_error(c, 405, "method not allowed", &allow, 1);
		return;
	}
	if (path_decode(url, plen, path, sizeof(path)) != 0 || path[0] != '/') {
		conn_respond_error(c, 404, "not found", NULL, 0);
		return;
	}
	root = open(c->target->static_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0) {
		conn_respond_error(c, 404, "not found", NULL, 0);
		return;
	}
	rel = path + 1;
	while (*rel == '/')
		rel++;
	fd = fs_open_beneath(root, *rel == '\0' ? "." : rel, O_RDONLY | O_NONBLOCK);
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		int ifd;

		if (path[strlen(path) - 1] != '/') {
			/* /dir → /dir/ so that relative links in index.html work */
			char *loc = xasprintf("%.*s/%s%s", (int)plen, url, q != NULL ? "?" : "",
			    q != NULL ? q + 1 : "");
			http_header l = { "Location", loc };

			close(fd);
			close(root);
			conn_respond_error(c, 301, "moved", &l, 1);
			free(loc);
			return;
		}
		ifd = fs_open_beneath(fd, "index.html", O_RDONLY | O_NONBLOCK);
		close(fd);
		fd = ifd;
		if (fd >= 0 && fstat(fd, &st) != 0) {
			close(fd);
			fd = -1;
		}
		ctype = "text/html; charset=utf-8";
	} else {
		ctype = mime_type(path);
	}
	close(root);
	if (fd < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		conn_respond_error(c, fd == -EACCES ? 403 : 404, "not found", NULL, 0);
		return;
	}
	static_send(c, fd, &st, ctype);
}
