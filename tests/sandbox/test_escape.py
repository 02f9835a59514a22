"""Escape attempts.  Each probe must fail inside the sandbox (negative) and
work in a positive control (outside on the host, in a private mount
namespace on the host, or in the sandbox without the limit), so a test
cannot pass because the probe itself is broken."""
import errno
import os
import pty
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import PROBES, SANDBOX, host_probe, need_cgroup_controller, probe, run_box, run_host

HOST = "host"          # the probe run directly on the host, as root
MNTNS = "mntns"        # on the host inside `unshare -m` (mounting is harmless there)

# (id, probe args, control, what the filter does): "EPERM" refused, the probe told
# so and going on (what the kernel answers an unprivileged caller, as Docker's
# profile does: programs probe these and fall back); "kill:NAME" killed, the call
# named (a foreign ABI, where a refusal is not safe); None: it fails whoever
# stops it.
SECCOMP_CASES = [
    ("ptrace", ["ptrace"], HOST, "EPERM"),
    ("process_vm_readv", ["process_vm_readv"], HOST, "EPERM"),
    ("unshare", ["unshare"], HOST, "EPERM"),
    ("clone_newuser", ["clone_ns"], HOST, None),
    ("clone3", ["clone3"], HOST, None),
    ("mount", ["mount"], MNTNS, "EPERM"),
    ("umount", ["umount"], MNTNS, "EPERM"),
    ("pivot_root", ["pivot_root"], "pivot", "EPERM"),
    ("chroot", ["chroot"], HOST, "EPERM"),
    ("open_tree", ["open_tree"], MNTNS, "EPERM"),
    ("fsopen", ["fsopen"], MNTNS, "EPERM"),
    ("setns_proc1", ["setns"], HOST, "EPERM"),
    ("io_uring_setup", ["io_uring"], HOST, "EPERM"),
    ("keyctl", ["keyctl"], HOST, "EPERM"),
    ("bpf", ["bpf"], HOST, "EPERM"),
    ("perf_event_open", ["perf_event_open"], HOST, "EPERM"),
    ("userfaultfd", ["userfaultfd"], HOST, "EPERM"),
    ("fanotify_init", ["fanotify_init"], HOST, "EPERM"),
    ("tiocsti", ["tiocsti"], HOST, "EPERM"),
    ("tiocsti_high_bits", ["tiocsti_high"], HOST, "EPERM"),
    ("tioclinux", ["tioclinux"], HOST, "EPERM"),
    ("personality_read_implies_exec", ["personality"], HOST, None),
    ("af_vsock", ["af_vsock"], HOST, None),
    ("af_alg", ["af_alg"], HOST, None),
    ("af_packet", ["af_packet"], HOST, None),
    ("int80_i386", ["int80"], HOST, "kill:i386:getpid"),
    ("x32_abi", ["x32"], HOST, "kill:x32:"),
]

def control(kind, args):
    if kind == HOST:
        return run_host(host_probe(*args))
    if kind == "pivot":  # pivot_root needs a new root that is a mount point
        return run_host(["unshare", "-m", "--propagation", "private", "sh", "-c",
                         f"mount -t tmpfs none /mnt && exec {host_probe()[0]} pivot_root /mnt"])
    return run_host(["unshare", "-m", "--propagation", "private", *host_probe(*args)])


# Cases whose action needs a kernel feature the host may lack.  When the host
# control fails for one of these, the host cannot do it either: the control
# skips with what the host did, and the box test still requires the action to
# fail inside the box but cannot expect the filter to be the one that stopped it.
HOST_FEATURES = {
    "int80_i386": "32-bit syscall emulation (CONFIG_IA32_EMULATION, ia32_emulation=)",
    "io_uring_setup": "io_uring (kernel.io_uring_disabled or an old kernel)",
    "af_vsock": "AF_VSOCK sockets (vsock module)",
    "userfaultfd": "userfaultfd",
    "perf_event_open": "perf events (kernel.perf_event_paranoid or no PMU)",
    "bpf": "bpf(2)",
    "fanotify_init": "fanotify (CONFIG_FANOTIFY)",
}
_host_lacks = {}


