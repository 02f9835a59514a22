/* main.c — the podium command line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/host/budget.h"
#include "cli/cli.h"
#include "cmd/image.h"
#include "cmd/serve.h"
#include "cmd/nodecmd.h"
#include "cmd/storecmd.h"
#include "cmd/usercmd.h"

static void
usage(FILE *f)
{
	fputs("usage: podium serve [--listen HOST:PORT] [--https HOST:PORT] [--data DIR] [--domain DOMAIN]\n"
	    "                    [--store ADDRESS] [--app-domain D]\n"
	    "                    [--memory-budget BYTES|auto] [--sleep-after SECONDS] [--keep-releases N]\n"
	    "\n"
	    "  --listen HOST:PORT  address of the hub, git and app proxy (default 127.0.0.1:8080)\n"
	    "  --data DIR          state: database, repos, releases, space data, logs (default ./var)\n"
	    "  --store ADDRESS     the database: postgres://USER:PASSWORD@HOST:PORT/DATABASE or\n"
	    "                      sqlite:PATH (default: config.yaml's store:, else DIR/podium.db)\n"
	    "  --domain DOMAIN     hub host; apps are served at OWNER-NAME.DOMAIN (default localhost)\n"
	    "  --app-domain D      serve apps at OWNER-NAME.D instead: a registrable domain of their\n"
	    "                      own keeps them cross-site to the hub (default: --domain)\n"
	    "  --https HOST:PORT   the TLS listener (certificates: config.yaml tls:, files or acme);\n"
	    "                      the --listen one then redirects the hosts HTTPS serves\n"
	    "  --sleep-after SECS  new spaces' apps sleep after this long idle (default -1: never)\n"
	    "  --keep-releases N   successful releases kept on disk for rollback (default 5)\n"
	    "  --node NAME         one node of a cluster on the --store PostgreSQL database\n"
	    "  --advertise IP:PORT where the other nodes reach this one's proxy (with --node)\n"
	    "  --shared DIR        a directory every node mounts (NFS...): repositories and\n"
	    "                      /data images there, so spaces may move between nodes\n"
	    "  --memory-budget BYTES|auto\n"
	    "                      host memory the apps' limits may add up to, e.g. 16G; an app that\n"
	    "                      would overcommit it is not started (default auto: MemTotal minus\n"
	    "                      max(1 GiB, 10%))\n"
	    "\n"
	    "The first start creates user admin and writes its API token to DIR/admin.token.\n"
	    "\n"
	    "on the data dir: podium user ... (users and tokens, see podium user --help)\n"
	    "                 podium store migrate (sqlite <-> PostgreSQL)\n"
	    "                 podium image import TARBALL NAME | ls | rm NAME [--data DIR]\n"
	    "a cluster's nodes: podium node list|drain|activate|remove\n", f);
	cli_usage(f);
}

/* HOST:PORT into host (of hostlen bytes) and *port. */
static int
parse_hostport(const char *s, char *host, size_t hostlen, int *port_out)
{
	const char *colon = strrchr(s, ':');
	char *end;
	long port;

	if (colon == NULL || (size_t)(colon - s) >= hostlen)
		return -1;
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 0 || port > 65535 || colon[1] == '\0')
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	/* "[::1]:8080" → "::1" */
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	*port_out = (int)port;
	return 0;
}

static int
parse_listen(const char *s, podium_options *o)
{
	static char host[256];

	if (parse_hostport(s, host, sizeof(host), &o->listen_port) != 0)
		return -1;
	o->listen_host = host[0] != '\0' ? host : "127.0.0.1";
	return 0;
}

static int
parse_https(const char *s, podium_options *o)
{
	static char host[256];

	if (parse_hostport(s, host, sizeof(host), &o->https_port) != 0)
		return -1;
	o->https_host = host[0] != '\0' ? host : NULL;
	return 0;
}

int
main(int argc, char **argv)
{
	podium_options o = { .listen_host = "127.0.0.1", .listen_port = 8080, .data_dir = "./var",
		.domain = "localhost", .sleep_after = -1, .keep_releases = 5, .https_port = -1 };

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "user") == 0)
		return usercmd_main(argc, argv);
	if (strcmp(argv[1], "image") == 0)
		return image_main(argc, argv);
	if (strcmp(argv[1], "store") == 0)
		return storecmd_main(argc, argv);
	if (strcmp(argv[1], "node") == 0)
		return nodecmd_main(argc, argv);
	if (cli_is_command(argv[1]))
		return cli_main(argc, argv);
	if (strcmp(argv[1], "serve") != 0) {
		fprintf(stderr, "podium: unknown command \"%s\"\n", argv[1]);
		usage(stderr);
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		}
		if (v == NULL) {
			fprintf(stderr, "podium: %s needs a value\n", a);
			return 2;
		}
		if (strcmp(a, "--listen") == 0) {
			if (parse_listen(v, &o) != 0) {
				fprintf(stderr, "podium: --listen wants HOST:PORT, got \"%s\"\n", v);
				return 2;
			}
		} else if (strcmp(a, "--https") == 0) {
			if (parse_https(v, &o) != 0) {
				fprintf(stderr, "podium: --https wants HOST:PORT, got \"%s\"\n", v);
				return 2;
			}
		} else if (strcmp(a, "--data") == 0) {
			o.data_dir = v;
		} else if (strcmp(a, "--domain") == 0) {
			o.domain = v;
		} else if (strcmp(a, "--app-domain") == 0) {
			o.app_domain = v;
		} else if (strcmp(a, "--store") == 0) {
			o.store = v;
		} else if (strcmp(a, "--node") == 0) {
			o.node = v;
		} else if (strcmp(a, "--advertise") == 0) {
			o.advertise = v;
		} else if (strcmp(a, "--shared") == 0) {
			o.shared = v;
		} else if (strcmp(a, "--sleep-after") == 0 || strcmp(a, "--keep-releases") == 0) {
			char *end;
			long n = strtol(v, &end, 10);
			int sleep = a[2] == 's';

			if (*end != '\0' || end == v || (sleep ? (n != -1 && (n < 1 || n > 2592000)) :
			    (n < 1 || n > 1000))) {
				fprintf(stderr, "podium: %s wants %s, got \"%s\"\n", a, sleep ?
				    "-1 or 1..2592000 seconds" : "1..1000", v);
				return 2;
			}
			if (sleep)
				o.sleep_after = (int)n;
			else
				o.keep_releases = (int)n;
		} else if (strcmp(a, "--memory-budget") == 0) {
			if (budget_parse(v, &o.memory_budget) != 0) {
				fprintf(stderr, "podium: --memory-budget wants BYTES (e.g. 8G) or auto, got \"%s\"\n", v);
				return 2;
			}
		} else {
			fprintf(stderr, "podium: unknown option \"%s\"\n", a);
			usage(stderr);
			return 2;
		}
		i++;
	}
	return podium_serve(&o) == 0 ? 0 : 1;
}
