/* build_plan.c — which install steps a release needs (a virtualenv and pip,
 * npm, app_build_command), the build cache around them, the registry checks
 * before the installers that need one, and every step's environment. */
#include "builder/build_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "builder/image.h"
#include "common/util.h"

/* Every step's environment: the build's, and where packages come from. */
char **
build_steps_env(void)
{
	/* The installers' own timeouts and retries bound a slow registry (the check of
	 * registry.c catches a dead one at once); their progress goes to the log as it
	 * happens: every fetch (npm's http level), dependencies' install scripts in the
	 * foreground (npm hides their output until the end otherwise), no buffering. */
	static const char *const base[] = { "HOME=/tmp", "PATH=" BUILD_PATH, "LANG=C.UTF-8",
		"PIP_NO_INPUT=1", "PIP_DISABLE_PIP_VERSION_CHECK=1", "PIP_DEFAULT_TIMEOUT=30",
		"PIP_RETRIES=2", "PIP_PROGRESS_BAR=off", "PYTHONUNBUFFERED=1",
		"npm_config_cache=/tmp/.npm", "npm_config_update_notifier=false",
		"npm_config_fetch_timeout=60000", "npm_config_fetch_retries=2",
		"npm_config_fetch_retry_mintimeout=2000", "npm_config_fetch_retry_maxtimeout=10000",
		"npm_config_loglevel=http", "npm_config_foreground_scripts=true",
		"npm_config_progress=false", "CI=1", NULL };
	const char *index = image_python_index_url(), *npm = image_node_registry();
	char **env = xcalloc(sizeof(base) / sizeof(base[0]) + 4, sizeof(char *));
	size_t n = 0;

	for (; base[n] != NULL; n++)
		env[n] = xstrdup(base[n]);
	if (index != NULL) {
		const char *host = strstr(index, "://") + 3;

		env[n++] = xasprintf("PIP_INDEX_URL=%s", index);
		/* pip ignores an http index unless its host is trusted */
		if (strncmp(index, "http://", 7) == 0)
			env[n++] = xasprintf("PIP_TRUSTED_HOST=%.*s", (int)strcspn(host, ":/"), host);
	}
	if (npm != NULL)
		env[n++] = xasprintf("npm_config_registry=%s", npm);
	return env;
}

/* Spawns `podium-sandbox ... -- step` with stdout+stderr on one pipe into the log. */

void
build_step_add(build_job *job, const char *name, ...)
{
	build_step *step = &job->steps[job->nsteps++];
	const char *arg;
	va_list ap;
	int n = 0;

	snprintf(step->name, sizeof(step->name), "%s", name);
	va_start(ap, name);
	while ((arg = va_arg(ap, const char *)) != NULL && n < 11)
		step->argv[n++] = xstrdup(arg);
	va_end(ap);
	step->argv[n] = NULL;
}

/* The check that the registry kind answers, before the step that needs it. */
static void
step_add_check(build_job *job, builder_registry kind)
{
	build_step_add(job, builder_registry_step_name(kind), "python3", "-I", "-c",
	    builder_registry_probe(), builder_registry_kind_arg(kind), NULL);
	job->steps[job->nsteps - 1].check = kind;
}

int
build_release_file(build_job *job, const char *name)
{
	struct stat st;
	char *p = xasprintf("%s/%s", job->release_dir, name);
	int r = lstat(p, &st) == 0 && S_ISREG(st.st_mode);

	free(p);
	return r;
}

/* The build cache (cache.c) for one install: on a hit, adds the step that
 * restores dir from it and returns 1; on a miss returns 0 and, when the
 * install can be cached, sets key for cache_save. */
static int
cache_restore(build_job *job, builder_cache_kind kind, const char *dir, const char *why,
    char key[BUILDER_CACHE_KEY_LEN + 1])
{
	const char *prefix = builder_cache_prefix(kind);

	key[0] = '\0';
	if (job->cache_dir == NULL)
		return 0;
	if (builder_cache_key(kind, job->release_dir, &job->result.config, key) != 0) {
		key[0] = '\0';
		return 0;
	}
	if (job->no_cache) {
		build_log_line(job, "--> build cache: not used (factory rebuild)");
		return 0;
	}
	if (!builder_cache_has(job->cache_dir, kind, key)) {
		build_log_line(job, "--> build cache: no %s for these inputs (%s-%.12s), installing", dir,
		    prefix, key);
		return 0;
	}
	char *name = xasprintf("restore %s from the build cache (%s unchanged)", dir, why);
	char *cmd = xasprintf("cp -a /cache/%s-%s/%s %s", prefix, key, dir, dir);

	build_log_line(job, "--> build cache: reusing %s (%s-%.12s), %s skipped", dir, prefix, key,
	    kind == BUILDER_CACHE_PYTHON ? "pip" : "npm");
	build_step_add(job, name, "/bin/sh", "-c", cmd, NULL);
	free(name);
	free(cmd);
	return 1;
}