def host_lacks(case):
    """None if the host can do what the case's probe does, else why not."""
    cid, args, kind, _ = case
    if cid not in HOST_FEATURES:
        return None
    if cid not in _host_lacks:
        r = control(kind, args)
        how = f"signal {-r.rc}" if r.rc < 0 else f"exit {r.rc}: {r.err.strip()[-200:]}"
        _host_lacks[cid] = None if r.rc == 0 else (
            f"this host lacks {HOST_FEATURES[cid]}: the probe fails on the host too ({how})")
    return _host_lacks[cid]


@pytest.mark.parametrize("case", SECCOMP_CASES, ids=[c[0] for c in SECCOMP_CASES])
def test_seccomp_positive_control(case):
    reason = host_lacks(case)
    if reason is not None:
        pytest.skip(reason)
    _, args, kind, _ = case
    r = control(kind, args)
    assert r.rc == 0, r


@pytest.mark.parametrize("case", SECCOMP_CASES, ids=[c[0] for c in SECCOMP_CASES])
def test_seccomp_blocked(case):
    _, args, _, want = case
    r = run_box(probe(*args))
    assert r.rc != 0, r          # whatever the host offers, it never works in the box
    if want is None:
        return
    reason = host_lacks(case)
    if reason is not None:
        pytest.skip(reason + "; it failed in the box too (rc %d), but the filter "
                    "cannot be the one that stopped it" % r.rc)
    if want.startswith("kill:"):
        assert r.status["seccomp_syscall"].startswith(want[5:]), r
        assert r.status["signal"] == signal.SIGSYS, r
        assert r.rc == 128 + signal.SIGSYS
    else:
        # refused, not killed: the probe saw the error and went on to report it
        assert r.rc == 1 and "seccomp_syscall" not in r.status, r
        assert not r.status["signal"], r
        assert r.err.rstrip().endswith(os.strerror(getattr(errno, want))), r


# Filesystem and identity: (id, probe args, control)
FS_CASES = [
    ("caps_empty", ["caps"], HOST),
    ("write_usr", ["write_file", "/usr/lib/.podium-sandbox-probe"], HOST),
    ("write_proc_sys", ["write_proc_sys", "/proc/sys/kernel/hostname"], HOST),
    ("read_proc_kcore", ["read_proc", "/proc/kcore"], HOST),
    ("read_proc_keys", ["read_proc", "/proc/keys"], HOST),
    ("read_proc_timer_list", ["read_proc", "/proc/timer_list"], HOST),
    ("no_sys", ["exists", "/sys/kernel"], HOST),
    ("no_root_home", ["exists", "/root"], HOST),
    ("no_var", ["exists", "/var/lib"], HOST),
    ("supervisor_binary", ["exists", SANDBOX], HOST),
    ("only_lo", ["ifaces"], HOST),
]


def need_host_path(args):
    if args[0] == "read_proc" and not os.path.exists(args[1]):
        pytest.skip(f"{args[1]} not in this kernel")


@pytest.mark.parametrize("case", FS_CASES, ids=[c[0] for c in FS_CASES])
def test_fs_positive_control(case):
    _, args, kind = case
    need_host_path(args)
    r = control(kind, args)
    assert r.rc == 0, r


@pytest.mark.parametrize("case", FS_CASES, ids=[c[0] for c in FS_CASES])
def test_fs_blocked(case):
    _, args, _ = case
    need_host_path(args)
    r = run_box(probe(*args))
    assert r.rc == 1, r


def test_supervisor_process_unreachable():
    # Control: root on the host can open another process's exe; inside, the
    # box's pid 1 (our init) is non-dumpable and holds no caps for the app.
    sleeper = subprocess.Popen(["/bin/sleep", "30"])
    try:
        assert run_host(host_probe("open_rdonly", f"/proc/{sleeper.pid}/exe")).rc == 0
    finally:
        sleeper.kill()
        sleeper.wait()
    r = run_box(probe("open_rdonly", "/proc/1/exe"))
    assert r.rc == 1, r
    r = run_box(probe("open_rdonly", "/proc/1/environ"))
    assert r.rc == 1, r


def cgroup_v1_release_agent():
    for p in ("/sys/fs/cgroup/memory/release_agent", "/sys/fs/cgroup/pids/release_agent",
              "/sys/fs/cgroup/cgroup.procs"):
        if os.path.exists(p):
            return p
    pytest.skip("no cgroup files on this host")


def test_release_agent_not_writable():
    path = cgroup_v1_release_agent()
    assert run_host(host_probe("open_wronly", path)).rc == 0
    r = run_box(probe("open_wronly", path))
    assert r.rc == 1, r


