#!/usr/bin/env python3
"""Density benchmark: many spaces on one daemon, most of them asleep.

SPACES spaces (half static, half python: examples/static and
examples/python-stdlib), of which RUNNING python apps stay awake and the other
python ones are put to sleep. Prints: the daemon's RSS (target <= 50 MiB), the
memory each running app costs (sum of its processes' RSS, median), the latency
of GET /api/spaces (median and p90 of 50), and the wake time of a sleeping app
while the others run (median of 5).

  /usr/bin/python3 tests/bench/bench_density.py [--build build] [--spaces 500] [--running 100]
"""
import argparse
import os
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import podium_helpers as ph  # noqa: E402
from bench_wake import p90, ttfb  # noqa: E402


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def app_rss_kb():
    """space id -> summed RSS of the processes whose environment names it."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % d, "rb") as f:
                env = f.read().split(b"\0")
            sid = next((e[9:].decode() for e in env if e.startswith(b"SPACE_ID=")), None)
            if sid is not None:
                out[sid] = out.get(sid, 0) + rss_kb(int(d))
        except (OSError, ValueError):
            pass
    return out


def parallel(fn, items, workers=8):
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
                errors.append((it, e))

    ts = [threading.Thread(target=run) for _ in range(workers)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise RuntimeError("%d failed, first: %r" % (len(errors), errors[0]))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.environ.get("PODIUM_BUILD", os.path.join(ph.REPO_ROOT, "build")))
    ap.add_argument("--spaces", type=int, default=500)
    ap.add_argument("--running", type=int, default=100)
    args = ap.parse_args()
    n_py = args.spaces // 2
    n_static = args.spaces - n_py
    if args.running > n_py:
        sys.exit("--running must be at most half of --spaces")

    d = ph.Daemon(build_dir=os.path.abspath(args.build))
    # Every python app starts once before most are put to sleep: their 2 GiB
    # limits add up past the auto budget (10x the host), so the bench says so
    # and lifts it rather than measure refusals.
    d.extra_args = ["--memory-budget", "%dG" % (3 * n_py)]
    print("podium serve --memory-budget %dG (the %d python apps' limits add up to %d GiB)" % (
        3 * n_py, n_py, 2 * n_py), flush=True)
    try:
        d.start()
        t0 = time.monotonic()
        static_wd = d.workdir_from(os.path.join(ph.EXAMPLES, "static"))
        py_wd = d.workdir_from(os.path.join(ph.EXAMPLES, "python-stdlib"))
        d.commit(static_wd, "static")
        d.commit(py_wd, "python")
        names = [("s%03d" % i, static_wd) for i in range(n_static)] + \
                [("p%03d" % i, py_wd) for i in range(n_py)]

        def create_push(item):
            name, wd = item
            d.create_space(name, sdk="static" if name[0] == "s" else "python")
            p = d.git("push", "-q", d.remote_url(ph.ADMIN, name), "main", cwd=wd, check=False)
            if p.returncode != 0:
                raise RuntimeError(p.stderr.decode(errors="replace"))

        parallel(create_push, names)
        for name, _ in names:
            d.wait_stage(ph.ADMIN, name, "RUNNING", timeout=600)
        print("%d spaces created, pushed and running in %.0f s" % (len(names), time.monotonic() - t0),
              flush=True)
        sleepers = ["p%03d" % i for i in range(args.running, n_py)]

        def put_to_sleep(name):
            r = d.api("POST", "/api/spaces/admin/%s/sleeptime" % name, json={"seconds": 1})
            assert r.status == 200, r

        parallel(put_to_sleep, sleepers)
        for name in sleepers:
            d.wait_stage(ph.ADMIN, name, "SLEEPING", timeout=120)
        time.sleep(4)  # the drained instances stop
        rss = app_rss_kb()
        running = [rss.get("admin/p%03d" % i, 0) for i in range(args.running)]
        asleep_left = sum(1 for name in sleepers if rss.get("admin/" + name))
        daemon_kb = rss_kb(d.proc.pid)
        lat = []
        for _ in range(50):
            t = time.monotonic()
            r = d.api("GET", "/api/spaces")
            lat.append((time.monotonic() - t) * 1000)
            assert r.status == 200 and len(r.json()) == len(names)
        wakes = []
        for name in sleepers[:5]:
            t, status = ttfb(d.port, d.app_host(ph.ADMIN, name))
            assert status.endswith(" 200 OK"), status
            wakes.append(t * 1000)
    finally:
        try:
            d.stop(timeout=120)
        finally:
            d.cleanup()
    print("spaces: %d (%d static, %d python: %d running, %d asleep; %d asleep still had a process)" % (
        len(names), n_static, n_py, args.running, len(sleepers), asleep_left))
    print("daemon RSS: %.1f MiB (target 50: %s)" % (daemon_kb / 1024, "PASS" if daemon_kb <= 50 * 1024 else "MISS"))
    print("memory per running app (its processes' RSS): median %.1f MiB, total %.0f MiB" % (
        statistics.median(running) / 1024, sum(running) / 1024))
    print("GET /api/spaces (%d entries): median %.1f ms, p90 %.1f ms" % (
        len(names), statistics.median(lat), p90(lat)))
    print("wake of a sleeping app while %d run: median %.0f ms (runs %s)" % (
        args.running, statistics.median(wakes), " ".join("%.0f" % w for w in wakes)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
