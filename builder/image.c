/* image.c — the engine's box and what the store holds (see image.h).
 *
 * The store is containers/storage's overlay layout, read here as root (the
 * daemon) without the engine: overlay-images/images.json (an image: its id, names
 * and top layer), overlay-layers/layers.json (a layer: its parent and size),
 * overlay/LAYER/diff (its files) and the image config, kept as the image's "big
 * data" named "sha256:ID" (stored as "=" + base64 of that name). Only buildah
 * writes the store; its files are replaced by rename, so a read sees a whole one. */
#include "builder/image.h"
#include "builder/builder_int.h"

#include <ctype.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

#define STORE_JSON_MAX (64 << 20)

static const char *const engine_env[] = { "CONTAINERS_STORAGE_CONF=" IMAGE_ENGINE_STORE
	                                  "/storage.conf",
	"CONTAINERS_REGISTRIES_CONF=" IMAGE_ENGINE_STORE "/registries.conf",
	"TMPDIR=" IMAGE_ENGINE_STORE "/tmp", "HOME=/tmp", "LANG=C.UTF-8",
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL };

static const char *const buildah_globals[] = { "buildah", "--short-name-alias-conf",
	IMAGE_ENGINE_STORE "/short-name-aliases.conf", "--registries-conf-dir",
	IMAGE_ENGINE_STORE "/registries.conf.d", NULL };

const char *const *
image_buildah_globals(void)
{
	return buildah_globals;
}

void
image_engine_box(box_spec *box, const image_mounts *m, const char *const *argv)
{
	box_spec_init(box);
	box->sandbox_bin = image_store.sandbox_bin;
	box->engine_userns = IMAGE_BUILD_IDS;
	box->hostname = "podium-build";
	/* the engine's own /tmp: mount points for what it sees, its runroot */
	box->tmpfs = "/tmp";
	box->binds[box->nbinds++] = (box_bind){ image_store.dir, IMAGE_ENGINE_STORE };
	if (m != NULL && m->context != NULL)
		box->binds[box->nbinds++] = (box_bind){ m->context, IMAGE_ENGINE_CONTEXT };
	if (m != NULL && m->job != NULL)
		box->binds[box->nbinds++] = (box_bind){ m->job, IMAGE_ENGINE_JOB };
	box->ro_binds[box->nro_binds++] = (box_bind){ image_store.seccomp, "/tmp/seccomp.json" };
	if (m != NULL && m->input != NULL)
		box->ro_binds[box->nro_binds++] = (box_bind){ m->input, IMAGE_ENGINE_INPUT };
	if (image_store.aliases_dir != NULL)
		box->ro_binds[box->nro_binds++] =
		    (box_bind){ image_store.empty_dir, image_store.aliases_dir };
	box->chdir = "/tmp";
	box->env = engine_env;
	box->argv = argv;
}

/* ---- reading the store ------------------------------------------------------------------ */

static json_t *
store_json(const char *rel)
{
	char *path = xasprintf("%s/storage/%s", image_store.dir, rel), *text = NULL;
	size_t len;
	json_t *j = NULL;

	int r = fs_read_file(path, &text, &len, STORE_JSON_MAX);

	if (r == 0)
		j = json_loadb(text, len, 0, NULL);
	else if (r == -ENOENT)
		j = json_array(); /* an empty store */
	free(text);
	free(path);
	return json_is_array(j) ? j : (json_decref(j), NULL);
}

static int
image_matches(const json_t *img, const char *want)
{
	const char *id = json_string_value(json_object_get(img, "id"));
	const json_t *n;
	size_t i, len = strlen(want);

	if (id != NULL && (strcmp(id, want) == 0 || (len >= 12 && strncmp(id, want, len) == 0)))
		return 1;
	json_array_foreach(json_object_get(img, "names"), i, n)
		if (json_is_string(n) && strcmp(json_string_value(n), want) == 0)
			return 1;
	return 0;
}

/* The layer chain from top down, and its size, into info. */
static void
image_layers(const json_t *layers, const char *top, image_info *info)
{
	const json_t *l;
	size_t i, guard = 0;

	info->layers = json_array();
	while (top != NULL && guard++ < 512) {
		const char *next = NULL;

		json_array_foreach(layers, i, l) {
			if (strcmp(json_string_value(json_object_get(l, "id")) ?: "", top) != 0)
				continue;
			json_array_append_new(info->layers, json_string(top));
			info->size += json_integer_value(json_object_get(l, "diff-size"));
			next = json_string_value(json_object_get(l, "parent"));
			break;
		}
		top = next;
	}
}

