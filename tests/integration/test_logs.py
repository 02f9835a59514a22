"""Build and run logs: a text snapshot, and an SSE stream (as the Hub serves its log
endpoints) whose lines arrive while the build runs and which ends with the build."""
import http.client
import json
import time

import podium_helpers as ph

ADMIN = ph.ADMIN

SLOW = ph.front_matter(["title: Slow build", "sdk: static",
                        "app_build_command: for i in 1 2 3 4; do echo build-step-$i; sleep 1; done"])


def sse_events(podium, path, timeout=60):
    """Yields (arrival time, event JSON) as the events arrive; ends with the stream."""
    conn = http.client.HTTPConnection("127.0.0.1", podium.port, timeout=timeout)
    conn.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
    conn.putheader("Host", podium.hub_host)
    conn.putheader("Accept", "text/event-stream")
    conn.putheader("Authorization", "Bearer " + podium.token)
    conn.endheaders()
    r = conn.getresponse()
    assert r.status == 200, r.status
    assert r.getheader("Content-Type").startswith("text/event-stream")
    try:
        while True:
            line = r.readline()
            if not line:
                return
            line = line.decode().rstrip("\r\n")
            if line.startswith("data: "):
                yield time.monotonic(), json.loads(line[len("data: "):])
    finally:
        conn.close()


def test_build_log_streams_while_building(podium):
    podium.create_space("slowlog", sdk="static")
    podium.push(podium.workdir_from(None, {"README.md": SLOW, "index.html": "<p>ok</p>\n"}),
                ADMIN, "slowlog")
    podium.wait_stage(ADMIN, "slowlog", "BUILDING")
    seen = {}
    ended = None
    for t, ev in sse_events(podium, "/api/spaces/admin/slowlog/logs/build"):
        assert set(ev) >= {"data", "timestamp"}, ev
        for i in range(1, 5):
            if ev["data"] == "build-step-%d" % i:
                seen[i] = t
    ended = time.monotonic()
    assert sorted(seen) == [1, 2, 3, 4], seen
    # streamed as the build ran, not all at the end
    assert seen[1] < seen[4] - 1.5, seen
    assert ended >= seen[4]
    rt = podium.wait_stage(ADMIN, "slowlog", "RUNNING")
    # the snapshot form has the same lines
    r = ph.http_request(podium.port, "GET", "/api/spaces/admin/slowlog/logs/build", podium.hub_host,
                        headers={"Authorization": "Bearer " + podium.token})
    assert r.status == 200 and b"build-step-4" in r.body, r


def test_run_log_has_app_output(podium):
    podium.deploy(ph.os.path.join(ph.EXAMPLES, "python-stdlib"), "runlog", sdk="python")
    podium.get_app(ADMIN, "runlog", "/api/info")
    r = ph.http_request(podium.port, "GET", "/api/spaces/admin/runlog/logs/run", podium.hub_host)
    assert r.status == 200, r
    assert b"GET /api/info" in r.body, r.body[-500:]


def test_logs_of_private_space_need_token(podium):
    podium.create_space("secretlog", sdk="static", private=True)
    r = ph.http_request(podium.port, "GET", "/api/spaces/admin/secretlog/logs/build", podium.hub_host)
    assert r.status == 404, r


CHATTY = """\
import os, sys
from http.server import HTTPServer, BaseHTTPRequestHandler
line = ("x" * 1023 + "\\n").encode()
for _ in range(20 * 1024):          # 20 MiB of output
    sys.stdout.buffer.write(line)
sys.stdout.flush()
print("chatty: done talking", flush=True)
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
HTTPServer(("0.0.0.0", int(os.environ["PORT"])), H).serve_forever()
"""


def test_app_log_is_rotated(podium):
    podium.deploy(None, "chatty", sdk="python", files={
        "README.md": ph.front_matter(["sdk: python"]), "app.py": CHATTY})
    logs = ph.os.path.join(podium.data_dir, "logs", "admin", "chatty")
    cur = ph.os.path.getsize(ph.os.path.join(logs, "app.log"))
    old = ph.os.path.getsize(ph.os.path.join(logs, "app.log.1"))
    assert cur <= 16 << 20 and old <= 16 << 20, (cur, old)
    assert cur + old >= 20 << 20, (cur, old)
    with open(ph.os.path.join(logs, "app.log"), "rb") as f:
        assert b"chatty: done talking" in f.read()


def test_stream_ended_while_its_request_body_is_owed(podium):
    """A build-log stream with a request body that never completes: the stream
    ends on its first tick (no build runs), then the client goes away still
    owing body bytes. The stream's state must live until the exchange is done
    with it (under ASan the daemon before this rule read freed memory and
    died here). Control: the daemon answers afterwards."""
    import socket
    podium.create_space("owed", sdk="static")
    podium.push(podium.workdir_from(None, {"index.html": "hi\n"}), ADMIN, "owed")
    podium.wait_stage(ADMIN, "owed", "RUNNING")
    for _ in range(3):
        s = socket.create_connection(("127.0.0.1", podium.port))
        s.sendall(b"GET /api/spaces/admin/owed/logs/build HTTP/1.1\r\nHost: " +
                  podium.hub_host.encode() + b"\r\nAccept: text/event-stream\r\n"
                  b"Authorization: Bearer " + podium.token.encode() +
                  b"\r\nContent-Length: 100\r\n\r\n0123456789")
        time.sleep(0.6)
        s.close()
    time.sleep(0.3)
    assert podium.proc.poll() is None, podium.log_tail()
    assert podium.api("GET", "/api/health").status == 200
