/* export.c — writes one commit's tree into a release directory with libgit2.
 *
 * We walk the tree ourselves rather than use git_checkout_tree: a release must be
 * exactly the commit (no index, no filters, no .git), symlinks must stay symlinks
 * whatever core.symlinks says, and every name comes from a user's push, so each
 * one is checked before it touches the filesystem.
 *
 * Contents: libgit2 can only read a blob whole (git_odb_open_rstream exists for
 * loose objects only, and a push of more than 100 objects stays packed), so a
 * 200 MB file took the daemon from 13 MB to 413 MB resident (the compressed and
 * the inflated copy). Small blobs are still read here; from STREAM_MIN up, the
 * blob is copied straight into its file by `git cat-file blob`, a child process
 * that streams loose and undeltified packed objects in bounded memory (and
 * whose memory, when it must undo a delta, is not the daemon's). The daemon
 * sees only the size, from the object's header. Measured with make bench-export:
 * see README, "Tests and benchmarks". */
#include "builder/builder_int.h"

#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/child.h"
#include "common/util.h"

#define STREAM_MIN (1 << 20)

typedef struct export_ctx {
	git_repository *repo;
	git_odb *odb;
	const char *repo_path;
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

/* `git cat-file blob OID` with its output going to fd; size is what the object's
 * header says, checked against what arrived. Replace refs are ignored: a push
 * may carry refs/replace/ and the release must be the tree's own blob. */
static int
stream_blob(export_ctx *ctx, const git_oid *oid, int fd, uint64_t size, const char *path)
{
	char hex[GIT_OID_HEXSZ + 1], *gitdir = xasprintf("--git-dir=%s", ctx->repo_path);
	char *argv[] = { "git", "--no-replace-objects", gitdir, "cat-file", "blob", hex, NULL };
	char why[256];
	child_spec spec;
	child_tail tail = { .len = 0 };
	struct stat st;
	int r;

	git_oid_tostr(hex, sizeof(hex), oid);
	child_spec_init(&spec);
	spec.argv = argv;
	spec.out = fd;
	spec.err = CHILD_CAPTURE; /* git's complaint, if any */
	/* the OOM killer's choice before the daemon, whose setting it would inherit */
	spec.oom_score_adj = 300;
	r = child_run(&spec, &tail);
	free(gitdir);
	if (r < 0) {
		snprintf(ctx->err, ctx->errlen, "%s: cannot run git: %s", path, strerror(-r));
		return -1;
	}
	if (r != 0) {
		child_tail_lines(&tail, 1000, why, sizeof(why));
		why[strcspn(why, "\n")] = '\0';
		snprintf(ctx->err, ctx->errlen, "%s: git cat-file failed (status %d)%s%s", path, r,
		    why[0] != '\0' ? ": " : "", why);
		return -1;
	}
	if (fstat(fd, &st) != 0)
		st.st_size = -1;
	if ((uint64_t)st.st_size != size) {
		snprintf(ctx->err, ctx->errlen, "%s: git cat-file wrote %lld of %llu bytes", path,
		    (long long)st.st_size, (unsigned long long)size);
		return -1;
	}
	return 0;
}

static int
export_blob(export_ctx *ctx, const git_tree_entry *entry, const char *path)
{
	git_filemode_t mode = git_tree_entry_filemode(entry);
	const git_oid *oid = git_tree_entry_id(entry);
	git_blob *blob = NULL;
	git_object_t type;
	const char *data = NULL;
	size_t size;
	char *target;
	int fd, r = -1;

	if (git_odb_read_header(&size, &type, ctx->odb, oid) != 0 || type != GIT_OBJECT_BLOB) {
		snprintf(ctx->err, ctx->errlen, "%s: missing blob", path);
		return -1;
	}
	/* a link target longer than a path is no link (and not worth reading) */
	if (mode == GIT_FILEMODE_LINK && size >= PATH_MAX) {
		snprintf(ctx->err, ctx->errlen, "%s: symlink target too long", path);
		return -1;
	}
	if (size < STREAM_MIN || mode == GIT_FILEMODE_LINK) {
		if (git_blob_lookup(&blob, ctx->repo, oid) != 0) {
			snprintf(ctx->err, ctx->errlen, "%s: missing blob", path);
			return -1;
		}
		data = git_blob_rawcontent(blob);
		size = (size_t)git_blob_rawsize(blob);
	}
	if (mode == GIT_FILEMODE_LINK) {
		target = strndup(data, size);
		if (target == NULL || memchr(data, '\0', size) != NULL ||
		    symlink(target, path) != 0) {
			snprintf(ctx->err, ctx->errlen, "%s: symlink: %s", path, strerror(errno));
			free(target);
			goto done;
		}
		free(target);
		r = 0;
		goto done;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0755 : 0644);
	if (fd < 0) {
		snprintf(ctx->err, ctx->errlen, "%s: %s", path, strerror(errno));
		goto done;
	}
	if (data == NULL) {
		r = stream_blob(ctx, oid, fd, size, path);
	} else if ((r = write_all(fd, data, size)) != 0) {
		snprintf(ctx->err, ctx->errlen, "%s: %s", path, strerror(-r));
	}
	/* The umask must not strip the executable bit that the commit asks for. */
	if (r == 0 && fchmod(fd, mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0755 : 0644) != 0)
		r = -errno;
	if (close(fd) != 0 && r == 0)
		r = -errno;
	if (r != 0 && ctx->err[0] == '\0')
		snprintf(ctx->err, ctx->errlen, "%s: %s", path, strerror(-r));
	r = r == 0 ? 0 : -1;
done:
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
		goto fail;
	}
	n = snprintf(path, sizeof(path), "%s/%s%s", ctx->dest, root, name);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		snprintf(ctx->err, ctx->errlen, "path too long: %s%s", root, name);
		goto fail;
	}
	switch (git_tree_entry_type(entry)) {
	case GIT_OBJECT_TREE:
		if (mkdir(path, 0755) != 0) {
			snprintf(ctx->err, ctx->errlen, "%s%s: %s", root, name, strerror(errno));
			goto fail;
		}
		return 0;
	case GIT_OBJECT_BLOB:
		if (export_blob(ctx, entry, path) != 0)
			goto fail;
		return 0;
	case GIT_OBJECT_COMMIT:
		/* A submodule: its commit is in another repository, so leave an empty
		 * directory, as `git clone` without --recursive does. */
		if (mkdir(path, 0755) != 0) {
			snprintf(ctx->err, ctx->errlen, "%s%s: %s", root, name, strerror(errno));
			goto fail;
		}
		return 1; /* nothing to walk into */
	default:
		return 0;
	}
