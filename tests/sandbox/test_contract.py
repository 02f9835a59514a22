"""The launcher's contract (INTERFACES.md): exit codes, --status-fd,
--info-fd + reaching 127.0.0.1:PORT from the host, --overlay, --env, signals."""
import json
import os
import signal
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import PROBES, SANDBOX, need_cgroup_controller, run_box


def test_help():
    p = subprocess.run([SANDBOX, "--help"], capture_output=True, text=True)
    assert p.returncode == 0 and "--status-fd" in p.stdout and "--info-fd" in p.stdout


def test_exit_code_passthrough():
    r = run_box(["/bin/sh", "-c", "exit 7"])
    assert r.rc == 7 and r.status["exit_code"] == 7 and r.status["signal"] == 0, r


def test_status_fields():
    r = run_box(["/bin/sh", "-c", "kill -USR1 $$"])
    assert r.rc == 128 + signal.SIGUSR1, r
    for k in ("exit_code", "signal", "oom_killed", "timed_out", "cpu_ms", "max_rss_kb"):
        assert k in r.status, r
    assert r.status["signal"] == signal.SIGUSR1 and r.status["max_rss_kb"] > 0
    assert "seccomp_syscall" not in r.status


def test_setup_failure_125_names_step():
    r = run_box(["/bin/true"], opts=["--bind", "/nonexistent/podium", "/data"])
    assert r.rc == 125, r
    assert r.err.startswith("podium-sandbox: bind source: No such file or directory"), r.err
    p = subprocess.run([SANDBOX, "--bogus", "--", "/bin/true"], capture_output=True, text=True)
    assert p.returncode == 125 and "podium-sandbox:" in p.stderr


def test_not_executable_126():
    r = run_box(["/etc/passwd"])
    assert r.rc == 126, r


def test_not_found_127():
    r = run_box(["no-such-command-podium"])
    assert r.rc == 127 and "No such file" in r.err, r


def test_env_starts_empty_but_path_home():
    env = dict(os.environ, PODIUM_SECRET="leak")
    r = run_box(["/usr/bin/env"], opts=["--env", "PORT=7860"], env=env)
    lines = sorted(r.out.split())
    assert lines == ["HOME=/home/user", "PATH=/usr/local/bin:/usr/bin:/bin", "PORT=7860"], r


def env_fd(data):
    """A descriptor reading data to its end (a memory file, as the daemon makes)."""
    fd = os.memfd_create("env", 0)
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def test_env_fd_keeps_values_out_of_the_arguments():
    """--env-fd (issue 21.3): entries ended by NUL bytes; a later --env of the same name
    wins; the descriptor is closed before the command runs."""
    fd = env_fd(b"SECRET=s3cret value\0MULTI=a\nb=c\0PORT=1\0")
    try:
        r = run_box(["/bin/sh", "-c", "env; echo fds: $(ls /proc/self/fd | tr '\\n' ' ')"],
                    opts=["--env-fd", str(fd), "--env", "PORT=7860"], pass_fds=(fd,))
    finally:
        os.close(fd)
    assert r.rc == 0, r
    assert "SECRET=s3cret value" in r.out and "MULTI=a\nb=c" in r.out, r
    assert "PORT=7860" in r.out and "PORT=1\n" not in r.out, r
    assert " %d " % fd not in r.out.split("fds:")[1], r


def cmdlines_holding(needle):
    found = []
    for pid in (d for d in os.listdir("/proc") if d.isdigit()):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                if needle in f.read():
                    found.append(pid)
        except OSError:
            pass
    return found


def test_env_fd_values_in_no_arguments():
    """While the box runs, no process's arguments hold the value; control: with
    --env they do (and /proc/PID/cmdline is readable by any local user)."""
    p = subprocess.Popen([SANDBOX, "--env", "SECRET=s3cret-one", "--", "/bin/sleep", "30"])
    try:
        time.sleep(0.5)
        assert cmdlines_holding(b"s3cret-one"), "control: --env shows in the arguments"
    finally:
        p.kill()
        p.wait()
    fd = env_fd(b"SECRET=s3cret-two\0")
    try:
        p = subprocess.Popen([SANDBOX, "--env-fd", str(fd), "--", "/bin/sh", "-c",
                              'printf "%s\\n" "$SECRET"; exec sleep 30'],
                             pass_fds=(fd,), stdout=subprocess.PIPE)
    finally:
        os.close(fd)
    try:
        assert p.stdout.readline() == b"s3cret-two\n"  # the command has it
        assert cmdlines_holding(b"s3cret-two") == []
    finally:
        p.kill()
        p.wait()


