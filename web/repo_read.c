/* repo_read.c — reading a space's repository the way the Hub's clients do:
 * GET /api/spaces/O/N/tree/REV[/PATH], /revision/REV, /commits/REV and
 * GET|HEAD /spaces/O/N/resolve|raw/REV/PATH (with single byte ranges, which
 * @huggingface/hub's downloadFile uses to learn the size and ETag first). */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/log.h"
#include "web/repo.h"
#include "orchestrator/space.h"
#include "common/util.h"

#define COMMITS_PAGE_MAX 1000

static pthread_once_t git_once = PTHREAD_ONCE_INIT;

static void
git_init_once(void)
{
	git_libgit2_init();
}

int
repo_open(podium *p, const space *s, git_repository **out)
{
	char *path = space_repo_path(p, s);
	int r;

	pthread_once(&git_once, git_init_once);
	r = git_repository_open_bare(out, path);
	if (r != 0)
		log_msg(LOG_ERROR, "web: open %s: %s", path,
		    git_error_last() != NULL ? git_error_last()->message : "?");
	free(path);
	return r == 0 ? 0 : -1;
}

static int
rev_name_valid(const char *rev)
{
	/* Names only: no revision syntax (~ ^ : @{ ..) reaches libgit2. */
	return rev[0] != '\0' && strlen(rev) < 256 && strstr(rev, "..") == NULL &&
	    strspn(rev, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._/-") ==
	    strlen(rev) && rev[0] != '-' && rev[0] != '/';
}

int
repo_resolve(git_repository *repo, const char *rev, git_commit **out)
{
	git_reference *ref = NULL;
	git_object *obj = NULL;
	size_t n = strlen(rev);
	int r = -ENOENT;

	if (!rev_name_valid(rev))
		return -EINVAL;
	if (strcmp(rev, "HEAD") == 0)
		rev = "main";
	if (n >= 4 && n <= 40 && strspn(rev, "0123456789abcdef") == n) {
		git_oid id;

		if (git_oid_fromstrn(&id, rev, n) == 0 &&
		    git_object_lookup_prefix(&obj, repo, &id, n, GIT_OBJECT_COMMIT) == 0) {
			*out = (git_commit *)obj;
			return 0;
		}
	}
	if (git_reference_dwim(&ref, repo, rev) == 0 &&
	    git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT) == 0) {
		*out = (git_commit *)obj;
		r = 0;
	}
	git_reference_free(ref);
	return r;
}

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

int
repo_path_valid(const char *path)
{
	const char *c = path;

	if (path[0] == '\0' || strlen(path) > 4096)
		return 0;
	for (const char *q = path; *q != '\0'; q++)
		if ((unsigned char)*q < 0x20 || *q == '\\' || *q == 0x7f)
			return 0;
	while (*c != '\0') {
		size_t n = strcspn(c, "/");

		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && strncmp(c, "..", 2) == 0) ||
		    (n == 4 && strncasecmp(c, ".git", 4) == 0))
			return 0;
		c += n;
		if (*c == '/' && *++c == '\0')
			return 0;
	}
	return 1;
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

