/* head.c — collecting an HTTP message head from llhttp's spans (requests from
 * clients, responses from apps) into one arena per message, with limits. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/proxy_int.h"
#include "common/util.h"

/* Released arenas kept for the next message on this thread: a keep-alive
 * request then costs no allocation for its head.  Bounded; emptied by
 * msg_head_cache_drain() when a loop ends. */
#define HEAD_CACHE 16
struct arena {
	char *buf;
	size_t cap;
	void *fields;
	size_t fields_cap;
	http_header *hdrs;
	size_t hdrs_cap;
};
static __thread struct arena cache[HEAD_CACHE];
static __thread unsigned ncache;

int
msg_head_init(msg_head *h, size_t limit, size_t maxfields)
{
	memset(h, 0, sizeof(*h));
	h->limit = limit;
	h->maxfields = maxfields;
	return 0;
}

/* A kept arena for a head's first bytes (not at init: an idle keep-alive
 * connection holds no arena). */
static void
arena_take(msg_head *h)
{
	struct arena *a;

	if (h->buf != NULL || h->fields != NULL || h->hdrs != NULL || ncache == 0)
		return;
	a = &cache[--ncache];
	h->buf = a->buf;
	h->cap = a->cap;
	h->fields = a->fields;
	h->fields_cap = a->fields_cap;
	h->hdrs = a->hdrs;
	h->hdrs_cap = a->hdrs_cap;
}

void
msg_head_release(msg_head *h)
{
	if (h->buf != NULL || h->fields != NULL || h->hdrs != NULL) {
		if (ncache < HEAD_CACHE) {
			cache[ncache++] = (struct arena){ h->buf, h->cap, h->fields, h->fields_cap,
				h->hdrs, h->hdrs_cap };
		} else {
			free(h->buf);
			free(h->fields);
			free(h->hdrs);
		}
	}
	memset(h, 0, sizeof(*h));
}

void
msg_head_cache_drain(void)
{
	while (ncache > 0) {
		struct arena *a = &cache[--ncache];

		free(a->buf);
		free(a->fields);
		free(a->hdrs);
	}
}

int
msg_head_append(msg_head *h, const char *p, size_t n)
{
	if (h->len + n + 1 > h->limit)
		return -E2BIG;
	arena_take(h);
	if (h->len + n + 1 > h->cap) {
		size_t cap = h->cap != 0 ? h->cap : 512;

		while (cap < h->len + n + 1)
			cap *= 2;
		h->buf = xrealloc(h->buf, cap);
		h->cap = cap;
	}
	memcpy(h->buf + h->len, p, n);
	h->len += n;
	return 0;
}

int
msg_head_nul(msg_head *h)
{
	/* limit + 1 was reserved by append, but the arena may be empty */
	arena_take(h);
	if (h->len + 1 > h->cap) {
		h->cap = h->len + 64;
		h->buf = xrealloc(h->buf, h->cap);
	}
	h->buf[h->len++] = '\0';
	return 0;
}

int
msg_head_finish(msg_head *h)
{
	arena_take(h);
	if (h->hdrs_cap < h->nfields + 1) {
		h->hdrs_cap = h->nfields + 1;
		h->hdrs = xrealloc(h->hdrs, h->hdrs_cap * sizeof(*h->hdrs));
	}
	h->hdrs[h->nfields] = (http_header){ NULL, NULL };
	for (size_t i = 0; i < h->nfields; i++) {
		h->hdrs[i].name = h->buf + h->fields[i].name;
		h->hdrs[i].value = h->buf + h->fields[i].value;
	}
	h->nhdrs = h->nfields;
	return 0;
}

static int
head_on_field(msg_head *h, const char *p, size_t n)
{
	if (h->in_value || h->nfields == 0) {
		if (h->nfields > 0 && msg_head_nul(h) != 0)
			return -E2BIG;
		if (h->nfields >= h->maxfields)
			return -E2BIG;
		arena_take(h);
		if (h->fields_cap < h->maxfields) {
			h->fields = xrealloc(h->fields, h->maxfields * sizeof(*h->fields));
			h->fields_cap = h->maxfields;
		}
		h->fields[h->nfields].name = (uint32_t)h->len;
		h->fields[h->nfields].value = 0;
		h->nfields++;
		h->in_value = 0;
		h->value_done = 0;
	}
	return msg_head_append(h, p, n);
}

static int
head_on_value(msg_head *h, const char *p, size_t n)
{
	if (h->nfields == 0)
		return -EINVAL;
	if (!h->in_value) {
		msg_head_nul(h);
		h->fields[h->nfields - 1].value = (uint32_t)h->len;
		h->in_value = 1;
	}
	return msg_head_append(h, p, n);
}

static int
head_trailer_span(msg_head *h, size_t n)
{
	h->trailer_bytes += n;
	return h->trailer_bytes > h->limit ? -E2BIG : 0;
}

int
head_span_field(msg_head *h, const char *p, size_t n)
{
	if (h->complete) {
		h->in_value = 0;
		return head_trailer_span(h, n);
	}
	return head_on_field(h, p, n);
}

int
head_span_value(msg_head *h, const char *p, size_t n)
{
	/* A value span after its value completed without a new field is a
	 * continuation line (obs-fold), which llhttp 8.1 lets through. */
	if (h->value_done || memchr(p, '\n', n) != NULL || memchr(p, '\r', n) != NULL)
		return -EPROTO;
	if (h->complete) {
		h->in_value = 1;
		return head_trailer_span(h, n);
	}
	return head_on_value(h, p, n);
}

int
head_value_complete(msg_head *h)
{
	if (h->complete) {
		h->value_done = 1;
		return 0;
	}
	if (h->nfields > 0 && !h->in_value) {
		/* empty value: no span was delivered */
		msg_head_nul(h);
		h->fields[h->nfields - 1].value = (uint32_t)h->len;
		h->in_value = 1;
	}
	h->value_done = 1;
	return 0;
}

int
head_complete(msg_head *h)
{
	if (h->nfields > 0 && !h->in_value) {
		msg_head_nul(h);
		h->fields[h->nfields - 1].value = (uint32_t)h->len;
	}
	msg_head_nul(h);
	h->complete = 1;
	return msg_head_finish(h);
}

