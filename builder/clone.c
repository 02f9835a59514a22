/* clone.c — a repository fetched from a public git URL into a bare repository
 * (web/clone_api.c makes a space of it: POST /api/repos/create with "from").
 *
 * One clone, from birth to death:
 *   builder_clone_check: the URL is parsed (libcurl's URL API; http, https, git
 *   only, no credentials) and its host checked against the policy's list →
 *   builder_clone_start → uv_getaddrinfo → every address is checked against the
 *   policy (never loopback, link-local, unspecified, multicast or one of this
 *   host's own addresses; private ranges only where allow_networks lists them) →
 *   `git fetch --depth 1` into the bare repository, pinned to the checked address
 *   (http.curloptResolve; an IP literal for git://) so a second lookup cannot point
 *   elsewhere, redirects off, other protocols off, the pack bounded by
 *   RLIMIT_FSIZE (prlimit) and the whole fetch by a timer → main set → done(0).
 *   Any failure calls done with the cause.
 *
 * The policy is the "clone" section of DATA/config.yaml, read once at start:
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

#include "builder/git_int.h"
#include "common/util.h"

#define CLONE_MAX_BYTES (256ll << 20)
#define CLONE_TIMEOUT_S 120

struct builder_clone_policy {
	json_t *hosts;          /* array of names / "*.suffix", or NULL: any */
	json_t *networks;       /* array of CIDR strings */
	long long max_bytes;
	long timeout_s;
};

struct builder_clone {
	uv_loop_t *loop;
	builder_clone_cb done;
	void *arg;
	char *url, *host, *scheme, *repo;
	int port;
	char ip[INET6_ADDRSTRLEN];
	long long max_bytes;
	long timeout_s;
	json_t *networks;       /* the policy's, for the addresses */

	uv_getaddrinfo_t gai;
	uv_process_t proc;
	uv_pipe_t err;
	uv_timer_t timer;
	int handles, running, err_open, timed_out, finished, cancelled;
	int64_t exit_status;
	int term_signal;
	char errbuf[2048];
	size_t errlen;
};

/* ---- policy ---- */

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

void
builder_clone_policy_free(builder_clone_policy *pol)
{
	if (pol == NULL)
		return;
	json_decref(pol->hosts);
	json_decref(pol->networks);
	free(pol);
}

