/* image.h — container images: the store in DATA/images (containers/storage,
 * written only by buildah), the engine's box (buildah launched by podium-sandbox
 * --engine-userns), what a stored image is made of, and the configuration of
 * where images and packages come from (DATA/config.yaml: images, python, node,
 * apt).
 *
 * Used by builds (builder/build.c: Dockerfile builds of docker spaces, system
 * images for packages.txt and python_version), the orchestrator (an image
 * release's layers and config at start, its image removed with the release) and
 * `podium image` (cmd/image.c). One store per process, set up once by
 * image_store_init; everything else reads it.
 *
 * Ids: every engine runs as root of a user namespace whose ids 0..65535 are host
 * IMAGE_BUILD_IDS.., which own the store (one store, no copies: layers are
 * shared by every space and build). An app box on an image shows the layers
 * idmapped: its uid 1000 is the space's host uid, its other ids a range of the
 * space's own (IMAGE_SPACE_IDS). */
#ifndef PODIUM_BUILDER_IMAGE_H
#define PODIUM_BUILDER_IMAGE_H

#include <jansson.h>
#include <stddef.h>
#include <uv.h>

#include "common/config.h"
#include "sandbox/box.h"

#define IMAGE_BUILD_IDS 134217728u /* 1 << 27 */
/* the inside ids 0..65535 of space row id n's image boxes (61440 spaces fit) */
#define IMAGE_SPACE_IDS(n) (268435456u + ((unsigned)(n) % 61440u) * 65536u)

/* Where the engine sees things (its own mount namespace, see image_engine_box). */
#define IMAGE_ENGINE_STORE "/tmp/images"
#define IMAGE_ENGINE_CONTEXT "/tmp/context"
#define IMAGE_ENGINE_JOB "/tmp/job"
#define IMAGE_ENGINE_INPUT "/tmp/input"

/* ---- configuration --------------------------------------------------------------- */

/* Reads and checks DATA/config.yaml's images (registry_mirrors, python_base),
 * python (index_url), node (registry) and apt (mirror). 0, or -1 with a message
 * naming the key and its line. */
int image_settings_load(const config *c, char *err, size_t errlen);
/* The values, NULL when not configured. */
const char *image_python_index_url(void);
const char *image_node_registry(void);
const char *image_apt_mirror(void);
/* The base of system images, "python:{version}-slim" unless configured. */
const char *image_python_base(void);

/* ---- the store --------------------------------------------------------------------- */

/* Sets up DATA/images (its configuration files, owned by IMAGE_BUILD_IDS) for
 * data_dir, with podium-sandbox at sandbox_bin and the RUN steps' seccomp profile
 * at seccomp_json. 0, or -ENOTSUP when this host cannot build images (why says
 * what is missing: buildah, crun, user namespaces), or another -errno. */
int image_store_init(const char *data_dir, const char *sandbox_bin, const char *seccomp_json,
    char *why, size_t whylen);
/* 1 when image_store_init succeeded; else why (CONFIG_ERROR messages). */
int image_store_ready(const char **why);
/* DATA/images. */
const char *image_store_dir(void);

/* What one engine launch sees besides the store: the build context, a job
 * directory (ids files, secrets), an input file (an archive to import); NULL:
 * none. */
typedef struct image_mounts {
	const char *context, *job, *input;
} image_mounts;

/* The box of `argv` (buildah ...) run as the engine: the store at
 * IMAGE_ENGINE_STORE, m's at theirs, the configuration's environment. Strings
 * are borrowed (argv, m) or static; the caller adds net, limits, descriptors. */
void image_engine_box(box_spec *box, const image_mounts *m, const char *const *argv);
/* buildah's leading arguments (configuration that has no environment variable),
 * NULL-terminated, static. */
const char *const *image_buildah_globals(void);

/* ---- images in the store ----------------------------------------------------------- */

typedef struct image_info {
	char id[65];
	json_t *names;   /* array of strings */
	json_t *layers;  /* array of layer ids, top first */
	json_t *config;  /* the image config's "config" (Env, Cmd, Entrypoint, WorkingDir, ...) */
	long long size;  /* bytes of its layers */
	char created[40];
} image_info;

/* The image named (as stored: "docker.io/library/python:3.11-slim") or with that id
 * (or a unique id prefix). 0, -ENOENT, or -EIO with err. */
int image_find(const char *name_or_id, image_info *out, char *err, size_t errlen);
void image_info_release(image_info *info);
/* Every image: [{"id","names","size","created","layers"}]. NULL when the store cannot
 * be read. */
json_t *image_list(void);
/* The layers' directories (top first, ':'-separated) for podium-sandbox --rootfs;
 * NULL when a layer is missing. Caller frees. */
char *image_rootfs(const json_t *layers);

/* Removes images (names or ids) from the store in the background (an engine
 * launch on loop, its output in the daemon's log); one that is still needed
 * (another image is built on it) stays. Nothing when refs is empty. */
void image_remove(uv_loop_t *loop, const json_t *refs);
/* What removing a release's image takes (app_config.image): its name (the
 * engine also removes the intermediate images under it that no other image is
 * built on), appended to refs; nothing for a shared system image. */
void image_release_refs(const json_t *image, json_t *refs);

/* An image name as a Dockerfile's FROM resolves it: "python:3.11-slim" →
 * "docker.io/library/python:3.11-slim" (tag "latest" when none). 0, or -EINVAL
 * when it is not a name. */
int image_name_normalize(const char *name, char *out, size_t outlen);

#endif
