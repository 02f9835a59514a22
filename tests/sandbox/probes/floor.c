/*
 * floor MODE COMMAND [ARG...]: the least a launcher can do, for
 * make bench-sandbox to compare podium-sandbox with.
 *
 *   exec  exec COMMAND at once: the launcher's own exec plus the command's,
 *         the price every launcher pays before any isolation;
 *   ns    unshare user, mount, pid, net, uts, ipc and cgroup namespaces
 *         (ids mapped as podium-sandbox maps them), fork the pid-1 child,
 *         exec COMMAND in it and wait: the kernel's cost of the namespaces
 *         alone, with no filesystem, seccomp or privilege work.
 *
 * Linked static-pie like podium-sandbox.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void write_file(const char *path, const char *data)
{
  int fd = open(path, O_WRONLY | O_CLOEXEC);

  if (fd < 0 || write(fd, data, strlen(data)) != (ssize_t)strlen(data)) {
    perror(path);
    _exit(125);
  }
  close(fd);
}

int main(int argc, char **argv)
{
  int st;
  pid_t pid;
  char map[64];
  unsigned uid = (unsigned)getuid(), gid = (unsigned)getgid();

  if (argc < 3 || (strcmp(argv[1], "exec") != 0 && strcmp(argv[1], "ns") != 0)) {
    fprintf(stderr, "usage: floor exec|ns COMMAND [ARG...]\n");
    return 2;
  }
  if (strcmp(argv[1], "ns") == 0) {
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWUTS |
                CLONE_NEWIPC | CLONE_NEWCGROUP) != 0) {
      perror("unshare");
      return 125;
    }
    write_file("/proc/self/setgroups", "deny");
    snprintf(map, sizeof(map), "1000 %u 1\n", uid);
    write_file("/proc/self/uid_map", map);
    snprintf(map, sizeof(map), "1000 %u 1\n", gid);
    write_file("/proc/self/gid_map", map);
    pid = fork();
    if (pid < 0) {
      perror("fork");
      return 125;
    }
    if (pid > 0) {
      if (waitpid(pid, &st, 0) != pid)
        return 125;
      return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
  }
  execv(argv[2], argv + 2);
  fprintf(stderr, "floor: %s: %s\n", argv[2], strerror(errno));
  return 127;
}
