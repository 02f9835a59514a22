/* tls_store.c — the certificates the TLS listener serves, picked by SNI.
 *
 * Every SSL object is made from one base SSL_CTX, which holds what must not
 * change with the certificate: the session cache and ticket keys (so a
 * session resumes whichever certificate served it), the protocol floor (TLS
 * 1.2) and the ciphers (Mozilla's "intermediate": AEAD with ECDHE only).  Each
 * loaded certificate is an SSL_CTX of its own with the same settings; the
 * servername callback switches a handshake to the one that covers its name
 * (exact, then `*.parent`), or to the default (the first loaded) when none
 * does.  Before it, the client-hello callback (tls_demand.c) reports a name
 * no certificate covers and may hold its handshake while the name's
 * certificate is issued (ACME on demand).  The ALPN callback
 * chooses http/1.1, or acme-tls/1 with a TLS-ALPN-01 challenge certificate;
 * the status callback staples the certificate's OCSP response, when it has one.
 *
 * Threads: the store is read by every loop's handshakes under a read lock and
 * changed under the write lock; a replaced SSL_CTX lives on while a handshake
 * holds it (OpenSSL's reference counts).
 */
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "common/util.h"
#include "proxy/tls.h"
#include "proxy/tls_int.h"

/* TLS 1.2's AEAD suites with forward secrecy; TLS 1.3 keeps OpenSSL's three. */
#define TLS12_CIPHERS "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define TLS_GROUPS "X25519:P-256:P-384"
#define SID_CTX "podium"
typedef struct tls_cert {
	struct tls_cert *next;
	char *id;
	SSL_CTX *ctx;
	char **names;
	size_t nnames;
	int64_t not_before, not_after;
	char *issuer;
	unsigned char *ocsp;       /* DER response to staple; NULL: none */
	size_t ocsp_len;
} tls_cert;

struct tls_store {
	uv_rwlock_t lock;
	SSL_CTX *base;
	tls_cert *certs;           /* the first is the default */
	char *alpn_dir;            /* TLS-ALPN-01 key authorizations, one file per host */
	EVP_PKEY *chal_key;        /* signs the challenge certificates */
	void (*miss)(const char *host, void *arg);
	void *miss_arg;
	tls_demands *demands;      /* names asked for on demand (tls_demand.c) */
};

static int servername_cb(SSL *s, int *al, void *arg);
static void
lower(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s + 32);
}

static int alpn_cb(SSL *s, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned inlen, void *arg);
static int status_cb(SSL *s, void *arg);
static X509 *chal_cert(EVP_PKEY *key, const char *host, const unsigned char digest[32]);

static SSL_CTX *
ctx_new(tls_store *ts)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1 ||
	    SSL_CTX_set1_groups_list(ctx, TLS_GROUPS) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* no SSL_MODE_RELEASE_BUFFERS: record buffers stay while a connection is
	 * in use, tls_conn.c frees an idle one's */
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)SID_CTX, sizeof(SID_CTX) - 1);
	SSL_CTX_set_num_tickets(ctx, 1);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_cb, ts);
	SSL_CTX_set_tlsext_status_cb(ctx, status_cb);
	SSL_CTX_set_tlsext_status_arg(ctx, ts);
	return ctx;
}

int
tls_store_new(tls_store **out)
{
	tls_store *ts = xcalloc(1, sizeof(*ts));

	ts->base = ctx_new(ts);
	ts->chal_key = EVP_EC_gen("P-256");
	if (ts->base == NULL || ts->chal_key == NULL) {
		SSL_CTX_free(ts->base);
		EVP_PKEY_free(ts->chal_key);
		free(ts);
		return -1;
	}
	SSL_CTX_set_tlsext_servername_callback(ts->base, servername_cb);
	SSL_CTX_set_tlsext_servername_arg(ts->base, ts);
	SSL_CTX_set_client_hello_cb(ts->base, tls_client_hello_cb, ts);
	ts->demands = tls_demands_new();
	SSL_CTX_sess_set_cache_size(ts->base, 20000);
	uv_rwlock_init(&ts->lock);
	*out = ts;
	return 0;
}

static void
cert_free(tls_cert *c)
{
	for (size_t i = 0; i < c->nnames; i++)
		free(c->names[i]);
	free(c->names);
	free(c->id);
	free(c->issuer);
	free(c->ocsp);
	SSL_CTX_free(c->ctx);
	free(c);
}

