"""Helpers for the podium-sandbox escape suite.

PODIUM_SANDBOX points at the launcher, PODIUM_SANDBOX_PROBES at the directory
of compiled probes (make test-sandbox sets both).  Probes are bound read-only
at /probes inside the box.
"""
import json
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SANDBOX = os.environ.get("PODIUM_SANDBOX", os.path.join(ROOT, "build", "podium-sandbox"))
PROBES = os.environ.get("PODIUM_SANDBOX_PROBES", os.path.join(ROOT, "build", "sandbox-tests"))


class Result:
    def __init__(self, rc, out, err, status):
        self.rc, self.out, self.err, self.status = rc, out, err, status

    def __repr__(self):
        return f"Result(rc={self.rc}, status={self.status}, out={self.out!r}, err={self.err!r})"


def run_box(cmd, opts=(), timeout=60, pass_fds=(), **kw):
    """Run cmd in the sandbox with the probes at /probes; collect --status-fd."""
    r, w = os.pipe()
    argv = [SANDBOX, "--ro-bind", PROBES, "/probes", "--status-fd", str(w), *opts, "--", *cmd]
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                           pass_fds=(w, *pass_fds), **kw)
    finally:
        os.close(w)
    with os.fdopen(r) as f:
        raw = f.read()
    status = json.loads(raw) if raw.strip() else None
    return Result(p.returncode, p.stdout, p.stderr, status)


def run_host(cmd, timeout=60, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    return Result(p.returncode, p.stdout, p.stderr, None)


def probe(*args):
    return ["/probes/probe", *args]


def host_probe(*args):
    return [os.path.join(PROBES, "probe"), *args]


@pytest.fixture(scope="session", autouse=True)
def built():
    for path in (SANDBOX, os.path.join(PROBES, "probe")):
        if not os.access(path, os.X_OK):
            pytest.exit(f"{path} missing: run make test-sandbox", returncode=2)


def host_cgroup_controller(name):
    """None if the host offers the cgroup controller NAME (a v1 hierarchy
    mounted with it, or listed in the v2 root's cgroup.controllers), else the
    reason to skip.  Read from the host itself, never through podium-sandbox,
    so a broken launcher still fails instead of skipping."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            pre, _, post = line.partition(" - ")
            fields = post.split()
            if len(fields) >= 3 and fields[0] == "cgroup" and name in fields[2].split(","):
                return None
            if len(fields) >= 1 and fields[0] == "cgroup2":
                mnt = pre.split()[4]
                try:
                    with open(os.path.join(mnt, "cgroup.controllers")) as c:
                        if name in c.read().split():
                            return None
                except OSError:
                    pass
    return (f"this host offers no '{name}' cgroup controller (no v1 hierarchy with it, "
            f"not in a v2 root's cgroup.controllers): podium-sandbox cannot apply that limit here")


def need_cgroup_controller(*names):
    for name in names:
        reason = host_cgroup_controller(name)
        if reason is not None:
            pytest.skip(reason)
