/* markdown.c — a space's README (and any .md in its Files) as HTML, rendered by
 * cmark-gfm, GitHub's CommonMark library, with its tables, strikethrough,
 * autolinks and task lists. What the page gets is safe to put in it as is:
 *
 *   - raw HTML in the Markdown is shown as text (its nodes become text nodes, which
 *     the renderer escapes), so no tag or attribute of the author's reaches the page;
 *   - link targets cmark calls unsafe (javascript:, vbscript:, file:, data: but
 *     images) are dropped (no CMARK_OPT_UNSAFE);
 *   - the README's front matter (--- ... ---) is not shown;
 *   - relative targets are made absolute: images to the file's bytes (/resolve/,
 *     served by the hub: the CSP allows images from 'self' only), links to the
 *     file's page (/blob/), from the Markdown file's own directory. */
#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "web/web_int.h"

/* Where the text after the front matter starts ("---" line ... "---" or "..." line). */
static size_t
front_matter_end(const char *md, size_t len)
{
	size_t i;

	if (len < 4 || (strncmp(md, "---\n", 4) != 0 && strncmp(md, "---\r\n", 5) != 0))
		return 0;
	for (i = md[3] == '\r' ? 5 : 4; i < len;) {
		const char *nl = memchr(md + i, '\n', len - i);
		size_t n = nl != NULL ? (size_t)(nl - (md + i)) : len - i;

		if (n > 0 && md[i + n - 1] == '\r')
			n--;
		if (n == 3 && (strncmp(md + i, "---", 3) == 0 || strncmp(md + i, "...", 3) == 0))
			return nl != NULL ? (size_t)(nl - md) + 1 : len;
		if (nl == NULL)
			break;
		i = (size_t)(nl - md) + 1;
	}
	return 0;   /* not closed: not front matter */
}

/* A target that names a file of the repository: no scheme, not absolute, not
 * only a fragment. */
static int
relative(const char *url)
{
	size_t scheme = strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");

	return url[0] != '\0' && url[0] != '/' && url[0] != '#' && url[0] != '?' &&
	    !(scheme > 0 && url[scheme] == ':');
}

/* dir + url with "." and ".." resolved; NULL when it leaves the repository. */
static char *
resolve(const char *dir, const char *url)
{
	char *joined = xasprintf("%s%s", dir, url), *out = xcalloc(1, strlen(joined) + 1);
	char *save = NULL, *seg;
	size_t tail = strcspn(joined, "?#"), n = 0;
	char *rest = xstrdup(joined + tail);

	joined[tail] = '\0';
	for (seg = strtok_r(joined, "/", &save); seg != NULL; seg = strtok_r(NULL, "/", &save)) {
		if (strcmp(seg, ".") == 0)
			continue;
		if (strcmp(seg, "..") == 0) {
			char *slash;

			if (n == 0)
				goto fail;
			slash = strrchr(out, '/');
			n = slash != NULL ? (size_t)(slash - out) : 0;
			out[n] = '\0';
			continue;
		}
		n += (size_t)sprintf(out + n, "%s%s", n > 0 ? "/" : "", seg);
	}
	free(joined);
	joined = xasprintf("%s%s", out, rest);
	free(out);
	free(rest);
	return joined;
fail:
	free(joined);
	free(out);
	free(rest);
	return NULL;
}

static void
rewrite_url(cmark_node *n, const char *dir, const char *base)
{
	const char *url = cmark_node_get_url(n);
	char *path, *abs;

	if (url == NULL || !relative(url) || (path = resolve(dir, url)) == NULL)
		return;
	abs = xasprintf("%s/%s", base, path);
	cmark_node_set_url(n, abs);
	free(abs);
	free(path);
}

/* Raw HTML becomes text; relative targets absolute. The nodes to replace are
 * collected first: a tree is not changed under its iterator. */
static void
make_safe(cmark_node *doc, const char *dir, const char *blob_base, const char *raw_base)
{
	cmark_iter *it = cmark_iter_new(doc);
	cmark_node **html = NULL;
	size_t nhtml = 0, cap = 0;
	cmark_event_type ev;

	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		cmark_node *n = cmark_iter_get_node(it);
		cmark_node_type t = cmark_node_get_type(n);

		if (ev != CMARK_EVENT_ENTER)
			continue;
		if (t == CMARK_NODE_HTML_INLINE || t == CMARK_NODE_HTML_BLOCK) {
			if (nhtml == cap) {
				cap = cap * 2 + 16;
				html = xrealloc(html, cap * sizeof(*html));
			}
			html[nhtml++] = n;
		} else if (t == CMARK_NODE_IMAGE) {
			rewrite_url(n, dir, raw_base);
		} else if (t == CMARK_NODE_LINK) {
			rewrite_url(n, dir, blob_base);
		}
	}
	cmark_iter_free(it);
	for (size_t i = 0; i < nhtml; i++) {
		int block = cmark_node_get_type(html[i]) == CMARK_NODE_HTML_BLOCK;
		cmark_node *text = cmark_node_new(CMARK_NODE_TEXT);
		cmark_node *repl = text;

		cmark_node_set_literal(text, cmark_node_get_literal(html[i]));
		if (block) {
			repl = cmark_node_new(CMARK_NODE_PARAGRAPH);
			cmark_node_append_child(repl, text);
		}
		cmark_node_replace(html[i], repl);
		cmark_node_free(html[i]);
	}
	free(html);
}

char *
web_markdown(const char *md, size_t len, const char *path, const char *blob_base,
    const char *raw_base)
{
	static const char *const exts[] = { "table", "strikethrough", "autolink", "tasklist" };
	int opts = CMARK_OPT_DEFAULT | CMARK_OPT_VALIDATE_UTF8 | CMARK_OPT_FOOTNOTES;
	size_t start = front_matter_end(md, len);
	const char *slash = strrchr(path, '/');
	char *dir = slash != NULL ? xstrndup(path, (size_t)(slash - path) + 1) : xstrdup("");
	cmark_parser *parser;
	cmark_node *doc;
	char *html, *out;

	cmark_gfm_core_extensions_ensure_registered();
	parser = cmark_parser_new(opts);
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		cmark_syntax_extension *e = cmark_find_syntax_extension(exts[i]);

		if (e != NULL)
			cmark_parser_attach_syntax_extension(parser, e);
	}
	cmark_parser_feed(parser, md + start, len - start);
	doc = cmark_parser_finish(parser);
	make_safe(doc, dir, blob_base, raw_base);
	html = cmark_render_html(doc, opts, cmark_parser_get_syntax_extensions(parser));
	out = xstrdup(html != NULL ? html : "");
	free(html);
	cmark_node_free(doc);
	cmark_parser_free(parser);
	free(dir);
	return out;
}
