"""A build interrupted by a daemon crash is marked failed, not left BUILDING forever;
a space that was serving keeps serving its last good release after the restart."""
import os

import podium_helpers as ph

ADMIN = ph.ADMIN

SLOW_BUILD = ph.front_matter(["title: Slow", "sdk: static", "app_build_command: sleep 60"])


def test_build_interrupted_by_kill9(make_daemon):
    d = make_daemon()
    # A space with no release yet, and one serving an older release.
    d.create_space("fresh", sdk="static")
    d.create_space("serving", sdk="static")
    wd = d.workdir_from(None, {"README.md": ph.front_matter(["sdk: static"]),
                               "index.html": "<p>old release</p>\n"})
    d.push(wd, ADMIN, "serving")
    d.wait_app(ADMIN, "serving", predicate=lambda r: r.status == 200 and b"old release" in r.body)

    d.push(d.workdir_from(None, {"README.md": SLOW_BUILD, "index.html": "<p>new</p>\n"}),
           ADMIN, "fresh")
    with open(os.path.join(wd, "README.md"), "w") as f:
        f.write(SLOW_BUILD)
    d.push(wd, ADMIN, "serving", message="slow build")
    d.wait_stage(ADMIN, "fresh", "BUILDING")
    d.wait_stage(ADMIN, "serving", "RUNNING_BUILDING")

    d.kill9()
    d.start()

    rt = d.wait_stage(ADMIN, "fresh", "BUILD_ERROR", timeout=30)
    assert "interrupted" in rt.get("errorMessage", ""), rt

    rt = d.wait_stage(ADMIN, "serving", "RUNNING", timeout=60)
    assert "interrupted" in rt.get("errorMessage", ""), rt
    r = d.get_app(ADMIN, "serving")
    assert r.status == 200 and b"old release" in r.body, r
