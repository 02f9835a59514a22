"""Egress (issue 16): builds and apps reach the internet from their own network
namespace, never the host, another box, link-local or private ranges.

Everything runs in network namespaces this module creates, so no packet can leave
the machine and the real host's network, firewall and sysctls are never touched:

  "host" netns (the daemon, this test process, podium0, podium's nft tables)
      lo: the hub on 127.0.0.1, a listener on 0.0.0.0:HOST_PORT
      egupN 198.51.100.1/30, default route -> 198.51.100.2
          |
  "inet" netns (the fake internet; every address the host routes anywhere ends here)
      eginN 198.51.100.2/30; on lo: 198.51.100.80 (allowed), 203.0.113.80 (denied
      by the operator), 169.254.169.254 (a "metadata" listener); HTTP on :80 of all,
      DNS on 198.51.100.80:53 (fake.example -> 198.51.100.80)

Private ranges (10/8, 172.16/12, 192.168/16, ...) are never connected to: their
denial is proven by inspecting the installed rules."""
import ctypes
import json
import os
import socket
import subprocess
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import podium_helpers as ph

ADMIN = ph.ADMIN
CLONE_NEWNET = 0x40000000
N = os.getpid() % 100000
HOST_NS, INET_NS = "pdeg-host-%d" % N, "pdeg-inet-%d" % N
UP_IF, IN_IF = "egup%d" % N, "egin%d" % N
ALLOWED, DENIED, METADATA = "198.51.100.80", "203.0.113.80", "169.254.169.254"
GATEWAY = "198.18.0.1"

FAKE_INTERNET = r'''
import socket, struct, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        b = ("fake-internet %s" % self.connection.getsockname()[0]).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(b))); self.end_headers()
        self.wfile.write(b)
    def log_message(self, *a): pass
def dns():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("198.51.100.80", 53))
    while True:
        q, addr = s.recvfrom(512)
        i, labels = 12, []
        while q[i]:
            labels.append(q[i + 1:i + 1 + q[i]].decode()); i += 1 + q[i]
        question = q[12:i + 5]
        name, qtype = ".".join(labels).lower(), struct.unpack("!H", q[i + 1:i + 3])[0]
        if name.endswith(".blackhole.example"):
            continue  # never answered: the forwarder holds it until its timeout
        if name == "fake.example" and qtype == 1:
            ans = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton("198.51.100.80")
            s.sendto(q[:2] + b"\x81\x80" + struct.pack("!HHHH", 1, 1, 0, 0) + question + ans, addr)
        else:
            rcode = b"\x81\x80" if name == "fake.example" else b"\x81\x83"
            s.sendto(q[:2] + rcode + struct.pack("!HHHH", 1, 0, 0, 0) + question, addr)
threading.Thread(target=dns, daemon=True).start()
print("ready", flush=True)
ThreadingHTTPServer(("0.0.0.0", 80), H).serve_forever()
'''

