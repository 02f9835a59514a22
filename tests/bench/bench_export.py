#!/usr/bin/env python3
"""The daemon's memory while it builds a push with a big file (issue 17.5).

Starts its own daemon, pushes a static space whose commit holds one file of
--mb MiB of random bytes (incompressible: git stores it as is), and samples the
daemon's VmRSS every 10 ms from the push until the space is RUNNING. Prints the
idle RSS before the push, the peak during push and build, and VmHWM (the
kernel's own peak), so the growth can be read off directly.

  /usr/bin/python3 tests/bench/bench_export.py [--build build] [--mb 200]
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import podium_helpers as ph  # noqa: E402


def big_file(path, mb):
    with open(path, "wb") as f:
        for _ in range(mb):
            f.write(os.urandom(1 << 20))


def measure(d, name, mb):
    """Pushes a space with an mb MiB file; returns (idle_kb, peak_kb, hwm_kb, seconds)."""
    d.create_space(name, sdk="static")
    wd = d.workdir_from(None, {"README.md": ph.front_matter(["sdk: static"]),
                               "index.html": "<p>big</p>\n"})
    big_file(os.path.join(wd, "big.bin"), mb)
    d.commit(wd, "big")  # the client's work, not the daemon's
    time.sleep(1.0)
    idle = ph.proc_status_kb(d.proc.pid, "VmRSS")
    sampler = ph.RssSampler(d.proc.pid).start()
    t0 = time.monotonic()
    try:
        p = d.git("push", "-q", d.remote_url(ph.ADMIN, name), "main", cwd=wd, check=False, timeout=600)
        assert p.returncode == 0, p.stderr.decode(errors="replace")
        d.wait_stage(ph.ADMIN, name, "RUNNING", timeout=600)
    finally:
        sampler.stop()
    return idle, sampler.peak_kb, sampler.hwm_kb, time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ph.REPO_ROOT, "build"))
    ap.add_argument("--mb", type=int, default=200)
    a = ap.parse_args()
    d = ph.Daemon(build_dir=os.path.abspath(a.build))
    try:
        d.start()
        idle, peak, hwm, secs = measure(d, "bench-big", a.mb)
        print("bench-export: a %d MiB file pushed and built in %.1f s" % (a.mb, secs))
        print("  daemon RSS idle      %7.1f MiB" % (idle / 1024))
        print("  daemon RSS peak      %7.1f MiB  (sampled every 10 ms; growth %+.1f MiB)"
              % (peak / 1024, (peak - idle) / 1024))
        print("  daemon VmHWM         %7.1f MiB  (kernel's peak since start; growth %+.1f MiB)"
              % (hwm / 1024, (hwm - idle) / 1024))
    finally:
        d.stop()
        d.cleanup()


if __name__ == "__main__":
    main()
