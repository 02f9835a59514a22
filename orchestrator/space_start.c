/* space_start.c — starting an app instance: the start queue, the Hub's
 * environment, the sandbox spec, and what the instance takes from the host
 * (its /data, its share of the memory budget). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "orchestrator/hardware.h"
#include "orchestrator/host/budget.h"
#include "orchestrator/host/instance.h"
#include "orchestrator/resources.h"
#include "orchestrator/secrets.h"
#include "orchestrator/space_int.h"

static void space_spawn_instance(space *s, inst_ref *ref);

/* ---- the start queue ---- */

/* Instance starts wait here in order; at most start_slots() are spawned and not yet
 * ready at a time, and one is spawned per loop turn: a daemon start with many apps
 * neither blocks the listener nor starts every sandbox at the same moment. An app
 * slower than START_SLOT_MS to answer gives its slot to the next one (it keeps
 * starting), so a few slow starters do not hold up the rest. */
static inst_ref *start_head, *start_tail;
static inst_ref *starting[START_SLOTS_MAX];
static int nstarting;
static uv_timer_t start_timer;
static int start_timer_ready;

static int
start_slots(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN) * START_SLOTS_PER_CPU;

	return n < 1 ? 1 : n > START_SLOTS_MAX ? START_SLOTS_MAX : (int)n;
}

static void starts_pump(uv_timer_t *t);

static void
starts_arm(uint64_t delay_ms)
{
	if (start_timer_ready && start_head != NULL)
		uv_timer_start(&start_timer, starts_pump, delay_ms, 0);
}

void
starts_slot_take(inst_ref *ref)
{
	ref->starting = 1;
	ref->start_ms = now_ms();
	starting[nstarting++] = ref;
}

/* Ready, exited, or slow: the instance's slot goes to the next start. */
void
starts_slot_release(inst_ref *ref)
{
	if (!ref->starting)
		return;
	ref->starting = 0;
	for (int i = 0; i < nstarting; i++) {
		if (starting[i] == ref) {
			starting[i] = starting[--nstarting];
			break;
		}
	}
	starts_arm(0);
}

static void
starts_pump(uv_timer_t *t)
{
	uint64_t now = now_ms(), oldest = now;
	inst_ref *ref;

	(void)t;
	for (int i = nstarting - 1; i >= 0; i--)
		if (now - starting[i]->start_ms >= START_SLOT_MS)
			starts_slot_release(starting[i]);
	ref = start_head;
	if (ref != NULL && nstarting < start_slots() && !ref->s->p->stopping) {
		start_head = ref->next_start;
		if (start_head == NULL)
			start_tail = NULL;
		ref->next_start = NULL;
		ref->queued = 0;
		space_spawn_instance(ref->s, ref);
	}
	if (start_head == NULL || start_head->s->p->stopping)
		return;
	/* The next one on the next turn (requests are served in between), or when the
	 * oldest slot times out. */
	for (int i = 0; i < nstarting; i++)
		if (starting[i]->start_ms < oldest)
			oldest = starting[i]->start_ms;
	starts_arm(nstarting < start_slots() ? 0 : oldest + START_SLOT_MS - now);
}

static void
starts_schedule(uv_loop_t *loop)
{
	if (!start_timer_ready) {
		uv_timer_init(loop, &start_timer);
		/* The queue never keeps the loop alive at shutdown. */
		uv_unref((uv_handle_t *)&start_timer);
		start_timer_ready = 1;
	}
	starts_arm(0);
}

void
starts_remove(inst_ref *ref)
{
	inst_ref **pp;

	for (pp = &start_head; *pp != NULL; pp = &(*pp)->next_start) {
		if (*pp == ref) {
			*pp = ref->next_start;
			break;
		}
	}
	start_tail = NULL;
	for (inst_ref *q = start_head; q != NULL; q = q->next_start)
		start_tail = q;
	ref->next_start = NULL;
	ref->queued = 0;
}

void
space_starts_drop_queued(void)
{
	while (start_head != NULL)
		starts_remove(start_head);
}

/* Queues a start of ref's release (a no-op while it runs or waits). */
void
starts_enqueue(space *s, inst_ref *ref)
{
	if (ref->in != NULL || ref->queued)
		return;
	ref->queued = 1;
	if (start_tail != NULL)
		start_tail->next_start = ref;
	else
		start_head = ref;
	start_tail = ref;
	starts_schedule(s->p->loop);
}

static void
env_add(char ***env, size_t *n, char *kv)
{
	*env = xrealloc(*env, (*n + 2) * sizeof(char *));
	(*env)[(*n)++] = kv;
	(*env)[*n] = NULL;
}

/* The app's environment as the Hub sets it, then the space's variables and secrets
 * (read at each start); *mask gets the secret values. Both freed with
 * config_strv_free. */
