/* commit.c — the Hub's commit API: files published without git.
 *
 * One commit, from birth to death:
 *   POST /api/spaces/O/N/commit/main (NDJSON) → web_repo_commit → each line as it
 *   arrives: {"key":"header","value":{summary, description, parentCommit?}} first
 *   (builder_commit_start stages main's files; a parentCommit that is not main's
 *   tip is refused with 412), then "file" lines ({path, content, encoding: base64})
 *   decoded and staged (builder_commit_add), "deletedFile" / "deletedFolder" lines
 *   unstaged → at the end of the body builder_commit_write makes the commit by the
 *   token's user, main moving only if it is still where the header found it (a push
 *   in between: 412) → answer {commitOid, commitUrl} → the space builds the new
 *   commit exactly as after a push (space_on_push).
 *
 * Memory is bounded by one line (a file of WEB_MAX_FILE bytes, base64-encoded);
 * a longer line is a 413 and the rest of the body is dropped unread. */
#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/git.h"
#include "common/log.h"
#include "common/util.h"
#include "orchestrator/space.h"
#include "web/web_int.h"

/* base64 of a WEB_MAX_FILE file plus its JSON wrapping */
#define COMMIT_MAX_LINE ((size_t)WEB_MAX_FILE / 3 * 4 + 64 * 1024)
#define COMMIT_MAX_OPS 100000
/* lines from this size on are handled off the loop */
#define COMMIT_OFFLOAD_LINE ((size_t)1 << 20)

typedef struct commit_req {
	podium *p;
	http_exchange *x;
	char *owner, *name, *user, *repo;
	builder_commit *bc;     /* from the header on */
	char *summary, *description;

	char *line;
	size_t line_len, line_cap;
	int responded;         /* answered early (413 while the body still comes) */
	/* a big line is parsed, decoded and stored on a worker thread; meanwhile the
	 * body is paused, bytes still arriving wait in pending, and nothing else
	 * touches the request (its repository and index belong to the worker) */
	uv_work_t work;
	char *work_text;
	size_t work_len;
	int working, ended, aborted;
	char *pending;
	size_t pending_len;
	int lineno, nops;
	int header_seen;
	int status;            /* first error: its HTTP status (0: none yet) */
	char err[512];
} commit_req;

