/*
 * Escape probe: `probe ACTION [ARG]` attempts one thing a sandboxed app must
 * not be able to do.  Exit 0 means the action WORKED (an escape when run
 * inside the sandbox; the positive control when run outside), 1 means it
 * was refused, 2 is a usage error.  Being killed also means refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <linux/sched.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/fanotify.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REFUSED(what) do { fprintf(stderr, "probe: %s: %s\n", what, strerror(errno)); return 1; } while (0)

static const char *arg;

static pid_t sleeper(void)
{
  pid_t p = fork();
  if (p == 0) {
    pause();
    _exit(0);
  }
  return p;
}

static int p_ptrace(void)
{
  pid_t c = sleeper();
  long r = ptrace(PTRACE_ATTACH, c, 0, 0);
  int e = errno;
  kill(c, SIGKILL);
  errno = e;
  if (r != 0)
    REFUSED("ptrace");
  return 0;
}

static int p_process_vm_readv(void)
{
  static int secret = 42;
  int out = 0;
  pid_t c = sleeper();
  struct iovec l = { &out, sizeof(out) }, r = { &secret, sizeof(secret) };
  ssize_t n = process_vm_readv(c, &l, 1, &r, 1, 0);
  int e = errno;
  kill(c, SIGKILL);
  errno = e;
  if (n != sizeof(out) || out != 42)
    REFUSED("process_vm_readv");
  return 0;
}

static int p_unshare(void)
{
  if (unshare(CLONE_NEWUSER) != 0)
    REFUSED("unshare(CLONE_NEWUSER)");
  return 0;
}

static int p_clone_ns(void)
{
  long p = syscall(SYS_clone, CLONE_NEWUSER | CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0);
  if (p < 0)
    REFUSED("clone(CLONE_NEWUSER|CLONE_NEWNS)");
  if (p == 0)
    _exit(0);
  waitpid((pid_t)p, NULL, 0);
  return 0;
}

static int p_clone3(void)
{
  struct clone_args ca = { .exit_signal = SIGCHLD };
  long p = syscall(SYS_clone3, &ca, sizeof(ca));
  if (p < 0)
    REFUSED("clone3");
  if (p == 0)
    _exit(0);
  waitpid((pid_t)p, NULL, 0);
  return 0;
}

static int p_mount(void)
{
  if (mount("none", "/tmp", "tmpfs", 0, NULL) != 0)
    REFUSED("mount");
  return 0;
}

static int p_umount(void)
{
  if (umount2("/proc", MNT_DETACH) != 0)
    REFUSED("umount2");
  return 0;
}

static int p_pivot_root(void)
{
  if (chdir(arg != NULL ? arg : "/") != 0 || syscall(SYS_pivot_root, ".", ".") != 0)
    REFUSED("pivot_root");
  return 0;
}

static int p_chroot(void)
{
  if (chroot("/tmp") != 0)
    REFUSED("chroot");
  return 0;
}

static int p_open_tree(void)
{
  if (syscall(SYS_open_tree, AT_FDCWD, "/tmp", 1 /* OPEN_TREE_CLONE */) < 0)
    REFUSED("open_tree");
  return 0;
}

static int p_fsopen(void)
{
  if (syscall(SYS_fsopen, "tmpfs", 0) < 0)
    REFUSED("fsopen");
  return 0;
}

static int p_remount_usr(void)
{
  if (mount(NULL, "/usr", NULL, MS_REMOUNT | MS_BIND, NULL) != 0)
    REFUSED("remount /usr rw");
  return 0;
}

/* The box's pid 1 is non-dumpable, so its ns links should not even open;
 * our own always do, and setns() into them must still be stopped. */
static int p_setns(void)
{
  static const char *const ns[] = { "net", "mnt", "uts", "ipc", "pid", "cgroup", "user" };
  static const char *const who[] = { "1", "self" };
  char path[64];
  size_t i, w;

  for (w = 0; w < 2; w++) {
    for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
      int fd;
      snprintf(path, sizeof(path), "/proc/%s/ns/%s", who[w], ns[i]);
      fd = open(path, O_RDONLY);
      if (fd < 0) {
        fprintf(stderr, "probe: open %s: %s\n", path, strerror(errno));
        continue;
      }
      if (setns(fd, 0) == 0) {
        printf("setns %s worked\n", path);
        return 0;
      }
      fprintf(stderr, "probe: setns %s: %s\n", path, strerror(errno));
    }
  }
  return 1;
}

static int p_io_uring(void)
{
  char params[120];
  memset(params, 0, sizeof(params));
  if (syscall(SYS_io_uring_setup, 4, params) < 0)
    REFUSED("io_uring_setup");
  return 0;
}

