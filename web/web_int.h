/* web_int.h — what the hub's files share: the route tables and their calls, JSON
 * answers, identity, and the pages' builder. Nothing outside web/ includes it.
 *
 * A request on the hub's host, from birth to death: web_hub_handle (hub.c) picks
 * the router (the JSON API, or the pages and git) → web_route_serve (route.c)
 * finds the route by path and method, the path's space, checks the route's access
 * → the route's handler answers, at once or once its body is in (web_with_body).
 */
#ifndef PODIUM_WEB_INT_H
#define PODIUM_WEB_INT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "web/web.h"

/* ---- auth.c, session.c: who is calling --------------------------------------- */

typedef struct auth_info {
	int presented;   /* credentials were given (a token; a session cookie is not counted) */
	int write;       /* they may change things: write tokens and sessions */
	int session;     /* the user came from a session cookie */
	int has_cred;    /* cred is set: the user came from a token or a session */
	int store_down;  /* a token was given and the store could not tell (its server away) */
	unsigned char cred[32]; /* its hash (routes.h): what a ticket is minted from */
} auth_info;

/* The store auth_is_admin reads (the daemon's). */
void auth_set_store(store *st);
/* The request's user from a token (Authorization: Bearer TOKEN, or Basic with the
 * token as password) or else a session cookie (only on safe methods or from the
 * hub's own origin, see session.c); NULL when absent or wrong. Caller frees. */
char *auth_request_user(podium *p, const http_request *r, auth_info *ai);
/* May user write to spaces of owner? (admin: all; others: their own.) */
int auth_may_write(const char *user, const char *owner);
int auth_is_admin(const char *user);
/* May this (possibly anonymous) user see s? Public spaces, or its writers. */
int web_may_read(const char *user, const space *s);

/* The user of the request's session cookie, or NULL. A state-changing request
 * (not GET/HEAD) counts only when it comes from the hub's own origin. */
char *session_user(podium *p, const http_request *r, auth_info *ai);
/* The request's session's CSRF token for forms; -ENOENT without a session. */
int session_csrf(podium *p, const http_request *r, char *csrf, size_t len);
/* Is this request from a page of the hub itself (Origin / Sec-Fetch-Site)? */
int session_same_origin(const http_request *r);
/* GET /api/session: {"name", "admin", "csrf"} of the signed-in user (name null). */
json_t *session_json(podium *p, const http_request *r, const char *user);
/* Notices users and tokens changed by another process (podium user ...) and
 * republishes the token snapshot: a 1 s timer on PRAGMA data_version. */
void auth_watch_start(podium *p);

/* ---- route.c: one table per face, one matcher, one access check ---------------- */

/* Who may call a route. The path's space ({owner}/{name}) is checked first for
 * every route: one the caller may not see is the same 404 as a missing one. */
typedef enum web_access {
	WEB_PUBLIC,   /* anyone */
	WEB_READ,     /* the path's space; a route without one: a signed-in caller (401) */
	WEB_WRITE,    /* a signed-in caller (401) who may change the path's space (403) */
	WEB_ADMIN,    /* a signed-in admin (401, 403) */
} web_access;

/* Route flag: git's own answers. A space the caller may not see asks for
 * credentials (401 Basic) when none were sent, as a private repository does. */
#define WEB_GIT 0x1
/* Route flag: a page-side route that answers as the API does (files: resolve, raw):
 * a missing space is the JSON 404 with X-Error-Code: RepoNotFound. */
#define WEB_APIERR 0x2
/* Route flag: a POST that only reads (paths-info, validate-yaml): anonymous callers
 * and read-only tokens may send it, body and all. */
#define WEB_READS 0x4

#define WEB_MAX_PARAMS 4

/* The parts of a path a pattern captured: "{owner}" one segment, "{rest*}" (last)
 * everything after it, maybe nothing. Values are raw (percent-encoded). */
typedef struct web_match {
	int n;
	const char *name[WEB_MAX_PARAMS];  /* into the pattern, nlen long */
	size_t nlen[WEB_MAX_PARAMS];
	char *value[WEB_MAX_PARAMS];       /* owned */
	size_t end[WEB_MAX_PARAMS];        /* offset in the path just after the value */
} web_match;

typedef struct web_call web_call;
typedef void (*web_handler)(web_call *c);

