"""A redeploy lets the old instance drain its open exchanges (issue 22.7).

A WebSocket opened on the old release keeps its messages flowing after the switch
for the grace period (deploy.drain_seconds, 20 here), while new requests reach the
new release; then the old instance stops and the socket closes. The control: a
redeploy with nothing open on the old instance stops it after a short settle, long
before the grace is over."""
import asyncio
import os
import threading
import time

import pytest

import podium_helpers as ph

websockets = pytest.importorskip("websockets")

ADMIN = ph.ADMIN
GRACE = 20

APP = r'''
import asyncio, http, os
import websockets
VERSION = open("version.txt").read().strip()

async def ticks(ws, path=None):
    n = 0
    while True:
        await ws.send("%s %d" % (VERSION, n))
        n += 1
        await asyncio.sleep(0.2)

async def plain(path, headers):
    if "upgrade" not in headers.get("Connection", "").lower():
        return http.HTTPStatus.OK, [("Content-Type", "text/plain")], VERSION.encode()

async def main():
    async with websockets.serve(ticks, "0.0.0.0", int(os.environ["PORT"]), process_request=plain):
        await asyncio.Future()

asyncio.run(main())
'''


@pytest.fixture(scope="module")
def d():
    with ph.own_daemon(config="deploy:\n  drain_seconds: %d\n" % GRACE) as d:
        yield d


def files(version):
    return {"README.md": ph.front_matter(["sdk: python"]), "app.py": APP,
            "version.txt": version + "\n"}


def redeploy(d, name, wd, version):
    ph.write_files(wd, {"version.txt": version + "\n"})
    d.push(wd, ADMIN, name, message=version)
    d.wait_app(ADMIN, name, predicate=lambda r: r.status == 200 and r.text == version)
    return time.monotonic()


def release_pids(d, name, version):
    """Host pids of the app processes running the release whose version.txt says version."""
    out = []
    for pid in d.app_pids(ADMIN + "/" + name):
        try:
            with open(os.path.join("/proc/%d/cwd" % pid, "version.txt")) as f:
                if f.read().strip() == version:
                    out.append(pid)
        except OSError:
            pass
    return out


class Socket:
    """A WebSocket through the proxy, read in a thread: every message with its time."""

    def __init__(self, d, name):
        self.messages, self.closed_at, self.error = [], None, None
        self.url = "ws://%s/" % d.app_host(ADMIN, name)
        self.port = d.port
        self.opened = threading.Event()
        threading.Thread(target=lambda: asyncio.run(self.run()), daemon=True).start()
        assert self.opened.wait(30), self.error

    async def run(self):
        try:
            # the app's host name in the URL (and Host), the connection to the proxy
            async with websockets.connect(self.url, host="127.0.0.1", port=self.port,
                                          open_timeout=20, ping_interval=None) as ws:
                self.opened.set()
                async for m in ws:
                    self.messages.append((time.monotonic(), m))
        except Exception as e:   # noqa: BLE001 - the close is what the test looks at
            self.error = repr(e)
        finally:
            self.closed_at = time.monotonic()
            self.opened.set()

    def last(self):
        return self.messages[-1] if self.messages else (None, None)


def test_an_open_websocket_drains_on_the_old_release(d):
    wd, _ = d.deploy(None, "drainws", sdk="python", files=files("v1"))
    d.wait_app(ADMIN, "drainws", predicate=lambda r: r.status == 200 and r.text == "v1")
    ws = Socket(d, "drainws")
    ph.wait_until(lambda: ws.messages, "the first message")
    switched = redeploy(d, "drainws", wd, "v2")
    # new requests reach v2 while the socket on v1 keeps going, well past the
    # 2 s after which the old instance used to be stopped
    time.sleep(8)
    t, m = ws.last()
    assert ws.closed_at is None, (ws.error, ws.messages[-3:])
    assert m.startswith("v1 ") and t > switched + 7, (t - switched, m)
    assert d.get_app(ADMIN, "drainws", "/").text == "v2"
    assert release_pids(d, "drainws", "v1"), "the old instance should still run"
    # the grace ends: the old instance stops and the socket closes
    ph.wait_until(lambda: ws.closed_at is not None, "the socket closed after the grace",
                  timeout=GRACE + 40)
    assert ws.closed_at - switched >= GRACE - 1, ws.closed_at - switched
    ph.wait_until(lambda: not release_pids(d, "drainws", "v1"), "the old instance gone",
                  timeout=30)


def test_nothing_open_stops_the_old_instance_at_once(d):
    wd, _ = d.deploy(None, "drainidle", sdk="python", files=files("v1"))
    d.wait_app(ADMIN, "drainidle", predicate=lambda r: r.status == 200 and r.text == "v1")
    assert release_pids(d, "drainidle", "v1")
    switched = redeploy(d, "drainidle", wd, "v2")
    ph.wait_until(lambda: not release_pids(d, "drainidle", "v1"), "the old instance gone",
                  timeout=GRACE - 5)
    assert time.monotonic() - switched < GRACE - 5
    assert release_pids(d, "drainidle", "v2")


@pytest.mark.parametrize("text,words", [
    ("deploy:\n  drain_seconds: forever\n", "deploy.drain_seconds must be a whole number"),
    ("deploy:\n  drain_secs: 5\n", "unknown key deploy.drain_secs"),
    # the data disk's reserve (issue 22.1) is read the same way, before anything starts
    ("disk:\n  reserve: lots\n", "disk.reserve must be a size"),
])
def test_a_bad_drain_setting_refuses_to_start(text, words):
    d = ph.Daemon()
    try:
        with open(os.path.join(d.data_dir, "config.yaml"), "w") as f:
            f.write(text)
        with pytest.raises(AssertionError) as e:
            d.start(timeout=30)
        assert "exited" in str(e.value) and words in str(e.value), e.value
        assert "line 2" in str(e.value), e.value
    finally:
        d.cleanup()
