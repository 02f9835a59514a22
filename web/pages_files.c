/* pages_files.c — a space's Files tab at the Hub's URLs, over builder/git.h:
 *
 *   /spaces/O/N/tree/REV[/PATH]      a directory: folders first, then files with sizes
 *   /spaces/O/N/blob/REV/PATH        a file: text with line numbers, Markdown rendered,
 *                                    images shown, binaries offered for download
 *   /spaces/O/N/commits/REV[/PATH]   the history (of one file or folder), 30 a page
 *   /spaces/O/N/commit/SHA           one commit and its diff
 *
 * REV is one segment (main, a tag, a sha); the bytes come from /resolve/ and /raw/. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "builder/git.h"
#include "common/util.h"
#include "orchestrator/space.h"
#include "web/web_int.h"

#define VIEW_MAX (512u << 10)      /* larger files are offered for download */
#define SNIFF_BYTES 8000           /* a NUL in these: binary, as git decides */
#define COMMITS_PER_PAGE 30
#define DIFF_LINES_MAX 5000

/* The page's space and revision: what every Files page starts with. */
typedef struct files_call {
	web_call *c;
	json_t *j;            /* the space's JSON */
	const char *id;       /* owner/name */
	char *rev, *path;     /* decoded */
	char *repo;
	page pg;
} files_call;

static int
files_begin(files_call *f, web_call *c)
{
	memset(f, 0, sizeof(*f));
	f->c = c;
	if (web_rev_path(c, &f->rev, &f->path) != 0)
		return -1;
	f->j = space_json(c->p, c->s, 1);
	f->id = json_string_value(json_object_get(f->j, "id"));
	f->repo = space_repo_path(c->p, c->s);
	return 0;
}

static void
files_head(files_call *f, const char *title)
{
	page_begin(&f->pg, f->c->p, f->c->r, f->c->user, title, "files");
	page_space_head(&f->pg, f->c, f->j, "files");
}

static void
files_end(files_call *f)
{
	json_decref(f->j);
	free(f->rev);
	free(f->path);
	free(f->repo);
}

/* An error as a page; the files_call is over. */
static void
files_fail(files_call *f, int r, const char *what)
{
	if (r == -ESRCH)
		web_page_error(f->c, 404, "No such revision in this space.");
	else if (r == -ENOENT)
		web_page_error(f->c, 404, what);
	else
		web_page_error(f->c, 500, "The repository cannot be read.");
	files_end(f);
}

/* /spaces/ID/KIND/REV[/PATH], each part percent-encoded, into the page. */
static void
file_url(page *pg, const char *id, const char *kind, const char *rev, const char *path)
{
	char *r = web_escape(rev);

	page_raw(pg, "/spaces/");
	page_text(pg, id);
	page_raw(pg, "/");
	page_raw(pg, kind);
	page_raw(pg, "/");
	page_text(pg, r);
	free(r);
	for (const char *p = path; p != NULL && *p != '\0';) {
		size_t n = strcspn(p, "/");
		char *seg = xstrndup(p, n), *e = web_escape(seg);

		page_raw(pg, "/");
		page_text(pg, e);
		free(e);
		free(seg);
		p += n + (p[n] == '/');
	}
}

static void
link_to(page *pg, const char *id, const char *kind, const char *rev, const char *path,
    const char *text)
{
	page_raw(pg, "<a href=\"");
	file_url(pg, id, kind, rev, path);
	page_raw(pg, "\">");
	page_text(pg, text);
	page_raw(pg, "</a>");
}

/* The revision and the path as links: main / src / lib / util.py */
static void
path_crumbs(files_call *f)
{
	char *dirs = xstrdup(f->path);
	size_t off = 0;

	page_raw(&f->pg, "<nav class=\"path\" aria-label=\"path\"><span class=\"badge rev\">");
	page_text(&f->pg, f->rev);
	page_raw(&f->pg, "</span> ");
	link_to(&f->pg, f->id, "tree", f->rev, "", space_name(f->c->s));
	while (dirs[off] != '\0') {
		size_t n = strcspn(dirs + off, "/");
		int last = dirs[off + n] == '\0';
		char keep = dirs[off + n], *seg = xstrndup(dirs + off, n);

		dirs[off + n] = '\0';
		page_raw(&f->pg, " / ");
		if (last) {
			page_raw(&f->pg, "<span aria-current=\"page\">");
			page_text(&f->pg, seg);
			page_raw(&f->pg, "</span>");
		} else {
			link_to(&f->pg, f->id, "tree", f->rev, dirs, seg);
		}
		dirs[off + n] = keep;
		free(seg);
		off += n + (keep == '/');
	}
	page_raw(&f->pg, "</nav>");
	free(dirs);
}

