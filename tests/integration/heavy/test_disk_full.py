"""A full data disk (issue 22.1 and 22.4), on a small filesystem of the test's own
(a 640 MiB ext4 loop-mounted as the daemon's --data, reserve 48 MiB):

- the apps' /data images are sparse and together larger than the disk; what they
  may still take from it is shared out, and a write past that fails with ENOSPC
  inside the app at once, never acknowledged and lost later; every acknowledged
  byte reads back after a restart, and the filesystems report no error;
- a disk filled from outside (a filler file) is seen within seconds: apps' writes
  fail with ENOSPC, the runtime's errorMessage, the log and /metrics say so, the
  hub answers 507 "the server's disk is full" on every write path (create,
  variables, tokens, the commit API, a push's "remote:" line) while reads and
  running apps go on; everything recovers by itself once the filler is gone."""
import json
import os
import re
import subprocess
import time

import pytest

import podium_helpers as ph

ADMIN = ph.ADMIN
MIB = 1 << 20
DISK_MB = 768
RESERVE_MB = 48

# limits.build_disk: each space's build disk (issue 21) is an image on this disk too,
# which the share counts; small, as the releases here are
CONFIG = """\
disk:
  reserve: %dMi
limits:
  build_disk: 32Mi
storage:
  default: quarter
  tiers:
    quarter: 256Mi
""" % RESERVE_MB

APP = r'''
import errno, hashlib, json, os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs

def chunk(i):
    return hashlib.sha256(b"%d" % i).digest() * 32768          # 1 MiB

def err(e):
    return errno.errorcode.get(e.errno, str(e.errno))

def bump():
    p = "/data/counter"
    try:
        n = int(open(p).read())
    except (OSError, ValueError):
        n = 0
    try:
        with open(p + ".tmp", "w") as f:
            f.write(str(n + 1))
        os.replace(p + ".tmp", p)
        return {"count": n + 1}
    except OSError as e:
        return {"error": err(e)}

def fill(name, mb):
    n, e = 0, None
    try:
        with open("/data/" + name, "wb", buffering=0) as f:
            for i in range(mb):
                f.write(chunk(i))          # acknowledged once this returns
                n += 1
    except OSError as x:
        e = err(x)
    return {"written_mb": n, "error": e}

def check(name, mb):
    try:
        with open("/data/" + name, "rb") as f:
            for i in range(mb):
                if f.read(1 << 20) != chunk(i):
                    return {"ok": False, "bad_mb": i}
    except OSError as x:
        return {"ok": False, "error": err(x)}
    return {"ok": True}

class H(BaseHTTPRequestHandler):
    def do_GET(self):
        u = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        if u.path == "/bump":
            out = bump()
        elif u.path == "/count":
            try:
                out = {"count": int(open("/data/counter").read())}
            except (OSError, ValueError) as x:
                out = {"count": 0}
        elif u.path == "/fill":
            out = fill(q["name"], int(q["mb"]))
        elif u.path == "/check":
            out = check(q["name"], int(q["mb"]))
        elif u.path == "/rm":
            os.unlink("/data/" + q["name"])
            out = {}
        else:
            out = {"up": True}
        b = json.dumps(out).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def log_message(self, *a):
        pass

ThreadingHTTPServer(("0.0.0.0", int(os.environ["PORT"])), H).serve_forever()
'''


def run(*args):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def d():
    if not os.path.exists("/dev/loop-control"):
        pytest.skip("no /dev/loop-control: neither the small disk nor /data images can be made")
    d = ph.Daemon()
    img = os.path.join(d.workdir, "disk.img")
    with open(img, "wb") as f:
        f.truncate(DISK_MB * MIB)
    r = run("mkfs.ext4", "-q", "-F", "-m", "0", img)
    assert r.returncode == 0, r
    r = run("mount", "-o", "loop", img, d.data_dir)
    if r.returncode != 0:
        d.cleanup()
        pytest.skip("cannot loop-mount a filesystem here: %s" % r.stderr.strip())
    try:
        with open(os.path.join(d.data_dir, "config.yaml"), "w") as f:
            f.write(CONFIG)
        d.start()
        yield d
        assert d.stop(timeout=30) == 0, d.log_tail()
    finally:
        d.cleanup()   # unmounts everything below its workdir, the small disk last


