/* proxy: the pure HTTP rules of request.c, http_out.c and upstream.c — which
 * request heads pass, how a response is delimited, which fields go on to the
 * app and back to the client (cmocka). */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>

#include "proxy/upstream_int.h"

#define NH(a) (sizeof(a) / sizeof((a)[0]))

static http_request
req(const char *method, const char *url, int minor, const http_header *h, size_t n)
{
	http_request r;

	memset(&r, 0, sizeof(r));
	r.method = method;
	r.url = url;
	r.http_major = 1;
	r.http_minor = minor;
	r.headers = h;
	r.nheaders = n;
	r.content_length = -1;
	r.client_addr = "192.0.2.7";
	return r;
}

/* The status request_head_check answers r with (0: it passes), and why. */
static int
check(const http_request *r, const char **why)
{
	const char *host;

	*why = NULL;
	return request_head_check(r, &host, why);
}

static void
test_request_head_passes(void **state)
{
	http_header h[] = { { "Host", "alice-demo.localhost:8080" }, { "Accept", "*/*" } };
	http_request r = req("GET", "/x?y=1", 1, h, NH(h));
	const char *host = NULL, *why = NULL;

	(void)state;
	assert_int_equal(request_head_check(&r, &host, &why), 0);
	assert_string_equal(host, "alice-demo.localhost:8080");
	/* HTTP/1.0 may leave Host out */
	r = req("GET", "/", 0, h + 1, 1);
	assert_int_equal(request_head_check(&r, &host, &why), 0);
	assert_null(host);
	/* OPTIONS * */
	r = req("OPTIONS", "*", 1, h, 1);
	assert_int_equal(check(&r, &why), 0);
	/* chunked alone, whatever its case and blanks */
	http_header te[] = { { "Host", "h" }, { "Transfer-Encoding", " Chunked " } };
	r = req("POST", "/", 1, te, NH(te));
	r.chunked = 1;
	assert_int_equal(check(&r, &why), 0);
}

static void
test_request_head_refused(void **state)
{
	static const http_header host[] = { { "Host", "h" } };
	static const http_header two[] = { { "Host", "a" }, { "host", "b" } };
	static const http_header empty[] = { { "Host", "h" }, { "", "v" } };
	static const http_header te[] = { { "Host", "h" }, { "Transfer-Encoding", "chunked" } };
	static const http_header gz[] = { { "Host", "h" },
		{ "Transfer-Encoding", "gzip, chunked" } };
	static const http_header te2[] = { { "Host", "h" },
		{ "Transfer-Encoding", "gzip, chunked" }, { "Transfer-Encoding", "chunked" } };
	static const struct {
		const char *method, *url;
		int major, minor, chunked;
		const http_header *h;
		size_t n;
		int status;
		const char *why;
	} t[] = {
		{ "GET", "/", 1, 1, 0, NULL, 0, 400, "missing Host header" },
		{ "GET", "/", 1, 1, 0, two, NH(two), 400, "duplicate Host header" },
		/* an empty name is found before anything else, the version included */
		{ "GET", "/", 2, 1, 0, empty, NH(empty), 400, "empty header field name" },
		{ "GET", "/", 2, 0, 0, host, NH(host), 505, "HTTP version not supported" },
		{ "POST", "/", 1, 0, 1, te, NH(te), 400, "Transfer-Encoding on HTTP/1.0" },
		/* llhttp did not see chunked last */
		{ "POST", "/", 1, 1, 0, te, NH(te), 400,
		  "Transfer-Encoding without chunked as the last coding" },
		{ "POST", "/", 1, 1, 1, gz, NH(gz), 501, "unsupported Transfer-Encoding: only chunked" },
		/* the first Transfer-Encoding field is the one judged */
		{ "POST", "/", 1, 1, 1, te2, NH(te2), 501,
		  "unsupported Transfer-Encoding: only chunked" },
		{ "CONNECT", "/", 1, 1, 0, host, NH(host), 405, "CONNECT is not supported" },
		{ "GET", "http://h/", 1, 1, 0, host, NH(host), 400,
		  "absolute-form request target not supported" },
	};

	(void)state;
	for (size_t i = 0; i < NH(t); i++) {
		http_request r = req(t[i].method, t[i].url, t[i].minor, t[i].h, t[i].n);
		const char *why;

		r.http_major = t[i].major;
		r.chunked = t[i].chunked;
		assert_int_equal(check(&r, &why), t[i].status);
		assert_string_equal(why, t[i].why);
	}
}

