"""The Hub's commit API and repository reads (issue 15): preupload, commit (NDJSON),
tree, revision, commits, resolve/raw — what huggingface_hub and @huggingface/hub call."""
import base64
import json
import os
import socket
import time

import podium_helpers as ph

ADMIN = ph.ADMIN
BINARY = bytes(range(256)) * 64 + b"\x00\xff\r\n"  # every byte value, NULs, a CRLF


def ndjson(header, *ops):
    lines = [{"key": "header", "value": header}] + [{"key": k, "value": v} for k, v in ops]
    return ("\n".join(json.dumps(x) for x in lines) + "\n").encode()


def file_op(path, data):
    if isinstance(data, str):
        data = data.encode()
    return ("file", {"path": path, "content": base64.b64encode(data).decode(), "encoding": "base64"})


def commit(d, name, body, token=ph.DEFAULT, rev="main"):
    token = d.token if token is ph.DEFAULT else token
    hdrs = {"Content-Type": "application/x-ndjson"}
    if token:
        hdrs["Authorization"] = "Bearer " + token
    return ph.http_request(d.port, "POST", "/api/spaces/%s/%s/commit/%s" % (ADMIN, name, rev),
                           d.hub_host, body, hdrs, timeout=60)


def get(d, path, headers=None, method="GET"):
    h = {"Authorization": "Bearer " + d.token}
    h.update(headers or {})
    return ph.http_request(d.port, method, path, d.hub_host, None, h)


def main_sha(d, name):
    r = d.api("GET", "/api/spaces/%s/%s/revision/main" % (ADMIN, name))
    assert r.status == 200, r
    return r.json()["sha"]


def test_commit_builds_and_serves_binary_files(podium):
    podium.create_space("cm-bin", sdk="static")
    r = commit(podium, "cm-bin", ndjson({"summary": "first", "description": "from the API"},
                                        file_op("index.html", "<h1>committed</h1>"),
                                        file_op("assets/blob.bin", BINARY)))
    assert r.status == 200, r
    j = r.json()
    assert len(j["commitOid"]) == 40
    assert j["commitUrl"].endswith("/spaces/admin/cm-bin/commit/" + j["commitOid"])
    # the commit builds exactly as a push does
    podium.wait_stage(ADMIN, "cm-bin", "RUNNING")
    assert "committed" in podium.wait_app(ADMIN, "cm-bin").text
    assert podium.wait_app(ADMIN, "cm-bin", "/assets/blob.bin").body == BINARY
    # resolve gives the bytes back, with the Hub's headers
    r = get(podium, "/spaces/admin/cm-bin/resolve/main/assets/blob.bin")
    assert r.status == 200 and r.body == BINARY, r
    assert r.headers["x-repo-commit"] == j["commitOid"]
    assert r.headers["etag"].startswith('"')
    # a one-byte range tells size and ETag (how @huggingface/hub's downloadFile starts)
    r = get(podium, "/spaces/admin/cm-bin/resolve/main/assets/blob.bin", {"Range": "bytes=0-0"})
    assert r.status == 206 and r.body == b"\x00", r
    assert r.headers["content-range"] == "bytes 0-0/%d" % len(BINARY)
    r = get(podium, "/spaces/admin/cm-bin/resolve/%s/assets/blob.bin" % j["commitOid"][:12],
            {"Range": "bytes=10-"})
    assert r.status == 206 and r.body == BINARY[10:], r
    r = get(podium, "/spaces/admin/cm-bin/raw/main/assets/blob.bin", {"Range": "bytes=99999999-"})
    assert r.status == 416, r
    r = get(podium, "/spaces/admin/cm-bin/raw/main/index.html", method="HEAD")
    assert r.status == 200 and r.body == b"" and r.headers["content-length"] == "18", r
    r = get(podium, "/spaces/admin/cm-bin/raw/main/nope.txt", method="HEAD")
    assert r.status == 404, r
    r = get(podium, "/spaces/admin/cm-bin/resolve/main/nope.txt")
    assert r.status == 404 and r.headers.get("x-error-code") == "EntryNotFound", r
    r = get(podium, "/spaces/admin/cm-bin/resolve/nobranch/index.html")
    assert r.status == 404 and r.headers.get("x-error-code") == "RevisionNotFound", r
    # git sees the same commit, authored by the token's user
    wd = podium.workdir_from()
    podium.git("clone", "-q", podium.remote_url(ADMIN, "cm-bin", token=None), wd + "/c")
    log = podium.git("log", "--format=%H %an %s", cwd=wd + "/c").stdout.decode().split()
    assert log == [j["commitOid"], "admin", "first"]
    with open(wd + "/c/assets/blob.bin", "rb") as f:
        assert f.read() == BINARY


