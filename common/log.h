/* log.h — one line per event on stderr: "2026-11-26T05:40:00Z LEVEL module: message".
 * error() logs and returns -1 so "return error(...)" reads naturally. */
#ifndef PODIUM_LOG_H
#define PODIUM_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)

int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The current time (UTC) as "2026-11-26T05:40:00.123Z": LOG_TIME_LEN bytes, no NUL.
 * Years 1000-9999 only, which is what the fixed length assumes. */
#define LOG_TIME_LEN 24
void log_time(char out[LOG_TIME_LEN]);

/* Longest line, newline included; longer messages are cut. */
#define LOG_LINE_MAX 4096

/* Lines gathered by one thread and written with one write(2) (whole lines,
 * at most PIPE_BUF bytes: atomic on a pipe too), for per-request lines on a
 * hot path: the proxy's access log flushes once per loop iteration. */
struct log_batch {
	size_t len;
	char buf[LOG_LINE_MAX];
};

void log_batch_add(struct log_batch *b, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same for a message already formatted (text, len bytes, no newline). */
void log_batch_add_text(struct log_batch *b, enum log_level level, const char *text, size_t len);
void log_batch_flush(struct log_batch *b);

#endif
