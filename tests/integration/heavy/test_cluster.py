"""A podium cluster (issue 27): three nodes on one PostgreSQL database, each in a
network namespace of its own, joined by a bridge of this module's own, with a
shared filesystem (sshfs; cluster_helpers.py says why not NFS). Real daemons,
real PostgreSQL, real mounts; nothing reaches the machine's own network.

In order, on one cluster (the module's): a push to one node and the app through
each of the three (hub API, git, streaming, an upgraded connection and a held
wake forwarded too; a forged forward refused); a drain under a steady request
stream with no failed request; a node killed with -9 and cut off, whose space
serves again from the others within 30 s with its /data; fencing: a node cut off
from PostgreSQL alone stops its app before another node starts it (with a
positive control of the check); PostgreSQL restarted under load: what runs
keeps serving, and the nodes catch up."""
import os
import threading
import time

import pytest

import cluster_helpers as ch
import podium_helpers as ph

ADMIN = ph.ADMIN
SPACE = "counter"

APP = r'''
import json, os, socket, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(os.environ.get("PORT", "7860"))
DATA = "/data/count"

def count():
    try:
        with open(DATA) as f:
            return int(f.read() or 0)
    except (OSError, ValueError):
        return 0

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def reply(self, code, body):
        b = body.encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def do_GET(self):
        if self.path == "/stream":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(4):
                line = ("line %d %.3f\n" % (i, time.time())).encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                self.wfile.flush()
                time.sleep(0.3)
            self.wfile.write(b"0\r\n\r\n")
            return
        if self.headers.get("Upgrade") == "echo":
            self.send_response(101)
            self.send_header("Upgrade", "echo")
            self.send_header("Connection", "Upgrade")
            self.end_headers()
            self.wfile.flush()
            while True:
                b = self.connection.recv(4096)
                if not b:
                    return
                self.connection.sendall(b.upper())
        self.reply(200, "count %d" % count())
    def do_POST(self):
        n = count() + 1
        with open(DATA + ".tmp", "w") as f:
            f.write(str(n))
            f.flush()
            os.fsync(f.fileno())
        os.rename(DATA + ".tmp", DATA)
        d = os.open("/data", os.O_RDONLY)
        try:
            os.fsync(d)  # the rename too: a node lost now keeps it
        finally:
            os.close(d)
        self.reply(200, "count %d" % n)
    def log_message(self, *a):
        pass

ThreadingHTTPServer(("0.0.0.0", PORT), H).serve_forever()
'''

FILES = {"README.md": "---\ntitle: counter\nsdk: python\napp_file: app.py\n---\n", "app.py": APP}


def test_skips_say_what_is_missing(monkeypatch):
    """The positive control of the module's skip: without sshfs, the sftp server
    or PostgreSQL, unavailable() names what is missing and its package (and
    here, where all of it is installed, says nothing)."""
    assert ch.unavailable() is None or not os.path.exists("/usr/bin/sshfs")
    real_which, real_access = ch.shutil.which, os.access
    monkeypatch.setattr(ch.shutil, "which", lambda t: None if t == "sshfs" else real_which(t))
    assert ch.unavailable() == "sshfs is not installed (make deps installs sshfs)"
    monkeypatch.setattr(ch.shutil, "which", real_which)
    monkeypatch.setattr(os, "access", lambda path, mode: False if path.endswith("sftp-server")
                        else real_access(path, mode))
    assert "openssh-sftp-server" in ch.unavailable()
    monkeypatch.setattr(os, "access", lambda path, mode: False if path.endswith("/initdb")
                        else real_access(path, mode))
    assert "postgresql-15" in ch.unavailable()