NETPROBE = r'''
import json, os, random, socket, struct, threading, time, urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs
def dns_query(name):
    return (struct.pack("!HHHHHH", random.randrange(65536), 0x0100, 1, 0, 0, 0) +
            b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0" +
            struct.pack("!HH", 1, 1))
def flood(rate, seconds):
    """Queries that are never answered, as fast as asked: they hold the forwarder."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    end, sent = time.monotonic() + seconds, 0
    start = time.monotonic()
    while time.monotonic() < end:
        while sent < rate * (time.monotonic() - start):
            s.sendto(dns_query("%d.blackhole.example" % random.randrange(10**9)),
                     ("198.18.0.1", 53))
            sent += 1
        time.sleep(0.001)
def dnsq(name):
    """One lookup as a stub resolver makes it: three tries, two seconds each."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    for _ in range(3):
        s.sendto(dns_query(name), ("198.18.0.1", 53))
        try:
            return {"ok": True, "bytes": len(s.recv(4096))}
        except socket.timeout:
            pass
    return {"ok": False}
def my_addr():
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.connect(("198.51.100.80", 9))  # no packet: only picks the source address
        return s.getsockname()[0]
    except OSError:
        return None
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        u = urlparse(self.path); q = parse_qs(u.query)
        if u.path == "/fetch":
            try:
                op = urllib.request.build_opener(urllib.request.ProxyHandler({}))
                r = {"ok": True, "body": op.open(q["url"][0], timeout=2).read().decode()}
            except Exception as e:
                r = {"ok": False, "error": repr(e)}
        elif u.path == "/flood":
            threading.Thread(target=flood, args=(int(q["rate"][0]), int(q["seconds"][0])),
                             daemon=True).start()
            r = {"ok": True}
        elif u.path == "/dnsq":
            r = dnsq(q["name"][0])
        elif u.path == "/resolve":
            try:
                r = {"ok": True, "addr": socket.gethostbyname(q["name"][0])}
            except Exception as e:
                r = {"ok": False, "error": repr(e)}
        else:
            r = {"ok": True, "addr": my_addr(), "port": int(os.environ["PORT"])}
        b = json.dumps(r).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b))); self.end_headers(); self.wfile.write(b)
    def log_message(self, *a): pass
ThreadingHTTPServer(("0.0.0.0", int(os.environ["PORT"])), H).serve_forever()
'''

BUILD_PROBE = r'''
import json, urllib.request
def get(u):
    try:
        op = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        return {"ok": True, "body": op.open(u, timeout=2).read().decode()}
    except Exception as e:
        return {"ok": False, "error": repr(e)}
out = {name: get(url) for name, url in [
    ("internet", "http://198.51.100.80/"), ("dns", "http://fake.example/"),
    ("hub", "http://127.0.0.1:HUBPORT/api/spaces"), ("gateway", "http://198.18.0.1:HOSTPORT/"),
    ("metadata", "http://169.254.169.254/"), ("other app", "OTHERAPP")]}
open("index.html", "w").write(json.dumps(out))
'''


def sh(*args, check=True, **kw):
    return subprocess.run(list(args), check=check, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=30, **kw)


def ns_sh(ns, *args, check=True):
    return sh("ip", "netns", "exec", ns, *args, check=check)


_libc = ctypes.CDLL(None, use_errno=True)


def setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def host_can_do_it():
    """Positive control for what the module needs: root, ip, nft, netns, veth,
    bridge and an nft table with NAT in a throwaway namespace."""
    if os.geteuid() != 0:
        return "needs root (network namespaces, nftables)"
    probe = "pdeg-probe-%d" % N
    try:
        sh("ip", "netns", "add", probe)
    except (OSError, subprocess.CalledProcessError) as e:
        return "cannot create a network namespace: %s" % e
    try:
        for cmd in (["ip", "link", "add", "pbr", "type", "bridge"],
                    ["ip", "link", "add", "pva", "type", "veth", "peer", "name", "pvb"]):
            r = ns_sh(probe, *cmd, check=False)
            if r.returncode != 0:
                return "%s failed: %s" % (" ".join(cmd), r.stderr.decode().strip())
        try:
            r = subprocess.run(["ip", "netns", "exec", probe, "nft", "-f", "-"], input=(
                b"table inet t {\n chain p {\n type nat hook postrouting priority srcnat;\n masquerade\n }\n}\n"),
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        except OSError as e:
            return "nft not runnable: %s" % e
        if r.returncode != 0:
            return "nft cannot load a NAT table: %s" % r.stderr.decode().strip()
    finally:
        sh("ip", "netns", "del", probe, check=False)
    return None


class HostListener:
    """An HTTP listener on 0.0.0.0 of the test's host namespace: on its loopback and
    on the bridge gateway address once podium0 exists."""

    def __init__(self):
        class H(BaseHTTPRequestHandler):
            def do_GET(self):
                b = b"host-listener"
                self.send_response(200)
                self.send_header("Content-Length", str(len(b)))
                self.end_headers()
                self.wfile.write(b)

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("0.0.0.0", 0), H)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def direct_get(url, timeout=3):
    op = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    return op.open(url, timeout=timeout).read().decode()


