/* markdown.c: GitHub's Markdown through cmark-gfm, safe for a page: raw HTML
 * as text, unsafe targets dropped, front matter hidden, relative targets made
 * absolute from the file's directory, tables rendered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "web/web_int.h"

static char *
md(const char *text, const char *path)
{
	return web_markdown(text, strlen(text), path, "/spaces/a/b/blob/main", "/spaces/a/b/resolve/main");
}

static void
has(const char *html, const char *want)
{
	if (strstr(html, want) == NULL)
		fail_msg("%s\nhas no %s", html, want);
}

static void
lacks(const char *html, const char *what)
{
	if (strstr(html, what) != NULL)
		fail_msg("%s\nhas %s", html, what);
}

static void
test_markdown_safe(void **state)
{
	char *h = md("---\ntitle: secret-title\nsdk: static\n---\n# Hello\n\n"
	    "<script>alert(1)</script>\n\nText <img src=x onerror=alert(2)> inline.\n\n"
	    "[bad](javascript:alert(3)) [ok](https://example.org/) [doc](docs/a.md#x)\n\n"
	    "![logo](./img/logo.png) ![up](../../etc/passwd) ![abs](/abs.png)\n\n"
	    "| a | b |\n|---|---|\n| 1 | 2 |\n\n~~gone~~ - [x] done\n", "README.md");

	has(h, "<h1>Hello</h1>");
	lacks(h, "secret-title");
	lacks(h, "<script");
	has(h, "&lt;script&gt;alert(1)&lt;/script&gt;");
	lacks(h, "<img src=\"x\"");
	has(h, "&lt;img src=x onerror=alert(2)&gt;");
	lacks(h, "javascript:");
	has(h, "href=\"https://example.org/\"");
	has(h, "href=\"/spaces/a/b/blob/main/docs/a.md#x\"");
	has(h, "src=\"/spaces/a/b/resolve/main/img/logo.png\"");
	has(h, "src=\"../../etc/passwd\"");   /* leaves the repository: left alone (a 404) */
	has(h, "src=\"/abs.png\"");
	has(h, "<table>");
	has(h, "<del>gone</del>");
	free(h);
	/* a file in a directory: its targets from there */
	h = md("![x](pic.png) [up](../README.md)", "docs/guide.md");
	has(h, "src=\"/spaces/a/b/resolve/main/docs/pic.png\"");
	has(h, "href=\"/spaces/a/b/blob/main/README.md\"");
	free(h);
	/* front matter that is not closed is text */
	h = md("---\nnot: closed\n", "README.md");
	has(h, "not: closed");
	free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_markdown_safe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
