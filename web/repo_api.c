/* repo_api.c — a space's repository read the way the Hub's clients do:
 * GET /api/spaces/O/N/tree/REV[/PATH], /revision/REV, /commits/REV and
 * GET|HEAD /spaces/O/N/resolve|raw/REV/PATH (with single byte ranges, which
 * @huggingface/hub's downloadFile uses to learn the size and ETag first). The
 * reading is builder/git.h's; here are the HTTP shapes. */
#include <curl/curl.h>
#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "builder/git.h"
#include "common/util.h"
#include "orchestrator/space.h"
#include "web/repo.h"

#define COMMITS_PAGE_MAX 1000

void
repo_not_found(http_exchange *x, const char *code, const char *fmt, ...)
{
	http_header h = { "X-Error-Code", code };
	char msg[1024], *text;
	json_t *body;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	utf8_scrub(msg);
	body = json_pack("{s:s}", "error", msg);
	text = json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(body);
	http_respond(x, 404, "application/json", &h, 1, text, strlen(text));
	free(text);
}

char *
repo_unescape(const char *s)
{
	int n = 0;
	char *d = curl_easy_unescape(NULL, s, 0, &n);
	char *out;

	if (d == NULL)
		return NULL;
	out = memchr(d, '\0', (size_t)n) == NULL ? xstrndup(d, (size_t)n) : NULL;
	curl_free(d);
	return out;
}

/* The value of key in a query string ("a=1&b=2"), decoded; NULL when absent. */
static char *
query_get(const char *query, const char *key)
{
	size_t k = strlen(key);

	for (const char *q = query; q != NULL && *q != '\0';) {
		size_t n = strcspn(q, "&");

		if (n > k && strncmp(q, key, k) == 0 && q[k] == '=') {
			char *raw = xstrndup(q + k + 1, n - k - 1), *v = repo_unescape(raw);

			free(raw);
			return v;
		}
		q += n;
		if (*q == '&')
			q++;
	}
	return NULL;
}

/* lastModified of each space, by the commit main was at: a list of hundreds of
 * spaces must not open hundreds of repositories (it took ~0.2 ms a space). An
 * entry goes stale only by a push, which changes the sha. Main loop only. */
typedef struct lastmod {
	char key[300];        /* owner/name */
	char sha[41];
	char date[32];
	struct lastmod *next;
} lastmod;

#define LASTMOD_BUCKETS 1024
static lastmod *lastmods[LASTMOD_BUCKETS];