static void
size_text(page *pg, json_int_t n)
{
	if (n < 1000)
		page_textf(pg, "%lld B", (long long)n);
	else if (n < 1000 * 1000)
		page_textf(pg, "%.1f kB", (double)n / 1000);
	else
		page_textf(pg, "%.1f MB", (double)n / 1e6);
}

/* The newest commit of rev (that changed path, when given): title, date, link. */
static void
last_commit(files_call *f, const char *path)
{
	json_t *page = NULL, *cm;
	int r = path[0] != '\0' ? builder_repo_path_log(f->repo, f->rev, path, 0, 1, &page, NULL) :
	    builder_repo_log(f->repo, f->rev, 0, 1, &page, NULL);

	if (r != 0 || (cm = json_array_get(page, 0)) == NULL) {
		json_decref(page);
		return;
	}
	page_raw(&f->pg, "<p class=\"last-commit\">");
	link_to(&f->pg, f->id, "commit", json_string_value(json_object_get(cm, "id")), "",
	    json_string_value(json_object_get(cm, "title")));
	page_raw(&f->pg, " · ");
	page_text(&f->pg, json_string_value(json_object_get(json_array_get(json_object_get(cm,
	    "authors"), 0), "user")));
	page_raw(&f->pg, " · <time datetime=\"");
	page_text(&f->pg, json_string_value(json_object_get(cm, "date")));
	page_raw(&f->pg, "\">");
	page_textf(&f->pg, "%.10s", json_string_value(json_object_get(cm, "date")));
	page_raw(&f->pg, "</time> · ");
	link_to(&f->pg, f->id, "commits", f->rev, path, "History");
	page_raw(&f->pg, "</p>");
	json_decref(page);
}

/* The entries of one kind (directories or files) as table rows. */
static void
tree_rows(files_call *f, json_t *arr, int dirs)
{
	json_t *e;
	size_t i;

	json_array_foreach(arr, i, e) {
		const char *type = json_string_value(json_object_get(e, "type"));
		const char *path = json_string_value(json_object_get(e, "path"));
		const char *name = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;
		int dir = strcmp(type, "directory") == 0;

		if (dir != dirs)
			continue;
		page_raw(&f->pg, dir ? "<tr><td><span aria-hidden=\"true\">📁 </span>" :
		    "<tr><td><span aria-hidden=\"true\">📄 </span>");
		link_to(&f->pg, f->id, dir ? "tree" : "blob", f->rev, path, name);
		page_raw(&f->pg, "</td><td class=\"num\">");
		if (!dir)
			size_text(&f->pg, json_integer_value(json_object_get(e, "size")));
		page_raw(&f->pg, "</td></tr>");
	}
}

void
web_page_tree(web_call *c)
{
	files_call f;
	json_t *arr = NULL;
	int r;

	if (files_begin(&f, c) != 0)
		return;
	r = builder_repo_tree(f.repo, f.rev, f.path, 0, &arr);
	if (r == -ENOENT && f.path[0] != '\0') {
		/* a file: its page */
		builder_blob b;

		if (builder_repo_blob(f.repo, f.rev, f.path, &b) == 0) {
			page loc = { 0 };
			http_header h = { "Location", NULL };

			builder_blob_release(&b);
			file_url(&loc, f.id, "blob", f.rev, f.path);
			h.value = loc.buf;
			http_respond(c->x, 303, "text/plain; charset=utf-8", &h, 1, "see the file\n", 13);
			free(loc.buf);
			files_end(&f);
			return;
		}
	}
	if (r != 0) {
		files_fail(&f, r, "No such folder at this revision.");
		return;
	}
	files_head(&f, f.id);
	path_crumbs(&f);
	if (json_array_size(arr) == 0) {
		page_raw(&f.pg, "<p class=\"panel\">No files yet: nothing was pushed to this space.</p>");
	} else {
		last_commit(&f, f.path);
		page_raw(&f.pg, "<div class=\"scroll\"><table class=\"files\"><caption class=\"sr\">Files</caption>"
		    "<thead><tr><th scope=\"col\">Name</th><th scope=\"col\" class=\"num\">Size</th></tr>"
		    "</thead><tbody>");
		tree_rows(&f, arr, 1);
		tree_rows(&f, arr, 0);
		page_raw(&f.pg, "</tbody></table></div>");
	}
	page_finish(&f.pg, c->x, 200, NULL, 0);
	json_decref(arr);
	files_end(&f);
}

