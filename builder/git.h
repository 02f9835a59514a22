/* git.h — git hosting: the spaces' bare repositories and git's smart HTTP.
 *
 * Data flow: git push → builder_git_serve (git http-backend) → on_pushed(sha) →
 * orchestrator, which starts a build (build.h).
 */
#ifndef PODIUM_BUILDER_GIT_H
#define PODIUM_BUILDER_GIT_H

#include <stddef.h>

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

#endif
