"""More of issue 24's contract than test_hf_wire.py checks: `sha` is main's tip as on
the Hub (huggingface_hub's resolve_revision reads it) and runtime.sha what serves;
POSTs that only read (paths-info, validate-yaml) take anonymous callers and read-only
tokens, others do not; list_spaces' other parameters; errors repeat their message in
X-Error-Message; branch and tag names and revisions that are not there."""
import base64
import json
import urllib.parse

import podium_helpers as ph

ADMIN = ph.ADMIN


def commit(d, name, files, rev="main"):
    lines = [{"key": "header", "value": {"summary": "c", "description": ""}}]
    lines += [{"key": "file", "value": {"path": p, "encoding": "base64",
                                        "content": base64.b64encode(c.encode()).decode()}}
              for p, c in files.items()]
    body = b"".join(json.dumps(x).encode() + b"\n" for x in lines)
    r = ph.http_request(d.port, "POST", "/api/spaces/%s/%s/commit/%s" % (ADMIN, name, rev),
                        d.hub_host, body, {"Content-Type": "application/x-ndjson",
                                           "Authorization": "Bearer " + d.token})
    assert r.status == 200, r
    return r.json()["commitOid"]


def test_sha_is_mains_tip_and_runtime_sha_what_serves(podium):
    podium.create_space("hm-sha", sdk="static")
    j = podium.info(ADMIN, "hm-sha").json()
    assert j["sha"] is None and j["runtime"]["sha"] is None and j["siblings"] == [], j
    good = commit(podium, "hm-sha", {"index.html": "<p>1</p>"})
    podium.wait_stage(ADMIN, "hm-sha", "RUNNING")
    j = podium.info(ADMIN, "hm-sha").json()
    assert j["sha"] == j["runtime"]["sha"] == good, j
    # a push that does not build: main moves, the old release serves on
    bad = commit(podium, "hm-sha", {"README.md": "---\nsdk: no-such-sdk\n---\n"})
    podium.wait_until(lambda: podium.runtime(ADMIN, "hm-sha").get("errorMessage"), "the error")
    j = podium.info(ADMIN, "hm-sha").json()
    assert j["sha"] == bad and j["runtime"]["sha"] == good, j
    assert {s["rfilename"] for s in j["siblings"]} == {"index.html", "README.md"}, j


def test_posts_that_only_read(podium):
    podium.create_space("hm-read", sdk="static")
    commit(podium, "hm-read", {"a.txt": "a"})
    ph.add_user(podium, "hm-reader")
    read = ph.new_token(podium, "hm-reader", "read", "r")
    ph.wait_until(lambda: podium.api("GET", "/api/whoami-v2", token=read).status == 200, "token")
    for token in (None, read):
        r = podium.api("POST", "/api/spaces/admin/hm-read/paths-info/main", json={"paths": ["a.txt"]},
                       token=token)
        assert r.status == 200 and r.json()[0]["path"] == "a.txt", (token, r)
        r = podium.api("POST", "/api/validate-yaml", json={"content": "# hi\n"}, token=token)
        assert r.status == 200, r
    # but a read-only token changes nothing, a branch neither
    r = podium.api("POST", "/api/spaces/admin/hm-read/branch/x", json={}, token=read)
    assert r.status == 403, r
    r = podium.api("GET", "/api/spaces/admin/hm-read/auth-check/write", token=read)
    assert r.status == 403, r


def test_validate_yaml_warns_and_bounds(podium):
    r = podium.api("POST", "/api/validate-yaml", json={"content": "---\nsdk: docker\n---\n"})
    assert r.status == 200 and r.json()["errors"] == [], r
    assert "docker" in r.json()["warnings"][0]["message"], r
    r = podium.api("POST", "/api/validate-yaml", json={"content": "---\napp_port: x\n---\n"})
    assert r.status == 400 and "app_port" in r.json()["errors"][0]["message"], r
    r = podium.api("POST", "/api/validate-yaml", json={"content": "x" * (2 << 20)})
    assert r.status == 413, r
    assert podium.api("GET", "/api/validate-yaml").status == 405


def test_list_spaces_other_parameters(podium):
    podium.create_space("hm-list", sdk="static")
    commit(podium, "hm-list", {"README.md": "---\ntitle: Listed\nlicense: mit\n---\n", "index.html": "x"})
    podium.wait_stage(ADMIN, "hm-list", "RUNNING")

    def get(**params):
        return podium.api("GET", "/api/spaces?" + urllib.parse.urlencode(params))

    r = get(search="hm-list", full="true")
    assert r.status == 200 and r.json()[0]["cardData"]["title"] == "Listed", r
    assert "license:mit" in r.json()[0]["tags"], r.json()
    assert [s["id"] for s in get(filter="license:mit", search="hm-").json()] == ["admin/hm-list"]
    assert get(search="hm-list", models="gpt2").json() == []
    for bad in ({"sort": "bogus"}, {"limit": "0"}, {"limit": "1001"}, {"limit": "x"},
                {"cursor": "not-ours"}):
        r = get(**bad)
        assert r.status == 400 and r.json()["error"], (bad, r)


def test_errors_repeat_their_message_in_a_header(podium):
    r = podium.api("GET", "/api/spaces/admin/hm-nothing/runtime")
    assert r.status == 404 and r.headers.get("x-error-code") == "RepoNotFound"
    assert r.headers.get("x-error-message") == r.json()["error"], r.headers


def test_branch_and_tag_names_and_missing_revisions(podium):
    podium.create_space("hm-refs", sdk="static")
    api = "/api/spaces/admin/hm-refs"
    r = podium.api("POST", api + "/branch/dev", json={})
    assert r.status == 400 and "nothing to branch from" in r.json()["error"], r
    commit(podium, "hm-refs", {"a.txt": "a"})
    for bad in ("a..b", "HEAD", "-x", "sp%20ace"):
        r = podium.api("POST", api + "/branch/" + bad, json={})
        assert r.status == 400, (bad, r)
    r = podium.api("POST", api + "/branch/dev", json={"startingPoint": "nowhere"})
    assert r.status == 404 and r.headers.get("x-error-code") == "RevisionNotFound", r
    r = podium.api("POST", api + "/tag/nowhere", json={"tag": "v1"})
    assert r.status == 404 and r.headers.get("x-error-code") == "RevisionNotFound", r
    assert podium.api("DELETE", api + "/tag/v9").status == 404
    # a commit to a branch made from main, read back at the branch only
    assert podium.api("POST", api + "/branch/dev", json={}).status == 200
    commit(podium, "hm-refs", {"b.txt": "b"}, rev="dev")
    r = podium.api("POST", api + "/paths-info/dev", json={"paths": ["a.txt", "b.txt"]})
    assert [p["path"] for p in r.json()] == ["a.txt", "b.txt"], r
    r = podium.api("POST", api + "/paths-info/main", json={"paths": ["a.txt", "b.txt"]})
    assert [p["path"] for p in r.json()] == ["a.txt"], r
