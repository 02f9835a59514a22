"""The Hub's HTTP contract as huggingface_hub, the official Python client, uses it for
spaces (issue 24), checked on the wire without the client, so CI covers it.

Each request below is the one the client sends (method, path, query spelling, body
encoding, headers), and each assertion is on what the client reads from the answer.
Comments name the client code that makes it so: huggingface_hub 1.29.0.dev0 (commit
ee0a4510f), paths relative to its src/huggingface_hub/. tests/integration/test_hf_client.py
drives the client itself when its source is present (HF_HUB_SRC).

Run: cd tests/integration && PODIUM_BUILD=$PWD/../../build /usr/bin/python3 -m pytest -q \
     -p no:cacheprovider test_hf_wire.py
"""
import base64
import hashlib
import json as jsonlib
import re
import time
import urllib.parse
import uuid

import pytest

import podium_helpers as ph

ADMIN = ph.ADMIN
SHA = re.compile(r"^[0-9a-f]{40}$")
# utils/_datetime.py parse_datetime: '%Y-%m-%dT%H:%M:%S(.f)Z', nothing else
DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
# what httpx (the client's transport, utils/_http.py default_client_factory) and
# utils/_headers.py build_hf_headers put on every request
UA = "unknown/None; hf_hub/1.29.0.dev0; python/3.11.2"
_NO = object()

README = """---
title: HF wire
emoji: "\U0001F9EA"
colorFrom: blue
colorTo: green
sdk: static
tags:
  - wire-test
---
# wire
"""
FILES = {
    "README.md": README.encode(),
    "index.html": b"<h1>wire</h1>\n",
    "a.txt": b"alpha\n",
    "sub/b.txt": b"beta\n",
    "sub/deep/c.txt": b"gamma\n",
    ".gitignore": b"*.tmp\n",
}


# ---- requests as the client sends them ---------------------------------------------

def hf(d, method, path, json=_NO, form=None, data=None, token=ph.DEFAULT, host=None,
       headers=None, ctype=None):
    """One request with the client's headers: Bearer token, its User-Agent, httpx's
    Accept/Accept-Encoding, the X-Amzn-Trace-Id it adds (utils/_http.py:265)."""
    tok = d.token if token is ph.DEFAULT else token
    h = {"Accept": "*/*", "Accept-Encoding": "gzip, deflate", "User-Agent": UA,
         "X-Amzn-Trace-Id": str(uuid.uuid4())}
    if tok:
        h["Authorization"] = "Bearer " + tok
    body = None
    if json is not _NO:
        body = jsonlib.dumps(json).encode()
        h["Content-Type"] = "application/json"
    elif form is not None:
        body = urllib.parse.urlencode(form).encode()  # httpx: repeated keys for a list
        h["Content-Type"] = "application/x-www-form-urlencoded"
    elif data is not None:
        body = data
        h["Content-Type"] = ctype or "application/octet-stream"
    elif method in ("POST", "PUT", "PATCH"):
        body = b""
    h.update(headers or {})
    return ph.http_request(d.port, method, path, host or d.hub_host, body, h, timeout=60)


def add(path, data):
    if isinstance(data, str):
        data = data.encode()
    return ("file", {"content": base64.b64encode(data).decode(), "path": path, "encoding": "base64"})


def commit(d, owner, name, summary, *ops, rev="main", query="", token=ph.DEFAULT, host=None):
    """_commit_api.py _send_commit: NDJSON lines, header first, to commit/REV."""
    lines = [{"key": "header", "value": {"summary": summary, "description": ""}}]
    lines += [{"key": k, "value": v} for k, v in ops]
    body = b"".join(jsonlib.dumps(x).encode() + b"\n" for x in lines)
    return hf(d, "POST", "/api/spaces/%s/%s/commit/%s%s" % (owner, name, rev, query), data=body,
              ctype="application/x-ndjson", token=token, host=host)


def create(d, name, token=ph.DEFAULT, host=None, **extra):
    """hf_api.py:4772 create_repo's body: organization is null without a slash."""
    body = {"name": name, "organization": None, "type": "space", "sdk": "static"}
    body.update(extra)
    return hf(d, "POST", "/api/repos/create", json=body, token=token, host=host)


def blob_id(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def tip(d, name, rev="main", owner=ADMIN):
    r = hf(d, "GET", "/api/spaces/%s/%s/revision/%s" % (owner, name, rev))
    assert r.status == 200, r
    return r.json()["sha"]


def is_error(r, status, code=None):
    """Status, X-Error-Code (utils/_http.py:812-865 picks the exception by it) and a JSON
    object body: _format (utils/_http.py:988) calls data.get("error") on it."""
    assert r.status == status, r
    if code is not None:
        assert r.headers.get("x-error-code") == code, (r.headers, r)
    body = r.json()
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], r
    return body


def next_link(r):
    """utils/_pagination.py:52: response.links["next"]["url"], requested as it is."""
    m = re.search(r'<([^>]+)>\s*;\s*rel="?next"?', r.headers.get("link", ""))
    return m.group(1) if m else None


def follow(d, url, token=ph.DEFAULT):
    u = urllib.parse.urlsplit(url)
    assert u.scheme == "http" and u.netloc == d.hub_host, \
        "the Link must be absolute, on the Host the request came to: %s" % url
    return hf(d, "GET", u.path + ("?" + u.query if u.query else ""), token=token)


def by_path(items):
    return {i["path"]: i for i in items}


# ---- fixtures ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def files_space(podium):
    """admin/hfw-files with a few files and a .gitignore; read-only for the tests."""
    podium.create_space("hfw-files", sdk="static")
    r = commit(podium, ADMIN, "hfw-files", "init", *[add(p, c) for p, c in FILES.items()])
    assert r.status == 200, r
    return "hfw-files", r.json()["commitOid"]


