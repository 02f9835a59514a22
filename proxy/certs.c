/* certs.c — where the TLS listener's certificates come from, on the daemon's
 * loop: the `tls:` block of config.yaml, the operator's files (loaded again
 * when they change, checked by a timer), or ACME (acme.c: issued on demand
 * for the hub and existing spaces only, renewed before expiry, backing off
 * on errors), with their OCSP responses (ocsp.c); and their state for the
 * admins.
 *
 * Jobs (a uacme run, an OCSP fetch) run on the thread pool one at a time: a
 * CA is asked for one thing at a time, and a burst of new spaces queues up
 * rather than forking a client each.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/util.h"
#include "common/yaml.h"
#include "proxy/certs_int.h"

#define CHECK_MS       5000              /* files changed? renewals due? */
#define HOLD_MS        30000             /* a handshake waits so long for its certificate */
#define BACKOFF_MS     60000             /* first retry after a failure, doubling */
#define BACKOFF_MAX_S  (24 * 3600)

/* ---- the tls: block -------------------------------------------------------- */

static int
bad(const config *cf, const json_t *v, char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "tls config, line %zu: %s", config_line(cf, v), why);
	return -1;
}

/* A string at obj.key into *out (absent: NULL); -1 when not a string. */
static int
opt_string(const config *cf, const json_t *obj, const char *key, char **out, char *err,
    size_t errlen)
{
	const json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (!json_is_string(v) || json_string_length(v) == 0)
		return bad(cf, v, err, errlen, "expected a non-empty string");
	*out = xstrdup(json_string_value(v));
	return 0;
}

static int
only_keys(const config *cf, const json_t *obj, const char *const *keys, char *err, size_t errlen)
{
	const char *k;
	json_t *v;

	if (!json_is_object(obj))
		return bad(cf, obj, err, errlen, "expected a mapping");
	json_object_foreach((json_t *)obj, k, v) {
		int known = 0;

		for (size_t i = 0; keys[i] != NULL; i++)
			known |= strcmp(k, keys[i]) == 0;
		if (!known) {
			char why[160];

			snprintf(why, sizeof(why), "unknown key %.100s", k);
			return bad(cf, v, err, errlen, why);
		}
	}
	return 0;
}

int
tls_settings_load(const config *cf, tls_settings *out, char *err, size_t errlen)
{
	static const char *const top[] = { "mode", "files", "acme", NULL };
	static const char *const files[] = { "cert", "key", NULL };
	static const char *const acme[] = { "directory", "email", "ca_file", "dns_hook", NULL };
	const json_t *t = config_get(cf, "tls"), *mode, *f, *a;
	const char *m;

	memset(out, 0, sizeof(*out));
	if (t == NULL)
		return 0;
	if (only_keys(cf, t, top, err, errlen) != 0)
		return -1;
	mode = json_object_get(t, "mode");
	m = mode != NULL && json_is_string(mode) ? json_string_value(mode) : "off";
	if (strcmp(m, "off") == 0)
		out->mode = TLS_OFF;
	else if (strcmp(m, "files") == 0)
		out->mode = TLS_FILES;
	else if (strcmp(m, "acme") == 0)
		out->mode = TLS_ACME;
	else
		return bad(cf, mode, err, errlen, "mode must be acme, files or off");
	if ((f = json_object_get(t, "files")) != NULL &&
	    (only_keys(cf, f, files, err, errlen) != 0 ||
	    opt_string(cf, f, "cert", &out->cert_file, err, errlen) != 0 ||
	    opt_string(cf, f, "key", &out->key_file, err, errlen) != 0))
		goto fail;
	if ((a = json_object_get(t, "acme")) != NULL &&
	    (only_keys(cf, a, acme, err, errlen) != 0 ||
	    opt_string(cf, a, "directory", &out->directory, err, errlen) != 0 ||
	    opt_string(cf, a, "email", &out->email, err, errlen) != 0 ||
	    opt_string(cf, a, "ca_file", &out->ca_file, err, errlen) != 0 ||
	    opt_string(cf, a, "dns_hook", &out->dns_hook, err, errlen) != 0))
		goto fail;
	if (out->mode == TLS_FILES && (out->cert_file == NULL || out->key_file == NULL)) {
		bad(cf, t, err, errlen, "mode files needs files: {cert, key}");
		goto fail;
	}
	if (out->mode == TLS_ACME && out->directory == NULL)
		out->directory = xstrdup("https://acme-v02.api.letsencrypt.org/directory");
	return 0;
fail:
	tls_settings_release(out);
	return -1;
}

