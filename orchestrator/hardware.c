/* hardware.c — a space's hardware flavor: stored, applied at each instance start
 * (space.c asks space_flavor), changed through the API with a redeploy. */
#include "orchestrator/hardware.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "orchestrator/space_int.h"
#include "common/util.h"

const flavor *
space_flavor(const space *s)
{
	space *ms = (space *)s; /* the cache below is not part of what s means */
	const flavor *f;
	char *name = NULL;

	if (ms->hardware == NULL) {
		store_hardware_get(s->p->store, s->row.id, &name);
		ms->hardware = name != NULL ? name : xstrdup("");
	}
	if (ms->hardware[0] == '\0')
		return flavor_default();
	if ((f = flavor_find(ms->hardware)) == NULL) {
		log_warn("space %s/%s: flavor %s is not configured any more: %s applies", s->row.owner,
		    s->row.name, ms->hardware, flavor_default()->name);
		ms->hardware[0] = '\0';
		return flavor_default();
	}
	return f;
}

const char *
space_hardware_current(const space *s)
{
	if (s->live != NULL && s->live->in != NULL && s->live->flavor[0] != '\0')
		return s->live->flavor;
	return space_flavor(s)->name;
}

int
space_set_flavor(space *s, const flavor *f)
{
	int r;

	if (strcmp(space_flavor(s)->name, f->name) == 0 && strcmp(space_hardware_current(s), f->name) == 0)
		return 0;
	if ((r = store_hardware_set(s->p->store, s->row.id, f->name)) != 0)
		return r;
	space_replace_str(&s->hardware, f->name);
	log_info("space %s/%s: hardware %s requested", s->row.owner, s->row.name, f->name);
	space_redeploy(s);
	return 0;
}