fail:
	ctx->failed = 1;
	return -1;
}

int
builder_export_commit(const char *repo_path, const char *sha, const char *dest,
    char *err, size_t errlen)
{
	export_ctx ctx = { .dest = dest, .repo_path = repo_path, .err = err, .errlen = errlen };
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	git_oid oid;
	int r = -1;

	builder_git_init();
	err[0] = '\0';
	if (git_repository_open_bare(&ctx.repo, repo_path) != 0) {
		snprintf(err, errlen, "cannot open repository: %s", git_error_last()->message);
		goto done;
	}
	if (git_repository_odb(&ctx.odb, ctx.repo) != 0) {
		snprintf(err, errlen, "cannot open the object database: %s", git_error_last()->message);
		goto done;
	}
	if (git_oid_fromstr(&oid, sha) != 0 || git_commit_lookup(&commit, ctx.repo, &oid) != 0) {
		snprintf(err, errlen, "commit %s not found", sha);
		goto done;
	}
	if (git_commit_tree(&tree, commit) != 0) {
		snprintf(err, errlen, "commit %s has no tree", sha);
		goto done;
	}
	if (git_tree_walk(tree, GIT_TREEWALK_PRE, export_entry, &ctx) != 0 || ctx.failed) {
		if (err[0] == '\0')
			snprintf(err, errlen, "walking tree: %s", git_error_last() != NULL ?
			    git_error_last()->message : "failed");
		goto done;
	}
	r = 0;
done:
	git_tree_free(tree);
	git_commit_free(commit);
	git_odb_free(ctx.odb);
	git_repository_free(ctx.repo);
	return r;
}
