/* builder_int.h — helpers shared between the builder's files, not part of the
 * module's contract (builder.h). */
#ifndef PODIUM_BUILDER_INT_H
#define PODIUM_BUILDER_INT_H

#include <stddef.h>
#include <stdint.h>

#include "proxy/http.h"
#include "sandbox/box.h"

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

/* The package registry a build step needs (registry.c). */
typedef enum builder_registry {
	BUILDER_REGISTRY_NONE = 0,
	BUILDER_REGISTRY_NPM,       /* npm install / npm ci */
	BUILDER_REGISTRY_PIP,       /* pip install -r requirements.txt */
} builder_registry;

/* The Python program of the check step (`python3 -I -c PROBE KIND`, in the build's
 * box): one line naming the registry; exit 0 when it answers, 2 when it cannot be
 * reached (the line says why). */
const char *builder_registry_probe(void);
const char *builder_registry_step_name(builder_registry kind);
const char *builder_registry_kind_arg(builder_registry kind);   /* KIND: "npm", "pip" */

/* The image store (image_config.c sets it up, image.c uses it). */
typedef struct image_store_state {
	char *dir;                 /* DATA/images */
	char *sandbox_bin, *seccomp;
	const char *aliases_dir;   /* the host's registries.conf.d, covered; or NULL */
	char *empty_dir;           /* what covers it: DATA/images/registries.conf.d */
	int ready;
	char why[256];             /* why not */
} image_store_state;
extern image_store_state image_store;

/* config.c: a gradio/streamlit space with an sdk_version (its sdk is installed);
 * the release gets a venv (requirements.txt, pre-requirements.txt, a pinned sdk);
 * a version key of the front matter as text or NULL (static storage). */
int builder_sdk_pinned(const app_config *c);
int builder_needs_venv(const char *dir, const app_config *c);
const char *builder_card_version(const json_t *card, const char *key);

/* The image part of a build (image_build.c): a Dockerfile build, or the system
 * image of packages.txt / python_version, run as one "engine" step. */
typedef struct image_job image_job;
image_job *image_job_new(const build_request *req);
void image_job_free(image_job *ij);
/* 1 when the release needs a system image (packages.txt, a python_version the
 * host lacks). */
int image_job_wants_system(const char *release_dir, const app_config *cfg);
/* Decides the image work for cfg (nothing for the native path); may set
 * cfg->image (a system image's name, which keys the build cache). BUILD_OK, or
 * the failure with err. */
build_stage_result image_job_plan(image_job *ij, const char *release_dir, app_config *cfg,
    int no_cache, char *err, size_t errlen);
/* 1 and the engine step's argv (the job's), or 0 when none is needed. */
int image_job_step(const image_job *ij, char *const **argv);
/* The engine step's box (then given the build's net, limits and descriptors). */
void image_job_box(const image_job *ij, box_spec *box, const char *const *argv);
/* After the engine step: the image into cfg (docker: the command; system: the
 * rootfs of later steps). 0, or -1 with err (a Dockerfile's image is then removed,
 * on loop). */
int image_job_done(image_job *ij, uv_loop_t *loop, app_config *cfg, char *err, size_t errlen);
/* Later steps run on these layers (podium-sandbox --rootfs), or NULL. */
const char *image_job_rootfs(const image_job *ij);
/* Why the release's system image was left out (this host cannot build images), or NULL. */
const char *image_job_skipped(const image_job *ij);
unsigned image_job_id_range(const image_job *ij);
/* What a failed engine step's log tail means, when it says (a base image that is
 * not there); msg "" otherwise. */
void image_job_failure(const char *tail, char *msg, size_t msglen);

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
