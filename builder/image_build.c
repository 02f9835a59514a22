/* image_build.c — the image part of a build (build.c runs it as one step of its
 * own, "engine" steps being podium-sandbox --engine-userns boxes):
 *
 * - sdk docker: the space's Dockerfile built by buildah as the Hub builds it: the
 *   space's variables as build args, its secrets as build secrets (files in a
 *   tmpfs job directory, for RUN --mount=type=secret,id=NAME), the layer cache
 *   (--layers: a code-only push rebuilds from its COPY on), RUN steps with
 *   podium's seccomp profile in the build's network namespace (podium's egress,
 *   or loopback only) and cgroups. The image's config gives the command,
 *   environment and working directory; the app runs on its layers (--rootfs).
 * - a system image, for packages.txt or a python_version the host lacks: the
 *   configured Python base (python:X.Y-slim) with the packages installed through
 *   apt (apt.mirror when set), tagged by its inputs and shared by every space
 *   with the same ones; the venv steps and the app then run on its layers with
 *   the release overlaid at /home/user/app, as on the host's /usr.
 *
 * Everything the engine writes goes to the store (DATA/images) and a job
 * directory under /run/podium (ids, secrets, a generated build context), which
 * goes when the build does. */
#include "builder/builder_int.h"
#include "builder/image.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

#define JOB_ROOT "/run/podium"
#define MAX_ARGS 256

struct image_job {
	char *image_name; /* docker: the release's image */
	unsigned id_range;
	char **build_args, **secrets;
	char *gateway; /* --dns for RUN steps (veth), or NULL */
	char *job_dir; /* /run/podium/build-XXXXXX */
	char *context; /* the build context (the release, or job_dir/context) */
	char *tag;     /* what the engine step tags */
	int docker;
	int has_step;
	char *argv[MAX_ARGS];
	char *rootfs;  /* a system image's layers, once known */
	json_t *image; /* the image, for app_config.image */
	char *skipped; /* why a system image was not made (this host cannot) */
};

static char **
strv_copy(const char *const *v)
{
	size_t n = 0;
	char **out;

	while (v != NULL && v[n] != NULL)
		n++;
	out = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(v[i]);
	return out;
}

static void
strv_free(char **v)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++) {
		sodium_memzero(v[i], strlen(v[i]));
		free(v[i]);
	}
	free(v);
}

image_job *
image_job_new(const build_request *req)
{
	image_job *ij = xcalloc(1, sizeof(*ij));
	const char *gw =
	    req->net != NULL && strncmp(req->net, "veth:", 5) == 0 ? strchr(req->net, ',') : NULL;

	ij->image_name = req->image_name != NULL ? xstrdup(req->image_name) : NULL;
	ij->id_range = req->id_range;
	ij->build_args = strv_copy(req->build_args);
	ij->secrets = strv_copy(req->secrets);
	if (gw != NULL)
		ij->gateway = xstrndup(gw + 1, strcspn(gw + 1, "/"));
	return ij;
}

void
image_job_free(image_job *ij)
{
	if (ij == NULL)
		return;
	if (ij->job_dir != NULL)
		fs_rm_rf(ij->job_dir); /* the secrets with it */
	for (int i = 0; ij->argv[i] != NULL; i++)
		free(ij->argv[i]);
	strv_free(ij->build_args);
	strv_free(ij->secrets);
	free(ij->image_name);
	free(ij->gateway);
	free(ij->job_dir);
	free(ij->context);
	free(ij->tag);
	free(ij->rootfs);
	free(ij->skipped);
	json_decref(ij->image);
	free(ij);
}

/* ---- planning ---------------------------------------------------------------------------- */

static void
arg(image_job *ij, int *n, char *s)
{
	if (*n < MAX_ARGS - 1)
		ij->argv[(*n)++] = s;
	else
		free(s);
}

/* /run/podium/build-XXXXXX, the engine's (IMAGE_ENGINE_JOB). */
static int
job_dir_make(image_job *ij, char *err, size_t errlen)
{
	char tmpl[] = JOB_ROOT "/build-XXXXXX";

	fs_mkdir_p(JOB_ROOT, 0755);
	if (mkdtemp(tmpl) == NULL || chown(tmpl, IMAGE_BUILD_IDS, IMAGE_BUILD_IDS) != 0) {
		snprintf(err, errlen, "cannot make a build directory in %s: %s", JOB_ROOT,
		    strerror(errno));
		return -1;
	}
	ij->job_dir = xstrdup(tmpl);
	return 0;
}

