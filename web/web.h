/* web.h — the hub: the JSON API (Hugging Face Hub shapes), git over HTTP and the
 * web pages, on the hub's host. What the rest of the daemon may call; everything
 * else is web_int.h's. */
#ifndef PODIUM_WEB_H
#define PODIUM_WEB_H

#include "orchestrator/podium.h"
#include "proxy/http.h"

/* The proxy's hub handler (proxy_server_start; arg: the podium). */
void web_hub_handle(http_exchange *x, void *arg);
/* Before the proxy serves: the store identity reads, the watch that notices users
 * and tokens changed by another process (podium user ...), and the clone policy
 * from p->config. */
void web_start(podium *p);

#endif
