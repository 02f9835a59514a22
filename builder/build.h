/* build.h — builds: a pushed commit becomes a release.
 *
 * Data flow: orchestrator → builder_build_start (export commit with libgit2, read
 * README front matter with libyaml, detect the sdk, install dependencies inside
 * podium-sandbox) → build_done(result) → orchestrator starts an instance of the
 * new release.
 */
#ifndef PODIUM_BUILDER_BUILD_H
#define PODIUM_BUILDER_BUILD_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* ---- configuration (README front matter) --------------------------------------- */

/* What front matter may hold (issue 21.2; the Hub's caps for title and
 * short_description, in characters): a longer value is a CONFIG_ERROR naming its key
 * (builder_config_load), and so is a card whose JSON is over BUILDER_CARD_MAX bytes
 * (the largest key named). */
#define BUILDER_CARD_MAX         16384
#define BUILDER_TITLE_MAX        30
#define BUILDER_DESCRIPTION_MAX  60
#define BUILDER_EMOJI_MAX        10      /* a ZWJ sequence or a tag flag is up to 7 */

/* Parses YAML front matter at the start of a README ("---\n...\n---").
 * 0: *card is a JSON object (empty when there is no front matter).
 * -1: err gets a message naming the YAML line or the bad key. */
int builder_frontmatter_parse(const char *text, size_t len, json_t **card, char *err, size_t errlen);

/* What a build would say of this README.md: 0 when its front matter (if any) is
 * fine, with notes in warnings ([{"message"}]: sdk docker); -1 with err naming the
 * line or key: bad YAML, a known key of the wrong type, an unknown sdk. */
int builder_readme_check(const char *text, size_t len, json_t *warnings, char *err, size_t errlen);

typedef enum build_stage_result {
	BUILD_OK = 0,
	BUILD_NO_APP_FILE,   /* nothing runnable found */
	BUILD_CONFIG_ERROR,  /* bad front matter / unsupported sdk */
	BUILD_FAILED,        /* dependency install or build command failed */
} build_stage_result;

/* How to run a release; stored by the orchestrator (as JSON) with the release. */
typedef struct app_config {
	char sdk[32];        /* static, python, gradio, streamlit, node (docker → CONFIG_ERROR) */
	int app_port;        /* default 7860 */
	json_t *run_argv;    /* JSON array of strings, run in /home/user/app; NULL for static */
	char static_dir[256];/* static: directory inside the release to serve ("" = root) */
	int startup_timeout_s;
	json_t *card;        /* front matter (object) */
	json_t *image;       /* an image release (builder/image.h): {"id", "name", "layers" (top
	                      * first), "env"; docker: "docker", "workdir"}; NULL: the host's /usr */
	int installed;       /* the build installed dependencies (a venv, node_modules) */
} app_config;

void app_config_init(app_config *c);
void app_config_release(app_config *c);
json_t *app_config_to_json(const app_config *c);           /* new reference */
int app_config_from_json(app_config *c, const json_t *j);  /* 0 or -1 */
/* Detects and validates the configuration of an exported release directory. */
build_stage_result builder_config_load(const char *release_dir, app_config *c, char *err, size_t errlen);

/* ---- build jobs ------------------------------------------------------------------ */

typedef struct build_request {
	const char *repo_path;
	const char *sha;          /* exact commit to build */
	const char *release_dir;  /* created by the job; must not exist */
	const char *log_path;     /* build log (appended) */
	const char *sandbox_bin;  /* path of podium-sandbox */
	const char *space_id;     /* owner/name */
	unsigned host_uid;        /* host uid/gid the sandboxed build runs as; release chowned to it */
	const char *net;          /* podium-sandbox's --net for its steps ("none", "veth:...") */
	const char *cache_dir;    /* the space's build cache (created, owned by host_uid); NULL: none */
	int no_cache;             /* factory rebuild: install afresh (the result still refills the cache) */
	const char *const *env;   /* the space's "NAME=VALUE" variables and secrets, or NULL */
	const char *const *mask;  /* secret values, shown as *** in the build log, or NULL */
	uint64_t memory_bytes;    /* limits of each step; 0: 2 GiB, 512 tasks, no CPU limit */
	unsigned pids;
	double cpus;
	const char *image_name;   /* sdk docker: the release's image, localhost/podium/SUBDOMAIN:rID */
	unsigned id_range;        /* the space's ids in a box on an image (IMAGE_SPACE_IDS) */
	const char *const *build_args; /* the space's variables "NAME=VALUE": Dockerfile build args */
	const char *const *secrets;    /* its secrets "NAME=VALUE": Dockerfile build secrets */
	unsigned timeout_s;       /* the whole build, every step of it; 0: 20 minutes */
	uint64_t disk_bytes;      /* the size of the filesystem release_dir and cache_dir are
	                           * on (limits.build_disk), for the message when it is full */
	uint64_t fsize_bytes;     /* the largest file a step may write (RLIMIT_FSIZE); 0: any */
} build_request;

typedef struct build_result {
	build_stage_result status;
	char message[1024];       /* errorMessage for CONFIG_ERROR / BUILD_ERROR / NO_APP_FILE */
	app_config config;        /* valid when status == BUILD_OK (and card also on CONFIG_ERROR when parsed) */
} build_result;

typedef struct build_job build_job;
/* result is valid only during the callback; take what you need (e.g. json_incref). */
typedef void (*build_done_cb)(build_job *job, const build_result *result, void *arg);

/* Starts a build; the request is copied. cb runs exactly once, on loop, unless this
 * returns an error (then it never runs). The job frees itself after cb returns. */
int builder_build_start(uv_loop_t *loop, const build_request *req, build_done_cb cb, void *arg,
    build_job **out);
/* Kills a running build; cb then runs with BUILD_FAILED "cancelled". */
void builder_build_cancel(build_job *job);

#endif