int
builder_clone_policy_new(const json_t *section, builder_clone_policy **out, char *err,
    size_t errlen)
{
	builder_clone_policy *pol = xcalloc(1, sizeof(*pol));
	const char *key;
	json_t *v;
	int ok = section == NULL || json_is_object(section);

	pol->max_bytes = CLONE_MAX_BYTES;
	pol->timeout_s = CLONE_TIMEOUT_S;
	if (ok && section != NULL)
		json_object_foreach((json_t *)section, key, v) {
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
	*out = NULL;
	if (!ok) {
		snprintf(err, errlen, "config.yaml: \"clone\" takes hosts: [names], allow_networks: "
		    "[CIDRs], max_bytes: N, timeout: SECONDS");
		builder_clone_policy_free(pol);
		return -EINVAL;
	}
	*out = pol;
	return 0;
}

int
builder_clone_host_listed(const builder_clone_policy *pol, const char *host)
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

int
builder_cidr_has(const char *cidr, const unsigned char addr[16])
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

/* Is a (mapped) one of this host's own addresses? */
static int
addr_is_mine(const unsigned char a[16])
{
	struct ifaddrs *ifs = NULL;
	int mine = 0;

	if (getifaddrs(&ifs) != 0)
		return 0;
	for (struct ifaddrs *f = ifs; f != NULL && !mine; f = f->ifa_next) {
		unsigned char m[16];

		if (f->ifa_addr == NULL || (f->ifa_addr->sa_family != AF_INET &&
		    f->ifa_addr->sa_family != AF_INET6))
			continue;
		to_v6(f->ifa_addr, m);
		mine = memcmp(m, a, 16) == 0;
	}
	freeifaddrs(ifs);
	return mine;
}

static const char *
addr_refused(json_t *networks, const struct sockaddr *sa)
{
	static const char *const never[][2] = {
		{ "127.0.0.0/8", "loopback" }, { "::1/128", "loopback" }, { "0.0.0.0/8", "unspecified" },
		{ "::/128", "unspecified" }, { "169.254.0.0/16", "link-local" }, { "fe80::/10", "link-local" },
		{ "224.0.0.0/4", "multicast" }, { "ff00::/8", "multicast" }, { "255.255.255.255/32", "broadcast" },
		{ NULL, NULL } };
	static const char *const private[] = { "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
		"100.64.0.0/10", "fc00::/7", "192.0.0.0/24", "198.18.0.0/15", NULL };
	unsigned char a[16];
	json_t *v;
	size_t i;

	to_v6(sa, a);
	for (int k = 0; never[k][0] != NULL; k++)
		if (builder_cidr_has(never[k][0], a))
			return never[k][1];
	/* the daemon itself, whatever address it listens on */
	if (addr_is_mine(a))
		return "an address of this host";
	for (int k = 0; private[k] != NULL; k++)
		if (builder_cidr_has(private[k], a)) {
			json_array_foreach(networks, i, v)
				if (builder_cidr_has(json_string_value(v), a))
					return NULL;
			return "a private network (allow it under clone: allow_networks in config.yaml)";
		}
	return NULL;
}

const char *
builder_clone_addr_refused(const builder_clone_policy *pol, const struct sockaddr *sa)
{
	return addr_refused(pol->networks, sa);
}

/* ---- the URL ---- */

/* Scheme, host (brackets off an IPv6 literal) and port of url; 0 or -EINVAL with
 * err set. The strings are the caller's to free. */
static int
url_parts(const char *url, char **scheme_out, char **host_out, int *port_out, char *err,
    size_t errlen)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL;
	int r = -EINVAL;

	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		snprintf(err, errlen, "\"from\" is not a URL: %s", url);
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
	*scheme_out = xstrdup(scheme);
	*host_out = host[0] == '[' ? xstrndup(host + 1, strlen(host) - 2) : xstrdup(host);
	if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK)
		*port_out = atoi(port);
	else
		*port_out = strcmp(scheme, "https") == 0 ? 443 : strcmp(scheme, "http") == 0 ? 80 : 9418;
	r = 0;
done:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(user);
	curl_url_cleanup(u);
	return r;
}

int
builder_clone_check(const builder_clone_policy *pol, const char *url, char *err, size_t errlen)
{
	char *scheme = NULL, *host = NULL;
	int port, r;

	r = url_parts(url, &scheme, &host, &port, err, errlen);
	if (r == 0 && !builder_clone_host_listed(pol, host)) {
		snprintf(err, errlen, "cannot clone %s: refused by policy: %s is not among clone: hosts "
		    "in config.yaml", url, host);
		r = -EPERM;
	}
	free(scheme);
	free(host);
	return r;
}

/* ---- lifetime ---- */

static void
clone_free(builder_clone *c)
{
	free(c->url);
	free(c->host);
	free(c->scheme);
	free(c->repo);
	json_decref(c->networks);
	free(c);
}

static void
clone_closed(uv_handle_t *h)
{
	builder_clone *c = h->data;

	if (--c->handles == 0 && c->finished)
		clone_free(c);
}

