/* hardware.h — the flavor each space runs under (flavors.h has the flavors). */
#ifndef PODIUM_HARDWARE_H
#define PODIUM_HARDWARE_H

#include "orchestrator/host/flavors.h"
#include "orchestrator/podium.h"

/* The flavor the space asked for (the default when it never did, or when the
 * config no longer has the one it asked for). */
const flavor *space_flavor(const space *s);
/* The flavor of the instance serving, else the requested one. */
const char *space_hardware_current(const space *s);
/* Records the request and restarts the app under it (nothing to restart for a
 * static space). 0, or -EIO. */
int space_set_flavor(space *s, const flavor *f);

#endif