@pytest.fixture(scope="module")
def stranger(podium):
    """Another user's write token."""
    ph.add_user(podium, "hfw-stranger")
    tok = ph.new_token(podium, "hfw-stranger", "write", "hfw")
    ph.wait_until(lambda: hf(podium, "GET", "/api/whoami-v2", token=tok).status == 200,
                  "hfw-stranger's token works")
    return tok


@pytest.fixture(scope="module")
def private_space(podium):
    podium.create_space("hfw-private", sdk="static", private=True)
    assert commit(podium, ADMIN, "hfw-private", "p", add("a.txt", "private\n")).status == 200
    return "hfw-private"


# ---- whoami and tokens ---------------------------------------------------------------

def test_whoami_v2(podium):
    r = hf(podium, "GET", "/api/whoami-v2")
    assert r.status == 200, r
    j = r.json()
    # hf_api.py:2401 returns it as is; the client reads ["name"] (duplicate_repo's default
    # namespace, hf_api.py:8982), ["type"] (hf_api.py:3156), ["orgs"] (cli/auth.py:172),
    # auth.accessToken.role and .displayName (login, _login.py:432-438)
    assert j["type"] == "user" and j["name"] == ADMIN and isinstance(j["orgs"], list), j
    tok = j["auth"]["accessToken"]
    assert tok["role"] == "write", j
    assert isinstance(tok.get("displayName"), str) and tok["displayName"], \
        "auth.accessToken.displayName: the token's name (login stores the token under it)"
    # a wrong token: 401, which whoami turns into "Invalid user token." (hf_api.py:2377-2393)
    is_error(hf(podium, "GET", "/api/whoami-v2", token="hf_" + "0" * 48), 401)


def test_errors_are_json_objects(podium, files_space, stranger):
    name, _ = files_space
    is_error(create(podium, "hfw-anon", token=None), 401)
    is_error(hf(podium, "POST", "/api/spaces/admin/%s/variables" % name,
                json={"key": "K", "value": "v"}, token=stranger), 403)
    is_error(hf(podium, "POST", "/api/spaces/admin/%s/restart" % name, token=None), 401)


# ---- repos/create, repos/delete --------------------------------------------------------

@pytest.mark.parametrize("which", ["ip", "domain"])
def test_create_and_409_answer_url_on_the_request_host(podium, which):
    host = ("127.0.0.1:%d" if which == "ip" else "localhost:%d") % podium.port
    name = "hfw-url-" + which
    r = create(podium, name, host=host)
    assert r.status == 200, r
    # RepoUrl (hf_api.py:4858) only parses a URL on the endpoint's own host
    # (utils/_hf_uris.py:373): the client's endpoint is the Host it sent
    assert r.json()["url"] == "http://%s/spaces/admin/%s" % (host, name), r.json()
    # create_repo(exist_ok=True) swallows the 409 and reads d["url"] (hf_api.py:4839-4858)
    body = is_error(create(podium, name, host=host), 409)
    assert body.get("url") == "http://%s/spaces/admin/%s" % (host, name), body


def test_create_applies_the_space_options(podium):
    # hf_api.py:4793-4806: space_hardware, space_storage, space_sleep_time, space_secrets,
    # space_variables go in the create body as these keys
    r = create(podium, "hfw-opts", visibility="private", hardware="cpu-upgrade",
               storageTier="small", sleepTimeSeconds=600,
               secrets=[{"key": "HFW_SECRET", "value": "s3cr3t", "description": "a secret"}],
               variables=[{"key": "HFW_VAR", "value": "v1", "description": "a variable"}])
    assert r.status == 200, r
    info = hf(podium, "GET", "/api/spaces/admin/hfw-opts").json()
    assert info["private"] is True
    rt = hf(podium, "GET", "/api/spaces/admin/hfw-opts/runtime").json()
    # _space_api.py SpaceRuntime: hardware.requested, storage, gcTimeout
    assert rt["hardware"]["requested"] == "cpu-upgrade", rt
    assert rt["storage"] == "small", rt
    assert rt["gcTimeout"] == 600, rt
    var = hf(podium, "GET", "/api/spaces/admin/hfw-opts/variables").json()
    assert var.get("HFW_VAR", {}).get("value") == "v1", var
    assert var["HFW_VAR"].get("description") == "a variable", var
    sec = hf(podium, "GET", "/api/spaces/admin/hfw-opts/secrets").json()
    assert "HFW_SECRET" in sec and "value" not in sec["HFW_SECRET"], sec
    assert sec["HFW_SECRET"].get("description") == "a secret", sec


@pytest.mark.parametrize("extra", [
    {"hardware": "no-such-flavor"},
    {"storageTier": "no-such-tier"},
    {"sleepTimeSeconds": "soon"},
    {"secrets": [{"key": "1BAD", "value": "x"}]},
    {"variables": [{"key": "PORT", "value": "1"}]},
    {"variables": {"KEY": "not a list"}},
], ids=["hardware", "storage", "sleep", "secret-key", "reserved-variable", "variables-shape"])
def test_create_with_a_bad_space_option_creates_nothing(podium, extra):
    name = "hfw-bad-" + hashlib.sha1(jsonlib.dumps(extra, sort_keys=True).encode()).hexdigest()[:8]
    is_error(create(podium, name, **extra), 400)
    assert hf(podium, "GET", "/api/spaces/admin/" + name).status == 404


def test_delete_missing_is_repo_not_found(podium):
    # delete_repo(missing_ok=True) passes only on RepositoryNotFoundError (hf_api.py:4906)
    r = hf(podium, "DELETE", "/api/repos/delete",
           json={"name": "hfw-never-made", "organization": None, "type": "space"})
    is_error(r, 404, "RepoNotFound")


# ---- other repo types: models, datasets ----------------------------------------------