/* ---- one file ---- */

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

static int
is_image(const char *path)
{
	static const char *const exts[] = { ".png", ".jpg", ".jpeg", ".gif", ".webp", ".ico", ".bmp",
		".avif", NULL };

	for (const char *const *e = exts; *e != NULL; e++)
		if (ends_with(path, *e))
			return 1;
	return 0;
}

/* Text is valid UTF-8 without NULs in its first bytes. */
static int
is_text(const builder_blob *b)
{
	size_t n = b->size < SNIFF_BYTES ? (size_t)b->size : SNIFF_BYTES;
	char *copy;
	int ok;

	if (memchr(b->data, '\0', n) != NULL)
		return 0;
	copy = xstrndup(b->data, (size_t)b->size);
	utf8_scrub(copy);
	ok = strlen(copy) == b->size && memcmp(copy, b->data, (size_t)b->size) == 0;
	free(copy);
	return ok;
}

/* Numbered lines: each a span the stylesheet numbers (not copied with the text)
 * and an anchor (#L12). */
static void
text_lines(page *pg, const char *data, size_t len)
{
	size_t line = 1;

	page_raw(pg, "<pre class=\"code\" tabindex=\"0\"><code>");
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(data + i, '\n', len - i);
		size_t n = nl != NULL ? (size_t)(nl - (data + i)) : len - i;
		char *s = xstrndup(data + i, n);

		page_rawf(pg, "<span id=\"L%zu\">", line++);
		page_text(pg, s);
		page_raw(pg, "</span>");
		free(s);
		i += n + 1;
	}
	page_raw(pg, "</code></pre>");
}

static void
blob_body(files_call *f, const builder_blob *b)
{
	int md = ends_with(f->path, ".md") && strstr(f->c->r->query, "plain=1") == NULL;

	if (is_image(f->path)) {
		page_raw(&f->pg, "<p class=\"image\"><img src=\"");
		file_url(&f->pg, f->id, "resolve", f->rev, f->path);
		page_raw(&f->pg, "\" alt=\"");
		page_text(&f->pg, f->path);
		page_raw(&f->pg, "\"></p>");
	} else if (b->size > VIEW_MAX || !is_text(b)) {
		page_raw(&f->pg, "<p class=\"panel\">");
		page_raw(&f->pg, b->size > VIEW_MAX ? "Too large to show here: " : "A binary file: ");
		page_raw(&f->pg, "<a download href=\"");
		file_url(&f->pg, f->id, "resolve", f->rev, f->path);
		page_raw(&f->pg, "\">download it</a>.</p>");
	} else if (md) {
		char *blob = xasprintf("/spaces/%s/blob/%s", f->id, f->rev);
		char *raw = xasprintf("/spaces/%s/resolve/%s", f->id, f->rev);
		char *html = web_markdown(b->data, (size_t)b->size, f->path, blob, raw);

		page_raw(&f->pg, "<div class=\"panel markdown\">");
		page_raw(&f->pg, html);
		page_raw(&f->pg, "</div>");
		free(html);
		free(blob);
		free(raw);
	} else {
		text_lines(&f->pg, b->data, (size_t)b->size);
	}
}

void
web_page_blob(web_call *c)
{
	files_call f;
	builder_blob b;
	int r;

	if (files_begin(&f, c) != 0)
		return;
	r = f.path[0] != '\0' ? builder_repo_blob(f.repo, f.rev, f.path, &b) : -ENOENT;
	if (r != 0) {
		files_fail(&f, r, "No such file at this revision.");
		return;
	}
	files_head(&f, f.path);
	path_crumbs(&f);
	last_commit(&f, f.path);
	page_raw(&f.pg, "<div class=\"file-head\"><span>");
	size_text(&f.pg, (json_int_t)b.size);
	page_raw(&f.pg, "</span> <a href=\"");
	file_url(&f.pg, f.id, "raw", f.rev, f.path);
	page_raw(&f.pg, "\">Raw</a> <a download href=\"");
	file_url(&f.pg, f.id, "resolve", f.rev, f.path);
	page_raw(&f.pg, "\">Download</a>");
	if (ends_with(f.path, ".md")) {
		page_raw(&f.pg, " <a href=\"");
		file_url(&f.pg, f.id, "blob", f.rev, f.path);
		page_raw(&f.pg, strstr(c->r->query, "plain=1") == NULL ? "?plain=1\">Source</a>" :
		    "\">Rendered</a>");
	}
	page_raw(&f.pg, "</div>");
	blob_body(&f, &b);
	page_finish(&f.pg, c->x, 200, NULL, 0);
	builder_blob_release(&b);
	files_end(&f);
}

