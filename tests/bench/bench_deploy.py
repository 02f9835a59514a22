#!/usr/bin/env python3
"""Push-to-live benchmark: time from `git push` start to the first 200 through the
proxy on the app's host, for the static and the python-stdlib example; and for
examples/node-express (Express from npm), its first deploy (npm ci) next to
code-only redeploys, which the build cache serves without npm (target <= 1.5 s).

Starts its own daemon (like the integration fixture), deploys each example RUNS
times into a fresh space, polls the app every 10 ms, prints median/min/max per
example against the targets (static <= 0.5 s, python <= 1.5 s).

  /usr/bin/python3 tests/bench/bench_deploy.py [--build build] [--runs 5] [--strict]
"""
import argparse
import http.client
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import podium_helpers as ph  # noqa: E402

TARGETS = {"static": 0.5, "python-stdlib": 1.5}
SDK = {"static": "static", "python-stdlib": "python"}


def first_200(d, owner, name, deadline):
    next_check = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            if d.get_app(owner, name, "/", timeout=5).status == 200:
                return time.monotonic()
        except (OSError, http.client.HTTPException):
            pass
        if time.monotonic() > next_check:  # give up early on a broken deploy
            d.assert_alive()
            if d.runtime(owner, name).get("stage") in ph.ERROR_STAGES:
                return None
            next_check = time.monotonic() + 1
        time.sleep(0.01)
    return None


def push_and_time(d, wd, name, predicate):
    d.commit(wd, "bench")  # committing is the user's work, not the platform's
    t0 = time.monotonic()
    p = subprocess.Popen(["git", "-c", "credential.helper=", "push", "-q",
                          d.remote_url(ph.ADMIN, name), "main"],
                         cwd=wd, env=d.git_env(), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = t0 + 300
    t_live = None
    while time.monotonic() < deadline:
        try:
            r = d.get_app(ph.ADMIN, name, "/", timeout=5)
            if predicate(r):
                t_live = time.monotonic()
                break
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.01)
    out, err = p.communicate(timeout=120)
    if p.returncode != 0 or t_live is None:
        raise RuntimeError("%s: push rc %d, never live; runtime %r" % (
            name, p.returncode, d.runtime(ph.ADMIN, name)))
    return t_live - t0


def node_redeploys(d, runs):
    """First deploy of examples/node-express, then `runs` code-only redeploys."""
    name = "bench-express"
    d.create_space(name, sdk="node")
    wd = d.workdir_from(os.path.join(ph.EXAMPLES, "node-express"))
    first = push_and_time(d, wd, name, lambda r: r.status == 200)
    with open(os.path.join(wd, "server.js")) as f:
        original = f.read()
    times = []
    for i in range(runs):
        marker = "redeploy %d" % i
        with open(os.path.join(wd, "server.js"), "w") as f:
            f.write(original.replace("Hello from Express", "Hello from Express (%s)" % marker, 1))
        times.append(push_and_time(d, wd, name, lambda r, m=marker: r.status == 200 and m in r.text))
    log = d.api("GET", "/api/spaces/%s/%s/logs/build" % (ph.ADMIN, name)).text
    return first, times, "reusing node_modules" in log


def one_run(d, example, i):
    name = "bench-%s-%d" % (example.replace("-", ""), i)
    d.create_space(name, sdk=SDK[example])
    wd = d.workdir_from(os.path.join(ph.EXAMPLES, example))
    d.commit(wd, "bench")  # committing is the user's work, not the platform's
    t0 = time.monotonic()
    p = subprocess.Popen(["git", "-c", "credential.helper=", "push", "-q",
                          d.remote_url(ph.ADMIN, name), "main"],
                         cwd=wd, env=d.git_env(), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    t_live = first_200(d, ph.ADMIN, name, t0 + 120)
    out, err = p.communicate(timeout=120)
    if p.returncode != 0:
        raise RuntimeError("git push failed: %s" % err.decode(errors="replace"))
    if t_live is None:
        raise RuntimeError("%s never served 200; runtime %r" % (name, d.runtime(ph.ADMIN, name)))
    return t_live - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.environ.get("PODIUM_BUILD", os.path.join(ph.REPO_ROOT, "build")))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--strict", action="store_true", help="exit 1 when a median misses its target")
    args = ap.parse_args()

    d = ph.Daemon(build_dir=os.path.abspath(args.build))
    missed = False
    try:
        d.start()
        print("podium on 127.0.0.1:%d, %d runs per example" % (d.port, args.runs))
        print("%-14s %8s %8s %8s %8s  %s" % ("example", "median", "min", "max", "target", "result"))
        for example in ("static", "python-stdlib"):
            times = [one_run(d, example, i) for i in range(args.runs)]
            med = statistics.median(times)
            ok = med <= TARGETS[example]
            missed |= not ok
            print("%-14s %7.3fs %7.3fs %7.3fs %7.1fs  %s   runs: %s" % (
                example, med, min(times), max(times), TARGETS[example], "PASS" if ok else "MISS",
                " ".join("%.3f" % t for t in times)), flush=True)
        if os.environ.get("BENCH_NODE", "1") != "0":
            first, times, cached = node_redeploys(d, args.runs)
            med = statistics.median(times)
            ok = med <= 1.5 and cached
            missed |= not ok
            print("%-14s %7.3fs %7.3fs %7.3fs %7.1fs  %s   code-only redeploys (build cache %s): %s;"
                  " first deploy with npm ci: %.3fs (x%.1f the redeploy)" % (
                      "node-express", med, min(times), max(times), 1.5, "PASS" if ok else "MISS",
                      "used" if cached else "NOT used", " ".join("%.3f" % t for t in times),
                      first, first / med), flush=True)
    except Exception as e:  # noqa: BLE001
        print("bench-deploy failed: %s\n--- podium log ---\n%s" % (e, d.log_tail()), file=sys.stderr)
        return 2
    finally:
        try:
            d.stop()
        finally:
            d.cleanup()
    return 1 if (missed and args.strict) else 0


if __name__ == "__main__":
    sys.exit(main())
