/* daemon.h — `podium serve`. */
#ifndef PODIUM_DAEMON_H
#define PODIUM_DAEMON_H

#include <stdint.h>

#include "orchestrator/podium.h"

typedef struct podium_options {
	const char *listen_host;
	int listen_port;
	const char *data_dir;
	const char *domain;
	int sleep_after;     /* --sleep-after SECONDS for new spaces; -1 never */
	int keep_releases;   /* --keep-releases N */
	uint64_t memory_budget;   /* bytes the apps' memory limits may add up to; 0: auto */
	const char *app_domain;   /* --app-domain: apps at OWNER-NAME.APP_DOMAIN; NULL: domain */
	const char *https_host;   /* --https HOST:PORT: the TLS listener (with config.yaml tls:) */
	int https_port;           /* -1: none */
	const char *store;        /* --store ADDRESS; NULL: config.yaml's store:, else DIR/podium.db */
	const char *node;         /* --node NAME: a node of a cluster (issue 27); NULL: one machine */
	const char *advertise;    /* --advertise IPV4:PORT: where the other nodes reach it */
	const char *shared;       /* --shared DIR: repositories and /data every node reaches */
} podium_options;

/* NAME in the directory of the running binary (podium-sandbox, podium-seccomp.json).
 * Caller frees. */
char *cmd_exe_sibling(const char *name);

/* Runs the daemon until SIGTERM/SIGINT. 0 on a clean stop, -1 on a startup error. */
int podium_serve(const podium_options *opt);

#endif
