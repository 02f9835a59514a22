/* lifecycle.h — what an owner does to a space besides pushing, and what the
 * daemon does to idle ones (Hugging Face Hub shapes: restart_space, pause_space,
 * set_space_sleep_time; rollback as Dokku lacks it):
 *
 *   restart   a new instance of the serving release, switched to once it
 *             answers (as a redeploy); factory: rebuild the commit without the
 *             build cache. Resumes a paused space, wakes a sleeping one.
 *   pause     stops the app (stage PAUSED) until restart, across daemon restarts;
 *             pushes still build, nothing starts; visitors get a 503 page.
 *   sleep     after sleep_after seconds with no request and no open exchange
 *             (WebSocket, SSE, long poll, upload) the app is stopped (SLEEPING);
 *             the next request wakes it and is held by the proxy (proxy/hold.c)
 *             until the app answers.
 *   rollback  serves an already built release again, without a build.
 *
 * All functions run on the main loop. Errors: 0, or -EINVAL / -ENOENT with err
 * set to a message for the user.
 */
#ifndef PODIUM_LIFECYCLE_H
#define PODIUM_LIFECYCLE_H

#include <jansson.h>
#include <stddef.h>

#include "orchestrator/podium.h"
#include "proxy/routes.h"

/* Daemon side: the wake handler, its async handle and the idle timer. */
int lifecycle_init(podium *p);
void lifecycle_shutdown(podium *p);

int space_restart(space *s, int factory, char *err, size_t errlen);
int space_pause(space *s, char *err, size_t errlen);
/* seconds: -1 never, else 1 .. LIFECYCLE_MAX_SLEEP. */
int space_set_sleep_time(space *s, long long seconds, char *err, size_t errlen);
int space_rollback(space *s, long long release, char *err, size_t errlen);
/* The size of /data (storage tiers, flavors.h): grows it online; a smaller tier
 * is refused (-EINVAL, err says why). */
int space_set_storage(space *s, const char *tier, char *err, size_t errlen);
/* Deletes /data and all it holds (Hub: delete_space_storage): a running app is
 * stopped and started again on a fresh, empty one; the tier is the default again. */
int space_delete_storage(space *s, char *err, size_t errlen);
/* [{"id","sha","createdAt","status","message"?,"serving"}], newest first. */
json_t *space_releases_json(space *s);

#define LIFECYCLE_MAX_SLEEP (30LL * 24 * 3600)

#endif