typedef struct web_route {
	const char *methods;   /* "GET, HEAD": also the Allow header's words */
	const char *pattern;   /* "/api/spaces/{owner}/{name}/restart" */
	web_handler handler;
	web_access access;
	unsigned flags;        /* WEB_GIT, WEB_APIERR, WEB_READS */
} web_route;

typedef struct web_router {
	const web_route *routes;
	size_t n;
	int json;         /* the API: JSON errors; else error pages, and 401 → the sign-in form */
	int git_suffix;   /* a {name} may end in ".git" (the hub's git remotes) */
} web_router;

typedef void (*web_body_handler)(web_call *c, json_t *body);

/* One request on its way through a route. Freed when the handler returns, unless
 * it collects a body (web_with_body): then when the body is done or aborted. */
struct web_call {
	podium *p;
	http_exchange *x;
	const http_request *r;
	const web_router *router;
	const web_route *route;
	char *user;            /* the caller, NULL when anonymous */
	auth_info ai;
	space *s;              /* the path's space, one the caller may see; NULL without */
	web_match m;
	/* web_with_body (json.c) */
	int kept;
	web_body_handler body_handler;
	char *body;
	size_t body_len, body_max;   /* body_max: 0 for 1 MiB */
	int body_too_big;
	int form;              /* an HTML form's body: given to the handler as {key: [values]} */
};

/* The API (api.c) and the pages and git (hub.c). */
extern const web_router web_api_router;
extern const web_router web_hub_router;
/* /api/... and /metrics: the API's own checks, then its routes. */
void web_api_handle(podium *p, http_exchange *x);
/* git's 401: text, with WWW-Authenticate: Basic (hub.c). */
void web_git_unauthorized(http_exchange *x, const char *msg);

/* Serves x through rt's routes: 404 for an unknown path, the path's space (404, or
 * 401 for git), 405 with Allow for a wrong method, the access check, the handler.
 * Takes user (the caller, or NULL). */
void web_route_serve(const web_router *rt, podium *p, http_exchange *x, char *user,
    const auth_info *ai);
void web_call_free(web_call *c);
/* A captured part ("owner", "rest"), or "" when the route has none by that name. */
const char *web_param(const web_call *c, const char *name);
/* The space the path's {owner}/{name} names (whoever may see it), or NULL. */
space *web_path_space(const web_call *c);
/* The request's path after the named part ("/info/refs" after {name}). */
const char *web_path_after(const web_call *c, const char *name);

/* The pieces, pure (route tests call them). */
/* 1 when pattern matches path (m filled: web_match_release), else 0. */
int web_match_route(const char *pattern, const char *path, web_match *m);
void web_match_release(web_match *m);
/* Is method one of list's ("GET, HEAD")? */
int web_method_in(const char *method, const char *list);
/* The first route of rt whose pattern matches path and whose methods have method
 * (among the routes with the pattern of the first that matches: a path's routes
 * share one pattern, and a literal one before a parameter owns its path),
 * with its parts in m. NULL when none: then *near is the first route whose
 * pattern matches (NULL: an unknown path; its parts are in m) and allow lists the
 * methods of all of them. */
const web_route *web_route_find(const web_router *rt, const char *method, const char *path,
    web_match *m, const web_route **near, char *allow, size_t allowlen);
/* What the access check answers: 0 (go on), 401 or 403. */
int web_access_status(web_access a, int signed_in, int admin, int has_space, int may_write);

/* ---- json.c: JSON answers and bodies -------------------------------------------- */

