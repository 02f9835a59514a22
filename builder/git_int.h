/* git_int.h — what the git hosting files (repo*.c, clone.c) share; not part of
 * git.h's contract. */
#ifndef PODIUM_BUILDER_GIT_INT_H
#define PODIUM_BUILDER_GIT_INT_H

#include <git2.h>
#include <sys/socket.h>

#include "builder/git.h"

/* The last libgit2 error's message, never NULL. */
const char *builder_git_errmsg(void);
/* Opens the bare repository at path (libgit2 set up first): 0, or -EIO logged. */
int builder_repo_open(const char *path, git_repository **out);
/* A revision (git.h) to its commit: 0, -ESRCH (unknown, or nothing on main yet)
 * or -EINVAL (not a revision name). */
int builder_repo_resolve(git_repository *repo, const char *rev, git_commit **out);

/* Opens the repository and resolves rev: 0, or -ESRCH for an unknown revision,
 * with *empty set when it is main on a repository nothing was pushed to. */
int builder_repo_at(const char *repo_path, const char *rev, git_repository **repo, git_commit **c,
    int *empty);
/* A commit in the Hub's shape: {"id","title","message","authors":[{"user","avatar"}],"date"}. */
json_t *builder_commit_json(const git_commit *c);

/* clone.c's policy checks (its unit tests call them). */
/* Does addr (16 bytes, IPv4 mapped) fall in cidr ("a.b.c.d/n", "x::/n", or one
 * address)? */
int builder_cidr_has(const char *cidr, const unsigned char addr[16]);
/* Is host among the policy's hosts (names, "*.suffix"; any without a list)? */
int builder_clone_host_listed(const builder_clone_policy *pol, const char *host);
/* Why the address sa may not be cloned from, or NULL. */
const char *builder_clone_addr_refused(const builder_clone_policy *pol, const struct sockaddr *sa);

#endif
