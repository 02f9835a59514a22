/* git.h — git hosting: the spaces' bare repositories, git's smart HTTP, and the
 * repository reads, commits and clones the Hub's API is made of.
 *
 * Data flow: git push → builder_git_serve (git http-backend) → on_pushed(sha) →
 * orchestrator, which starts a build (build.h). The API's reads, commits and
 * clones (web/) come here with a repository's path and plain data, and get plain
 * data or JSON back: this face knows git, not HTTP, spaces or users.
 */
#ifndef PODIUM_BUILDER_GIT_H
#define PODIUM_BUILDER_GIT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "proxy/http.h"

/* ---- repositories ---------------------------------------------------------- */

/* Creates an empty bare repository whose HEAD is refs/heads/main, with
 * http.receivepack enabled. 0 or -errno. */
int builder_repo_init(const char *repo_path);
/* Writes podium's hooks into the repository when missing or different (a push does,
 * so repositories made by an older podium get them too). The post-receive hook tells
 * the pusher, as git "remote:" lines, that main builds (with the URLs of
 * builder_git_req) or that another ref was stored but does not deploy. 0 or -errno. */
int builder_repo_hooks(const char *repo_path);
/* Copies every branch of the bare repository src_path, with its history and
 * tags, into the bare repository dst_path (a duplicate). Blocking: run it in
 * the thread pool. 0, or -EIO with err set. */
int builder_repo_copy(const char *src_path, const char *dst_path, char *err, size_t errlen);
/* Hex sha of refs/heads/main, or -ENOENT when the branch does not exist yet. */
int builder_repo_head(const char *repo_path, char sha_hex[41]);

/* ---- git smart HTTP ----------------------------------------------------------- */

typedef struct builder_git_req {
	const char *repo_path;     /* absolute path of the bare repo */
	const char *path_info;     /* "/info/refs", "/git-upload-pack", "/git-receive-pack", ... */
	int allow_push;            /* authenticated writer: receive-pack allowed */
	const char *remote_user;   /* for REMOTE_USER, may be NULL */
	/* For a push, shown to the pusher by the repository's hook; may be NULL. */
	const char *app_url;       /* where the space's app is served */
	const char *build_log_url; /* the build log API */
	/* Called after a receive-pack that moved refs/heads/main, with the new sha. */
	void (*on_pushed)(void *arg, const char *sha_hex);
	/* Optional: called exactly once when the exchange is over (answered, failed or
	 * aborted), after any on_pushed, so the caller can free arg. */
	void (*on_done)(void *arg);
	void *arg;
} builder_git_req;

/* Runs `git http-backend` as a CGI for this exchange, streaming the request body
 * into it and its output back. Answers the exchange in every case (403 when a push
 * is not allowed). The request struct is copied. */
void builder_git_serve(http_exchange *x, const builder_git_req *req);

/* ---- reading a repository ------------------------------------------------------ */
/* A revision is a name: "main", "HEAD" (main), a branch or tag, or a full or
 * abbreviated (4+ hex digits) commit sha; no revision syntax (~ ^ : @{ ..).
 * These open the repository for the call and block on libgit2 (small reads, on
 * the caller's loop as before). Errors: -ESRCH no such revision (or not a name),
 * -ENOENT no such file or directory at it, -EIO the repository cannot be read. */

/* A path inside a repository: not empty, relative, no "." / ".." / ".git"
 * components, no empty ones, no control characters or backslashes. */
int builder_repo_path_valid(const char *path);
/* The directory path ("" the root) at rev, as
 * [{"type":"file"|"directory","oid","size","path"}] in *out (new reference); its
 * whole subtree when recursive. A repository nothing was pushed to lists as []
 * at main. */
int builder_repo_tree(const char *repo_path, const char *rev, const char *path, int recursive,
    json_t **out);
/* rev's commit sha and its files, [{"rfilename"}] in *files (new reference). A
 * repository nothing was pushed to: sha "" and [] at main. */
int builder_repo_files(const char *repo_path, const char *rev, char sha[41], json_t **files);
/* rev's history, newest first: how many commits (*total) and, in *page (new
 * reference), those from offset on, at most limit, as
 * [{"id","title","message","authors":[{"user","avatar"}],"date"}]. total may be
 * NULL: then the history is read only as far as the page. */
int builder_repo_log(const char *repo_path, const char *rev, long offset, long limit,
    json_t **page, long *total);
/* The same for the commits that change path (a file or a directory), as
 * `git log --first-parent`-style history of one file: a commit counts when path
 * differs from its first parent's. -ENOENT for a path that is not valid. */
int builder_repo_path_log(const char *repo_path, const char *rev, const char *path, long offset,
    long limit, json_t **page, long *total);
