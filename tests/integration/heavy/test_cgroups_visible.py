"""A daemon that cannot see its cgroups refuses to start (issue 22.6).

`ip netns exec` runs its command in a mount namespace of its own with /sys
remounted for the network namespace: /sys/fs/cgroup is then an empty sysfs
directory, and every box would fail later with exit 125. The daemon must say so
at start, naming the missing mount and the fix; `nsenter --net=` (which leaves
the mounts alone) is the positive control, for both the sandbox and the daemon.
Everything runs in a network namespace this module creates and deletes."""
import ctypes
import os
import shutil
import subprocess
import tempfile
import threading

import pytest

import podium_helpers as ph

NS = "pd22cg-%d" % (os.getpid() % 100000)
CLONE_NEWNET = 0x40000000
BUILD = os.environ.get("PODIUM_BUILD") or os.path.join(ph.REPO_ROOT, "build")


@pytest.fixture(scope="module")
def netns():
    if os.geteuid() != 0:
        pytest.skip("needs root (network namespaces)")
    for tool in ("ip", "nsenter"):
        if shutil.which(tool) is None:
            pytest.skip("%s is not installed" % tool)
    r = subprocess.run(["ip", "netns", "add", NS], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip("cannot create a network namespace: %s" % r.stderr.strip())
    try:
        subprocess.run(["ip", "netns", "exec", NS, "ip", "link", "set", "lo", "up"], check=True)
        yield NS
    finally:
        subprocess.run(["ip", "netns", "del", NS], capture_output=True)


def ip_netns_exec(ns):
    return ["ip", "netns", "exec", ns]


def nsenter(ns):
    return ["nsenter", "--net=/run/netns/" + ns]


def sandbox_true(prefix):
    return subprocess.run(prefix + [os.path.join(BUILD, "podium-sandbox"), "--memory", str(64 << 20),
                                    "--pids", "32", "--", "/bin/true"],
                          capture_output=True, text=True, timeout=60)


def test_the_sandbox_needs_the_cgroup_mounts(netns):
    # the premise, both ways: under nsenter a limited box runs ...
    r = sandbox_true(nsenter(netns))
    assert r.returncode == 0, r
    # ... under `ip netns exec` it cannot
    r = sandbox_true(ip_netns_exec(netns))
    assert r.returncode == 125, r
    assert "cgroup" in r.stderr, r


def health_in(ns, port):
    """GET /api/health from inside the namespace (a thread of our own joins it)."""
    out = {}

    def run():
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open("/run/netns/" + ns, os.O_RDONLY)
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                out["error"] = os.strerror(ctypes.get_errno())
                return
        finally:
            os.close(fd)
        try:
            out["resp"] = ph.http_request(port, "GET", "/api/health", "127.0.0.1:%d" % port,
                                          timeout=5)
        except OSError as e:
            out["error"] = repr(e)

    t = threading.Thread(target=run)
    t.start()
    t.join()
    return out


def start(prefix, workdir):
    port = ph.free_port()
    log = open(os.path.join(workdir, "daemon.log"), "w+")
    env = dict(os.environ, PODIUM_EGRESS="off")
    p = subprocess.Popen(prefix + [os.path.join(BUILD, "podium"), "serve", "--listen",
                                   "127.0.0.1:%d" % port, "--data",
                                   os.path.join(workdir, "data")],
                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env)
    return p, port, log


def test_a_daemon_under_ip_netns_exec_refuses_to_start(netns):
    workdir = tempfile.mkdtemp(prefix="podium-cg-")
    try:
        p, _, log = start(ip_netns_exec(netns), workdir)
        try:
            rc = p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            log.seek(0)
            pytest.fail("the daemon started without its cgroups:\n" + log.read()[-3000:])
        log.seek(0)
        out = log.read()
        assert rc != 0, out
        assert "/sys/fs/cgroup" in out and "nsenter --net=" in out, out
        assert "ip netns exec" in out, out
        assert not os.path.exists(os.path.join(workdir, "data", "podium.db")), \
            "it should refuse before touching its data"
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def test_the_same_daemon_under_nsenter_serves(netns):
    workdir = tempfile.mkdtemp(prefix="podium-cg-")
    try:
        p, port, log = start(nsenter(netns), workdir)
        try:
            def healthy():
                if p.poll() is not None:
                    log.seek(0)
                    raise AssertionError("the daemon exited %s:\n%s" % (p.returncode, log.read()))
                r = health_in(netns, port).get("resp")
                return r is not None and r.status == 200
            ph.wait_until(healthy, "the daemon in the namespace healthy", timeout=90,
                          interval=0.2)
        finally:
            p.terminate()
            assert p.wait(timeout=30) == 0
    finally:
        for mp in ph.mounts_under(workdir):
            subprocess.run(["umount", "-l", mp], capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)
