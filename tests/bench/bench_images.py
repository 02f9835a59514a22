#!/usr/bin/env python3
"""Image spaces benchmark (issue 23): what building from a Dockerfile and running on
an image's layers cost, against the native path.

  (a) a Docker space (the Hub template: FROM python:3.11-slim, RUN apt-get install
      hello, COPY of the code) push → answering, with a cold layer cache (each run's
      Dockerfile differs before the apt step, so apt runs; the base is imported);
  (b) the same with a warm cache (a second space, the same Dockerfile: every layer
      but the COPY of its own code is reused);
  (c) a code-only redeploy of an image space: push → the new code answers (target
      <= 2 s);
  (d) start (wake from sleep → first byte, split sandbox / app from coldStarts) of
      the image app against the same app.py on the native python path;
  (e) disk per release: the image store before/after each push.

apt goes through podium's egress to Debian's archive in the network lab of
tests/integration/images/lab.py (as heavy/test_real_spaces.py); without the lab
(no root, no archive) the apt step is left out and the output says so.

  /usr/bin/python3 tests/bench/bench_images.py [--build build] [--runs 3]
"""
import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import podium_helpers as ph  # noqa: E402
from images import base, lab as labmod, spaces as sp  # noqa: E402

APT = ("RUN apt-get update && apt-get install -y --no-install-recommends hello "
       "&& rm -rf /var/lib/apt/lists/*")
# the app says what it serves: ?file=version.txt
APP = sp.SEE_APP


def store_bytes(d):
    out = subprocess.run(["du", "-sb", os.path.join(d.data_dir, "images", "storage")],
                         capture_output=True, text=True).stdout.split()
    return int(out[0]) if out else 0


def live_after_push(d, wd, name, want, timeout=900):
    """Seconds from the push to the app answering 200 with want in version.txt."""
    d.commit(wd, "bench")
    t0 = time.monotonic()
    subprocess.run(["git", "-c", "credential.helper=", "push", "-q", d.remote_url(ph.ADMIN, name),
                    "main"], cwd=wd, env=d.git_env(), check=True, capture_output=True, timeout=120)
    while time.monotonic() < t0 + timeout:
        try:
            r = d.get_app(ph.ADMIN, name, "/?file=version.txt", timeout=5)
            if r.status == 200 and want.encode() in r.body:
                return time.monotonic() - t0
        except (OSError, http.client.HTTPException):
            pass
        rt = d.runtime(ph.ADMIN, name)
        if rt["stage"] in ("BUILD_ERROR", "CONFIG_ERROR", "RUNTIME_ERROR"):
            raise RuntimeError("%s: %s" % (name, rt.get("errorMessage", "")[-2000:]))
        time.sleep(0.02)
    raise RuntimeError("%s: not live after %d s" % (name, timeout))


def build_seconds(d, name):
    """The last build's own time, from its log's "==> OK in X s"."""
    log = d.api("GET", "/api/spaces/%s/%s/logs/build" % (ph.ADMIN, name)).text
    for line in reversed(log.splitlines()):
        if "==> OK in " in line:
            return float(line.split("==> OK in ")[1].split()[0])
    return float("nan")


