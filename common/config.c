/* config.c — DATA/config.yaml into a jansson tree (see config.h), read by the one
 * YAML reader (yaml.c), which bounds what aliases expand to (a "billion laughs"
 * file is refused, not expanded). */
#include "common/config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "common/yaml.h"

#define CONFIG_MAX_BYTES (1 << 20)

/* The lines of the trees config_load handed out, for config_line. A tree's table
 * holds a reference to it, so no other value can take a recorded address while
 * the table lives; it goes once that reference is the tree's last (its owners
 * dropped theirs), which each load and lookup check. Loads may come from any
 * thread. */
typedef struct loaded {
	json_t *root;
	yaml_lines *lines;
	struct loaded *next;
} loaded;

static loaded *trees;
static pthread_mutex_t trees_lock = PTHREAD_MUTEX_INITIALIZER;

/* trees_lock held */
static void
trees_prune(void)
{
	loaded **pp = &trees, *t;

	while ((t = *pp) != NULL) {
		if (__atomic_load_n(&t->root->refcount, __ATOMIC_ACQUIRE) > 1) {
			pp = &t->next;
			continue;
		}
		*pp = t->next;
		json_decref(t->root);
		yaml_lines_free(t->lines);
		free(t);
	}
}

int
config_load(const char *path, json_t **out, char *err, size_t errlen)
{
	const yaml_opts opts = { .what = path, .first_line = 1,
		.not_mapping = "the top level must be a mapping (key: value)" };
	yaml_lines *lines;
	loaded *t;
	char *text = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	r = fs_read_file(path, &text, &len, CONFIG_MAX_BYTES);
	if (r == -ENOENT) {
		*out = json_object();
		return 0;
	}
	if (r != 0) {
		snprintf(err, errlen, "%s: %s", path, fs_read_error(r));
		return r;
	}
	r = yaml_load(text, len, &opts, out, &lines, err, errlen);
	free(text);
	if (r != 0)
		return r;
	t = xmalloc(sizeof(*t));
	t->root = json_incref(*out);
	t->lines = lines;
	pthread_mutex_lock(&trees_lock);
	trees_prune();
	t->next = trees;
	trees = t;
	pthread_mutex_unlock(&trees_lock);
	return 0;
}

size_t
config_line(const json_t *v)
{
	size_t line = 0;
	loaded *t;

	pthread_mutex_lock(&trees_lock);
	trees_prune();
	for (t = trees; t != NULL && line == 0; t = t->next)
		line = yaml_line(t->lines, v);
	pthread_mutex_unlock(&trees_lock);
	return line;
}

json_t *
config_get(const json_t *cfg, const char *dotted)
{
	char key[128];
	const char *dot;
	json_t *v = (json_t *)cfg;

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