def avail(d):
    st = os.statvfs(d.data_dir)
    return st.f_bavail * st.f_frsize


class Filler:
    """A file of the test's own that leaves `leave` bytes of the disk free."""

    def __init__(self, d, leave):
        self.path = os.path.join(d.data_dir, "filler")
        os.sync()
        size = avail(d) - leave
        assert size > 0, (avail(d), leave)
        with open(self.path, "wb") as f:
            os.posix_fallocate(f.fileno(), 0, size)

    def remove(self):
        os.unlink(self.path)


def metrics(d):
    r = d.api("GET", "/metrics")
    assert r.status == 200, r
    out = {}
    for line in r.text.splitlines():
        m = re.match(r'^(\w+)(?:\{space="([^"]*)"\})? (\S+)$', line)
        if m:
            out[(m.group(1), m.group(2))] = float(m.group(3))
    return out


def disk_full(d):
    return metrics(d).get(("podium_disk_full", None))


def app(d, name, path):
    r = d.get_app(ADMIN, name, path, timeout=120)
    assert r.status == 200, r
    return r.json()


def deploy(d, name):
    d.create_space(name, sdk="python")
    wd = d.workdir_from(None, {"README.md": ph.front_matter(["sdk: python"]), "app.py": APP})
    d.push(wd, ADMIN, name)
    d.wait_stage(ADMIN, name, "RUNNING")
    return wd


def image_errors(d):
    m = metrics(d)
    return {k[1]: v for k, v in m.items() if k[0] == "podium_space_data_errors_total"}


def test_apps_cannot_write_past_what_the_disk_has(d):
    deploy(d, "bigwriter")
    deploy(d, "neighbour")
    # the images may add up to more than the disk: 2 x 256 MiB, and a filler leaves
    # about 200 MiB free, of which 48 MiB are the reserve
    filler = Filler(d, 200 * MIB)
    try:
        # the daemon looks at the disk once a second: what the filler took (from
        # outside, all at once) is seen at the next look
        ph.wait_until(lambda: metrics(d)[("podium_space_data_limited", "admin/bigwriter")] == 1,
                      "the filler seen", timeout=30)
        out = app(d, "bigwriter", "/fill?name=big&mb=250")
        assert out["error"] == "ENOSPC", out
        written = out["written_mb"]
        assert 30 <= written < 200 - RESERVE_MB + 8, out   # its share, not its 256 MiB
        os.sync()
        # the disk still has its reserve: nothing was promised that it did not have
        assert avail(d) >= RESERVE_MB * MIB * 3 // 4, avail(d)
        # the room is shared: the neighbour keeps its share and writes on
        small = app(d, "neighbour", "/fill?name=small&mb=16")
        assert small == {"written_mb": 16, "error": None}, small
        # every acknowledged MiB is there after a restart (the filesystems written back)
        d.restart()
        d.wait_stage(ADMIN, "bigwriter", "RUNNING")
        assert app(d, "bigwriter", "/check?name=big&mb=%d" % written) == {"ok": True}
        assert image_errors(d) == {"admin/bigwriter": 0, "admin/neighbour": 0}, image_errors(d)
    finally:
        filler.remove()
    app(d, "bigwriter", "/rm?name=big")
    ph.wait_until(lambda: metrics(d)[("podium_space_data_limited", "admin/bigwriter")] == 0,
                  "bigwriter's /data no longer held back", timeout=30)


