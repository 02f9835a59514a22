/*
 * seccomp_gen: run at build time.  Compiles the policy in sandbox/seccomp.c
 * with libseccomp and prints the BPF program as a C array, so the launcher
 * never compiles the filter at run time (compiling took ~3 ms per box,
 * half of the startup).  libseccomp stays the one source of the policy: the
 * array is byte for byte what seccomp_export_bpf() wrote.
 *
 * usage: seccomp_gen > seccomp_bpf.c
 *        seccomp_gen --hex   (one instruction per line, for the tests)
 */
#include <errno.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox/sandbox.h"

int
main(int argc, char **argv)
{
	struct sock_filter *prog;
	struct stat st;
	size_t i, n;
	int fd, rc;

	fd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
	if (fd < 0) {
		perror("seccomp_gen: memfd_create");
		return 1;
	}
	if ((rc = sandbox_seccomp_export(fd)) != 0) {
		fprintf(stderr, "seccomp_gen: seccomp_export_bpf: %s\n", strerror(-rc));
		return 1;
	}
	if (fstat(fd, &st) != 0 || st.st_size <= 0 || st.st_size % (off_t)sizeof(*prog) != 0 ||
	    st.st_size / (off_t)sizeof(*prog) > 0xffff) {
		fprintf(
		    stderr, "seccomp_gen: unexpected program size %lld\n", (long long)st.st_size);
		return 1;
	}
	n = (size_t)st.st_size / sizeof(*prog);
	prog = malloc((size_t)st.st_size);
	if (prog == NULL || pread(fd, prog, (size_t)st.st_size, 0) != st.st_size) {
		perror("seccomp_gen: read back");
		return 1;
	}

	if (argc > 1 && strcmp(argv[1], "--hex") == 0) {
		for (i = 0; i < n; i++)
			printf("%04x %02x %02x %08x\n", prog[i].code, prog[i].jt, prog[i].jf,
			    prog[i].k);
		free(prog);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	printf(
	    "/* Generated at build time by sandbox/gen/seccomp_gen.c from the policy in\n"
	    " * sandbox/seccomp.c (libseccomp %u.%u.%u).  Do not edit. */\n"
	    "#include <linux/filter.h>\n#include <stddef.h>\n\n#include \"sandbox/sandbox.h\"\n\n"
	    "const struct sock_filter sandbox_seccomp_bpf[] = {\n",
	    seccomp_version()->major, seccomp_version()->minor, seccomp_version()->micro);
	for (i = 0; i < n; i++)
		printf("  { 0x%04x, %u, %u, 0x%08x },\n", prog[i].code, prog[i].jt, prog[i].jf,
		    prog[i].k);
	printf("};\nconst size_t sandbox_seccomp_bpf_len = %zu;\n", n);
	free(prog);
	close(fd);
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}
