"""`sdk` and `runtime.sha` say what serves: the serving release's sdk (from its README,
not the create-time value) and commit; `sha` (as on the Hub) and `lastPushedSha` are
main's tip, built or not; `runtime.sha` is null while nothing serves."""
import podium_helpers as ph

ADMIN = ph.ADMIN

APP = """\
import os
from http.server import HTTPServer, BaseHTTPRequestHandler
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"gradio-less app")
HTTPServer(("0.0.0.0", int(os.environ["PORT"])), H).serve_forever()
"""

CRASH = "import sys\nprint('serving-release: broken on purpose', flush=True)\nsys.exit(4)\n"


def test_sdk_is_the_readmes(podium):
    # created as python, the README says gradio (the app needs only the stdlib)
    podium.create_space("says-gradio", sdk="python")
    sha = podium.push(podium.workdir_from(None, {
        "README.md": ph.front_matter(["sdk: gradio", "app_file: app.py"]), "app.py": APP}),
        ADMIN, "says-gradio")
    podium.wait_app(ADMIN, "says-gradio", predicate=lambda r: r.status == 200)
    j = podium.info(ADMIN, "says-gradio").json()
    assert j["sdk"] == "gradio" and j["runtime"]["sdk"] == "gradio", j
    assert j["runtime"]["sha"] == sha and j["sha"] == j["lastPushedSha"] == sha, j
    listed = {s["id"]: s for s in podium.api("GET", "/api/spaces").json()}
    assert listed["admin/says-gradio"]["sdk"] == "gradio"


def test_docker_readme_is_reported_not_the_create_value(podium):
    podium.create_space("says-docker", sdk="python")
    sha = podium.push(podium.workdir_from(None, {
        "README.md": ph.front_matter(["sdk: docker"]), "Dockerfile": "FROM scratch\n"}),
        ADMIN, "says-docker")
    # CONFIG_ERROR where images cannot be built; else BUILD_ERROR (an empty image, no CMD)
    podium.wait_stage(ADMIN, "says-docker", ["CONFIG_ERROR", "BUILD_ERROR"], timeout=300)
    j = podium.info(ADMIN, "says-docker").json()
    assert j["sdk"] == "docker", j
    assert j["runtime"]["sha"] is None and j["sha"] == j["lastPushedSha"] == sha, j


def test_new_release_that_never_serves(podium):
    # a static release serves; the next push is a python app that crashes at once
    podium.create_space("stays-static", sdk="python")
    wd = podium.workdir_from(None, {"README.md": ph.front_matter(["sdk: static"]),
                                    "index.html": "<p>static release</p>\n"})
    old = podium.push(wd, ADMIN, "stays-static")
    podium.wait_app(ADMIN, "stays-static", predicate=lambda r: r.status == 200 and b"static" in r.body)
    ph.write_files(wd, {"README.md": ph.front_matter(["sdk: python", "app_file: app.py"]),
                        "index.html": None, "app.py": CRASH})
    new = podium.push(wd, ADMIN, "stays-static", message="broken app")

    def given_up():
        rt = podium.runtime(ADMIN, "stays-static")
        return rt if rt["stage"] == "RUNNING" and "broken on purpose" in (rt.get("errorMessage") or "") \
            else None

    podium.wait_until(given_up, "the new release given up", timeout=120)
    r = podium.get_app(ADMIN, "stays-static")
    assert r.status == 200 and b"static release" in r.body, r
    j = podium.info(ADMIN, "stays-static").json()
    assert j["sdk"] == "static" and j["runtime"]["sdk"] == "static", j
    assert j["runtime"]["sha"] == old and j["sha"] == j["lastPushedSha"] == new, j