def test_a_disk_filled_from_outside_is_enospc_in_the_app_and_said(d):
    for _ in range(3):
        assert "count" in app(d, "neighbour", "/bump")
    before = app(d, "neighbour", "/count")["count"]
    filler = Filler(d, 20 * MIB)                  # under the reserve
    try:
        ph.wait_until(lambda: disk_full(d) == 1, "/metrics says the disk is full", timeout=30)
        ph.wait_until(lambda: metrics(d).get(("podium_space_data_room_bytes", "admin/neighbour"))
                      == 0, "no room left for the app", timeout=30)
        # the app's write fails now, it is never acknowledged and lost later
        assert app(d, "neighbour", "/bump") == {"error": "ENOSPC"}
        assert app(d, "neighbour", "/fill?name=more&mb=1") == {"written_mb": 0, "error": "ENOSPC"}
        assert app(d, "neighbour", "/count")["count"] == before       # reads go on
        rt = d.runtime(ADMIN, "neighbour")
        assert rt["stage"] == "RUNNING", rt
        assert "the server's disk is full" in rt.get("errorMessage", ""), rt
        assert "the data disk is full" in d.log_tail(400)
    finally:
        filler.remove()
    ph.wait_until(lambda: disk_full(d) == 0, "the disk seen freed", timeout=30)
    ph.wait_until(lambda: "count" in app(d, "neighbour", "/bump"), "the app writes again",
                  timeout=30)
    assert "errorMessage" not in d.runtime(ADMIN, "neighbour")
    after = app(d, "neighbour", "/count")["count"]
    assert after == before + 1, (before, after)
    d.restart()
    d.wait_stage(ADMIN, "neighbour", "RUNNING")
    assert app(d, "neighbour", "/count")["count"] == after             # nothing lost
    assert image_errors(d) == {"admin/bigwriter": 0, "admin/neighbour": 0}, image_errors(d)


def push(d, wd, name):
    ph.write_files(wd, {"note.txt": "pushed at %f\n" % time.time()})
    sha, p = d.try_push(wd, ADMIN, name)
    return p.returncode, p.stderr.decode(errors="replace")


def test_every_write_path_answers_507_while_reads_go_on(d):
    wd = deploy(d, "pushed")
    full = "the server's disk is full"
    filler = Filler(d, 20 * MIB)
    try:
        ph.wait_until(lambda: disk_full(d) == 1, "/metrics says the disk is full", timeout=30)
        writes = [
            ("POST", "/api/repos/create", {"type": "space", "name": "fresh", "sdk": "static"}),
            ("POST", "/api/spaces/admin/pushed/variables", {"key": "K", "value": "v"}),
            ("POST", "/api/spaces/admin/pushed/secrets", {"key": "S", "value": "v"}),
            ("POST", "/api/settings/tokens", {"name": "more", "role": "read"}),
        ]
        for method, path, body in writes:
            r = d.api(method, path, json=body)
            assert r.status == 507 and full in r.json()["error"], (path, r)
        r = ph.http_request(d.port, "POST", "/api/spaces/admin/pushed/commit/main", d.hub_host,
                            b'{"key":"header","value":{"summary":"x"}}\n'
                            b'{"key":"file","value":{"path":"a.txt","content":"YQ==",'
                            b'"encoding":"base64"}}\n',
                            {"Content-Type": "application/x-ndjson",
                             "Authorization": "Bearer " + d.token})
        assert r.status == 507 and full in r.json()["error"], r
        rc, err = push(d, wd, "pushed")
        assert rc != 0 and "remote: " + full in err, err
        # reads and running apps go on
        assert d.api("GET", "/api/spaces").status == 200
        assert d.api("GET", "/api/spaces/admin/pushed/variables").status == 200
        assert app(d, "pushed", "/")["up"] is True
        clone = os.path.join(d.scratch, "clone-while-full")
        r = subprocess.run(["git", "clone", "-q", d.remote_url(ADMIN, "pushed"), clone],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        refusals = metrics(d)[("podium_disk_write_refusals_total", None)]
        assert refusals >= 6, refusals
    finally:
        filler.remove()
    # recovers by itself
    ph.wait_until(lambda: disk_full(d) == 0, "the disk seen freed", timeout=30)
    for method, path, body in writes:
        r = d.api(method, path, json=body)
        assert r.status == 200, (path, r)
    rc, err = push(d, wd, "pushed")
    assert rc == 0, err
