/* cli.c — the podium client's commands: login, whoami, create, ls, status, logs,
 * delete, open (deploy is deploy.c). Each command parses its own options with
 * getopt_long, answers --help, prints a table (or --json) and exits with one of
 * cli.h's codes. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/util.h"

#define DEFAULT_HUB "http://127.0.0.1:8080"

typedef struct cli_cmd {
	const char *name;
	int (*run)(cli_ctx *c, int argc, char **argv);
	const char *usage;
} cli_cmd;

static const cli_cmd *cmd_find(const char *name);

/* ---- configuration ---- */

static char *
config_path(void)
{
	const char *home = getenv("HOME");

	return home != NULL && home[0] != '\0' ? xasprintf("%s/.config/podium/config", home) : NULL;
}

static void
ctx_load(cli_ctx *c)
{
	char *path = config_path();
	json_t *j = path != NULL ? json_load_file(path, 0, NULL) : NULL;
	const char *hub = getenv("PODIUM_HUB"), *token = getenv("PODIUM_TOKEN");

	if (hub == NULL || hub[0] == '\0')
		hub = json_string_value(json_object_get(j, "hub"));
	if (token == NULL || token[0] == '\0')
		token = json_string_value(json_object_get(j, "token"));
	c->hub = xstrdup(hub != NULL ? hub : DEFAULT_HUB);
	while (strlen(c->hub) > 0 && c->hub[strlen(c->hub) - 1] == '/')
		c->hub[strlen(c->hub) - 1] = '\0';
	c->token = token != NULL && token[0] != '\0' ? xstrdup(token) : NULL;
	json_decref(j);
	free(path);
}

static int
config_save(const char *hub, const char *token)
{
	char *path = config_path(), *dir, *text;
	json_t *j = json_pack("{s:s, s:s}", "hub", hub, "token", token);
	int r = -ENOENT;

	if (path == NULL)
		goto done;
	dir = xstrndup(path, strrchr(path, '/') - path);
	r = fs_mkdir_p(dir, 0700);
	free(dir);
	text = json_dumps(j, JSON_INDENT(2));
	/* written 0600 from the start (temporary file and rename): never readable by others */
	if (r == 0)
		r = fs_write_file(path, text, strlen(text), 0600);
	free(text);
done:
	json_decref(j);
	free(path);
	return r;
}

/* ---- helpers ---- */

static int
need_token(const cli_ctx *c)
{
	if (c->token != NULL)
		return 0;
	return cli_error(CLI_EAUTH, "not logged in: run `podium login` or set PODIUM_TOKEN");
}

/* method path with a JSON body (NULL: none; taken) → the answer's JSON (new
 * reference), or NULL with the error printed and *code set. */
json_t *
cli_call_json(const cli_ctx *c, const char *method, const char *path, json_t *body,
    const char *what, int *code)
{
	char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
	cli_resp r;
	json_t *j = NULL;

	json_decref(body);
	*code = cli_http(c, method, path, text != NULL ? "application/json" : NULL, text,
	    text != NULL ? strlen(text) : 0, &r);
	free(text);
	if (*code == 0 && r.status == 200 && (j = cli_resp_json(&r)) == NULL)
		*code = cli_error(CLI_EFAIL, "%s: the hub's answer is not JSON", what);
	else if (j == NULL && *code == 0)
		*code = cli_report(c, &r, what);
	else if (*code != 0)
		cli_report(c, &r, what);
	cli_resp_release(&r);
	return j;
}

/* GET path → JSON (new reference), or NULL with the error reported in *code. */
json_t *
cli_get_json(const cli_ctx *c, const char *path, const char *what, int *code)
{
	return cli_call_json(c, "GET", path, NULL, what, code);
}

static char *
whoami(const cli_ctx *c, int *code)
{
	json_t *j;
	char *name = NULL;

	if ((*code = need_token(c)) != 0)
		return NULL;
	j = cli_get_json(c, "/api/whoami-v2", "whoami", code);
	if (j != NULL && json_string_value(json_object_get(j, "name")) != NULL)
		name = xstrdup(json_string_value(json_object_get(j, "name")));
	else if (j != NULL)
		*code = cli_error(CLI_EFAIL, "whoami: the hub's answer has no name");
	json_decref(j);
	return name;
}

