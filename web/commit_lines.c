/* commit_lines.c — the commit API's NDJSON read as it arrives, without holding a
 * file's content in memory.
 *
 * Each byte of a line is looked at once: outside JSON strings it goes into the
 * line's text (its skeleton); a string goes there too until it is longer than
 * LINE_SPOOL_MIN, then its bytes so far and all the rest of it go to a spool file
 * (O_TMPFILE, or an unlinked temporary file, in the spool directory), and the
 * skeleton gets a placeholder string naming the spool instead. The skeleton is
 * what jansson parses; the one who reads the line (web/commit.c) finds a file's
 * content by its placeholder and decodes it from the spool straight into the
 * object database. Tracking where strings start and end is all that is done by
 * hand here: a quote that is not escaped, and the backslash before an escape. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "web/web_int.h"

struct line_reader {
	char *dir;           /* where spools are made */
	size_t skeleton_max; /* the text without long strings */
	uint64_t line_max;   /* the whole line, long strings included */
	char nonce[33];      /* in every placeholder: no client string can be one */
	char *text;
	size_t len, cap;
	uint64_t line_len; /* bytes of the line so far, spooled ones included */
	int complete;      /* a whole line is here (line_reader_next forgets it) */
	int in_string, escape;
	size_t string_start; /* offset in text just after the opening quote */
	line_spool *spool;   /* the string being spooled, or NULL */
	line_spool spools[LINE_SPOOLS_MAX];
	size_t nspools;
	int status; /* the error: 413 or 500 (0: none) */
	char err[256];
};

line_reader *
line_reader_new(const char *spool_dir, size_t skeleton_max, uint64_t line_max)
{
	line_reader *r = xcalloc(1, sizeof(*r));
	unsigned char rnd[16];

	r->dir = xstrdup(spool_dir);
	r->skeleton_max = skeleton_max;
	r->line_max = line_max;
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(r->nonce, sizeof(r->nonce), rnd, sizeof(rnd));
	return r;
}

void
line_reader_next(line_reader *r)
{
	for (size_t i = 0; i < r->nspools; i++)
		close(r->spools[i].fd);
	r->nspools = 0;
	r->spool = NULL;
	r->len = 0;
	r->line_len = 0;
	r->complete = r->in_string = r->escape = 0;
}

void
line_reader_free(line_reader *r)
{
	if (r == NULL)
		return;
	line_reader_next(r);
	free(r->text);
	free(r->dir);
	free(r);
}

static int
fail(line_reader *r, int status, const char *msg)
{
	if (r->status == 0) {
		r->status = status;
		snprintf(r->err, sizeof(r->err), "%s", msg);
	}
	return -1;
}

static int
text_add(line_reader *r, const char *data, size_t n)
{
	if (r->len + n > r->skeleton_max)
		return fail(r, 413,
		    "a line holds more than its file's content may: too many or too "
		    "long fields");
	if (r->len + n + 1 > r->cap) {
		size_t cap = r->cap * 2 > r->len + n + 1 ? r->cap * 2 : r->len + n + 1;

		r->text = xrealloc(r->text, cap < 4096 ? 4096 : cap);
		r->cap = cap < 4096 ? 4096 : cap;
	}
	memcpy(r->text + r->len, data, n);
	r->len += n;
	r->text[r->len] = '\0';
	return 0;
}

/* A file nobody can open by name: gone when closed, also after a crash. */
static int
spool_open(const char *dir)
{
	char *tmpl;
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
		return fd;
	tmpl = xasprintf("%s/podium-spool-XXXXXX", dir);
	fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd >= 0)
		unlink(tmpl);
	free(tmpl);
	return fd;
}

