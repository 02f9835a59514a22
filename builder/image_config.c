/* image_config.c — where images and packages come from (DATA/config.yaml's
 * images, python, node and apt sections, checked at start like every section),
 * and the store's configuration files in DATA/images, written at each start from
 * them (see image.h):
 *
 *   storage.conf          containers/storage: overlay, the store at IMAGE_ENGINE_STORE
 *   registries.conf       docker.io for short names, images.registry_mirrors as its mirrors
 *   registries.conf.d/    empty: bound over the host's, whose aliases would send
 *                         short names elsewhere
 *   short-name-aliases.conf, policy.json (accept anything: as Debian's default)
 *   pip.conf              python.index_url, mounted at /etc/pip.conf in RUN steps
 *   tmp/                  the engine's TMPDIR (image blobs: on disk, not in memory) */
#include "builder/builder_int.h"
#include "builder/image.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

#define MAX_MIRRORS 16

static struct {
	char *mirrors[MAX_MIRRORS];
	size_t nmirrors;
	char *python_base, *index_url, *node_registry, *apt_mirror;
} settings;

image_store_state image_store;

const char *
image_python_index_url(void)
{
	return settings.index_url;
}

const char *
image_node_registry(void)
{
	return settings.node_registry;
}

const char *
image_apt_mirror(void)
{
	return settings.apt_mirror;
}

const char *
image_python_base(void)
{
	return settings.python_base != NULL ? settings.python_base : "python:{version}-slim";
}

/* ---- checking the keys --------------------------------------------------------------- */

typedef struct check {
	const config *c;
	char *err;
	size_t errlen;
} check;

static int __attribute__((format(printf, 3, 4)))
bad(const check *k, const json_t *v, const char *fmt, ...)
{
	size_t line = config_line(k->c, v), n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(k->err, k->errlen, fmt, ap);
	va_end(ap);
	n = strlen(k->err);
	if (line > 0 && n < k->errlen)
		snprintf(k->err + n, k->errlen - n, " (config.yaml line %zu)", line);
	return -1;
}

/* Characters that need no quoting in registries.conf, pip.conf or a sources line. */
static int
plain_text(const char *s)
{
	return s[0] != '\0' &&
	    strspn(s,
	        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	        "0123456789.-_:/~%+@{}") == strlen(s);
}

/* An http(s) URL with a host, as a string. */
static int
url_ok(const json_t *v)
{
	const char *s = json_string_value(v), *host;

	if (s == NULL || !plain_text(s))
		return 0;
	if (strncmp(s, "http://", 7) == 0)
		host = s + 7;
	else if (strncmp(s, "https://", 8) == 0)
		host = s + 8;
	else
		return 0;
	return host[0] != '\0' && host[0] != '/';
}

static int
url_key(const check *k, const json_t *sec, const char *section, const char *key, char **out)
{
	const char *name;
	json_t *v;

	if (!json_is_object(sec))
		return bad(k, sec, "%s must be a mapping (%s: URL)", section, key);
	json_object_foreach((json_t *)sec, name, v) {
		if (strcmp(name, key) != 0)
			return bad(k, v, "unknown key %s.%s (known: %s)", section, name, key);
		if (!url_ok(v))
			return bad(k, v, "%s.%s must be an http:// or https:// URL", section, key);
		free(*out);
		*out = xstrdup(json_string_value(v));
	}
	return 0;
}

