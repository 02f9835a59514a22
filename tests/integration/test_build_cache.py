"""The build cache: a redeploy whose dependency inputs are unchanged reuses the
installed node_modules / .venv instead of running npm or pip again, and says so in
the build log; a change of those inputs installs afresh (the control); the cache
goes with the space."""
import io
import json
import os
import subprocess
import tarfile

import pytest

import podium_helpers as ph

ADMIN = ph.ADMIN

SERVER = """\
const http = require("http");
const greet = require("greet-dep");
http.createServer((req, res) => res.end(greet("%s") + "\\n"))
  .listen(Number(process.env.PORT), "0.0.0.0");
"""


def npm_tarball():
    """A real npm package tarball (package/ prefix), installed from the repo itself:
    npm needs no registry for it."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for name, text in {
            "package/package.json": json.dumps({"name": "greet-dep", "version": "1.0.0",
                                                "main": "index.js"}),
            "package/index.js": "module.exports = (v) => 'greet-dep says ' + v;\n",
        }.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def need_node():
    for tool in ("/usr/bin/node", "/usr/bin/npm"):
        if subprocess.run([tool, "--version"], capture_output=True).returncode != 0:
            pytest.skip("%s does not run on this host: node spaces cannot build here" % tool)


def build_log(podium, name):
    r = podium.api("GET", "/api/spaces/%s/%s/logs/build" % (ADMIN, name))
    assert r.status == 200, r
    return r.text


def redeploy(podium, wd, name, files, expect):
    ph.write_files(wd, files)
    podium.push(wd, ADMIN, name)
    podium.wait_app(ADMIN, name, "/", predicate=lambda r: r.status == 200 and expect in r.text)
    return build_log(podium, name)


@pytest.fixture(scope="module")
def node_space(podium):
    need_node()
    pkg = {"name": "cached", "version": "1.0.0", "private": True,
           "dependencies": {"greet-dep": "file:vendor/greet-dep-1.0.0.tgz"},
           "scripts": {"start": "node server.js"}}
    podium.create_space("nodecache", sdk="node")
    wd = podium.workdir_from(None, {
        "README.md": ph.front_matter(["sdk: node"]),
        "package.json": json.dumps(pkg, indent=2) + "\n",
        "server.js": SERVER % "v1"})
    os.makedirs(os.path.join(wd, "vendor"))
    with open(os.path.join(wd, "vendor", "greet-dep-1.0.0.tgz"), "wb") as f:
        f.write(npm_tarball())
    podium.push(wd, ADMIN, "nodecache")
    podium.wait_stage(ADMIN, "nodecache", "RUNNING")
    return wd, pkg


def test_first_node_build_installs_and_fills_the_cache(podium, node_space):
    log = build_log(podium, "nodecache")
    assert "--> npm install\n" in log, log
    assert "--> save the installed dependencies to the build cache" in log, log
    r = podium.get_app(ADMIN, "nodecache", "/")
    assert r.status == 200 and r.text == "greet-dep says v1\n", r
    cache = os.path.join(podium.data_dir, "releases", ADMIN, "nodecache", ".cache")
    entries = [e for e in os.listdir(cache) if e.startswith("node-")]
    assert len(entries) == 1 and os.path.exists(os.path.join(cache, entries[0], "ok")), entries


def test_code_only_redeploy_reuses_node_modules(podium, node_space):
    wd, _ = node_space
    log = redeploy(podium, wd, "nodecache", {"server.js": SERVER % "v2"}, "v2")
    assert "build cache: reusing node_modules" in log, log
    assert "--> npm install\n" not in log and "--> npm ci\n" not in log, log
    r = podium.get_app(ADMIN, "nodecache", "/")
    assert r.text == "greet-dep says v2\n", r     # the restored dependency works


def test_changed_package_json_installs_again(podium, node_space):
    # Control: the same cache, but the dependency inputs changed.
    wd, pkg = node_space
    pkg = dict(pkg, description="now with a description")
    log = redeploy(podium, wd, "nodecache", {"package.json": json.dumps(pkg, indent=2) + "\n",
                                              "server.js": SERVER % "v3"}, "v3")
    assert "--> npm install\n" in log, log
    assert "reusing node_modules" not in log, log
    # the cache holds the new entry only
    cache = os.path.join(podium.data_dir, "releases", ADMIN, "nodecache", ".cache")
    assert len([e for e in os.listdir(cache) if e.startswith("node-")]) == 1


APP = """\
import http.server, os, flask
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("flask %%s %s\\n" %% flask.__name__).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
http.server.ThreadingHTTPServer(("0.0.0.0", int(os.environ["PORT"])), H).serve_forever()
"""


def test_python_venv_reused_and_removed_with_the_space(podium):
    # requirements.txt is satisfied from Debian's python3-flask (system site
    # packages), so pip needs no index here.
    podium.create_space("pycache", sdk="python")
    wd = podium.workdir_from(None, {
        "README.md": ph.front_matter(["sdk: python"]),
        "requirements.txt": "flask\n",
        "app.py": APP % "v1"})
    podium.push(wd, ADMIN, "pycache")
    podium.wait_stage(ADMIN, "pycache", "RUNNING")
    log = build_log(podium, "pycache")
    assert "--> pip install -r requirements.txt\n" in log, log
    log = redeploy(podium, wd, "pycache", {"app.py": APP % "v2"}, "v2")
    assert "build cache: reusing .venv" in log and "pip install" not in log, log
    # control: a changed requirements.txt runs pip again
    log = redeploy(podium, wd, "pycache", {"requirements.txt": "flask\n# pinned later\n",
                                            "app.py": APP % "v3"}, "v3")
    assert "--> pip install -r requirements.txt\n" in log, log
    cache = os.path.join(podium.data_dir, "releases", ADMIN, "pycache", ".cache")
    assert os.path.isdir(cache)
    podium.delete_space("pycache")
    assert not os.path.exists(cache)
