/* space.h — the space lifecycle, with Hugging Face stage names.
 *
 * A space is created empty (NO_APP_FILE). Each push to main builds the pushed commit
 * (BUILDING, or RUNNING_BUILDING while an older release serves); a good build starts
 * a new instance (APP_STARTING / RUNNING_APP_STARTING) and, once its port answers,
 * the route switches to it and the old instance drains and stops (RUNNING). Failures
 * leave the old release serving with the error visible; without one the stage says
 * what failed (NO_APP_FILE, CONFIG_ERROR, BUILD_ERROR, RUNTIME_ERROR). A crashed app is
 * restarted without end with capped exponential backoff (RUNTIME_ERROR while it waits).
 *
 * All functions run on the main loop. A space pointer stays valid until
 * space_delete() returns; the list lives in podium->spaces.
 */
#ifndef PODIUM_SPACE_H
#define PODIUM_SPACE_H

#include <jansson.h>

#include "orchestrator/podium.h"

/* Each app's memory limit (its cgroup), committed against the host budget (budget.h). */
#define SPACE_MEMORY_LIMIT (2ull << 30)

/* Loads spaces from the store and brings back every space that was meant to run on
 * its last good release (apps start in the background); an interrupted build of the
 * newest push is built again, an interrupted switch deployed again. */
int spaces_init(podium *p);
/* Stops every app (state kept) and cancels builds; cb(arg) runs when all have exited. */
void spaces_shutdown(podium *p, void (*cb)(void *arg), void *arg);

space *space_find(podium *p, const char *owner, const char *name);
/* Iteration: for (s = p->spaces; s != NULL; s = space_next(s)). */
space *space_next(const space *s);
/* Returns 0, -EINVAL (bad name/sdk; err says which) or -EEXIST (taken; err says why). */
int space_create(podium *p, const char *owner, const char *name, const char *sdk, int private,
    space **out, char *err, size_t errlen);
/* Stops the app, cancels the build, removes repo, releases, data and logs. */
int space_delete(podium *p, space *s);

/* A push to main moved it to sha: build exactly that commit. */
void space_on_push(podium *p, space *s, const char *sha);

const char *space_owner(const space *s);
const char *space_name(const space *s);
int space_is_private(const space *s);
/* How many users like it (the Hub's likes). */
int64_t space_likes(const space *s);
/* user likes s (like 1) or not any more (0): 0, -ENOENT (no such user) or -EIO. */
int space_like(space *s, const char *user, int like);
/* Does user (NULL: nobody) like s? */
int space_liked(const space *s, const char *user);
/* The newest commit pushed to main (NULL before the first push). */
const char *space_pushed_sha(const space *s);
char *space_repo_path(const podium *p, const space *s);     /* caller frees */
char *space_build_log_path(const podium *p, const space *s); /* latest build log; caller frees */
char *space_app_log_path(const podium *p, const space *s);   /* caller frees */

/* HF Hub API shapes (new references). */
json_t *space_json(const podium *p, const space *s, int full);
json_t *space_runtime_json(const space *s);

#endif
