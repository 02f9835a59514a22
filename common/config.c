/* config.c — DATA/config.yaml into a jansson tree (see config.h), read by the one
 * YAML reader (yaml.c), which bounds what aliases expand to (a "billion laughs"
 * file is refused, not expanded). */
#include "common/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "common/yaml.h"

#define CONFIG_MAX_BYTES (1 << 20)

struct config {
	json_t *tree;
	yaml_lines *lines;   /* NULL without a file */
};

int
config_load(const char *path, config **out, char *err, size_t errlen)
{
	const yaml_opts opts = { .what = path, .first_line = 1,
		.not_mapping = "the top level must be a mapping (key: value)" };
	config *c = xcalloc(1, sizeof(*c));
	char *text = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	r = fs_read_file(path, &text, &len, CONFIG_MAX_BYTES);
	if (r == -ENOENT) {
		c->tree = json_object();
		*out = c;
		return 0;
	}
	if (r != 0) {
		snprintf(err, errlen, "%s: %s", path, fs_read_error(r));
		free(c);
		return r;
	}
	r = yaml_load(text, len, &opts, &c->tree, &c->lines, err, errlen);
	free(text);
	if (r != 0) {
		free(c);
		return r;
	}
	*out = c;
	return 0;
}

void
config_free(config *c)
{
	if (c == NULL)
		return;
	json_decref(c->tree);
	yaml_lines_free(c->lines);
	free(c);
}

size_t
config_line(const config *c, const json_t *v)
{
	return c != NULL && c->lines != NULL ? yaml_line(c->lines, v) : 0;
}

json_t *
config_get(const config *c, const char *dotted)
{
	char key[128];
	const char *dot;
	json_t *v = c != NULL ? c->tree : NULL;

	while (v != NULL && *dotted != '\0') {
		dot = strchr(dotted, '.');
		size_t n = dot != NULL ? (size_t)(dot - dotted) : strlen(dotted);
		if (n >= sizeof(key) || !json_is_object(v))
			return NULL;
		memcpy(key, dotted, n);
		key[n] = '\0';
		v = json_object_get(v, key);
		dotted += n + (dot != NULL);
	}
	return v;
}
