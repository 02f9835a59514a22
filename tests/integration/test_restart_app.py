"""A running app that crashes is restarted (with backoff) and serves again; its crash
output is in the run log."""
import podium_helpers as ph

ADMIN = ph.ADMIN

FRAGILE = """\
import os, sys, time
from http.server import HTTPServer, BaseHTTPRequestHandler
START = time.time()
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/crash":
            print("fragile: crashing on purpose", flush=True)
            os._exit(3)
        self.send_response(200); self.end_headers()
        self.wfile.write(("up since %f" % START).encode())
print("fragile: listening", flush=True)
HTTPServer(("0.0.0.0", int(os.environ["PORT"])), H).serve_forever()
"""


def test_crashed_app_is_restarted(podium):
    podium.deploy(None, "fragile", sdk="python", files={
        "README.md": ph.front_matter(["sdk: python"]), "app.py": FRAGILE})
    first = podium.get_app(ADMIN, "fragile").body
    assert first.startswith(b"up since"), first
    try:
        podium.get_app(ADMIN, "fragile", "/crash", timeout=5)
    except Exception:
        pass  # the connection dies with the app: 502 or a reset are both fine
    # Comes back by itself, as a new process.
    r = podium.wait_app(ADMIN, "fragile", predicate=lambda r: r.status == 200 and r.body != first,
                        timeout=60)
    assert r.body.startswith(b"up since"), r
    podium.wait_stage(ADMIN, "fragile", "RUNNING")
    log = ph.http_request(podium.port, "GET", "/api/spaces/admin/fragile/logs/run", podium.hub_host)
    assert b"fragile: crashing on purpose" in log.body
    assert log.body.count(b"fragile: listening") >= 2, log.body[-400:]
