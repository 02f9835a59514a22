/*
 * podium-sandbox: command line.  Parsing only; the work is in launcher.c.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sandbox/sandbox.h"

static const char usage_text[] =
    "usage: podium-sandbox [OPTIONS] -- COMMAND [ARG...]\n"
    "\n"
    "Run COMMAND in a fresh set of namespaces (user, pid, mount, network, uts,\n"
    "ipc, cgroup) on a tmpfs root with read-only /usr, no capabilities,\n"
    "no_new_privs and a seccomp filter.\n"
    "\n"
    "Filesystem:\n"
    "  --ro-bind SRC DST    bind host path SRC read-only at DST\n"
    "  --bind SRC DST       bind host path SRC read-write at DST\n"
    "  --overlay SRC DST    DST shows SRC, writable; writes go to a tmpfs that is\n"
    "                       discarded on exit (SRC is never modified)\n"
    "  --tmpfs DST          empty writable tmpfs at DST\n"
    "  --chdir DIR          working directory (default: HOME=/home/user)\n"
    "  --rootfs DIR[:DIR...]\n"
    "                       the root is an image's layers (top first) under a\n"
    "                       writable tmpfs, instead of a tmpfs with the host's /usr\n"
    "                       (needs root, --rootfs-ids and --id-range; Linux 5.19)\n"
    "  --rootfs-ids N       the layers' files are owned by host ids N.. (N + k is\n"
    "                       the image's id k); they are shown idmapped, never chowned\n"
    "Identity and environment:\n"
    "  --env NAME=VALUE     add to the environment (starts with only PATH, HOME)\n"
    "  --env-fd N           more NAME=VALUE entries, each ended by a NUL byte, read\n"
    "                       from descriptor N to its end, which is then closed: for\n"
    "                       values that must not show in any process's arguments\n"
    "                       (/proc/PID/cmdline is world-readable)\n"
    "  --uid N, --gid N     ids inside the sandbox (default 1000)\n"
    "  --host-uid N, --host-gid N\n"
    "                       host ids the inside ids map to when run as root\n"
    "                       (default: same number); unprivileged: the caller's\n"
    "  --id-range N         also map the other inside ids 0..65535 to host N.. (root)\n"
    "  --hostname NAME      hostname inside (default: sandbox)\n"
    "Network:\n"
    "  --net none|host      none (default): own namespace with only lo up\n"
    "  --net veth:BRIDGE,GATEWAY/PREFIX\n"
    "                       own namespace with eth0, a veth whose host end is\n"
    "                       enslaved to BRIDGE, a free address of GATEWAY/PREFIX\n"
    "                       and a default route via GATEWAY (needs root)\n"
    "Limits:\n"
    "  --memory BYTES       cgroup memory limit (OOM kills are reported)\n"
    "  --pids N             cgroup pids limit\n"
    "  --cpus FRACTION      cgroup cpu quota, e.g. 0.5\n"
    "  --nofile N           RLIMIT_NOFILE\n"
    "  --fsize BYTES        RLIMIT_FSIZE\n"
    "  --tmpfs-size BYTES   size of each writable tmpfs: /tmp, /dev/shm, --tmpfs,\n"
    "                       the writes of an --overlay (ENOSPC past it)\n"
    "  --timeout SECONDS    wall-clock limit; the box is killed (exit 137)\n"
    "  --seccomp default|off\n"
    "Engine:\n"
    "  --engine-userns N    not a box: run COMMAND (a container engine) as root of\n"
    "                       a user namespace whose ids 0..65535 are host N.., on\n"
    "                       the host's tree less its loop-device mounts, with\n"
    "                       --tmpfs/--bind/--ro-bind applied in order (as root,\n"
    "                       before the namespace), its own\n"
    "                       pid/mount/uts/ipc namespaces, --net, the limits and\n"
    "                       the timeout, no seccomp filter (root)\n"
    "Reporting:\n"
    "  --status-fd N        write one JSON object on exit: exit_code, signal,\n"
    "                       oom_killed, timed_out, cpu_ms, max_rss_kb and\n"
    "                       seccomp_syscall after a seccomp violation\n"
    "  --info-fd N          once the box runs write one JSON line: {\"pid\": HOSTPID}\n"
    "                       (/proc/HOSTPID/ns/net is the sandbox's netns), with\n"
    "                       \"cgroup_version\" and \"cgroups\" (its directories)\n"
    "                       when limits put it in cgroups\n"
    "  --die-with-parent    always on (accepted for compatibility)\n"
    "  --help               this text\n"
    "\n"
    "Exit status: the command's; 128+N when killed by signal N; 125 setup\n"
    "failed (the failing step is named on stderr); 126 not executable;\n"
    "127 not found.  SIGTERM/SIGINT/SIGHUP/SIGQUIT/SIGUSR1/SIGUSR2 sent to the\n"
    "launcher are forwarded to the command.\n";

static int
parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || *s == '\0' || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -EINVAL;
	*out = v;
	return 0;
}

static int
parse_id(const char *s, unsigned *out)
{
	uint64_t v;

	if (parse_u64(s, &v) != 0 || v >= UINT32_MAX)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

static int
parse_double(const char *s, double *out)
{
	char *end;

	if (s == NULL || *s == '\0')
		return -EINVAL;
	errno = 0;
	*out = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !(*out >= 0))
		return -EINVAL;
	return 0;
}

static int
parse_fd(const char *s, int *out)
{
	uint64_t v;

	if (parse_u64(s, &v) != 0 || v > INT_MAX)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

void
sandbox_config_init(struct sandbox_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->uid = 1000;
	cfg->gid = 1000;
	cfg->hostname = "sandbox";
	cfg->net = SANDBOX_NET_NONE;
	cfg->seccomp = true;
	cfg->status_fd = -1;
	cfg->info_fd = -1;
}

void
sandbox_config_release(struct sandbox_config *cfg)
{
	free(cfg->mounts);
	free(cfg->env);
	free(cfg->env_buf);
	cfg->mounts = NULL;
	cfg->env = NULL;
	cfg->env_buf = NULL;
}

static int
add_mount(
    struct sandbox_config *cfg, enum sandbox_mount_kind kind, const char *src, const char *dst)
{
	struct sandbox_mount *m;

	if (dst[0] != '/')
		return -EINVAL;
	m = realloc(cfg->mounts, (cfg->nmounts + 1) * sizeof(*m));
	if (m == NULL)
		return -ENOMEM;
	cfg->mounts = m;
	m[cfg->nmounts++] = (struct sandbox_mount){ kind, src, dst };
	return 0;
}

static int
add_env(struct sandbox_config *cfg, char *kv)
{
	char **e;
	const char *eq = strchr(kv, '=');
	size_t namelen, i;

	if (eq == NULL || eq == kv)
		return -EINVAL;
	namelen = (size_t)(eq - kv) + 1;
	/* A later --env of the same name wins, like env(1). */
	for (i = 0; i < cfg->nenv; i++) {
		if (strncmp(cfg->env[i], kv, namelen) == 0) {
			cfg->env[i] = kv;
			return 0;
		}
	}
	e = realloc(cfg->env, (cfg->nenv + 2) * sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	cfg->env = e;
	e[cfg->nenv++] = kv;
	e[cfg->nenv] = NULL;
	return 0;
}

