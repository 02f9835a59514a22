"""Issue 21.7: a private space cannot be told from a missing one. Every path that names
a space (git's smart HTTP, the pages, the API, the files) answers alice's private
space exactly as a space that does not exist: anonymously (git: the same 401
challenge), with bob's token, with a wrong token. Controls: alice herself reaches
every one of them (the space is there), and a public space of hers answers anyone."""
import base64
import os

import pytest

import podium_helpers as ph
from tenants import tenants

PAGES = ["", "/", "/logs", "/settings", "/resolve/main/README.md", "/raw/main/index.html"]
GIT = ["/info/refs?service=git-upload-pack", "/info/refs?service=git-receive-pack", "/HEAD",
       "/objects/info/packs", ".git/info/refs?service=git-upload-pack"]
API_GET = ["", "/runtime", "/logs/build", "/logs/run", "/egress", "/variables", "/secrets",
           "/releases", "/tree/main", "/revision/main", "/commits/main"]
API_POST = ["/restart", "/pause", "/sleeptime", "/hardware", "/rollback", "/storage",
            "/duplicate", "/variables", "/secrets", "/egress", "/preupload/main", "/commit/main"]
GIT_POST = ["/git-upload-pack", "/git-receive-pack"]
# the private space: a name no answer holds by chance ("priv" is in "private")
PRIV = "zq7"


@pytest.fixture(scope="module")
def spaces(podium):
    alice, bob = tenants(podium, "hid-alice", "hid-bob")
    files = {"README.md": ph.front_matter(["sdk: static"]), "index.html": "<p>hidden</p>\n"}
    for name, private in ((PRIV, True), ("pub", False)):
        podium.create_space(name, private=private, token=alice)
        podium.push(podium.workdir_from(None, files), "hid-alice", name, token=alice)
        podium.wait_stage("hid-alice", name, "RUNNING")
    return podium, alice, bob


def basic(token):
    return "Basic " + base64.b64encode(("x:%s" % token).encode()).decode()


def callers(alice, bob):
    return {"anonymous": {}, "bob": {"Authorization": "Bearer " + bob},
            "bob-basic": {"Authorization": basic(bob)},
            "wrong-token": {"Authorization": "Bearer hf_" + "1" * 48}}


def ask(d, method, path, headers, body=None):
    h = dict(headers)
    if body is not None:
        h["Content-Type"] = "application/json"
    return ph.http_request(d.port, method, path, d.hub_host, body=body, headers=h)


def shape(r, name):
    """What a caller can observe, the space's own name aside."""
    keep = ("content-type", "www-authenticate", "x-error-code", "allow", "location")
    return (r.status, r.body.replace(name.encode(), b"NAME"),
            tuple((k, r.headers.get(k, "").replace(name, "NAME")) for k in keep))


def requests():
    for p in PAGES:
        yield "GET", "/spaces/hid-alice/%s" + p, None
    for p in GIT:
        yield "GET", "/spaces/hid-alice/%s" + p, None
    for p in GIT_POST:
        yield "POST", "/spaces/hid-alice/%s" + p, b"0000"
    for p in API_GET:
        yield "GET", "/api/spaces/hid-alice/%s" + p, None
        yield "HEAD", "/api/spaces/hid-alice/%s" + p, None
    for p in API_POST:
        yield "POST", "/api/spaces/hid-alice/%s" + p, b"{}"
    yield "DELETE", "/api/spaces/hid-alice/%s/variables", b'{"key": "K"}'
    yield "PUT", "/api/spaces/hid-alice/%s/settings", b'{"private": false}'


def test_private_and_missing_answer_the_same(spaces):
    d, alice, bob = spaces
    seen = 0
    for who, headers in callers(alice, bob).items():
        for method, path, body in requests():
            priv = ask(d, method, path % PRIV, headers, body)
            missing = ask(d, method, path % "nothere", headers, body)
            assert shape(priv, PRIV) == shape(missing, "nothere"), (who, method, path, priv, missing)
            assert b"hidden" not in priv.body
            seen += 1
    # the delete endpoint names the space in its body
    for who, headers in callers(alice, bob).items():
        a = ask(d, "DELETE", "/api/repos/delete", headers,
                b'{"type": "space", "name": "%s", "organization": "hid-alice"}' % PRIV.encode())
        b = ask(d, "DELETE", "/api/repos/delete", headers,
                b'{"type": "space", "name": "nothere", "organization": "hid-alice"}')
        assert shape(a, PRIV) == shape(b, "nothere"), (who, a, b)
    assert d.info("hid-alice", PRIV, token=alice).status == 200
    assert seen > 100


def test_git_answers_the_same(spaces):
    d, alice, bob = spaces
    # the challenge, for any unknown repository: git asks for credentials
    r = ask(d, "GET", "/spaces/hid-alice/nothere/info/refs?service=git-upload-pack", {})
    assert r.status == 401 and "basic" in r.headers.get("www-authenticate", "").lower(), r
    for token, user in ((None, None), (bob, "hid-bob")):
        out = []
        for name in (PRIV, "nothere"):
            dest = os.path.join(d.workdir_from(None), "clone")
            p = d.git("clone", "-q", d.remote_url("hid-alice", name, token=token, user=user), dest,
                      check=False)
            assert p.returncode != 0 and not os.path.exists(os.path.join(dest, "index.html"))
            out.append(p.stderr.decode().replace(name, "NAME").replace(
                d.remote_url("hid-alice", "NAME", token=token, user=user), "URL"))
        assert out[0] == out[1], out


def test_controls(spaces):
    """alice reaches her private space on every path; a public space answers anyone."""
    d, alice, bob = spaces
    own = {"Authorization": "Bearer " + alice}
    for method, path, _ in requests():
        if method != "GET":
            continue
        r = ask(d, method, path % PRIV, own)
        assert r.status in (200, 303), (path, r)
    r = ask(d, "GET", "/spaces/hid-alice/pub/info/refs?service=git-upload-pack", {})
    assert r.status == 200, r
    dest = os.path.join(d.workdir_from(None), "clone")
    d.git("clone", "-q", d.remote_url("hid-alice", PRIV, token=alice, user="hid-alice"), dest)
    assert os.path.exists(os.path.join(dest, "index.html"))


def test_a_taken_host_does_not_name_the_private_space(spaces):
    """Hosts are unique: a create whose host a private space has is refused (409), and the
    refusal does not name that space."""
    d, alice, bob = spaces
    d.create_space("secret-x", private=True, token=alice)
    other, = tenants(d, "hid-alice-secret")
    r = d.create_space("x", token=other, expect=409)
    assert "hid-alice-secret-x" in r.text and "secret-x" not in r.text.replace(
        "hid-alice-secret-x", ""), r
