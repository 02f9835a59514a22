/* tls_conn.c — TLS under one client connection, on its loop.
 *
 * OpenSSL never sees the socket: each SSL object has one BIO of ours, a
 * memory BIO without a buffer of its own.  It reads the ciphertext libuv just
 * read (the loop's read buffer, in place) and writes each record straight to
 * the connection's writes (conn_write_raw: pio.c holds it for the loop turn's
 * batch, or the socket takes it), so a record is copied once on its way out.
 *
 * A loop turn's plaintext for a connection becomes as few records as it can:
 * what the connection writes collects in t->pend and is sealed by one
 * SSL_write just before the turn's batch goes out (pio.c's before_send hook),
 * or as soon as a full record's worth is there.  A response's head and body,
 * or several pipelined responses, so cost one record and one AEAD pass, as
 * nginx's ssl_buffer does.  Without batched sends (no io_uring) each write is
 * sealed at once.  What waits in t->pend counts as queued (tls_conn_pending),
 * and it is sealed into at most one held write of pio.c, whose done callback
 * then follows as for any held write.
 *
 * Record buffers: OpenSSL's read and write buffers (about 17 KiB each) stay
 * while the connection is in use and are freed once it has been idle for a
 * whole sweep interval (SSL_free_buffers), with t->pend; OpenSSL makes them
 * again when the connection speaks.  SSL_MODE_RELEASE_BUFFERS would free and
 * allocate both around every record.
 *
 * A handshake the store's client-hello callback holds (a name whose
 * certificate is being issued, tls_store.c) waits on the loop's held list; a
 * timer looks at the held ones every HOLD_POLL_MS while there are any, and
 * runs a handshake on once tls_store_waiting says so or its deadline passed.
 * Its head timer is pushed back by the wait.
 *
 * Input is decrypted only while the connection wants it (back-pressure, one
 * request at a time): ciphertext not yet decrypted then waits in t->spill,
 * and when the connection reads again (tls_conn_resume) the loop's resume
 * timer hands it on, since no socket event will.  A handshake that does not
 * finish is cut by the connection's head timer like a slow request head.
 */
#include <errno.h>
#include <malloc.h>
#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "proxy/tls_int.h"

#define TLS_PLAIN_BUF (16 * 1024 + 256) /* one record's plaintext */
/* Plaintext sealed into one record (its ciphertext still a small, held write
 * of pio.c: PROXY_DEFER_MAX). */
#define TLS_PEND_MAX  (PROXY_DEFER_MAX - 256)
#define TLS_SWEEP_MS  1000
#define HOLD_POLL_MS  100
#define TLS_TRIM_MIN  64    /* connections gone idle in one sweep */

/* A place on one of the loop's lists of connections. */
typedef struct tls_link {
	struct tls_link *prev, *next;
	struct tls_conn *t;
	int on;
} tls_link;

typedef struct tls_conn {
	SSL *ssl;
	proxy_conn *c;
	struct tls_loop *lt;
	const char *in;            /* ciphertext being read: the read buffer, or spill */
	size_t inlen;
	char *spill;               /* ciphertext kept while input waits */
	char *pend;                /* plaintext to seal at the end of the loop turn */
	size_t pend_len, pend_cap;
	int hs_done;
	int in_pump;
	int used;                  /* read or written since the last sweep */
	int slim;                  /* record buffers freed (idle) */
	tls_hello hello;           /* the SSL object's app data (tls_int.h) */
	uint64_t hold_until;       /* loop time a held handshake goes on anyway */
	tls_link resume;           /* in lt->pending: input to hand on */
	tls_link seal;             /* in lt->sealing: t->pend to seal */
	tls_link held;             /* in lt->held: its handshake waits for a certificate */
} tls_conn;

typedef struct tls_loop {
	proxy_loop *lp;
	uv_timer_t *resume;        /* its own allocation */
	uv_timer_t *sweep;         /* frees idle connections' buffers; its own allocation */
	uv_timer_t *hold;          /* runs held handshakes on; its own allocation */
	tls_link *pending;         /* input to hand on */
	tls_link *sealing;         /* plaintext to seal */
	tls_link *held;            /* handshakes waiting for a certificate */
	char plain[TLS_PLAIN_BUF];
} tls_loop;

static void
link_push(tls_link **head, tls_link *l)
{
	if (l->on)
		return;
	l->on = 1;
	l->prev = NULL;
	l->next = *head;
	if (l->next != NULL)
		l->next->prev = l;
	*head = l;
}

static void
link_remove(tls_link **head, tls_link *l)
{
	if (!l->on)
		return;
	if (l->prev != NULL)
		l->prev->next = l->next;
	else
		*head = l->next;
	if (l->next != NULL)
		l->next->prev = l->prev;
	l->prev = l->next = NULL;
	l->on = 0;
}

/* ---- the BIO ------------------------------------------------------------- */

static BIO_METHOD *bio_method;
static uv_once_t bio_once = UV_ONCE_INIT;