/* One commit and what it changed against its first parent (the empty tree for
 * the first commit), in *out (new reference): {"commit": {as in builder_repo_log},
 * "parents": [sha...], "files": [{"path", "oldPath"?, "status": "added"|"deleted"|
 * "modified"|"renamed", "additions", "deletions", "binary", "lines": ["@@ ...",
 * "+added", "-removed", " context"...]}], "truncated"}: at most max_lines lines
 * in all (then "truncated": true and the rest of the files without lines). */
int builder_repo_commit_diff(const char *repo_path, const char *rev, long max_lines, json_t **out);
/* The date of main's tip, "2026-01-02T03:04:05.000Z"; -ESRCH when main is empty. */
int builder_repo_date(const char *repo_path, char iso[32]);

/* One file's bytes at a revision, read whole (files are regular blobs). */
typedef struct builder_blob {
	const void *data;
	uint64_t size;
	char oid[41];        /* the blob's sha */
	char commit[41];     /* the revision's commit */
	void *priv;          /* the library's objects: builder_blob_release */
} builder_blob;

int builder_repo_blob(const char *repo_path, const char *rev, const char *path, builder_blob *out);
void builder_blob_release(builder_blob *b);

/* ---- writing a commit from files ----------------------------------------------- */
/* A commit on main made of files instead of a push: main's files are staged, the
 * caller adds and removes some, and main moves to the new commit only if it is
 * still where it was at the start (compare-and-swap: a push in between wins).
 * Errors carry a message in err. Not thread-safe: one thread at a time. */
typedef struct builder_commit builder_commit;

/* Stages main's files (none on an empty repository). parent, when not NULL, is
 * the sha (or a prefix of 7+ digits) the caller built on: -ESTALE when main's tip
 * is another. 0, -ESTALE or -EIO; free *out with builder_commit_free in every
 * case. */
int builder_commit_start(const char *repo_path, const char *parent, builder_commit **out,
    char *err, size_t errlen);
/* Stages a file (where a directory was, it replaces it, as git add does).
 * 0, -EINVAL (a bad path, or one git refuses) or -EIO (not stored). */
int builder_commit_add(builder_commit *c, const char *path, const void *data, size_t len,
    char *err, size_t errlen);
/* Unstages a file, or everything under a directory (folder). 0, -EINVAL (a bad
 * path) or -ENOENT (nothing there). */
int builder_commit_remove(builder_commit *c, const char *path, int folder, char *err,
    size_t errlen);
/* Writes what is staged as a commit by author <email> and moves main to it.
 * 0 and its sha, -EAGAIN (main moved since the start) or -EIO. */
int builder_commit_write(builder_commit *c, const char *author, const char *email,
    const char *message, char sha[41], char *err, size_t errlen);
void builder_commit_free(builder_commit *c);

/* ---- cloning from a URL ---------------------------------------------------------- */
/* Which repositories may be cloned from: read once from the configuration's
 * "clone" section (hosts, allow_networks, max_bytes, timeout: see README). Never
 * loopback, link-local, unspecified, multicast or an address of this host;
 * private ranges only where allow_networks lists them. */
typedef struct builder_clone_policy builder_clone_policy;

/* section NULL: the defaults. 0, or -EINVAL with err set (*out NULL). */
int builder_clone_policy_new(const json_t *section, builder_clone_policy **out, char *err,
    size_t errlen);
void builder_clone_policy_free(builder_clone_policy *pol);

/* url may be cloned as far as can be told without a lookup: http, https or git,
 * no credentials (-EINVAL), a host the policy lists (-EPERM). err says why. */
int builder_clone_check(const builder_clone_policy *pol, const char *url, char *err, size_t errlen);

/* done's status: 0 (sha is main's new tip), -EPERM an address refused by the
 * policy, -EINVAL not a git repository, -EHOSTUNREACH unreachable, -EFBIG over
 * max_bytes, -ETIMEDOUT over the timeout, -ECANCELED cancelled, -EIO another
 * failure; message names the cause (one line). */
typedef void (*builder_clone_cb)(void *arg, int status, const char *sha, const char *message);
typedef struct builder_clone builder_clone;

/* Resolves url's host, checks every address it has, then fetches its HEAD into
 * refs/heads/main of the bare repository repo_path (`git fetch --depth 1`, pinned
 * to the checked address, no redirects, bounded in bytes and time). done is called
 * exactly once, never from inside this call; the clone frees itself after it.
 * 0 (*out valid until done), or -EINVAL (a bad URL) or -EHOSTUNREACH (no lookup)
 * with err set and nothing started. */
int builder_clone_start(uv_loop_t *loop, const builder_clone_policy *pol, const char *url,
    const char *repo_path, builder_clone_cb done, void *arg, builder_clone **out, char *err,
    size_t errlen);
/* Stops a clone before done was called: done follows with -ECANCELED (or what
 * the fetch came to meanwhile). */
void builder_clone_cancel(builder_clone *c);

#endif
