"""Hardware flavors (issue 13 item 4): flavors from the daemon's YAML config
(DATA/config.yaml, `hardware:` key), POST /hardware restarts the app under the new
limits, runtime.hardware tells the truth, the choice survives a daemon restart, a
bad config refuses to start, bad requests get 400/401/404/405."""
import os

import pytest

import podium_helpers as ph

ADMIN = ph.ADMIN

CONFIG = """\
unrelated:            # keys of other parts of the daemon are left alone
  anything: [1, 2]
hardware:
  default: cpu-basic
  build: {cpu: 1, memory: 1Gi, pids: 256}
  flavors:
    cpu-basic:   {cpu: 1, memory: 160Mi, pids: 128}
    cpu-upgrade: {cpu: 2, memory: 768Mi, pids: 256}
    vip:         {cpu: 1, memory: 200Mi, pids: 64, admin_only: true}
"""

APP = r'''
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        if self.path == "/hog":
            held = bytearray(320 << 20)  # zero-filled: resident
            body = b"held %d" % len(held)
        else:
            body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass

ThreadingHTTPServer(("0.0.0.0", int(os.environ["PORT"])), H).serve_forever()
'''


@pytest.fixture(scope="module")
def hw_daemon():
    d = ph.Daemon()
    with open(os.path.join(d.data_dir, "config.yaml"), "w") as f:
        f.write(CONFIG)
    try:
        d.start()
        yield d
        assert d.stop() == 0
    finally:
        d.cleanup()


def hardware(d, name):
    return d.runtime(ADMIN, name)["hardware"]


def test_builtin_flavors(podium):
    podium.create_space("hw-default", sdk="static")
    assert hardware(podium, "hw-default") == {"current": "cpu-basic", "requested": "cpu-basic"}
    r = podium.api("POST", "/api/spaces/admin/hw-default/hardware", json={"flavor": "cpu-upgrade"})
    assert r.status == 200 and r.json()["hardware"]["requested"] == "cpu-upgrade", r


def test_upgrade_lifts_the_memory_limit(hw_daemon):
    d = hw_daemon
    name = "hw-hog"
    d.deploy(None, name, sdk="python",
             files={"README.md": ph.front_matter(["sdk: python", "app_file: app.py"]), "app.py": APP})
    assert hardware(d, name) == {"current": "cpu-basic", "requested": "cpu-basic"}
    # 320 MiB does not fit in cpu-basic's 160 MiB: the kernel kills the app
    try:
        r = d.get_app(ADMIN, name, "/hog", timeout=60)
        status = r.status
    except OSError as e:
        status = repr(e)
    assert status != 200, status
    ph.wait_until(lambda: "out of memory" in d.log_tail(400), "an OOM kill in the daemon log",
                  timeout=60, alive=d.assert_alive)

    r = d.api("POST", "/api/spaces/admin/%s/hardware" % name, json={"flavor": "cpu-upgrade"})
    assert r.status == 200 and r.json()["hardware"]["requested"] == "cpu-upgrade", r
    ph.wait_until(lambda: hardware(d, name)["current"] == "cpu-upgrade", "the app on cpu-upgrade",
                  timeout=ph.DEPLOY_TIMEOUT, alive=d.assert_alive)
    d.wait_stage(ADMIN, name, "RUNNING")
    # control: the same request fits in cpu-upgrade's 768 MiB
    r = ph.wait_until(lambda: (lambda r: r if r.status == 200 else None)(
        d.get_app(ADMIN, name, "/hog", timeout=60)), "the hog served under cpu-upgrade", timeout=60)
    assert r.body == b"held %d" % (320 << 20), r

    # the choice survives a daemon restart
    d.restart()
    d.wait_stage(ADMIN, name, "RUNNING")
    assert hardware(d, name) == {"current": "cpu-upgrade", "requested": "cpu-upgrade"}
    assert d.get_app(ADMIN, name, "/hog", timeout=60).status == 200


def test_hardware_bad_input(hw_daemon):
    d = hw_daemon
    name = "hw-bad"
    d.create_space(name, sdk="static")
    path = "/api/spaces/admin/%s/hardware" % name
    for body, want in [({"flavor": "gpu-xxl"}, 400), ({}, 400), ({"flavor": 3}, 400),
                       ({"flavor": "vip"}, 200)]:  # admin-only flavors are the admin's
        r = d.api("POST", path, json=body)
        assert r.status == want, (body, r)
    assert b"cpu-basic, cpu-upgrade, vip" in d.api("POST", path, json={"flavor": "x"}).body
    r = ph.http_request(d.port, "POST", path, d.hub_host, b"{nope",
                        {"Authorization": "Bearer %s" % d.token})
    assert r.status == 400, r
    assert d.api("POST", path, json={"flavor": "cpu-basic"}, token=None).status == 401
    assert d.api("POST", path, json={"flavor": "cpu-basic"}, token="hf_bad").status == 401
    assert d.api("GET", path).status == 405
    assert d.api("POST", "/api/spaces/admin/none/hardware", json={"flavor": "cpu-basic"}).status == 404
    assert hardware(d, name)["requested"] == "vip"


def test_bad_config_refuses_to_start():
    d = ph.Daemon()
    try:
        with open(os.path.join(d.data_dir, "config.yaml"), "w") as f:
            f.write("hardware:\n  flavors:\n    tiny: {cpu: 1, memory: lots, pids: 64}\n")
        with pytest.raises(AssertionError) as e:
            d.start(timeout=30)
        assert "exited" in str(e.value) and "memory must be a size" in str(e.value), e.value
        assert "line 3" in str(e.value), e.value
    finally:
        if d.proc is not None and d.proc.poll() is None:
            d.stop()
        d.cleanup()
