"""Private spaces at their app host (issue 11.2): the host answers as an unknown host
(the same 404) to every request without an API token of the space's owner or of an
admin, static spaces included; with one it serves, and the app never sees a podium
token in Authorization (it could act as that user on the hub), public apps neither.
Other Authorization values are the app's own and go through."""
import base64
import hashlib
import json
import os
import sqlite3
import time

import pytest

import podium_helpers as ph

ADMIN = ph.ADMIN
PROBE = os.path.join(ph.APPS, "probe")
WRONG = "pdm_" + "0" * 48  # a well-formed token that no user has


def probe_files(version):
    return {"probe_config.json": json.dumps({"version": version, "startup_delay": 0})}


def bearer(token):
    return {"Authorization": "Bearer " + token}


def basic(user, token):
    raw = ("%s:%s" % (user, token)).encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


@pytest.fixture(scope="module")
def apps(podium):
    """pv-app (python, private), pub-app (python, public), pv-site (static, private)."""
    podium.create_space("pv-app", sdk="python", private=True)
    podium.push(podium.workdir_from(PROBE, probe_files("private")), ADMIN, "pv-app")
    podium.create_space("pub-app", sdk="python")
    podium.push(podium.workdir_from(PROBE, probe_files("public")), ADMIN, "pub-app")
    podium.deploy(None, "pv-site", private=True, files={
        "README.md": ph.front_matter(["sdk: static"]), "index.html": "<p>private site</p>\n"})
    for name in ("pv-app", "pub-app"):
        podium.wait_stage(ADMIN, name, "RUNNING")
    return podium


def unknown_host(d, path="/"):
    return ph.http_request(d.port, "GET", path, "nobody-here.localhost:%d" % d.port)


def assert_hidden(r, d, path="/"):
    """The exact answer of a host no space has."""
    u = unknown_host(d, path)
    assert u.status == 404
    assert (r.status, r.body, r.headers.get("content-type")) == (
        u.status, u.body, u.headers.get("content-type")), r


@pytest.mark.parametrize("headers", [
    None,
    bearer(WRONG),
    bearer("not-a-podium-token"),
    basic(ADMIN, WRONG),
    {"Authorization": "Token whatever"},
], ids=["anonymous", "wrong-token", "garbage-bearer", "wrong-basic", "other-scheme"])
def test_private_app_hidden_without_owner_token(apps, headers):
    d = apps
    for path in ("/", "/api/headers"):
        assert_hidden(d.get_app(ADMIN, "pv-app", path, headers=headers), d, path)
    r = d.get_app(ADMIN, "pv-app", "/", method="POST", body=b"x=1", headers=headers)
    assert r.status == 404, r
    # control: the public app answers anyone
    r = d.get_app(ADMIN, "pub-app", "/", headers=headers)
    assert r.status == 200 and r.text.strip() == "probe public", r


@pytest.mark.parametrize("how", ["bearer", "basic"])
def test_private_app_serves_its_owner(apps, how):
    d = apps
    h = bearer(d.token) if how == "bearer" else basic(ADMIN, d.token)
    r = d.get_app(ADMIN, "pv-app", "/", headers=h)
    assert r.status == 200 and r.text.strip() == "probe private", r


def test_app_never_sees_a_podium_token(apps):
    d = apps
    r = d.get_app(ADMIN, "pv-app", "/api/headers", headers=bearer(d.token))
    assert r.status == 200, r
    seen = r.json()
    assert "authorization" not in seen, seen
    assert seen.get("host") == d.app_host(ADMIN, "pv-app"), seen  # the echo works
    # public apps do not get it either
    for h in (bearer(d.token), basic(ADMIN, d.token)):
        seen = d.get_app(ADMIN, "pub-app", "/api/headers", headers=h).json()
        assert "authorization" not in seen, seen
    # ... but an Authorization of the app's own goes through
    for value in ("Bearer app-own-secret", "Basic dXNlcjpwYXNz"):
        seen = d.get_app(ADMIN, "pub-app", "/api/headers",
                         headers={"Authorization": value}).json()
        assert seen.get("authorization") == value, seen
    # a value shaped like a podium token never does, valid or not (issue 21.9: a
    # revoked, disabled or just minted one is as much a token)
    seen = d.get_app(ADMIN, "pub-app", "/api/headers", headers=bearer(WRONG)).json()
    assert "authorization" not in seen, seen