@pytest.mark.parametrize("method,path", [
    ("GET", "/api/models/admin/hfw-files"),           # model_info, repo_exists(repo_type=None)
    ("GET", "/api/models/admin/hfw-files/revision/main"),
    ("GET", "/api/models/admin/hfw-files/tree/main"),
    ("GET", "/api/datasets/admin/hfw-files"),         # dataset_info
    ("GET", "/api/datasets/admin/hfw-files/tree/main"),
    ("HEAD", "/admin/hfw-files/resolve/main/a.txt"),  # file_exists / hf_hub_download of a model
    ("HEAD", "/datasets/admin/hfw-files/resolve/main/a.txt"),
])
def test_models_and_datasets_do_not_exist(podium, files_space, method, path):
    """The Hub's answer for a repository that is not there: 404 + RepoNotFound, which the
    client turns into RepositoryNotFoundError / repo_exists False (hf_api.py:3826)."""
    r = hf(podium, method, path)
    assert r.status == 404, r
    assert r.headers.get("x-error-code") == "RepoNotFound", r.headers
    if method != "HEAD":
        is_error(r, 404, "RepoNotFound")


@pytest.mark.parametrize("body", [
    {"name": "hfw-model", "organization": None},                     # create_repo(repo_id)
    {"name": "hfw-model", "organization": None, "type": "model"},
    {"name": "hfw-model", "organization": None, "type": "dataset"},  # repo_type="dataset"
], ids=["no-type", "model", "dataset"])
def test_create_model_or_dataset_is_refused(podium, body):
    """Without "type" the Hub creates a model (hf_api.py:4775 sends none for repo_type=None):
    a spaces-only host refuses it (400, BadRequestError) instead of making a space."""
    body = dict(body, name="hfw-model-%s" % body.get("type", "none"))
    is_error(hf(podium, "POST", "/api/repos/create", json=body), 400)
    assert hf(podium, "GET", "/api/spaces/admin/" + body["name"]).status == 404


def test_delete_without_type_never_deletes_a_space(podium):
    podium.create_space("hfw-keep", sdk="static")
    # delete_repo("admin/hfw-keep") means the *model* admin/hfw-keep (hf_api.py:4898-4901)
    r = hf(podium, "DELETE", "/api/repos/delete", json={"name": "hfw-keep", "organization": "admin"})
    is_error(r, 404, "RepoNotFound")
    assert hf(podium, "GET", "/api/spaces/admin/hfw-keep").status == 200, "the space was deleted"


# ---- RepoNotFound / RevisionNotFound / EntryNotFound ----------------------------------

MISSING = "/api/spaces/admin/hfw-nope"
NDJSON_ONE = (jsonlib.dumps({"key": "header", "value": {"summary": "x", "description": ""}}) + "\n").encode()


@pytest.mark.parametrize("method,path,kw", [
    ("GET", MISSING, {}),                                  # space_info / repo_exists
    ("GET", MISSING + "/revision/main", {}),               # revision_exists, snapshot_download
    ("GET", MISSING + "/runtime", {}),
    ("GET", MISSING + "/variables", {}),
    ("GET", MISSING + "/secrets", {}),
    ("POST", MISSING + "/variables", {"json": {"key": "K", "value": "v"}}),
    ("DELETE", MISSING + "/variables", {"json": {"key": "K"}}),
    ("POST", MISSING + "/secrets", {"json": {"key": "K", "value": "v"}}),
    ("DELETE", MISSING + "/secrets", {"json": {"key": "K"}}),
    ("GET", MISSING + "/tree/main?recursive=true&expand=false", {}),
    ("GET", MISSING + "/commits/main", {}),
    ("GET", MISSING + "/refs", {}),
    ("POST", MISSING + "/paths-info/main", {"form": [("paths", "a.txt"), ("expand", "false")]}),
    ("POST", MISSING + "/preupload/main", {"json": {"files": []}}),
    ("POST", MISSING + "/commit/main", {"data": NDJSON_ONE, "ctype": "application/x-ndjson"}),
    ("POST", MISSING + "/branch/dev", {"json": {}}),
    ("DELETE", MISSING + "/branch/dev", {}),
    ("POST", MISSING + "/tag/main", {"json": {"tag": "v1"}}),
    ("DELETE", MISSING + "/tag/v1", {}),
    ("POST", MISSING + "/restart", {}),
    ("POST", MISSING + "/pause", {}),
    ("POST", MISSING + "/sleeptime", {"json": {"seconds": 60}}),
    ("POST", MISSING + "/hardware", {"json": {"flavor": "cpu-basic"}}),
    ("POST", MISSING + "/storage", {"json": {"tier": "small"}}),
    ("DELETE", MISSING + "/storage", {}),
    ("POST", MISSING + "/duplicate", {"json": {"repository": "admin/hfw-nope-copy"}}),
    ("GET", MISSING + "/auth-check", {}),
    ("GET", MISSING + "/auth-check/write", {}),
    ("GET", "/spaces/admin/hfw-nope/resolve/main/a.txt", {}),
    ("HEAD", "/spaces/admin/hfw-nope/resolve/main/a.txt", {}),
])
def test_missing_space_is_repo_not_found(podium, method, path, kw):
    r = hf(podium, method, path, **kw)
    assert r.status == 404, r
    assert r.headers.get("x-error-code") == "RepoNotFound", (r.headers, r)
    if method != "HEAD":
        is_error(r, 404, "RepoNotFound")


def test_private_space_is_repo_not_found_to_others(podium, private_space, stranger):
    name = private_space
    for token in (stranger, None):
        for method, path in (("GET", "/api/spaces/admin/" + name),
                             ("GET", "/api/spaces/admin/%s/runtime" % name),
                             ("GET", "/api/spaces/admin/%s/tree/main" % name),
                             ("GET", "/api/spaces/admin/%s/auth-check" % name),
                             ("HEAD", "/spaces/admin/%s/resolve/main/a.txt" % name)):
            r = hf(podium, method, path, token=token)
            # the Hub answers 401 to anonymous callers, 404 to others; both with RepoNotFound
            assert r.status in (401, 404), (token is None, path, r)
            assert r.headers.get("x-error-code") == "RepoNotFound", (path, r.headers)