/* --env-fd: NAME=VALUE entries, each ended by a NUL, from fd to its end. The
 * buffer stays with cfg (the entries point into it). */
static int
add_env_fd(struct sandbox_config *cfg, int fd)
{
	size_t len = 0, cap = 0;
	char *buf = NULL, *p;
	ssize_t n;
	int err = 0;

	if (cfg->env_buf != NULL) {
		err = -EALREADY;
		goto done;
	}
	for (;;) {
		if (cap - len < 4096) {
			if (cap >= SANDBOX_ENV_MAX) {
				err = -E2BIG;
				goto done;
			}
			cap = cap != 0 ? 2 * cap : 65536;
			if ((p = realloc(buf, cap + 1)) == NULL) {
				err = -ENOMEM;
				goto done;
			}
			buf = p;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto done;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > 0 && buf[len - 1] != '\0') {
		err = -EINVAL; /* the last entry was cut off */
		goto done;
	}
	for (p = buf; p < buf + len; p += strlen(p) + 1)
		if ((err = add_env(cfg, p)) != 0)
			goto done;
	cfg->env_buf = buf;
	buf = NULL;
done:
	free(buf);
	close(fd);
	return err;
}

static int
bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "podium-sandbox: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\ntry 'podium-sandbox --help'\n");
	return SANDBOX_EXIT_SETUP;
}