/* ---- history ---- */

static void
commit_row(files_call *f, json_t *cm)
{
	const char *sha = json_string_value(json_object_get(cm, "id"));

	page_raw(&f->pg, "<li><span class=\"title\">");
	link_to(&f->pg, f->id, "commit", sha, "", json_string_value(json_object_get(cm, "title")));
	page_raw(&f->pg, "</span> <span class=\"muted\">");
	page_text(&f->pg, json_string_value(json_object_get(json_array_get(json_object_get(cm,
	    "authors"), 0), "user")));
	page_raw(&f->pg, " · <time datetime=\"");
	page_text(&f->pg, json_string_value(json_object_get(cm, "date")));
	page_raw(&f->pg, "\">");
	page_textf(&f->pg, "%.16s", json_string_value(json_object_get(cm, "date")));
	page_raw(&f->pg, "</time></span> <code>");
	page_textf(&f->pg, "%.10s", sha);
	page_raw(&f->pg, "</code> ");
	link_to(&f->pg, f->id, "tree", sha, "", "Browse files");
	page_raw(&f->pg, "</li>");
}

void
web_page_commits(web_call *c)
{
	char *pgs = web_query_get(c->r->query, "p");
	long p = pgs != NULL ? strtol(pgs, NULL, 10) : 0, total = 0;
	json_t *arr = NULL, *cm;
	files_call f;
	size_t i;
	int r;

	free(pgs);
	if (p < 0)
		p = 0;
	if (files_begin(&f, c) != 0)
		return;
	r = f.path[0] != '\0' ?
	    builder_repo_path_log(f.repo, f.rev, f.path, p * COMMITS_PER_PAGE, COMMITS_PER_PAGE, &arr, &total) :
	    builder_repo_log(f.repo, f.rev, p * COMMITS_PER_PAGE, COMMITS_PER_PAGE, &arr, &total);
	if (r != 0) {
		files_fail(&f, r, "No such path.");
		return;
	}
	files_head(&f, "History");
	path_crumbs(&f);
	page_rawf(&f.pg, "<h2>History%s", f.path[0] != '\0' ? " of " : "");
	page_text(&f.pg, f.path);
	page_rawf(&f.pg, " <span class=\"muted\">(%ld commit%s)</span></h2><ol class=\"commits\">",
	    total, total == 1 ? "" : "s");
	json_array_foreach(arr, i, cm)
		commit_row(&f, cm);
	page_raw(&f.pg, "</ol>");
	if (p > 0 || (p + 1) * COMMITS_PER_PAGE < total) {
		page_raw(&f.pg, "<nav class=\"pager\" aria-label=\"pages\">");
		if (p > 0) {
			page_raw(&f.pg, "<a rel=\"prev\" href=\"");
			file_url(&f.pg, f.id, "commits", f.rev, f.path);
			page_rawf(&f.pg, "?p=%ld\">← Newer</a>", p - 1);
		}
		if ((p + 1) * COMMITS_PER_PAGE < total) {
			page_raw(&f.pg, "<a rel=\"next\" href=\"");
			file_url(&f.pg, f.id, "commits", f.rev, f.path);
			page_rawf(&f.pg, "?p=%ld\">Older →</a>", p + 1);
		}
		page_raw(&f.pg, "</nav>");
	}
	page_finish(&f.pg, c->x, 200, NULL, 0);
	json_decref(arr);
	files_end(&f);
}

/* ---- one commit ---- */

