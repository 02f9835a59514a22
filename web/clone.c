/* clone.c — POST /api/repos/create with "from": URL: a space made from a public git
 * repository, then built as after a push.
 *
 * One clone, from birth to death:
 *   repo_clone_start: the URL is parsed (libcurl's URL API; http, https, git only,
 *   no credentials), the space created → uv_getaddrinfo → every address is checked
 *   against the policy (never loopback, link-local, unspecified, multicast or one
 *   of this host's own addresses; private ranges only where DATA/config.yaml allows
 *   them; the host itself must be listed when config.yaml lists hosts) → `git fetch
 *   --depth 1` into the space's bare repository, pinned to the checked address
 *   (http.curloptResolve; an IP literal for git://) so a second lookup cannot point
 *   elsewhere, redirects off, other protocols off, the pack bounded by RLIMIT_FSIZE
 *   (prlimit) and the whole fetch by a timer → main set → space_on_push → 200.
 *   Any failure deletes the space and answers an error naming the cause.
 *
 * DATA/config.yaml (read at each request; optional):
 *   clone:
 *     hosts: [github.com, "*.example.org"]   # default: any host
 *     allow_networks: [10.1.0.0/16]          # private ranges that may be cloned from
 *     max_bytes: 268435456                   # largest pack (default 256 MiB)
 *     timeout: 120                           # seconds (default 120)
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "builder/git.h"
#include "common/config.h"
#include "common/log.h"
#include "web/repo.h"
#include "orchestrator/space.h"
#include "common/util.h"

#define CLONE_MAX_BYTES (256ll << 20)
#define CLONE_TIMEOUT_S 120

typedef struct clone_policy {
	json_t *hosts;          /* array of names / "*.suffix", or NULL: any */
	json_t *networks;       /* array of CIDR strings */
	long long max_bytes;
	long timeout_s;
} clone_policy;

typedef struct clone_req {
	podium *p;
	http_exchange *x;
	int gone;               /* the client left: answer nobody */
	char *owner, *name, *url, *host, *scheme;
	int port;
	char ip[INET6_ADDRSTRLEN];
	clone_policy pol;

	uv_getaddrinfo_t gai;
	uv_process_t proc;
	uv_pipe_t err;
	uv_timer_t timer;
	int handles, running, err_open, timed_out, finished;
	int64_t exit_status;
	int term_signal;
	char errbuf[2048];
	size_t errlen;
} clone_req;

/* ---- policy ---- */

static void
policy_release(clone_policy *pol)
{
	json_decref(pol->hosts);
	json_decref(pol->networks);
}

/* A list of strings, or NULL. */
static json_t *
string_list(json_t *v)
{
	json_t *e;
	size_t i;

	if (!json_is_array(v))
		return NULL;
	json_array_foreach(v, i, e)
		if (!json_is_string(e))
			return NULL;
	return json_incref(v);
}

/* The "clone" section of DATA/config.yaml (config.h; read at each clone, so an
 * operator's edit counts at once); 0, or -1 with err set: clones are then refused,
 * a policy that cannot be read allows nothing. */
static int
policy_load(podium *p, clone_policy *pol, char *err, size_t errlen)
{
	char *path = xasprintf("%s/config.yaml", p->data_dir);
	json_t *cfg = NULL, *clone, *v;
	const char *key;
	int ok = 1;

	memset(pol, 0, sizeof(*pol));
	pol->max_bytes = CLONE_MAX_BYTES;
	pol->timeout_s = CLONE_TIMEOUT_S;
	pol->networks = json_array();
	if (config_load(path, &cfg, err, errlen) != 0) {
		free(path);
		return -1;
	}
	free(path);
	clone = config_get(cfg, "clone");
	if (clone != NULL && !json_is_object(clone))
		ok = 0;
	if (ok && clone != NULL)
		json_object_foreach(clone, key, v) {
			const char *val = json_string_value(v);

			if (strcmp(key, "hosts") == 0) {
				json_decref(pol->hosts);
				ok = ok && (pol->hosts = string_list(v)) != NULL;
			} else if (strcmp(key, "allow_networks") == 0) {
				json_decref(pol->networks);
				ok = ok && (pol->networks = string_list(v)) != NULL;
			} else if (strcmp(key, "max_bytes") == 0 && val != NULL) {
				pol->max_bytes = atoll(val);
				ok = ok && pol->max_bytes > 0;
			} else if (strcmp(key, "timeout") == 0 && val != NULL) {
				pol->timeout_s = atol(val);
				ok = ok && pol->timeout_s > 0;
			} else {
				ok = 0;
			}
		}
	if (pol->networks == NULL)
		pol->networks = json_array();
	if (!ok)
		snprintf(err, errlen, "config.yaml: \"clone\" takes hosts: [names], allow_networks: [CIDRs], "
		    "max_bytes: N, timeout: SECONDS");
	json_decref(cfg);
	return ok ? 0 : -1;
}