@pytest.fixture(scope="module")
def cluster():
    why = ch.unavailable()
    if why:
        pytest.skip(why)
    c = ch.Cluster(3, lease_ms=6000)
    try:
        c.setup()
        c.start_nodes()
        yield c
        for n in c.nodes:
            if n.proc is not None and n.proc.poll() is None:
                rc = n.stop(timeout=30)
                assert rc == 0, "%s exited %r on SIGTERM:\n%s" % (n.name, rc, n.log_tail())
    finally:
        c.cleanup()


def owner_of(c, name=SPACE):
    """The node that runs the space, as every live node's API says."""
    return c.node(c.nodes[0].runtime(ADMIN, name)["node"])


def alive(c):
    return [n for n in c.nodes if n.proc is not None and n.proc.poll() is None]


def steady(c, nodes, path="/"):
    """Loaders through each node, "fresh" connections (a Loader's default)."""
    return [ph.Loader(n, ADMIN, SPACE, path).start() for n in nodes]


def stop_all(loaders):
    for lo in loaders:
        lo.stop()
    return [r for lo in loaders for r in lo.failures()], sum(len(lo.results) for lo in loaders)


def test_push_to_one_node_serve_through_every_node(cluster):
    n1, n2, n3 = cluster.nodes
    n1.create_space(SPACE, sdk="python")
    wd = n1.workdir_from(files=FILES)
    n1.push(wd, ADMIN, SPACE)
    n1.wait_stage(ADMIN, SPACE, "RUNNING")
    for n in cluster.nodes:
        r = n.wait_app(ADMIN, SPACE, timeout=60)
        assert r.text == "count 0", (n.name, r)
        # the hub's API of a space answers through any node: the owner's view
        assert n.runtime(ADMIN, SPACE)["node"] == "n1"
    # a write through another node reaches the one /data
    assert n3.get_app(ADMIN, SPACE, method="POST").text == "count 1"
    assert n2.get_app(ADMIN, SPACE).text == "count 1"
    # a push through another node goes to the space's owner and deploys
    ph.write_files(wd, {"app.py": APP.replace('"count %d"', '"v2 count %d"')})
    n3.push(wd, ADMIN, SPACE)
    for n in cluster.nodes:
        n.wait_app(ADMIN, SPACE, predicate=lambda r: r.text == "v2 count 1", timeout=120)
    # every node lists it
    for n in cluster.nodes:
        names = [s["id"] for s in n.api("GET", "/api/spaces").json()]
        assert "admin/" + SPACE in names, (n.name, names)


