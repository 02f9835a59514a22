/* refs_api.c — a space's branches and tags in the Hub's shapes (huggingface_hub's
 * list_repo_refs, create_branch, delete_branch, create_tag, delete_tag):
 *
 *   GET    /api/spaces/O/N/refs[?include_prs=1]  {"branches","converts":[],"tags",
 *                                                  "pullRequests"?: []}
 *   POST   /api/spaces/O/N/branch/NAME  {} | {"startingPoint": REV}   → {}
 *   DELETE /api/spaces/O/N/branch/NAME                               → {}
 *   POST   /api/spaces/O/N/tag/REV      {"tag", "message"?}          → {}
 *   DELETE /api/spaces/O/N/tag/NAME                                  → {}
 *
 * NAME and REV are percent-decoded ("feat%2Fone" is feat/one). Only main deploys:
 * a branch or tag never starts a build. Git's work is builder/git.h's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/git.h"
#include "common/util.h"
#include "orchestrator/space.h"
#include "web/web_int.h"

/* The call's {rest}, decoded, or NULL with a 400 answered. */
static char *
rest_name(web_call *c)
{
	const char *rest = web_param(c, "rest");
	char *name = rest[0] != '\0' ? web_unescape(rest) : NULL;

	if (name == NULL)
		web_json_error(c->x, 400, "a branch or tag name is needed after the route");
	return name;
}

/* A builder error: RevisionNotFound for what is not there. */
static void
ref_failed(http_exchange *x, int r, const char *err)
{
	if (r == -ESRCH)
		web_not_found(x, "RevisionNotFound", "%s", err);
	else
		web_json_error(x, web_status_of(r), "%s", err);
}

void
web_refs(web_call *c)
{
	char *repo = space_repo_path(c->p, c->s);
	json_t *refs;

	if (builder_repo_refs(repo, &refs) != 0) {
		web_json_error(c->x, 500, "internal error: the repository could not be read");
	} else {
		/* no conversions and no pull requests here; list_repo_refs reads both keys */
		json_object_set_new(refs, "converts", json_array());
		if (web_query_true(c->r->query, "include_prs"))
			json_object_set_new(refs, "pullRequests", json_array());
		web_json(c->x, 200, refs);
	}
	free(repo);
}

static void
branch_body(web_call *c, json_t *body)
{
	json_t *start = json_object_get(body, "startingPoint");
	char *name = rest_name(c), *repo, err[512];
	int r;

	if (name == NULL)
		return;
	if (start != NULL && !json_is_null(start) && !json_is_string(start)) {
		web_json_error(c->x, 400, "\"startingPoint\" must be a revision (a string)");
	} else if (json_is_true(json_object_get(body, "emptyBranch"))) {
		web_json_error(c->x, 400, "\"emptyBranch\" is not supported on podium");
	} else {
		repo = space_repo_path(c->p, c->s);
		r = builder_branch_create(repo, name, json_string_value(start), err, sizeof(err));
		free(repo);
		if (r != 0)
			ref_failed(c->x, r, err);
		else
			web_json(c->x, 200, json_object());
	}
	free(name);
}

void
web_branch_create(web_call *c)
{
	web_with_body(c, branch_body);
}

/* DELETE .../branch/NAME and .../tag/NAME: the same but for what removes it. */
static void
ref_delete(web_call *c, int (*del)(const char *repo, const char *name, char *err, size_t errlen))
{
	char *name = rest_name(c), *repo, err[512];
	int r;

	if (name == NULL)
		return;
	repo = space_repo_path(c->p, c->s);
	r = del(repo, name, err, sizeof(err));
	if (r != 0)
		ref_failed(c->x, r, err);
	else
		web_json(c->x, 200, json_object());
	free(repo);
	free(name);
}

void
web_branch_delete(web_call *c)
{
	ref_delete(c, builder_branch_delete);
}

static void
tag_body(web_call *c, json_t *body)
{
	const char *tag = json_string_value(json_object_get(body, "tag"));
	json_t *msg = json_object_get(body, "message");
	char *rev = rest_name(c), *repo, *email, err[512];
	int r;

	if (rev == NULL)
		return;
	if (tag == NULL || (msg != NULL && !json_is_null(msg) && !json_is_string(msg))) {
		web_json_error(c->x, 400, "body must be {\"tag\": NAME, \"message\"?: TEXT}");
	} else {
		repo = space_repo_path(c->p, c->s);
		email = web_user_email(c->p, c->user);
		r = builder_tag_create(
		    repo, tag, rev, json_string_value(msg), c->user, email, err, sizeof(err));
		free(email);
		free(repo);
		if (r != 0)
			ref_failed(c->x, r, err);
		else
			web_json(c->x, 200, json_object());
	}
	free(rev);
}

void
web_tag_create(web_call *c)
{
	web_with_body(c, tag_body);
}

void
web_tag_delete(web_call *c)
{
	ref_delete(c, builder_tag_delete);
}
