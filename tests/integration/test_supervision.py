"""Supervision of app instances: an instance is stopped by its cgroup (every
process, detached children included, after the grace time), the startup timeout
ends it as RUNTIME_ERROR "launch timed out", a hung app is restarted by the
liveness check ("not responding"), and a seccomp kill names the system call."""
import os
import random
import signal
import time

import pytest

import podium_helpers as ph

ADMIN = ph.ADMIN

# Ignores SIGTERM, and so does a detached grandchild (setsid + double fork, then
# exec of sleep: an ignored signal stays ignored across exec). It is the box's
# command itself (no shell in between), named app_MARK.py so its processes can be
# found on the host.
STUBBORN = """\
import os, signal, sys
from http.server import HTTPServer, BaseHTTPRequestHandler
MARK = os.path.basename(sys.argv[0])[4:-3]
signal.signal(signal.SIGTERM, signal.SIG_IGN)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv("/bin/sleep", ["sleep", MARK + "7"])
    os._exit(0)
os.wait()
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"stubborn")
print("stubborn: listening", flush=True)
HTTPServer(("0.0.0.0", int(os.environ["PORT"])), H).serve_forever()
"""


def marked(mark):
    """Host pids whose command line mentions mark: the launcher and the box's
    init (it keeps the launcher's argv), the app, the detached sleep."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                if mark.encode() in f.read():
                    pids.append(int(d))
        except OSError:
            pass
    return pids


def comm(pid):
    with open("/proc/%d/comm" % pid) as f:
        return f.read().strip()


def session_of(pid):
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[3])


def new_mark():
    return str(random.randint(10 ** 8, 10 ** 9 - 1))


def kill_leftovers(mark):
    for pid in marked(mark):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def deploy_stubborn(d, name, mark):
    d.deploy(None, name, sdk="python", files={
        "README.md": ph.front_matter(["sdk: python", "app_file: app_%s.py" % mark]),
        "app_%s.py" % mark: STUBBORN})
    assert d.get_app(ADMIN, name).body == b"stubborn"
    # Control: the whole box runs (launcher, init, app, detached grandchild), and
    # the grandchild really has left the app's session.
    ph.wait_until(lambda: len(marked(mark)) >= 4 and marked("sleep\0%s7" % mark),
                  "the stubborn box's processes")
    sleeper = marked("sleep\0%s7" % mark)[0]
    app = [p for p in marked("app_%s.py" % mark) if comm(p).startswith("python")][0]
    assert session_of(sleeper) != session_of(app)


def test_delete_kills_every_process_of_the_app(podium):
    mark = new_mark()
    try:
        deploy_stubborn(podium, "stubborn", mark)
        t0 = time.monotonic()
        podium.delete_space("stubborn")
        # The grace time is 5 s; then the whole cgroup is killed.
        ph.wait_until(lambda: marked(mark) == [], "no process of the deleted app", timeout=30)
        assert time.monotonic() - t0 < 30
    finally:
        kill_leftovers(mark)


def test_daemon_sigterm_stops_stubborn_apps_in_bounded_time(make_daemon):
    d = make_daemon()
    mark = new_mark()
    try:
        deploy_stubborn(d, "stubborn2", mark)
        t0 = time.monotonic()
        rc = d.stop(timeout=40)  # wide bound: "does not hang"
        assert rc == 0, d.log_tail()
        ph.wait_until(lambda: marked(mark) == [], "no process left after the daemon stopped",
                      timeout=10)
        assert time.monotonic() - t0 < 40
        # It comes back on the next start (state kept); a daemon killed with
        # SIGKILL takes its boxes down too (their launchers die with it).
        d.start()
        d.wait_stage(ADMIN, "stubborn2", "RUNNING")
        assert d.get_app(ADMIN, "stubborn2").body == b"stubborn"
        assert len(marked(mark)) >= 4
        d.kill9()
        ph.wait_until(lambda: marked(mark) == [], "no process left after kill -9 of the daemon",
                      timeout=10)
        d.start()
    finally:
        kill_leftovers(mark)


NEVER_LISTENS = """\
import sys, time
print("warming up the model", sys.argv[0], flush=True)
print("still loading...", flush=True)
time.sleep(100000)
"""


def test_startup_timeout_is_launch_timed_out(podium):
    mark = new_mark()
    try:
        podium.create_space("neverup", sdk="python")
        wd = podium.workdir_from(None, {
            "README.md": ph.front_matter(["sdk: python", "app_file: app_%s.py" % mark,
                                          "startup_duration_timeout: 3s"]),
            "app_%s.py" % mark: NEVER_LISTENS})
        podium.push(wd, ADMIN, "neverup")
        # Control: it did start and runs while the timeout runs.
        ph.wait_until(lambda: len(marked(mark)) >= 3, "the never-listening app runs", timeout=120)
        rt = podium.wait_stage(ADMIN, "neverup", "RUNTIME_ERROR", timeout=120)
        msg = rt.get("errorMessage", "")
        assert "launch timed out" in msg, rt
        assert "still loading..." in msg, rt  # the app's last lines
        ph.wait_until(lambda: marked(mark) == [], "no process of the timed-out app", timeout=15)
        log = ph.http_request(podium.port, "GET", "/api/spaces/admin/neverup/logs/run",
                              podium.hub_host)
        assert b"launch timed out" in log.body, log.body[-500:]
        # It stays an error: not restarted behind the user's back.
        time.sleep(2)
        assert podium.runtime(ADMIN, "neverup")["stage"] == "RUNTIME_ERROR"
        assert marked(mark) == []
    finally:
        kill_leftovers(mark)


SECCOMP_APP = """\
import ctypes, os
print("about to mount", flush=True)
libc = ctypes.CDLL(None, use_errno=True)
libc.mount(b"none", b"/tmp", b"tmpfs", 0, None)
print("mount returned", ctypes.get_errno(), flush=True)
"""


def test_seccomp_kill_names_the_system_call(podium):
    podium.create_space("seccompkill", sdk="python")
    wd = podium.workdir_from(None, {
        "README.md": ph.front_matter(["sdk: python"]),
        "app.py": SECCOMP_APP})
    podium.push(wd, ADMIN, "seccompkill")
    rt = podium.wait_stage(ADMIN, "seccompkill", "RUNTIME_ERROR", timeout=120)
    msg = rt.get("errorMessage", "")
    assert "blocked system call mount (seccomp)" in msg, rt
    assert "about to mount" in msg and "mount returned" not in msg, rt
    log = ph.http_request(podium.port, "GET", "/api/spaces/admin/seccompkill/logs/run",
                          podium.hub_host)
    assert b"blocked system call mount (seccomp)" in log.body, log.body[-500:]


# Answers / with its start time; /slow takes 4 s (single-threaded: no other request,
# liveness checks included, is answered meanwhile); /freeze answers, then stops the
# whole app with SIGSTOP: its port still accepts connections (the kernel's backlog),
# nothing answers.
HANGS = """\
import os, signal, sys, time
from http.server import HTTPServer, BaseHTTPRequestHandler
START = "%f" % time.time()
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/slow":
            time.sleep(4)
        self.send_response(200); self.send_header("Content-Length", str(len(START)))
        self.end_headers(); self.wfile.write(START.encode()); self.wfile.flush()
        if self.path == "/freeze":
            print("hangs: freezing", flush=True)
            os.kill(os.getpid(), signal.SIGSTOP)
