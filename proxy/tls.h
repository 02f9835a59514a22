/* tls.h — HTTPS in the proxy: the certificates it serves and where they come from.
 *
 * A tls_store holds the certificates by host name (each certificate serves
 * the DNS names of its subjectAltName, `*.D` ones one label deep): a TLS
 * handshake's SNI picks one (tls_store.c), a certificate loaded again
 * replaces the old one for new handshakes while open connections keep theirs.
 * The proxy's TLS listener (proxy_config.https_port) serves from it; the
 * store is shared by every loop and safe from any thread.
 *
 * A tls_certs fills a store (certs.c, acme.c): from files the operator names,
 * reloaded when they change, or by ACME through uacme (HTTP-01 and TLS-ALPN-01
 * served by the proxy itself, DNS-01 through the operator's hook), renewed
 * before they expire, with a backoff on errors.  It runs on the daemon's loop.
 */
#ifndef PODIUM_TLS_H
#define PODIUM_TLS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/config.h"

typedef struct tls_store tls_store;

/* 0 and a new store in *out (tls_store_free, once no server uses it), or -1. */
int tls_store_new(tls_store **out);
void tls_store_free(tls_store *ts);
/* Loads the certificate id from PEM files (the chain, leaf first; its key) and
 * serves it for the DNS names of its SANs, replacing the one id named before.
 * 0, or -1 with err (the old one stays). */
int tls_store_load(tls_store *ts, const char *id, const char *cert_file, const char *key_file,
    char *err, size_t errlen);
/* Certificate id serves no more (open connections keep it to their end). */
void tls_store_remove(tls_store *ts, const char *id);
/* A DER OCSP response to staple with certificate id (NULL, 0: none). */
void tls_store_set_ocsp(tls_store *ts, const char *id, const unsigned char *der, size_t len);
/* 1 when a loaded certificate covers host (lowercase, no port). */
int tls_store_covers(tls_store *ts, const char *host);
/* A handshake names host and none covers it: miss(host, arg), on the
 * handshake's loop thread (the callee hands it over to its own), once per
 * connection. */
void tls_store_on_miss(tls_store *ts, void (*miss)(const char *host, void *arg), void *arg);
/* On demand: such a handshake waits (its ClientHello held) up to hold_ms
 * while the issuer works on the name, then goes on with the name's new
 * certificate, or the default one.  0 (the default): never waits.  Set once,
 * before serving. */
void tls_store_hold(tls_store *ts, unsigned hold_ms);
/* What the issuer says of a name a miss reported (any thread): being issued
 * (handshakes wait for it), refused or failed (they go on at once, and so do
 * the next minute's), or done (its certificate is loaded). */
enum tls_demand { TLS_DEMAND_ISSUING, TLS_DEMAND_NO, TLS_DEMAND_DONE };
void tls_store_demand(tls_store *ts, const char *host, enum tls_demand what);
/* TLS-ALPN-01 (RFC 8737): a handshake for host offering acme-tls/1 gets a
 * self-signed certificate carrying the digest in dir/HOST (base64url, as
 * uacme's hook gets it); set once, before serving. */
void tls_store_alpn_dir(tls_store *ts, const char *dir);
/* Per certificate: {"id","names":[...],"notBefore","notAfter" (Unix seconds),
 * "issuer","ocsp": bool}; a new array. */
json_t *tls_store_status(tls_store *ts);
/* What one certificate file holds, without loading it: its names, validity and
 * OCSP responder (NULL: none). 0 or -1. */
typedef struct tls_cert_info {
	int64_t not_before, not_after;
	char *names;          /* space-separated SAN DNS names */
	char *ocsp_url;
} tls_cert_info;
int tls_cert_info_read(const char *cert_file, tls_cert_info *info);
void tls_cert_info_release(tls_cert_info *info);

/* ---- where certificates come from (certs.c, acme.c) ---- */

enum tls_mode { TLS_OFF, TLS_FILES, TLS_ACME };

typedef struct tls_settings {
	enum tls_mode mode;
	char *cert_file, *key_file;       /* files */
	char *directory, *email, *ca_file, *dns_hook; /* acme */
} tls_settings;

/* Reads DATA/config.yaml's `tls:` block (absent: mode off). 0, or -1 with err
 * naming the line. */
int tls_settings_load(const config *cf, tls_settings *out, char *err, size_t errlen);
void tls_settings_release(tls_settings *s);

typedef struct tls_certs tls_certs;

/* May podium get a certificate for host (the hub, an existing space)?  On the
 * daemon's loop. */
typedef int (*tls_host_allowed)(const char *host, void *arg);

typedef struct tls_certs_config {
	const tls_settings *settings;
	const char *data_dir;      /* state in DATA/tls (0700; keys and certificates 0600) */
	const char *hub_host;      /* DOMAIN */
	const char *app_domain;    /* a wildcard *.APP_DOMAIN by DNS-01 when there is a dns_hook */
	tls_host_allowed allowed;
	void *allowed_arg;
} tls_certs_config;

/* Starts filling ts on loop. 0 and *out, or -1 (logged). */
int tls_certs_start(uv_loop_t *loop, const tls_certs_config *cfg, tls_store *ts, tls_certs **out);
/* Stops timers and waits for a running ACME client (at most its own timeout),
 * then frees. */
void tls_certs_stop(tls_certs *tc);
/* Where HTTP-01 tokens are (the proxy's acme_dir). */
const char *tls_certs_challenge_dir(const tls_certs *tc);
/* {"mode", "certificates": [{"host","source","state","notAfter","expiresIn",
 *  "lastError","nextAttempt","renewals","failures"}], "refused", "lastRefused"}. */
json_t *tls_certs_status(tls_certs *tc);

#endif