static void
diff_file(files_call *f, json_t *file, const char *sha)
{
	const char *path = json_string_value(json_object_get(file, "path"));
	const char *status = json_string_value(json_object_get(file, "status"));
	json_t *lines = json_object_get(file, "lines"), *l;
	size_t i;

	page_raw(&f->pg, "<section class=\"diff panel\"><h3><span class=\"badge\">");
	page_text(&f->pg, status);
	page_raw(&f->pg, "</span> ");
	if (strcmp(status, "deleted") == 0)
		page_text(&f->pg, path);
	else
		link_to(&f->pg, f->id, "blob", sha, path, path);
	if (json_object_get(file, "oldPath") != NULL) {
		page_raw(&f->pg, " <span class=\"muted\">from ");
		page_text(&f->pg, json_string_value(json_object_get(file, "oldPath")));
		page_raw(&f->pg, "</span>");
	}
	page_rawf(&f->pg, " <span class=\"add\">+%lld</span> <span class=\"del\">−%lld</span></h3>",
	    (long long)json_integer_value(json_object_get(file, "additions")),
	    (long long)json_integer_value(json_object_get(file, "deletions")));
	if (json_is_true(json_object_get(file, "binary")))
		page_raw(&f->pg, "<p class=\"muted\">A binary file.</p>");
	else if (lines == NULL)
		page_raw(&f->pg, "<p class=\"muted\">Not shown: the diff is too long.</p>");
	else if (json_array_size(lines) > 0) {
		page_raw(&f->pg, "<pre class=\"code diff-lines\" tabindex=\"0\"><code>");
		json_array_foreach(lines, i, l) {
			const char *t = json_string_value(l);

			page_raw(&f->pg, t[0] == '+' ? "<ins>" : t[0] == '-' ? "<del>" : t[0] == '@' ?
			    "<span class=\"hunk\">" : "<span>");
			page_text(&f->pg, t);
			page_raw(&f->pg, t[0] == '+' ? "</ins>" : t[0] == '-' ? "</del>" : "</span>");
		}
		page_raw(&f->pg, "</code></pre>");
	}
	page_raw(&f->pg, "</section>");
}

void
web_page_commit(web_call *c)
{
	json_t *d = NULL, *cm, *file;
	files_call f;
	const char *sha, *msg, *title;
	size_t i;
	int r;

	if (files_begin(&f, c) != 0)
		return;
	r = builder_repo_commit_diff(f.repo, f.rev, DIFF_LINES_MAX, &d);
	if (r != 0) {
		files_fail(&f, r, "No such commit.");
		return;
	}
	cm = json_object_get(d, "commit");
	sha = json_string_value(json_object_get(cm, "id"));
	title = json_string_value(json_object_get(cm, "title"));
	msg = json_string_value(json_object_get(cm, "message"));
	files_head(&f, title);
	page_raw(&f.pg, "<div class=\"panel commit\"><h2>");
	page_text(&f.pg, title);
	page_raw(&f.pg, "</h2>");
	if (strlen(msg) > strlen(title) + 1) {
		page_raw(&f.pg, "<pre class=\"message\">");
		page_text(&f.pg, msg + strlen(title) + strspn(msg + strlen(title), "\n"));
		page_raw(&f.pg, "</pre>");
	}
	page_raw(&f.pg, "<p class=\"muted\">");
	page_text(&f.pg, json_string_value(json_object_get(json_array_get(json_object_get(cm,
	    "authors"), 0), "user")));
	page_raw(&f.pg, " · ");
	page_textf(&f.pg, "%.16s", json_string_value(json_object_get(cm, "date")));
	page_raw(&f.pg, " · <code>");
	page_text(&f.pg, sha);
	page_raw(&f.pg, "</code>");
	json_array_foreach(json_object_get(d, "parents"), i, file) {
		char shortsha[11];

		snprintf(shortsha, sizeof(shortsha), "%s", json_string_value(file));
		page_raw(&f.pg, " · parent ");
		link_to(&f.pg, f.id, "commit", json_string_value(file), "", shortsha);
	}
	page_raw(&f.pg, " · ");
	link_to(&f.pg, f.id, "tree", sha, "", "Browse files");
	page_raw(&f.pg, "</p></div>");
	if (json_is_true(json_object_get(d, "truncated")))
		page_rawf(&f.pg, "<p class=\"muted\">The diff is long: its first %d lines are shown.</p>",
		    DIFF_LINES_MAX);
	json_array_foreach(json_object_get(d, "files"), i, file)
		diff_file(&f, file, sha);
	page_finish(&f.pg, c->x, 200, NULL, 0);
	json_decref(d);
	files_end(&f);
}
