/* Front matter parsing, config detection/validation and the config's JSON form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "builder/build.h"
#include "builder/builder_int.h"
#include "common/util.h"

static char errbuf[1024];

static json_t *
parse_ok(const char *text)
{
	json_t *card = NULL;

	assert_int_equal(builder_frontmatter_parse(text, strlen(text), &card, errbuf,
	    sizeof(errbuf)), 0);
	assert_non_null(card);
	assert_true(json_is_object(card));
	return card;
}

static void
parse_fails(const char *text, const char *needle)
{
	json_t *card = (json_t *)0x1;

	assert_int_equal(builder_frontmatter_parse(text, strlen(text), &card, errbuf,
	    sizeof(errbuf)), -1);
	assert_null(card);
	if (strstr(errbuf, needle) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", errbuf, needle);
}

static void
test_frontmatter_hf_readme(void **state)
{
	json_t *card = parse_ok(
	    "---\n"
	    "title: My Demo\n"
	    "emoji: 🚀\n"
	    "colorFrom: blue\n"
	    "colorTo: red\n"
	    "sdk: gradio\n"
	    "sdk_version: 4.36.1\n"
	    "python_version: 3.10\n"
	    "app_file: app.py\n"
	    "app_port: 7861\n"
	    "pinned: false\n"
	    "license: mit\n"
	    "quoted: \"123\"\n"
	    "nothing: ~\n"
	    "tags:\n"
	    "  - demo\n"
	    "  - 'text'\n"
	    "models: [a/b, c/d]\n"
	    "nested: {x: 1.5e3, y: yes}\n"
	    "---\n"
	    "# My Demo\n\nSome text.\n");

	assert_string_equal(json_string_value(json_object_get(card, "title")), "My Demo");
	assert_string_equal(json_string_value(json_object_get(card, "emoji")), "🚀");
	assert_string_equal(json_string_value(json_object_get(card, "sdk_version")), "4.36.1");
	assert_true(json_is_real(json_object_get(card, "python_version")));
	assert_int_equal(json_integer_value(json_object_get(card, "app_port")), 7861);
	assert_true(json_is_false(json_object_get(card, "pinned")));
	assert_string_equal(json_string_value(json_object_get(card, "quoted")), "123");
	assert_true(json_is_null(json_object_get(card, "nothing")));
	assert_int_equal(json_array_size(json_object_get(card, "tags")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(card, "tags"), 1)),
	    "text");
	assert_int_equal(json_array_size(json_object_get(card, "models")), 2);
	assert_true(json_is_real(json_object_get(json_object_get(card, "nested"), "x")));
	assert_true(json_is_true(json_object_get(json_object_get(card, "nested"), "y")));
	json_decref(card);
}

static void
test_frontmatter_none(void **state)
{
	json_t *card;

	card = parse_ok("# Just a README\n---\nsdk: static\n---\n");
	assert_int_equal(json_object_size(card), 0);
	json_decref(card);
	card = parse_ok("");
	assert_int_equal(json_object_size(card), 0);
	json_decref(card);
	card = parse_ok("---\n---\nbody\n");
	assert_int_equal(json_object_size(card), 0);
	json_decref(card);
	/* CRLF and a BOM, as Windows editors write them. */
	card = parse_ok("\xEF\xBB\xBF---\r\nsdk: static\r\n---\r\n");
	assert_string_equal(json_string_value(json_object_get(card, "sdk")), "static");
	json_decref(card);
}

static void
test_frontmatter_broken(void **state)
{
	/* README line 4 is the bad one (line 1 is the opening ---). */
	parse_fails("---\ntitle: x\nsdk: static\ncolorFrom: a: b\n---\n", "line 4");
	parse_fails("---\ntitle: x\nsdk: static\ncolorFrom: a: b\n---\n",
	    "mapping values are not allowed");
	parse_fails("---\ntitle: [unclosed\n---\n", "README.md front matter: line");
	parse_fails("---\ntitle: x\n", "not closed");
	parse_fails("---\n- a\n- b\n---\n", "key: value");
}

