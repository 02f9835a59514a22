/* usercmd.c — `podium user ...`: users and tokens in the data dir's store
 * (--store, config.yaml's store:, else DIR/podium.db), also while the daemon
 * runs (sqlite's WAL, PostgreSQL's MVCC; the daemon sees the change within a
 * second: store_data_version, web/session.c auth_watch_start). */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "orchestrator/store/store.h"
#include "orchestrator/store/accounts.h"
#include "cmd/usercmd.h"
#include "common/config.h"
#include "common/util.h"

#define PASSWORD_MAX 1024

static void
user_usage(FILE *f)
{
	fputs("usage: podium user add NAME [--admin] --password-stdin [--data DIR]\n"
	    "       podium user passwd NAME --password-stdin [--data DIR]\n"
	    "       podium user token NAME [--role read|write] [--name LABEL] [--data DIR]\n"
	    "       podium user list [--data DIR]\n"
	    "       podium user disable NAME [--data DIR]\n"
	    "       podium user enable NAME [--data DIR]\n"
	    "\n"
	    "The store is the data dir's (config.yaml's store:, else DIR/podium.db), or\n"
	    "--store ADDRESS (postgres://... or sqlite:PATH) as podium serve takes it.\n"
	    "Passwords are read from standard input (one line) and stored as argon2id hashes.\n"
	    "A token is printed once; read tokens can clone and read, not push or change.\n", f);
}

/* A user name is also the owner part of app hosts (OWNER-NAME.DOMAIN). */
static int
user_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 39 || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

