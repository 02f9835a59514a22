/*
 * seccomp_oci: run at build time.  Prints podium's seccomp policy
 * (sandbox/seccomp.c) as an OCI seccomp profile (runtime-spec's
 * linux.seccomp JSON), the one podium passes to a Dockerfile build's RUN
 * steps (buildah --security-opt seccomp=FILE), so they refuse what podium's
 * own boxes refuse.
 *
 * The policy is not restated: this program is linked with
 * -Wl,--wrap=seccomp_rule_add, so running sandbox_seccomp_export() passes
 * every rule the policy adds through __wrap_seccomp_rule_add below, which
 * records it (name, action, argument checks) and hands it on to libseccomp.
 * Actions: allow stays allow; a "violation" (a user notification, which a RUN
 * step has no supervisor for) and the default become EPERM; an errno stays
 * that errno.  Only the native architecture is listed: others are killed.
 *
 * usage: seccomp_oci > podium-seccomp.json
 */
#include <errno.h>
#include <jansson.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sandbox/sandbox.h"

int __real_seccomp_rule_add(
    scmp_filter_ctx ctx, uint32_t action, int syscall, unsigned arg_cnt, ...);
int __wrap_seccomp_rule_add(
    scmp_filter_ctx ctx, uint32_t action, int syscall, unsigned arg_cnt, ...);

static json_t *rules;

static const char *
op_name(enum scmp_compare op)
{
	switch (op) {
	case SCMP_CMP_NE:
		return "SCMP_CMP_NE";
	case SCMP_CMP_LT:
		return "SCMP_CMP_LT";
	case SCMP_CMP_LE:
		return "SCMP_CMP_LE";
	case SCMP_CMP_EQ:
		return "SCMP_CMP_EQ";
	case SCMP_CMP_GE:
		return "SCMP_CMP_GE";
	case SCMP_CMP_GT:
		return "SCMP_CMP_GT";
	case SCMP_CMP_MASKED_EQ:
		return "SCMP_CMP_MASKED_EQ";
	default:
		return NULL;
	}
}

/* One rule as the profile's syscalls[] entry, or NULL when it cannot be said. */
static json_t *
rule_json(uint32_t action, int syscall, unsigned n, const struct scmp_arg_cmp *args)
{
	char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, syscall);
	json_t *r, *a = json_array();
	unsigned i;

	if (name == NULL)
		return NULL;
	r = json_pack("{s:[s], s:s}", "names", name, "action",
	    action == SCMP_ACT_ALLOW ? "SCMP_ACT_ALLOW" : "SCMP_ACT_ERRNO");
	free(name);
	if ((action & 0xffff0000U) == SCMP_ACT_ERRNO(0))
		json_object_set_new(r, "errnoRet", json_integer(action & 0xffff));
	else if (action != SCMP_ACT_ALLOW)
		json_object_set_new(r, "errnoRet", json_integer(EPERM));
	for (i = 0; i < n; i++) {
		if (op_name(args[i].op) == NULL)
			return NULL;
		json_array_append_new(a,
		    json_pack("{s:i, s:I, s:I, s:s}", "index", (int)args[i].arg, "value",
		        (json_int_t)args[i].datum_a, "valueTwo", (json_int_t)args[i].datum_b, "op",
		        op_name(args[i].op)));
	}
	if (n > 0)
		json_object_set(r, "args", a);
	json_decref(a);
	return r;
}

int
__wrap_seccomp_rule_add(scmp_filter_ctx ctx, uint32_t action, int syscall, unsigned arg_cnt, ...)
{
	struct scmp_arg_cmp args[6];
	va_list ap;
	unsigned i;
	json_t *r;

	if (arg_cnt > 6)
		return -EINVAL;
	va_start(ap, arg_cnt);
	for (i = 0; i < arg_cnt; i++)
		args[i] = va_arg(ap, struct scmp_arg_cmp);
	va_end(ap);
	if ((r = rule_json(action, syscall, arg_cnt, args)) == NULL)
		return -EINVAL;
	json_array_append_new(rules, r);
	return seccomp_rule_add_array(ctx, action, syscall, arg_cnt, args);
}

int
main(void)
{
	uint32_t arch = seccomp_arch_native();
	json_t *profile;
	int fd, rc;

	if (arch != SCMP_ARCH_X86_64 && arch != SCMP_ARCH_AARCH64) {
		fprintf(stderr, "seccomp_oci: no OCI name for this architecture\n");
		return 1;
	}
	rules = json_array();
	fd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
	if (fd < 0 || (rc = sandbox_seccomp_export(fd)) != 0) {
		fprintf(stderr, "seccomp_oci: the policy: %s\n", strerror(fd < 0 ? errno : -rc));
		return 1;
	}
	close(fd);
	profile = json_pack("{s:s, s:i, s:[s], s:O}", "defaultAction", "SCMP_ACT_ERRNO",
	    "defaultErrnoRet", EPERM, "architectures",
	    arch == SCMP_ARCH_X86_64 ? "SCMP_ARCH_X86_64" : "SCMP_ARCH_AARCH64", "syscalls", rules);
	if (profile == NULL ||
	    json_dumpf(profile, stdout, JSON_INDENT(1) | JSON_PRESERVE_ORDER) != 0)
		return 1;
	json_decref(profile);
	json_decref(rules);
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}