def test_revision_and_entry_not_found(podium, files_space):
    name, head = files_space
    base = "/spaces/admin/%s/resolve" % name
    r = hf(podium, "HEAD", base + "/main/nope.txt", headers={"Accept-Encoding": "identity"})
    assert r.status == 404 and r.headers.get("x-error-code") == "EntryNotFound", r.headers
    # file_download.py:1725: the commit an EntryNotFound was seen at (cached as .no_exist)
    assert r.headers.get("x-repo-commit") == head, r.headers
    r = hf(podium, "HEAD", base + "/no-such-rev/a.txt", headers={"Accept-Encoding": "identity"})
    assert r.status == 404 and r.headers.get("x-error-code") == "RevisionNotFound", r.headers
    api = "/api/spaces/admin/" + name
    is_error(hf(podium, "GET", api + "/revision/no-such-rev"), 404, "RevisionNotFound")
    is_error(hf(podium, "GET", api + "/tree/no-such-rev?recursive=false&expand=false"), 404,
             "RevisionNotFound")
    is_error(hf(podium, "GET", api + "/tree/main/no-such-dir?recursive=false&expand=false"), 404,
             "EntryNotFound")
    is_error(hf(podium, "GET", api + "/commits/no-such-rev"), 404, "RevisionNotFound")
    is_error(hf(podium, "POST", api + "/paths-info/no-such-rev",
                form=[("paths", "a.txt"), ("expand", "false")]), 404, "RevisionNotFound")


# ---- files: resolve, tree, paths-info, revision ---------------------------------------

def test_resolve_head_gives_what_hf_hub_download_reads(podium, files_space):
    name, head = files_space
    for rev in ("main", head):
        url = "/spaces/admin/%s/resolve/%s/sub/b.txt" % (name, rev)
        # get_hf_file_metadata: HEAD with Accept-Encoding identity (file_download.py:1618)
        r = hf(podium, "HEAD", url, headers={"Accept-Encoding": "identity"})
        assert r.status == 200, r
        # file_download.py:1627-1640: X-Repo-Commit, (X-Linked-)ETag, Content-Length
        assert r.headers.get("x-repo-commit") == head, r.headers
        etag = r.headers.get("x-linked-etag") or r.headers.get("etag")
        assert etag is not None and etag.lstrip("W/").strip('"') == blob_id(FILES["sub/b.txt"])
        assert int(r.headers.get("content-length", -1)) == len(FILES["sub/b.txt"]), r.headers
        assert r.headers.get("content-encoding", "identity") == "identity"
        # no Xet: the client downloads over plain HTTP (utils/_xet.py:50)
        assert "x-xet-hash" not in r.headers, r.headers
        assert "location" not in r.headers, r.headers
        g = hf(podium, "GET", url)
        assert g.status == 200 and g.body == FILES["sub/b.txt"], g


@pytest.mark.parametrize("spelling,recursive", [
    ("true", True), ("True", True), ("1", True),
    ("false", False), ("False", False), ("0", False), (None, False),
])
def test_tree_recursive_spellings(podium, files_space, spelling, recursive):
    """httpx sends recursive=true/false (hf_api.py:4100); requests-based clients
    (huggingface_hub < 1.0) sent Python's True/False."""
    name, _ = files_space
    q = "" if spelling is None else "?recursive=%s&expand=false" % spelling
    r = hf(podium, "GET", "/api/spaces/admin/%s/tree/main%s" % (name, q))
    assert r.status == 200, r
    top = {".gitignore", "README.md", "index.html", "a.txt", "sub"}
    want = top | {"sub/b.txt", "sub/deep", "sub/deep/c.txt"} if recursive else top
    assert set(by_path(r.json())) == want, r.json()


def test_tree_items_and_encoded_path(podium, files_space):
    name, head = files_space
    # list_repo_tree quotes path_in_repo with safe="" (hf_api.py:4098): sub%2Fdeep
    r = hf(podium, "GET", "/api/spaces/admin/%s/tree/%s/sub%%2Fdeep?recursive=false&expand=false"
           % (name, head))
    assert r.status == 200, r
    assert [i["path"] for i in r.json()] == ["sub/deep/c.txt"], r.json()
    items = by_path(hf(podium, "GET", "/api/spaces/admin/%s/tree/main/sub" % name).json())
    # RepoFile: path, size, oid; RepoFolder: path, oid; "type" picks one (hf_api.py:4101)
    f = items["sub/b.txt"]
    assert f["type"] == "file" and f["oid"] == blob_id(FILES["sub/b.txt"]), f
    assert f["size"] == len(FILES["sub/b.txt"]), f
    assert items["sub/deep"]["type"] == "directory" and SHA.match(items["sub/deep"]["oid"]), items


def test_paths_info(podium, files_space):
    name, _ = files_space
    # get_paths_info (hf_api.py:4397): a form, paths repeated, expand=false
    r = hf(podium, "POST", "/api/spaces/admin/%s/paths-info/main" % name,
           form=[("paths", "a.txt"), ("paths", "sub"), ("paths", "nope.txt"),
                 ("paths", "sub/deep/c.txt"), ("expand", "false")])
    assert r.status == 200, r
    got = by_path(r.json())
    assert set(got) == {"a.txt", "sub", "sub/deep/c.txt"}, r.json()  # a missing path is left out
    assert got["a.txt"]["type"] == "file" and got["a.txt"]["oid"] == blob_id(FILES["a.txt"])
    assert got["a.txt"]["size"] == len(FILES["a.txt"])
    assert got["sub"]["type"] == "directory" and SHA.match(got["sub"]["oid"]), got
    assert "lfs" not in got["a.txt"] or got["a.txt"]["lfs"] is None


