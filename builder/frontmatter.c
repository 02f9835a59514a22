/* frontmatter.c — README.md front matter ("---\n yaml \n---") to a JSON object.
 *
 * libyaml builds the node graph; we map it to jansson. Plain scalars are typed
 * the way YAML 1.1 (PyYAML, what Hugging Face users write against) types them:
 * null/~, true/false/yes/no/on/off, integers, floats. Quoted scalars, block
 * scalars stay strings, so `sdk_version: "4.0"` is "4.0"
 * while `python_version: 3.10` is the float 3.1 — as on Hugging Face. */
#include "builder/build.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#define FM_MAX_DEPTH 64
/* Aliases let a few hundred bytes name billions of values ("billion laughs"):
 * the card, once expanded, is bounded in values and in text. */
#define FM_MAX_VALUES 100000
#define FM_MAX_TEXT (4 << 20)

/* README line numbers: the YAML starts on the line after the opening "---". */
typedef struct fm_ctx {
	yaml_document_t *doc;
	size_t first_line;
	char *err;
	size_t errlen;
	size_t values, text;  /* expanded so far */
} fm_ctx;

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
	static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON" };
	static const char *const no[] = { "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF" };
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

static json_t *
node_to_json(fm_ctx *ctx, yaml_node_t *node, int depth)
{
	yaml_node_item_t *item;
	yaml_node_pair_t *pair;
	json_t *out, *v;
	const char *text;

	if (node == NULL || depth > FM_MAX_DEPTH) {
		snprintf(ctx->err, ctx->errlen, "README.md front matter: nested too deeply");
		return NULL;
	}
	if (++ctx->values > FM_MAX_VALUES || (node->type == YAML_SCALAR_NODE &&
	    (ctx->text += node->data.scalar.length) > FM_MAX_TEXT)) {
		snprintf(ctx->err, ctx->errlen, "README.md front matter: too large once its "
		    "aliases are expanded (more than %d values or %d MiB of text)", FM_MAX_VALUES,
		    FM_MAX_TEXT >> 20);
		return NULL;
	}
	switch (node->type) {
	case YAML_SCALAR_NODE:
		text = (const char *)node->data.scalar.value;
		/* The loader tags every untagged scalar !!str, so only the style tells a
		 * quoted "123" from a plain 123. */
		if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
			out = json_stringn(text, node->data.scalar.length);
		else
			out = plain_scalar(text);
		if (out == NULL) /* not UTF-8 or embedded NUL */
			snprintf(ctx->err, ctx->errlen, "README.md front matter: line %zu: "
			    "invalid text", node->start_mark.line + ctx->first_line);
		return out;
	case YAML_SEQUENCE_NODE:
		out = json_array();
		for (item = node->data.sequence.items.start; item < node->data.sequence.items.top;
		    item++) {
			v = node_to_json(ctx, yaml_document_get_node(ctx->doc, *item), depth + 1);
			if (v == NULL || json_array_append_new(out, v) != 0)
				goto failed;
		}
		return out;
	case YAML_MAPPING_NODE:
		out = json_object();
		for (pair = node->data.mapping.pairs.start; pair < node->data.mapping.pairs.top;
		    pair++) {
			yaml_node_t *key = yaml_document_get_node(ctx->doc, pair->key);

			if (key == NULL || key->type != YAML_SCALAR_NODE) {
				snprintf(ctx->err, ctx->errlen, "README.md front matter: line %zu: "
				    "keys must be plain text", (key != NULL ? key->start_mark.line : 0) +
				    ctx->first_line);
				goto failed;
			}
			v = node_to_json(ctx, yaml_document_get_node(ctx->doc, pair->value), depth + 1);
			if (v == NULL)
				goto failed;
			if (json_object_set_new(out, (const char *)key->data.scalar.value, v) != 0) {
				snprintf(ctx->err, ctx->errlen, "README.md front matter: line %zu: "
				    "invalid key", key->start_mark.line + ctx->first_line);
				goto failed;
			}
		}
		return out;
	default:
		snprintf(ctx->err, ctx->errlen, "README.md front matter: empty node");
		return NULL;
	}
failed:
	json_decref(out);
	return NULL;
}

