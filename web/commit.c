/* commit.c — the Hub's commit API: files published without git.
 *
 * One commit, from birth to death:
 *   POST /api/spaces/O/N/commit/main (NDJSON) → repo_commit opens the bare repo →
 *   each line as it arrives: {"key":"header","value":{summary, description,
 *   parentCommit?}} first (the tip of main is read into an in-memory index; a
 *   parentCommit that is not that tip is refused with 412), then "file" lines
 *   ({path, content, encoding: base64}) written as blobs and staged, "deletedFile" /
 *   "deletedFolder" lines unstaged → at the end of the body the index becomes a tree
 *   and a commit by the token's user, main moves only if it is still where the header
 *   found it (a push in between: 412) → answer {commitOid, commitUrl} → the space
 *   builds the new commit exactly as after a push (space_on_push).
 *
 * Memory is bounded by one line (a file of REPO_MAX_FILE bytes, base64-encoded);
 * a longer line is a 413 and the rest of the body is dropped unread. */
#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "web/repo.h"
#include "orchestrator/space.h"
#include "common/util.h"

/* base64 of a REPO_MAX_FILE file plus its JSON wrapping */
#define COMMIT_MAX_LINE ((size_t)REPO_MAX_FILE / 3 * 4 + 64 * 1024)
#define COMMIT_MAX_OPS 100000
/* lines from this size on are handled off the loop */
#define COMMIT_OFFLOAD_LINE ((size_t)1 << 20)