void
tls_store_free(tls_store *ts)
{
	if (ts == NULL)
		return;
	while (ts->certs != NULL) {
		tls_cert *c = ts->certs;

		ts->certs = c->next;
		cert_free(c);
	}
	tls_demands_free(ts->demands);
	free(ts->alpn_dir);
	EVP_PKEY_free(ts->chal_key);
	SSL_CTX_free(ts->base);
	uv_rwlock_destroy(&ts->lock);
	free(ts);
}

SSL *
tls_store_ssl_new(tls_store *ts)
{
	return SSL_new(ts->base);
}

/* ---- what a certificate says -------------------------------------------- */

static int64_t
asn1_time_unix(const ASN1_TIME *t)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm);
}

/* The DNS names of x's subjectAltName (its CN when it has none), lowercased. */
static void
cert_names(X509 *x, char ***names, size_t *n)
{
	GENERAL_NAMES *san = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);

	*names = NULL;
	*n = 0;
	for (int i = 0; san != NULL && i < sk_GENERAL_NAME_num(san); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(san, i);
		const unsigned char *d;
		int len;

		if (g->type != GEN_DNS)
			continue;
		d = ASN1_STRING_get0_data(g->d.dNSName);
		len = ASN1_STRING_length(g->d.dNSName);
		if (len <= 0 || memchr(d, '\0', (size_t)len) != NULL)
			continue;
		*names = xrealloc(*names, (*n + 1) * sizeof(**names));
		(*names)[*n] = xstrndup((const char *)d, (size_t)len);
		lower((*names)[(*n)++]);
	}
	GENERAL_NAMES_free(san);
	if (*n == 0) {
		char cn[256];

		if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn,
		    sizeof(cn)) > 0) {
			*names = xmalloc(sizeof(**names));
			(*names)[0] = xstrdup(cn);
			lower((*names)[0]);
			*n = 1;
		}
	}
}

static char *
cert_ocsp_url(X509 *x)
{
	STACK_OF(OPENSSL_STRING) *urls = X509_get1_ocsp(x);
	char *url = NULL;

	if (urls != NULL && sk_OPENSSL_STRING_num(urls) > 0)
		url = xstrdup(sk_OPENSSL_STRING_value(urls, 0));
	X509_email_free(urls);
	return url;
}

static X509 *
cert_file_leaf(const char *file)
{
	FILE *f = fopen(file, "r");
	X509 *x;

	if (f == NULL)
		return NULL;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return x;
}

int
tls_cert_info_read(const char *cert_file, tls_cert_info *info)
{
	X509 *x = cert_file_leaf(cert_file);
	char **names;
	size_t n;

	memset(info, 0, sizeof(*info));
	if (x == NULL)
		return -1;
	info->not_before = asn1_time_unix(X509_get0_notBefore(x));
	info->not_after = asn1_time_unix(X509_get0_notAfter(x));
	info->ocsp_url = cert_ocsp_url(x);
	cert_names(x, &names, &n);
	info->names = xstrdup("");
	for (size_t i = 0; i < n; i++) {
		char *j = xasprintf("%s%s%s", info->names, i > 0 ? " " : "", names[i]);

		free(info->names);
		info->names = j;
		free(names[i]);
	}
	free(names);
	X509_free(x);
	return 0;
}

void
tls_cert_info_release(tls_cert_info *info)
{
	free(info->names);
	free(info->ocsp_url);
	memset(info, 0, sizeof(*info));
}

/* ---- loading ------------------------------------------------------------ */

static void
ssl_error(char *err, size_t errlen, const char *what, const char *file)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(err, errlen, "%s %s: %s", what, file, e != 0 ? buf : "unreadable");
	ERR_clear_error();
}

/* A new tls_cert for the files, checked: the key matches, the chain parses,
 * it is valid now. NULL with err. */
