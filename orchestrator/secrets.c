/* secrets.c — variables and sealed secrets of a space; see secrets.h. */
#include "orchestrator/secrets.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "orchestrator/space_int.h"
#include "common/util.h"

#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES
#define KEY_LEN crypto_aead_xchacha20poly1305_ietf_KEYBYTES

static unsigned char secret_key[KEY_LEN];
static int have_key;

/* ---- the key file ---- */

static int
key_create(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	int r = 0;

	if (fd < 0)
		return -errno;
	randombytes_buf(secret_key, sizeof(secret_key));
	if (write(fd, secret_key, sizeof(secret_key)) != (ssize_t)sizeof(secret_key) || fsync(fd) != 0)
		r = errno != 0 ? -errno : -EIO;
	close(fd);
	if (r != 0)
		unlink(path);
	else
		log_info("secrets: created the key %s", path);
	return r;
}

int
secrets_init(const char *data_dir)
{
	char *path = xasprintf("%s/secrets.key", data_dir);
	struct stat st;
	int fd, r = 0;

	if (sodium_init() < 0) {
		free(path);
		return error("secrets: libsodium cannot initialise");
	}
	sodium_mlock(secret_key, sizeof(secret_key));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT) {
		r = key_create(path);
	} else if (fd < 0) {
		r = -errno;
	} else {
		/* Never replaced when unreadable: a new key would lose every secret. */
		if (fstat(fd, &st) != 0 || st.st_size != KEY_LEN ||
		    read(fd, secret_key, KEY_LEN) != KEY_LEN)
			r = -EINVAL;
		else if ((st.st_mode & 077) != 0)
			fchmod(fd, 0600);
		close(fd);
	}
	if (r != 0)
		error("secrets: key %s: %s (expected %d bytes, mode 0600)", path, strerror(-r), KEY_LEN);
	have_key = r == 0;
	free(path);
	return r;
}

/* ---- sealing ---- */

/* Binds a sealed value to its space and key: it cannot be moved to another. */
static char *
seal_ad(const space *s, const char *key)
{
	return xasprintf("podium-secret:%lld:%s", (long long)s->row.id, key);
}

static unsigned char *
seal(const space *s, const char *key, const char *value, size_t *out_len)
{
	size_t len = strlen(value);
	unsigned char *out = xmalloc(NONCE_LEN + len + TAG_LEN);
	unsigned long long clen;
	char *ad = seal_ad(s, key);

	randombytes_buf(out, NONCE_LEN);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + NONCE_LEN, &clen,
	    (const unsigned char *)value, len, (const unsigned char *)ad, strlen(ad), NULL, out,
	    secret_key);
	free(ad);
	*out_len = NONCE_LEN + (size_t)clen;
	return out;
}

/* The clear value (NUL-terminated, caller wipes and frees), or NULL. */
static char *
unseal(const space *s, const char *key, const unsigned char *in, size_t len)
{
	char *ad, *out;
	unsigned long long mlen;
	int r;

	if (!have_key || len < NONCE_LEN + TAG_LEN)
		return NULL;
	ad = seal_ad(s, key);
	out = xmalloc(len - NONCE_LEN - TAG_LEN + 1);
	r = crypto_aead_xchacha20poly1305_ietf_decrypt((unsigned char *)out, &mlen, NULL,
	    in + NONCE_LEN, len - NONCE_LEN, (const unsigned char *)ad, strlen(ad), in, secret_key);
	free(ad);
	if (r != 0) {
		free(out);
		return NULL;
	}
	out[mlen] = '\0';
	return out;
}

/* ---- validation ---- */

/* Names the platform sets itself, for the app or the build. */
static int
key_reserved(const char *key)
{
	static const char *const names[] = { "PORT", "PATH", "HOME", "SYSTEM", "LANG",
		"PYTHONUNBUFFERED", "GRADIO_SERVER_NAME", "GRADIO_SERVER_PORT", "CI", "PIP_NO_INPUT",
		"PIP_DISABLE_PIP_VERSION_CHECK", "npm_config_cache", "npm_config_update_notifier",
		NULL };

	if (strncmp(key, "SPACE_", 6) == 0)
		return 1;
	for (int i = 0; names[i] != NULL; i++)
		if (strcmp(names[i], key) == 0)
			return 1;
	return 0;
}

static int
key_check(const char *key, char *err, size_t errlen)
{
	size_t n = key != NULL ? strlen(key) : 0;

	if (n == 0 || n > 128 || strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_"
	    "0123456789") != n || (key[0] >= '0' && key[0] <= '9')) {
		snprintf(err, errlen, "invalid key \"%.128s\": an environment variable name, "
		    "[A-Za-z_][A-Za-z0-9_]*, at most 128 characters", key != NULL ? key : "");
		return -EINVAL;
	}
	if (key_reserved(key)) {
		snprintf(err, errlen, "key \"%s\" is set by podium itself (PORT, PATH, HOME, SPACE_*, ...)",
		    key);
		return -EINVAL;
	}
	return 0;
}

/* ---- the API's operations ---- */

