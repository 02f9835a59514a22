/* tls_conn.c — TLS under one client connection, on its loop.
 *
 * OpenSSL never sees the socket: each SSL object has one BIO of ours, a
 * memory BIO without a buffer of its own.  It reads the ciphertext libuv just
 * read (the loop's read buffer, in place) and writes records into the loop's
 * output buffer, which the caller hands to pio.c at once (so a loop turn's
 * small records go out in one io_uring_enter, as plain HTTP's writes do).  An
 * idle connection holds its SSL object only (SSL_MODE_RELEASE_BUFFERS frees
 * the record buffers), no BIO memory.
 *
 * Input is decrypted only while the connection wants it (back-pressure, one
 * request at a time): ciphertext not yet decrypted then waits in t->spill,
 * and when the connection reads again (tls_conn_resume) the loop's resume
 * timer hands it on, since no socket event will.  A handshake that does not
 * finish is cut by the connection's head timer like a slow request head.
 */
#include <errno.h>
#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "proxy/tls_int.h"

#define TLS_PLAIN_BUF (16 * 1024 + 256) /* one record's plaintext */

typedef struct tls_conn {
	SSL *ssl;
	proxy_conn *c;
	struct tls_loop *lt;
	const char *in;            /* ciphertext being read: the read buffer, or spill */
	size_t inlen;
	char *spill;               /* ciphertext kept while input waits */
	int hs_done;
	int in_pump;
	int queued;                /* in lt's resume list */
	struct tls_conn *rprev, *rnext;
} tls_conn;

typedef struct tls_loop {
	char *out;                 /* records to send, consumed by each caller */
	size_t out_len, out_cap;
	uv_timer_t *resume;        /* its own allocation */
	tls_conn *pending;         /* input to hand on */
	char plain[TLS_PLAIN_BUF];
} tls_loop;

/* ---- the BIO ------------------------------------------------------------- */

static BIO_METHOD *bio_method;
static uv_once_t bio_once = UV_ONCE_INIT;

static int
bio_write(BIO *b, const char *p, int n)
{
	tls_loop *lt = ((tls_conn *)BIO_get_data(b))->lt;

	if (n <= 0)
		return 0;
	if (lt->out_len + (size_t)n > lt->out_cap) {
		lt->out_cap = (lt->out_len + (size_t)n) * 2;
		lt->out = xrealloc(lt->out, lt->out_cap);
	}
	memcpy(lt->out + lt->out_len, p, (size_t)n);
	lt->out_len += (size_t)n;
	return n;
}

static int
bio_read(BIO *b, char *p, int n)
{
	tls_conn *t = BIO_get_data(b);
	size_t k;

	BIO_clear_retry_flags(b);
	if (t->inlen == 0) {
		BIO_set_retry_read(b);
		return -1;
	}
	k = t->inlen < (size_t)n ? t->inlen : (size_t)n;
	memcpy(p, t->in, k);
	t->in += k;
	t->inlen -= k;
	return (int)k;
}

static long
bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int
bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static void
bio_method_make(void)
{
	bio_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "podium");
	BIO_meth_set_write(bio_method, bio_write);
	BIO_meth_set_read(bio_method, bio_read);
	BIO_meth_set_ctrl(bio_method, bio_ctrl);
	BIO_meth_set_create(bio_method, bio_create);
}

/* ---- the loop's part ----------------------------------------------------- */

static void resume_cb(uv_timer_t *h);

int
tls_loop_open(proxy_loop *lp)
{
	tls_loop *lt = xcalloc(1, sizeof(*lt));

	uv_once(&bio_once, bio_method_make);
	if (bio_method == NULL) {
		free(lt);
		return -1;
	}
	lt->resume = xmalloc(sizeof(*lt->resume));
	uv_timer_init(lp->loop, lt->resume);
	lt->resume->data = lt;
	uv_unref((uv_handle_t *)lt->resume);
	lp->tls = lt;
	return 0;
}

static void
free_handle(uv_handle_t *h)
{
	free(h);
}

void
tls_loop_close(proxy_loop *lp)
{
	tls_loop *lt = lp->tls;

	if (lt == NULL)
		return;
	uv_close((uv_handle_t *)lt->resume, free_handle);
	free(lt->out);
	free(lt);
	lp->tls = NULL;
}

static void
pending_remove(tls_conn *t)
{
	if (!t->queued)
		return;
	if (t->rprev != NULL)
		t->rprev->rnext = t->rnext;
	else
		t->lt->pending = t->rnext;
	if (t->rnext != NULL)
		t->rnext->rprev = t->rprev;
	t->rprev = t->rnext = NULL;
	t->queued = 0;
}

/* ---- one connection ------------------------------------------------------ */

int
tls_conn_start(proxy_conn *c)
{
	tls_conn *t;
	BIO *b;

	if (c->lp->tls == NULL || c->srv->cfg.tls == NULL)
		return -1;
	t = xcalloc(1, sizeof(*t));
	t->ssl = tls_store_ssl_new(c->srv->cfg.tls);
	b = t->ssl != NULL ? BIO_new(bio_method) : NULL;
	if (b == NULL) {
		SSL_free(t->ssl);
		free(t);
		ERR_clear_error();
		return -1;
	}
	BIO_set_data(b, t);
	SSL_set_bio(t->ssl, b, b);
	SSL_set_accept_state(t->ssl);
	t->c = c;
	t->lt = c->lp->tls;
	c->tls = t;
	return 0;
}

void
tls_conn_free(tls_conn *t)
{
	if (t == NULL)
		return;
	if (t->lt != NULL)
		pending_remove(t);
	SSL_free(t->ssl);
	free(t->spill);
	free(t);
}

