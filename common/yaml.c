/* yaml.c — a YAML document into a jansson tree, with the line of each value and
 * the checks callers make on scalars (see yaml.h). */
#include "common/yaml.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "common/util.h"

/* ---- where values came from: a table keyed by the value's address ---- */

struct yaml_lines {
	struct line_slot {
		const json_t *v;
		size_t line;
	} *slot;
	size_t cap, n; /* cap is 0 or a power of two */
};

static size_t
lines_hash(const json_t *v, size_t cap)
{
	uint64_t h = (uint64_t)(uintptr_t)v;

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return (size_t)h & (cap - 1);
}

static void
lines_put(yaml_lines *l, const json_t *v, size_t line)
{
	struct line_slot *old = l->slot;
	size_t oldcap = l->cap, i;

	if (2 * (l->n + 1) > l->cap) {
		l->cap = l->cap != 0 ? 2 * l->cap : 64;
		l->slot = xcalloc(l->cap, sizeof(*l->slot));
		l->n = 0;
		for (i = 0; i < oldcap; i++)
			if (old[i].v != NULL)
				lines_put(l, old[i].v, old[i].line);
		free(old);
	}
	for (i = lines_hash(v, l->cap); l->slot[i].v != NULL && l->slot[i].v != v;
	    i = (i + 1) & (l->cap - 1))
		;
	if (l->slot[i].v == NULL)
		l->n++;
	l->slot[i].v = v;
	l->slot[i].line = line;
}

size_t
yaml_line(const yaml_lines *l, const json_t *v)
{
	size_t i;

	if (l == NULL || l->cap == 0 || v == NULL)
		return 0;
	for (i = lines_hash(v, l->cap); l->slot[i].v != NULL; i = (i + 1) & (l->cap - 1))
		if (l->slot[i].v == v)
			return l->slot[i].line;
	return 0;
}

void
yaml_lines_free(yaml_lines *l)
{
	if (l == NULL)
		return;
	free(l->slot);
	free(l);
}

/* ---- YAML 1.1 plain scalars ---- */

static int
match_all(const char *s, const char *set)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (strchr(set, *s) == NULL)
			return 0;
	return 1;
}

static json_t *
plain_int(const char *s)
{
	const char *digits = s + (s[0] == '-' || s[0] == '+');
	char buf[64], *end;
	long long v;
	size_t i, n = 0;
	int base = 10;

	if (strncmp(digits, "0x", 2) == 0 && match_all(digits + 2, "0123456789abcdefABCDEF_"))
		base = 16, digits += 2;
	else if (strncmp(digits, "0o", 2) == 0 && match_all(digits + 2, "01234567_"))
		base = 8, digits += 2;
	else if (!match_all(digits, "0123456789_") || digits[0] == '_')
		return NULL;
	if (s[0] == '-')
		buf[n++] = '-';
	for (i = 0; digits[i] != '\0' && n + 1 < sizeof(buf); i++)
		if (digits[i] != '_')
			buf[n++] = digits[i];
	buf[n] = '\0';
	errno = 0;
	v = strtoll(buf, &end, base);
	if (errno != 0 || *end != '\0' || end == buf)
		return NULL;
	return json_integer(v);
}

static json_t *
plain_float(const char *s)
{
	const char *p = s + (s[0] == '-' || s[0] == '+');
	char *end;
	double v;
	int digits = 0;

	if (strcasecmp(p, ".inf") == 0 || strcasecmp(p, ".nan") == 0)
		return NULL; /* JSON has no representation; keep the text */
	/* [0-9]*.[0-9]*([eE][-+][0-9]+)? with at least one digit: what YAML 1.1 calls a
	 * float; "4.36.1" or "1e3x" stay strings. */
	for (; *p >= '0' && *p <= '9'; p++)
		digits++;
	if (*p != '.')
		return NULL;
	for (p++; *p >= '0' && *p <= '9'; p++)
		digits++;
	if (digits == 0)
		return NULL;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '-' || *p == '+')
			p++;
		if (!match_all(p, "0123456789"))
			return NULL;
		p += strlen(p);
	}
	if (*p != '\0')
		return NULL;
	v = strtod(s, &end);
	if (*end != '\0' || !isfinite(v))
		return NULL;
	return json_real(v);
}

static json_t *
plain_scalar(const char *s)
{
	static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On",
		"ON" };
	static const char *const no[] = { "false", "False", "FALSE", "no", "No", "NO", "off", "Off",
		"OFF" };
	json_t *v;
	size_t i;

	if (*s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	    strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0)
		return json_null();
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(s, yes[i]) == 0)
			return json_true();
		if (strcmp(s, no[i]) == 0)
			return json_false();
	}
	if ((v = plain_int(s)) != NULL || (v = plain_float(s)) != NULL)
		return v;
	return json_string(s);
}