/* One line from stdin, hashed; the clear text is wiped. */
static int
read_password_hash(char hash[crypto_pwhash_STRBYTES])
{
	char pw[PASSWORD_MAX + 2];
	size_t n;
	int r = 0;

	if (fgets(pw, sizeof(pw), stdin) == NULL) {
		fprintf(stderr, "podium: no password on standard input\n");
		return -EINVAL;
	}
	n = strcspn(pw, "\r\n");
	if (n == PASSWORD_MAX + 1 || (pw[n] == '\0' && n > PASSWORD_MAX)) {
		fprintf(stderr, "podium: password longer than %d bytes\n", PASSWORD_MAX);
		r = -EINVAL;
	} else if (n < 8) {
		fprintf(stderr, "podium: password shorter than 8 characters\n");
		r = -EINVAL;
	} else {
		pw[n] = '\0';
		if (crypto_pwhash_str(hash, pw, n, crypto_pwhash_OPSLIMIT_INTERACTIVE,
		    crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
			fprintf(stderr, "podium: out of memory hashing the password\n");
			r = -ENOMEM;
		}
	}
	sodium_memzero(pw, sizeof(pw));
	return r;
}

static void
list_one(const user_row *u, void *arg)
{
	char when[32];
	time_t t = (time_t)u->created;

	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	printf("%-24s %-6s %-9s %s%s\n", u->name, u->admin ? "admin" : "user",
	    u->disabled ? "disabled" : "active", when, u->has_password ? "" : "  (no password)");
}

static int
cmd_run(store *st, const char *cmd, const char *name, int admin, int pwstdin, int write,
    const char *label)
{
	char hash[crypto_pwhash_STRBYTES], token[256];
	user_row u;
	int r;

	if (strcmp(cmd, "list") == 0) {
		printf("%-24s %-6s %-9s %s\n", "NAME", "ROLE", "STATE", "CREATED");
		return store_users_list(st, list_one, NULL);
	}
	if (name == NULL) {
		fprintf(stderr, "podium: user %s needs a NAME\n", cmd);
		return -EINVAL;
	}
	if (strcmp(cmd, "add") == 0) {
		if (!user_name_valid(name)) {
			fprintf(stderr, "podium: invalid user name \"%s\": use 1-39 of a-z 0-9 -, "
			    "not starting or ending with -\n", name);
			return -EINVAL;
		}
		if (!pwstdin) {
			fprintf(stderr, "podium: user add needs --password-stdin\n");
			return -EINVAL;
		}
		if ((r = read_password_hash(hash)) != 0)
			return r;
		r = store_user_add(st, name, admin, hash, NULL);
		if (r == -EEXIST)
			fprintf(stderr, "podium: user %s exists\n", name);
		else if (r == 0)
			printf("added %s %s\n", admin ? "admin" : "user", name);
		return r;
	}
	if ((r = store_user_get(st, name, &u)) != 0) {
		fprintf(stderr, "podium: no user %s\n", name);
		return r;
	}
	if (strcmp(cmd, "passwd") == 0) {
		if (!pwstdin) {
			fprintf(stderr, "podium: user passwd needs --password-stdin\n");
			return -EINVAL;
		}
		if ((r = read_password_hash(hash)) != 0)
			return r;
		r = store_user_set_password(st, name, hash);
	} else if (strcmp(cmd, "token") == 0) {
		r = accounts_token_create(st, u.id, write, label, token, sizeof(token));
		if (r == 0)
			printf("%s\n", token);
		sodium_memzero(token, sizeof(token));
	} else if (strcmp(cmd, "disable") == 0 || strcmp(cmd, "enable") == 0) {
		r = store_user_set_disabled(st, name, cmd[0] == 'd');
		if (r == 0)
			printf("%s %sd\n", name, cmd);
	} else {
		fprintf(stderr, "podium: unknown user command \"%s\"\n", cmd);
		user_usage(stderr);
		return -EINVAL;
	}
	return r;
}

int
cmd_store_of(const char *data, const char *url, store **st)
{
	char *path = xasprintf("%s/config.yaml", data), *where = NULL, err[512];
	config *cfg = NULL;
	int r;

	*st = NULL;
	if ((r = config_load(path, &cfg, err, sizeof(err))) == 0)
		r = store_locate(data, url, cfg, &where, err, sizeof(err));
	if (r != 0)
		fprintf(stderr, "podium: %s\n", err);
	else if ((r = store_open(where, st)) != 0)
		fprintf(stderr, "podium: cannot open the store of %s\n", url != NULL ? "--store" : data);
	config_free(cfg);
	free(where);
	free(path);
	return r;
}

int
usercmd_main(int argc, char **argv)
{
	const char *data = "./var", *cmd, *name = NULL, *label = NULL, *url = NULL;
	int admin = 0, pwstdin = 0, write = 1, r;
	store *st;

	if (argc < 3 || strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0) {
		user_usage(argc < 3 ? stderr : stdout);
		return argc < 3 ? 2 : 0;
	}
	cmd = argv[2];
	for (int i = 3; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--admin") == 0) {
			admin = 1;
		} else if (strcmp(a, "--password-stdin") == 0) {
			pwstdin = 1;
		} else if (strcmp(a, "--data") == 0 || strcmp(a, "--role") == 0 ||
		    strcmp(a, "--name") == 0 || strcmp(a, "--store") == 0) {
			if (v == NULL) {
				fprintf(stderr, "podium: %s needs a value\n", a);
				return 2;
			}
			if (a[2] == 'd')
				data = v;
			else if (a[2] == 's')
				url = v;
			else if (a[2] == 'n')
				label = v;
			else if (strcmp(v, "read") == 0 || strcmp(v, "write") == 0)
				write = v[0] == 'w';
			else {
				fprintf(stderr, "podium: --role wants read or write, got \"%s\"\n", v);
				return 2;
			}
			i++;
		} else if (a[0] != '-' && name == NULL) {
			name = a;
		} else {
			fprintf(stderr, "podium: unexpected argument \"%s\"\n", a);
			user_usage(stderr);
			return 2;
		}
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "podium: cannot initialize libsodium\n");
		return 1;
	}
	if (cmd_store_of(data, url, &st) != 0)
		return 1;
	r = cmd_run(st, cmd, name, admin, pwstdin, write, label);
	store_close(st);
	return r == 0 ? 0 : r == -EINVAL ? 2 : 1;
}
