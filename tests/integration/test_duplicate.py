"""Duplicating a space (Hub: duplicate_space): the copy has the same git history
and variables, never the secrets, is built and started, and is as private as its
source unless told otherwise; bad input is refused and creates nothing."""
import json
import subprocess

import pytest

import podium_helpers as ph

ADMIN = ph.ADMIN

APP = r'''
import json, os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class H(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({k: os.environ.get(k) for k in ("GREETING", "API_KEY", "SPACE_ID")}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

ThreadingHTTPServer(("0.0.0.0", int(os.environ["PORT"])), H).serve_forever()
'''


def heads(d, name):
    out = d.git("ls-remote", d.remote_url(ADMIN, name), cwd=d.scratch).stdout.decode()
    return sorted(line.split("\t") for line in out.strip().splitlines())


@pytest.fixture(scope="module")
def source(podium):
    podium.create_space("dupsrc", sdk="python")
    wd = podium.workdir_from(None, {"README.md": ph.front_matter(["sdk: python"]), "app.py": APP})
    podium.push(wd, ADMIN, "dupsrc")
    ph.write_files(wd, {"second.txt": "a second commit\n"})
    podium.push(wd, ADMIN, "dupsrc")
    # another branch comes along too
    podium.git("push", "-q", podium.remote_url(ADMIN, "dupsrc"), "main:feature", cwd=wd)
    for kind, key, value in (("variables", "GREETING", "hello from the source"),
                             ("secrets", "API_KEY", "s3cr3t-never-copied")):
        r = podium.api("POST", "/api/spaces/admin/dupsrc/" + kind, json={"key": key, "value": value})
        assert r.status == 200, r
    podium.wait_app(ADMIN, "dupsrc", predicate=lambda r: r.status == 200 and
                    r.json()["API_KEY"] == "s3cr3t-never-copied")
    return wd


def test_duplicate_copies_history_and_variables_not_secrets(podium, source):
    r = podium.api("POST", "/api/spaces/admin/dupsrc/duplicate", json={"repository": "admin/dupcopy"})
    assert r.status == 200, r
    assert r.json()["name"] == "admin/dupcopy" and r.json()["url"].endswith("/spaces/admin/dupcopy")
    # the same answer as repos/create (the Hub's shape)
    assert len(r.json()["id"]) == 24 and int(r.json()["id"], 16) >= 0, r.json()
    podium.wait_stage(ADMIN, "dupcopy", "RUNNING")
    env = podium.get_app(ADMIN, "dupcopy", "/").json()
    assert env == {"GREETING": "hello from the source", "API_KEY": None,
                   "SPACE_ID": "admin/dupcopy"}, env
    # control: the source still has its secret
    assert podium.get_app(ADMIN, "dupsrc", "/").json()["API_KEY"] == "s3cr3t-never-copied"
    assert heads(podium, "dupcopy") == heads(podium, "dupsrc")
    assert [h[1] for h in heads(podium, "dupcopy") if h[1].startswith("refs/heads/")] == [
        "refs/heads/feature", "refs/heads/main"]
    assert podium.api("GET", "/api/spaces/admin/dupcopy/secrets").json() == {}
    assert podium.info(ADMIN, "dupcopy").json()["private"] is False


def test_duplicate_of_a_private_space_is_private(podium):
    podium.create_space("duppriv", sdk="static", private=True)
    wd = podium.workdir_from(None, {"README.md": ph.front_matter(["sdk: static"]),
                                    "index.html": "<p>private original</p>\n"})
    podium.push(wd, ADMIN, "duppriv")
    podium.wait_stage(ADMIN, "duppriv", "RUNNING")
    r = podium.api("POST", "/api/spaces/admin/duppriv/duplicate", json={"repository": "admin/duppriv2"})
    assert r.status == 200, r
    podium.wait_stage(ADMIN, "duppriv2", "RUNNING")
    assert podium.info(ADMIN, "duppriv2").json()["private"] is True
    assert podium.info(ADMIN, "duppriv2", token=None).status == 404
    # and "private": false makes a public copy
    r = podium.api("POST", "/api/spaces/admin/duppriv/duplicate",
                   json={"repository": "admin/duppub", "private": False})
    assert r.status == 200, r
    podium.wait_stage(ADMIN, "duppub", "RUNNING")
    assert podium.info(ADMIN, "duppub", token=None).status == 200


@pytest.mark.parametrize("body,status", [
    ({}, 400),
    ({"repository": 5}, 400),
    ({"repository": "noslash"}, 400),
    ({"repository": "admin/bad name"}, 400),
    ({"repository": "admin/dupsrc"}, 409),
    ({"repository": "admin/okname", "private": "yes"}, 400),
])
def test_duplicate_bad_input(podium, source, body, status):
    before = {s["id"] for s in podium.api("GET", "/api/spaces").json()}
    r = podium.api("POST", "/api/spaces/admin/dupsrc/duplicate", json=body)
    assert r.status == status, r
    assert "error" in r.json()
    assert {s["id"] for s in podium.api("GET", "/api/spaces").json()} == before


def test_duplicate_needs_a_token(podium, source):
    r = podium.api("POST", "/api/spaces/admin/dupsrc/duplicate", json={"repository": "admin/x1"},
                   token=None)
    assert r.status == 401, r
    r = podium.api("GET", "/api/spaces/admin/dupsrc/duplicate")
    assert r.status == 405 and r.headers.get("allow") == "POST", r
