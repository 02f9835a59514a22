/* builder_int.h — helpers shared between the builder's files, not part of the
 * module's contract (builder.h). */
#ifndef PODIUM_BUILDER_INT_H
#define PODIUM_BUILDER_INT_H

#include <stddef.h>
#include <stdint.h>

#include "proxy/http.h"

/* libgit2 is initialised once per process, on first use by any builder entry. */
void builder_git_init(void);

/* Writes the tree of commit `sha` of the bare repo into dest (which must exist and be
 * empty), keeping executable bits and symlinks. 0 or -1 with err set. Blocking. */
int builder_export_commit(const char *repo_path, const char *sha, const char *dest,
    char *err, size_t errlen);

/* The build cache (cache.c): installed dependencies kept between builds. */
#include "builder/build.h"

typedef enum builder_cache_kind {
	BUILDER_CACHE_PYTHON,   /* .venv from requirements.txt */
	BUILDER_CACHE_NODE,     /* node_modules from package.json (+ lockfile) */
} builder_cache_kind;

#define BUILDER_CACHE_KEY_LEN 32   /* hex digits */

/* The key of what an install of this kind would produce for this release.
 * 0, or -1 when a dependency file cannot be read safely (then do not cache). */
int builder_cache_key(builder_cache_kind kind, const char *release_dir, const app_config *cfg,
    char key[BUILDER_CACHE_KEY_LEN + 1]);
/* "py" or "node": entries are CACHE_DIR/PREFIX-KEY/. */
const char *builder_cache_prefix(builder_cache_kind kind);
/* 1 when CACHE_DIR holds a complete entry for key. */
int builder_cache_has(const char *cache_dir, builder_cache_kind kind, const char *key);

/* The image store (image_config.c sets it up, image.c uses it). */
typedef struct image_store_state {
	char *dir;                 /* DATA/images */
	char *sandbox_bin, *seccomp;
	const char *aliases_dir;   /* the host's registries.conf.d, covered; or NULL */
	int ready;
	char why[256];             /* why not */
} image_store_state;
extern image_store_state image_store;

/* The header block a CGI program writes before its body. */
#define CGI_MAX_HEADERS 32
#define CGI_MAX_HEAD    (64 * 1024)

typedef struct cgi_head {
	int status;                /* from "Status:", 200 when absent, 302 with Location */
	int64_t content_length;    /* -1 when absent */
	http_header hdrs[CGI_MAX_HEADERS];
	size_t nhdrs;
	char *storage;             /* owns the strings in hdrs */
} cgi_head;

/* Looks for a complete CGI header block at the start of buf.
 * Returns the number of bytes it occupies (including the blank line) and fills head
 * (release with cgi_head_release), 0 when more bytes are needed, -1 when malformed
 * or larger than CGI_MAX_HEAD. */
long cgi_head_parse(const char *buf, size_t len, cgi_head *head);
void cgi_head_release(cgi_head *head);

#endif