int
cli_space_name(const cli_ctx *c, const char *arg, char *owner, char *name, size_t n)
{
	const char *slash = strchr(arg, '/');
	int code = 0;

	if (slash != NULL) {
		snprintf(owner, n, "%.*s", (int)(slash - arg), arg);
		snprintf(name, n, "%s", slash + 1);
	} else {
		char *me = whoami(c, &code);

		if (me == NULL)
			return code;
		snprintf(owner, n, "%s", me);
		snprintf(name, n, "%s", arg);
		free(me);
	}
	if (!name_valid(owner) || !name_valid(name))
		return cli_error(CLI_EUSAGE, "\"%s\" is not a space name: OWNER/NAME or NAME, each 1-64 of "
		    "[A-Za-z0-9._-]", arg);
	return 0;
}

void
cli_print_json(json_t *j)
{
	char *t = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	puts(t);
	free(t);
}

static int
bad_option(const cli_cmd *cmd, const char *arg)
{
	fprintf(stderr, "podium %s: unknown option or missing value: %s\nusage: podium %s\n",
	    cmd->name, arg, cmd->usage);
	return CLI_EUSAGE;
}

int
cli_parse_opts(cli_ctx *c, const char *cmd_name, int argc, char **argv, const cli_opt *spec,
    int min_args, int max_args, int *first_arg)
{
	const cli_cmd *cmd = cmd_find(cmd_name);
	struct option lo[16];
	int n = 0, o;

	for (; spec != NULL && spec[n].name != NULL; n++)
		lo[n] = (struct option){ spec[n].name, spec[n].has_arg, NULL, 1000 + n };
	lo[n++] = (struct option){ "json", 0, NULL, 'j' };
	lo[n++] = (struct option){ "help", 0, NULL, 'h' };
	lo[n] = (struct option){ NULL, 0, NULL, 0 };
	optind = 1;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "hfy", lo, NULL)) != -1) {
		if (o == 'h') {
			printf("usage: podium %s\n", cmd->usage);
			return 0;
		} else if (o == 'j') {
			c->json = 1;
		} else if (o >= 1000 && o < 1000 + n) {
			if (spec[o - 1000].has_arg)
				*spec[o - 1000].value = optarg;
			else
				*spec[o - 1000].flag = 1;
		} else if (o == 'f' || o == 'y') {
			/* short forms: -f (follow), -y (yes) */
			for (int i = 0; spec != NULL && spec[i].name != NULL; i++)
				if ((o == 'f' && strcmp(spec[i].name, "follow") == 0) ||
				    (o == 'y' && strcmp(spec[i].name, "yes") == 0))
					*spec[i].flag = 1, o = 0;
			if (o != 0)
				return bad_option(cmd, argv[optind - 1]);
		} else {
			return bad_option(cmd, argv[optind - 1]);
		}
	}
	if (argc - optind < min_args || argc - optind > max_args) {
		fprintf(stderr, "podium %s: %s\nusage: podium %s\n", cmd->name,
		    argc - optind < min_args ? "missing argument" : "too many arguments", cmd->usage);
		return CLI_EUSAGE;
	}
	*first_arg = optind;
	return -1;
}

/* ---- commands ---- */

static int
cmd_login(cli_ctx *c, int argc, char **argv)
{
	const char *hub = NULL;
	int token_stdin = 0, first, r, code = 0;
	cli_opt spec[] = { { "hub", 1, &hub, NULL }, { "token-stdin", 0, NULL, &token_stdin },
		{ NULL, 0, NULL, NULL } };
	char line[512];
	char *me;

	if ((r = cli_parse_opts(c, "login", argc, argv, spec, 0, 0, &first)) >= 0)
		return r;
	if (hub != NULL) {
		free(c->hub);
		c->hub = xstrdup(hub);
		while (strlen(c->hub) > 0 && c->hub[strlen(c->hub) - 1] == '/')
			c->hub[strlen(c->hub) - 1] = '\0';
	}
	if (strncmp(c->hub, "http://", 7) != 0 && strncmp(c->hub, "https://", 8) != 0)
		return cli_error(CLI_EUSAGE, "login: --hub wants an http:// or https:// URL, got \"%s\"", c->hub);
	if (!token_stdin && isatty(0))
		fprintf(stderr, "Token for %s (from the hub's admin.token or your settings): ", c->hub);
	if (fgets(line, sizeof(line), stdin) == NULL || line[strspn(line, " \t\r\n")] == '\0')
		return cli_error(CLI_EUSAGE, "login: no token on standard input");
	line[strcspn(line, "\r\n")] = '\0';
	free(c->token);
	c->token = xstrdup(line + strspn(line, " \t"));
	/* checked before it is saved: a wrong token is never stored */
	me = whoami(c, &code);
	if (me == NULL)
		return code;
	if ((r = config_save(c->hub, c->token)) != 0) {
		free(me);
		return cli_error(CLI_EFAIL, "login: cannot write ~/.config/podium/config: %s", strerror(-r));
	}
	printf("Logged in to %s as %s\n", c->hub, me);
	free(me);
	return 0;
}

