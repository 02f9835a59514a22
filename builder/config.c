/* config.c — how to run a release: README front matter, sdk detection, validation.
 *
 * Order of precedence, as on Hugging Face plus the Heroku/Dokku habit:
 *   front matter sdk (if any) → else detection: Procfile, package.json,
 *   app.py / requirements.txt, index.html; and a Procfile "web:" line, when present,
 *   is the command for every sdk but static. */
#include "builder/build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "builder/builder_int.h"
#include "builder/image.h"
#include "common/util.h"

#define APP_DIR            "/home/user/app"
#define DEFAULT_PORT       7860
#define DEFAULT_STARTUP_S  (30 * 60)
#define README_MAX         (1024 * 1024)

void
app_config_init(app_config *c)
{
	memset(c, 0, sizeof(*c));
	c->app_port = DEFAULT_PORT;
	c->startup_timeout_s = DEFAULT_STARTUP_S;
}

void
app_config_release(app_config *c)
{
	json_decref(c->run_argv);
	json_decref(c->card);
	json_decref(c->image);
	app_config_init(c);
}

json_t *
app_config_to_json(const app_config *c)
{
	json_t *j = json_pack("{s:s, s:i, s:O?, s:s, s:i, s:O?}",
	    "sdk", c->sdk,
	    "app_port", c->app_port,
	    "run_argv", c->run_argv,
	    "static_dir", c->static_dir,
	    "startup_timeout_s", c->startup_timeout_s,
	    "card", c->card);

	if (j != NULL && c->image != NULL)
		json_object_set(j, "image", c->image);
	if (j != NULL && c->installed)
		json_object_set_new(j, "installed", json_true());
	return j;
}

int
app_config_from_json(app_config *c, const json_t *j)
{
	const char *sdk = NULL, *static_dir = "";
	json_t *argv = NULL, *card = NULL, *v;
	int port = DEFAULT_PORT, timeout = DEFAULT_STARTUP_S;
	size_t i;

	app_config_init(c);
	if (json_unpack((json_t *)j, "{s:s, s?i, s?o, s?s, s?i, s?o}",
	    "sdk", &sdk, "app_port", &port, "run_argv", &argv, "static_dir", &static_dir,
	    "startup_timeout_s", &timeout, "card", &card) != 0)
		return -1;
	if (strlen(sdk) >= sizeof(c->sdk) || strlen(static_dir) >= sizeof(c->static_dir) ||
	    port < 1 || port > 65535)
		return -1;
	if (argv != NULL && !json_is_null(argv)) {
		if (!json_is_array(argv) || json_array_size(argv) == 0)
			return -1;
		json_array_foreach(argv, i, v)
			if (!json_is_string(v))
				return -1;
		c->run_argv = json_incref(argv);
	}
	if (card != NULL && json_is_object(card))
		c->card = json_incref(card);
	if (json_is_object(json_object_get(j, "image")))
		c->image = json_incref(json_object_get(j, "image"));
	c->installed = json_is_true(json_object_get(j, "installed"));
	snprintf(c->sdk, sizeof(c->sdk), "%s", sdk != NULL ? sdk : "");
	snprintf(c->static_dir, sizeof(c->static_dir), "%s", static_dir);
	c->app_port = port;
	c->startup_timeout_s = timeout;
	return 0;
}

/* ---- helpers ---------------------------------------------------------------- */

static int
release_has(const char *dir, const char *rel, int want_dir)
{
	struct stat st;
	char *p = xasprintf("%s/%s", dir, rel);
	int r = stat(p, &st) == 0 && (want_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode));

	free(p);
	return r;
}

/* app_file must stay inside the release: no absolute paths, no "..". */
static int
relpath_safe(const char *p)
{
	const char *s;

	if (p[0] == '\0' || p[0] == '/')
		return 0;
	for (s = p; (s = strstr(s, "..")) != NULL; s += 2)
		if ((s == p || s[-1] == '/') && (s[2] == '\0' || s[2] == '/'))
			return 0;
	return 1;
}

/* "30m", "1h", "90s", "2d" or a bare number of seconds. -1 when malformed. */
static long
duration_parse(const json_t *v)
{
	const char *s;
	char *end;
	long n;

	if (json_is_integer(v))
		return json_integer_value(v) > 0 ? (long)json_integer_value(v) : -1;
	if (!json_is_string(v))
		return -1;
	s = json_string_value(v);
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || end == s || n <= 0 || n > 7 * 24 * 3600)
		return -1;
	if (*end == '\0' || strcmp(end, "s") == 0)
		return n;
	if (strcmp(end, "m") == 0)
		return n * 60;
	if (strcmp(end, "h") == 0)
		return n * 3600;
	if (strcmp(end, "d") == 0)
		return n * 86400;
	return -1;
}

