/*
 * seccomp_dump PID: print, in hex, the first seccomp filter of process PID
 * as the kernel holds it (PTRACE_SECCOMP_GET_FILTER; needs root on the
 * host).  Runs on the host, not in the box: the test compares it with what
 * libseccomp compiles from the policy today.
 */
#include <errno.h>
#include <linux/filter.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#ifndef PTRACE_SECCOMP_GET_FILTER
#define PTRACE_SECCOMP_GET_FILTER 0x420c
#endif

int main(int argc, char **argv)
{
  struct sock_filter prog[4096];
  pid_t pid = argc > 1 ? (pid_t)atoi(argv[1]) : 0;
  long i, n;
  int st;

  if (pid <= 0 || ptrace(PTRACE_ATTACH, pid, NULL, NULL) != 0 || waitpid(pid, &st, __WALL) != pid) {
    perror("seccomp_dump: attach");
    return 1;
  }
  /* Filter 0 is the most recently installed one; a box has exactly one. */
  n = ptrace(PTRACE_SECCOMP_GET_FILTER, pid, (void *)0, NULL);
  if (n <= 0 || n > 4096 || ptrace(PTRACE_SECCOMP_GET_FILTER, pid, (void *)0, prog) != n) {
    perror("seccomp_dump: PTRACE_SECCOMP_GET_FILTER");
    return 1;
  }
  if (ptrace(PTRACE_SECCOMP_GET_FILTER, pid, (void *)1, NULL) != -1 || errno != ENOENT) {
    fprintf(stderr, "seccomp_dump: more than one filter\n");
    return 1;
  }
  ptrace(PTRACE_DETACH, pid, NULL, NULL);
  for (i = 0; i < n; i++)
    printf("%04x %02x %02x %08x\n", prog[i].code, prog[i].jt, prog[i].jf, prog[i].k);
  return 0;
}
