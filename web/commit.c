/* commit.c — the Hub's commit API: files published without git.
 *
 * One commit, from birth to death:
 *   POST /api/spaces/O/N/commit/BRANCH (NDJSON) → web_repo_commit takes one of
 *   COMMIT_RUNNING slots (the others wait, their bodies unread) → each line as it
 *   arrives (commit_lines.c keeps a file's content on disk, not in memory):
 *   {"key":"header","value":{summary, description, parentCommit?}} first
 *   (builder_commit_start stages the branch's files; a parentCommit that is not its
 *   tip is refused with 412), then "file" lines decoded into the object database
 *   (a spooled one on a worker thread, COMMIT_WORKERS at a time, the body paused
 *   meanwhile), "deletedFile" / "deletedFolder" lines unstaged → at the end of the
 *   body builder_commit_write makes the commit by the token's user, the branch
 *   moving only if it is still where the header found it (a push in between: 412)
 *   → answer {commitOid, commitUrl} → a commit to main builds exactly as after a
 *   push (space_on_push); another branch just moves.
 *
 * Memory: a line without its long strings, a chunk of the body and a decoding's
 * buffers; never a file's content. */
#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builder/git.h"
#include "common/log.h"
#include "common/util.h"
#include "orchestrator/space.h"
#include "web/web_int.h"

/* base64 of a WEB_MAX_FILE file plus its JSON wrapping */
#define COMMIT_MAX_LINE ((uint64_t)WEB_MAX_FILE / 3 * 4 + 64 * 1024)
/* a line without its long strings */
#define COMMIT_MAX_TEXT ((size_t)1 << 20)
#define COMMIT_MAX_OPS 100000
/* commits taking their bodies at once; the others wait, unread */
#define COMMIT_RUNNING 4
/* spooled files decoded into the object database at once (worker threads) */
#define COMMIT_WORKERS 2
/* base64 read from a spool at a time: a multiple of 4 */
#define DECODE_CHUNK ((size_t)256 << 10)

enum { JOB_NONE, JOB_QUEUED, JOB_RUNNING };

typedef struct commit_req {
	podium *p;
	http_exchange *x;
	char *owner, *name, *user, *repo, *branch;
	char *hub;             /* the answer's URLs: the host the request came to */
	builder_commit *bc;    /* from the header on */
	char *summary, *description;
	line_reader *lr;
	int slot;              /* holds one of COMMIT_RUNNING */
	int job;               /* the current line on a worker: JOB_* */
	uv_work_t work;
	int ended, aborted;
	int responded;         /* answered early (413 while the body still comes) */
	char *pending;         /* bytes that came while the body was paused */
	size_t pending_len;
	struct commit_req *next;   /* in the slot or the worker queue */
	int lineno, nops, header_seen;
	int status;            /* first error: its HTTP status (0: none yet) */
	const char *code;      /* and its X-Error-Code, or NULL */
	char err[512];
} commit_req;

/* Main loop only. */
static int running, workers;
static commit_req *slot_queue, *work_queue;

static void
commit_fail(commit_req *c, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
commit_fail(commit_req *c, int status, const char *code, const char *fmt, ...)
{
	va_list ap;

	if (c->status != 0)
		return;
	c->status = status;
	c->code = code;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
}

/* A builder error as the answer's status and message. */
static void
builder_fail(commit_req *c, int r, const char *err)
{
	if (r == -EIO)
		commit_fail(c, 500, NULL, "internal error: %s", err);
	else if (r == -ENOENT)
		commit_fail(c, 404, "EntryNotFound", "line %d: %s", c->lineno, err);
	else
		commit_fail(c, 400, NULL, "line %d: %s", c->lineno, err);
}

/* A string member that is not a spooled one (a path, an encoding, a summary: a
 * long one is refused as too long), or NULL. */
static const char *
line_string(commit_req *c, json_t *v, const char *key)
{
	const char *s = json_string_value(json_object_get(v, key));

	return c->lr != NULL && line_reader_spool(c->lr, s) != NULL ? NULL : s;
}

/* ---- the operations ---- */

/* The header's strings: each absent, null, or a string that is not a long one. */
static int
header_strings_ok(commit_req *c, json_t *v)
{
	static const char *const keys[] = { "summary", "description", "parentCommit" };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *k = json_object_get(v, keys[i]);

		if (k != NULL && !json_is_null(k) && line_string(c, v, keys[i]) == NULL)
			return 0;
	}
	return 1;
}

