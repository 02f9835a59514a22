/* deploy.c — `podium deploy [DIR]`: a folder published as a new commit through the
 * Hub's commit API, then followed until the app runs.
 *
 *   find the space (create it with --create) → list DIR without what its .gitignore
 *   files ignore (libgit2 reads them: a scratch repository whose work tree is DIR,
 *   so nothing is written into DIR) → compare with main's tree by blob id → one
 *   NDJSON commit with the changed files and the deletions, on main's tip as
 *   parentCommit → the build log on stderr → the URL once RUNNING, or the error. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <git2.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/util.h"

#define DEPLOY_MAX_FILE (100u << 20)

typedef struct deploy {
	cli_ctx *c;
	const char *dir;
	git_repository *scratch;
	json_t *remote;        /* path → blob oid on main */
	json_t *seen;          /* local paths */
	char *ndjson;
	size_t len, cap;
	int changed, failed;
} deploy;

static void
nd_append(deploy *d, const char *s, size_t n)
{
	if (d->len + n + 2 > d->cap) {
		d->cap = (d->len + n + 2) * 2;
		d->ndjson = xrealloc(d->ndjson, d->cap);
	}
	memcpy(d->ndjson + d->len, s, n);
	d->len += n;
	d->ndjson[d->len++] = '\n';
	d->ndjson[d->len] = '\0';
}

static void
nd_line(deploy *d, const char *key, json_t *value)
{
	json_t *j = json_pack("{s:s, s:o}", "key", key, "value", value);
	char *t = json_dumps(j, JSON_COMPACT);

	nd_append(d, t, strlen(t));
	free(t);
	json_decref(j);
}

static void
add_file(deploy *d, const char *rel, const char *abs)
{
	char *buf = NULL, *b64, hex[GIT_OID_HEXSZ + 1];
	size_t len = 0, blen;
	const char *have;
	git_oid id;
	int r;

	json_object_set_new(d->seen, rel, json_true());
	r = fs_read_file(abs, &buf, &len, DEPLOY_MAX_FILE);
	if (r != 0) {
		cli_error(CLI_EFAIL, "deploy: %s: %s", rel, r == -EFBIG ?
		    "larger than 100 MiB, the hub's limit for one file" : strerror(-r));
		d->failed = 1;
		return;
	}
	/* git's blob id: unchanged files are not sent again */
	git_odb_hash(&id, buf, len, GIT_OBJECT_BLOB);
	git_oid_tostr(hex, sizeof(hex), &id);
	have = json_string_value(json_object_get(d->remote, rel));
	if (have != NULL && strcmp(have, hex) == 0) {
		free(buf);
		return;
	}
	blen = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
	b64 = xmalloc(blen);
	sodium_bin2base64(b64, blen, (const unsigned char *)buf, len, sodium_base64_VARIANT_ORIGINAL);
	free(buf);
	nd_line(d, "file", json_pack("{s:s, s:s, s:s}", "path", rel, "content", b64, "encoding", "base64"));
	free(b64);
	d->changed++;
}

static void
walk(deploy *d, const char *rel)
{
	char *abs = rel[0] != '\0' ? xasprintf("%s/%s", d->dir, rel) : xstrdup(d->dir);
	DIR *dir = opendir(abs);
	struct dirent *e;

	if (dir == NULL) {
		cli_error(CLI_EFAIL, "deploy: cannot read %s: %s", abs, strerror(errno));
		d->failed = 1;
		free(abs);
		return;
	}
	while ((e = readdir(dir)) != NULL) {
		char *r, *a;
		struct stat st;
		int ignored = 0;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
		    strcmp(e->d_name, ".git") == 0)
			continue;
		r = rel[0] != '\0' ? xasprintf("%s/%s", rel, e->d_name) : xstrdup(e->d_name);
		a = xasprintf("%s/%s", abs, e->d_name);
		if (git_ignore_path_is_ignored(&ignored, d->scratch, r) != 0)
			ignored = 0;
		if (ignored || lstat(a, &st) != 0) {
			/* ignored: not published */
		} else if (S_ISDIR(st.st_mode)) {
			walk(d, r);
		} else if (S_ISREG(st.st_mode)) {
			add_file(d, r, a);
		} else {
			fprintf(stderr, "podium: deploy: skipping %s (%s)\n", r,
			    S_ISLNK(st.st_mode) ? "a symbolic link" : "not a regular file");
		}
		free(r);
		free(a);
	}
	closedir(dir);
	free(abs);
}