def test_revision_info(podium, files_space):
    name, head = files_space
    r = hf(podium, "GET", "/api/spaces/admin/%s/revision/main" % name)
    assert r.status == 200, r
    j = r.json()
    # snapshot_download asserts repo_info(revision=...).sha (_snapshot_download.py:269)
    assert j["id"] == "admin/" + name and j["sha"] == head, j
    assert {s["rfilename"] for s in j["siblings"]} == set(FILES), j["siblings"]
    # space_info(files_metadata=True) sends blobs=True: siblings get size and blobId
    r = hf(podium, "GET", "/api/spaces/admin/%s/revision/main?blobs=true" % name)
    sib = {s["rfilename"]: s for s in r.json()["siblings"]}
    assert sib["a.txt"].get("size") == len(FILES["a.txt"]), sib["a.txt"]
    assert sib["a.txt"].get("blobId") == blob_id(FILES["a.txt"]), sib["a.txt"]


# ---- validate-yaml, preupload, commit ------------------------------------------------

def test_validate_yaml(podium):
    def check(content):
        # _validate_yaml (hf_api.py:11682) posts this and reads .json() before the status
        r = hf(podium, "POST", "/api/validate-yaml", json={"content": content, "repoType": "space"})
        assert isinstance(r.json(), dict), r
        for w in r.json().get("warnings", []):
            assert isinstance(w.get("message"), str), r.json()
        return r
    assert check(README).status == 200
    assert check("# no front matter at all\n").status == 200
    for bad in ("---\ntitle: [unclosed\n---\n# x\n", "---\nsdk: no-such-sdk\n---\n"):
        r = check(bad)
        # 400 -> BadRequestError -> ValueError listing errors[].message (hf_api.py:11694-11699)
        assert r.status == 400, (bad, r)
        errors = r.json().get("errors")
        assert errors and all(isinstance(e.get("message"), str) and e["message"] for e in errors), r


def test_preupload_modes_gitignore_and_oids(podium):
    name = "hfw-pre"
    podium.create_space(name, sdk="static")
    kept = b"unchanged content\n"
    assert commit(podium, ADMIN, name, "init", add(".gitignore", "*.tmp\n"),
                  add("kept.txt", kept)).status == 200

    def files(*paths):
        out = []
        for p in paths:
            data = kept if p == "kept.txt" else bytes(range(256)) * 2 if p == "big.bin" else b"x\n"
            size = 20 * 2 ** 20 if p == "big.bin" else len(data)
            out.append({"path": p, "sample": base64.b64encode(data[:512]).decode(), "size": size})
        return out

    def pre(payload):
        r = hf(podium, "POST", "/api/spaces/admin/%s/preupload/main" % name, json=payload)
        assert r.status == 200, r
        got = {f["path"]: f for f in r.json()["files"]}
        # _commit_api.py:681-694 and 765-767: path, uploadMode, shouldIgnore; oid optional
        for f in got.values():
            assert f["uploadMode"] == "regular", f  # no LFS/Xet here: never "lfs"
            assert isinstance(f["shouldIgnore"], bool), f
        return got

    paths = ("README.md", "x.log", "logs/deep.log", "y.tmp", "big.bin", "kept.txt")
    # gitIgnore given (_commit_api.py:754): it alone decides
    got = pre({"files": files(*paths), "gitIgnore": "*.log\n"})
    assert {p for p, f in got.items() if f["shouldIgnore"]} == {"x.log", "logs/deep.log"}, got
    # without it the repository's own .gitignore at the revision decides (preupload_lfs_files
    # docstring: gitignore_content, then a committed .gitignore, then the one on the Hub)
    got = pre({"files": files(*paths)})
    assert {p for p, f in got.items() if f["shouldIgnore"]} == {"y.tmp"}, got
    # the blob id of a file already there: create_commit skips an unchanged file
    # (hf_api.py create_commit, _remote_oid == _local_oid, _commit_api.py:287-307)
    assert got["kept.txt"].get("oid") == blob_id(kept), got["kept.txt"]
    assert got["README.md"].get("oid") is None, got["README.md"]


def test_commit_answers_and_errors(podium):
    name = "hfw-commit"
    podium.create_space(name, sdk="static")
    host = "127.0.0.1:%d" % podium.port
    r = commit(podium, ADMIN, name, "init", add("a.txt", "a\n"), add("dir/x.txt", "x\n"),
               add("dir/y.txt", "y\n"), host=host)
    assert r.status == 200, r
    oid = r.json()["commitOid"]
    # CommitInfo parses commitUrl up to /commit/ as a RepoUrl on the endpoint's host
    # (_commit_api.py:1068, hf_api.py:568)
    assert r.json()["commitUrl"] == "http://%s/spaces/admin/%s/commit/%s" % (host, name, oid)
    # a missing file to delete: EntryNotFound (create_commit, hf_api.py:5352-5357)
    is_error(commit(podium, ADMIN, name, "del", ("deletedFile", {"path": "nope.txt"})), 404,
             "EntryNotFound")
    assert tip(podium, name) == oid
    # a folder delete carries a trailing slash (CommitOperationDelete, _commit_api.py:67-70)
    r = commit(podium, ADMIN, name, "rm dir", ("deletedFolder", {"path": "dir/"}))
    assert r.status == 200, r
    paths = set(by_path(hf(podium, "GET", "/api/spaces/admin/%s/tree/main?recursive=true" % name).json()))
    assert paths == {"a.txt"}, paths
    oid = r.json()["commitOid"]
    # an LFS pointer line (_commit_api.py:949-957): no LFS storage here, 400, nothing committed
    is_error(commit(podium, ADMIN, name, "lfs", ("lfsFile", {"path": "w.bin", "algo": "sha256",
             "oid": "0" * 64, "size": 10})), 400)
    # create_pr=1 (_commit_api.py:1053): no pull requests here, 400, nothing committed
    is_error(commit(podium, ADMIN, name, "pr", add("pr.txt", "p\n"), query="?create_pr=1"), 400)
    # a branch that does not exist
    is_error(commit(podium, ADMIN, name, "nb", add("b.txt", "b\n"), rev="no-such-branch"), 404,
             "RevisionNotFound")
    assert tip(podium, name) == oid


