"""The three examples deploy with a plain git push and serve through the proxy."""
import os
import re

import pytest

import podium_helpers as ph

ADMIN = ph.ADMIN
EXAMPLES = {
    # space name: (example dir, sdk given at create)
    "site": ("static", "static"),
    "stdlib": ("python-stdlib", "python"),
    "flasky": ("flask", "python"),
}


def card_of(example):
    """The README front matter of an example as a dict (flat `key: value` YAML only)."""
    with open(os.path.join(ph.EXAMPLES, example, "README.md"), encoding="utf-8") as f:
        text = f.read()
    m = re.match(r"---\n(.*?)\n---\n", text, re.S)
    card = {}
    for line in m.group(1).splitlines():
        k, v = line.split(":", 1)
        v = v.strip()
        if v in ("true", "false"):
            v = v == "true"
        elif v.isdigit():
            v = int(v)
        card[k.strip()] = v
    return card


@pytest.fixture(scope="module")
def examples(podium):
    """Pushes all three examples first (their builds overlap), then waits for each."""
    shas = {}
    for name, (example, sdk) in EXAMPLES.items():
        podium.create_space(name, sdk=sdk)
        wd = podium.workdir_from(os.path.join(ph.EXAMPLES, example))
        # the static one goes through the quickstart's remote URL host name
        host = "localhost" if name == "site" else "127.0.0.1"
        shas[name] = podium.push(wd, ADMIN, name, host=host)
    for name in EXAMPLES:
        podium.wait_stage(ADMIN, name, "RUNNING")
    return shas


def test_static_example(podium, examples):
    r = podium.wait_app(ADMIN, "site")
    assert "text/html" in r.headers.get("content-type", "")
    assert "Hello from podium" in r.text
    r = podium.get_app(ADMIN, "site", "/index.html")
    assert r.status == 200 and "Hello from podium" in r.text
    r = podium.get_app(ADMIN, "site", "/style.css")
    assert r.status == 200 and "text/css" in r.headers.get("content-type", "")
    assert "linear-gradient" in r.text
    r = podium.get_app(ADMIN, "site", "/app.js")
    assert r.status == 200 and "javascript" in r.headers.get("content-type", "")
    assert r.body == open(os.path.join(ph.EXAMPLES, "static", "app.js"), "rb").read()
    r = podium.get_app(ADMIN, "site", "/no-such-file.html")
    assert r.status == 404
    r = podium.get_app(ADMIN, "site", "/", method="HEAD")
    assert r.status == 200 and r.body == b""


def test_static_host_forms(podium, examples):
    # routing is by Host; the port is ignored and host names are case-insensitive
    for host in ("admin-site.localhost", "admin-site.localhost:%d" % podium.port,
                 "admin-site.localhost:1", "ADMIN-SITE.LocalHost:%d" % podium.port):
        r = ph.http_request(podium.port, "GET", "/", host)
        assert r.status == 200 and "Hello from podium" in r.text, (host, r)


def test_python_stdlib_example(podium, examples):
    r = podium.wait_app(ADMIN, "stdlib")
    assert "Stdlib Counter" in r.text and "admin/stdlib" in r.text
    info = podium.get_app(ADMIN, "stdlib", "/api/info").json()
    assert info["space_id"] == "admin/stdlib"
    assert info["space_author_name"] == "admin"
    assert info["space_repo_name"] == "stdlib"
    assert info["space_title"] == "Stdlib Counter"
    assert info["system"] == "spaces"
    assert info["port"] == "7860" and info["listening_port"] == 7860
    assert info["space_host"].startswith("admin-stdlib.localhost")
    assert info["cwd"] == "/home/user/app"
    assert info["persistent_storage"] is True
    before = podium.get_app(ADMIN, "stdlib", "/api/counter").json()["count"]
    r1 = podium.get_app(ADMIN, "stdlib", "/api/counter", method="POST", body=b"")
    r2 = podium.get_app(ADMIN, "stdlib", "/api/counter", method="POST", body=b"")
    assert r1.status == 200 and r2.status == 200
    assert r1.json()["count"] == before + 1 and r2.json()["count"] == before + 2
    assert podium.get_app(ADMIN, "stdlib", "/api/counter").json()["count"] == before + 2
    assert podium.get_app(ADMIN, "stdlib", "/nope").status == 404


def test_flask_example(podium, examples):
    r = podium.wait_app(ADMIN, "flasky")
    assert "Hello from Flask" in r.text
    info = podium.get_app(ADMIN, "flasky", "/api/info").json()
    assert info["framework"] == "flask"
    assert info["space_id"] == "admin/flasky"
    assert info["port"] == "7860" and info["listening_port"] == 7860
    assert info["cwd"] == "/home/user/app"
    r = podium.get_app(ADMIN, "flasky", "/api/echo?x=1", method="POST", body=b'{"hello": "podium"}',
                       headers={"Content-Type": "application/json"})
    assert r.status == 200
    assert r.json() == {"json": {"hello": "podium"}, "args": {"x": "1"}}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_space_info(podium, examples, name):
    example, sdk = EXAMPLES[name]
    r = podium.info(ADMIN, name)
    assert r.status == 200, r
    j = r.json()
    assert j["id"] == "admin/%s" % name
    assert j["sdk"] == sdk
    assert j["private"] is False
    assert j["sha"] == examples[name]
    assert j["host"] == "http://admin-%s.localhost:%d" % (name, podium.port)
    assert j["runtime"]["stage"] == "RUNNING"
    expected = card_of(example)
    card = j["cardData"]
    for k, v in expected.items():
        assert card.get(k) == v, (k, card)
    rt = podium.runtime(ADMIN, name)
    assert rt["stage"] == "RUNNING"
    assert not rt.get("errorMessage")


def test_spaces_list_has_examples(podium, examples):
    spaces = {s["id"]: s for s in podium.api("GET", "/api/spaces").json()}
    for name, (_, sdk) in EXAMPLES.items():
        s = spaces["admin/%s" % name]
        assert s["sdk"] == sdk
        assert s["runtime"]["stage"] == "RUNNING"
        assert s["host"] == "http://admin-%s.localhost:%d" % (name, podium.port)


@pytest.mark.parametrize("suffix", ["", ".git"])
def test_anonymous_clone_public(podium, examples, suffix):
    dest = os.path.join(podium.workdir_from(None), "clone")
    podium.git("clone", "-q", podium.remote_url(ADMIN, "site", token=None, suffix=suffix), dest)
    head = podium.git("rev-parse", "HEAD", cwd=dest).stdout.decode().strip()
    assert head == examples["site"]
    for f in ("README.md", "index.html", "style.css", "app.js"):
        with open(os.path.join(dest, f), "rb") as a, open(os.path.join(ph.EXAMPLES, "static", f), "rb") as b:
            assert a.read() == b.read(), f
    # fetch of a public space needs no auth either
    out = podium.git("ls-remote", podium.remote_url(ADMIN, "site", token=None, host="localhost",
                                                     suffix=suffix)).stdout.decode()
    assert "%s\trefs/heads/main" % examples["site"] in out
