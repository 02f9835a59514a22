/* cli.h — the podium client: commands that talk to a hub's HTTP API (libcurl +
 * jansson), in the same binary as the daemon. orchestrator/main.c hands every
 * command but `serve` to cli_main().
 *
 * Exit codes (every command): 0 done; 1 the hub refused (403 included) or the app
 * failed (an error stage); 2 usage; 3 the hub could not be reached; 4
 * authentication (no token, or a wrong one: 401); 5 no such space. Errors are one line on stderr. */
#ifndef PODIUM_CLI_H
#define PODIUM_CLI_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

enum {
	CLI_OK = 0,
	CLI_EFAIL = 1,
	CLI_EUSAGE = 2,
	CLI_EUNREACHABLE = 3,
	CLI_EAUTH = 4,
	CLI_ENOTFOUND = 5,
};

/* Where and as whom: ~/.config/podium/config, overridden by PODIUM_HUB / PODIUM_TOKEN. */
typedef struct cli_ctx {
	char *hub;     /* "http://127.0.0.1:8080", no trailing slash */
	char *token;   /* NULL when not logged in */
	int json;      /* --json: machine-readable output */
} cli_ctx;

/* Is argv[1] a client command (so main.c dispatches here)? */
int cli_is_command(const char *cmd);
int cli_main(int argc, char **argv);
/* The client's part of `podium --help`. */
void cli_usage(FILE *f);

/* ---- http.c ---- */
typedef struct cli_resp {
	long status;           /* HTTP status; 0 when the hub was not reached */
	char *body;            /* NUL-terminated */
	size_t len;
	char error[256];       /* transport error when status == 0 */
} cli_resp;

void cli_resp_release(cli_resp *r);
/* One request to hub + path. body may be NULL. Returns 0, or CLI_EUNREACHABLE
 * (r->error says why). */
int cli_http(const cli_ctx *c, const char *method, const char *path, const char *ctype,
    const void *body, size_t len, cli_resp *r);
/* GET hub + path as a stream: cb gets the body as it comes (return nonzero to
 * stop). *status gets the HTTP status. 0 or CLI_EUNREACHABLE. */
int cli_http_stream(const cli_ctx *c, const char *path, const char *accept,
    int (*cb)(const char *data, size_t len, void *arg), void *arg, long *status);
/* The parsed JSON body (new reference) or NULL. */
json_t *cli_resp_json(const cli_resp *r);
/* Prints "podium: WHAT: the hub's error (HTTP n)" and returns the exit code for
 * the status (401 → CLI_EAUTH, 404 → CLI_ENOTFOUND, else CLI_EFAIL), or for a
 * transport error CLI_EUNREACHABLE. */
int cli_report(const cli_ctx *c, const cli_resp *r, const char *what);
/* Prints "podium: ..." on stderr and returns code. */
int cli_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- cli.c helpers used by deploy.c ---- */
/* "owner/name" or "name" (the token's user's). 0 or an exit code (error printed). */
int cli_space_name(const cli_ctx *c, const char *arg, char *owner, char *name, size_t n);
/* Follows the latest build log (SSE) to stderr until the build ends, then waits
 * for RUNNING or an error stage. 0 (RUNNING) or an exit code; *info gets the
 * runtime JSON when not NULL. */
int cli_wait_running(const cli_ctx *c, const char *owner, const char *name, int follow_build,
    double timeout_s, json_t **info);

/* Options of a command: a value (value set) or a flag (flag set). */
typedef struct cli_opt {
	const char *name;
	int has_arg;
	const char **value;
	int *flag;
} cli_opt;

/* Parses a command's options (spec ends with a NULL name; --json and --help are
 * always known); *first_arg gets the index of the first positional argument.
 * Returns -1 to go on, else the exit code to return (--help: 0). */
int cli_parse_opts(cli_ctx *c, const char *cmd, int argc, char **argv, const cli_opt *spec,
    int min_args, int max_args, int *first_arg);
/* GET path → JSON (new reference), or NULL with the error printed and *code set. */
json_t *cli_get_json(const cli_ctx *c, const char *path, const char *what, int *code);
/* The same for any method, with a JSON body (NULL: none; the call takes it). */
json_t *cli_call_json(const cli_ctx *c, const char *method, const char *path, json_t *body,
    const char *what, int *code);
void cli_print_json(json_t *j);

/* ---- manage.c: restart, pause, sleep-time, releases, rollback, secrets, vars, hardware,
 * duplicate ---- */
int cli_restart(cli_ctx *c, int argc, char **argv);
int cli_pause(cli_ctx *c, int argc, char **argv);
int cli_sleep_time(cli_ctx *c, int argc, char **argv);
int cli_releases(cli_ctx *c, int argc, char **argv);
int cli_rollback(cli_ctx *c, int argc, char **argv);
int cli_secrets(cli_ctx *c, int argc, char **argv);
int cli_vars(cli_ctx *c, int argc, char **argv);
int cli_hardware(cli_ctx *c, int argc, char **argv);
int cli_duplicate(cli_ctx *c, int argc, char **argv);

/* ---- deploy.c ---- */
int cli_deploy(cli_ctx *c, int argc, char **argv);

#endif
