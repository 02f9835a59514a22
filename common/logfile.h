/* logfile.h — build and app logs that remember when each line was written.
 *
 * Every line in the file starts with the time its first byte was written and a
 * space, "2026-11-26T05:40:00.123Z " (LOGFILE_STAMP_LEN bytes), then the bytes
 * exactly as the program printed them. A line printed in pieces (no newline yet,
 * or split across reads) is stamped once, when its first piece arrives. Readers
 * serve the stamp as the line's time and strip it from the text
 * (logfile_stamp_valid, logfile_strip).
 *
 * The stamp lives in the line itself rather than in a sidecar index so the file
 * stays self-describing: rotation (rename), truncation or unlinking by other
 * code cannot put an index and its log out of step. A line without a stamp
 * (written by something else, or by an older podium) is served as it is. */
#ifndef PODIUM_LOGFILE_H
#define PODIUM_LOGFILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/log.h"

#define LOGFILE_STAMP_LEN (LOG_TIME_LEN + 1) /* the time and one space */

typedef struct logfile {
	int fd;          /* -1 when closed */
	int midline;     /* the file ends inside a line: its next byte gets no stamp */
	uint64_t size;   /* bytes in the file, stamps included (for rotation) */
} logfile;

/* Opens (appends to, creates with mode) path. 0 or -errno; on failure lf->fd is -1
 * and logfile_write does nothing. */
int logfile_open(logfile *lf, const char *path, mode_t mode);
/* Appends len bytes, a stamp before each line that starts in them. 0 or -errno
 * (what was written before the error stays). */
int logfile_write(logfile *lf, const char *data, size_t len);
/* How many bytes logfile_write(lf, data, len) would add to the file: for a size limit
 * that holds stamps included. */
size_t logfile_write_len(const logfile *lf, const char *data, size_t len);
/* Closes the file; lf can be opened again. */
void logfile_close(logfile *lf);

/* Whether the len bytes at p begin with a stamp (the time and its space). */
int logfile_stamp_valid(const char *p, size_t len);
/* Removes the stamps from the log text in buf, in place; returns the new length.
 * buf must hold whole lines from the start of the file or of a line. */
size_t logfile_strip(char *buf, size_t len);

#endif
