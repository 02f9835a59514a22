/* repo.h — the Hub's repository API on a space's bare repository (libgit2), shared by
 * commit.c (writes: preupload, commit, repos/create's files) and repo_read.c (tree,
 * revision, commits, resolve/raw). Everything runs on the main loop. */
#ifndef PODIUM_WEB_REPO_H
#define PODIUM_WEB_REPO_H

#include <git2.h>
#include <jansson.h>

#include "web/web.h"

/* Largest file a commit takes (a regular git blob; no LFS here): 413 past it. */
#define REPO_MAX_FILE (100u << 20)
#define REPO_BRANCH "refs/heads/main"

/* Opens the space's bare repository; 0 or -1 (logged). */
int repo_open(podium *p, const space *s, git_repository **out);
/* Resolves a revision ("main", "HEAD", a branch or tag, a full or abbreviated sha)
 * to a commit. 0, -ENOENT (unknown, or nothing on main yet) or -EINVAL (not a
 * revision name). */
int repo_resolve(git_repository *repo, const char *rev, git_commit **out);
/* Hub-style 404s: X-Error-Code RepoNotFound / RevisionNotFound / EntryNotFound. */
void repo_not_found(http_exchange *x, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A path inside a repository: not empty, relative, no "." / ".." / ".git"
 * components, no empty components, no control characters. */
int repo_path_valid(const char *path);
/* A decoded copy of a percent-encoded URL piece (caller frees), or NULL when it
 * decodes to something with a NUL. */
char *repo_unescape(const char *s);

/* The fields the Hub's clients read besides space_json's: "_id" (24 hex digits,
 * stable per space), "lastModified" (date of main's tip, else createdAt), "likes". */
void repo_space_fields(podium *p, const space *s, json_t *j);

/* Routes of repo_read.c / commit.c. repo_api_route answers /api/spaces/O/N/
 * {preupload,commit,tree,revision,commits}/... and returns 1, else returns 0 and
 * answers nothing. repo_file_route answers /resolve/REV/PATH and /raw/REV/PATH
 * (rest: the path after /spaces/O/N) of a space the caller may read. */
int repo_api_route(podium *p, http_exchange *x, const char *user);
int repo_file_route(podium *p, http_exchange *x, space *s, const char *rest);

void repo_tree(podium *p, http_exchange *x, space *s, const char *rev, const char *path);
void repo_revision(podium *p, http_exchange *x, space *s, const char *rev);
void repo_commits(podium *p, http_exchange *x, space *s, const char *rev);

/* commit.c */
void repo_preupload(podium *p, http_exchange *x, space *s, const char *user, const char *rev);
void repo_commit(podium *p, http_exchange *x, space *s, const char *user, const char *rev);
/* repos/create's "files" ([{path, content, encoding}]) as the first commit of s, then
 * a build as after a push. 0, or an HTTP status with err set. */
int repo_commit_files(podium *p, space *s, const char *user, json_t *files, char *err,
    size_t errlen);

/* clone.c: repos/create with "from": creates the space, clones url into it (policy
 * and bounds in DATA/config.yaml, see clone.c) and answers x when done. */
void repo_clone_start(podium *p, http_exchange *x, const char *owner, const char *name,
    const char *sdk, int private, const char *url);

#endif