int
main(int argc, char **argv)
{
	static char path_env[] = "PATH=/usr/local/bin:/usr/bin:/bin";
	static char home_env[] = "HOME=/home/user";
	struct sandbox_config cfg;
	int i, rc = SANDBOX_EXIT_SETUP;

	sandbox_config_init(&cfg);
	if (add_env(&cfg, path_env) != 0 || add_env(&cfg, home_env) != 0)
		goto done;

	for (i = 1; i < argc; i++) {
		const char *opt = argv[i];
		const char *a1 = i + 1 < argc ? argv[i + 1] : NULL;
		const char *a2 = i + 2 < argc ? argv[i + 2] : NULL;
		int err = 0;

		if (strcmp(opt, "--") == 0) {
			i++;
			break;
		}
		if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0) {
			fputs(usage_text, stdout);
			rc = 0;
			goto done;
		}
		if (strcmp(opt, "--die-with-parent") == 0)
			continue;
		if (strncmp(opt, "--", 2) != 0) /* first non-option starts the command */
			break;

		if (strcmp(opt, "--ro-bind") == 0 || strcmp(opt, "--bind") == 0 ||
		    strcmp(opt, "--overlay") == 0) {
			enum sandbox_mount_kind k = opt[2] == 'r' ? SANDBOX_MOUNT_RO_BIND
			    : opt[2] == 'b'                       ? SANDBOX_MOUNT_BIND
			                                          : SANDBOX_MOUNT_OVERLAY;
			if (a2 == NULL) {
				rc = bad_usage("%s needs SRC and DST", opt);
				goto done;
			}
			err = add_mount(&cfg, k, a1, a2);
			i += 2;
			if (err != 0) {
				rc = bad_usage("%s: destination must be an absolute path", opt);
				goto done;
			}
			continue;
		}
		if (a1 == NULL) {
			rc = bad_usage("%s needs an argument (or is unknown)", opt);
			goto done;
		}
		i++;
		if (strcmp(opt, "--tmpfs") == 0)
			err = add_mount(&cfg, SANDBOX_MOUNT_TMPFS, NULL, a1);
		else if (strcmp(opt, "--chdir") == 0)
			cfg.chdir = a1;
		else if (strcmp(opt, "--env") == 0 || strcmp(opt, "--setenv") == 0)
			err = add_env(&cfg, argv[i]);
		else if (strcmp(opt, "--env-fd") == 0) {
			int fd;

			if ((err = parse_fd(a1, &fd)) == 0 && (err = add_env_fd(&cfg, fd)) != 0) {
				fprintf(stderr, "podium-sandbox: --env-fd %s: %s\n", a1,
				    err == -EINVAL ? "not NAME=VALUE entries each ended by a NUL byte"
				    : err == -EALREADY ? "given twice" : strerror(-err));
				goto done;
			}
		}
		else if (strcmp(opt, "--uid") == 0)
			err = parse_id(a1, &cfg.uid);
		else if (strcmp(opt, "--gid") == 0)
			err = parse_id(a1, &cfg.gid);
		else if (strcmp(opt, "--host-uid") == 0) {
			err = parse_id(a1, &cfg.host_uid);
			cfg.host_uid_set = true;
		} else if (strcmp(opt, "--host-gid") == 0) {
			err = parse_id(a1, &cfg.host_gid);
			cfg.host_gid_set = true;
		} else if (strcmp(opt, "--hostname") == 0)
			cfg.hostname = a1;
		else if (strcmp(opt, "--net") == 0) {
			if (strcmp(a1, "none") == 0)
				cfg.net = SANDBOX_NET_NONE;
			else if (strcmp(a1, "host") == 0)
				cfg.net = SANDBOX_NET_HOST;
			else if (strncmp(a1, "veth:", 5) == 0)
				err = sandbox_net_veth_parse(a1 + 5, &cfg);
			else
				err = -EINVAL;
		} else if (strcmp(opt, "--memory") == 0)
			err = parse_u64(a1, &cfg.memory);
		else if (strcmp(opt, "--pids") == 0)
			err = parse_u64(a1, &cfg.pids);
		else if (strcmp(opt, "--cpus") == 0)
			err = parse_double(a1, &cfg.cpus);
		else if (strcmp(opt, "--nofile") == 0)
			err = parse_u64(a1, &cfg.nofile);
		else if (strcmp(opt, "--tmpfs-size") == 0)
			err = parse_u64(a1, &cfg.tmpfs_size);
		else if (strcmp(opt, "--fsize") == 0) {
			err = parse_u64(a1, &cfg.fsize);
			cfg.fsize_set = true;
		} else if (strcmp(opt, "--timeout") == 0)
			err = parse_double(a1, &cfg.timeout);
		else if (strcmp(opt, "--seccomp") == 0) {
			if (strcmp(a1, "default") == 0)
				cfg.seccomp = true;
			else if (strcmp(a1, "off") == 0)
				cfg.seccomp = false;
			else
				err = -EINVAL;
		} else if (strcmp(opt, "--status-fd") == 0)
			err = parse_fd(a1, &cfg.status_fd);
		else if (strcmp(opt, "--info-fd") == 0)
			err = parse_fd(a1, &cfg.info_fd);
		else if (strcmp(opt, "--rootfs") == 0) {
			cfg.rootfs = a1;
			err = a1[0] == '/' ? 0 : -EINVAL;
		} else if (strcmp(opt, "--rootfs-ids") == 0)
			err = parse_id(a1, &cfg.rootfs_ids);
		else if (strcmp(opt, "--id-range") == 0) {
			err = parse_id(a1, &cfg.id_range);
			cfg.id_range_set = true;
		} else if (strcmp(opt, "--engine-userns") == 0) {
			err = parse_id(a1, &cfg.engine_userns);
			cfg.engine = true;
		} else {
			rc = bad_usage("unknown option %s", opt);
			goto done;
		}
		if (err != 0) {
			fprintf(stderr, "podium-sandbox: %s: invalid value '%s'\n", opt, a1);
			goto done;
		}
	}

	if (i >= argc) {
		rc = bad_usage("%s", "no command given");
		goto done;
	}
	if (cfg.rootfs != NULL && (!cfg.id_range_set || cfg.rootfs_ids == 0 || cfg.engine)) {
		rc = bad_usage("%s", "--rootfs needs --rootfs-ids and --id-range, and no engine");
		goto done;
	}
	cfg.argv = &argv[i];
	if (!cfg.host_uid_set)
		cfg.host_uid = cfg.uid;
	if (!cfg.host_gid_set)
		cfg.host_gid = cfg.gid;

	rc = sandbox_run(&cfg);

done:
	sandbox_config_release(&cfg);
	return rc;
}
