"""Pushes that overlap: a newer push supersedes the build in flight (the older one is
cancelled, never deployed), and deleting a space in the middle of a build is clean."""
import time

import podium_helpers as ph

ADMIN = ph.ADMIN


def slow_files(marker, seconds=30):
    return {"README.md": ph.front_matter(["sdk: static",
                                          "app_build_command: sleep %d" % seconds]),
            "index.html": "<p>%s</p>\n" % marker}


def test_newer_push_supersedes_build_in_flight(podium):
    podium.create_space("overlap", sdk="static")
    wd = podium.workdir_from(None, slow_files("first"))
    podium.push(wd, ADMIN, "overlap")
    podium.wait_stage(ADMIN, "overlap", "BUILDING")
    with open(ph.os.path.join(wd, "README.md"), "w") as f:
        f.write(ph.front_matter(["sdk: static"]))
    with open(ph.os.path.join(wd, "index.html"), "w") as f:
        f.write("<p>second</p>\n")
    sha2 = podium.push(wd, ADMIN, "overlap", message="second")
    # The second build is quick; the first (sleep 30) must not be waited for.
    rt = podium.wait_stage(ADMIN, "overlap", "RUNNING", timeout=20)
    r = podium.get_app(ADMIN, "overlap")
    assert r.status == 200 and b"second" in r.body, r
    assert podium.info(ADMIN, "overlap").json()["runtime"]["sha"] == sha2
    # ... and the cancelled first build never replaces it later.
    time.sleep(2)
    r = podium.get_app(ADMIN, "overlap")
    assert b"second" in r.body and b"first" not in r.body, r
    assert podium.runtime(ADMIN, "overlap")["stage"] == "RUNNING"


def test_delete_during_build(podium):
    podium.create_space("gone-mid-build", sdk="static")
    podium.push(podium.workdir_from(None, slow_files("doomed")), ADMIN, "gone-mid-build")
    podium.wait_stage(ADMIN, "gone-mid-build", "BUILDING")
    podium.delete_space("gone-mid-build")
    assert podium.info(ADMIN, "gone-mid-build").status == 404
    # The name is free again and the daemon is healthy.
    podium.deploy(None, "gone-mid-build", files={"README.md": ph.front_matter(["sdk: static"]),
                                                 "index.html": "<p>reborn</p>\n"})
    r = podium.get_app(ADMIN, "gone-mid-build")
    assert r.status == 200 and b"reborn" in r.body, r
    time.sleep(1)
    podium.assert_alive()