def test_env_fd_bad_input():
    for data, why in ((b"NOEQUALS\0", "invalid value"), (b"CUT=off", "ended by a NUL")):
        fd = env_fd(data)
        try:
            r = run_box(["/bin/true"], opts=["--env-fd", str(fd)], pass_fds=(fd,))
        finally:
            os.close(fd)
        assert r.rc == 125 and "--env-fd" in r.err, r
    r = run_box(["/bin/true"], opts=["--env-fd", "77"])
    assert r.rc == 125 and "--env-fd 77" in r.err, r


def test_identity_and_files():
    r = run_box(["/bin/sh", "-c", "id -un; id -u; id -g; hostname; pwd; cat /etc/passwd; "
                 "test -w /home/user && test -w /tmp && ! test -w /; echo ok"],
                opts=["--hostname", "podium-test"])
    out = r.out.split()
    assert r.rc == 0 and out[:5] == ["user", "1000", "1000", "podium-test", "/home/user"], r
    assert "user:x:1000:1000:user:/home/user:/bin/sh" in r.out and out[-1] == "ok"


def test_net_host_has_resolv_conf():
    r = run_box(["/bin/sh", "-c", "test -s /etc/resolv.conf && test -e /etc/ssl/certs && test -s /etc/hosts"],
                opts=["--net", "host"])
    assert r.rc == 0, r


def test_overlay_writes_discarded():
    src = tempfile.mkdtemp(prefix="podium-rel-")
    try:
        os.chown(src, 1000, 1000)
        with open(os.path.join(src, "app.py"), "w") as f:
            f.write("orig\n")
        os.chown(os.path.join(src, "app.py"), 1000, 1000)
        script = ("cat app.py && echo changed > app.py && echo new > new.txt && rm -f app.py && "
                  "echo again > app.py && cat app.py new.txt")
        r = run_box(["/bin/sh", "-c", script],
                    opts=["--overlay", src, "/home/user/app", "--chdir", "/home/user/app"])
        assert r.rc == 0 and r.out.split() == ["orig", "again", "new"], r
        assert sorted(os.listdir(src)) == ["app.py"]
        with open(os.path.join(src, "app.py")) as f:
            assert f.read() == "orig\n"
        r = run_box(["/bin/cat", "/home/user/app/app.py"], opts=["--overlay", src, "/home/user/app"])
        assert r.out == "orig\n", r  # a restart sees the release again
    finally:
        shutil.rmtree(src)


def test_bind_writable_and_ro_bind_readonly():
    d = tempfile.mkdtemp(prefix="podium-data-")
    try:
        os.chown(d, 1000, 1000)
        r = run_box(["/bin/sh", "-c", "echo hi > /data/x && ! echo no > /ro/y"],
                    opts=["--bind", d, "/data", "--ro-bind", d, "/ro"])
        assert r.rc == 0, r
        with open(os.path.join(d, "x")) as f:
            assert f.read() == "hi\n"
        assert not os.path.exists(os.path.join(d, "y"))
    finally:
        shutil.rmtree(d)