/* After a fresh install: keep dir as the one entry of its kind. The "ok" mark
 * is written last, so an interrupted save is never taken for an entry. */
static void
cache_save(build_job *job, builder_cache_kind kind, const char *dir, const char *key)
{
	const char *p = builder_cache_prefix(kind);
	char *cmd;

	if (key[0] == '\0')
		return;
	/* A package without dependencies installs no node_modules: nothing to keep. */
	cmd = xasprintf("[ -d %s ] || exit 0; "
	    "rm -rf /cache/.new-%s && mkdir /cache/.new-%s && cp -a %s /cache/.new-%s/ && "
	    "rm -rf /cache/%s-* && mv /cache/.new-%s /cache/%s-%s && : > /cache/%s-%s/ok",
	    dir, p, p, dir, p, p, p, p, key, p, key);
	build_step_add(job, "save the installed dependencies to the build cache", "/bin/sh", "-c", cmd, NULL);
	free(cmd);
}

/* pip into the venv, in the Hub's order: pre-requirements.txt, the sdk at its
 * sdk_version, requirements.txt. */
static void
pip_steps(build_job *job)
{
	const app_config *c = &job->result.config;
	static const char *const files[] = { "pre-requirements.txt", NULL, "requirements.txt" };
	char *name, *pin;

	for (int i = 0; i < 3; i++) {
		if (files[i] == NULL && builder_sdk_pinned(c)) {
			pin = xasprintf("%s==%s", c->sdk, builder_card_version(c->card, "sdk_version"));
			name = xasprintf("pip install %s (sdk_version)", pin);
			build_step_add(job, name, ".venv/bin/python", "-m", "pip", "install", "--no-input",
			    "--disable-pip-version-check", "--no-cache-dir", pin, NULL);
			free(pin);
			free(name);
			job->steps[job->nsteps - 1].needs = BUILDER_REGISTRY_PIP;
		} else if (files[i] != NULL && build_release_file(job, files[i])) {
			name = xasprintf("pip install -r %s", files[i]);
			build_step_add(job, name, ".venv/bin/python", "-m", "pip", "install", "--no-input",
			    "--disable-pip-version-check", "--no-cache-dir", "-r", files[i], NULL);
			free(name);
			job->steps[job->nsteps - 1].needs = BUILDER_REGISTRY_PIP;
		}
	}
}

/* Decides which install steps this release needs, in the order they must run. */
void
build_steps_plan(build_job *job)
{
	const app_config *c = &job->result.config;
	const json_t *cmd = json_object_get(c->card, "app_build_command");
	int is_static = strcmp(c->sdk, "static") == 0;
	char key[BUILDER_CACHE_KEY_LEN + 1];

	int venv = !is_static && builder_needs_venv(job->release_dir, c);

	job->result.config.installed = venv;
	if (venv && !cache_restore(job, BUILDER_CACHE_PYTHON, ".venv", "requirements", key)) {
		/* System site packages: Debian's python3-* packages satisfy requirements
		 * without a package index, which this host may not reach. */
		/* --without-pip: copying pip into every venv costs seconds; the host's pip
		 * (python3-pip) works from the system site packages, and ensurepip is the
		 * fallback on hosts without it. */
		build_step_add(job, "create virtualenv", "/bin/sh", "-c",
		    "python3 -m venv --system-site-packages --without-pip .venv && "
		    "{ .venv/bin/python -m pip --version >/dev/null 2>&1 || "
		    ".venv/bin/python -m ensurepip --default-pip; }", NULL);
		step_add_check(job, BUILDER_REGISTRY_PIP);
		pip_steps(job);
		cache_save(job, BUILDER_CACHE_PYTHON, ".venv", key);
	}
	if (build_release_file(job, "package.json") && (!is_static || json_is_string(cmd)))
		job->result.config.installed = 1;
	if (build_release_file(job, "package.json") && (!is_static || json_is_string(cmd)) &&
	    !cache_restore(job, BUILDER_CACHE_NODE, "node_modules", "package.json and lockfile", key)) {
		step_add_check(job, BUILDER_REGISTRY_NPM);
		if (build_release_file(job, "package-lock.json"))
			build_step_add(job, "npm ci", "npm", "ci", "--no-audit", "--no-fund", NULL);
		else
			build_step_add(job, "npm install", "npm", "install", "--no-audit", "--no-fund", NULL);
		job->steps[job->nsteps - 1].needs = BUILDER_REGISTRY_NPM;
		cache_save(job, BUILDER_CACHE_NODE, "node_modules", key);
	}
	if (json_is_string(cmd) && json_string_length(cmd) > 0) {
		char *name = xasprintf("app_build_command \"%.96s\"", json_string_value(cmd));

		build_step_add(job, name, "/bin/sh", "-c", json_string_value(cmd), NULL);
		free(name);
	}
}
