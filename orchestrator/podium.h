/* podium.h — the daemon's shared state: configuration, the loop, the store and the
 * list of spaces. One instance lives for the life of `podium serve`; everything in it
 * is touched only from the main loop's thread. */
#ifndef PODIUM_PODIUM_H
#define PODIUM_PODIUM_H

#include <uv.h>

#include "proxy/proxy.h"
#include "common/config.h"
#include "orchestrator/store/store.h"

typedef struct space space;
struct cluster;

typedef struct podium {
	uv_loop_t *loop;
	char *data_dir;      /* absolute */
	char *domain;        /* "localhost" */
	char *listen_host;
	int listen_port;     /* configured; the bound one is proxy_server_port() */
	char *sandbox_bin;   /* absolute path of podium-sandbox */
	store *store;
	proxy_server *proxy;
	space *spaces;       /* linked list, see space.h */
	int sleep_after_default; /* --sleep-after: seconds idle before an app sleeps, -1 never */
	int keep_releases;   /* --keep-releases: successful releases kept on disk */
	int stopping;
	char *app_domain;    /* apps live at OWNER-NAME.APP_DOMAIN (--app-domain, default domain) */
	config *config;      /* DATA/config.yaml, read once at start (common/config.h) */
	/* HTTPS (serve --https and config.yaml tls:): where certificates come
	 * from, NULL when off; then the URLs below are https:// */
	struct tls_certs *tls;
	char *https_host;
	int https_port;      /* configured; the bound one is proxy_server_https_port() */
	/* a node of a cluster (issue 27; --node): NULL on one machine, where no
	 * cluster code runs. The placement of spaces (placement.h) says which
	 * node runs each one. */
	char *node;
	char *shared_dir;    /* --shared: repositories and /data images every node reaches */
	int fenced;          /* 1: the node lost its lease, it runs nothing until it has
	                      * one; 2: joining, until it read the placements */
	struct cluster *cluster; /* orchestrator/cluster/cluster.h; NULL on one machine */
} podium;

/* Public base URL of the hub, e.g. "http://localhost:8080", or with HTTPS
 * "https://example.com" (caller frees). */
char *podium_hub_url(const podium *p);
/* Public URL of a space's app host, e.g. "http://admin-demo.localhost:8080" (caller frees). */
char *podium_space_url(const podium *p, const char *subdomain);

#endif