print("hangs: listening", START, flush=True)
HTTPServer(("0.0.0.0", int(os.environ["PORT"])), H).serve_forever()
"""


@pytest.fixture(scope="module")
def fast_liveness(make_daemon):
    # Checks every 500 ms, 1 s each, 3 failures in a row restart (the daemon reads
    # PODIUM_LIVENESS once, at start).
    old = os.environ.get("PODIUM_LIVENESS")
    os.environ["PODIUM_LIVENESS"] = "500,1000,3"
    try:
        d = make_daemon()
    finally:
        if old is None:
            del os.environ["PODIUM_LIVENESS"]
        else:
            os.environ["PODIUM_LIVENESS"] = old
    return d


def run_log(d, name):
    return ph.http_request(d.port, "GET", "/api/spaces/admin/%s/logs/run" % name, d.hub_host).body


def test_hung_app_is_restarted_as_not_responding(fast_liveness):
    d = fast_liveness
    d.deploy(None, "hangs", sdk="python", files={
        "README.md": ph.front_matter(["sdk: python"]), "app.py": HANGS})
    first = d.get_app(ADMIN, "hangs").body
    # Control: an app busy serving a long request is not taken for a hung one,
    # and an idle one answering its checks is left alone.
    r = d.get_app(ADMIN, "hangs", "/slow", timeout=30)
    assert r.status == 200 and r.body == first, r
    time.sleep(3)
    assert d.get_app(ADMIN, "hangs").body == first
    assert b"not responding" not in run_log(d, "hangs")
    assert "errorMessage" not in d.runtime(ADMIN, "hangs") or \
        "not responding" not in d.runtime(ADMIN, "hangs")["errorMessage"]
    # Now it stops answering for good. (No request is sent to it meanwhile: one
    # waiting on it would count as the app being busy, for up to the proxy's 60 s
    # response timeout.)
    assert d.get_app(ADMIN, "hangs", "/freeze").body == first
    # the reason shows while it is restarted (until the new instance answers)
    d.wait_until(lambda: "not responding" in (d.runtime(ADMIN, "hangs").get("errorMessage") or ""),
                 "the reason shown during the restart", timeout=90, interval=0.05)
    d.wait_until(lambda: run_log(d, "hangs").count(b"hangs: listening") >= 2,
                 "the hung app restarted", timeout=90)
    log = run_log(d, "hangs")
    assert b"hangs: freezing" in log and b"not responding" in log, log[-800:]
    rt = d.wait_stage(ADMIN, "hangs", "RUNNING")
    r = d.get_app(ADMIN, "hangs")
    assert r.status == 200 and r.body != first, r


# Logs every request the way http.server does (to stderr, with the request line);
# /crash exits, so that the supervisor starts it again.
ACCESS_LOG = """\
import os, sys
from http.server import HTTPServer, BaseHTTPRequestHandler
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/crash":
            os._exit(3)
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers()
        self.wfile.write(b"ok")