def test_tree_revision_commits(podium):
    podium.create_space("cm-tree", sdk="static")
    # a space nothing was pushed to lists as empty
    r = podium.api("GET", "/api/spaces/admin/cm-tree/tree/main")
    assert r.status == 200 and r.json() == [], r
    r = commit(podium, "cm-tree", ndjson({"summary": "one"}, file_op("index.html", "x"),
                                         file_op("a/b/c.txt", "deep")))
    assert r.status == 200, r
    r = commit(podium, "cm-tree", ndjson({"summary": "two"}, file_op("a/d.txt", "dd")))
    assert r.status == 200, r
    second = r.json()["commitOid"]
    r = podium.api("GET", "/api/spaces/admin/cm-tree/tree/main")
    assert r.status == 200, r
    top = {e["path"]: e for e in r.json()}
    assert set(top) == {"index.html", "a"}
    assert top["a"]["type"] == "directory" and top["index.html"]["type"] == "file"
    assert top["index.html"]["size"] == 1 and len(top["index.html"]["oid"]) == 40
    r = podium.api("GET", "/api/spaces/admin/cm-tree/tree/main/a?recursive=true")
    assert sorted((e["path"], e["type"]) for e in r.json()) == [
        ("a/b", "directory"), ("a/b/c.txt", "file"), ("a/d.txt", "file")], r
    r = podium.api("GET", "/api/spaces/admin/cm-tree/tree/main/missing")
    assert r.status == 404 and r.headers.get("x-error-code") == "EntryNotFound", r
    r = podium.api("GET", "/api/spaces/admin/cm-tree/revision/main")
    j = r.json()
    assert j["id"] == "admin/cm-tree" and j["sha"] == second
    assert {"_id", "lastModified", "likes", "sdk", "private"} <= set(j)
    assert sorted(s["rfilename"] for s in j["siblings"]) == ["a/b/c.txt", "a/d.txt", "index.html"]
    r = podium.api("GET", "/api/spaces/admin/cm-tree/commits/main?limit=1")
    assert r.status == 200 and r.headers["x-total-count"] == "2", r
    [c] = r.json()
    assert c["id"] == second and c["title"] == "two" and c["authors"][0]["user"] == "admin"
    assert 'rel="next"' in r.headers["link"]
    r = podium.api("GET", "/api/spaces/admin/cm-tree/commits/main?limit=1&p=1")
    assert [c["title"] for c in r.json()] == ["one"]
    # listSpaces reads lastModified and _id
    [s] = [s for s in podium.api("GET", "/api/spaces").json() if s["id"] == "admin/cm-tree"]
    assert s["lastModified"] == j["lastModified"] and s["_id"] == j["_id"]


def test_deletions(podium):
    podium.create_space("cm-del", sdk="static")
    r = commit(podium, "cm-del", ndjson({"summary": "add"}, file_op("index.html", "keep"),
                                        file_op("gone.txt", "bye"), file_op("dir/x.txt", "x"),
                                        file_op("dir/y.txt", "y")))
    assert r.status == 200, r
    r = commit(podium, "cm-del", ndjson({"summary": "del"}, ("deletedFile", {"path": "gone.txt"}),
                                        ("deletedFolder", {"path": "dir/"})))
    assert r.status == 200, r
    paths = [e["path"] for e in podium.api("GET", "/api/spaces/admin/cm-del/tree/main?recursive=true").json()]
    assert paths == ["index.html"]
    assert get(podium, "/spaces/admin/cm-del/resolve/main/gone.txt").status == 404
    # the first commit still has it
    first = podium.api("GET", "/api/spaces/admin/cm-del/commits/main").json()[-1]["id"]
    r = get(podium, "/spaces/admin/cm-del/resolve/%s/gone.txt" % first)
    assert r.status == 200 and r.body == b"bye", r
    # deleting what is not there is an error, and nothing is committed
    before = main_sha(podium, "cm-del")
    r = commit(podium, "cm-del", ndjson({"summary": "x"}, ("deletedFile", {"path": "nothere"})))
    assert r.status == 404 and "nothere" in r.json()["error"], r
    assert main_sha(podium, "cm-del") == before