static int
images_keys(const check *k, const json_t *sec)
{
	const char *name;
	json_t *v, *m;
	size_t i;

	if (!json_is_object(sec))
		return bad(k, sec, "images must be a mapping (registry_mirrors, python_base)");
	json_object_foreach((json_t *)sec, name, v) {
		if (strcmp(name, "python_base") == 0) {
			if (!json_is_string(v) || !plain_text(json_string_value(v)))
				return bad(k, v,
				    "images.python_base must be an image name such as "
				    "\"python:{version}-slim\"");
			settings.python_base = xstrdup(json_string_value(v));
		} else if (strcmp(name, "registry_mirrors") == 0) {
			if (!json_is_array(v) || json_array_size(v) > MAX_MIRRORS)
				return bad(k, v,
				    "images.registry_mirrors must be a list (at most %d) of "
				    "registry hosts, e.g. [\"mirror.example.org:5000\"]",
				    MAX_MIRRORS);
			json_array_foreach(v, i, m) {
				if (!json_is_string(m) || !plain_text(json_string_value(m)))
					return bad(k, m,
					    "images.registry_mirrors: each must be a host[:port] "
					    "or an http(s):// URL");
				settings.mirrors[settings.nmirrors++] =
				    xstrdup(json_string_value(m));
			}
		} else {
			return bad(k, v,
			    "unknown key images.%s (known: registry_mirrors, python_base)", name);
		}
	}
	return 0;
}

int
image_settings_load(const config *c, char *err, size_t errlen)
{
	const check k = { c, err, errlen };
	const json_t *v;

	if ((v = config_get(c, "images")) != NULL && images_keys(&k, v) != 0)
		return -1;
	if ((v = config_get(c, "python")) != NULL &&
	    url_key(&k, v, "python", "index_url", &settings.index_url) != 0)
		return -1;
	if ((v = config_get(c, "node")) != NULL &&
	    url_key(&k, v, "node", "registry", &settings.node_registry) != 0)
		return -1;
	if ((v = config_get(c, "apt")) != NULL &&
	    url_key(&k, v, "apt", "mirror", &settings.apt_mirror) != 0)
		return -1;
	return 0;
}

/* ---- the store's files --------------------------------------------------------------- */

static int
store_file(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", image_store.dir, name);
	int r = fs_write_file(path, text, strlen(text), 0644);

	if (r == 0 && chown(path, IMAGE_BUILD_IDS, IMAGE_BUILD_IDS) != 0)
		r = -errno;
	free(path);
	return r;
}

static int
store_dir(const char *name, mode_t mode)
{
	char *path =
	    name != NULL ? xasprintf("%s/%s", image_store.dir, name) : xstrdup(image_store.dir);
	int r = fs_mkdir_p(path, mode);

	if (r == 0 &&
	    (chown(path, IMAGE_BUILD_IDS, IMAGE_BUILD_IDS) != 0 || chmod(path, mode) != 0))
		r = -errno;
	free(path);
	return r;
}

static char *
registries_text(void)
{
	char *text = xstrdup("# written by podium at each start (DATA/config.yaml: images)\n"
	                     "unqualified-search-registries = [\"docker.io\"]\n"
	                     "short-name-mode = \"permissive\"\n"),
	     *more;
	const char *m, *host;

	if (settings.nmirrors == 0)
		return text;
	more =
	    xasprintf("%s\n[[registry]]\nprefix = \"docker.io\"\nlocation = \"docker.io\"\n", text);
	free(text);
	text = more;
	for (size_t i = 0; i < settings.nmirrors; i++) {
		m = settings.mirrors[i];
		host = strncmp(m, "http://", 7) == 0 ? m + 7
		    : strncmp(m, "https://", 8) == 0 ? m + 8
		                                     : m;
		more = xasprintf("%s\n[[registry.mirror]]\nlocation = \"%s\"\n%s", text, host,
		    strncmp(m, "http://", 7) == 0 ? "insecure = true\n" : "");
		free(text);
		text = more;
	}
	return text;
}

static char *
pip_text(void)
{
	const char *u = settings.index_url, *host;
	size_t hostlen;

	if (u == NULL)
		return xstrdup("# written by podium at each start: no python.index_url\n");
	/* pip ignores an http index unless its host is trusted */
	host = strstr(u, "://") + 3;
	hostlen = strcspn(host, ":/");
	if (strncmp(u, "http://", 7) == 0)
		return xasprintf(
		    "[global]\nindex-url = %s\ntrusted-host = %.*s\n", u, (int)hostlen, host);
	return xasprintf("[global]\nindex-url = %s\n", u);
}

