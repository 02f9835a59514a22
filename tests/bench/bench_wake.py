#!/usr/bin/env python3
"""Wake benchmark: a sleeping examples/python-stdlib space gets a request; the
time from sending it to the first byte of the app's answer (the proxy holds it
while the app starts), over RUNS wakes: median and p90, against the targets
(median <= 200 ms, p90 <= 300 ms).

The split comes from the daemon (runtime coldStarts): sandbox (spawn until the
box reported its pid), app (until $PORT answered), and the rest, proxy (the
hold, the wake signal, forwarding). The floor printed next to it is the same
app started directly on the host (no sandbox, no proxy) until it answers.

  /usr/bin/python3 tests/bench/bench_wake.py [--build build] [--runs 10]
"""
import argparse
import os
import socket
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import podium_helpers as ph  # noqa: E402

APP_DIR = os.path.join(ph.EXAMPLES, "python-stdlib")


def ttfb(port, host, path="/", headers=""):
    """Seconds from connect to the first response byte, and the status line.
    headers: more header lines ("Accept-Encoding: gzip\r\n")."""
    t0 = time.monotonic()
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\n%sConnection: close\r\n\r\n" % (path, host, headers)).encode())
    first = s.recv(1)
    t1 = time.monotonic()
    rest = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        rest += chunk
    s.close()
    return t1 - t0, (first + rest).split(b"\r\n", 1)[0].decode()


def p90(xs):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(0.9 * (len(xs) - 1))))]


def floor_start(runs):
    """The app on the host itself: spawn → first answer."""
    times = []
    for _ in range(runs):
        port = ph.free_port()
        env = dict(os.environ, PORT=str(port), PYTHONUNBUFFERED="1")
        t0 = time.monotonic()
        p = subprocess.Popen(["/usr/bin/python3", "app.py"], cwd=APP_DIR, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while True:
                try:
                    ttfb(port, "127.0.0.1:%d" % port)
                    break
                except OSError:
                    time.sleep(0.002)
            times.append(time.monotonic() - t0)
        finally:
            p.kill()
            p.wait()
    return times


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.environ.get("PODIUM_BUILD", os.path.join(ph.REPO_ROOT, "build")))
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()

    d = ph.Daemon(build_dir=os.path.abspath(args.build))
    try:
        d.start()
        d.create_space("wake", sdk="python")
        d.push(d.workdir_from(APP_DIR), ph.ADMIN, "wake")
        d.wait_stage(ph.ADMIN, "wake", "RUNNING")
        host = d.app_host(ph.ADMIN, "wake")
        r = d.api("POST", "/api/spaces/admin/wake/sleeptime", json={"seconds": 1})
        assert r.status == 200, r
        rows = []
        for i in range(args.runs):
            d.wait_stage(ph.ADMIN, "wake", "SLEEPING", timeout=60)
            ph.wait_until(lambda: d.app_pids("admin/wake") == [], "no app process", timeout=30)
            t, status = ttfb(d.port, host)
            if not status.endswith(" 200 OK"):
                raise RuntimeError("wake %d answered %r" % (i, status))
            cs = d.runtime(ph.ADMIN, "wake")["coldStarts"]
            if cs["count"] != i + 1:
                raise RuntimeError("cold start %d not recorded: %r" % (i + 1, cs))
            rows.append((t * 1000, cs["sandboxMs"], cs["appMs"], t * 1000 - cs["lastMs"]))
        floor = [x * 1000 for x in floor_start(args.runs)]
    finally:
        try:
            d.stop()
        finally:
            d.cleanup()
    total = [r[0] for r in rows]
    med, q90 = statistics.median(total), p90(total)
    print("wake → first byte, examples/python-stdlib, %d wakes" % len(rows))
    print("  runs (ms): %s" % " ".join("%.0f" % t for t in total))
    print("  median %.0f ms (target 200: %s), p90 %.0f ms (target 300: %s)" % (
        med, "PASS" if med <= 200 else "MISS", q90, "PASS" if q90 <= 300 else "MISS"))
    print("  split, medians: sandbox %.0f ms, app until $PORT answers %.0f ms, proxy (hold, "
          "wake signal, forward) %.0f ms" % (statistics.median(r[1] for r in rows),
                                             statistics.median(r[2] for r in rows),
                                             statistics.median(r[3] for r in rows)))
    fmed = statistics.median(floor)
    print("  floor: the same app started on the host, no sandbox, no proxy: median %.0f ms; "
          "podium wake / floor x%.2f" % (fmed, med / fmed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
