/* clone_api.c — POST /api/repos/create with "from": URL: a space made from a
 * public git repository (builder_clone_*, builder/clone.c), then built as after a
 * push.
 *
 * One clone, from birth to death: the URL and its host are checked against the
 * policy (400, 403) → the space is created → builder_clone_start resolves, checks
 * every address and fetches → done: main is set, space_on_push, 200; or the space
 * is deleted and the answer names the cause (403 refused, 400 not a git
 * repository, 502 unreachable, 413 too big, 504 too slow). A client that leaves
 * cancels the fetch; the space goes too.
 *
 * The policy is the "clone" section of DATA/config.yaml, read once at start
 * (p->config); a section that cannot be read refuses every clone, saying why. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/git.h"
#include "common/config.h"
#include "common/log.h"
#include "common/util.h"
#include "orchestrator/space.h"
#include "web/web_int.h"

typedef struct clone_req {
	podium *p;
	http_exchange *x;
	int gone;               /* the client left: answer nobody */
	builder_clone *clone;   /* until done */
	char *owner, *name, *url;
} clone_req;

/* The daemon's policy: from web_clone_init on; NULL with why when it is bad. */
static builder_clone_policy *policy;
static char policy_err[256];

void
web_clone_init(podium *p)
{
	if (builder_clone_policy_new(config_get(p->config, "clone"), &policy, policy_err,
	    sizeof(policy_err)) != 0)
		log_msg(LOG_ERROR, "%s: nothing will be cloned", policy_err);
}

static void
clone_noop(void *arg)
{
}

static void
clone_noop_data(void *arg, const char *d, size_t n)
{
}

static void
clone_req_free(clone_req *c)
{
	free(c->owner);
	free(c->name);
	free(c->url);
	free(c);
}

/* The client left (or the daemon is stopping, which aborts every exchange): the
 * fetch is stopped and the space removed, so that nothing half-made stays and
 * nothing keeps the loop running. */
static void
clone_client_gone(void *arg)
{
	clone_req *c = arg;

	c->gone = 1;
	if (c->clone != NULL)
		builder_clone_cancel(c->clone);
}

static int
clone_status(int r)
{
	switch (r) {
	case -EPERM: return 403;
	case -EINVAL: return 400;
	case -EFBIG: return 413;
	case -ETIMEDOUT: return 504;
	case -EHOSTUNREACH: return 502;
	case -ECANCELED: return 400;
	default: return 502;
	}
}

/* Answers (unless the client left) and, on failure, removes the space. */
static void
clone_done(void *arg, int r, const char *sha, const char *msg)
{
	clone_req *c = arg;
	space *s = space_find(c->p, c->owner, c->name);
	int status = clone_status(r);
	char gone[300];

	c->clone = NULL;
	if (s == NULL) {
		status = 404;
		snprintf(gone, sizeof(gone), "space %s/%s was deleted during the clone", c->owner,
		    c->name);
		msg = gone;
	} else if (r == 0) {
		log_info("space %s/%s: cloned %s at %.12s", c->owner, c->name, c->url, sha);
		space_on_push(c->p, s, sha);
	} else {
		log_msg(LOG_WARN, "space %s/%s: clone of %s failed: %s", c->owner, c->name, c->url, msg);
		space_delete(c->p, s);
	}
	if (!c->gone) {
		http_body_cb none = { clone_noop_data, clone_noop, clone_noop, NULL, NULL };

		http_exchange_set_body_cb(c->x, &none);
		if (s != NULL && r == 0)
			web_json(c->x, 200, web_repo_created(c->p, s));
		else
			web_json_error(c->x, status, "%s", msg);
	}
	clone_req_free(c);
}

void
web_clone_start(web_call *wc, const char *owner, const char *name, const char *sdk, int private,
    const char *url)
{
	http_body_cb cb = { clone_noop_data, clone_noop, clone_client_gone, NULL, NULL };
	clone_req *c;
	char err[512], *repo;
	space *s;
	int r;

	if (policy == NULL) {
		web_json_error(wc->x, 403, "cannot clone %s: refused by policy: %s", url, policy_err);
		return;
	}
	if ((r = builder_clone_check(policy, url, err, sizeof(err))) != 0) {
		web_json_error(wc->x, r == -EPERM ? 403 : 400, "%s", err);
		return;
	}
	r = space_create(wc->p, owner, name, sdk, private, &s, err, sizeof(err));
	if (r != 0) {
		web_json_error(wc->x, web_create_status(r), "%s", err);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->p = wc->p;
	c->x = wc->x;
	c->owner = xstrdup(owner);
	c->name = xstrdup(name);
	c->url = xstrdup(url);
	repo = space_repo_path(wc->p, s);
	r = builder_clone_start(wc->p->loop, policy, url, repo, clone_done, c, &c->clone, err,
	    sizeof(err));
	free(repo);
	if (r != 0) {
		space_delete(wc->p, s);
		web_json_error(wc->x, clone_status(r), "%s", err);
		clone_req_free(c);
		return;
	}
	/* the answer comes later: a client that leaves is noticed (the body has ended,
	 * these callbacks replace the API's, which are done) */
	cb.arg = c;
	http_exchange_set_body_cb(wc->x, &cb);
}
