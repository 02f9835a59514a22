/*
 * bench PODIUM_SANDBOX [FLOOR]: median wall time of starting /bin/true
 * plainly, under podium-sandbox (with and without cgroup limits) and under
 * bwrap with equivalent read-only binds.  With FLOOR (tests/sandbox/probes/
 * floor.c) also the two floors any launcher sits on: its own exec plus the
 * command's, and that plus the kernel's namespace creation.  A benchmark,
 * not a test.
 */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define RUNS 101

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median_ms(char *const argv[])
{
  double t[RUNS];
  int i, st;

  for (i = 0; i < RUNS; i++) {
    pid_t pid;
    double t0 = now();
    if (posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) != 0) {
      perror(argv[0]);
      exit(1);
    }
    waitpid(pid, &st, 0);
    t[i] = (now() - t0) * 1000;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
      fprintf(stderr, "bench: %s failed (status %d)\n", argv[0], st);
      exit(1);
    }
  }
  qsort(t, RUNS, sizeof(t[0]), cmp);
  return t[RUNS / 2];
}

int main(int argc, char **argv)
{
  char *sb = argc > 1 ? argv[1] : "build/podium-sandbox";
  char *fl = argc > 2 ? argv[2] : NULL;
  char *fl_exec[] = { fl, "exec", "/bin/true", NULL };
  char *fl_ns[] = { fl, "ns", "/bin/true", NULL };
  char *plain[] = { "/bin/true", NULL };
  char *pod[] = { sb, "--", "/bin/true", NULL };
  char *pod_cg[] = { sb, "--memory", "268435456", "--pids", "64", "--cpus", "1", "--", "/bin/true", NULL };
  char *bwrap[] = { "/usr/bin/bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", "/usr", "/usr",
                    "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib",
                    "--symlink", "usr/lib64", "/lib64", "--symlink", "usr/sbin", "/sbin",
                    "--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache",
                    "--ro-bind", "/etc/nsswitch.conf", "/etc/nsswitch.conf",
                    "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/home/user",
                    "--", "/bin/true", NULL };
  double p, s, c, b, fe = 0, fn = 0;

  median_ms(pod); /* warm caches */
  p = median_ms(plain);
  s = median_ms(pod);
  b = median_ms(bwrap);
  c = median_ms(pod_cg);
  if (fl != NULL) {
    fe = median_ms(fl_exec);
    fn = median_ms(fl_ns);
  }
  printf("median of %d runs of /bin/true:\n", RUNS);
  printf("  plain spawn                 %7.3f ms\n", p);
  printf("  podium-sandbox              %7.3f ms  (%.2fx plain)\n", s, s / p);
  printf("  podium-sandbox + cgroups    %7.3f ms  (%.2fx plain)\n", c, c / p);
  printf("  bwrap --unshare-all         %7.3f ms\n", b);
  printf("  podium-sandbox / bwrap      %7.2fx  (target <= 0.8x)\n", s / b);
  if (fl != NULL) {
    printf("floors (a launcher that does nothing but what is named):\n");
    printf("  exec launcher + exec command %7.3f ms  (%.2fx plain)\n", fe, fe / p);
    printf("  + all 7 namespaces, fork    %7.3f ms  (%.2fx plain)\n", fn, fn / p);
    printf("  podium-sandbox over that    %7.3f ms  (filesystem, seccomp, privileges, sync)\n", s - fn);
  }
  return 0;
}