static void
op_header(commit_req *c, json_t *v)
{
	const char *summary = line_string(c, v, "summary"), *desc = line_string(c, v, "description");
	const char *parent = line_string(c, v, "parentCommit");
	char err[400];
	int r;

	if (!header_strings_ok(c, v)) {
		commit_fail(c, 400, NULL, "line %d: \"summary\", \"description\" and \"parentCommit\" "
		    "must be strings (of at most %zu bytes)", c->lineno, LINE_SPOOL_MIN);
		return;
	}
	r = builder_commit_start(c->repo, c->branch, parent, &c->bc, err, sizeof(err));
	if (r == -ESTALE)
		commit_fail(c, 412, NULL, "parentCommit %s", err);
	else if (r == -ESRCH)
		commit_fail(c, 404, "RevisionNotFound", "%s", err);
	else if (r != 0)
		commit_fail(c, 500, NULL, "internal error: %s", err);
	if (r != 0)
		return;
	c->summary = xstrdup(summary != NULL && summary[0] != '\0' ? summary : "Upload files");
	c->description = xstrdup(desc != NULL ? desc : "");
}

/* A file's content given in the line: base64 or utf-8 text. */
static void
file_from_text(commit_req *c, const char *path, const char *content, size_t clen, const char *enc)
{
	unsigned char *buf;
	size_t len = 0;
	char err[400];
	int r;

	if (enc == NULL || strcmp(enc, "base64") == 0) {
		buf = xmalloc(clen / 4 * 3 + 3);
		if (sodium_base642bin(buf, clen / 4 * 3 + 3, content, clen, "\r\n", &len, NULL,
		    sodium_base64_VARIANT_ORIGINAL) != 0) {
			free(buf);
			commit_fail(c, 400, NULL, "line %d: the content of %s is not valid base64",
			    c->lineno, path);
			return;
		}
	} else if (strcmp(enc, "utf-8") == 0 || strcmp(enc, "utf8") == 0) {
		buf = (unsigned char *)xstrndup(content, clen);
		len = clen;
	} else {
		commit_fail(c, 400, NULL, "line %d: unknown encoding \"%s\" (base64 or utf-8)",
		    c->lineno, enc);
		return;
	}
	if (len > WEB_MAX_FILE)
		commit_fail(c, 413, NULL, "%s is larger than %u MiB", path, WEB_MAX_FILE >> 20);
	else if ((r = builder_commit_add(c->bc, path, buf, len, err, sizeof(err))) != 0)
		builder_fail(c, r, err);
	free(buf);
}

/* Reads n bytes of a spool at off: 0, or -1. */
static int
spool_read(const line_spool *sp, uint64_t off, void *buf, size_t n)
{
	while (n > 0) {
		ssize_t got = pread(sp->fd, buf, n, (off_t)off);

		if (got <= 0)
			return -1;
		buf = (char *)buf + got;
		off += (uint64_t)got;
		n -= (size_t)got;
	}
	return 0;
}

/* A spooled base64 content without escapes (what every client sends): decoded a
 * chunk at a time into the object database. */
static void
file_from_spool(commit_req *c, const char *path, const line_spool *sp)
{
	char tail[2], err[400], *in = NULL;
	unsigned char *out = NULL;
	builder_blob_writer *w = NULL;
	uint64_t size, off;
	size_t pad;
	int r;

	if (sp->len % 4 != 0 || spool_read(sp, sp->len - 2, tail, 2) != 0) {
		commit_fail(c, 400, NULL, "line %d: the content of %s is not valid base64", c->lineno,
		    path);
		return;
	}
	pad = (tail[1] == '=') + (tail[0] == '=' && tail[1] == '=');
	size = sp->len / 4 * 3 - pad;
	if (size > WEB_MAX_FILE) {
		commit_fail(c, 413, NULL, "%s is larger than %u MiB", path, WEB_MAX_FILE >> 20);
		return;
	}
	if ((r = builder_commit_blob_open(c->bc, size, &w, err, sizeof(err))) != 0) {
		builder_fail(c, r, err);
		return;
	}
	in = xmalloc(DECODE_CHUNK);
	out = xmalloc(DECODE_CHUNK / 4 * 3);
	for (off = 0; off < sp->len && c->status == 0; off += DECODE_CHUNK) {
		size_t n = sp->len - off < DECODE_CHUNK ? (size_t)(sp->len - off) : DECODE_CHUNK, got = 0;

		if (spool_read(sp, off, in, n) != 0)
			commit_fail(c, 500, NULL, "internal error: the content of %s could not be read back",
			    path);
		else if (sodium_base642bin(out, DECODE_CHUNK / 4 * 3, in, n, NULL, &got, NULL,
		    sodium_base64_VARIANT_ORIGINAL) != 0)
			commit_fail(c, 400, NULL, "line %d: the content of %s is not valid base64",
			    c->lineno, path);
		else if (builder_blob_write(w, out, got) != 0)
			commit_fail(c, 500, NULL, "internal error: %s could not be stored", path);
	}
	if (c->status != 0)
		builder_blob_writer_abort(w);
	else if ((r = builder_commit_add_blob(c->bc, path, w, err, sizeof(err))) != 0)
		builder_fail(c, r, err);
	free(in);
	free(out);
}