void
tls_settings_release(tls_settings *s)
{
	free(s->cert_file);
	free(s->key_file);
	free(s->directory);
	free(s->email);
	free(s->ca_file);
	free(s->dns_hook);
	memset(s, 0, sizeof(*s));
}

/* ---- the hosts ------------------------------------------------------------- */

cert_host *
certs_host_find(tls_certs *tc, const char *host)
{
	for (cert_host *h = tc->hosts; h != NULL; h = h->next)
		if (strcmp(h->host, host) == 0)
			return h;
	return NULL;
}

cert_host *
certs_host_add(tls_certs *tc, const char *host, const char *source)
{
	cert_host *h = xcalloc(1, sizeof(*h)), **pp = &tc->hosts;

	h->host = xstrdup(host);
	h->source = source;
	while (*pp != NULL)
		pp = &(*pp)->next;
	*pp = h;
	return h;
}

void
certs_host_error(cert_host *h, const char *fmt, ...)
{
	va_list ap;
	char buf[1024];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	free(h->last_error);
	h->last_error = xstrdup(buf);
}

int
certs_host_load(tls_certs *tc, cert_host *h)
{
	char err[768];
	tls_cert_info info;

	if (tls_store_load(tc->ts, h->host, h->cert_file, h->key_file, err, sizeof(err)) != 0) {
		certs_host_error(h, "%s", err);
		return -1;
	}
	stat(h->cert_file, &h->cert_st);
	stat(h->key_file, &h->key_st);
	if (tls_cert_info_read(h->cert_file, &info) == 0) {
		h->not_before = info.not_before;
		h->not_after = info.not_after;
		free(h->ocsp_url);
		h->ocsp_url = info.ocsp_url;
		info.ocsp_url = NULL;
		h->ocsp_next = 0; /* a new certificate: its OCSP response now */
		h->ocsp_good = 0;
		tls_cert_info_release(&info);
	}
	h->state = CERT_VALID;
	h->loaded_at = (int64_t)time(NULL);
	free(h->last_error);
	h->last_error = NULL;
	return 0;
}

static void
host_free(cert_host *h)
{
	free(h->host);
	free(h->cert_file);
	free(h->key_file);
	free(h->last_error);
	free(h->ocsp_url);
	free(h);
}

/* ---- files: loaded again when they change --------------------------------- */

static int
stat_changed(const char *path, const struct stat *was)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return 0; /* gone for a moment (a rename in progress): keep what we have */
	return st.st_ino != was->st_ino || st.st_mtim.tv_sec != was->st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != was->st_mtim.tv_nsec || st.st_size != was->st_size;
}

static void
files_check(tls_certs *tc)
{
	for (cert_host *h = tc->hosts; h != NULL; h = h->next) {
		if (strcmp(h->source, "files") != 0)
			continue;
		if (!stat_changed(h->cert_file, &h->cert_st) && !stat_changed(h->key_file, &h->key_st))
			continue;
		if (certs_host_load(tc, h) == 0) {
			log_info("tls: %s loaded again (valid until %lld)", h->cert_file,
			    (long long)h->not_after);
		} else {
			/* keep the old one serving, and the new one's stat so that the
			 * same bad file is not tried every tick */
			stat(h->cert_file, &h->cert_st);
			stat(h->key_file, &h->key_st);
			log_warn("tls: %s not loaded (the previous certificate serves on): %s",
			    h->cert_file, h->last_error);
		}
	}
}

/* ---- jobs ------------------------------------------------------------------- */

void
cert_job_free(cert_job *j)
{
	if (j == NULL)
		return;
	for (size_t i = 0; j->argv != NULL && j->argv[i] != NULL; i++)
		free(j->argv[i]);
	free(j->argv);
	free(j->der);
	free(j);
}

static void
job_run(uv_work_t *w)
{
	cert_job *j = (cert_job *)w;
	child_spec spec;

	child_spec_init(&spec);
	spec.argv = j->argv;
	spec.out = spec.err = CHILD_CAPTURE;
	j->rc = child_run(&spec, &j->tail);
}

static void close_maybe_free(tls_certs *tc);

