/* repo_read.c — reading a repository the way the Hub's clients do: a revision's
 * tree, its files, its history and one file's bytes (web/repo_api.c serves them
 * as GET /api/spaces/O/N/tree|revision|commits/REV and /resolve|raw/REV/PATH). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "builder/git_int.h"
#include "common/util.h"

static int
rev_name_valid(const char *rev)
{
	/* Names only: no revision syntax (~ ^ : @{ ..) reaches libgit2. */
	return rev[0] != '\0' && strlen(rev) < 256 && strstr(rev, "..") == NULL &&
	    strspn(rev, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._/-") ==
	    strlen(rev) && rev[0] != '-' && rev[0] != '/';
}

int
builder_repo_resolve(git_repository *repo, const char *rev, git_commit **out)
{
	git_reference *ref = NULL;
	git_object *obj = NULL;
	size_t n = strlen(rev);
	int r = -ESRCH;

	if (!rev_name_valid(rev))
		return -EINVAL;
	if (strcmp(rev, "HEAD") == 0)
		rev = "main";
	if (n >= 4 && n <= 40 && strspn(rev, "0123456789abcdef") == n) {
		git_oid id;

		if (git_oid_fromstrn(&id, rev, n) == 0 &&
		    git_object_lookup_prefix(&obj, repo, &id, n, GIT_OBJECT_COMMIT) == 0) {
			*out = (git_commit *)obj;
			return 0;
		}
	}
	if (git_reference_dwim(&ref, repo, rev) == 0 &&
	    git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT) == 0) {
		*out = (git_commit *)obj;
		r = 0;
	}
	git_reference_free(ref);
	return r;
}

int
builder_repo_path_valid(const char *path)
{
	const char *c = path;

	if (path[0] == '\0' || strlen(path) > 4096)
		return 0;
	for (const char *q = path; *q != '\0'; q++)
		if ((unsigned char)*q < 0x20 || *q == '\\' || *q == 0x7f)
			return 0;
	while (*c != '\0') {
		size_t n = strcspn(c, "/");

		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && strncmp(c, "..", 2) == 0) ||
		    (n == 4 && strncasecmp(c, ".git", 4) == 0))
			return 0;
		c += n;
		if (*c == '/' && *++c == '\0')
			return 0;
	}
	return 1;
}

static void
iso_date(git_time_t t, char *out, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
}

int
builder_repo_at(const char *repo_path, const char *rev, git_repository **repo, git_commit **c, int *empty)
{
	int r;

	*empty = 0;
	if (builder_repo_open(repo_path, repo) != 0)
		return -EIO;
	r = builder_repo_resolve(*repo, rev, c);
	if (r == -ESRCH && (strcmp(rev, "main") == 0 || strcmp(rev, "HEAD") == 0) &&
	    git_repository_head_unborn(*repo) == 1)
		*empty = 1;
	return r == 0 ? 0 : -ESRCH;
}

int
builder_repo_date(const char *repo_path, char iso[32])
{
	git_repository *repo = NULL;
	git_commit *c = NULL;
	int empty, r;

	r = builder_repo_at(repo_path, "main", &repo, &c, &empty);
	if (r == 0)
		iso_date(git_commit_time(c), iso, 32);
	git_commit_free(c);
	git_repository_free(repo);
	return r;
}

/* ---- tree ---- */

typedef struct tree_walk {
	json_t *arr;
	git_repository *repo;
	const char *base;      /* path of the listed tree ("" for the root) */
	int recursive;
} tree_walk;

static json_t *
tree_item(git_repository *repo, const git_tree_entry *e, const char *path)
{
	char oid[GIT_OID_HEXSZ + 1];
	int dir = git_tree_entry_type(e) == GIT_OBJECT_TREE;
	json_int_t size = 0;

	git_oid_tostr(oid, sizeof(oid), git_tree_entry_id(e));
	if (!dir) {
		git_odb *odb = NULL;
		size_t len = 0;
		git_object_t type;

		if (git_repository_odb(&odb, repo) == 0 &&
		    git_odb_read_header(&len, &type, odb, git_tree_entry_id(e)) == 0)
			size = (json_int_t)len;
		git_odb_free(odb);
	}
	return json_pack("{s:s, s:s, s:I, s:s}", "type", dir ? "directory" : "file", "oid", oid,
	    "size", size, "path", path);
}