/* A spooled content that is not plain base64 (escapes, utf-8): its JSON string
 * read whole and decoded by jansson. Caller frees; NULL on failure (answered). */
static char *
spool_text(commit_req *c, const line_spool *sp, size_t *len)
{
	char *raw = xmalloc((size_t)sp->len + 2), *out = NULL;
	json_t *j = NULL;

	raw[0] = '"';
	raw[sp->len + 1] = '"';
	if (spool_read(sp, 0, raw + 1, (size_t)sp->len) == 0 &&
	    (j = json_loadb(raw, (size_t)sp->len + 2, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL)) != NULL &&
	    json_is_string(j)) {
		*len = json_string_length(j);
		out = xmalloc(*len + 1);
		memcpy(out, json_string_value(j), *len + 1);
	} else {
		commit_fail(c, 400, NULL, "line %d: a string is not valid JSON", c->lineno);
	}
	json_decref(j);
	free(raw);
	return out;
}

static void
op_file(commit_req *c, json_t *v)
{
	const char *path = line_string(c, v, "path"), *enc = line_string(c, v, "encoding");
	json_t *content = json_object_get(v, "content");
	const line_spool *sp = c->lr != NULL ? line_reader_spool(c->lr, json_string_value(content)) :
	    NULL;
	char *text;
	size_t len;

	if (path == NULL || !json_is_string(content)) {
		commit_fail(c, 400, NULL, "line %d: a file needs \"path\" and \"content\" strings",
		    c->lineno);
	} else if (!builder_repo_path_valid(path)) {
		commit_fail(c, 400, NULL, "line %d: invalid path \"%s\"", c->lineno, path);
	} else if (sp != NULL && !sp->escaped && (enc == NULL || strcmp(enc, "base64") == 0)) {
		file_from_spool(c, path, sp);
	} else if (sp != NULL) {
		if ((text = spool_text(c, sp, &len)) != NULL)
			file_from_text(c, path, text, len, enc);
		free(text);
	} else {
		file_from_text(c, path, json_string_value(content), json_string_length(content), enc);
	}
}

static void
op_delete(commit_req *c, json_t *v, int folder)
{
	const char *p = line_string(c, v, "path");
	char *path = xstrdup(p != NULL ? p : ""), err[400];
	size_t n = strlen(path);
	int r;

	/* the Hub's clients send folders with a trailing slash */
	if (folder && n > 1 && path[n - 1] == '/')
		path[n - 1] = '\0';
	if (!builder_repo_path_valid(path))
		commit_fail(c, 400, NULL, "line %d: a deletion needs a valid \"path\"", c->lineno);
	else if ((r = builder_commit_remove(c->bc, path, folder, err, sizeof(err))) != 0)
		builder_fail(c, r, err);
	free(path);
}

static void
commit_op(commit_req *c, const char *key, json_t *v)
{
	if (!c->header_seen && strcmp(key, "header") != 0) {
		commit_fail(c, 400, NULL, "line %d: the first line must be the header", c->lineno);
	} else if (strcmp(key, "header") == 0) {
		if (c->header_seen)
			commit_fail(c, 400, NULL, "line %d: a second header", c->lineno);
		c->header_seen = 1;
		op_header(c, v);
	} else if (++c->nops > COMMIT_MAX_OPS) {
		commit_fail(c, 413, NULL, "more than %d operations in one commit", COMMIT_MAX_OPS);
	} else if (strcmp(key, "file") == 0) {
		op_file(c, v);
	} else if (strcmp(key, "deletedFile") == 0) {
		op_delete(c, v, 0);
	} else if (strcmp(key, "deletedFolder") == 0) {
		op_delete(c, v, 1);
	} else if (strcmp(key, "lfsFile") == 0) {
		commit_fail(c, 400, NULL, "line %d: LFS files are not supported: files up to %u MiB "
		    "are committed as regular files", c->lineno, WEB_MAX_FILE >> 20);
	} else {
		commit_fail(c, 400, NULL, "line %d: unknown key \"%s\"", c->lineno, key);
	}
}