int
space_config_check(int secret, const char *key, const char *value, const char *description,
    char *err, size_t errlen)
{
	const char *what = secret ? "secret" : "variable";
	size_t vlen = value != NULL ? strlen(value) : 0;
	int r;

	if ((r = key_check(key, err, errlen)) != 0)
		return r;
	if (vlen == 0) {
		snprintf(err, errlen, "the value of %s %s must not be empty", what, key);
		return -EINVAL;
	}
	if (vlen > CONFIG_VALUE_MAX) {
		snprintf(err, errlen, "the value of %s %s is %zu bytes: at most %d", what, key, vlen,
		    CONFIG_VALUE_MAX);
		return -EINVAL;
	}
	if (description != NULL && strlen(description) > CONFIG_DESC_MAX) {
		snprintf(err, errlen, "description longer than %d bytes", CONFIG_DESC_MAX);
		return -EINVAL;
	}
	if (secret && !have_key) {
		snprintf(err, errlen, "secrets are unavailable: the key file could not be read");
		return -EIO;
	}
	return 0;
}

int
space_config_set(podium *p, space *s, int secret, const char *key, const char *value,
    const char *description, char *err, size_t errlen)
{
	const char *what = secret ? "secret" : "variable";
	size_t vlen = value != NULL ? strlen(value) : 0, slen = vlen;
	unsigned char *sealed = NULL;
	int64_t total = 0;
	int r;

	if ((r = space_config_check(secret, key, value, description, err, errlen)) != 0)
		return r;
	store_config_bytes(p->store, s->row.id, &total);
	if (total + (int64_t)(strlen(key) + vlen) > CONFIG_SPACE_MAX) {
		snprintf(err, errlen, "variables and secrets of %s/%s would exceed %d bytes in total",
		    s->row.owner, s->row.name, CONFIG_SPACE_MAX);
		return -EINVAL;
	}
	if (secret)
		sealed = seal(s, key, value, &slen);
	r = store_config_set(p->store, s->row.id, secret, key, secret ? (const void *)sealed :
	    (const void *)value, slen, description);
	free(sealed);
	if (r == -EEXIST)
		snprintf(err, errlen, "%s is already a %s of %s/%s", key, secret ? "variable" : "secret",
		    s->row.owner, s->row.name);
	else if (r != 0)
		snprintf(err, errlen, "could not store the %s", what);
	if (r == 0) {
		log_info("space %s/%s: %s %s set", s->row.owner, s->row.name, what, key);
		space_redeploy(s);
	}
	return r;
}

int
space_config_delete(podium *p, space *s, int secret, const char *key, char *err, size_t errlen)
{
	int r = key != NULL && key[0] != '\0' ? 0 : -EINVAL;

	if (r != 0) {
		snprintf(err, errlen, "missing \"key\" (a string)");
		return r;
	}
	r = store_config_delete(p->store, s->row.id, secret, key);
	if (r == -ENOENT)
		snprintf(err, errlen, "no %s %.128s in %s/%s", secret ? "secret" : "variable", key,
		    s->row.owner, s->row.name);
	else if (r != 0)
		snprintf(err, errlen, "could not delete it");
	if (r == 0) {
		log_info("space %s/%s: %s %s deleted", s->row.owner, s->row.name,
		    secret ? "secret" : "variable", key);
		space_redeploy(s);
	}
	return r;
}

typedef struct json_ctx {
	json_t *obj;
	int secret;
} json_ctx;

static void
json_one(const config_row *r, void *arg)
{
	json_ctx *c = arg;
	char when[32];
	time_t t = (time_t)r->updated;
	struct tm tm;
	json_t *e;

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
	e = json_pack("{s:s?, s:s}", "description", r->description, "updatedAt", when);
	if (e == NULL)
		return;
	if (!c->secret)
		json_object_set_new(e, "value", json_stringn(r->value, r->value_len));
	json_object_set_new(c->obj, r->key, e);
}

json_t *
space_config_json(podium *p, const space *s, int secret)
{
	json_ctx c = { json_object(), secret };

	store_config_list(p->store, s->row.id, secret, json_one, &c);
	return c.obj;
}

/* ---- environment ---- */

typedef struct env_ctx {
	const space *s;
	int secret;
	char **env, **mask;
	size_t nenv, nmask;
} env_ctx;

static void
strv_add(char ***v, size_t *n, char *str)
{
	*v = xrealloc(*v, (*n + 2) * sizeof(char *));
	(*v)[(*n)++] = str;
	(*v)[*n] = NULL;
}

static void
env_one(const config_row *r, void *arg)
{
	env_ctx *c = arg;
	char *value;

	if (!c->secret) {
		strv_add(&c->env, &c->nenv, xasprintf("%s=%.*s", r->key, (int)r->value_len,
		    (const char *)r->value));
		return;
	}
	value = unseal(c->s, r->key, r->value, r->value_len);
	if (value == NULL) {
		log_warn("space %s/%s: secret %s cannot be opened with this key: left out",
		    c->s->row.owner, c->s->row.name, r->key);
		return;
	}
	strv_add(&c->env, &c->nenv, xasprintf("%s=%s", r->key, value));
	strv_add(&c->mask, &c->nmask, value);
}

void
space_config_env(podium *p, const space *s, char ***env, char ***mask)
{
	env_ctx c = { .s = s };

	store_config_list(p->store, s->row.id, 0, env_one, &c);
	c.secret = 1;
	store_config_list(p->store, s->row.id, 1, env_one, &c);
	*env = c.env;
	*mask = c.mask;
}

void
space_config_env_split(podium *p, const space *s, char ***vars, char ***secrets)
{
	env_ctx v = { .s = s }, c = { .s = s, .secret = 1 };

	store_config_list(p->store, s->row.id, 0, env_one, &v);
	store_config_list(p->store, s->row.id, 1, env_one, &c);
	*vars = v.env;
	*secrets = c.env;
	config_strv_free(c.mask);
}

void
config_strv_free(char **v)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++) {
		sodium_memzero(v[i], strlen(v[i]));
		free(v[i]);
	}
	free(v);
}
