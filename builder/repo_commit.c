/* repo_commit.c — a commit on a branch made of files rather than pushed: the
 * branch's tree is read into an in-memory index, files are written as blobs (whole,
 * or streamed into the object database) and staged (or unstaged), then the index
 * becomes a tree and a commit, and the branch moves only if it is still where the
 * index was read from (web/commit.c feeds it the Hub's NDJSON commit API and
 * repos/create's files). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/git_int.h"
#include "common/util.h"

struct builder_commit {
	git_repository *repo;
	git_index *index;
	char *ref;             /* refs/heads/BRANCH */
	char *branch;
	git_oid parent;        /* the branch's tip at the start */
	int has_parent;        /* 0: main had no commit yet */
};

struct builder_blob_writer {
	git_odb *odb;
	git_odb_stream *stream;
	uint64_t size;
};

/* Reads the branch's tip into a fresh in-memory index: 0, -ESRCH (no such
 * branch; main without a commit is an empty one), -1. */
static int
index_from_branch(builder_commit *c)
{
	git_reference *ref = NULL;
	git_commit *tip = NULL;
	git_tree *tree = NULL;
	int r;

	if (git_index_new(&c->index) != 0)
		return -1;
	r = git_reference_lookup(&ref, c->repo, c->ref);
	if (r == GIT_ENOTFOUND)
		return strcmp(c->branch, "main") == 0 ? 0 : -ESRCH;
	r = r != 0 ? -1 : git_reference_peel((git_object **)&tip, ref, GIT_OBJECT_COMMIT);
	git_reference_free(ref);
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

int
builder_commit_start(const char *repo_path, const char *branch, const char *parent,
    builder_commit **out, char *err, size_t errlen)
{
	builder_commit *c = xcalloc(1, sizeof(*c));
	char tip[GIT_OID_HEXSZ + 1] = "";
	int r;

	*out = c;
	c->branch = xstrdup(branch);
	c->ref = xasprintf("refs/heads/%s", branch);
	if (!builder_rev_name_valid(branch)) {
		snprintf(err, errlen, "branch %.200s not found", branch);
		return -ESRCH;
	}
	if (builder_repo_open(repo_path, &c->repo) != 0) {
		snprintf(err, errlen, "the repository could not be opened");
		return -EIO;
	}
	if ((r = index_from_branch(c)) != 0) {
		if (r == -ESRCH)
			snprintf(err, errlen, "branch %s not found: make it first (create_branch)",
			    branch);
		else
			snprintf(err, errlen, "%s could not be read: %s", branch, builder_git_errmsg());
		return r == -ESRCH ? -ESRCH : -EIO;
	}
	if (parent == NULL)
		return 0;
	if (c->has_parent)
		git_oid_tostr(tip, sizeof(tip), &c->parent);
	/* the Hub takes the full sha; an abbreviation is a prefix of it */
	if (!c->has_parent || strlen(parent) < 7 || strncmp(tip, parent, strlen(parent)) != 0) {
		snprintf(err, errlen, "%s is not the tip of %s (%s): fetch and retry", parent, branch,
		    c->has_parent ? tip : "no commits yet");
		return -ESTALE;
	}
	return 0;
}

/* Stages blob id at path (a file where a directory was, or the reverse, replaces
 * it, as git add does). */
static int
stage(builder_commit *c, const char *path, const git_oid *id, uint64_t size, char *err,
    size_t errlen)
{
	git_index_entry e;

	memset(&e, 0, sizeof(e));
	e.mode = GIT_FILEMODE_BLOB;
	e.id = *id;
	e.path = path;
	e.file_size = (uint32_t)size;
	git_index_remove_directory(c->index, path, 0);
	if (git_index_add(c->index, &e) != 0) {
		snprintf(err, errlen, "%s could not be added: %s", path, builder_git_errmsg());
		return -EINVAL;
	}
	return 0;
}

int
builder_commit_add(builder_commit *c, const char *path, const void *data, size_t len, char *err,
    size_t errlen)
{
	git_oid id;

	if (!builder_repo_path_valid(path)) {
		snprintf(err, errlen, "invalid path \"%s\"", path);
		return -EINVAL;
	}
	if (git_blob_create_from_buffer(&id, c->repo, data, len) != 0) {
		snprintf(err, errlen, "%s could not be stored: %s", path, builder_git_errmsg());
		return -EIO;
	}
	return stage(c, path, &id, len, err, errlen);
}

int
builder_commit_blob_open(builder_commit *c, uint64_t size, builder_blob_writer **out, char *err,
    size_t errlen)
{
	builder_blob_writer *w = xcalloc(1, sizeof(*w));

	/* the loose object is deflated as the bytes come: nothing held but a buffer */
	*out = NULL;
	if (git_repository_odb(&w->odb, c->repo) != 0 ||
	    git_odb_open_wstream(&w->stream, w->odb, (git_object_size_t)size, GIT_OBJECT_BLOB) != 0) {
		snprintf(err, errlen, "a file could not be stored: %s", builder_git_errmsg());
		git_odb_free(w->odb);
		free(w);
		return -EIO;
	}
	w->size = size;
	*out = w;
	return 0;
}

int
builder_blob_write(builder_blob_writer *w, const void *data, size_t len)
{
	return git_odb_stream_write(w->stream, data, len) == 0 ? 0 : -EIO;
}

void
builder_blob_writer_abort(builder_blob_writer *w)
{
	if (w == NULL)
		return;
	git_odb_stream_free(w->stream);
	git_odb_free(w->odb);
	free(w);
}

int
builder_commit_add_blob(builder_commit *c, const char *path, builder_blob_writer *w, char *err,
    size_t errlen)
{
	git_oid id;
	int r;

	if (!builder_repo_path_valid(path)) {
		snprintf(err, errlen, "invalid path \"%s\"", path);
		r = -EINVAL;
	} else if (git_odb_stream_finalize_write(&id, w->stream) != 0) {
		/* fewer or more bytes than said, or not written */
		snprintf(err, errlen, "%s could not be stored: %s", path, builder_git_errmsg());
		r = -EIO;
	} else {
		r = stage(c, path, &id, w->size, err, errlen);
	}
	builder_blob_writer_abort(w);
	return r;
}

int
builder_commit_remove(builder_commit *c, const char *path, int folder, char *err, size_t errlen)
{
	size_t before;

	if (!builder_repo_path_valid(path)) {
		snprintf(err, errlen, "invalid path \"%s\"", path);
		return -EINVAL;
	}
	before = git_index_entrycount(c->index);
	if (folder)
		git_index_remove_directory(c->index, path, 0);
	else
		git_index_remove(c->index, path, 0);
	if (git_index_entrycount(c->index) == before) {
		/* the Hub's words, which huggingface_hub adds its folder hint to */
		snprintf(err, errlen, "A file with this name doesn't exist on %s: %s%s", c->branch,
		    path, folder ? "/ (nothing in that folder)" : "");
		return -ENOENT;
	}
	return 0;
}

int
builder_commit_write(builder_commit *c, const char *author, const char *email,
    const char *message, char sha[41], char *err, size_t errlen)
{
	const git_oid *parent = c->has_parent ? &c->parent : NULL;
	git_signature *sig = NULL;
	git_commit *pc = NULL;
	git_tree *tree = NULL;
	git_reference *ref = NULL;
	git_oid tree_id, id;
	int r = -EIO;

	if (git_index_write_tree_to(&tree_id, c->index, c->repo) != 0 ||
	    git_tree_lookup(&tree, c->repo, &tree_id) != 0 ||
	    git_signature_now(&sig, author, email) != 0 ||
	    (parent != NULL && git_commit_lookup(&pc, c->repo, parent) != 0) ||
	    git_commit_create(&id, c->repo, NULL, sig, sig, "UTF-8", message, tree,
	    parent != NULL ? 1 : 0, (const git_commit **)&pc) != 0) {
		snprintf(err, errlen, "the commit could not be written: %s", builder_git_errmsg());
		goto done;
	}
	/* compare-and-swap on the branch: a push or another commit in between wins */
	r = parent != NULL ?
	    git_reference_create_matching(&ref, c->repo, c->ref, &id, 1, parent,
	    "commit (podium api)") :
	    git_reference_create(&ref, c->repo, c->ref, &id, 0, "commit (podium api)");
	if (r == GIT_EMODIFIED || r == GIT_EEXISTS || r == GIT_ELOCKED) {
		snprintf(err, errlen, "%s moved while the commit was written: fetch and retry",
		    c->branch);
		r = -EAGAIN;
	} else if (r != 0) {
		snprintf(err, errlen, "%s could not be updated: %s", c->branch, builder_git_errmsg());
		r = -EIO;
	} else {
		git_oid_tostr(sha, 41, &id);
	}
done:
	git_reference_free(ref);
	git_commit_free(pc);
	git_tree_free(tree);
	git_signature_free(sig);
	return r;
}

void
builder_commit_free(builder_commit *c)
{
	if (c == NULL)
		return;
	git_index_free(c->index);
	git_repository_free(c->repo);
	free(c->ref);
	free(c->branch);
	free(c);
}