/* ---- the document into a tree ---- */

typedef struct walk {
	const yaml_opts *o;
	size_t first;           /* the text's first line number */
	yaml_document_t *doc;
	yaml_lines *lines;      /* NULL: not kept */
	size_t values, text;    /* expanded so far */
	char *err;
	size_t errlen;
} walk;

/* err = "WHAT: line N: why", or "WHAT: why" when line is 0. */
static void __attribute__((format(printf, 3, 4)))
say(walk *w, size_t line, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(w->err, w->errlen, "%s: line %zu: %s", w->o->what, line, why);
	else
		snprintf(w->err, w->errlen, "%s: %s", w->o->what, why);
}

static json_t *
scalar_to_json(walk *w, const yaml_node_t *n)
{
	const char *text = (const char *)n->data.scalar.value;
	json_t *out;

	/* The loader tags every untagged scalar !!str, so only the style tells a
	 * quoted "123" from a plain 123. */
	if (w->o->typed && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
		out = plain_scalar(text);
	else
		out = json_stringn(text, n->data.scalar.length);
	if (out == NULL) /* not UTF-8 or embedded NUL */
		say(w, n->start_mark.line + w->first, "invalid text");
	return out;
}

static json_t *node_to_json(walk *w, yaml_node_t *n, size_t key_line, int depth);

static json_t *
sequence_to_json(walk *w, const yaml_node_t *n, int depth)
{
	json_t *out = json_array(), *v;
	yaml_node_item_t *item;

	for (item = n->data.sequence.items.start; item < n->data.sequence.items.top; item++) {
		v = node_to_json(w, yaml_document_get_node(w->doc, *item), 0, depth + 1);
		if (v == NULL || json_array_append_new(out, v) != 0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

static json_t *
mapping_to_json(walk *w, const yaml_node_t *n, int depth)
{
	json_t *out = json_object(), *v;
	yaml_node_pair_t *pair;
	yaml_node_t *key;
	size_t line;

	for (pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top; pair++) {
		key = yaml_document_get_node(w->doc, pair->key);
		line = (key != NULL ? key->start_mark.line : 0) + w->first;
		if (key == NULL || key->type != YAML_SCALAR_NODE) {
			say(w, line, "keys must be plain text");
			goto fail;
		}
		v = node_to_json(w, yaml_document_get_node(w->doc, pair->value), line, depth + 1);
		if (v == NULL)
			goto fail;
		if (json_object_set_new(out, (const char *)key->data.scalar.value, v) != 0) {
			say(w, line, "invalid key");
			goto fail;
		}
	}
	return out;
fail:
	json_decref(out);
	return NULL;
}

/* key_line: the line of the key whose value n is, or 0. */
static json_t *
node_to_json(walk *w, yaml_node_t *n, size_t key_line, int depth)
{
	json_t *out;

	if (n == NULL || depth > YAML_MAX_DEPTH) {
		say(w, 0, "nested too deeply");
		return NULL;
	}
	if (++w->values > YAML_MAX_VALUES || (n->type == YAML_SCALAR_NODE &&
	    (w->text += n->data.scalar.length) > YAML_MAX_TEXT)) {
		say(w, 0, "too large once its aliases are expanded (more than %d values or %d MiB "
		    "of text)", YAML_MAX_VALUES, YAML_MAX_TEXT >> 20);
		return NULL;
	}
	switch (n->type) {
	case YAML_SCALAR_NODE:
		out = scalar_to_json(w, n);
		break;
	case YAML_SEQUENCE_NODE:
		out = sequence_to_json(w, n, depth);
		break;
	case YAML_MAPPING_NODE:
		out = mapping_to_json(w, n, depth);
		break;
	default:
		say(w, 0, "empty node");
		return NULL;
	}
	/* true, false and null are shared: they have no line of their own */
	if (out != NULL && w->lines != NULL && !json_is_boolean(out) && !json_is_null(out))
		lines_put(w->lines, out, key_line > 0 ? key_line : n->start_mark.line + w->first);
	return out;
}

/* A first pass over the events stops at the first level past YAML_MAX_DEPTH,
 * before libyaml's scanner gets far (100 000 "[" take it ~15 s). Syntax errors
 * are left to the loader, which words them. */
static int
depth_check(walk *w, const char *text, size_t len)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	int depth = 0, r = 0, done = 0;

	if (!yaml_parser_initialize(&parser))
		return 0;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	while (!done && yaml_parser_parse(&parser, &ev)) {
		switch (ev.type) {
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (++depth > YAML_MAX_DEPTH) {
				say(w, ev.start_mark.line + w->first,
				    "nested too deeply (more than %d levels)", YAML_MAX_DEPTH);
				r = -1;
				done = 1;
			}
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	return r;
}

static void
syntax_error(walk *w, const yaml_parser_t *parser)
{
	yaml_mark_t m = parser->problem_mark;

	/* an unclosed bracket is found at the end: its opening line says more */
	if (parser->context != NULL && parser->problem_mark.line == 0 &&
	    parser->context_mark.line > 0)
		m = parser->context_mark;
	say(w, m.line + w->first, "%s%s%s",
	    parser->problem != NULL ? parser->problem : "invalid YAML",
	    parser->context != NULL ? " " : "", parser->context != NULL ? parser->context : "");
}

int
yaml_load(const char *text, size_t len, const yaml_opts *o, json_t **out, yaml_lines **lines,
    char *err, size_t errlen)
{
	walk w = { .o = o, .first = o->first_line > 0 ? o->first_line : 1, .err = err,
		.errlen = errlen };
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;

	*out = NULL;
	if (lines != NULL)
		*lines = NULL;
	if (errlen > 0)
		err[0] = '\0';
	if (depth_check(&w, text, len) != 0)
		return -EINVAL;
	if (!yaml_parser_initialize(&parser)) {
		say(&w, 0, "out of memory");
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	if (!yaml_parser_load(&parser, &doc)) {
		syntax_error(&w, &parser);
		yaml_parser_delete(&parser);
		return -EINVAL;
	}
	w.doc = &doc;
	if (lines != NULL)
		w.lines = xcalloc(1, sizeof(*w.lines));
	root = yaml_document_get_root_node(&doc);
	if (root == NULL) /* an empty document */
		*out = json_object();
	else if (root->type != YAML_MAPPING_NODE)
		say(&w, root->start_mark.line + w.first, "%s", o->not_mapping);
	else
		*out = node_to_json(&w, root, 0, 0);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (*out == NULL) {
		yaml_lines_free(w.lines);
		return -EINVAL;
	}
	if (lines != NULL)
		*lines = w.lines;
	return 0;
}

/* ---- scalars as callers need them ---- */

int
yaml_bool(const json_t *v, int *out)
{
	static const char *const yes[] = { "true", "yes", "on" }, *const no[] = { "false", "no",
		"off" };
	const char *s = json_string_value(v);
	size_t i;

	if (json_is_boolean(v)) {
		*out = json_is_true(v);
		return 0;
	}
	for (i = 0; s != NULL && i < 3; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return *out = 1, 0;
		if (strcasecmp(s, no[i]) == 0)
			return *out = 0, 0;
	}
	return -EINVAL;
}

int
yaml_number(const json_t *v, double *out)
{
	const char *s = json_string_value(v);
	char *end;

	if (json_is_number(v)) {
		*out = json_number_value(v);
		return 0;
	}
	if (s == NULL || *s == '\0')
		return -EINVAL;
	*out = strtod(s, &end);
	return *end == '\0' && isfinite(*out) ? 0 : -EINVAL;
}

int
yaml_uint(const json_t *v, uint64_t *out)
{
	const char *s = json_string_value(v);
	unsigned long long n;
	char *end;

	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (s == NULL || !match_all(s, "0123456789"))
		return -EINVAL;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -EINVAL;
	*out = n;
	return 0;
}

int
yaml_size(const json_t *v, uint64_t *out)
{
	static const struct {
		const char *suffix;
		double mul;
	} units[] = {
		{ "", 1 }, { "K", 1e3 }, { "M", 1e6 }, { "G", 1e9 }, { "T", 1e12 },
		{ "Ki", 1024.0 }, { "Mi", 1048576.0 }, { "Gi", 1073741824.0 },
		{ "Ti", 1099511627776.0 }
	};
	const char *s = json_string_value(v);
	char buf[64], *end;
	double n, bytes;
	size_t i;

	if (json_is_number(v)) {
		snprintf(buf, sizeof(buf), "%.17g", json_number_value(v));
		s = buf;
	}
	if (s == NULL)
		return -EINVAL;
	n = strtod(s, &end);
	if (end == s || !(n > 0))
		return -EINVAL;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) != 0)
			continue;
		bytes = n * units[i].mul;
		if (!(bytes < 18e18)) /* past what a uint64_t holds */
			return -EINVAL;
		*out = (uint64_t)bytes;
		return 0;
	}
	return -EINVAL;
}