/* A file of the job directory, the engine's. */
static int
job_file(image_job *ij, const char *rel, const char *data, size_t len, mode_t mode)
{
	char *path = xasprintf("%s/%s", ij->job_dir, rel);
	int r = fs_write_file(path, data, len, mode);

	if (r == 0 && chown(path, IMAGE_BUILD_IDS, IMAGE_BUILD_IDS) != 0)
		r = -errno;
	free(path);
	return r;
}

/* buildah bud of ij->context's Dockerfile into ij->tag. */
static void
bud_argv(image_job *ij, int no_cache, const char *dockerfile)
{
	int n = 0;

	for (const char *const *g = image_buildah_globals(); *g != NULL; g++)
		arg(ij, &n, xstrdup(*g));
	arg(ij, &n, xstrdup("bud"));
	/* RUN steps: crun, no cgroups of their own (the build's hold them), the
	 * build's network namespace, podium's seccomp policy */
	arg(ij, &n, xstrdup("--isolation=oci"));
	arg(ij, &n, xstrdup("--runtime-flag=cgroup-manager=disabled"));
	arg(ij, &n, xstrdup("--network=host"));
	if (ij->gateway != NULL)
		arg(ij, &n, xasprintf("--dns=%s", ij->gateway));
	arg(ij, &n, xstrdup("--security-opt=seccomp=/tmp/seccomp.json"));
	arg(ij, &n, xstrdup("--http-proxy=false"));
	/* a base image is pulled only when it is not in the store */
	arg(ij, &n, xstrdup("--pull=false"));
	arg(ij, &n, xstrdup("--retry=0"));
	arg(ij, &n, xstrdup("--layers"));
	if (no_cache)
		arg(ij, &n, xstrdup("--no-cache"));
	for (char **a = ij->build_args; *a != NULL; a++)
		arg(ij, &n, xasprintf("--build-arg=%s", *a));
	for (char **s = ij->secrets; *s != NULL; s++)
		arg(ij, &n,
		    xasprintf("--secret=id=%.*s,src=%s/secrets/%.*s", (int)strcspn(*s, "="), *s,
		        IMAGE_ENGINE_JOB, (int)strcspn(*s, "="), *s));
	if (image_python_index_url() != NULL)
		arg(ij, &n, xstrdup("--volume=" IMAGE_ENGINE_STORE "/pip.conf:/etc/pip.conf:ro"));
	arg(ij, &n, xstrdup("--iidfile=" IMAGE_ENGINE_JOB "/iid"));
	arg(ij, &n, xasprintf("--file=%s/%s", IMAGE_ENGINE_CONTEXT, dockerfile));
	arg(ij, &n, xasprintf("--tag=%s", ij->tag));
	arg(ij, &n, xstrdup(IMAGE_ENGINE_CONTEXT));
	ij->argv[n] = NULL;
	ij->has_step = 1;
}

/* The space's secrets as files the engine reads (never build args: those stay in
 * the image's history). */
static int
secret_files(image_job *ij, char *err, size_t errlen)
{
	char *dir = xasprintf("%s/secrets", ij->job_dir);
	int r =
	    mkdir(dir, 0700) == 0 && chown(dir, IMAGE_BUILD_IDS, IMAGE_BUILD_IDS) == 0 ? 0 : -errno;

	free(dir);
	for (char **s = ij->secrets; r == 0 && *s != NULL; s++) {
		const char *eq = strchr(*s, '=');
		char *rel = xasprintf("secrets/%.*s", (int)(eq - *s), *s);

		r = job_file(ij, rel, eq + 1, strlen(eq + 1), 0400);
		free(rel);
	}
	if (r != 0)
		snprintf(err, errlen, "cannot hand the secrets to the build: %s", strerror(-r));
	return r;
}

