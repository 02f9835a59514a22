/* usercmd.h — `podium user ...` (usercmd.c). */
#ifndef PODIUM_USERCMD_H
#define PODIUM_USERCMD_H

#include "orchestrator/store/store.h"

/* argv as main's, argv[1] == "user"; returns the exit status. */
int usercmd_main(int argc, char **argv);
/* The data dir's store, as podium serve finds it (url: --store, else
 * config.yaml's store:, else DIR/podium.db); 0, or the reason on stderr. */
int cmd_store_of(const char *data, const char *url, store **st);

#endif