static int
tree_cb(const char *root, const git_tree_entry *e, void *payload)
{
	tree_walk *w = payload;
	char *path;

	if (git_tree_entry_type(e) == GIT_OBJECT_COMMIT)
		return 0; /* submodules are not files */
	path = xasprintf("%s%s%s%s", w->base, w->base[0] != '\0' ? "/" : "", root,
	    git_tree_entry_name(e));
	json_array_append_new(w->arr, tree_item(w->repo, e, path));
	free(path);
	return w->recursive ? 0 : 1; /* 1: do not descend */
}

/* The tree at path in commit c (the root for ""), or NULL. */
static git_tree *
tree_at(git_repository *repo, git_commit *c, const char *path)
{
	git_tree *root = NULL, *sub = NULL;
	git_tree_entry *e = NULL;

	if (git_commit_tree(&root, c) != 0)
		return NULL;
	if (path[0] == '\0')
		return root;
	if (git_tree_entry_bypath(&e, root, path) == 0 && git_tree_entry_type(e) == GIT_OBJECT_TREE)
		git_tree_lookup(&sub, repo, git_tree_entry_id(e));
	git_tree_entry_free(e);
	git_tree_free(root);
	return sub;
}

int
builder_repo_tree(const char *repo_path, const char *rev, const char *path, int recursive,
    json_t **out)
{
	tree_walk w = { NULL, NULL, path, recursive };
	git_commit *c = NULL;
	git_tree *t = NULL;
	int empty, r;

	*out = NULL;
	if (path[0] != '\0' && !builder_repo_path_valid(path))
		return -ENOENT;
	r = builder_repo_at(repo_path, rev, &w.repo, &c, &empty);
	if (r != 0) {
		/* a space nothing was pushed to lists as empty, like a new Hub repo */
		if (empty && path[0] == '\0') {
			*out = json_array();
			r = 0;
		}
		goto done;
	}
	t = tree_at(w.repo, c, path);
	if (t == NULL) {
		r = -ENOENT;
		goto done;
	}
	w.arr = json_array();
	git_tree_walk(t, GIT_TREEWALK_PRE, tree_cb, &w);
	*out = w.arr;
done:
	git_tree_free(t);
	git_commit_free(c);
	git_repository_free(w.repo);
	return r;
}

/* ---- files (revision) ---- */

static int
sibling_cb(const char *root, const git_tree_entry *e, void *payload)
{
	if (git_tree_entry_type(e) == GIT_OBJECT_BLOB) {
		char *path = xasprintf("%s%s", root, git_tree_entry_name(e));

		json_array_append_new(payload, json_pack("{s:s}", "rfilename", path));
		free(path);
	}
	return 0;
}

int
builder_repo_files(const char *repo_path, const char *rev, char sha[41], json_t **files)
{
	git_repository *repo = NULL;
	git_commit *c = NULL;
	git_tree *t = NULL;
	int empty, r;

	sha[0] = '\0';
	*files = NULL;
	r = builder_repo_at(repo_path, rev, &repo, &c, &empty);
	if (r == 0) {
		git_oid_tostr(sha, 41, git_commit_id(c));
		*files = json_array();
		if (git_commit_tree(&t, c) == 0)
			git_tree_walk(t, GIT_TREEWALK_PRE, sibling_cb, *files);
	} else if (empty) {
		*files = json_array();
		r = 0;
	}
	git_tree_free(t);
	git_commit_free(c);
	git_repository_free(repo);
	return r;
}

/* ---- history ---- */

json_t *
builder_commit_json(const git_commit *c)
{
	const git_signature *a = git_commit_author(c);
	char oid[GIT_OID_HEXSZ + 1], date[32];
	const char *msg = git_commit_message(c), *title = git_commit_summary((git_commit *)c);
	char *m = xstrdup(msg != NULL ? msg : ""), *t = xstrdup(title != NULL ? title : "");
	char *name = xstrdup(a != NULL && a->name != NULL ? a->name : "");
	json_t *j;

	git_oid_tostr(oid, sizeof(oid), git_commit_id(c));
	iso_date(git_commit_time(c), date, sizeof(date));
	utf8_scrub(m);
	utf8_scrub(t);
	utf8_scrub(name);
	j = json_pack("{s:s, s:s, s:s, s:[{s:s, s:s}], s:s}", "id", oid, "title", t, "message", m,
	    "authors", "user", name, "avatar", "", "date", date);
	free(m);
	free(t);
	free(name);
	return j;
}