@pytest.fixture(scope="module")
def lab():
    why = host_can_do_it()
    if why:
        pytest.skip(why)
    fake = None
    own_ns = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        sh("ip", "netns", "add", HOST_NS)
        sh("ip", "netns", "add", INET_NS)
        sh("ip", "link", "add", UP_IF, "netns", HOST_NS, "type", "veth", "peer", "name", IN_IF,
           "netns", INET_NS)
        for cmd in (["ip", "link", "set", "lo", "up"],
                    ["ip", "addr", "add", "198.51.100.1/30", "dev", UP_IF],
                    ["ip", "link", "set", UP_IF, "up"],
                    ["ip", "route", "add", "default", "via", "198.51.100.2"]):
            ns_sh(HOST_NS, *cmd)
        for cmd in (["ip", "link", "set", "lo", "up"],
                    ["ip", "addr", "add", "198.51.100.2/30", "dev", IN_IF],
                    ["ip", "link", "set", IN_IF, "up"],
                    ["ip", "addr", "add", ALLOWED + "/32", "dev", "lo"],
                    ["ip", "addr", "add", DENIED + "/32", "dev", "lo"],
                    ["ip", "addr", "add", METADATA + "/32", "dev", "lo"]):
            ns_sh(INET_NS, *cmd)
        fake = subprocess.Popen(["ip", "netns", "exec", INET_NS, "/usr/bin/python3", "-c", FAKE_INTERNET],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert fake.stdout.readline().strip() == b"ready"
        # From here on this process (and the daemon it spawns) lives in the host ns.
        with open("/run/netns/" + HOST_NS) as f:
            setns(f.fileno())
        listener = HostListener()
        yield {"listener": listener}
        listener.server.shutdown()
    finally:
        setns(own_ns)
        os.close(own_ns)
        # the daemon's lock and state files for this namespace (in /run/podium)
        if os.path.exists("/run/netns/" + HOST_NS):
            ino = os.stat("/run/netns/" + HOST_NS).st_ino
            for ext in ("lock", "forward", "nft"):
                try:
                    os.unlink("/run/podium/net-%d.%s" % (ino, ext))
                except FileNotFoundError:
                    pass
            try:
                os.rmdir("/run/podium")  # only if nothing else of podium's is there
            except OSError:
                pass
        if fake is not None:
            fake.kill()
            fake.wait()
        sh("ip", "netns", "del", HOST_NS, check=False)
        sh("ip", "netns", "del", INET_NS, check=False)


def podium_objects():
    """(links named podium0 or pd*, nft tables named podium) in the host ns."""
    links = [l.split()[0].split("@")[0] for l in sh("ip", "-br", "link").stdout.decode().splitlines()]
    tables = [l.strip() for l in sh("nft", "list", "tables").stdout.decode().splitlines()
              if l.strip().endswith(" podium")]
    return [l for l in links if l == "podium0" or l.startswith("pd")], tables


def ip_forward():
    with open("/proc/sys/net/ipv4/ip_forward") as f:
        return f.read().strip()


@pytest.fixture(scope="module")
def egress(lab):
    if podium_objects() != ([], []):
        pytest.skip("another podium on this host manages egress (%r): the egress suite needs "
                    "the host's network to itself" % (podium_objects(),))
    before = ip_forward()   # the host's own setting (a Docker host has 1): put back as it was
    d = ph.Daemon()
    with open(os.path.join(d.data_dir, "config.yaml"), "w") as f:
        f.write("# egress test\negress:\n  enabled: true\n  deny: [203.0.113.0/24]\n"
                "  resolvers: [198.51.100.80]\n")
    saved = os.environ.pop("PODIUM_EGRESS", None)
    try:
        d.start()
        files = {"README.md": ph.front_matter(["title: Net", "sdk: python", "app_file: app.py"]),
                 "app.py": NETPROBE}
        wd, _ = d.deploy(None, "neta", sdk="python", files=files)
        d.deploy(None, "netb", sdk="python", files=files)
        for name in ("neta", "netb"):
            d.wait_app(ADMIN, name, predicate=lambda r: r.status == 200 and r.json().get("addr"))
        yield {"daemon": d, "listener": lab["listener"], "neta_wd": wd, "forward": before}
    finally:
        try:
            if d.proc is not None and d.proc.poll() is None:
                assert d.stop() == 0, d.log_tail()
        finally:
            d.cleanup()
            if saved is not None:
                os.environ["PODIUM_EGRESS"] = saved
    # A graceful stop leaves nothing of podium's behind, and forwarding as it was.
    deadline = time.monotonic() + 20
    while podium_objects() != ([], []) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert podium_objects() == ([], []), podium_objects()
    assert ip_forward() == before


def box(d, name, path):
    r = d.get_app(ADMIN, name, path)
    assert r.status == 200, r
    return r.json()


def fetch(d, name, url):
    return box(d, name, "/fetch?url=" + url)


def test_app_reaches_the_internet(egress):
    d = egress["daemon"]
    r = fetch(d, "neta", "http://%s/" % ALLOWED)
    assert r["ok"] and r["body"] == "fake-internet " + ALLOWED, r
    me = box(d, "neta", "/")
    assert me["addr"].startswith("198.18."), me


def test_app_denied_destinations(egress):
    d, hp = egress["daemon"], egress["listener"].port
    other = box(d, "netb", "/")
    targets = {
        "hub": "http://127.0.0.1:%d/api/spaces" % d.port,
        "host loopback": "http://127.0.0.1:%d/" % hp,
        "gateway": "http://%s:%d/" % (GATEWAY, hp),
        "metadata": "http://%s/" % METADATA,
        "operator-denied": "http://%s/" % DENIED,
        "other app": "http://%s:%d/" % (other["addr"], other["port"]),
    }
    # Positive controls: each target answers whoever may reach it.
    assert "host-listener" in direct_get(targets["host loopback"])
    assert "host-listener" in direct_get(targets["gateway"])
    assert direct_get(targets["metadata"]) == "fake-internet " + METADATA
    assert direct_get(targets["operator-denied"]) == "fake-internet " + DENIED
    assert json.loads(direct_get(targets["hub"])) is not None
    assert box(d, "netb", "/fetch?url=" + targets["other app"])["ok"]  # netb itself
    assert fetch(d, "neta", "http://%s/" % ALLOWED)["ok"]
    for what, url in targets.items():
        r = fetch(d, "neta", url)
        assert not r["ok"], "%s reachable from an app: %r" % (what, r)


def test_dns_resolves_in_the_box(egress):
    d = egress["daemon"]
    r = box(d, "neta", "/resolve?name=fake.example")
    assert r == {"ok": True, "addr": ALLOWED}, r
    r = fetch(d, "neta", "http://fake.example/")
    assert r["ok"] and r["body"] == "fake-internet " + ALLOWED, r
    assert not box(d, "neta", "/resolve?name=nothing.example")["ok"]


def test_a_noisy_box_cannot_stop_anothers_lookups(egress):
    """Issue 21.10: bob's box floods the forwarder with queries that are never answered
    (1000 a second, each held 5 s: ten times the 512 the forwarder holds in all); it
    gets its share (egress.dns_per_box, 32) and no more, and another tenant's box
    resolves meanwhile. Controls: the lookup works before; the log says bob's box went
    over its share, and never the other one."""
    d = egress["daemon"]
    p = subprocess.run([d.binary, "user", "add", "dns-bob", "--password-stdin", "--data",
                        d.data_dir], input=b"bob's password\n", capture_output=True)
    assert p.returncode == 0, p.stderr
    bob = subprocess.run([d.binary, "user", "token", "dns-bob", "--data", d.data_dir],
                         capture_output=True, check=True).stdout.decode().strip()
    d.create_space("noisy", sdk="python", token=bob)
    d.push(d.workdir_from(None, {"README.md": ph.front_matter(["sdk: python", "app_file: app.py"]),
                                 "app.py": NETPROBE}), "dns-bob", "noisy", token=bob)
    d.wait_app("dns-bob", "noisy", predicate=lambda r: r.status == 200 and r.json().get("addr"))
    quiet = box(d, "neta", "/")["addr"]
    noisy = d.get_app("dns-bob", "noisy", "/").json()["addr"]
    assert box(d, "neta", "/dnsq?name=fake.example")["ok"]          # control: before
    r = d.get_app("dns-bob", "noisy", "/flood?rate=1000&seconds=40")
    assert r.status == 200, r
    # 1000 a second fill 512 places within the first second; past 5 s (the forwarder's
    # timeout) the flood is at its steady state
    time.sleep(6)
    for _ in range(3):   # while the flood goes on
        assert box(d, "neta", "/dnsq?name=fake.example")["ok"], "another box's lookup failed"
    assert box(d, "neta", "/resolve?name=fake.example")["ok"]
    assert "box at %s has" % noisy in d.log_tail(2000)     # control: the flood was real
    assert "box at %s has" % quiet not in d.log_tail(2000)
    d.delete_space("noisy", organization="dns-bob", token=bob)


def test_rules_deny_private_ranges(egress):
    """Inspection, never a connection: each private/link-local sample address is in
    podium's deny set and the set is applied to everything boxes send."""
    table = sh("nft", "list", "table", "inet", "podium").stdout.decode()
    assert "ip daddr @deny4 counter" in table and " drop" in table, table
    assert "meta nfproto ipv6 counter" in table, table
    for addr in ("10.1.2.3", "172.20.0.1", "192.168.1.1", "100.64.1.1", "169.254.169.254",
                 "127.0.0.2", "224.0.0.251", "198.18.5.5", DENIED):
        r = sh("nft", "get", "element", "inet", "podium", "deny4", "{ %s }" % addr, check=False)
        assert r.returncode == 0, "%s not denied: %s" % (addr, r.stderr.decode())
    # positive control: the allowed documentation address is not in the set
    r = sh("nft", "get", "element", "inet", "podium", "deny4", "{ %s }" % ALLOWED, check=False)
    assert r.returncode != 0, r.stdout
    for addr in ("fe80::1", "fd00::1"):
        r = sh("nft", "get", "element", "inet", "podium", "deny6", "{ %s }" % addr, check=False)
        assert r.returncode == 0, "%s not denied: %s" % (addr, r.stderr.decode())
    # box to box on the bridge
    bridge = sh("nft", "list", "table", "bridge", "podium").stdout.decode()
    assert 'iifname "pd*" oifname "pd*"' in bridge and "drop" in bridge, bridge


def test_build_reaches_the_internet_not_the_host(egress):
    d, hp = egress["daemon"], egress["listener"].port
    other = box(d, "netb", "/")
    probe = BUILD_PROBE.replace("HUBPORT", str(d.port)).replace("HOSTPORT", str(hp)).replace(
        "OTHERAPP", "http://%s:%d/" % (other["addr"], other["port"]))
    d.deploy(None, "netbuild", sdk="static", files={
        "README.md": ph.front_matter(["title: Build", "sdk: static",
                                      "app_build_command: python3 build_probe.py"]),
        "build_probe.py": probe})
    r = d.wait_app(ADMIN, "netbuild", predicate=lambda r: r.status == 200 and "internet" in r.text)
    out = json.loads(r.text)
    assert out["internet"] == {"ok": True, "body": "fake-internet " + ALLOWED}, out
    assert out["dns"] == {"ok": True, "body": "fake-internet " + ALLOWED}, out
    for what in ("hub", "gateway", "metadata", "other app"):
        assert not out[what]["ok"], (what, out)


def test_runtime_counters(egress):
    d = egress["daemon"]
    r = fetch(d, "neta", "http://%s/" % ALLOWED)   # some traffic of its own first
    assert r["ok"], r
    before = d.runtime(ADMIN, "neta")["egress"]
    assert before["enabled"] is True and before["tx_bytes"] > 0, before
    for _ in range(3):
        assert fetch(d, "neta", "http://%s/" % ALLOWED)["ok"]
    after = d.runtime(ADMIN, "neta")["egress"]
    assert after["tx_bytes"] > before["tx_bytes"] and after["rx_bytes"] > before["rx_bytes"], (before, after)
    # the same counters in /metrics
    text = d.api("GET", "/metrics").text
    sent = [line for line in text.splitlines()
            if line.startswith('podium_space_egress_sent_bytes_total{space="admin/neta"}')]
    assert sent and int(sent[0].split()[-1]) >= after["tx_bytes"], text[-2000:]
    assert 'podium_space_egress_received_bytes_total{space="admin/neta"}' in text


def test_space_egress_switch_is_admin_only_and_cuts_egress(egress):
    d = egress["daemon"]
    path = "/api/spaces/admin/neta/egress"
    assert d.api("POST", path, json={"enabled": False}, token=None).status in (401, 403)
    assert d.api("POST", path, json={"enabled": "no"}).status == 400
    r = d.api("POST", path, json={"enabled": False})
    assert r.status == 200 and r.json()["enabled"] is False, r
    # applies from the next start: push a new commit
    ph.write_files(egress["neta_wd"], {"app.py": NETPROBE + "\n# egress off\n"})
    d.push(egress["neta_wd"], ADMIN, "neta")
    d.wait_app(ADMIN, "neta", predicate=lambda r: r.status == 200 and r.json().get("addr") is None)
    r = fetch(d, "neta", "http://%s/" % ALLOWED)
    assert not r["ok"], r
    assert "tx_bytes" not in d.runtime(ADMIN, "neta")["egress"]
    # positive control: the other space still goes out
    assert fetch(d, "netb", "http://%s/" % ALLOWED)["ok"]
    r = d.api("POST", path, json={"enabled": True})
    assert r.status == 200 and r.json()["space_enabled"] is True, r


def test_delete_removes_the_box_interface(egress):
    d = egress["daemon"]
    d.deploy(None, "netdel", sdk="python", files={
        "README.md": ph.front_matter(["title: Net", "sdk: python", "app_file: app.py"]), "app.py": NETPROBE})
    me = d.wait_app(ADMIN, "netdel", predicate=lambda r: r.status == 200 and r.json().get("addr")).json()
    veth = "pd%08x" % int.from_bytes(socket.inet_aton(me["addr"]), "big")
    assert veth in podium_objects()[0], (veth, podium_objects())
    d.delete_space("netdel")
    ph.wait_until(lambda: veth not in podium_objects()[0], "the deleted space's veth to go", timeout=30)
    assert podium_objects()[0].count("podium0") == 1


def test_kill9_and_restart_leave_nothing_twice(egress):
    d = egress["daemon"]
    d.kill9()
    # The boxes die with their launchers; their veths go with their namespaces.
    ph.wait_until(lambda: not [l for l in podium_objects()[0] if l.startswith("pd")],
                  "the boxes' veths to disappear", timeout=30)
    links, tables = podium_objects()
    assert links == ["podium0"] and len(tables) == 2, (links, tables)  # stale until the next start
    d.start()
    links, tables = podium_objects()
    assert links.count("podium0") == 1 and sorted(tables) == ["table bridge podium", "table inet podium"], \
        (links, tables)
    assert ip_forward() == "1"
    routes = sh("ip", "-4", "route").stdout.decode().splitlines()
    assert len([r for r in routes if "podium0" in r]) == 1, routes
    d.wait_app(ADMIN, "netb", predicate=lambda r: r.status == 200 and r.json().get("addr"))
    assert fetch(d, "netb", "http://%s/" % ALLOWED)["ok"]
    links, tables = podium_objects()
    boxes = [l for l in links if l.startswith("pd")]
    assert len(boxes) == len(set(boxes)) and links.count("podium0") == 1, links


def test_egress_off_after_a_crash_removes_the_leftovers(egress):
    d = egress["daemon"]
    cfg = os.path.join(d.data_dir, "config.yaml")
    with open(cfg) as f:
        original = f.read()
    d.kill9()
    assert podium_objects()[0].count("podium0") == 1 and ip_forward() == "1"  # left by the crash
    with open(cfg, "w") as f:
        f.write("egress:\n  enabled: false\n")
    try:
        d.start()
        ph.wait_until(lambda: podium_objects() == ([], []), "podium's objects removed", timeout=30)
        assert ip_forward() == egress["forward"]
        assert d.stop() == 0
    finally:
        with open(cfg, "w") as f:
            f.write(original)
    d.start()
    d.wait_app(ADMIN, "netb", predicate=lambda r: r.status == 200 and r.json().get("addr"))


def test_egress_off_globally(egress):
    """A second daemon (same namespaces) with egress: {enabled: false}: its apps have
    loopback only; the first daemon's app still goes out (positive control)."""
    saved = os.environ.pop("PODIUM_EGRESS", None)
    try:
        d2 = ph.Daemon()
        with open(os.path.join(d2.data_dir, "config.yaml"), "w") as f:
            f.write("egress:\n  enabled: false\n")
        d2.start()
        try:
            assert "egress: off" in d2.log_tail(200)
            d2.deploy(None, "netoff", sdk="python", files={
                "README.md": ph.front_matter(["title: Net", "sdk: python", "app_file: app.py"]),
                "app.py": NETPROBE})
            me = d2.wait_app(ADMIN, "netoff", predicate=lambda r: r.status == 200).json()
            assert me["addr"] is None, me
            r = box(d2, "netoff", "/fetch?url=http://%s/" % ALLOWED)
            assert not r["ok"], r
            assert d2.runtime(ADMIN, "netoff")["egress"] == {"enabled": False, "space_enabled": True}
        finally:
            assert d2.stop() == 0, d2.log_tail()
            d2.cleanup()
    finally:
        if saved is not None:
            os.environ["PODIUM_EGRESS"] = saved
    assert fetch(egress["daemon"], "netb", "http://%s/" % ALLOWED)["ok"]


@pytest.mark.parametrize("config, message", [
    ("egress:\n  deny: [not-a-cidr]\n", "egress.deny: not-a-cidr is not a CIDR"),
    ("egress:\n  enabled: maybe\n", "egress.enabled must be true or false"),
    ("egress:\n  subnet: 198.18.0.0/30\n", "egress.subnet must be an IPv4 CIDR"),
    ("egress:\n  denny: []\n", "unknown key egress.denny"),
    ("egress: [1\n", "config: "),
])
def test_bad_config_is_refused_with_a_clear_error(config, message):
    d = ph.Daemon()
    try:
        with open(os.path.join(d.data_dir, "config.yaml"), "w") as f:
            f.write(config)
        with pytest.raises(AssertionError, match="exited"):
            d.start(timeout=30)
        assert message in d.log_tail(), d.log_tail()
        with open(os.path.join(d.data_dir, "config.yaml")) as f:
            assert f.read() == config  # nothing lost
    finally:
        d.cleanup()
