"""Log line times: a line's SSE timestamp is when the build or app wrote it, not
when the stream read it, so a reader who connects late sees old lines at their own
times. The text form gives the lines exactly as printed. And a failed build says
why: its errorMessage ends with the build log's last lines."""
import calendar
import http.client
import json
import re
import time

import podium_helpers as ph

ADMIN = ph.ADMIN
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def epoch(stamp):
    """'2026-12-06T02:28:10.123Z' -> seconds since the epoch."""
    assert STAMP.match(stamp), stamp
    return calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S")) + int(stamp[20:23]) / 1000


class SSE:
    """An SSE reader on a log endpoint; events() yields the JSON of each event."""

    def __init__(self, podium, path, timeout=60):
        self.conn = http.client.HTTPConnection("127.0.0.1", podium.port, timeout=timeout)
        self.conn.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
        self.conn.putheader("Host", podium.hub_host)
        self.conn.putheader("Accept", "text/event-stream")
        self.conn.putheader("Authorization", "Bearer " + podium.token)
        self.conn.endheaders()
        self.resp = self.conn.getresponse()
        assert self.resp.status == 200, self.resp.status

    def events(self):
        while True:
            line = self.resp.readline()
            if not line:
                return
            line = line.decode().rstrip("\r\n")
            if line.startswith("data: "):
                yield json.loads(line[len("data: "):])

    def until(self, text, seen):
        """Reads events into seen {data: timestamp} until one's data is text."""
        for ev in self.events():
            seen[ev["data"]] = ev["timestamp"]
            if ev["data"] == text:
                return ev
        raise AssertionError("stream ended before %r; saw %r" % (text, seen))

    def close(self):
        self.conn.close()


def log_text(podium, name, which):
    r = ph.http_request(podium.port, "GET", "/api/spaces/admin/%s/logs/%s" % (name, which),
                        podium.hub_host, headers={"Authorization": "Bearer " + podium.token})
    assert r.status == 200, r
    return r.text


def wait_log_line(podium, name, which, line):
    """Polls the text log until it has line; returns the wall time it was first seen."""
    podium.wait_until(lambda: line in log_text(podium, name, which).splitlines(),
                      "%r in the %s log" % (line, which), timeout=ph.DEPLOY_TIMEOUT)
    return time.time()


def test_build_log_keeps_line_times(podium):
    """early-line is printed, then the build sleeps; a reader connecting 2.5 s after
    the line was seen gets it stamped before it connected, and late-line (printed
    after it connected) stamped after."""
    podium.create_space("buildtimes", sdk="static")
    readme = ph.front_matter(["sdk: static",
                              "app_build_command: echo early-line; sleep 6; echo late-line"])
    podium.push(podium.workdir_from(None, {"README.md": readme, "index.html": "<p>ok</p>\n"}),
                ADMIN, "buildtimes")
    seen_at = wait_log_line(podium, "buildtimes", "build", "early-line")
    time.sleep(2.5)
    connected = time.time()
    sse = SSE(podium, "/api/spaces/admin/buildtimes/logs/build")
    seen = {}
    try:
        sse.until("late-line", seen)
    finally:
        sse.close()
    early, late = epoch(seen["early-line"]), epoch(seen["late-line"])
    # 0.01: the stamp has milliseconds, time.time() more
    assert early <= seen_at + 0.01, (seen, seen_at, connected)
    assert early < connected - 2, (seen, seen_at, connected)
    assert late >= connected - 0.01, (seen, connected)
    # the daemon's own lines are stamped too; every event has a well-formed time
    assert all(STAMP.match(t) for t in seen.values()), seen
    podium.wait_stage(ADMIN, "buildtimes", "RUNNING")
    # the text form is what the build printed, without the stored times
    text = log_text(podium, "buildtimes", "build").splitlines()
    assert "early-line" in text and "late-line" in text, text
    assert not any(STAMP.match(line) for line in text), text


RUN_APP = """\
import os, sys, time
from http.server import HTTPServer, BaseHTTPRequestHandler
sys.stdout.write("early-run-line t0=%.3f " % time.time())
sys.stdout.flush()
time.sleep(3)
sys.stdout.write("t1=%.3f\\n" % time.time())
sys.stdout.flush()
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        print("hit " + self.path, flush=True)
        self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *a):
        pass
HTTPServer(("0.0.0.0", int(os.environ["PORT"])), H).serve_forever()
"""


