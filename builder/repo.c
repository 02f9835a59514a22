/* repo.c — bare repositories that users push to, read through libgit2, and the
 * hook that tells a pusher what the push does. */
#include "builder/git.h"
#include "builder/builder_int.h"
#include "builder/git_int.h"

#include <errno.h>
#include <git2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/child.h"
#include "common/log.h"
#include "common/util.h"

/* The pusher hears what became of the push from git itself: receive-pack relays a
 * hook's output on its sideband, and git prints it as "remote:" lines, the way
 * Dokku and Heroku talk to a pusher. A hook rather than our own sideband packets
 * in git_http.c: git keeps the protocol (sideband or not, --quiet, capabilities),
 * we only choose the words. What the hook sees of the push is the ref names and
 * shas on its stdin, only ever expanded inside double quotes (git's ref names have
 * no control characters or spaces; a "$(...)" in one stays text). The script lives
 * in hooks/, which no push can write, and the URLs come from the daemon in its
 * environment (git_http.c). One sh, no git call: a few milliseconds. */
static const char post_receive_hook[] =
    "#!/bin/sh\n"
    "# Written by podium (builder/repo.c) and rewritten on a push when it differs:\n"
    "# tells the pusher what the push does. Only main deploys.\n"
    "z=0000000000000000000000000000000000000000\n"
    "while read -r old new ref; do\n"
    "\t[ \"$new\" = \"$z\" ] && continue\n"
    "\tshort=${new%${new#????????????}}\n"
    "\tif [ \"$ref\" = refs/heads/main ]; then\n"
    "\t\techo \"podium: main is now $short: building it.\"\n"
    "\t\t[ -n \"$PODIUM_BUILD_LOG_URL\" ] && echo \"podium: follow the build:\" \\\n"
    "\t\t    \"curl -N -H 'Accept: text/event-stream' $PODIUM_BUILD_LOG_URL\"\n"
    "\t\t[ -n \"$PODIUM_APP_URL\" ] && echo \"podium: the app will be at $PODIUM_APP_URL\"\n"
    "\telse\n"
    "\t\techo \"podium: stored $ref at $short, but only main deploys.\"\n"
    "\t\tcase \"$ref\" in refs/heads/*)\n"
    "\t\t\techo \"podium: to deploy it: git push <remote> ${ref#refs/heads/}:main\";;\n"
    "\t\tesac\n"
    "\tfi\n"
    "done\n"
    "exit 0\n";

static pthread_once_t git_once = PTHREAD_ONCE_INIT;

static void
git_init_once(void)
{
	git_libgit2_init();
	/* the daemon's libgit2 reads only the repositories' own configuration: never
	 * the host user's (~/.gitconfig: an excludesFile there would decide what a
	 * space's preupload ignores) nor the system's */
	for (int l = GIT_CONFIG_LEVEL_PROGRAMDATA; l <= GIT_CONFIG_LEVEL_GLOBAL; l++)
		git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, l, "");
}

void
builder_git_init(void)
{
	pthread_once(&git_once, git_init_once);
}

const char *
builder_git_errmsg(void)
{
	const git_error *e = git_error_last();

	return e != NULL && e->message != NULL ? e->message : "unknown libgit2 error";
}

int
builder_repo_open(const char *path, git_repository **out)
{
	builder_git_init();
	if (git_repository_open_bare(out, path) != 0) {
		error("builder: open %s: %s", path, builder_git_errmsg());
		return -EIO;
	}
	return 0;
}