int web_json(http_exchange *x, int status, json_t *body); /* steals body */
/* The same with extra headers. */
int web_json_with(http_exchange *x, int status, json_t *body, const http_header *h, size_t nh);
int web_json_error(http_exchange *x, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A 401 that asks for a token (WWW-Authenticate: Bearer). */
void web_json_unauthorized(http_exchange *x, const char *msg);
/* An error with the Hub's X-Error-Code (NULL: none). */
int web_json_error_code(http_exchange *x, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The same with up to 4 more headers. */
int web_json_error_with(http_exchange *x, int status, const char *code, const http_header *extra,
    size_t nextra, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* The Hub's 404s, with X-Error-Code: RepoNotFound, RevisionNotFound, EntryNotFound. */
void web_not_found(http_exchange *x, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Collects the call's JSON object body (400/413 answered here; 401 without a
 * user), looks the call's space up again (it may have gone meanwhile: 404), then
 * calls h. The call lives until then. A form body (application/x-www-form-
 * urlencoded) comes to h as {key: [value, ...]} (web_form_decode). */
void web_with_body(web_call *c, web_body_handler h);
/* A percent-encoded copy of s for a URL's query or path segment (caller frees). */
char *web_escape(const char *s);
/* A decoded copy of a percent-encoded URL piece (caller frees), or NULL when it
 * decodes to something with a NUL. */
char *web_unescape(const char *s);
/* The value of key in a query string ("a=1&b=2"), decoded ('+' is a space);
 * NULL when absent. */
char *web_query_get(const char *query, const char *key);
/* Is key "true" (any case: older clients send Python's True) or "1"? */
int web_query_true(const char *query, const char *key);
/* A form ("a=1&a=2&b=x") as {key: [value, ...]} (new reference), or NULL when a
 * piece does not decode. */
json_t *web_form_decode(const char *text, size_t len);
/* "http://" and the Host the request came to ("127.0.0.1:8080"): the hub as the
 * client addresses it, which the Hub's clients check URLs in answers against (the
 * configured one when Host is unusable). Caller frees. */
char *web_hub_base(podium *p, http_exchange *x);
/* The same for a form sent by GET, where '+' stands for a space. */
char *web_form_get(const char *query, const char *key);

/* ---- the API's handlers ------------------------------------------------------------ */

/* users_api.c: /api/settings/tokens[/{id}], /api/admin/users[/{user}] */
void web_tokens_list(web_call *c);
void web_tokens_create(web_call *c);
void web_tokens_delete(web_call *c);
void web_users_list(web_call *c);
void web_users_create(web_call *c);
void web_users_change(web_call *c);
/* config_api.c: /api/spaces/{o}/{n}/variables, /secrets, /hardware */
void web_variables_list(web_call *c);
void web_variables_change(web_call *c);
void web_secrets_list(web_call *c);
void web_secrets_change(web_call *c);
void web_hardware_set(web_call *c);
/* lifecycle_api.c: restart, pause, sleeptime, releases, rollback, storage, duplicate */
void web_restart(web_call *c);
void web_pause(web_call *c);
void web_sleeptime(web_call *c);
void web_releases(web_call *c);
void web_rollback(web_call *c);
void web_storage(web_call *c);
void web_storage_delete(web_call *c);
void web_duplicate(web_call *c);
/* A model's or dataset's path (/api/models/O/N..., /O/N/resolve/...): 404
 * RepoNotFound, as the Hub answers for a repository that is not there (api.c). */
void web_not_a_space(web_call *c);
/* list_api.c: GET /api/spaces (search, filters, sort, pages with Link) */
void web_spaces_list(web_call *c);
/* repos_api.c: POST /api/repos/create, DELETE /api/repos/delete */
void web_repos_create(web_call *c);
void web_repos_delete(web_call *c);
/* The space options of repos/create and duplicate, in the Hub's keys: "private" /
 * "visibility", "hardware", "storageTier", "sleepTimeSeconds", "secrets" and
 * "variables" ([{"key","value","description"?}]). Borrowed from the body. */
typedef struct web_space_opts {
	int private;                  /* -1: not given */
	const struct flavor *flavor;  /* NULL: not given */
	const char *tier;             /* NULL: not given */
	long long sleep;              /* 0: not given */
	json_t *variables, *secrets;  /* arrays, or NULL */
} web_space_opts;
/* Reads and checks every option: 0, or -1 with the answer sent (400, 403). */
int web_space_opts_read(web_call *c, json_t *body, web_space_opts *o);
/* Applies them to a space just made (nothing runs yet): 0, or -errno with err. */
int web_space_opts_apply(podium *p, space *s, const web_space_opts *o, char *err, size_t errlen);
/* A sleep time in seconds (-1, or 1 to LIFECYCLE_MAX_SLEEP): 0, or -1 answered 400. */
int web_sleep_seconds(http_exchange *x, json_t *v, const char *field, long long *out);
/* The e-mail of a user's commits and tags (USER@users.noreply.DOMAIN). Caller frees. */
char *web_user_email(podium *p, const char *user);
/* The HTTP status of an orchestrator error (-EINVAL 400, -EEXIST 409, ...). */
int web_status_of(int r);
/* The Hub's answer to a created repository: {"url","name","id"} (new reference),
 * its url on the host x's request came to. */
json_t *web_repo_created(podium *p, http_exchange *x, space *s);
/* 409 {"error": msg, "url"}: the space owner/name that is already there. */
void web_repo_conflict(podium *p, http_exchange *x, const char *owner, const char *name,
    const char *msg);
/* logs.c: /logs/build and /logs/run, text or SSE */
void web_logs_build(web_call *c);
void web_logs_run(web_call *c);
/* likes_api.c: POST and DELETE /api/spaces/{o}/{n}/like */
void web_like(web_call *c);
/* metrics.c: GET /metrics, Prometheus text */
void web_metrics(web_call *c);

/* repo_api.c: the Hub's repository reads (builder/git.h underneath) */
void web_repo_tree(web_call *c);
void web_repo_revision(web_call *c);
void web_repo_commits(web_call *c);
void web_repo_paths_info(web_call *c);
void web_repo_resolve(web_call *c);
void web_repo_raw(web_call *c);
/* REV (one segment: clients percent-encode a slash in it; "main" when absent)
 * and PATH of the call's {rest}, decoded (caller frees); 0, or -1 with a 400
 * answered. */
int web_rev_path(web_call *c, char **rev, char **path);
/* "bytes=A-B", "bytes=A-", "bytes=-N" against size: 1 and [*from, *to] when it is
 * one satisfiable range, 0 to send everything (absent, several ranges, not
 * understood), -1 not satisfiable (416). */
int web_range_parse(const char *h, uint64_t size, uint64_t *from, uint64_t *to);
/* The fields the Hub's clients read besides space_json's: "_id" (24 hex digits,
 * stable per space), "lastModified" (date of main's tip, else createdAt), "likes". */
void web_space_fields(podium *p, const space *s, json_t *j);

/* refs_api.c: /refs, /branch/NAME, /tag/REV|NAME */
void web_refs(web_call *c);
void web_branch_create(web_call *c);
void web_branch_delete(web_call *c);
void web_tag_create(web_call *c);
void web_tag_delete(web_call *c);

/* commit.c: the Hub's commit API */
/* Largest file a commit takes (a regular git blob; no LFS here): 413 past it. */
#define WEB_MAX_FILE (100u << 20)
void web_repo_commit(web_call *c);
/* preupload.c: what the client asks before a commit: POST .../preupload/REV (upload
 * mode, ignored or not, the blob id there), POST /api/validate-yaml (README) */
void web_repo_preupload(web_call *c);
void web_validate_yaml(web_call *c);

/* commit_lines.c: the commit body's NDJSON lines as they arrive. A string longer
 * than LINE_SPOOL_MIN (a file's content) goes to a spool file instead of memory;
 * the line's text has a placeholder string in its place. */
#define LINE_SPOOL_MIN ((size_t)64 << 10)
#define LINE_SPOOLS_MAX 8
typedef struct line_spool {
	int fd;           /* unlinked file: the string's JSON text between its quotes */
	uint64_t len;
	int escaped;      /* it has backslash escapes */
} line_spool;
typedef struct line_reader line_reader;

/* Spools go to spool_dir; a line's text may be skeleton_max bytes (more than
 * LINE_SPOOL_MIN: a string grows there until it is spooled), the whole line
 * (spools included) line_max. */
line_reader *line_reader_new(const char *spool_dir, size_t skeleton_max, uint64_t line_max);
void line_reader_free(line_reader *r);
/* Reads data: 1 when a line is complete (*used bytes taken, its '\n' included),
 * 0 when all of data was taken, -1 on an error (line_reader_error). */
int line_reader_feed(line_reader *r, const char *data, size_t len, size_t *used);
/* The body ended: 1 when an unterminated last line is now complete, else 0. */
int line_reader_end(line_reader *r);
/* The complete line's text (long strings replaced by placeholders). */
const char *line_reader_text(const line_reader *r, size_t *len);
size_t line_reader_spools(const line_reader *r);
/* The spool a string of the line's JSON stands for, or NULL (an ordinary string). */
const line_spool *line_reader_spool(const line_reader *r, const char *s);
/* Forgets the line and closes its spools, for the next one. */
void line_reader_next(line_reader *r);
/* The error's HTTP status (413 too long, 507 disk full, 500) and message; 0: none. */
int line_reader_error(const line_reader *r, const char **msg);
/* repos/create's "files" ([{path, content, encoding}]) as the first commit of s,
 * then a build as after a push. 0, or an HTTP status with err set. */
int web_commit_files(podium *p, space *s, const char *user, json_t *files, char *err,
    size_t errlen);

/* clone_api.c: repos/create with "from" */
/* The policy from p->config's "clone" section, once at start. */
void web_clone_init(podium *p);
/* Creates the space with its options, clones url into it and answers c when done. */
void web_clone_start(web_call *c, const char *owner, const char *name, const char *sdk,
    const web_space_opts *o, const char *url);

/* ---- pages.c, pages_space.c, pages_user.c: HTML ------------------------------------ */

/* page_text is the one place where strings become HTML: every user-supplied string
 * goes through it. */
typedef struct page {
	char *buf;
	size_t len, cap;
	podium *p;
	int embed;        /* set before page_begin: no top bar, other sites may frame it */
} page;

void page_raw(page *pg, const char *s);
/* Escaped text (also right inside double-quoted attributes). */
void page_text(page *pg, const char *s);
/* printf into the page, then escaped. */
void page_textf(page *pg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* printf of markup into the page, not escaped: for numbers and the page's own
 * constants only, never a string from a user. */
void page_rawf(page *pg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* <!doctype ...> to the end of the top bar: who is signed in, Log out or Sign in. */
void page_begin(page *pg, podium *p, const http_request *r, const char *user, const char *title,
    const char *name);
/* Closes the page and sends it with the pages' security headers (CSP). */
void page_finish(page *pg, http_exchange *x, int status, const http_header *extra, size_t nextra);

/* A stage in words ("Running", "Runtime error"), and as a badge (id may be NULL)
 * whose class and data-stage carry the stage's name. */
const char *page_stage_words(const char *stage);
void page_stage_badge(page *pg, const char *stage, const char *id);
/* An error as a page with the top bar (sign in, who is signed in) for browsers;
 * as http_respond_error for other clients. */
void web_page_error(web_call *c, int status, const char *msg);
void web_page_error_with(web_call *c, int status, const char *msg, const http_header *extra,
    size_t nextra);
/* The login form (status 200, or 4xx with error; user: the name typed before, or
 * NULL); extra headers are sent along. */
void web_page_login(podium *p, http_exchange *x, int status, const char *error, const char *next,
    const char *user, const char *csrf, const http_header *extra, size_t nextra);
/* markdown.c: Markdown (GitHub's flavor, cmark-gfm) as HTML safe to put in a page:
 * front matter hidden, raw HTML shown as text, unsafe link targets dropped;
 * relative targets from path's directory made absolute: links under blob_base,
 * images under raw_base ("/spaces/O/N/blob/REV", "/spaces/O/N/resolve/REV").
 * Caller frees. */
char *web_markdown(const char *md, size_t len, const char *path, const char *blob_base,
    const char *raw_base);

/* pages_gallery.c: the gallery, a user's profile */
void web_page_index(web_call *c);
void web_page_profile(web_call *c);
/* pages_space.c: a space's head (crumbs, title, Like, its state in words with
 * Restart for its writers, the tabs: tab is "app", "files", "logs" or "settings"),
 * its app page (?embed: the app alone) and its logs */
void page_space_head(page *pg, web_call *c, json_t *j, const char *tab);
void web_page_space(web_call *c);
void web_page_logs(web_call *c);
/* pages_settings.c */
void web_page_settings(web_call *c);
/* pages_files.c: the Files tab in the Hub's URLs */
void web_page_tree(web_call *c);
void web_page_blob(web_call *c);
void web_page_commits(web_call *c);
void web_page_commit(web_call *c);
void web_page_new(web_call *c);
void web_page_tokens(web_call *c);
void web_page_admin(web_call *c);
/* tls_admin.c: HTTPS certificate state (GET /api/admin/tls, a section of /admin) */
void web_tls_status(web_call *c);
void web_tls_section(page *pg, podium *p);
/* session.c: GET/POST /login, POST /logout */
void web_login(web_call *c);
void web_logout(web_call *c);
/* assets.c: GET /static/... (and /favicon.ico): the pages' script, style and icon,
 * built into the binary; hashed names cached for good, gzip when accepted. */
void web_static(web_call *c);
/* The hashed path of an asset ("app.js" → "/static/app.HASH.js"). */
const char *web_asset_path(const char *name);
/* data gzip-compressed at level (1-9) (caller frees), or NULL. */
unsigned char *web_gzip(const void *data, size_t len, int level, size_t *outlen);
/* Does the request's header name hold token (Accept-Encoding: gzip, If-None-Match)? */
int web_header_has(const http_request *r, const char *name, const char *token);

#endif
