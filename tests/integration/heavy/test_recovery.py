"""Daemon stops at bad moments of a deploy: during the release switch (the new app is
starting) the good build is deployed again after the restart; a build interrupted too
often fails visibly, and that failure stays shown when the old app is back up."""
import os
import signal

import pytest

import podium_helpers as ph

ADMIN = ph.ADMIN

APP = """\
import os, time
from http.server import HTTPServer, BaseHTTPRequestHandler
time.sleep(%(delay)s)
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"%(version)s")
    def log_message(self, *a):
        pass
HTTPServer(("0.0.0.0", int(os.environ["PORT"])), H).serve_forever()
"""


def app_files(version, delay=0, build=None):
    card = ["title: Versions", "sdk: python", "app_file: app.py"]
    if build:
        card.append("app_build_command: %s" % build)
    return {"README.md": ph.front_matter(card), "app.py": APP % {"delay": delay, "version": version}}


def body_is(version):
    return lambda r: r.status == 200 and r.body == version.encode()


def release_dirs(d, name):
    """The release directories (the build disk also holds .cache and lost+found)."""
    return sorted(e for e in os.listdir(os.path.join(d.data_dir, "releases", ADMIN, name))
                  if e.isdigit())


@pytest.mark.parametrize("how", ["kill9", "sigterm"])
def test_switch_interrupted_by_daemon_stop(make_daemon, how):
    d = make_daemon()
    d.create_space("switcher", sdk="python")
    wd = d.workdir_from(None, app_files("v1"))
    v1 = d.push(wd, ADMIN, "switcher")
    d.wait_app(ADMIN, "switcher", predicate=body_is("v1"))
    # v2 builds fast and its app takes a while to listen: stop the daemon meanwhile
    ph.write_files(wd, app_files("v2", delay=6))
    v2 = d.push(wd, ADMIN, "switcher", message="v2")
    d.wait_stage(ADMIN, "switcher", "RUNNING_APP_STARTING")
    j = d.info(ADMIN, "switcher").json()
    assert j["runtime"]["sha"] == v1 and j["lastPushedSha"] == v2, j

    if how == "kill9":
        d.kill9()
    else:
        assert d.stop(signal.SIGTERM) == 0, d.log_tail()
    d.start()

    # v2's release was kept and is deployed; until it serves the API does not claim it
    r = d.wait_app(ADMIN, "switcher", predicate=lambda r: r.status == 200, timeout=60)
    if r.body == b"v1":
        assert d.info(ADMIN, "switcher").json()["runtime"]["sha"] in (v1, None)
    d.wait_app(ADMIN, "switcher", predicate=body_is("v2"), timeout=90)
    rt = d.wait_stage(ADMIN, "switcher", "RUNNING")
    assert not rt.get("errorMessage"), rt
    j = d.info(ADMIN, "switcher").json()
    assert j["runtime"]["sha"] == v2 and j["lastPushedSha"] == v2, j
    # the switch's release stays, v1's too (kept for rollback): successful builds only
    d.wait_until(lambda: set(release_dirs(d, "switcher")) == ph.ok_releases(d, ADMIN, "switcher"),
                 "only successful releases on disk", timeout=30)


def test_build_interrupted_too_often_fails_visibly(make_daemon):
    d = make_daemon()
    d.create_space("stubborn", sdk="python")
    wd = d.workdir_from(None, app_files("v1"))
    v1 = d.push(wd, ADMIN, "stubborn")
    d.wait_app(ADMIN, "stubborn", predicate=body_is("v1"))
    ph.write_files(wd, app_files("v2", build="sleep 60"))
    v2 = d.push(wd, ADMIN, "stubborn", message="v2")
    d.wait_stage(ADMIN, "stubborn", "RUNNING_BUILDING")
    # every start builds it again, until the attempts are used up
    for _ in range(2):
        d.kill9()
        d.start()
        d.wait_stage(ADMIN, "stubborn", {"BUILDING", "RUNNING_BUILDING"}, timeout=30)
        log = ph.http_request(d.port, "GET", "/api/spaces/admin/stubborn/logs/build", d.hub_host).body
        assert b"building it again" in log, log
    d.kill9()
    d.start()
    # the old app comes back, and the failure stays visible after it is up
    d.wait_app(ADMIN, "stubborn", predicate=body_is("v1"), timeout=60)
    rt = d.wait_stage(ADMIN, "stubborn", "RUNNING")
    assert "interrupted" in rt.get("errorMessage", ""), rt
    j = d.info(ADMIN, "stubborn").json()
    assert j["runtime"]["sha"] == v1 and j["lastPushedSha"] == v2, j
    # the three interrupted builds left no release directory
    assert set(release_dirs(d, "stubborn")) == ph.ok_releases(d, ADMIN, "stubborn") == {"1"}, (
        release_dirs(d, "stubborn"), ph.ok_releases(d, ADMIN, "stubborn"))
    # ... and a new push clears it
    ph.write_files(wd, app_files("v3"))
    v3 = d.push(wd, ADMIN, "stubborn", message="v3")
    d.wait_app(ADMIN, "stubborn", predicate=body_is("v3"))
    rt = d.wait_stage(ADMIN, "stubborn", "RUNNING")
    assert not rt.get("errorMessage"), rt
    assert d.info(ADMIN, "stubborn").json()["runtime"]["sha"] == v3

