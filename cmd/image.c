/* image.c — `podium image import|ls|rm`: base images in the data dir's image store
 * (builder/image.h), for hosts that reach no registry: a root filesystem tarball
 * or a docker/OCI archive becomes an image a Dockerfile's FROM finds without a
 * pull. Works on the data dir, also while the daemon runs (containers/storage
 * locks); the engine runs exactly as in builds (podium-sandbox --engine-userns),
 * with no network. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builder/image.h"
#include "cmd/image.h"
#include "cmd/serve.h"
#include "common/child.h"
#include "common/config.h"
#include "common/util.h"

#define IMPORT_TIMEOUT_S 3600

enum archive_kind {
	ARCHIVE_UNKNOWN,
	ARCHIVE_ROOTFS,
	ARCHIVE_DOCKER,
	ARCHIVE_OCI
};

static void
image_usage(FILE *f)
{
	fputs(
	    "usage: podium image import TARBALL NAME [--data DIR]\n"
	    "       podium image ls [--data DIR] [--json]\n"
	    "       podium image rm NAME [--data DIR]\n"
	    "\n"
	    "TARBALL is a root filesystem (e.g. from debootstrap, uncompressed or gzip/xz/zstd)\n"
	    "or a docker save / OCI archive; NAME is how Dockerfiles name it (python:3.11-slim).\n"
	    "The image store is DIR/images (default DIR: ./var).\n",
	    f);
}

static int
fail(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "podium image: ");
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	return 1;
}

/* ---- what a tarball holds ----------------------------------------------------------- */

static unsigned long long
octal(const unsigned char *p, size_t n)
{
	unsigned long long v = 0;

	if (p[0] & 0x80) { /* base-256 (GNU, big sizes) */
		for (size_t i = 1; i < n; i++)
			v = v << 8 | p[i];
		return v;
	}
	for (size_t i = 0; i < n && p[i] != '\0' && p[i] != ' '; i++)
		v = v * 8 + (unsigned)(p[i] - '0');
	return v;
}

static int
header_ok(const unsigned char *h)
{
	unsigned long sum = 0;

	for (int i = 0; i < 512; i++)
		sum += i >= 148 && i < 156 ? ' ' : h[i];
	return sum == octal(h + 148, 8);
}

/* The kind of a top-level entry name, or UNKNOWN for one that says nothing. */
static enum archive_kind
entry_kind(const char *name)
{
	while (strncmp(name, "./", 2) == 0)
		name += 2;
	if (strcmp(name, "manifest.json") == 0)
		return ARCHIVE_DOCKER;
	if (strcmp(name, "oci-layout") == 0)
		return ARCHIVE_OCI;
	if (strncmp(name, "etc/", 4) == 0 || strncmp(name, "usr/", 4) == 0 ||
	    strcmp(name, "etc") == 0 || strcmp(name, "usr") == 0)
		return ARCHIVE_ROOTFS;
	return ARCHIVE_UNKNOWN;
}

/* Walks the tar headers (seeking over the data) until an entry tells. */
static enum archive_kind
archive_kind(int fd)
{
	unsigned char h[512];
	char name[512];
	off_t off = 0;

	if (pread(fd, h, 6, 0) == 6 &&
	    ((h[0] == 0x1f && h[1] == 0x8b) ||
	        memcmp(h,
	            "\xfd"
	            "7zXZ",
	            5) == 0 ||
	        memcmp(h, "\x28\xb5\x2f\xfd", 4) == 0))
		return ARCHIVE_ROOTFS; /* compressed: a root filesystem (archives are plain tars) */
	for (int n = 0; n < 1000000; n++) {
		if (pread(fd, h, 512, off) != 512 || h[0] == '\0' || !header_ok(h))
			return ARCHIVE_UNKNOWN;
		unsigned long long size = octal(h + 124, 12);
		if (h[156] == 'L' && size < sizeof(name) &&
		    pread(fd, name, size, off + 512) == (ssize_t)size) {
			name[size] = '\0';
		} else if (memcmp(h + 257, "ustar", 5) == 0 && h[345] != '\0') {
			snprintf(name, sizeof(name), "%.155s/%.100s", (char *)h + 345, (char *)h);
		} else {
			snprintf(name, sizeof(name), "%.100s", (char *)h);
		}
		if (h[156] != 'L' && h[156] != 'x' && h[156] != 'g' &&
		    entry_kind(name) != ARCHIVE_UNKNOWN)
			return entry_kind(name);
		off += 512 + (off_t)((size + 511) / 512 * 512);
	}
	return ARCHIVE_UNKNOWN;
}