# ---- commits, refs, branches, tags ---------------------------------------------------

def test_commits_pages(podium):
    name = "hfw-log"
    podium.create_space(name, sdk="static")
    oids = []
    for i in range(3):
        r = commit(podium, ADMIN, name, "c%d" % i, add("f.txt", "%d\n" % i))
        assert r.status == 200, r
        oids.append(r.json()["commitOid"])
    r = hf(podium, "GET", "/api/spaces/admin/%s/commits/main?limit=2" % name)
    assert r.status == 200, r
    page1 = r.json()
    link = next_link(r)
    assert link, r.headers
    r = follow(podium, link)
    assert r.status == 200 and next_link(r) is None, r.headers
    items = page1 + r.json()
    assert [c["id"] for c in items] == oids[::-1]
    for c in items:  # list_repo_commits (hf_api.py:4318-4326)
        assert isinstance(c["title"], str) and isinstance(c["message"], str)
        assert all(isinstance(a["user"], str) for a in c["authors"]) and c["authors"], c
        assert DATE.match(c["date"]), c


def test_refs_branches_and_tags(podium, stranger):
    name = "hfw-refs"
    podium.create_space(name, sdk="static")
    c1 = commit(podium, ADMIN, name, "one", add("index.html", "<p>1</p>")).json()["commitOid"]
    c2 = commit(podium, ADMIN, name, "two", add("index.html", "<p>2</p>")).json()["commitOid"]
    api = "/api/spaces/admin/" + name

    def refs(prs=False):
        r = hf(podium, "GET", api + "/refs" + ("?include_prs=1" if prs else ""))
        assert r.status == 200, r
        j = r.json()
        # list_repo_refs (hf_api.py:4237-4246): branches, converts, tags (+ pullRequests)
        for k in ("branches", "converts", "tags") + (("pullRequests",) if prs else ()):
            assert isinstance(j[k], list), j
        return j, {b["name"]: b for b in j["branches"]}, {t["name"]: t for t in j["tags"]}

    j, br, tags = refs()
    assert br == {"main": {"name": "main", "ref": "refs/heads/main", "targetCommit": c2}}, j
    assert tags == {} and j["converts"] == []
    assert refs(prs=True)[0]["pullRequests"] == []

    # create_branch (hf_api.py:7119-7139): POST branch/NAME, {} or {"startingPoint": REV}
    assert hf(podium, "POST", api + "/branch/dev", json={}).status == 200
    is_error(hf(podium, "POST", api + "/branch/dev", json={}), 409)  # exist_ok swallows 409
    r = hf(podium, "POST", api + "/branch/feat%2Fone", json={"startingPoint": c1})
    assert r.status == 200, r
    _, br, _ = refs()
    assert br["dev"]["targetCommit"] == c2 and br["dev"]["ref"] == "refs/heads/dev", br
    assert br["feat/one"]["targetCommit"] == c1, br
    assert tip(podium, name, "feat%2Fone") == c1
    h = hf(podium, "HEAD", "/spaces/admin/%s/resolve/feat%%2Fone/index.html" % name,
           headers={"Accept-Encoding": "identity"})
    assert h.status == 200 and h.headers.get("x-repo-commit") == c1, h.headers
    is_error(hf(podium, "POST", api + "/branch/theirs", json={}, token=stranger), 403)

    # a commit to a branch moves only that branch and deploys nothing
    podium.wait_stage(ADMIN, name, "RUNNING")  # main's own builds are done
    releases = len(hf(podium, "GET", api + "/releases").json())
    r = commit(podium, ADMIN, name, "on dev", add("dev.txt", "d\n"), rev="dev")
    assert r.status == 200, r
    assert tip(podium, name, "dev") == r.json()["commitOid"] and tip(podium, name) == c2
    time.sleep(1)
    assert len(hf(podium, "GET", api + "/releases").json()) == releases

    # create_tag (hf_api.py:7255-7269): POST tag/REV {"tag", "message"?}; 409 when it exists
    assert hf(podium, "POST", api + "/tag/main", json={"tag": "v1", "message": "first"}).status == 200
    is_error(hf(podium, "POST", api + "/tag/main", json={"tag": "v1"}), 409)
    assert hf(podium, "POST", api + "/tag/" + c1, json={"tag": "v0"}).status == 200
    _, _, tags = refs()
    assert tags["v1"] == {"name": "v1", "ref": "refs/tags/v1", "targetCommit": c2}, tags
    assert tags["v0"]["targetCommit"] == c1, tags
    assert tip(podium, name, "v1") == c2

    # delete_tag / delete_branch (hf_api.py:7194, 7317)
    assert hf(podium, "DELETE", api + "/tag/v1").status == 200
    assert hf(podium, "DELETE", api + "/branch/dev").status == 200
    _, br, tags = refs()
    assert "dev" not in br and "v1" not in tags and "v0" in tags, (br, tags)
    assert hf(podium, "DELETE", api + "/branch/dev").status == 404
    r = hf(podium, "DELETE", api + "/branch/main")  # the default branch stays
    assert 400 <= r.status < 500, r
    assert tip(podium, name) == c2


# ---- list_spaces ---------------------------------------------------------------------

LISTER = "wire-lister"


@pytest.fixture(scope="module")
def listed(podium):
    return make_listed(podium)