static void
job_after(uv_work_t *w, int status)
{
	cert_job *j = (cert_job *)w;
	tls_certs *tc = j->tc;

	tc->job = NULL;
	if (status == 0 && !tc->stopping) {
		if (j->kind == JOB_ISSUE)
			acme_job_done(tc, j);
		else
			ocsp_job_done(tc, j);
	}
	cert_job_free(j);
	if (tc->stopping)
		close_maybe_free(tc);
	else
		certs_next_job(tc);
}

void
certs_next_job(tls_certs *tc)
{
	int64_t now = (int64_t)time(NULL);
	cert_job *j = NULL;

	if (tc->job != NULL || tc->stopping)
		return;
	for (cert_host *h = tc->hosts; h != NULL && j == NULL; h = h->next)
		if (tc->set.mode == TLS_ACME && acme_due(tc, h, now))
			j = acme_job(tc, h);
	for (cert_host *h = tc->hosts; h != NULL && j == NULL; h = h->next)
		if (h->state == CERT_VALID && h->ocsp_url != NULL && h->ocsp_next <= now)
			j = ocsp_job(tc, h);
	if (j == NULL)
		return;
	j->tc = tc;
	tc->job = j;
	if (uv_queue_work(tc->loop, &j->work, job_run, job_after) != 0) {
		tc->job = NULL;
		cert_job_free(j);
	}
}

/* ---- on demand: SNI misses ----------------------------------------------------- */

/* On a loop thread: queued for the daemon's loop (a burst past the queue
 * is dropped: the next handshake asks again). */
static void
on_miss(const char *host, void *arg)
{
	tls_certs *tc = arg;

	uv_mutex_lock(&tc->lock);
	if (tc->nmiss < sizeof(tc->missq) / sizeof(tc->missq[0]))
		tc->missq[tc->nmiss++] = xstrdup(host);
	uv_mutex_unlock(&tc->lock);
	uv_async_send(&tc->async);
}

/* The handshakes waiting for host learn whether to go on waiting: while its
 * issuance is due or running, yes; refused or backing off after a failure,
 * no (they get the default certificate at once). */
static void
miss_one(tls_certs *tc, const char *host)
{
	int64_t now = (int64_t)time(NULL);
	cert_host *h = certs_host_find(tc, host);

	if (h != NULL) {
		/* known: issued (a handshake that came before it was loaded), due,
		 * or backing off */
		tls_store_demand(tc->ts, host, h->state == CERT_VALID ? TLS_DEMAND_DONE :
		    h->failures > 0 && h->next_attempt > now ? TLS_DEMAND_NO : TLS_DEMAND_ISSUING);
		return;
	}
	if (tc->allowed == NULL || !tc->allowed(host, tc->allowed_arg)) {
		/* never for an arbitrary name: a CA's rate limits are ours */
		tc->refused++;
		snprintf(tc->last_refused, sizeof(tc->last_refused), "%s", host);
		log_debug("tls: no certificate for %s: not the hub nor a space", host);
		tls_store_demand(tc->ts, host, TLS_DEMAND_NO);
		return;
	}
	log_info("tls: %s has no certificate: asking %s", host, tc->set.directory);
	h = certs_host_add(tc, host, "acme");
	h->next_attempt = now;
	tls_store_demand(tc->ts, host, TLS_DEMAND_ISSUING);
}

static void
on_async(uv_async_t *a)
{
	tls_certs *tc = a->data;
	char *q[64];
	unsigned n;

	uv_mutex_lock(&tc->lock);
	n = tc->nmiss;
	memcpy(q, tc->missq, n * sizeof(q[0]));
	tc->nmiss = 0;
	uv_mutex_unlock(&tc->lock);
	for (unsigned i = 0; i < n; i++) {
		if (!tc->stopping && tc->set.mode == TLS_ACME)
			miss_one(tc, q[i]);
		free(q[i]);
	}
	certs_next_job(tc);
}

/* A space's certificate outlives its space by two checks at most (two in a
 * row: a space being renamed or reloaded is not forgotten): then it serves no
 * more and its files are deleted.  The hub's and the wildcard stay. */
static void
gone_check(tls_certs *tc)
{
	cert_host **pp = &tc->hosts;

	while (*pp != NULL) {
		cert_host *h = *pp;

		if (strcmp(h->source, "acme") != 0 || strcmp(h->host, tc->hub_host) == 0 ||
		    strncmp(h->host, "*.", 2) == 0 || (tc->job != NULL && tc->job->h == h) ||
		    (tc->allowed != NULL && tc->allowed(h->host, tc->allowed_arg))) {
			h->gone_checks = 0;
			pp = &h->next;
			continue;
		}
		if (++h->gone_checks < 2) {
			pp = &h->next;
			continue;
		}
		log_info("tls: %s: its space is gone: certificate deleted", h->host);
		tls_store_remove(tc->ts, h->host);
		tls_store_demand(tc->ts, h->host, TLS_DEMAND_DONE);
		acme_forget(tc, h);
		*pp = h->next;
		host_free(h);
	}
}

