"""Hub API shapes, names, auth, hosts (INTERFACES.md "HTTP API", "Names", "Hosts")."""
import json
import os
import re
import stat

import pytest

import podium_helpers as ph

ADMIN = ph.ADMIN


def test_health(podium):
    r = podium.api("GET", "/api/health", token=None)
    assert r.status == 200
    assert r.json() == {"status": "ok"}
    assert "json" in r.headers.get("content-type", "")


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.1:{port}", "localhost", "localhost:{port}",
                                  "[::1]", "[::1]:{port}"])
def test_hub_hosts(podium, host):
    r = podium.api("GET", "/api/health", token=None, host=host.format(port=podium.port))
    assert r.status == 200, r
    assert r.json() == {"status": "ok"}


def test_admin_token_file(podium):
    path = os.path.join(podium.data_dir, "admin.token")
    st = os.stat(path)
    assert stat.S_IMODE(st.st_mode) == 0o600
    with open(path) as f:
        content = f.read()
    assert content.endswith("\n") and content.count("\n") == 1
    assert content.strip() == podium.token and len(podium.token) >= 16


def test_whoami(podium):
    r = podium.api("GET", "/api/whoami-v2")
    assert r.status == 200, r
    j = r.json()
    assert j["type"] == "user"
    assert j["name"] == "admin"


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_whoami_needs_valid_token(podium, token):
    # As on the Hugging Face Hub: 401 with a JSON error for a missing/invalid token.
    r = podium.api("GET", "/api/whoami-v2", token=token)
    assert r.status == 401, r
    assert "error" in r.json()


def test_create_shape_and_duplicate(podium):
    r = podium.create_space("demo", sdk="static")
    j = r.json()
    # "id": the Hub's repository id (24 hex digits), which @huggingface/hub returns
    assert re.fullmatch(r"[0-9a-f]{24}", j.pop("id", "")), r
    # the url is on the host the request came to (the Hub's clients check it)
    assert j == {"url": "http://%s/spaces/admin/demo" % podium.hub_host, "name": "admin/demo"}
    r = podium.api("POST", "/api/repos/create", json={"type": "space", "name": "demo-dom",
                   "sdk": "static"}, host="localhost:%d" % podium.port)
    assert r.json()["url"] == "http://localhost:%d/spaces/admin/demo-dom" % podium.port, r
    r = podium.create_space("demo", sdk="static", expect=409)
    assert "error" in r.json()
    # the space exists and is readable
    r = podium.info(ADMIN, "demo")
    assert r.status == 200, r
    j = r.json()
    assert j["id"] == "admin/demo"
    assert j["sdk"] == "static"
    assert j["private"] is False
    assert j["host"] == "http://admin-demo.localhost:%d" % podium.port
    assert "stage" in j["runtime"]


def test_create_in_organization(podium):
    r = podium.create_space("orgdemo", organization="alice")
    j = r.json()
    assert re.fullmatch(r"[0-9a-f]{24}", j.pop("id", "")), r
    assert j == {"url": "http://%s/spaces/alice/orgdemo" % podium.hub_host,
                 "name": "alice/orgdemo"}
    j = podium.info("alice", "orgdemo").json()
    assert j["id"] == "alice/orgdemo"
    assert j["host"] == "http://alice-orgdemo.localhost:%d" % podium.port


@pytest.mark.parametrize("name", [".bad", "-bad", "a..b", "x" * 65, "sp ace", "", "a b", "a:b", "é"])
def test_create_invalid_names(podium, name):
    r = podium.create_space(name, expect=400)
    assert "error" in r.json()
    # nothing was created under a mangled name
    ids = [s["id"] for s in podium.api("GET", "/api/spaces").json()]
    assert "admin/%s" % name not in ids


@pytest.mark.parametrize("org", [".org", "-org", "o..rg", "o" * 65, "o rg"])
def test_create_invalid_organization(podium, org):
    podium.create_space("fine", organization=org, expect=400)


def test_create_bad_payloads(podium):
    for body in (b"{not json", b"[]", json.dumps({"type": "space"}).encode()):
        r = ph.http_request(podium.port, "POST", "/api/repos/create", podium.hub_host, body,
                            {"Authorization": "Bearer " + podium.token,
                             "Content-Type": "application/json"})
        assert r.status == 400, (body, r)
        assert "error" in r.json()


def test_create_name_boundaries(podium):
    podium.create_space("y" * 64)
    podium.create_space("a")
    podium.create_space("Ok_name.v2-x")
    j = podium.info(ADMIN, "Ok_name.v2-x").json()
    assert j["host"] == "http://admin-ok-name-v2-x.localhost:%d" % podium.port


@pytest.mark.parametrize("first,second", [
    (("Foo", None), ("foo", None)),
    (("a.b", None), ("a-b", None)),
    (("c_d", None), ("c.d", None)),
    (("x-y", "bob"), ("y", "bob-x")),   # bob-x-y both ways
])
def test_create_subdomain_collision(podium, first, second):
    podium.create_space(first[0], organization=first[1])
    r = podium.create_space(second[0], organization=second[1], expect=409)
    assert "error" in r.json()


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_mutating_calls_need_token(podium, token):
    r = podium.create_space("noauth", token=token, expect=401)
    assert isinstance(r.json().get("error"), str)
    assert podium.info(ADMIN, "noauth").status == 404
    keep = "keepme-%s" % ("anon" if token is None else "wrong")
    podium.create_space(keep)
    r = podium.delete_space(keep, token=token, expect=401)
    assert isinstance(r.json().get("error"), str)
    assert podium.info(ADMIN, keep).status == 200


