/* cache.c — the build cache: a space's installed dependencies (a Python venv,
 * node_modules) kept from one build to the next, so a code-only redeploy skips
 * pip and npm.
 *
 * An entry is keyed by everything that decides what the install produces: the
 * kind, the sdk, the front matter's python_version / sdk_version, the dependency
 * files of the release (pre-requirements.txt, requirements.txt and packages.txt;
 * package.json and its lockfile), the system image it is installed on and the identity of the host's interpreter (python3 or node: path,
 * size, mtime, so a Debian upgrade invalidates it). The key is a BLAKE2b hash.
 *
 * Layout: CACHE_DIR/KIND-KEY/DIR (e.g. py-3f2a.../.venv), one entry per kind,
 * with CACHE_DIR/KIND-KEY/ok written last. Restoring and saving are build steps
 * like the others, inside the build's sandbox with the cache bound at /cache, so
 * the copying is charged to the space's own limits and uid, never to the daemon.
 * The venv path is the same in every release (/home/user/app/.venv), so a
 * restored venv's scripts point where they should. */
#include "builder/builder_int.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

#define DEP_FILE_MAX (8 << 20)

static void
hash_str(crypto_generichash_state *h, const char *label, const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;
	unsigned char len[8];

	for (int i = 0; i < 8; i++)
		len[i] = (unsigned char)(n >> (8 * i));
	crypto_generichash_update(h, (const unsigned char *)label, strlen(label) + 1);
	crypto_generichash_update(h, len, sizeof(len));
	if (n > 0)
		crypto_generichash_update(h, (const unsigned char *)s, n);
}

/* A release file's content (or its absence) goes into the key. -1 when it exists
 * but cannot be read safely: then nothing is cached. */
static int
hash_release_file(crypto_generichash_state *h, const char *release_dir, const char *name)
{
	char *text = NULL;
	size_t len = 0;
	int r = fs_read_file_beneath(release_dir, name, &text, &len, DEP_FILE_MAX);

	if (r == -ENOENT) {
		hash_str(h, name, "(absent)");
		return 0;
	}
	if (r != 0)
		return -1;
	hash_str(h, name, "(present)");
	crypto_generichash_update(h, (const unsigned char *)text, len);
	free(text);
	return 0;
}

static void
hash_tool(crypto_generichash_state *h, const char *path)
{
	char real[4096], id[4200];
	struct stat st;

	if (realpath(path, real) == NULL || stat(real, &st) != 0) {
		hash_str(h, path, "(missing)");
		return;
	}
	snprintf(id, sizeof(id), "%s %lld %lld.%09ld", real, (long long)st.st_size,
	    (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	hash_str(h, path, id);
}

static void
hash_card_key(crypto_generichash_state *h, const json_t *card, const char *key)
{
	const json_t *v = json_object_get(card, key);
	char *s = v != NULL ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;

	hash_str(h, key, s);
	free(s);
}

int
builder_cache_key(builder_cache_kind kind, const char *release_dir, const app_config *cfg,
    char key[BUILDER_CACHE_KEY_LEN + 1])
{
	crypto_generichash_state h;
	unsigned char out[16];
	int r = 0;

	crypto_generichash_init(&h, NULL, 0, sizeof(out));
	hash_str(&h, "format", "podium-build-cache-1");
	hash_str(&h, "kind", kind == BUILDER_CACHE_PYTHON ? "python" : "node");
	hash_str(&h, "sdk", cfg->sdk);
	hash_card_key(&h, cfg->card, "python_version");
	hash_card_key(&h, cfg->card, "sdk_version");
	if (kind == BUILDER_CACHE_PYTHON) {
		/* a system image (packages.txt, python_version): its name is its inputs */
		hash_str(&h, "image", json_string_value(json_object_get(cfg->image, "name")));
		r |= hash_release_file(&h, release_dir, "pre-requirements.txt");
		r |= hash_release_file(&h, release_dir, "requirements.txt");
		r |= hash_release_file(&h, release_dir, "packages.txt");
		hash_tool(&h, "/usr/bin/python3");
	} else {
		r |= hash_release_file(&h, release_dir, "package.json");
		r |= hash_release_file(&h, release_dir, "package-lock.json");
		r |= hash_release_file(&h, release_dir, "npm-shrinkwrap.json");
		hash_tool(&h, "/usr/bin/node");
		hash_tool(&h, "/usr/bin/npm");
	}
	crypto_generichash_final(&h, out, sizeof(out));
	sodium_bin2hex(key, BUILDER_CACHE_KEY_LEN + 1, out, sizeof(out));
	return r != 0 ? -1 : 0;
}

const char *
builder_cache_prefix(builder_cache_kind kind)
{
	return kind == BUILDER_CACHE_PYTHON ? "py" : "node";
}

int
builder_cache_has(const char *cache_dir, builder_cache_kind kind, const char *key)
{
	char *ok = xasprintf("%s/%s-%s/ok", cache_dir, builder_cache_prefix(kind), key);
	struct stat st;
	int r = lstat(ok, &st) == 0 && S_ISREG(st.st_mode);

	free(ok);
	return r;
}