/* A record (or a few) OpenSSL made: on to the connection's writes. */
static int
bio_write(BIO *b, const char *p, int n)
{
	tls_conn *t = BIO_get_data(b);
	uv_buf_t buf = uv_buf_init((char *)p, (unsigned)n);

	BIO_clear_retry_flags(b);
	if (n <= 0)
		return 0;
	if (t->c == NULL || conn_write_raw(t->c, &buf, 1) != 0)
		return -1; /* no retry: the SSL call fails, the connection with it */
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
static void sweep_cb(uv_timer_t *h);
static void seal_all(proxy_loop *lp);

int
tls_loop_open(proxy_loop *lp)
{
	tls_loop *lt = xcalloc(1, sizeof(*lt));

	uv_once(&bio_once, bio_method_make);
	if (bio_method == NULL) {
		free(lt);
		return -1;
	}
	lt->lp = lp;
	lt->resume = xmalloc(sizeof(*lt->resume));
	uv_timer_init(lp->loop, lt->resume);
	lt->resume->data = lt;
	uv_unref((uv_handle_t *)lt->resume);
	lt->sweep = xmalloc(sizeof(*lt->sweep));
	uv_timer_init(lp->loop, lt->sweep);
	lt->sweep->data = lt;
	uv_timer_start(lt->sweep, sweep_cb, TLS_SWEEP_MS, TLS_SWEEP_MS);
	uv_unref((uv_handle_t *)lt->sweep);
	lt->hold = xmalloc(sizeof(*lt->hold));
	uv_timer_init(lp->loop, lt->hold);
	lt->hold->data = lt;
	uv_unref((uv_handle_t *)lt->hold);
	lp->tls = lt;
	lp->before_send = seal_all;
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
	uv_close((uv_handle_t *)lt->sweep, free_handle);
	uv_close((uv_handle_t *)lt->hold, free_handle);
	free(lt);
	lp->tls = NULL;
	lp->before_send = NULL;
}

/* The connections idle since the last sweep give their record buffers back. */
static void
sweep_cb(uv_timer_t *h)
{
	tls_loop *lt = h->data;
	unsigned freed = 0;

	for (proxy_conn *c = lt->lp->conns; c != NULL; c = c->next) {
		tls_conn *t = c->tls;

		if (t == NULL || c->closing || t->slim || !t->hs_done)
			continue;
		if (t->used) {
			t->used = 0;
			continue;
		}
		if (t->pend_len > 0 || t->inlen > 0 || SSL_free_buffers(t->ssl) != 1)
			continue;
		free(t->pend);
		t->pend = NULL;
		t->pend_cap = 0;
		t->slim = 1;
		freed++;
	}
	/* free() keeps the pages of buffers freed amid the heap: many of them
	 * go back to the kernel here */
	if (freed >= TLS_TRIM_MIN)
		malloc_trim(0);
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
	SSL_set_app_data(t->ssl, &t->hello);
	t->resume.t = t->seal.t = t->held.t = t;
	t->c = c;
	t->lt = c->lp->tls;
	t->used = 1;
	c->tls = t;
	return 0;
}

static void
lists_leave(tls_conn *t)
{
	if (t->lt == NULL)
		return;
	link_remove(&t->lt->pending, &t->resume);
	link_remove(&t->lt->sealing, &t->seal);
	link_remove(&t->lt->held, &t->held);
}

void
tls_conn_free(tls_conn *t)
{
	if (t == NULL)
		return;
	lists_leave(t);
	SSL_free(t->ssl);
	free(t->spill);
	free(t->pend);
	free(t);
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

	if (r == 1) {
		t->hs_done = 1;
		return 0;
	}
	e = SSL_get_error(t->ssl, r);
	if (e == SSL_ERROR_WANT_READ)
		return 1;
	if (e == SSL_ERROR_WANT_CLIENT_HELLO_CB)
		return 2;
	{
		char buf[256];

		ERR_error_string_n(ERR_peek_last_error(), buf, sizeof(buf));
		log_debug("proxy: %s: TLS handshake failed: %s", c->client_addr, buf);
	}
	ERR_clear_error();
	return -1;
}

static void hold_cb(uv_timer_t *h);

/* The store holds the handshake: it waits on the loop's list (the first time
 * only: the client may send more meanwhile, which runs the callback again). */
static void
tls_hold(proxy_conn *c, tls_conn *t)
{
	unsigned ms = tls_store_hold_ms(c->srv->cfg.tls);

	if (t->held.on)
		return;
	link_push(&t->lt->held, &t->held);
	t->hold_until = uv_now(c->lp->loop) + ms;
	conn_timer_set(c, CT_HEAD, ms + c->srv->cfg.header_timeout_ms);
	if (!uv_is_active((uv_handle_t *)t->lt->hold))
		uv_timer_start(t->lt->hold, hold_cb, HOLD_POLL_MS, HOLD_POLL_MS);
	log_debug("proxy: %s: the handshake for %s waits for its certificate", c->client_addr,
	    t->hello.host);
}

static void tls_pump(proxy_conn *c);

static void
hold_cb(uv_timer_t *h)
{
	tls_loop *lt = h->data;
	uint64_t now = uv_now(lt->lp->loop);
	tls_link *l = lt->held, *next;

	for (; l != NULL; l = next) {
		tls_conn *t = l->t;

		next = l->next;
		if (t->c == NULL || t->c->closing || (now < t->hold_until &&
		    tls_store_waiting(t->c->srv->cfg.tls, t->hello.host)))
			continue;
		link_remove(&lt->held, l);
		t->hello.released = 1;
		tls_pump(t->c);
	}
	if (lt->held == NULL)
		uv_timer_stop(h);
}

/* Runs the handshake, then hands plaintext to the connection while it wants
 * it.  c may be closed, or moved to another loop (c->tls no longer t), on
 * return from conn_input: t is then not touched again. */
static void
tls_pump(proxy_conn *c)
{
	tls_conn *t = c->tls;

	t->in_pump = 1;
	t->used = 1;
	t->slim = 0;
	while (!c->closing && !c->lingering) {
		int n, e;

		if (!t->hs_done) {
			int r = tls_handshake(c, t);

			if (r == 2)
				tls_hold(c, t);
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
		tls_conn *t = lt->pending->t;

		link_remove(&lt->pending, &t->resume);
		if (t->c != NULL && !t->c->closing)
			tls_pump(t->c);
	}
}

void
tls_conn_resume(proxy_conn *c)
{
	tls_conn *t = c->tls;

	if (t->in_pump || t->resume.on || (t->inlen == 0 && SSL_has_pending(t->ssl) == 0))
		return;
	link_push(&t->lt->pending, &t->resume);
	uv_timer_start(t->lt->resume, resume_cb, 0, 0);
}

/* ---- output ---------------------------------------------------------------- */

/* What t->pend holds, as records now: 0, or -1 (the connection failed). */
static int
tls_seal(tls_conn *t)
{
	size_t len = t->pend_len;

	if (t->lt != NULL)
		link_remove(&t->lt->sealing, &t->seal);
	if (len == 0)
		return 0;
	t->pend_len = 0;
	if (SSL_write(t->ssl, t->pend, (int)len) <= 0) {
		ERR_clear_error();
		return -1;
	}
	return 0;
}

/* pio.c's before_send: every connection's plaintext of this turn sealed,
 * its records held for the batch that goes out next. */
static void
seal_all(proxy_loop *lp)
{
	tls_loop *lt = lp->tls;

	while (lt->sealing != NULL) {
		tls_conn *t = lt->sealing->t;
		proxy_conn *c = t->c;

		if (tls_seal(t) != 0) {
			conn_fail_later(c);
			continue;
		}
		/* What waited in t->pend counted as queued, so the connection is
		 * owed a done callback: pio.c's held write brings it, but a write
		 * the socket took whole at once (the ring failed) brings none. */
		if (conn_queued(c) == 0 && !c->closing)
			conn_write_finished(c);
	}
}

static void
pend_add(tls_conn *t, const char *p, size_t n)
{
	if (t->pend_len + n > t->pend_cap) {
		t->pend_cap = t->pend_cap == 0 ? 4096 : t->pend_cap * 2;
		if (t->pend_cap < t->pend_len + n)
			t->pend_cap = t->pend_len + n;
		t->pend = xrealloc(t->pend, t->pend_cap);
	}
	memcpy(t->pend + t->pend_len, p, n);
	t->pend_len += n;
}

int
tls_conn_write(proxy_conn *c, const uv_buf_t *bufs, unsigned n)
{
	tls_conn *t = c->tls;

	if (!t->hs_done)
		return -EPIPE;
	t->used = 1;
	t->slim = 0;
	for (unsigned i = 0; i < n; i++) {
		const char *p = bufs[i].base;
		size_t left = bufs[i].len;

		while (left > 0) {
			size_t k = TLS_PEND_MAX - t->pend_len;

			k = k < left ? k : left;
			pend_add(t, p, k);
			p += k;
			left -= k;
			/* a full record goes at once: the rest of a big write follows it */
			if (t->pend_len == TLS_PEND_MAX && tls_seal(t) != 0)
				return -EPIPE;
		}
	}
	if (t->pend_len == 0)
		return 0;
	if (!pio_batching(c->lp))
		return tls_seal(t) == 0 ? 0 : -EPIPE;
	link_push(&t->lt->sealing, &t->seal);
	return 0;
}

size_t
tls_conn_pending(const proxy_conn *c)
{
	return c->tls != NULL ? c->tls->pend_len : 0;
}

void
tls_conn_flush(proxy_conn *c)
{
	if (c->tls != NULL && tls_seal(c->tls) != 0)
		conn_fail_later(c);
}

void
tls_conn_close_notify(proxy_conn *c)
{
	tls_conn *t = c->tls;

	if (t == NULL || !t->hs_done)
		return;
	tls_conn_flush(c);
	if (SSL_shutdown(t->ssl) < 0)
		ERR_clear_error();
}

tls_conn *
tls_conn_detach(proxy_conn *c)
{
	tls_conn *t = c->tls;

	if (t == NULL)
		return NULL;
	lists_leave(t);
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
	t->used = 1;
	c->tls = t;
	if (t->pend_len > 0)
		link_push(&t->lt->sealing, &t->seal);
}