def ttfb(d, name):
    host = d.app_host(ph.ADMIN, name)
    t0 = time.monotonic()
    s = socket.create_connection(("127.0.0.1", d.port), timeout=60)
    s.sendall(("GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % host).encode())
    s.recv(1)
    t = time.monotonic() - t0
    s.close()
    return t


def wakes(d, name, runs):
    """Wake → first byte, with the daemon's split (sandbox ms, app ms)."""
    assert d.api("POST", "/api/spaces/%s/%s/sleeptime" % (ph.ADMIN, name),
                 json={"seconds": 1}).status == 200
    rows = []
    for _ in range(runs):
        d.wait_stage(ph.ADMIN, name, "SLEEPING", timeout=120)
        ph.wait_until(lambda: d.app_pids("%s/%s" % (ph.ADMIN, name)) == [], "no app process", timeout=30)
        t = ttfb(d, name)
        cs = d.runtime(ph.ADMIN, name)["coldStarts"]
        rows.append((t * 1000, cs.get("sandboxMs") or 0, cs.get("appMs") or 0))
    d.api("POST", "/api/spaces/%s/%s/sleeptime" % (ph.ADMIN, name), json={"seconds": -1})
    return rows


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def run(d, runs, with_apt):
    extra = APT if with_apt else ""
    res = {"cold": [], "warm": [], "code": [], "disk_cold": [], "disk_code": [], "build_code": [],
           "build_cold": []}
    for i in range(runs):
        dockerfile = sp.HUB_DOCKERFILE.format(extra="RUN echo run-%d\n%s" % (i, extra))
        files = {"README.md": sp.readme("title: Bench", "sdk: docker"), "Dockerfile": dockerfile,
                 "app.py": APP, "version.txt": "cold-%d\n" % i}
        for kind in ("cold", "warm"):
            name = "%s-%d" % (kind, i)
            d.create_space(name, sdk="docker")
            wd = d.workdir_from(None, dict(files, **{"version.txt": "%s-%d\n" % (kind, i)}))
            before = store_bytes(d)
            res[kind].append(live_after_push(d, wd, name, "%s-%d" % (kind, i)))
            if kind == "cold":
                res["disk_cold"].append(store_bytes(d) - before)
                res["build_cold"].append(build_seconds(d, name))
                cold_wd = wd
    for j in range(runs):
        ph.write_files(cold_wd, {"version.txt": "code-%d\n" % j})
        before = store_bytes(d)
        res["code"].append(live_after_push(d, cold_wd, "cold-%d" % (runs - 1), "code-%d" % j))
        res["disk_code"].append(store_bytes(d) - before)
        res["build_code"].append(build_seconds(d, "cold-%d" % (runs - 1)))
    d.create_space("native", sdk="python")
    live_after_push(d, d.workdir_from(None, {"app.py": APP, "version.txt": "native\n"}), "native",
                    "native")
    res["wake_image"] = wakes(d, "cold-%d" % (runs - 1), runs)
    res["wake_native"] = wakes(d, "native", runs)
    return res


def report(res, runs, with_apt, import_s):
    f = lambda xs: " ".join("%.2f" % x for x in xs)
    print("image spaces (%d runs each; Hub Docker template%s)" % (
        runs, " with apt-get install hello through podium's egress" if with_apt else
        ", no apt step: the network lab is not available here"))
    print("  podium image import of the base (rootfs tarball): %.1f s" % import_s)
    print("  (a) push -> answering, cold layer cache: median %.2f s (%s), the build %.2f s" % (
        med(res["cold"]), f(res["cold"]), med(res["build_cold"])))
    print("  (b) push -> answering, warm layer cache:  median %.2f s (%s); warm/cold x%.2f" % (
        med(res["warm"]), f(res["warm"]), med(res["warm"]) / med(res["cold"])))
    code = med(res["code"])
    print("  (c) code-only redeploy -> new code answers: median %.2f s (%s); target 2 s: %s; "
          "the build (buildah bud) %.2f s (%s)" % (code, f(res["code"]), "PASS" if code <= 2.0 else
                                                  "MISS", med(res["build_code"]), f(res["build_code"])))
    wi, wn = [r[0] for r in res["wake_image"]], [r[0] for r in res["wake_native"]]
    print("  (d) wake -> first byte: image app median %.0f ms (sandbox %.0f, app %.0f), native "
          "python %.0f ms (sandbox %.0f, app %.0f); image/native x%.2f" % (
              med(wi), med([r[1] for r in res["wake_image"]]), med([r[2] for r in res["wake_image"]]),
              med(wn), med([r[1] for r in res["wake_native"]]), med([r[2] for r in res["wake_native"]]),
              med(wi) / med(wn)))
    print("  (e) image store growth: cold release median %.2f MB, code-only release median %.0f KB" % (
        med(res["disk_cold"]) / 1e6, med(res["disk_code"]) / 1e3))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.environ.get("PODIUM_BUILD", os.path.join(ph.REPO_ROOT, "build")))
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    os.environ["PODIUM_BUILD"] = os.path.abspath(args.build)
    why = sp.image_tools_unavailable() or base.unavailable("bookworm")
    if why:
        print("bench-images: cannot run here: %s" % why)
        return 1
    tar = base.base_tarball("bookworm")
    why = labmod.lab_unavailable() or labmod.archive_unreachable()
    if why is None:
        with labmod.Lab() as lab:
            d = lab.daemon()
            t0 = time.monotonic()
            sp.image_import(d, tar, "python:3.11-slim")
            import_s = time.monotonic() - t0
            res = run(d, args.runs, True)
    else:
        print("(no network lab: %s)" % why)
        with ph.own_daemon() as d:
            t0 = time.monotonic()
            sp.image_import(d, tar, "python:3.11-slim")
            import_s = time.monotonic() - t0
            res = run(d, args.runs, False)
    report(res, args.runs, why is None, import_s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