def test_streaming_upgrade_and_private_hosts_through_another_node(cluster):
    n1, n2, n3 = cluster.nodes
    # a chunked stream arrives line by line, not at its end
    conn = ch.NsHTTPConnection(cluster.dialer, n3.ip, ch.PORT, 30)
    conn.request("GET", "/stream", headers={"Host": n3.app_host(ADMIN, SPACE)})
    r = conn.getresponse()
    first = r.read1()
    t_first = time.time()
    rest = r.read()
    conn.close()
    assert r.status == 200 and b"line 0" in first + rest and b"line 3" in rest, (first, rest)
    assert time.time() - t_first > 0.5, "the stream came at once, not as it was written"
    # an upgraded connection is a byte tunnel both ways
    s = cluster.dialer.connect((n2.ip, ch.PORT), 10)
    s.sendall(("GET / HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n"
               % n2.app_host(ADMIN, SPACE)).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(4096)
    assert head.startswith(b"HTTP/1.1 101"), head
    s.sendall(b"hello")
    got = b""
    while len(got) < 5:
        got += s.recv(100)
    assert got == b"HELLO"
    s.close()
    # a forwarded request another node did not sign is refused
    r = n2.get_app(ADMIN, SPACE, headers={"X-Podium-Forwarded": "n1 %d 1 %s"
                                          % (time.time(), "0" * 64)})
    assert r.status == 403, r
    # a private space's host: 404 without a token through any node, 200 with it
    n1.deploy(os.path.join(ph.EXAMPLES, "static"), "secret", private=True)
    for n in cluster.nodes:
        n.wait_until(lambda: n.get_app(ADMIN, "secret").status == 404, "private host hidden",
                     timeout=30)
        ok = n.get_app(ADMIN, "secret", headers={"Authorization": "Bearer " + n1.token})
        assert ok.status == 200, (n.name, ok)


def test_held_wake_through_another_node(cluster):
    n1 = cluster.nodes[0]
    owner = owner_of(cluster)
    other = next(n for n in cluster.nodes if n is not owner)
    assert other.api("POST", "/api/spaces/admin/%s/sleeptime" % SPACE,
                     json={"seconds": 1}).status == 200
    n1.wait_stage(ADMIN, SPACE, "SLEEPING", timeout=60)
    owner.wait_until(lambda: owner.app_pids("admin/" + SPACE) == [], "the app stopped",
                     timeout=30)
    r = other.get_app(ADMIN, SPACE, timeout=90)
    assert r.status == 200 and r.text.endswith("count 1"), r
    assert other.api("POST", "/api/spaces/admin/%s/sleeptime" % SPACE,
                     json={"seconds": -1}).status == 200
    n1.wait_stage(ADMIN, SPACE, "RUNNING", timeout=60)


def test_drain_under_load_has_no_failed_request(cluster):
    owner = owner_of(cluster)
    others = [n for n in cluster.nodes if n is not owner]
    loaders = steady(cluster, cluster.nodes)
    try:
        time.sleep(1)
        p = cluster.podium("node", "drain", owner.name)
        assert p.returncode == 0, p.stdout
        ph.wait_until(lambda: owner_of(cluster) is not owner, "the space left the drained node",
                      timeout=120)
        new = owner_of(cluster)
        new.wait_stage(ADMIN, SPACE, "RUNNING", timeout=120)
        time.sleep(1)
    finally:
        failures, total = stop_all(loaders)
    assert total > 50, total
    assert failures == [], "%d of %d requests failed: %r" % (len(failures), total, failures[:5])
    assert new in others and owner.app_pids("admin/" + SPACE) == []
    # its /data came along
    assert new.get_app(ADMIN, SPACE).text.endswith("count 1")
    out = cluster.podium("node", "list").stdout.decode()
    assert "draining" in out, out
    assert cluster.podium("node", "activate", owner.name).returncode == 0


def test_node_lost_its_spaces_serve_again_with_their_data(cluster):
    victim = owner_of(cluster)
    survivors = [n for n in cluster.nodes if n is not victim]
    assert victim.get_app(ADMIN, SPACE, method="POST").text.endswith("count 2")
    t0 = time.monotonic()
    victim.lose()
    for n in survivors:
        r = n.wait_app(ADMIN, SPACE, predicate=lambda r: r.status == 200, timeout=30)
        assert r.text.endswith("count 2"), (n.name, r)
    took = time.monotonic() - t0
    assert took < 30, took
    rt = survivors[0].runtime(ADMIN, SPACE)
    assert rt["node"] in {n.name for n in survivors}, rt
    out = cluster.podium("node", "list", "--json").stdout.decode()
    assert '"alive": false' in out, out
    # the lost node comes back (a new daemon, its network again): it runs none of it
    victim.found()
    victim.start()
    ph.wait_until(lambda: victim.runtime(ADMIN, SPACE)["node"] != victim.name,
                  "the space stays where it went", timeout=30)
    assert victim.app_pids("admin/" + SPACE) == []


def test_fencing_cut_from_postgres_stops_its_app_first(cluster):
    owner = owner_of(cluster)
    space_id = "admin/" + SPACE
    seen = []      # (time, {node: pids}) samples
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            seen.append((time.monotonic(), {n.name: n.app_pids(space_id) for n in alive(cluster)}))
            time.sleep(0.05)

    def overlaps():
        return [s for s in seen if sum(1 for pids in s[1].values() if pids) > 1]

    # positive control: a second "app" process under another node's daemon is seen
    t = threading.Thread(target=sample, daemon=True)
    t.start()
    other = next(n for n in alive(cluster) if n is not owner)
    fake = ch.subprocess.Popen(
        ["nsenter", "--net=/run/netns/%s" % other.ns, "sleep", "2"],
        env={"SPACE_ID": space_id, "SYSTEM": "spaces", "PORT": "7860", "PATH": "/usr/bin:/bin"})
    orig = other.app_pids

    def with_fake(sid):
        return orig(sid) + ([fake.pid] if fake.poll() is None else [])
    other.app_pids = with_fake
    ph.wait_until(lambda: overlaps(), "the check sees two nodes running the app", timeout=10)
    fake.wait()
    other.app_pids = orig
    stop.set()
    t.join()
    seen.clear()

    # the owner keeps its proxy and its peers, loses PostgreSQL only
    stop.clear()
    t = threading.Thread(target=sample, daemon=True)
    t.start()
    ch.run("nsenter", "--net=/run/netns/%s" % owner.ns, "nft", "add table inet fence")
    ch.run("nsenter", "--net=/run/netns/%s" % owner.ns, "nft",
           "add chain inet fence out { type filter hook output priority 0; }")
    ch.run("nsenter", "--net=/run/netns/%s" % owner.ns, "nft",
           "add rule inet fence out ip daddr %s tcp dport 5432 drop" % ch.INFRA_IP)
    try:
        ph.wait_until(lambda: owner.app_pids(space_id) == [], "the cut-off node stopped its app",
                      timeout=30)
        def moved():
            # through a node that may still forward to the cut-off owner for a
            # moment (which cannot check the token then): anything but 200 is "not yet"
            r = next(n for n in alive(cluster) if n is not owner).api(
                "GET", "/api/spaces/admin/%s/runtime" % SPACE)
            rt = r.json() if r.status == 200 else {}
            return rt.get("node") != owner.name and rt.get("stage") == "RUNNING" and rt.get("node")
        name = ph.wait_until(moved, "another node runs it", timeout=60)
        new = cluster.node(name)
        new.wait_app(ADMIN, SPACE, timeout=60)
    finally:
        ch.run("nsenter", "--net=/run/netns/%s" % owner.ns, "nft", "delete table inet fence")
        time.sleep(1)
        stop.set()
        t.join()
    assert overlaps() == [], "two nodes ran the app at once: %r" % overlaps()[:3]
    assert any(s[1].get(owner.name) for s in seen), "the owner never ran it in the samples"
    # back in touch, the old owner runs none of it
    # (its store reconnects first: until then it answers 503, never a 401 for a good token)
    def owners_view():
        r = owner.api("GET", "/api/spaces/admin/%s/runtime" % SPACE)
        assert r.status in (200, 503), r
        return r.status == 200 and r.json()["node"] == new.name
    ph.wait_until(owners_view, "owner's view", timeout=30)
    assert owner.app_pids(space_id) == []


def test_postgres_restart_under_load(cluster):
    nodes = alive(cluster)
    loaders = steady(cluster, nodes)
    try:
        time.sleep(1)
        # a restart shorter than the fencing deadline (lease × 0.7, 4.2 s here) is
        # ridden through; a longer outage fences every node (README, Cluster)
        cluster.pg.stop()
        cluster.pg.start()
        time.sleep(2)
    finally:
        failures, total = stop_all(loaders)
    assert total > 50, total
    assert failures == [], "%d of %d requests failed: %r" % (len(failures), total, failures[:5])
    # they catch up: a space made now through one node is served through every other
    nodes[0].wait_until(lambda: nodes[0].create_space("after", expect=None).status == 200,
                        "the hub writes again", timeout=30)
    wd = nodes[0].workdir_from(os.path.join(ph.EXAMPLES, "static"))
    nodes[0].push(wd, ADMIN, "after")
    for n in nodes:
        n.wait_app(ADMIN, "after", timeout=60)