static tls_cert *
cert_load(tls_store *ts, const char *id, const char *cert_file, const char *key_file,
    char *err, size_t errlen)
{
	tls_cert *c = xcalloc(1, sizeof(*c));
	int64_t now = (int64_t)time(NULL);
	X509 *leaf;
	char buf[256];

	c->id = xstrdup(id);
	if ((c->ctx = ctx_new(ts)) == NULL) {
		snprintf(err, errlen, "cannot make a TLS context");
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(c->ctx, cert_file) != 1) {
		ssl_error(err, errlen, "certificate", cert_file);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(c->ctx, key_file, SSL_FILETYPE_PEM) != 1) {
		ssl_error(err, errlen, "key", key_file);
		goto fail;
	}
	if (SSL_CTX_check_private_key(c->ctx) != 1) {
		snprintf(err, errlen, "key %s does not belong to certificate %s", key_file, cert_file);
		ERR_clear_error();
		goto fail;
	}
	leaf = SSL_CTX_get0_certificate(c->ctx);
	c->not_before = asn1_time_unix(X509_get0_notBefore(leaf));
	c->not_after = asn1_time_unix(X509_get0_notAfter(leaf));
	if (c->not_after <= now || c->not_before > now) {
		snprintf(err, errlen, "certificate %s is not valid now (%s)", cert_file,
		    c->not_after <= now ? "expired" : "not yet valid");
		goto fail;
	}
	cert_names(leaf, &c->names, &c->nnames);
	if (c->nnames == 0) {
		snprintf(err, errlen, "certificate %s names no host", cert_file);
		goto fail;
	}
	X509_NAME_oneline(X509_get_issuer_name(leaf), buf, sizeof(buf));
	c->issuer = xstrdup(buf);
	return c;
fail:
	cert_free(c);
	return NULL;
}

int
tls_store_load(tls_store *ts, const char *id, const char *cert_file, const char *key_file,
    char *err, size_t errlen)
{
	tls_cert *c = cert_load(ts, id, cert_file, key_file, err, errlen), **pp, *old = NULL;

	if (c == NULL)
		return -1;
	uv_rwlock_wrlock(&ts->lock);
	for (pp = &ts->certs; *pp != NULL; pp = &(*pp)->next) {
		if (strcmp((*pp)->id, id) == 0) {
			old = *pp;
			c->next = old->next;
			*pp = c;
			break;
		}
	}
	if (old == NULL)
		*pp = c;
	uv_rwlock_wrunlock(&ts->lock);
	if (old != NULL)
		cert_free(old);
	return 0;
}

void
tls_store_remove(tls_store *ts, const char *id)
{
	tls_cert **pp, *gone = NULL;

	uv_rwlock_wrlock(&ts->lock);
	for (pp = &ts->certs; *pp != NULL; pp = &(*pp)->next) {
		if (strcmp((*pp)->id, id) == 0) {
			gone = *pp;
			*pp = gone->next;
			break;
		}
	}
	uv_rwlock_wrunlock(&ts->lock);
	if (gone != NULL)
		cert_free(gone); /* a handshake's SSL keeps its SSL_CTX referenced */
}

void
tls_store_set_ocsp(tls_store *ts, const char *id, const unsigned char *der, size_t len)
{
	uv_rwlock_wrlock(&ts->lock);
	for (tls_cert *c = ts->certs; c != NULL; c = c->next) {
		if (strcmp(c->id, id) != 0)
			continue;
		free(c->ocsp);
		c->ocsp = NULL;
		c->ocsp_len = 0;
		if (der != NULL && len > 0) {
			c->ocsp = xmalloc(len);
			memcpy(c->ocsp, der, len);
			c->ocsp_len = len;
		}
	}
	uv_rwlock_wrunlock(&ts->lock);
}

/* ---- picking one ---------------------------------------------------------- */

static int
name_covers(const char *name, const char *host)
{
	const char *dot;

	if (strcmp(name, host) == 0)
		return 1;
	/* *.example.com covers a.example.com, not example.com nor a.b.example.com */
	if (name[0] != '*' || name[1] != '.' || (dot = strchr(host, '.')) == NULL || dot == host)
		return 0;
	return strcmp(dot + 1, name + 2) == 0;
}

/* Under the lock: the certificate for host; an exact name beats a wildcard. */
static tls_cert *
cert_find(tls_store *ts, const char *host)
{
	tls_cert *wild = NULL;

	for (tls_cert *c = ts->certs; c != NULL; c = c->next) {
		for (size_t i = 0; i < c->nnames; i++) {
			if (!name_covers(c->names[i], host))
				continue;
			if (c->names[i][0] != '*')
				return c;
			if (wild == NULL)
				wild = c;
		}
	}
	return wild;
}