static void
app_env(space *s, const inst_ref *ref, int port, char ***out, char ***mask)
{
	char **env = NULL, **cenv;
	size_t nenv = 0;
	char *host = podium_space_url(s->p, s->row.subdomain);
	const char *title = json_string_value(json_object_get(ref->cfg.card, "title"));

	env_add(&env, &nenv, xasprintf("PORT=%d", port));
	env_add(&env, &nenv, xasprintf("SPACE_ID=%s/%s", s->row.owner, s->row.name));
	env_add(&env, &nenv, xasprintf("SPACE_HOST=%s", host + strlen("http://")));
	env_add(&env, &nenv, xasprintf("SPACE_AUTHOR_NAME=%s", s->row.owner));
	env_add(&env, &nenv, xasprintf("SPACE_REPO_NAME=%s", s->row.name));
	env_add(&env, &nenv, xasprintf("SPACE_TITLE=%s", title != NULL ? title : s->row.name));
	env_add(&env, &nenv, xstrdup("SYSTEM=spaces"));
	env_add(&env, &nenv, xstrdup("HOME=/home/user"));
	env_add(&env, &nenv, xstrdup("PATH=/home/user/app/.venv/bin:/home/user/app/node_modules/.bin:"
	    "/usr/local/bin:/usr/bin:/bin"));
	env_add(&env, &nenv, xstrdup("PYTHONUNBUFFERED=1"));
	env_add(&env, &nenv, xstrdup("GRADIO_SERVER_NAME=0.0.0.0"));
	env_add(&env, &nenv, xasprintf("GRADIO_SERVER_PORT=%d", port));
	env_add(&env, &nenv, xstrdup("LANG=C.UTF-8"));
	space_config_env(s->p, s, &cenv, mask); /* variables and secrets */
	for (size_t i = 0; cenv != NULL && cenv[i] != NULL; i++)
		env_add(&env, &nenv, cenv[i]);
	free(cenv);
	free(host);
	*out = env;
}

/* The one place an app's sandbox is spawned (from the start queue). */
static void
space_spawn_instance(space *s, inst_ref *ref)
{
	podium *p = s->p;
	instance_spec spec = { 0 };
	instance_cb cb = { space_instance_ready, space_instance_exited, ref };
	char **env, **mask;
	char *data_dir = space_data_dir(p, s), *log_path = space_app_log_path(p, s);
	int port = ref->cfg.app_port > 0 ? ref->cfg.app_port : 7860;
	char why[512];
	int r;

	app_env(s, ref, port, &env, &mask);

	spec.sandbox_bin = p->sandbox_bin;
	spec.release_dir = ref->release_dir;
	spec.data_dir = data_dir;
	spec.log_path = log_path;
	spec.argv = ref->cfg.run_argv;
	spec.env = (const char *const *)env;
	spec.mask = (const char *const *)mask;
	spec.port = port;
	spec.host_uid = space_host_uid(s);
	const flavor *hw = space_flavor(s);
	snprintf(ref->flavor, sizeof(ref->flavor), "%s", hw->name);
	spec.memory_bytes = hw->memory_bytes;
	spec.pids = hw->pids;
	spec.cpus = hw->cpus;
	spec.startup_timeout_s = ref->cfg.startup_timeout_s > 0 ? (unsigned)ref->cfg.startup_timeout_s : 1800;
	char *stats_id = xasprintf("%s/%s", s->row.owner, s->row.name);
	spec.stats_id = stats_id;
	/* the run log marks each start, and says when it follows a crash */
	char *note = ref == s->live && s->row.restarts > 0 ?
	    xasprintf("==> podium: restarting the app after a crash (%d in a row), commit %.7s, %s",
	    s->row.restarts, ref->sha != NULL ? ref->sha : "", hw->name) :
	    xasprintf("==> podium: starting the app, commit %.7s, %s", ref->sha != NULL ? ref->sha : "",
	    hw->name);
	spec.start_note = note;

	why[0] = '\0';
	/* /data is a filesystem of its own, made on the first start (storage.c) */
	if ((r = space_storage_attach(s, why + 9, sizeof(why) - 9)) != 0)
		memcpy(why, "storage: ", 9);
	else
		r = budget_reserve(s->row.id, ref, spec.memory_bytes, why, sizeof(why));
	if (r == 0 && (r = instance_start(p->loop, &spec, &cb, &ref->in)) != 0)
		budget_release(ref);
	if (r == 0) {
		space_active_instances++;
		starts_slot_take(ref);
	}
	config_strv_free(env);
	config_strv_free(mask);
	free(data_dir);
	free(log_path);
	free(stats_id);
	free(note);
	if (r != 0) {
		char *msg = why[0] != '\0' ? xstrdup(why)
		    : xasprintf("could not start the app: %s", instance_strerror(r));
		log_warn("space %s/%s: %s", s->row.owner, s->row.name, msg);
		if (ref == s->pending)
			s->pending = NULL;
		if (ref == s->live)
			s->live = NULL;
		inst_ref_free(ref);
		space_set_stage(s, space_serving(s) ? "RUNNING" : "RUNTIME_ERROR", msg);
		free(msg);
	}
}
