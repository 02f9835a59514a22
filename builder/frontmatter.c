/* frontmatter.c — README.md front matter ("---\n yaml \n---") to a JSON object.
 *
 * The YAML itself is read by common/yaml.c with plain scalars typed as YAML 1.1
 * (PyYAML, what Hugging Face users write against) types them: null/~,
 * true/false/yes/no/on/off, integers, floats. Quoted scalars, block scalars stay
 * strings, so `sdk_version: "4.0"` is "4.0" while `python_version: 3.10` is the
 * float 3.1 — as on Hugging Face. */
#include "builder/build.h"

#include <stdio.h>
#include <string.h>

#include "common/yaml.h"

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

int
builder_frontmatter_parse(const char *text, size_t len, json_t **card, char *err, size_t errlen)
{
	/* README line numbers: the YAML starts on the line after the opening "---". */
	static const yaml_opts opts = { .what = "README.md front matter", .first_line = 2,
		.typed = 1, .not_mapping = "expected \"key: value\" lines" };
	const char *yaml;
	size_t ylen = 0;
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

	return yaml_load(yaml, ylen, &opts, card, NULL, err, errlen) == 0 ? 0 : -1;
}