static void
iso_date(git_time_t t, char *out, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
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

static int
last_modified_cached(const space *s, char *date, size_t len)
{
	const char *sha = space_pushed_sha(s);
	lastmod *e = sha != NULL ? lastmod_entry(s, 0) : NULL;

	if (e == NULL || strcmp(e->sha, sha) != 0)
		return 0;
	snprintf(date, len, "%s", e->date);
	return 1;
}

static void
last_modified_keep(const space *s, const char *date)
{
	const char *sha = space_pushed_sha(s);
	lastmod *e;

	if (sha == NULL || strlen(sha) != 40)
		return;
	e = lastmod_entry(s, 1);
	memcpy(e->sha, sha, 41);
	snprintf(e->date, sizeof(e->date), "%s", date);
}

void
repo_space_fields(podium *p, const space *s, json_t *j)
{
	const char *created = json_string_value(json_object_get(j, "createdAt"));
	unsigned char h[8];
	char id[25], seed[300], date[32];
	git_repository *repo = NULL;
	git_commit *c = NULL;
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
	if (last_modified_cached(s, date, sizeof(date))) {
		json_object_set_new(j, "lastModified", json_string(date));
	} else if (repo_open(p, s, &repo) == 0 && repo_resolve(repo, "main", &c) == 0) {
		iso_date(git_commit_time(c), date, sizeof(date));
		json_object_set_new(j, "lastModified", json_string(date));
		last_modified_keep(s, date);
	} else if (created != NULL) {
		json_object_set_new(j, "lastModified", json_string(created));
	}
	git_commit_free(c);
	git_repository_free(repo);
}

/* ---- tree ---- */

typedef struct tree_walk {
	json_t *arr;
	git_repository *repo;
	const char *base;      /* path of the listed tree ("" for the root) */
	int recursive;
} tree_walk;

static json_t *
tree_item(git_repository *repo, const git_tree_entry *e, const char *path)
{
	char oid[GIT_OID_HEXSZ + 1];
	int dir = git_tree_entry_type(e) == GIT_OBJECT_TREE;
	json_int_t size = 0;

	git_oid_tostr(oid, sizeof(oid), git_tree_entry_id(e));
	if (!dir) {
		git_odb *odb = NULL;
		size_t len = 0;
		git_object_t type;

		if (git_repository_odb(&odb, repo) == 0 &&
		    git_odb_read_header(&len, &type, odb, git_tree_entry_id(e)) == 0)
			size = (json_int_t)len;
		git_odb_free(odb);
	}
	return json_pack("{s:s, s:s, s:I, s:s}", "type", dir ? "directory" : "file", "oid", oid,
	    "size", size, "path", path);
}

static int
tree_cb(const char *root, const git_tree_entry *e, void *payload)
{
	tree_walk *w = payload;
	char *path;

	if (git_tree_entry_type(e) == GIT_OBJECT_COMMIT)
		return 0; /* submodules are not files */
	path = xasprintf("%s%s%s%s", w->base, w->base[0] != '\0' ? "/" : "", root,
	    git_tree_entry_name(e));
	json_array_append_new(w->arr, tree_item(w->repo, e, path));
	free(path);
	return w->recursive ? 0 : 1; /* 1: do not descend */
}

/* The tree at path in commit c (the root for ""), or NULL. */
static git_tree *
tree_at(git_repository *repo, git_commit *c, const char *path)
{
	git_tree *root = NULL, *sub = NULL;
	git_tree_entry *e = NULL;

	if (git_commit_tree(&root, c) != 0)
		return NULL;
	if (path[0] == '\0')
		return root;
	if (git_tree_entry_bypath(&e, root, path) == 0 && git_tree_entry_type(e) == GIT_OBJECT_TREE)
		git_tree_lookup(&sub, repo, git_tree_entry_id(e));
	git_tree_entry_free(e);
	git_tree_free(root);
	return sub;
}

void
repo_tree(podium *p, http_exchange *x, space *s, const char *rev, const char *path)
{
	const http_request *r = http_exchange_request(x);
	char *rec = query_get(r->query, "recursive");
	tree_walk w = { json_array(), NULL, path, rec != NULL && (strcmp(rec, "true") == 0 ||
	    strcmp(rec, "1") == 0) };
	git_commit *c = NULL;
	git_tree *t = NULL;
	int e;

	free(rec);
	if (path[0] != '\0' && !repo_path_valid(path)) {
		repo_not_found(x, "EntryNotFound", "%s: no such directory", path);
		goto done;
	}
	if (repo_open(p, s, &w.repo) != 0) {
		web_json_error(x, 500, "internal error: the repository could not be opened");
		goto done;
	}
	e = repo_resolve(w.repo, rev, &c);
	if (e != 0) {
		/* a space nothing was pushed to yet lists as empty, like a new Hub repo */
		if (e == -ENOENT && (strcmp(rev, "main") == 0 || strcmp(rev, "HEAD") == 0) &&
		    path[0] == '\0' && git_repository_head_unborn(w.repo) == 1)
			web_json(x, 200, json_incref(w.arr));
		else
			repo_not_found(x, "RevisionNotFound", "revision %s not found", rev);
		goto done;
	}
	t = tree_at(w.repo, c, path);
	if (t == NULL) {
		repo_not_found(x, "EntryNotFound", "%s does not exist on %s", path, rev);
		goto done;
	}
	git_tree_walk(t, GIT_TREEWALK_PRE, tree_cb, &w);
	web_json(x, 200, json_incref(w.arr));
done:
	json_decref(w.arr);
	git_tree_free(t);
	git_commit_free(c);
	git_repository_free(w.repo);
}

/* ---- revision (spaceInfo) ---- */

static int
sibling_cb(const char *root, const git_tree_entry *e, void *payload)
{
	if (git_tree_entry_type(e) == GIT_OBJECT_BLOB) {
		char *path = xasprintf("%s%s", root, git_tree_entry_name(e));

		json_array_append_new(payload, json_pack("{s:s}", "rfilename", path));
		free(path);
	}
	return 0;
}

void
repo_revision(podium *p, http_exchange *x, space *s, const char *rev)
{
	json_t *j = space_json(p, s, 1);
	git_repository *repo = NULL;
	git_commit *c = NULL;
	git_tree *t = NULL;
	json_t *siblings = json_array();
	int e;

	repo_space_fields(p, s, j);
	if (repo_open(p, s, &repo) != 0) {
		web_json_error(x, 500, "internal error: the repository could not be opened");
		goto done;
	}
	e = repo_resolve(repo, rev, &c);
	if (e == 0) {
		char oid[GIT_OID_HEXSZ + 1];

		git_oid_tostr(oid, sizeof(oid), git_commit_id(c));
		json_object_set_new(j, "sha", json_string(oid));
		if (git_commit_tree(&t, c) == 0)
			git_tree_walk(t, GIT_TREEWALK_PRE, sibling_cb, siblings);
	} else if (!(e == -ENOENT && (strcmp(rev, "main") == 0 || strcmp(rev, "HEAD") == 0) &&
	    git_repository_head_unborn(repo) == 1)) {
		repo_not_found(x, "RevisionNotFound", "revision %s not found", rev);
		goto done;
	}
	json_object_set(j, "siblings", siblings);
	web_json(x, 200, json_incref(j));
done:
	json_decref(siblings);
	json_decref(j);
	git_tree_free(t);
	git_commit_free(c);
	git_repository_free(repo);
}

/* ---- commits (listCommits, countCommits) ---- */

static json_t *
commit_json(const git_commit *c)
{
	const git_signature *a = git_commit_author(c);
	char oid[GIT_OID_HEXSZ + 1], date[32];
	const char *msg = git_commit_message(c), *title = git_commit_summary((git_commit *)c);
	char *m = xstrdup(msg != NULL ? msg : ""), *t = xstrdup(title != NULL ? title : "");
	json_t *j;

	git_oid_tostr(oid, sizeof(oid), git_commit_id(c));
	iso_date(git_commit_time(c), date, sizeof(date));
	utf8_scrub(m);
	utf8_scrub(t);
	char *name = xstrdup(a != NULL && a->name != NULL ? a->name : "");
	utf8_scrub(name);
	j = json_pack("{s:s, s:s, s:s, s:[{s:s, s:s}], s:s}", "id", oid, "title", t, "message", m,
	    "authors", "user", name, "avatar", "", "date", date);
	free(m);
	free(t);
	free(name);
	return j;
}

void
repo_commits(podium *p, http_exchange *x, space *s, const char *rev)
{
	const http_request *r = http_exchange_request(x);
	char *lim = query_get(r->query, "limit"), *pg = query_get(r->query, "p");
	long limit = lim != NULL ? strtol(lim, NULL, 10) : 50, page = pg != NULL ? strtol(pg, NULL, 10) : 0;
	git_repository *repo = NULL;
	git_revwalk *walk = NULL;
	git_commit *c = NULL;
	json_t *arr = json_array();
	long total = 0;
	git_oid id;
	char count[32];

	free(lim);
	free(pg);
	if (limit <= 0 || limit > COMMITS_PAGE_MAX)
		limit = limit <= 0 ? 50 : COMMITS_PAGE_MAX;
	if (page < 0)
		page = 0;
	if (repo_open(p, s, &repo) != 0) {
		web_json_error(x, 500, "internal error: the repository could not be opened");
		goto done;
	}
	if (repo_resolve(repo, rev, &c) != 0) {
		repo_not_found(x, "RevisionNotFound", "revision %s not found", rev);
		goto done;
	}
	git_revwalk_new(&walk, repo);
	git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME);
	git_revwalk_push(walk, git_commit_id(c));
	while (git_revwalk_next(&id, walk) == 0) {
		git_commit *one = NULL;

		if (total >= page * limit && total < (page + 1) * limit &&
		    git_commit_lookup(&one, repo, &id) == 0)
			json_array_append_new(arr, commit_json(one));
		git_commit_free(one);
		total++;
	}
	snprintf(count, sizeof(count), "%ld", total);
	{
		const char *host = http_request_header(r, "host");
		char *link = NULL;
		http_header h[2] = { { "X-Total-Count", count }, { "Link", NULL } };
		char *text = json_dumps(arr, JSON_COMPACT);

		if ((page + 1) * limit < total && host != NULL) {
			link = xasprintf("<http://%s/api/spaces/%s/%s/commits/%s?limit=%ld&p=%ld>; rel=\"next\"",
			    host, space_owner(s), space_name(s), rev, limit, page + 1);
			h[1].value = link;
		}
		http_respond(x, 200, "application/json", h, link != NULL ? 2 : 1, text, strlen(text));
		free(text);
		free(link);
	}
done:
	json_decref(arr);
	git_revwalk_free(walk);
	git_commit_free(c);
	git_repository_free(repo);
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
	const http_request *r = http_exchange_request(x);
	git_repository *repo = NULL;
	git_commit *c = NULL;
	git_tree *t = NULL;
	git_tree_entry *e = NULL;
	git_blob *b = NULL;
	char oid[GIT_OID_HEXSZ + 1], commit[GIT_OID_HEXSZ + 1], etag[GIT_OID_HEXSZ + 3];
	char crange[96], disp[64];
	uint64_t size, from = 0, to = 0;
	int rg;

	if (repo_open(p, s, &repo) != 0) {
		web_json_error(x, 500, "internal error: the repository could not be opened");
		goto done;
	}
	if (repo_resolve(repo, rev, &c) != 0) {
		repo_not_found(x, "RevisionNotFound", "revision %s not found", rev);
		goto done;
	}
	if (!repo_path_valid(path) || git_commit_tree(&t, c) != 0 ||
	    git_tree_entry_bypath(&e, t, path) != 0 || git_tree_entry_type(e) != GIT_OBJECT_BLOB ||
	    git_blob_lookup(&b, repo, git_tree_entry_id(e)) != 0) {
		repo_not_found(x, "EntryNotFound", "%s does not exist on %s", path, rev);
		goto done;
	}
	git_oid_tostr(oid, sizeof(oid), git_blob_id(b));
	git_oid_tostr(commit, sizeof(commit), git_commit_id(c));
	snprintf(etag, sizeof(etag), "\"%s\"", oid);
	size = (uint64_t)git_blob_rawsize(b);
	rg = range_parse(http_request_header(r, "range"), size, &from, &to);
	snprintf(disp, sizeof(disp), "%s", raw ? "inline" : "attachment");
	{
		http_header h[6] = {
			{ "ETag", etag }, { "X-Repo-Commit", commit }, { "Accept-Ranges", "bytes" },
			{ "Content-Disposition", disp }, { "Content-Range", crange }, { NULL, NULL },
		};
		const char *type = raw ? "text/plain; charset=utf-8" : "application/octet-stream";

		if (rg < 0) {
			snprintf(crange, sizeof(crange), "bytes */%llu", (unsigned long long)size);
			http_respond(x, 416, "text/plain; charset=utf-8", h, 5, "range not satisfiable\n", 22);
		} else if (rg > 0) {
			snprintf(crange, sizeof(crange), "bytes %llu-%llu/%llu", (unsigned long long)from,
			    (unsigned long long)to, (unsigned long long)size);
			http_respond(x, 206, type, h, 5, (const char *)git_blob_rawcontent(b) + from,
			    (size_t)(to - from + 1));
		} else {
			http_respond(x, 200, type, h, 4, git_blob_rawcontent(b), (size_t)size);
		}
	}
done:
	git_blob_free(b);
	git_tree_entry_free(e);
	git_tree_free(t);
	git_commit_free(c);
	git_repository_free(repo);
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
