"""The static file server never leaves the release: dot-dot paths (raw and
percent-encoded) and committed symlinks pointing outside never return host files."""
import pytest

import podium_helpers as ph

ADMIN = ph.ADMIN


@pytest.fixture(scope="module")
def sec(podium):
    podium.create_space("sec", sdk="static")
    wd = podium.workdir_from(None, {
        "README.md": ph.front_matter(["title: Sec", "sdk: static"]),
        "index.html": "<p>sec index</p>\n",
        "sub/page.html": "<p>sec sub page</p>\n",
        "leak": ("symlink", "/etc/passwd"),
        "etcdir": ("symlink", "/etc"),
        "rel": ("symlink", "../../../../../../../../../../etc/passwd"),
        "sub/up": ("symlink", "../../../../../../../../../../etc"),
        "inside.html": ("symlink", "sub/page.html"),
    })
    podium.push(wd, ADMIN, "sec")
    podium.wait_stage(ADMIN, "sec", "RUNNING")
    podium.wait_app(ADMIN, "sec", predicate=lambda r: r.status == 200 and b"sec index" in r.body)
    return wd


def raw_get(podium, target, host=None):
    host = host or podium.app_host(ADMIN, "sec")
    req = ("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % (target, host)).encode()
    return ph.raw_request(podium.port, req)


def test_sec_space_serves(podium, sec):
    r = podium.get_app(ADMIN, "sec", "/sub/page.html")
    assert r.status == 200 and b"sec sub page" in r.body


@pytest.mark.parametrize("target", [
    "/../../etc/passwd",
    "/../../../../../../../../etc/passwd",
    "/sub/../../../../../../etc/passwd",
    "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/%2E%2E/%2E%2E/%2E%2E/%2E%2E/etc/passwd",
    "/..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/.%2e/.%2e/.%2e/.%2e/etc/passwd",
    "/sub/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/%252e%252e/%252e%252e/etc/passwd",
    "/..%5c..%5c..%5c..%5cetc%5cpasswd",
    "/etc/passwd",
    "//etc/passwd",
    "/%2fetc%2fpasswd",
    "/index.html%00/../../../../etc/passwd",
])
def test_dotdot_paths(podium, sec, target):
    status, resp = raw_get(podium, target)
    assert status is not None, "no HTTP response for %r: %r" % (target, resp[:200])
    assert b"root:" not in resp, "host file leaked for %r" % target
    assert status in (301, 302, 307, 308, 400, 403, 404), (target, resp[:300])


def test_dotdot_on_hub_host(podium, sec):
    status, resp = raw_get(podium, "/../../etc/passwd", host=podium.hub_host)
    assert status is not None
    assert b"root:" not in resp


@pytest.mark.parametrize("path", ["/leak", "/etcdir/passwd", "/rel", "/sub/up/passwd",
                                  "/etcdir/", "/sub/up/"])
def test_symlinks_out_of_release(podium, sec, path):
    r = podium.get_app(ADMIN, "sec", path)
    assert b"root:" not in r.body, "symlink %s leaked a host file" % path
    status, resp = raw_get(podium, path)
    assert b"root:" not in resp


def test_symlink_inside_release_is_served(podium, sec):
    # Positive control for the leak tests: symlinks as such are followed, as long as
    # they stay inside the release, and the host file they aim at is really there.
    r = podium.get_app(ADMIN, "sec", "/inside.html")
    assert r.status == 200 and b"sec sub page" in r.body, r
    with open("/etc/passwd", "rb") as f:
        assert b"root:" in f.read()


def test_no_git_dir_served(podium, sec):
    for path in ("/.git/config", "/.git/HEAD"):
        r = podium.get_app(ADMIN, "sec", path)
        assert r.status == 404, (path, r)


def test_request_without_host_is_rejected(podium):
    status, resp = ph.raw_request(podium.port, b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert status == 400, resp[:200]
