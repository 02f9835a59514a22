"""Hub pages: the index of spaces and a space's page (with the running app embedded).
Text from users is escaped; private spaces stay hidden from anonymous visitors."""
import podium_helpers as ph

ADMIN = ph.ADMIN


def page(podium, path, token=None):
    headers = {"Accept": "text/html"}
    if token:
        headers["Authorization"] = "Bearer " + token
    return ph.http_request(podium.port, "GET", path, podium.hub_host, headers=headers)


def test_space_page_embeds_app_and_escapes_title(podium):
    podium.deploy(None, "pagey", files={
        "README.md": ph.front_matter(['title: "<script>alert(1)</script> Pagey"', "sdk: static"]),
        "index.html": "<p>pagey app</p>\n"})
    r = page(podium, "/spaces/admin/pagey")
    assert r.status == 200 and r.headers["content-type"].startswith("text/html"), r
    assert b"<script>alert(1)</script>" not in r.body
    assert b"&lt;script&gt;alert(1)&lt;/script&gt; Pagey" in r.body
    assert ('<iframe title="app" src="http://%s/"' % podium.app_host(ADMIN, "pagey")).encode() in r.body
    assert b"git push http://localhost:%d/spaces/admin/pagey main" % podium.port in r.body


def test_index_lists_public_spaces_only(podium):
    podium.create_space("index-public", sdk="static")
    podium.create_space("index-private", sdk="static", private=True)
    anon = page(podium, "/")
    assert anon.status == 200
    assert b"admin/index-public" in anon.body and b"admin/index-private" not in anon.body
    authed = page(podium, "/", token=podium.token)
    assert b"admin/index-private" in authed.body
    assert page(podium, "/spaces/admin/index-private").status == 404
    assert page(podium, "/spaces/admin/index-private", token=podium.token).status == 200
