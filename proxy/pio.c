/* pio.c — the proxy's writes to sockets, one loop iteration's small writes
 * sent together.
 *
 * A write goes straight to the socket when it takes it (uv_try_write); only
 * the part it did not take is copied into a uv write request.  So memory held
 * for a connection is what its peer has not read yet, which the callers bound
 * with the HWM/LWM back-pressure marks.
 *
 * Batched sends.  On a busy loop every write(2) to a loopback peer wakes that
 * peer (an app, a client), and the kernel switches to it on the way out of
 * the syscall: the loop is preempted once per response, and the peer handles
 * one message per wake-up.  So a small write (up to PIO_DEFER_MAX, with the
 * socket's write queue empty) is copied and held until the loop has handled
 * every event of this iteration; then all held writes go to the kernel in one
 * io_uring_enter, each an IORING_OP_SEND with MSG_DONTWAIT (done inline,
 * never left pending in the kernel).  Whatever a socket did not take goes to
 * its uv write queue as before.  The loop runs on, the peers wake once each
 * and find several messages.  A loop without io_uring (the kernel refuses it,
 * or batch_sends is off) writes at once, as above.
 *
 * Held bytes count as queued (pio_queued) and are always followed by the
 * owner's done callback, called from the flush (a check, prepare or idle
 * handle, with no caller on the stack): 0 once the bytes are with the kernel
 * or in the uv write queue, or the send's error.  A held write the socket
 * took only in part is reported twice: by the flush (the rest is queued: the
 * owner's send timeout starts) and by libuv once the rest is out.  A stream
 * still connecting passes slot NULL: its writes wait in the uv queue for the
 * connection, as libuv does (a send would take the connect's error).  A socket holds at most one held
 * write; later small writes are appended to it, a larger one first sends the
 * whole batch (order is kept).  Before a shutdown or a close the batch is
 * sent (pio_send_now, pio_closing); a closing socket's owner gets no done
 * callback, as uv_close drops a uv write queue.
 */
#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/log.h"
#include "proxy/proxy_int.h"
#include "common/util.h"

#define PIO_DEFER_MAX PROXY_DEFER_MAX /* well below PROXY_LWM: never a back-pressure stop */
#define PIO_INLINE    1024        /* a typical head fits in the entry itself */
#define PIO_RING      256
#define PIO_FREE_MAX  256         /* entries kept for reuse */
#define PIO_ROUNDS    8           /* flush rounds per call; the rest waits a turn */

enum { PD_HELD, PD_DONE };

struct pio_defer {
	pio_defer *next;
	pio_defer **slot;          /* the owner's pointer to this; NULL: owner closing, no done() */
	uv_stream_t *s;
	pio_done_cb done;
	void *owner;
	int state;
	int status;                /* PD_DONE: for done() */
	size_t len, cap;
	char *data;                /* inline, or on the heap past PIO_INLINE */
	char inline_buf[PIO_INLINE];
};

struct pio_batch {
	struct io_uring ring;
	uv_prepare_t prepare;      /* before the loop waits: writes from timers */
	uv_check_t check;          /* after the loop's I/O callbacks */
	uv_idle_t idle;            /* runs while a flush left work: the loop must not sleep */
	int idling;
	int open_handles;
	pio_defer *held, **held_tail; /* to send, in write order */
	pio_defer *sent, **sent_tail; /* sent, done() due unless slot is NULL */
	pio_defer *free_list;
	unsigned nfree;
	_Atomic uint64_t *batches, *sends; /* the loop's counters (io_uring_enter calls, sends) */
	proxy_loop *lp;
	int dead;                  /* the ring failed: plain writes only */
};

/* ---- plain writes ----------------------------------------------------------- */

struct pio_req {
	uv_write_t req;
	pio_done_cb done;
	void *owner;
	char data[];
};

static void
pio_write_cb(uv_write_t *w, int status)
{
	struct pio_req *r = (struct pio_req *)w;

	if (r->done != NULL)
		r->done(r->owner, status);
	free(r);
}

