"""Live resource usage in the runtime JSON (issue 13 item 6): CPU seconds, memory
now and peak, processes, bytes on /data, read from the box's cgroups and the
filesystem, and moving when the app does something."""
import podium_helpers as ph

ADMIN = ph.ADMIN

APP = r'''
import os, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

held = []

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        if self.path == "/burn":
            end = time.process_time() + 1.5
            while time.process_time() < end:
                pass
        elif self.path == "/hold":
            held.append(bytearray(64 << 20))  # touched: bytearray zero-fills
        elif self.path == "/write":
            with open("/data/blob", "wb") as f:
                f.write(os.urandom(3 << 20))
                f.flush()
                os.fsync(f.fileno())
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass

ThreadingHTTPServer(("0.0.0.0", int(os.environ["PORT"])), H).serve_forever()
'''


def resources(podium, name):
    rt = podium.runtime(ADMIN, name)
    assert "resources" in rt, rt
    return rt["resources"]


def test_resources_move_with_the_app(podium):
    name = "usage"
    podium.deploy(None, name, sdk="python",
                  files={"README.md": ph.front_matter(["sdk: python", "app_file: app.py"]),
                         "app.py": APP})
    r0 = ph.wait_until(lambda: (lambda r: r if r["dataBytes"] is not None else None)(
        resources(podium, name)), "a first /data measurement", timeout=30)
    for k in ("cpuSeconds", "memoryBytes", "memoryPeakBytes", "processes"):
        assert r0[k] is not None and r0[k] >= 0, r0
    assert r0["processes"] >= 1 and r0["memoryBytes"] > 1 << 20, r0

    assert podium.get_app(ADMIN, name, "/burn").status == 200
    assert podium.get_app(ADMIN, name, "/hold").status == 200
    assert podium.get_app(ADMIN, name, "/write").status == 200
    r1 = resources(podium, name)
    assert r1["cpuSeconds"] >= r0["cpuSeconds"] + 1.0, (r0, r1)
    assert r1["memoryBytes"] >= r0["memoryBytes"] + (48 << 20), (r0, r1)
    assert r1["memoryPeakBytes"] >= r1["memoryBytes"], r1
    # /data is measured in the background: the new file shows within seconds
    r2 = ph.wait_until(lambda: (lambda r: r if r["dataBytes"] >= r0["dataBytes"] + (3 << 20) else None)(
        resources(podium, name)), "the 3 MiB file counted on /data", timeout=30,
        alive=podium.assert_alive)
    assert r2["dataBytes"] < r0["dataBytes"] + (8 << 20), (r0, r2)
    # the full space info carries them too; a list does not read every box
    info = podium.info(ADMIN, name).json()
    assert "resources" in info["runtime"], info


def test_no_app_no_numbers(podium):
    podium.create_space("usage-empty", sdk="static")
    r = resources(podium, "usage-empty")
    assert r["cpuSeconds"] is None and r["memoryBytes"] is None and r["processes"] is None, r