/* Alias bombs and deep nesting: refused quickly, with what was wrong. */
static void
test_frontmatter_limits(void **state)
{
	char *deep, *p;
	size_t i, n = 100000;
	struct timespec t0, t1;
	json_t *card;

	/* 9 levels of 10 aliases: 10^9 values once expanded, from 400 bytes */
	parse_fails("---\na: &a [x, x, x, x, x, x, x, x, x, x]\n"
	    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
	    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
	    "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
	    "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
	    "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
	    "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n---\n", "aliases are expanded");
	/* control: a few aliases are fine */
	card = parse_ok("---\na: &a [x, y]\nb: *a\nc: *a\n---\n");
	assert_int_equal(json_array_size(json_object_get(card, "c")), 2);
	json_decref(card);

	/* 100 000 "[": refused at level 65 without scanning the rest (libyaml's
	 * scanner alone takes ~15 s over all of it) */
	deep = xmalloc(n + 32);
	p = deep + sprintf(deep, "---\nx: ");
	for (i = 0; i < n; i++)
		*p++ = '[';
	strcpy(p, "\n---\n");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	parse_fails(deep, "nested too deeply (more than 64 levels)");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* not a timing test: 15 s against milliseconds, far apart on any machine */
	assert_true(t1.tv_sec - t0.tv_sec < 5);
	free(deep);
	parse_fails("---\nx: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
	    "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n---\n",
	    "nested too deeply");
	card = parse_ok("---\nx: [[[[[[[[[[a]]]]]]]]]]\n---\n");
	json_decref(card);
}

static void
write_file(const char *dir, const char *name, const char *text)
{
	char *p = xasprintf("%s/%s", dir, name);
	char *slash = strrchr(p, '/');

	*slash = '\0';
	fs_mkdir_p(p, 0755);
	*slash = '/';
	assert_int_equal(fs_write_file(p, text, strlen(text), 0644), 0);
	free(p);
}

static char *
tmpdir(void)
{
	char tmpl[] = "/tmp/podium-test-config-XXXXXX";

	assert_non_null(mkdtemp(tmpl));
	return xstrdup(tmpl);
}

static build_stage_result
load(const char *dir, app_config *c)
{
	return builder_config_load(dir, c, errbuf, sizeof(errbuf));
}

