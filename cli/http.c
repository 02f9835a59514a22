/* http.c — the client's requests to the hub, through libcurl. */
#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/util.h"

#define CONNECT_TIMEOUT_S 10L
#define REQUEST_TIMEOUT_S 600L  /* uploads of a big folder included */

static void
cli_curl_init(void)
{
	static int done;

	if (!done) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		done = 1;
	}
}

void
cli_resp_release(cli_resp *r)
{
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

int
cli_error(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("podium: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

static size_t
collect(char *data, size_t size, size_t n, void *arg)
{
	cli_resp *r = arg;
	size_t len = size * n;

	r->body = xrealloc(r->body, r->len + len + 1);
	memcpy(r->body + r->len, data, len);
	r->len += len;
	r->body[r->len] = '\0';
	return len;
}

static CURL *
easy_new(const cli_ctx *c, const char *path, struct curl_slist **hdrs, const char *accept)
{
	CURL *h = curl_easy_init();
	char *url = xasprintf("%s%s", c->hub, path);

	cli_curl_init();
	curl_easy_setopt(h, CURLOPT_URL, url);
	free(url);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "podium-cli");
	/* only the hub's own scheme: a redirect never takes the token elsewhere */
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	if (c->token != NULL) {
		char *auth = xasprintf("Authorization: Bearer %s", c->token);

		*hdrs = curl_slist_append(*hdrs, auth);
		free(auth);
	}
	if (accept != NULL) {
		char *a = xasprintf("Accept: %s", accept);

		*hdrs = curl_slist_append(*hdrs, a);
		free(a);
	}
	return h;
}

int
cli_http(const cli_ctx *c, const char *method, const char *path, const char *ctype,
    const void *body, size_t len, cli_resp *r)
{
	struct curl_slist *hdrs = NULL;
	CURL *h;
	CURLcode e;

	memset(r, 0, sizeof(*r));
	h = easy_new(c, path, &hdrs, "application/json");
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, REQUEST_TIMEOUT_S);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	if (body != NULL) {
		char *ct = xasprintf("Content-Type: %s", ctype != NULL ? ctype : "application/json");

		hdrs = curl_slist_append(hdrs, ct);
		free(ct);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	e = curl_easy_perform(h);
	if (e == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	else
		snprintf(r->error, sizeof(r->error), "%s", curl_easy_strerror(e));
	if (r->body == NULL)
		r->body = xstrdup("");
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	return e == CURLE_OK ? 0 : CLI_EUNREACHABLE;
}

typedef struct stream_ctx {
	int (*cb)(const char *data, size_t len, void *arg);
	void *arg;
	CURL *h;
} stream_ctx;

static size_t
stream_write(char *data, size_t size, size_t n, void *arg)
{
	stream_ctx *s = arg;
	long status = 0;

	curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 300)
		return size * n; /* an error body: dropped, the status says it */
	return s->cb(data, size * n, s->arg) == 0 ? size * n : 0;
}

int
cli_http_stream(const cli_ctx *c, const char *path, const char *accept,
    int (*cb)(const char *data, size_t len, void *arg), void *arg, long *status)
{
	struct curl_slist *hdrs = NULL;
	stream_ctx s = { cb, arg, NULL };
	CURLcode e;

	s.h = easy_new(c, path, &hdrs, accept);
	curl_easy_setopt(s.h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(s.h, CURLOPT_WRITEFUNCTION, stream_write);
	curl_easy_setopt(s.h, CURLOPT_WRITEDATA, &s);
	e = curl_easy_perform(s.h);
	*status = 0;
	curl_easy_getinfo(s.h, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(s.h);
	/* stopped by the callback: not an error */
	return e == CURLE_OK || e == CURLE_WRITE_ERROR ? 0 : CLI_EUNREACHABLE;
}

json_t *
cli_resp_json(const cli_resp *r)
{
	return r->body != NULL ? json_loadb(r->body, r->len, 0, NULL) : NULL;
}

int
cli_report(const cli_ctx *c, const cli_resp *r, const char *what)
{
	json_t *j;
	const char *msg;
	int code;

	if (r->status == 0)
		return cli_error(CLI_EUNREACHABLE, "%s: cannot reach the hub at %s: %s", what, c->hub,
		    r->error);
	j = cli_resp_json(r);
	msg = json_string_value(json_object_get(j, "error"));
	code = r->status == 401 ? CLI_EAUTH :
	    r->status == 404 ? CLI_ENOTFOUND : CLI_EFAIL;
	if (r->status == 401 && c->token == NULL)
		cli_error(code, "%s: not logged in: run `podium login` or set PODIUM_TOKEN", what);
	else
		cli_error(code, "%s: %s (HTTP %ld)", what, msg != NULL ? msg : "the hub refused", r->status);
	json_decref(j);
	return code;
}
