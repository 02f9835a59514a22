/* tls_int.h — the TLS layer under a client connection (private to proxy/).
 *
 * A connection accepted on the TLS listener carries a tls_conn (tls_conn.c):
 * what the socket reads is ciphertext, given to tls_conn_input, which runs the
 * handshake and hands the plaintext to the connection's usual input
 * (conn_input) as long as the connection wants it (conn_reading_wanted);
 * what the connection writes is encrypted by conn_write (tls_conn_encrypt)
 * before pio.c sends it.  Nothing above the connection knows TLS is there
 * but for c->tls (X-Forwarded-Proto, Secure cookies, HSTS).
 */
#ifndef PODIUM_TLS_INT_H
#define PODIUM_TLS_INT_H

#include <openssl/ssl.h>

#include "proxy/proxy_int.h"
#include "proxy/tls.h"

/* tls_store.c: a new SSL object for a client, from the store's base context. */
SSL *tls_store_ssl_new(tls_store *ts);
/* What the store's client-hello callback and the connection layer share: the
 * SSL object's app data (SSL_set_app_data), owned by the connection layer. */
typedef struct tls_hello {
	char host[256];            /* the name the client asked for, lowercased ("": none) */
	int asked;                 /* the miss was reported */
	int released;              /* the wait is over: go on with what covers it, or the default */
} tls_hello;
/* For tls_demand.c: the miss callback called, the store's demand table, a
 * TLS-ALPN-01 challenge waiting for host (its handshakes go on at once). */
void tls_store_report_miss(tls_store *ts, const char *host);
typedef struct tls_demands tls_demands;
tls_demands *tls_store_demands(tls_store *ts);
int tls_store_challenge(tls_store *ts, const char *host);

/* tls_demand.c: names asked for on demand, and the client-hello callback
 * (set on the store's base context) that holds their handshakes. */
tls_demands *tls_demands_new(void);
void tls_demands_free(tls_demands *ds);
int tls_client_hello_cb(SSL *s, int *al, void *arg);
unsigned tls_store_hold_ms(tls_store *ts);
/* Does a handshake held for host still wait?  Not once a certificate covers
 * it, or the issuer refused it or gave up. */
int tls_store_waiting(tls_store *ts, const char *host);

/* tls_conn.c */
int tls_loop_open(proxy_loop *lp);        /* 0 or -1 */
void tls_loop_close(proxy_loop *lp);      /* once the loop has no connection left */
int tls_conn_start(proxy_conn *c);        /* an accepted client: 0 or -1 */
void tls_conn_input(proxy_conn *c, const char *p, size_t n);
/* Plaintext for the client: sealed into records at the end of the loop turn
 * (or once a record is full; at once without batched sends), which then go
 * out through conn_write_raw.  0, or -EPIPE (no handshake yet, or failed). */
int tls_conn_write(proxy_conn *c, const uv_buf_t *bufs, unsigned n);
/* Plaintext written and not sealed yet (counts as queued). */
size_t tls_conn_pending(const proxy_conn *c);
/* Seals it now (before a close). */
void tls_conn_flush(proxy_conn *c);
/* The connection wants input again: what the layer holds is handed on soon. */
void tls_conn_resume(proxy_conn *c);
/* Before a FIN: what is pending, then the close_notify alert out. */
void tls_conn_close_notify(proxy_conn *c);
/* The connection moves to the main loop: the layer keeps what it had not
 * handed on; tls_conn_adopt binds it to its new connection. */
struct tls_conn *tls_conn_detach(proxy_conn *c);
void tls_conn_adopt(proxy_conn *c, struct tls_conn *t);
void tls_conn_free(struct tls_conn *t);

/* tls_http.c: what the plain HTTP listener does for HTTPS: the HTTP-01
 * tokens (any host) and the redirect of a host HTTPS serves.  Checked first
 * in conn_route; tls_http_intercepts tells request.c to answer a hub host's
 * request on a worker loop rather than move it. */
int tls_http_intercepts(proxy_conn *c);
int tls_http_route(proxy_conn *c);
/* The Strict-Transport-Security value for a response on c, or NULL. */
const char *tls_http_hsts(const proxy_conn *c);

#endif
