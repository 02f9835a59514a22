#include "common/util.h"

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
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

/* Everything fd holds, at most max bytes (-EFBIG past it); closes fd. */
static int
fd_read_all(int fd, char **out, size_t *len, size_t max)
{
	size_t cap = 4096, n = 0;
	char *buf = xmalloc(cap + 1);
	int e = 0;

	for (;;) {
		if (n == cap) {
			if (cap >= max) {
				e = -EFBIG;
				break;
			}
			cap *= 2;
			buf = xrealloc(buf, cap + 1);
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			e = -errno;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (e == 0 && n > max)
		e = -EFBIG;
	if (e != 0) {
		free(buf);
		return e;
	}
	buf[n] = '\0';
	*out = buf;
	if (len != NULL)
		*len = n;
	return 0;
}

int
fs_read_file(const char *path, char **out, size_t *len, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return fd_read_all(fd, out, len, max);
}

ssize_t
fs_read_text(const char *path, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;
	int fd, e;

	if (len == 0)
		return -EINVAL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	while (got < len - 1 && (n = read(fd, buf + got, len - 1 - got)) != 0) {
		if (n > 0) {
			got += (size_t)n;
		} else if (errno != EINTR) {
			e = errno;
			close(fd);
			return -e;
		}
	}
	close(fd);
	buf[got] = '\0';
	return (ssize_t)got;
}

int
fs_write_text(const char *path, const char *s)
{
	size_t len = strlen(s);
	ssize_t n;
	int fd;

	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		return -errno;
	n = write(fd, s, len);
	if (n < 0)
		n = -errno;
	close(fd);
	return n == (ssize_t)len ? 0 : n < 0 ? (int)n : -EIO;
}

int
fs_open_beneath(int dirfd, const char *rel, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));

	return fd < 0 ? -errno : fd;
}

int
fs_read_file_beneath(const char *dir, const char *name, char **out, size_t *len, size_t max)
{
	struct stat st;
	int dfd, fd;

	dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	fd = fs_open_beneath(dfd, name, O_RDONLY | O_NONBLOCK);
	close(dfd);
	if (fd < 0)
		return fd;
	/* a FIFO or device would block or never end: regular files only */
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	return fd_read_all(fd, out, len, max);
}

const char *
fs_read_error(int e)
{
	switch (e) {
	case -EXDEV:
	case -ELOOP:
		return "it is a symbolic link leading out of the repository";
	case -EINVAL:
		return "it is not a regular file";
	case -EFBIG:
		return "it is too large";
	default:
		return strerror(-e);
	}
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
		goto done;
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
done:
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

size_t
utf8_scrub(char *s)
{
	size_t fixed = 0;
	unsigned char *p = (unsigned char *)s;

	while (*p != '\0') {
		size_t n, i;
		unsigned c = p[0];
		uint32_t cp;

		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 4;
			cp = c & 0x07;
		} else {
			n = 0;
			cp = 0;
		}
		for (i = 1; n > 0 && i < n; i++) {
			if ((p[i] & 0xc0) != 0x80) {
				n = 0;
				break;
			}
			cp = cp << 6 | (p[i] & 0x3f);
		}
		/* overlong forms, surrogates and past U+10FFFF are invalid too */
		if (n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
			n = 0;
		if (n == 4 && (cp < 0x10000 || cp > 0x10ffff))
			n = 0;
		if (n == 0) {
			*p++ = '?';
			fixed++;
			continue;
		}
		p += n;
	}
	return fixed;
}