static int
host_listed(const clone_policy *pol, const char *host)
{
	json_t *v;
	size_t i;

	if (pol->hosts == NULL)
		return 1;
	json_array_foreach(pol->hosts, i, v) {
		const char *h = json_string_value(v);
		size_t hl = strlen(host), n = strlen(h);

		if (strcasecmp(h, host) == 0 || (strncmp(h, "*.", 2) == 0 && hl > n - 1 &&
		    strcasecmp(host + hl - (n - 1), h + 1) == 0))
			return 1;
	}
	return 0;
}

/* Does addr (16 bytes, IPv4 mapped) fall in "a.b.c.d/n" or "x::/n"? */
static int
cidr_has(const char *cidr, const unsigned char addr[16])
{
	char buf[64];
	unsigned char net[16];
	char *slash;
	int bits;

	snprintf(buf, sizeof(buf), "%s", cidr);
	slash = strchr(buf, '/');
	bits = slash != NULL ? atoi(slash + 1) : -1;
	if (slash != NULL)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, net + 12) == 1) {
		memset(net, 0, 10);
		net[10] = net[11] = 0xff;
		bits = bits < 0 ? 128 : bits + 96;
	} else if (inet_pton(AF_INET6, buf, net) == 1) {
		bits = bits < 0 ? 128 : bits;
	} else {
		return 0;
	}
	if (bits < 0 || bits > 128)
		return 0;
	for (int i = 0; i < bits; i++)
		if (((addr[i / 8] ^ net[i / 8]) >> (7 - i % 8)) & 1)
			return 0;
	return 1;
}