static void
value_text(const json_t *v, char *out, size_t outlen)
{
	char *s;

	if (json_is_string(v)) {
		snprintf(out, outlen, "\"%s\"", json_string_value(v));
		return;
	}
	s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	snprintf(out, outlen, "%s", s != NULL ? s : "?");
	free(s);
}

/* UTF-8 characters (code points) in s. */
static size_t
utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* What the gallery and every list show is bounded (issue 21.2), as on the Hub: a card
 * past these is refused, and not kept for the pages either. */
static build_stage_result
card_bounds(const json_t *card, char *err, size_t errlen)
{
	static const struct {
		const char *key;
		size_t max;
	} caps[] = { { "title", BUILDER_TITLE_MAX }, { "short_description", BUILDER_DESCRIPTION_MAX },
		{ "emoji", BUILDER_EMOJI_MAX } };
	const char *v, *k, *largest = NULL;
	size_t n, total, most = 0;
	json_t *val;

	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		v = json_string_value(json_object_get(card, caps[i].key));
		if (v != NULL && (n = utf8_chars(v)) > caps[i].max) {
			snprintf(err, errlen, "%s is %zu characters long, at most %zu are allowed "
			    "(key: %s)", caps[i].key, n, caps[i].max, caps[i].key);
			return BUILD_CONFIG_ERROR;
		}
	}
	total = json_dumpb(card, NULL, 0, JSON_COMPACT);
	if (total <= BUILDER_CARD_MAX)
		return BUILD_OK;
	json_object_foreach((json_t *)card, k, val) {
		if ((n = json_dumpb(val, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY)) > most) {
			most = n;
			largest = k;
		}
	}
	snprintf(err, errlen, "the front matter holds %zu bytes (as JSON), at most %d are allowed; "
	    "the largest value is %zu bytes (key: %s)", total, BUILDER_CARD_MAX, most,
	    largest != NULL ? largest : "?");
	return BUILD_CONFIG_ERROR;
}

/* Type checks of the Hugging Face keys we know; unknown keys are kept as they are. */
static build_stage_result
card_validate(const json_t *card, char *err, size_t errlen)
{
	static const char *const strings[] = { "title", "emoji", "colorFrom", "colorTo", "sdk",
		"app_file", "app_build_command", "short_description", "license" };
	static const char *const versions[] = { "sdk_version", "python_version" };
	const json_t *v;
	char got[96];
	size_t i;

	for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		v = json_object_get(card, strings[i]);
		if (v != NULL && !json_is_string(v) && !json_is_null(v)) {
			value_text(v, got, sizeof(got));
			snprintf(err, errlen, "%s must be a string, got %s (key: %s)", strings[i], got,
			    strings[i]);
			return BUILD_CONFIG_ERROR;
		}
	}
	for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		v = json_object_get(card, versions[i]);
		if (v != NULL && !json_is_string(v) && !json_is_number(v) && !json_is_null(v)) {
			value_text(v, got, sizeof(got));
			snprintf(err, errlen, "%s must be a version like \"3.11\", got %s (key: %s)",
			    versions[i], got, versions[i]);
			return BUILD_CONFIG_ERROR;
		}
	}
	v = json_object_get(card, "app_port");
	if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > 65535)) {
		value_text(v, got, sizeof(got));
		snprintf(err, errlen, "app_port must be an integer between 1 and 65535, got %s "
		    "(key: app_port)", got);
		return BUILD_CONFIG_ERROR;
	}
	v = json_object_get(card, "pinned");
	if (v != NULL && !json_is_boolean(v) && !json_is_null(v)) {
		value_text(v, got, sizeof(got));
		snprintf(err, errlen, "pinned must be true or false, got %s (key: pinned)", got);
		return BUILD_CONFIG_ERROR;
	}
	v = json_object_get(card, "tags");
	if (v != NULL && !json_is_null(v)) {
		const json_t *t;
		size_t j;
		int ok = json_is_array(v);

		if (ok)
			json_array_foreach(v, j, t)
				ok = ok && json_is_string(t);
		if (!ok) {
			value_text(v, got, sizeof(got));
			snprintf(err, errlen, "tags must be a list of strings, got %s (key: tags)", got);
			return BUILD_CONFIG_ERROR;
		}
	}
	v = json_object_get(card, "startup_duration_timeout");
	if (v != NULL && duration_parse(v) < 0) {
		value_text(v, got, sizeof(got));
		snprintf(err, errlen, "startup_duration_timeout must be a duration like \"30m\" or "
		    "\"1h\", got %s (key: startup_duration_timeout)", got);
		return BUILD_CONFIG_ERROR;
	}
	v = json_object_get(card, "app_file");
	if (json_is_string(v) && !relpath_safe(json_string_value(v))) {
		snprintf(err, errlen, "app_file must be a path inside the repository, got \"%s\" "
		    "(key: app_file)", json_string_value(v));
		return BUILD_CONFIG_ERROR;
	}
	return BUILD_OK;
}