static int
store_files(void)
{
	char *storage = xasprintf("# written by podium at each start: the paths are the engine's\n"
	                          "[storage]\ndriver = \"overlay\"\ngraphroot = \"%s/storage\"\n"
	                          "runroot = \"/tmp/run\"\n",
	    IMAGE_ENGINE_STORE);
	char *reg = registries_text(), *pip = pip_text();
	int r;

	if ((r = store_dir(NULL, 0700)) == 0 && (r = store_dir("tmp", 0700)) == 0 &&
	    (r = store_dir("registries.conf.d", 0755)) == 0 &&
	    (r = store_file("storage.conf", storage)) == 0 &&
	    (r = store_file("registries.conf", reg)) == 0 &&
	    (r = store_file("short-name-aliases.conf", "")) == 0 &&
	    (r = store_file("pip.conf", pip)) == 0)
		r = store_file(
		    "policy.json", "{\"default\": [{\"type\": \"insecureAcceptAnything\"}]}\n");
	free(storage);
	free(reg);
	free(pip);
	return r;
}

/* A program in the usual places, for the check below. */
static int
have_program(const char *name)
{
	static const char *const dirs[] = { "/usr/local/bin", "/usr/bin", "/usr/sbin", "/bin" };
	char path[256];

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[i], name);
		if (access(path, X_OK) == 0)
			return 1;
	}
	return 0;
}

/* What this host lacks to build images, or NULL. */
static const char *
engine_missing(const char *seccomp_json)
{
	char buf[32];

	if (geteuid() != 0)
		return "image builds need root (the daemon runs as root)";
	if (!have_program("buildah") || !have_program("crun"))
		return "buildah and crun are not installed (apt-get install buildah crun skopeo)";
	if (fs_read_text("/proc/sys/user/max_user_namespaces", buf, sizeof(buf)) > 0 &&
	    atoi(buf) == 0)
		return "user namespaces are disabled (user.max_user_namespaces = 0)";
	if (access(seccomp_json, R_OK) != 0)
		return "podium-seccomp.json is missing next to podium-sandbox (make all)";
	return NULL;
}

int
image_store_init(const char *data_dir, const char *sandbox_bin, const char *seccomp_json, char *why,
    size_t whylen)
{
	const char *missing = engine_missing(seccomp_json);
	int r;

	free(image_store.dir);
	image_store.dir = xasprintf("%s/images", data_dir);
	image_store.sandbox_bin = xstrdup(sandbox_bin);
	image_store.seccomp = xstrdup(seccomp_json);
	image_store.aliases_dir = NULL;
	if (missing != NULL) {
		snprintf(image_store.why, sizeof(image_store.why), "%s", missing);
		snprintf(why, whylen, "%s", missing);
		return -ENOTSUP;
	}
	if ((r = store_files()) != 0) {
		snprintf(image_store.why, sizeof(image_store.why), "%s: %s", image_store.dir,
		    strerror(-r));
		snprintf(why, whylen, "%s", image_store.why);
		return r;
	}
	/* the host's short-name aliases are covered with our empty directory */
	free(image_store.empty_dir);
	image_store.empty_dir = xasprintf("%s/registries.conf.d", image_store.dir);
	if (access("/etc/containers/registries.conf.d", F_OK) == 0)
		image_store.aliases_dir = "/etc/containers/registries.conf.d";
	image_store.ready = 1;
	return 0;
}

int
image_store_ready(const char **why)
{
	if (why != NULL)
		*why =
		    image_store.why[0] != '\0' ? image_store.why : "the image store is not set up";
	return image_store.ready;
}

const char *
image_store_dir(void)
{
	return image_store.dir;
}