typedef struct commit_req {
	podium *p;
	http_exchange *x;
	char *owner, *name, *user;
	git_repository *repo;
	git_index *index;
	git_oid parent;
	int has_parent;
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

static const char *
git_msg(void)
{
	const git_error *e = git_error_last();

	return e != NULL && e->message != NULL ? e->message : "unknown libgit2 error";
}

/* Reads main's tip (if any) into a fresh in-memory index. */
static int
index_from_main(commit_req *c)
{
	git_commit *tip = NULL;
	git_tree *tree = NULL;
	int r;

	if (git_index_new(&c->index) != 0)
		return -1;
	r = repo_resolve(c->repo, "main", &tip);
	if (r == -ENOENT)
		return 0;
	if (r != 0 || git_commit_tree(&tree, tip) != 0 || git_index_read_tree(c->index, tree) != 0) {
		git_commit_free(tip);
		return -1;
	}
	git_oid_cpy(&c->parent, git_commit_id(tip));
	c->has_parent = 1;
	git_tree_free(tree);
	git_commit_free(tip);
	return 0;
}

static void
op_header(commit_req *c, json_t *v)
{
	const char *summary = json_string_value(json_object_get(v, "summary"));
	const char *desc = json_string_value(json_object_get(v, "description"));
	json_t *pj = json_object_get(v, "parentCommit");
	const char *parent = json_string_value(pj);

	if (pj != NULL && !json_is_null(pj) && parent == NULL) {
		commit_fail(c, 400, "line %d: \"parentCommit\" must be a string", c->lineno);
		return;
	}
	if (index_from_main(c) != 0) {
		commit_fail(c, 500, "internal error: main could not be read: %s", git_msg());
		return;
	}
	if (parent != NULL) {
		char tip[GIT_OID_HEXSZ + 1] = "";

		if (c->has_parent)
			git_oid_tostr(tip, sizeof(tip), &c->parent);
		/* the Hub takes the full sha; an abbreviation is a prefix of it */
		if (!c->has_parent || strlen(parent) < 7 || strncmp(tip, parent, strlen(parent)) != 0) {
			commit_fail(c, 412, "parentCommit %s is not the tip of main (%s): fetch and retry",
			    parent, c->has_parent ? tip : "no commits yet");
			return;
		}
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
	git_index_entry e;
	git_oid id;

	if (path == NULL || content == NULL) {
		commit_fail(c, 400, "line %d: a file needs \"path\" and \"content\" strings", c->lineno);
		return;
	}
	if (!repo_path_valid(path)) {
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
	if (len > REPO_MAX_FILE) {
		free(buf);
		commit_fail(c, 413, "%s is larger than %u MiB", path, REPO_MAX_FILE >> 20);
		return;
	}
	if (git_blob_create_from_buffer(&id, c->repo, buf, len) != 0) {
		free(buf);
		commit_fail(c, 500, "internal error: %s could not be stored: %s", path, git_msg());
		return;
	}
	free(buf);
	memset(&e, 0, sizeof(e));
	e.mode = GIT_FILEMODE_BLOB;
	e.id = id;
	e.path = path;
	e.file_size = (uint32_t)len;
	/* a file where a directory was (or the reverse) replaces it, as in git add */
	git_index_remove_directory(c->index, path, 0);
	if (git_index_add(c->index, &e) != 0)
		commit_fail(c, 400, "line %d: %s could not be added: %s", c->lineno, path, git_msg());
}

static void
op_delete(commit_req *c, json_t *v, int folder)
{
	const char *p = json_string_value(json_object_get(v, "path"));
	char *path = xstrdup(p != NULL ? p : "");
	size_t before, n = strlen(path);

	/* the Hub's clients send folders with a trailing slash */
	if (folder && n > 1 && path[n - 1] == '/')
		path[n - 1] = '\0';
	if (!repo_path_valid(path)) {
		commit_fail(c, 400, "line %d: a deletion needs a valid \"path\"", c->lineno);
		free(path);
		return;
	}
	before = git_index_entrycount(c->index);
	if (folder)
		git_index_remove_directory(c->index, path, 0);
	else
		git_index_remove(c->index, path, 0);
	if (git_index_entrycount(c->index) == before)
		commit_fail(c, 404, "line %d: %s does not exist on main", c->lineno, path);
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
		    "committed as regular files", c->lineno, REPO_MAX_FILE >> 20);
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
			    REPO_MAX_FILE >> 20);
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
	git_index_free(c->index);
	git_repository_free(c->repo);
	free(c->owner);
	free(c->name);
	free(c->user);
	free(c->summary);
	free(c->description);
	free(c->line);
	free(c->pending);
	free(c);
}

/* Writes the index as a commit by user and moves main from the parent the commit
 * was built on. 0, -EAGAIN (main moved meanwhile) or -EIO (err set). */
static int
commit_write(podium *p, git_repository *repo, git_index *index, const char *user,
    const git_oid *parent, const char *message, git_oid *out, char *err, size_t errlen)
{
	git_signature *sig = NULL;
	git_commit *pc = NULL;
	git_tree *tree = NULL;
	git_reference *ref = NULL;
	git_oid tree_id;
	char *email = xasprintf("%s@users.noreply.%s", user, p->domain);
	int r = -EIO;

	if (git_index_write_tree_to(&tree_id, index, repo) != 0 ||
	    git_tree_lookup(&tree, repo, &tree_id) != 0 ||
	    git_signature_now(&sig, user, email) != 0 ||
	    (parent != NULL && git_commit_lookup(&pc, repo, parent) != 0) ||
	    git_commit_create(out, repo, NULL, sig, sig, "UTF-8", message, tree, parent != NULL ? 1 : 0,
	    (const git_commit **)&pc) != 0) {
		snprintf(err, errlen, "internal error: the commit could not be written: %s", git_msg());
		goto done;
	}
	/* compare-and-swap on main: a push or another commit in between wins */
	r = parent != NULL ?
	    git_reference_create_matching(&ref, repo, REPO_BRANCH, out, 1, parent, "commit (podium api)") :
	    git_reference_create(&ref, repo, REPO_BRANCH, out, 0, "commit (podium api)");
	if (r == GIT_EMODIFIED || r == GIT_EEXISTS || r == GIT_ELOCKED) {
		snprintf(err, errlen, "main moved while the commit was written: fetch and retry");
		r = -EAGAIN;
	} else if (r != 0) {
		snprintf(err, errlen, "internal error: main could not be updated: %s", git_msg());
		r = -EIO;
	}
done:
	free(email);
	git_reference_free(ref);
	git_commit_free(pc);
	git_tree_free(tree);
	git_signature_free(sig);
	return r;
}

static void
commit_built(podium *p, const char *owner, const char *name, const git_oid *id)
{
	char sha[GIT_OID_HEXSZ + 1];
	/* looked up again: the space may have been deleted while the body came */
	space *s = space_find(p, owner, name);

	git_oid_tostr(sha, sizeof(sha), id);
	log_info("space %s/%s: commit %.12s through the API", owner, name, sha);
	if (s != NULL)
		space_on_push(p, s, sha);
}

static void
commit_finish(commit_req *c)
{
	char err[512], sha[GIT_OID_HEXSZ + 1], *msg;
	git_oid id;
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
	r = commit_write(c->p, c->repo, c->index, c->user, c->has_parent ? &c->parent : NULL, msg,
	    &id, err, sizeof(err));
	free(msg);
	if (r != 0) {
		web_json_error(c->x, r == -EAGAIN ? 412 : 500, "%s", err);
	} else {
		char *hub = podium_hub_url(c->p);

		git_oid_tostr(sha, sizeof(sha), &id);
		web_json(c->x, 200, json_pack("{s:s, s:s++++++, s:b, s:s, s:n}", "commitOid", sha,
		    "commitUrl", hub, "/spaces/", c->owner, "/", c->name, "/commit/", sha,
		    "success", 1, "hookOutput", "", "pullRequestUrl"));
		free(hub);
		commit_built(c->p, c->owner, c->name, &id);
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
repo_commit(podium *p, http_exchange *x, space *s, const char *user, const char *rev)
{
	commit_req *c;
	http_body_cb cb = { commit_data, commit_end, commit_abort, NULL, NULL };

	if (strcmp(rev, "main") != 0) {
		web_json_error(x, 400, "podium commits to main only (got revision \"%s\")", rev);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->p = p;
	c->x = x;
	c->owner = xstrdup(space_owner(s));
	c->name = xstrdup(space_name(s));
	c->user = xstrdup(user);
	if (repo_open(p, s, &c->repo) != 0) {
		commit_free(c);
		web_json_error(x, 500, "internal error: the repository could not be opened");
		return;
	}
	cb.arg = c;
	http_exchange_set_body_cb(x, &cb);
}

/* ---- preupload ---- */

typedef struct preupload_req {
	http_exchange *x;
	char *body;
	size_t len;
	int too_big;
} preupload_req;

static void
preupload_data(void *arg, const char *data, size_t len)
{
	preupload_req *a = arg;

	if (a->too_big || a->len + len > (4u << 20)) {
		a->too_big = 1;
		return;
	}
	a->body = xrealloc(a->body, a->len + len + 1);
	memcpy(a->body + a->len, data, len);
	a->len += len;
}

static void
preupload_answer(preupload_req *a)
{
	json_t *j = a->too_big ? NULL : json_loadb(a->body != NULL ? a->body : "", a->len, 0, NULL);
	json_t *files = json_object_get(j, "files"), *out = json_array(), *f;
	size_t i;

	if (!json_is_array(files)) {
		json_decref(out);
		web_json_error(a->x, 400, "body must be {\"files\": [{\"path\", \"size\", \"sample\"}]}");
		goto done;
	}
	json_array_foreach(files, i, f) {
		const char *path = json_string_value(json_object_get(f, "path"));
		json_int_t size = json_integer_value(json_object_get(f, "size"));

		if (path == NULL || !repo_path_valid(path)) {
			json_decref(out);
			web_json_error(a->x, 400, "files[%zu]: a valid \"path\" is needed", i);
			goto done;
		}
		/* no LFS here: big files are refused now, before they are sent */
		if (size > (json_int_t)REPO_MAX_FILE) {
			json_decref(out);
			web_json_error(a->x, 413, "%s is larger than %u MiB", path, REPO_MAX_FILE >> 20);
			goto done;
		}
		json_array_append_new(out, json_pack("{s:s, s:s, s:b}", "path", path, "uploadMode",
		    "regular", "shouldIgnore", 0));
	}
	web_json(a->x, 200, json_pack("{s:o, s:s}", "files", out, "commitOid", ""));
done:
	json_decref(j);
}

static void
preupload_end(void *arg)
{
	preupload_req *a = arg;

	preupload_answer(a);
	free(a->body);
	free(a);
}

static void
preupload_abort(void *arg)
{
	preupload_req *a = arg;

	free(a->body);
	free(a);
}

void
repo_preupload(podium *p, http_exchange *x, space *s, const char *user, const char *rev)
{
	preupload_req *a = xcalloc(1, sizeof(*a));
	http_body_cb cb = { preupload_data, preupload_end, preupload_abort, NULL, a };

	a->x = x;
	http_exchange_set_body_cb(x, &cb);
}

/* ---- repos/create's files ---- */

int
repo_commit_files(podium *p, space *s, const char *user, json_t *files, char *err, size_t errlen)
{
	commit_req c = { 0 };
	json_t *f, *line;
	size_t i;
	git_oid id;
	int r;

	c.p = p;
	if (repo_open(p, s, &c.repo) != 0) {
		snprintf(err, errlen, "internal error: the repository could not be opened");
		return 500;
	}
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
		goto done;
	}
	r = commit_write(p, c.repo, c.index, user, c.has_parent ? &c.parent : NULL,
	    "Initial commit\n", &id, err, errlen);
	if (r == 0)
		commit_built(p, space_owner(s), space_name(s), &id);
	else
		r = r == -EAGAIN ? 409 : 500;
done:
	git_index_free(c.index);
	git_repository_free(c.repo);
	free(c.summary);
	free(c.description);
	free(c.line);
	return r;
}
