/* resources.c — what a space takes from the host: its /data filesystem, the
 * numbers of its running box, its egress switch. The host's parts (host/) know
 * boxes, directories and uids; this file knows which of them are a space's. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "orchestrator/host/disk.h"
#include "orchestrator/host/flavors.h"
#include "orchestrator/host/instance.h"
#include "orchestrator/host/net.h"
#include "orchestrator/host/storage.h"
#include "orchestrator/space_int.h"

/* ---- /data ---- */

uint64_t
space_storage_bytes(const space *s)
{
	const storage_tier *t = storage_tier_find(s->storage_tier);

	return (t != NULL ? t : storage_tier_default())->bytes;
}

/* Fills v for s; *dir is the allocated data dir (caller frees). */
static void
storage_vol_of(const space *s, storage_vol *v, char **dir, char label[160])
{
	*dir = space_data_dir(s->p, s);
	snprintf(label, 160, "%s/%s", s->row.owner, s->row.name);
	*v = (storage_vol){ .dir = *dir, .label = label, .bytes = space_storage_bytes(s),
		.uid = space_host_uid(s) };
}

int
space_storage_attach(space *s, char *err, size_t errlen)
{
	storage_vol v;
	char *dir, label[160];
	int r;

	storage_vol_of(s, &v, &dir, label);
	r = storage_attach(&v, err, errlen);
	free(dir);
	/* its share of the disk before its app writes a byte */
	if (r == 0)
		storage_balance(disk_room());
	return r;
}

int
space_storage_resize(space *s, char *err, size_t errlen)
{
	storage_vol v;
	char *dir, label[160];
	int r;

	storage_vol_of(s, &v, &dir, label);
	r = storage_resize(&v, err, errlen);
	free(dir);
	return r;
}

int
space_storage_pending(const space *s)
{
	char *dir = space_data_dir(s->p, s);
	int r = storage_pending(dir);

	free(dir);
	return r;
}

void
space_storage_remove(space *s)
{
	char *dir = space_data_dir(s->p, s);

	storage_remove(dir);
	free(dir);
}

void
spaces_storage_detach(podium *p)
{
	for (space *s = p->spaces; s != NULL; s = s->next) {
		char *dir = space_data_dir(p, s);

		storage_detach(dir);
		free(dir);
	}
	spaces_builds_detach(p);
}

/* ---- the data disk ---- */

static uv_timer_t disk_timer;
static int disk_timer_on;

static void
disk_tick(uv_timer_t *t)
{
	(void)t;
	disk_check();
	storage_balance(disk_room());
}

int
spaces_disk_configure(podium *p, char *err, size_t errlen)
{
	return disk_init(p->data_dir, p->config, err, errlen);
}

void
spaces_disk_start(podium *p)
{
	uv_timer_init(p->loop, &disk_timer);
	uv_timer_start(&disk_timer, disk_tick, 1000, 1000);
	disk_timer_on = 1;
}

void
spaces_disk_stop(void)
{
	if (!disk_timer_on)
		return;
	disk_timer_on = 0;
	uv_close((uv_handle_t *)&disk_timer, NULL);
}

int
space_data_health(const space *s, storage_health *out)
{
	char *dir = space_data_dir(s->p, s);
	int r = storage_health_of(dir, out);

	free(dir);
	return r;
}

const char *
space_data_note(const space *s, char *buf, size_t len)
{
	storage_health h;

	if (space_data_health(s, &h) != 0)
		return NULL;
	if (h.read_only || h.errors > 0)
		snprintf(buf, len, "its /data reported %llu filesystem error%s%s: see the host's "
		    "kernel log for loop%u", (unsigned long long)h.errors, h.errors == 1 ? "" : "s",
		    h.read_only ? " and is read-only (writes fail until it is repaired)" : "", h.loop);
	else if (h.limited && h.room == 0)
		snprintf(buf, len, "the server's disk is full: writes to /data fail (ENOSPC) until "
		    "space is freed");
	else
		return NULL;
	return buf;
}

/* ---- what its app uses ---- */

int
space_usage(const space *s, usage_info *out)
{
	const inst_ref *ref = s->live != NULL && s->live->in != NULL ? s->live : s->pending;

	if (ref == NULL || ref->in == NULL) {
		usage_box(0, out);
		return -ENOENT;
	}
	return usage_box(instance_box_pid(ref->in), out);
}

static json_t *
num_or_null(int64_t v)
{
	return v >= 0 ? json_integer(v) : json_null();
}

json_t *
space_usage_json(const space *s)
{
	usage_info u;
	char *data = space_data_dir(s->p, s);
	int64_t bytes = usage_dir_bytes(s->p->loop, data);
	json_t *j = json_object();

	free(data);
	space_usage(s, &u);
	json_object_set_new(j, "cpuSeconds", u.cpu_seconds >= 0 ? json_real(u.cpu_seconds) : json_null());
	json_object_set_new(j, "memoryBytes", num_or_null(u.memory_bytes));
	json_object_set_new(j, "memoryPeakBytes", num_or_null(u.memory_peak_bytes));
	json_object_set_new(j, "processes", num_or_null(u.processes));
	json_object_set_new(j, "dataBytes", num_or_null(bytes));
	return j;
}

void
space_cold_start(space *s, uint64_t ms)
{
	double sec = (double)ms / 1000.0;
	unsigned b = 0;

	while (b < COLD_START_BUCKETS - 1 && sec > cold_start_bounds_s[b])
		b++;
	s->cold.count[b]++;
	s->cold.n++;
	s->cold.sum_s += sec;
}

const cold_starts *
space_cold_starts(const space *s)
{
	return &s->cold;
}

unsigned
space_restarts(const space *s)
{
	return s->restarts;
}

const char *
space_stage(const space *s)
{
	return s->row.stage;
}

int64_t
space_id(const space *s)
{
	return s->row.id;
}

/* ---- egress ---- */

int
space_set_egress(space *s, int enabled)
{
	return net_space_set_egress(space_host_uid(s), enabled);
}

json_t *
space_egress_json(const space *s, int counters)
{
	unsigned uid = space_host_uid(s);
	json_t *j = json_pack("{s:b, s:b}", "enabled", net_enabled() && net_space_egress(uid),
	    "space_enabled", net_space_egress(uid)), *c = NULL;
	int fd;

	if (counters && s->live != NULL && s->live->in != NULL &&
	    (fd = instance_netns_dup(s->live->in)) >= 0) {
		c = net_box_counters(fd);
		close(fd);
	}
	if (c != NULL)
		json_object_update(j, c);
	json_decref(c);
	return j;
}
