/* repo_commit.c — a commit on main made of files rather than pushed: main's tree
 * is read into an in-memory index, files are written as blobs and staged (or
 * unstaged), then the index becomes a tree and a commit, and main moves only if it
 * is still where the index was read from (web/commit.c feeds it the Hub's NDJSON
 * commit API and repos/create's files). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/git_int.h"
#include "common/util.h"

#define COMMIT_BRANCH "refs/heads/main"

struct builder_commit {
	git_repository *repo;
	git_index *index;
	git_oid parent;        /* main's tip at the start */
	int has_parent;        /* 0: main had no commit yet */
};

/* Reads main's tip (if any) into a fresh in-memory index. */
static int
index_from_main(builder_commit *c)
{
	git_commit *tip = NULL;
	git_tree *tree = NULL;
	int r;

	if (git_index_new(&c->index) != 0)
		return -1;
	r = builder_repo_resolve(c->repo, "main", &tip);
	if (r == -ESRCH)
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

int
builder_commit_start(const char *repo_path, const char *parent, builder_commit **out, char *err,
    size_t errlen)
{
	builder_commit *c = xcalloc(1, sizeof(*c));
	char tip[GIT_OID_HEXSZ + 1] = "";

	*out = c;
	if (builder_repo_open(repo_path, &c->repo) != 0) {
		snprintf(err, errlen, "the repository could not be opened");
		return -EIO;
	}
	if (index_from_main(c) != 0) {
		snprintf(err, errlen, "main could not be read: %s", builder_git_errmsg());
		return -EIO;
	}
	if (parent == NULL)
		return 0;
	if (c->has_parent)
		git_oid_tostr(tip, sizeof(tip), &c->parent);
	/* the Hub takes the full sha; an abbreviation is a prefix of it */
	if (!c->has_parent || strlen(parent) < 7 || strncmp(tip, parent, strlen(parent)) != 0) {
		snprintf(err, errlen, "%s is not the tip of main (%s): fetch and retry", parent,
		    c->has_parent ? tip : "no commits yet");
		return -ESTALE;
	}
	return 0;
}

int
builder_commit_add(builder_commit *c, const char *path, const void *data, size_t len, char *err,
    size_t errlen)
{
	git_index_entry e;
	git_oid id;

	if (!builder_repo_path_valid(path)) {
		snprintf(err, errlen, "invalid path \"%s\"", path);
		return -EINVAL;
	}
	if (git_blob_create_from_buffer(&id, c->repo, data, len) != 0) {
		snprintf(err, errlen, "%s could not be stored: %s", path, builder_git_errmsg());
		return -EIO;
	}
	memset(&e, 0, sizeof(e));
	e.mode = GIT_FILEMODE_BLOB;
	e.id = id;
	e.path = path;
	e.file_size = (uint32_t)len;
	/* a file where a directory was (or the reverse) replaces it, as in git add */
	git_index_remove_directory(c->index, path, 0);
	if (git_index_add(c->index, &e) != 0) {
		snprintf(err, errlen, "%s could not be added: %s", path, builder_git_errmsg());
		return -EINVAL;
	}
	return 0;
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
		snprintf(err, errlen, "%s does not exist on main", path);
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
	/* compare-and-swap on main: a push or another commit in between wins */
	r = parent != NULL ?
	    git_reference_create_matching(&ref, c->repo, COMMIT_BRANCH, &id, 1, parent,
	    "commit (podium api)") :
	    git_reference_create(&ref, c->repo, COMMIT_BRANCH, &id, 0, "commit (podium api)");
	if (r == GIT_EMODIFIED || r == GIT_EEXISTS || r == GIT_ELOCKED) {
		snprintf(err, errlen, "main moved while the commit was written: fetch and retry");
		r = -EAGAIN;
	} else if (r != 0) {
		snprintf(err, errlen, "main could not be updated: %s", builder_git_errmsg());
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
	free(c);
}