/* The command of the Procfile's "web:" line, or NULL (caller frees); *e is
 * the read error other than a missing Procfile. */
static char *
procfile_web(const char *dir, int *e)
{
	char *text = NULL, *line, *save = NULL, *cmd = NULL;
	size_t len;

	*e = fs_read_file_beneath(dir, "Procfile", &text, &len, 64 * 1024);
	if (*e == -ENOENT)
		*e = 0;
	if (text == NULL)
		goto done;
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		size_t n = strlen(line);

		while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' '))
			line[--n] = '\0';
		if (strncmp(line, "web:", 4) == 0) {
			line += 4;
			line += strspn(line, " \t");
			if (*line != '\0')
				cmd = xstrdup(line);
			break;
		}
	}
done:
	free(text);
	return cmd;
}

/* package.json has a "scripts": {"start": ...}; -1 when package.json is not JSON. */
static int
package_has_start(const char *dir, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *pkg, *start;
	char *text = NULL;
	size_t len;
	int r;

	r = fs_read_file_beneath(dir, "package.json", &text, &len, 1 << 20);
	if (r != 0) {
		snprintf(err, errlen, "package.json cannot be read: %s", fs_read_error(r));
		return -1;
	}
	pkg = json_loadb(text, len, 0, &jerr);
	free(text);
	if (pkg == NULL) {
		snprintf(err, errlen, "package.json: line %d: %s", jerr.line, jerr.text);
		return -1;
	}
	start = json_object_get(json_object_get(pkg, "scripts"), "start");
	r = json_is_string(start) && json_string_length(start) > 0;
	json_decref(pkg);
	return r;
}

static const char *
card_string(const json_t *card, const char *key)
{
	const json_t *v = json_object_get(card, key);

	return json_is_string(v) && json_string_length(v) > 0 ? json_string_value(v) : NULL;
}

static build_stage_result
no_app_file(const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s", what);
	return BUILD_NO_APP_FILE;
}

/* ---- the decision ------------------------------------------------------------- */

/* The sdk when the front matter names none, in the detection order of
 * INTERFACES.md, or NULL. A Procfile app (web) is run as it says; the sdk only
 * tells the UI what kind of app it is. */
static const char *
sdk_detect(const char *dir, const char *web)
{
	if (web != NULL)
		return release_has(dir, "package.json", 0) ? "node" : "python";
	if (release_has(dir, "package.json", 0))
		return "node";
	if (release_has(dir, "app.py", 0) || release_has(dir, "requirements.txt", 0))
		return "python";
	if (release_has(dir, "index.html", 0))
		return "static";
	return NULL;
}

static build_stage_result
sdk_check(const char *sdk, char *err, size_t errlen)
{
	const char *why;

	if (sdk == NULL)
		return no_app_file("no app found: add an sdk to the README.md front matter, or a "
		    "Procfile, package.json, app.py or index.html", err, errlen);
	if (strcmp(sdk, "docker") == 0 && !image_store_ready(&why)) {
		snprintf(err, errlen, "sdk docker is not supported on this host (it cannot build "
		    "images: %s); use sdk static, python, gradio, streamlit or node", why);
		return BUILD_CONFIG_ERROR;
	}
	if (strcmp(sdk, "static") != 0 && strcmp(sdk, "python") != 0 && strcmp(sdk, "gradio") != 0 &&
	    strcmp(sdk, "streamlit") != 0 && strcmp(sdk, "node") != 0 && strcmp(sdk, "docker") != 0) {
		snprintf(err, errlen, "unknown sdk \"%s\" (key: sdk); expected one of static, python, "
		    "gradio, streamlit, node, docker", sdk);
		return BUILD_CONFIG_ERROR;
	}
	return BUILD_OK;
}

