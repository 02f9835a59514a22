/* assets.c — the pages' static files (web/static/), built into the binary: the
 * hub needs nothing on disk and nothing from outside (no CDN, no fonts). The
 * Makefile rebuilds this file when one of them changes. */
#include <string.h>

#include "web/web_int.h"

#define ASSET(sym, file)                                                      \
	__asm__(".section .rodata\n.balign 16\n.global " #sym "\n" #sym ":\n"  \
	    ".incbin \"" file "\"\n.global " #sym "_end\n" #sym "_end:\n.previous\n")

ASSET(asset_app_js, "web/static/app.js");
ASSET(asset_style_css, "web/static/style.css");

extern const char asset_app_js[], asset_app_js_end[];
extern const char asset_style_css[], asset_style_css_end[];

static const struct asset {
	const char *path, *type;
	const char *start, *end;
} assets[] = {
	{ "/static/app.js", "text/javascript; charset=utf-8", asset_app_js, asset_app_js_end },
	{ "/static/style.css", "text/css; charset=utf-8", asset_style_css, asset_style_css_end },
};

void
web_static(web_call *c)
{
	static const http_header h[] = {
		{ "Cache-Control", "no-cache" },
		{ "X-Content-Type-Options", "nosniff" },
	};

	for (size_t i = 0; i < sizeof(assets) / sizeof(assets[0]); i++)
		if (strcmp(c->r->path, assets[i].path) == 0) {
			http_respond(c->x, 200, assets[i].type, h, 2, assets[i].start,
			    (size_t)(assets[i].end - assets[i].start));
			return;
		}
	http_respond_error(c->x, 404, "not found");
}