def make_listed(podium):
    """wire-lister's spaces, created and last changed at known times (1 s apart: the
    dates have whole seconds): alpha-q7 (tags q7-alpha-tag, shared-tag), beta-q7 (tag
    shared-tag), zeta (no README), a private q7-private; then alpha-q7 changes again."""
    ph.add_user(podium, LISTER)
    tok = ph.new_token(podium, LISTER, "write", "lister")
    ph.wait_until(lambda: hf(podium, "GET", "/api/whoami-v2", token=tok).status == 200, "token")

    def make(name, readme_tags=None, private=False):
        vis = {"visibility": "private"} if private else {}
        assert create(podium, name, token=tok, **vis).status == 200
        files = [add("index.html", "<p>%s</p>" % name)]
        if readme_tags is not None:
            files.append(add("README.md", "---\nsdk: static\ntags: [%s]\n---\n" % ", ".join(readme_tags)))
        assert commit(podium, LISTER, name, "init", *files, token=tok).status == 200
        time.sleep(1.1)

    make("alpha-q7", ["q7-alpha-tag", "shared-tag"])
    make("beta-q7", ["shared-tag"])
    make("zeta")
    make("q7-private", ["shared-tag"], private=True)
    assert commit(podium, LISTER, "alpha-q7", "again", add("more.txt", "m\n"), token=tok).status == 200
    for n in ("alpha-q7", "beta-q7", "zeta"):
        podium.wait_stage(LISTER, n, "RUNNING", token=tok)
    return tok


def spaces(d, token=None, **params):
    """list_spaces: GET /api/spaces with its params (hf_api.py:2955-2990), anonymous by
    default; lists repeat the key, as httpx encodes them. Follows Link pages."""
    q = urllib.parse.urlencode([(k, x) for k, v in params.items()
                                for x in (v if isinstance(v, list) else [v])])
    r = hf(d, "GET", "/api/spaces" + ("?" + q if q else ""), token=token)
    assert r.status == 200, r
    items = r.json()
    while next_link(r):
        r = follow(d, next_link(r), token=token)
        assert r.status == 200, r
        items += r.json()
    return items


def ids(items):
    return [i["id"].split("/", 1)[1] for i in items]


def test_list_spaces_author_and_items(podium, listed):
    items = spaces(podium, author=LISTER)
    assert sorted(ids(items)) == ["alpha-q7", "beta-q7", "zeta"], ids(items)
    for it in items:  # SpaceInfo (hf_api.py:1264-1320)
        assert it["author"] == LISTER and it["private"] is False and it["sdk"] == "static", it
        assert DATE.match(it["createdAt"]) and DATE.match(it["lastModified"]), it
        assert isinstance(it["likes"], int) and isinstance(it["tags"], list), it
        assert it["runtime"]["stage"], it
    tags = {i["id"]: set(i["tags"]) for i in items}
    assert {"q7-alpha-tag", "shared-tag"} <= tags[LISTER + "/alpha-q7"], tags
    # the owner sees their private space too, as on the Hub
    assert sorted(ids(spaces(podium, token=listed, author=LISTER))) == \
        ["alpha-q7", "beta-q7", "q7-private", "zeta"]


def test_list_spaces_search_is_a_case_insensitive_substring(podium, listed):
    assert sorted(ids(spaces(podium, author=LISTER, search="Q7"))) == ["alpha-q7", "beta-q7"]
    assert sorted(ids(spaces(podium, search="lpha-q"))) == ["alpha-q7"]
    assert spaces(podium, author=LISTER, search="no-such-thing") == []


def test_list_spaces_filter_by_tags(podium, listed):
    assert ids(spaces(podium, author=LISTER, filter="q7-alpha-tag")) == ["alpha-q7"]
    assert sorted(ids(spaces(podium, author=LISTER, filter="shared-tag"))) == ["alpha-q7", "beta-q7"]
    # several filters: all of them
    assert ids(spaces(podium, author=LISTER, filter=["shared-tag", "q7-alpha-tag"])) == ["alpha-q7"]
    # the sdk is one of a space's tags on the Hub
    assert sorted(ids(spaces(podium, author=LISTER, filter="static"))) == ["alpha-q7", "beta-q7", "zeta"]


def test_list_spaces_sort_is_descending(podium, listed):
    # sort=created_at / last_modified are sent as createdAt / lastModified (hf_api.py:2966-2974);
    # always descending; clients before 1.6 also sent direction=-1
    assert ids(spaces(podium, author=LISTER, sort="createdAt")) == ["zeta", "beta-q7", "alpha-q7"]
    assert ids(spaces(podium, author=LISTER, sort="createdAt", direction="-1")) == \
        ["zeta", "beta-q7", "alpha-q7"]
    assert ids(spaces(podium, author=LISTER, sort="lastModified")) == ["alpha-q7", "zeta", "beta-q7"]
    assert sorted(ids(spaces(podium, author=LISTER, sort="likes"))) == ["alpha-q7", "beta-q7", "zeta"]
    assert sorted(ids(spaces(podium, author=LISTER, sort="trendingScore"))) == \
        ["alpha-q7", "beta-q7", "zeta"]


def test_list_spaces_limit_pages_with_link(podium, listed):
    q = urllib.parse.urlencode({"author": LISTER, "sort": "createdAt", "limit": 2})
    r = hf(podium, "GET", "/api/spaces?" + q, token=None)
    assert r.status == 200, r
    assert ids(r.json()) == ["zeta", "beta-q7"], r.json()
    link = next_link(r)
    assert link, "a page of `limit` items links the next one: %r" % r.headers
    r = follow(podium, link, token=None)
    assert r.status == 200 and ids(r.json()) == ["alpha-q7"], r
    assert next_link(r) is None, r.headers


# ---- the Space runtime API -----------------------------------------------------------