static int p_keyctl(void)
{
  if (syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 1) < 0)
    REFUSED("keyctl");
  return 0;
}

static int p_bpf(void)
{
  union bpf_attr a;
  memset(&a, 0, sizeof(a));
  a.map_type = BPF_MAP_TYPE_ARRAY;
  a.key_size = 4;
  a.value_size = 4;
  a.max_entries = 1;
  if (syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof(a)) < 0)
    REFUSED("bpf");
  return 0;
}

static int p_perf(void)
{
  struct perf_event_attr a;
  memset(&a, 0, sizeof(a));
  a.type = PERF_TYPE_SOFTWARE;
  a.size = sizeof(a);
  a.config = PERF_COUNT_SW_TASK_CLOCK;
  a.exclude_kernel = 1;
  if (syscall(SYS_perf_event_open, &a, 0, -1, -1, 0) < 0)
    REFUSED("perf_event_open");
  return 0;
}

/* What TypeScript 7's file watcher tries first (issue 22.5). */
static int p_fanotify(void)
{
  int fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC, O_RDONLY);
  if (fd < 0)
    REFUSED("fanotify_init");
  close(fd);
  return 0;
}

static int p_userfaultfd(void)
{
  if (syscall(SYS_userfaultfd, O_CLOEXEC) < 0)
    REFUSED("userfaultfd");
  return 0;
}

static int open_pty_slave(void)
{
  int m = posix_openpt(O_RDWR | O_NOCTTY), s;
  if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0)
    return -1;
  s = open(ptsname(m), O_RDWR | O_NOCTTY);
  return s;
}

/* TIOCSTI needs CAP_SYS_ADMIN on current kernels, so outside (as root) it
 * works; inside seccomp must stop it before the kernel even looks. */
static int p_tiocsti(unsigned long hibits)
{
  char c = 'x';
  int s = open_pty_slave();
  if (s < 0)
    REFUSED("open pty");
  if (ioctl(s, (unsigned long)TIOCSTI | hibits, &c) != 0)
    REFUSED("ioctl TIOCSTI");
  return 0;
}

/* TIOCLINUX only means something on a VT, so the positive control is that
 * the call reaches the kernel (returns, with ENOTTY/EINVAL on a pty). */
static int p_tioclinux(void)
{
  char sub = 6; /* TIOCL_GETSHIFTSTATE */
  int s = open_pty_slave();
  if (s < 0)
    REFUSED("open pty");
  if (ioctl(s, TIOCLINUX, &sub) != 0 && errno == EPERM)
    REFUSED("ioctl TIOCLINUX");
  return 0;
}

static int p_personality(void)
{
  if (personality(READ_IMPLIES_EXEC) < 0)
    REFUSED("personality(READ_IMPLIES_EXEC)");
  if ((personality(0xffffffff) & READ_IMPLIES_EXEC) == 0) {
    errno = EPERM;
    REFUSED("READ_IMPLIES_EXEC not set");
  }
  return 0;
}

/* Families the host kernel may not offer: the control is that the call
 * reaches the kernel (an error other than EPERM, which is the filter's). */
static int p_socket(int family, int type)
{
  int fd = socket(family, type, 0);
  if (fd < 0 && (errno == EPERM || errno == EACCES))
    REFUSED("socket");
  if (fd < 0)
    fprintf(stderr, "probe: socket reached the kernel: %s\n", strerror(errno));
  return 0;
}

static int p_int80(void)
{
  long ret;
  /* i386 getpid (20) through the 32-bit entry point. */
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20) : "memory");
  if (ret < 0) {
    errno = (int)-ret;
    REFUSED("int 0x80 getpid");
  }
  return 0;
}

static int p_x32(void)
{
  /* x32 getpid; the kernel may not build x32 (ENOSYS), which still shows
   * the call got past the filter. */
  long r = syscall(0x40000000 | SYS_getpid);
  (void)r;
  return 0;
}

static int p_caps(void)
{
  char line[256];
  FILE *f = fopen("/proc/self/status", "r");
  int any = 0;

  if (f == NULL)
    REFUSED("/proc/self/status");
  while (fgets(line, sizeof(line), f) != NULL) {
    if (strncmp(line, "Cap", 3) == 0 && strncmp(line, "CapInh", 6) != 0) {
      char *v = strchr(line, ':');
      if (v != NULL && strtoull(v + 1, NULL, 16) != 0) {
        printf("%s", line);
        any = 1;
      }
    }
  }
  fclose(f);
  return any ? 0 : 1;
}

static int p_euid(void)
{
  printf("euid=%d\n", (int)geteuid());
  return geteuid() == 0 ? 0 : 1;
}