def test_stale_parent_refused(podium):
    podium.create_space("cm-stale", sdk="static")
    r = commit(podium, "cm-stale", ndjson({"summary": "1"}, file_op("index.html", "1")))
    first = r.json()["commitOid"]
    # control: the right parent is taken
    r = commit(podium, "cm-stale", ndjson({"summary": "2", "parentCommit": first},
                                          file_op("index.html", "2")))
    assert r.status == 200, r
    second = r.json()["commitOid"]
    r = commit(podium, "cm-stale", ndjson({"summary": "3", "parentCommit": first},
                                          file_op("index.html", "3")))
    assert r.status == 412, r
    assert "parentCommit" in r.json()["error"]
    assert main_sha(podium, "cm-stale") == second
    r = get(podium, "/spaces/admin/cm-stale/resolve/main/index.html")
    assert r.body == b"2"


def test_bad_ndjson_is_400_and_commits_nothing(podium):
    podium.create_space("cm-bad", sdk="static")
    r = commit(podium, "cm-bad", ndjson({"summary": "ok"}, file_op("index.html", "ok")))
    assert r.status == 200, r
    before = main_sha(podium, "cm-bad")
    bad = [
        b'{"key": "header", "value": {"summary": "x"}}\n{not json\n',
        b'{"key": "file", "value": {"path": "a", "content": ""}}\n',  # no header first
        b"",
        ndjson({"summary": "x"}, ("file", {"path": "a.txt", "content": "%%%", "encoding": "base64"})),
        ndjson({"summary": "x"}, file_op("../escape", "x")),
        ndjson({"summary": "x"}, file_op(".git/config", "x")),
        ndjson({"summary": "x"}, ("copy", {"path": "a"})),
        ndjson({"summary": "x"}, ("lfsFile", {"path": "a", "oid": "0" * 64, "size": 1})),
    ]
    for body in bad:
        r = commit(podium, "cm-bad", body)
        assert r.status == 400, (body[:80], r)
        assert r.json()["error"], r
    assert main_sha(podium, "cm-bad") == before
    # auth: none → 401, wrong → 401; unknown space → 404; a branch that is not there → 404
    assert commit(podium, "cm-bad", ndjson({"summary": "x"}), token=None).status == 401
    assert commit(podium, "cm-bad", ndjson({"summary": "x"}), token="hf_" + "0" * 48).status == 401
    assert commit(podium, "cm-nope", ndjson({"summary": "x"})).status == 404
    r = commit(podium, "cm-bad", ndjson({"summary": "x"}), rev="dev")
    assert r.status == 404 and r.headers.get("x-error-code") == "RevisionNotFound", r
    assert main_sha(podium, "cm-bad") == before


def test_preupload_and_size_limit(podium):
    podium.create_space("cm-big", sdk="static")
    body = {"files": [{"path": "small.bin", "size": 10, "sample": ""}]}
    r = podium.api("POST", "/api/spaces/admin/cm-big/preupload/main", json=body)
    assert r.status == 200, r
    assert r.json()["files"] == [{"path": "small.bin", "uploadMode": "regular", "shouldIgnore": False}]
    body = {"files": [{"path": "big.bin", "size": 100 * 2 ** 20 + 1, "sample": ""}]}
    r = podium.api("POST", "/api/spaces/admin/cm-big/preupload/main", json=body)
    assert r.status == 413 and "big.bin" in r.json()["error"], r
    # a file of 100 MiB + 1 sent anyway: 413, nothing committed, the daemon fine
    data = base64.b64encode(b"\0" * (100 * 2 ** 20 + 1))
    head = json.dumps({"key": "header", "value": {"summary": "big"}}).encode() + b"\n"
    line = b'{"key": "file", "value": {"path": "big.bin", "encoding": "base64", "content": "' + data + b'"}}\n'
    req = (b"POST /api/spaces/admin/cm-big/commit/main HTTP/1.1\r\nHost: %s\r\n"
           b"Authorization: Bearer %s\r\nContent-Length: %d\r\n\r\n"
           % (podium.hub_host.encode(), podium.token.encode(), len(head) + len(line)))
    with socket.create_connection(("127.0.0.1", podium.port), timeout=60) as s:
        s.sendall(req + head)
        try:
            s.sendall(line)
        except OSError:
            pass  # the daemon may answer and close before taking it all
        resp = b""
        deadline = time.monotonic() + 60
        while b"\r\n\r\n" not in resp and time.monotonic() < deadline:
            try:
                c = s.recv(65536)
            except OSError:
                break
            if not c:
                break
            resp += c
    assert resp.startswith(b"HTTP/1.1 413"), resp[:200]
    assert podium.api("GET", "/api/spaces/admin/cm-big/tree/main").json() == []
    assert podium.api("GET", "/api/health").status == 200


