"""Daemon restarts: SIGTERM (graceful) and kill -9 both come back with every space
that was meant to run RUNNING and serving, /data intact. Runs last, on its own
daemon and data dir."""
import os

import pytest

import podium_helpers as ph

ADMIN = ph.ADMIN


@pytest.fixture(scope="module")
def rd(make_daemon):
    d = make_daemon()
    d.create_space("site", sdk="static")
    d.push(d.workdir_from(os.path.join(ph.EXAMPLES, "static")), ADMIN, "site")
    d.create_space("counter", sdk="python")
    d.push(d.workdir_from(os.path.join(ph.EXAMPLES, "python-stdlib")), ADMIN, "counter")
    d.create_space("broken", sdk="static")
    d.push(d.workdir_from(None, {"README.md": ph.front_matter(["title: Broken", "sdk: rubyonrails"])}),
           ADMIN, "broken")
    d.create_space("hidden", sdk="static", private=True)
    d.push(d.workdir_from(None, {"README.md": ph.front_matter(["sdk: static"]),
                                 "index.html": "<p>hidden</p>\n"}), ADMIN, "hidden")
    for name in ("site", "counter", "hidden"):
        d.wait_stage(ADMIN, name, "RUNNING")
    d.wait_stage(ADMIN, "broken", "CONFIG_ERROR")
    return d


def bump(d):
    r = d.get_app(ADMIN, "counter", "/api/counter", method="POST", body=b"")
    assert r.status == 200, r
    return r.json()["count"]


def check_back(d, count, token):
    assert d.token == token, "admin.token must survive restarts"
    for name in ("site", "counter", "hidden"):
        d.wait_stage(ADMIN, name, "RUNNING")
    d.wait_app(ADMIN, "site", predicate=lambda r: r.status == 200 and b"Hello from podium" in r.body)
    d.wait_app(ADMIN, "counter", "/api/counter", predicate=lambda r: r.status == 200)
    assert d.get_app(ADMIN, "counter", "/api/counter").json()["count"] == count
    info = d.get_app(ADMIN, "counter", "/api/info").json()
    assert info["space_id"] == "admin/counter"
    assert d.runtime(ADMIN, "broken")["stage"] == "CONFIG_ERROR"
    assert d.info(ADMIN, "hidden", token=None).status == 404
    assert d.info(ADMIN, "hidden").json()["private"] is True


def test_restart_after_sigterm(rd):
    d = rd
    d.wait_app(ADMIN, "counter", "/api/counter")
    n = bump(d)
    token = d.token
    rc = d.stop()  # asserts exit within 20 s
    assert rc == 0, "graceful stop should exit 0, got %r\n%s" % (rc, d.log_tail())
    d.start()
    check_back(d, n, token)


def test_restart_after_kill9(rd):
    d = rd
    n = bump(d)
    token = d.token
    d.kill9()
    d.start()
    check_back(d, n, token)
    # the platform is fully usable afterwards: a redeploy goes through
    wd = d.workdir_from(os.path.join(ph.EXAMPLES, "static"), {
        "index.html": "<h1>after the crash</h1>\n"})
    # a fresh clone-less workdir would not fast-forward; fetch the current main first
    d.git("init", "-q", cwd=wd)
    d.git("fetch", "-q", d.remote_url(ADMIN, "site", token=None), "main", cwd=wd)
    d.git("reset", "-q", "--soft", "FETCH_HEAD", cwd=wd)
    d.push(wd, ADMIN, "site", message="after kill -9")
    d.wait_app(ADMIN, "site", predicate=lambda r: r.status == 200 and b"after the crash" in r.body)
    d.wait_stage(ADMIN, "site", "RUNNING")
