/* logfile.c — the writing and stripping of stamped log lines (logfile.h). */
#include "common/logfile.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WRITE_BUF 16384

int
logfile_open(logfile *lf, const char *path, mode_t mode)
{
	struct stat st;
	char last;

	lf->midline = 0;
	lf->size = 0;
	/* Read access only to see whether the file ends inside a line. */
	lf->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, mode);
	if (lf->fd < 0)
		return -errno;
	if (fstat(lf->fd, &st) == 0 && st.st_size > 0) {
		lf->size = (uint64_t)st.st_size;
		/* A line the last writer left open continues without a second stamp
		 * (a stamp in mid-line would not be stripped). */
		lf->midline = pread(lf->fd, &last, 1, st.st_size - 1) == 1 && last != '\n';
	}
	return 0;
}

void
logfile_close(logfile *lf)
{
	if (lf->fd >= 0)
		close(lf->fd);
	lf->fd = -1;
}

static int
write_all(logfile *lf, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(lf->fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		if (w == 0)
			return -EIO;
		lf->size += (uint64_t)w;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Lines and stamps go through one buffer, so a read of many short lines costs
 * one write(2) rather than two per line. */
int
logfile_write(logfile *lf, const char *data, size_t len)
{
	char buf[WRITE_BUF], stamp[LOG_TIME_LEN];
	size_t n = 0;
	int stamped = 0, r;

	if (lf->fd < 0)
		return 0;
	while (len > 0) {
		const char *nl;
		size_t seg;

		if (n + LOGFILE_STAMP_LEN + 1 > sizeof(buf)) {
			if ((r = write_all(lf, buf, n)) != 0)
				return r;
			n = 0;
		}
		if (!lf->midline) {
			if (!stamped) /* these bytes arrived together: one time for all */
				log_time(stamp);
			stamped = 1;
			memcpy(buf + n, stamp, LOG_TIME_LEN);
			n += LOG_TIME_LEN;
			buf[n++] = ' ';
			lf->midline = 1;
		}
		nl = memchr(data, '\n', len);
		seg = nl != NULL ? (size_t)(nl - data) + 1 : len;
		if (seg > sizeof(buf) - n)
			seg = sizeof(buf) - n;
		memcpy(buf + n, data, seg);
		n += seg;
		if (data[seg - 1] == '\n')
			lf->midline = 0;
		data += seg;
		len -= seg;
	}
	return write_all(lf, buf, n);
}

size_t
logfile_write_len(const logfile *lf, const char *data, size_t len)
{
	size_t n = len, i;
	int midline = lf->midline;

	for (i = 0; i < len; i++) {
		if (!midline)
			n += LOGFILE_STAMP_LEN;
		midline = data[i] != '\n';
	}
	return n;
}

int
logfile_stamp_valid(const char *p, size_t len)
{
	/* "2026-11-26T05:40:00.123Z ": 'd' is a digit, anything else itself. */
	static const char form[] = "dddd-dd-ddTdd:dd:dd.dddZ ";
	size_t i;

	if (len < LOGFILE_STAMP_LEN)
		return 0;
	for (i = 0; i < LOGFILE_STAMP_LEN; i++) {
		if (form[i] == 'd' ? p[i] < '0' || p[i] > '9' : p[i] != form[i])
			return 0;
	}
	return 1;
}

size_t
logfile_strip(char *buf, size_t len)
{
	size_t in = 0, out = 0;

	while (in < len) {
		const char *nl;
		size_t seg;

		if (logfile_stamp_valid(buf + in, len - in))
			in += LOGFILE_STAMP_LEN;
		nl = memchr(buf + in, '\n', len - in);
		seg = nl != NULL ? (size_t)(nl - (buf + in)) + 1 : len - in;
		memmove(buf + out, buf + in, seg);
		in += seg;
		out += seg;
	}
	return out;
}
