/* acme.c — certificates by ACME (RFC 8555) through uacme, Debian's small C
 * client, rather than the protocol written again.
 *
 * uacme keeps its account key and the certificates in DATA/tls/acme (its
 * confdir: private/key.pem, private/HOST/key.pem, HOST/cert.pem; all 0600
 * once issued) and asks its hook (DATA/tls/hook, written at start) to answer
 * each challenge: HTTP-01 tokens go to DATA/tls/http-01, which the plain
 * listener serves on port 80 (tls_http.c); TLS-ALPN-01 digests to
 * DATA/tls/tls-alpn-01, which the TLS listener answers acme-tls/1 with
 * (tls_store.c); DNS-01 (a wildcard) goes to the operator's dns_hook with the
 * same five arguments.  PODIUM_ACME_CHALLENGE in the daemon's environment
 * narrows the types taken (default "http-01 tls-alpn-01").
 *
 * uacme's TLS (GnuTLS) trusts /etc/ssl/certs only; with ca_file (a private
 * CA: the tests' pebble) it runs in a mount namespace of its own where that
 * directory holds the system's roots and ca_file.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "proxy/certs_int.h"

#define RENEW_MAX_S   (30 * 86400)
#define BACKOFF_MAX_S (24 * 3600)
#define ACME_TIMEOUT  "300"       /* seconds for one uacme run */

static const char hook_script[] =
    "#!/bin/sh\n"
    "# uacme's challenge hook, written by podium serve: METHOD TYPE IDENT TOKEN AUTH\n"
    "dir=\"$(dirname \"$0\")\"\n"
    "dns_hook=\"$(cat \"$dir/dns_hook\" 2>/dev/null)\"\n"
    "method=$1 type=$2 ident=$3 token=$4 auth=$5\n"
    "case \" ${PODIUM_ACME_CHALLENGE:-http-01 tls-alpn-01} dns-01 \" in\n"
    "*\" $type \"*) ;;\n"
    "*) exit 1 ;;\n"
    "esac\n"
    "case \"$ident$token\" in */*|.*) exit 1 ;; esac\n"
    "case \"$type:$method\" in\n"
    "http-01:begin) printf '%s' \"$auth\" > \"$dir/http-01/.$token\" &&\n"
    "    chmod 644 \"$dir/http-01/.$token\" && mv -f \"$dir/http-01/.$token\" \"$dir/http-01/$token\" ;;\n"
    "http-01:*) rm -f \"$dir/http-01/$token\" ;;\n"
    "tls-alpn-01:begin) printf '%s' \"$auth\" > \"$dir/tls-alpn-01/.$ident\" &&\n"
    "    mv -f \"$dir/tls-alpn-01/.$ident\" \"$dir/tls-alpn-01/$ident\" ;;\n"
    "tls-alpn-01:*) rm -f \"$dir/tls-alpn-01/$ident\" ;;\n"
    "dns-01:*) [ -n \"$dns_hook\" ] && exec \"$dns_hook\" \"$@\"; exit 1 ;;\n"
    "*) exit 1 ;;\n"
    "esac\n";

/* Creates the account when there is none, then issues (or with -f renews). */
static const char issue_script[] =
    "set -e\n"
    "conf=$1 url=$2 hook=$3 force=$4 email=$5; shift 5\n"
    "[ -f \"$conf/private/key.pem\" ] || uacme -v -y -t EC -c \"$conf\" -a \"$url\" new $email\n"
    "exec uacme -v -t EC -c \"$conf\" -a \"$url\" -h \"$hook\" $force issue \"$@\"\n";

/* Binds the trust directory over /etc/ssl/certs for the command after it. */
static const char trust_script[] =
    "mount --bind \"$0\" /etc/ssl/certs && exec \"$@\"\n";

static int
trust_prepare(tls_certs *tc)
{
	char *sys = NULL, *extra = NULL, *all, *path;
	size_t sl = 0, el = 0;
	int r;

	if (fs_read_file(tc->set.ca_file, &extra, &el, 1 << 20) != 0)
		return error("tls: cannot read acme.ca_file %s", tc->set.ca_file);
	if (fs_read_file("/etc/ssl/certs/ca-certificates.crt", &sys, &sl, 16 << 20) != 0)
		sys = xstrdup(""), sl = 0;
	all = xmalloc(sl + el + 2);
	memcpy(all, sys, sl);
	all[sl] = '\n';
	memcpy(all + sl + 1, extra, el);
	fs_mkdir_p(tc->certs_dir, 0755);
	path = xasprintf("%s/ca-certificates.crt", tc->certs_dir);
	r = fs_write_file(path, all, sl + el + 1, 0644);
	free(path);
	free(all);
	free(sys);
	free(extra);
	return r == 0 ? 0 : error("tls: cannot write %s", tc->certs_dir);
}

