"""--net veth:BRIDGE,GATEWAY/PREFIX: the box's own namespace gets eth0 (a veth whose
host end is a port of BRIDGE), a free address, a default route via the gateway and
the gateway as its nameserver; the pair goes away with the box.

Runs in a network namespace this module creates (a bridge with a documentation-range
gateway); nothing is routed anywhere else."""
import os
import subprocess
import threading
import time

import pytest

from conftest import SANDBOX

N = os.getpid() % 100000
NS = "pdsb-veth-%d" % N
BR = "pdsbbr%d" % N
GW = "198.51.100.1"
SPEC = "veth:%s,%s/24" % (BR, GW)


def sh(*args, check=True, **kw):
    return subprocess.run(list(args), check=check, capture_output=True, text=True, timeout=60, **kw)


def in_ns(*args, check=False, **kw):
    return sh("ip", "netns", "exec", NS, *args, check=check, **kw)


@pytest.fixture(scope="module")
def netns():
    if os.geteuid() != 0:
        pytest.skip("veth boxes need root")
    try:
        sh("ip", "netns", "add", NS)
    except (OSError, subprocess.CalledProcessError) as e:
        pytest.skip("cannot create a network namespace: %s" % e)
    try:
        for cmd in (["ip", "link", "set", "lo", "up"], ["ip", "link", "add", BR, "type", "bridge"],
                    ["ip", "addr", "add", GW + "/24", "dev", BR], ["ip", "link", "set", BR, "up"]):
            r = in_ns(*cmd)
            if r.returncode != 0:
                pytest.skip("%s: %s" % (" ".join(cmd), r.stderr.strip()))
        yield NS
    finally:
        sh("ip", "netns", "del", NS, check=False)


def box(cmd, net=SPEC, check_rc=0):
    r = in_ns(SANDBOX, "--net", net, "--", "sh", "-c", cmd)
    if check_rc is not None:
        assert r.returncode == check_rc, r
    return r


def box_links():
    out = in_ns("ip", "-br", "link").stdout
    return [l.split()[0].split("@")[0] for l in out.splitlines() if l.startswith("pd") and not l.startswith(BR)]


def test_veth_box_network(netns):
    r = box("ip -4 -o addr show dev eth0; ip route; cat /etc/resolv.conf;"
            " cat /proc/sys/net/ipv6/conf/eth0/disable_ipv6; ip -o link show lo")
    out = r.stdout
    assert " inet 198.51.100." in out and "/24 " in out, out
    assert "default via %s dev eth0" % GW in out, out
    assert "nameserver %s" % GW in out, out
    assert "\n1\n" in out, out          # no IPv6 (no link-local address) on eth0
    assert "UP" in out.splitlines()[-1], out


def test_veth_box_reaches_the_gateway_and_pair_goes_away(netns):
    srv = subprocess.Popen(["ip", "netns", "exec", NS, "/usr/bin/python3", "-c",
                            "import socket;s=socket.socket();s.bind(('%s',0));s.listen();"
                            "print(s.getsockname()[1],flush=True);c,_=s.accept();c.sendall(b'gw-ok')" % GW],
                           stdout=subprocess.PIPE, text=True)
    try:
        port = int(srv.stdout.readline())
        r = box("python3 -c \"import socket;print(socket.create_connection(('%s',%d),5).recv(9).decode())\""
                % (GW, port))
        assert r.stdout.strip() == "gw-ok", r
        # the negative: without veth the same box has no route at all
        r = box("python3 -c \"import socket;socket.create_connection(('%s',%d),2)\"" % (GW, port),
                net="none", check_rc=None)
        assert r.returncode != 0 and "unreachable" in r.stderr.lower(), r
    finally:
        srv.kill()
        srv.wait()
    deadline = time.monotonic() + 20
    while box_links() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert box_links() == []


def test_parallel_boxes_get_distinct_addresses(netns):
    outs = [None] * 6

    def one(i):
        outs[i] = box("ip -4 -o addr show dev eth0; sleep 1").stdout.split()[3]

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(outs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(o and o.startswith("198.51.100.") for o in outs), outs
    assert len(set(outs)) == len(outs), outs


def test_veth_bad_spec_and_missing_bridge(netns):
    for bad in ("veth:", "veth:%s" % BR, "veth:%s,%s" % (BR, GW), "veth:%s,300.1.1.1/24" % BR,
                "veth:%s,%s/31" % (BR, GW)):
        r = in_ns(SANDBOX, "--net", bad, "--", "true")
        assert r.returncode != 0 and "--net" in r.stderr, (bad, r)
    r = box("true", net="veth:nosuchbr0,%s/24" % GW, check_rc=125)
    assert "veth: bridge" in r.stderr, r
