/* repo_diff.c — one commit and what it changed (the hub's /commit/SHA page): the
 * diff of its tree against its first parent's, renames found, as lines. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/git_int.h"
#include "common/util.h"

typedef struct diff_out {
	long left;          /* lines that may still be added */
	int truncated;
} diff_out;

static const char *
delta_status(git_delta_t s)
{
	switch (s) {
	case GIT_DELTA_ADDED: return "added";
	case GIT_DELTA_DELETED: return "deleted";
	case GIT_DELTA_RENAMED: return "renamed";
	case GIT_DELTA_COPIED: return "copied";
	default: return "modified";
	}
}

/* A line of text (its newline dropped, made valid UTF-8) after its origin. */
static json_t *
line_json(char origin, const char *text, size_t len)
{
	char *s;
	json_t *j;

	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	s = xmalloc(len + 2);
	s[0] = origin;
	memcpy(s + 1, text, len);
	s[len + 1] = '\0';
	/* a NUL in the text ends it: binary files have no lines here anyway */
	utf8_scrub(s);
	j = json_string(s);
	free(s);
	return j;
}

/* The lines of one file's patch into lines, while o allows. */
static void
patch_lines(git_patch *patch, json_t *lines, diff_out *o)
{
	size_t nh = git_patch_num_hunks(patch);

	for (size_t h = 0; h < nh && !o->truncated; h++) {
		const git_diff_hunk *hunk;
		size_t nl;

		if (git_patch_get_hunk(&hunk, &nl, patch, h) != 0)
			break;
		json_array_append_new(lines, line_json('@', hunk->header + 1, hunk->header_len - 1));
		for (size_t l = 0; l < nl; l++) {
			const git_diff_line *line;

			if (o->left-- <= 0) {
				o->truncated = 1;
				break;
			}
			if (git_patch_get_line_in_hunk(&line, patch, h, l) != 0)
				break;
			if (line->origin == '+' || line->origin == '-' || line->origin == ' ')
				json_array_append_new(lines, line_json(line->origin, line->content,
				    line->content_len));
		}
	}
}

static json_t *
file_json(git_diff *diff, size_t i, diff_out *o)
{
	const git_diff_delta *d = git_diff_get_delta(diff, i);
	git_patch *patch = NULL;
	size_t ctx = 0, add = 0, del = 0;
	int binary = (d->flags & GIT_DIFF_FLAG_BINARY) != 0;
	const char *path = d->new_file.path != NULL ? d->new_file.path : d->old_file.path;
	json_t *j = json_pack("{s:s, s:s}", "path", path, "status", delta_status(d->status));

	if (d->status == GIT_DELTA_RENAMED || d->status == GIT_DELTA_COPIED)
		json_object_set_new(j, "oldPath", json_string(d->old_file.path));
	if (git_patch_from_diff(&patch, diff, i) == 0 && patch != NULL) {
		binary = binary || (git_patch_get_delta(patch)->flags & GIT_DIFF_FLAG_BINARY) != 0;
		git_patch_line_stats(&ctx, &add, &del, patch);
		if (!binary && !o->truncated) {
			json_t *lines = json_array();

			patch_lines(patch, lines, o);
			json_object_set_new(j, "lines", lines);
		}
	}
	json_object_set_new(j, "additions", json_integer((json_int_t)add));
	json_object_set_new(j, "deletions", json_integer((json_int_t)del));
	json_object_set_new(j, "binary", json_boolean(binary));
	git_patch_free(patch);
	return j;
}

int
builder_repo_commit_diff(const char *repo_path, const char *rev, long max_lines, json_t **out)
{
	git_diff_options opts;
	git_repository *repo = NULL;
	git_commit *c = NULL, *parent = NULL;
	git_tree *t = NULL, *pt = NULL;
	git_diff *diff = NULL;
	diff_out o = { max_lines, 0 };
	json_t *files, *parents;
	int empty, r;
	char sha[GIT_OID_HEXSZ + 1];

	*out = NULL;
	git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
	r = builder_repo_at(repo_path, rev, &repo, &c, &empty);
	if (r != 0)
		goto done;
	if (git_commit_tree(&t, c) != 0 || (git_commit_parentcount(c) > 0 &&
	    (git_commit_parent(&parent, c, 0) != 0 || git_commit_tree(&pt, parent) != 0)) ||
	    git_diff_tree_to_tree(&diff, repo, pt, t, &opts) != 0 ||
	    git_diff_find_similar(diff, NULL) != 0) {
		r = -EIO;
		goto done;
	}
	files = json_array();
	for (size_t i = 0; i < git_diff_num_deltas(diff); i++)
		json_array_append_new(files, file_json(diff, i, &o));
	parents = json_array();
	for (unsigned i = 0; i < git_commit_parentcount(c); i++) {
		git_oid_tostr(sha, sizeof(sha), git_commit_parent_id(c, i));
		json_array_append_new(parents, json_string(sha));
	}
	*out = json_pack("{s:o, s:o, s:o, s:b}", "commit", builder_commit_json(c), "parents", parents,
	    "files", files, "truncated", o.truncated);
done:
	git_diff_free(diff);
	git_tree_free(t);
	git_tree_free(pt);
	git_commit_free(parent);
	git_commit_free(c);
	git_repository_free(repo);
	return r;
}
