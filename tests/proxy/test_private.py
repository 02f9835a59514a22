"""Private spaces in the proxy: the host of a route marked private answers exactly as
an unknown host unless a request carries a token of its owner or an admin (checked
against the published token snapshot, on every loop); a podium token in
Authorization never reaches an app, an app's own Authorization does."""
import base64
import http.client
import threading

import pytest

from conftest import BACKEND_PORT

TOKENS = ["--token", "bob-token=bob", "--token", "carol-token=carol",
          "--token", "root-token=root:admin"]


@pytest.fixture
def pproxy(proxy_factory, netns, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<p>bob's site</p>\n")
    app = "app:/run/netns/%s:%d" % (netns, BACKEND_PORT)
    return proxy_factory("--route", "secret@bob=" + app, "--route", "bobsite@Bob=static:%s" % site,
                         "--route", "held@bob=down:the app crashed", "--loops", "2", *TOKENS)


def get(port, host, path="/hello", auth=None, method="GET"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    h = {"Host": host}
    if auth is not None:
        h["Authorization"] = auth
    c.request(method, path, headers=h, body=b"" if method != "GET" else None)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, r.getheader("Content-Type"), data


def basic(user, token):
    return "Basic " + base64.b64encode(("%s:%s" % (user, token)).encode()).decode()



@pytest.mark.parametrize("auth", [None, "Bearer carol-token", "Bearer nope", basic("bob", "nope"),
                                  "Token bob-token"])
@pytest.mark.parametrize("host", ["secret.podium.test", "bobsite.podium.test", "held.podium.test"])
def test_hidden_without_owner_token(pproxy, host, auth):
    unknown = get(pproxy.port, "nope.podium.test", "/hello")
    assert unknown[0] == 404
    for method in ("GET", "POST"):
        assert get(pproxy.port, host, "/hello", auth, method) == unknown, (host, auth, method)


@pytest.mark.parametrize("auth", ["Bearer bob-token", "Bearer root-token", basic("x", "bob-token")])
def test_owner_and_admin_pass(pproxy, auth):
    st, _, body = get(pproxy.port, "secret.podium.test", "/hello", auth)
    assert st == 200 and body == b"hello app\n"
    st, _, body = get(pproxy.port, "bobsite.podium.test", "/", auth)
    assert st == 200 and b"bob's site" in body
    st, _, body = get(pproxy.port, "held.podium.test", "/", auth)
    assert st == 502 and b"the app crashed" in body


def test_podium_token_not_forwarded(pproxy):
    st, _, body = get(pproxy.port, "secret.podium.test", "/headers", "Bearer bob-token")
    assert st == 200 and b"Host: secret.podium.test" in body
    assert b"authorization" not in body.lower(), body
    # a public app: a podium token is dropped, the app's own credentials pass
    for auth in ("Bearer carol-token", basic("git", "root-token")):
        st, _, body = get(pproxy.port, "app.podium.test", "/headers", auth)
        assert st == 200 and b"authorization" not in body.lower(), body
    for auth in ("Bearer app-secret", "Basic dXNlcjpwYXNz"):
        st, _, body = get(pproxy.port, "app.podium.test", "/headers", auth)
        assert ("Authorization: %s\n" % auth).encode() in body, body


def test_many_clients_on_all_loops(pproxy):
    """Owners and strangers at once, on both loops: each gets its own answer."""
    errors = []

    def worker(auth, want):
        try:
            for _ in range(100):
                st = get(pproxy.port, "secret.podium.test", "/hello", auth)[0]
                if st != want:
                    errors.append((auth, st))
                    return
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))

    ts = [threading.Thread(target=worker, args=(a, w)) for a, w in
          [("Bearer bob-token", 200), ("Bearer carol-token", 404), (None, 404),
           ("Bearer root-token", 200)] * 2]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    assert not errors, errors[:5]


def test_no_tokens_published(proxy_factory, netns):
    """Without a snapshot nothing passes a private host; public ones are untouched."""
    app = "app:/run/netns/%s:%d" % (netns, BACKEND_PORT)
    p = proxy_factory("--route", "secret@bob=" + app)
    assert get(p.port, "secret.podium.test", "/hello", "Bearer bob-token")[0] == 404
    st, _, body = get(p.port, "app.podium.test", "/headers", "Bearer bob-token")
    assert st == 200 and b"Authorization: Bearer bob-token" in body
