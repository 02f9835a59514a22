/* duplicate.c — a copy of a space under a new name (Hub: duplicate_space): the
 * same git history and variables, never its secrets, then built and started
 * like a push of its main branch. The history is copied in the thread pool
 * (a repository may be large); the new space says BUILDING meanwhile. */
#include "orchestrator/duplicate.h"
#include "builder/git.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "orchestrator/secrets.h"
#include "orchestrator/space_int.h"
#include "common/util.h"

typedef struct dup_job {
	uv_work_t work;
	podium *p;
	int64_t dst_id;
	char *owner, *name, *src_repo, *dst_repo;
	int rc;
	char err[512];
} dup_job;

static void
dup_work(uv_work_t *w)
{
	dup_job *j = w->data;

	j->rc = builder_repo_copy(j->src_repo, j->dst_repo, j->err, sizeof(j->err));
}

static void
dup_done(uv_work_t *w, int status)
{
	dup_job *j = w->data;
	space *s = space_find(j->p, j->owner, j->name);
	char sha[41];

	/* deleted (or replaced by a namesake) meanwhile, or the daemon is stopping */
	if (s == NULL || s->row.id != j->dst_id || j->p->stopping || status != 0)
		goto done;
	if (j->rc != 0) {
		char *msg = xasprintf("duplicate failed: %s", j->err);

		space_set_stage(s, "BUILD_ERROR", msg);
		free(msg);
	} else if (builder_repo_head(j->dst_repo, sha) == 0) {
		space_on_push(j->p, s, sha);
	} else {
		space_set_stage(s, "NO_APP_FILE", "the duplicated space has no main branch yet");
	}
done:
	free(j->owner);
	free(j->name);
	free(j->src_repo);
	free(j->dst_repo);
	free(j);
}

typedef struct var_copy {
	podium *p;
	space *dst;
	int failed;
} var_copy;

static void
copy_variable(const config_row *r, void *arg)
{
	var_copy *c = arg;
	char *value = xstrndup(r->value, r->value_len);
	char err[256];

	if (space_config_set(c->p, c->dst, 0, r->key, value, r->description, err, sizeof(err)) != 0) {
		log_warn("duplicate: variable %s not copied: %s", r->key, err);
		c->failed++;
	}
	free(value);
}

int
space_duplicate(podium *p, space *src, const char *owner, const char *name, int private,
    space **out, char *err, size_t errlen)
{
	var_copy vc = { p, NULL, 0 };
	dup_job *j;
	space *dst;
	int r;

	r = space_create(p, owner, name, src->row.sdk, private, &dst, err, errlen);
	if (r != 0)
		return r;
	vc.dst = dst;
	store_config_list(p->store, src->row.id, 0, copy_variable, &vc);
	j = xcalloc(1, sizeof(*j));
	j->p = p;
	j->dst_id = dst->row.id;
	j->owner = xstrdup(owner);
	j->name = xstrdup(name);
	j->src_repo = space_repo_path(p, src);
	j->dst_repo = space_repo_path(p, dst);
	j->work.data = j;
	space_set_stage(dst, "BUILDING", NULL);
	log_info("space %s/%s: duplicating %s/%s", owner, name, src->row.owner, src->row.name);
	if ((r = uv_queue_work(p->loop, &j->work, dup_work, dup_done)) != 0) {
		j->rc = -1;
		snprintf(j->err, sizeof(j->err), "%s", uv_strerror(r));
		j->work.data = j;
		dup_done(&j->work, 0);
	}
	*out = dst;
	return 0;
}
