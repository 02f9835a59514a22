/* manage.c — the client's commands for a space's lifecycle and configuration:
 * restart, pause, sleep-time, releases, rollback (web/lifecycle_api.c), secrets,
 * vars, hardware (web/config_api.c). Same conventions as cli.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/util.h"

/* A command on one space: NAME resolved, path built from fmt (owner, name). */
static char *
space_path(const cli_ctx *c, const char *arg, const char *suffix, char *owner, char *name, int *code)
{
	if ((*code = cli_space_name(c, arg, owner, name, 128)) != 0)
		return NULL;
	return xasprintf("/api/spaces/%s/%s%s", owner, name, suffix);
}

static int
print_stage(const cli_ctx *c, const char *owner, const char *name, json_t *rt, const char *done)
{
	if (c->json)
		cli_print_json(rt);
	else
		printf("%s %s/%s: %s\n", done, owner, name,
		    json_string_value(json_object_get(rt, "stage")));
	json_decref(rt);
	return 0;
}

int
cli_restart(cli_ctx *c, int argc, char **argv)
{
	int factory = 0, first, r, code;
	cli_opt spec[] = { { "factory", 0, NULL, &factory }, { NULL, 0, NULL, NULL } };
	char owner[128], name[128], *path;
	json_t *rt;

	if ((r = cli_parse_opts(c, "restart", argc, argv, spec, 1, 1, &first)) >= 0)
		return r;
	if ((path = space_path(c, argv[first], factory ? "/restart?factory=true" : "/restart", owner,
	    name, &code)) == NULL)
		return code;
	rt = cli_call_json(c, "POST", path, NULL, "restart", &code);
	free(path);
	return rt == NULL ? code : print_stage(c, owner, name, rt, factory ? "Rebuilding" : "Restarting");
}

int
cli_pause(cli_ctx *c, int argc, char **argv)
{
	int first, r, code;
	char owner[128], name[128], *path;
	json_t *rt;

	if ((r = cli_parse_opts(c, "pause", argc, argv, NULL, 1, 1, &first)) >= 0)
		return r;
	if ((path = space_path(c, argv[first], "/pause", owner, name, &code)) == NULL)
		return code;
	rt = cli_call_json(c, "POST", path, NULL, "pause", &code);
	free(path);
	return rt == NULL ? code : print_stage(c, owner, name, rt, "Paused");
}

int
cli_sleep_time(cli_ctx *c, int argc, char **argv)
{
	int first, r, code;
	char owner[128], name[128], *path, *end;
	long long secs;
	json_t *rt;

	if ((r = cli_parse_opts(c, "sleep-time", argc, argv, NULL, 2, 2, &first)) >= 0)
		return r;
	secs = strtoll(argv[first + 1], &end, 10);
	if (*end != '\0' || argv[first + 1][0] == '\0')
		return cli_error(CLI_EUSAGE, "sleep-time: SECONDS must be a number (-1: never sleep)");
	if ((path = space_path(c, argv[first], "/sleeptime", owner, name, &code)) == NULL)
		return code;
	rt = cli_call_json(c, "POST", path, json_pack("{s:I}", "seconds", (json_int_t)secs),
	    "sleep-time", &code);
	free(path);
	return rt == NULL ? code : print_stage(c, owner, name, rt, "Sleep time set for");
}

int
cli_releases(cli_ctx *c, int argc, char **argv)
{
	int first, r, code;
	char owner[128], name[128], *path;
	json_t *arr, *rel;
	size_t i;

	if ((r = cli_parse_opts(c, "releases", argc, argv, NULL, 1, 1, &first)) >= 0)
		return r;
	if ((path = space_path(c, argv[first], "/releases", owner, name, &code)) == NULL)
		return code;
	arr = cli_get_json(c, path, "releases", &code);
	free(path);
	if (arr == NULL)
		return code;
	if (c->json) {
		cli_print_json(arr);
	} else {
		printf("%-8s %-12s %-9s %-24s %s\n", "RELEASE", "COMMIT", "STATUS", "CREATED", "");
		json_array_foreach(arr, i, rel) {
			const char *sha = json_string_value(json_object_get(rel, "sha"));

			printf("%-8lld %-12.12s %-9s %-24s %s%s\n",
			    (long long)json_integer_value(json_object_get(rel, "id")), sha != NULL ? sha : "",
			    json_string_value(json_object_get(rel, "status")),
			    json_string_value(json_object_get(rel, "createdAt")),
			    json_is_true(json_object_get(rel, "serving")) ? "serving" : "",
			    json_is_false(json_object_get(rel, "available")) ? "(pruned)" : "");
		}
	}
	json_decref(arr);
	return 0;
}

