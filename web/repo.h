/* repo.h — the Hub's repository API on a space's bare repository, shared by
 * commit.c (writes: preupload, commit, repos/create's files), repo_api.c (tree,
 * revision, commits, resolve/raw) and clone_api.c; the repository work itself is
 * builder/git.h's. Everything runs on the main loop. */
#ifndef PODIUM_WEB_REPO_H
#define PODIUM_WEB_REPO_H

#include <jansson.h>

#include "web/web.h"

/* Largest file a commit takes (a regular git blob; no LFS here): 413 past it. */
#define REPO_MAX_FILE (100u << 20)

/* Hub-style 404s: X-Error-Code RepoNotFound / RevisionNotFound / EntryNotFound. */
void repo_not_found(http_exchange *x, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A decoded copy of a percent-encoded URL piece (caller frees), or NULL when it
 * decodes to something with a NUL. */
char *repo_unescape(const char *s);

/* The fields the Hub's clients read besides space_json's: "_id" (24 hex digits,
 * stable per space), "lastModified" (date of main's tip, else createdAt), "likes". */
void repo_space_fields(podium *p, const space *s, json_t *j);

/* Routes of repo_api.c / commit.c. repo_api_route answers /api/spaces/O/N/
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

/* clone_api.c: the policy from p->config's "clone" section, once at start. */
void repo_clone_init(podium *p);
/* repos/create with "from": creates the space, clones url into it (policy and
 * bounds in DATA/config.yaml, see builder/clone.c) and answers x when done. */
void repo_clone_start(podium *p, http_exchange *x, const char *owner, const char *name,
    const char *sdk, int private, const char *url);

#endif
