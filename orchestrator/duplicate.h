/* duplicate.h — copying a space (Hub: duplicate_space). */
#ifndef PODIUM_DUPLICATE_H
#define PODIUM_DUPLICATE_H

#include <stddef.h>

#include "orchestrator/podium.h"

/* Creates OWNER/NAME (errors as space_create: -EINVAL, -EEXIST, with err) with
 * src's sdk and variables (not its secrets), then copies src's git history in
 * the background and builds its main branch. *out is the new space. */
int space_duplicate(podium *p, space *src, const char *owner, const char *name, int private,
    space **out, char *err, size_t errlen);

#endif