static void
to_v6(const struct sockaddr *sa, unsigned char out[16])
{
	memset(out, 0, 16);
	if (sa->sa_family == AF_INET) {
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else {
		memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	}
}

/* Why addr may not be cloned from, or NULL. */
static const char *
addr_refused(const clone_policy *pol, const struct sockaddr *sa)
{
	static const char *const never[][2] = {
		{ "127.0.0.0/8", "loopback" }, { "::1/128", "loopback" }, { "0.0.0.0/8", "unspecified" },
		{ "::/128", "unspecified" }, { "169.254.0.0/16", "link-local" }, { "fe80::/10", "link-local" },
		{ "224.0.0.0/4", "multicast" }, { "ff00::/8", "multicast" }, { "255.255.255.255/32", "broadcast" },
		{ NULL, NULL } };
	static const char *const private[] = { "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
		"100.64.0.0/10", "fc00::/7", "192.0.0.0/24", "198.18.0.0/15", NULL };
	unsigned char a[16];
	struct ifaddrs *ifs = NULL;
	json_t *v;
	size_t i;

	to_v6(sa, a);
	for (int k = 0; never[k][0] != NULL; k++)
		if (cidr_has(never[k][0], a))
			return never[k][1];
	/* the daemon itself, whatever address it listens on */
	if (getifaddrs(&ifs) == 0) {
		for (struct ifaddrs *f = ifs; f != NULL; f = f->ifa_next) {
			unsigned char mine[16];

			if (f->ifa_addr == NULL || (f->ifa_addr->sa_family != AF_INET &&
			    f->ifa_addr->sa_family != AF_INET6))
				continue;
			to_v6(f->ifa_addr, mine);
			if (memcmp(mine, a, 16) == 0) {
				freeifaddrs(ifs);
				return "an address of this host";
			}
		}
		freeifaddrs(ifs);
	}
	for (int k = 0; private[k] != NULL; k++)
		if (cidr_has(private[k], a)) {
			json_array_foreach(pol->networks, i, v)
				if (cidr_has(json_string_value(v), a))
					return NULL;
			return "a private network (allow it under clone: allow_networks in config.yaml)";
		}
	return NULL;
}

/* ---- lifetime ---- */

static void
clone_free(clone_req *c)
{
	free(c->owner);
	free(c->name);
	free(c->url);
	free(c->host);
	free(c->scheme);
	policy_release(&c->pol);
	free(c);
}

static void
clone_closed(uv_handle_t *h)
{
	clone_req *c = h->data;

	if (--c->handles == 0 && c->finished)
		clone_free(c);
}

/* The client left (or the daemon is stopping, which aborts every exchange): the
 * fetch is stopped and the space removed, so that nothing half-made stays and
 * nothing keeps the loop running. */
static void
clone_client_gone(void *arg)
{
	clone_req *c = arg;

	c->gone = 1;
	if (c->running)
		uv_process_kill(&c->proc, SIGKILL);
}

static void
clone_noop(void *arg)
{
}

static void
clone_noop_data(void *arg, const char *d, size_t n)
{
}

/* Answers (unless the client left) and, on failure, removes the space. */
static void
clone_finish(clone_req *c, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
clone_finish(clone_req *c, int status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	space *s = space_find(c->p, c->owner, c->name);

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (status != 200 && s != NULL)
		space_delete(c->p, s);
	if (status != 200)
		log_msg(LOG_WARN, "space %s/%s: clone of %s failed: %s", c->owner, c->name, c->url, msg);
	if (!c->gone) {
		http_body_cb none = { clone_noop_data, clone_noop, clone_noop, NULL, NULL };

		http_exchange_set_body_cb(c->x, &none);
		if (status != 200) {
			web_json_error(c->x, status, "%s", msg);
		} else {
			char *hub = podium_hub_url(c->p);
			json_t *info = space_json(c->p, s, 0);

			repo_space_fields(c->p, s, info);
			web_json(c->x, 200, json_pack("{s:s++++, s:s++, s:O}", "url", hub, "/spaces/", c->owner,
			    "/", c->name, "name", c->owner, "/", c->name, "id", json_object_get(info, "_id")));
			json_decref(info);
			free(hub);
		}
	}
	c->finished = 1;
	if (c->handles == 0)
		clone_free(c);
}

/* ---- fetch ---- */

/* Did the fetch stop at the size limit? A pack file of max_bytes is what
 * RLIMIT_FSIZE leaves behind (git reports only "invalid index-pack output"). */
static int
pack_hit_limit(const char *repo, long long max)
{
	char *dir = xasprintf("%s/objects/pack", repo);
	DIR *d = opendir(dir);
	struct dirent *e;
	int hit = 0;

	while (d != NULL && !hit && (e = readdir(d)) != NULL) {
		struct stat st;

		hit = fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode) && st.st_size >= max;
	}
	if (d != NULL)
		closedir(d);
	free(dir);
	return hit;
}

static const char *
classify(clone_req *c, const char *repo)
{
	const char *e = c->errbuf;

	if (c->timed_out)
		return "took too long";
	if (c->term_signal == SIGXFSZ || strstr(e, "signal 25") != NULL ||
	    strstr(e, "File size limit") != NULL || pack_hit_limit(repo, c->pol.max_bytes))
		return "too big";
	if (strstr(e, "not found") != NULL || strstr(e, "not exported") != NULL ||
	    strstr(e, "does not appear to be a git repository") != NULL ||
	    strstr(e, "not valid") != NULL || strstr(e, "repository") != NULL)
		return "not a git repository";
	if (strstr(e, "Could not resolve") != NULL || strstr(e, "onnect") != NULL ||
	    strstr(e, "timed out") != NULL || strstr(e, "unreachable") != NULL ||
	    strstr(e, "refused") != NULL)
		return "unreachable";
	return "failed";
}

static void
fetch_maybe_done(clone_req *c)
{
	char *repo, sha[41];
	const char *why;
	space *s;

	if (c->running || c->err_open || c->finished)
		return;
	uv_close((uv_handle_t *)&c->timer, clone_closed);
	s = space_find(c->p, c->owner, c->name);
	if (s == NULL) {
		clone_finish(c, 404, "space %s/%s was deleted during the clone", c->owner, c->name);
		return;
	}
	repo = space_repo_path(c->p, s);
	if (c->exit_status == 0 && c->term_signal == 0 && !c->timed_out &&
	    builder_repo_head(repo, sha) == 0) {
		free(repo);
		log_info("space %s/%s: cloned %s at %.12s", c->owner, c->name, c->url, sha);
		space_on_push(c->p, s, sha);
		clone_finish(c, 200, "ok");
		return;
	}
	while (c->errlen > 0 && (c->errbuf[c->errlen - 1] == '\n' || c->errbuf[c->errlen - 1] == '\r'))
		c->errbuf[--c->errlen] = '\0';
	/* one line: an API error, and the client's one-line message */
	for (char *q = c->errbuf; *q != '\0'; q++)
		if (*q == '\n' || *q == '\r' || *q == '\t')
			*q = ' ';
	why = classify(c, repo);
	free(repo);
	clone_finish(c, strcmp(why, "too big") == 0 ? 413 : strcmp(why, "took too long") == 0 ? 504 :
	    strcmp(why, "not a git repository") == 0 ? 400 : 502, "cannot clone %s: %s%s%s%s", c->url, why,
	    strcmp(why, "too big") == 0 ? " (over clone max_bytes)" : "", c->errlen > 0 ? ": " : "",
	    c->errbuf);
}

static void
fetch_exited(uv_process_t *proc, int64_t status, int sig)
{
	clone_req *c = proc->data;

	c->running = 0;
	c->exit_status = status;
	c->term_signal = sig;
	uv_close((uv_handle_t *)proc, clone_closed);
	fetch_maybe_done(c);
}

static void
err_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	static char scratch[4096];

	buf->base = scratch;
	buf->len = sizeof(scratch);
}

