/* preupload.c — what huggingface_hub asks before it commits:
 *
 *   POST /api/spaces/O/N/preupload/REV {"files": [{"path","sample","size"}], "gitIgnore"?}
 *        → {"files": [{"path", "uploadMode": "regular", "shouldIgnore", "oid"?}]}
 *        Every file is a regular git blob here (no LFS, no Xet: 413 over WEB_MAX_FILE),
 *        so the client never asks for an upload URL. shouldIgnore: git's rules of
 *        gitIgnore when given, else of the .gitignore at REV; oid: the blob already at
 *        that path, which lets the client leave an unchanged file out.
 *   POST /api/validate-yaml {"content": README text, "repoType"} → 200 {"errors": [],
 *        "warnings": [{"message"}]}, or 400 {"error", "errors": [{"message"}]}: what the
 *        build would call CONFIG_ERROR (builder_readme_check), before anything is sent. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/build.h"
#include "builder/git.h"
#include "orchestrator/space.h"
#include "web/web_int.h"

/* the README the client sends: what a build reads of it */
#define README_MAX ((size_t)1 << 20)

/* files[], checked: each a valid path no bigger than a commit takes. The paths,
 * in order, in *paths (new reference); -1 answered. */
static int
preupload_paths(web_call *c, json_t *files, json_t **paths)
{
	json_t *f;
	size_t i;

	*paths = json_array();
	json_array_foreach(files, i, f) {
		const char *path = json_string_value(json_object_get(f, "path"));
		json_int_t size = json_integer_value(json_object_get(f, "size"));

		if (path == NULL || !builder_repo_path_valid(path)) {
			web_json_error(c->x, 400, "files[%zu]: a valid \"path\" is needed", i);
			break;
		}
		/* no LFS here: big files are refused now, before they are sent */
		if (size > (json_int_t)WEB_MAX_FILE) {
			web_json_error(
			    c->x, 413, "%s is larger than %u MiB", path, WEB_MAX_FILE >> 20);
			break;
		}
		json_array_append_new(*paths, json_string(path));
	}
	if (json_array_size(*paths) == json_array_size(files))
		return 0;
	json_decref(*paths);
	*paths = NULL;
	return -1;
}

static void
preupload_body(web_call *c, json_t *body)
{
	json_t *files = json_object_get(body, "files"), *gi = json_object_get(body, "gitIgnore");
	json_t *paths, *info = NULL, *out, *one;
	char *rev, *path, *repo;
	size_t i;
	int r;

	if (!json_is_array(files) || (gi != NULL && !json_is_null(gi) && !json_is_string(gi))) {
		web_json_error(c->x, 400,
		    "body must be {\"files\": [{\"path\", \"size\", \"sample\"}], "
		    "\"gitIgnore\"?: TEXT}");
		return;
	}
	if (preupload_paths(c, files, &paths) != 0 || web_rev_path(c, &rev, &path) != 0) {
		json_decref(paths);
		return;
	}
	repo = space_repo_path(c->p, c->s);
	r = builder_repo_preupload(repo, rev, json_string_value(gi), paths, &info);
	if (r == -ESRCH) {
		web_not_found(c->x, "RevisionNotFound", "revision %s not found", rev);
	} else if (r != 0) {
		web_json_error(c->x, 500, "internal error: the repository could not be read");
	} else {
		out = json_array();
		json_array_foreach(info, i, one)
			json_array_append_new(out,
			    json_pack("{s:O, s:s, s:O, s:O*}", "path", json_array_get(paths, i),
			        "uploadMode", "regular", "shouldIgnore",
			        json_object_get(one, "ignored"), "oid",
			        json_object_get(one, "oid")));
		web_json(c->x, 200, json_pack("{s:o, s:s}", "files", out, "commitOid", ""));
	}
	json_decref(info);
	json_decref(paths);
	free(repo);
	free(rev);
	free(path);
}

void
web_repo_preupload(web_call *c)
{
	if (web_query_true(c->r->query, "create_pr")) {
		web_json_error(c->x, 400, "pull requests are not supported on podium");
		return;
	}
	/* a sample of each file (512 bytes, base64), 256 files a batch */
	c->body_max = 4u << 20;
	web_with_body(c, preupload_body);
}

/* ---- validate-yaml ---- */

static void
validate_body(web_call *c, json_t *body)
{
	json_t *content = json_object_get(body, "content"), *warnings;
	char err[512];

	if (!json_is_string(content)) {
		web_json_error(c->x, 400, "body must be {\"content\": README text, \"repoType\"?}");
		return;
	}
	warnings = json_array();
	if (builder_readme_check(json_string_value(content), json_string_length(content), warnings,
	        err, sizeof(err)) == 0) {
		web_json(c->x, 200, json_pack("{s:[], s:o}", "errors", "warnings", warnings));
		return;
	}
	json_decref(warnings);
	/* huggingface_hub raises ValueError("Invalid metadata in README.md.\n- " + message) */
	web_json(c->x, 400,
	    json_pack("{s:s, s:[{s:s}], s:[]}", "error", "Invalid metadata in README.md", "errors",
	        "message", err, "warnings"));
}

void
web_validate_yaml(web_call *c)
{
	c->body_max = README_MAX + 64 * 1024;
	web_with_body(c, validate_body);
}