print("access-log app up", flush=True)
HTTPServer(("0.0.0.0", int(os.environ["PORT"])), H).serve_forever()
"""


def test_probes_stay_out_of_the_app_log_and_restarts_are_marked(fast_liveness):
    """Issue 25: the liveness check (every 500 ms here) is not in the log the space's
    visitors read; a visitor's request is; a restart after a crash is marked with a
    line of podium's."""
    d = fast_liveness
    d.deploy(None, "quietlog", sdk="python", files={
        "README.md": ph.front_matter(["sdk: python"]), "app.py": ACCESS_LOG})
    assert d.get_app(ADMIN, "quietlog", "/visitor-one").status == 200
    time.sleep(3)   # about six checks
    d.wait_until(lambda: b"/visitor-one" in run_log(d, "quietlog"), "the visitor's line")
    log = run_log(d, "quietlog")
    assert b'"GET / ' not in log and b"podium-liveness" not in log, log[-1500:]
    assert b"==> podium:" not in log, log[-800:]       # a first start: the app's output alone
    # a crash: its restart is marked, and the checks of the new instance stay out too
    d.get_app(ADMIN, "quietlog", "/crash")
    d.wait_until(lambda: run_log(d, "quietlog").count(b"access-log app up") >= 2, "the restart",
                 timeout=90)
    time.sleep(2)
    log = run_log(d, "quietlog")
    assert b"==> podium: restarting the app after a crash (1 in a row)" in log, log[-1500:]
    assert b'"GET / ' not in log and b"podium-liveness" not in log, log[-1500:]