/* The line the reader holds. */
static void
commit_line(commit_req *c)
{
	size_t len;
	const char *text = line_reader_text(c->lr, &len);
	json_error_t jerr;
	json_t *j, *v;
	const char *key;

	c->lineno++;
	if (len == 0 || (len == 1 && text[0] == '\r'))
		return;
	j = json_loadb(text, len, 0, &jerr);
	if (j == NULL) {
		commit_fail(c, 400, NULL, "line %d: invalid JSON at column %d: %s", c->lineno,
		    jerr.column, jerr.text);
		return;
	}
	key = json_string_value(json_object_get(j, "key"));
	v = json_object_get(j, "value");
	if (key == NULL || !json_is_object(v))
		commit_fail(c, 400, NULL, "line %d: each line is {\"key\": ..., \"value\": {...}}",
		    c->lineno);
	else
		commit_op(c, key, v);
	json_decref(j);
}

/* ---- the flow: slots, workers, the body ---- */

static void
queue_push(commit_req **q, commit_req *c)
{
	c->next = NULL;
	while (*q != NULL)
		q = &(*q)->next;
	*q = c;
}

static commit_req *
queue_pop(commit_req **q)
{
	commit_req *c = *q;

	if (c != NULL)
		*q = c->next;
	return c;
}

static void
queue_remove(commit_req **q, commit_req *c)
{
	for (; *q != NULL; q = &(*q)->next) {
		if (*q == c) {
			*q = c->next;
			return;
		}
	}
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

static void slots_grant(void);
static void commit_feed(commit_req *c, const char *data, size_t len);
static void commit_finish(commit_req *c);

static void
commit_free(commit_req *c)
{
	builder_commit_free(c->bc);
	line_reader_free(c->lr);
	free(c->repo);
	free(c->owner);
	free(c->name);
	free(c->user);
	free(c->branch);
	free(c->hub);
	free(c->summary);
	free(c->description);
	free(c->pending);
	if (c->slot)
		running--;
	else
		queue_remove(&slot_queue, c);
	free(c);
	slots_grant();
}

static void
commit_work(uv_work_t *w)
{
	commit_line(w->data);
}

static void workers_start(void);

/* Bytes that came meanwhile, then the end of the body, or more of it. */
static void
commit_go_on(commit_req *c)
{
	char *rest = c->pending;
	size_t n = c->pending_len;

	c->pending = NULL;
	c->pending_len = 0;
	if (n > 0)
		commit_feed(c, rest, n);
	free(rest);
	if (c->job != JOB_NONE)
		return;
	if (c->ended)
		commit_finish(c);
	else
		http_exchange_resume(c->x);
}

static void
commit_work_done(uv_work_t *w, int status)
{
	commit_req *c = w->data;

	workers--;
	c->job = JOB_NONE;
	line_reader_next(c->lr);
	workers_start();
	if (c->aborted)
		commit_free(c);
	else
		commit_go_on(c);
}

static void
workers_start(void)
{
	commit_req *c;

	while (workers < COMMIT_WORKERS && (c = queue_pop(&work_queue)) != NULL) {
		c->job = JOB_RUNNING;
		c->work.data = c;
		workers++;
		uv_queue_work(c->p->loop, &c->work, commit_work, commit_work_done);
	}
}

/* The line is complete: here, or on a worker when it has spooled strings (the
 * body waits meanwhile). 1: handed to a worker. */
static int
commit_take_line(commit_req *c)
{
	if (line_reader_spools(c->lr) == 0) {
		commit_line(c);
		line_reader_next(c->lr);
		return 0;
	}
	c->job = JOB_QUEUED;
	if (!c->ended)
		http_exchange_pause(c->x);
	queue_push(&work_queue, c);
	workers_start();
	return 1;
}

static void
commit_feed(commit_req *c, const char *data, size_t len)
{
	while (len > 0 && c->status == 0) {
		size_t used;
		const char *msg;
		int r = line_reader_feed(c->lr, data, len, &used);

		if (r < 0) {
			r = line_reader_error(c->lr, &msg);
			commit_fail(c, r, NULL, "line %d: %s", c->lineno + 1, msg);
			/* answered now: the client need not send the rest */
			web_json_error(c->x, c->status, "%s", c->err);
			c->responded = 1;
			return;
		}
		data += used;
		len -= used;
		if (r == 1 && commit_take_line(c)) {
			pending_add(c, data, len);
			return;
		}
	}
}

static void
commit_data(void *arg, const char *data, size_t len)
{
	commit_req *c = arg;

	if (!c->slot || c->job != JOB_NONE)
		pending_add(c, data, len);
	else
		commit_feed(c, data, len);
}

static void
slots_grant(void)
{
	commit_req *c;

	while (running < COMMIT_RUNNING && (c = queue_pop(&slot_queue)) != NULL) {
		c->slot = 1;
		running++;
		commit_go_on(c);
	}
}

/* Writes what is staged as a commit by the user: 0 and its sha, or an HTTP status
 * (412 the branch moved meanwhile, 500) with err set. */
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
	if (c->status == 0 && line_reader_end(c->lr) && commit_take_line(c))
		return;
	if (c->status == 0 && !c->header_seen)
		commit_fail(c, 400, NULL, "empty commit body: NDJSON lines, the first one the header");
	if (c->status == 0 && space_find(c->p, c->owner, c->name) == NULL)
		commit_fail(c, 404, "RepoNotFound", "space %s/%s was deleted", c->owner, c->name);
	if (c->status != 0) {
		if (!c->responded)
			web_json_error_code(c->x, c->status, c->code, "%s", c->err);
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
		web_json(c->x, 200, json_pack("{s:s, s:s++++++, s:b, s:s, s:n}", "commitOid", sha,
		    "commitUrl", c->hub, "/spaces/", c->owner, "/", c->name, "/commit/", sha,
		    "success", 1, "hookOutput", "", "pullRequestUrl"));
		if (strcmp(c->branch, "main") == 0)
			commit_built(c->p, c->owner, c->name, sha);
		else
			log_info("space %s/%s: commit %.12s on branch %s through the API", c->owner,
			    c->name, sha, c->branch);
	}
	commit_free(c);
}

