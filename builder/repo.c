/* repo.c — bare repositories that users push to, read through libgit2. */
#include "builder.h"
#include "builder_int.h"

#include <errno.h>
#include <git2.h>
#include <pthread.h>
#include <string.h>

#include "log.h"

static pthread_once_t git_once = PTHREAD_ONCE_INIT;

static void
git_init_once(void)
{
	git_libgit2_init();
}

void
builder_git_init(void)
{
	pthread_once(&git_once, git_init_once);
}

static const char *
git_errmsg(void)
{
	const git_error *e = git_error_last();

	return e != NULL && e->message != NULL ? e->message : "unknown libgit2 error";
}

int
builder_repo_init(const char *repo_path)
{
	git_repository_init_options opts;
	git_repository *repo = NULL;
	git_config *cfg = NULL;
	int r = -EIO;

	builder_git_init();
	git_repository_init_options_init(&opts, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	opts.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH |
	    GIT_REPOSITORY_INIT_NO_REINIT;
	opts.initial_head = "main";
	if (git_repository_init_ext(&repo, repo_path, &opts) != 0) {
		r = git_error_last() != NULL && git_error_last()->klass == GIT_ERROR_REPOSITORY ?
		    -EEXIST : -EIO;
		error("builder: init %s: %s", repo_path, git_errmsg());
		goto cleanup;
	}
	if (git_repository_config(&cfg, repo) != 0)
		goto config_failed;
	/* http-backend refuses receive-pack without REMOTE_USER unless this is set; the
	 * web layer has already authenticated the pusher, so enable it explicitly. A
	 * space owner may rewrite history (force push), as on Hugging Face. */
	if (git_config_set_bool(cfg, "http.receivepack", 1) != 0 ||
	    git_config_set_bool(cfg, "receive.denyNonFastForwards", 0) != 0 ||
	    git_config_set_bool(cfg, "receive.denyDeletes", 1) != 0 ||
	    git_config_set_bool(cfg, "http.uploadpack", 1) != 0)
		goto config_failed;
	r = 0;
	goto cleanup;

config_failed:
	error("builder: configure %s: %s", repo_path, git_errmsg());
	r = -EIO;
cleanup:
	git_config_free(cfg);
	git_repository_free(repo);
	return r;
}

int
builder_repo_head(const char *repo_path, char sha_hex[41])
{
	git_repository *repo = NULL;
	git_oid oid;
	int r;

	builder_git_init();
	if (git_repository_open_bare(&repo, repo_path) != 0) {
		error("builder: open %s: %s", repo_path, git_errmsg());
		return -ENOENT;
	}
	r = git_reference_name_to_id(&oid, repo, "refs/heads/main");
	if (r == 0)
		git_oid_tostr(sha_hex, 41, &oid);
	else
		r = r == GIT_ENOTFOUND ? -ENOENT : -EIO;
	git_repository_free(repo);
	return r;
}