static build_stage_result
plan_docker(image_job *ij, const char *release_dir, int no_cache, char *err, size_t errlen)
{
	struct stat st;
	char *df = xasprintf("%s/Dockerfile", release_dir);
	int have = lstat(df, &st) == 0 && S_ISREG(st.st_mode);

	free(df);
	if (!have) {
		snprintf(err, errlen, "sdk docker needs a Dockerfile at the top of the repository");
		return BUILD_NO_APP_FILE;
	}
	if (ij->image_name == NULL) {
		snprintf(err, errlen, "internal error: no image name for the release");
		return BUILD_FAILED;
	}
	if (job_dir_make(ij, err, errlen) != 0 || secret_files(ij, err, errlen) != 0)
		return BUILD_FAILED;
	ij->docker = 1;
	ij->context = xstrdup(release_dir);
	ij->tag = xstrdup(ij->image_name);
	bud_argv(ij, no_cache, "Dockerfile");
	return BUILD_OK;
}

/* The major.minor of the host's python3 ("3.11"), or "" when unknown. */
static void
host_python(char *out, size_t outlen)
{
	char link[256];
	ssize_t n = readlink("/usr/bin/python3", link, sizeof(link) - 1);

	out[0] = '\0';
	if (n > 0) {
		link[n] = '\0';
		if (strncmp(link, "python", 6) == 0)
			snprintf(out, outlen, "%.16s", link + 6);
	}
}

/* The front matter's python_version as major.minor, or "" when not given. */
static void
card_python(const json_t *card, char *out, size_t outlen)
{
	const json_t *v = json_object_get(card, "python_version");
	char buf[32] = "";
	char *dot;

	if (json_is_string(v))
		snprintf(buf, sizeof(buf), "%s", json_string_value(v));
	else if (json_is_number(v))
		snprintf(buf, sizeof(buf), "%g", json_number_value(v));
	/* "3.10.4" → "3.10" */
	if ((dot = strchr(buf, '.')) != NULL && (dot = strchr(dot + 1, '.')) != NULL)
		*dot = '\0';
	snprintf(out, outlen, "%s", buf);
}

/* packages.txt with at least one package (NULL otherwise); caller frees. */
static char *
packages_text(const char *release_dir)
{
	char *text = NULL, *p;
	size_t len;

	if (fs_read_file_beneath(release_dir, "packages.txt", &text, &len, 1 << 20) != 0)
		return NULL;
	for (p = text; *p != '\0'; p++) {
		if (*p == '#')
			p += strcspn(p, "\n");
		else if (strchr(" \t\r\n", *p) == NULL)
			return text;
		if (*p == '\0')
			break;
	}
	free(text);
	return NULL;
}

int
image_job_wants_system(const char *release_dir, const app_config *cfg)
{
	char want[32], host[32], *pk = packages_text(release_dir);
	int r = pk != NULL;

	free(pk);
	card_python(cfg->card, want, sizeof(want));
	host_python(host, sizeof(host));
	return r || (want[0] != '\0' && strcmp(want, host) != 0);
}

static const char system_dockerfile[] =
    "# podium: the system image of packages.txt / python_version\n"
    "FROM %s\n"
    "%s"
    "ARG PODIUM_APT_MIRROR\n"
    "RUN set -e; [ -f /tmp/podium-packages.txt ] || exit 0; opts=; "
    "if [ -n \"$PODIUM_APT_MIRROR\" ]; then . /etc/os-release; mkdir -p /tmp/podium-apt; "
    "echo \"deb $PODIUM_APT_MIRROR $VERSION_CODENAME main\" > /tmp/podium-apt/sources.list; "
    "opts=\"-o Dir::Etc::SourceList=/tmp/podium-apt/sources.list -o Dir::Etc::SourceParts=/tmp/podium-apt\"; fi; "
    "apt-get $opts update; "
    "sed 's/#.*//' /tmp/podium-packages.txt | xargs -r apt-get $opts install -y --no-install-recommends; "
    "rm -rf /var/lib/apt/lists/* /tmp/podium-*\n";

