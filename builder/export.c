/* export.c — writes one commit's tree into a release directory with libgit2.
 *
 * We walk the tree ourselves rather than use git_checkout_tree: a release must be
 * exactly the commit (no index, no filters, no .git), symlinks must stay symlinks
 * whatever core.symlinks says, and every name comes from a user's push, so each
 * one is checked before it touches the filesystem. */
#include "builder_int.h"

#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct export_ctx {
	git_repository *repo;
	const char *dest;
	char *err;
	size_t errlen;
	int failed;
} export_ctx;

static int
name_safe(const char *name)
{
	return name[0] != '\0' && strcmp(name, ".") != 0 && strcmp(name, "..") != 0 &&
	    strcasecmp(name, ".git") != 0 && strchr(name, '/') == NULL;
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
export_blob(export_ctx *ctx, const git_tree_entry *entry, const char *path)
{
	git_filemode_t mode = git_tree_entry_filemode(entry);
	git_blob *blob = NULL;
	const char *data;
	size_t size;
	char *target;
	int fd, r = -1;

	if (git_blob_lookup(&blob, ctx->repo, git_tree_entry_id(entry)) != 0) {
		snprintf(ctx->err, ctx->errlen, "%s: missing blob", path);
		return -1;
	}
	data = git_blob_rawcontent(blob);
	size = (size_t)git_blob_rawsize(blob);
	if (mode == GIT_FILEMODE_LINK) {
		target = strndup(data, size);
		if (target == NULL || memchr(data, '\0', size) != NULL ||
		    symlink(target, path) != 0) {
			snprintf(ctx->err, ctx->errlen, "%s: symlink: %s", path, strerror(errno));
			free(target);
			goto cleanup;
		}
		free(target);
		r = 0;
		goto cleanup;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0755 : 0644);
	if (fd < 0) {
		snprintf(ctx->err, ctx->errlen, "%s: %s", path, strerror(errno));
		goto cleanup;
	}
	if ((r = write_all(fd, data, size)) != 0)
		snprintf(ctx->err, ctx->errlen, "%s: %s", path, strerror(-r));
	/* The umask must not strip the executable bit that the commit asks for. */
	if (r == 0 && fchmod(fd, mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0755 : 0644) != 0)
		r = -errno;
	if (close(fd) != 0 && r == 0)
		r = -errno;
	r = r == 0 ? 0 : -1;
cleanup:
	git_blob_free(blob);
	return r;
}

static int
export_entry(const char *root, const git_tree_entry *entry, void *payload)
{
	export_ctx *ctx = payload;
	const char *name = git_tree_entry_name(entry);
	char path[4096];
	int n;

	if (!name_safe(name)) {
		snprintf(ctx->err, ctx->errlen, "refusing unsafe path name \"%s%s\"", root, name);
		goto failed;
	}
	n = snprintf(path, sizeof(path), "%s/%s%s", ctx->dest, root, name);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		snprintf(ctx->err, ctx->errlen, "path too long: %s%s", root, name);
		goto failed;
	}
	switch (git_tree_entry_type(entry)) {
	case GIT_OBJECT_TREE:
		if (mkdir(path, 0755) != 0) {
			snprintf(ctx->err, ctx->errlen, "%s%s: %s", root, name, strerror(errno));
			goto failed;
		}
		return 0;
	case GIT_OBJECT_BLOB:
		if (export_blob(ctx, entry, path) != 0)
			goto failed;
		return 0;
	case GIT_OBJECT_COMMIT:
		/* A submodule: its commit is in another repository, so leave an empty
		 * directory, as `git clone` without --recursive does. */
		if (mkdir(path, 0755) != 0) {
			snprintf(ctx->err, ctx->errlen, "%s%s: %s", root, name, strerror(errno));
			goto failed;
		}
		return 1; /* nothing to walk into */
	default:
		return 0;
	}
failed:
	ctx->failed = 1;
	return -1;
}

int
builder_export_commit(const char *repo_path, const char *sha, const char *dest,
    char *err, size_t errlen)
{
	export_ctx ctx = { .dest = dest, .err = err, .errlen = errlen };
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	git_oid oid;
	int r = -1;

	builder_git_init();
	err[0] = '\0';
	if (git_repository_open_bare(&ctx.repo, repo_path) != 0) {
		snprintf(err, errlen, "cannot open repository: %s", git_error_last()->message);
		goto cleanup;
	}
	if (git_oid_fromstr(&oid, sha) != 0 || git_commit_lookup(&commit, ctx.repo, &oid) != 0) {
		snprintf(err, errlen, "commit %s not found", sha);
		goto cleanup;
	}
	if (git_commit_tree(&tree, commit) != 0) {
		snprintf(err, errlen, "commit %s has no tree", sha);
		goto cleanup;
	}
	if (git_tree_walk(tree, GIT_TREEWALK_PRE, export_entry, &ctx) != 0 || ctx.failed) {
		if (err[0] == '\0')
			snprintf(err, errlen, "walking tree: %s", git_error_last() != NULL ?
			    git_error_last()->message : "failed");
		goto cleanup;
	}
	r = 0;
cleanup:
	git_tree_free(tree);
	git_commit_free(commit);
	git_repository_free(ctx.repo);
	return r;
}