def test_sources_below_a_root_only_directory():
    # podium's data dir may live under /root (0700): the box's host uid cannot walk
    # there, yet its release and /data below it must still be mounted.
    top = tempfile.mkdtemp(prefix="podium-private-")  # root-owned, 0700
    try:
        data = os.path.join(top, "spacedata")
        rel = os.path.join(top, "release")
        for d in (data, rel):
            os.mkdir(d, 0o750)
            os.chown(d, 1000, 1000)
        with open(os.path.join(rel, "app.py"), "w") as f:
            f.write("release\n")
        # Control: the box's uid really cannot reach them from the host.
        ctl = subprocess.run(["setpriv", "--reuid", "1000", "--regid", "1000", "--clear-groups",
                              "/bin/ls", data], capture_output=True, text=True)
        assert ctl.returncode != 0 and "Permission denied" in ctl.stderr, ctl
        r = run_box(["/bin/sh", "-c", "cat /home/user/app/app.py && echo kept > /data/f"],
                    opts=["--overlay", rel, "/home/user/app", "--bind", data, "/data"])
        assert r.rc == 0 and r.out == "release\n", r
        with open(os.path.join(data, "f")) as f:
            assert f.read() == "kept\n"
    finally:
        shutil.rmtree(top)


def test_info_fd_netns_and_connect():
    # The app listens on 127.0.0.1 inside a --net none box; the host reaches
    # it by setns() into /proc/PID/ns/net (the orchestrator's path).
    r, w = os.pipe()
    server = ("import socket\ns=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
              "s.bind(('127.0.0.1', 7860)); s.listen(1); print('ready', flush=True)\n"
              "c,_=s.accept(); c.sendall(b'hello from the box\\n'); c.close()\n")
    p = subprocess.Popen([SANDBOX, "--info-fd", str(w), "--", "python3", "-c", server],
                         stdout=subprocess.PIPE, text=True, pass_fds=(w,))
    os.close(w)
    try:
        with os.fdopen(r) as f:
            info = json.loads(f.readline())
        pid = info["pid"]
        assert os.readlink(f"/proc/{pid}/ns/net") != os.readlink("/proc/self/ns/net")
        assert p.stdout.readline().strip() == "ready"
        c = subprocess.run([os.path.join(PROBES, "netns_connect"), str(pid), "7860"],
                           capture_output=True, text=True, timeout=10)
        assert c.returncode == 0 and c.stdout == "hello from the box\n", c
        # Control: the same port on the host's own loopback is not the box's.
        c = subprocess.run([os.path.join(PROBES, "netns_connect"), "self", "7860"],
                           capture_output=True, text=True, timeout=10)
        assert c.returncode != 0
    finally:
        p.wait(timeout=10)
    assert p.returncode == 0