static void
commit_end(void *arg)
{
	commit_req *c = arg;

	c->ended = 1;
	if (c->slot && c->job == JOB_NONE)
		commit_finish(c);
}

static void
commit_abort(void *arg)
{
	commit_req *c = arg;

	if (c->job == JOB_RUNNING) {
		c->aborted = 1; /* freed when the worker is done */
		return;
	}
	if (c->job == JOB_QUEUED)
		queue_remove(&work_queue, c);
	commit_free(c);
}

void
web_repo_commit(web_call *c)
{
	http_body_cb cb = { commit_data, commit_end, commit_abort, NULL, NULL };
	char *rev, *path;
	commit_req *cr;

	if (web_rev_path(c, &rev, &path) != 0)
		return;
	if (web_query_true(c->r->query, "create_pr")) {
		/* nothing committed: create_commit(create_pr=True) gets a clear 400 */
		web_json_error(c->x, 400, "pull requests are not supported on podium: commit to a "
		    "branch instead (create_branch, then revision=BRANCH)");
		free(rev);
		free(path);
		return;
	}
	cr = xcalloc(1, sizeof(*cr));
	cr->p = c->p;
	cr->x = c->x;
	cr->owner = xstrdup(space_owner(c->s));
	cr->name = xstrdup(space_name(c->s));
	cr->user = xstrdup(c->user);
	cr->branch = rev;
	cr->hub = web_hub_base(c->p, c->x);
	cr->repo = space_repo_path(c->p, c->s);
	cr->lr = line_reader_new(cr->repo, COMMIT_MAX_TEXT, COMMIT_MAX_LINE);
	cb.arg = cr;
	http_exchange_set_body_cb(c->x, &cb);
	/* at most COMMIT_RUNNING at a time: the others wait with their bodies unread */
	http_exchange_pause(c->x);
	queue_push(&slot_queue, cr);
	slots_grant();
	free(path);
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
	c.branch = "main";
	c.repo = space_repo_path(p, s);
	line = json_object();
	op_header(&c, line);
	json_decref(line);
	json_array_foreach(files, i, f) {
		c.lineno = (int)i;
		if (c.status == 0 && !json_is_object(f))
			commit_fail(&c, 400, NULL, "files[%zu] must be an object", i);
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
	return r;
}
