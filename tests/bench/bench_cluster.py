#!/usr/bin/env python3
"""Cluster benchmark (issue 27): three nodes on one PostgreSQL database, each in
a network namespace of its own (tests/integration/cluster_helpers.py: a bridge
of TEST-NET-3 addresses, the shared filesystem over sshfs).

Prints:
  - request latency to a python app through the node that runs it vs through a
    node that forwards it (median and p90 of REQUESTS, a new connection each);
  - PostgreSQL statements per proxied request (the store's counter on every
    node, summed; target: none), per push and per wake;
  - SPACES static spaces placed over the three nodes: how many each got, and
    GET /api/spaces through each node (median of 20);
  - the time from the loss of the node that runs the python app (kill -9, its
    link cut, its shared mount dead: Node.lose) to the app answering again through another node.

  /usr/bin/python3 tests/bench/bench_cluster.py [--build build] [--spaces 30] [--requests 200]
"""
import argparse
import os
import re
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import cluster_helpers as ch  # noqa: E402
import podium_helpers as ph  # noqa: E402

ADMIN = ph.ADMIN
APP_DIR = os.path.join(ph.EXAMPLES, "python-stdlib")
STATIC_DIR = os.path.join(ph.EXAMPLES, "static")


def p90(xs):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(0.9 * (len(xs) - 1))))]


def statements(nodes):
    """The store's statements (podium_store_statements_total), summed over nodes."""
    total = 0
    for n in nodes:
        r = n.api("GET", "/metrics", headers={"Accept": "text/plain"})
        m = re.search(r"^podium_store_statements_total (\d+)$", r.text, re.M)
        total += int(m.group(1)) if m else 0
    return total


def latencies(node, name, count):
    out = []
    for _ in range(count):
        t0 = time.monotonic()
        r = node.get_app(ADMIN, name)
        out.append((time.monotonic() - t0) * 1000)
        assert r.status == 200, r
    return out


def parallel(fn, items, workers=4):
    items = list(items)
    errors = []

    def run():
        while True:
            try:
                it = items.pop()
            except IndexError:
                return
            try:
                fn(it)
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))
    ts = [threading.Thread(target=run) for _ in range(workers)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise AssertionError("%d failed: %s" % (len(errors), errors[:3]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--spaces", type=int, default=30)
    ap.add_argument("--requests", type=int, default=200)
    a = ap.parse_args()
    os.environ["PODIUM_BUILD"] = os.path.abspath(a.build)
    why = ch.unavailable()
    if why:
        print("bench-cluster: skipped: %s" % why)
        return 0
    c = ch.Cluster(3, lease_ms=6000)
    try:
        c.setup()
        c.start_nodes()
        n1 = c.nodes[0]

        n1.create_space("app", sdk="python")
        wd = n1.workdir_from(APP_DIR)
        before = statements(c.nodes)
        n1.push(wd, ADMIN, "app")
        n1.wait_stage(ADMIN, "app", "RUNNING")
        per_push = statements(c.nodes) - before
        owner = c.node(n1.runtime(ADMIN, "app")["node"])
        other = next(n for n in c.nodes if n is not owner)
        for n in c.nodes:
            n.wait_app(ADMIN, "app", timeout=60)

        latencies(owner, "app", 20)
        latencies(other, "app", 20)
        before = statements(c.nodes)
        direct = latencies(owner, "app", a.requests)
        fwd = latencies(other, "app", a.requests)
        per_req = (statements(c.nodes) - before) / (2.0 * a.requests)
        print("latency via the owner (%s):  median %.2f ms  p90 %.2f ms  (%d requests)"
              % (owner.name, statistics.median(direct), p90(direct), a.requests))
        print("latency via a forwarder (%s): median %.2f ms  p90 %.2f ms  (+%.2f ms median)"
              % (other.name, statistics.median(fwd), p90(fwd),
                 statistics.median(fwd) - statistics.median(direct)))
        print("PostgreSQL statements per proxied request: %.3f (all nodes' store counters; "
              "the cluster threads' lease and lock rounds not counted)" % per_req)
        print("PostgreSQL statements per push (python app, all nodes): %d" % per_push)

        assert n1.api("POST", "/api/spaces/admin/app/sleeptime", json={"seconds": 1}).status == 200
        n1.wait_stage(ADMIN, "app", "SLEEPING", timeout=60)
        before = statements(c.nodes)
        t0 = time.monotonic()
        r = other.get_app(ADMIN, "app", timeout=90)
        wake_ms = (time.monotonic() - t0) * 1000
        per_wake = statements(c.nodes) - before
        assert r.status == 200, r
        assert n1.api("POST", "/api/spaces/admin/app/sleeptime",
                      json={"seconds": -1}).status == 200
        n1.wait_stage(ADMIN, "app", "RUNNING", timeout=60)
        print("PostgreSQL statements per wake (through a forwarder): %d; wake %.0f ms"
              % (per_wake, wake_ms))

        t0 = time.monotonic()
        names = ["s%03d" % i for i in range(a.spaces)]

        def make(name):
            n = c.nodes[int(name[1:]) % 3]
            n.create_space(name)
            n.push(n.workdir_from(STATIC_DIR), ADMIN, name)
        parallel(make, names)
        for name in names:
            n1.wait_stage(ADMIN, name, "RUNNING", timeout=120)
        made = time.monotonic() - t0
        placed = {}
        for s in n1.api("GET", "/api/spaces?limit=1000").json():
            rt = n1.runtime(*s["id"].split("/"))
            placed[rt.get("node")] = placed.get(rt.get("node"), 0) + 1
        print("%d static spaces pushed in %.1f s (3 nodes, 4 at a time); placed: %s"
              % (a.spaces, made, ", ".join("%s %d" % kv for kv in sorted(placed.items(),
                                                                       key=str))))
        for n in c.nodes:
            xs = []
            for _ in range(20):
                t1 = time.monotonic()
                assert n.api("GET", "/api/spaces?limit=1000").status == 200
                xs.append((time.monotonic() - t1) * 1000)
            print("GET /api/spaces via %s: median %.1f ms" % (n.name, statistics.median(xs)))

        owner = c.node(n1.runtime(ADMIN, "app")["node"])
        survivor = next(n for n in c.nodes if n is not owner)
        t0 = time.monotonic()
        owner.lose()
        survivor.wait_app(ADMIN, "app", predicate=lambda r: r.status == 200, timeout=60)
        took = time.monotonic() - t0
        print("node loss (lease %d ms): %s killed, the app answered via %s again after %.1f s"
              % (c.lease_ms, owner.name, survivor.name, took))
        for n in c.nodes:
            if n is not owner:
                n.stop(timeout=30)
    finally:
        c.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
