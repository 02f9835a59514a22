/* ocsp.c — OCSP stapling for a certificate that names a responder (its
 * Authority Information Access): the response is fetched with `openssl ocsp`
 * on the thread pool, kept when it says "good", stapled to handshakes that
 * ask for it (tls_store.c) and fetched again hourly (after a failure in
 * five minutes).  A certificate without a responder (Let's Encrypt's since
 * 2025) staples nothing.
 */
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/util.h"
#include "proxy/certs_int.h"

#define OCSP_REFRESH_S 3600
#define OCSP_RETRY_S   300

/* The chain's second certificate (the issuer) into path: 0 or -1. */
static int
issuer_write(const char *chain, const char *path)
{
	FILE *in = fopen(chain, "r"), *out = NULL;
	X509 *leaf = NULL, *issuer = NULL;
	int r = -1;

	if (in == NULL)
		return -1;
	leaf = PEM_read_X509(in, NULL, NULL, NULL);
	issuer = leaf != NULL ? PEM_read_X509(in, NULL, NULL, NULL) : NULL;
	fclose(in);
	if (issuer != NULL && (out = fopen(path, "w")) != NULL) {
		r = PEM_write_X509(out, issuer) == 1 ? 0 : -1;
		if (fclose(out) != 0)
			r = -1;
	}
	X509_free(leaf);
	X509_free(issuer);
	return r;
}

static char **
argv_of(const char *const *v)
{
	size_t n = 0;
	char **a;

	while (v[n] != NULL)
		n++;
	a = xcalloc(n + 1, sizeof(*a));
	for (size_t i = 0; i < n; i++)
		a[i] = xstrdup(v[i]);
	return a;
}

static void
paths(tls_certs *tc, const cert_host *h, char **issuer, char **resp)
{
	const char *id = strncmp(h->host, "*.", 2) == 0 ? h->host + 2 : h->host;

	*issuer = xasprintf("%s/ocsp-%s.issuer.pem", tc->dir, id);
	*resp = xasprintf("%s/ocsp-%s.der", tc->dir, id);
}

cert_job *
ocsp_job(tls_certs *tc, cert_host *h)
{
	cert_job *j;
	char *issuer, *resp;

	paths(tc, h, &issuer, &resp);
	if (issuer_write(h->cert_file, issuer) != 0) {
		/* no issuer in the chain: nothing to ask about */
		h->ocsp_next = (int64_t)time(NULL) + OCSP_REFRESH_S;
		free(issuer);
		free(resp);
		return NULL;
	}
	j = xcalloc(1, sizeof(*j));
	j->kind = JOB_OCSP;
	j->h = h;
	j->argv = argv_of((const char *const[]){ "openssl", "ocsp", "-issuer", issuer, "-cert",
	    h->cert_file, "-url", h->ocsp_url, "-respout", resp, "-no_nonce", "-noverify",
	    "-timeout", "10", NULL });
	free(issuer);
	free(resp);
	return j;
}

void
ocsp_job_done(tls_certs *tc, cert_job *j)
{
	cert_host *h = j->h;
	char *issuer, *resp, *der = NULL, out[512];
	size_t len = 0;
	int64_t now = (int64_t)time(NULL);

	paths(tc, h, &issuer, &resp);
	child_tail_lines(&j->tail, 4, out, sizeof(out));
	if (j->rc == 0 && strstr(out, ": good") != NULL &&
	    fs_read_file(resp, &der, &len, 64 * 1024) == 0 && len > 0) {
		tls_store_set_ocsp(tc->ts, h->host, (unsigned char *)der, len);
		if (!h->ocsp_good)
			log_info("tls: %s: stapling the OCSP response of %s", h->host, h->ocsp_url);
		h->ocsp_good = 1;
		h->ocsp_next = now + OCSP_REFRESH_S;
	} else {
		/* a revoked or unknown status is not stapled, nor a stale one */
		tls_store_set_ocsp(tc->ts, h->host, NULL, 0);
		h->ocsp_good = 0;
		h->ocsp_next = now + OCSP_RETRY_S;
		log_warn("tls: %s: no OCSP response from %s: %s", h->host, h->ocsp_url, out);
	}
	free(der);
	free(issuer);
	free(resp);
}