static void
err_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	clone_req *c = st->data;

	if (n > 0) {
		/* keep the last lines: git says what went wrong at the end */
		size_t take = (size_t)n;

		if (take >= sizeof(c->errbuf))
			take = sizeof(c->errbuf) - 1;
		if (c->errlen + take >= sizeof(c->errbuf)) {
			size_t drop = c->errlen + take - (sizeof(c->errbuf) - 1);

			memmove(c->errbuf, c->errbuf + drop, c->errlen - drop);
			c->errlen -= drop;
		}
		memcpy(c->errbuf + c->errlen, buf->base + (size_t)n - take, take);
		c->errlen += take;
		c->errbuf[c->errlen] = '\0';
		utf8_scrub(c->errbuf);
	} else if (n < 0) {
		c->err_open = 0;
		uv_close((uv_handle_t *)st, clone_closed);
		fetch_maybe_done(c);
	}
}

static void
fetch_timeout(uv_timer_t *t)
{
	clone_req *c = t->data;

	c->timed_out = 1;
	if (c->running)
		uv_process_kill(&c->proc, SIGKILL);
}

static void
fetch_start(clone_req *c)
{
	space *s = space_find(c->p, c->owner, c->name);
	char *repo, *gitdir, *fsize, *resolve = NULL, *proto, *url = NULL;
	char *env[] = { "PATH=/usr/bin:/bin", "HOME=/nonexistent", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0", "LC_ALL=C", NULL };
	char *args[32];
	int n = 0, r;
	uv_process_options_t o = { 0 };
	uv_stdio_container_t io[3];

	if (s == NULL) {
		clone_finish(c, 404, "space %s/%s was deleted during the clone", c->owner, c->name);
		return;
	}
	repo = space_repo_path(c->p, s);
	gitdir = xasprintf("--git-dir=%s", repo);
	fsize = xasprintf("--fsize=%lld", c->pol.max_bytes);
	proto = xasprintf("protocol.%s.allow=always", c->scheme);
	if (strcmp(c->scheme, "git") == 0) {
		/* git:// has no resolve option: the checked address goes in the URL */
		CURLU *u = curl_url();
		char *ipv = strchr(c->ip, ':') != NULL ? xasprintf("[%s]", c->ip) : xstrdup(c->ip);

		curl_url_set(u, CURLUPART_URL, c->url, CURLU_NON_SUPPORT_SCHEME);
		curl_url_set(u, CURLUPART_HOST, ipv, 0);
		curl_url_get(u, CURLUPART_URL, &url, 0);
		curl_url_cleanup(u);
		free(ipv);
	} else {
		resolve = xasprintf("http.curloptResolve=%s:%d:%s", c->host, c->port, c->ip);
	}
	args[n++] = "prlimit";
	args[n++] = fsize;
	args[n++] = "--";
	args[n++] = "git";
	args[n++] = "-c";
	args[n++] = "protocol.allow=never";
	args[n++] = "-c";
	args[n++] = proto;
	args[n++] = "-c";
	args[n++] = "http.followRedirects=false";
	args[n++] = "-c";
	args[n++] = "fetch.unpackLimit=1";
	if (resolve != NULL) {
		args[n++] = "-c";
		args[n++] = resolve;
	}
	args[n++] = gitdir;
	args[n++] = "fetch";
	args[n++] = "--quiet";
	args[n++] = "--depth=1";
	args[n++] = "--no-tags";
	args[n++] = "--no-recurse-submodules";
	args[n++] = url != NULL ? url : c->url;
	args[n++] = "+HEAD:refs/heads/main";
	args[n] = NULL;
	uv_pipe_init(c->p->loop, &c->err, 0);
	c->err.data = c;
	c->handles++;
	io[0].flags = UV_IGNORE;
	io[1].flags = UV_IGNORE;
	io[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	io[2].data.stream = (uv_stream_t *)&c->err;
	o.file = "prlimit";
	o.args = args;
	o.env = env;
	o.stdio = io;
	o.stdio_count = 3;
	o.exit_cb = fetch_exited;
	c->proc.data = c;
	r = uv_spawn(c->p->loop, &c->proc, &o);
	c->handles++;
	free(repo);
	free(gitdir);
	free(fsize);
	free(proto);
	free(resolve);
	curl_free(url);
	if (r != 0) {
		uv_close((uv_handle_t *)&c->proc, clone_closed);
		uv_close((uv_handle_t *)&c->err, clone_closed);
		uv_close((uv_handle_t *)&c->timer, clone_closed);
		clone_finish(c, 500, "cannot run git: %s", uv_strerror(r));
		return;
	}
	c->running = 1;
	c->err_open = 1;
	uv_read_start((uv_stream_t *)&c->err, err_alloc, err_read);
	uv_timer_start(&c->timer, fetch_timeout, (uint64_t)c->pol.timeout_s * 1000, 0);
}

static void
resolved(uv_getaddrinfo_t *g, int status, struct addrinfo *res)
{
	clone_req *c = g->data;
	const char *why = NULL;
	char bad[INET6_ADDRSTRLEN] = "";

	if (c->gone) {
		uv_close((uv_handle_t *)&c->timer, clone_closed);
		uv_freeaddrinfo(res);
		clone_finish(c, 400, "cannot clone %s: the client left", c->url);
		return;
	}
	if (status != 0 || res == NULL) {
		uv_close((uv_handle_t *)&c->timer, clone_closed);
		clone_finish(c, 502, "cannot clone %s: unreachable: %s does not resolve (%s)", c->url,
		    c->host, uv_strerror(status));
		uv_freeaddrinfo(res);
		return;
	}
	/* every address must pass: a name may not hide an internal one among public ones */
	for (struct addrinfo *a = res; a != NULL && why == NULL; a = a->ai_next) {
		why = addr_refused(&c->pol, a->ai_addr);
		if (why != NULL)
			uv_ip_name(a->ai_addr, bad, sizeof(bad));
	}
	if (why == NULL)
		uv_ip_name(res->ai_addr, c->ip, sizeof(c->ip));
	uv_freeaddrinfo(res);
	if (why != NULL) {
		uv_close((uv_handle_t *)&c->timer, clone_closed);
		clone_finish(c, 403, "cannot clone %s: refused by policy: %s is %s", c->url, bad, why);
		return;
	}
	fetch_start(c);
}

/* ---- start ---- */

/* Scheme, host and port of url; 0 or -1 with err set. */
static int
url_parts(clone_req *c, char *err, size_t errlen)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL;
	int r = -1;

	if (curl_url_set(u, CURLUPART_URL, c->url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		snprintf(err, errlen, "\"from\" is not a URL: %s", c->url);
		goto done;
	}
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0 && strcmp(scheme, "git") != 0) {
		snprintf(err, errlen, "\"from\": only http, https and git URLs can be cloned, not %s", scheme);
		goto done;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
		snprintf(err, errlen, "\"from\": a public repository is cloned without credentials");
		goto done;
	}
	c->scheme = xstrdup(scheme);
	/* brackets off an IPv6 literal */
	c->host = host[0] == '[' ? xstrndup(host + 1, strlen(host) - 2) : xstrdup(host);
	if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK)
		c->port = atoi(port);
	else
		c->port = strcmp(scheme, "https") == 0 ? 443 : strcmp(scheme, "http") == 0 ? 80 : 9418;
	r = 0;
done:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(user);
	curl_url_cleanup(u);
	return r;
}

