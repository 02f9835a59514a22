/* config.c — DATA/config.yaml into a jansson tree (see config.h). libyaml's document
 * API does the parsing; aliases are followed, so the walk is bounded in depth and in
 * nodes visited (a "billion laughs" file is refused, not expanded). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "common/config.h"
#include "common/util.h"

#define CONFIG_MAX_BYTES (1 << 20)
#define CONFIG_MAX_DEPTH 32
#define CONFIG_MAX_NODES 100000

struct walk {
	yaml_document_t *doc;
	size_t visited;
	const char *err;
};

static json_t *
node_to_json(struct walk *w, yaml_node_t *n, int depth)
{
	json_t *out = NULL, *v;
	yaml_node_pair_t *pair;
	yaml_node_item_t *item;
	yaml_node_t *k;

	if (n == NULL || depth > CONFIG_MAX_DEPTH || ++w->visited > CONFIG_MAX_NODES) {
		w->err = "too deeply nested or too large";
		return NULL;
	}
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return json_stringn((const char *)n->data.scalar.value, n->data.scalar.length);
	case YAML_SEQUENCE_NODE:
		out = json_array();
		for (item = n->data.sequence.items.start; item < n->data.sequence.items.top; item++) {
			if ((v = node_to_json(w, yaml_document_get_node(w->doc, *item), depth + 1)) == NULL)
				goto fail;
			json_array_append_new(out, v);
		}
		return out;
	case YAML_MAPPING_NODE:
		out = json_object();
		for (pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top; pair++) {
			k = yaml_document_get_node(w->doc, pair->key);
			if (k == NULL || k->type != YAML_SCALAR_NODE) {
				w->err = "keys must be plain strings";
				goto fail;
			}
			if ((v = node_to_json(w, yaml_document_get_node(w->doc, pair->value), depth + 1)) == NULL)
				goto fail;
			json_object_set_new(out, (const char *)k->data.scalar.value, v);
		}
		return out;
	default:
		w->err = "unexpected node";
		return NULL;
	}
fail:
	json_decref(out);
	return NULL;
}

int
config_load(const char *path, json_t **out, char *err, size_t errlen)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct walk w = { &doc, 0, NULL };
	yaml_node_t *root;
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
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errlen, "%s: line %zu: %s", path, parser.problem_mark.line + 1,
		    parser.problem != NULL ? parser.problem : "YAML syntax error");
		yaml_parser_delete(&parser);
		free(text);
		return -EINVAL;
	}
	root = yaml_document_get_root_node(&doc);
	if (root == NULL) {
		*out = json_object(); /* empty file */
	} else if (root->type != YAML_MAPPING_NODE) {
		snprintf(err, errlen, "%s: the top level must be a mapping (key: value)", path);
	} else if ((*out = node_to_json(&w, root, 0)) == NULL) {
		snprintf(err, errlen, "%s: %s", path, w.err != NULL ? w.err : "cannot read");
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	free(text);
	return *out != NULL ? 0 : -EINVAL;
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

int
config_bool(const json_t *v, int *out)
{
	static const char *const yes[] = { "true", "yes", "on" }, *const no[] = { "false", "no", "off" };
	const char *s = json_string_value(v);
	size_t i;

	for (i = 0; s != NULL && i < 3; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return *out = 1, 0;
		if (strcasecmp(s, no[i]) == 0)
			return *out = 0, 0;
	}
	return -EINVAL;
}