/* The system image's name: its inputs' hash (the base as it is in the store now). */
static char *
system_tag(const char *base, const char *packages)
{
	crypto_generichash_state h;
	unsigned char out[12];
	char hex[25], full[512], err[64];
	const char *mirror = image_apt_mirror();
	image_info info;

	crypto_generichash_init(&h, NULL, 0, sizeof(out));
	crypto_generichash_update(&h, (const unsigned char *)base, strlen(base) + 1);
	if (image_name_normalize(base, full, sizeof(full)) == 0 &&
	    image_find(full, &info, err, sizeof(err)) == 0) {
		crypto_generichash_update(&h, (const unsigned char *)info.id, strlen(info.id));
		image_info_release(&info);
	}
	crypto_generichash_update(
	    &h, (const unsigned char *)(packages ?: ""), strlen(packages ?: "") + 1);
	crypto_generichash_update(&h, (const unsigned char *)(mirror ?: ""), strlen(mirror ?: ""));
	crypto_generichash_final(&h, out, sizeof(out));
	sodium_bin2hex(hex, sizeof(hex), out, sizeof(out));
	return xasprintf("localhost/podium-sys/%s:1", hex);
}

/* base with {version} replaced. */
static char *
system_base(const char *version)
{
	const char *b = image_python_base(), *v = strstr(b, "{version}");

	if (v == NULL)
		return xstrdup(b);
	return xasprintf("%.*s%s%s", (int)(v - b), b, version, v + strlen("{version}"));
}

static int image_use(image_job *ij, const char *id, app_config *cfg, char *err, size_t errlen);

static build_stage_result
plan_system(
    image_job *ij, const char *release_dir, app_config *cfg, int no_cache, char *err, size_t errlen)
{
	char version[32], *base, *packages = packages_text(release_dir), *df, *mirror;
	image_info info;
	int r = 0;

	card_python(cfg->card, version, sizeof(version));
	if (version[0] == '\0')
		host_python(version, sizeof(version));
	base = system_base(version);
	ij->tag = system_tag(base, packages);
	cfg->image = json_pack("{s:s, s:s}", "name", ij->tag, "base", base);
	/* the space's variables are not build args here: the image is shared */
	strv_free(ij->build_args);
	ij->build_args = xcalloc(1, sizeof(char *));
	strv_free(ij->secrets);
	ij->secrets = xcalloc(1, sizeof(char *));
	if (!no_cache && image_find(ij->tag, &info, err, errlen) == 0) {
		r = image_use(ij, info.id, cfg, err, errlen);
		image_info_release(&info);
		goto done;
	}
	if (job_dir_make(ij, err, errlen) != 0) {
		r = -1;
		goto done;
	}
	ij->context = xasprintf("%s/context", ij->job_dir);
	df = xasprintf(system_dockerfile, base,
	    packages != NULL ? "COPY packages.txt /tmp/podium-packages.txt\n" : "");
	if (mkdir(ij->context, 0755) != 0 ||
	    job_file(ij, "context/Dockerfile", df, strlen(df), 0644) != 0 ||
	    (packages != NULL &&
	        job_file(ij, "context/packages.txt", packages, strlen(packages), 0644) != 0)) {
		snprintf(err, errlen, "cannot write the system image's build context: %s",
		    strerror(errno));
		r = -1;
	}
	free(df);
	if ((mirror = (char *)image_apt_mirror()) != NULL) {
		free(ij->build_args);
		ij->build_args = xcalloc(2, sizeof(char *));
		ij->build_args[0] = xasprintf("PODIUM_APT_MIRROR=%s", mirror);
	}
	if (r == 0)
		bud_argv(ij, no_cache, "Dockerfile");
done:
	free(base);
	free(packages);
	return r == 0 ? BUILD_OK : BUILD_FAILED;
}

build_stage_result
image_job_plan(
    image_job *ij, const char *release_dir, app_config *cfg, int no_cache, char *err, size_t errlen)
{
	const char *why;

	if (strcmp(cfg->sdk, "docker") != 0 && !image_job_wants_system(release_dir, cfg))
		return BUILD_OK;
	if (!image_store_ready(&why)) {
		snprintf(err, errlen, "%s needs an image build, which this host cannot do: %s",
		    strcmp(cfg->sdk, "docker") == 0 ? "sdk docker"
		                                    : "packages.txt or python_version",
		    why);
		if (strcmp(cfg->sdk, "docker") == 0)
			return BUILD_CONFIG_ERROR;
		/* as before images: the host's /usr, and the build log says what is missing */
		ij->skipped = xstrdup(err);
		return BUILD_OK;
	}
	if (strcmp(cfg->sdk, "docker") == 0)
		return plan_docker(ij, release_dir, no_cache, err, errlen);
	return plan_system(ij, release_dir, cfg, no_cache, err, errlen);
}