/* ---- running the engine ------------------------------------------------------------------ */

/* The engine runs argv with the input mounted; its output is shown on failure. */
static int
engine_run(const char *const *argv, const char *input)
{
	image_mounts m = { .input = input };
	child_tail tail = { .len = 0 };
	char lines[4096], **args;
	child_spec spec;
	box_spec box;
	int r, memfd;

	image_engine_box(&box, &m, argv);
	box.net = "none";
	box.timeout_s = IMPORT_TIMEOUT_S;
	/* the engine's environment in a sealed memory file, as every box gets it: a
	 * descriptor the launcher inherits (posix_spawn keeps what is not CLOEXEC) */
	if ((memfd = box_env_memfd(&box)) < 0)
		return memfd;
	box.env_fd = fcntl(memfd, F_DUPFD, 3);
	close(memfd);
	if (box.env_fd < 0)
		return -errno;
	if ((r = box_argv(&box, &args)) != 0) {
		close(box.env_fd);
		return r;
	}
	child_spec_init(&spec);
	spec.argv = args;
	spec.out = spec.err = CHILD_CAPTURE;
	r = child_run(&spec, &tail);
	close(box.env_fd);
	box_argv_free(args);
	if (r != 0) {
		child_tail_lines(&tail, 12, lines, sizeof(lines));
		fprintf(stderr, "%s\n", lines);
	}
	return r;
}

/* "buildah --globals... " as shell words (none of them needs quoting). */
static char *
buildah_words(void)
{
	const char *const *g = image_buildah_globals();
	char *s = xstrdup(""), *more;

	for (; *g != NULL; g++) {
		more = xasprintf("%s%s ", s, *g);
		free(s);
		s = more;
	}
	return s;
}

static int
import_run(enum archive_kind kind, const char *input, const char *name)
{
	char *script = NULL, *b = buildah_words();
	int r;

	if (kind == ARCHIVE_ROOTFS) {
		/* a tarball carries no config: the PATH and LANG every Debian image has */
		script = xasprintf(
		    "set -e; c=$(%sfrom scratch); %sadd \"$c\" %s /; "
		    "%sconfig --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "
		    "--env LANG=C.UTF-8 --cmd '[\"/bin/sh\"]' \"$c\"; %scommit --rm \"$c\" '%s'",
		    b, b, IMAGE_ENGINE_INPUT, b, b, name);
		const char *argv[] = { "/bin/sh", "-c", script, NULL };
		r = engine_run(argv, input);
	} else {
		char *src = xasprintf("%s:%s",
		    kind == ARCHIVE_DOCKER ? "docker-archive" : "oci-archive", IMAGE_ENGINE_INPUT);
		char *dst = xasprintf("containers-storage:%s", name);
		const char *argv[] = { "skopeo", "--policy", IMAGE_ENGINE_STORE "/policy.json",
			"copy", "--quiet", src, dst, NULL };
		r = engine_run(argv, input);
		free(src);
		free(dst);
	}
	free(script);
	free(b);
	return r;
}

/* ---- the commands ---------------------------------------------------------------------------- */