static int
cmd_whoami(cli_ctx *c, int argc, char **argv)
{
	int first, r, code;
	json_t *j;

	if ((r = cli_parse_opts(c, "whoami", argc, argv, NULL, 0, 0, &first)) >= 0)
		return r;
	if ((code = need_token(c)) != 0)
		return code;
	if ((j = cli_get_json(c, "/api/whoami-v2", "whoami", &code)) == NULL)
		return code;
	if (c->json)
		cli_print_json(j);
	else
		printf("%s (%s)\n", json_string_value(json_object_get(j, "name")), c->hub);
	json_decref(j);
	return 0;
}

static int
cmd_create(cli_ctx *c, int argc, char **argv)
{
	const char *sdk = "static", *from = NULL;
	int priv = 0, first, r, code;
	cli_opt spec[] = { { "sdk", 1, &sdk, NULL }, { "private", 0, NULL, &priv },
		{ "from", 1, &from, NULL }, { NULL, 0, NULL, NULL } };
	char owner[128], name[128];
	json_t *body, *j;
	cli_resp resp;
	char *text;

	if ((r = cli_parse_opts(c, "create", argc, argv, spec, 1, 1, &first)) >= 0)
		return r;
	if ((code = cli_space_name(c, argv[first], owner, name, sizeof(owner))) != 0)
		return code;
	body = json_pack("{s:s, s:s, s:s, s:s, s:b}", "type", "space", "name", name, "organization",
	    owner, "sdk", sdk, "private", priv);
	if (from != NULL)
		json_object_set_new(body, "from", json_string(from));
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (from != NULL && !c->json)
		fprintf(stderr, "Cloning %s ...\n", from);
	code = cli_http(c, "POST", "/api/repos/create", "application/json", text, strlen(text), &resp);
	free(text);
	if (code != 0 || resp.status != 200) {
		code = cli_report(c, &resp, "create");
		cli_resp_release(&resp);
		return code;
	}
	j = cli_resp_json(&resp);
	cli_resp_release(&resp);
	if (c->json)
		cli_print_json(j);
	else
		printf("Created %s/%s (sdk %s%s)\n  git remote: %s\n  deploy:     podium deploy DIR --space %s/%s\n",
		    owner, name, sdk, priv ? ", private" : "", json_string_value(json_object_get(j, "url")),
		    owner, name);
	json_decref(j);
	return 0;
}

static const char *
stage_of(json_t *s)
{
	const char *st = json_string_value(json_object_get(json_object_get(s, "runtime"), "stage"));

	return st != NULL ? st : "?";
}

static int
cmd_ls(cli_ctx *c, int argc, char **argv)
{
	int first, r, code;
	json_t *arr, *s;
	size_t i;

	if ((r = cli_parse_opts(c, "ls", argc, argv, NULL, 0, 0, &first)) >= 0)
		return r;
	if ((arr = cli_get_json(c, "/api/spaces", "ls", &code)) == NULL)
		return code;
	if (c->json) {
		cli_print_json(arr);
	} else {
		printf("%-32s %-10s %-22s %-8s %s\n", "SPACE", "SDK", "STAGE", "PRIVATE", "URL");
		json_array_foreach(arr, i, s)
			printf("%-32s %-10s %-22s %-8s %s\n", json_string_value(json_object_get(s, "id")),
			    json_string_value(json_object_get(s, "sdk")), stage_of(s),
			    json_is_true(json_object_get(s, "private")) ? "yes" : "no",
			    json_string_value(json_object_get(s, "host")));
	}
	json_decref(arr);
	return 0;
}