static void
expect_error(const char *readme, build_stage_result want, const char *needle)
{
	char *dir = tmpdir();
	app_config c;

	write_file(dir, "README.md", readme);
	write_file(dir, "app.py", "print('hi')\n");
	write_file(dir, "index.html", "<p>hi</p>\n");
	assert_int_equal(load(dir, &c), want);
	if (strstr(errbuf, needle) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", errbuf, needle);
	app_config_release(&c);
	fs_rm_rf(dir);
	free(dir);
}

/* The release in dir fails to load with needle in the error. */
static void
load_fails(const char *dir, const char *needle)
{
	app_config c;

	assert_int_equal(load(dir, &c), BUILD_CONFIG_ERROR);
	if (strstr(errbuf, needle) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", errbuf, needle);
	app_config_release(&c);
}

/* README.md, Procfile and package.json come from a push and are read by the
 * daemon (root): links are followed only while they stay in the release,
 * FIFOs and devices are never opened for reading. */
static void
test_config_links_and_fifos(void **state)
{
	char *dir = tmpdir(), *p, *q;
	app_config c;

	write_file(dir, "app.py", "print('hi')\n");
	write_file(dir, "docs/card.md", "---\ntitle: linked\nsdk: python\n---\n");
	p = xasprintf("%s/README.md", dir);
	/* control: a link inside the release is followed */
	assert_int_equal(symlink("docs/card.md", p), 0);
	assert_int_equal(load(dir, &c), BUILD_OK);
	assert_string_equal(json_string_value(json_object_get(c.card, "title")), "linked");
	app_config_release(&c);
	/* a link out of it is not */
	unlink(p);
	assert_int_equal(symlink("/etc/passwd", p), 0);
	load_fails(dir, "README.md cannot be read: it is a symbolic link leading out");
	unlink(p);
	assert_int_equal(symlink("../../../../../../etc/passwd", p), 0);
	load_fails(dir, "README.md cannot be read");
	/* a FIFO would block the daemon's loop forever */
	unlink(p);
	assert_int_equal(mkfifo(p, 0644), 0);
	load_fails(dir, "not a regular file");
	unlink(p);
	/* Procfile and package.json the same */
	q = xasprintf("%s/Procfile", dir);
	assert_int_equal(symlink("/etc/shadow", q), 0);
	load_fails(dir, "Procfile cannot be read");
	unlink(q);
	free(q);
	q = xasprintf("%s/package.json", dir);
	assert_int_equal(symlink("/etc/shadow", q), 0);
	write_file(dir, "server.js", "\n");
	write_file(dir, "README.md", "---\nsdk: node\n---\n");
	load_fails(dir, "package.json cannot be read");
	assert_null(strstr(errbuf, "root"));
	free(q);
	free(p);
	fs_rm_rf(dir);
	free(dir);
}

static void
test_config_wrong_types(void **state)
{
	expect_error("---\nsdk: python\napp_port: abc\n---\n", BUILD_CONFIG_ERROR, "app_port");
	expect_error("---\nsdk: python\napp_port: 70000\n---\n", BUILD_CONFIG_ERROR,
	    "between 1 and 65535");
	expect_error("---\nsdk: python\napp_port: 80.5\n---\n", BUILD_CONFIG_ERROR, "(key: app_port)");
	expect_error("---\nsdk: python\npinned: maybe\n---\n", BUILD_CONFIG_ERROR, "(key: pinned)");
	expect_error("---\nsdk: [python]\n---\n", BUILD_CONFIG_ERROR, "(key: sdk)");
	expect_error("---\nsdk: python\ntags: 3\n---\n", BUILD_CONFIG_ERROR, "(key: tags)");
	expect_error("---\nsdk: python\nstartup_duration_timeout: soon\n---\n", BUILD_CONFIG_ERROR,
	    "startup_duration_timeout");
	expect_error("---\nsdk: python\napp_file: ../../etc/passwd\n---\n", BUILD_CONFIG_ERROR,
	    "(key: app_file)");
	expect_error("---\nsdk: python\napp_port: 8080\ntitle: {a: 1}\n---\n", BUILD_CONFIG_ERROR,
	    "(key: title)");
	expect_error("---\nsdk: rust\n---\n", BUILD_CONFIG_ERROR, "unknown sdk \"rust\" (key: sdk)");
	expect_error("---\nsdk: docker\n---\n", BUILD_CONFIG_ERROR,
	    "sdk docker is not supported on this host");
	expect_error("---\nsdk: python\napp_file: main.py\n---\n", BUILD_NO_APP_FILE, "main.py");
	expect_error("---\nsdk: static\napp_file: dist/index.html\n---\n", BUILD_NO_APP_FILE,
	    "dist/index.html");
	expect_error("---\nsdk: [unclosed\n---\n", BUILD_CONFIG_ERROR, "front matter: line 3");
}

/* Issue 21.2: title at most 30 characters, short_description 60 (characters, not
 * bytes), emoji 10, the card 16 KiB as JSON; longer is refused naming the key, and
 * the card is not kept for the pages. */
static void
test_config_bounds(void **state)
{
	char *dir = tmpdir(), *readme, *big = malloc(BUILDER_CARD_MAX + 1);
	app_config c;

	(void)state;
	expect_error("---\nsdk: static\ntitle: 1234567890123456789012345678901\n---\n",
	    BUILD_CONFIG_ERROR, "title is 31 characters long, at most 30 are allowed (key: title)");
	expect_error("---\nsdk: static\nshort_description: \"0123456789012345678901234567890123456789"
	    "012345678901234567890\"\n---\n", BUILD_CONFIG_ERROR, "(key: short_description)");
	expect_error("---\nsdk: static\nemoji: 🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀\n---\n", BUILD_CONFIG_ERROR,
	    "(key: emoji)");
	memset(big, 'x', BUILDER_CARD_MAX);
	big[BUILDER_CARD_MAX] = '\0';
	readme = xasprintf("---\nsdk: static\nlicense: mit\nfoo: %s\n---\n", big);
	expect_error(readme, BUILD_CONFIG_ERROR, "at most 16384 are allowed; the largest value is "
	    "16386 bytes (key: foo)");
	free(readme);
	write_file(dir, "index.html", "<p>hi</p>\n");
	write_file(dir, "README.md", "---\nsdk: static\ntitle: 1234567890123456789012345678901\n---\n");
	assert_int_equal(load(dir, &c), BUILD_CONFIG_ERROR);
	assert_null(c.card);
	app_config_release(&c);
	/* control: at the caps, in multi-byte characters too */
	write_file(dir, "README.md", "---\nsdk: static\ntitle: éééééééééééééééééééééééééééééé\n"
	    "short_description: \"012345678901234567890123456789012345678901234567890123456789\"\n"
	    "emoji: 👨‍👩‍👧‍👦\n---\n");
	assert_int_equal(load(dir, &c), BUILD_OK);
	assert_int_equal(json_string_length(json_object_get(c.card, "title")), 60);
	app_config_release(&c);
	fs_rm_rf(dir);
	free(dir);
	free(big);
}

static void
test_config_values(void **state)
{
	char *dir = tmpdir();
	app_config c;

	write_file(dir, "README.md", "---\nsdk: streamlit\napp_file: src/main.py\napp_port: 8501\n"
	    "startup_duration_timeout: 1h\n---\n");
	write_file(dir, "src/main.py", "\n");
	assert_int_equal(load(dir, &c), BUILD_OK);
	assert_string_equal(c.sdk, "streamlit");
	assert_int_equal(c.app_port, 8501);
	assert_int_equal(c.startup_timeout_s, 3600);
	/* as the Hub runs it: `streamlit run APP_FILE` */
	assert_string_equal(json_string_value(json_array_get(c.run_argv, 0)), "streamlit");
	assert_string_equal(json_string_value(json_array_get(c.run_argv, 1)), "run");
	assert_string_equal(json_string_value(json_array_get(c.run_argv, 2)), "src/main.py");
	assert_string_equal(json_string_value(json_array_get(c.run_argv, 4)), "8501");
	app_config_release(&c);

	/* a pinned sdk gets a venv (the build installs streamlit==1.39.0 there) */
	write_file(dir, "README.md", "---\nsdk: streamlit\nsdk_version: 1.39.0\napp_file: src/main.py\n---\n");
	assert_int_equal(load(dir, &c), BUILD_OK);
	assert_string_equal(json_string_value(json_array_get(c.run_argv, 0)),
	    "/home/user/app/.venv/bin/streamlit");
	app_config_release(&c);

	/* requirements.txt: the venv the build makes runs the app. */
	write_file(dir, "README.md", "---\nsdk: gradio\napp_file: src/main.py\n---\n");
	write_file(dir, "requirements.txt", "gradio\n");
	assert_int_equal(load(dir, &c), BUILD_OK);
	assert_int_equal(c.app_port, 7860);
	assert_int_equal(c.startup_timeout_s, 30 * 60);
	assert_string_equal(json_string_value(json_array_get(c.run_argv, 0)),
	    "/home/user/app/.venv/bin/python");
	app_config_release(&c);

	write_file(dir, "README.md", "---\nsdk: static\napp_file: dist/index.html\n---\n");
	write_file(dir, "dist/index.html", "<p>hi</p>\n");
	assert_int_equal(load(dir, &c), BUILD_OK);
	assert_string_equal(c.static_dir, "dist");
	assert_null(c.run_argv);
	app_config_release(&c);

	write_file(dir, "Procfile", "# comment\nweb: python3 -m http.server $PORT\n");
	write_file(dir, "README.md", "---\nsdk: python\n---\n");
	assert_int_equal(load(dir, &c), BUILD_OK);
	assert_string_equal(json_string_value(json_array_get(c.run_argv, 0)), "/bin/sh");
	assert_string_equal(json_string_value(json_array_get(c.run_argv, 2)),
	    "python3 -m http.server $PORT");
	app_config_release(&c);
	fs_rm_rf(dir);
	free(dir);
}

/* Detection without front matter: Procfile → package.json → app.py/requirements.txt →
 * index.html → NO_APP_FILE. Each round removes the winner of the previous one. */
static void
test_config_detection(void **state)
{
	char *dir = tmpdir(), *p;
	app_config c;

	write_file(dir, "README.md", "# no front matter\n");
	write_file(dir, "Procfile", "web: ./serve\n");
	write_file(dir, "package.json", "{\"scripts\": {\"start\": \"node s.js\"}}\n");
	write_file(dir, "app.py", "\n");
	write_file(dir, "requirements.txt", "\n");
	write_file(dir, "index.html", "\n");

	assert_int_equal(load(dir, &c), BUILD_OK);
	assert_string_equal(json_string_value(json_array_get(c.run_argv, 2)), "./serve");
	app_config_release(&c);

	p = xasprintf("%s/Procfile", dir);
	unlink(p);
	free(p);
	assert_int_equal(load(dir, &c), BUILD_OK);
	assert_string_equal(c.sdk, "node");
	assert_string_equal(json_string_value(json_array_get(c.run_argv, 0)), "npm");
	assert_string_equal(json_string_value(json_array_get(c.run_argv, 1)), "start");
	app_config_release(&c);

	write_file(dir, "package.json", "{\"name\": \"x\"}\n");
	write_file(dir, "server.js", "\n");
	assert_int_equal(load(dir, &c), BUILD_OK);
	assert_string_equal(json_string_value(json_array_get(c.run_argv, 0)), "node");
	assert_string_equal(json_string_value(json_array_get(c.run_argv, 1)), "server.js");
	app_config_release(&c);

	p = xasprintf("%s/package.json", dir);
	unlink(p);
	free(p);
	assert_int_equal(load(dir, &c), BUILD_OK);
	assert_string_equal(c.sdk, "python");
	assert_string_equal(json_string_value(json_array_get(c.run_argv, 1)), "app.py");
	app_config_release(&c);

	/* requirements.txt alone says python, but then app.py is missing. */
	p = xasprintf("%s/app.py", dir);
	unlink(p);
	free(p);
	assert_int_equal(load(dir, &c), BUILD_NO_APP_FILE);
	assert_non_null(strstr(errbuf, "app.py"));
	app_config_release(&c);

	p = xasprintf("%s/requirements.txt", dir);
	unlink(p);
	free(p);
	assert_int_equal(load(dir, &c), BUILD_OK);
	assert_string_equal(c.sdk, "static");
	assert_string_equal(c.static_dir, "");
	assert_null(c.run_argv);
	app_config_release(&c);

	p = xasprintf("%s/index.html", dir);
	unlink(p);
	free(p);
	assert_int_equal(load(dir, &c), BUILD_NO_APP_FILE);
	app_config_release(&c);
	fs_rm_rf(dir);
	free(dir);
}

static void
test_config_json_roundtrip(void **state)
{
	char *dir = tmpdir(), *a, *b;
	app_config c, d;
	json_t *j, *k;

	write_file(dir, "README.md", "---\ntitle: T\nsdk: python\napp_port: 9000\n"
	    "startup_duration_timeout: 45m\ntags: [x]\n---\n");
	write_file(dir, "app.py", "\n");
	assert_int_equal(load(dir, &c), BUILD_OK);
	j = app_config_to_json(&c);
	assert_non_null(j);
	a = json_dumps(j, JSON_SORT_KEYS);
	b = json_dumps(j, JSON_SORT_KEYS);
	json_decref(j);
	j = json_loads(a, 0, NULL); /* through text, as the store keeps it */
	assert_int_equal(app_config_from_json(&d, j), 0);
	json_decref(j);
	assert_string_equal(d.sdk, "python");
	assert_int_equal(d.app_port, 9000);
	assert_int_equal(d.startup_timeout_s, 45 * 60);
	assert_true(json_equal(d.run_argv, c.run_argv));
	assert_true(json_equal(d.card, c.card));
	k = app_config_to_json(&d);
	free(b);
	b = json_dumps(k, JSON_SORT_KEYS);
	assert_string_equal(a, b);
	json_decref(k);
	free(a);
	free(b);
	app_config_release(&c);
	app_config_release(&d);

	/* static: no argv; garbage is refused. */
	app_config_init(&c);
	snprintf(c.sdk, sizeof(c.sdk), "static");
	snprintf(c.static_dir, sizeof(c.static_dir), "dist");
	j = app_config_to_json(&c);
	assert_int_equal(app_config_from_json(&d, j), 0);
	assert_string_equal(d.static_dir, "dist");
	assert_null(d.run_argv);
	json_decref(j);
	app_config_release(&d);
	j = json_pack("{s:s, s:i}", "sdk", "python", "app_port", 0);
	assert_int_equal(app_config_from_json(&d, j), -1);
	json_decref(j);
	j = json_pack("{s:s, s:[i]}", "sdk", "python", "run_argv", 1);
	assert_int_equal(app_config_from_json(&d, j), -1);
	json_decref(j);
	app_config_release(&d);
	fs_rm_rf(dir);
	free(dir);
}

static void
test_cgi_head(void **state)
{
	const char *out = "Status: 403 Forbidden\r\nContent-Type: text/plain\r\n"
	    "Expires: Fri, 01 Jan 1980 00:00:00 GMT\r\nContent-Length: 5\r\n\r\nhello";
	cgi_head h;
	long n;

	assert_int_equal(cgi_head_parse(out, 20, &h), 0); /* incomplete */
	n = cgi_head_parse(out, strlen(out), &h);
	assert_int_equal(n, (long)(strlen(out) - 5));
	assert_int_equal(h.status, 403);
	assert_int_equal(h.content_length, 5);
	assert_int_equal(h.nhdrs, 2);
	assert_string_equal(h.hdrs[0].name, "Content-Type");
	assert_string_equal(h.hdrs[0].value, "text/plain");
	cgi_head_release(&h);

	/* http-backend writes bare \n line ends in some paths; no Status means 200. */
	out = "Content-Type: application/x-git-upload-pack-advertisement\n"
	    "Cache-Control: no-cache\n\n001e# service=git-upload-pack\n";
	n = cgi_head_parse(out, strlen(out), &h);
	assert_true(n > 0);
	assert_string_equal(out + n, "001e# service=git-upload-pack\n");
	assert_int_equal(h.status, 200);
	assert_int_equal(h.content_length, -1);
	assert_int_equal(h.nhdrs, 2);
	cgi_head_release(&h);

	assert_int_equal(cgi_head_parse("garbage without colon\n\n", 23, &h), -1);
	assert_int_equal(cgi_head_parse("Status: abc\n\n", 13, &h), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frontmatter_hf_readme),
		cmocka_unit_test(test_frontmatter_none),
		cmocka_unit_test(test_frontmatter_broken),
		cmocka_unit_test(test_frontmatter_limits),
		cmocka_unit_test(test_config_links_and_fifos),
		cmocka_unit_test(test_config_wrong_types),
		cmocka_unit_test(test_config_values),
		cmocka_unit_test(test_config_detection),
		cmocka_unit_test(test_config_bounds),
		cmocka_unit_test(test_config_json_roundtrip),
		cmocka_unit_test(test_cgi_head),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