/* The release before the serving one that can still be served. */
static long long
previous_release(const cli_ctx *c, const char *owner, const char *name, int *code)
{
	char *path = xasprintf("/api/spaces/%s/%s/releases", owner, name);
	json_t *arr = cli_get_json(c, path, "rollback", code), *rel;
	long long id = -1;
	int past_serving = 0;
	size_t i;

	free(path);
	json_array_foreach(arr, i, rel) {
		const char *st = json_string_value(json_object_get(rel, "status"));

		if (json_is_true(json_object_get(rel, "serving"))) {
			past_serving = 1;
		} else if (past_serving && st != NULL && strcmp(st, "ok") == 0 &&
		    json_is_true(json_object_get(rel, "available"))) {
			id = json_integer_value(json_object_get(rel, "id"));
			break;
		}
	}
	if (arr != NULL && id < 0)
		*code = cli_error(CLI_EFAIL, "rollback: %s/%s has no earlier release to go back to", owner,
		    name);
	json_decref(arr);
	return id;
}

int
cli_rollback(cli_ctx *c, int argc, char **argv)
{
	int first, r, code;
	char owner[128], name[128], *path, *end;
	long long id;
	json_t *rt;

	if ((r = cli_parse_opts(c, "rollback", argc, argv, NULL, 1, 2, &first)) >= 0)
		return r;
	if ((path = space_path(c, argv[first], "/rollback", owner, name, &code)) == NULL)
		return code;
	if (argc - first == 2) {
		id = strtoll(argv[first + 1], &end, 10);
		if (*end != '\0' || argv[first + 1][0] == '\0') {
			free(path);
			return cli_error(CLI_EUSAGE, "rollback: RELEASE is a release number (see `podium releases`)");
		}
	} else if ((id = previous_release(c, owner, name, &code)) < 0) {
		free(path);
		return code;
	}
	rt = cli_call_json(c, "POST", path, json_pack("{s:I}", "release", (json_int_t)id),
	    "rollback", &code);
	free(path);
	if (rt == NULL)
		return code;
	if (!c->json)
		printf("Rolled %s/%s back to release %lld\n", owner, name, id);
	else
		cli_print_json(rt);
	json_decref(rt);
	return 0;
}

/* secrets and vars: `set NAME KEY [--description D]` (value from stdin for a secret,
 * from stdin or VALUE for a variable), `ls NAME`, `rm NAME KEY`. */
