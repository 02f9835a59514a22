/* repo_refs.c — a repository's branches and tags: listed, made and removed (the
 * Hub's list_repo_refs, create_branch, delete_branch, create_tag, delete_tag, which
 * web/refs_api.c serves). Only main deploys: these never start a build. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/git_int.h"
#include "common/util.h"

/* A branch or tag name that git takes under prefix and that reads back as a
 * revision (builder_repo_resolve's names). */
static int
ref_name_ok(const char *prefix, const char *name, char *err, size_t errlen)
{
	char *full = xasprintf("%s%s", prefix, name);
	int valid = 0;

	if (builder_rev_name_valid(name) && strcmp(name, "HEAD") != 0)
		git_reference_name_is_valid(&valid, full);
	free(full);
	if (!valid)
		snprintf(err, errlen,
		    "invalid name \"%.200s\": use A-Z a-z 0-9 . _ - and /, as git "
		    "allows in %s",
		    name, prefix);
	return valid;
}

/* ---- listing ---- */

static int
by_name(const void *a, const void *b)
{
	const char *x = json_string_value(json_object_get(*(json_t *const *)a, "name"));
	const char *y = json_string_value(json_object_get(*(json_t *const *)b, "name"));

	/* main first, then by name */
	if (strcmp(x, "main") == 0 || strcmp(y, "main") == 0)
		return strcmp(x, "main") == 0 ? (strcmp(y, "main") == 0 ? 0 : -1) : 1;
	return strcmp(x, y);
}

static json_t *
sorted(json_t *arr)
{
	size_t n = json_array_size(arr);
	json_t **items = xcalloc(n + 1, sizeof(*items)), *out = json_array();

	for (size_t i = 0; i < n; i++)
		items[i] = json_array_get(arr, i);
	qsort(items, n, sizeof(*items), by_name);
	for (size_t i = 0; i < n; i++)
		json_array_append(out, items[i]);
	free(items);
	json_decref(arr);
	return out;
}

/* [{"name","ref","targetCommit"}] of the refs under prefix ("refs/heads/"), each
 * peeled to its commit (an annotated tag to what it tags). */
static json_t *
refs_under(git_repository *repo, const char *prefix)
{
	git_reference_iterator *it = NULL;
	git_reference *ref;
	char *glob = xasprintf("%s*", prefix);
	json_t *arr = json_array();

	if (git_reference_iterator_glob_new(&it, repo, glob) == 0) {
		while (git_reference_next(&ref, it) == 0) {
			git_object *obj = NULL;
			char oid[GIT_OID_HEXSZ + 1];

			if (git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT) == 0) {
				git_oid_tostr(oid, sizeof(oid), git_object_id(obj));
				json_array_append_new(arr,
				    json_pack("{s:s, s:s, s:s}", "name",
				        git_reference_name(ref) + strlen(prefix), "ref",
				        git_reference_name(ref), "targetCommit", oid));
			}
			git_object_free(obj);
			git_reference_free(ref);
		}
	}
	git_reference_iterator_free(it);
	free(glob);
	return sorted(arr);
}

int
builder_repo_refs(const char *repo_path, json_t **out)
{
	git_repository *repo = NULL;

	*out = NULL;
	if (builder_repo_open(repo_path, &repo) != 0)
		return -EIO;
	*out = json_pack("{s:o, s:o}", "branches", refs_under(repo, "refs/heads/"), "tags",
	    refs_under(repo, "refs/tags/"));
	git_repository_free(repo);
	return 0;
}

/* ---- branches ---- */