/* What the socket takes now, then a copy of the rest in the uv queue. */
static int
write_plain(uv_stream_t *s, const uv_buf_t *bufs, unsigned n, pio_done_cb done, void *owner)
{
	size_t total = 0, skip, off = 0;
	struct pio_req *r;
	int w;

	for (unsigned i = 0; i < n; i++)
		total += bufs[i].len;
	if (total == 0)
		return 0;
	w = uv_try_write(s, bufs, n);
	if (w < 0 && w != UV_EAGAIN && w != UV_ENOSYS)
		return w;
	skip = w > 0 ? (size_t)w : 0;
	if (skip == total)
		return 0;
	r = xmalloc(sizeof(*r) + total - skip);
	r->done = done;
	r->owner = owner;
	for (unsigned i = 0; i < n; i++) {
		const char *b = bufs[i].base;
		size_t len = bufs[i].len;

		if (skip >= len) {
			skip -= len;
			continue;
		}
		memcpy(r->data + off, b + skip, len - skip);
		off += len - skip;
		skip = 0;
	}
	uv_buf_t one = uv_buf_init(r->data, (unsigned)off);
	w = uv_write(&r->req, s, &one, 1, pio_write_cb);
	if (w != 0) {
		free(r);
		return w;
	}
	return 0;
}

/* ---- held writes --------------------------------------------------------------- */

static pio_defer *
defer_new(pio_batch *b)
{
	pio_defer *d = b->free_list;

	if (d != NULL) {
		b->free_list = d->next;
		b->nfree--;
	} else {
		d = xmalloc(sizeof(*d));
	}
	d->next = NULL;
	d->len = 0;
	d->cap = sizeof(d->inline_buf);
	d->data = d->inline_buf;
	return d;
}

static void
defer_free(pio_batch *b, pio_defer *d)
{
	if (d->data != d->inline_buf)
		free(d->data);
	if (b != NULL && b->nfree < PIO_FREE_MAX) {
		d->next = b->free_list;
		b->free_list = d;
		b->nfree++;
		return;
	}
	free(d);
}

static void
defer_append(pio_defer *d, const uv_buf_t *bufs, unsigned n, size_t total)
{
	if (d->len + total > d->cap) {
		size_t cap = (d->len + total) * 2;
		char *p = xmalloc(cap);

		memcpy(p, d->data, d->len);
		if (d->data != d->inline_buf)
			free(d->data);
		d->data = p;
		d->cap = cap;
	}
	for (unsigned i = 0; i < n; i++) {
		memcpy(d->data + d->len, bufs[i].base, bufs[i].len);
		d->len += bufs[i].len;
	}
}

static void
to_sent(pio_batch *b, pio_defer *d)
{
	d->next = NULL;
	*b->sent_tail = d;
	b->sent_tail = &d->next;
}

/* The socket took r bytes of d (r < 0: an error): the rest to its uv queue. */
static void
defer_sent(pio_batch *b, pio_defer *d, int r)
{
	d->state = PD_DONE;
	d->status = 0;
	if (r < 0 && r != -EAGAIN) {
		d->status = r; /* uv errors are negated errnos */
	} else {
		size_t took = r > 0 ? (size_t)r : 0;

		if (took < d->len) {
			uv_buf_t rest = uv_buf_init(d->data + took, (unsigned)(d->len - took));

			d->status = write_plain(d->s, &rest, 1, d->done, d->owner);
		}
	}
	to_sent(b, d);
}

/* The ring failed (not expected: sends with MSG_DONTWAIT complete inline).
 * Unconsumed submissions die with it; from now on writes are plain. */
static void
ring_failed(pio_batch *b, int r)
{
	log_warn("proxy: io_uring: %s; sends are no longer batched", strerror(-r));
	io_uring_queue_exit(&b->ring);
	b->dead = 1;
}