static int
keyvals(cli_ctx *c, int argc, char **argv, const char *cmd, const char *route, int secret)
{
	const char *desc = NULL;
	cli_opt spec[] = { { "description", 1, &desc, NULL }, { NULL, 0, NULL, NULL } };
	int first, r, code;
	char owner[128], name[128], *path;
	const char *sub = argc > 1 ? argv[1] : "";
	json_t *j;

	if (argc < 2 || (strcmp(sub, "set") != 0 && strcmp(sub, "ls") != 0 && strcmp(sub, "rm") != 0)) {
		if (argc >= 2 && (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0))
			return cli_parse_opts(c, cmd, argc, argv, spec, 0, 0, &first);
		return cli_error(CLI_EUSAGE, "%s: set, ls or rm (see podium %s --help)", cmd, cmd);
	}
	/* the subcommand's own arguments: argv[1] becomes getopt's argv[0] */
	if ((r = cli_parse_opts(c, cmd, argc - 1, argv + 1, spec, strcmp(sub, "ls") == 0 ? 1 : 2,
	    strcmp(sub, "set") == 0 && !secret ? 3 : strcmp(sub, "ls") == 0 ? 1 : 2, &first)) >= 0)
		return r;
	argv++;
	if ((path = space_path(c, argv[first], route, owner, name, &code)) == NULL)
		return code;
	if (strcmp(sub, "ls") == 0) {
		j = cli_get_json(c, path, cmd, &code);
	} else if (strcmp(sub, "rm") == 0) {
		j = cli_call_json(c, "DELETE", path, json_pack("{s:s}", "key", argv[first + 1]), cmd, &code);
	} else {
		char line[65536];
		const char *value;
		size_t n;

		if (argc - 1 - first == 3) {
			value = argv[first + 2];
		} else {
			/* a secret's value never goes through argv (ps, shell history) */
			n = fread(line, 1, sizeof(line) - 1, stdin);
			line[n] = '\0';
			if (n > 0 && line[n - 1] == '\n')
				line[--n] = '\0';
			value = line;
		}
		j = json_pack("{s:s, s:s}", "key", argv[first + 1], "value", value);
		if (desc != NULL)
			json_object_set_new(j, "description", json_string(desc));
		j = cli_call_json(c, "POST", path, j, cmd, &code);
	}
	free(path);
	if (j == NULL)
		return code;
	if (c->json) {
		cli_print_json(j);
	} else if (strcmp(sub, "ls") == 0) {
		const char *key;
		json_t *v;

		json_object_foreach(j, key, v) {
			const char *val = json_string_value(json_object_get(v, "value"));
			const char *d = json_string_value(json_object_get(v, "description"));

			printf("%s%s%s%s%s\n", key, val != NULL ? "=" : "", val != NULL ? val : "",
			    d != NULL && d[0] != '\0' ? "  # " : "", d != NULL ? d : "");
		}
	} else {
		printf("%s %s on %s/%s\n", strcmp(sub, "set") == 0 ? "Set" : "Removed", argv[first + 1],
		    owner, name);
	}
	json_decref(j);
	return 0;
}

int
cli_secrets(cli_ctx *c, int argc, char **argv)
{
	return keyvals(c, argc, argv, "secrets", "/secrets", 1);
}

int
cli_vars(cli_ctx *c, int argc, char **argv)
{
	return keyvals(c, argc, argv, "vars", "/variables", 0);
}

int
cli_hardware(cli_ctx *c, int argc, char **argv)
{
	int first, r, code;
	char owner[128], name[128], *path;
	json_t *rt;

	if ((r = cli_parse_opts(c, "hardware", argc, argv, NULL, 2, 2, &first)) >= 0)
		return r;
	if ((path = space_path(c, argv[first], "/hardware", owner, name, &code)) == NULL)
		return code;
	rt = cli_call_json(c, "POST", path, json_pack("{s:s}", "flavor", argv[first + 1]),
	    "hardware", &code);
	free(path);
	if (rt == NULL)
		return code;
	if (c->json)
		cli_print_json(rt);
	else
		printf("%s/%s: hardware %s requested\n", owner, name, argv[first + 1]);
	json_decref(rt);
	return 0;
}

int
cli_duplicate(cli_ctx *c, int argc, char **argv)
{
	int priv = 0, pub = 0, first, r, code;
	cli_opt spec[] = { { "private", 0, NULL, &priv }, { "public", 0, NULL, &pub },
		{ NULL, 0, NULL, NULL } };
	char owner[128], name[128], downer[128], dname[128], *path;
	json_t *body, *j;

	if ((r = cli_parse_opts(c, "duplicate", argc, argv, spec, 2, 2, &first)) >= 0)
		return r;
	if (priv && pub)
		return cli_error(CLI_EUSAGE, "duplicate: --private or --public, not both");
	if ((code = cli_space_name(c, argv[first + 1], downer, dname, sizeof(downer))) != 0)
		return code;
	if ((path = space_path(c, argv[first], "/duplicate", owner, name, &code)) == NULL)
		return code;
	body = json_pack("{s:s++}", "repository", downer, "/", dname);
	/* neither flag: as private as the source */
	if (priv || pub)
		json_object_set_new(body, "private", json_boolean(priv));
	j = cli_call_json(c, "POST", path, body, "duplicate", &code);
	free(path);
	if (j == NULL)
		return code;
	if (c->json)
		cli_print_json(j);
	else
		printf("Duplicated %s/%s to %s/%s\n", owner, name, downer, dname);
	json_decref(j);
	return 0;
}
