"""Issue 17.4: a daemon with few file descriptors (soft = hard = 96, so it cannot
raise them) and more apps than fit: the hub keeps answering, every app either
serves or says "too many open files in the daemon" (none left starting), and when
clients take the last descriptors new ones get a prompt 503 and the daemon does not
spin on its listener (it used to: 100% CPU, nothing served)."""
import os
import shutil
import socket
import time

import pytest

import podium_helpers as ph

ADMIN = ph.ADMIN
NOFILE = 96
NAPPS = 12

APP = """\
import os
from http.server import HTTPServer, BaseHTTPRequestHandler
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"app %s"
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
HTTPServer(("0.0.0.0", int(os.environ["PORT"])), H).serve_forever()
"""


@pytest.fixture(scope="module")
def low_fd_daemon():
    if shutil.which("prlimit") is None:
        pytest.skip("prlimit (util-linux) is not installed")
    d = ph.wrapped_daemon(prefix=("prlimit", "--nofile=%d:%d" % (NOFILE, NOFILE)))
    try:
        d.start()
        # positive control: the limit really applies to the daemon
        with open("/proc/%d/limits" % d.proc.pid) as f:
            line = [l for l in f if l.startswith("Max open files")][0]
        assert line.split()[3] == str(NOFILE), line
        yield d
    finally:
        rc = d.stop()
        d.cleanup()
        assert rc == 0, "podium exited %r on SIGTERM" % rc


def hub_ok(d):
    r = d.api("GET", "/api/health", token=None, timeout=10)
    return r.status == 200


def test_more_apps_than_descriptors(low_fd_daemon):
    d = low_fd_daemon
    names = ["fd%02d" % i for i in range(NAPPS)]
    for n in names:
        d.create_space(n, sdk="python")
        d.push(d.workdir_from(None, {"README.md": ph.front_matter(["sdk: python"]),
                                     "app.py": APP % n}), ADMIN, n)
        assert hub_ok(d)
        # each settles: serving, or refused with the reason (never left starting)
        d.wait_stage(ADMIN, n, {"RUNNING", "RUNTIME_ERROR"}, timeout=120, fail_after=1e9)
    running, refused = [], []
    for n in names:
        rt = d.runtime(ADMIN, n)
        if rt["stage"] == "RUNNING":
            running.append(n)
        else:
            assert rt["stage"] == "RUNTIME_ERROR", rt
            assert "too many open files in the daemon" in rt.get("errorMessage", ""), rt
            refused.append(n)
    assert running and refused, "running %r refused %r" % (running, refused)
    for n in running:
        r = d.get_app(ADMIN, n)
        assert r.status == 200 and r.body == ("app %s" % n).encode(), (n, r)
    assert "too many open files in the daemon" in d.log_tail(400)
    assert hub_ok(d)


def test_clients_beyond_descriptors_get_503_without_a_spin(low_fd_daemon):
    d = low_fd_daemon
    pid = d.proc.pid
    flood = []
    try:
        for _ in range(2 * NOFILE):  # more than the daemon can hold
            flood.append(socket.create_connection(("127.0.0.1", d.port), timeout=10))
        time.sleep(1.0)
        cpu0 = ph.proc_cpu_seconds(pid)
        time.sleep(3.0)
        cpu = ph.proc_cpu_seconds(pid) - cpu0
        # a spinning listener burns ~3 s here; idle is ~0
        assert cpu < 1.0, "daemon used %.2f s CPU in 3 s with its descriptors exhausted" % cpu
        # a newcomer is told so at once instead of waiting forever
        t0 = time.monotonic()
        status, out = ph.raw_request(d.port, b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                                     timeout=15)
        assert time.monotonic() - t0 < 10, "no answer for %.1f s" % (time.monotonic() - t0)
        assert status == 503 and b"out of file descriptors" in out, out[:300]
    finally:
        for s in flood:
            s.close()
    d.assert_alive()
    ph.wait_until(lambda: hub_ok(d), "hub answering again", timeout=30)
    assert "too many open files in the daemon" in d.log_tail(400)


SLOW = """\
import os, time
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/slow":
            time.sleep(8)
        self.send_response(200); self.send_header("Content-Length", "4"); self.end_headers()
        self.wfile.write(b"slow")
    def log_message(self, *a):
        pass
ThreadingHTTPServer.request_queue_size = 256
ThreadingHTTPServer(("0.0.0.0", int(os.environ["PORT"])), H).serve_forever()
"""


def test_descriptors_run_out_for_real_without_a_spin(low_fd_daemon):
    """Clients pass the accept check, but each also holds an upstream connection to
    a slow app: the daemon really reaches EMFILE, and its listener must neither
    spin nor leave newcomers hanging."""
    d = low_fd_daemon
    for i in range(NAPPS):  # make room for one more app
        d.delete_space("fd%02d" % i)
    d.deploy(None, "slowapp", sdk="python", files={
        "README.md": ph.front_matter(["sdk: python"]), "app.py": SLOW})
    req = ("GET /slow HTTP/1.1\r\nHost: %s\r\n\r\n" % d.app_host(ADMIN, "slowapp")).encode()
    held = []
    try:
        for _ in range(NOFILE):  # each one costs the daemon 2 descriptors
            try:
                s = socket.create_connection(("127.0.0.1", d.port), timeout=10)
                s.sendall(req)
                held.append(s)
            except OSError:
                break
        time.sleep(1.0)
        cpu0 = ph.proc_cpu_seconds(d.proc.pid)
        time.sleep(3.0)
        cpu = ph.proc_cpu_seconds(d.proc.pid) - cpu0
        assert cpu < 1.0, "daemon used %.2f s CPU in 3 s with its descriptors exhausted" % cpu
        t0 = time.monotonic()
        try:
            status, out = ph.raw_request(d.port, b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                                         timeout=15)
        except ConnectionResetError:
            status, out = None, b"reset"
        waited = time.monotonic() - t0
        assert waited < 10, "newcomer waited %.1f s" % waited
        # refused one way or another (503 from us, or dropped by libuv's own reserve)
        assert status in (503, None), out[:300]
    finally:
        for s in held:
            s.close()
    d.assert_alive()
    ph.wait_until(lambda: hub_ok(d), "hub answering again", timeout=30)
    d.wait_app(ADMIN, "slowapp", timeout=60)
    assert "too many open files in the daemon" in d.log_tail(2000)
