"""The commit API takes big files in flat memory (issue 22 item 2): a file's base64
content goes to disk as it arrives and from there into the object database, so the
daemon's peak RSS (VmHWM, reset through /proc/PID/clear_refs) hardly moves under one
100 MiB commit or two at once (before: +400 MiB for one). Measured, never timed.
Long contents that are not plain base64 (JSON escapes, utf-8) are stored exactly, and
commits beyond those running at once wait their turn instead of failing.
`make bench-commit` prints the numbers."""
import base64
import hashlib
import http.client
import json
import os
import threading

import pytest

import podium_helpers as ph

ADMIN = ph.ADMIN
MIB = 1 << 20


def blob_id_of_file(path):
    h = hashlib.sha1(b"blob %d\0" % os.path.getsize(path))
    with open(path, "rb") as f:
        for piece in iter(lambda: f.read(MIB), b""):
            h.update(piece)
    return h.hexdigest()


def send_big(d, name, path, out, i):
    """One NDJSON commit of the file at path as big.bin, its base64 made and sent a
    piece at a time (the client holds no body either)."""
    head = (json.dumps({"key": "header", "value": {"summary": "big", "description": ""}}) + "\n"
            + '{"key": "file", "value": {"content": "').encode()
    tail = b'", "path": "big.bin", "encoding": "base64"}}\n'
    size = os.path.getsize(path)
    c = http.client.HTTPConnection("127.0.0.1", d.port, timeout=600)
    try:
        c.putrequest("POST", "/api/spaces/%s/%s/commit/main" % (ADMIN, name), skip_host=True,
                     skip_accept_encoding=True)
        for k, v in (("Host", d.hub_host), ("Authorization", "Bearer " + d.token),
                     ("Content-Type", "application/x-ndjson"),
                     ("Content-Length", str(len(head) + (size + 2) // 3 * 4 + len(tail)))):
            c.putheader(k, v)
        c.endheaders()
        c.send(head)
        with open(path, "rb") as f:
            for raw in iter(lambda: f.read(3 * MIB), b""):
                c.send(base64.b64encode(raw))
        c.send(tail)
        r = c.getresponse()
        out[i] = (r.status, r.read())
    finally:
        c.close()


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("big") / "big.bin")
    with open(path, "wb") as f:
        for _ in range(100):
            f.write(os.urandom(MIB))
    return path


def peak_growth_mib(d, names, path):
    """Commits path to each of names at once; the daemon's peak RSS growth."""
    pid = d.proc.pid
    before = ph.proc_status_kb(pid, "VmRSS")
    with open("/proc/%d/clear_refs" % pid, "w") as f:
        f.write("5")  # VmHWM := VmRSS
    out = [None] * len(names)
    ts = [threading.Thread(target=send_big, args=(d, n, path, out, i)) for i, n in enumerate(names)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for o in out:
        assert o is not None and o[0] == 200, o
    return (ph.proc_status_kb(pid, "VmHWM") - before) / 1024


def test_a_100_mib_commit_keeps_the_daemon_rss_flat(podium, big_file):
    podium.create_space("cs-one", sdk="static")
    growth = peak_growth_mib(podium, ["cs-one"], big_file)
    assert growth < 48, "the daemon's peak RSS grew %.1f MiB for one 100 MiB commit" % growth
    # what was stored is the file, byte for byte (its git blob id)
    r = ph.http_request(podium.port, "HEAD", "/spaces/admin/cs-one/resolve/main/big.bin",
                        podium.hub_host, None, {"Accept-Encoding": "identity"})
    assert r.status == 200 and int(r.headers["content-length"]) == 100 * MIB, r.headers
    assert r.headers["etag"].strip('"') == blob_id_of_file(big_file), r.headers
    podium.delete_space("cs-one")


def test_concurrent_100_mib_commits_keep_it_flat(podium, big_file):
    names = ["cs-two-a", "cs-two-b"]
    for n in names:
        podium.create_space(n, sdk="static")
    growth = peak_growth_mib(podium, names, big_file)
    assert growth < 64, "the daemon's peak RSS grew %.1f MiB for two 100 MiB commits" % growth
    for n in names:
        r = podium.api("GET", "/api/spaces/admin/%s/paths-info/main" % n)  # wrong method: 405
        assert r.status == 405, r
        r = podium.api("POST", "/api/spaces/admin/%s/paths-info/main" % n, json={"paths": ["big.bin"]})
        assert r.status == 200 and r.json()[0]["size"] == 100 * MIB, r
        podium.delete_space(n)


def commit(d, name, lines):
    body = b"".join(line + b"\n" for line in lines)
    return ph.http_request(d.port, "POST", "/api/spaces/%s/%s/commit/main" % (ADMIN, name),
                           d.hub_host, body, {"Content-Type": "application/x-ndjson",
                                              "Authorization": "Bearer " + d.token}, timeout=120)


def test_long_contents_that_are_not_plain_base64(podium):
    """A content longer than what stays in memory, with JSON escapes (a client that
    writes \\/ for /) or as utf-8 text with \\u escapes: the same bytes come back."""
    podium.create_space("cs-esc", sdk="static")
    data = os.urandom(300 * 1024)
    b64 = base64.b64encode(data).decode().replace("/", "\\/")
    text = ("é ünïcode \u2603 " * 20000)
    header = json.dumps({"key": "header", "value": {"summary": "escapes"}}).encode()
    f1 = ('{"key": "file", "value": {"content": "%s", "path": "esc.bin", "encoding": "base64"}}'
          % b64).encode()
    f2 = json.dumps({"key": "file", "value": {"content": text, "path": "text.txt",
                                               "encoding": "utf-8"}}).encode()
    assert b"\\u" in f2
    r = commit(podium, "cs-esc", [header, f1, f2])
    assert r.status == 200, r
    for path, want in (("esc.bin", data), ("text.txt", text.encode())):
        g = ph.http_request(podium.port, "GET", "/spaces/admin/cs-esc/resolve/main/" + path,
                            podium.hub_host, None, {})
        assert g.status == 200 and g.body == want, (path, g.status, len(g.body), len(want))
    # a long content that is not base64: 400, nothing committed
    bad = ('{"key": "file", "value": {"content": "%s", "path": "bad.bin"}}' % ("*" * 200000)).encode()
    r = commit(podium, "cs-esc", [header, bad])
    assert r.status == 400 and "base64" in r.json()["error"], r
    r = podium.api("POST", "/api/spaces/admin/cs-esc/paths-info/main", json={"paths": ["bad.bin"]})
    assert r.json() == [], r


def test_commits_beyond_the_running_ones_wait_their_turn(podium):
    """More commits at once than run at once (4), each with a spooled file: all land."""
    names = ["cs-many-%d" % i for i in range(7)]
    data = os.urandom(512 * 1024)
    line = json.dumps({"key": "file", "value": {"content": base64.b64encode(data).decode(),
                                                 "path": "f.bin", "encoding": "base64"}}).encode()
    header = json.dumps({"key": "header", "value": {"summary": "many"}}).encode()
    for n in names:
        podium.create_space(n, sdk="static")
    out = [None] * len(names)

    def one(i, n):
        out[i] = commit(podium, n, [header, line])

    ts = [threading.Thread(target=one, args=(i, n)) for i, n in enumerate(names)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert [r.status for r in out] == [200] * len(names), out
    want = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    for n in names:
        r = podium.api("POST", "/api/spaces/admin/%s/paths-info/main" % n, json={"paths": ["f.bin"]})
        assert r.json()[0]["oid"] == want, r
