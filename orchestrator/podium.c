/* podium.c — the public URLs of the hub and of the spaces' apps. */
#include "orchestrator/podium.h"

#include <stdlib.h>

#include "common/util.h"

/* The scheme and the port the URLs name (the bound one once listening). */
static int
public_port(const podium *p, const char **scheme)
{
	if (p->tls != NULL) {
		*scheme = "https";
		return p->proxy != NULL ? proxy_server_https_port(p->proxy) : p->https_port;
	}
	*scheme = "http";
	return p->proxy != NULL ? proxy_server_port(p->proxy) : p->listen_port;
}

static char *
url_for(const podium *p, const char *prefix, const char *domain)
{
	const char *scheme;
	int port = public_port(p, &scheme);

	if ((port == 80 && scheme[4] == '\0') || (port == 443 && scheme[4] == 's'))
		return xasprintf("%s://%s%s", scheme, prefix, domain);
	return xasprintf("%s://%s%s:%d", scheme, prefix, domain, port);
}

char *
podium_hub_url(const podium *p)
{
	return url_for(p, "", p->domain);
}

char *
podium_space_url(const podium *p, const char *subdomain)
{
	char *prefix = xasprintf("%s.", subdomain), *url = url_for(p, prefix, p->app_domain);

	free(prefix);
	return url;
}
