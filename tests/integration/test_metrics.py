"""GET /metrics (issue 13 item 7): Prometheus text format for the admin token only;
counters move with traffic; the output passes `promtool check metrics` (Debian
package prometheus; skipped with the reason when it is absent) and a strict parse
here (family grouping, names, labels, histogram buckets)."""
import re
import shutil
import subprocess

import pytest

import podium_helpers as ph

ADMIN = ph.ADMIN

NAME_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\.)*)"(,|$)')

APP = r'''
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        code = 404 if self.path == "/missing" else 200
        body = b"x" * 1000
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass

ThreadingHTTPServer(("0.0.0.0", int(os.environ["PORT"])), H).serve_forever()
'''


def parse(text):
    """{(name, frozenset(labels)): value} and {family: type}; asserts the format."""
    samples, types, seen_done = {}, {}, set()
    current = None
    for line in text.splitlines():
        assert line == line.strip() and line, repr(line)
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            parts = line.split(" ", 3)
            fam = parts[2]
            assert NAME_RE.match(fam), line
            if fam != current:
                assert fam not in seen_done, "family %s split in two" % fam
                if current:
                    seen_done.add(current)
                current = fam
            if parts[1] == "TYPE":
                assert parts[3] in ("counter", "gauge", "histogram"), line
                types[fam] = parts[3]
            continue
        m = SAMPLE_RE.match(line)
        assert m, "bad sample line %r" % line
        name, labels_text, value = m.group(1), m.group(3) or "", m.group(4)
        fam = re.sub(r"_(bucket|sum|count)$", "", name) if types.get(current) == "histogram" else name
        assert fam == current, "sample %s outside its family %s" % (name, current)
        labels = dict((k, v) for k, v, _ in LABEL_RE.findall(labels_text))
        assert ",".join('%s="%s"' % kv for kv in labels.items()) == labels_text, line
        float(value)
        key = (name, frozenset(labels.items()))
        assert key not in samples, "duplicate series %r" % line
        samples[key] = float(value)
    # counters end in _total; histograms: cumulative buckets, +Inf equals _count
    for fam, t in types.items():
        if t == "counter":
            assert fam.endswith("_total"), fam
        if t == "histogram":
            series = {}
            for (name, labels), v in samples.items():
                if name == fam + "_bucket":
                    d = dict(labels)
                    le = d.pop("le")
                    series.setdefault(frozenset(d.items()), []).append(
                        (float("inf") if le == "+Inf" else float(le), v))
            for rest, buckets in series.items():
                buckets.sort()
                vals = [v for _, v in buckets]
                assert vals == sorted(vals), (fam, buckets)
                assert buckets[-1][0] == float("inf")
                assert samples[(fam + "_count", rest)] == buckets[-1][1], fam
    return samples, types


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def get_metrics(podium, token=ph.DEFAULT):
    return podium.api("GET", "/metrics", token=token, headers={"Accept": "text/plain"})


def test_metrics_auth(podium):
    r = get_metrics(podium, token=None)
    assert r.status == 401, r
    r = get_metrics(podium, token="hf_wrong")
    assert r.status == 401, r
    r = get_metrics(podium)
    assert r.status == 200 and r.headers.get("content-type", "").startswith("text/plain"), r
    assert "version=0.0.4" in r.headers.get("content-type", ""), r.headers
    r = podium.api("POST", "/metrics", json={})
    assert r.status == 405, r


def test_metrics_move_with_traffic(podium, tmp_path):
    name = "metered"
    podium.deploy(None, name, sdk="python",
                  files={"README.md": ph.front_matter(["sdk: python", "app_file: app.py"]),
                         "app.py": APP})
    sid = "%s/%s" % (ADMIN, name)
    before, types = parse(get_metrics(podium).text)
    assert value(before, "podium_space_stage", space=sid, stage="RUNNING") == 1
    assert types["podium_space_http_request_duration_seconds"] == "histogram"

    for _ in range(7):
        assert podium.get_app(ADMIN, name, "/").status == 200
    for _ in range(3):
        assert podium.get_app(ADMIN, name, "/missing").status == 404
    r = get_metrics(podium)
    after, _ = parse(r.text)

    def delta(n, **kw):
        return value(after, n, space=sid, **kw) - value(before, n, space=sid, **kw)

    assert delta("podium_space_http_requests_total", code="2xx") == 7
    assert delta("podium_space_http_requests_total", code="4xx") == 3
    assert delta("podium_space_http_request_duration_seconds_count") == 10
    assert value(after, "podium_space_http_request_duration_seconds_bucket", space=sid, le="+Inf") >= 10
    assert delta("podium_space_sent_bytes_total") >= 10 * 1000
    assert value(after, "podium_space_build_duration_seconds_count", space=sid) >= 1
    assert value(after, "podium_space_cold_start_seconds_count", space=sid) >= 1
    assert types["podium_space_cold_start_seconds"] == "histogram"
    assert value(after, "podium_space_memory_bytes", space=sid) > 1 << 20
    assert ("podium_space_cpu_seconds_total", frozenset({("space", sid)})) in after
    assert value(after, "podium_space_restarts_total", space=sid) == 0
    assert value(after, "process_resident_memory_bytes") > 1 << 20
    assert value(after, "process_open_fds") > 3
    assert value(after, "process_start_time_seconds") > 1.6e9
    assert value(after, "process_cpu_seconds_total") > 0

    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (Debian package prometheus): the strict parse "
                    "above passed, promtool check metrics was not run")
    p = subprocess.run([promtool, "check", "metrics"], input=r.body, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    assert p.returncode == 0, p.stdout.decode(errors="replace")
    # control: promtool does reject a broken exposition
    bad = r.body + b"podium_space_stage{space=\"x\" 1\n"
    p = subprocess.run([promtool, "check", "metrics"], input=bad, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    assert p.returncode != 0, p.stdout