static int
spool_write(line_reader *r, const char *data, size_t n)
{
	while (n > 0) {
		ssize_t w = write(r->spool->fd, data, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return fail(r, w < 0 && errno == ENOSPC ? 507 : 500,
			    w < 0 && errno == ENOSPC ? "the server's disk is full"
			                             : "a file's content could not be stored");
		r->spool->len += (uint64_t)w;
		data += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The string being read is too long for the text: from now on it is spooled, and
 * the text holds a placeholder where it starts. */
static int
spool_begin(line_reader *r)
{
	line_spool *sp;
	char ph[64];
	int fd;

	if (r->nspools == LINE_SPOOLS_MAX)
		return fail(r, 413, "a line has too many long strings");
	if ((fd = spool_open(r->dir)) < 0)
		return fail(r, 500, "no room for a file's content: a spool file cannot be made");
	sp = r->spool = &r->spools[r->nspools++];
	memset(sp, 0, sizeof(*sp));
	sp->fd = fd;
	if (spool_write(r, r->text + r->string_start, r->len - r->string_start) != 0)
		return -1;
	for (size_t i = r->string_start; i < r->len; i++)
		sp->escaped |= r->text[i] == '\\';
	r->len = r->string_start;
	snprintf(ph, sizeof(ph), "%s:%zu", r->nonce, r->nspools - 1);
	return text_add(r, ph, strlen(ph));
}

/* A piece of the string being read: into the spool once there is one, else the
 * text, which then spools it when it has grown past LINE_SPOOL_MIN. */
static int
string_put(line_reader *r, const char *data, size_t n)
{
	if (r->spool != NULL)
		return spool_write(r, data, n);
	if (text_add(r, data, n) != 0)
		return -1;
	return r->len - r->string_start > LINE_SPOOL_MIN ? spool_begin(r) : 0;
}

/* Inside a string: takes bytes up to and including its closing quote. Returns
 * how many were taken, or -1. */
static long
string_bytes(line_reader *r, const char *data, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t end = len, upto;
		const char *q, *b;
		int closing = 0;

		/* not spooled yet: no more than it takes to decide that it must be */
		if (r->spool == NULL && end - i > LINE_SPOOL_MIN + 1 - (r->len - r->string_start))
			end = i + LINE_SPOOL_MIN + 1 - (r->len - r->string_start);
		if (r->escape) {
			/* the byte after a backslash is never the end of the string */
			upto = i + 1;
			r->escape = 0;
		} else {
			q = memchr(data + i, '"', end - i);
			b = memchr(data + i, '\\', (q != NULL ? (size_t)(q - data) : end) - i);
			if (b != NULL) {
				upto = (size_t)(b - data) + 1;
				r->escape = 1;
				if (r->spool != NULL)
					r->spool->escaped = 1;
			} else {
				upto = q != NULL ? (size_t)(q - data) : end;
				closing = q != NULL;
			}
		}
		if (string_put(r, data + i, upto - i) != 0)
			return -1;
		i = upto;
		if (closing) {
			if (text_add(r, "\"", 1) != 0)
				return -1;
			r->in_string = 0;
			r->spool = NULL;
			return (long)(i + 1);
		}
	}
	return (long)i;
}

int
line_reader_feed(line_reader *r, const char *data, size_t len, size_t *used)
{
	size_t i = 0;

	*used = 0;
	if (r->status != 0)
		return -1;
	while (i < len) {
		long n;

		if (r->in_string) {
			if ((n = string_bytes(r, data + i, len - i)) < 0)
				return -1;
		} else {
			const char *nl = memchr(data + i, '\n', len - i);
			const char *q =
			    memchr(data + i, '"', (nl != NULL ? (size_t)(nl - data) : len) - i);
			size_t upto = q != NULL ? (size_t)(q - data)
			    : nl != NULL        ? (size_t)(nl - data)
			                        : len;

			if (text_add(r, data + i, upto - i) != 0)
				return -1;
			n = (long)(upto - i);
			if (q != NULL) {
				if (text_add(r, "\"", 1) != 0)
					return -1;
				r->in_string = 1;
				r->string_start = r->len;
				n++;
			} else if (nl != NULL) {
				r->line_len += (uint64_t)n + 1;
				*used = i + (size_t)n + 1;
				r->complete = 1;
				return 1;
			}
		}
		r->line_len += (uint64_t)n;
		if (r->line_len > r->line_max)
			return fail(
			    r, 413, "a line is longer than a file of the largest size, encoded");
		i += (size_t)n;
	}
	*used = len;
	return 0;
}

int
line_reader_end(line_reader *r)
{
	if (r->status != 0 || (r->len == 0 && r->nspools == 0))
		return 0;
	/* a string left open: jansson says so when it reads the text */
	r->complete = 1;
	return 1;
}

const char *
line_reader_text(const line_reader *r, size_t *len)
{
	*len = r->len;
	return r->text != NULL ? r->text : "";
}

size_t
line_reader_spools(const line_reader *r)
{
	return r->nspools;
}

const line_spool *
line_reader_spool(const line_reader *r, const char *s)
{
	size_t n = strlen(r->nonce);
	char *end;
	unsigned long i;

	if (s == NULL || strncmp(s, r->nonce, n) != 0 || s[n] != ':')
		return NULL;
	i = strtoul(s + n + 1, &end, 10);
	return *end == '\0' && end != s + n + 1 && i < r->nspools ? &r->spools[i] : NULL;
}

int
line_reader_error(const line_reader *r, const char **msg)
{
	*msg = r->err;
	return r->status;
}