static int p_write_file(void)
{
  int fd = open(arg, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0)
    REFUSED(arg);
  if (write(fd, "x", 1) != 1)
    REFUSED("write");
  close(fd);
  unlink(arg);
  return 0;
}

/* Write a /proc/sys value back unchanged. */
static int p_write_proc_sys(void)
{
  char buf[256];
  int fd = open(arg, O_RDONLY);
  ssize_t n;

  if (fd < 0)
    REFUSED(arg);
  n = read(fd, buf, sizeof(buf));
  close(fd);
  if (n <= 0)
    REFUSED("read");
  fd = open(arg, O_WRONLY);
  if (fd < 0)
    REFUSED(arg);
  if (write(fd, buf, (size_t)n) != n)
    REFUSED("write");
  return 0;
}

/* A masked /proc file is /dev/null; the real one is a regular file. */
static int p_read_proc(void)
{
  struct stat st;
  char c;
  int fd = open(arg, O_RDONLY);

  if (fd < 0)
    REFUSED(arg);
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    errno = ENODEV;
    REFUSED("not the real file (masked)");
  }
  if (read(fd, &c, 1) < 0)
    REFUSED("read");
  return 0;
}

static int p_exists(void)
{
  struct stat st;
  if (stat(arg, &st) != 0)
    REFUSED(arg);
  return 0;
}

static int p_open_rdonly(void)
{
  if (open(arg, O_RDONLY) < 0)
    REFUSED(arg);
  return 0;
}

static int p_open_wronly(void)
{
  if (open(arg, O_WRONLY) < 0)
    REFUSED(arg);
  return 0;
}

static int p_connect_tcp(void)
{
  char host[64];
  const char *colon = strrchr(arg, ':');
  struct sockaddr_in sa = { .sin_family = AF_INET };
  int fd = socket(AF_INET, SOCK_STREAM, 0);

  if (colon == NULL || fd < 0)
    return 2;
  snprintf(host, sizeof(host), "%.*s", (int)(colon - arg), arg);
  inet_pton(AF_INET, host, &sa.sin_addr);
  sa.sin_port = htons((uint16_t)atoi(colon + 1));
  if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
    REFUSED("connect");
  return 0;
}

/* ARG is a path, or @name for an abstract socket. */
static int p_connect_unix(void)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  socklen_t len;
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);

  if (arg[0] == '@') {
    strncpy(sa.sun_path + 1, arg + 1, sizeof(sa.sun_path) - 2);
    len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(arg + 1));
  } else {
    strncpy(sa.sun_path, arg, sizeof(sa.sun_path) - 1);
    len = sizeof(sa);
  }
  if (connect(fd, (struct sockaddr *)&sa, len) != 0)
    REFUSED("connect unix");
  return 0;
}

static int p_ifaces(void)
{
  struct if_nameindex *ifs = if_nameindex(), *i;
  int other = 0;

  if (ifs == NULL)
    REFUSED("if_nameindex");
  for (i = ifs; i->if_index != 0; i++) {
    printf("%s\n", i->if_name);
    if (strcmp(i->if_name, "lo") != 0)
      other = 1;
  }
  return other ? 0 : 1;
}

static int p_fds(void)
{
  int fd, extra = 0;

  for (fd = 3; fd < 1024; fd++) {
    if (fcntl(fd, F_GETFD) >= 0) {
      printf("open fd %d\n", fd);
      extra = 1;
    }
  }
  return extra ? 0 : 1;
}

static int p_tty(void)
{
  if (open("/dev/tty", O_RDWR) < 0)
    REFUSED("/dev/tty");
  return 0;
}

static int p_forkbomb(void)
{
  int n = arg != NULL ? atoi(arg) : 200, i;

  for (i = 0; i < n; i++) {
    pid_t p = fork();
    if (p < 0) {
      fprintf(stderr, "probe: fork %d: %s\n", i, strerror(errno));
      signal(SIGTERM, SIG_IGN);
      kill(0, SIGTERM);
      return 1;
    }
    if (p == 0) {
      pause();
      _exit(0);
    }
  }
  signal(SIGTERM, SIG_IGN);
  kill(0, SIGTERM); /* our children default-die on SIGTERM */
  return 0;
}

static int p_memhog(void)
{
  size_t mb = arg != NULL ? (size_t)atol(arg) : 256, i;
  char *p = malloc(mb << 20);

  if (p == NULL)
    REFUSED("malloc");
  for (i = 0; i < (mb << 20); i += 4096)
    ((volatile char *)p)[i] = 1;
  return 0;
}