/* Every held write to the kernel: one io_uring_enter per PIO_RING of them. */
static void
send_held(pio_batch *b)
{
	while (b->held != NULL) {
		pio_defer *d, *next, *batch[PIO_RING];
		unsigned n = 0, got = 0;

		/* take up to PIO_RING, in order */
		for (d = b->held; d != NULL && n < PIO_RING; d = next) {
			uv_os_fd_t fd;

			next = d->next;
			if (b->dead || uv_fileno((uv_handle_t *)d->s, &fd) != 0) {
				defer_sent(b, d, -EAGAIN); /* plainly */
				continue;
			}
			struct io_uring_sqe *sqe = io_uring_get_sqe(&b->ring);

			io_uring_prep_send(sqe, fd, d->data, d->len, MSG_DONTWAIT | MSG_NOSIGNAL);
			io_uring_sqe_set_data(sqe, d);
			batch[n++] = d;
		}
		b->held = d;
		if (d == NULL)
			b->held_tail = &b->held;
		if (n == 0)
			continue;
		atomic_fetch_add_explicit(b->batches, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(b->sends, n, memory_order_relaxed);
		for (int tries = 0;; tries++) {
			struct io_uring_cqe *cqe;
			int r = io_uring_submit_and_wait(&b->ring, 1);

			while (got < n && io_uring_peek_cqe(&b->ring, &cqe) == 0) {
				d = io_uring_cqe_get_data(cqe);
				defer_sent(b, d, cqe->res);
				io_uring_cqe_seen(&b->ring, cqe);
				got++;
			}
			if (got == n)
				break;
			if ((r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) || tries > 1000) {
				ring_failed(b, r < 0 ? r : -ETIMEDOUT);
				break;
			}
		}
		/* Sends are done inline, so any of these may have gone out:
		 * never sent twice, their connections fail instead. */
		for (unsigned i = 0; got < n && i < n; i++)
			if (batch[i]->state == PD_HELD)
				defer_sent(b, batch[i], -EIO);
	}
}

/* The owners learn their writes went out (or failed). */
static void
notify_sent(pio_batch *b)
{
	pio_defer *d = b->sent;

	b->sent = NULL;
	b->sent_tail = &b->sent;
	while (d != NULL) {
		pio_defer *next = d->next;

		if (d->slot != NULL) {
			*d->slot = NULL;
			if (d->done != NULL)
				d->done(d->owner, d->status);
		}
		defer_free(b, d);
		d = next;
	}
}

static void on_idle(uv_idle_t *h);

/* Rounds of send and notify (a done callback may write again); past
 * PIO_ROUNDS the rest waits for the next loop turn, which then does not
 * wait for I/O. */
static void
pio_flush(pio_batch *b)
{
	int more;

	for (int round = 0; round < PIO_ROUNDS; round++) {
		if (b->lp->before_send != NULL)
			b->lp->before_send(b->lp);
		if (b->held == NULL && b->sent == NULL)
			break;
		send_held(b);
		notify_sent(b);
	}
	more = b->held != NULL || b->sent != NULL;
	if (more && !b->idling)
		uv_idle_start(&b->idle, on_idle);
	else if (!more && b->idling)
		uv_idle_stop(&b->idle);
	b->idling = more;
}

static void
on_idle(uv_idle_t *h)
{
	pio_flush(h->data);
}

static void
on_prepare(uv_prepare_t *h)
{
	pio_flush(h->data);
}

static void
on_check(uv_check_t *h)
{
	pio_flush(h->data);
}

/* ---- the API --------------------------------------------------------------------- */

int
pio_write(proxy_loop *lp, uv_stream_t *s, pio_defer **slot, const uv_buf_t *bufs,
    unsigned n, pio_done_cb done, void *owner)
{
	pio_batch *b = lp->pio;
	size_t total = 0;
	pio_defer *d = slot != NULL ? *slot : NULL;

	for (unsigned i = 0; i < n; i++)
		total += bufs[i].len;
	if (total == 0)
		return 0;
	if (d != NULL && d->state == PD_HELD) {
		if (d->len + total <= PIO_DEFER_MAX) {
			defer_append(d, bufs, n, total);
			return 0;
		}
		pio_send_now(lp); /* the held bytes first, then these */
	}
	if (b == NULL || b->dead || slot == NULL || *slot != NULL || total > PIO_DEFER_MAX ||
	    uv_stream_get_write_queue_size(s) > 0)
		return write_plain(s, bufs, n, done, owner);
	d = defer_new(b);
	d->slot = slot;
	d->s = s;
	d->done = done;
	d->owner = owner;
	d->state = PD_HELD;
	defer_append(d, bufs, n, total);
	*b->held_tail = d;
	b->held_tail = &d->next;
	*slot = d;
	return 0;
}

int
pio_batching(const proxy_loop *lp)
{
	return lp->pio != NULL && !lp->pio->dead;
}

size_t
pio_queued(const uv_stream_t *s, pio_defer *const *slot)
{
	size_t q = uv_stream_get_write_queue_size(s);

	if (*slot != NULL && (*slot)->state == PD_HELD)
		q += (*slot)->len;
	return q;
}

void
pio_send_now(proxy_loop *lp)
{
	if (lp->pio != NULL)
		send_held(lp->pio);
}

void
pio_closing(proxy_loop *lp, pio_defer **slot)
{
	pio_defer *d = *slot;

	if (d == NULL)
		return;
	/* Held bytes go to the kernel before the close, as they would have
	 * without batching (the head and the start of a body an app sent
	 * before it died reach the client, then the cut).  A held write means
	 * the loop's batch is open (pio_batch_close clears every slot). */
	if (d->state == PD_HELD)
		send_held(lp->pio);
	*slot = NULL;
	d->slot = NULL;  /* no done() */
}

/* ---- one per loop ---------------------------------------------------------------- */

int
pio_batch_open(proxy_loop *lp)
{
	pio_batch *b = xcalloc(1, sizeof(*b));
	int r = io_uring_queue_init(PIO_RING, &b->ring, 0);

	if (r < 0) {
		free(b);
		return r;
	}
	b->held_tail = &b->held;
	b->sent_tail = &b->sent;
	b->lp = lp;
	b->batches = &lp->send_batches;
	b->sends = &lp->batched_sends;
	uv_prepare_init(lp->loop, &b->prepare);
	uv_check_init(lp->loop, &b->check);
	uv_idle_init(lp->loop, &b->idle);
	b->prepare.data = b->check.data = b->idle.data = b;
	uv_prepare_start(&b->prepare, on_prepare);
	uv_check_start(&b->check, on_check);
	/* neither keeps the loop alive */
	uv_unref((uv_handle_t *)&b->prepare);
	uv_unref((uv_handle_t *)&b->check);
	uv_unref((uv_handle_t *)&b->idle);
	b->open_handles = 3;
	lp->pio = b;
	return 0;
}

static void
batch_handle_closed(uv_handle_t *h)
{
	pio_batch *b = h->data;

	if (--b->open_handles > 0)
		return;
	while (b->free_list != NULL) {
		pio_defer *d = b->free_list;

		b->free_list = d->next;
		free(d);
	}
	free(b);
}

/* The loop has no connections left: nothing is held for anyone.  Writes
 * from now on are plain. */
void
pio_batch_close(proxy_loop *lp)
{
	pio_batch *b = lp->pio;

	if (b == NULL)
		return;
	lp->pio = NULL;
	/* Every connection has closed (pio_closing sent its bytes): what is
	 * left is sent, and belongs to nobody any more. */
	send_held(b);
	for (pio_defer *d = b->sent; d != NULL;) {
		pio_defer *next = d->next;

		if (d->slot != NULL)
			*d->slot = NULL;
		defer_free(b, d);
		d = next;
	}
	if (!b->dead)
		io_uring_queue_exit(&b->ring);
	uv_close((uv_handle_t *)&b->prepare, batch_handle_closed);
	uv_close((uv_handle_t *)&b->check, batch_handle_closed);
	uv_close((uv_handle_t *)&b->idle, batch_handle_closed);
}