int
builder_branch_create(
    const char *repo_path, const char *name, const char *start, char *err, size_t errlen)
{
	git_repository *repo = NULL;
	git_commit *c = NULL;
	git_reference *ref = NULL;
	int r;

	if (!ref_name_ok("refs/heads/", name, err, errlen))
		return -EINVAL;
	if (builder_repo_open(repo_path, &repo) != 0) {
		snprintf(err, errlen, "the repository could not be opened");
		return -EIO;
	}
	r = builder_repo_resolve(repo, start != NULL ? start : "main", &c);
	if (r != 0) {
		if (start == NULL)
			snprintf(err, errlen, "nothing to branch from: main has no commit yet");
		else
			snprintf(err, errlen, "revision %.200s not found", start);
		r = start == NULL ? -EINVAL : -ESRCH;
		goto done;
	}
	r = git_branch_create(&ref, repo, name, c, 0);
	if (r == GIT_EEXISTS) {
		snprintf(err, errlen, "branch %s already exists", name);
		r = -EEXIST;
	} else if (r != 0) {
		snprintf(
		    err, errlen, "branch %s could not be made: %s", name, builder_git_errmsg());
		r = -EIO;
	}
done:
	git_reference_free(ref);
	git_commit_free(c);
	git_repository_free(repo);
	return r;
}

int
builder_branch_delete(const char *repo_path, const char *name, char *err, size_t errlen)
{
	git_repository *repo = NULL;
	git_reference *ref = NULL;
	int r;

	if (strcmp(name, "main") == 0) {
		snprintf(err, errlen, "main is the default branch: it cannot be deleted");
		return -EPERM;
	}
	if (builder_repo_open(repo_path, &repo) != 0) {
		snprintf(err, errlen, "the repository could not be opened");
		return -EIO;
	}
	/* the ref only, not git_branch_delete: that drops the branch's config section
	 * (there is none here) through a regex whose pcre2 match data libgit2 1.5 leaks */
	r = git_branch_lookup(&ref, repo, name, GIT_BRANCH_LOCAL);
	if (r != 0) {
		snprintf(err, errlen, "branch %.200s not found", name);
		r = -ESRCH;
	} else if (git_reference_delete(ref) != 0) {
		snprintf(
		    err, errlen, "branch %s could not be deleted: %s", name, builder_git_errmsg());
		r = -EIO;
	}
	git_reference_free(ref);
	git_repository_free(repo);
	return r;
}

/* ---- tags ---- */

int
builder_tag_create(const char *repo_path, const char *tag, const char *rev, const char *message,
    const char *tagger, const char *email, char *err, size_t errlen)
{
	git_repository *repo = NULL;
	git_signature *sig = NULL;
	git_commit *c = NULL;
	git_oid id;
	int r;

	if (!ref_name_ok("refs/tags/", tag, err, errlen))
		return -EINVAL;
	if (builder_repo_open(repo_path, &repo) != 0) {
		snprintf(err, errlen, "the repository could not be opened");
		return -EIO;
	}
	if (builder_repo_resolve(repo, rev, &c) != 0) {
		snprintf(err, errlen, "revision %.200s not found", rev);
		r = -ESRCH;
		goto done;
	}
	/* annotated with a message (by the user), else lightweight */
	if (message != NULL)
		r = git_signature_now(&sig, tagger, email) != 0
		    ? -1
		    : git_tag_create(&id, repo, tag, (const git_object *)c, sig, message, 0);
	else
		r = git_tag_create_lightweight(&id, repo, tag, (const git_object *)c, 0);
	if (r == GIT_EEXISTS) {
		snprintf(err, errlen, "tag %s already exists", tag);
		r = -EEXIST;
	} else if (r != 0) {
		snprintf(err, errlen, "tag %s could not be made: %s", tag, builder_git_errmsg());
		r = -EIO;
	}
done:
	git_signature_free(sig);
	git_commit_free(c);
	git_repository_free(repo);
	return r;
}

int
builder_tag_delete(const char *repo_path, const char *tag, char *err, size_t errlen)
{
	git_repository *repo = NULL;
	int r;

	if (builder_repo_open(repo_path, &repo) != 0) {
		snprintf(err, errlen, "the repository could not be opened");
		return -EIO;
	}
	r = builder_rev_name_valid(tag) ? git_tag_delete(repo, tag) : GIT_ENOTFOUND;
	if (r == GIT_ENOTFOUND) {
		snprintf(err, errlen, "tag %.200s not found", tag);
		r = -ESRCH;
	} else if (r != 0) {
		snprintf(err, errlen, "tag %s could not be deleted: %s", tag, builder_git_errmsg());
		r = -EIO;
	}
	git_repository_free(repo);
	return r;
}
