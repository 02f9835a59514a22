"""The hub's router: a known path with the wrong method is 405 with Allow, an unknown
path is 404 whatever the method (issue 11.8); repos/create's "visibility" (issue 11.3)."""
import hashlib
import json

import pytest

import podium_helpers as ph

ADMIN = ph.ADMIN


@pytest.fixture(scope="module")
def routed(podium):
    podium.create_space("routed")
    return podium


def allowed(r):
    return {m.strip() for m in r.headers.get("allow", "").split(",") if m.strip()}


@pytest.mark.parametrize("method,path", [
    ("POST", "/api/spaces/admin/routed/nope"),
    ("PUT", "/api/spaces/admin/routed/nope"),
    ("DELETE", "/api/spaces/admin/routed/logs"),
    ("POST", "/api/spaces/admin/routed/runtime/extra"),
    ("GET", "/api/spaces/admin/routed/nope"),
    ("POST", "/api/nope"),
    ("DELETE", "/api/repos"),
    ("POST", "/api/spaces/admin"),
])
def test_unknown_path_is_404(routed, method, path):
    r = routed.api(method, path, json={} if method != "GET" else None)
    assert r.status == 404, (method, path, r)
    assert "error" in r.json()
    assert "allow" not in r.headers


@pytest.mark.parametrize("method,path,allow", [
    ("POST", "/api/spaces/admin/routed", {"GET", "HEAD"}),
    ("DELETE", "/api/spaces/admin/routed/runtime", {"GET", "HEAD"}),
    ("PUT", "/api/spaces/admin/routed/logs/build", {"GET", "HEAD"}),
    ("POST", "/api/spaces/admin/routed/logs/run", {"GET", "HEAD"}),
    ("POST", "/api/spaces", {"GET", "HEAD"}),
    ("POST", "/api/health", {"GET", "HEAD"}),
    ("DELETE", "/api/whoami-v2", {"GET", "HEAD"}),
    ("GET", "/api/repos/create", {"POST"}),
    ("PUT", "/api/repos/create", {"POST"}),
    ("POST", "/api/repos/delete", {"DELETE"}),
])
def test_known_path_wrong_method_is_405(routed, method, path, allow):
    r = routed.api(method, path, json={} if method != "GET" else None)
    assert r.status == 405, (method, path, r)
    assert allowed(r) == allow, r.headers
    assert method in r.json()["error"], r


@pytest.mark.parametrize("path", ["/api/spaces/admin/routed", "/api/spaces/admin/routed/runtime",
                                  "/api/spaces", "/api/health", "/api/whoami-v2"])
def test_known_paths_answer_get(routed, path):
    assert routed.api("GET", path).status == 200


def test_unknown_space_is_404_for_any_method(routed):
    for method in ("GET", "POST", "DELETE"):
        r = routed.api(method, "/api/spaces/admin/no-such-space/runtime")
        assert r.status == 404, (method, r)


def test_private_space_404_not_405(routed):
    """A wrong method does not tell a stranger that a private space exists."""
    routed.create_space("routed-private", private=True)
    r = routed.api("POST", "/api/spaces/admin/routed-private/runtime", token=None)
    assert r.status == 404, r
    r = routed.api("POST", "/api/spaces/admin/routed-private/runtime")
    assert r.status == 405, r  # control: its owner learns the method is wrong


def page(d, method, path, token=None):
    headers = {"Accept": "text/html"}
    if token:
        headers["Authorization"] = "Bearer " + token
    return ph.http_request(d.port, method, path, d.hub_host, b"" if method != "GET" else None,
                           headers)


@pytest.mark.parametrize("method,path,status,allow", [
    ("POST", "/", 405, {"GET", "HEAD"}),
    ("DELETE", "/spaces", 405, {"GET", "HEAD"}),
    ("POST", "/spaces/admin/routed", 405, {"GET", "HEAD"}),
    ("PUT", "/spaces/admin/routed/info/refs", 405, {"GET", "HEAD"}),
    ("GET", "/spaces/admin/routed/git-upload-pack", 405, {"POST"}),
    ("POST", "/spaces/admin/routed/nope", 404, set()),
    # /OWNER is a profile (issue 25): a page, so a POST to it is a wrong method
    ("POST", "/nope", 405, {"GET", "HEAD"}),
    ("POST", "/nope/deeper", 404, set()),
    ("GET", "/spaces/admin/routed/nope", 404, set()),
])
def test_hub_pages_and_git_methods(routed, method, path, status, allow):
    r = page(routed, method, path)
    assert r.status == status, (method, path, r)
    assert allowed(r) == allow, r.headers


def test_hub_known_pages_answer_get(routed):
    assert page(routed, "GET", "/").status == 200
    assert page(routed, "GET", "/spaces/admin/routed").status == 200
    r = ph.http_request(routed.port, "GET", "/spaces/admin/routed/info/refs?service=git-upload-pack",
                        routed.hub_host)
    assert r.status == 200, r


# ---- repos/create: "visibility" ---------------------------------------------------

def create(d, body):
    return d.api("POST", "/api/repos/create", json=dict({"type": "space", "sdk": "static"}, **body))


@pytest.mark.parametrize("body,private", [
    ({"visibility": "private"}, True),
    ({"visibility": "public"}, False),
    ({"visibility": "private", "private": True}, True),
    ({"visibility": "public", "private": False}, False),
    ({"private": True}, True),
    ({"visibility": None, "private": True}, True),
    ({}, False),
])
def test_create_visibility(routed, body, private):
    name = "vis-" + hashlib.sha1(json.dumps(body, sort_keys=True).encode()).hexdigest()[:10]
    r = create(routed, dict(body, name=name))
    assert r.status == 200, (body, r)
    info = routed.info(ADMIN, name)
    assert info.status == 200 and info.json()["private"] is private, (body, info)
    assert (routed.info(ADMIN, name, token=None).status == 404) is private


@pytest.mark.parametrize("body,words", [
    ({"visibility": "secret"}, "visibility"),
    ({"visibility": "PRIVATE"}, "visibility"),
    ({"visibility": True}, "visibility"),
    ({"visibility": "private", "private": False}, "contradicts"),
    ({"visibility": "public", "private": True}, "contradicts"),
    ({"private": "yes"}, "private"),
])
def test_create_bad_visibility(routed, body, words):
    r = create(routed, dict(body, name="vis-bad"))
    assert r.status == 400, (body, r)
    assert words in r.json()["error"], r
    assert routed.info(ADMIN, "vis-bad").status == 404