/* main's files (path → blob id) and tip; an empty space has neither. */
static int
remote_state(deploy *d, const char *owner, const char *name, char **parent)
{
	char *path = xasprintf("/api/spaces/%s/%s/tree/main?recursive=true", owner, name);
	cli_resp r;
	json_t *arr, *e;
	size_t i;
	int code;

	*parent = NULL;
	code = cli_http(d->c, "GET", path, NULL, NULL, 0, &r);
	free(path);
	if (code != 0 || r.status != 200) {
		code = cli_report(d->c, &r, "deploy");
		cli_resp_release(&r);
		return code;
	}
	arr = cli_resp_json(&r);
	cli_resp_release(&r);
	json_array_foreach(arr, i, e)
		if (json_string_value(json_object_get(e, "type")) != NULL &&
		    strcmp(json_string_value(json_object_get(e, "type")), "file") == 0)
			json_object_set(d->remote, json_string_value(json_object_get(e, "path")),
			    json_object_get(e, "oid"));
	json_decref(arr);
	path = xasprintf("/api/spaces/%s/%s/revision/main", owner, name);
	code = cli_http(d->c, "GET", path, NULL, NULL, 0, &r);
	free(path);
	if (code == 0 && r.status == 200) {
		json_t *j = cli_resp_json(&r);
		const char *sha = json_string_value(json_object_get(j, "sha"));

		if (sha != NULL)
			*parent = xstrdup(sha);
		json_decref(j);
	}
	cli_resp_release(&r);
	return 0;
}

static int
space_ensure(cli_ctx *c, const char *owner, const char *name, int create, const char *sdk, int priv)
{
	char *path = xasprintf("/api/spaces/%s/%s", owner, name), *text;
	cli_resp r;
	json_t *body;
	int code = cli_http(c, "GET", path, NULL, NULL, 0, &r);

	free(path);
	if (code == 0 && r.status == 200) {
		cli_resp_release(&r);
		return 0;
	}
	if (code != 0 || r.status != 404 || !create) {
		if (code == 0 && r.status == 404)
			code = cli_error(CLI_ENOTFOUND, "deploy: no space %s/%s (add --create to create it)",
			    owner, name);
		else
			code = cli_report(c, &r, "deploy");
		cli_resp_release(&r);
		return code;
	}
	cli_resp_release(&r);
	body = json_pack("{s:s, s:s, s:s, s:s, s:b}", "type", "space", "name", name, "organization", owner,
	    "sdk", sdk, "private", priv);
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	code = cli_http(c, "POST", "/api/repos/create", "application/json", text, strlen(text), &r);
	free(text);
	if (code != 0 || r.status != 200)
		code = cli_report(c, &r, "deploy: create");
	else if (!c->json)
		fprintf(stderr, "Created %s/%s\n", owner, name);
	cli_resp_release(&r);
	return code;
}

/* The sdk a new space is created with when --sdk is not given (the build detects
 * the real one from the files, as after a push). */
static const char *
guess_sdk(const char *dir)
{
	static const char *const probes[][2] = { { "package.json", "node" }, { "app.py", "python" },
		{ "requirements.txt", "python" }, { NULL, NULL } };

	for (int i = 0; probes[i][0] != NULL; i++) {
		char *p = xasprintf("%s/%s", dir, probes[i][0]);
		int there = access(p, F_OK) == 0;

		free(p);
		if (there)
			return probes[i][1];
	}
	return "static";
}