def test_runtime_calls(podium):
    name = "hfw-rt"
    podium.create_space(name, sdk="static")
    assert commit(podium, ADMIN, name, "init", add("index.html", "<p>rt</p>")).status == 200
    podium.wait_stage(ADMIN, name, "RUNNING")
    api = "/api/spaces/admin/" + name
    default_storage = hf(podium, "GET", api + "/runtime").json()["storage"]

    def runtime(r):
        assert r.status == 200, r
        rt = r.json()
        assert rt["stage"] and set(rt["hardware"]) >= {"current", "requested"}, rt  # SpaceRuntime
        return rt

    # request_space_hardware(..., sleep_time=) (hf_api.py:8382-8390)
    rt = runtime(hf(podium, "POST", api + "/hardware", json={"flavor": "cpu-upgrade",
                                                           "sleepTimeSeconds": 300}))
    assert rt["hardware"]["requested"] == "cpu-upgrade" and rt["gcTimeout"] == 300, rt
    rt = runtime(hf(podium, "POST", api + "/sleeptime", json={"seconds": 3600}))  # hf_api.py:8424
    assert rt["gcTimeout"] == 3600, rt
    assert runtime(hf(podium, "POST", api + "/pause"))["stage"] == "PAUSED"
    assert runtime(hf(podium, "POST", api + "/restart"))["stage"] != "PAUSED"
    podium.wait_stage(ADMIN, name, "RUNNING")
    runtime(hf(podium, "POST", api + "/restart?factory=true"))  # hf_api.py:8600
    podium.wait_stage(ADMIN, name, "RUNNING")
    rt = runtime(hf(podium, "POST", api + "/storage", json={"tier": "small"}))  # hf_api.py:9159
    assert rt["storage"] == "small", rt
    # delete_space_storage (hf_api.py:9195): the storage and its data go, the default is back
    rt = runtime(hf(podium, "DELETE", api + "/storage"))
    assert rt["storage"] == default_storage != "small", rt
    # variables and secrets as add_space_variable / get_space_secrets parse them
    r = hf(podium, "POST", api + "/variables", json={"key": "RT_VAR", "value": "1"})
    assert r.status == 200 and r.json()["RT_VAR"]["value"] == "1", r
    assert DATE.match(r.json()["RT_VAR"]["updatedAt"]), r.json()
    r = hf(podium, "POST", api + "/secrets", json={"key": "RT_SEC", "value": "2", "description": "d"})
    assert r.status == 200, r
    sec = hf(podium, "GET", api + "/secrets").json()
    assert sec["RT_SEC"]["description"] == "d" and "value" not in sec["RT_SEC"], sec
    assert hf(podium, "DELETE", api + "/secrets", json={"key": "RT_SEC"}).status == 200
    r = hf(podium, "DELETE", api + "/variables", json={"key": "RT_VAR"})
    assert r.status == 200 and "RT_VAR" not in r.json(), r


def test_duplicate_with_all_options(podium):
    src, dst = "hfw-dupsrc", "hfw-dupdst"
    podium.create_space(src, sdk="static")
    assert commit(podium, ADMIN, src, "init", add("index.html", "<p>dup</p>")).status == 200
    assert hf(podium, "POST", "/api/spaces/admin/%s/variables" % src,
              json={"key": "SRC_VAR", "value": "s"}).status == 200
    host = "127.0.0.1:%d" % podium.port
    # duplicate_repo's body (hf_api.py:8984-9006)
    body = {"repository": "admin/" + dst, "visibility": "private", "hardware": "cpu-upgrade",
            "storageTier": "small", "sleepTimeSeconds": 900,
            "secrets": [{"key": "DUP_SECRET", "value": "x", "description": "ds"}],
            "variables": [{"key": "DUP_VAR", "value": "y", "description": "dv"}]}
    r = hf(podium, "POST", "/api/spaces/admin/%s/duplicate" % src, json=body, host=host)
    assert r.status == 200, r
    assert r.json()["url"] == "http://%s/spaces/admin/%s" % (host, dst), r.json()  # hf_api.py:9029
    api = "/api/spaces/admin/" + dst
    assert hf(podium, "GET", api).json()["private"] is True
    rt = hf(podium, "GET", api + "/runtime").json()
    assert rt["hardware"]["requested"] == "cpu-upgrade" and rt["storage"] == "small", rt
    assert rt["gcTimeout"] == 900, rt
    var = hf(podium, "GET", api + "/variables").json()
    assert var.get("DUP_VAR", {}).get("value") == "y" and var.get("SRC_VAR", {}).get("value") == "s", var
    assert "DUP_SECRET" in hf(podium, "GET", api + "/secrets").json()
    # duplicate_space(exist_ok=True) reads the url from the 409 (hf_api.py:9024-9029)
    body409 = is_error(hf(podium, "POST", "/api/spaces/admin/%s/duplicate" % src,
                          json={"repository": "admin/" + dst}, host=host), 409)
    assert body409.get("url") == "http://%s/spaces/admin/%s" % (host, dst), body409
    # a bad option: 400, nothing made
    is_error(hf(podium, "POST", "/api/spaces/admin/%s/duplicate" % src,
                json={"repository": "admin/hfw-dupbad", "hardware": "no-such-flavor"}), 400)
    assert hf(podium, "GET", "/api/spaces/admin/hfw-dupbad").status == 404


# ---- auth-check ----------------------------------------------------------------------

def test_auth_check(podium, files_space, private_space, stranger):
    name, _ = files_space
    api = "/api/spaces/admin/%s/auth-check" % name  # auth_check (hf_api.py:12096-12100)
    assert hf(podium, "GET", api).status == 200
    assert hf(podium, "GET", api + "/write").status == 200
    assert hf(podium, "GET", api, token=stranger).status == 200
    is_error(hf(podium, "GET", api + "/write", token=stranger), 403)
    assert hf(podium, "GET", api, token=None).status == 200
    is_error(hf(podium, "GET", api + "/write", token=None), 401)
    r = hf(podium, "GET", "/api/spaces/admin/%s/auth-check" % private_space, token=stranger)
    is_error(r, 404, "RepoNotFound")
