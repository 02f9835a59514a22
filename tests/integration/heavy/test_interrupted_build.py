"""A build interrupted by a daemon stop (kill -9 or SIGTERM) is not lost: after the
restart the newest push is built again and ends up serving, a first build included;
meanwhile the older release keeps serving and the API never claims the new commit
before it serves. No release directory of the interrupted build stays on disk."""
import os
import signal

import pytest

import podium_helpers as ph

ADMIN = ph.ADMIN


def slow(version, seconds=8):
    return {"README.md": ph.front_matter(["title: Slow", "sdk: static",
                                          "app_build_command: sleep %d" % seconds]),
            "index.html": "<p>%s</p>\n" % version}


def release_dirs(d, name):
    path = os.path.join(d.data_dir, "releases", ADMIN, name)
    # the build disk also holds .cache and lost+found
    return sorted(e for e in os.listdir(path) if e.isdigit()) if os.path.isdir(path) else []


def body_has(text):
    return lambda r: r.status == 200 and text.encode() in r.body


@pytest.mark.parametrize("how", ["kill9", "sigterm"])
def test_build_interrupted_by_daemon_stop(make_daemon, how):
    # both builds run at once, though one owner's (limits.builds_per_user)
    d = make_daemon(config="limits:\n  builds_per_user: 2\n")
    # A space with no release yet, and one serving an older release.
    d.create_space("fresh", sdk="static")
    d.create_space("serving", sdk="static")
    wd = d.workdir_from(None, {"README.md": ph.front_matter(["sdk: static"]),
                               "index.html": "<p>old release</p>\n"})
    old_sha = d.push(wd, ADMIN, "serving")
    d.wait_app(ADMIN, "serving", predicate=body_has("old release"))

    fresh_sha = d.push(d.workdir_from(None, slow("fresh release")), ADMIN, "fresh")
    ph.write_files(wd, slow("new release"))
    new_sha = d.push(wd, ADMIN, "serving", message="slow build")
    d.wait_stage(ADMIN, "fresh", "BUILDING")
    d.wait_stage(ADMIN, "serving", "RUNNING_BUILDING")
    # the interrupted builds have their release directories on disk
    d.wait_until(lambda: len(release_dirs(d, "fresh")) == 1, "fresh's release dir", timeout=30)
    d.wait_until(lambda: len(release_dirs(d, "serving")) == 2, "the new release's dir", timeout=30)
    interrupted = {"fresh": release_dirs(d, "fresh")[0], "serving": release_dirs(d, "serving")[-1]}

    if how == "kill9":
        d.kill9()
    else:
        assert d.stop(signal.SIGTERM) == 0, d.log_tail()
    d.start()

    # The old release serves meanwhile, and the API says so.
    r = d.wait_app(ADMIN, "serving", predicate=lambda r: r.status == 200, timeout=30)
    if b"old release" in r.body:
        j = d.info(ADMIN, "serving").json()
        assert j["runtime"]["sha"] in (old_sha, None), j
        assert j["lastPushedSha"] == new_sha, j
    # Both pushes are built again and serve.
    d.wait_app(ADMIN, "serving", predicate=body_has("new release"), timeout=120)
    d.wait_app(ADMIN, "fresh", predicate=body_has("fresh release"), timeout=120)
    for name, sha in (("serving", new_sha), ("fresh", fresh_sha)):
        rt = d.wait_stage(ADMIN, name, "RUNNING", timeout=60)
        assert not rt.get("errorMessage"), rt
        j = d.info(ADMIN, name).json()
        assert j["runtime"]["sha"] == sha and j["lastPushedSha"] == sha, j
        # the interrupted build's dir is gone; what is on disk are successful
        # releases only (the newest 5 are kept for rollback), the serving one among them
        dirs = release_dirs(d, name)
        ok = ph.ok_releases(d, ADMIN, name)
        assert interrupted[name] not in dirs and set(dirs) <= ok, (name, dirs, interrupted, ok)
        assert str(d.api("GET", "/api/spaces/admin/%s/releases" % name).json()[0]["id"]) in dirs
    log = ph.http_request(d.port, "GET", "/api/spaces/admin/fresh/logs/build", d.hub_host).body
    assert b"building it again" in log, log[-600:]
    # the rebuilt release stays served after one more restart (nothing left to rebuild)
    d.restart()
    d.wait_app(ADMIN, "fresh", predicate=body_has("fresh release"), timeout=60)
    assert d.wait_stage(ADMIN, "fresh", "RUNNING").get("errorMessage") is None
