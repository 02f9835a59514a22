"""A Node.js space: detected from package.json (no front matter), `npm install` runs
in the build sandbox, `npm start` serves on $PORT."""
import json

import podium_helpers as ph

ADMIN = ph.ADMIN

SERVER = """\
const http = require("http");
http.createServer((req, res) => {
  res.setHeader("Content-Type", "application/json");
  res.end(JSON.stringify({node: process.version, space: process.env.SPACE_ID, path: req.url}));
}).listen(Number(process.env.PORT), "0.0.0.0", () => console.log("node app up"));
"""


def test_node_app_from_package_json(podium):
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
