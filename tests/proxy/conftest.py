"""Fixtures for the proxy tests: a backend app inside a network namespace we
create, and the proxy harness (build/proxy-harness) started with routes into it."""
import os
import re
import socket
import subprocess
import sys
import threading
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
HARNESS = os.environ.get("PROXY_HARNESS") or os.path.join(HERE, "../../build/proxy-harness")
BACKEND_PORT = 9000
ASAN = "build-asan" in HARNESS
TSAN = "tsan" in HARNESS


def sh(*args, check=True):
    return subprocess.run(args, check=check, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.fixture(scope="session")
def netns():
    name = "podtest-%d" % os.getpid()
    sh("ip", "netns", "add", name)
    sh("ip", "netns", "exec", name, "ip", "link", "set", "lo", "up")
    proc = subprocess.Popen(["ip", "netns", "exec", name, "/usr/bin/python3",
                             os.path.join(HERE, "backend.py"), str(BACKEND_PORT)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout.readline().strip() == b"READY"
    time.sleep(0.3)  # the websocket thread
    yield name
    proc.kill()
    proc.wait()
    sh("ip", "netns", "del", name, check=False)


class Proxy:
    def __init__(self, args):
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "quarantine_size_mb=16:detect_leaks=1")
        # PROXY_ARGS: extra harness options for the whole suite, e.g. "--loops 1"
        args = args + os.environ.get("PROXY_ARGS", "").split()
        self.proc = subprocess.Popen([HARNESS] + args, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env)
        line = self.proc.stdout.readline().decode()
        assert line.startswith("PORT "), line
        self.port = int(line.split()[1])
        self.https_port = None
        if "--https" in args:
            line = self.proc.stdout.readline().decode()
            assert line.startswith("HTTPS "), line
            self.https_port = int(line.split()[1])
        # stderr (an access line per request) is read as it comes: a full
        # pipe would block the proxy in the middle of a test
        self.err = []
        self.err_reader = threading.Thread(target=self._read_err, daemon=True)
        self.err_reader.start()

    def _read_err(self):
        for chunk in iter(lambda: self.proc.stderr.read1(65536), b""):
            self.err.append(chunk)

    def rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.err_reader.join(timeout=10)
        self.proc.stdout.close()
        return self.proc.returncode, b"".join(self.err).decode(errors="replace")


@pytest.fixture
def proxy_factory(netns, tmp_path):
    started = []

    def start(*extra, static=None):
        routes = ["--route", "app=app:/run/netns/%s:%d" % (netns, BACKEND_PORT),
                  "--route", "ws=app:/run/netns/%s:%d" % (netns, BACKEND_PORT + 1),
                  "--route", "raw=app:/run/netns/%s:%d" % (netns, BACKEND_PORT + 2),
                  "--route", "nothing=app:/run/netns/%s:%d" % (netns, 9999),
                  "--route", "starting=starting",
                  "--route", "down=down:the app crashed",
                  "--domain", "podium.test"]
        if static is not None:
            routes += ["--route", "site=static:%s" % static]
        p = Proxy(routes + list(extra))
        started.append(p)
        return p

    yield start
    for p in started:
        code, err = p.stop()
        # a sanitizer report fails the test that started the proxy
        assert "ERROR: AddressSanitizer" not in err and "runtime error" not in err, err[-4000:]
        assert "LeakSanitizer" not in err, err[-4000:]
        assert "ThreadSanitizer" not in err, err[-6000:]


@pytest.fixture
def proxy(proxy_factory):
    return proxy_factory()


def recv_until(s, done, out=b""):
    """What s receives until done(received) holds; the peer must not close
    before."""
    while not done(out):
        d = s.recv(65536)
        assert d, out
        out += d
    return out


def hello_once(s, req=b"GET /hello HTTP/1.1\r\nHost: app.podium.test\r\n\r\n"):
    """One GET /hello on the connected socket s, read to the end of its body."""
    s.sendall(req)
    return recv_until(s, lambda got: b"hello app" in got)


def recv_until_close(s, out=b""):
    """Everything s receives until the peer closes, appended to out."""
    while True:
        d = s.recv(65536)
        if not d:
            return out
        out += d


def raw(port, data, timeout=3.0, wait_close=True):
    """Sends data, returns everything received until close or timeout."""
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(timeout)
    s.sendall(data)
    out = b""
    deadline = time.time() + timeout
    try:
        while time.time() < deadline:
            d = s.recv(65536)
            if not d:
                break
            out += d
            if not wait_close and b"\r\n\r\n" in out:
                # the head may arrive before the body: wait for Content-Length bytes
                head, body = out.split(b"\r\n\r\n", 1)
                m = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
                if m is not None:
                    if len(body) >= int(m.group(1)):
                        break
                elif re.search(rb"(?i)\r\ntransfer-encoding: *chunked", head):
                    if body.endswith(b"0\r\n\r\n"):
                        break
                else:
                    break
    except socket.timeout:
        pass
    finally:
        s.close()
    return out


def backend_log(port):
    import json
    r = raw(port, b"GET /_log HTTP/1.1\r\nHost: app.podium.test\r\nConnection: close\r\n\r\n")
    body = r.split(b"\r\n\r\n", 1)[1]
    if b"Transfer-Encoding: chunked" in r.split(b"\r\n\r\n", 1)[0]:
        body = dechunk(body)
    return json.loads(body)


def dechunk(b):
    out = b""
    while True:
        line, b = b.split(b"\r\n", 1)
        n = int(line, 16)
        if n == 0:
            return out
        out += b[:n]
        b = b[n + 2:]