/* The image config's "config" of image id (its big data "sha256:ID"). */
static json_t *
image_config(const char *id)
{
	char key[80], b64[128], *path, *text = NULL;
	json_t *j, *cfg = NULL;
	size_t len;

	snprintf(key, sizeof(key), "sha256:%s", id);
	sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)key, strlen(key),
	    sodium_base64_VARIANT_ORIGINAL);
	path = xasprintf("%s/storage/overlay-images/%s/=%s", image_store.dir, id, b64);
	if (fs_read_file(path, &text, &len, 1 << 20) == 0 &&
	    (j = json_loadb(text, len, 0, NULL)) != NULL) {
		cfg = json_incref(json_object_get(j, "config"));
		json_decref(j);
	}
	free(text);
	free(path);
	return cfg != NULL ? cfg : json_object();
}

static void
info_fill(image_info *info, const json_t *img, const json_t *layers)
{
	snprintf(info->id, sizeof(info->id), "%s", json_string_value(json_object_get(img, "id")));
	info->names = json_incref(json_object_get(img, "names"));
	if (info->names == NULL)
		info->names = json_array();
	snprintf(info->created, sizeof(info->created), "%.39s",
	    json_string_value(json_object_get(img, "created")) ?: "");
	image_layers(layers, json_string_value(json_object_get(img, "layer")), info);
}

int
image_find(const char *want, image_info *out, char *err, size_t errlen)
{
	json_t *images = store_json("overlay-images/images.json");
	json_t *layers = store_json("overlay-layers/layers.json"), *img;
	size_t i;
	int r = -ENOENT;

	memset(out, 0, sizeof(*out));
	if (images == NULL || layers == NULL) {
		snprintf(err, errlen, "cannot read the image store in %s", image_store.dir);
		r = -EIO;
		goto done;
	}
	json_array_foreach(images, i, img) {
		if (!image_matches(img, want))
			continue;
		info_fill(out, img, layers);
		out->config = image_config(out->id);
		r = 0;
		break;
	}
	if (r == -ENOENT)
		snprintf(err, errlen, "no image %s", want);
done:
	json_decref(images);
	json_decref(layers);
	return r;
}

void
image_info_release(image_info *info)
{
	json_decref(info->names);
	json_decref(info->layers);
	json_decref(info->config);
	memset(info, 0, sizeof(*info));
}

json_t *
image_list(void)
{
	json_t *images = store_json("overlay-images/images.json");
	json_t *layers = store_json("overlay-layers/layers.json"), *img, *out = NULL;
	image_info info;
	size_t i;

	if (images != NULL && layers != NULL) {
		out = json_array();
		json_array_foreach(images, i, img) {
			memset(&info, 0, sizeof(info));
			info_fill(&info, img, layers);
			json_array_append_new(out,
			    json_pack("{s:s, s:O, s:I, s:s, s:O}", "id", info.id, "names",
			        info.names, "size", (json_int_t)info.size, "created", info.created,
			        "layers", info.layers));
			image_info_release(&info);
		}
	}
	json_decref(images);
	json_decref(layers);
	return out;
}

char *
image_rootfs(const json_t *layers)
{
	char *out = NULL, *dir, *more;
	const json_t *l;
	struct stat st;
	size_t i;

	json_array_foreach(layers, i, l) {
		const char *id = json_string_value(l);

		if (id == NULL || strspn(id, "0123456789abcdef") != strlen(id))
			goto fail;
		dir = xasprintf("%s/storage/overlay/%s/diff", image_store.dir, id);
		if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
			free(dir);
			goto fail;
		}
		more = out != NULL ? xasprintf("%s:%s", out, dir) : xstrdup(dir);
		free(out);
		free(dir);
		out = more;
	}
	return out;
fail:
	free(out);
	return NULL;
}

/* ---- removing ---------------------------------------------------------------------------- */

typedef struct removal {
	uv_process_t proc;
	uv_pipe_t out;
	int open;
	char line[512];
	size_t len;
} removal;

static void
removal_closed(uv_handle_t *h)
{
	removal *rm = h->data;

	if (--rm->open == 0)
		free(rm);
}

static void
removal_exited(uv_process_t *p, int64_t status, int sig)
{
	if (status != 0 || sig != 0)
		log_warn(
		    "images: removal ended with status %lld (signal %d)", (long long)status, sig);
	uv_close((uv_handle_t *)p, removal_closed);
}

static void
removal_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	static char slab[4096];

	*buf = uv_buf_init(slab, sizeof(slab));
}

/* The engine's output, a line at a time, into the daemon's log. */
static void
removal_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	removal *rm = s->data;

	for (ssize_t i = 0; i < n; i++) {
		if (buf->base[i] != '\n' && rm->len < sizeof(rm->line) - 1) {
			rm->line[rm->len++] = buf->base[i];
			continue;
		}
		rm->line[rm->len] = '\0';
		if (rm->len > 0)
			log_info("images: %s", rm->line);
		rm->len = 0;
	}
	if (n < 0)
		uv_close((uv_handle_t *)s, removal_closed);
}