int
acme_prepare(tls_certs *tc)
{
	char *p;
	int r;

	if (tc->set.email != NULL && strpbrk(tc->set.email, " \t\n'\"\\$`") != NULL)
		return error("tls: acme.email %s: not an address", tc->set.email);
	if (fs_write_file(tc->hook, hook_script, sizeof(hook_script) - 1, 0700) != 0)
		return error("tls: cannot write %s", tc->hook);
	p = xasprintf("%s/dns_hook", tc->dir);
	/* fs_write_text is for the kernel's files: it creates nothing */
	r = tc->set.dns_hook != NULL ?
	    fs_write_file(p, tc->set.dns_hook, strlen(tc->set.dns_hook), 0600) : (unlink(p), 0);
	free(p);
	if (r != 0)
		return error("tls: cannot write the DNS hook's name in %s", tc->dir);
	if (tc->set.ca_file != NULL && trust_prepare(tc) != 0)
		return -1;
	return 0;
}

/* The identifier's directory in uacme's confdir: "*." is dropped. */
static const char *
ident_dir(const char *host)
{
	return strncmp(host, "*.", 2) == 0 ? host + 2 : host;
}

static void
host_paths(tls_certs *tc, cert_host *h)
{
	if (h->cert_file != NULL)
		return;
	h->cert_file = xasprintf("%s/%s/cert.pem", tc->acme_dir, ident_dir(h->host));
	h->key_file = xasprintf("%s/private/%s/key.pem", tc->acme_dir, ident_dir(h->host));
}

/* What uacme issued before: served at once, renewed when due. */
void
acme_load_existing(tls_certs *tc)
{
	DIR *d = opendir(tc->acme_dir);
	struct dirent *e;

	while (d != NULL && (e = readdir(d)) != NULL) {
		char *host;
		cert_host *h;

		if (e->d_name[0] == '.' || strcmp(e->d_name, "private") == 0)
			continue;
		/* uacme keeps *.APP_DOMAIN under APP_DOMAIN */
		host = tc->set.dns_hook != NULL && strcmp(e->d_name, tc->app_domain) == 0 &&
		    strcmp(e->d_name, tc->hub_host) != 0 ? xasprintf("*.%s", e->d_name) :
		    xstrdup(e->d_name);
		h = certs_host_add(tc, host, "acme");
		host_paths(tc, h);
		if (certs_host_load(tc, h) == 0)
			log_info("tls: %s: certificate from %s (valid until %lld)", host, h->cert_file,
			    (long long)h->not_after);
		else
			h->next_attempt = (int64_t)time(NULL); /* expired or broken: again */
		free(host);
	}
	if (d != NULL)
		closedir(d);
}

void
acme_forget(tls_certs *tc, cert_host *h)
{
	const char *id = ident_dir(h->host);
	char *dir = xasprintf("%s/%s", tc->acme_dir, id);
	char *key = xasprintf("%s/private/%s", tc->acme_dir, id);
	char *ocsp = xasprintf("%s/ocsp-%s.der", tc->dir, id);
	char *issuer = xasprintf("%s/ocsp-%s.issuer.pem", tc->dir, id);

	if (fs_rm_rf(dir) != 0 || fs_rm_rf(key) != 0)
		log_warn("tls: %s: cannot delete %s or %s: %s", h->host, dir, key, strerror(errno));
	unlink(ocsp);
	unlink(issuer);
	free(dir);
	free(key);
	free(ocsp);
	free(issuer);
}

int
acme_due(tls_certs *tc, cert_host *h, int64_t now)
{
	if (strcmp(h->source, "acme") != 0)
		return 0;
	if (h->state == CERT_VALID && h->next_attempt == 0) {
		int64_t life = h->not_after - h->not_before;
		int64_t before = tc->renew_before > 0 ? tc->renew_before :
		    life / 3 < RENEW_MAX_S ? life / 3 : RENEW_MAX_S;

		/* not again within the first backoff of the last one (a window
		 * wider than the lifetime would renew in a loop) */
		if (h->not_after - now <= before &&
		    now - h->loaded_at >= (int64_t)(tc->backoff_ms / 1000))
			h->next_attempt = now;
	}
	return h->next_attempt != 0 && now >= h->next_attempt;
}