static lastmod *
lastmod_entry(const space *s, int create)
{
	char key[300];
	unsigned h;
	lastmod *e;

	snprintf(key, sizeof(key), "%s/%s", space_owner(s), space_name(s));
	h = str_hash(key) % LASTMOD_BUCKETS;
	for (e = lastmods[h]; e != NULL; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e;
	if (!create)
		return NULL;
	e = xcalloc(1, sizeof(*e));
	snprintf(e->key, sizeof(e->key), "%s", key);
	e->next = lastmods[h];
	lastmods[h] = e;
	return e;
}

/* main's date, from the cache or the repository: 0, or -1 (nothing on main). */
static int
last_modified(podium *p, const space *s, char date[32])
{
	const char *sha = space_pushed_sha(s);
	lastmod *e = sha != NULL ? lastmod_entry(s, 0) : NULL;
	char *repo;
	int r;

	if (e != NULL && strcmp(e->sha, sha) == 0) {
		memcpy(date, e->date, 32);
		return 0;
	}
	repo = space_repo_path(p, s);
	r = builder_repo_date(repo, date);
	free(repo);
	if (r != 0)
		return -1;
	if (sha != NULL && strlen(sha) == 40) {
		e = lastmod_entry(s, 1);
		memcpy(e->sha, sha, 41);
		memcpy(e->date, date, 32);
	}
	return 0;
}

void
repo_space_fields(podium *p, const space *s, json_t *j)
{
	const char *created = json_string_value(json_object_get(j, "createdAt"));
	unsigned char h[8];
	char id[25], seed[300], date[32];
	struct tm tm = { 0 };
	unsigned ts = 0;

	/* Hub ids are MongoDB ObjectIds (4 bytes of creation time, then 8 more); ours
	 * are the creation time and a hash of the space's id and creation time. */
	if (created != NULL && strptime(created, "%Y-%m-%dT%H:%M:%S", &tm) != NULL)
		ts = (unsigned)timegm(&tm);
	snprintf(seed, sizeof(seed), "%s/%s@%s", space_owner(s), space_name(s),
	    created != NULL ? created : "");
	crypto_generichash(h, sizeof(h), (const unsigned char *)seed, strlen(seed), NULL, 0);
	snprintf(id, sizeof(id), "%08x", ts);
	sodium_bin2hex(id + 8, sizeof(id) - 8, h, sizeof(h));
	json_object_set_new(j, "_id", json_string(id));
	if (json_object_get(j, "likes") == NULL)
		json_object_set_new(j, "likes", json_integer(0));
	if (last_modified(p, s, date) == 0)
		json_object_set_new(j, "lastModified", json_string(date));
	else if (created != NULL)
		json_object_set_new(j, "lastModified", json_string(created));
}

/* The answer to a read that failed (git.h's errors). */
static void
read_failed(http_exchange *x, int r, const char *rev, const char *path)
{
	if (r == -ESRCH)
		repo_not_found(x, "RevisionNotFound", "revision %s not found", rev);
	else if (r == -ENOENT)
		repo_not_found(x, "EntryNotFound", "%s does not exist on %s", path, rev);
	else
		web_json_error(x, 500, "internal error: the repository could not be read");
}

void
repo_tree(podium *p, http_exchange *x, space *s, const char *rev, const char *path)
{
	const http_request *r = http_exchange_request(x);
	char *rec = query_get(r->query, "recursive"), *repo = space_repo_path(p, s);
	int recursive = rec != NULL && (strcmp(rec, "true") == 0 || strcmp(rec, "1") == 0);
	json_t *arr;
	int e;

	free(rec);
	e = builder_repo_tree(repo, rev, path, recursive, &arr);
	if (e == 0)
		web_json(x, 200, arr);
	else
		read_failed(x, e, rev, path);
	free(repo);
}

void
repo_revision(podium *p, http_exchange *x, space *s, const char *rev)
{
	char *repo = space_repo_path(p, s), sha[41];
	json_t *j, *files;
	int e;

	e = builder_repo_files(repo, rev, sha, &files);
	if (e == 0) {
		j = space_json(p, s, 1);
		repo_space_fields(p, s, j);
		if (sha[0] != '\0')
			json_object_set_new(j, "sha", json_string(sha));
		json_object_set_new(j, "siblings", files);
		web_json(x, 200, j);
	} else {
		read_failed(x, e, rev, "");
	}
	free(repo);
}

/* GET .../commits/REV[?limit=N&p=PAGE]: a page, the count and a Link to the next. */
void
repo_commits(podium *p, http_exchange *x, space *s, const char *rev)
{
	const http_request *r = http_exchange_request(x);
	char *lim = query_get(r->query, "limit"), *pg = query_get(r->query, "p");
	long limit = lim != NULL ? strtol(lim, NULL, 10) : 50, page = pg != NULL ? strtol(pg, NULL, 10) : 0;
	const char *host = http_request_header(r, "host");
	http_header h[2] = { { "X-Total-Count", NULL }, { "Link", NULL } };
	char *repo, *text, *link = NULL, count[32];
	json_t *arr;
	long total;
	int e;

	free(lim);
	free(pg);
	if (limit <= 0 || limit > COMMITS_PAGE_MAX)
		limit = limit <= 0 ? 50 : COMMITS_PAGE_MAX;
	if (page < 0)
		page = 0;
	repo = space_repo_path(p, s);
	e = builder_repo_log(repo, rev, page * limit, limit, &arr, &total);
	free(repo);
	if (e != 0) {
		read_failed(x, e, rev, "");
		return;
	}
	snprintf(count, sizeof(count), "%ld", total);
	h[0].value = count;
	if ((page + 1) * limit < total && host != NULL) {
		link = xasprintf("<http://%s/api/spaces/%s/%s/commits/%s?limit=%ld&p=%ld>; rel=\"next\"",
		    host, space_owner(s), space_name(s), rev, limit, page + 1);
		h[1].value = link;
	}
	text = json_dumps(arr, JSON_COMPACT);
	http_respond(x, 200, "application/json", h, link != NULL ? 2 : 1, text, strlen(text));
	free(text);
	free(link);
	json_decref(arr);
}

/* ---- resolve / raw ---- */

/* "bytes=A-B", "bytes=A-", "bytes=-N" against size: 1 and [*from, *to] when it is
 * one satisfiable range, 0 to send everything (absent, several ranges), -1: 416. */
static int
range_parse(const char *h, uint64_t size, uint64_t *from, uint64_t *to)
{
	unsigned long long a = 0, b = 0;
	int n = 0;

	if (h == NULL || strncasecmp(h, "bytes=", 6) != 0 || strchr(h, ',') != NULL)
		return 0;
	h += 6;
	if (sscanf(h, "-%llu%n", &b, &n) == 1 && h[n] == '\0') {
		if (b == 0 || size == 0)
			return -1;
		*from = b >= size ? 0 : size - b;
		*to = size - 1;
		return 1;
	}
	if (sscanf(h, "%llu-%n", &a, &n) == 1 && h[n] == '\0') {
		b = size - 1;
	} else if (!(sscanf(h, "%llu-%llu%n", &a, &b, &n) == 2 && h[n] == '\0' && a <= b)) {
		return 0; /* not a range we understand: the whole file, as RFC 9110 allows */
	}
	if (a >= size)
		return -1;
	*from = a;
	*to = b >= size ? size - 1 : b;
	return 1;
}

static void
file_send(podium *p, http_exchange *x, space *s, const char *rev, const char *path, int raw)
{
	char *repo = space_repo_path(p, s), etag[48], crange[96];
	const char *type = raw ? "text/plain; charset=utf-8" : "application/octet-stream";
	uint64_t from = 0, to = 0;
	builder_blob b;
	http_header h[5] = {
		{ "ETag", etag }, { "X-Repo-Commit", NULL }, { "Accept-Ranges", "bytes" },
		{ "Content-Disposition", raw ? "inline" : "attachment" }, { "Content-Range", crange },
	};
	int r, rg;

	r = builder_repo_blob(repo, rev, path, &b);
	free(repo);
	if (r != 0) {
		read_failed(x, r, rev, path);
		return;
	}
	snprintf(etag, sizeof(etag), "\"%s\"", b.oid);
	h[1].value = b.commit;
	rg = range_parse(http_request_header(http_exchange_request(x), "range"), b.size, &from, &to);
	if (rg < 0) {
		snprintf(crange, sizeof(crange), "bytes */%llu", (unsigned long long)b.size);
		http_respond(x, 416, "text/plain; charset=utf-8", h, 5, "range not satisfiable\n", 22);
	} else if (rg > 0) {
		snprintf(crange, sizeof(crange), "bytes %llu-%llu/%llu", (unsigned long long)from,
		    (unsigned long long)to, (unsigned long long)b.size);
		http_respond(x, 206, type, h, 5, (const char *)b.data + from, (size_t)(to - from + 1));
	} else {
		http_respond(x, 200, type, h, 4, b.data, (size_t)b.size);
	}
	builder_blob_release(&b);
}

int
repo_file_route(podium *p, http_exchange *x, space *s, const char *rest)
{
	int raw = strncmp(rest, "/raw/", 5) == 0;
	const char *after, *slash;
	char *rev, *path;

	if (!raw && strncmp(rest, "/resolve/", 9) != 0)
		return 0;
	if (!web_allow(x, "GET, HEAD", 1))
		return 1;
	after = rest + (raw ? 5 : 9);
	slash = strchr(after, '/');
	if (slash == NULL) {
		repo_not_found(x, "EntryNotFound", "a file path is needed after the revision");
		return 1;
	}
	{
		char *r0 = xstrndup(after, (size_t)(slash - after));

		rev = repo_unescape(r0);
		free(r0);
	}
	path = repo_unescape(slash + 1);
	if (rev == NULL || path == NULL)
		repo_not_found(x, "EntryNotFound", "bad path");
	else
		file_send(p, x, s, rev, path, raw);
	free(rev);
	free(path);
	return 1;
}

int
repo_api_route(podium *p, http_exchange *x, const char *user)
{
	static const char *const ops[] = { "preupload", "commit", "tree", "revision", "commits", NULL };
	const http_request *r = http_exchange_request(x);
	const char *path = r->path + strlen("/api/spaces/");
	char owner[128], name[128], op[16];
	int n = 0, k;
	char *rev = NULL, *sub = NULL;
	const char *tail;
	space *s;

	if (strncmp(r->path, "/api/spaces/", 12) != 0 ||
	    sscanf(path, "%127[^/]/%127[^/]/%15[^/]%n", owner, name, op, &n) != 3)
		return 0;
	for (k = 0; ops[k] != NULL && strcmp(ops[k], op) != 0; k++)
		;
	if (ops[k] == NULL || (path[n] != '/' && path[n] != '\0'))
		return 0;
	s = space_find(p, owner, name);
	if (s == NULL || (space_is_private(s) && !auth_may_write(user, space_owner(s)))) {
		repo_not_found(x, "RepoNotFound", "space %s/%s not found", owner, name);
		return 1;
	}
	/* REV is one segment (clients percent-encode a slash in it); the rest is PATH */
	tail = path[n] == '/' ? path + n + 1 : "";
	{
		size_t rl = strcspn(tail, "/");
		char *r0 = xstrndup(tail, rl);

		rev = repo_unescape(rl > 0 ? r0 : "main");
		free(r0);
		sub = repo_unescape(tail[rl] == '/' ? tail + rl + 1 : "");
	}
	if (rev == NULL || sub == NULL) {
		web_json_error(x, 400, "bad revision or path");
	} else if (k <= 1) {
		if (!web_allow(x, "POST", 1))
			; /* answered: 405 with Allow */
		else if (user == NULL)
			web_json_error(x, 401, "authentication required: send Authorization: Bearer TOKEN");
		else if (!auth_may_write(user, space_owner(s)))
			web_json_error(x, 403, "user %s may not write to %s/%s", user, owner, name);
		else if (k == 0)
			repo_preupload(p, x, s, user, rev);
		else
			repo_commit(p, x, s, user, rev);
	} else if (!web_allow(x, "GET, HEAD", 1)) {
		/* answered: 405 with Allow */
	} else if (k == 2) {
		repo_tree(p, x, s, rev, sub);
	} else if (k == 3) {
		repo_revision(p, x, s, rev);
	} else {
		repo_commits(p, x, s, rev);
	}
	free(rev);
	free(sub);
	return 1;
}