/* Finds the YAML between an opening "---" line and the closing "---" (or "...")
 * line. 1 found, 0 no front matter, -1 not closed. */
static int
frontmatter_find(const char *text, size_t len, const char **yaml, size_t *ylen)
{
	const char *p = text, *end = text + len, *line, *nl;

	if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3; /* UTF-8 BOM written by some editors */
	if ((size_t)(end - p) < 3 || memcmp(p, "---", 3) != 0)
		return 0;
	for (line = p + 3; line < end && (*line == ' ' || *line == '\t' || *line == '\r'); line++)
		;
	if (line < end && *line != '\n')
		return 0; /* "----" or "--- text": a thematic break, not front matter */
	*yaml = line < end ? line + 1 : end;
	for (line = *yaml; line < end; line = nl + 1) {
		size_t n;

		nl = memchr(line, '\n', (size_t)(end - line));
		if (nl == NULL)
			nl = end;
		n = (size_t)(nl - line);
		while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
			n--;
		if (n == 3 && (memcmp(line, "---", 3) == 0 || memcmp(line, "...", 3) == 0)) {
			*ylen = (size_t)(line - *yaml);
			return 1;
		}
		if (nl == end)
			break;
	}
	return -1;
}

/* libyaml's scanner slows down quadratically with the nesting depth (100 000
 * "[" take it ~15 s): a first pass over the events stops at the first level
 * past FM_MAX_DEPTH, before the scanner gets far. Syntax errors are left to
 * the loader, which words them. */
static int
fm_depth_check(const char *yaml, size_t ylen, const fm_ctx *ctx)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	int depth = 0, r = 0, done = 0;

	if (!yaml_parser_initialize(&parser))
		return 0;
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, ylen);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	while (!done && yaml_parser_parse(&parser, &ev)) {
		switch (ev.type) {
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (++depth > FM_MAX_DEPTH) {
				snprintf(ctx->err, ctx->errlen, "README.md front matter: line %zu: "
				    "nested too deeply (more than %d levels)",
				    ev.start_mark.line + ctx->first_line, FM_MAX_DEPTH);
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

int
builder_frontmatter_parse(const char *text, size_t len, json_t **card, char *err, size_t errlen)
{
	fm_ctx ctx = { .first_line = 2, .err = err, .errlen = errlen };
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	const char *yaml;
	size_t ylen = 0;
	json_t *out = NULL;
	int r;

	*card = NULL;
	if (errlen > 0)
		err[0] = '\0';
	r = frontmatter_find(text, len, &yaml, &ylen);
	if (r == 0) {
		*card = json_object();
		return 0;
	}
	if (r < 0) {
		snprintf(err, errlen, "README.md front matter: not closed (no \"---\" line after "
		    "line 1)");
		return -1;
	}
	if (fm_depth_check(yaml, ylen, &ctx) != 0)
		return -1;
	if (!yaml_parser_initialize(&parser)) {
		snprintf(err, errlen, "README.md front matter: out of memory");
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, ylen);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	if (!yaml_parser_load(&parser, &doc)) {
		yaml_mark_t m = parser.problem_mark;

		if (parser.context != NULL && parser.problem_mark.line == 0 &&
		    parser.context_mark.line > 0)
			m = parser.context_mark;
		snprintf(err, errlen, "README.md front matter: line %zu: %s%s%s",
		    m.line + ctx.first_line,
		    parser.problem != NULL ? parser.problem : "invalid YAML",
		    parser.context != NULL ? " " : "",
		    parser.context != NULL ? parser.context : "");
		yaml_parser_delete(&parser);
		return -1;
	}
	ctx.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (root == NULL) {
		out = json_object(); /* "---\n---": empty front matter */
	} else if (root->type != YAML_MAPPING_NODE) {
		snprintf(err, errlen, "README.md front matter: line %zu: expected \"key: value\" "
		    "lines", root->start_mark.line + ctx.first_line);
	} else {
		out = node_to_json(&ctx, root, 0);
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (out == NULL)
		return -1;
	*card = out;
	return 0;
}