static char **
argv_add(char **argv, size_t *n, const char *s)
{
	argv = xrealloc(argv, (*n + 2) * sizeof(*argv));
	argv[(*n)++] = xstrdup(s);
	argv[*n] = NULL;
	return argv;
}

cert_job *
acme_job(tls_certs *tc, cert_host *h)
{
	cert_job *j = xcalloc(1, sizeof(*j));
	size_t n = 0;
	char **a = NULL;
	int wild_with_hub = tc->set.dns_hook != NULL && strcmp(h->host, tc->hub_host) == 0 &&
	    strcmp(tc->app_domain, tc->hub_host) == 0;

	host_paths(tc, h);
	j->kind = JOB_ISSUE;
	j->h = h;
	j->force = access(h->cert_file, F_OK) == 0;
	if (tc->set.ca_file != NULL) {
		a = argv_add(a, &n, "unshare");
		a = argv_add(a, &n, "-m");
		a = argv_add(a, &n, "sh");
		a = argv_add(a, &n, "-c");
		a = argv_add(a, &n, trust_script);
		a = argv_add(a, &n, tc->certs_dir);
	}
	a = argv_add(a, &n, "timeout");
	a = argv_add(a, &n, ACME_TIMEOUT);
	a = argv_add(a, &n, "sh");
	a = argv_add(a, &n, "-c");
	a = argv_add(a, &n, issue_script);
	a = argv_add(a, &n, "sh");
	a = argv_add(a, &n, tc->acme_dir);
	a = argv_add(a, &n, tc->set.directory);
	a = argv_add(a, &n, tc->hook);
	a = argv_add(a, &n, j->force ? "-f" : "");
	a = argv_add(a, &n, tc->set.email != NULL ? tc->set.email : "");
	a = argv_add(a, &n, h->host);
	if (wild_with_hub) {
		/* the hub and its apps on one certificate (DNS-01 for the wildcard) */
		char *w = xasprintf("*.%s", h->host);

		a = argv_add(a, &n, w);
		free(w);
	}
	j->argv = a;
	log_info("tls: %s: %s a certificate from %s", h->host, j->force ? "renewing" : "asking for",
	    tc->set.directory);
	return j;
}

static void
acme_failed(tls_certs *tc, cert_host *h, const char *why)
{
	int64_t now = (int64_t)time(NULL);
	uint64_t wait = tc->backoff_ms / 1000;

	for (unsigned i = 0; i < h->failures && wait < BACKOFF_MAX_S; i++)
		wait *= 2;
	if (wait > BACKOFF_MAX_S)
		wait = BACKOFF_MAX_S;
	if (wait == 0)
		wait = 1;
	h->failures++;
	h->next_attempt = now + (int64_t)wait;
	if (h->not_after == 0 || h->not_after <= now)
		h->state = CERT_FAILED;
	certs_host_error(h, "%s", why);
	tls_store_demand(tc->ts, h->host, TLS_DEMAND_NO); /* waiting handshakes go on */
	log_warn("tls: %s: no certificate (%s); trying again in %llu s", h->host, why,
	    (unsigned long long)wait);
}

void
acme_job_done(tls_certs *tc, cert_job *j)
{
	cert_host *h = j->h;
	char tail[900];
	int renewal = h->not_after != 0;

	child_tail_lines(&j->tail, 3, tail, sizeof(tail));
	if (j->rc != 0 && j->rc != 1) {
		char why[1024];

		snprintf(why, sizeof(why), "uacme exit %d: %s", j->rc, tail);
		acme_failed(tc, h, why);
		return;
	}
	chmod(h->cert_file, 0600);
	chmod(h->key_file, 0600);
	{
		char *account = xasprintf("%s/private/key.pem", tc->acme_dir);

		chmod(account, 0600);
		free(account);
	}
	if (certs_host_load(tc, h) != 0) {
		acme_failed(tc, h, h->last_error);
		return;
	}
	h->failures = 0;
	h->next_attempt = 0;
	tls_store_demand(tc->ts, h->host, TLS_DEMAND_DONE);
	if (renewal && j->rc == 0)
		h->renewals++;
	log_info("tls: %s: certificate %s (valid until %lld)", h->host,
	    renewal ? "renewed" : "issued", (long long)h->not_after);
}
