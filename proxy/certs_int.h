/* certs_int.h — the certificate manager's inside (certs.c, acme.c, ocsp.c).
 *
 * One cert_host per certificate podium keeps: the operator's files, or one
 * ACME identifier (the hub, a space's host, `*.APP_DOMAIN`).  Everything here
 * runs on the daemon's loop but the jobs (uacme, an OCSP fetch), which run on
 * libuv's thread pool one at a time and touch only their own job struct.
 */
#ifndef PODIUM_CERTS_INT_H
#define PODIUM_CERTS_INT_H

#include <sys/stat.h>

#include "common/child.h"
#include "proxy/tls.h"

enum cert_state { CERT_PENDING, CERT_VALID, CERT_FAILED };

typedef struct cert_host {
	struct cert_host *next;
	char *host;                /* the identifier ("files" in files mode) */
	char *cert_file, *key_file;
	const char *source;        /* "files", "acme" */
	enum cert_state state;
	int64_t not_after;         /* 0: none loaded */
	int64_t not_before;
	int64_t loaded_at;         /* when the current one was loaded */
	char *last_error;
	int64_t next_attempt;      /* Unix seconds: an issuance is due then (0: none) */
	unsigned failures;         /* in a row: the backoff's exponent */
	unsigned renewals;
	struct stat cert_st, key_st; /* files: what was loaded */
	char *ocsp_url;
	int64_t ocsp_next;         /* when to fetch the OCSP response again */
	int ocsp_good;
	unsigned gone_checks;      /* checks in a row that found its space gone */
} cert_host;

typedef struct cert_job {
	uv_work_t work;
	struct tls_certs *tc;
	cert_host *h;
	int kind;                  /* JOB_ISSUE, JOB_OCSP */
	int force;
	int rc;
	char **argv;
	child_tail tail;
	unsigned char *der;        /* OCSP: the response */
	size_t der_len;
} cert_job;

enum { JOB_ISSUE, JOB_OCSP };

struct tls_certs {
	uv_loop_t *loop;
	tls_store *ts;
	tls_settings set;
	char *dir;                 /* DATA/tls */
	char *acme_dir;            /* uacme's confdir */
	char *http_dir, *alpn_dir; /* challenges for the proxy */
	char *hook;                /* uacme's hook script */
	char *certs_dir;           /* the trust for uacme when ca_file is set */
	char *hub_host, *app_domain;
	tls_host_allowed allowed;
	void *allowed_arg;
	cert_host *hosts;
	uv_timer_t timer;
	uv_async_t async;          /* SNI misses from the loops */
	uv_mutex_t lock;           /* guards missq */
	char *missq[64];
	unsigned nmiss;
	cert_job *job;             /* the one running; NULL: none */
	unsigned handles;          /* open: freed once 0 after stop */
	int stopping;
	unsigned refused;
	char last_refused[256];
	uint64_t check_ms;
	int64_t renew_before;      /* seconds before expiry; 0: a third of the lifetime, at most 30 days */
	uint64_t backoff_ms;
};

/* certs.c */
cert_host *certs_host_find(struct tls_certs *tc, const char *host);
cert_host *certs_host_add(struct tls_certs *tc, const char *host, const char *source);
void certs_host_error(cert_host *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Loads h's files into the store: 0, or -1 with h->last_error. */
int certs_host_load(struct tls_certs *tc, cert_host *h);
/* Starts the next due job, if none runs. */
void certs_next_job(struct tls_certs *tc);

/* acme.c */
int acme_prepare(struct tls_certs *tc);   /* the hook, the trust: 0 or -1 (logged) */
void acme_load_existing(struct tls_certs *tc);
cert_job *acme_job(struct tls_certs *tc, cert_host *h);
void acme_job_done(struct tls_certs *tc, cert_job *j);
/* Due for issuance or renewal now? */
int acme_due(struct tls_certs *tc, cert_host *h, int64_t now);
/* A space's certificate whose space is gone: its files (certificate, key,
 * OCSP response) deleted. */
void acme_forget(struct tls_certs *tc, cert_host *h);

/* ocsp.c */
cert_job *ocsp_job(struct tls_certs *tc, cert_host *h);
void ocsp_job_done(struct tls_certs *tc, cert_job *j);

void cert_job_free(cert_job *j);

#endif