static void
test_resp_framing(void **state)
{
	static const struct {
		int status, head, minor;
		int64_t len;
		int want_len, no_body, chunked, close_delimited;
	} t[] = {
		{ 200, 0, 1, 5, 1, 0, 0, 0 },
		{ 200, 0, 1, -1, 0, 0, 1, 0 },     /* no length, 1.1: chunked */
		{ 200, 0, 0, -1, 0, 0, 0, 1 },     /* no length, 1.0: the close ends it */
		{ 200, 1, 1, 5, 1, 1, 0, 0 },      /* HEAD: the length of the GET, no body */
		{ 200, 1, 0, -1, 0, 1, 0, 0 },
		{ 204, 0, 1, 0, 0, 1, 0, 0 },      /* never a Content-Length */
		{ 304, 0, 1, 12, 0, 1, 0, 0 },
		{ 304, 0, 1, -1, 0, 1, 0, 0 },
		{ 101, 0, 1, -1, 0, 1, 0, 0 },
		{ 103, 0, 1, 3, 0, 1, 0, 0 },
		{ 404, 0, 1, 0, 1, 0, 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < NH(t); i++) {
		resp_out out;

		memset(&out, 0xff, sizeof(out));
		assert_int_equal(resp_framing(&out, t[i].status, t[i].head, t[i].minor, t[i].len),
		    t[i].want_len);
		assert_int_equal(out.no_body, t[i].no_body);
		assert_int_equal(out.chunked, t[i].chunked);
		assert_int_equal(out.close_delimited, t[i].close_delimited);
	}
}

static void
test_body_bufs(void **state)
{
	char hdr[HTTP_CHUNK_HDR], data[26];
	uv_buf_t b[3];

	(void)state;
	memset(data, 'a', sizeof(data));
	assert_int_equal(body_bufs(b, hdr, data, sizeof(data), 0), 1);
	assert_ptr_equal(b[0].base, data);
	assert_int_equal(b[0].len, 26);
	assert_int_equal(body_bufs(b, hdr, data, sizeof(data), 1), 3);
	assert_int_equal(b[0].len, 4);
	assert_memory_equal(b[0].base, "1a\r\n", 4);
	assert_ptr_equal(b[1].base, data);
	assert_int_equal(b[2].len, 2);
	assert_memory_equal(b[2].base, "\r\n", 2);
}

static void
test_hop_by_hop(void **state)
{
	(void)state;
	assert_true(header_is_hop_by_hop("Connection", NULL));
	assert_true(header_is_hop_by_hop("keep-alive", NULL));
	assert_true(header_is_hop_by_hop("TE", NULL));
	assert_true(header_is_hop_by_hop("Content-Length", NULL)); /* framing is ours */
	assert_false(header_is_hop_by_hop("Content-Type", NULL));
	/* and what Connection names, case aside */
	assert_true(header_is_hop_by_hop("X-Secret", "close,  x-secret"));
	assert_true(header_is_hop_by_hop("x-secret", "X-SECRET"));
	assert_false(header_is_hop_by_hop("X-Secret", "x-secret-2, close"));
	assert_false(header_is_hop_by_hop("X-Sec", "x-secret"));
	assert_true(te_is_chunked("chunked"));
	assert_true(te_is_chunked(" \tCHUNKED\t"));
	assert_false(te_is_chunked("gzip, chunked"));
	assert_false(te_is_chunked("chunked, gzip"));
	assert_false(te_is_chunked(""));
}

static void
test_request_head_to_app(void **state)
{
	http_header h[] = {
		{ "Host", "alice-demo.localhost:8080" },
		{ "Connection", "keep-alive, X-Hop, Host" },
		{ "X-Hop", "1" },
		{ "Keep-Alive", "timeout=5" },
		{ "X-Forwarded-For", "203.0.113.1" },
		{ "x-forwarded-for", "203.0.113.2" },
		{ "X-Forwarded-Proto", "https" },
		{ "X-Forwarded-Host", "evil" },
		{ "Expect", "100-continue" },
		{ "Authorization", "Bearer pdm_x" },
		{ "Content-Length", "3" },
		{ "Accept", "*/*" },
	};
	http_request r = req("POST", "/api?x=1", 1, h, NH(h));
	size_t len;
	char *head;

	(void)state;
	r.content_length = 3;
	head = upstream_request_head(&r, 1, 0, &len);
	assert_string_equal(head,
	    "POST /api?x=1 HTTP/1.1\r\n"
	    "Host: alice-demo.localhost:8080\r\n"
	    "Accept: */*\r\n"
	    "X-Forwarded-For: 203.0.113.1, 203.0.113.2, 192.0.2.7\r\n"
	    "X-Forwarded-Proto: http\r\n"
	    "X-Forwarded-Host: alice-demo.localhost:8080\r\n"
	    "Content-Length: 3\r\n"
	    "\r\n");
	assert_int_equal(len, strlen(head));
	free(head);

	/* an app's own Authorization goes through; a chunked body stays chunked */
	http_header h2[] = { { "Host", "h" }, { "Authorization", "Basic YTpi" },
		{ "Transfer-Encoding", "chunked" } };
	r = req("PUT", "/", 1, h2, NH(h2));
	r.chunked = 1;
	head = upstream_request_head(&r, 0, 0, &len);
	assert_string_equal(head,
	    "PUT / HTTP/1.1\r\nHost: h\r\nAuthorization: Basic YTpi\r\n"
	    "X-Forwarded-For: 192.0.2.7\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n");
	free(head);

	/* an upgrade asks for itself again; without one Upgrade is hop-by-hop */
	http_header h3[] = { { "Host", "h" }, { "Connection", "Upgrade" },
		{ "Upgrade", "websocket" }, { "Sec-WebSocket-Key", "k" } };
	r = req("GET", "/ws", 1, h3, NH(h3));
	head = upstream_request_head(&r, 0, 1, &len);
	assert_string_equal(head,
	    "GET /ws HTTP/1.1\r\nHost: h\r\nSec-WebSocket-Key: k\r\n"
	    "X-Forwarded-For: 192.0.2.7\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\n"
	    "Connection: upgrade\r\nUpgrade: websocket\r\n\r\n");
	free(head);
	head = upstream_request_head(&r, 0, 0, &len);
	assert_null(strstr(head, "pgrade"));
	free(head);
}

/* Issue 21.9: a podium token reaches no app, in any header and any spelling;
 * values that only look alike go through. */
#define TOK "hf_0123456789abcdef0123456789abcdef0123456789abcdef"

static char *
b64(const char *s, int variant)
{
	size_t n = sodium_base64_encoded_len(strlen(s), variant);
	char *out = malloc(n);

	sodium_bin2base64(out, n, (const unsigned char *)s, strlen(s), variant);
	return out;
}

static void
test_request_head_drops_tokens(void **state)
{
	char *basic = b64("x:" TOK " ", sodium_base64_VARIANT_ORIGINAL);
	char *basic_auth = malloc(strlen(basic) + 7), *url64 = b64("{\"t\":\"" TOK "\"}",
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING), *upper = strdup(TOK);
	char cookie[256];
	const char *kept[] = { "Bearer hf_not-a-token", "Basic YTpi",
		"hf_0123456789abcdef0123456789abcdef0123456789abcde" /* 47 digits */,
		"Bearer hf_0123456789abcdef0123456789abcdef0123456789abcdeg" /* a g */ };
	http_request r;
	size_t len;
	char *head;

	(void)state;
	sprintf(basic_auth, "Basic %s", basic);
	for (char *p = upper; *p != '\0'; p++)
		*p = (char)toupper((unsigned char)*p);
	snprintf(cookie, sizeof(cookie), "a=1; t=%s; b=2", url64);
	http_header h[] = {
		{ "Host", "h" },
		{ "Authorization", "Bearer " TOK " " },
		{ "X-One", "Token " TOK },
		{ "X-Two", TOK },
		{ "X-Three", basic_auth },
		{ "Proxy-Authorization", "Bearer whatever" },
		{ "X-Four", "hf%5F0123456789abcdef0123456789abcdef0123456789abcdef" },
		{ "X-Five", upper },
		{ "Cookie", cookie },
		{ "X-Six", "pdm_0123456789ABCDEF0123456789abcdef0123456789abcdef" },
		{ "Accept", "*/*" },
	};
	r = req("GET", "/", 1, h, NH(h));
	head = upstream_request_head(&r, 0, 0, &len);
	assert_string_equal(head,
	    "GET / HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n"
	    "X-Forwarded-For: 192.0.2.7\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\n\r\n");
	free(head);
	/* positive control: the same headers without a token go through */
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
		assert_false(route_value_has_token(kept[i], strlen(kept[i])));
		http_header k[] = { { "Host", "h" }, { "Authorization", kept[i] } };
		r = req("GET", "/", 1, k, NH(k));
		head = upstream_request_head(&r, 0, 0, &len);
		assert_non_null(strstr(head, kept[i]));
		free(head);
	}
	free(basic);
	free(basic_auth);
	free(url64);
	free(upper);
}