int
builder_repo_init(const char *repo_path)
{
	git_repository_init_options opts;
	git_repository *repo = NULL;
	git_config *cfg = NULL;
	const char *slash;
	int r = -EIO;

	builder_git_init();
	/* no other local user reads a repository (issue 21.4): its parents are made
	 * here 0700, not by libgit2 (0777 less the umask) */
	if ((slash = strrchr(repo_path, '/')) != NULL && slash != repo_path) {
		char *parent = xstrndup(repo_path, (size_t)(slash - repo_path));

		fs_mkdir_p(parent, 0700);
		free(parent);
	}
	git_repository_init_options_init(&opts, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	opts.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH |
	    GIT_REPOSITORY_INIT_NO_REINIT;
	opts.initial_head = "main";
	if (git_repository_init_ext(&repo, repo_path, &opts) != 0) {
		r = git_error_last() != NULL && git_error_last()->klass == GIT_ERROR_REPOSITORY ?
		    -EEXIST : -EIO;
		error("builder: init %s: %s", repo_path, builder_git_errmsg());
		goto done;
	}
	if (git_repository_config(&cfg, repo) != 0)
		goto fail;
	/* http-backend refuses receive-pack without REMOTE_USER unless this is set; the
	 * web layer has already authenticated the pusher, so enable it explicitly. A
	 * space owner may rewrite history (force push), as on Hugging Face. */
	if (git_config_set_bool(cfg, "http.receivepack", 1) != 0 ||
	    git_config_set_bool(cfg, "receive.denyNonFastForwards", 0) != 0 ||
	    git_config_set_bool(cfg, "receive.denyDeletes", 1) != 0 ||
	    git_config_set_bool(cfg, "http.uploadpack", 1) != 0)
		goto fail;
	if (chmod(repo_path, 0700) != 0)
		goto fail;
	r = builder_repo_hooks(repo_path);
	goto done;

fail:
	error("builder: configure %s: %s", repo_path, builder_git_errmsg());
	r = -EIO;
done:
	git_config_free(cfg);
	git_repository_free(repo);
	return r;
}

int
builder_repo_hooks(const char *repo_path)
{
	char *path = xasprintf("%s/hooks/post-receive", repo_path), *dir, *text = NULL;
	size_t len = 0;
	int r;

	r = fs_read_file(path, &text, &len, sizeof(post_receive_hook) * 2);
	if (r == 0 && len == sizeof(post_receive_hook) - 1 &&
	    memcmp(text, post_receive_hook, len) == 0)
		goto done; /* the usual case: nothing to write */
	dir = xasprintf("%s/hooks", repo_path);
	mkdir(dir, 0755); /* not -p: no repository, no hook */
	free(dir);
	r = fs_write_file(path, post_receive_hook, sizeof(post_receive_hook) - 1, 0755);
	if (r != 0)
		error("builder: cannot write %s: %s", path, strerror(-r));
done:
	free(text);
	free(path);
	return r;
}

int
builder_repo_head(const char *repo_path, char sha_hex[41])
{
	git_repository *repo = NULL;
	git_oid oid;
	int r;

	if (builder_repo_open(repo_path, &repo) != 0)
		return -ENOENT;
	r = git_reference_name_to_id(&oid, repo, "refs/heads/main");
	if (r == 0)
		git_oid_tostr(sha_hex, 41, &oid);
	else
		r = r == GIT_ENOTFOUND ? -ENOENT : -EIO;
	git_repository_free(repo);
	return r;
}

int
builder_repo_copy(const char *src_path, const char *dst_path, char *err, size_t errlen)
{
	/* git's own fetch over the local transport: every branch and tag with its
	 * history. (libgit2's remote setup reads url.*.insteadOf through a regex
	 * whose pcre2 match data it never frees: ASan counted it at every copy.) */
	char *const argv[] = { "/usr/bin/git", "--git-dir", (char *)dst_path, "fetch", "--quiet",
		"--tags", "--no-write-fetch-head", (char *)src_path, "+refs/heads/*:refs/heads/*", NULL };
	char *const envp[] = { "PATH=/usr/bin:/bin", "GIT_CONFIG_NOSYSTEM=1", "HOME=/nonexistent",
		"GIT_TERMINAL_PROMPT=0", "LANG=C", NULL };
	child_tail tail = { .len = 0 };
	child_spec spec;
	char last[512];
	int st;

	child_spec_init(&spec);
	spec.argv = argv;
	spec.envp = envp;
	spec.out = spec.err = CHILD_CAPTURE;
	st = child_run(&spec, &tail);
	if (st < 0) {
		snprintf(err, errlen, "cannot run git: %s", strerror(-st));
		return -EIO;
	}
	if (st != 0) {
		child_tail_lines(&tail, 3, last, sizeof(last));
		snprintf(err, errlen, "git fetch of the history failed (status %d)%s%s", st,
		    last[0] != '\0' ? ": " : "", last);
		return -EIO;
	}
	return 0;
}