def test_sigterm_forwarded():
    p = subprocess.Popen([SANDBOX, "--", "/bin/sh", "-c",
                          "trap 'echo got-term; exit 3' TERM; echo up; while :; do sleep 0.05; done"],
                         stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "up"
    p.send_signal(signal.SIGTERM)
    out, _ = p.communicate(timeout=10)
    assert p.returncode == 3 and "got-term" in out


def test_zombies_reaped_and_pid1_is_ours():
    r = run_box(["/bin/sh", "-c", "(sleep 0.1 &) ; sleep 0.3; cat /proc/1/comm; "
                 "ps -e -o stat= 2>/dev/null | grep -c Z || true"])
    assert r.rc == 0 and r.out.split()[0] == "podium-sandbox", r


def test_seccomp_off_allows_probe():
    # --seccomp off is the switch the positive controls rely on being real.
    r = run_box(["/probes/probe", "personality"], opts=["--seccomp", "off"])
    assert r.rc == 0, r
    r = run_box(["/probes/probe", "personality"])
    assert r.rc == 1, r


def cgroup_dirs(launcher_pid):
    name = f"podium-sandbox.{launcher_pid}"
    found = []
    for base in ("/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids", "/sys/fs/cgroup/cpu", "/sys/fs/cgroup"):
        for dirpath, dirnames, _ in os.walk(base):
            found += [os.path.join(dirpath, n) for n in dirnames if n == name]
            dirnames[:] = [n for n in dirnames if not n.startswith("podium-sandbox.")]
            if dirpath.count("/") > 6:
                dirnames[:] = []
    return found


def test_cgroup_created_and_cleaned_up():
    need_cgroup_controller("memory", "pids", "cpu")
    p = subprocess.Popen([SANDBOX, "--memory", str(256 << 20), "--pids", "64", "--cpus", "0.5", "--",
                          "/bin/sh", "-c", "echo up; sleep 0.5"], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "up"
    assert len(cgroup_dirs(p.pid)) >= 1  # control: they exist while it runs
    p.communicate(timeout=10)
    assert p.returncode == 0
    assert cgroup_dirs(p.pid) == []


def test_seccomp_filter_is_libseccomps():
    # The filter is compiled at build time; the one the command runs under
    # must be byte for byte what libseccomp makes of the policy.
    gen = os.path.join(os.path.dirname(SANDBOX), "sandbox-gen", "seccomp_gen")
    want = subprocess.run([gen, "--hex"], capture_output=True, text=True, check=True).stdout
    r, w = os.pipe()
    p = subprocess.Popen([SANDBOX, "--info-fd", str(w), "--", "/bin/sleep", "30"], pass_fds=(w,))
    os.close(w)
    try:
        with os.fdopen(r) as f:
            init = json.loads(f.readline())["pid"]
        with open(f"/proc/{init}/task/{init}/children") as f:
            cmd = int(f.read().split()[0])
        got = subprocess.run([os.path.join(PROBES, "seccomp_dump"), str(cmd)],
                             capture_output=True, text=True)
        assert got.returncode == 0, got.stderr
        assert got.stdout == want and len(want.splitlines()) > 100
    finally:
        p.kill()
        p.wait()


UNPRIV = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"]


def test_unprivileged_caller():
    # Where the kernel allows user namespaces for everyone (as here), an ordinary
    # user gets the same box: inside uid 1000, only lo, seccomp on, no capabilities.
    script = ("id -u; cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '; "
              "grep -E '^(Seccomp|CapEff):' /proc/self/status | tr -s '\\t' ' '; "
              "ls /sys 2>/dev/null || echo no-sys")
    r = subprocess.run(UNPRIV + [SANDBOX, "--", "/bin/sh", "-c", script],
                       capture_output=True, text=True, cwd="/tmp", timeout=30)
    assert r.returncode == 0, r
    assert r.stdout.split("\n")[:5] == ["1000", "lo", "CapEff: 0000000000000000", "Seccomp: 2",
                                        "no-sys"], r.stdout
    # A mount attempt is refused (EPERM, as the kernel answers a caller without
    # capabilities), not killed: mount(8) reports it and exits with its own status.
    rfd, wfd = os.pipe()
    p = subprocess.run(UNPRIV + [SANDBOX, "--status-fd", str(wfd), "--", "/bin/mount", "-t", "tmpfs",
                                 "x", "/tmp"], capture_output=True, text=True, cwd="/tmp",
                       pass_fds=(wfd,), timeout=30)
    os.close(wfd)
    with os.fdopen(rfd) as f:
        status = json.loads(f.read())
    assert p.returncode == 32 and "seccomp_syscall" not in status, (p, status)
    assert "mount" in p.stderr, p
    # Control: the same caller outside the box is not uid 1000 and sees the host's links.
    host = subprocess.run(UNPRIV + ["/bin/sh", "-c", "id -u; cat /proc/net/dev | wc -l"],
                          capture_output=True, text=True, cwd="/tmp", timeout=30)
    assert host.stdout.split()[0] == "65534", host


def test_unprivileged_caller_cannot_set_cgroup_limits():
    r = subprocess.run(UNPRIV + [SANDBOX, "--memory", "100000000", "--", "/bin/true"],
                       capture_output=True, text=True, cwd="/tmp", timeout=30)
    assert r.returncode == 125 and "cgroup" in r.stderr, r


# cgroup v2.  This host is v1 for memory, pids and cpu (its unified hierarchy
# has none of them), so the v2 limits themselves cannot run here.  What can:
# the v2 code path on a real cgroup2 mount, in a mount namespace where
# /sys/fs/cgroup is the unified hierarchy (as on a pure v2 host): detection,
# where the box's cgroup goes (next to the launcher's own cgroup, since a v2
# cgroup holding processes cannot delegate controllers) and a clear refusal
# when a controller is not available, with nothing left behind.
UNIFIED = "/sys/fs/cgroup/unified"


def v2_run(setup, *box_args):
    """In a new mount namespace with the unified hierarchy at /sys/fs/cgroup:
    run the shell snippet setup, then the launcher."""
    script = ('mount -t cgroup2 none /sys/fs/cgroup && %s && exec "$0" "$@"' % setup)
    return subprocess.run(["unshare", "-m", "sh", "-c", script, SANDBOX, *box_args],
                          capture_output=True, text=True, timeout=30)


def need_unified():
    if not os.path.exists(os.path.join(UNIFIED, "cgroup.controllers")):
        pytest.skip("no unified cgroup hierarchy at " + UNIFIED)
    with open(os.path.join(UNIFIED, "cgroup.controllers")) as f:
        if {"memory", "pids"} & set(f.read().split()):
            pytest.skip("memory or pids available on v2 here: the refusal cannot be provoked")


def unified_leftovers():
    found = []
    for dirpath, dirnames, _ in os.walk(UNIFIED):
        found += [n for n in dirnames if n.startswith("podium-sandbox.")]
    return found


def test_cgroup_v2_missing_controller_refused_clearly():
    need_unified()
    r = v2_run("true", "--pids", "64", "--", "/bin/true")
    assert r.returncode == 125, r
    assert "cgroup v2: cannot enable the pids controller in /sys/fs/cgroup:" in r.stderr, r.stderr
    assert "available there:" in r.stderr
    # Control: the same v2 namespace without limits runs the box; the v1 host
    # with the same limit too.
    ok = v2_run("true", "--", "/bin/sh", "-c", "echo fine")
    assert ok.returncode == 0 and ok.stdout == "fine\n", ok
    v1 = subprocess.run([SANDBOX, "--pids", "64", "--", "/bin/true"], capture_output=True, text=True)
    assert v1.returncode == 0, v1
    assert unified_leftovers() == []


def test_cgroup_v2_box_goes_next_to_the_launchers_cgroup():
    need_unified()
    name = "podtest-%d" % os.getpid()
    outer = os.path.join(UNIFIED, name)
    os.mkdir(outer)
    try:
        # Launcher in /NAME/leaf (holding processes): the box's parent is
        # /NAME, so that is where the controller is asked for.
        r = v2_run("mkdir -p /sys/fs/cgroup/%s/leaf && echo $$ > /sys/fs/cgroup/%s/leaf/cgroup.procs"
                   % (name, name), "--memory", str(64 << 20), "--", "/bin/true")
        assert r.returncode == 125, r
        assert ("cannot enable the memory controller in /sys/fs/cgroup/%s:" % name) in r.stderr, r.stderr
        # Launcher in /NAME: the parent is the root.
        r = v2_run("echo $$ > /sys/fs/cgroup/%s/cgroup.procs" % name,
                   "--memory", str(64 << 20), "--", "/bin/true")
        assert r.returncode == 125, r
        assert "cannot enable the memory controller in /sys/fs/cgroup:" in r.stderr, r.stderr
        assert unified_leftovers() == []
    finally:
        # the shells are gone; their cgroups are empty
        for d in (os.path.join(outer, "leaf"), outer):
            for _ in range(100):
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)


@pytest.mark.parametrize("where", ["tmp", "overlay"])
def test_tmpfs_size_bounds_tmp_and_overlay_writes(where, tmp_path):
    src = tmp_path / "app"
    src.mkdir()
    target = "/tmp/x" if where == "tmp" else "/home/user/app/x"
    cmd = ["/bin/sh", "-c", "dd if=/dev/zero of=%s bs=1M count=16 2>&1; ls -l %s" % (target, target)]
    opts = ["--overlay", str(src), "/home/user/app"]
    # control: without a size, 16 MiB fit
    r = run_box(cmd, opts=opts)
    assert r.rc == 0 and "16777216" in r.out, r
    r = run_box(cmd, opts=opts + ["--tmpfs-size", str(8 << 20)])
    assert "No space left on device" in r.out and "8388608" in r.out, r
    assert not (src / "x").exists()   # the overlay's writes never reach its source