static void
on_timer(uv_timer_t *t)
{
	tls_certs *tc = t->data;

	files_check(tc);
	if (tc->set.mode == TLS_ACME)
		gone_check(tc);
	certs_next_job(tc);
}

/* ---- start and stop ------------------------------------------------------------ */

static uint64_t
env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? strtoull(v, NULL, 10) : def;
}

static int
certs_dirs(tls_certs *tc, const char *data_dir)
{
	tc->dir = xasprintf("%s/tls", data_dir);
	tc->acme_dir = xasprintf("%s/acme", tc->dir);
	tc->http_dir = xasprintf("%s/http-01", tc->dir);
	tc->alpn_dir = xasprintf("%s/tls-alpn-01", tc->dir);
	tc->hook = xasprintf("%s/hook", tc->dir);
	tc->certs_dir = xasprintf("%s/trust", tc->dir);
	if (fs_mkdir_p(tc->dir, 0700) != 0 || chmod(tc->dir, 0700) != 0 ||
	    fs_mkdir_p(tc->acme_dir, 0700) != 0 || fs_mkdir_p(tc->http_dir, 0755) != 0 ||
	    fs_mkdir_p(tc->alpn_dir, 0700) != 0)
		return error("tls: cannot make %s: %s", tc->dir, strerror(errno));
	return 0;
}

static int
files_start(tls_certs *tc)
{
	cert_host *h = certs_host_add(tc, "files", "files");

	h->cert_file = xstrdup(tc->set.cert_file);
	h->key_file = xstrdup(tc->set.key_file);
	if (certs_host_load(tc, h) != 0)
		return error("tls: %s", h->last_error);
	log_info("tls: serving %s (valid until %lld)", h->cert_file, (long long)h->not_after);
	return 0;
}

static int
acme_start(tls_certs *tc)
{
	int64_t now = (int64_t)time(NULL);

	if (acme_prepare(tc) != 0)
		return -1;
	acme_load_existing(tc);
	/* the hub, and with a DNS hook the apps' wildcard, at once; spaces on
	 * demand.  Apps under the hub's own domain get the wildcard on the hub's
	 * certificate (acme_job), in the hub's directory of uacme's. */
	if (tc->allowed != NULL && tc->allowed(tc->hub_host, tc->allowed_arg) &&
	    certs_host_find(tc, tc->hub_host) == NULL)
		certs_host_add(tc, tc->hub_host, "acme")->next_attempt = now;
	if (tc->set.dns_hook != NULL && strcmp(tc->app_domain, tc->hub_host) != 0) {
		char *wild = xasprintf("*.%s", tc->app_domain);

		if (certs_host_find(tc, wild) == NULL)
			certs_host_add(tc, wild, "acme")->next_attempt = now;
		free(wild);
	}
	return 0;
}