/* The store of data_dir, set up as the daemon does it. */
static int
images_open(const char *data_dir)
{
	char real[PATH_MAX], err[512], *path, *sandbox = cmd_exe_sibling("podium-sandbox"),
	                                      *seccomp = cmd_exe_sibling("podium-seccomp.json");
	config *c = NULL;
	int r = -1;

	if (realpath(data_dir, real) == NULL) {
		fail("data dir %s: %s", data_dir, strerror(errno));
		goto done;
	}
	path = xasprintf("%s/config.yaml", real);
	r = config_load(path, &c, err, sizeof(err));
	free(path);
	if (r != 0 || (r = image_settings_load(c, err, sizeof(err))) != 0 ||
	    (r = image_store_init(real, sandbox, seccomp, err, sizeof(err))) != 0)
		fail("%s%s", r == -ENOTSUP ? "cannot build images on this host: " : "", err);
done:
	config_free(c);
	free(sandbox);
	free(seccomp);
	return r;
}

static int
image_import(const char *tarball, const char *name, const char *data_dir)
{
	static const char *const kinds[] = { "?", "root filesystem tarball", "docker archive",
		"OCI archive" };
	char full[512], size[32];
	enum archive_kind kind;
	image_info info;
	struct stat st;
	uint64_t t0 = now_ms();
	int fd;

	if (image_name_normalize(name, full, sizeof(full)) != 0)
		return fail("invalid image name \"%s\"%s", name,
		    " (e.g. python:3.11-slim, "
		    "registry.example.org/team/base:1)");
	if ((fd = open(tarball, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0)
		return fail("%s: %s", tarball, strerror(errno));
	kind = S_ISREG(st.st_mode) ? archive_kind(fd) : ARCHIVE_UNKNOWN;
	close(fd);
	if (kind == ARCHIVE_UNKNOWN)
		return fail(
		    "%s: %s", tarball, "not a root filesystem tarball or a docker/OCI archive");
	if (images_open(data_dir) != 0)
		return 1;
	fprintf(stderr, "podium image: importing %s (%s) as %s\n", tarball, kinds[kind], name);
	if (import_run(kind, tarball, full) != 0)
		return fail(
		    "import of %s as %s failed (the engine's last lines are above)", tarball, name);
	if (image_find(full, &info, size, sizeof(size)) != 0)
		return fail("%s: %s", full, "imported, but not in the store");
	snprintf(size, sizeof(size), "%.1f MB", (double)info.size / 1e6);
	printf("imported %s as %s (id %.12s, %s) in %.1f s\n", name, full, info.id, size,
	    (double)(now_ms() - t0) / 1000.0);
	image_info_release(&info);
	return 0;
}

/* The spaces whose releases an image is (localhost/podium/SUBDOMAIN:rID). */
static json_t *
image_spaces(const json_t *names)
{
	json_t *out = json_array(), *n;
	size_t i;

	json_array_foreach(names, i, n) {
		const char *s = json_string_value(n), *colon;

		if (s != NULL && strncmp(s, "localhost/podium/", 17) == 0 &&
		    (colon = strchr(s + 17, ':')) != NULL)
			json_array_append_new(out, json_stringn(s + 17, (size_t)(colon - s - 17)));
	}
	return out;
}

static int
image_ls(const char *data_dir, int as_json)
{
	json_t *list, *img;
	size_t i;

	if (images_open(data_dir) != 0)
		return 1;
	if ((list = image_list()) == NULL)
		return fail("cannot read the image store in %s%s", image_store_dir(), "");
	json_array_foreach(list, i, img) {
		json_object_set_new(img, "spaces", image_spaces(json_object_get(img, "names")));
		json_object_del(img, "layers");
	}
	if (as_json) {
		char *s = json_dumps(list, JSON_INDENT(1));
		printf("%s\n", s);
		free(s);
	} else {
		printf("%-50s %-12s %10s  %s\n", "NAME", "ID", "SIZE", "CREATED");
		json_array_foreach(list, i, img) {
			const json_t *names = json_object_get(img, "names");
			printf("%-50s %-12.12s %8.1fMB  %.19s\n",
			    json_array_size(names) > 0 ? json_string_value(json_array_get(names, 0))
			                               : "<none>",
			    json_string_value(json_object_get(img, "id")),
			    (double)json_integer_value(json_object_get(img, "size")) / 1e6,
			    json_string_value(json_object_get(img, "created")));
		}
	}
	json_decref(list);
	return 0;
}

/* A release image built on info's layers, or NULL. */
static const char *
image_user(const image_info *info, const json_t *list)
{
	const char *top = json_string_value(json_array_get(info->layers, 0));
	const json_t *img, *l;
	size_t i, k;

	json_array_foreach(list, i, img) {
		const char *n = json_string_value(json_array_get(json_object_get(img, "names"), 0));

		if (top == NULL || n == NULL || strncmp(n, "localhost/podium", 16) != 0 ||
		    strcmp(json_string_value(json_object_get(img, "id")), info->id) == 0)
			continue;
		json_array_foreach(json_object_get(img, "layers"), k, l)
			if (strcmp(json_string_value(l), top) == 0)
				return n;
	}
	return NULL;
}

/* The name of info among its several names that `name` (as given or normalized)
 * is, or NULL: removing it only untags, the image and its layers stay. */
static const char *
image_alias(const image_info *info, const char *name, const char *full)
{
	const json_t *n;
	size_t i;

	if (json_array_size(info->names) < 2)
		return NULL;
	json_array_foreach(info->names, i, n)
		if (strcmp(json_string_value(n), name) == 0 ||
		    strcmp(json_string_value(n), full) == 0)
			return json_string_value(n);
	return NULL;
}

static int
image_rm(const char *name, const char *data_dir)
{
	char full[512] = "", err[256];
	const char *user, *alias;
	image_info info;
	json_t *list;
	int r;

	if (images_open(data_dir) != 0)
		return 1;
	if (image_name_normalize(name, full, sizeof(full)) != 0)
		full[0] = '\0';
	if (image_find(name, &info, err, sizeof(err)) != 0 &&
	    (full[0] == '\0' || image_find(full, &info, err, sizeof(err)) != 0))
		return fail("%s%s", err, "");
	list = image_list();
	alias = image_alias(&info, name, full);
	user = alias == NULL ? image_user(&info, list) : NULL;
	if (user != NULL) {
		r = fail("%s is used by the release image %s: delete the space or let the release "
		         "go first",
		    name, user);
	} else {
		const char *argv[16];
		size_t n = 0;

		for (const char *const *g = image_buildah_globals(); *g != NULL; g++)
			argv[n++] = *g;
		argv[n++] = "rmi";
		argv[n++] = alias != NULL ? alias : info.id; /* a name of several: untag */
		argv[n] = NULL;
		r = engine_run(argv, NULL) == 0 ? 0 : fail("could not remove %s%s", name, "");
		if (r == 0)
			printf("%s %s (%.12s)\n", alias != NULL ? "untagged" : "removed", name,
			    info.id);
	}
	json_decref(list);
	image_info_release(&info);
	return r;
}

int
image_main(int argc, char **argv)
{
	const char *data_dir = "./var", *pos[2] = { NULL, NULL };
	int npos = 0, as_json = 0;

	if (argc < 3 || strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0) {
		image_usage(argc < 3 ? stderr : stdout);
		return argc < 3 ? 2 : 0;
	}
	for (int i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
			data_dir = argv[++i];
		else if (strcmp(argv[i], "--json") == 0)
			as_json = 1;
		else if (argv[i][0] != '-' && npos < 2)
			pos[npos++] = argv[i];
		else
			return image_usage(stderr), 2;
	}
	if (strcmp(argv[2], "import") == 0 && npos == 2)
		return image_import(pos[0], pos[1], data_dir);
	if (strcmp(argv[2], "ls") == 0 && npos == 0)
		return image_ls(data_dir, as_json);
	if (strcmp(argv[2], "rm") == 0 && npos == 1)
		return image_rm(pos[0], data_dir);
	image_usage(stderr);
	return 2;
}
