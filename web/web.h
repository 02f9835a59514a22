/* web.h — the hub: JSON API (Hugging Face Hub shapes), git over HTTP and pages.
 * web_hub_handle is the proxy's hub handler (arg: the podium). */
#ifndef PODIUM_WEB_H
#define PODIUM_WEB_H

#include <jansson.h>

#include "proxy/http.h"
#include "orchestrator/podium.h"

void web_hub_handle(http_exchange *x, void *arg);
/* Before the proxy serves: the store identity reads, the watch that notices users
 * and tokens changed by another process (podium user ...), and the clone policy
 * from p->config. */
void web_start(podium *p);

/* ---- auth.c ---- */
/* The store auth_is_admin reads (the daemon's). */
void auth_set_store(store *st);
/* The user named by the request's credentials (Authorization: Bearer TOKEN, or Basic
 * with the token as password), or NULL when absent or wrong (caller frees).
 * *presented tells whether credentials were given at all. */
char *auth_user(podium *p, const http_request *r, int *presented);
typedef struct auth_info {
	int presented;   /* credentials were given (a token; a session cookie is not counted) */
	int write;       /* they may change things: write tokens and sessions */
	int session;     /* the user came from a session cookie */
} auth_info;
/* The request's user from a token (Authorization) or else a session cookie (only
 * on safe methods or from the hub's own origin, see session.c); caller frees. */
char *auth_request_user(podium *p, const http_request *r, auth_info *ai);
/* May user write to spaces of owner? (admin: all; others: their own.) */
int auth_may_write(const char *user, const char *owner);
int auth_is_admin(const char *user);
/* ---- session.c ---- */
/* The user of the request's session cookie, or NULL. A state-changing request
 * (not GET/HEAD) counts only when it comes from the hub's own origin. */
char *session_user(podium *p, const http_request *r, auth_info *ai);
/* The request's session's CSRF token for forms; -ENOENT without a session. */
int session_csrf(podium *p, const http_request *r, char *csrf, size_t len);
/* Is this request from a page of the hub itself (Origin / Sec-Fetch-Site)? */
int session_same_origin(const http_request *r);
/* GET/POST /login, POST /logout, GET /api/session. */
void web_login_handle(podium *p, http_exchange *x);
void web_logout_handle(podium *p, http_exchange *x);
/* GET /api/session: {"name", "admin", "csrf"} of the signed-in user (name null). */
json_t *session_json(podium *p, const http_request *r, const char *user);
/* Notices users and tokens changed by another process (podium user ...) and
 * republishes the token snapshot: a 1 s timer on PRAGMA data_version. */
void auth_watch_start(podium *p);

/* ---- users_api.c ---- */
/* /api/settings/tokens[/ID] (rest: what follows it) and /api/admin/users[/NAME]. */
void web_tokens_api(podium *p, http_exchange *x, const char *user, const char *rest);
void web_users_api(podium *p, http_exchange *x, const char *user, const char *rest);

/* ---- api.c ---- */
void web_api_handle(podium *p, http_exchange *x);
int web_json(http_exchange *x, int status, json_t *body); /* steals body */
/* The Hub's answer to a created repository: {"url","name","id"} (new reference). */
json_t *web_repo_created(podium *p, space *s);
/* 1 when the request's method is in allow ("GET, HEAD"); else answers 405 with
 * that Allow header (a JSON error, or an error page when !json) and returns 0. */
int web_allow(http_exchange *x, const char *allow, int json);
int web_json_error(http_exchange *x, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Collects a JSON object body (400/413 answered here), then calls h with ctx, a
 * copy of the given string (e.g. the path: look the space up again, it may have
 * gone while the body arrived). */
typedef void (*web_body_handler)(podium *p, http_exchange *x, json_t *body, const char *user,
    const char *ctx);
void web_with_body(podium *p, http_exchange *x, const char *user, web_body_handler h,
    const char *ctx);

/* ---- lifecycle_api.c ---- */
/* /api/spaces/{o}/{n}/restart, /pause, /sleeptime, /releases, /rollback: 1 when
 * rest names one of them (answered), 0 otherwise. */
int web_lifecycle_api(podium *p, http_exchange *x, space *s, const char *rest, const char *user);

/* ---- config_api.c ---- */
/* /api/spaces/OWNER/NAME/{secrets,variables} (kind: "secrets" or "variables"). */
void web_config_handle(podium *p, http_exchange *x, space *s, const char *user, const char *kind);
/* POST /api/spaces/OWNER/NAME/hardware {"flavor"}. */
void web_hardware_handle(podium *p, http_exchange *x, space *s, const char *user);

/* ---- metrics.c ---- */
/* GET /metrics: Prometheus text format, admin only. */
void web_metrics_handle(podium *p, http_exchange *x);

/* ---- logs.c ---- */
/* A space's build (build=1) or run log: text, or an SSE stream following the file
 * when the client accepts text/event-stream. */
void web_logs_stream(podium *p, http_exchange *x, space *s, int build);

/* ---- pages.c ---- */
/* The login form (status 200, or 4xx with error); extra headers are sent along. */
void web_page_login(podium *p, http_exchange *x, int status, const char *error, const char *next,
    const char *csrf, const http_header *extra, size_t nextra);
void web_page_index(podium *p, http_exchange *x, const char *user);

/* ---- assets.c ---- */
/* GET /static/...: the pages' script and style, built into the binary. */
void web_static_handle(http_exchange *x);

#endif