static int
is_error_stage(const char *st)
{
	return strcmp(st, "NO_APP_FILE") == 0 || strcmp(st, "CONFIG_ERROR") == 0 ||
	    strcmp(st, "BUILD_ERROR") == 0 || strcmp(st, "RUNTIME_ERROR") == 0;
}

/* SSE: the "data: {json}" lines of a log stream, each line's text to out (a line
 * may span callbacks; *buf keeps the unfinished one). */
static void
sse_lines(char **buf, const char *data, size_t len, FILE *out)
{
	size_t have = *buf != NULL ? strlen(*buf) : 0;
	char *nl;

	*buf = xrealloc(*buf, have + len + 1);
	memcpy(*buf + have, data, len);
	(*buf)[have + len] = '\0';
	while ((nl = strchr(*buf, '\n')) != NULL) {
		*nl = '\0';
		if (strncmp(*buf, "data:", 5) == 0) {
			json_t *j = json_loads(*buf + 5 + strspn(*buf + 5, " "), 0, NULL);
			const char *line = json_string_value(json_object_get(j, "data"));

			if (line != NULL) {
				fputs(line, out);
				if (line[0] == '\0' || line[strlen(line) - 1] != '\n')
					fputc('\n', out);
				fflush(out);
			}
			json_decref(j);
		}
		memmove(*buf, nl + 1, strlen(nl + 1) + 1);
	}
}

/* deploy and status --wait follow the build on stderr (stdout is the URL) */
static int
build_log_cb(const char *data, size_t len, void *arg)
{
	sse_lines(arg, data, len, stderr);
	return 0;
}

