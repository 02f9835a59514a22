#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void
oom(void)
{
	fputs("podium: out of memory\n", stderr);
	abort();
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		oom();
	return p;
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		oom();
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (p == NULL)
		oom();
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		oom();
	return s;
}

int
fs_mkdir_p(const char *path, mode_t mode)
{
	char buf[4096];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Calls fn(dirfd, name) for each entry of the directory at/name (not following a
 * symlink there); returns the first error of fn, or -errno. */
static int
dir_each(int at, const char *name, int (*fn)(int dirfd, const char *name, void *arg), void *arg)
{
	int fd, r = 0;
	DIR *d;
	struct dirent *e;

	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return -errno;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		int rr = fn(dirfd(d), e->d_name, arg);
		if (rr < 0 && r == 0)
			r = rr;
	}
	closedir(d);
	return r;
}

static int
rm_rf_at(int at, const char *name, void *arg)
{
	struct stat st;
	int r;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(at, name, 0) == 0 ? 0 : -errno;
	r = dir_each(at, name, rm_rf_at, arg);
	if (unlinkat(at, name, AT_REMOVEDIR) != 0 && r == 0)
		r = -errno;
	return r;
}

int
fs_rm_rf(const char *path)
{
	return rm_rf_at(AT_FDCWD, path, NULL);
}

struct owner {
	uid_t uid;
	gid_t gid;
};

static int
chown_r_at(int at, const char *name, void *arg)
{
	const struct owner *o = arg;
	struct stat st;

	if (fchownat(at, name, o->uid, o->gid, AT_SYMLINK_NOFOLLOW) != 0)
		return -errno;
	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? dir_each(at, name, chown_r_at, arg) : 0;
}

int
fs_chown_r(const char *path, uid_t uid, gid_t gid)
{
	struct owner o = { uid, gid };

	return chown_r_at(AT_FDCWD, path, &o);
}

int
fs_read_file(const char *path, char **out, size_t *len, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 4096, n = 0;
	char *buf;

	if (fd < 0)
		return -errno;
	buf = xmalloc(cap + 1);
	for (;;) {
		if (n == cap) {
			if (cap >= max) {
				free(buf);
				close(fd);
				return -EFBIG;
			}
			cap *= 2;
			buf = xrealloc(buf, cap + 1);
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = -errno;
			free(buf);
			close(fd);
			return e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (n > max) {
		free(buf);
		return -EFBIG;
	}
	buf[n] = '\0';
	*out = buf;
	if (len != NULL)
		*len = n;
	return 0;
}

int
fs_write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
	const char *p = data;
	int fd, r = 0;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		r = -errno;
		goto cleanup;
	}
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		p += w;
		len -= (size_t)w;
	}
	if (r == 0 && fchmod(fd, mode) != 0)
		r = -errno;
	if (close(fd) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) != 0)
		r = -errno;
	if (r != 0)
		unlink(tmp);
cleanup:
	free(tmp);
	return r;
}

int
name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 64 || s[0] == '.' || s[0] == '-' || strstr(s, "..") != NULL)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!isalnum(c) && c != '.' && c != '_' && c != '-')
			return 0;
	}
	return 1;
}

static size_t
subdomain_part(const char *s, char *out, size_t room)
{
	size_t n = 0;

	for (; *s != '\0' && n + 1 < room; s++, n++) {
		char c = (char)tolower((unsigned char)*s);
		out[n] = (c == '.' || c == '_') ? '-' : c;
	}
	out[n] = '\0';
	return n;
}

void
name_subdomain(const char *owner, const char *name, char *out, size_t outlen)
{
	size_t n;

	if (outlen == 0)
		return;
	n = subdomain_part(owner, out, outlen);
	if (n + 2 < outlen) {
		out[n++] = '-';
		subdomain_part(name, out + n, outlen - n);
	}
}

int
netns_socket(int netns_fd, int domain, int type)
{
	int self, fd, err;

	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	if (setns(netns_fd, CLONE_NEWNET) != 0) {
		err = -errno;
		close(self);
		return err;
	}
	fd = socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	err = fd < 0 ? -errno : 0;
	/* Returning to our own namespace must not fail; if it does the thread is unusable. */
	if (setns(self, CLONE_NEWNET) != 0)
		abort();
	close(self);
	return fd < 0 ? err : fd;
}

unsigned
str_hash(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