/* Calls done once; the clone is freed when its handles are closed too. */
static void
clone_finish(builder_clone *c, int status, const char *sha, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
clone_finish(builder_clone *c, int status, const char *sha, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->finished = 1;
	c->done(c->arg, status, sha, msg);
	if (c->handles == 0)
		clone_free(c);
}

void
builder_clone_cancel(builder_clone *c)
{
	c->cancelled = 1;
	if (c->running)
		uv_process_kill(&c->proc, SIGKILL);
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

/* What went wrong, from git's last words: an errno of git.h's list. */
static int
classify(builder_clone *c)
{
	const char *e = c->errbuf;

	if (c->timed_out)
		return -ETIMEDOUT;
	if (c->term_signal == SIGXFSZ || strstr(e, "signal 25") != NULL ||
	    strstr(e, "File size limit") != NULL || pack_hit_limit(c->repo, c->max_bytes))
		return -EFBIG;
	if (strstr(e, "not found") != NULL || strstr(e, "not exported") != NULL ||
	    strstr(e, "does not appear to be a git repository") != NULL ||
	    strstr(e, "not valid") != NULL || strstr(e, "repository") != NULL)
		return -EINVAL;
	if (strstr(e, "Could not resolve") != NULL || strstr(e, "onnect") != NULL ||
	    strstr(e, "timed out") != NULL || strstr(e, "unreachable") != NULL ||
	    strstr(e, "refused") != NULL)
		return -EHOSTUNREACH;
	return c->cancelled ? -ECANCELED : -EIO;
}

static const char *
cause(int status)
{
	switch (status) {
	case -ETIMEDOUT: return "took too long";
	case -EFBIG: return "too big (over clone max_bytes)";
	case -EINVAL: return "not a git repository";
	case -EHOSTUNREACH: return "unreachable";
	case -ECANCELED: return "cancelled";
	default: return "failed";
	}
}

static void
fetch_maybe_done(builder_clone *c)
{
	char sha[41];
	int st;

	if (c->running || c->err_open || c->finished)
		return;
	uv_close((uv_handle_t *)&c->timer, clone_closed);
	if (c->exit_status == 0 && c->term_signal == 0 && !c->timed_out &&
	    builder_repo_head(c->repo, sha) == 0) {
		clone_finish(c, 0, sha, "cloned %s", c->url);
		return;
	}
	while (c->errlen > 0 && (c->errbuf[c->errlen - 1] == '\n' || c->errbuf[c->errlen - 1] == '\r'))
		c->errbuf[--c->errlen] = '\0';
	/* one line: an API error, and the client's one-line message */
	for (char *q = c->errbuf; *q != '\0'; q++)
		if (*q == '\n' || *q == '\r' || *q == '\t')
			*q = ' ';
	st = classify(c);
	clone_finish(c, st, NULL, "cannot clone %s: %s%s%s", c->url, cause(st), c->errlen > 0 ? ": " : "",
	    c->errbuf);
}

static void
fetch_exited(uv_process_t *proc, int64_t status, int sig)
{
	builder_clone *c = proc->data;

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
	builder_clone *c = st->data;

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
	builder_clone *c = t->data;

	c->timed_out = 1;
	if (c->running)
		uv_process_kill(&c->proc, SIGKILL);
}

/* git fetch's arguments, pinned to the checked address; the strings in keep are
 * the caller's to free (curl_free for keep[4]). */
static int
fetch_argv(builder_clone *c, char **args, char *keep[5])
{
	int n = 0;

	keep[0] = xasprintf("--git-dir=%s", c->repo);
	keep[1] = xasprintf("--fsize=%lld", c->max_bytes);
	keep[2] = xasprintf("protocol.%s.allow=always", c->scheme);
	keep[3] = keep[4] = NULL;
	if (strcmp(c->scheme, "git") == 0) {
		/* git:// has no resolve option: the checked address goes in the URL */
		CURLU *u = curl_url();
		char *ipv = strchr(c->ip, ':') != NULL ? xasprintf("[%s]", c->ip) : xstrdup(c->ip);

		curl_url_set(u, CURLUPART_URL, c->url, CURLU_NON_SUPPORT_SCHEME);
		curl_url_set(u, CURLUPART_HOST, ipv, 0);
		curl_url_get(u, CURLUPART_URL, &keep[4], 0);
		curl_url_cleanup(u);
		free(ipv);
	} else {
		keep[3] = xasprintf("http.curloptResolve=%s:%d:%s", c->host, c->port, c->ip);
	}
	args[n++] = "prlimit";
	args[n++] = keep[1];
	args[n++] = "--";
	args[n++] = "git";
	args[n++] = "-c";
	args[n++] = "protocol.allow=never";
	args[n++] = "-c";
	args[n++] = keep[2];
	args[n++] = "-c";
	args[n++] = "http.followRedirects=false";
	args[n++] = "-c";
	args[n++] = "fetch.unpackLimit=1";
	if (keep[3] != NULL) {
		args[n++] = "-c";
		args[n++] = keep[3];
	}
	args[n++] = keep[0];
	args[n++] = "fetch";
	args[n++] = "--quiet";
	args[n++] = "--depth=1";
	args[n++] = "--no-tags";
	args[n++] = "--no-recurse-submodules";
	args[n++] = keep[4] != NULL ? keep[4] : c->url;
	args[n++] = "+HEAD:refs/heads/main";
	args[n] = NULL;
	return n;
}

static void
fetch_start(builder_clone *c)
{
	char *env[] = { "PATH=/usr/bin:/bin", "HOME=/nonexistent", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0", "LC_ALL=C", NULL };
	char *args[32], *keep[5];
	uv_process_options_t o = { 0 };
	uv_stdio_container_t io[3];
	int r;

	fetch_argv(c, args, keep);
	uv_pipe_init(c->loop, &c->err, 0);
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
	r = uv_spawn(c->loop, &c->proc, &o);
	c->handles++;
	for (int i = 0; i < 4; i++)
		free(keep[i]);
	curl_free(keep[4]);
	if (r != 0) {
		uv_close((uv_handle_t *)&c->proc, clone_closed);
		uv_close((uv_handle_t *)&c->err, clone_closed);
		uv_close((uv_handle_t *)&c->timer, clone_closed);
		clone_finish(c, -EIO, NULL, "cannot clone %s: cannot run git: %s", c->url, uv_strerror(r));
		return;
	}
	c->running = 1;
	c->err_open = 1;
	uv_read_start((uv_stream_t *)&c->err, err_alloc, err_read);
	uv_timer_start(&c->timer, fetch_timeout, (uint64_t)c->timeout_s * 1000, 0);
}

static void
resolved(uv_getaddrinfo_t *g, int status, struct addrinfo *res)
{
	builder_clone *c = g->data;
	const char *why = NULL;
	char bad[INET6_ADDRSTRLEN] = "";

	if (c->cancelled || status != 0 || res == NULL) {
		uv_close((uv_handle_t *)&c->timer, clone_closed);
		uv_freeaddrinfo(res);
		if (c->cancelled)
			clone_finish(c, -ECANCELED, NULL, "cannot clone %s: cancelled", c->url);
		else
			clone_finish(c, -EHOSTUNREACH, NULL, "cannot clone %s: unreachable: %s does not "
			    "resolve (%s)", c->url, c->host, uv_strerror(status));
		return;
	}
	/* every address must pass: a name may not hide an internal one among public ones */
	for (struct addrinfo *a = res; a != NULL && why == NULL; a = a->ai_next) {
		why = addr_refused(c->networks, a->ai_addr);
		if (why != NULL)
			uv_ip_name(a->ai_addr, bad, sizeof(bad));
	}
	if (why == NULL)
		uv_ip_name(res->ai_addr, c->ip, sizeof(c->ip));
	uv_freeaddrinfo(res);
	if (why != NULL) {
		uv_close((uv_handle_t *)&c->timer, clone_closed);
		clone_finish(c, -EPERM, NULL, "cannot clone %s: refused by policy: %s is %s", c->url, bad,
		    why);
		return;
	}
	fetch_start(c);
}

/* ---- start ---- */

int
builder_clone_start(uv_loop_t *loop, const builder_clone_policy *pol, const char *url,
    const char *repo_path, builder_clone_cb done, void *arg, builder_clone **out, char *err,
    size_t errlen)
{
	builder_clone *c = xcalloc(1, sizeof(*c));
	int r;

	*out = NULL;
	if (url_parts(url, &c->scheme, &c->host, &c->port, err, errlen) != 0) {
		clone_free(c);
		return -EINVAL;
	}
	c->loop = loop;
	c->done = done;
	c->arg = arg;
	c->url = xstrdup(url);
	c->repo = xstrdup(repo_path);
	c->max_bytes = pol->max_bytes;
	c->timeout_s = pol->timeout_s;
	c->networks = json_incref(pol->networks);
	c->gai.data = c;
	r = uv_getaddrinfo(loop, &c->gai, resolved, c->host, NULL,
	    &(struct addrinfo){ .ai_socktype = SOCK_STREAM });
	if (r != 0) {
		snprintf(err, errlen, "cannot clone %s: unreachable: %s", url, uv_strerror(r));
		clone_free(c);
		return -EHOSTUNREACH;
	}
	uv_timer_init(loop, &c->timer);
	c->timer.data = c;
	c->handles = 1;
	*out = c;
	return 0;
}
