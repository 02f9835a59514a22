/* util.h — small helpers every module needs: allocation that aborts on OOM,
 * files and directories, space names, sockets inside a network namespace. */
#ifndef PODIUM_UTIL_H
#define PODIUM_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* 0 or -errno. fs_mkdir_p creates missing parents. fs_rm_rf does not follow symlinks. */
int fs_mkdir_p(const char *path, mode_t mode);
int fs_rm_rf(const char *path);
/* Reads at most max bytes (NUL-terminated, caller frees *out); -EFBIG when larger. */
int fs_read_file(const char *path, char **out, size_t *len, size_t max);
/* openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS): rel below dirfd only,
 * neither ".." nor a symbolic link leaving it (-EXDEV). flags get O_CLOEXEC.
 * Returns the fd or -errno. */
int fs_open_beneath(int dirfd, const char *rel, int flags);
/* dir/name for content someone else controls (a pushed repository): symbolic
 * links only while they stay beneath dir (-EXDEV), regular files only
 * (-EINVAL: a FIFO or device would block the caller), at most max bytes. */
int fs_read_file_beneath(const char *dir, const char *name, char **out, size_t *len, size_t max);
/* Why an fs_read_file* error happened, for a user-facing message. */
const char *fs_read_error(int e);
/* Writes via a temporary file and rename(2). */
int fs_write_file(const char *path, const void *data, size_t len, mode_t mode);
/* A small file of the kernel's (procfs, sysfs, cgroupfs) into buf, read to its end
 * or until buf is full, NUL-terminated: its length, or -errno. */
ssize_t fs_read_text(const char *path, char *buf, size_t len);
/* s written to an existing file (a kernel knob: neither created nor truncated) in
 * one write: 0 or -errno. */
int fs_write_text(const char *path, const char *s);
/* chown -R without following symlinks. */
int fs_chown_r(const char *path, uid_t uid, gid_t gid);

/* Names (INTERFACES.md): 1-64 of [A-Za-z0-9._-], not starting with '.' or '-', no "..". */
int name_valid(const char *s);
/* lower(owner)-lower(name) with '.' and '_' turned into '-'; out must hold 130 bytes. */
void name_subdomain(const char *owner, const char *name, char *out, size_t outlen);

/* A socket created inside the network namespace netns_fd (setns there and back on the
 * calling thread). Returns the fd (non-blocking, close-on-exec) or -errno. */
int netns_socket(int netns_fd, int domain, int type);

/* FNV-1a hash of a string, for small in-memory tables. */
unsigned str_hash(const char *s);

/* Makes s valid UTF-8 in place: each byte of an invalid or cut sequence
 * becomes '?'. Returns how many were replaced. (JSON strings must be UTF-8.) */
size_t utf8_scrub(char *s);

/* Monotonic milliseconds. */
uint64_t now_ms(void);

#endif
