"""A delete interrupted by kill -9 is finished at the next start (issue 22.3).

The same space (a python app with a /data of its own and a few thousand files, so
that removing it takes a while) is created, deployed and deleted over and over;
each delete is cut by a kill -9 at another point of its course, spread over the
time an uninterrupted delete takes (measured first). The daemon's
PODIUM_TEST_DELETE_STEP_MS (only tests set it) pauses between the steps of a
delete, so the kills land between every two of them. After each restart the space
is either gone with nothing of it left on disk (repository, releases, /data and
its image, logs, build cache, mounts) and its name creatable again, or (a kill
before the delete began) whole."""
import os
import subprocess
import threading
import time

import pytest

import podium_helpers as ph

ADMIN = ph.ADMIN
NAME = "victim"
TRIALS = 12
FILES = 3000

APP = r'''
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
with open("/data/marker", "a") as f:
    f.write("x")
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        b = open("/data/marker").read().encode()
        self.send_response(200); self.send_header("Content-Length", str(len(b))); self.end_headers()
        self.wfile.write(b)
    def log_message(self, *a): pass
ThreadingHTTPServer(("0.0.0.0", int(os.environ["PORT"])), H).serve_forever()
'''


def paths(d):
    base = d.data_dir
    return [os.path.join(base, "repos", ADMIN, NAME + ".git"),
            os.path.join(base, "releases", ADMIN, NAME),
            os.path.join(base, "spacedata", ADMIN, NAME),
            os.path.join(base, "spacedata", ADMIN, NAME + ".img"),
            os.path.join(base, "logs", ADMIN, NAME),
            os.path.join(base, "cache", ADMIN, NAME)]


def leftovers(d):
    left = [p for p in paths(d) if os.path.lexists(p)]
    img = os.path.join(d.data_dir, "spacedata", ADMIN, NAME)
    if img in ph.mounts_under(d.data_dir):
        left.append("mounted: " + img)
    out = subprocess.run(["losetup", "-a"], capture_output=True, text=True).stdout
    left += ["loop: " + line for line in out.splitlines()
             if img + ".img" in line and "(deleted)" not in line]
    return left


@pytest.fixture(scope="module")
def d():
    if not os.path.exists("/dev/loop-control"):
        pytest.skip("no /dev/loop-control on this host: /data cannot be a filesystem of its own")
    with ph.own_daemon(config="storage:\n  default: tiny\n  tiers:\n    tiny: 16Mi\n",
                       env={"PODIUM_TEST_DELETE_STEP_MS": "150"}) as d:
        files = {"README.md": ph.front_matter(["sdk: python"]), "app.py": APP}
        files.update({"static/f%04d.txt" % i: "file %d\n" % i for i in range(FILES)})
        d.victim_wd = d.workdir_from(None, files)
        yield d


def deploy(d):
    r = d.create_space(NAME, sdk="python", expect=None)
    assert r.status == 200, "the name must be creatable again: %r\n%s" % (r, d.log_tail())
    d.push(d.victim_wd, ADMIN, NAME)
    d.wait_stage(ADMIN, NAME, "RUNNING")
    d.wait_app(ADMIN, NAME)
    assert not leftovers(d) == [], "the space should be on disk"
    assert os.path.exists(paths(d)[3]), "its /data image should exist"


def delete_in_background(d):
    out = {}

    def run():
        try:
            out["resp"] = d.delete_space(NAME, expect=None)
        except OSError as e:   # the daemon killed under it
            out["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, out


def test_a_delete_cut_anywhere_is_finished_at_the_next_start(d):
    # an uninterrupted delete first: how long one takes here
    deploy(d)
    t0 = time.monotonic()
    d.delete_space(NAME)
    whole = time.monotonic() - t0
    assert leftovers(d) == [], leftovers(d)
    outcomes = []
    for k in range(TRIALS):
        deploy(d)
        t, _ = delete_in_background(d)
        time.sleep(whole * (k + 0.5) / TRIALS)
        d.kill9()
        t.join(timeout=30)
        d.start()
        r = d.info(ADMIN, NAME)
        if r.status == 200:
            # killed before the delete began: the space is whole, and deletes now
            assert r.json()["runtime"]["stage"] != "DELETING", r
            assert all(os.path.exists(p) for p in paths(d)[:2]), leftovers(d)
            outcomes.append("before")
            d.delete_space(NAME)
        else:
            assert r.status == 404, r
            outcomes.append("during")
        assert leftovers(d) == [], "trial %d (kill at %.2f s of %.2f s): %r\n%s" % (
            k, whole * (k + 0.5) / TRIALS, whole, leftovers(d), d.log_tail())
        listed = [s["id"] for s in d.api("GET", "/api/spaces").json()]
        assert "admin/" + NAME not in listed, listed
    # the kills landed inside deletes, not only before them
    assert outcomes.count("during") >= TRIALS // 2, outcomes
