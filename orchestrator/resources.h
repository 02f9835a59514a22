/* resources.h — what a space takes from the host (resources.c): its /data
 * filesystem (sized by its storage tier), what its running app uses, its cold
 * starts and its egress switch. All on the main loop. */
#ifndef PODIUM_RESOURCES_H
#define PODIUM_RESOURCES_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "orchestrator/host/storage.h"
#include "orchestrator/host/usage.h"
#include "orchestrator/podium.h"

/* /data (host/storage.h): the size its tier gives it; attach (make and mount),
 * resize (0 done, 1 at the next start, -EINVAL smaller), whether a grow waits,
 * remove (the space is deleted), and every space's detached, its build disk's too
 * (daemon stop). */
uint64_t space_storage_bytes(const space *s);
int space_storage_attach(space *s, char *err, size_t errlen);
int space_storage_resize(space *s, char *err, size_t errlen);
int space_storage_pending(const space *s);
void space_storage_remove(space *s);
void spaces_storage_detach(podium *p);

/* The data disk (host/disk.h), looked at once a second while the daemon runs: its
 * state, and each attached /data's share of its room (host/storage.h). configure
 * reads `disk:` of the configuration: -1 and err on a bad value. */
int spaces_disk_configure(podium *p, char *err, size_t errlen);
void spaces_disk_start(podium *p);
void spaces_disk_stop(void);
/* The health of the space's /data: 0 and *out while attached, else -ENOENT. */
int space_data_health(const space *s, storage_health *out);
/* What the runtime's errorMessage adds about the disk and the space's /data (the
 * disk is full, its /data reported errors), or NULL: buf, or NULL. */
const char *space_data_note(const space *s, char *buf, size_t len);

/* The serving (else starting) instance's numbers; 0, or -ENOENT with none. */
int space_usage(const space *s, usage_info *out);
/* The runtime's "resources": {cpuSeconds, memoryBytes, memoryPeakBytes,
 * processes, dataBytes}, null where unknown. New reference. */
json_t *space_usage_json(const space *s);
/* Records one cold start of ms milliseconds. */
void space_cold_start(space *s, uint64_t ms);
const cold_starts *space_cold_starts(const space *s);
/* Crash restarts since the daemon started. */
unsigned space_restarts(const space *s);
const char *space_stage(const space *s);
int64_t space_id(const space *s);

/* The space's egress switch (admin only), and its "egress" object for the runtime
 * JSON: {"enabled": effective, "space_enabled": the switch, "tx_bytes", "rx_bytes"
 * of the running app's veth since it started (absent without one)}. counters: read
 * tx/rx (a netlink query inside the app's namespace): single-space views only,
 * never a list of hundreds. */
int space_set_egress(space *s, int enabled);
json_t *space_egress_json(const space *s, int counters);

#endif