def test_private_static_site(apps):
    d = apps
    assert_hidden(d.get_app(ADMIN, "pv-site", "/"), d)
    assert_hidden(d.get_app(ADMIN, "pv-site", "/index.html", headers=bearer(WRONG)), d,
                  "/index.html")
    r = d.get_app(ADMIN, "pv-site", "/", headers=bearer(d.token))
    assert r.status == 200 and b"private site" in r.body, r


def test_private_space_not_serving_is_hidden_too(podium):
    """Before its first push the host answers 502 with the stage: only its owner sees it."""
    podium.create_space("pv-empty", private=True)
    podium.create_space("pub-empty")
    r = podium.get_app(ADMIN, "pub-empty")
    assert r.status == 502, r  # control: a space that serves nothing says so
    assert_hidden(podium.get_app(ADMIN, "pv-empty"), podium)
    r = podium.get_app(ADMIN, "pv-empty", headers=bearer(podium.token))
    assert r.status == 502 and b"admin/pv-empty" in r.body, r


def test_keepalive_checks_every_request(apps):
    """One connection: the owner's request passes, the next anonymous one does not."""
    import http.client
    d = apps
    conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=30)
    try:
        host = d.app_host(ADMIN, "pv-app")
        conn.request("GET", "/", headers={"Host": host, "Authorization": "Bearer " + d.token})
        r = conn.getresponse()
        assert r.status == 200 and r.read().strip() == b"probe private"
        conn.request("GET", "/", headers={"Host": host})
        r = conn.getresponse()
        r.read()
        assert r.status == 404
    finally:
        conn.close()


# ---- other users: the owner and admins pass, anyone else does not ----------------

def add_user(db_path, name):
    """A user with a token, written as podium writes them (prefix, BLAKE2b-256)."""
    token = "pdm_" + os.urandom(24).hex()
    with sqlite3.connect(db_path) as db:
        cur = db.execute("INSERT INTO users (name, created) VALUES (?, ?)", (name, int(time.time())))
        db.execute("INSERT INTO tokens (user_id, prefix, hash, created) VALUES (?, ?, ?, ?)",
                   (cur.lastrowid, token[:12], hashlib.blake2b(token.encode(), digest_size=32).digest(),
                    int(time.time())))
    return token


def test_private_space_of_another_user(make_daemon):
    d = make_daemon()
    d.deploy(None, "diary", owner="bob", private=True, files={
        "README.md": ph.front_matter(["sdk: static"]), "index.html": "<p>bob's diary</p>\n"})
    assert d.stop() == 0
    bob = add_user(os.path.join(d.data_dir, "podium.db"), "bob")
    carol = add_user(os.path.join(d.data_dir, "podium.db"), "carol")
    d.start()
    d.wait_stage("bob", "diary", "RUNNING")
    # the tokens are valid (the API knows them)
    for name, token in (("bob", bob), ("carol", carol)):
        r = d.api("GET", "/api/whoami-v2", token=token)
        assert r.status == 200 and r.json()["name"] == name, r
    assert d.info("bob", "diary", token=carol).status == 404
    assert d.info("bob", "diary", token=bob).status == 200
    # the app host agrees with the API
    assert_hidden(d.get_app("bob", "diary", headers=bearer(carol)), d)
    assert_hidden(d.get_app("bob", "diary"), d)
    for token in (bob, d.token):
        r = d.get_app("bob", "diary", headers=bearer(token))
        assert r.status == 200 and b"bob's diary" in r.body, r
    # carol's token with bob's in a second header: bob's lets it through
    status, _ = ph.raw_request(d.port, (
        "GET / HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nAuthorization: Bearer %s\r\n"
        "Connection: close\r\n\r\n" % (d.app_host("bob", "diary"), carol, bob)).encode())
    assert status == 200
