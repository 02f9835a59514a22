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
    # visitors are told how to clone it (issue 25), its owner how to push
    assert b"git clone http://localhost:%d/spaces/admin/pagey" % podium.port in r.body
    assert b"git push" not in r.body
    r = page(podium, "/spaces/admin/pagey", token=podium.token)
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


def test_space_page_embeds_app_during_redeploy(podium):
    """RUNNING_BUILDING and RUNNING_APP_STARTING: the old release still serves, so the page
    embeds it and says that a new version is on its way (issue 11.5)."""
    import json
    import os
    probe = os.path.join(ph.APPS, "probe")
    iframe = ('<iframe title="app" src="http://%s/"' % podium.app_host(ADMIN, "redeployed")).encode()

    def files(version, delay=0, build=None):
        with open(os.path.join(probe, "README.md")) as readme:
            card = readme.read()
        if build is not None:
            card = card.replace("app_file: app.py", "app_file: app.py\napp_build_command: %s" % build)
        return {"probe_config.json": json.dumps({"version": version, "startup_delay": delay}),
                "README.md": card}

    podium.create_space("redeployed", sdk="python")
    wd = podium.workdir_from(probe, files("v1"))
    podium.push(wd, ADMIN, "redeployed")
    podium.wait_stage(ADMIN, "redeployed", "RUNNING")
    assert iframe in page(podium, "/spaces/admin/redeployed").body  # control
    # a slow build: RUNNING_BUILDING
    ph.write_files(wd, files("v2", build="sleep 60"))
    podium.push(wd, ADMIN, "redeployed", message="slow build")
    podium.wait_stage(ADMIN, "redeployed", "RUNNING_BUILDING")
    r = page(podium, "/spaces/admin/redeployed")
    assert r.status == 200 and b"RUNNING_BUILDING" in r.body, r
    assert iframe in r.body and b"A new version is building" in r.body, r
    # a slow start (supersedes the slow build): RUNNING_APP_STARTING
    ph.write_files(wd, files("v3", delay=60))
    podium.push(wd, ADMIN, "redeployed", message="slow start")
    podium.wait_stage(ADMIN, "redeployed", "RUNNING_APP_STARTING")
    r = page(podium, "/spaces/admin/redeployed")
    assert r.status == 200 and b"RUNNING_APP_STARTING" in r.body, r
    assert iframe in r.body and b"A new version is starting" in r.body, r
    assert podium.get_app(ADMIN, "redeployed").text.strip() == "probe v1"  # what the page embeds
    podium.delete_space("redeployed")


def test_proxy_error_pages_share_the_hubs_look(podium):
    # an unknown app host, as a browser asks for it: the hub's bar and a way back
    r = ph.http_request(podium.port, "GET", "/", "nobody-here.localhost:%d" % podium.port,
                        headers={"Accept": "text/html"})
    assert r.status == 404 and r.headers["content-type"].startswith("text/html"), r
    hub = "http://localhost:%d/" % podium.port
    assert '<header class="bar"><a href="%s">podium</a></header>' % hub in r.text, r.text
    assert "404 Not Found" in r.text and "unknown host" in r.text
    # the same page (as JSON) for everything else
    r = ph.http_request(podium.port, "GET", "/", "nobody-here.localhost:%d" % podium.port)
    assert r.status == 404 and r.json() == {"error": "unknown host"}, r