static void
test_response_fields(void **state)
{
	http_header in[] = {
		{ "Content-Type", "text/plain" },
		{ "Connection", "close, X-Private" },
		{ "X-Private", "1" },
		{ "Transfer-Encoding", "chunked" },
		{ "X-Accel-Buffering", "no" },
		{ "", "empty" },
		{ "Upgrade", "h2c" },
		{ "Set-Cookie", "a=b" },
	};
	http_header out[NH(in)];
	http_header ws[] = { { "Upgrade", "websocket" }, { "Connection", "Upgrade" },
		{ "Sec-WebSocket-Accept", "x" } };
	http_header gz[] = { { "Transfer-Encoding", "gzip, chunked" } };

	(void)state;
	assert_int_equal(upstream_response_fields(200, in, NH(in), out), 2);
	assert_string_equal(out[0].name, "Content-Type");
	assert_string_equal(out[1].name, "Set-Cookie");
	/* a 101 keeps its Upgrade */
	assert_int_equal(upstream_response_fields(101, ws, NH(ws), out), 2);
	assert_string_equal(out[0].name, "Upgrade");
	assert_string_equal(out[1].name, "Sec-WebSocket-Accept");
	/* refused: a 101 that names no protocol, a coding we would lose */
	assert_int_equal(upstream_response_fields(101, ws + 1, 2, out), -1);
	assert_int_equal(upstream_response_fields(200, gz, 1, out), -1);
	assert_int_equal(upstream_response_fields(200, NULL, 0, out), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_head_passes),
		cmocka_unit_test(test_request_head_refused),
		cmocka_unit_test(test_resp_framing),
		cmocka_unit_test(test_body_bufs),
		cmocka_unit_test(test_hop_by_hop),
		cmocka_unit_test(test_request_head_to_app),
		cmocka_unit_test(test_request_head_drops_tokens),
		cmocka_unit_test(test_response_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