static int
scratch_open(deploy *d, char *tmpl)
{
	if (mkdtemp(tmpl) == NULL)
		return cli_error(CLI_EFAIL, "deploy: cannot create a temporary directory: %s", strerror(errno));
	git_libgit2_init();
	/* the work tree is set in memory only (no gitlink is written into DIR) */
	if (git_repository_init(&d->scratch, tmpl, 0) != 0 ||
	    git_repository_set_workdir(d->scratch, d->dir, 0) != 0)
		return cli_error(CLI_EFAIL, "deploy: libgit2: %s", git_error_last() != NULL ?
		    git_error_last()->message : "?");
	return 0;
}

/* Sends the NDJSON commit built by walk(), with a deletion for each remote file that
 * is gone; *committed is 1 when a commit was made. 0 or an exit code. */
static int
publish(deploy *d, const char *owner, const char *name, int *committed)
{
	cli_ctx *c = d->c;
	const char *path;
	char *cpath;
	json_t *v, *j;
	cli_resp r;
	int deleted = 0, code;

	json_object_foreach(d->remote, path, v)
		if (json_object_get(d->seen, path) == NULL) {
			nd_line(d, "deletedFile", json_pack("{s:s}", "path", path));
			deleted++;
		}
	if (d->changed + deleted == 0) {
		if (!c->json)
			fprintf(stderr, "Nothing changed since the last deploy of %s/%s\n", owner, name);
		return 0;
	}
	cpath = xasprintf("/api/spaces/%s/%s/commit/main", owner, name);
	if (!c->json)
		fprintf(stderr, "Publishing %d file(s), deleting %d, to %s/%s\n", d->changed, deleted,
		    owner, name);
	code = cli_http(c, "POST", cpath, "application/x-ndjson", d->ndjson, d->len, &r);
	free(cpath);
	if (code != 0 || r.status != 200) {
		code = cli_report(c, &r, "deploy");
		cli_resp_release(&r);
		return code;
	}
	j = cli_resp_json(&r);
	if (!c->json)
		fprintf(stderr, "Committed %.12s\n", json_string_value(json_object_get(j, "commitOid")));
	json_decref(j);
	cli_resp_release(&r);
	*committed = 1;
	return 0;
}

/* Waits for the space to run and says how it ended: the app's URL, or why not.
 * Returns the exit code. */
static int
wait_and_report(cli_ctx *c, const char *owner, const char *name, int committed)
{
	json_t *info = NULL, *sj = NULL;
	char *ipath = xasprintf("/api/spaces/%s/%s", owner, name);
	int code = cli_wait_running(c, owner, name, committed && !c->json, 600, &info);
	const char *host, *stage = json_string_value(json_object_get(info, "stage"));
	const char *err = json_string_value(json_object_get(info, "errorMessage"));
	/* RUNNING with an error after a commit: the new release failed and the
	 * previous one still serves */
	int old_serves = code == 0 && committed && err != NULL;
	cli_resp r;

	if (old_serves)
		code = CLI_EFAIL;
	if (cli_http(c, "GET", ipath, NULL, NULL, 0, &r) == 0 && r.status == 200)
		sj = cli_resp_json(&r);
	cli_resp_release(&r);
	free(ipath);
	host = json_string_value(json_object_get(sj, "host"));
	if (c->json) {
		json_t *out = json_pack("{s:s++, s:s?, s:s?, s:s?, s:b}", "space", owner, "/", name,
		    "stage", stage, "url", host, "errorMessage", err, "ok", code == 0);

		cli_print_json(out);
		json_decref(out);
	} else if (code == 0) {
		printf("%s/\n", host != NULL ? host : "?");
	} else if (old_serves) {
		cli_error(code, "deploy: the new release of %s/%s failed (the previous one still "
		    "serves): %s", owner, name, err);
	} else if (stage != NULL) {
		cli_error(code, "deploy: %s/%s is %s%s%s", owner, name, stage, err != NULL ? ": " : "",
		    err != NULL ? err : "");
	}
	json_decref(sj);
	json_decref(info);
	return code;
}