def test_missing_space_404(podium):
    assert podium.info(ADMIN, "does-not-exist").status == 404
    r = podium.api("GET", "/api/spaces/admin/does-not-exist/runtime")
    assert r.status == 404
    podium.delete_space("does-not-exist", expect=404)


def test_spaces_list_shape(podium):
    podium.create_space("listed")
    r = podium.api("GET", "/api/spaces")
    assert r.status == 200
    spaces = r.json()
    assert isinstance(spaces, list)
    by_id = {s["id"]: s for s in spaces}
    s = by_id["admin/listed"]
    assert s["sdk"] == "static"
    assert s["private"] is False
    assert s["host"] == "http://admin-listed.localhost:%d" % podium.port
    assert isinstance(s["runtime"]["stage"], str)
    # anonymous listing shows public spaces too
    ids = [x["id"] for x in podium.api("GET", "/api/spaces", token=None).json()]
    assert "admin/listed" in ids


def test_fresh_space_runtime(podium):
    podium.create_space("empty-one")
    rt = podium.runtime(ADMIN, "empty-one")
    # an empty repo has nothing to run (HF shows NO_APP_FILE); never an app stage
    assert rt["stage"] not in ph.SERVING_STAGES | {"BUILDING", "APP_STARTING"}, rt
    assert podium.get_app(ADMIN, "empty-one").status != 200


@pytest.mark.parametrize("host", ["nosuch-space.localhost", "nosuch-space.localhost:{port}",
                                  "example.com", "admin-demo.example.com", "localhost.evil",
                                  "a.b.localhost"])
def test_unknown_host_404(podium, host):
    r = ph.http_request(podium.port, "GET", "/", host.format(port=podium.port))
    assert r.status == 404, r
    r = ph.http_request(podium.port, "GET", "/api/health", host.format(port=podium.port))
    assert r.status == 404, r


def test_delete_space(podium):
    wd, sha = podium.deploy(None, "doomed", files={
        "README.md": ph.front_matter(["title: Doomed", "sdk: static"]),
        "index.html": "<h1>doomed space</h1>"})
    podium.wait_app(ADMIN, "doomed", predicate=lambda r: r.status == 200 and b"doomed space" in r.body)
    podium.delete_space("doomed")
    podium.wait_until(lambda: podium.info(ADMIN, "doomed").status == 404, "info 404 after delete")
    podium.wait_until(lambda: podium.get_app(ADMIN, "doomed").status == 404, "host 404 after delete")
    assert "admin/doomed" not in [s["id"] for s in podium.api("GET", "/api/spaces").json()]
    p = podium.git("ls-remote", podium.remote_url(ADMIN, "doomed", token=None), check=False)
    assert p.returncode != 0
    # the name is free again, and the new space starts empty
    podium.create_space("doomed")
    j = podium.info(ADMIN, "doomed").json()
    assert not j.get("sha"), j
    assert podium.get_app(ADMIN, "doomed").status != 200


@pytest.mark.parametrize("path", [b"/api/\xff", b"/api/spaces/admin/caf\xe9", b"/api/spaces/admin/x\xe2\x82"])
def test_bytes_not_utf8_in_path(podium, path):
    """The 404 message quotes the path: bytes that are not UTF-8 (JSON cannot
    carry them) become '?' instead of taking the daemon down."""
    status, out = ph.raw_request(podium.port, b"GET " + path + b" HTTP/1.1\r\nHost: " +
                                 podium.hub_host.encode() + b"\r\nConnection: close\r\n\r\n")
    assert status == 404, out
    body = json.loads(out.split(b"\r\n\r\n", 1)[1].decode("utf-8"))
    assert isinstance(body["error"], str)
    assert podium.api("GET", "/api/health").status == 200


def test_long_message_cut_inside_a_character(podium):
    """An error message quoting 600 two-byte characters is cut at 1 KiB, in the
    middle of one: still valid JSON. Control: the daemon still answers."""
    r = ph.http_request(podium.port, "POST", "/api/repos/create", podium.hub_host,
                        json.dumps({"name": "x", "type": "é" * 600}).encode(),
                        {"Authorization": "Bearer " + podium.token,
                         "Content-Type": "application/json"})
    assert r.status == 400, r
    msg = r.json()["error"]
    assert msg.startswith('type "éé') and msg.endswith("é?"), msg
    assert podium.api("GET", "/api/health").status == 200


def test_create_wrong_types(podium):
    for body in ({"name": "typed", "sdk": 5}, {"name": "typed", "type": 1},
                 {"name": "typed", "space_sdk": ["python"]}):
        r = ph.http_request(podium.port, "POST", "/api/repos/create", podium.hub_host,
                            json.dumps(body).encode(),
                            {"Authorization": "Bearer " + podium.token,
                             "Content-Type": "application/json"})
        assert r.status == 400, (body, r)
        assert "must be a string" in r.json()["error"]
    assert podium.info(ADMIN, "typed").status == 404
    podium.create_space("typed", sdk="static")  # control


@pytest.mark.parametrize("name", ["foo.git", "Bar.GIT"])
def test_create_name_ending_in_git(podium, name):
    """A remote URL may end in .git, so "foo.git" would be reached as "foo"."""
    r = podium.create_space(name, expect=400)
    assert ".git" in r.json()["error"]
    assert podium.info(ADMIN, name).status == 404
