/* repo_api.c — a space's repository read the way the Hub's clients do:
 * GET /api/spaces/O/N/tree/REV[/PATH], /revision/REV, /commits/REV and
 * GET|HEAD /spaces/O/N/resolve|raw/REV/PATH (with single byte ranges, which
 * @huggingface/hub's downloadFile uses to learn the size and ETag first). The
 * reading is builder/git.h's; here are the HTTP shapes. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "builder/git.h"
#include "common/util.h"
#include "orchestrator/space.h"
#include "web/web_int.h"

#define COMMITS_PAGE_MAX 1000

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
web_space_fields(podium *p, const space *s, json_t *j)
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
	json_object_set_new(j, "likes", json_integer(space_likes(s)));
	if (last_modified(p, s, date) == 0)
		json_object_set_new(j, "lastModified", json_string(date));
	else if (created != NULL)
		json_object_set_new(j, "lastModified", json_string(created));
}

int
web_rev_path(web_call *c, char **rev, char **path)
{
	const char *rest = web_param(c, "rest");
	size_t n = strcspn(rest, "/");
	char *r0 = xstrndup(rest, n);

	*rev = web_unescape(n > 0 ? r0 : "main");
	*path = web_unescape(rest[n] == '/' ? rest + n + 1 : "");
	free(r0);
	if (*rev != NULL && *path != NULL)
		return 0;
	if (c->router->json)
		web_json_error(c->x, 400, "bad revision or path");
	else
		web_page_error(c, 400, "bad revision or path");
	free(*rev);
	free(*path);
	return -1;
}

/* The answer to a read that failed (git.h's errors). */
static void
read_failed(http_exchange *x, int r, const char *rev, const char *path)
{
	if (r == -ESRCH)
		web_not_found(x, "RevisionNotFound", "revision %s not found", rev);
	else if (r == -ENOENT)
		web_not_found(x, "EntryNotFound", "%s does not exist on %s", path, rev);
	else
		web_json_error(x, 500, "internal error: the repository could not be read");
}

void
web_repo_tree(web_call *c)
{
	char *rec = web_query_get(c->r->query, "recursive"), *rev, *path, *repo;
	int recursive = rec != NULL && (strcmp(rec, "true") == 0 || strcmp(rec, "1") == 0);
	json_t *arr;
	int r;

	free(rec);
	if (web_rev_path(c, &rev, &path) != 0)
		return;
	repo = space_repo_path(c->p, c->s);
	r = builder_repo_tree(repo, rev, path, recursive, &arr);
	if (r == 0)
		web_json(c->x, 200, arr);
	else
		read_failed(c->x, r, rev, path);
	free(repo);
	free(rev);
	free(path);
}

void
web_repo_revision(web_call *c)
{
	json_t *j, *files;
	char *rev, *path, *repo, sha[41];
	int r;

	if (web_rev_path(c, &rev, &path) != 0)
		return;
	repo = space_repo_path(c->p, c->s);
	r = builder_repo_files(repo, rev, sha, &files);
	if (r == 0) {
		j = space_json(c->p, c->s, 1);
		web_space_fields(c->p, c->s, j);
		if (sha[0] != '\0')
			json_object_set_new(j, "sha", json_string(sha));
		json_object_set_new(j, "siblings", files);
		web_json(c->x, 200, j);
	} else {
		read_failed(c->x, r, rev, "");
	}
	free(repo);
	free(rev);
	free(path);
}

/* GET .../commits/REV[?limit=N&p=PAGE]: a page, the count and a Link to the next. */
void
web_repo_commits(web_call *c)
{
	char *lim = web_query_get(c->r->query, "limit"), *pg = web_query_get(c->r->query, "p");
	long limit = lim != NULL ? strtol(lim, NULL, 10) : 50, page = pg != NULL ? strtol(pg, NULL, 10) : 0;
	const char *host = http_request_header(c->r, "host");
	http_header h[2] = { { "X-Total-Count", NULL }, { "Link", NULL } };
	char *rev, *path, *repo, *link = NULL, count[32];
	json_t *arr;
	long total;
	int r;

	free(lim);
	free(pg);
	if (limit <= 0 || limit > COMMITS_PAGE_MAX)
		limit = limit <= 0 ? 50 : COMMITS_PAGE_MAX;
	if (page < 0)
		page = 0;
	if (web_rev_path(c, &rev, &path) != 0)
		return;
	repo = space_repo_path(c->p, c->s);
	r = builder_repo_log(repo, rev, page * limit, limit, &arr, &total);
	if (r != 0) {
		read_failed(c->x, r, rev, "");
		goto done;
	}
	snprintf(count, sizeof(count), "%ld", total);
	h[0].value = count;
	if ((page + 1) * limit < total && host != NULL) {
		link = xasprintf("<http://%s/api/spaces/%s/%s/commits/%s?limit=%ld&p=%ld>; rel=\"next\"",
		    host, space_owner(c->s), space_name(c->s), rev, limit, page + 1);
		h[1].value = link;
	}
	web_json_with(c->x, 200, arr, h, link != NULL ? 2 : 1);
	free(link);
done:
	free(repo);
	free(rev);
	free(path);
}

/* ---- resolve / raw ---- */

int
web_range_parse(const char *h, uint64_t size, uint64_t *from, uint64_t *to)
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
file_send(web_call *c, const char *rev, const char *path, int raw)
{
	char *repo = space_repo_path(c->p, c->s), etag[48], crange[96];
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
		read_failed(c->x, r, rev, path);
		return;
	}
	snprintf(etag, sizeof(etag), "\"%s\"", b.oid);
	h[1].value = b.commit;
	rg = web_range_parse(http_request_header(c->r, "range"), b.size, &from, &to);
	if (rg < 0) {
		snprintf(crange, sizeof(crange), "bytes */%llu", (unsigned long long)b.size);
		http_respond(c->x, 416, "text/plain; charset=utf-8", h, 5, "range not satisfiable\n", 22);
	} else if (rg > 0) {
		snprintf(crange, sizeof(crange), "bytes %llu-%llu/%llu", (unsigned long long)from,
		    (unsigned long long)to, (unsigned long long)b.size);
		http_respond(c->x, 206, type, h, 5, (const char *)b.data + from, (size_t)(to - from + 1));
	} else {
		http_respond(c->x, 200, type, h, 4, b.data, (size_t)b.size);
	}
	builder_blob_release(&b);
}

/* /resolve/REV/PATH and /raw/REV/PATH: REV and PATH percent-encoded. */
static void
file_route(web_call *c, int raw)
{
	const char *rest = web_param(c, "rest"), *slash = strchr(rest, '/');
	char *r0, *rev, *path;

	if (slash == NULL) {
		web_not_found(c->x, "EntryNotFound", "a file path is needed after the revision");
		return;
	}
	r0 = xstrndup(rest, (size_t)(slash - rest));
	rev = web_unescape(r0);
	path = web_unescape(slash + 1);
	if (rev == NULL || path == NULL)
		web_not_found(c->x, "EntryNotFound", "bad path");
	else
		file_send(c, rev, path, raw);
	free(r0);
	free(rev);
	free(path);
}

void
web_repo_resolve(web_call *c)
{
	file_route(c, 0);
}

void
web_repo_raw(web_call *c)
{
	file_route(c, 1);
}
