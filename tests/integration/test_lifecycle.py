"""Lifecycle controls (HF shapes): sleep after idle with the wake held by the proxy,
pause / restart, releases and rollback, factory rebuild; the controls' bad input.

The app used here answers `VERSION BOOT` on / (BOOT: random per start), holds /slow
for a while, and echoes WebSocket text frames on /ws. It runs on its own daemon
(module scope) with a bound of held requests small enough to be shown."""
import base64
import hashlib
import http.client
import json
import os
import socket
import threading
import time

import pytest

import podium_helpers as ph

ADMIN = ph.ADMIN
MAX_HELD = 20
WORK = {}  # space name -> its git work tree (pushes build on its history)

APP = r'''
import base64, hashlib, os, socket, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VERSION = %(version)r
BOOT = os.urandom(6).hex()   # pids repeat from box to box: this tells instances apart
time.sleep(%(start_delay)s)

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def do_GET(self):
        if (self.headers.get("Upgrade") or "").lower() == "websocket":
            # a WebSocket echo server (RFC 6455), enough for text frames
            key = self.headers["Sec-WebSocket-Key"] + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
            self.send_response(101)
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.send_header("Sec-WebSocket-Accept",
                             base64.b64encode(hashlib.sha1(key.encode()).digest()).decode())
            self.end_headers()
            self.wfile.flush()
            while True:
                head = self.rfile.read(2)
                if len(head) < 2:
                    return
                n = head[1] & 0x7f
                if n == 126:
                    n = int.from_bytes(self.rfile.read(2), "big")
                mask = self.rfile.read(4) if head[1] & 0x80 else b"\0\0\0\0"
                data = bytes(b ^ mask[i %% 4] for i, b in enumerate(self.rfile.read(n)))
                if head[0] & 0x0f == 8:
                    return
                self.wfile.write(bytes([0x81, len(data)]) + data)
                self.wfile.flush()
        if self.path.startswith("/slow"):
            time.sleep(float(self.path.split("=")[1]))
        body = ("%%s %%s\n" %% (VERSION, BOOT)).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

print("app", VERSION, "up", flush=True)
ThreadingHTTPServer(("0.0.0.0", int(os.environ["PORT"])), H).serve_forever()
'''


def app_files(version, start_delay=0):
    return {"README.md": ph.front_matter(["sdk: python", "app_file: app.py"]),
            "app.py": APP % {"version": version, "start_delay": start_delay}}


def api(d, method, name, what, body=None, token=ph.DEFAULT):
    return d.api(method, "/api/spaces/%s/%s/%s" % (ADMIN, name, what), json=body, token=token)


def runtime(d, name):
    return d.runtime(ADMIN, name)


@pytest.fixture(scope="module")
def lc():
    with ph.own_daemon(env={"PODIUM_PROXY_MAX_HELD": str(MAX_HELD)}) as d:
        yield d


def deploy(d, name, version, start_delay=0):
    d.create_space(name, sdk="python")
    wd = d.workdir_from(None, app_files(version, start_delay))
    d.push(wd, ADMIN, name)
    d.wait_stage(ADMIN, name, "RUNNING")
    d.wait_app(ADMIN, name, predicate=lambda r: r.status == 200 and r.text.startswith(version))
    WORK[name] = wd
    return wd


def push_version(d, name, files):
    ph.write_files(WORK[name], files)
    return d.push(WORK[name], ADMIN, name)


def sleep_now(d, name, seconds=1):
    r = api(d, "POST", name, "sleeptime", {"seconds": seconds})
    assert r.status == 200 and r.json()["gcTimeout"] == seconds, r
    d.wait_stage(ADMIN, name, "SLEEPING", timeout=30)
    ph.wait_until(lambda: d.app_pids("%s/%s" % (ADMIN, name)) == [], "the app's processes gone",
                  timeout=20)