int
tls_store_covers(tls_store *ts, const char *host)
{
	int r;

	uv_rwlock_rdlock(&ts->lock);
	r = cert_find(ts, host) != NULL;
	uv_rwlock_rdunlock(&ts->lock);
	return r;
}

void
tls_store_on_miss(tls_store *ts, void (*miss)(const char *host, void *arg), void *arg)
{
	ts->miss = miss;
	ts->miss_arg = arg;
}

void
tls_store_report_miss(tls_store *ts, const char *host)
{
	if (ts->miss != NULL)
		ts->miss(host, ts->miss_arg);
}

tls_demands *
tls_store_demands(tls_store *ts)
{
	return ts->demands;
}

/* The TLS-ALPN-01 digest for host, from the challenge directory (written by
 * the ACME client's hook while the CA validates; a handshake offering
 * acme-tls/1 is rare, so it is read then).  1 and digest, or 0. */
static int
chal_digest(tls_store *ts, const char *host, unsigned char digest[32])
{
	char *text = NULL;
	size_t len = 0, n = 0;
	int ok;

	if (ts->alpn_dir == NULL || host[0] == '.' ||
	    strspn(host, "abcdefghijklmnopqrstuvwxyz0123456789.-") != strlen(host) ||
	    fs_read_file_beneath(ts->alpn_dir, host, &text, &len, 256) != 0)
		return 0;
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	ok = sodium_base642bin(digest, 32, text, len, NULL, &n, NULL,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 && n == 32;
	free(text);
	return ok;
}

static int
servername_cb(SSL *s, int *al, void *arg)
{
	tls_store *ts = arg;
	const char *name = SSL_get_servername(s, TLSEXT_NAMETYPE_host_name);
	char host[256];
	tls_cert *c;
	int chal = 0;

	host[0] = '\0';
	if (name != NULL && strlen(name) < sizeof(host)) {
		snprintf(host, sizeof(host), "%s", name);
		lower(host);
	}
	if (host[0] != '\0' && !tls_store_covers(ts, host)) {
		unsigned char d[32];

		chal = chal_digest(ts, host, d);
	}
	uv_rwlock_rdlock(&ts->lock);
	c = host[0] != '\0' ? cert_find(ts, host) : NULL;
	if (c == NULL && !chal)
		c = ts->certs; /* the default */
	if (c != NULL)
		SSL_set_SSL_CTX(s, c->ctx);
	uv_rwlock_rdunlock(&ts->lock);
	if (c == NULL && !chal) {
		*al = SSL_AD_UNRECOGNIZED_NAME;
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	}
	return SSL_TLSEXT_ERR_OK;
}

int
tls_store_challenge(tls_store *ts, const char *host)
{
	unsigned char d[32];

	return chal_digest(ts, host, d);
}

/* ---- ALPN: http/1.1, or a TLS-ALPN-01 challenge -------------------------- */

static const unsigned char *
alpn_find(const unsigned char *in, unsigned inlen, const char *proto)
{
	size_t pl = strlen(proto);

	for (unsigned i = 0; i < inlen;) {
		unsigned l = in[i];

		if (i + 1 + l > inlen)
			break;
		if (l == pl && memcmp(in + i + 1, proto, pl) == 0)
			return in + i;
		i += 1 + l;
	}
	return NULL;
}

static int
alpn_cb(SSL *s, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
    unsigned inlen, void *arg)
{
	tls_store *ts = arg;
	const unsigned char *p = alpn_find(in, inlen, "acme-tls/1");

	if (p != NULL) {
		const char *name = SSL_get_servername(s, TLSEXT_NAMETYPE_host_name);
		char host[256];
		unsigned char digest[32];
		X509 *x;
		int ok;

		if (name == NULL || strlen(name) >= sizeof(host))
			return SSL_TLSEXT_ERR_ALERT_FATAL;
		snprintf(host, sizeof(host), "%s", name);
		lower(host);
		if (!chal_digest(ts, host, digest) ||
		    (x = chal_cert(ts->chal_key, host, digest)) == NULL)
			return SSL_TLSEXT_ERR_ALERT_FATAL;
		ok = SSL_use_certificate(s, x) == 1 && SSL_use_PrivateKey(s, ts->chal_key) == 1;
		X509_free(x);
		if (!ok)
			return SSL_TLSEXT_ERR_ALERT_FATAL;
		*out = p + 1;
		*outlen = p[0];
		return SSL_TLSEXT_ERR_OK;
	}
	p = alpn_find(in, inlen, "http/1.1");
	if (p == NULL)
		return SSL_TLSEXT_ERR_NOACK;
	*out = p + 1;
	*outlen = p[0];
	return SSL_TLSEXT_ERR_OK;
}

/* RFC 8737: a self-signed certificate for host with the critical
 * id-pe-acmeIdentifier extension holding the digest as an OCTET STRING. */
static X509 *
chal_cert(EVP_PKEY *key, const char *host, const unsigned char digest[32])
{
	X509 *x = X509_new();
	ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
	ASN1_OCTET_STRING *val = ASN1_OCTET_STRING_new();
	unsigned char der[34] = { 0x04, 0x20 };
	X509_EXTENSION *ext = NULL, *san = NULL;
	X509V3_CTX v3;
	char *alt = xasprintf("DNS:%s", host);
	int ok;

	memcpy(der + 2, digest, 32);
	ok = x != NULL && oid != NULL && val != NULL &&
	    ASN1_OCTET_STRING_set(val, der, sizeof(der)) == 1 &&
	    (ext = X509_EXTENSION_create_by_OBJ(NULL, oid, 1, val)) != NULL &&
	    X509_set_version(x, 2) == 1 &&
	    ASN1_INTEGER_set(X509_get_serialNumber(x), (long)time(NULL)) == 1 &&
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) != NULL &&
	    X509_gmtime_adj(X509_getm_notAfter(x), 7 * 86400) != NULL &&
	    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	        (const unsigned char *)host, -1, -1, 0) == 1 &&
	    X509_set_issuer_name(x, X509_get_subject_name(x)) == 1 &&
	    X509_set_pubkey(x, key) == 1;
	if (ok) {
		X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
		san = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, alt);
		ok = san != NULL && X509_add_ext(x, san, -1) == 1 && X509_add_ext(x, ext, -1) == 1 &&
		    X509_sign(x, key, EVP_sha256()) > 0;
	}
	X509_EXTENSION_free(ext);
	X509_EXTENSION_free(san);
	ASN1_OCTET_STRING_free(val);
	ASN1_OBJECT_free(oid);
	free(alt);
	if (!ok) {
		X509_free(x);
		ERR_clear_error();
		return NULL;
	}
	return x;
}

