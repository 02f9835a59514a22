"""A Node.js space: detected from package.json (no front matter), `npm install` runs
in the build sandbox, `npm start` serves on $PORT."""
import json
import subprocess

import pytest

import podium_helpers as ph

ADMIN = ph.ADMIN

SERVER = """\
const http = require("http");
http.createServer((req, res) => {
  res.setHeader("Content-Type", "application/json");
  res.end(JSON.stringify({node: process.version, space: process.env.SPACE_ID, path: req.url}));
}).listen(Number(process.env.PORT), "0.0.0.0", () => console.log("node app up"));
"""


def need_node():
    """Apps see the host's /usr: the build needs /usr/bin/node and npm there
    (make deps installs Debian's nodejs and npm).  Checked on the host first."""
    for tool in ("/usr/bin/node", "/usr/bin/npm"):
        try:
            r = subprocess.run([tool, "--version"], capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as e:
            pytest.skip("%s does not run on this host (%s): node spaces cannot build here" % (tool, e))
        if r.returncode != 0:
            pytest.skip("%s --version failed on this host (%d): %s" % (tool, r.returncode, r.stderr[-200:]))


def test_node_app_from_package_json(podium):
    need_node()
    pkg = {"name": "nodedemo", "version": "1.0.0", "private": True,
           "scripts": {"start": "node server.js"}}
    podium.deploy(None, "nodedemo", sdk="node", files={
        "README.md": "# A node demo without front matter\n",
        "package.json": json.dumps(pkg, indent=2) + "\n",
        "server.js": SERVER})
    r = podium.get_app(ADMIN, "nodedemo", "/hello")
    assert r.status == 200, r
    body = r.json()
    assert body["space"] == "admin/nodedemo" and body["path"] == "/hello", body
    assert body["node"].startswith("v"), body
    assert podium.info(ADMIN, "nodedemo").json()["sdk"] == "node"