def test_remount_usr_rw():
    # Control: in a private mount namespace on the host, a read-only bind of
    # /usr can be remounted read-write.
    r = run_host(["unshare", "-m", "--propagation", "private", "sh", "-c",
                  f"mount --bind -o ro /usr /usr && exec {host_probe('remount_usr')[0]} remount_usr"])
    assert r.rc == 0, r
    r = run_box(probe("remount_usr"))
    assert r.rc == 1 and "seccomp_syscall" not in r.status, r
    assert "Operation not permitted" in r.err, r


def test_setuid_binary_gains_nothing():
    d = tempfile.mkdtemp(prefix="podium-suid-")
    try:
        os.chmod(d, 0o755)
        suid = os.path.join(d, "probe")
        shutil.copy(os.path.join(PROBES, "probe"), suid)
        os.chown(suid, 0, 0)
        os.chmod(suid, 0o4755)
        # Control: an unprivileged host user running it becomes euid 0.
        r = run_host(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", suid, "euid"])
        assert r.rc == 0 and "euid=0" in r.out, r
        r = run_box(["/suid/probe", "euid"], opts=["--ro-bind", d, "/suid"])
        assert r.rc == 1 and "euid=1000" in r.out, r
        r = run_box(["/suid/probe", "caps"], opts=["--ro-bind", d, "/suid"])
        assert r.rc == 1, r
    finally:
        shutil.rmtree(d)


def host_ip():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("192.0.2.1", 9))
        return s.getsockname()[0]
    except OSError:
        pytest.skip("no non-loopback address")
    finally:
        s.close()


def test_no_egress():
    ip = host_ip()
    srv = socket.socket()
    srv.bind((ip, 0))
    srv.listen(8)
    try:
        target = f"{ip}:{srv.getsockname()[1]}"
        assert run_host(host_probe("connect_tcp", target)).rc == 0
        assert run_box(probe("connect_tcp", target), opts=["--net", "host"]).rc == 0
        r = run_box(probe("connect_tcp", target))
        assert r.rc == 1, r
    finally:
        srv.close()


@pytest.mark.parametrize("kind", ["path", "abstract"])
def test_host_daemon_socket_unreachable(kind):
    d = tempfile.mkdtemp(prefix="podium-sock-")
    srv = socket.socket(socket.AF_UNIX)
    name = os.path.join(d, "daemon.sock") if kind == "path" else f"@podium-test-{os.getpid()}"
    srv.bind(name if kind == "path" else "\0" + name[1:])
    srv.listen(8)
    try:
        assert run_host(host_probe("connect_unix", name)).rc == 0
        r = run_box(probe("connect_unix", name))
        assert r.rc == 1, r
    finally:
        srv.close()
        shutil.rmtree(d)


def test_only_std_fds():
    leak = os.open("/dev/null", os.O_RDONLY)
    try:
        os.set_inheritable(leak, True)
        r = run_host(host_probe("fds"), pass_fds=(leak,))
        assert r.rc == 0, r          # control: the probe sees a leaked fd
        r = run_box(probe("fds"), pass_fds=(leak,))
        assert r.rc == 1, r
    finally:
        os.close(leak)


def run_in_pty(argv, timeout=30):
    pid, master = pty.fork()
    if pid == 0:
        os.execv(argv[0], argv)
    out = b""
    deadline = time.time() + timeout
    while time.time() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    _, status = os.waitpid(pid, 0)
    os.close(master)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")


def test_no_controlling_tty():
    rc, out = run_in_pty(host_probe("tty"))
    assert rc == 0, out                # control: under a pty /dev/tty opens
    rc, out = run_in_pty([SANDBOX, "--ro-bind", PROBES, "/probes", "--", *probe("tty")])
    assert rc == 1, out


def test_fork_bomb_stopped_by_pids():
    need_cgroup_controller("pids")
    assert run_box(probe("forkbomb", "100")).rc == 0
    r = run_box(probe("forkbomb", "100"), opts=["--pids", "32"])
    assert r.rc == 1 and "fork" in r.err, r


def test_memory_hog_oom_killed():
    need_cgroup_controller("memory")
    r = run_box(probe("memhog", "200"))
    assert r.rc == 0 and r.status["oom_killed"] is False, r
    r = run_box(probe("memhog", "200"), opts=["--memory", str(64 << 20)])
    assert r.rc == 137 and r.status["oom_killed"] is True and r.status["signal"] == 9, r