/* static: the page to serve, and the directory it is in. */
static build_stage_result
decide_static(const char *dir, app_config *c, const char *app_file, char *err, size_t errlen)
{
	const char *index = app_file != NULL ? app_file : "index.html";
	const char *slash = strrchr(index, '/');

	/* With an app_build_command the file may only exist after the build, which
	 * checks again (builder_config_check_static). */
	if (!release_has(dir, index, 0) && card_string(c->card, "app_build_command") == NULL) {
		snprintf(err, errlen, "app file %s not found in the repository%s", index,
		    app_file != NULL ? " (key: app_file)" : "");
		return BUILD_NO_APP_FILE;
	}
	if (slash != NULL)
		snprintf(c->static_dir, sizeof(c->static_dir), "%.*s", (int)(slash - index), index);
	return BUILD_OK;
}

/* node: package.json's "start" script, else app_file, index.js or server.js. */
static build_stage_result
decide_node(const char *dir, app_config *c, const char *app_file, char *err, size_t errlen)
{
	int start = release_has(dir, "package.json", 0) ? package_has_start(dir, err, errlen) : 0;

	if (start < 0)
		return BUILD_CONFIG_ERROR;
	if (start && app_file == NULL) {
		c->run_argv = json_pack("[s, s]", "npm", "start");
		return BUILD_OK;
	}
	if (app_file == NULL)
		app_file = release_has(dir, "index.js", 0) ? "index.js" :
		    release_has(dir, "server.js", 0) ? "server.js" : NULL;
	if (app_file == NULL || !release_has(dir, app_file, 0)) {
		snprintf(err, errlen, "app file %s not found in the repository%s",
		    app_file != NULL ? app_file : "index.js (or server.js, or a \"start\" script "
		    "in package.json)", app_file != NULL ? " (key: app_file)" : "");
		return BUILD_NO_APP_FILE;
	}
	c->run_argv = json_pack("[s, s]", "node", app_file);
	return BUILD_OK;
}

int
builder_sdk_pinned(const app_config *c)
{
	return (strcmp(c->sdk, "gradio") == 0 || strcmp(c->sdk, "streamlit") == 0) &&
	    builder_card_version(c->card, "sdk_version") != NULL;
}

int
builder_needs_venv(const char *dir, const app_config *c)
{
	return release_has(dir, "requirements.txt", 0) || release_has(dir, "pre-requirements.txt", 0) ||
	    builder_sdk_pinned(c);
}

/* A version key of the front matter ("4.44.1", or a YAML number) as text, or NULL.
 * Static storage: valid until the next call. */
const char *
builder_card_version(const json_t *card, const char *key)
{
	static char buf[64];
	const json_t *v = json_object_get(card, key);

	if (json_is_string(v) && json_string_length(v) > 0 &&
	    strspn(json_string_value(v), "0123456789.abcrcdevpost+") == json_string_length(v)) {
		snprintf(buf, sizeof(buf), "%s", json_string_value(v));
		return buf;
	}
	if (json_is_number(v)) {
		snprintf(buf, sizeof(buf), "%g", json_number_value(v));
		return buf;
	}
	return NULL;
}

/* python, gradio, streamlit: app_file (app.py) with the release's venv when the
 * build makes one (requirements, pre-requirements, a pinned sdk). Streamlit's
 * app runs as the Hub runs it, `streamlit run APP_FILE`. */
static build_stage_result
decide_python(const char *dir, app_config *c, const char *app_file, char *err, size_t errlen)
{
	int venv = builder_needs_venv(dir, c);
	const char *python = venv ? APP_DIR "/.venv/bin/python" : "python3";
	char port[16];

	if (app_file == NULL)
		app_file = "app.py";
	if (!release_has(dir, app_file, 0)) {
		snprintf(err, errlen, "app file %s not found in the repository%s", app_file,
		    card_string(c->card, "app_file") != NULL ? " (key: app_file)" : "");
		return BUILD_NO_APP_FILE;
	}
	snprintf(port, sizeof(port), "%d", c->app_port);
	if (strcmp(c->sdk, "streamlit") == 0)
		c->run_argv = json_pack("[s, s, s, s, s, s, s]",
		    venv ? APP_DIR "/.venv/bin/streamlit" : "streamlit", "run", app_file,
		    "--server.port", port, "--server.address", "0.0.0.0");
	else
		c->run_argv = json_pack("[s, s]", python, app_file);
	return BUILD_OK;
}