/* ---- the engine step ------------------------------------------------------------------------- */

int
image_job_step(const image_job *ij, char *const **argv)
{
	*argv = ij->argv;
	return ij != NULL && ij->has_step;
}

void
image_job_box(const image_job *ij, box_spec *box, const char *const *argv)
{
	const image_mounts m = { ij->context, ij->job_dir, NULL };

	image_engine_box(box, &m, argv);
}

const char *
image_job_skipped(const image_job *ij)
{
	return ij != NULL ? ij->skipped : NULL;
}

const char *
image_job_rootfs(const image_job *ij)
{
	return ij != NULL ? ij->rootfs : NULL;
}

unsigned
image_job_id_range(const image_job *ij)
{
	return ij->id_range;
}

/* The command of a docker image: ENTRYPOINT then CMD. */
static json_t *
image_command(const json_t *config)
{
	json_t *argv = json_array(), *v;
	size_t i;

	json_array_foreach(json_object_get(config, "Entrypoint"), i, v)
		json_array_append(argv, v);
	json_array_foreach(json_object_get(config, "Cmd"), i, v)
		json_array_append(argv, v);
	return argv;
}

/* cfg gets the image id (its layers, config) for the release. */
static int
image_use(image_job *ij, const char *id, app_config *cfg, char *err, size_t errlen)
{
	image_info info;
	const json_t *wd;
	int r = image_find(id, &info, err, errlen);

	if (r != 0)
		return -1;
	json_decref(cfg->image);
	cfg->image = json_pack("{s:s, s:s, s:O, s:O}", "id", info.id, "name", ij->tag, "layers",
	    info.layers, "env", json_object_get(info.config, "Env") ?: json_array());
	if (ij->docker) {
		wd = json_object_get(info.config, "WorkingDir");
		json_object_set_new(cfg->image, "docker", json_true());
		json_object_set_new(cfg->image, "workdir",
		    json_string(json_string_length(wd) > 0 ? json_string_value(wd) : "/"));
		json_decref(cfg->run_argv);
		cfg->run_argv = image_command(info.config);
		if (json_array_size(cfg->run_argv) == 0) {
			snprintf(err, errlen,
			    "the image has no CMD or ENTRYPOINT: add one to the Dockerfile");
			r = -1;
		}
	} else {
		free(ij->rootfs);
		ij->rootfs = image_rootfs(info.layers);
		if (ij->rootfs == NULL) {
			snprintf(err, errlen, "the system image %s lost a layer", ij->tag);
			r = -1;
		}
	}
	image_info_release(&info);
	return r;
}

int
image_job_done(image_job *ij, uv_loop_t *loop, app_config *cfg, char *err, size_t errlen)
{
	char *path = xasprintf("%s/iid", ij->job_dir), *text = NULL, *id;
	size_t len;
	int r;

	r = fs_read_file(path, &text, &len, 4096);
	free(path);
	if (r != 0) {
		snprintf(err, errlen, "the image build left no image id: %s", strerror(-r));
		return -1;
	}
	id = text + (strncmp(text, "sha256:", 7) == 0 ? 7 : 0);
	id[strcspn(id, "\r\n")] = '\0';
	r = image_use(ij, id, cfg, err, errlen);
	free(text);
	if (r != 0 && ij->docker) {
		/* a release that will not be: its image goes */
		json_t *refs = json_pack("[s]", ij->tag);

		image_remove(loop, refs);
		json_decref(refs);
	}
	return r;
}

void
image_job_failure(const char *tail, char *msg, size_t msglen)
{
	const char *p = strstr(tail, "initializing source docker://");
	size_t n;

	msg[0] = '\0';
	if (p == NULL)
		return;
	p += strlen("initializing source docker://");
	n = strcspn(p, " \n");
	if (n > 0 && p[n - 1] == ':')
		n--;
	snprintf(msg, msglen,
	    "the base image %.*s is not here and no registry answered: load it with "
	    "`podium image import TARBALL %.*s`",
	    (int)n, p, (int)n, p);
}
