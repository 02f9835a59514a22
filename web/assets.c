/* assets.c — the pages' static files (web/static/), built into the binary: the
 * hub needs nothing on disk and nothing from outside (no CDN, no fonts). The
 * Makefile rebuilds this file when one of them changes.
 *
 * Each is served under a name with its content's hash (/static/app.3f2a9c1d0b.js:
 * cached for a year, immutable, since a new binary means a new name) and under
 * its plain name (revalidated with its ETag); gzip-compressed, once at the first
 * request, for clients that accept it. The pages link the hashed names. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "common/util.h"
#include "web/web_int.h"

#define ASSET(sym, file)                                                      \
	__asm__(".section .rodata\n.balign 16\n.global " #sym "\n" #sym ":\n"  \
	    ".incbin \"" file "\"\n.global " #sym "_end\n" #sym "_end:\n.previous\n")

ASSET(asset_app_js, "web/static/app.js");
ASSET(asset_style_css, "web/static/style.css");
ASSET(asset_favicon_svg, "web/static/favicon.svg");

extern const char asset_app_js[], asset_app_js_end[];
extern const char asset_style_css[], asset_style_css_end[];
extern const char asset_favicon_svg[], asset_favicon_svg_end[];

static struct asset {
	const char *name, *type;
	const char *start, *end;
	/* made once (assets_ready) */
	char hashed[64];     /* /static/app.HASH.js */
	char etag[24];       /* "HASH" */
	unsigned char *gz;
	size_t gzlen;
} assets[] = {
	{ .name = "app.js", .type = "text/javascript; charset=utf-8", .start = asset_app_js,
	  .end = asset_app_js_end },
	{ .name = "style.css", .type = "text/css; charset=utf-8", .start = asset_style_css,
	  .end = asset_style_css_end },
	{ .name = "favicon.svg", .type = "image/svg+xml", .start = asset_favicon_svg,
	  .end = asset_favicon_svg_end },
};

#define NASSETS (sizeof(assets) / sizeof(assets[0]))

unsigned char *
web_gzip(const void *data, size_t len, int level, size_t *outlen)
{
	z_stream z = { 0 };
	size_t cap = len + len / 100 + 64;
	unsigned char *out = xmalloc(cap);

	if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(out);
		return NULL;
	}
	z.next_in = (unsigned char *)data;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&z);
		free(out);
		return NULL;
	}
	*outlen = z.total_out;
	deflateEnd(&z);
	return out;
}

static void
assets_ready(void)
{
	static int ready;

	if (ready)
		return;
	ready = 1;
	for (size_t i = 0; i < NASSETS; i++) {
		struct asset *a = &assets[i];
		size_t len = (size_t)(a->end - a->start), dot = strcspn(a->name, ".");
		unsigned char h[5];
		char hex[11];

		crypto_generichash(h, sizeof(h), (const unsigned char *)a->start, len, NULL, 0);
		sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
		snprintf(a->hashed, sizeof(a->hashed), "/static/%.*s.%s%s", (int)dot, a->name, hex,
		    a->name + dot);
		snprintf(a->etag, sizeof(a->etag), "\"%s\"", hex);
		a->gz = web_gzip(a->start, len, 9, &a->gzlen);
	}
}

const char *
web_asset_path(const char *name)
{
	assets_ready();
	for (size_t i = 0; i < NASSETS; i++)
		if (strcmp(assets[i].name, name) == 0)
			return assets[i].hashed;
	return "/static/missing";
}

int
web_header_has(const http_request *r, const char *name, const char *token)
{
	const char *v = http_request_header(r, name);

	return v != NULL && strstr(v, token) != NULL;
}

static void
asset_send(web_call *c, const struct asset *a, int hashed)
{
	int gz = a->gz != NULL && web_header_has(c->r, "accept-encoding", "gzip");
	http_header h[5] = {
		{ "Cache-Control", hashed ? "public, max-age=31536000, immutable" : "no-cache" },
		{ "X-Content-Type-Options", "nosniff" },
		{ "ETag", a->etag },
		{ "Vary", "Accept-Encoding" },
		{ "Content-Encoding", "gzip" },
	};

	if (web_header_has(c->r, "if-none-match", a->etag)) {
		http_respond(c->x, 304, a->type, h, 4, "", 0);
		return;
	}
	if (gz)
		http_respond(c->x, 200, a->type, h, 5, a->gz, a->gzlen);
	else
		http_respond(c->x, 200, a->type, h, 4, a->start, (size_t)(a->end - a->start));
}

void
web_static(web_call *c)
{
	const char *path = c->r->path;

	assets_ready();
	if (strcmp(path, "/favicon.ico") == 0)
		path = "/static/favicon.svg";
	for (size_t i = 0; i < NASSETS; i++) {
		struct asset *a = &assets[i];

		if (strcmp(path, a->hashed) == 0 || (strncmp(path, "/static/", 8) == 0 &&
		    strcmp(path + 8, a->name) == 0)) {
			asset_send(c, a, strcmp(path, a->hashed) == 0);
			return;
		}
	}
	web_page_error(c, 404, "No such file.");
}