void
image_remove(uv_loop_t *loop, const json_t *refs)
{
	const char *argv[8 + 64 + 1];
	removal *rm;
	box_io io = { .exit_cb = removal_exited };
	box_spec box;
	size_t n = 0, i;
	const json_t *r;

	if (!image_store.ready || json_array_size(refs) == 0)
		return;
	/* one engine launch: rmi each, and go on past one that is still needed */
	argv[n++] = "/bin/sh";
	argv[n++] = "-c";
	argv[n++] = "for i; do buildah --short-name-alias-conf " IMAGE_ENGINE_STORE
	            "/short-name-aliases.conf rmi \"$i\" >/dev/null || true; done";
	argv[n++] = "sh";
	json_array_foreach(refs, i, r)
		if (json_is_string(r) && n < sizeof(argv) / sizeof(argv[0]) - 1)
			argv[n++] = json_string_value(r);
	argv[n] = NULL;
	rm = xcalloc(1, sizeof(*rm));
	image_engine_box(&box, NULL, argv);
	box.net = "none";
	box.timeout_s = 600;
	io.out = &rm->out;
	rm->proc.data = rm->out.data = rm;
	if (box_spawn(loop, &rm->proc, &box, &io) != 0) {
		log_warn("images: cannot start the engine to remove %zu images", n - 4);
		if (rm->proc.loop != NULL) {
			rm->open = 1;
			uv_close((uv_handle_t *)&rm->proc, removal_closed);
		} else {
			free(rm);
		}
		return;
	}
	rm->open = 2;
	uv_read_start((uv_stream_t *)&rm->out, removal_alloc, removal_read);
}

void
image_release_refs(const json_t *image, json_t *refs)
{
	/* the engine removes the images under it that nothing else is built on */
	if (json_is_true(json_object_get(image, "docker")) &&
	    json_is_string(json_object_get(image, "name")))
		json_array_append(refs, json_object_get(image, "name"));
}

/* ---- names ------------------------------------------------------------------------------- */

/* One path component: [a-z0-9]+ joined by '.', '_', "__" or '-'s. */
static int
component_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
		return 0;
	for (i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) ||
		        strchr("._-", s[i]) != NULL))
			return 0;
	return 1;
}

static int
registry_like(const char *s, size_t n)
{
	return memchr(s, '.', n) != NULL || memchr(s, ':', n) != NULL ||
	    (n == 9 && strncmp(s, "localhost", 9) == 0);
}

int
image_name_normalize(const char *name, char *out, size_t outlen)
{
	static const char tag_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                                "0123456789_.-";
	char buf[256], *reg = "docker.io", *path = buf, *tag, *digest, *slash, *p, *e;

	if (name[0] == '\0' || strlen(name) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, name);
	if ((digest = strchr(buf, '@')) != NULL)
		*digest++ = '\0';
	if ((slash = strchr(buf, '/')) != NULL && registry_like(buf, (size_t)(slash - buf))) {
		*slash = '\0';
		reg = buf;
		path = slash + 1;
		for (p = reg; *p != '\0'; p++)
			if (!isalnum((unsigned char)*p) && strchr(".-:", *p) == NULL)
				return -EINVAL;
	}
	if ((tag = strrchr(path, ':')) != NULL)
		*tag++ = '\0';
	for (p = path; p != NULL; p = e != NULL ? e + 1 : NULL) {
		e = strchr(p, '/');
		if (!component_ok(p, e != NULL ? (size_t)(e - p) : strlen(p)))
			return -EINVAL;
	}
	if (tag != NULL &&
	    (tag[0] == '\0' || tag[0] == '.' || tag[0] == '-' || strlen(tag) > 128 ||
	        strspn(tag, tag_chars) != strlen(tag)))
		return -EINVAL;
	if (digest != NULL &&
	    (strncmp(digest, "sha256:", 7) != 0 || strlen(digest) != 71 ||
	        strspn(digest + 7, "0123456789abcdef") != 64))
		return -EINVAL;
	if ((size_t)snprintf(out, outlen, "%s/%s%s%s%s%s%s", reg,
	        strcmp(reg, "docker.io") == 0 && strchr(path, '/') == NULL ? "library/" : "", path,
	        tag != NULL || digest == NULL ? ":" : "",
	        tag != NULL          ? tag
	            : digest == NULL ? "latest"
	                             : "",
	        digest != NULL ? "@" : "", digest != NULL ? digest : "") >= outlen)
		return -EINVAL;
	return 0;
}
