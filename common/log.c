#include "common/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level min_level = LOG_INFO;
static const char *level_names[] = { "DEBUG", "INFO", "WARN", "ERROR" };

void
log_set_level(enum log_level level)
{
	min_level = level;
}

void
log_time(char out[LOG_TIME_LEN])
{
	/* The date part changes once a second: formatted once per second and
	 * thread (the proxy's access lines are written many times a second). */
	static __thread time_t date_sec = -1;
	static __thread char date[32];
	static __thread size_t date_len;
	struct timespec ts;
	size_t n;
	long ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != date_sec) {
		struct tm tm;

		gmtime_r(&ts.tv_sec, &tm);
		date_len = strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
		date_sec = ts.tv_sec;
	}
	memcpy(out, date, date_len);
	n = date_len;
	ms = ts.tv_nsec / 1000000;
	out[n++] = '.';
	out[n++] = (char)('0' + ms / 100);
	out[n++] = (char)('0' + ms / 10 % 10);
	out[n++] = (char)('0' + ms % 10);
	out[n++] = 'Z';
}

/* "2026-11-26T05:40:00.123Z LEVEL " at the start of line (LOG_LINE_MAX
 * bytes); its length. */
static size_t
log_prefix(char *line, enum log_level level)
{
	const char *name = level_names[level];
	size_t n = LOG_TIME_LEN, nl = strlen(name);

	log_time(line);
	line[n++] = ' ';
	memcpy(line + n, name, nl);
	n += nl;
	line[n++] = ' ';
	return n;
}

/* "2026-11-26T05:40:00.123Z LEVEL message\n" into line (cap bytes); the length,
 * the newline included.  A message too long for the line is cut. */
static size_t
log_format(char *line, size_t cap, enum log_level level, const char *fmt, va_list ap)
{
	size_t n = log_prefix(line, level);
	int r = vsnprintf(line + n, cap - n, fmt, ap);

	if (r > 0)
		n += (size_t)r < cap - n ? (size_t)r : cap - n - 1;
	line[n++] = '\n';
	return n;
}

static void
write_all(const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDERR_FILENO, buf, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		buf += w;
		n -= (size_t)w;
	}
}

/* One line, one write(2): lines from several proxy loops never interleave and no
 * lock is held while writing (stderr is unbuffered; a locked stdio stream would make
 * every loop wait for the others' writes). */
static void
log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];

	if (level < min_level)
		return;
	write_all(line, log_format(line, sizeof(line), level, fmt, ap));
}

/* A whole line into the batch, written first if it would not fit. */
static void
batch_append(struct log_batch *b, const char *line, size_t n)
{
	if (b->len + n > sizeof(b->buf))
		log_batch_flush(b);
	memcpy(b->buf + b->len, line, n);
	b->len += n;
}

void
log_batch_add(struct log_batch *b, enum log_level level, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	va_list ap;
	size_t n;

	if (level < min_level)
		return;
	va_start(ap, fmt);
	n = log_format(line, sizeof(line), level, fmt, ap);
	va_end(ap);
	batch_append(b, line, n);
}

void
log_batch_add_text(struct log_batch *b, enum log_level level, const char *text, size_t len)
{
	char line[LOG_LINE_MAX];
	size_t n;

	if (level < min_level)
		return;
	n = log_prefix(line, level);
	if (len > sizeof(line) - n - 1)
		len = sizeof(line) - n - 1; /* cut, as log_format cuts */
	memcpy(line + n, text, len);
	n += len;
	line[n++] = '\n';
	batch_append(b, line, n);
}

void
log_batch_flush(struct log_batch *b)
{
	if (b->len > 0)
		write_all(b->buf, b->len);
	b->len = 0;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

int
error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_ERROR, fmt, ap);
	va_end(ap);
	return -1;
}