def test_run_log_keeps_line_times(podium):
    """The app prints half a line, waits 3 s, ends it: the line's time is its first
    byte's. A reader connecting later sees it at that time, and a line printed after
    it connected at a later time. The text form is exactly the app's output."""
    podium.deploy(None, "runtimes", sdk="python", files={
        "README.md": ph.front_matter(["sdk: python", "startup_duration_timeout: 1m"]),
        "app.py": RUN_APP})
    text = log_text(podium, "runtimes", "run")
    m = re.match(r"early-run-line t0=([\d.]+) t1=([\d.]+)\n", text)
    assert m, text
    t0, t1 = float(m.group(1)), float(m.group(2))
    time.sleep(2.5)
    connected = time.time()
    sse = SSE(podium, "/api/spaces/admin/runtimes/logs/run")
    seen = {}
    try:
        for ev in sse.events():
            seen[ev["data"]] = ev["timestamp"]
            if ev["data"].startswith("early-run-line"):
                break
        assert podium.get_app(ADMIN, "runtimes", "/after-connect").status == 200
        sse.until("hit /after-connect", seen)
    finally:
        sse.close()
    first = epoch(seen[m.group(0).rstrip("\n")])
    assert t0 - 0.01 <= first < t1, (seen, t0, t1)
    assert first < connected - 2, (seen, connected)
    assert epoch(seen["hit /after-connect"]) >= connected - 0.01, (seen, connected)
    text = log_text(podium, "runtimes", "run")
    assert text == m.group(0) + "hit /after-connect\n", text


def test_build_error_message_has_the_cause(podium):
    """The errorMessage of a failed build ends with the build log's last lines:
    what the command printed (42 is computed, so the command text cannot match)."""
    podium.create_space("causefail", sdk="static")
    readme = ph.front_matter(["sdk: static",
                              "app_build_command: echo podium-cause-$((6*7)) >&2; exit 1"])
    podium.push(podium.workdir_from(None, {"README.md": readme, "index.html": "x\n"}),
                ADMIN, "causefail")
    rt = podium.wait_stage(ADMIN, "causefail", "BUILD_ERROR")
    msg = rt.get("errorMessage", "")
    assert "last lines of the build log:" in msg, rt
    tail = msg.split("last lines of the build log:", 1)[1]
    assert "podium-cause-42" in tail.splitlines(), rt


FLOOD_APP = """\
import os, sys
from http.server import HTTPServer, BaseHTTPRequestHandler
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/flood":
            # 17 MiB in pieces that do not end on lines: the rotation at 16 MiB
            # cuts a line; the last line has the count
            line = b"f" * 1000 + b"\\n"
            data = line * (17 * 1024 * 1024 // len(line))
            for i in range(0, len(data), 7777):
                sys.stdout.buffer.write(data[i:i + 7777])
                sys.stdout.buffer.flush()
            print("flood-done %d" % (len(data) // len(line)), flush=True)
        self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *a):
        pass
print("flood app up", flush=True)
HTTPServer(("0.0.0.0", int(os.environ["PORT"])), H).serve_forever()
"""


def test_run_log_stream_follows_rotation(podium):
    """A reader following the run log while the app writes past the 16 MiB rotation
    goes on with the new file: every line arrives, whole, the cut one included."""
    podium.deploy(None, "floodlog", sdk="python", files={
        "README.md": ph.front_matter(["sdk: python"]), "app.py": FLOOD_APP})
    sse = SSE(podium, "/api/spaces/admin/floodlog/logs/run", timeout=30)
    counts = {}
    try:
        events = sse.events()
        assert next(events)["data"] == "flood app up"
        assert podium.get_app(ADMIN, "floodlog", "/flood", timeout=120).status == 200
        for ev in events:
            data = ev["data"]
            if data.startswith("flood-done "):
                done = int(data.split()[1])
                break
            counts[data] = counts.get(data, 0) + 1
    finally:
        sse.close()
    logs = ph.os.path.join(podium.data_dir, "logs", "admin", "floodlog")
    assert ph.os.path.exists(ph.os.path.join(logs, "app.log.1")), "no rotation happened"
    assert counts == {"f" * 1000: done}, {k[:20]: v for k, v in counts.items()}
