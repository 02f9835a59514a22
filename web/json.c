/* json.c — the API's answers (JSON, errors as {"error": ...}) and its request
 * bodies (a JSON object, collected before the handler runs), plus the decoding of
 * URL pieces. */
#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "orchestrator/space.h"
#include "web/web_int.h"

#define API_MAX_BODY ((size_t)1 << 20)

static int
json_answer(http_exchange *x, int status, json_t *body, const http_header *h, size_t nh,
    size_t flags)
{
	char *text = body != NULL ? json_dumps(body, JSON_COMPACT | flags) : NULL;
	int r;

	json_decref(body);
	if (text == NULL) {
		/* json_pack refuses strings that are not UTF-8: never a crash */
		static const char fallback[] = "{\"error\":\"internal error: the answer could not be encoded\"}";

		log_msg(LOG_ERROR, "web: a JSON answer could not be encoded (status %d)", status);
		return http_respond(x, 500, "application/json", NULL, 0, fallback, sizeof(fallback) - 1);
	}
	r = http_respond(x, status, "application/json", h, nh, text, strlen(text));
	free(text);
	return r;
}

int
web_json(http_exchange *x, int status, json_t *body)
{
	return json_answer(x, status, body, NULL, 0, 0);
}

int
web_json_with(http_exchange *x, int status, json_t *body, const http_header *h, size_t nh)
{
	return json_answer(x, status, body, h, nh, 0);
}

/* {"error": MESSAGE} with status, and X-Error-Code: code unless NULL. Bytes of
 * the message that are not UTF-8 (it quotes what the client sent: paths, names),
 * or a character cut at the end, become '?'. */
static int
error_answer(http_exchange *x, int status, const char *code, const char *fmt, va_list ap)
{
	http_header h = { "X-Error-Code", code };
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	utf8_scrub(msg);
	return json_answer(x, status, json_pack("{s:s}", "error", msg), &h, code != NULL ? 1 : 0,
	    code != NULL ? JSON_ENSURE_ASCII : 0);
}

int
web_json_error(http_exchange *x, int status, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = error_answer(x, status, NULL, fmt, ap);
	va_end(ap);
	return r;
}

void
web_not_found(http_exchange *x, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_answer(x, 404, code, fmt, ap);
	va_end(ap);
}

void
web_json_unauthorized(http_exchange *x, const char *msg)
{
	static const http_header h = { "WWW-Authenticate", "Bearer" };

	json_answer(x, 401, json_pack("{s:s}", "error", msg), &h, 1, 0);
}

/* ---- bodies ---- */

static void
body_data(void *arg, const char *data, size_t len)
{
	web_call *c = arg;

	if (c->body_too_big || c->body_len + len > (c->body_max > 0 ? c->body_max : API_MAX_BODY)) {
		c->body_too_big = 1;
		return;
	}
	c->body = xrealloc(c->body, c->body_len + len + 1);
	memcpy(c->body + c->body_len, data, len);
	c->body_len += len;
	c->body[c->body_len] = '\0';
}

/* The call's space again: it may have been deleted while the body came. */
static int
space_again(web_call *c)
{
	if (c->s == NULL || (c->s = web_path_space(c)) != NULL)
		return 0;
	web_json_error(c->x, 404, "space %s/%s not found", web_param(c, "owner"), web_param(c, "name"));
	return -1;
}

static void
body_end(void *arg)
{
	web_call *c = arg;
	json_error_t jerr;
	json_t *j;

	if (c->body_too_big) {
		web_json_error(c->x, 413, "request body larger than %zu bytes", c->body_max > 0 ?
		    c->body_max : API_MAX_BODY);
	} else if (c->body_len == 0) {
		web_json_error(c->x, 400, "request body must be a JSON object");
	} else if ((j = json_loadb(c->body, c->body_len, 0, &jerr)) == NULL) {
		web_json_error(c->x, 400, "invalid JSON at line %d column %d: %s", jerr.line,
		    jerr.column, jerr.text);
	} else if (!json_is_object(j)) {
		json_decref(j);
		web_json_error(c->x, 400, "request body must be a JSON object");
	} else {
		if (space_again(c) == 0)
			c->body_handler(c, j);
		json_decref(j);
	}
	web_call_free(c);
}

static void
body_abort(void *arg)
{
	web_call_free(arg);
}

void
web_with_body(web_call *c, web_body_handler h)
{
	http_body_cb cb = { body_data, body_end, body_abort, NULL, c };

	if (c->user == NULL) {
		web_json_unauthorized(c->x, "authentication required: send Authorization: Bearer TOKEN");
		return;
	}
	c->kept = 1;
	c->body_handler = h;
	http_exchange_set_body_cb(c->x, &cb);
}

/* ---- URL pieces ---- */

char *
web_escape(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0);
	char *out = xstrdup(e != NULL ? e : "");

	curl_free(e);
	return out;
}

char *
web_unescape(const char *s)
{
	int n = 0;
	char *d = curl_easy_unescape(NULL, s, 0, &n);
	char *out;

	if (d == NULL)
		return NULL;
	out = memchr(d, '\0', (size_t)n) == NULL ? xstrndup(d, (size_t)n) : NULL;
	curl_free(d);
	return out;
}

/* key's value in query, decoded; form: '+' stands for a space too. */
static char *
query_value(const char *query, const char *key, int form)
{
	size_t k = strlen(key);

	for (const char *q = query; q != NULL && *q != '\0';) {
		size_t n = strcspn(q, "&");

		if (n > k && strncmp(q, key, k) == 0 && q[k] == '=') {
			char *raw = xstrndup(q + k + 1, n - k - 1), *v;

			for (char *c = raw; form && *c != '\0'; c++)
				if (*c == '+')
					*c = ' ';
			v = web_unescape(raw);
			free(raw);
			return v;
		}
		q += n;
		if (*q == '&')
			q++;
	}
	return NULL;
}

char *
web_query_get(const char *query, const char *key)
{
	return query_value(query, key, 0);
}

char *
web_form_get(const char *query, const char *key)
{
	return query_value(query, key, 1);
}