int
cli_wait_running(const cli_ctx *c, const char *owner, const char *name, int follow_build,
    double timeout_s, json_t **info)
{
	char *path = xasprintf("/api/spaces/%s/%s/runtime", owner, name);
	struct timespec t0, now;
	json_t *rt = NULL;
	int code = 0;

	if (follow_build) {
		char *logs = xasprintf("/api/spaces/%s/%s/logs/build", owner, name), *buf = NULL;
		long status;

		/* the stream ends with the build; a failure here only loses the log lines */
		cli_http_stream(c, logs, "text/event-stream", build_log_cb, &buf, &status);
		free(buf);
		free(logs);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		const char *st;

		json_decref(rt);
		if ((rt = cli_get_json(c, path, "status", &code)) == NULL)
			break;
		st = json_string_value(json_object_get(rt, "stage"));
		if (st != NULL && strcmp(st, "RUNNING") == 0)
			break;
		if (st == NULL || is_error_stage(st)) {
			code = CLI_EFAIL;
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((double)(now.tv_sec - t0.tv_sec) + (now.tv_nsec - t0.tv_nsec) / 1e9 > timeout_s) {
			code = cli_error(CLI_EFAIL, "%s/%s: still %s after %.0f s", owner, name, st, timeout_s);
			break;
		}
		usleep(250 * 1000);
	}
	free(path);
	if (info != NULL)
		*info = rt;
	else
		json_decref(rt);
	return code;
}

static int
cmd_status(cli_ctx *c, int argc, char **argv)
{
	int wait = 0, first, r, code;
	const char *timeout = "600";
	cli_opt spec[] = { { "wait", 0, NULL, &wait }, { "timeout", 1, &timeout, NULL },
		{ NULL, 0, NULL, NULL } };
	char owner[128], name[128], *path;
	json_t *rt = NULL;
	const char *st, *err;

	if ((r = cli_parse_opts(c, "status", argc, argv, spec, 1, 1, &first)) >= 0)
		return r;
	if ((code = cli_space_name(c, argv[first], owner, name, sizeof(owner))) != 0)
		return code;
	if (wait) {
		code = cli_wait_running(c, owner, name, 0, atof(timeout), &rt);
		if (rt == NULL)
			return code;
	} else {
		path = xasprintf("/api/spaces/%s/%s/runtime", owner, name);
		rt = cli_get_json(c, path, "status", &code);
		free(path);
		if (rt == NULL)
			return code;
	}
	st = json_string_value(json_object_get(rt, "stage"));
	err = json_string_value(json_object_get(rt, "errorMessage"));
	if (c->json)
		cli_print_json(rt);
	else
		printf("%s/%s: %s%s%s\n", owner, name, st != NULL ? st : "?", err != NULL ? "\n" : "",
		    err != NULL ? err : "");
	if (code == 0 && st != NULL && is_error_stage(st))
		code = CLI_EFAIL;
	json_decref(rt);
	return code;
}

static int
stdout_cb(const char *data, size_t len, void *arg)
{
	fwrite(data, 1, len, stdout);
	fflush(stdout);
	return 0;
}

/* logs -f: the lines on stdout */
static int
sse_stdout_cb(const char *data, size_t len, void *arg)
{
	sse_lines(arg, data, len, stdout);
	return 0;
}

static int
cmd_logs(cli_ctx *c, int argc, char **argv)
{
	int build = 0, follow = 0, first, r, code;
	cli_opt spec[] = { { "build", 0, NULL, &build }, { "follow", 0, NULL, &follow },
		{ NULL, 0, NULL, NULL } };
	char owner[128], name[128], *path, *buf = NULL;
	long status = 0;

	if ((r = cli_parse_opts(c, "logs", argc, argv, spec, 1, 1, &first)) >= 0)
		return r;
	if ((code = cli_space_name(c, argv[first], owner, name, sizeof(owner))) != 0)
		return code;
	path = xasprintf("/api/spaces/%s/%s/logs/%s", owner, name, build ? "build" : "run");
	if (follow)
		code = cli_http_stream(c, path, "text/event-stream", sse_stdout_cb, &buf, &status);
	else
		code = cli_http_stream(c, path, "text/plain", stdout_cb, NULL, &status);
	free(buf);
	if (code == 0 && status != 200) {
		/* the error body was dropped by the stream: ask again for the message */
		cli_resp resp;

		cli_http(c, "GET", path, NULL, NULL, 0, &resp);
		code = cli_report(c, &resp, "logs");
		cli_resp_release(&resp);
	} else if (code != 0) {
		code = cli_error(code, "logs: cannot reach the hub at %s", c->hub);
	}
	free(path);
	return code;
}

static int
cmd_delete(cli_ctx *c, int argc, char **argv)
{
	int yes = 0, first, r, code;
	cli_opt spec[] = { { "yes", 0, NULL, &yes }, { NULL, 0, NULL, NULL } };
	char owner[128], name[128], *text;
	json_t *body;
	cli_resp resp;

	if ((r = cli_parse_opts(c, "delete", argc, argv, spec, 1, 1, &first)) >= 0)
		return r;
	if ((code = cli_space_name(c, argv[first], owner, name, sizeof(owner))) != 0)
		return code;
	if (!yes)
		return cli_error(CLI_EUSAGE, "delete: this removes %s/%s with its repository, releases and "
		    "data; add --yes to confirm", owner, name);
	body = json_pack("{s:s, s:s, s:s}", "type", "space", "name", name, "organization", owner);
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	code = cli_http(c, "DELETE", "/api/repos/delete", "application/json", text, strlen(text), &resp);
	free(text);
	if (code != 0 || resp.status != 200)
		code = cli_report(c, &resp, "delete");
	else if (!c->json)
		printf("Deleted %s/%s\n", owner, name);
	else
		printf("{\"deleted\": \"%s/%s\"}\n", owner, name);
	cli_resp_release(&resp);
	return code;
}

static int
cmd_open(cli_ctx *c, int argc, char **argv)
{
	int first, r, code;
	char owner[128], name[128], *path;
	json_t *j;

	if ((r = cli_parse_opts(c, "open", argc, argv, NULL, 1, 1, &first)) >= 0)
		return r;
	if ((code = cli_space_name(c, argv[first], owner, name, sizeof(owner))) != 0)
		return code;
	path = xasprintf("/api/spaces/%s/%s", owner, name);
	j = cli_get_json(c, path, "open", &code);
	free(path);
	if (j == NULL)
		return code;
	printf("%s/\n", json_string_value(json_object_get(j, "host")));
	json_decref(j);
	return 0;
}

static const cli_cmd commands[] = {
	{ "login", cmd_login, "login [--hub URL] [--token-stdin]\n"
	    "  Checks the token (read from standard input) and stores hub and token in\n"
	    "  ~/.config/podium/config (mode 0600). PODIUM_HUB / PODIUM_TOKEN override it." },
	{ "whoami", cmd_whoami, "whoami [--json]\n  The user the token belongs to." },
	{ "create", cmd_create, "create NAME [--sdk SDK] [--private] [--from GIT_URL] [--json]\n"
	    "  Creates a space (NAME: OWNER/NAME or NAME for your own); sdk default static.\n"
	    "  --from clones a public git repository (http, https, git) into it and builds it." },
	{ "deploy", cli_deploy, "deploy [DIR] [--space OWNER/NAME] [--create] [--sdk SDK] [--private]\n"
	    "              [--message MSG] [--no-wait] [--json]\n"
	    "  Publishes DIR (default .) as a new commit of the space (default: named after DIR),\n"
	    "  skipping what .gitignore ignores, follows the build log and prints the app's URL\n"
	    "  once it runs (exit 1 with the error otherwise). --create creates a missing space." },
	{ "ls", cmd_ls, "ls [--json]\n  The spaces you can see, with their stage and URL." },
	{ "status", cmd_status, "status NAME [--wait] [--timeout SECONDS] [--json]\n"
	    "  The space's stage. --wait blocks until RUNNING (exit 0) or an error stage (exit 1)." },
	{ "logs", cmd_logs, "logs NAME [--build] [-f|--follow]\n"
	    "  The app's output (--build: the latest build's log); -f follows it." },
	{ "restart", cli_restart, "restart NAME [--factory] [--json]\n"
	    "  A new instance of the serving release (--factory: rebuild without the build cache);\n"
	    "  resumes a paused space." },
	{ "pause", cli_pause, "pause NAME [--json]\n  Stops the app until `podium restart`." },
	{ "sleep-time", cli_sleep_time, "sleep-time NAME SECONDS [--json]\n"
	    "  The app sleeps after SECONDS without requests (-1: never)." },
	{ "releases", cli_releases, "releases NAME [--json]\n  The space's releases, newest first." },
	{ "rollback", cli_rollback, "rollback NAME [RELEASE] [--json]\n"
	    "  Serves RELEASE again (default: the one before the serving one), without a rebuild." },
	{ "secrets", cli_secrets, "secrets set NAME KEY [--description D] | ls NAME | rm NAME KEY\n"
	    "  A secret's value is read from standard input; ls never shows values." },
	{ "vars", cli_vars, "vars set NAME KEY [VALUE] [--description D] | ls NAME | rm NAME KEY\n"
	    "  Variables (without VALUE, the value is read from standard input)." },
	{ "hardware", cli_hardware, "hardware NAME FLAVOR [--json]\n"
	    "  Runs the app under FLAVOR's limits (cpu-basic, cpu-upgrade, ...)." },
	{ "duplicate", cli_duplicate, "duplicate SRC DST [--private|--public] [--json]\n"
	    "  A copy of SRC (history and variables, never secrets) as DST, then built;\n"
	    "  as private as SRC unless told." },
	{ "delete", cmd_delete, "delete NAME --yes\n  Stops the app and removes repository, releases and data." },
	{ "open", cmd_open, "open NAME\n  Prints the app's URL." },
	{ NULL, NULL, NULL },
};

static const cli_cmd *
cmd_find(const char *name)
{
	for (const cli_cmd *c = commands; c->name != NULL; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

int
cli_is_command(const char *cmd)
{
	return cmd_find(cmd) != NULL;
}

int
cli_main(int argc, char **argv)
{
	const cli_cmd *cmd = cmd_find(argv[1]);
	cli_ctx c = { 0 };
	int r;

	ctx_load(&c);
	/* argv[1] is the command: its options start at argv[2] (getopt's argv[1]) */
	r = cmd->run(&c, argc - 1, argv + 1);
	fflush(stdout);
	free(c.hub);
	free(c.token);
	return r;
}

void
cli_usage(FILE *f)
{
	fputs("\nclient (talks to a hub; see `podium COMMAND --help`):\n", f);
	for (const cli_cmd *c = commands; c->name != NULL; c++) {
		const char *nl = strchr(c->usage, '\n');

		fprintf(f, "  podium %.*s\n", nl != NULL ? (int)(nl - c->usage) : (int)strlen(c->usage),
		    c->usage);
	}
}