void
repo_clone_start(podium *p, http_exchange *x, const char *owner, const char *name, const char *sdk,
    int private, const char *from)
{
	clone_req *c = xcalloc(1, sizeof(*c));
	http_body_cb cb = { clone_noop_data, clone_noop, clone_client_gone, NULL, c };
	char err[512];
	space *s;
	int r;

	c->p = p;
	c->x = x;
	c->owner = xstrdup(owner);
	c->name = xstrdup(name);
	c->url = xstrdup(from);
	if (url_parts(c, err, sizeof(err)) != 0) {
		web_json_error(x, 400, "%s", err);
		clone_free(c);
		return;
	}
	if (policy_load(p, &c->pol, err, sizeof(err)) != 0) {
		web_json_error(x, 403, "cannot clone %s: refused by policy: %s", from, err);
		clone_free(c);
		return;
	}
	if (!host_listed(&c->pol, c->host)) {
		web_json_error(x, 403, "cannot clone %s: refused by policy: %s is not among clone: hosts "
		    "in config.yaml", from, c->host);
		clone_free(c);
		return;
	}
	r = space_create(p, owner, name, sdk, private, &s, err, sizeof(err));
	if (r != 0) {
		web_json_error(x, r == -EINVAL ? 400 : r == -EEXIST ? 409 : 500, "%s", err);
		clone_free(c);
		return;
	}
	/* the answer comes later: a client that leaves is noticed (the body has ended,
	 * these callbacks replace the API's, which are done) */
	http_exchange_set_body_cb(x, &cb);
	uv_timer_init(p->loop, &c->timer);
	c->timer.data = c;
	c->handles = 1;
	c->gai.data = c;
	r = uv_getaddrinfo(p->loop, &c->gai, resolved, c->host, NULL,
	    &(struct addrinfo){ .ai_socktype = SOCK_STREAM });
	if (r != 0) {
		uv_close((uv_handle_t *)&c->timer, clone_closed);
		clone_finish(c, 502, "cannot clone %s: unreachable: %s", from, uv_strerror(r));
	}
}