/* Does commit c change path (its blob or tree differs from the first parent's)? */
static int
touches(git_commit *c, const char *path)
{
	git_commit *parent = NULL;
	git_tree *t = NULL, *pt = NULL;
	git_tree_entry *e = NULL, *pe = NULL;
	int changed;

	if (git_commit_tree(&t, c) != 0)
		return 0;
	git_tree_entry_bypath(&e, t, path);
	if (git_commit_parentcount(c) > 0 && git_commit_parent(&parent, c, 0) == 0 &&
	    git_commit_tree(&pt, parent) == 0)
		git_tree_entry_bypath(&pe, pt, path);
	changed = (e == NULL) != (pe == NULL) || (e != NULL &&
	    !git_oid_equal(git_tree_entry_id(e), git_tree_entry_id(pe)));
	git_tree_entry_free(e);
	git_tree_entry_free(pe);
	git_tree_free(t);
	git_tree_free(pt);
	git_commit_free(parent);
	return changed;
}

/* rev's history (only the commits that change path, when not NULL). */
static int
log_walk(const char *repo_path, const char *rev, const char *path, long offset, long limit,
    json_t **page, long *total)
{
	git_repository *repo = NULL;
	git_revwalk *walk = NULL;
	git_commit *c = NULL;
	git_oid id;
	long seen = 0;
	int empty, r;

	*page = NULL;
	r = builder_repo_at(repo_path, rev, &repo, &c, &empty);
	if (r != 0)
		goto done;
	*page = json_array();
	git_revwalk_new(&walk, repo);
	git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME);
	git_revwalk_push(walk, git_commit_id(c));
	/* without total, the walk stops once the page is full */
	while ((total != NULL || seen < offset + limit) && git_revwalk_next(&id, walk) == 0) {
		git_commit *one = NULL;

		if (path != NULL || (seen >= offset && seen - offset < limit))
			git_commit_lookup(&one, repo, &id);
		if (path != NULL && (one == NULL || !touches(one, path))) {
			git_commit_free(one);
			continue;
		}
		if (one != NULL && seen >= offset && seen - offset < limit)
			json_array_append_new(*page, builder_commit_json(one));
		git_commit_free(one);
		seen++;
	}
	if (total != NULL)
		*total = seen;
done:
	git_revwalk_free(walk);
	git_commit_free(c);
	git_repository_free(repo);
	return r;
}

int
builder_repo_log(const char *repo_path, const char *rev, long offset, long limit, json_t **page,
    long *total)
{
	return log_walk(repo_path, rev, NULL, offset, limit, page, total);
}

int
builder_repo_path_log(const char *repo_path, const char *rev, const char *path, long offset,
    long limit, json_t **page, long *total)
{
	if (!builder_repo_path_valid(path))
		return -ENOENT;
	return log_walk(repo_path, rev, path, offset, limit, page, total);
}

/* ---- one file ---- */

typedef struct blob_objs {
	git_repository *repo;
	git_commit *c;
	git_tree *t;
	git_tree_entry *e;
	git_blob *b;
} blob_objs;

void
builder_blob_release(builder_blob *b)
{
	blob_objs *o = b->priv;

	if (o != NULL) {
		git_blob_free(o->b);
		git_tree_entry_free(o->e);
		git_tree_free(o->t);
		git_commit_free(o->c);
		git_repository_free(o->repo);
		free(o);
	}
	memset(b, 0, sizeof(*b));
}

int
builder_repo_blob(const char *repo_path, const char *rev, const char *path, builder_blob *out)
{
	blob_objs *o = xcalloc(1, sizeof(*o));
	int empty, r;

	memset(out, 0, sizeof(*out));
	out->priv = o;
	r = builder_repo_at(repo_path, rev, &o->repo, &o->c, &empty);
	if (r != 0)
		goto fail;
	if (!builder_repo_path_valid(path) || git_commit_tree(&o->t, o->c) != 0 ||
	    git_tree_entry_bypath(&o->e, o->t, path) != 0 ||
	    git_tree_entry_type(o->e) != GIT_OBJECT_BLOB ||
	    git_blob_lookup(&o->b, o->repo, git_tree_entry_id(o->e)) != 0) {
		r = -ENOENT;
		goto fail;
	}
	out->data = git_blob_rawcontent(o->b);
	out->size = (uint64_t)git_blob_rawsize(o->b);
	git_oid_tostr(out->oid, sizeof(out->oid), git_blob_id(o->b));
	git_oid_tostr(out->commit, sizeof(out->commit), git_commit_id(o->c));
	return 0;
fail:
	builder_blob_release(out);
	return r;
}
