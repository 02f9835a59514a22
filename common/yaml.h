/* yaml.h — the one YAML reader: a document (libyaml) into a jansson tree, for
 * README front matter (builder), DATA/config.yaml (config.h) and what reads its
 * keys (hardware flavors, egress).
 *
 * Mappings become objects (keys must be scalars), sequences arrays. Scalars stay
 * strings, or with .typed, plain scalars are typed the way YAML 1.1 (PyYAML) does:
 * null/~, true/false/yes/no/on/off, integers, floats; quoted and block scalars stay
 * strings, so `sdk_version: "4.0"` is "4.0" while `python_version: 3.10` is the
 * float 3.1, as on Hugging Face.
 *
 * Aliases are followed, so a few hundred bytes could name billions of values
 * ("billion laughs"): what a document expands to is bounded in depth, values and
 * text, and the depth is checked on libyaml's events first (its scanner slows down
 * quadratically with nesting). An empty document is an empty object; the top level
 * must be a mapping. Every error reads "WHAT: line N: why".
 *
 * The line each value came from can be kept (yaml_lines) for the checks a caller
 * makes once the tree is loaded: a mapping's value has its key's line, any other
 * value its own. */
#ifndef PODIUM_YAML_H
#define PODIUM_YAML_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define YAML_MAX_DEPTH 64
#define YAML_MAX_VALUES 100000
#define YAML_MAX_TEXT (4 << 20)

typedef struct yaml_opts {
	const char *what;        /* names the text in errors ("README.md front matter") */
	size_t first_line;       /* the number of the text's first line (0 counts as 1) */
	int typed;               /* type plain scalars as YAML 1.1 does */
	const char *not_mapping; /* why, when the top level is not a mapping */
} yaml_opts;

/* Where the values of one tree came from; owned by whoever asked yaml_load for it. */
typedef struct yaml_lines yaml_lines;

/* 0 with a new object in *out, and when lines is not NULL a new table in *lines
 * (yaml_lines_free); or -EINVAL / -ENOMEM with err set and *out NULL. */
int yaml_load(const char *text, size_t len, const yaml_opts *o, json_t **out, yaml_lines **lines,
    char *err, size_t errlen);
/* The line v came from, or 0 when v is not in the table (typed true, false and null
 * are shared values and never are). */
size_t yaml_line(const yaml_lines *l, const json_t *v);
void yaml_lines_free(yaml_lines *l);

/* Scalars as a caller needs them, whether loaded as strings or typed: 0 and *out,
 * or -EINVAL. */
/* true/yes/on, false/no/off, in any case. */
int yaml_bool(const json_t *v, int *out);
/* A finite number (strtod's syntax, the whole text). */
int yaml_number(const json_t *v, double *out);
/* A whole number of decimal digits. */
int yaml_uint(const json_t *v, uint64_t *out);
/* A size above 0 in bytes, or with a suffix: K, M, G, T (powers of 1000) or Ki, Mi,
 * Gi, Ti (powers of 1024); "1.5Gi" too. */
int yaml_size(const json_t *v, uint64_t *out);

#endif