static void
commit_fail(commit_req *c, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
commit_fail(commit_req *c, int status, const char *fmt, ...)
{
	va_list ap;

	if (c->status != 0)
		return;
	c->status = status;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	free(c->line);
	c->line = NULL;
	c->line_len = c->line_cap = 0;
}

/* A builder error as the answer's status and message. */
static void
builder_fail(commit_req *c, int r, const char *err)
{
	if (r == -EIO)
		commit_fail(c, 500, "internal error: %s", err);
	else if (r == -ENOENT)
		commit_fail(c, 404, "line %d: %s", c->lineno, err);
	else
		commit_fail(c, 400, "line %d: %s", c->lineno, err);
}

static void
op_header(commit_req *c, json_t *v)
{
	const char *summary = json_string_value(json_object_get(v, "summary"));
	const char *desc = json_string_value(json_object_get(v, "description"));
	json_t *pj = json_object_get(v, "parentCommit");
	const char *parent = json_string_value(pj);
	char err[400];
	int r;

	if (pj != NULL && !json_is_null(pj) && parent == NULL) {
		commit_fail(c, 400, "line %d: \"parentCommit\" must be a string", c->lineno);
		return;
	}
	r = builder_commit_start(c->repo, parent, &c->bc, err, sizeof(err));
	if (r == -ESTALE) {
		commit_fail(c, 412, "parentCommit %s", err);
		return;
	}
	if (r != 0) {
		commit_fail(c, 500, "internal error: %s", err);
		return;
	}
	c->summary = xstrdup(summary != NULL && summary[0] != '\0' ? summary : "Upload files");
	c->description = xstrdup(desc != NULL ? desc : "");
}

static void
op_file(commit_req *c, json_t *v)
{
	const char *path = json_string_value(json_object_get(v, "path"));
	const char *content = json_string_value(json_object_get(v, "content"));
	const char *enc = json_string_value(json_object_get(v, "encoding"));
	unsigned char *buf;
	size_t clen, len = 0;
	char err[400];
	int r;

	if (path == NULL || content == NULL) {
		commit_fail(c, 400, "line %d: a file needs \"path\" and \"content\" strings", c->lineno);
		return;
	}
	if (!builder_repo_path_valid(path)) {
		commit_fail(c, 400, "line %d: invalid path \"%s\"", c->lineno, path);
		return;
	}
	clen = json_string_length(json_object_get(v, "content"));
	if (enc == NULL || strcmp(enc, "base64") == 0) {
		buf = xmalloc(clen / 4 * 3 + 3);
		if (sodium_base642bin(buf, clen / 4 * 3 + 3, content, clen, "\r\n", &len, NULL,
		    sodium_base64_VARIANT_ORIGINAL) != 0) {
			free(buf);
			commit_fail(c, 400, "line %d: the content of %s is not valid base64", c->lineno, path);
			return;
		}
	} else if (strcmp(enc, "utf-8") == 0 || strcmp(enc, "utf8") == 0) {
		buf = (unsigned char *)xstrndup(content, clen);
		len = clen;
	} else {
		commit_fail(c, 400, "line %d: unknown encoding \"%s\" (base64 or utf-8)", c->lineno, enc);
		return;
	}
	if (len > WEB_MAX_FILE)
		commit_fail(c, 413, "%s is larger than %u MiB", path, WEB_MAX_FILE >> 20);
	else if ((r = builder_commit_add(c->bc, path, buf, len, err, sizeof(err))) != 0)
		builder_fail(c, r, err);
	free(buf);
}

static void
op_delete(commit_req *c, json_t *v, int folder)
{
	const char *p = json_string_value(json_object_get(v, "path"));
	char *path = xstrdup(p != NULL ? p : ""), err[400];
	size_t n = strlen(path);
	int r;

	/* the Hub's clients send folders with a trailing slash */
	if (folder && n > 1 && path[n - 1] == '/')
		path[n - 1] = '\0';
	if (!builder_repo_path_valid(path))
		commit_fail(c, 400, "line %d: a deletion needs a valid \"path\"", c->lineno);
	else if ((r = builder_commit_remove(c->bc, path, folder, err, sizeof(err))) != 0)
		builder_fail(c, r, err);
	free(path);
}

static void
commit_line(commit_req *c, const char *text, size_t len)
{
	json_error_t jerr;
	json_t *j, *v;
	const char *key;

	c->lineno++;
	if (len == 0 || (len == 1 && text[0] == '\r'))
		return;
	j = json_loadb(text, len, 0, &jerr);
	if (j == NULL) {
		commit_fail(c, 400, "line %d: invalid JSON at column %d: %s", c->lineno, jerr.column,
		    jerr.text);
		return;
	}
	key = json_string_value(json_object_get(j, "key"));
	v = json_object_get(j, "value");
	if (key == NULL || !json_is_object(v)) {
		commit_fail(c, 400, "line %d: each line is {\"key\": ..., \"value\": {...}}", c->lineno);
	} else if (!c->header_seen && strcmp(key, "header") != 0) {
		commit_fail(c, 400, "line %d: the first line must be the header", c->lineno);
	} else if (strcmp(key, "header") == 0) {
		if (c->header_seen)
			commit_fail(c, 400, "line %d: a second header", c->lineno);
		c->header_seen = 1;
		op_header(c, v);
	} else if (++c->nops > COMMIT_MAX_OPS) {
		commit_fail(c, 413, "more than %d operations in one commit", COMMIT_MAX_OPS);
	} else if (strcmp(key, "file") == 0) {
		op_file(c, v);
	} else if (strcmp(key, "deletedFile") == 0) {
		op_delete(c, v, 0);
	} else if (strcmp(key, "deletedFolder") == 0) {
		op_delete(c, v, 1);
	} else if (strcmp(key, "lfsFile") == 0) {
		commit_fail(c, 400, "line %d: LFS files are not supported: files up to %u MiB are "
		    "committed as regular files", c->lineno, WEB_MAX_FILE >> 20);
	} else {
		commit_fail(c, 400, "line %d: unknown key \"%s\"", c->lineno, key);
	}
	json_decref(j);
}

static void commit_work(uv_work_t *w);
static void commit_work_done(uv_work_t *w, int status);

/* Takes text (malloc'd); the line runs on a worker. */
static void
commit_dispatch(commit_req *c, char *text, size_t len)
{
	c->work_text = text;
	c->work_len = len;
	c->working = 1;
	c->work.data = c;
	if (!c->ended)
		http_exchange_pause(c->x);
	uv_queue_work(c->p->loop, &c->work, commit_work, commit_work_done);
}

static void
pending_add(commit_req *c, const char *data, size_t len)
{
	if (len == 0)
		return;
	c->pending = xrealloc(c->pending, c->pending_len + len);
	memcpy(c->pending + c->pending_len, data, len);
	c->pending_len += len;
}

static void
commit_feed(commit_req *c, const char *data, size_t len)
{
	while (len > 0 && c->status == 0) {
		const char *nl = memchr(data, '\n', len);
		size_t take = nl != NULL ? (size_t)(nl - data) : len;

		if (c->line_len + take > COMMIT_MAX_LINE) {
			commit_fail(c, 413, "line %d is larger than a %u MiB file encoded", c->lineno + 1,
			    WEB_MAX_FILE >> 20);
			/* answered now: the client need not send the rest */
			web_json_error(c->x, c->status, "%s", c->err);
			c->responded = 1;
			return;
		}
		if (nl != NULL && c->line_len == 0 && take < COMMIT_OFFLOAD_LINE) {
			commit_line(c, data, take); /* the whole line in this chunk: no copy */
		} else {
			if (c->line_len + take + 1 > c->line_cap) {
				/* doubling: growing by each chunk copied a 100 MiB line
				 * thousands of times where realloc cannot grow in place */
				size_t cap = c->line_cap * 2;

				if (cap < c->line_len + take + 1)
					cap = c->line_len + take + 1;
				if (cap < 64 * 1024)
					cap = 64 * 1024;
				c->line = xrealloc(c->line, cap);
				c->line_cap = cap;
			}
			memcpy(c->line + c->line_len, data, take);
			c->line_len += take;
			if (nl != NULL && c->line_len >= COMMIT_OFFLOAD_LINE) {
				char *text = c->line;
				size_t n = c->line_len;

				c->line = NULL;
				c->line_len = c->line_cap = 0;
				pending_add(c, nl + 1, len - take - 1);
				commit_dispatch(c, text, n);
				return;
			}
			if (nl != NULL) {
				commit_line(c, c->line, c->line_len);
				c->line_len = 0;
			}
		}
		if (nl == NULL)
			return;
		data = nl + 1;
		len -= take + 1;
	}
}

static void
commit_data(void *arg, const char *data, size_t len)
{
	commit_req *c = arg;

	if (c->working)
		pending_add(c, data, len);
	else
		commit_feed(c, data, len);
}

static void
commit_free(commit_req *c)
{
	builder_commit_free(c->bc);
	free(c->repo);
	free(c->owner);
	free(c->name);
	free(c->user);
	free(c->summary);
	free(c->description);
	free(c->line);
	free(c->pending);
	free(c);
}

/* Writes what is staged as a commit by the user: 0 and its sha, or an HTTP status
 * (412 main moved meanwhile, 500) with err set. */
static int
commit_write(commit_req *c, const char *message, char sha[41], char *err, size_t errlen)
{
	char *email = web_user_email(c->p, c->user), e[400];
	int r = builder_commit_write(c->bc, c->user, email, message, sha, e, sizeof(e));

	free(email);
	if (r == 0)
		return 0;
	snprintf(err, errlen, "%s%s", r == -EAGAIN ? "" : "internal error: ", e);
	return r == -EAGAIN ? 412 : 500;
}

static void
commit_built(podium *p, const char *owner, const char *name, const char *sha)
{
	/* looked up again: the space may have been deleted while the body came */
	space *s = space_find(p, owner, name);

	log_info("space %s/%s: commit %.12s through the API", owner, name, sha);
	if (s != NULL)
		space_on_push(p, s, sha);
}

static void
commit_finish(commit_req *c)
{
	char err[512], sha[41], *msg;
	int r;

	/* the last line needs no newline (@huggingface/hub sends none) */
	if (c->status == 0 && c->line_len > 0) {
		char *text = c->line;
		size_t n = c->line_len;

		c->line = NULL;
		c->line_len = c->line_cap = 0;
		if (n >= COMMIT_OFFLOAD_LINE) {
			commit_dispatch(c, text, n);
			return;
		}
		commit_line(c, text, n);
		free(text);
	}
	if (c->status == 0 && !c->header_seen)
		commit_fail(c, 400, "empty commit body: NDJSON lines, the first one the header");
	if (c->status == 0 && space_find(c->p, c->owner, c->name) == NULL)
		commit_fail(c, 404, "space %s/%s was deleted", c->owner, c->name);
	if (c->status != 0) {
		if (!c->responded)
			web_json_error(c->x, c->status, "%s", c->err);
		commit_free(c);
		return;
	}
	msg = c->description[0] != '\0' ? xasprintf("%s\n\n%s\n", c->summary, c->description) :
	    xasprintf("%s\n", c->summary);
	r = commit_write(c, msg, sha, err, sizeof(err));
	free(msg);
	if (r != 0) {
		web_json_error(c->x, r, "%s", err);
	} else {
		char *hub = podium_hub_url(c->p);

		web_json(c->x, 200, json_pack("{s:s, s:s++++++, s:b, s:s, s:n}", "commitOid", sha,
		    "commitUrl", hub, "/spaces/", c->owner, "/", c->name, "/commit/", sha,
		    "success", 1, "hookOutput", "", "pullRequestUrl"));
		free(hub);
		commit_built(c->p, c->owner, c->name, sha);
	}
	commit_free(c);
}

static void
commit_work(uv_work_t *w)
{
	commit_req *c = w->data;

	commit_line(c, c->work_text, c->work_len);
}

static void
commit_work_done(uv_work_t *w, int status)
{
	commit_req *c = w->data;
	char *rest = c->pending;
	size_t n = c->pending_len;

	free(c->work_text);
	c->work_text = NULL;
	c->working = 0;
	if (c->aborted) {
		commit_free(c);
		return;
	}
	c->pending = NULL;
	c->pending_len = 0;
	if (c->status == 0 && n > 0)
		commit_feed(c, rest, n);
	free(rest);
	if (c->working)
		return;
	if (c->ended)
		commit_finish(c);
	else
		http_exchange_resume(c->x);
}

static void
commit_end(void *arg)
{
	commit_req *c = arg;

	c->ended = 1;
	if (!c->working)
		commit_finish(c);
}

static void
commit_abort(void *arg)
{
	commit_req *c = arg;

	if (c->working)
		c->aborted = 1; /* freed when the worker is done */
	else
		commit_free(c);
}

void
web_repo_commit(web_call *c)
{
	commit_req *cr;
	http_body_cb cb = { commit_data, commit_end, commit_abort, NULL, NULL };
	char *rev, *path;

	if (web_rev_path(c, &rev, &path) != 0)
		return;
	if (strcmp(rev, "main") != 0) {
		web_json_error(c->x, 400, "podium commits to main only (got revision \"%s\")", rev);
	} else {
		cr = xcalloc(1, sizeof(*cr));
		cr->p = c->p;
		cr->x = c->x;
		cr->owner = xstrdup(space_owner(c->s));
		cr->name = xstrdup(space_name(c->s));
		cr->user = xstrdup(c->user);
		cr->repo = space_repo_path(c->p, c->s);
		cb.arg = cr;
		http_exchange_set_body_cb(c->x, &cb);
	}
	free(rev);
	free(path);
}

/* ---- preupload ---- */

static void
preupload_body(web_call *c, json_t *body)
{
	json_t *files = json_object_get(body, "files"), *out, *f;
	size_t i;

	if (!json_is_array(files)) {
		web_json_error(c->x, 400, "body must be {\"files\": [{\"path\", \"size\", \"sample\"}]}");
		return;
	}
	out = json_array();
	json_array_foreach(files, i, f) {
		const char *path = json_string_value(json_object_get(f, "path"));
		json_int_t size = json_integer_value(json_object_get(f, "size"));

		if (path == NULL || !builder_repo_path_valid(path)) {
			json_decref(out);
			web_json_error(c->x, 400, "files[%zu]: a valid \"path\" is needed", i);
			return;
		}
		/* no LFS here: big files are refused now, before they are sent */
		if (size > (json_int_t)WEB_MAX_FILE) {
			json_decref(out);
			web_json_error(c->x, 413, "%s is larger than %u MiB", path, WEB_MAX_FILE >> 20);
			return;
		}
		json_array_append_new(out, json_pack("{s:s, s:s, s:b}", "path", path, "uploadMode",
		    "regular", "shouldIgnore", 0));
	}
	web_json(c->x, 200, json_pack("{s:o, s:s}", "files", out, "commitOid", ""));
}

void
web_repo_preupload(web_call *c)
{
	char *rev, *path;

	if (web_rev_path(c, &rev, &path) != 0)
		return;
	free(rev);
	free(path);
	/* a sample of each file: more than other API bodies */
	c->body_max = 4u << 20;
	web_with_body(c, preupload_body);
}

/* ---- repos/create's files ---- */

int
web_commit_files(podium *p, space *s, const char *user, json_t *files, char *err, size_t errlen)
{
	commit_req c = { 0 };
	json_t *f, *line;
	char sha[41];
	size_t i;
	int r;

	c.p = p;
	c.user = (char *)user;
	c.repo = space_repo_path(p, s);
	line = json_object();
	op_header(&c, line);
	json_decref(line);
	json_array_foreach(files, i, f) {
		c.lineno = (int)i;
		if (c.status == 0 && !json_is_object(f))
			commit_fail(&c, 400, "files[%zu] must be an object", i);
		if (c.status == 0)
			op_file(&c, f);
	}
	if (c.status != 0) {
		snprintf(err, errlen, "files: %s", c.err);
		r = c.status;
	} else if ((r = commit_write(&c, "Initial commit\n", sha, err, errlen)) == 0) {
		commit_built(p, space_owner(s), space_name(s), sha);
	} else if (r == 412) {
		r = 409;
	}
	builder_commit_free(c.bc);
	free(c.repo);
	free(c.summary);
	free(c.description);
	free(c.line);
	return r;
}
