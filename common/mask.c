/* mask.c — secret values replaced by "***" in a stream of output; see mask.h. */
#include "common/mask.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

static int
by_length_desc(const void *a, const void *b)
{
	size_t la = strlen(*(char *const *)a), lb = strlen(*(char *const *)b);

	return la < lb ? 1 : la > lb ? -1 : 0;
}

void
mask_init(mask *m, const char *const *values)
{
	size_t n = 0;

	memset(m, 0, sizeof(*m));
	for (size_t i = 0; values != NULL && values[i] != NULL; i++)
		n += values[i][0] != '\0';
	if (n == 0)
		return;
	m->values = xcalloc(n, sizeof(char *));
	m->lens = xcalloc(n, sizeof(size_t));
	for (size_t i = 0; values[i] != NULL; i++)
		if (values[i][0] != '\0')
			m->values[m->n++] = xstrdup(values[i]);
	/* Longest first: a value that contains another is hidden whole. */
	qsort(m->values, m->n, sizeof(char *), by_length_desc);
	for (size_t i = 0; i < m->n; i++)
		m->lens[i] = strlen(m->values[i]);
}

void
mask_free(mask *m)
{
	for (size_t i = 0; i < m->n; i++) {
		sodium_memzero(m->values[i], m->lens[i]);
		free(m->values[i]);
	}
	if (m->carry != NULL)
		sodium_memzero(m->carry, m->carry_len);
	free(m->carry);
	free(m->values);
	free(m->lens);
	memset(m, 0, sizeof(*m));
}

/* What value starts at buf[i]: 1 a whole one (*len its length), 0 none, -1 the
 * end of buf is the beginning of one (only when !final). */
static int
match_at(const mask *m, const char *buf, size_t n, size_t i, int final, size_t *len)
{
	for (size_t k = 0; k < m->n; k++) {
		size_t l = m->lens[k];

		if (m->values[k][0] != buf[i])
			continue;
		if (n - i >= l) {
			if (memcmp(buf + i, m->values[k], l) == 0) {
				*len = l;
				return 1;
			}
		} else if (!final && memcmp(buf + i, m->values[k], n - i) == 0) {
			/* A longer value may complete with the next read: decide then,
			 * even if a shorter one matches whole now. */
			return -1;
		}
	}
	return 0;
}

/* Writes buf masked; returns where the held tail starts (n: nothing held). */
static size_t
mask_scan(const mask *m, const char *buf, size_t n, int final, mask_out_cb out, void *arg)
{
	size_t start = 0, i = 0, len;
	int r;

	while (i < n) {
		r = match_at(m, buf, n, i, final, &len);
		if (r < 0)
			break;
		if (r == 0) {
			i++;
			continue;
		}
		if (i > start)
			out(arg, buf + start, i - start);
		out(arg, MASK_TEXT, sizeof(MASK_TEXT) - 1);
		i += len;
		start = i;
	}
	if (i > start)
		out(arg, buf + start, i - start);
	return i;
}

static void
carry_set(mask *m, const char *p, size_t len)
{
	char *c = len > 0 ? xmalloc(len) : NULL;

	if (len > 0)
		memcpy(c, p, len);
	if (m->carry != NULL)
		sodium_memzero(m->carry, m->carry_len);
	free(m->carry);
	m->carry = c;
	m->carry_len = len;
}

void
mask_write(mask *m, const char *data, size_t len, mask_out_cb out, void *arg)
{
	const char *buf = data;
	char *joined = NULL;
	size_t n = len, held;

	if (m->n == 0) {
		if (len > 0)
			out(arg, data, len);
		return;
	}
	if (m->carry_len > 0) {
		n = m->carry_len + len;
		joined = xmalloc(n);
		memcpy(joined, m->carry, m->carry_len);
		memcpy(joined + m->carry_len, data, len);
		buf = joined;
	}
	held = mask_scan(m, buf, n, 0, out, arg);
	carry_set(m, buf + held, n - held);
	if (joined != NULL) {
		sodium_memzero(joined, n);
		free(joined);
	}
}

void
mask_flush(mask *m, mask_out_cb out, void *arg)
{
	char *c = m->carry;
	size_t n = m->carry_len;

	if (n == 0)
		return;
	m->carry = NULL;
	m->carry_len = 0;
	mask_scan(m, c, n, 1, out, arg);
	sodium_memzero(c, n);
	free(c);
}
