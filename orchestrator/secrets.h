/* secrets.h — a space's variables and secrets (Hub: add_space_secret,
 * add_space_variable, ...): environment for its app and its builds.
 *
 * Variables are stored in clear and shown to whoever may read the space. Secret
 * values are sealed (XChaCha20-Poly1305, bound to space and key) under a key in
 * DATA/secrets.key (0600, made at first start); they leave the daemon only as
 * --env arguments of podium-sandbox, and their exact text is masked in build and
 * app logs. No API answer carries a secret's value. */
#ifndef PODIUM_SECRETS_H
#define PODIUM_SECRETS_H

#include <jansson.h>

#include "orchestrator/podium.h"

#define CONFIG_VALUE_MAX (64 * 1024)     /* one value */
#define CONFIG_DESC_MAX 1024             /* one description */
#define CONFIG_SPACE_MAX (1024 * 1024)   /* keys + values of a space: argv must hold them */

/* Loads DATA/secrets.key, creating it on first start. 0 or -errno (logged). */
int secrets_init(const char *data_dir);

/* What space_config_set checks of one entry before it looks at a space: the key
 * (an environment name podium does not set itself), the value (1 byte to
 * CONFIG_VALUE_MAX), the description. 0, -EINVAL (err says why) or -EIO (no key
 * file for secrets). */
int space_config_check(int secret, const char *key, const char *value, const char *description,
    char *err, size_t errlen);
/* Creates or replaces key. 0, -EINVAL (err says why), -EEXIST (the key is a
 * variable and this a secret, or the other way round), -EIO. */
int space_config_set(podium *p, space *s, int secret, const char *key, const char *value,
    const char *description, char *err, size_t errlen);
/* 0, -EINVAL (bad key), -ENOENT (no such key), -EIO. */
int space_config_delete(podium *p, space *s, int secret, const char *key, char *err, size_t errlen);
/* Variables: {KEY: {"value","description","updatedAt"}}; secrets: the same
 * without "value". New reference. */
json_t *space_config_json(podium *p, const space *s, int secret);
/* The space's environment: env gets "KEY=VALUE" for variables then secrets, mask
 * the secret values; both NULL-terminated, freed with config_strv_free (which
 * wipes them). A secret that cannot be opened is left out (logged). */
void space_config_env(podium *p, const space *s, char ***env, char ***mask);
/* The same, variables and secrets apart (a Dockerfile's build args and build
 * secrets). */
void space_config_env_split(podium *p, const space *s, char ***vars, char ***secrets);
void config_strv_free(char **v);

#endif