int
cli_deploy(cli_ctx *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "space", 1, NULL, 's' }, { "create", 0, NULL, 'c' }, { "sdk", 1, NULL, 'k' },
		{ "private", 0, NULL, 'p' }, { "message", 1, NULL, 'm' }, { "no-wait", 0, NULL, 'n' },
		{ "json", 0, NULL, 'j' }, { "help", 0, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *space = NULL, *sdk = NULL, *msg = "Deploy with podium";
	int create = 0, priv = 0, nowait = 0, committed = 0, o, code;
	char owner[128], name[128], dir[PATH_MAX], tmpl[] = "/tmp/podium-deploy-XXXXXX";
	char *parent = NULL;
	deploy d = { 0 };
	json_t *header;
	struct stat st;

	optind = 1;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "hm:", lo, NULL)) != -1) {
		switch (o) {
		case 's': space = optarg; break;
		case 'c': create = 1; break;
		case 'k': sdk = optarg; break;
		case 'p': priv = 1; break;
		case 'm': msg = optarg; break;
		case 'n': nowait = 1; break;
		case 'j': c->json = 1; break;
		case 'h':
			puts("usage: podium deploy [DIR] [--space OWNER/NAME] [--create] [--sdk SDK] [--private]\n"
			    "                     [--message MSG] [--no-wait] [--json]\n"
			    "  Publishes DIR (default .) as a new commit of the space (default: named after\n"
			    "  DIR), skipping what .gitignore ignores, follows the build log and prints the\n"
			    "  app's URL once it runs (exit 1 with the error otherwise).\n"
			    "  --create creates the space when it does not exist.");
			return 0;
		default:
			return cli_error(CLI_EUSAGE, "deploy: unknown option or missing value: %s (see --help)",
			    argv[optind - 1]);
		}
	}
	if (argc - optind > 1)
		return cli_error(CLI_EUSAGE, "deploy: one DIR at most (see --help)");
	if (realpath(argc > optind ? argv[optind] : ".", dir) == NULL || stat(dir, &st) != 0 ||
	    !S_ISDIR(st.st_mode))
		return cli_error(CLI_EUSAGE, "deploy: %s is not a directory", argc > optind ? argv[optind] : ".");
	if ((code = cli_space_name(c, space != NULL ? space : strrchr(dir, '/') + 1, owner, name,
	    sizeof(owner))) != 0)
		return code;
	if ((code = space_ensure(c, owner, name, create, sdk != NULL ? sdk : guess_sdk(dir), priv)) != 0)
		return code;
	d.c = c;
	d.dir = dir;
	d.remote = json_object();
	d.seen = json_object();
	if ((code = remote_state(&d, owner, name, &parent)) != 0 || (code = scratch_open(&d, tmpl)) != 0)
		goto done;
	header = json_pack("{s:s, s:s}", "summary", msg, "description", "");
	if (parent != NULL)
		json_object_set_new(header, "parentCommit", json_string(parent));
	nd_line(&d, "header", header);
	walk(&d, "");
	if (d.failed) {
		code = CLI_EFAIL;
		goto done;
	}
	if ((code = publish(&d, owner, name, &committed)) != 0 || nowait)
		goto done;
	code = wait_and_report(c, owner, name, committed);
done:
	free(parent);
	free(d.ndjson);
	json_decref(d.remote);
	json_decref(d.seen);
	git_repository_free(d.scratch);
	if (tmpl[strlen(tmpl) - 1] != 'X')
		fs_rm_rf(tmpl);
	return code;
}
