/* podium.c — the public URLs of the hub and of the spaces' apps. */
#include "orchestrator/podium.h"

#include "common/util.h"

static int
bound_port(const podium *p)
{
	return p->proxy != NULL ? proxy_server_port(p->proxy) : p->listen_port;
}

char *
podium_hub_url(const podium *p)
{
	int port = bound_port(p);

	if (port == 80)
		return xasprintf("http://%s", p->domain);
	return xasprintf("http://%s:%d", p->domain, port);
}

char *
podium_space_url(const podium *p, const char *subdomain)
{
	int port = bound_port(p);

	if (port == 80)
		return xasprintf("http://%s.%s", subdomain, p->app_domain);
	return xasprintf("http://%s.%s:%d", subdomain, p->app_domain, port);
}
