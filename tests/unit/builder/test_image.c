/* Unit tests for builder/image.c and image_config.c: image names as FROM resolves
 * them, the images/python/node/apt configuration keys, and reading an image (its
 * layers, its config) from a containers/storage layout made here (cmocka). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builder/builder_int.h"
#include "builder/image.h"
#include "common/config.h"
#include "common/util.h"

static void
normalized(const char *name, const char *want)
{
	char out[512];

	assert_int_equal(image_name_normalize(name, out, sizeof(out)), 0);
	assert_string_equal(out, want);
}

static void
test_names(void **state)
{
	static const char *const bad[] = { "Not A Name", "Python:3", "x:", ":1", "a//b", "-a",
		"a:tag with space", "x@sha256:12", "reg.example.org/", "" };
	char out[512];

	(void)state;
	normalized("python:3.11-slim", "docker.io/library/python:3.11-slim");
	normalized("python", "docker.io/library/python:latest");
	normalized("offline/base:1", "docker.io/offline/base:1");
	normalized("localhost/podium/admin-x:r3", "localhost/podium/admin-x:r3");
	normalized(
	    "registry.example.org:5000/team/base", "registry.example.org:5000/team/base:latest");
	normalized("ubuntu@sha256:"
	           "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	    "docker.io/library/ubuntu@sha256:"
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (image_name_normalize(bad[i], out, sizeof(out)) == 0)
			fail_msg("\"%s\" was taken for a name (%s)", bad[i], out);
}

/* config.yaml text into image_settings_load: its result and message. */
static int
settings(const char *text, char *err, size_t errlen)
{
	char path[] = "/tmp/podium-image-config-XXXXXX";
	int fd = mkstemp(path), r;
	config *c = NULL;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(config_load(path, &c, err, errlen), 0);
	r = image_settings_load(c, err, errlen);
	config_free(c);
	unlink(path);
	return r;
}

static void
test_settings(void **state)
{
	static const char *const bad[][2] = {
		{ "python:\n  index_url: ftp:/x\n", "python.index_url" },
		{ "images:\n  registry_mirrors: mirror.example.org\n", "images.registry_mirrors" },
		{ "node:\n  registry: 5\n", "node.registry" },
		{ "apt:\n  mirror: [a, b]\n", "apt.mirror" },
		{ "images:\n  registry_mirorrs: []\n", "unknown key images.registry_mirorrs" },
		{ "python:\n  index: http://x/\n", "unknown key python.index" },
		{ "apt: http://deb.example.org/\n", "apt must be a mapping" },
	};
	char err[512];

	(void)state;
	assert_int_equal(settings("images:\n  registry_mirrors: [\"mirror.example.org:5000\"]\n"
	                          "  python_base: \"python:{version}-bookworm\"\npython:\n"
	                          "  index_url: http://pypi.example.org/simple/\nnode:\n"
	                          "  registry: https://npm.example.org/\napt:\n"
	                          "  mirror: http://deb.example.org/debian\n",
	                     err, sizeof(err)),
	    0);
	assert_string_equal(image_python_index_url(), "http://pypi.example.org/simple/");
	assert_string_equal(image_node_registry(), "https://npm.example.org/");
	assert_string_equal(image_apt_mirror(), "http://deb.example.org/debian");
	assert_string_equal(image_python_base(), "python:{version}-bookworm");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(settings(bad[i][0], err, sizeof(err)), -1);
		if (strstr(err, bad[i][1]) == NULL)
			fail_msg("\"%s\": \"%s\" does not name %s", bad[i][0], err, bad[i][1]);
		assert_non_null(strstr(err, "line "));
	}
}

static void
put(const char *dir, const char *rel, const char *text)
{
	char *path = xasprintf("%s/%s", dir, rel), *slash = strrchr(path, '/');

	*slash = '\0';
	assert_int_equal(fs_mkdir_p(path, 0755), 0);
	*slash = '/';
	assert_int_equal(fs_write_file(path, text, strlen(text), 0644), 0);
	free(path);
}

/* Two layers and an image on them, as containers/storage keeps them. */
static char *
fake_store(void)
{
	char tmpl[] = "/tmp/podium-image-store-XXXXXX", key[80], b64[128], *rel;
	char *dir = xstrdup(mkdtemp(tmpl));
	const char *id = "f00d000000000000000000000000000000000000000000000000000000000001";

	put(dir, "images/storage/overlay-layers/layers.json",
	    "[{\"id\":\"aa01\",\"diff-size\":100},{\"id\":\"bb02\",\"parent\":\"aa01\",\"diff-size\":20}]");
	put(dir, "images/storage/overlay-images/images.json",
	    "[{\"id\":\"f00d000000000000000000000000000000000000000000000000000000000001\","
	    "\"names\":[\"docker.io/library/python:3.11-slim\"],\"layer\":\"bb02\","
	    "\"created\":\"2026-12-07T23:47:29Z\"}]");
	snprintf(key, sizeof(key), "sha256:%s", id);
	sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)key, strlen(key),
	    sodium_base64_VARIANT_ORIGINAL);
	rel = xasprintf("images/storage/overlay-images/%s/=%s", id, b64);
	put(dir, rel,
	    "{\"config\":{\"Env\":[\"PATH=/usr/bin\"],\"Cmd\":[\"python3\"],"
	    "\"WorkingDir\":\"/app\"}}");
	free(rel);
	put(dir, "images/storage/overlay/aa01/diff/etc/os-release", "ID=debian\n");
	put(dir, "images/storage/overlay/bb02/diff/app/app.py", "print(1)\n");
	return dir;
}

static void
test_store_reading(void **state)
{
	char *dir = fake_store(), *rootfs, *want, err[256];
	image_info info;
	json_t *list;

	(void)state;
	free(image_store.dir);
	image_store.dir = xasprintf("%s/images", dir);
	assert_int_equal(
	    image_find("docker.io/library/python:3.11-slim", &info, err, sizeof(err)), 0);
	assert_int_equal(json_array_size(info.layers), 2);
	assert_string_equal(json_string_value(json_array_get(info.layers, 0)), "bb02");
	assert_int_equal(info.size, 120);
	assert_string_equal(json_string_value(json_object_get(info.config, "WorkingDir")), "/app");
	rootfs = image_rootfs(info.layers);
	want = xasprintf(
	    "%s/images/storage/overlay/bb02/diff:%s/images/storage/overlay/aa01/diff", dir, dir);
	assert_string_equal(rootfs, want);
	free(rootfs);
	free(want);
	image_info_release(&info);
	/* an id prefix finds it too; a missing layer is no rootfs */
	assert_int_equal(image_find("f00d00000000", &info, err, sizeof(err)), 0);
	image_info_release(&info);
	assert_int_equal(image_find("python:3.10-slim", &info, err, sizeof(err)), -ENOENT);
	json_t *gone = json_pack("[s]", "cc03");
	assert_null(image_rootfs(gone));
	json_decref(gone);
	list = image_list();
	assert_int_equal(json_array_size(list), 1);
	json_decref(list);
	fs_rm_rf(dir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_settings),
		cmocka_unit_test(test_store_reading),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