/* The records OpenSSL wrote (handshake, alerts, tickets), out now. */
static void
tls_flush(proxy_conn *c)
{
	tls_loop *lt = c->tls->lt;
	uv_buf_t b = uv_buf_init(lt->out, (unsigned)lt->out_len);

	if (lt->out_len == 0)
		return;
	lt->out_len = 0;
	conn_write_raw(c, &b, 1);
}

/* Keeps the ciphertext not consumed yet (the read buffer is the loop's). */
static void
tls_keep_input(tls_conn *t)
{
	char *copy;

	if (t->inlen == 0) {
		free(t->spill);
		t->spill = NULL;
		t->in = NULL;
		return;
	}
	if (t->spill != NULL && t->in >= t->spill)
		return; /* already ours */
	copy = xmalloc(t->inlen);
	memcpy(copy, t->in, t->inlen);
	free(t->spill);
	t->spill = copy;
	t->in = copy;
}

static int
tls_handshake(proxy_conn *c, tls_conn *t)
{
	int r = SSL_do_handshake(t->ssl);
	int e;

	tls_flush(c);
	if (r == 1) {
		t->hs_done = 1;
		return 0;
	}
	e = SSL_get_error(t->ssl, r);
	if (e == SSL_ERROR_WANT_READ)
		return 1;
	{
		char buf[256];

		ERR_error_string_n(ERR_peek_last_error(), buf, sizeof(buf));
		log_debug("proxy: %s: TLS handshake failed: %s", c->client_addr, buf);
	}
	ERR_clear_error();
	return -1;
}

/* Runs the handshake, then hands plaintext to the connection while it wants
 * it.  c may be closed, or moved to another loop (c->tls no longer t), on
 * return from conn_input: t is then not touched again. */
static void
tls_pump(proxy_conn *c)
{
	tls_conn *t = c->tls;

	t->in_pump = 1;
	while (!c->closing && !c->lingering) {
		int n, e;

		if (!t->hs_done) {
			int r = tls_handshake(c, t);

			if (r > 0)
				break;
			if (r < 0) {
				conn_abort(c);
				return;
			}
			continue;
		}
		if (!conn_reading_wanted(c))
			break;
		n = SSL_read(t->ssl, t->lt->plain, sizeof(t->lt->plain));
		tls_flush(c);
		if (n > 0) {
			conn_input(c, n, t->lt->plain);
			if (c->tls != t)
				return;
			continue;
		}
		e = SSL_get_error(t->ssl, n);
		if (e == SSL_ERROR_WANT_READ)
			break;
		ERR_clear_error();
		t->inlen = 0;
		conn_input(c, e == SSL_ERROR_ZERO_RETURN ? UV_EOF : UV_ECONNRESET, NULL);
		if (c->tls != t)
			return;
		break;
	}
	t->in_pump = 0;
	if (!c->closing)
		tls_keep_input(t);
}

void
tls_conn_input(proxy_conn *c, const char *p, size_t n)
{
	tls_conn *t = c->tls;

	if (t->spill != NULL && t->inlen > 0) {
		/* input still waits: the new bytes go behind it */
		char *all = xmalloc(t->inlen + n);

		memcpy(all, t->in, t->inlen);
		memcpy(all + t->inlen, p, n);
		free(t->spill);
		t->spill = all;
		t->in = all;
		t->inlen += n;
	} else {
		t->in = p;
		t->inlen = n;
	}
	tls_pump(c);
}

static void
resume_cb(uv_timer_t *h)
{
	tls_loop *lt = h->data;

	while (lt->pending != NULL) {
		tls_conn *t = lt->pending;

		pending_remove(t);
		if (t->c != NULL && !t->c->closing)
			tls_pump(t->c);
	}
}

void
tls_conn_resume(proxy_conn *c)
{
	tls_conn *t = c->tls;

	if (t->in_pump || t->queued || (t->inlen == 0 && SSL_pending(t->ssl) == 0))
		return;
	t->queued = 1;
	t->rprev = NULL;
	t->rnext = t->lt->pending;
	if (t->rnext != NULL)
		t->rnext->rprev = t;
	t->lt->pending = t;
	uv_timer_start(t->lt->resume, resume_cb, 0, 0);
}

int
tls_conn_encrypt(proxy_conn *c, const uv_buf_t *bufs, unsigned n, uv_buf_t *out)
{
	tls_conn *t = c->tls;
	tls_loop *lt = t->lt;

	if (!t->hs_done)
		return -EPIPE;
	lt->out_len = 0;
	for (unsigned i = 0; i < n; i++) {
		if (bufs[i].len == 0)
			continue;
		if (SSL_write(t->ssl, bufs[i].base, (int)bufs[i].len) <= 0) {
			ERR_clear_error();
			lt->out_len = 0;
			return -EPIPE;
		}
	}
	*out = uv_buf_init(lt->out, (unsigned)lt->out_len);
	lt->out_len = 0;
	return 0;
}

void
tls_conn_close_notify(proxy_conn *c)
{
	tls_conn *t = c->tls;

	if (t == NULL || !t->hs_done)
		return;
	if (SSL_shutdown(t->ssl) < 0)
		ERR_clear_error();
	tls_flush(c);
}

tls_conn *
tls_conn_detach(proxy_conn *c)
{
	tls_conn *t = c->tls;

	if (t == NULL)
		return NULL;
	pending_remove(t);
	tls_keep_input(t);
	t->in_pump = 0;
	t->c = NULL;
	t->lt = NULL;
	c->tls = NULL;
	return t;
}

void
tls_conn_adopt(proxy_conn *c, tls_conn *t)
{
	if (t == NULL)
		return;
	t->c = c;
	t->lt = c->lp->tls;
	c->tls = t;
}