def test_create_with_files(podium):
    files = [{"path": "index.html", "content": base64.b64encode(b"<p>born with files</p>").decode(),
              "encoding": "base64"}]
    r = podium.api("POST", "/api/repos/create", json={
        "type": "space", "name": "cm-files", "sdk": "static", "visibility": "private", "files": files})
    assert r.status == 200, r
    assert podium.info(ADMIN, "cm-files").json()["private"] is True
    podium.wait_stage(ADMIN, "cm-files", "RUNNING")
    r = get(podium, "/spaces/admin/cm-files/resolve/main/index.html")
    assert r.body == b"<p>born with files</p>"
    # bad files: the space is not created
    r = podium.api("POST", "/api/repos/create", json={
        "type": "space", "name": "cm-files2", "files": [{"path": "../x", "content": ""}]})
    assert r.status == 400, r
    assert podium.info(ADMIN, "cm-files2").status == 404


def test_private_space_reads_and_writes_need_the_owner(podium):
    podium.create_space("cm-priv", sdk="static", private=True)
    r = commit(podium, "cm-priv", ndjson({"summary": "p"}, file_op("index.html", "private bytes")))
    assert r.status == 200, r  # control: the owner writes and reads
    paths = ["/spaces/admin/cm-priv/resolve/main/index.html", "/spaces/admin/cm-priv/raw/main/index.html"]
    apis = ["/api/spaces/admin/cm-priv/tree/main", "/api/spaces/admin/cm-priv/revision/main",
            "/api/spaces/admin/cm-priv/commits/main"]
    for p in paths:
        assert get(podium, p).body == b"private bytes"
    for p in apis:
        assert podium.api("GET", p).status == 200
    # anonymous: 404 everywhere, as on the Hub; nothing leaks
    for p in paths + apis:
        r = podium.api("GET", p, token=None)
        assert r.status == 404 and b"private bytes" not in r.body, (p, r)
    r = commit(podium, "cm-priv", ndjson({"summary": "x"}, file_op("index.html", "y")), token=None)
    assert r.status == 404, r
    assert get(podium, paths[0]).body == b"private bytes"


def test_commit_and_git_push_take_turns(podium):
    podium.create_space("cm-git", sdk="static")
    r = commit(podium, "cm-git", ndjson({"summary": "api"}, file_op("index.html", "api")))
    api_sha = r.json()["commitOid"]
    # git builds on the API's commit (a fast-forward)
    wd = podium.workdir_from()
    podium.git("clone", "-q", podium.remote_url(ADMIN, "cm-git"), wd + "/c")
    ph.write_files(wd + "/c", {"index.html": "git"})
    pushed = podium.push(wd + "/c", ADMIN, "cm-git")
    assert main_sha(podium, "cm-git") == pushed
    # a commit on the API's old parent is now stale; on the pushed tip it is taken
    r = commit(podium, "cm-git", ndjson({"summary": "x", "parentCommit": api_sha}, file_op("a", "a")))
    assert r.status == 412, r
    r = commit(podium, "cm-git", ndjson({"summary": "y", "parentCommit": pushed}, file_op("a", "a")))
    assert r.status == 200, r
    podium.wait_stage(ADMIN, "cm-git", "RUNNING")
    assert podium.wait_app(ADMIN, "cm-git", predicate=lambda x: x.text == "git").text == "git"
    podium.git("pull", "-q", "--ff-only", cwd=wd + "/c")
    assert podium.git("rev-parse", "HEAD", cwd=wd + "/c").stdout.decode().strip() == r.json()["commitOid"]


def test_wrong_methods_are_405_with_allow(podium):
    podium.create_space("cm-405", sdk="static")
    for method, path, allow in [
            ("GET", "/api/spaces/admin/cm-405/commit/main", "POST"),
            ("PUT", "/api/spaces/admin/cm-405/preupload/main", "POST"),
            ("POST", "/api/spaces/admin/cm-405/tree/main", "GET, HEAD"),
            ("DELETE", "/api/spaces/admin/cm-405/commits/main", "GET, HEAD"),
            ("POST", "/spaces/admin/cm-405/resolve/main/index.html", "GET, HEAD")]:
        r = podium.api(method, path)
        assert r.status == 405 and r.headers.get("allow") == allow, (method, path, r)
