"""Issue 25: a space's Files at the Hub's URLs (tree, blob, history, commit with its
diff), its README rendered under the app, the space page for owners and visitors
(push vs clone, duplicate, embed, ?embed), its state in words, the runtime and build
error panels, hub error pages with the bar, the sign-in form after a failure, and
the pages' assets (hashed names, caching, gzip, favicon)."""
import gzip
import os
import re
import struct
import zlib

import pytest

import podium_helpers as ph
from test_users import add_user, login, new_token

ADMIN = ph.ADMIN


def page(d, path, token=None, headers=None):
    h = {"Accept": "text/html"}
    if token:
        h["Authorization"] = "Bearer " + token
    h.update(headers or {})
    return ph.http_request(d.port, "GET", path, d.hub_host, headers=h)


def png(w=3, h=2):
    """A real PNG (RGB, w × h)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\0" + b"\xff\x00\x00" * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


README = ph.front_matter(["title: Files Demo", "sdk: static", "short_description: fm-secret-desc"], body="""
# Files demo

| col a | col b |
|-------|-------|
| one   | two   |

<script>alert("readme")</script>

![logo](img/logo.png) [the guide](docs/guide.md) [bad](javascript:alert(1))
""")


@pytest.fixture(scope="module")
def repo(podium):
    wd, sha1 = podium.deploy(None, "filesy", files={
        "README.md": README, "index.html": "<p>files app</p>\n",
        "docs/guide.md": "# Guide\n\nSee ![pic](../img/logo.png).\n",
        "src/app.py": "line one\nline <two>\nline three\n"})
    ph.write_files(wd, {"src/app.py": "line one\nline TWO\nline three\n"})
    with open(_mk(wd, "img/logo.png"), "wb") as f:
        f.write(png())
    with open(_mk(wd, "data.bin"), "wb") as f:
        f.write(b"\0\1\2\3binary\0")
    sha2 = podium.push(wd, ADMIN, "filesy", message="second\n\nwith a body line")
    podium.wait_until(lambda: podium.info(ADMIN, "filesy").json().get("sha") == sha2, "second deploy",
                      timeout=120)
    return {"sha1": sha1, "sha2": sha2}


def _mk(wd, rel):
    p = os.path.join(wd, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    return p


def test_tree_lists_folders_first_with_sizes(podium, repo):
    r = page(podium, "/spaces/admin/filesy/tree/main")
    assert r.status == 200, r
    names = re.findall(r'<a href="/spaces/admin/filesy/(tree|blob)/main/([^"]+)">', r.text)
    dirs = [n for k, n in names if k == "tree"]
    files = [n for k, n in names if k == "blob"]
    assert dirs == ["docs", "img", "src"] and files == ["README.md", "data.bin", "index.html"], names
    assert r.text.index('tree/main/src"') < r.text.index('blob/main/README.md"')
    assert "second" in r.text and 'href="/spaces/admin/filesy/commits/main"' in r.text   # last commit, history
    sub = page(podium, "/spaces/admin/filesy/tree/main/src")
    assert 'href="/spaces/admin/filesy/blob/main/src/app.py"' in sub.text
    # at an older revision, by its sha
    old = page(podium, "/spaces/admin/filesy/tree/%s" % repo["sha1"][:10])
    assert old.status == 200 and "data.bin" not in old.text
    # a file under /tree/ is sent to its page; unknown paths and revisions are 404 pages
    r = page(podium, "/spaces/admin/filesy/tree/main/src/app.py")
    assert r.status == 303 and r.headers["location"] == "/spaces/admin/filesy/blob/main/src/app.py", r
    assert page(podium, "/spaces/admin/filesy/tree/main/nope").status == 404
    r = page(podium, "/spaces/admin/filesy/tree/no-such-branch")
    assert r.status == 404 and '<header class="bar">' in r.text


def test_blob_views(podium, repo):
    r = page(podium, "/spaces/admin/filesy/blob/main/src/app.py")
    assert r.status == 200
    assert '<span id="L2">line TWO</span>' in r.text, r.text[-1500:]
    assert 'href="/spaces/admin/filesy/raw/main/src/app.py"' in r.text
    assert 'download href="/spaces/admin/filesy/resolve/main/src/app.py"' in r.text
    old = page(podium, "/spaces/admin/filesy/blob/%s/src/app.py" % repo["sha1"])
    assert '<span id="L2">line &lt;two&gt;</span>' in old.text
    img = page(podium, "/spaces/admin/filesy/blob/main/img/logo.png")
    assert '<img src="/spaces/admin/filesy/resolve/main/img/logo.png" alt="img/logo.png">' in img.text
    binr = page(podium, "/spaces/admin/filesy/blob/main/data.bin")
    assert "A binary file" in binr.text and "download it" in binr.text
    md = page(podium, "/spaces/admin/filesy/blob/main/docs/guide.md")
    assert "<h1>Guide</h1>" in md.text and 'src="/spaces/admin/filesy/resolve/main/img/logo.png"' in md.text
    src = page(podium, "/spaces/admin/filesy/blob/main/docs/guide.md?plain=1")
    assert '<span id="L1"># Guide</span>' in src.text
    assert page(podium, "/spaces/admin/filesy/blob/main/src").status == 404


def test_history_and_commit_diff(podium, repo):
    r = page(podium, "/spaces/admin/filesy/commits/main")
    assert r.status == 200 and "(2 commits)" in r.text, r.text[-2000:]
    assert r.text.index(repo["sha2"][:10]) < r.text.index(repo["sha1"][:10])
    # one file's history: only the commits that changed it
    r = page(podium, "/spaces/admin/filesy/commits/main/docs/guide.md")
    assert "(1 commit)" in r.text and repo["sha1"][:10] in r.text and repo["sha2"][:10] not in r.text
    r = page(podium, "/spaces/admin/filesy/commit/" + repo["sha2"])
    assert r.status == 200
    assert "<h2>second</h2>" in r.text and "with a body line" in r.text
    assert "<del>-line &lt;two&gt;</del><ins>+line TWO</ins>" in r.text, r.text[-3000:]
    assert re.search(r'<span class="badge">added</span> <a href="/spaces/admin/filesy/blob/%s/img/logo.png">'
                     % repo["sha2"], r.text)
    assert "A binary file." in r.text
    assert 'href="/spaces/admin/filesy/commit/%s"' % repo["sha1"] in r.text   # its parent
    assert page(podium, "/spaces/admin/filesy/commit/0000000000").status == 404


def test_readme_rendered_under_the_app(podium, repo):
    r = page(podium, "/spaces/admin/filesy")
    body = r.text.split('class="panel readme markdown"', 1)[1].split("</section>", 1)[0]
    assert "<h1>Files demo</h1>" in body and "<table>" in body and "<td>one</td>" in body
    assert "fm-secret-desc" not in body                      # the front matter is not shown
    assert '<script>alert("readme")' not in r.text
    assert '&lt;script&gt;alert(&quot;readme&quot;)&lt;/script&gt;' in body
    assert 'src="/spaces/admin/filesy/resolve/main/img/logo.png"' in body
    assert 'href="/spaces/admin/filesy/blob/main/docs/guide.md"' in body
    assert "javascript:" not in body
    # the image the README shows is served by the hub (the CSP allows 'self')
    img = ph.http_request(podium.port, "GET", "/spaces/admin/filesy/resolve/main/img/logo.png",
                          podium.hub_host)
    assert img.status == 200 and img.body == png()


def test_space_page_for_owners_visitors_and_embedding(podium, repo):
    add_user(podium, "visitor25")
    vis = new_token(podium, "visitor25")
    own = page(podium, "/spaces/admin/filesy", podium.token)
    assert "git push http://localhost:%d/spaces/admin/filesy main" % podium.port in own.text
    assert "git clone" not in own.text and 'id="duplicate"' not in own.text
    # the state in words, with the hardware and storage
    assert re.search(r'data-stage="RUNNING">Running</span> on cpu-basic · storage basic', own.text), \
        own.text[:3000]
    v = page(podium, "/spaces/admin/filesy", vis)
    assert "git clone http://localhost:%d/spaces/admin/filesy" % podium.port in v.text
    assert "git push" not in v.text
    assert 'id="duplicate"' in v.text and 'id="dup-owner" required value="visitor25" readonly' in v.text
    assert '&lt;iframe src=&quot;http://%s/&quot;' % podium.app_host(ADMIN, "filesy") in v.text
    assert 'aria-pressed="false"' in v.text        # the Like button
    anon = page(podium, "/spaces/admin/filesy")
    assert "Sign in</a> to make a copy" in anon.text
    # ?embed: the app alone, no bar, and other sites may frame it
    e = page(podium, "/spaces/admin/filesy?embed")
    assert e.status == 200 and '<header class="bar">' not in e.text
    assert 'class="app embedded"' in e.text
    assert "frame-ancestors *" in e.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in anon.headers["content-security-policy"]


def test_error_panels_say_why_once(podium):
    # a build error: its reason once, then the build log (streamed by the page)
    podium.deploy(None, "brokenbuild", files={
        "README.md": ph.front_matter(["sdk: static", "app_build_command: echo said-$((6*7))-xyz && exit 3"]),
        "index.html": "x"}, wait=False)
    podium.wait_stage(ADMIN, "brokenbuild", "BUILD_ERROR")
    r = page(podium, "/spaces/admin/brokenbuild", podium.token)
    assert "<h2>Build error</h2>" in r.text and 'id="buildlog"' in r.text, r.text[-3000:]
    # the log's lines come once, from the log (streamed), not in the reason too
    assert "said-42-xyz" not in r.text, r.text[-3000:]
    assert "said-42-xyz" in podium.api("GET", "/api/spaces/admin/brokenbuild/logs/build").text
    assert 'data-post="/api/spaces/admin/brokenbuild/restart?factory=true"' in r.text   # Rebuild
    # a crash loop: the reason and the app's last lines, the retry; no build log
    podium.deploy(None, "crashy", sdk="python", files={
        "README.md": ph.front_matter(["sdk: python"]),
        "app.py": "import sys\nprint('crashy-last-words', flush=True)\nsys.exit(7)\n"}, wait=False)
    podium.wait_until(lambda: podium.runtime(ADMIN, "crashy").get("nextRetryAt"), "a retry time",
                      timeout=180)
    r = page(podium, "/spaces/admin/crashy", podium.token)
    assert "<h2>Runtime error</h2>" in r.text and "crashy-last-words" in r.text, r.text[-3000:]
    assert re.search(r"It crashed \d+ times? in a row; podium starts it again at <time data-local", r.text)
    assert re.search(r'data-stage="RUNTIME_ERROR">Runtime error</span> · retry \d+ at <time', r.text)
    assert 'id="buildlog"' not in r.text
    assert '>Restart</button>' in r.text
    # a visitor sees no Restart
    assert '>Restart</button>' not in page(podium, "/spaces/admin/crashy").text
    podium.delete_space("crashy")


def test_new_empty_space_is_not_an_error(podium):
    podium.create_space("emptyone")
    r = page(podium, "/spaces/admin/emptyone", podium.token)
    assert 'class="badge stage-NO_APP_FILE" data-stage="NO_APP_FILE">No app yet<' in r.text
    assert "<h2>Nothing deployed yet</h2>" in r.text


def test_hub_error_pages_have_the_bar_and_a_way_to_sign_in(podium):
    podium.create_space("hidden25", private=True)
    r = page(podium, "/spaces/admin/hidden25")
    assert r.status == 404 and '<header class="bar">' in r.text, r
    assert 'href="/login?next=/spaces/admin/hidden25">sign in</a>' in r.text
    assert page(podium, "/no/such/page").status == 404
    # API clients still get JSON
    r = ph.http_request(podium.port, "GET", "/spaces/admin/hidden25", podium.hub_host)
    assert r.status == 404 and r.json()["error"], r
    # the Sign in of /login itself does not point to /login
    assert "/login?next=/login" not in page(podium, "/login").text


def test_sign_in_form_after_failures(make_daemon):
    d = make_daemon()
    add_user(d, "wendy", password="wendy password 1")
    r, _ = login(d, "wendy", "wrong password")
    assert r.status == 401 and 'name="username" autocomplete="username" required value="wendy"' in r.text
    for i in range(4):
        login(d, "wendy", "nope %d" % i)
    r, _ = login(d, "wendy", "wendy password 1")
    assert r.status == 429 and int(r.headers["retry-after"]) > 0, r
    assert "Too many failed sign-ins: try again in" in r.text and 'action="/login"' in r.text
    assert '<header class="bar">' in r.text


def test_assets_hashed_cached_and_compressed(podium):
    html = page(podium, "/").text
    js = re.search(r'src="(/static/app\.[0-9a-f]{10}\.js)"', html).group(1)
    css = re.search(r'href="(/static/style\.[0-9a-f]{10}\.css)"', html).group(1)
    icon = re.search(r'rel="icon" type="image/svg\+xml" href="(/static/favicon\.[0-9a-f]{10}\.svg)"', html)
    assert icon, html[:600]
    r = page(podium, js, headers={"Accept-Encoding": "gzip, deflate"})
    assert r.status == 200 and "immutable" in r.headers["cache-control"], r.headers
    assert r.headers["content-encoding"] == "gzip" and b"function el(" in gzip.decompress(r.body)
    plain = page(podium, "/static/app.js")
    assert plain.headers["cache-control"] == "no-cache" and "content-encoding" not in plain.headers
    etag = plain.headers["etag"]
    assert page(podium, "/static/app.js", headers={"If-None-Match": etag}).status == 304
    assert page(podium, css).headers["content-type"].startswith("text/css")
    fav = page(podium, "/favicon.ico")
    assert fav.status == 200 and fav.headers["content-type"] == "image/svg+xml"


def test_logs_to_download_and_releases_told_apart(podium, repo):
    r = page(podium, "/spaces/admin/filesy/logs", podium.token)
    assert 'download="admin-filesy-run.log" href="/api/spaces/admin/filesy/logs/run"' in r.text, r.text
    assert 'download="admin-filesy-build.log" href="/api/spaces/admin/filesy/logs/build"' in r.text
    rel = podium.api("GET", "/api/spaces/admin/filesy/releases").json()
    assert [x["title"] for x in rel] == ["second", "deploy"], rel