def test_sleep_after_idle_then_a_request_wakes_it(lc):
    d = lc
    deploy(d, "sleepy", "v1")
    assert d.app_pids("admin/sleepy"), "control: the app runs before it sleeps"
    assert runtime(d, "sleepy")["gcTimeout"] is None
    sleep_now(d, "sleepy", 2)
    # asleep: no process, and the runtime says so
    rt = runtime(d, "sleepy")
    assert rt["stage"] == "SLEEPING" and rt["coldStarts"]["count"] == 0, rt
    # the next request is held while the app starts, and answered by it
    r = d.get_app(ADMIN, "sleepy", "/")
    assert r.status == 200 and r.text.startswith("v1 "), r
    rt = runtime(d, "sleepy")
    assert rt["stage"] == "RUNNING" and rt["coldStarts"]["count"] == 1, rt
    assert isinstance(rt["coldStarts"]["lastMs"], int), rt
    assert d.app_pids("admin/sleepy")


def test_concurrent_requests_during_a_wake_all_succeed(lc):
    d = lc
    sleep_now(d, "sleepy", 1)
    # a slow start: the app sleeps 1 s before it listens (a cold start long
    # enough for all the requests to arrive while it wakes)
    api(d, "POST", "sleepy", "sleeptime", {"seconds": -1})
    results = []

    def one():
        try:
            r = d.get_app(ADMIN, "sleepy", "/", timeout=60)
            results.append((r.status, r.text))
        except Exception as e:  # noqa: BLE001
            results.append((repr(e), ""))

    ts = [threading.Thread(target=one) for _ in range(MAX_HELD)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(90)
    assert len(results) == MAX_HELD
    assert all(st == 200 and body.startswith("v1 ") for st, body in results), results
    assert runtime(d, "sleepy")["stage"] == "RUNNING"


def test_held_requests_are_bounded(lc):
    d = lc
    wd = d.workdir_from(None, app_files("slowstart", start_delay=3))
    d.create_space("bounded", sdk="python")
    d.push(wd, ADMIN, "bounded")
    d.wait_stage(ADMIN, "bounded", "RUNNING", timeout=60)
    sleep_now(d, "bounded", 1)
    api(d, "POST", "bounded", "sleeptime", {"seconds": -1})
    results = []
    lock = threading.Lock()

    def one():
        try:
            r = d.get_app(ADMIN, "bounded", "/", timeout=60)
            res = (r.status, r.headers.get("retry-after"), r.text)
        except Exception as e:  # noqa: BLE001
            res = (repr(e), None, "")
        with lock:
            results.append(res)

    ts = [threading.Thread(target=one) for _ in range(MAX_HELD + 3)]
    for t in ts:
        t.start()
        time.sleep(0.05)
    for t in ts:
        t.join(90)
    ok = [r for r in results if r[0] == 200]
    refused = [r for r in results if r[0] == 503]
    assert len(ok) + len(refused) == len(results), results
    assert 1 <= len(ok) <= MAX_HELD and len(refused) >= len(results) - MAX_HELD, results
    assert all(r[1] is not None for r in refused), refused   # Retry-After


def ws_open(d, name):
    """A real WebSocket through the proxy: the handshake, checked."""
    key = base64.b64encode(os.urandom(16)).decode()
    s = socket.create_connection(("127.0.0.1", d.port), timeout=10)
    s.sendall(("GET /ws HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
               "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n\r\n"
               % (d.app_host(ADMIN, name), key)).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        assert chunk, head
        head += chunk
    accept = base64.b64encode(hashlib.sha1(
        (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
    assert head.startswith(b"HTTP/1.1 101") and accept in head, head
    return s


def ws_echo(s, text):
    """Sends a masked text frame; returns the echoed text."""
    data, mask = text.encode(), os.urandom(4)
    s.sendall(bytes([0x81, 0x80 | len(data)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))
    head = s.recv(2)
    return s.recv(head[1] & 0x7f).decode()


def test_an_open_websocket_keeps_the_app_awake(lc):
    d = lc
    r = d.get_app(ADMIN, "sleepy", "/")
    assert r.status == 200
    s = ws_open(d, "sleepy")
    try:
        assert ws_echo(s, "hello") == "hello"
        api(d, "POST", "sleepy", "sleeptime", {"seconds": 1})
        time.sleep(4)   # four idle periods with the socket open and quiet
        assert runtime(d, "sleepy")["stage"] == "RUNNING"
        assert d.app_pids("admin/sleepy")
        assert ws_echo(s, "still there") == "still there"
    finally:
        s.close()
    # control: once the socket closes, it sleeps
    d.wait_stage(ADMIN, "sleepy", "SLEEPING", timeout=30)


def test_a_long_request_keeps_the_app_awake(lc):
    d = lc
    assert d.get_app(ADMIN, "sleepy", "/").status == 200      # wakes it
    api(d, "POST", "sleepy", "sleeptime", {"seconds": 1})
    r = d.get_app(ADMIN, "sleepy", "/slow?t=3.5", timeout=30)  # a long poll
    assert r.status == 200, r
    assert runtime(d, "sleepy")["stage"] == "RUNNING"
    api(d, "POST", "sleepy", "sleeptime", {"seconds": -1})


CRASH_ON_WAKE = r'''
import os, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
if os.path.exists("/data/started"):
    print("cannot start again: wake-test failure", flush=True)
    sys.exit(3)
open("/data/started", "w").close()

class H(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"up")

ThreadingHTTPServer(("0.0.0.0", int(os.environ["PORT"])), H).serve_forever()
'''


def test_a_failed_wake_answers_502_with_the_apps_last_words(lc):
    d = lc
    d.create_space("wakefail", sdk="python")
    d.push(d.workdir_from(None, {"README.md": ph.front_matter(["sdk: python"]),
                                 "app.py": CRASH_ON_WAKE}), ADMIN, "wakefail")
    d.wait_app(ADMIN, "wakefail", predicate=lambda r: r.status == 200 and r.text == "up")
    sleep_now(d, "wakefail", 1)
    api(d, "POST", "wakefail", "sleeptime", {"seconds": -1})
    # the held request ends with the app's failure, not a hang or a bare proxy error
    r = d.get_app(ADMIN, "wakefail", "/", timeout=60)
    assert r.status == 502 and "wake-test failure" in r.text, r
    rt = runtime(d, "wakefail")
    assert rt["stage"] == "RUNTIME_ERROR" and "wake-test failure" in rt["errorMessage"], rt


def test_pause_shows_a_503_page_until_restart(lc):
    d = lc
    deploy(d, "pausy", "p1")
    r = api(d, "POST", "pausy", "pause")
    assert r.status == 200 and r.json()["stage"] == "PAUSED", r
    ph.wait_until(lambda: d.app_pids("admin/pausy") == [], "the paused app's processes gone",
                  timeout=20)
    r = d.get_app(ADMIN, "pausy", "/", headers={"Accept": "text/html"})
    assert r.status == 503 and "paused" in r.text and "<html" in r.text.lower(), r
    r = d.get_app(ADMIN, "pausy", "/")
    assert r.status == 503 and "paused" in r.json()["error"], r
    # a push builds but does not start
    push_version(d, "pausy", app_files("p2"))
    d.wait_stage(ADMIN, "pausy", "PAUSED", timeout=60)
    time.sleep(1)
    assert d.app_pids("admin/pausy") == []
    assert d.get_app(ADMIN, "pausy", "/").status == 503
    # restart resumes, with the newest release
    r = api(d, "POST", "pausy", "restart")
    assert r.status == 200, r
    d.wait_app(ADMIN, "pausy", predicate=lambda r: r.status == 200 and r.text.startswith("p2 "))
    assert runtime(d, "pausy")["paused"] is False


def test_restart_under_load_drops_nothing(lc):
    d = lc
    boot_before = d.get_app(ADMIN, "pausy", "/").text.split()[1]
    loader = ph.Loader(d, ADMIN, "pausy").start()
    try:
        time.sleep(0.5)
        r = api(d, "POST", "pausy", "restart")
        assert r.status == 200, r
        ph.wait_until(lambda: d.get_app(ADMIN, "pausy", "/").text.split()[1] != boot_before,
                      "a new instance serves", timeout=60)
        time.sleep(0.5)
    finally:
        loader.stop()
    assert len(loader.results) > 20 and loader.failures() == [], loader.failures()[:5]


def test_releases_and_rollback_under_load(lc):
    d = lc
    rel = api(d, "GET", "pausy", "releases")
    assert rel.status == 200, rel
    rel = rel.json()
    assert [r["status"] for r in rel] == ["ok", "ok"], rel
    assert rel[0]["serving"] is True and rel[1]["serving"] is False, rel
    assert rel[0]["id"] > rel[1]["id"] and all(r["available"] for r in rel)
    loader = ph.Loader(d, ADMIN, "pausy").start()
    try:
        time.sleep(0.3)
        r = api(d, "POST", "pausy", "rollback", {"release": rel[1]["id"]})
        assert r.status == 200, r
        d.wait_app(ADMIN, "pausy", predicate=lambda r: r.status == 200 and r.text.startswith("p1 "))
        time.sleep(0.3)
    finally:
        loader.stop()
    assert loader.failures() == [], loader.failures()[:5]
    rel = api(d, "GET", "pausy", "releases").json()
    assert [r["serving"] for r in rel] == [False, True], rel
    # the next push deploys as usual
    push_version(d, "pausy", app_files("p3"))
    d.wait_app(ADMIN, "pausy", predicate=lambda r: r.status == 200 and r.text.startswith("p3 "))


def test_factory_restart_rebuilds_without_the_cache(lc):
    d = lc
    d.create_space("factory", sdk="python")
    wd = d.workdir_from(None, dict(app_files("f1"), **{"requirements.txt": "flask\n"}))
    d.push(wd, ADMIN, "factory")
    d.wait_stage(ADMIN, "factory", "RUNNING")
    ph.write_files(wd, app_files("f2"))
    d.push(wd, ADMIN, "factory")   # cached
    d.wait_app(ADMIN, "factory", predicate=lambda r: r.status == 200 and r.text.startswith("f2 "))
    log = d.api("GET", "/api/spaces/admin/factory/logs/build").text
    assert "reusing .venv" in log, log
    r = api(d, "POST", "factory", "restart?factory=true")
    assert r.status == 200, r
    ph.wait_until(lambda: "factory rebuild" in d.api("GET", "/api/spaces/admin/factory/logs/build").text
                  and runtime(d, "factory")["stage"] == "RUNNING", "the factory rebuild", timeout=120)
    log = d.api("GET", "/api/spaces/admin/factory/logs/build").text
    assert "--> pip install -r requirements.txt" in log and "reusing" not in log, log
    assert d.get_app(ADMIN, "factory", "/").text.startswith("f2 ")


@pytest.mark.parametrize("method,what,body,status", [
    ("POST", "sleeptime", {"seconds": -5}, 400),
    ("POST", "sleeptime", {"seconds": 0}, 400),
    ("POST", "sleeptime", {"seconds": 10 ** 12}, 400),
    ("POST", "sleeptime", {"seconds": "60"}, 400),
    ("POST", "sleeptime", None, 400),
    ("POST", "rollback", {"release": 999999}, 404),
    ("POST", "rollback", {"release": -1}, 400),
    ("POST", "rollback", {}, 400),
    ("GET", "restart", None, 405),
    ("POST", "releases", None, 405),
    ("DELETE", "pause", None, 405),
])
def test_bad_input_changes_nothing(lc, method, what, body, status):
    d = lc
    before = runtime(d, "pausy")
    r = api(d, method, "pausy", what, body)
    assert r.status == status, r
    assert "error" in r.json(), r
    if status == 405:
        assert r.headers.get("allow"), r.headers
    after = runtime(d, "pausy")
    assert (before["stage"], before["gcTimeout"]) == (after["stage"], after["gcTimeout"])


def test_a_failed_builds_release_cannot_be_served(lc):
    d = lc
    push_version(d, "pausy", dict(app_files("bad"), **{
        "README.md": ph.front_matter(["sdk: python", "app_build_command: exit 3"])}))
    ph.wait_until(lambda: api(d, "GET", "pausy", "releases").json()[0]["status"] == "failed",
                  "the failed build", timeout=60)
    failed = api(d, "GET", "pausy", "releases").json()[0]
    r = api(d, "POST", "pausy", "rollback", {"release": failed["id"]})
    assert r.status == 400 and "did not build" in r.json()["error"], r
    assert d.get_app(ADMIN, "pausy", "/").text.startswith("p3 ")


def test_controls_need_the_owner(lc):
    d = lc
    r = api(d, "POST", "pausy", "pause", token=None)
    assert r.status == 401, r
    r = api(d, "GET", "pausy", "releases", token=None)
    assert r.status == 401, r
    assert runtime(d, "pausy")["stage"] == "RUNNING"