/* Spin for ARG seconds of wall time and print the share of a CPU we got. */
static int p_spin(void)
{
  double secs = arg != NULL ? atof(arg) : 1.0, wall, cpu;
  struct timespec w0, w1, c1;

  clock_gettime(CLOCK_MONOTONIC, &w0);
  do {
    clock_gettime(CLOCK_MONOTONIC, &w1);
    wall = (double)(w1.tv_sec - w0.tv_sec) + (double)(w1.tv_nsec - w0.tv_nsec) / 1e9;
  } while (wall < secs);
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
  cpu = (double)c1.tv_sec + (double)c1.tv_nsec / 1e9;
  printf("cpu_share=%.3f\n", cpu / wall);
  return 0;
}

static int p_fsize(void)
{
  char buf[4096];
  int fd = open(arg, O_WRONLY | O_CREAT | O_TRUNC, 0644);

  signal(SIGXFSZ, SIG_IGN);
  memset(buf, 'x', sizeof(buf));
  if (fd < 0)
    REFUSED(arg);
  if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
    REFUSED("write 4096 bytes");
  return 0;
}

static int p_nofile(void)
{
  int i;

  for (i = 0; i < 64; i++)
    if (open("/dev/null", O_RDONLY) < 0)
      REFUSED("open 64 files");
  return 0;
}

int main(int argc, char **argv)
{
  const char *a = argc > 1 ? argv[1] : "";

  arg = argc > 2 ? argv[2] : NULL;
  setvbuf(stdout, NULL, _IONBF, 0);
  if (!strcmp(a, "ptrace")) return p_ptrace();
  if (!strcmp(a, "process_vm_readv")) return p_process_vm_readv();
  if (!strcmp(a, "unshare")) return p_unshare();
  if (!strcmp(a, "clone_ns")) return p_clone_ns();
  if (!strcmp(a, "clone3")) return p_clone3();
  if (!strcmp(a, "mount")) return p_mount();
  if (!strcmp(a, "umount")) return p_umount();
  if (!strcmp(a, "pivot_root")) return p_pivot_root();
  if (!strcmp(a, "chroot")) return p_chroot();
  if (!strcmp(a, "open_tree")) return p_open_tree();
  if (!strcmp(a, "fsopen")) return p_fsopen();
  if (!strcmp(a, "remount_usr")) return p_remount_usr();
  if (!strcmp(a, "setns")) return p_setns();
  if (!strcmp(a, "io_uring")) return p_io_uring();
  if (!strcmp(a, "keyctl")) return p_keyctl();
  if (!strcmp(a, "bpf")) return p_bpf();
  if (!strcmp(a, "perf_event_open")) return p_perf();
  if (!strcmp(a, "userfaultfd")) return p_userfaultfd();
  if (!strcmp(a, "fanotify_init")) return p_fanotify();
  if (!strcmp(a, "tiocsti")) return p_tiocsti(0);
  if (!strcmp(a, "tiocsti_high")) return p_tiocsti(1UL << 32);
  if (!strcmp(a, "tioclinux")) return p_tioclinux();
  if (!strcmp(a, "personality")) return p_personality();
  if (!strcmp(a, "af_vsock")) return p_socket(AF_VSOCK, SOCK_STREAM);
  if (!strcmp(a, "af_alg")) return p_socket(AF_ALG, SOCK_SEQPACKET);
  if (!strcmp(a, "af_packet")) return p_socket(AF_PACKET, SOCK_RAW);
  if (!strcmp(a, "int80")) return p_int80();
  if (!strcmp(a, "x32")) return p_x32();
  if (!strcmp(a, "caps")) return p_caps();
  if (!strcmp(a, "euid")) return p_euid();
  if (!strcmp(a, "write_file")) return p_write_file();
  if (!strcmp(a, "write_proc_sys")) return p_write_proc_sys();
  if (!strcmp(a, "read_proc")) return p_read_proc();
  if (!strcmp(a, "exists")) return p_exists();
  if (!strcmp(a, "open_rdonly")) return p_open_rdonly();
  if (!strcmp(a, "open_wronly")) return p_open_wronly();
  if (!strcmp(a, "connect_tcp")) return p_connect_tcp();
  if (!strcmp(a, "connect_unix")) return p_connect_unix();
  if (!strcmp(a, "ifaces")) return p_ifaces();
  if (!strcmp(a, "fds")) return p_fds();
  if (!strcmp(a, "tty")) return p_tty();
  if (!strcmp(a, "forkbomb")) return p_forkbomb();
  if (!strcmp(a, "memhog")) return p_memhog();
  if (!strcmp(a, "spin")) return p_spin();
  if (!strcmp(a, "fsize")) return p_fsize();
  if (!strcmp(a, "nofile")) return p_nofile();
  fprintf(stderr, "probe: unknown action '%s'\n", a);
  return 2;
}
