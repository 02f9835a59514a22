"""Issue 17.10: no overcommit, and the daemon is the OOM killer's last choice.

A daemon with --memory-budget 3G has room for one app at 2 GiB: a second app is
refused with RUNTIME_ERROR and a message naming the numbers while the first keeps
serving (and can still be redeployed: its old and new instance share one
commitment). The budget shows in the runtime JSON and, for a signed-in caller,
in /api/health. The daemon's oom_score_adj is below its apps'."""
import os
import subprocess

import pytest

import podium_helpers as ph

ADMIN = ph.ADMIN

APP = """\
import os
from http.server import HTTPServer, BaseHTTPRequestHandler
VERSION = %r
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        with open("/proc/self/oom_score_adj") as f:
            adj = f.read().strip()
        body = ("%%s oom_score_adj=%%s" %% (VERSION, adj)).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
HTTPServer(("0.0.0.0", int(os.environ["PORT"])), H).serve_forever()
"""


def app_files(version):
    return {"README.md": ph.front_matter(["sdk: python"]), "app.py": APP % version}


@pytest.fixture(scope="module")
def budget_daemon():
    d = ph.wrapped_daemon(extra_args=("--memory-budget", "3G"))
    try:
        d.start()
        yield d
    finally:
        rc = d.stop()
        d.cleanup()
        assert rc == 0, "podium exited %r on SIGTERM" % rc


def test_second_app_over_budget_is_refused_first_keeps_serving(budget_daemon):
    d = budget_daemon
    wd, _ = d.deploy(None, "first", sdk="python", files=app_files("v1"))
    assert d.get_app(ADMIN, "first").body.startswith(b"v1")
    rt = d.runtime(ADMIN, "first")
    res = rt.get("resources") or {}
    assert res.get("memoryLimit") == 2 << 30, rt
    assert res.get("hostMemoryBudget") == 3 << 30, rt
    assert res.get("hostMemoryCommitted") == 2 << 30, rt

    d.create_space("second", sdk="python")
    d.push(d.workdir_from(None, app_files("other")), ADMIN, "second")
    rt = d.wait_stage(ADMIN, "second", "RUNTIME_ERROR", timeout=120)
    msg = rt.get("errorMessage") or ""
    assert "memory" in msg and "2.0 GiB" in msg and "3.0 GiB" in msg, msg
    assert d.get_app(ADMIN, "second").status != 200

    # the first one is untouched, and a redeploy of it still fits
    r = d.get_app(ADMIN, "first")
    assert r.status == 200 and r.body.startswith(b"v1"), r
    ph.write_files(wd, app_files("v2"))
    d.push(wd, ADMIN, "first")
    d.wait_app(ADMIN, "first", predicate=lambda r: r.status == 200 and r.body.startswith(b"v2"))
    d.wait_stage(ADMIN, "first", "RUNNING")

    h = d.api("GET", "/api/health").json()
    assert h["status"] == "ok"
    assert h["resources"]["memoryBudget"] == 3 << 30, h
    assert h["resources"]["memoryCommitted"] == 2 << 30, h
    assert h["resources"]["fdLimit"] > 0 and h["resources"]["fdOpen"] > 0, h
    anon = d.api("GET", "/api/health", token=None).json()
    assert anon == {"status": "ok"}, anon


def read_adj(pid):
    with open("/proc/%d/oom_score_adj" % pid) as f:
        return int(f.read())


def test_app_is_the_oom_killers_choice_before_the_daemon(budget_daemon):
    d = budget_daemon
    d.wait_stage(ADMIN, "first", "RUNNING")
    body = d.get_app(ADMIN, "first").text
    app_adj = int(body.split("oom_score_adj=")[1])
    daemon_adj = read_adj(d.proc.pid)
    # positive control: the app does not inherit the daemon's protection
    assert app_adj >= 0, body
    assert app_adj > daemon_adj, "app %d, daemon %d" % (app_adj, daemon_adj)


def can_lower_oom_score():
    p = subprocess.run(["sh", "-c", "echo -1 > /proc/self/oom_score_adj"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return p.returncode == 0


def test_daemon_protects_itself_from_the_oom_killer(budget_daemon):
    if not can_lower_oom_score():
        pytest.skip("this host denies lowering oom_score_adj (no CAP_SYS_RESOURCE): the daemon "
                    "logs that it cannot protect itself; apps are still raised above it")
    assert read_adj(budget_daemon.proc.pid) < 0