void
tls_store_alpn_dir(tls_store *ts, const char *dir)
{
	free(ts->alpn_dir);
	ts->alpn_dir = dir != NULL ? xstrdup(dir) : NULL;
}

/* ---- OCSP stapling --------------------------------------------------------- */

static int
status_cb(SSL *s, void *arg)
{
	tls_store *ts = arg;
	SSL_CTX *ctx = SSL_get_SSL_CTX(s);
	unsigned char *copy = NULL;
	size_t len = 0;

	uv_rwlock_rdlock(&ts->lock);
	for (tls_cert *c = ts->certs; c != NULL; c = c->next) {
		if (c->ctx == ctx && c->ocsp != NULL) {
			copy = OPENSSL_malloc(c->ocsp_len);
			if (copy != NULL) {
				memcpy(copy, c->ocsp, c->ocsp_len);
				len = c->ocsp_len;
			}
			break;
		}
	}
	uv_rwlock_rdunlock(&ts->lock);
	if (copy == NULL)
		return SSL_TLSEXT_ERR_NOACK;
	SSL_set_tlsext_status_ocsp_resp(s, copy, (long)len);
	return SSL_TLSEXT_ERR_OK;
}

/* ---- state for the admins ------------------------------------------------ */

json_t *
tls_store_status(tls_store *ts)
{
	json_t *a = json_array();

	uv_rwlock_rdlock(&ts->lock);
	for (tls_cert *c = ts->certs; c != NULL; c = c->next) {
		json_t *names = json_array();

		for (size_t i = 0; i < c->nnames; i++)
			json_array_append_new(names, json_string(c->names[i]));
		json_array_append_new(a, json_pack("{s:s, s:o, s:I, s:I, s:s, s:b}", "id", c->id,
		    "names", names, "notBefore", (json_int_t)c->not_before, "notAfter",
		    (json_int_t)c->not_after, "issuer", c->issuer, "ocsp", c->ocsp != NULL));
	}
	uv_rwlock_rdunlock(&ts->lock);
	return a;
}