def cpu_cgroup_dir(launcher_pid):
    for base in ("/sys/fs/cgroup/cpu", "/sys/fs/cgroup"):
        for dirpath, dirnames, _ in os.walk(base):
            if f"podium-sandbox.{launcher_pid}" in dirnames:
                return os.path.join(dirpath, f"podium-sandbox.{launcher_pid}")
    return None


def read_kv(path):
    out = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.partition(" ")
            out[k] = int(v)
    return out


@pytest.mark.parametrize("cpus,throttled", [("4", False), ("0.2", True)], ids=["control", "limited"])
def test_cpu_spin_throttled(cpus, throttled):
    need_cgroup_controller("cpu")
    p = subprocess.Popen([SANDBOX, "--ro-bind", PROBES, "/probes", "--cpus", cpus, "--",
                          *probe("spin", "1.2")], stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.9)
        d = cpu_cgroup_dir(p.pid)
        assert d is not None
        if os.path.exists(os.path.join(d, "cpu.cfs_quota_us")):
            with open(os.path.join(d, "cpu.cfs_quota_us")) as f:
                assert int(f.read()) == int(float(cpus) * 100000)
        else:
            with open(os.path.join(d, "cpu.max")) as f:
                assert f.read().split()[0] == str(int(float(cpus) * 100000))
        stat = read_kv(os.path.join(d, "cpu.stat"))
        assert (stat.get("nr_throttled", 0) > 0) == throttled, stat
    finally:
        out, _ = p.communicate(timeout=30)
    share = float(out.split("=")[1])
    if throttled:
        assert share < 0.5, out


def test_rlimit_fsize():
    assert run_box(probe("fsize", "/tmp/f")).rc == 0
    r = run_box(probe("fsize", "/tmp/f"), opts=["--fsize", "1000"])
    assert r.rc == 1 and ("File too large" in r.err or "write 4096" in r.err), r


def test_rlimit_nofile():
    assert run_box(probe("nofile")).rc == 0
    r = run_box(probe("nofile"), opts=["--nofile", "16"])
    assert r.rc == 1 and "Too many open files" in r.err, r


def test_timeout_137():
    t0 = time.time()
    r = run_box(["/bin/sleep", "30"], opts=["--timeout", "0.5"])
    assert r.rc == 137 and r.status["timed_out"] is True, r
    assert time.time() - t0 < 10
    r = run_box(["/bin/sleep", "0.1"], opts=["--timeout", "5"])
    assert r.rc == 0 and r.status["timed_out"] is False, r


def pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_parent_death_kills_sandbox():
    # A middle-man parent starts the launcher, tells us the box's pid, then
    # is SIGKILLed; the box must go away with it.
    r, w = os.pipe()
    script = (f"import os,subprocess,sys,time\n"
              f"p=subprocess.Popen([{SANDBOX!r},'--info-fd','{w}','--','/bin/sleep','60'],pass_fds=({w},))\n"
              f"time.sleep(60)\n")
    mid = subprocess.Popen(["/usr/bin/python3", "-c", script], pass_fds=(w,))
    os.close(w)
    with os.fdopen(r) as f:
        info = f.readline()
    box_pid = int(info.split(":")[1].strip(" }\n"))
    assert pid_alive(box_pid)          # control: it was running
    mid.kill()
    mid.wait()
    deadline = time.time() + 5
    while pid_alive(box_pid) and time.time() < deadline:
        time.sleep(0.05)
    assert not pid_alive(box_pid)


def test_bind_target_symlink_refused():
    d = tempfile.mkdtemp(prefix="podium-bind-")
    try:
        os.chmod(d, 0o777)
        os.mkdir(os.path.join(d, "real"))
        os.chmod(os.path.join(d, "real"), 0o777)
        os.symlink("/etc", os.path.join(d, "link"))
        # Control: a real directory works as a nested bind target.
        r = run_box(["/bin/true"], opts=["--bind", d, "/data", "--ro-bind", "/usr/share/doc", "/data/real/x"])
        assert r.rc == 0, r
        r = run_box(["/bin/true"], opts=["--bind", d, "/data", "--ro-bind", "/usr/share/doc", "/data/link/x"])
        assert r.rc == 125 and "Too many levels of symbolic links" in r.err, r
        assert not os.path.exists("/etc/x")
    finally:
        shutil.rmtree(d)