int
tls_certs_start(uv_loop_t *loop, const tls_certs_config *cfg, tls_store *ts, tls_certs **out)
{
	tls_certs *tc = xcalloc(1, sizeof(*tc));
	const tls_settings *s = cfg->settings;
	int r;

	tc->loop = loop;
	tc->ts = ts;
	tc->set.mode = s->mode;
	tc->set.cert_file = s->cert_file != NULL ? xstrdup(s->cert_file) : NULL;
	tc->set.key_file = s->key_file != NULL ? xstrdup(s->key_file) : NULL;
	tc->set.directory = s->directory != NULL ? xstrdup(s->directory) : NULL;
	tc->set.email = s->email != NULL ? xstrdup(s->email) : NULL;
	tc->set.ca_file = s->ca_file != NULL ? xstrdup(s->ca_file) : NULL;
	tc->set.dns_hook = s->dns_hook != NULL ? xstrdup(s->dns_hook) : NULL;
	tc->hub_host = xstrdup(cfg->hub_host);
	tc->app_domain = xstrdup(cfg->app_domain);
	tc->allowed = cfg->allowed;
	tc->allowed_arg = cfg->allowed_arg;
	/* the tests' knobs: a tick, the renewal window, the first backoff */
	tc->check_ms = env_u64("PODIUM_TLS_CHECK_MS", CHECK_MS);
	tc->renew_before = (int64_t)env_u64("PODIUM_TLS_RENEW_BEFORE", 0);
	tc->backoff_ms = env_u64("PODIUM_TLS_BACKOFF_MS", BACKOFF_MS);
	uv_mutex_init(&tc->lock);
	uv_timer_init(loop, &tc->timer);
	tc->timer.data = tc;
	uv_async_init(loop, &tc->async, on_async);
	tc->async.data = tc;
	tc->handles = 2;
	*out = tc;
	r = certs_dirs(tc, cfg->data_dir);
	if (r == 0)
		tls_store_alpn_dir(ts, tc->alpn_dir);
	if (r == 0 && s->mode == TLS_FILES)
		r = files_start(tc);
	else if (r == 0 && s->mode == TLS_ACME)
		r = acme_start(tc);
	if (r != 0)
		return -1;
	tls_store_on_miss(ts, on_miss, tc);
	/* on demand: a new space's first handshake waits for its certificate */
	if (s->mode == TLS_ACME)
		tls_store_hold(ts, (unsigned)env_u64("PODIUM_TLS_HOLD_MS", HOLD_MS));
	uv_timer_start(&tc->timer, on_timer, tc->check_ms, tc->check_ms);
	certs_next_job(tc);
	return 0;
}

const char *
tls_certs_challenge_dir(const tls_certs *tc)
{
	return tc->set.mode == TLS_ACME ? tc->http_dir : NULL;
}

static void
certs_free(tls_certs *tc)
{
	while (tc->hosts != NULL) {
		cert_host *h = tc->hosts;

		tc->hosts = h->next;
		host_free(h);
	}
	for (unsigned i = 0; i < tc->nmiss; i++)
		free(tc->missq[i]);
	uv_mutex_destroy(&tc->lock);
	tls_settings_release(&tc->set);
	free(tc->dir);
	free(tc->acme_dir);
	free(tc->http_dir);
	free(tc->alpn_dir);
	free(tc->hook);
	free(tc->certs_dir);
	free(tc->hub_host);
	free(tc->app_domain);
	free(tc);
}

static void
close_maybe_free(tls_certs *tc)
{
	if (tc->handles == 0 && tc->job == NULL)
		certs_free(tc);
}

static void
handle_closed(uv_handle_t *h)
{
	tls_certs *tc = h->data;

	tc->handles--;
	close_maybe_free(tc);
}

void
tls_certs_stop(tls_certs *tc)
{
	if (tc == NULL || tc->stopping)
		return;
	tc->stopping = 1;
	tls_store_on_miss(tc->ts, NULL, NULL);
	uv_close((uv_handle_t *)&tc->timer, handle_closed);
	uv_close((uv_handle_t *)&tc->async, handle_closed);
}

/* ---- state for the admins ---------------------------------------------------- */

static const char *
state_name(enum cert_state s)
{
	return s == CERT_VALID ? "valid" : s == CERT_FAILED ? "failed" : "pending";
}

json_t *
tls_certs_status(tls_certs *tc)
{
	static const char *const modes[] = { "off", "files", "acme" };
	int64_t now = (int64_t)time(NULL);
	json_t *certs = json_array();

	for (cert_host *h = tc->hosts; h != NULL; h = h->next) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:i}", "host", h->host, "source",
		    h->source, "state", state_name(h->state), "renewals", (int)h->renewals,
		    "failures", (int)h->failures);

		json_object_set_new(o, "notAfter", h->not_after != 0 ?
		    json_integer(h->not_after) : json_null());
		json_object_set_new(o, "expiresIn", h->not_after != 0 ?
		    json_integer(h->not_after - now) : json_null());
		json_object_set_new(o, "lastError", h->last_error != NULL ?
		    json_string(h->last_error) : json_null());
		json_object_set_new(o, "nextAttempt", h->next_attempt != 0 ?
		    json_integer(h->next_attempt) : json_null());
		json_object_set_new(o, "ocsp", json_boolean(h->ocsp_good));
		json_array_append_new(certs, o);
	}
	return json_pack("{s:s, s:o, s:i, s:s}", "mode", modes[tc->set.mode], "certificates",
	    certs, "refused", (int)tc->refused, "lastRefused", tc->last_refused);
}