static build_stage_result
config_decide(const char *dir, app_config *c, char *err, size_t errlen)
{
	const char *sdk = card_string(c->card, "sdk"), *app_file = card_string(c->card, "app_file");
	int procfile_err;
	char *web = procfile_web(dir, &procfile_err);
	build_stage_result r;

	if (procfile_err != 0) {
		snprintf(err, errlen, "Procfile cannot be read: %s", fs_read_error(procfile_err));
		r = BUILD_CONFIG_ERROR;
		goto done;
	}
	if (sdk == NULL)
		sdk = sdk_detect(dir, web);
	if ((r = sdk_check(sdk, err, errlen)) != BUILD_OK)
		goto done;
	/* not NULL after sdk_check; said for the compiler, which cannot always see it */
	snprintf(c->sdk, sizeof(c->sdk), "%s", sdk != NULL ? sdk : "");
	/* docker: the image's command, once it is built (image_build.c) */
	if (strcmp(c->sdk, "docker") == 0)
		goto done;
	if (strcmp(sdk, "static") == 0)
		r = decide_static(dir, c, app_file, err, errlen);
	else if (web != NULL)
		c->run_argv = json_pack("[s, s, s]", "/bin/sh", "-c", web);
	else if (strcmp(sdk, "node") == 0)
		r = decide_node(dir, c, app_file, err, errlen);
	else
		r = decide_python(dir, c, app_file, err, errlen);
done:
	free(web);
	return r;
}

int
builder_readme_check(const char *text, size_t len, json_t *warnings, char *err, size_t errlen)
{
	const char *sdk;
	json_t *card = NULL;
	int r = -1;

	if (builder_frontmatter_parse(text, len, &card, err, errlen) != 0)
		goto done;
	if (card_validate(card, err, errlen) != BUILD_OK)
		goto done;
	sdk = card_string(card, "sdk");
	if (sdk != NULL && strcmp(sdk, "docker") == 0) {
		/* valid on the Hub: said, not refused */
		json_array_append_new(warnings, json_pack("{s:s}", "message", "sdk docker builds to "
		    "CONFIG_ERROR on this host (no container engine): use static, python, gradio, "
		    "streamlit or node"));
	} else if (sdk != NULL && sdk_check(sdk, err, errlen) != BUILD_OK) {
		goto done;
	}
	r = 0;
done:
	json_decref(card);
	return r;
}

build_stage_result
builder_config_load(const char *release_dir, app_config *c, char *err, size_t errlen)
{
	char *text = NULL;
	const json_t *v;
	build_stage_result r;
	size_t len = 0;
	int e;

	app_config_init(c);
	err[0] = '\0';
	e = fs_read_file_beneath(release_dir, "README.md", &text, &len, README_MAX);
	if (e == -EFBIG) {
		snprintf(err, errlen, "README.md is larger than %d bytes", README_MAX);
		return BUILD_CONFIG_ERROR;
	}
	if (e != 0 && e != -ENOENT) {
		snprintf(err, errlen, "README.md cannot be read: %s", fs_read_error(e));
		return BUILD_CONFIG_ERROR;
	}
	if (e != 0) {
		c->card = json_object(); /* no README: detect */
	} else if (builder_frontmatter_parse(text, len, &c->card, err, errlen) != 0) {
		free(text);
		return BUILD_CONFIG_ERROR;
	}
	free(text);
	if ((r = card_validate(c->card, err, errlen)) == BUILD_OK &&
	    (r = card_bounds(c->card, err, errlen)) != BUILD_OK) {
		json_decref(c->card);
		c->card = NULL;
	}
	if (r != BUILD_OK)
		return r;
	if ((v = json_object_get(c->card, "app_port")) != NULL)
		c->app_port = (int)json_integer_value(v);
	if ((v = json_object_get(c->card, "startup_duration_timeout")) != NULL)
		c->startup_timeout_s = (int)duration_parse(v);
	r = config_decide(release_dir, c, err, errlen);
	if (r != BUILD_OK) {
		json_decref(c->run_argv);
		c->run_argv = NULL;
	}
	return r;
}
